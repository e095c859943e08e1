"""Precision rules: accumulator narrowing from exact value ranges (exact), weight quantisation and power-of-two
weights (approximations with stated, tested error bounds)."""

from dataclasses import dataclass

import numpy as np

from vhls.ir import numerics as fx
from vhls.ir.errors import IRError
from vhls.ir.terms import Const, Lam, Let, Prim, Term, Var
from vhls.ir.types import Array, Fixed, Type, scalar_of
from vhls.rewrites.core import REDUCES, Ctx, fits, is_prim, paired_rows, prim
from vhls.rewrites.registry import rule


# ---------------------------------------------------------------------------------------------- dot products
@dataclass(frozen=True)
class Dot:
    """A recognised dot product `reduce(fun (acc, q) => cast<ACC,Q,WRAP>(add(acc, mul(get<i>(q), get<j>(q)))),
    init, zip(A0, A1))`: which zip component holds the weights, the input element type, the product type."""

    red: Prim
    acc: Fixed
    w: Term  # the weight operand (an array term)
    x_type: Fixed  # element type of the other operand
    prod: Fixed


def match_dot(red: Term, ctx: Ctx) -> Dot | None:
    if not is_prim(red, REDUCES, 3):
        return None
    f, _, xs = red.args
    assert isinstance(f, Lam)
    acc, q = (p.name for p in f.params)
    body = f.body
    if not (is_prim(body, "cast", 1) and len(body.static) == 3 and body.static[2] == "WRAP"
            and is_prim(body.args[0], "add", 2) and is_prim(xs, "zip", 2)):
        return None
    a0, a1 = body.args[0].args
    m = a1 if a0 == Var(acc) else a0 if a1 == Var(acc) else None
    if not is_prim(m, "mul", 2):
        return None
    idx = []
    for g in m.args:
        if not (is_prim(g, "get", 1) and g.args[0] == Var(q)):
            return None
        idx.append(g.static[0])
    if sorted(idx) != [0, 1]:
        return None
    acc_t = body.static[0]
    ut, vt = ctx.type_of(xs.args[0]), ctx.type_of(xs.args[1])
    if not (isinstance(acc_t, Fixed) and isinstance(ut, Array) and isinstance(vt, Array)
            and isinstance(ut.elem, Fixed) and isinstance(vt.elem, Fixed)):
        return None
    prod = fx.mul_type(ut.elem, vt.elem)
    if prod.frac > acc_t.frac:  # each step would quantise: not a plain sum
        return None
    return Dot(red, acc_t, xs.args[0], vt.elem, prod)  # weights first; swapped below if they are second


def _aligned(raw: np.ndarray | int, frac: int, to: int) -> np.ndarray | int:
    return raw * (1 << (to - frac))  # Python ints: exact at any width


def dot_range(dot: Dot, ctx: Ctx) -> tuple[int, int] | None:
    """The exact range [lo, hi] (raw, in ACC's fraction bits) of init + sum_i w_i x_i over every weight row the term
    can take and every input in the input type's range; None when the weights or the bias are not literals."""
    _, init, xs = dot.red.args
    for w_term, x_term in ((xs.args[0], xs.args[1]), (xs.args[1], xs.args[0])):
        xt = ctx.type_of(x_term)
        wt = ctx.type_of(w_term)
        assert isinstance(xt, Array) and isinstance(wt, Array)
        if is_prim(init, "cast", 1) and len(init.static) == 3:
            b_term = init.args[0]
        elif isinstance(init, Const):
            b_term = init
        else:
            return None
        bt = ctx.type_of(b_term)
        if not isinstance(bt, Fixed) or bt.frac > dot.acc.frac:
            return None
        rows = paired_rows(w_term, b_term, ctx)
        if rows is None:
            continue
        xe, we = xt.elem, wt.elem
        assert isinstance(xe, Fixed) and isinstance(we, Fixed)
        lo_all, hi_all = None, None
        shift_p, shift_b = dot.acc.frac - (we.frac + xe.frac), dot.acc.frac - bt.frac
        for w, b in rows:
            ws = [int(v) for v in np.asarray(w).reshape(-1)]
            b = int(np.asarray(b).reshape(-1)[0])
            lo = sum(min(v * xe.min_raw, v * xe.max_raw) for v in ws) << shift_p
            hi = sum(max(v * xe.min_raw, v * xe.max_raw) for v in ws) << shift_p
            lo, hi = lo + (b << shift_b), hi + (b << shift_b)
            lo_all = lo if lo_all is None else min(lo_all, lo)
            hi_all = hi if hi_all is None else max(hi_all, hi)
        assert lo_all is not None and hi_all is not None
        return lo_all, hi_all
    return None


