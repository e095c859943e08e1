"""Fault injector on a chunk of PE accumulators: the xorshift32 stream of `vhls.noise.inject`, bit for bit.

The state register starts at the stream's seed state s0 after reset and advances PE steps per chunk (`i_valid`);
lane p of the chunk uses the state p + 1 steps ahead, so output element k of the stage sees the state after k + 1
steps. Each lane's state comes straight from the register through a precomputed GF(2) jump matrix (xorshift is
linear: every bit of the state p + 1 steps ahead is an XOR of register bits), so the logic depth does not grow
with PE. Lane p flips bit ((x & 0xFF)·W) >> 8 of its accumulator when (x >> 8) < T. Combinational on the data
(no added latency): the accumulators go on to requantisation in the same cycle.
"""

from functools import cache

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from vhls.ir.types import Fixed


@cache
def jump_matrix(n: int) -> tuple[int, ...]:
    """Column j = the xorshift32 state n steps after the state with only bit j set."""
    from vhls.noise.inject import step

    cols = []
    for j in range(32):
        x = 1 << j
        for _ in range(n):
            x = step(x)
        cols.append(x)
    return tuple(cols)


def jump(state: Value, n: int) -> Value:
    """The state n steps after `state`, as 32 XORs of register bits."""
    cols = jump_matrix(n)
    bits = []
    for i in range(32):
        taps = [state[j] for j in range(32) if cols[j] >> i & 1]
        bits.append(Cat(*taps).xor() if taps else Const(0, 1))
    return Cat(*bits)


class FaultInjector(wiring.Component):
    """Flips at most one bit per accumulator of a `lanes`-wide chunk of `acc_type` values."""

    def __init__(self, lanes: int, acc_type: Fixed, s0: int, threshold: int) -> None:
        assert 0 < s0 < 1 << 32 and 0 <= threshold <= 1 << 24
        self.lanes, self.acc_type, self.s0, self.threshold = lanes, acc_type, s0, threshold
        super().__init__({
            "i_valid": In(1),
            "i_acc": In(lanes * acc_type.width),
            "o_acc": Out(lanes * acc_type.width),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        w = self.acc_type.width
        state = Signal(32, init=self.s0)
        with m.If(self.i_valid):
            m.d.sync += state.eq(jump(state, self.lanes))
        outs = []
        for p in range(self.lanes):
            x = Signal(32, name=f"x{p}")
            m.d.comb += x.eq(jump(state, p + 1))
            hit = x[8:] < self.threshold
            # ((x & 0xFF)·W) >> 8 < W always; a one-hot decode keeps the mask W bits wide (a variable shift of a
            # constant by the full 14-bit product would build a 16k-bit intermediate).
            bit = Signal(range(w), name=f"bit{p}")
            m.d.comb += bit.eq((x[:8] * w) >> 8)
            mask = Signal(w, name=f"flip{p}")
            m.d.comb += mask.eq(Mux(hit, Cat(*(bit == i for i in range(w))), 0))
            outs.append(self.i_acc[p * w:(p + 1) * w] ^ mask)
        m.d.comb += self.o_acc.eq(Cat(*outs))
        return m
