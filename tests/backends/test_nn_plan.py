"""Parallelism choices (PE × SIMD), their errors, and the report's predictions."""

import pytest
from nn_nets import two_layer

from vhls.backends.nn import allocate, parse_parallel, plan, recognise, report
from vhls.backends.nn.schedule import SLICE_LATENCY
from vhls.ir.errors import VhlsError


def test_fully_sequential_default() -> None:
    net = recognise(two_layer())
    stages = plan(net)
    assert [(s.pe, s.simd) for s in stages] == [(1, 1), (1, 1)]
    rep = report(net, stages)
    assert rep["total"]["predicted_cycles_per_inference"] == 48  # 8 x 6, the slower layer
    assert rep["total"]["macs"] == 72 and rep["total"]["multipliers"] == 2


def test_explicit_pairs_must_divide_sizes() -> None:
    net = recognise(two_layer())  # 8 -> 6 -> 4
    with pytest.raises(VhlsError, match=r"dense0: PE=4 must divide the 6 outputs \(choose from \[1, 2, 3, 6\]\)"):
        plan(net, [(4, 1), (1, 1)])
    with pytest.raises(VhlsError, match=r"dense1: SIMD=4 must divide the 6 inputs"):
        plan(net, [(1, 1), (1, 4)])
    with pytest.raises(VhlsError, match="2 layer"):
        plan(net, [(1, 1)])


def test_budget_balances_stages() -> None:
    net = recognise(two_layer())  # 48 and 24 MACs
    pairs = allocate(net, 6)
    stages = plan(net, 6)
    assert [(s.pe, s.simd) for s in stages] == pairs
    tot = report(net, stages)["total"]
    assert tot["multipliers"] <= 6
    assert tot["initiation_interval"] == 12  # 48/4 and 24/2: balanced, full utilisation
    assert tot["utilisation"] == 1.0
    with pytest.raises(VhlsError, match="below one multiplier per layer"):
        allocate(net, 1)


def test_parse_parallel() -> None:
    assert parse_parallel("64") == 64
    assert parse_parallel("seq") is None
    assert parse_parallel("4x2, 8x1") == [(4, 2), (8, 1)]
    with pytest.raises(VhlsError, match="bad --parallel"):
        parse_parallel("4by2")


def test_report_fields() -> None:
    net = recognise(two_layer())
    rep = report(net, plan(net, "2x4,2x3"))
    s0 = rep["stages"][0]
    assert s0["operand_widths"] == [6, 8] and s0["product_width"] == 14
    assert s0["cycles"] == 3 * 2 and rep["stages"][1]["cycles"] == 2 * 2
    tot = rep["total"]
    assert tot["bound_macs_per_multiplier"] == pytest.approx(72 / 14)
    assert tot["latency"] == sum(s["latency"] for s in rep["stages"]) + SLICE_LATENCY + 1  # slice, collector


def test_input_buffers_use_memory_when_chunk_and_simd_divide() -> None:
    net = recognise(two_layer())  # 8 -> 6 -> 4
    rep = report(net, plan(net, "2x4,2x3"))  # chunks: 8 (the whole input vector), then PE 2
    assert [s["input_buffer"] for s in rep["stages"]] == ["memory", "registers"]  # 8 % 4 == 0; 2 vs 3
    s0, s1 = plan(net, "2x4,2x3")
    assert (s0.chunk, s1.chunk) == (8, 2)
    assert s0.latency - s1.latency == (s0.cycles - s1.cycles) + 1 + (s0.pipeline_depth - s1.pipeline_depth)
