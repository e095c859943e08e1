"""Register slice between two stages: a ready/valid stream through flip-flops only, one cycle of latency.

Stages sit wherever the placer puts their multipliers and RAMs, often far apart on a large die. Without a slice the
consumer's handshake logic hangs off a long route from the producer's output register (jet@68 on ECP5-85k: 1.9 ns of
route, then three LUTs into the input buffer's full flag). Here `o.valid`, `o.payload` and `i.ready` all leave
flip-flops, so each side's logic sees a short path, and the route between them has a cycle of its own.

Skid buffer: a main register that `o` shows and a skid register that catches the beat the producer sends in the cycle
the consumer stops. `i.ready` is "skid empty", a flip-flop; one beat per cycle is sustained when the consumer keeps
up; nothing is lost or repeated when it does not.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out


class SkidBuffer(wiring.Component):
    LATENCY = 1  # a beat offered at cycle t is offered on `o` at t + 1 (when nothing is waiting)

    def __init__(self, width: int) -> None:
        self.width = width
        super().__init__({
            "i": In(stream.Signature(width)),
            "o": Out(stream.Signature(width)),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        main, skid = (Signal(self.width, name=n, reset_less=True) for n in ("main", "skid"))  # data: no reset
        valid, skid_valid = Signal(), Signal()
        m.d.comb += [self.i.ready.eq(~skid_valid), self.o.valid.eq(valid), self.o.payload.eq(main)]
        with m.If(~valid | self.o.ready):  # the main register is free (empty, or its beat leaves now)
            with m.If(skid_valid):
                m.d.sync += [main.eq(skid), skid_valid.eq(0)]
            with m.Else():
                m.d.sync += [main.eq(self.i.payload), valid.eq(self.i.valid)]
        with m.Elif(self.i.valid & ~skid_valid):  # main register held: the beat taken now waits in the skid
            m.d.sync += [skid.eq(self.i.payload), skid_valid.eq(1)]
        return m
