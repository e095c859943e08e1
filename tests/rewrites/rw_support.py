"""Shared helpers for the rewrite tests: golden comparison and targeted generators of programs containing a rule's
pattern (random types, sizes and bodies, built with ir/gen.py's type-directed term generator)."""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from vhls.ir.check import check
from vhls.ir.gen import F32_INPUT_LOG2, _Draw, _Gen
from vhls.ir.interp import evaluate
from vhls.ir.parser import parse
from vhls.ir.printer import print_program
from vhls.ir.terms import Const, Lam, Let, Param, Prim, Program, Term, Var
from vhls.ir.types import BOOL, FLOAT, Array, Fixed, Tuple, Type
from vhls.precision import dot_accumulator
from vhls.rewrites import everywhere, get, rewrite
from vhls.rewrites.registry import Rule
from vhls.rewrites.strategy import count

CI = settings(max_examples=60, deadline=None, derandomize=True,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
SLOW = settings(max_examples=250, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much])
BOUND = 30  # log2 bound on f32 values inside patterns (leaves room for sums and products around them)


def same(a: object, b: object) -> bool:
    """Bit-exact equality of interpreter values (nested tuples of arrays)."""
    if isinstance(a, tuple) or isinstance(b, tuple):
        return isinstance(a, tuple) and isinstance(b, tuple) and len(a) == len(b) and all(
            same(x, y) for x, y in zip(a, b, strict=True))
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype.kind == "f" or b.dtype.kind == "f":
        return a.dtype == b.dtype and np.array_equal(a.view(np.uint32), b.view(np.uint32))
    return bool(np.all(a.astype(object) == b.astype(object))) if a.size else True


def apply_everywhere(p: Program, r: Rule) -> tuple[Program, int]:
    counted, n = count(r)
    return rewrite(p, everywhere(counted)), n[0]


def assert_sound(p: Program, r: Rule, xs: tuple, expect_hit: bool | None = None) -> Program:
    """Apply r everywhere; the result must type-check with the same type, round-trip through the text form, and
    give the same golden outputs bit for bit."""
    q, hits = apply_everywhere(p, r)
    if expect_hit is not None:
        assert (hits > 0) == expect_hit, f"{r.name}: expected {'a' if expect_hit else 'no'} match in\n" \
                                         f"{print_program(p)}"
    check(q)
    assert parse(print_program(q)) == q
    before, after = evaluate(p, *xs), evaluate(q, *xs)
    assert same(before, after), f"{r.name} changed the golden output of\n{print_program(p)}\n->\n{print_program(q)}"
    return q


# ---------------------------------------------------------------------------------------------- targeted programs
@dataclass
class Case:
    program: Program
    expect_hit: bool | None = None
    arg: int = 0  # a rule argument that fits the case (tile_slide's m)


class Builder:
    """Random parameters, then pattern holes filled by the generator's type-directed terms."""

    def __init__(self, draw: Callable) -> None:
        self.g = _Gen(_Draw(draw), max_depth=3, max_nodes=25)
        params = tuple(Param(f"p{j}", self.g.value_type(budget=24)) for j in range(self.g.num(1, 2)))
        self.params = params
        self.env = {q.name: (q.type, F32_INPUT_LOG2) for q in params}

    def num(self, lo: int, hi: int) -> int:
        return self.g.num(lo, hi)

    def flip(self) -> bool:
        return self.g.flip()

    def pick(self, xs: tuple | list):
        return self.g.pick(xs)

    def elem(self, budget: int = 6) -> Type:
        return self.g.value_type(dims=1, budget=budget, tuples=1)

    def term(self, t: Type, env: dict | None = None, depth: int = 2, bound: int = BOUND) -> Term:
        return self.g.term(t, dict(self.env if env is None else env), depth, bound)

    def inner(self, **names: Type) -> dict:
        return {**self.env, **{k: (v, F32_INPUT_LOG2) for k, v in names.items()}}

    def fixed(self) -> Fixed:
        return self.g.fixed()

    def program(self, body: Term) -> Program:
        return Program("f", self.params, body)


def map_case(draw: Callable, ops: tuple[str, ...] = ("map",), mult: int = 1) -> Case:
    """op(fun x => B, xs) with xs of a size that is a multiple of `mult`."""
    b = Builder(draw)
    n = mult * b.num(1, 3)
    e, r = b.elem(), b.elem()
    xs = b.term(Array(n, e))
    body = b.term(r, b.inner(x=e))
    return Case(b.program(Prim(b.pick(ops), (), (Lam((Param("x"),), body), xs))), True)


