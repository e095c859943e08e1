"""Requantise/activation unit: the post-accumulation casts and max/min (ReLU) of a layer, on PE lanes at once."""

from collections.abc import Sequence

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from vhls.backends.nn import fixedhw as hw
from vhls.backends.nn.recognise import PostOp
from vhls.ir.types import Fixed


class Requant(wiring.Component):
    """Applies `ops` to each of `lanes` packed accumulator values; one register stage (LATENCY cycles)."""

    LATENCY = 1

    def __init__(self, lanes: int, in_type: Fixed, ops: Sequence[PostOp]) -> None:
        self.lanes, self.in_type, self.ops = lanes, in_type, tuple(ops)
        self.out_type = self.ops[-1].type if self.ops else in_type
        super().__init__({
            "i_valid": In(1),
            "i_data": In(lanes * in_type.width),
            "o_valid": Out(1),
            "o_data": Out(lanes * self.out_type.width),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        outs = []
        for lane in range(self.lanes):
            v: Signal = hw.fit(m, hw.element(self.i_data, lane, self.in_type), self.in_type, f"l{lane}_in")
            v, _ = hw.post_ops(m, v, self.in_type, self.ops, f"l{lane}_op")
            outs.append(v.as_unsigned())
        packed = Signal(len(self.o_data))
        m.d.comb += packed.eq(Cat(*outs))
        data = Signal(len(self.o_data), reset_less=True)
        m.d.sync += [data.eq(packed), self.o_valid.eq(self.i_valid)]
        m.d.comb += self.o_data.eq(data)
        return m
