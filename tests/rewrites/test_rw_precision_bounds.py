"""Precision rules against their stated bounds, on random dense layers: quantise_weights and pow2_weights never
exceed their error bounds (per weight and per dot product, measured with the golden model); narrow_acc picks the
minimal accumulator (checked against an independent range computation) and is exact (test_rw_soundness);
quantise_result moves a layer's results (and their ReLU) by less than one LSB of the new result type."""

import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from rw_support import CI, apply_everywhere, dense_case

from vhls.ir.check import check
from vhls.ir.gen import random_inputs
from vhls.ir.interp import evaluate
from vhls.ir.terms import Const, Lam, Let, Param, Prim, Program, Term, Var
from vhls.ir.types import Array, Fixed
from vhls.precision import dot_accumulator
from vhls.rewrites import get


def dense(m: int, n: int, wt: Fixed, xt: Fixed, seed: int) -> Program:
    """let w = W in map(fun r => reduce(exact dot, 0, zip(r, x)), w): outputs are the exact dot products."""
    exact = dot_accumulator(wt, xt, n)
    acc = Fixed(exact.width + 3, exact.int_bits + 3, True)  # room for rounded-up weights
    rng = np.random.default_rng(seed)
    w = Const(Array(m, Array(n, wt)), tuple(int(v) for v in rng.integers(wt.min_raw, wt.max_raw + 1, m * n)))
    step = Prim("cast", (acc, "TRN", "WRAP"), (Prim("add", (), (Var("acc"), Prim("mul", (), (
        Prim("get", (0,), (Var("q"),)), Prim("get", (1,), (Var("q"),)))))),))
    red = Prim("reduce", (), (Lam((Param("acc"), Param("q")), step), Const(acc, (0,)),
                              Prim("zip", (), (Var("r"), Var("x")))))
    body = Let("w", w, Prim("map", (), (Lam((Param("r"),), red), Var("w"))))
    return Program("layer", (Param("x", Array(n, xt)),), body)


def values(c: Const) -> np.ndarray:
    t = c.type
    while isinstance(t, Array):
        t = t.elem
    assert isinstance(t, Fixed)
    return np.array([Fraction(v) * Fraction(2) ** -t.frac for v in c.values], dtype=object).reshape(
        c.array().shape)


