"""Pipeline helpers: registers delaying a value (tags and data travelling beside a datapath), kept register copies,
and the pointer advance shared by the ping-pong (two-bank) buffers."""

from collections.abc import Sequence

from amaranth.hdl import Module, Signal, Value


def kept_copy(m: Module, v: Value, name: str, init: int = 0) -> Signal:
    """A register of `v` that synthesis keeps even beside identical ones: yosys merges identical flip-flops (opt_merge)
    unless the cells carry `keep`, which `vhls synth` sets on the flip-flops driving `keep` wires (flow.py)."""
    r = Signal(v.shape(), name=name, init=init, attrs={"keep": 1})
    m.d.sync += r.eq(v)
    return r


def delay(m: Module, v: Value, n: int, name: str, reset_less: bool = False) -> Value:
    """`v` after n registers of its shape (signedness kept); data registers are `reset_less` (no reset fan-out),
    control tags are reset."""
    for k in range(n):
        r = Signal(v.shape(), name=f"{name}_d{k}", reset_less=reset_less)
        m.d.sync += r.eq(v)
        v = r
    return v


def ping_pong_advance(m: Module, ptr: Signal, end: Value, bank: Signal, full: Sequence[Signal], flag: int,
                      at_end: Sequence = (), at_step: Sequence = ()) -> None:
    """Step a two-bank buffer's pointer (call where a beat moves): after the bank's last beat (`end`) back to 0 in
    the other bank, the bank just finished getting full flag `flag` (1 by the writer, 0 by the reader). `at_end` /
    `at_step`: more sync statements for either case (a registered `end` flag's next value, say)."""
    with m.If(end):
        m.d.sync += [ptr.eq(0), bank.eq(~bank), *at_end]
        for b in range(2):
            with m.If(bank == b):
                m.d.sync += full[b].eq(flag)
    with m.Else():
        m.d.sync += [ptr.eq(ptr + 1), *at_step]
