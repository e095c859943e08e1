"""Stream FIFOs with a registered output (FIFO_LATENCY = 2 cycles from a write to the output: memory write, then
the output register), storage in a Memory so deep or wide FIFOs map to RAM.

  * StreamFIFO: `amaranth.lib.fifo.SyncFIFOBuffered` behind ready/valid streams; `level` lets a producer reserve
    space ahead.
  * CreditFIFO: the same timing for a producer that reserves every entry before it writes (dense.py's credits):
    a write is never refused, so `i.ready` is constant and the write enable is `i.valid` itself, with no full flag
    or level compare between the producer's register and the RAM's write enable.
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.fifo import SyncFIFOBuffered
from amaranth.lib.memory import Memory
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


class CreditFIFO(wiring.Component):
    """Holds `depth` entries (the output register and depth - 1 in memory) when the producer never writes more
    than that ahead of the reads; a write beyond it is lost (the producer's credits are wrong)."""

    def __init__(self, width: int, depth: int) -> None:
        if depth < 2:
            raise ValueError(f"a CreditFIFO needs at least 2 entries, got {depth}")
        self.width, self.depth = width, depth
        super().__init__({
            "i": In(stream.Signature(width)),
            "o": Out(stream.Signature(width)),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        # depth memory words for depth - 1 entries: the memory never fills, so equal pointers mean empty.
        words = self.depth
        m.submodules.storage = mem = Memory(shape=self.width, depth=words, init=[])
        wr, rd = mem.write_port(), mem.read_port()
        produce, consume = Signal(range(words)), Signal(range(words))
        # Entries in the memory, and "not empty" as a flip-flop: `fetch` is one LUT, not a pointer comparison
        # (jet@156 stage2: consume → two comparator LUTs → fetch → the output register's enable, 189.47 MHz).
        count = Signal(range(words + 1))
        nonempty = Signal()
        fetch = Signal()  # the memory's oldest entry moves to the output register
        m.d.sync += nonempty.eq(self.i.valid | Mux(fetch, count >= 2, nonempty))
        with m.If(self.i.valid & ~fetch):
            m.d.sync += count.eq(count + 1)
        with m.Elif(fetch & ~self.i.valid):
            m.d.sync += count.eq(count - 1)
        m.d.comb += [
            self.i.ready.eq(1),
            wr.addr.eq(produce), wr.data.eq(self.i.payload), wr.en.eq(self.i.valid),
            fetch.eq(nonempty & (~self.o.valid | self.o.ready)),
            rd.addr.eq(consume), rd.en.eq(fetch),
            self.o.payload.eq(rd.data),
        ]
        with m.If(self.i.valid):
            m.d.sync += produce.eq(Mux(produce == words - 1, 0, produce + 1))
        with m.If(fetch):
            m.d.sync += [consume.eq(Mux(consume == words - 1, 0, consume + 1)), self.o.valid.eq(1)]
        with m.Elif(self.o.ready):
            m.d.sync += self.o.valid.eq(0)
        return m
