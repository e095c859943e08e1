"""The lowered primitives: same type rules and golden semantics as map/reduce; reduceTree really is a tree (so a
rewrite to it with a non-associative step would show up as a golden mismatch); buffer/fifo are identities."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from rw_support import CI, same

from vhls.ir.check import check
from vhls.ir.errors import IRError
from vhls.ir.gen import random_inputs
from vhls.ir.interp import evaluate
from vhls.ir.parser import parse
from vhls.ir.prims import PRIMITIVES
from vhls.ir.printer import print_program


def test_registered_as_lowered() -> None:
    for name in ("mapPar", "mapSeq", "reduceSeq", "reduceTree", "buffer", "fifo"):
        assert PRIMITIVES[name].lowered, name


@pytest.mark.parametrize("op", ["mapPar", "mapSeq"])
def test_maps_equal_map(op: str) -> None:
    p = parse("def f(x: [5]fixed<8,4>) = map(fun v => mul(v, v), x)")
    q = parse(f"def f(x: [5]fixed<8,4>) = {op}(fun v => mul(v, v), x)")
    xs = random_inputs(p, 7, 0)
    assert same(evaluate(p, *xs), evaluate(q, *xs))
    assert print_program(parse(print_program(q))) == print_program(q)


def _tree(vals: list[int], f) -> int:
    while len(vals) > 1:
        nxt = [f(vals[i], vals[i + 1]) for i in range(0, len(vals) - 1, 2)]
        vals = nxt + ([vals[-1]] if len(vals) % 2 else [])
    return vals[0]


@CI
@given(n=st.integers(1, 9), seed=st.integers(0, 2**31))
def test_reduce_tree_is_a_tree(n: int, seed: int) -> None:
    """With a non-associative step (a - b, saturating) the tree and the left fold differ; the golden model follows
    the tree exactly."""
    t = "fixed<8,4>"
    p = parse(f"def f(x: [{n}]{t}) = reduceTree(fun (a, b) => cast<{t}, TRN, SAT>(sub(a, b)), const<{t}>(1), x)")
    (x,) = random_inputs(p, 6, seed)
    out = evaluate(p, x)

    def f(a: int, b: int) -> int:
        return int(np.clip(a - b, -128, 127))

    want = [f(16, _tree([int(v) for v in row], f)) for row in x]
    assert out.tolist() == want


def test_reduce_tree_equals_reduce_for_max_and_wrapping_add() -> None:
    for body in ("max(a, b)", "cast<fixed<8,4>, TRN, WRAP>(add(a, b))"):
        p = parse(f"def f(x: [7]fixed<8,4>) = reduce(fun (a, b) => {body}, const<fixed<8,4>>(-8), x)")
        q = parse(f"def f(x: [7]fixed<8,4>) = reduceTree(fun (a, b) => {body}, const<fixed<8,4>>(-8), x)")
        xs = random_inputs(p, 50, 1)
        assert same(evaluate(p, *xs), evaluate(q, *xs))


def test_reduce_tree_on_tuples_and_nested_batches() -> None:
    p = parse("def f(x: [3][5](fixed<8,4>, fixed<8,4>)) = map(fun r => reduceTree(fun (a, b) => "
              "tuple(max(get<0>(a), get<0>(b)), min(get<1>(a), get<1>(b))), tuple(const<fixed<8,4>>(-8), "
              "const<fixed<8,4>>(7.9375)), r), x)")
    (x,) = random_inputs(p, 4, 3)
    hi, lo = evaluate(p, x)
    assert np.array_equal(hi, x[0].max(axis=2)) and np.array_equal(lo, x[1].min(axis=2))


def test_type_errors() -> None:
    with pytest.raises(IRError, match="elements must have the accumulator's type"):
        check(parse("def f(x: [4]fixed<8,4>) = reduceTree(fun (a, b) => a, const<fixed<9,4>>(0), x)"))
    with pytest.raises(IRError, match="depth must be at least 1"):
        check(parse("def f(x: [4]bool) = fifo<0>(x)"))
    with pytest.raises(IRError, match="fifo needs an array"):
        check(parse("def f(x: bool) = fifo<2>(x)"))


def test_buffers_are_identities() -> None:
    p = parse("def f(x: [4](bool, fixed<8,4>)) = buffer(fifo<3>(x))")
    (x,) = random_inputs(p, 3, 0)
    assert same(evaluate(p, x), x)
