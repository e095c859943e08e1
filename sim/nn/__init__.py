"""vhls.sim.nn: cocotb verification of nn accelerators against the golden model (Icarus or Verilator)."""

from vhls.sim.nn.runner import SIMULATORS, VerifyResult, golden, make_vectors, verify

__all__ = ["SIMULATORS", "VerifyResult", "golden", "make_vectors", "verify"]
