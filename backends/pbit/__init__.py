"""p-bit Ising annealer hardware (integral stochastic computing SSA) as Amaranth components."""

from vhls.backends.pbit.array import PBitArray
from vhls.backends.pbit.config import PBitConfig
from vhls.backends.pbit.emit import TOP, to_verilog, write_verilog

__all__ = ["TOP", "PBitArray", "PBitConfig", "to_verilog", "write_verilog"]
