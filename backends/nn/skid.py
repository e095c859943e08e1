"""Register slice between two stages: a ready/valid stream through flip-flops only, one cycle of latency.

Stages sit wherever the placer puts their multipliers and RAMs, often far apart on a large die. Without a slice the
consumer's handshake logic hangs off a long route from the producer's output register (jet@68 on ECP5-85k: 1.9 ns of
route, then three LUTs into the input buffer's full flag). Here `o.valid`, `o.payload` and `i.ready` all leave
flip-flops, so each side's logic sees a short path, and the route between them has a cycle of its own.

Skid buffer: a main register that `o` shows and a skid register that catches the beat the producer sends in the cycle
the consumer stops. `i.ready` is "skid empty", a flip-flop; one beat per cycle is sustained when the consumer keeps
up; nothing is lost or repeated when it does not.
"""

from amaranth.hdl import Module, Mux, Signal
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
        held = valid & ~self.o.ready  # the main register keeps its beat
        # The flags as plain next-state expressions, one LUT each: written as if/else, yosys gives them synchronous
        # resets and enables from the data registers' shared enable logic (b2 jet@156: consumer ready → 1.63 ns →
        # shared LUT → 1.61 ns → reset LUT → skid_valid, 189.1 MHz). The skid fills only while the main register
        # keeps its beat; the main register is then full.
        m.d.sync += [valid.eq(held | skid_valid | self.i.valid),
                     skid_valid.eq(held & (skid_valid | self.i.valid))]
        with m.If(~held):  # the main register takes the waiting beat, else the offered one
            m.d.sync += main.eq(Mux(skid_valid, skid, self.i.payload))
        with m.If(~skid_valid):  # loaded whenever empty: its enable is a flip-flop; it counts only once the flag is set
            m.d.sync += skid.eq(self.i.payload)
        return m
