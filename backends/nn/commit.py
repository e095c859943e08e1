"""Commit buffer behind an ABFT dense stage (recompute.py): a FIFO whose reader sees a vector's output chunks only
once the vector's check has passed.

The writer appends chunks at `wr`; the reader sees entries up to the commit point `cm`. After a vector's `chunks`
chunks are in, the buffer takes no more until the vector's decision (`i_commit` or `i_drop`, one cycle): commit
moves `cm` to `wr`, drop moves `wr` back to `cm`. Room for two vectors, so one can drain while the next is
computed. `o_room` says an attempt may start without ever stalling on this buffer: the committed entries not yet
read leave room for the vector in progress and the next attempt (2 × chunks); a re-execution needs no check (it
reuses the entries its dropped attempt had). Decisions come with the checker's verdict, which could run up to
`decisions` - 1 vectors ahead of their chunks (waiting in the dense stage's output FIFO), so they queue in order.
"""

from amaranth.hdl import Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.fifo import SyncFIFO
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2


class CommitBuffer(wiring.Component):
    def __init__(self, width: int, chunks: int, decisions: int) -> None:
        assert chunks >= 1 and decisions >= 1
        self.width, self.chunks, self.decisions = width, chunks, decisions
        super().__init__({
            "i": In(stream.Signature(width)),
            "o": Out(stream.Signature(width)),
            "i_commit": In(1),
            "i_drop": In(1),
            "o_room": Out(1),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        bits = ceil_log2(2 * self.chunks)
        depth = 1 << bits
        m.submodules.mem = mem = Memory(shape=self.width, depth=depth, init=[])
        wp = mem.write_port()
        rp = mem.read_port(domain="comb")
        wr, cm, rd = Signal(bits + 1), Signal(bits + 1), Signal(bits + 1)  # one wrap bit beyond the address
        got = Signal(range(self.chunks + 1))  # chunks of the current vector written
        # Decision queue (1: commit); at least 2 entries (a 1-entry SyncFIFO has zero-width pointers)
        m.submodules.queue = queue = SyncFIFO(width=1, depth=max(2, self.decisions))
        pop = Signal()
        m.d.comb += [queue.w_en.eq(self.i_commit | self.i_drop), queue.w_data.eq(self.i_commit), queue.r_en.eq(pop)]
        room = Signal()
        m.d.comb += [
            room.eq(((wr - rd)[:bits + 1] < depth) & (got != self.chunks)),
            self.i.ready.eq(room),
            wp.addr.eq(wr[:bits]), wp.data.eq(self.i.payload), wp.en.eq(self.i.valid & room),
            rp.addr.eq(rd[:bits]),
            self.o.payload.eq(rp.data),
            self.o.valid.eq(cm != rd),
            self.o_room.eq((cm - rd)[:bits + 1] <= depth - 2 * self.chunks),
        ]
        with m.If(self.i.valid & room):
            m.d.sync += [wr.eq(wr + 1), got.eq(got + 1)]
        with m.If(self.o.valid & self.o.ready):
            m.d.sync += rd.eq(rd + 1)
        with m.If(queue.r_rdy & (got == self.chunks)):  # no write in this cycle: `room` is low
            m.d.comb += pop.eq(1)
            m.d.sync += got.eq(0)
            with m.If(queue.r_data):
                m.d.sync += cm.eq(wr)
            with m.Else():
                m.d.sync += wr.eq(cm)
        return m