def monoid_parts(b: Builder, acc: Fixed, op: str) -> Fixed:
    """The type of g in `acc (+) g(x)`: at most acc's fraction bits (add), held by acc (max/min)."""
    if op == "add":
        w, f = b.num(1, 12), acc.frac - b.num(0, 4)
        return Fixed(w, w - f, b.flip())
    return b.g.below(acc)


def reduce_case(draw: Callable, mult: int = 1) -> Case:
    """reduce(fun (acc, x) => acc (+) g(x), init, xs): monoid steps (expected to match) and some that are not
    (f32 sums, saturating casts, steps using acc twice) which the rules must refuse."""
    b = Builder(draw)
    n = mult * b.num(1, 3)
    e = b.elem()
    kind = b.num(0, 9)
    ops = b.pick(("reduce", "reduce", "reduceSeq"))
    if kind == 0:  # f32 sum: not associative
        g = b.term(FLOAT, b.inner(x=e), bound=8)
        body: Term = Prim("add", (), (Var("acc"), g))
        init = b.term(FLOAT, bound=8)
        hit = False
    else:
        acc = b.fixed()
        op = "add" if kind <= 5 else b.pick(("max", "min"))
        gt = monoid_parts(b, acc, op)
        g = b.term(gt, b.inner(x=e))
        pair = (Var("acc"), g) if b.flip() else (g, Var("acc"))
        sat = kind == 9 and op == "add"
        if op == "add":
            body = Prim("cast", (acc, b.pick(("TRN", "RND")), "SAT" if sat else "WRAP"), (Prim("add", (), pair),))
        else:
            body = Prim(op, (), pair)
        init, hit = b.term(acc), not sat
    red = Prim(ops, (), (Lam((Param("acc"), Param("x")), body), init, b.term(Array(n, e))))
    return Case(b.program(red), hit)


def quantised_step_case(draw: Callable) -> Case:
    """reduce(fun (acc, x) => cast<ACC, Q, O>(add(acc, g(x))), init, xs) with g finer than ACC (the rule applies
    when O is WRAP) or not (it must refuse)."""
    b = Builder(draw)
    e, acc = b.elem(), b.fixed()
    finer = b.flip() or b.flip()
    w = b.num(1, 12)
    f = acc.frac + (b.num(1, 5) if finer else -b.num(0, 3))
    g = b.term(Fixed(w, w - f, b.flip()), b.inner(x=e))
    pair = (Var("acc"), g) if b.flip() else (g, Var("acc"))
    o = b.pick(("WRAP", "WRAP", "SAT"))
    body = Prim("cast", (acc, b.pick(("TRN", "RND")), o), (Prim("add", (), pair),))
    red = Prim(b.pick(("reduce", "reduceSeq")), (), (Lam((Param("acc"), Param("x")), body), b.term(acc),
                                                       b.term(Array(b.num(1, 4), e))))
    return Case(b.program(red), True if o == "WRAP" and finer else None)


def dense_case(draw: Callable, narrow_weights: bool = False) -> Case:
    """A dense layer in the lowering's shape (random sizes, types, weights, zip/mul orders, literal placement).
    `narrow_weights`: let-bound weights whose values span only part of their type (often a narrower type's)."""
    b = Builder(draw)
    m, n = b.num(1, 4), b.num(1, 6)
    wt, xt, bt = (Fixed(b.num(1, 10), b.num(-2, 6), b.flip()) for _ in range(3))
    exact = dot_accumulator(wt, xt, n, bt)
    extra = b.num(0, 3)
    grow = extra + (not exact.signed)  # a signed accumulator needs one more bit to hold an unsigned range
    acc = Fixed(exact.width + grow, exact.int_bits + grow, True)
    if not acc.frac >= bt.frac:
        acc = Fixed(acc.width + bt.frac - acc.frac, acc.int_bits, True)
    rng = np.random.default_rng(b.num(0, 2**31))
    lo, hi = wt.min_raw, wt.max_raw
    if narrow_weights:
        lo, hi = lo >> b.num(0, 4), hi >> b.num(0, 4)
    wv = Const(Array(m, Array(n, wt)), tuple(int(v) for v in rng.integers(lo, hi + 1, m * n)))
    bv = Const(Array(m, bt), tuple(int(v) for v in rng.integers(bt.min_raw, bt.max_raw + 1, m)))
    x = Param("x", Array(n, xt))
    swap_zip, swap_mul = b.flip(), b.flip()
    wi = 1 if swap_zip else 0
    mul_args = (Prim("get", (wi,), (Var("q"),)), Prim("get", (1 - wi,), (Var("q"),)))
    prod = Prim("mul", (), mul_args[::-1] if swap_mul else mul_args)
    step = Prim("cast", (acc, b.pick(("TRN", "RND")), "WRAP"), (Prim("add", (), (Var("acc"), prod)),))
    row = Prim("get", (0,), (Var("wb"),))
    pair = (Var("x"), row) if swap_zip else (row, Var("x"))
    init = Prim("cast", (acc, b.pick(("TRN", "RND")), b.pick(("WRAP", "SAT"))), (Prim("get", (1,), (Var("wb"),)),))
    red = Prim("reduce", (), (Lam((Param("acc"), Param("q")), step), init, Prim("zip", (), pair)))
    if b.flip():  # wide enough for every result: narrow_result applies
        res = Fixed(exact.int_bits + 1 + b.num(0, 6), exact.int_bits + 1, True)
    else:
        res = Fixed(b.num(4, 16), b.num(0, 8), True)
    out = Prim("cast", (res, b.pick(("TRN", "RND")), b.pick(("WRAP", "SAT"))), (red,))
    let_bound = narrow_weights or b.flip()
    src = Prim("zip", (), (Var("w"), Var("b")) if let_bound else (wv, bv))
    body: Term = Prim("map", (), (Lam((Param("wb"),), out), src))
    if let_bound:
        body = Let("w", wv, Let("b", bv, body))
    if narrow_weights:
        return Case(Program("dense", (x,), body), _bits_needed(wv.values, wt.signed) < wt.width)
    return Case(Program("dense", (x,), body), extra > 0 or None)


