"""Replay buffer in front of an ABFT dense stage (recompute.py): it sends a vector, waits for the checker's
verdict on it, and re-sends it on a flag.

Two slots of `beats` beats each: one is being sent (and re-sent) while the next vector arrives in the other. A
slot is sent beat by beat, then the buffer waits for `i_verdict`; a flagged vector (`i_flag`) is sent again unless
it has had `retries` re-executions already, else the slot is released and the next vector follows. `o_commit` /
`o_drop` (with the verdict, one cycle) tell the commit buffer to release or drop the vector's outputs. A vector's
first attempt starts only with `i_room` (the commit buffer can take its outputs without stalling), so an attempt,
once started, always takes the same cycles; a re-execution starts at once (its room is the dropped attempt's).
"""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from vhls.backends.nn.pipe import ping_pong_advance


class ReplayBuffer(wiring.Component):
    def __init__(self, width: int, beats: int, retries: int) -> None:
        assert beats >= 1 and retries >= 1
        self.width, self.beats, self.retries = width, beats, retries
        super().__init__({
            "i": In(stream.Signature(width)),
            "o": Out(stream.Signature(width)),
            "i_verdict": In(1),
            "i_flag": In(1),
            "i_room": In(1),
            "o_commit": Out(1),
            "o_drop": Out(1),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        bits = ceil_log2(self.beats)
        m.submodules.mem = mem = Memory(shape=self.width, depth=2 << bits, init=[])  # address = {slot, beat}
        wr = mem.write_port()
        rd = mem.read_port(domain="comb")
        full = [Signal(name=f"full{s}") for s in range(2)]
        wslot, rslot = Signal(), Signal()
        wptr, rptr = Signal(max(1, bits)), Signal(max(1, bits))
        sending = Signal(init=1)  # the read slot's beats go out; 0: waiting for the verdict
        tries = Signal(range(self.retries + 1))  # re-executions of the vector in the read slot
        wptr_b = wptr[:bits] if bits else Cat()
        rptr_b = rptr[:bits] if bits else Cat()

        m.d.comb += [
            self.i.ready.eq(~Mux(wslot, full[1], full[0])),
            wr.addr.eq(Cat(wptr_b, wslot)), wr.data.eq(self.i.payload), wr.en.eq(self.i.valid & self.i.ready),
            rd.addr.eq(Cat(rptr_b, rslot)),
            self.o.payload.eq(rd.data),
            self.o.valid.eq(sending & Mux(rslot, full[1], full[0]) & ((rptr != 0) | (tries != 0) | self.i_room)),
        ]
        with m.If(self.i.valid & self.i.ready):
            ping_pong_advance(m, wptr, wptr == self.beats - 1, wslot, full, 1)
        with m.If(self.o.valid & self.o.ready):
            with m.If(rptr == self.beats - 1):
                m.d.sync += [rptr.eq(0), sending.eq(0)]
            with m.Else():
                m.d.sync += rptr.eq(rptr + 1)

        retry = self.i_flag & (tries < self.retries)
        m.d.comb += [self.o_commit.eq(self.i_verdict & ~retry), self.o_drop.eq(self.i_verdict & retry)]
        with m.If(self.i_verdict):
            m.d.sync += sending.eq(1)
            with m.If(retry):
                m.d.sync += tries.eq(tries + 1)
            with m.Else():
                m.d.sync += [tries.eq(0), rslot.eq(~rslot)]
                for s in range(2):  # the writer never sets the slot being read (it is full)
                    with m.If(rslot == s):
                        m.d.sync += full[s].eq(0)
        return m
