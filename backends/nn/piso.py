"""Parallel-in serial-out unit: a beat of N words in, the words one per cycle out (word 0 first).

The first stage gets a whole frame per beat; this unit turns it into the pixel stream a line buffer takes
(linebuf.py), so the first stage's windows need no frame banks (window.py). One shift register of N words: a beat
is loaded when the register is empty or its last word is leaving in the same cycle, so a frame takes N cycles and
frames follow one another without a bubble. Word 0 is offered the cycle after its beat is taken (LATENCY).
Costs one flip-flop and about one LUT (load or shift) per bit, where the frame banks keep two frames and a
window-wide multiplexer over every position.
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from vhls.backends.nn.schedule import PISO_LATENCY


class PISO(wiring.Component):
    LATENCY = 1  # from a beat taken to its first word offered (schedule.PISO_LATENCY)

    def __new__(cls, words: int, width: int) -> "PISO":
        # Refused before the object exists, so Amaranth does not warn about an unused elaboratable.
        if words < 2:
            raise ValueError(f"a PISO needs at least 2 words per beat, got {words}")
        return super().__new__(cls)

    def __init__(self, words: int, width: int) -> None:
        assert self.LATENCY == PISO_LATENCY
        self.words, self.width = words, width
        super().__init__({
            "i": In(stream.Signature(words * width)),
            "o": Out(stream.Signature(width)),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        n, w = self.words, self.width
        shift = Signal(n * w, reset_less=True)
        busy = Signal()  # the register holds words not yet sent
        ptr = Signal(range(n))
        last = Signal()  # ptr == n - 1, kept in a flip-flop
        sent = self.o.valid & self.o.ready
        load = self.i.valid & self.i.ready
        m.d.comb += [
            self.i.ready.eq(~busy | (self.o.ready & last)),
            self.o.valid.eq(busy),
            self.o.payload.eq(shift[:w]),
        ]
        # Shifting an empty register is harmless (its words are never offered): the enable skips `valid`.
        with m.If(~busy | self.o.ready):
            m.d.sync += shift.eq(Mux(load, self.i.payload, shift[w:]))
        with m.If(load):
            m.d.sync += [busy.eq(1), ptr.eq(0), last.eq(0)]
        with m.Elif(sent):
            with m.If(last):
                m.d.sync += busy.eq(0)
            with m.Else():
                m.d.sync += [ptr.eq(ptr + 1), last.eq(ptr == n - 2)]
        return m