def layer_error(p: Program, q: Program, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Golden outputs before/after (exact fractions) and the inputs (fractions)."""
    (x,) = random_inputs(p, 16, seed)
    checked, typing = check(p)
    out_t = typing[checked.body]
    assert isinstance(out_t, Array) and isinstance(out_t.elem, Fixed)
    f = out_t.elem.frac
    xt = p.params[0].type
    assert isinstance(xt, Array) and isinstance(xt.elem, Fixed)

    def real(raw: np.ndarray, frac: int) -> np.ndarray:
        return np.vectorize(lambda v: Fraction(int(v)) * Fraction(2) ** -frac, otypes=[object])(raw)

    return real(evaluate(p, x), f), real(evaluate(q, x), f), real(x, xt.elem.frac)


types = st.builds(lambda w, i, s: Fixed(w, i, s), st.integers(2, 12), st.integers(-2, 6), st.booleans())


@CI
@given(m=st.integers(1, 4), n=st.integers(1, 8), wt=types, xt=types, k=st.integers(1, 8), seed=st.integers(0, 999))
def test_quantise_weights_bound(m: int, n: int, wt: Fixed, xt: Fixed, k: int, seed: int) -> None:
    p = dense(m, n, wt, xt, seed)
    q, hits = apply_everywhere(p, get("quantise_weights", k))
    assert hits == (1 if k < wt.width else 0)
    if not hits:
        return
    old, new = p.body.value, q.body.value  # type: ignore[attr-defined]
    nt = new.type.elem.elem
    assert nt.width == k
    half = Fraction(2) ** -(nt.frac + 1)
    dw = np.abs(values(new) - values(old))
    assert dw.max() <= half  # per weight: at most half an LSB of the new type
    before, after, x = layer_error(p, q, seed)
    bound = half * np.abs(x).sum(axis=1)  # per input vector: 2^-(F'+1) * sum |x_i|
    assert (np.abs(after - before) <= bound[:, None]).all()


@CI
@given(m=st.integers(1, 4), n=st.integers(1, 8), wt=types, xt=types, seed=st.integers(0, 999))
def test_pow2_weights_bound(m: int, n: int, wt: Fixed, xt: Fixed, seed: int) -> None:
    p = dense(m, n, wt, xt, seed)
    q, hits = apply_everywhere(p, get("pow2_weights"))
    old = values(p.body.value)  # type: ignore[attr-defined]
    new = values(q.body.value) if hits else old  # type: ignore[attr-defined]
    raws = q.body.value.values if hits else ()  # type: ignore[attr-defined]
    assert all(abs(r) & (abs(r) - 1) == 0 for r in raws)  # every weight 0 or a signed power of two
    for a, b in zip(old.reshape(-1), new.reshape(-1), strict=True):
        upper_fits = abs(a) == 0 or Fraction(2) ** (int(np.floor(np.log2(float(abs(a))))) + 1) <= \
            Fraction(wt.max_raw) * Fraction(2) ** -wt.frac or a < 0
        assert abs(b - a) <= (abs(a) / 3 if upper_fits else abs(a) / 2)
    before, after, x = layer_error(p, q, seed)
    dw = np.abs(new - old)  # (m, n)
    bound = np.array([[sum(dw[r, i] * abs(xv[i]) for i in range(len(xv))) for r in range(dw.shape[0])]
                      for xv in x], dtype=object)
    assert (np.abs(after - before) <= bound).all()
    assert (bound <= np.array([[sum(abs(old[r, i] * xv[i]) for i in range(len(xv))) / 2 for r in range(dw.shape[0])]
                               for xv in x], dtype=object)).all()


@CI
@given(data=st.data())
def test_narrow_acc_is_minimal(data: st.DataObject) -> None:
    """Independent range computation: the new accumulator holds the extreme sums, one bit fewer would not."""
    case = dense_case(data.draw)
    p = case.program
    q, hits = apply_everywhere(p, get("narrow_acc"))
    body = p.body
    while isinstance(body, Let):
        body = body.body
    lam = body.args[0]
    red = lam.body.args[0]
    old_acc = red.args[0].body.static[0]
    # the literals: let-bound or inline
    lets = {}
    t = p.body
    while isinstance(t, Let):
        lets[t.name] = t.value
        t = t.body
    src = body.args[1]
    w, b = (lets.get(a.name, a) if isinstance(a, Var) else a for a in src.args)
    wr, br = w.array(), b.array()
    zip_args = red.args[2].args
    xt = p.params[0].type.elem
    wt, bt = w.type.elem.elem, b.type.elem
    hi = lo = None
    for r in range(wr.shape[0]):
        prods = [(int(v) * xt.min_raw, int(v) * xt.max_raw) for v in wr[r]]
        s_lo = sum(min(a) for a in prods) << (old_acc.frac - wt.frac - xt.frac)
        s_hi = sum(max(a) for a in prods) << (old_acc.frac - wt.frac - xt.frac)
        bias = int(br[r]) << (old_acc.frac - bt.frac)
        lo = s_lo + bias if lo is None else min(lo, s_lo + bias)
        hi = s_hi + bias if hi is None else max(hi, s_hi + bias)
    assert zip_args  # the case is a dense layer
    need = next(wd for wd in range(1, 200) if -(1 << (wd - 1)) <= lo and hi < (1 << (wd - 1)))
    if hits:
        qb = q.body
        while isinstance(qb, Let):
            qb = qb.body
        new_acc = qb.args[0].body.args[0].args[0].body.static[0]
        assert new_acc.width == need and new_acc.frac == old_acc.frac
    else:
        assert need >= old_acc.width or not (-(1 << (old_acc.width - 1)) <= lo and hi < (1 << (old_acc.width - 1)))


def _layer_then_relu(xt: Fixed, res: Fixed, q: str, o: str, n: int, seed: int) -> tuple[Term, Program]:
    """(the layer's value, let h = layer in let r = ReLU(h) in a second layer over r)."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backends"))
    from nn_nets import dense as dense_layer
    from nn_nets import rand_const, relu

    rng = np.random.default_rng(seed)
    wt = Fixed(6, 2, True)
    acc = Fixed(dot_accumulator(wt, xt, n).width + 4, dot_accumulator(wt, xt, n).int_bits + 4, True)
    layer = dense_layer(rand_const(rng, wt, 5, n), rand_const(rng, wt, 5), Var("x"), acc, res, q, o)
    nxt = dense_layer(rand_const(rng, wt, 3, 5), rand_const(rng, wt, 3), Var("r"), Fixed(40, 20, True),
                      Fixed(16, 8, True))
    return layer, Program("two", (Param("x", Array(n, xt)),), Let("h", layer, Let("r", relu(Var("h"), res), nxt)))


@CI
@given(xt=types, w=st.integers(4, 14), i=st.integers(-1, 6), k=st.integers(2, 13), q=st.sampled_from(["TRN", "RND"]),
       o=st.sampled_from(["WRAP", "SAT"]), n=st.integers(1, 6), seed=st.integers(0, 999))
def test_quantise_result_bound(xt: Fixed, w: int, i: int, k: int, q: str, o: str, n: int, seed: int) -> None:
    """Each result of the layer moves by less than one LSB of its new type (and so does its ReLU); the program keeps
    its type. Refused where the result is not narrower, or where a cast rounds and wraps."""
    res = Fixed(w, i, True)
    layer, p = _layer_then_relu(xt, res, q, o, n, seed)
    r = get("quantise_result", k)
    new, hits = apply_everywhere(p, r)
    if k >= w or (q == "RND" and o == "WRAP"):
        assert hits == 0
        return
    (cp, tp), (cn, tn) = check(p), check(new)
    assert hits == 1 and tn[cn.body] == tp[cp.body]
    assert isinstance(new.body, Let) and isinstance(new.body.body, Let)
    lsb = Fraction(2) ** -(k - i)
    relu_before, relu_after = p.body.body.value.args[0], new.body.body.value.args[0]
    for before, after in ((layer, new.body.value), (Prim("map", (), (relu_before, layer)),
                                                     Prim("map", (), (relu_after, new.body.value)))):
        (x,) = random_inputs(p, 16, seed)
        a, b = (_real_outputs(Program("h", p.params, t), x) for t in (before, after))
        assert all(abs(u - v) < lsb for u, v in zip(a, b, strict=True))


def _real_outputs(p: Program, x: np.ndarray) -> list[Fraction]:
    q, typing = check(p)
    t = typing[q.body]
    assert isinstance(t, Array) and isinstance(t.elem, Fixed)
    return [Fraction(int(v)) * Fraction(2) ** -t.elem.frac for v in np.asarray(evaluate(p, x)).reshape(-1)]
