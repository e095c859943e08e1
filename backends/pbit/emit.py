"""Verilog for a p-bit array (dense, sparse or baked), byte-identical across runs and folders (no `src` attributes)."""

from pathlib import Path

from amaranth.back import verilog

from vhls.backends.pbit.array import PBitArray
from vhls.backends.pbit.baked import PBitBaked
from vhls.backends.pbit.baked_config import BakedConfig
from vhls.backends.pbit.config import PBitConfig
from vhls.backends.pbit.sparse import PBitSparse
from vhls.backends.pbit.sparse_config import SparseConfig

TOP = "pbit_array"
SPARSE_TOP = "pbit_sparse"
BAKED_TOP = "pbit_baked"
Config = PBitConfig | SparseConfig | BakedConfig


def top_name(cfg: Config) -> str:
    return {SparseConfig: SPARSE_TOP, BakedConfig: BAKED_TOP}.get(type(cfg), TOP)


def to_verilog(cfg: Config, name: str | None = None) -> str:
    top = {SparseConfig: PBitSparse, BakedConfig: PBitBaked}.get(type(cfg), PBitArray)(cfg)
    return verilog.convert(top, name=name or top_name(cfg), emit_src=False)


def write_verilog(cfg: Config, out_dir: str | Path, name: str | None = None) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    name = name or top_name(cfg)
    path = out / f"{name}.v"
    path.write_text(to_verilog(cfg, name))
    return path