def minimal_type(lo: int, hi: int, like: Fixed) -> Fixed | None:
    """The narrowest type with like's fraction bits and signedness holding raw values lo..hi."""
    if not like.signed and lo < 0:
        return None
    w = 1
    while True:
        t = Fixed(w, w - like.frac, like.signed)
        if t.min_raw <= lo and hi <= t.max_raw:
            return t
        w += 1
        if w > like.width:
            return None


def _retype_acc(red: Prim, old: Fixed, new: Fixed) -> Prim:
    f, init, xs = red.args
    assert isinstance(f, Lam)
    body = f.body
    assert isinstance(body, Prim)
    step = Prim("cast", (new, *body.static[1:]), body.args)
    if is_prim(init, "cast", 1):
        init2: Term = Prim("cast", (new, *init.static[1:]), init.args)
    else:
        init2 = prim("cast", init, static=(new, "TRN", "WRAP"))  # a literal of the old type: exact (it fits)
    return Prim(red.op, (), (Lam(f.params, step), init2, xs))


@rule("narrow_acc", theme="precision")
def narrow_acc(t: Term, ctx: Ctx) -> Term | None:
    """cast<R,Q,O>(reduce(DOT, init, zip(W, X))) -> the same with the accumulator type ACC replaced by the narrowest
    ACC' (same fraction bits and signedness) that holds init + sum_i W_i X_i for every weight row W can take and
    every X in its type's range, where DOT = fun (acc, q) => cast<ACC,Q,WRAP>(add(acc, mul(get<i>(q), get<j>(q)))).

    Side conditions: W (either zip operand) and the bias (init = cast<ACC,..>(B) or a literal) are literals, a
    let-bound literal, or a map parameter ranging over the rows of (a zip of) literals; every product has at most
    ACC's fraction bits (steps never quantise); the range fits ACC and ACC' is strictly narrower. Exact: no value
    ever leaves ACC', modular (WRAP) steps give the true sum, and the final cast sees the same value."""
    if not (is_prim(t, "cast", 1) and is_prim(t.args[0], REDUCES, 3)):
        return None
    dot = match_dot(t.args[0], ctx)
    if dot is None:
        return None
    r = dot_range(dot, ctx)
    if r is None:
        return None
    new = minimal_type(*r, dot.acc)
    if new is None or new.width >= dot.acc.width:
        return None
    return Prim(t.op, t.static, (_retype_acc(dot.red, dot.acc, new),), pos=t.pos)


@rule("narrow_result", theme="precision")
def narrow_result(t: Term, ctx: Ctx) -> Term | None:
    """cast<R,Q,O>(reduce(DOT, init, zip(W, X))) -> cast<R,TRN,WRAP>(cast<R',Q,O>(reduce(...))) where R' is the
    narrowest type with R's fraction bits and signedness holding the quantised range of the dot product (the same
    exact range analysis as narrow_acc: literal weights and bias, inputs over their type's range).

    Side conditions: those of narrow_acc, plus the quantised range fits R (the original cast never overflows, so O
    never acts) and R' is strictly narrower than R. Exact: the value is the same; the outer cast only re-widens
    (sign extension in hardware)."""
    if not (is_prim(t, "cast", 1) and len(t.static) == 3 and is_prim(t.args[0], REDUCES, 3)):
        return None
    res, q, _ = t.static
    if not isinstance(res, Fixed):
        return None
    dot = match_dot(t.args[0], ctx)
    r = None if dot is None else dot_range(dot, ctx)
    if dot is None or r is None:
        return None
    shift = dot.acc.frac - res.frac
    lo, hi = (int(v) for v in (fx.quantise(np.array(r, dtype=object), shift, q) if shift > 0
                              else np.array(r, dtype=object) * (1 << -shift)))
    if not fits(lo, hi, res):
        return None
    new = minimal_type(lo, hi, res)
    if new is None or new.width >= res.width:
        return None
    return prim("cast", Prim("cast", (new, *t.static[1:]), t.args), static=(res, "TRN", "WRAP"))


# ---------------------------------------------------------------------------------------------- weights
def _weight_literal(t: Term) -> tuple[Let, Const, Fixed] | None:
    """let w = const<[m][n]..fixed<W,I>>(..) in body: a let-bound literal of rank >= 2 (weights, not biases)."""
    if not isinstance(t, Let) or not isinstance(t.value, Const):
        return None
    c = t.value
    s = scalar_of(c.type)
    if not isinstance(s, Fixed) or not isinstance(c.type, Array) or not isinstance(c.type.elem, Array):
        return None
    return t, c, s


