"""cocotb bench and runners for the p-bit array (vhls.backends.pbit)."""

from vhls.sim.pbit.runner import RtlRun, run_rtl, simulators

__all__ = ["RtlRun", "run_rtl", "simulators"]
