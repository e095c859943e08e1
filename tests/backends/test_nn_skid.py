"""SkidBuffer (backends/nn/skid.py) in the Amaranth simulator: every beat through once, in order, under random gaps
and back-pressure; a beat per cycle with one cycle of latency when nothing stalls; ready and valid from
flip-flops."""

import pytest
from amaranth.sim import Simulator
from nn_streams import run_stream

from vhls.backends.nn.skid import SkidBuffer


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("p_valid, p_ready", [(0.7, 0.7), (1.0, 0.3), (0.3, 1.0), (1.0, 0.9)])
def test_every_beat_once_in_order(seed: int, p_valid: float, p_ready: float) -> None:
    beats = [(seed * 7919 + 13 * k) % 256 for k in range(200)]
    out = run_stream(SkidBuffer(8), beats, len(beats), seed=seed, p_valid=p_valid, p_ready=p_ready)
    assert out == beats


def test_full_rate_one_cycle_latency() -> None:
    taken_at: list[int] = []
    beats = list(range(50))
    assert run_stream(SkidBuffer(8), beats, len(beats), p_valid=1.0, p_ready=1.0, taken_at=taken_at) == beats
    assert taken_at == list(range(SkidBuffer.LATENCY, SkidBuffer.LATENCY + len(beats)))


def test_ready_does_not_follow_the_consumer_within_a_cycle() -> None:
    """i.ready and o.valid are flip-flops: flipping o.ready or i.valid mid-cycle changes neither."""
    dut = SkidBuffer(8)
    seen: list[tuple[int, int]] = []

    async def bench(ctx) -> None:
        for cycle in range(40):
            ctx.set(dut.i.valid, 1)
            ctx.set(dut.i.payload, cycle)
            ctx.set(dut.o.ready, cycle % 3 == 0)
            before = (ctx.get(dut.i.ready), ctx.get(dut.o.valid))
            for v, r in ((0, 1), (1, 0), (0, 0)):
                ctx.set(dut.i.valid, v)
                ctx.set(dut.o.ready, r)
                seen.append((before, (ctx.get(dut.i.ready), ctx.get(dut.o.valid))))
            ctx.set(dut.i.valid, 1)
            ctx.set(dut.o.ready, cycle % 3 == 0)
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert all(a == b for a, b in seen)
    assert {a for a, _ in seen} >= {(0, 1), (1, 1)}  # the skid did fill and drain
