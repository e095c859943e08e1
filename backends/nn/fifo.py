"""Stream FIFO: `amaranth.lib.fifo.SyncFIFOBuffered` behind ready/valid stream interfaces.

The buffered FIFO registers its output (good for timing) and keeps its storage in a Memory, so deep or wide
FIFOs map to RAM. `level` lets a producer reserve space ahead (credit-based flow control).
"""

from amaranth.hdl import Module
from amaranth.lib import stream, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2


class StreamFIFO(wiring.Component):
    def __init__(self, width: int, depth: int) -> None:
        self.width, self.depth = width, depth
        super().__init__({
            "i": In(stream.Signature(width)),
            "o": Out(stream.Signature(width)),
            "level": Out(ceil_log2(depth + 1)),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        m.submodules.fifo = fifo = SyncFIFOBuffered(width=self.width, depth=self.depth)
        m.d.comb += [
            fifo.w_data.eq(self.i.payload),
            fifo.w_en.eq(self.i.valid),
            self.i.ready.eq(fifo.w_rdy),
            self.o.payload.eq(fifo.r_data),
            self.o.valid.eq(fifo.r_rdy),
            fifo.r_en.eq(self.o.ready),
            self.level.eq(fifo.level),
        ]
        return m
