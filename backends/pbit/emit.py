"""Verilog for a p-bit array, byte-identical across runs and folders (no `src` attributes)."""

from pathlib import Path

from amaranth.back import verilog

from vhls.backends.pbit.array import PBitArray
from vhls.backends.pbit.config import PBitConfig

TOP = "pbit_array"


def to_verilog(cfg: PBitConfig, name: str = TOP) -> str:
    top = PBitArray(cfg)
    return verilog.convert(top, name=name, emit_src=False)


def write_verilog(cfg: PBitConfig, out_dir: str | Path, name: str = TOP) -> Path:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{name}.v"
    path.write_text(to_verilog(cfg, name))
    return path