def _same_type_or_none(t: Term, new: Term, ctx: Ctx) -> Term | None:
    try:
        return new if ctx.type_of(new) == ctx.type_of(t) else None
    except IRError:  # the body relies on the old element type (e.g. as an accumulator): not a weight use
        return None


def _retype(c: Const, elem: Fixed, raws: np.ndarray) -> Const:
    def go(t: Type) -> Type:
        return Array(t.size, go(t.elem)) if isinstance(t, Array) else elem

    return Const(go(c.type), tuple(int(v) for v in raws.reshape(-1)))


@rule("narrow_weights", theme="precision")
def narrow_weights(t: Term, ctx: Ctx) -> Term | None:
    """let w = const<[..][..]fixed<W,I>>(V) in b -> let w = const<[..][..]T>(V) in b, T the narrowest type with the
    same fraction bits and signedness that holds every value of V (FINN's weight bit-width minimisation).

    Pattern: a let-bound fixed-point literal of rank >= 2 (weights; rank-1 biases are left alone). Side conditions:
    T is strictly narrower, and the body still type-checks with the same type (the literal is only used where a
    narrower type is accepted, as in an exact product). Exact: every value is unchanged."""
    m = _weight_literal(t)
    if m is None:
        return None
    let, c, s = m
    raw = c.array().reshape(-1)
    if not raw.size:
        return None
    nt = minimal_type(int(min(raw)), int(max(raw)), s)
    if nt is None or nt.width >= s.width:
        return None
    return _same_type_or_none(t, Let(let.name, _retype(c, nt, raw), let.body, pos=let.pos), ctx)


def quantise_values(raw: np.ndarray, s: Fixed, k: int) -> tuple[Fixed, np.ndarray]:
    """Round raw values of `s` to k bits: the most fraction bits F' <= F such that every value rounded half up to
    F' fraction bits fits fixed<k, k-F'> (no saturation). Returns the new type and raw values."""
    raw = np.asarray(raw, dtype=object)
    for f2 in range(s.frac, s.frac - k - s.width - 2, -1):
        t = Fixed(k, k - f2, s.signed)
        q = np.array([fx.quantise(np.array(int(v), dtype=object), s.frac - f2, "RND") for v in raw.reshape(-1)],
                     dtype=object).reshape(raw.shape) if raw.size else raw
        if all(t.min_raw <= int(v) <= t.max_raw for v in q.reshape(-1)):
            return t, q
    raise AssertionError("unreachable: enough integer bits always fit")


@rule("quantise_weights", exact=False, params=(("k", None),), theme="precision",
      bound="every weight moves by at most half an LSB of its new type, 2^-(F'+1) (F' the new fraction bits), so a "
            "dot product sum_i w_i x_i moves by at most 2^-(F'+1) * sum_i |x_i|")
def quantise_weights(t: Term, ctx: Ctx, k: int) -> Term | None:
    """let w = const<[..][..]fixed<W,I>>(V) in b -> let w = const<[..][..]fixed<k,I'>>(round(V)) in b.

    Pattern: a let-bound fixed-point literal of rank >= 2 (weights; rank-1 biases are left alone), k < W.
    Replacement: values rounded half up to F' = k - I' fraction bits, I' the fewest integer bits (with F' <= F) that
    hold every rounded value, so nothing saturates. Side condition: the body still type-checks with the same type
    (the literal is only used where a narrower type is accepted, as in a product). Approximate; see `bound`."""
    m = _weight_literal(t)
    if m is None or k < 1:
        return None
    let, c, s = m
    if k >= s.width:
        return None
    nt, q = quantise_values(c.array(), s, k)
    return _same_type_or_none(t, Let(let.name, _retype(c, nt, q), let.body, pos=let.pos), ctx)


def pow2_values(raw: np.ndarray, s: Fixed) -> np.ndarray:
    """Each raw value to the nearest (linear distance, ties to the smaller) signed power of two representable in
    s; zero stays zero."""
    out = []
    for v in np.asarray(raw, dtype=object).reshape(-1):
        v = int(v)
        if v == 0:
            out.append(0)
            continue
        a = abs(v)
        lo = 1 << (a.bit_length() - 1)
        hi = lo << 1
        fits_hi = hi <= s.max_raw if v > 0 else -hi >= s.min_raw
        p = hi if fits_hi and a - lo > hi - a else lo
        out.append(p if v > 0 else -p)
    return np.array(out, dtype=object).reshape(np.shape(raw))


@rule("pow2_weights", exact=False, theme="precision",
      bound="every weight w becomes a signed power of two w' with |w' - w| <= |w|/3 (|w|/2 where the upper power of "
            "two does not fit the type), so a dot product moves by at most sum_i |w_i - w'_i| |x_i| <= "
            "(1/2) sum_i |w_i x_i|")
