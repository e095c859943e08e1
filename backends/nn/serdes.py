"""Width adapters between narrow top-level beats (port.py) and the stages' whole-vector streams.

Deserialiser: beats (data, last) in, whole vectors out. Beat k of a vector goes to slot k (a one-hot pointer); the
cycle after the last beat the slots move to an output register while the next vector's beats arrive, so one beat
per cycle is sustained. tlast is checked: a packet (the beats up to and including one with tlast) that is not
exactly B beats long is dropped whole — a short one at its early tlast, a long one from its B-th beat up to its
tlast — and the sticky `error` output rises (cleared by rst only). The next packet is then received normally
(drop to resync).

Serialiser: whole vectors in, B beats out (tlast on the last, unused high bits zero). With B >= 2 a vector always
enters a holding register first (so `i.ready` is "holding register empty", a flip-flop, and m_axis_tready does not
reach back into the stages) and moves into the shift register when that is free or its last beat leaves in the same
cycle: each shift-register bit then chooses between two flip-flops under one LUT of four flip-flops and the port's
ready, not the upstream valid (B >= 2 beats leave time to refill the holding register, so a beat per cycle is
sustained; an idle serialiser sends a vector's first beat two cycles after it takes it, port.py counts that).
With B == 1 the shift register is the output register and loads straight from the input (a holding register
behind it as a skid buffer), so a vector per cycle is sustained and the first beat leaves the next cycle.
"""

from amaranth.hdl import Cat, Module, Mux, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from vhls.backends.nn.port import Framing


def beat_layout(f: Framing) -> data.StructLayout:
    return data.StructLayout({"data": f.tdata_bits, "last": 1})


class Deserialiser(wiring.Component):
    def __init__(self, f: Framing) -> None:
        self.f = f
        super().__init__({
            "i": In(stream.Signature(beat_layout(f))),
            "o": Out(stream.Signature(f.n * f.width)),
            "error": Out(1),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        f = self.f
        slots = [Signal(f.tdata_bits, name=f"beat{k}", reset_less=True) for k in range(f.beats)]
        out = Signal(f.n * f.width, reset_less=True)
        at = Signal(f.beats, init=1)  # one-hot: the slot of the next beat
        complete = Signal()  # the slots hold a whole, well-framed vector
        full = Signal()  # `out` holds a vector
        stall = Signal()  # complete & full, kept in a flip-flop
        skip = Signal()  # inside a packet already found too long: drop up to its tlast
        err = Signal()
        last, at_last = self.i.payload.last, at[-1]
        # With B >= 2 beats per vector `out` is freed at least every other cycle, which is fast enough, so `ready`
        # is a flip-flop: each slot's enable is one LUT from it and never waits on the consumer's ready.
        room = ~full | (self.o.ready if f.beats == 1 else 0)
        move = complete & room
        ready = ~stall if f.beats > 1 else ~complete | room
        accept = self.i.valid & ready
        full_next = (full & ~(self.o.valid & self.o.ready)) | move
        complete_next = (complete & ~move) | (accept & ~skip & last & at_last)
        m.d.comb += [
            self.o.payload.eq(out),
            self.o.valid.eq(full),
            self.i.ready.eq(ready),
            self.error.eq(err),
        ]
        m.d.sync += [full.eq(full_next), complete.eq(complete_next), stall.eq(complete_next & full_next)]
        with m.If(move):
            m.d.sync += out.eq(Cat(*slots)[:f.n * f.width])
        for k, slot in enumerate(slots):
            with m.If(self.i.valid & ready & at[k]):
                m.d.sync += slot.eq(self.i.payload.data)
        with m.If(accept):
            with m.If(skip):
                m.d.sync += skip.eq(~last)
            with m.Elif(last == at_last):
                m.d.sync += at.eq(at.rotate_left(1))  # the next slot, or back to the first after a whole vector
            with m.Else():  # tlast early (the short packet is dropped) or missing on beat B (drop to its tlast)
                m.d.sync += [at.eq(1), skip.eq(~last), err.eq(1)]
        return m


class Serialiser(wiring.Component):
    def __init__(self, f: Framing) -> None:
        self.f = f
        super().__init__({
            "i": In(stream.Signature(f.n * f.width)),
            "o": Out(stream.Signature(beat_layout(f))),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        f = self.f
        bb = f.tdata_bits
        shift = Signal(f.beats * bb, reset_less=True)
        hold = Signal(f.n * f.width, reset_less=True)
        held = Signal()  # `hold` holds a vector
        ptr = Signal(max(1, ceil_log2(f.beats)))
        busy = Signal()
        last = Signal(init=f.beats == 1)  # ptr == B - 1, kept in a flip-flop
        sent = self.o.valid & self.o.ready
        free = ~busy | (self.o.ready & last)  # the shift register may load this cycle
        take = self.i.valid & ~held
        direct = take if f.beats == 1 else 0  # B == 1: straight from the input when nothing is held
        load = free & (held | direct)
        m.d.comb += [
            self.o.payload.data.eq(shift[:bb]),
            self.o.payload.last.eq(last),
            self.o.valid.eq(busy),
            self.i.ready.eq(~held),
        ]
        with m.If(sent):
            with m.If(last):
                m.d.sync += [ptr.eq(0), busy.eq(0), last.eq(f.beats == 1)]
            with m.Else():
                m.d.sync += [ptr.eq(ptr + 1), last.eq(ptr == f.beats - 2)]
        with m.If(~busy | self.o.ready):  # the beat on the port is sent or invalid: move on
            m.d.sync += shift.eq(Mux(load, hold if f.beats > 1 else Mux(held, hold, self.i.payload), shift[bb:]))
        with m.If(load):
            m.d.sync += [busy.eq(1), held.eq(0)]
        with m.Elif(take):
            m.d.sync += held.eq(1)
        with m.If(~held):  # an empty holding register samples the input (held says whether it counts)
            m.d.sync += hold.eq(self.i.payload)
        return m
