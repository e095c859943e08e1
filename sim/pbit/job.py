"""The job file passed from the runner to the cocotb bench: a problem in the array's own addressing."""

import json
from pathlib import Path

import numpy as np

from vhls.anneal.ssa import SSAParams
from vhls.backends.pbit.baked_config import BakedConfig
from vhls.backends.pbit.config import PBitConfig
from vhls.backends.pbit.sparse_config import SparseConfig, pack


def make_job(
    cfg: PBitConfig | SparseConfig | BakedConfig,
    J: np.ndarray,
    h: np.ndarray,
    p: SSAParams,
    steps: int,
    seeds: list[int],
) -> dict:
    if isinstance(cfg, BakedConfig):  # J and h are in the logic: nothing to load
        load = {"arch": "baked", "read_bits": cfg.read_bits, "read_words": cfg.read_words}
        load["interleave"] = cfg.interleave  # reads per run: seeds[0::k] start runs, the rest are derived
        hh = []
    elif isinstance(cfg, SparseConfig):  # every word is written: the memories are not cleared by reset
        load = {"arch": "sparse", "words": [[u, a, w] for u, mem in enumerate(pack(cfg, J)) for a, w in enumerate(mem)]}
        load["read_bits"], load["read_words"] = cfg.read_bits, cfg.read_words
        hh = [[*cfg.locate(i), int(v)] for i, v in enumerate(h.tolist()) if v]
    else:
        rows, cols = np.nonzero(J)
        j = [[*cfg.locate(int(r)), int(c), int(J[r, c])] for r, c in zip(rows, cols, strict=True)]
        load = {"arch": "dense", "j": j}
        hh = [[*cfg.locate(i), int(v)] for i, v in enumerate(h.tolist()) if v]
    return {
        "n": cfg.n,
        **load,
        "h": hh,
        "steps": steps,
        "seeds": [int(s) for s in seeds],
        "n_rnd": p.n_rnd,
        "i0_min": p.i0_min,
        "i0_max": p.i0_max,
        "i0_delta": p.i0_delta,
    }


def write_job(path: Path, job: dict) -> None:
    path.write_text(json.dumps(job))
