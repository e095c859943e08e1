"""Pipeline registers: delay a value by n clock cycles (tags and data travelling beside a datapath)."""

from amaranth.hdl import Module, Signal, Value


def delay(m: Module, v: Value, n: int, name: str, reset_less: bool = False) -> Value:
    """`v` after n registers of its shape (signedness kept); data registers are `reset_less` (no reset fan-out),
    control tags are reset."""
    for k in range(n):
        r = Signal(v.shape(), name=f"{name}_d{k}", reset_less=reset_less)
        m.d.sync += r.eq(v)
        v = r
    return v