def _bits_needed(raws: tuple[int, ...], signed: bool) -> int:
    """The fewest bits of a two's-complement (or unsigned) integer holding every value."""
    lo, hi = min(raws), max(raws)
    if not signed:
        return max(1, hi.bit_length())
    return max(hi.bit_length() if hi > 0 else 0, (-lo - 1).bit_length() if lo < 0 else 0) + 1


def shape_case(draw: Callable, rule: str) -> Case:
    """Programs built around the layout patterns (positive and near-miss variants)."""
    b = Builder(draw)
    e = b.elem(4)
    if rule == "join_split":
        k, m = b.num(1, 3), b.num(1, 3)
        return Case(b.program(Prim("join", (), (Prim("split", (k,), (b.term(Array(k * m, e)),)),))), True)
    if rule == "split_join":
        k, m = b.num(1, 3), b.num(1, 3)
        k2 = b.pick([d for d in range(1, k * m + 1) if (k * m) % d == 0])
        inner = b.term(Array(m, Array(k, e)))
        return Case(b.program(Prim("split", (k2,), (Prim("join", (), (inner,)),))), k2 == k)
    if rule == "transpose_transpose":
        t = Array(b.num(1, 3), Array(b.num(1, 3), e))
        return Case(b.program(Prim("transpose", (), (Prim("transpose", (), (b.term(t),)),))), True)
    n = b.num(1, 4)
    comps = tuple(b.elem(3) for _ in range(b.num(2, 3)))
    arrays = tuple(b.term(Array(n, c)) for c in comps)
    if rule == "unzip_zip":
        return Case(b.program(Prim("unzip", (), (Prim("zip", (), arrays),))), True)
    if rule == "zip_unzip":
        z = b.term(Array(n, Tuple(comps)))
        k = len(comps)
        args = tuple(Prim("get", (i,), (Prim("unzip", (), (z,)),)) for i in range(k))
        return Case(b.program(Prim("zip", (), args)), True)
    if rule == "get_tuple":
        parts = tuple(b.term(c) for c in comps)
        return Case(b.program(Prim("get", (b.num(0, len(parts) - 1),), (Prim("tuple", (), parts),))), True)
    if rule == "map_get_zip":
        i = b.num(0, len(arrays) - 1)
        f = Lam((Param("p"),), Prim("get", (i,), (Var("p"),)))
        return Case(b.program(Prim(b.pick(("map", "mapPar")), (), (f, Prim("zip", (), arrays)))), True)
    if rule == "map_id":
        return Case(b.program(Prim(b.pick(("map", "mapSeq")), (), (Lam((Param("x"),), Var("x")), arrays[0]))), True)
    raise AssertionError(rule)


def fusion_case(draw: Callable) -> Case:
    """map(fun y => B, map(fun x => A, xs)), B sometimes using y several times or an outer x."""
    b = Builder(draw)
    n = b.num(1, 4)
    e, mid, r = b.elem(), b.elem(), b.elem()
    xs = b.term(Array(n, e))
    a = b.term(mid, b.inner(x=e))
    names = {"y": mid}
    if b.flip():
        names["x"] = b.elem(2)  # an outer name `x` in B: fusion must rename the parameter
    body = b.term(r, b.inner(**names))
    if "x" in names:
        body = Let("x", b.term(names["x"]), body)
    inner = Prim("map", (), (Lam((Param("x"),), a), xs))
    return Case(b.program(Prim("map", (), (Lam((Param("y"),), body), inner))), True)


