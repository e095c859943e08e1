"""p-bit Ising annealer hardware (integral stochastic computing SSA) as Amaranth components."""

from vhls.backends.pbit.array import PBitArray
from vhls.backends.pbit.baked import PBitBaked
from vhls.backends.pbit.baked_config import BakedConfig
from vhls.backends.pbit.config import PBitConfig
from vhls.backends.pbit.emit import BAKED_TOP, SPARSE_TOP, TOP, to_verilog, top_name, write_verilog
from vhls.backends.pbit.sparse import PBitSparse
from vhls.backends.pbit.sparse_config import SparseConfig

__all__ = [
    "BAKED_TOP",
    "SPARSE_TOP",
    "TOP",
    "BakedConfig",
    "PBitArray",
    "PBitBaked",
    "PBitConfig",
    "PBitSparse",
    "SparseConfig",
    "to_verilog",
    "top_name",
    "write_verilog",
]
