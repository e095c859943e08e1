"""Ping-pong vector buffer: a stage's input vector, written in chunks while the previous vector is being read.

Two banks of N elements. The write side is a stream of chunks (C elements each, N/C beats fill a bank); a full
bank is handed to the read side, which reads SIMD-element slices at any index, as often as it likes, and releases
the bank with `r_done`. A whole vector can therefore be reused for every neuron fold while the next one arrives.

Two implementations with the same ports, chosen by `input_buffer`:
  * MemPingPongBuffer (when C and SIMD divide one another): a Memory of 2·N/SIMD words of SIMD elements, so it
    maps to LUT RAM or block RAM; beats wider than a word are written one word per cycle (N/SIMD cycles per
    vector, never more than the stage's N/SIMD·M/PE compute cycles), narrower beats are gathered into a word.
  * PingPongBuffer: flip-flops and a read multiplexer, for any C and SIMD.
`read_latency` is the cycles from `r_index` to `r_data`; `fill_delay`, `land_delay` and `handoff_delay` the
extra cycles after the last beat before the bank is readable. A memory deeper than one LUT RAM (ROM.BLOCK_MIN_WORDS
words or more) asks for block RAM and reads through its output register (latency 2): in LUT RAM its read would be
an address fan-out, the RAM and a multiplexer of RAMs in one cycle (jet@156's stage3 on ECP5-85k: three LUT levels
and four routes, 5.3 ns).
"""

from amaranth.hdl import Cat, Module, Mux, Signal, Value
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from vhls.backends.nn.pipe import ping_pong_advance
from vhls.backends.nn.rom import ROM


