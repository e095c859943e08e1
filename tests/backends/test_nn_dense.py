"""DenseStage (backends/nn/dense.py) inside a whole design in the Amaranth simulator: the output FIFO's credits
under a consumer that stalls for long stretches. A fold issued without a free FIFO entry would be lost (CreditFIFO
drops a write beyond its depth), so every output is checked bit-exactly and none may be missing or extra. One
credit too many (a thermometer one entry longer than the FIFO) fails 5 of the 6 cases."""

import random
import sys
from pathlib import Path

import pytest
from amaranth.sim import Simulator

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nn_nets import two_layer

from vhls.backends.nn import design
from vhls.backends.nn.emit import golden, make_vectors, pack_rows


@pytest.mark.parametrize("parallel", ["2x4,2x3", "1x1,1x1", "1x8,4x1"])
@pytest.mark.parametrize("p_ready", [0.05, 0.5])
def test_credits_hold_under_a_stalling_consumer(parallel: str, p_ready: float) -> None:
    d = design(two_layer(), parallel)
    raw = make_vectors(d, 24, seed=5)
    words = [int(w, 16) for w in pack_rows(raw, d.net.in_type)]
    want = [int(w, 16) for w in pack_rows(golden(d, raw), d.net.out_type)]
    top = d.top()
    rng = random.Random(len(parallel) + int(p_ready * 100))
    got: list[int] = []

    async def bench(ctx) -> None:
        sent, away = 0, 0
        for _ in range(40_000):
            if len(got) == len(want):
                break
            # the consumer goes away now and then for up to 60 cycles, else takes with probability p_ready
            away = max(0, away - 1) if away or rng.random() > 0.03 else rng.randint(1, 60)
            ready = not away and rng.random() < p_ready
            ctx.set(top.s_axis_tvalid, int(sent < len(words)))  # inputs back to back: the credits are the limit
            ctx.set(top.s_axis_tdata, words[sent] if sent < len(words) else 0)
            ctx.set(top.s_axis_tlast, 1)
            ctx.set(top.m_axis_tready, int(ready))
            taken, o_valid, o_data = ctx.get(top.s_axis_tready), ctx.get(top.m_axis_tvalid), ctx.get(top.m_axis_tdata)
            await ctx.tick()
            if sent < len(words) and taken:
                sent += 1
            if ready and o_valid:
                got.append(o_data)
        for _ in range(200):  # nothing more may come out
            ctx.set(top.m_axis_tready, 1)
            extra = ctx.get(top.m_axis_tvalid)
            await ctx.tick()
            assert not extra, "an output beyond the vectors sent"

    sim = Simulator(top)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert got == want
