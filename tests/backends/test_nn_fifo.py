"""CreditFIFO (backends/nn/fifo.py) in the Amaranth simulator: a producer that never has more than `depth` entries
outstanding, a consumer that stalls at random; every entry comes out once, in order, FIFO_LATENCY cycles after its
write when the FIFO is idle."""

import random

import pytest
from amaranth.sim import Simulator

from vhls.backends.nn.fifo import CreditFIFO
from vhls.backends.nn.plan import FIFO_LATENCY


def _run(depth: int, p_write: float, p_ready: float, seed: int, n: int = 300) -> tuple[list[int], list[int]]:
    rng = random.Random(seed)
    dut = CreditFIFO(8, depth)
    out: list[int] = []
    delays: list[int] = []

    async def bench(ctx) -> None:
        sent, outstanding, written_at = 0, 0, {}
        for cycle in range(20 * n):
            if len(out) == n:
                return
            write = sent < n and outstanding < depth and rng.random() < p_write
            ready = rng.random() < p_ready
            ctx.set(dut.i.valid, int(write))
            ctx.set(dut.i.payload, sent % 256)
            ctx.set(dut.o.ready, int(ready))
            if ctx.get(dut.o.valid) and ready:
                out.append(ctx.get(dut.o.payload))
                delays.append(cycle - written_at[len(out) - 1])
                outstanding -= 1
            if write:
                written_at[sent] = cycle
                sent, outstanding = sent + 1, outstanding + 1
            await ctx.tick()
        raise AssertionError(f"no progress: {len(out)} of {n} entries out")

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return out, delays


@pytest.mark.parametrize("depth", [2, 3, 5, 8])
@pytest.mark.parametrize("p_write, p_ready", [(1.0, 1.0), (0.7, 0.4), (1.0, 0.2), (0.3, 0.9)])
def test_every_entry_once_in_order(depth: int, p_write: float, p_ready: float) -> None:
    out, _ = _run(depth, p_write, p_ready, seed=depth)
    assert out == [k % 256 for k in range(300)]


def test_idle_fifo_latency() -> None:
    _, delays = _run(4, 0.2, 1.0, seed=1)
    assert min(delays) == FIFO_LATENCY
