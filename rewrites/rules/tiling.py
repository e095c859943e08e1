"""Tiling: split-join of map, partial sums of reduce, overlapped tiling of slide."""

from vhls.ir.terms import Const, Lam, Prim, Term, Var, free_vars, fresh
from vhls.ir.types import Array, Fixed, Type
from vhls.rewrites.core import MAPS, REDUCES, Ctx, is_prim, lam, prim
from vhls.rewrites.registry import rule


@rule("split_map", params=(("k", None),))
def split_map(t: Term, ctx: Ctx, k: int) -> Term | None:
    """map(f, xs) -> join(map(fun c => map(f, c), split<k>(xs))): k-element tiles.

    Side conditions: xs : [n]T with k dividing n, 1 <= k. The inner map keeps the original primitive (map, mapPar or
    mapSeq); the outer one is a plain map. Exact."""
    if not is_prim(t, MAPS, 2) or k < 1:
        return None
    f, xs = t.args
    xt = ctx.type_of(xs)
    if not isinstance(xt, Array) or xt.size % k:
        return None
    c = fresh("c", free_vars(t))
    tiles = prim("map", lam(c, Prim(t.op, (), (f, Var(c)))), prim("split", xs, static=(k,)))
    return prim("join", tiles)


def monoid(f: Lam, acc_t: Type, ctx: Ctx, elem_t: Type) -> tuple[str, Term] | None:
    """If the fold step is `acc (+) g(x)` for an associative, commutative (+) with an identity, return
    (op, g) where op is "add" (fixed point, wrap-around, no quantisation) or "max"/"min".

    add: the body is cast<ACC, Q, WRAP>(add(acc, g)) or its mirror, ACC fixed, g fixed with at most ACC's fraction
         bits (so Q never acts) and acc not free in g: the fold is init + sum(g) modulo 2^W, associative.
    max/min: the body is max(acc, g) / min(acc, g) (either order), with acc not free in g; ACC and g fixed point
         (f32 max/min is associative too, but NaN-free inputs are not guaranteed by types)."""
    acc, x = f.params[0].name, f.params[1].name
    body = f.body
    op = None
    if is_prim(body, "cast", 1) and len(body.static) == 3 and body.static[2] == "WRAP" \
            and is_prim(body.args[0], "add", 2) and body.static[0] == acc_t:
        op, inner = "add", body.args[0]
    elif is_prim(body, ("max", "min"), 2):
        op, inner = body.op, body
    else:
        return None
    a0, a1 = inner.args
    g = a1 if a0 == Var(acc) else a0 if a1 == Var(acc) else None
    if g is None or acc in free_vars(g) or not isinstance(acc_t, Fixed):
        return None
    gt = ctx.type_of(g, {acc: acc_t, x: elem_t})
    if not isinstance(gt, Fixed) or gt.frac > acc_t.frac:
        return None
    return op, g


@rule("quantise_terms")
def quantise_terms(t: Term, ctx: Ctx) -> Term | None:
    """reduce(fun (acc, x) => cast<ACC, Q, WRAP>(add(acc, g)), init, xs)
    -> reduce(fun (acc, x) => cast<ACC, TRN, WRAP>(add(acc, cast<G', Q, WRAP>(g))), init, xs): each term is
    quantised to the accumulator's grid before the add, which makes the step a monoid (see `monoid`).

    Side conditions: ACC and g fixed point, g with more fraction bits than ACC, acc not free in g. G' has ACC's
    fraction bits and one integer bit more than g needs (RND can round the largest g up), so it never wraps.
    Exact: acc lies on ACC's grid, so floor(acc + g) = acc + floor(g) and round-half-up likewise. Also for
    reduceSeq."""
    if not is_prim(t, REDUCES, 3):
        return None
    f, init, xs = t.args
    assert isinstance(f, Lam)
    acc_t, xt = ctx.type_of(init), ctx.type_of(xs)
    body = f.body
    if not (isinstance(acc_t, Fixed) and isinstance(xt, Array) and is_prim(body, "cast", 1)
            and len(body.static) == 3 and body.static[0] == acc_t and body.static[2] == "WRAP"
            and is_prim(body.args[0], "add", 2)):
        return None
    acc, x = f.params[0].name, f.params[1].name
    a0, a1 = body.args[0].args
    g = a1 if a0 == Var(acc) else a0 if a1 == Var(acc) else None
    if g is None or acc in free_vars(g):
        return None
    gt = ctx.type_of(g, {acc: acc_t, x: xt.elem})
    if not isinstance(gt, Fixed) or gt.frac <= acc_t.frac:
        return None
    width = max(gt.width - (gt.frac - acc_t.frac), 1) + 1
    g2 = prim("cast", g, static=(Fixed(width, width - acc_t.frac, gt.signed), body.static[1], "WRAP"))
    pair = (a0, g2) if a0 == Var(acc) else (g2, a1)
    step = prim("cast", prim("add", *pair), static=(acc_t, "TRN", "WRAP"))
    return Prim(t.op, (), (Lam(f.params, step, pos=f.pos), init, xs), pos=t.pos)


