"""The pool stage (Amaranth sim) against the golden model: max and avg pooling (shift and reciprocal scaling),
a fused ReLU, strides other than the kernel size, random stalls."""

import random

import numpy as np
import pytest
from amaranth.sim import Simulator
from nn_streams import pack, run_stream, unpack

from vhls.backends.nn.pool import PoolReduce, PoolStage
from vhls.backends.nn.recognise import PoolLayer, recognise
from vhls.backends.nn.schedule import _pool_reduce, pool_latency
from vhls.layers import AvgPool2d, Dense, Flatten, Input, MaxPool2d, ReLU, Sequential

IN = "fixed<8,3>"
SHAPE = (2, 5, 5)


def _pool_layer(layers: list) -> tuple[PoolLayer, object]:
    """The recognised pool unit of Input → layers → Flatten → Dense, and the golden model of Input → layers."""
    golden = Sequential(Input(SHAPE, IN), *layers, name="pool_only")
    c, ho, wo = golden.layers[-1].out_shape
    net = recognise(Sequential(Input(SHAPE, IN), *layers, Flatten(), Dense(2, np.ones((2, c * ho * wo)) * 0.25),
                               name="with_dense").ir)
    unit = net.units[0]
    assert isinstance(unit, PoolLayer)
    return unit, golden


@pytest.mark.parametrize("layers", [
    [MaxPool2d(2)],
    [MaxPool2d(3, stride=1)],
    [AvgPool2d(2, stride=1)],  # sum then shr<2>
    [AvgPool2d(3, stride=2), ReLU()],  # sum times a rounded 1/9, then the fused ReLU
    [AvgPool2d((1, 3), precision="fixed<6,2,RND,SAT>")],  # reciprocal 1/3, narrow saturating result
], ids=["max2", "max3-stride1", "avg2-shift", "avg3-relu", "avg1x3-sat"])
def test_pool_stage_matches_golden(layers: list) -> None:
    unit, golden = _pool_layer(layers)
    win = unit.window
    t = unit.in_type
    raw = np.random.default_rng(len(unit.where)).integers(t.min_raw, t.max_raw, size=(3, *SHAPE), endpoint=True)
    raw[0] = t.min_raw  # all most negative: the initial value of max pooling must not leak
    want = np.asarray(golden.run_raw(raw))  # [N][C][Ho][Wo]
    beats = [pack(img[:, y, x], t.width) for img in raw for y in range(win.height) for x in range(win.width)]
    got = run_stream(PoolStage(unit, 1), beats, 3 * win.positions, seed=5)
    out_t = unit.out_type
    got_px = np.array([unpack(g, win.channels, out_t.width, out_t.signed) for g in got])
    np.testing.assert_array_equal(got_px, want.transpose(0, 2, 3, 1).reshape(-1, win.channels))


def test_pipelined_reduce_takes_as_the_schedule_model_says() -> None:
    """PoolReduce (a 3x3 max pool: 9 registers) under random output stalls, a window offered whenever one is free:
    every input take and output take cycle equals schedule.py's register-chain model."""
    unit, _ = _pool_layer([MaxPool2d(3, stride=1)])
    dut = PoolReduce(unit)
    assert dut.latency == pool_latency(unit.window) == 9
    rng = random.Random(7)
    ready = [rng.random() < 0.5 for _ in range(400)]
    n = 30
    takes_in: list[int] = []
    takes_out: list[int] = []

    async def bench(ctx) -> None:
        for cycle, r in enumerate(ready):
            ctx.set(dut.i.valid, int(len(takes_in) < n))
            ctx.set(dut.o.ready, int(r))
            i_take = len(takes_in) < n and ctx.get(dut.i.ready)
            o_take = r and ctx.get(dut.o.valid)
            await ctx.tick()
            if i_take:
                takes_in.append(cycle)
            if o_take:
                takes_out.append(cycle)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()

    class _Ready:  # the consumer: takes in the first cycle from `offered` whose ready is high
        def take(self, offered: float) -> float:
            t = int(offered)
            while not ready[t]:
                t += 1
            model_out.append(t)
            return t

    model_in: list[float] = []
    model_out: list[int] = []
    model = _pool_reduce(unit.window, _Ready())
    t = 0.0
    for _ in range(n):
        t = model.take(t)
        model_in.append(t)
        t += 1
    assert takes_in == model_in and takes_out == model_out[:len(takes_out)] and len(takes_out) > n // 2
