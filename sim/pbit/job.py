"""The job file passed from the runner to the cocotb bench: a problem in the array's own addressing."""

import json
from pathlib import Path

import numpy as np

from vhls.anneal.ssa import SSAParams
from vhls.backends.pbit.config import PBitConfig


def make_job(cfg: PBitConfig, J: np.ndarray, h: np.ndarray, p: SSAParams, steps: int, seeds: list[int]) -> dict:
    rows, cols = np.nonzero(J)
    j = [[*cfg.locate(int(r)), int(c), int(J[r, c])] for r, c in zip(rows, cols, strict=True)]
    hh = [[*cfg.locate(i), int(v)] for i, v in enumerate(h.tolist()) if v]
    return {
        "n": cfg.n,
        "j": j,
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
