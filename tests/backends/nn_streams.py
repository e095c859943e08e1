"""Drive a ready/valid stream component in the Amaranth simulator with random gaps and back-pressure."""

import random

from amaranth.sim import Simulator


def run_stream(dut, beats: list[int], n_out: int, seed: int = 0, p_valid: float = 0.7,
               p_ready: float = 0.7, limit: int = 20000, taken_at: list[int] | None = None) -> list[int]:
    """Offer `beats` on dut.i (tvalid with random gaps, held until taken) while dut.o.ready drops at random;
    returns the first n_out payloads taken from dut.o (and appends the cycle of each to `taken_at`)."""
    rng = random.Random(seed)
    out: list[int] = []

    async def bench(ctx) -> None:
        sent, valid = 0, False
        for cycle in range(limit):
            if len(out) >= n_out:
                return
            valid = valid or (sent < len(beats) and rng.random() < p_valid)
            ready = rng.random() < p_ready
            ctx.set(dut.i.valid, int(valid))
            ctx.set(dut.i.payload, beats[sent] if valid else 0)
            ctx.set(dut.o.ready, int(ready))
            taken, o_valid, o_data = ctx.get(dut.i.ready), ctx.get(dut.o.valid), ctx.get(dut.o.payload)
            await ctx.tick()
            if valid and taken:
                sent, valid = sent + 1, False
            if ready and o_valid:
                out.append(o_data)
                if taken_at is not None:
                    taken_at.append(cycle)
        raise AssertionError(f"no progress: {len(out)} of {n_out} outputs after {limit} cycles")

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return out


def pack(values, width: int) -> int:
    word, mask = 0, (1 << width) - 1
    for i, v in enumerate(values):
        word |= (int(v) & mask) << (i * width)
    return word


def unpack(word: int, n: int, width: int, signed: bool = True) -> list[int]:
    vals = [(word >> (i * width)) & ((1 << width) - 1) for i in range(n)]
    return [v - (1 << width) if signed and v >> (width - 1) else v for v in vals]
