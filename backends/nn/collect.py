"""Width converter: gathers chunks of C elements into whole vectors of N elements (N/C beats in, one beat out).

The output register is overwritten only in the cycle its vector is taken, so a vector leaves and the next one
starts filling without a bubble: one chunk per cycle sustained.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2


class Collector(wiring.Component):
    def __init__(self, n: int, width: int, chunk: int) -> None:
        if n % chunk:
            raise ValueError(f"chunk {chunk} must divide the vector size {n}")
        self.n, self.width, self.chunk = n, width, chunk
        super().__init__({
            "i": In(stream.Signature(chunk * width)),
            "o": Out(stream.Signature(n * width)),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        beats = self.n // self.chunk
        ptr = Signal(max(1, ceil_log2(beats)))
        full = Signal()
        data = Signal(self.n * self.width, reset_less=True)
        m.d.comb += [
            self.o.payload.eq(data),
            self.o.valid.eq(full),
            self.i.ready.eq(~full | self.o.ready),
        ]
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += full.eq(0)
        with m.If(self.i.valid & self.i.ready):
            step = self.chunk * self.width
            for c in range(beats):
                with m.If(ptr == c):
                    m.d.sync += data[c * step:(c + 1) * step].eq(self.i.payload)
            with m.If(ptr == beats - 1):
                m.d.sync += [ptr.eq(0), full.eq(1)]
            with m.Else():
                m.d.sync += ptr.eq(ptr + 1)
        return m