def fission_case(draw: Callable) -> Case:
    """map(fun x => let y = A in B, xs) with x not free in B (B may use an outer name x)."""
    b = Builder(draw)
    n = b.num(1, 4)
    e, mid, r = b.elem(), b.elem(), b.elem()
    a = b.term(mid, b.inner(x=e))
    body = b.term(r, b.inner(y=mid))
    inner: Term = Prim("map", (), (Lam((Param("x"),), Let("y", a, body)), b.term(Array(n, e))))
    return Case(b.program(inner), True)


def slide_case(draw: Callable) -> Case:
    b = Builder(draw)
    m, tiles = b.num(1, 3), b.num(1, 2)
    s, step = b.num(1, 3), b.num(1, 3)
    windows = m * tiles
    n = (windows - 1) * step + s + b.num(0, step - 1)
    e = b.elem(3)
    sl = Prim("slide", (s, step), (b.term(Array(n, e)),))
    body: Term = sl
    if b.flip():  # a stencil: a function of each window
        body = Prim("map", (), (Lam((Param("w"),), b.term(b.elem(3), b.inner(w=Array(s, e)))), sl))
    return Case(b.program(body), True, m)


def let_case(draw: Callable, wrap: str | None = None, array: bool = False) -> Case:
    """let h = V in B (V computed); optionally V already wrapped in buffer/fifo."""
    b = Builder(draw)
    n = b.num(1, 4)
    vt = Array(n, b.elem()) if array or wrap == "fifo" or b.flip() else b.elem()
    v = b.term(vt)
    if not isinstance(v, Prim) and isinstance(vt, Array):
        v = Prim("map", (), (Lam((Param("e"),), Var("e")), v))
    elif not isinstance(v, Prim):
        v = Prim("tuple", (), (v, Const(BOOL, (True,))))
        vt = Tuple((vt, BOOL))
    if wrap == "fifo":
        v = Prim("fifo", (b.num(1, 4),), (v,))
    elif wrap == "buffer":
        v = Prim("buffer", (), (v,))
    body = b.term(b.elem(), b.inner(h=vt))
    return Case(b.program(Let("h", v, body)), True)


def rule_for(name: str, draw: Callable) -> tuple[Case, Rule]:
    """A targeted case for rule `name` and the rule bound to arguments fitting the case."""
    if name in ("split_map",):
        k = draw(st.integers(1, 4))
        return map_case(draw, ("map", "mapPar", "mapSeq"), k), get(name, k)
    if name == "map_fission" and draw(st.booleans()):
        return fission_case(draw), get(name)
    if name in ("map_par", "map_seq", "map_fission"):
        c = map_case(draw, ("map",))
        c.expect_hit = None if name == "map_fission" else True  # fission needs a body of a particular form
        return c, get(name)
    if name == "split_reduce":
        k = draw(st.integers(1, 3))
        return reduce_case(draw, k), get(name, k)
    if name == "quantise_terms":
        return quantised_step_case(draw), get(name)
    if name in ("reduce_tree", "reduce_seq"):
        c = reduce_case(draw)
        if name == "reduce_seq":
            c.expect_hit = True if c.program.body.op == "reduce" else None  # type: ignore[attr-defined]
        return c, get(name)
    if name in ("narrow_acc", "narrow_result"):
        c = dense_case(draw)
        if name == "narrow_result":
            c.expect_hit = None
        return c, get(name)
    if name == "narrow_weights":
        return dense_case(draw, narrow_weights=True), get(name)
    if name == "map_fusion":
        return fusion_case(draw), get(name)
    if name == "tile_slide":
        c = slide_case(draw)
        return c, get(name, c.arg)
    if name in ("insert_fifo", "insert_buffer"):
        fifo = name == "insert_fifo"
        return let_case(draw, array=fifo), get(name, *((draw(st.integers(1, 8)),) if fifo else ()))
    if name == "remove_buffer":
        return let_case(draw, draw(st.sampled_from(("fifo", "buffer")))), get(name)
    return shape_case(draw, name), get(name)


def text_case(rule: str, args: tuple[int, ...], before: str, after: str) -> None:
    """Before/after text test of one rule applied everywhere (see the test_rules_*.py files)."""
    from vhls.ir.gen import random_inputs
    from vhls.rewrites.registry import known

    p = parse(before)
    assert print_program(p) == before  # the before text is canonical
    q = rewrite(p, everywhere(get(rule, *args)))
    assert print_program(q) == after
    assert parse(after) == q  # round trip of the rewritten program
    if known()[rule].exact:
        for seed in range(3):
            xs = random_inputs(p, 5, seed)
            assert same(evaluate(p, *xs), evaluate(q, *xs))
