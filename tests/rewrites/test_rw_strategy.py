"""Strategies: the ELEVATE-style combinators, scope tracking into lambdas and lets, and the type-preservation
check every registered rule goes through."""

import pytest

from vhls.ir.parser import parse, parse_term
from vhls.ir.printer import print_program, print_term
from vhls.ir.terms import Prim, Term, Var
from vhls.ir.types import Array, fixed
from vhls.rewrites import (
    Ctx,
    RewriteError,
    all_,
    apply,
    at,
    bottomup,
    everywhere,
    get,
    lchoice,
    normalize,
    one,
    repeat,
    rewrite,
    seq,
    topdown,
    try_,
)
from vhls.rewrites.core import Binding, const_rows, positions
from vhls.rewrites.registry import Rule, RuleInfo
from vhls.rewrites.strategy import count, fail, identity

X = Ctx({"x": Binding("param", Array(4, fixed(8, 4))), "y": Binding("param", fixed(8, 4))})


def rename(old: str, new: str):
    def s(t: Term, ctx: Ctx) -> Term | None:
        return Var(new) if t == Var(old) else None

    return s


def run(s, text: str) -> str | None:
    r = s(parse_term(text), X)
    return None if r is None else print_term(r)


def test_basic_combinators() -> None:
    assert run(seq(rename("x", "y"), rename("y", "z")), "x") == "z"
    assert run(seq(rename("x", "y"), rename("x", "z")), "x") is None
    assert run(lchoice(rename("y", "a"), rename("x", "b")), "x") == "b"
    assert run(try_(rename("y", "a")), "x") == "x"
    assert run(identity, "x") == "x" and run(fail, "x") is None


def test_repeat_is_bounded() -> None:
    def grow(t: Term, ctx: Ctx) -> Term | None:
        return Prim("neg", (), (t,))

    out = repeat(grow, 3)(Var("y"), X)
    assert print_term(out) == "neg(neg(neg(y)))"
    assert run(repeat(rename("x", "y"), 10), "x") == "y"  # stops when the strategy no longer applies


def test_traversals_order() -> None:
    text = "add(x1, add(x1, x1))"
    ctx = Ctx({"x1": Binding("param", fixed(8, 4))})
    first = rename("x1", "z")
    seen: list[str] = []

    def mark(t: Term, c: Ctx) -> Term | None:
        seen.append(print_term(t))
        return None

    assert print_term(topdown(first)(parse_term(text), ctx)) == "add(z, add(x1, x1))"
    assert print_term(bottomup(first)(parse_term(text), ctx)) == "add(z, add(x1, x1))"
    assert print_term(everywhere(first)(parse_term(text), ctx)) == "add(z, add(z, z))"
    assert all_(first)(parse_term(text), ctx) is None  # the second child is not x1
    assert print_term(one(first)(parse_term(text), ctx)) == "add(z, add(x1, x1))"
    assert print_term(at([1, 1], first)(parse_term(text), ctx)) == "add(x1, add(x1, z))"
    assert at([5], first)(parse_term(text), ctx) is None
    everywhere(mark)(parse_term(text), ctx)
    assert seen == ["x1", "x1", "x1", "add(x1, x1)", text]  # children first


def test_everywhere_terminates_on_self_reproducing_rules() -> None:
    """split_map's result contains a map that split_map matches again; everywhere does not revisit it."""
    p = parse("def f(x: [4][4]fixed<8,4>) = map(fun r => map(fun v => neg(v), r), x)")
    q = rewrite(p, everywhere(get("split_map", 2)))
    assert print_program(q).count("split<2>") == 2


def test_normalize_and_count() -> None:
    p = parse("def f(x: [2][3]bool) = transpose(transpose(split<3>(join(transpose(transpose(x))))))")
    s, n = count(lchoice(get("transpose_transpose"), get("split_join")))
    q = rewrite(p, normalize(s))
    assert print_program(q) == "def f(x: [2][3]bool) =\n  x\n" and n[0] == 3


def test_scope_reaches_lambda_bodies() -> None:
    """Rules inside lambdas see parameter types and what the parameter ranges over (here: literal rows)."""
    p = parse("def f(x: [2]fixed<8,4>) = let w = const<[3][2]fixed<4,2>>([[1, 0.5], [0, 0], [-1, 1]]) in "
              "map(fun r => reduce(fun (a, q) => max(a, get<0>(q)), const<fixed<4,2>>(0), zip(r, x)), w)")
    found = {}
    from vhls.ir.check import check

    q, _ = check(p)
    for _, t, ctx in positions(q.body, Ctx.of_program(q)):
        if t == Var("r") and "r" in ctx.env:
            found["type"] = ctx.env["r"].type
            found["rows"] = const_rows(t, ctx)
    assert found["type"] == Array(2, fixed(4, 2))
    assert [list(r) for r in found["rows"]] == [[4, 2], [0, 0], [-4, 4]]


def test_shadowing_is_respected() -> None:
    """An inner binding of the same name hides the literal: no rows are known for it."""
    p = parse("def f(x: [2][2]fixed<8,4>) = let w = const<[2][2]fixed<4,2>>([[1, 0.5], [0, 0]]) in "
              "map(fun w => map(fun v => neg(v), w), x)")
    from vhls.ir.check import check

    q, _ = check(p)
    inner = [(t, c) for _, t, c in positions(q.body, Ctx.of_program(q)) if t == Var("w") and c.env["w"].kind != "let"]
    assert inner and all(const_rows(t, c) is None for t, c in inner)


def test_rules_cannot_change_types() -> None:
    def bad(t: Term, ctx: Ctx) -> Term | None:
        return Prim("neg", (), (t,)) if t == Var("y") else None

    r = Rule(RuleInfo("bad", bad, "y -> neg(y)", True))
    with pytest.raises(RewriteError, match="changed a type"):
        r(Var("y"), X)
    p = parse("def f(y: fixed<8,4>) = add(y, y)")
    with pytest.raises(RewriteError):
        apply(p, everywhere(r))


def test_apply_reports_failure() -> None:
    p = parse("def f(y: fixed<8,4>) = add(y, y)")
    assert apply(p, get("map_par")) is None
    assert rewrite(p, get("map_par")) is p


def test_rule_arguments() -> None:
    from vhls.ir.errors import VhlsError

    with pytest.raises(VhlsError, match="needs its argument `k`"):
        get("split_map")
    with pytest.raises(VhlsError, match="takes 1 argument"):
        get("split_map", 1, 2)
    with pytest.raises(VhlsError, match=r"unknown rule `tile`; known rules: .*split_map"):
        get("tile")
    assert get("insert_fifo").args == (2,)
