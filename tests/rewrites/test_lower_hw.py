"""Hardware lowering (rewrites/lower_hw.py): for random (PE, SIMD) plans the lowered program equals the source on
the golden model bit for bit, round-trips through the text form, and gives its plan back from its tilings."""

import sys
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rw_support import CI, same

from vhls.backends.nn import design
from vhls.ir.errors import VhlsError
from vhls.ir.gen import random_inputs
from vhls.ir.interp import evaluate
from vhls.ir.parser import parse
from vhls.ir.printer import print_program
from vhls.ir.terms import Program
from vhls.loader import load
from vhls.rewrites.lower_hw import lower, read_plan

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "backends"))
from nn_nets import kernel_style_model, narrow_acc, two_layer  # noqa: E402


@cache
def _program(name: str) -> Program:
    if name in ("jet_mlp", "digits_mlp", "digits_cnn"):
        return load(REPO / "examples" / f"{name}.py").ir
    return {"two_layer": two_layer, "narrow_acc": narrow_acc, "vecmat": lambda: kernel_style_model().ir}[name]()


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def _plan(prog: Program, draw) -> list[tuple[int, int]]:
    try:
        stages = design(prog).stages
    except VhlsError as e:  # convolution hardware not in the backend yet
        pytest.skip(str(e))
    return [(draw(st.sampled_from(_divisors(s.layer.n_out))), draw(st.sampled_from(_divisors(s.layer.n_in))))
            for s in stages]


def _assert_lowered(prog: Program, pairs: list[tuple[int, int]], n_inputs: int, seed: int) -> Program:
    low = lower(prog, pairs, [2 + i for i in range(len(pairs))])
    text = print_program(low)
    assert parse(text) == low and print_program(parse(text)) == text
    assert read_plan(low) == pairs
    assert read_plan(prog) == []  # the source has no tilings
    for op in ("mapPar(", "mapSeq(", "reduceSeq(", "reduceTree(", "split<"):
        assert op in text
    xs = random_inputs(prog, n_inputs, seed)
    assert same(evaluate(prog, *xs), evaluate(low, *xs))
    return low


@pytest.mark.parametrize("name", ["two_layer", "narrow_acc", "vecmat"])
@CI
@given(data=st.data())
def test_random_plans_small_nets(name: str, data: st.DataObject) -> None:
    prog = _program(name)
    _assert_lowered(prog, _plan(prog, data.draw), 40, data.draw(st.integers(0, 2**31)))


@pytest.mark.parametrize("name", ["jet_mlp", "digits_mlp", "digits_cnn"])
@settings(max_examples=4, deadline=None)
@given(data=st.data())
def test_random_plans_examples(name: str, data: st.DataObject) -> None:
    prog = _program(name)
    _assert_lowered(prog, _plan(prog, data.draw), 8, data.draw(st.integers(0, 2**31)))


def test_shape_of_a_stage() -> None:
    """Neurons: join(mapSeq over folds of mapPar over PE); synapses: reduceSeq over mapSeq folds of a SIMD-wide
    reduceTree; the ReLU let is tiled by its producer's PE and carries the FIFO and the next stage's buffer."""
    low = print_program(lower(two_layer(), [(3, 2), (2, 6)], [5, 4]))
    assert "split<3>(zip(w1," in low and "split<2>(zip(get<0>(wb), x))" in low and "split<6>(zip(r, get<0>(wb)))" in low
    assert "let r = buffer(\n      fifo<5>(join(mapSeq(fun c => mapPar(fun v => max(" in low
    assert "split<3>(h)" in low


def test_products_finer_than_the_accumulator_are_quantised_first() -> None:
    low = print_program(lower(narrow_acc(), [(1, 2), (3, 3)]))
    assert "RND, WRAP>(mul(" in low  # the step's RND moved onto each product (quantise_terms)


def test_design_lowered_matches_the_plan() -> None:
    d = design(_program("jet_mlp"), 68)
    assert read_plan(d.lowered()) == [(s.pe, s.simd) for s in d.stages]
    assert f"fifo<{d.stages[0].fifo_depth}>" in print_program(d.lowered())


def test_bad_plans_are_refused() -> None:
    with pytest.raises(VhlsError, match="has 2 stage"):
        lower(two_layer(), [(1, 1)])
    with pytest.raises(VhlsError, match="PE=4, SIMD=1"):
        lower(two_layer(), [(4, 1), (1, 1)])  # 4 does not divide 6 outputs


def test_lowered_equals_source_on_edge_inputs() -> None:
    prog = two_layer()
    x = np.array([[-128] * 8, [127] * 8, [0] * 8, [-128, 127] * 4], dtype=np.int64)
    assert same(evaluate(prog, x), evaluate(lower(prog, [(6, 8), (4, 6)]), x))
