"""The beat-level timing model (schedule.py) against the line-buffer units in the Amaranth simulator: the cycle every
window is taken, for pixels (or PISO frames) arriving with gaps and consumers slower than the unit (a full input
FIFO included); the first stage's choice between a PISO + line buffer and frame banks."""

import random

import pytest
from amaranth.hdl import Fragment
from amaranth.sim import Simulator
from nn_cnn_nets import chained_cnn
from nn_nets import two_layer

from vhls.backends.nn.linebuf import LineBufferWindowUnit
from vhls.backends.nn.plan import FIFO_LATENCY, allocate, plan, predicted_latency, report
from vhls.backends.nn.recognise import Window, recognise
from vhls.backends.nn.schedule import (
    NEVER,
    SLICE_LATENCY,
    _line_buffer_cycles,
    _LineBuffer,
    _Piso,
    image_latency,
    serial_first,
    window_cycles,
)
from vhls.backends.nn.top import NNTop
from vhls.backends.nn.window import FrameWindowUnit, SerialWindowUnit


class _Busy:
    """A consumer that needs `gap` cycles after each window it takes."""

    def __init__(self, gap: int) -> None:
        self.gap, self.taken = gap, [NEVER]

    def take(self, offered: float) -> float:
        self.taken.append(max(offered, self.taken[-1] + self.gap))
        return self.taken[-1]


def _rtl(dut: LineBufferWindowUnit | SerialWindowUnit, offers: list[int], gap: int, n_out: int) -> list[int]:
    taken: list[int] = []

    async def bench(ctx) -> None:
        sent, ready_at = 0, 0
        for cycle in range(20000):
            if len(taken) >= n_out:
                return
            valid = sent < len(offers) and offers[sent] <= cycle
            ctx.set(dut.i.valid, int(valid))
            ctx.set(dut.o.ready, int(cycle >= ready_at))
            i_ready, o_valid = ctx.get(dut.i.ready), ctx.get(dut.o.valid)
            await ctx.tick()
            sent += valid and i_ready
            if o_valid and cycle >= ready_at:
                taken.append(cycle)
                ready_at = cycle + gap
        raise AssertionError("no progress")

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return taken


@pytest.mark.parametrize("geometry", [(1, 4, 5, 3, 3, 1, 1, 1, 1), (2, 6, 5, 3, 3, 2, 2, 1, 2),
                                      (1, 5, 4, 2, 2, 2, 2, 0, 0)], ids=["same-pad", "strided-pad", "pool"])
@pytest.mark.parametrize("gap", [1, 3, 9])
@pytest.mark.parametrize("decoupled", [False, True])
def test_model_predicts_every_window_take(geometry: tuple[int, ...], gap: int, decoupled: bool) -> None:
    win = Window(*geometry)
    frames = 3
    rng = random.Random(gap)
    offers, t = [], 0
    for _ in range(frames * win.pixels):
        t += rng.choice([0, 0, 1, 1, 2, 5])  # several pixels may be offered at once: they queue
        offers.append(t)
    got = _rtl(LineBufferWindowUnit(win, 4, decoupled), offers, gap, frames * win.positions)
    consumer = _Busy(gap)
    model = _LineBuffer(win, FIFO_LATENCY, consumer, decoupled)
    for o in offers:  # the model's FIFO never fills; the RTL's does with the slow consumers, to no effect
        model.take(o)
    assert got == consumer.taken[1:]


@pytest.mark.parametrize("geometry", [(1, 4, 5, 3, 3, 1, 1, 1, 1), (2, 6, 5, 3, 3, 2, 2, 1, 2),
                                      (1, 5, 4, 2, 2, 2, 2, 0, 0)], ids=["same-pad", "strided-pad", "pool"])
@pytest.mark.parametrize("gap", [1, 4, 30])
def test_model_predicts_every_window_take_behind_a_piso(geometry: tuple[int, ...], gap: int) -> None:
    """Frames (one beat each) offered together or apart, consumers from fast to one that fills the line buffer's
    FIFO and holds the PISO back: the model (PISO, then a FIFO that never fills) still gets every window's cycle."""
    win = Window(*geometry)
    offers = [0, 0, 200, 201]
    got = _rtl(SerialWindowUnit(win, 4), offers, gap, len(offers) * win.positions)
    consumer = _Busy(gap)
    model = _Piso(win.pixels, _LineBuffer(win, FIFO_LATENCY, consumer, decoupled=True))
    for o in offers:
        model.take(o)
    assert got == consumer.taken[1:]


def test_bunched_windows_bound_the_interval() -> None:
    """The strided conv's line buffer needs 90 steps per image, but its windows come two steps apart in every other
    row while its consumer takes one per 3 cycles: 100 cycles per image (measured on Icarus in
    test_line_buffers_behind_a_conv_on_icarus), which the report's II and the allocator both use."""
    net = recognise(chained_cnn().ir)
    pairs = [(4, 18), (2, 36), (1, 2)]
    stages = plan(net, pairs)
    rows = {r["name"]: r for r in report(net, stages)["stages"]}
    assert net.units[1].feed_cycles == 90 and max(s.cycles for s in stages) == 90
    assert rows["conv1"]["window_cycles"] == rows["conv1"]["initiation_interval"] == 100
    assert report(net, stages)["total"]["initiation_interval"] == 100
    assert allocate(net, 200) == pairs  # nothing within 200 multipliers does better


@pytest.mark.parametrize(("parallel", "serial"), [(None, True), (20, True), (200, True), (64, False)])
def test_first_stage_takes_a_piso_when_its_line_buffer_keeps_up(parallel: int | None, serial: bool) -> None:
    """The first conv gets a whole frame per beat: a PISO into a line buffer when the line buffer (beside its
    consumer) is within the interval of the rest of the pipeline, else frame banks; either way the interval is
    what frame banks give, and the top level builds the unit the rule picks."""
    net = recognise(chained_cnn().ir)
    stages = plan(net, parallel)
    first = net.chain[0]
    rest = max([s.cycles for s in stages] + [window_cycles(net, stages, u) for u in net.chain[1:]
                                              if u.window is not None])
    lb = _line_buffer_cycles(net, stages, first)
    assert serial_first(net, stages) == serial == (lb <= rest)
    assert lb > first.feed_cycles  # the frame banks are faster: the choice is about cost, never throughput
    r = report(net, stages)
    assert r["stages"][0]["window_cycles"] == (lb if serial else first.feed_cycles)
    assert [row["window_unit"] for row in r["stages"][:3]] == \
        ["PISO + line buffer" if serial else "frame banks", "line buffer", "line buffer"]
    assert r["total"]["initiation_interval"] == max(rest, first.feed_cycles)
    nn = NNTop(net, stages)
    top = nn.elaborate(None)
    stage0 = top.submodules["stage0"].elaborate(None)
    assert isinstance(stage0.submodules["window"], SerialWindowUnit if serial else FrameWindowUnit)
    assert not top.submodules["stage1"].serial  # pixels per beat after the first stage
    for used in (nn, top, stage0):  # elaborate the rest: nothing is left unused
        Fragment.get(used, None)


def test_dense_only_latency_is_the_sum_of_stages() -> None:
    """Stages, the register slice between them, the collector; the beat-level model agrees."""
    net = recognise(two_layer())
    stages = plan(net, 8)
    assert predicted_latency(stages, net) == sum(s.latency for s in stages) + SLICE_LATENCY + 1
    assert predicted_latency(stages, net) == image_latency(net, stages, FIFO_LATENCY)