def pow2_weights(t: Term, ctx: Ctx) -> Term | None:
    """let w = const<[..][..]fixed<W,I>>(V) in b -> the same literal with every value rounded to the nearest signed
    power of two (zero stays zero), so each multiplication becomes a shift (log2 / shift-add weights).

    Pattern: a let-bound fixed-point literal of rank >= 2 (weights). The type is unchanged. Applies only when some
    value changes. Approximate; see `bound`."""
    m = _weight_literal(t)
    if m is None:
        return None
    let, c, s = m
    raw = c.array()
    q = pow2_values(raw, s)
    if all(int(a) == int(b) for a, b in zip(raw.reshape(-1), q.reshape(-1), strict=True)):
        return None
    return Let(let.name, _retype(c, s, q), let.body, pos=let.pos)


# ---------------------------------------------------------------------------------------------- result widths
def _requantised(t: Term, old: Fixed, new: Fixed, is_core) -> Term | None:
    """The chain of casts and max/min with constants around a core term, with the type `old` replaced by `new` in
    its casts and constants; None when it is not such a chain, a constant does not fit `new` exactly, or a cast to
    `old` rounds (RND) and wraps (WRAP): rounding up past the largest value would wrap to the smallest."""
    if is_core(t):
        return t
    if is_prim(t, "cast", 1) and len(t.static) == 3:
        ty, q, o = t.static
        if ty == old and q == "RND" and o == "WRAP":
            return None
        inner = _requantised(t.args[0], old, new, is_core)
        return None if inner is None else Prim("cast", (new if ty == old else ty, q, o), (inner,), pos=t.pos)
    if is_prim(t, ("max", "min"), 2):
        a, b = t.args
        c, other, first = (a, b, True) if isinstance(a, Const) else (b, a, False)
        if not isinstance(c, Const):
            return None
        if c.type == old:
            raw = int(c.values[0])
            shift = old.frac - new.frac
            if raw % (1 << shift):
                return None
            c = Const(new, (raw >> shift,))
        inner = _requantised(other, old, new, is_core)
        if inner is None:
            return None
        return Prim(t.op, (), (c, inner) if first else (inner, c), pos=t.pos)
    return None


@rule("quantise_result", exact=False, params=(("k", None),), theme="precision",
      bound="every result of the layer moves by less than one LSB of its new type, 2^-F' (F' = k - I the new "
            "fraction bits): the casts truncate (TRN) or saturate (SAT) and the ReLU-style max/min are 1-Lipschitz; "
            "the next layer's dot product moves by less than 2^-F' * sum_i |w_i|")
def quantise_result(t: Term, ctx: Ctx, k: int) -> Term | None:
    """let h = map(fun p => POST(reduce(...)), rows) in b -> the same with the layer's result type R = fixed<W,I>
    replaced by R' = fixed<k,I> (k < W: fewer fraction bits, the same integer bits, quantisation and overflow modes)
    in POST's casts and constants, and in the constants of an elementwise map over h right after it (a ReLU).

    Side conditions: POST is casts and max/min with constants that R' holds exactly, no cast to R both rounds and
    wraps; the program keeps its type (h feeds another layer, which accepts the narrower input). Approximate; see
    `bound`."""
    if not isinstance(t, Let) or k < 1 or not is_prim(t.value, "map", 2):
        return None
    f, rows = t.value.args
    ht = ctx.type_of(t.value)
    if not (isinstance(f, Lam) and isinstance(ht, Array) and isinstance(ht.elem, Fixed)) or k >= ht.elem.width:
        return None
    old = ht.elem
    new = Fixed(k, old.int_bits, old.signed)
    body = _requantised(f.body, old, new, lambda u: is_prim(u, REDUCES, 3))
    if body is None or body == f.body:
        return None
    rest = t.body
    if isinstance(rest, Let) and is_prim(rest.value, "map", 2) and rest.value.args[1] == Var(t.name):
        g = rest.value.args[0]
        assert isinstance(g, Lam)
        v = g.params[0].name
        gb = _requantised(g.body, old, new, lambda u: u == Var(v))
        if gb is not None:
            rest = Let(rest.name, Prim("map", (), (Lam(g.params, gb, pos=g.pos), Var(t.name))), rest.body, pos=rest.pos)
    new_let = Let(t.name, Prim("map", (), (Lam(f.params, body, pos=f.pos), rows), pos=t.value.pos), rest, pos=t.pos)
    return _same_type_or_none(t, new_let, ctx)