def identity_of(op: str, acc_t: Fixed) -> Const:
    raw = 0 if op == "add" else acc_t.min_raw if op == "max" else acc_t.max_raw
    return Const(acc_t, (raw,))


def combine(op: str, acc_t: Fixed, a: Term, b: Term) -> Term:
    if op == "add":
        return prim("cast", prim("add", a, b), static=(acc_t, "TRN", "WRAP"))
    return prim(op, a, b)


@rule("split_reduce", params=(("k", None),))
def split_reduce(t: Term, ctx: Ctx, k: int) -> Term | None:
    """reduce(f, init, xs) -> reduce(fun (a, p) => a (+) p, init, map(fun c => reduce(f, e, c), split<k>(xs))):
    partial results of k-element chunks, then their combination.

    Side conditions: xs : [n]T with k | n; the step f is `acc (+) g(x)` for a monoid (+) (see `monoid`: wrap-around
    fixed-point add without quantisation, or max/min), e its identity (0, the type's min for max, max for min).
    Exact only then: f32 sums, saturating or quantising steps are refused. Also for reduceSeq."""
    if not is_prim(t, REDUCES, 3) or k < 1:
        return None
    f, init, xs = t.args
    assert isinstance(f, Lam)
    xt, acc_t = ctx.type_of(xs), ctx.type_of(init)
    if not isinstance(xt, Array) or xt.size % k or not isinstance(acc_t, Fixed):
        return None
    m = monoid(f, acc_t, ctx, xt.elem)
    if m is None:
        return None
    op = m[0]
    taken = free_vars(t)
    c, a, p = fresh("c", taken), fresh("a", taken), fresh("p", taken)
    partial = Prim(t.op, (), (f, identity_of(op, acc_t), Var(c)))
    parts = prim("map", lam(c, partial), prim("split", xs, static=(k,)))
    return Prim(t.op, (), (lam((a, p), combine(op, acc_t, Var(a), Var(p))), init, parts))


@rule("tile_slide", params=(("m", None),))
def tile_slide(t: Term, ctx: Ctx, m: int) -> Term | None:
    """slide<s,t>(xs) -> join(map(fun c => slide<s,t>(c), slide<(m-1)t+s, mt>(xs))): overlapping tiles of m
    windows each (a tile holds (m-1)t+s elements; neighbouring tiles overlap by s-t).

    Side condition: m divides the number of windows (n-s)/t+1. Exact."""
    if not is_prim(t, "slide", 1) or m < 1:
        return None
    s, step = t.static
    (xs,) = t.args
    xt = ctx.type_of(xs)
    if not isinstance(xt, Array):
        return None
    windows = (xt.size - s) // step + 1
    if windows % m:
        return None
    c = fresh("c", free_vars(xs))
    tiles = prim("slide", xs, static=((m - 1) * step + s, m * step))
    return prim("join", prim("map", lam(c, prim("slide", Var(c), static=(s, step))), tiles))
