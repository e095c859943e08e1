"""Input ping-pong buffers (backends/nn/vecbuf.py) in the Amaranth simulator: vectors written as chunks with random
gaps, read as the dense stage reads them (slices 0 .. N/SIMD - 1, once per neuron fold: here one to three passes)
with random pauses; every slice read shows its vector's elements exactly `read_latency` cycles after its index, and
vectors come out whole and in order, across the LUT-RAM, block-RAM and flip-flop variants."""

import random

import pytest
from amaranth.sim import Simulator
from nn_streams import pack

from vhls.backends.nn.vecbuf import PingPongBuffer, fill_delay, handoff_delay, input_buffer, land_delay, uses_block_ram

WIDTH = 8


def _run(buf, vectors: list[list[int]], seed: int, p_valid: float, p_read: float, limit: int = 40000) -> int:
    """Writes and reads every vector; returns the number of slice reads checked."""
    rng = random.Random(seed)
    n, chunk, simd, lat = buf.n, buf.chunk, buf.simd, buf.read_latency
    beats = [pack(v[c:c + chunk], WIDTH) for v in vectors for c in range(0, n, chunk)]
    checked = 0

    async def bench(ctx) -> None:
        nonlocal checked
        sent, valid = 0, False
        vec, todo = 0, []  # vector being read, its slices not yet read
        pending: list[tuple[int, int, int]] = []  # (cycle its data shows, vector, slice)
        for cycle in range(limit):
            if vec == len(vectors) and not pending:
                return
            valid = valid or (sent < len(beats) and rng.random() < p_valid)
            ctx.set(buf.w.valid, int(valid))
            ctx.set(buf.w.payload, beats[sent] if valid else 0)
            read = done = False
            if ctx.get(buf.r_valid) and vec < len(vectors) and rng.random() < p_read:
                if not todo:  # the slice order is the reader's side of the protocol (a bank's last word lands late)
                    todo = list(range(n // simd))[::-1] * rng.randint(1, 3)
                idx = todo.pop()
                read, done = True, not todo
                ctx.set(buf.r_index, idx)
                pending.append((cycle + lat, vec, idx))
            ctx.set(buf.r_done, int(done))
            while pending and pending[0][0] == cycle:
                _, v, idx = pending.pop(0)
                assert ctx.get(buf.r_data) == pack(vectors[v][idx * simd:(idx + 1) * simd], WIDTH), \
                    f"vector {v} slice {idx} at cycle {cycle}"
                checked += 1
            taken = ctx.get(buf.w.ready)
            await ctx.tick()
            if valid and taken:
                sent, valid = sent + 1, False
            if read and done:
                vec += 1
        raise AssertionError(f"no progress: {vec} of {len(vectors)} vectors read after {limit} cycles")

    sim = Simulator(buf)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return checked


# (N, chunk, SIMD): LUT RAM (shallow), block RAM (≥ 17 words), wide beats written word by word, narrow beats gathered,
# one-word banks (write bypass), and the flip-flop buffer (chunk and SIMD not dividing one another).
CASES = [(16, 4, 4, "lutram"), (64, 1, 1, "block"), (32, 2, 1, "block"), (16, 8, 2, "lutram"),
         (64, 16, 4, "block"), (64, 2, 4, "block"), (64, 2, 64, "lutram"), (16, 1, 4, "lutram"),
         (12, 3, 2, "registers")]


@pytest.mark.parametrize("n, chunk, simd, kind", CASES)
@pytest.mark.parametrize("p_valid, p_read", [(1.0, 1.0), (0.5, 0.8), (0.9, 0.3)])
def test_every_slice_of_every_vector(n: int, chunk: int, simd: int, kind: str, p_valid: float, p_read: float) -> None:
    buf = input_buffer(n, WIDTH, chunk, simd)
    assert kind == ("registers" if isinstance(buf, PingPongBuffer) else "block" if buf.block else "lutram")
    assert buf.read_latency == {"registers": 0, "lutram": 1, "block": 2}[kind]
    rng = random.Random(n * 31 + chunk * 7 + simd)
    vectors = [[rng.randrange(256) for _ in range(n)] for _ in range(6)]
    assert _run(buf, vectors, seed=n + simd, p_valid=p_valid, p_read=p_read) >= 6 * n // simd


def test_block_ram_reads_through_an_output_register() -> None:
    assert uses_block_ram(64, 1) and uses_block_ram(18, 2) and not uses_block_ram(16, 2)  # 128, 32 and 16 words


@pytest.mark.parametrize("n, chunk, simd, kind", CASES)
def test_bank_readable_when_the_models_say(n: int, chunk: int, simd: int, kind: str) -> None:
    """One vector at full rate into an idle buffer: `r_valid` rises 1 + fill_delay + land_delay + handoff_delay cycles
    after its last beat is taken (plan.py and schedule.py count on exactly that)."""
    buf = input_buffer(n, WIDTH, chunk, simd)
    beats = n // chunk
    seen: dict[str, int] = {}

    async def bench(ctx) -> None:
        sent = 0
        for cycle in range(4 * beats + 20):
            ctx.set(buf.w.valid, int(sent < beats))
            ctx.set(buf.w.payload, sent)
            if ctx.get(buf.r_valid) and "valid" not in seen:
                seen["valid"] = cycle
            taken = sent < beats and ctx.get(buf.w.ready)
            await ctx.tick()
            if taken:
                sent += 1
                if sent == beats:
                    seen["last"] = cycle

    sim = Simulator(buf)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    extra = fill_delay(chunk, simd) + land_delay(chunk, simd) + handoff_delay(chunk, simd)
    assert seen["valid"] - seen["last"] == 1 + extra
    assert handoff_delay(chunk, simd) == (1 if kind != "registers" and simd >= 3 * chunk else 0)
    assert land_delay(chunk, simd) == (1 if kind != "registers" and simd > chunk else 0)
