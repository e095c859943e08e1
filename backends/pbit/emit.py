"""Verilog for a p-bit array (dense or sparse), byte-identical across runs and folders (no `src` attributes)."""

from pathlib import Path

from amaranth.back import verilog

from vhls.backends.pbit.array import PBitArray
from vhls.backends.pbit.config import PBitConfig
from vhls.backends.pbit.sparse import PBitSparse
from vhls.backends.pbit.sparse_config import SparseConfig

TOP = "pbit_array"
SPARSE_TOP = "pbit_sparse"


def top_name(cfg: PBitConfig | SparseConfig) -> str:
    return SPARSE_TOP if isinstance(cfg, SparseConfig) else TOP


def to_verilog(cfg: PBitConfig | SparseConfig, name: str | None = None) -> str:
    top = PBitSparse(cfg) if isinstance(cfg, SparseConfig) else PBitArray(cfg)
    return verilog.convert(top, name=name or top_name(cfg), emit_src=False)


def write_verilog(cfg: PBitConfig | SparseConfig, out_dir: str | Path, name: str | None = None) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    name = name or top_name(cfg)
    path = out / f"{name}.v"
    path.write_text(to_verilog(cfg, name))
    return path
