"""Deserialiser and Serialiser (backends/nn/serdes.py) in the Amaranth simulator: random gaps and back-pressure,
element packing with a partly filled last beat, and tlast framing errors (drop to resync, sticky error)."""

import random

import pytest
from amaranth.sim import Simulator
from nn_streams import run_stream

from vhls.backends.nn.port import Framing
from vhls.backends.nn.serdes import Deserialiser, Serialiser


def _beats(word: int, f: Framing) -> list[tuple[int, int]]:
    mask = (1 << f.tdata_bits) - 1
    return [((word >> (k * f.tdata_bits)) & mask, int(k == f.beats - 1)) for k in range(f.beats)]


def _deserialise(f: Framing, beats: list[tuple[int, int]], n_out: int, seed: int, p: float = 0.6,
                 taken_at: list[int] | None = None) -> tuple[list[int], list[int]]:
    """Offer (data, last) beats with random gaps while o.ready drops at random; the vectors taken and the error
    output after each cycle (and the cycle of each input beat taken, into `taken_at`)."""
    dut = Deserialiser(f)
    rng = random.Random(seed)
    out: list[int] = []
    errors: list[int] = []

    async def bench(ctx) -> None:
        sent, valid = 0, False
        for cycle in range(40 * len(beats) + 50):
            valid = valid or (sent < len(beats) and rng.random() < p)
            ready = rng.random() < p
            data, last = beats[sent] if valid else (0, 0)
            ctx.set(dut.i.valid, int(valid))
            ctx.set(dut.i.payload.data, data)
            ctx.set(dut.i.payload.last, last)
            ctx.set(dut.o.ready, int(ready))
            taken, o_valid, o_data = ctx.get(dut.i.ready), ctx.get(dut.o.valid), ctx.get(dut.o.payload)
            await ctx.tick()
            errors.append(ctx.get(dut.error))
            if valid and taken:
                sent, valid = sent + 1, False
                if taken_at is not None:
                    taken_at.append(cycle)
            if ready and o_valid:
                out.append(o_data)
            if sent == len(beats) and len(out) >= n_out and not o_valid:
                return

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return out, errors


def _serialise(f: Framing, words: list[int], seed: int, p: float = 0.6,
               taken_at: list[int] | None = None) -> list[tuple[int, int]]:
    """Offer words with random gaps while o.ready drops at random; the (data, last) beats taken."""
    beats = run_stream(Serialiser(f), words, len(words) * f.beats, seed, p, p, taken_at=taken_at)
    return [(b.data, b.last) for b in beats]


# 5 elements of 6 bits, 2 per beat: 3 beats, the last with one element and zero padding; then 1 and 1 beat.
FRAMINGS = [Framing(5, 6, 2), Framing(4, 8, 1), Framing(3, 4, 3)]


@pytest.mark.parametrize("f", FRAMINGS, ids=["partial-last-beat", "one-per-beat", "one-beat"])
def test_round_trip_with_stalls(f: Framing) -> None:
    rng = random.Random(1)
    words = [rng.getrandbits(f.n * f.width) for _ in range(12)]
    beats = [b for w in words for b in _beats(w, f)]
    got, errors = _deserialise(f, beats, len(words), seed=2)
    assert got == words and not any(errors)
    assert _serialise(f, words, seed=3) == beats  # tlast on each last beat, unused high bits zero


def test_back_to_back_one_beat_per_cycle() -> None:
    """Both sides sustain a beat per cycle: B beats per vector, no bubble between vectors."""
    f = Framing(5, 6, 2)
    words = list(range(1, 9))
    beats = [b for w in words for b in _beats(w, f)]
    t_in: list[int] = []
    t_out: list[int] = []
    got, _ = _deserialise(f, beats, len(words), seed=0, p=1.0, taken_at=t_in)
    assert got == words and t_in == list(range(len(beats)))
    assert _serialise(f, words, seed=0, p=1.0, taken_at=t_out) == beats
    assert t_out == list(range(t_out[0], t_out[0] + len(beats)))


def test_misplaced_tlast_drops_the_packet_and_sets_a_sticky_error() -> None:
    f = Framing(5, 6, 2)  # 3 beats per vector
    good = [_beats(w, f) for w in (0x1234567, 0x2ABCDEF, 0x3000001)]
    short = [(0x111, 0), (0x222, 1)]  # tlast on beat 2 of 3
    long = [(0x333, 0), (0x444, 0), (0x005, 0), (0x666, 0), (0x777, 1)]  # no tlast on beat 3: dropped to its tlast
    stream = good[0] + short + good[1] + long + good[2]
    got, errors = _deserialise(f, stream, 3, seed=4)
    words = [0x1234567, 0x2ABCDEF, 0x3000001]
    assert got == words  # the bad packets vanish; the stream resynchronises on the next packet
    first = errors.index(1)
    assert all(errors[first:]) and first > 0  # sticky until reset


def test_one_beat_vectors_need_tlast_on_every_beat() -> None:
    f = Framing(3, 4, 3)
    got, errors = _deserialise(f, [(5, 1), (6, 0), (7, 1), (8, 1)], 2, seed=5)
    assert got == [5, 8] and errors[-1] == 1  # (6, no tlast) starts a long packet: it and (7) are dropped


def test_serialiser_ready_is_a_flip_flop_and_skids_one_vector() -> None:
    """i.ready never follows o.ready within a cycle (m_axis_tready stays off the stages' paths); while the output is
    held the serialiser still takes a second vector into its holding register, then refuses; nothing is lost."""
    f = Framing(5, 6, 2)
    words = [0x1234567, 0x2ABCDEF, 0x3000001]
    dut = Serialiser(f)
    out: list[tuple[int, int]] = []
    taken: list[int] = []

    async def bench(ctx) -> None:
        sent = 0
        for cycle in range(40):
            hold_output = cycle < 10
            ctx.set(dut.i.valid, int(sent < len(words)))
            ctx.set(dut.i.payload, words[sent] if sent < len(words) else 0)
            ready = []
            for r in (0, 1):
                ctx.set(dut.o.ready, r)
                ready.append(ctx.get(dut.i.ready))
            assert ready[0] == ready[1]
            ctx.set(dut.o.ready, int(not hold_output))
            o_valid = ctx.get(dut.o.valid)
            beat = (ctx.get(dut.o.payload.data), ctx.get(dut.o.payload.last))
            await ctx.tick()
            if sent < len(words) and ready[0]:
                sent += 1
                taken.append(cycle)
            if o_valid and not hold_output:
                out.append(beat)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert taken[:2] == [0, 2] and taken[2] >= 10  # holding register, on to the shift register, again, then wait
    assert out == [b for w in words for b in _beats(w, f)]