def _ports(chunk: int, width: int, n: int, simd: int) -> dict:
    return {
        "w": In(stream.Signature(chunk * width)),
        "r_valid": Out(1),  # a full bank is available
        "r_index": In(max(1, ceil_log2(n // simd))),  # which SIMD slice
        "r_data": Out(simd * width),
        "r_done": In(1),  # release the bank being read (only while r_valid)
    }


def fill_delay(chunk: int, simd: int) -> int:
    """Extra cycles the memory buffer needs after accepting a vector's last beat (writing its remaining words)."""
    return chunk // simd - 1 if chunk > simd else 0


def land_delay(chunk: int, simd: int) -> int:
    """Cycles a gathering buffer adds between a vector's last beat and its bank being full: the bank's last word
    lands from the registered write port a cycle after its beat, and the bank is marked full as it lands."""
    return 1 if gathers(chunk, simd) else 0


def uses_memory(chunk: int, simd: int) -> bool:
    return chunk % simd == 0 or simd % chunk == 0


def gathers(chunk: int, simd: int) -> bool:
    """The memory buffer gathers several narrow beats into each word."""
    return uses_memory(chunk, simd) and chunk < simd


def decoupled(chunk: int, simd: int) -> bool:
    """A buffer gathering at least three beats per word: its writer needs a free bank only from its first word's
    last beat (`gate_beat`), so its two sides can hear of each other a cycle late (`handoff_delay`) and no path
    runs from one side's handshake to the other's."""
    return gathers(chunk, simd) and simd // chunk >= 3


def handoff_delay(chunk: int, simd: int) -> int:
    """Cycles a decoupled buffer adds: `r_valid` rises a cycle after the bank's full flag (not with the writer's
    handshake), and the writer sees a released bank a cycle after its free flag (not with the reader's `r_done`).
    Latency +1; no throughput lost, with two beats of slack before the writer needs the bank."""
    return 1 if decoupled(chunk, simd) else 0


def gate_beat(chunk: int, simd: int) -> int:
    """The beat of a vector that waits for a free bank: the first, or a gathering buffer's first word's last."""
    return simd // chunk - 1 if gathers(chunk, simd) else 0


def input_buffer(n: int, width: int, chunk: int, simd: int) -> "PingPongBuffer | MemPingPongBuffer":
    if uses_memory(chunk, simd):
        return MemPingPongBuffer(n, width, chunk, simd)
    return PingPongBuffer(n, width, chunk, simd)


def _release(m: Module, buf: "MemPingPongBuffer | PingPongBuffer", wbank: Signal, rbank: Signal,
             full: list[Signal], advance: Value, late: bool = False) -> tuple[Signal, Value]:
    """`r_done` hands the read bank back; drives `r_valid`; returns a flip-flop: the bank being written is still
    taken (`advance`: the writer fills its bank's last word and moves to the other bank this cycle), and that
    flip-flop's next value.

    The release comes out of the reader's whole issue logic: it only sets flip-flops (`freed`, the writer's flag),
    and the full flag drops a cycle later, so neither the release nor the full flags reach the writer's handshake
    through logic. The writer still sees a bank free in the cycle after its release, as soon as ever; a bank the
    writer fills in the cycle its full flag drops stays full (its set is written after this clear)."""
    freed = [Signal(name=f"freed{b}") for b in range(2)]
    released = buf.r_done & buf.r_valid
    with m.If(released):
        m.d.sync += rbank.eq(~rbank)
    m.d.sync += [freed[b].eq(released & (rbank == b)) for b in range(2)]
    for b in range(2):
        with m.If(freed[b]):
            m.d.sync += full[b].eq(0)
    # Next cycle's Mux(wbank, full & ~freed) from this cycle's values (a bank the writer leaves is not set again).
    def held(nxt: Value) -> Value:
        kept = Mux(nxt, full[1] & ~freed[1], full[0] & ~freed[0])
        return kept if late else kept & ~(released & (rbank == nxt))

    busy = Signal(name="wbusy")
    nxt = held(wbank ^ advance)
    m.d.sync += busy.eq(nxt)
    # r_valid is a flip-flop too: next cycle's full[rbank] (the writer's set wins over a clear), so the reader's `go`
    # is one LUT of flip-flops. `late` (handoff_delay): this cycle's full[rbank], so no path runs from the writer's
    # handshake to the reader's (jet@156 stage1: the upstream slice's valid → 2.03 ns route → r_valid, 187.48 MHz).
    nxt_full = [(full[b] & ~freed[b]) | (0 if late else advance & (wbank == b)) for b in range(2)]
    valid = Signal(name="rvalid")
    m.d.sync += valid.eq(Mux(rbank ^ released, nxt_full[1], nxt_full[0]))
    m.d.comb += buf.r_valid.eq(valid)
    return busy, nxt


def _bank_bits(n: int, simd: int) -> int:
    """Word-address bits of one bank of the memory buffer (its memory holds two banks: 2 << bits words)."""
    return max(1, ceil_log2(n // simd))


def uses_block_ram(n: int, simd: int) -> bool:
    """The memory buffer's words are deep enough for block RAM."""
    return 2 << _bank_bits(n, simd) >= ROM.BLOCK_MIN_WORDS


class MemPingPongBuffer(wiring.Component):
    def __init__(self, n: int, width: int, chunk: int, simd: int) -> None:
        if n % chunk or n % simd or not uses_memory(chunk, simd):
            raise ValueError(f"chunk {chunk} and SIMD {simd} must divide the vector size {n} and each other")
        self.n, self.width, self.chunk, self.simd = n, width, chunk, simd
        self.block = uses_block_ram(n, simd)
        self.read_latency = 2 if self.block else 1
        super().__init__(_ports(chunk, width, n, simd))

    def elaborate(self, platform: object) -> Module:
        m = Module()
        words, word = self.n // self.simd, self.simd * self.width
        bits = _bank_bits(self.n, self.simd)
        # no_rw_check: the reader never reads the word being written (different banks, or the last word of a bank
        # landing while the reader is at word 0), so yosys need not emulate read-during-write in logic, which on
        # a block RAM would sit between its data out and the output register.
        block = {"ram_style": "block", "no_rw_check": 1} if self.block else None
        m.submodules.mem = mem = Memory(shape=word, depth=2 << bits, init=[], attrs=block)  # address = {bank, word}
        wr = mem.write_port()
        # The write port is registered (address, data and enable leave flip-flops: the wide write fan-out gets a
        # cycle of its own), so a bank's last word lands a cycle after its beat; a buffer that does not gather marks
        # the bank full with the beat, a cycle before it lands. Its reader starts a fresh bank at word 0 and reaches
        # the last word no sooner than that, except when a bank is one word: only then does the read need the
        # write's bypass.
        rd = mem.read_port(transparent_for=(wr,) if words == 1 else ())
        full = [Signal(name=f"full{b}") for b in range(2)]
        wbank, rbank = Signal(), Signal()
        wptr = Signal(bits)  # word address inside the bank being written
        we = Signal()
        data = Signal(word)
        m.d.sync += [wr.addr.eq(Cat(wptr, wbank)), wr.en.eq(we), wr.data.eq(data)]
        wlast = Signal(init=words == 1)  # wptr == words - 1, kept in a flip-flop like j_last
        late = decoupled(self.chunk, self.simd)
        # A gathering buffer steps its pointer, bank and full flag on the registered write enable, as its word lands:
        # the full flag's logic then has only local flip-flops for inputs, not the upstream `valid` through the
        # handshake and the write enable (jet@156 floorplanned: ready → taken → we → full1, three LUTs, 187 MHz).
        landing = wr.en if gathers(self.chunk, self.simd) else we
        # called before the writer's full-flag sets below, which then win over its clears
        wfull, wfull_next = _release(m, self, wbank, rbank, full, landing & wlast, late=late)

        if self.chunk >= self.simd:
            # One beat = k words: the first is written as the beat is taken, the rest from a holding register.
            k = self.chunk // self.simd
            hold = Signal(self.chunk * self.width, reset_less=True)
            idx = Signal(range(max(k, 2)))  # word of the held beat being written; 0: idle
            m.d.comb += [self.w.ready.eq((idx == 0) & ~wfull),
                         data.eq(Mux(idx != 0, hold.word_select(idx, word), self.w.payload[:word]))]
            with m.If(idx != 0):
                m.d.comb += we.eq(1)
                m.d.sync += idx.eq(Mux(idx == k - 1, 0, idx + 1))
            with m.Elif(self.w.valid & self.w.ready):
                m.d.comb += we.eq(1)
                if k > 1:
                    m.d.sync += idx.eq(1)
            if k > 1:
                # Loaded whenever idle, not only on a taken beat: its enable then comes straight from a flip-flop
                # instead of the handshake (wide fan-out), and a beat is held stable until taken anyway.
                with m.If(idx == 0):
                    m.d.sync += hold.eq(self.w.payload)
        else:
            # k beats = one word: gather k - 1 beats, write with the k-th.
            k = self.simd // self.chunk
            step = self.chunk * self.width
            parts = Signal(step * (k - 1), reset_less=True)
            # One-hot beat position: a slot's load enable is `valid` and one flip-flop, whatever k is, and the
            # last beat (the write enable) is a flip-flop too.
            slot = Signal(k, init=1)
            # Only a word's last beat writes the bank; the others fill `parts` whether or not the bank is free yet.
            # `ready` is a flip-flop (next cycle's "bank busy at a word's last beat"): the register slice upstream
            # then sees no logic of ours (jet@156: wbusy → ready → 1.66 ns route → slice, 185.19 MHz). Next cycle's
            # bank: this one, or the other if the word landing now is the bank's last (`wfull_next`).
            ready = Signal(init=1)
            taken = self.w.valid & ready
            m.d.sync += ready.eq(~(wfull_next & Mux(taken, slot[k - 2], slot[k - 1])))
            m.d.comb += [self.w.ready.eq(ready), data.eq(Cat(parts, self.w.payload))]
            with m.If(self.w.valid & self.w.ready):
                m.d.sync += slot.eq(slot.rotate_left(1))
                with m.If(slot[k - 1]):
                    m.d.comb += we.eq(1)
            # A slot is loaded on `valid` alone (a beat is held stable until taken, so a repeat load is harmless):
            # the wide enable fan-out then does not wait for `ready`.
            with m.If(self.w.valid):
                for i in range(k - 1):
                    with m.If(slot[i]):
                        m.d.sync += parts[i * step:(i + 1) * step].eq(self.w.payload)

        with m.If(landing):
            ping_pong_advance(m, wptr, wlast, wbank, full, 1,
                              at_end=[wlast.eq(words == 1)], at_step=[wlast.eq(wptr == words - 2)])

        m.d.comb += rd.addr.eq(Cat(self.r_index[:len(wptr)], rbank))
        if self.block:  # the block RAM's output register (absorb.py moves it into the DP16KD on ECP5)
            out = Signal(word, reset_less=True)
            m.d.sync += out.eq(rd.data)
            m.d.comb += self.r_data.eq(out)
        else:
            m.d.comb += self.r_data.eq(rd.data)
        return m


class PingPongBuffer(wiring.Component):
    read_latency = 0

    def __init__(self, n: int, width: int, chunk: int, simd: int) -> None:
        if n % chunk or n % simd:
            raise ValueError(f"chunk {chunk} and SIMD {simd} must divide the vector size {n}")
        self.n, self.width, self.chunk, self.simd = n, width, chunk, simd
        super().__init__(_ports(chunk, width, n, simd))

    def elaborate(self, platform: object) -> Module:
        m = Module()
        beats = self.n // self.chunk
        banks = [Signal(self.n * self.width, name=f"bank{b}", reset_less=True) for b in range(2)]  # data: no reset
        full = [Signal(name=f"full{b}") for b in range(2)]
        wbank, rbank = Signal(), Signal()
        wptr = Signal(max(1, ceil_log2(beats)))

        advance = self.w.valid & self.w.ready & (wptr == beats - 1)
        m.d.comb += self.w.ready.eq(~_release(m, self, wbank, rbank, full, advance)[0])
        with m.If(self.w.valid & self.w.ready):
            for b in range(2):
                with m.If(wbank == b):
                    for c in range(beats):
                        with m.If(wptr == c):
                            lo = c * self.chunk * self.width
                            m.d.sync += banks[b][lo:lo + self.chunk * self.width].eq(self.w.payload)
            ping_pong_advance(m, wptr, wptr == beats - 1, wbank, full, 1)

        m.d.comb += [
            self.r_data.eq(Mux(rbank, banks[1], banks[0]).word_select(self.r_index, self.simd * self.width)),
        ]
        return m
