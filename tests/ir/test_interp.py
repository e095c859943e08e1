"""The golden interpreter (ir/interp.py with the semantics in ir/prims.py) against direct references.

Fixed-point results are compared exactly with the ap_fixed reference model (apfixed_ref.py, rational arithmetic),
structural primitives with plain numpy on the raw arrays, f32 with numpy float32. The `reduce` fast paths
(wrap-around sums, dot products, max/min) are compared bit for bit with the interpreter's own slow left fold and
with a sequential reference, and each test checks which path it actually exercised.
"""

import itertools
import random
from collections.abc import Callable
from fractions import Fraction

import apfixed_ref as ref
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from vhls.ir import prims
from vhls.ir.check import check
from vhls.ir.errors import IRError
from vhls.ir.interp import evaluate, run
from vhls.ir.terms import Lam, Let, Param, Prim, Program, Term, Var, const
from vhls.ir.types import BOOL, FLOAT, MAX_WIDTH, Array, Bool, Fixed, Tuple, Type, array, fixed, ufixed

PROPS = settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MODES = [(q, o) for q in ("TRN", "RND") for o in ("WRAP", "SAT")]
B = 24  # batch size of the random tests


# ---------------------------------------------------------------------------------------------- term helpers
def P(op: str, *args: Term, st: tuple = ()) -> Prim:
    return Prim(op, tuple(st), tuple(args))


def fn(params: str, body: Term) -> Lam:
    return Lam(tuple(Param(n) for n in params.split()), body)


V = Var


def cast(t: Type, x: Term, q: str = "TRN", o: str = "WRAP") -> Prim:
    return P("cast", x, st=(t,) if t == FLOAT else (t, q, o))


def program(body: Term, **params: Type) -> Program:
    return Program("f", tuple(Param(n, t) for n, t in params.items()), body)


def result_type(p: Program) -> Type:
    q, typing = check(p)
    return typing[q.body]


def R(t: Fixed) -> ref.T:
    return ref.T(t.width, t.int_bits, t.signed)


def F(t: ref.T) -> Fixed:
    return Fixed(t.w, t.i, t.signed)


def values_of(raw: np.ndarray, t: Fixed) -> list[Fraction]:
    return [ref.value_of(int(r), R(t)) for r in np.asarray(raw).ravel()]


def rand(rng: np.random.Generator, t: Type, shape: tuple[int, ...]) -> np.ndarray:
    """Random interpreter values of scalar type t: raw integers (with the range ends mixed in), floats, bools."""
    if isinstance(t, Bool):
        return rng.random(shape) < 0.5
    if not isinstance(t, Fixed):
        return (rng.standard_normal(shape) * np.exp2(rng.integers(-8, 8, shape))).astype(np.float32)
    if t.width <= 62:
        a = rng.integers(t.min_raw, t.max_raw, size=shape, endpoint=True)
    else:
        py = random.Random(int(rng.integers(1 << 30)))
        a = np.array([py.randint(t.min_raw, t.max_raw) for _ in range(int(np.prod(shape)))], dtype=object)
        a = a.reshape(shape)
    flat = a.reshape(-1)
    if flat.size >= 4:  # the range ends, where wrap and saturation happen
        flat[:2] = t.min_raw
        flat[2:4] = t.max_raw
        a = flat.reshape(shape)
    return a if t.width > 62 else a.astype(np.int64)


def storage_ok(a: np.ndarray, t: Fixed) -> bool:
    return a.dtype == (np.int64 if t.width <= 62 else object)


@st.composite
def formats(draw: st.DrawFn, max_width: int = 64) -> Fixed:
    width = draw(st.integers(1, max_width))
    return Fixed(width, draw(st.integers(-6, width + 6)), draw(st.booleans()))


# ---------------------------------------------------------------------------------------------- arithmetic
BINARY = {
    "add": lambda x, y: x + y, "sub": lambda x, y: x - y, "mul": lambda x, y: x * y,
    "max": max, "min": min,
}
RTYPE = {"add": ref.plus, "sub": ref.minus, "mul": ref.mult, "max": ref.logic, "min": ref.logic}
COMPARE = {
    "lt": lambda x, y: x < y, "le": lambda x, y: x <= y, "gt": lambda x, y: x > y, "ge": lambda x, y: x >= y,
    "eq": lambda x, y: x == y, "ne": lambda x, y: x != y,
}


@PROPS
@given(a_t=formats(), b_t=formats(), seed=st.integers(0, 2**32 - 1))
def test_fixed_arithmetic_comparisons_and_select(a_t: Fixed, b_t: Fixed, seed: int) -> None:
    """Every fixed-point operation on one batch: result type is ap_fixed's, value is the exact rational result."""
    assume(ref.plus(R(a_t), R(b_t)).w <= MAX_WIDTH and ref.mult(R(a_t), R(b_t)).w <= MAX_WIDTH)
    rng = np.random.default_rng(seed)
    a, b = rand(rng, a_t, (B,)), rand(rng, b_t, (B,))
    if a_t == b_t:
        b[::3] = a[::3]  # some equal pairs for eq/ne/le/ge
    ops = [*BINARY, *COMPARE]
    body = P("tuple", *(P(op, V("a"), V("b")) for op in ops), P("neg", V("a")),
             P("select", P("lt", V("a"), V("b")), V("a"), V("b")), P("select", V("c"), V("b"), V("a")))
    p = program(body, a=a_t, b=b_t, c=BOOL)
    c = rng.random(B) < 0.5
    out = evaluate(p, a, b, c)
    types = result_type(p)
    assert isinstance(types, Tuple)
    xs, ys = values_of(a, a_t), values_of(b, b_t)
    for op, got, t in zip(ops, out, types.elems, strict=False):
        if op in BINARY:
            assert t == F(RTYPE[op](R(a_t), R(b_t))), op
            assert storage_ok(got, t) and got.shape == (B,)
            assert values_of(got, t) == [BINARY[op](x, y) for x, y in zip(xs, ys, strict=True)], op
        else:
            assert t == BOOL and got.dtype == np.bool_
            assert got.tolist() == [COMPARE[op](x, y) for x, y in zip(xs, ys, strict=True)], op
    neg, sel1, sel2 = out[-3:]
    neg_t, sel_t = types.elems[-3], types.elems[-2]
    assert neg_t == Fixed(a_t.width + 1, a_t.int_bits + 1, True)
    assert values_of(neg, neg_t) == [-x for x in xs]
    assert sel_t == types.elems[-1] == F(ref.logic(R(a_t), R(b_t)))
    assert values_of(sel1, sel_t) == [min(x, y) for x, y in zip(xs, ys, strict=True)]
    assert values_of(sel2, sel_t) == [y if ci else x for x, y, ci in zip(xs, ys, c, strict=True)]


@PROPS
@given(t=formats(max_width=100), k=st.integers(0, 40), seed=st.integers(0, 2**32 - 1))
def test_shifts_move_the_binary_point(t: Fixed, k: int, seed: int) -> None:
    a = rand(np.random.default_rng(seed), t, (B,))
    p = program(P("tuple", P("shl", V("a"), st=(k,)), P("shr", V("a"), st=(k,))), a=t)
    left, right = evaluate(p, a)
    lt, rt = result_type(p).elems  # type: ignore[attr-defined]
    assert lt == Fixed(t.width, t.int_bits + k, t.signed) and rt == Fixed(t.width, t.int_bits - k, t.signed)
    assert values_of(left, lt) == [x * 2**k for x in values_of(a, t)]
    assert values_of(right, rt) == [x / 2**k for x in values_of(a, t)]


@PROPS
@given(src=formats(max_width=100), dst=formats(max_width=100), modes=st.sampled_from(MODES),
       seed=st.integers(0, 2**32 - 1))
def test_cast_fixed_to_fixed(src: Fixed, dst: Fixed, modes: tuple[str, str], seed: int) -> None:
    q, o = modes
    a = rand(np.random.default_rng(seed), src, (B,))
    got = evaluate(program(cast(dst, V("a"), q, o), a=src), a)
    assert storage_ok(got, dst)
    assert values_of(got, dst) == [ref.cast(x, R(dst), q, o) for x in values_of(a, src)]


@PROPS
@given(dst=formats(max_width=100), modes=st.sampled_from(MODES), seed=st.integers(0, 2**32 - 1))
def test_cast_f32_to_fixed(dst: Fixed, modes: tuple[str, str], seed: int) -> None:
    q, o = modes
    rng = np.random.default_rng(seed)
    lsb = 2.0**-dst.frac
    # on the grid, exact half-LSB ties (both signs), arbitrary magnitudes
    k = rng.integers(-(2**20), 2**20, B).astype(np.float64)
    x = np.concatenate([k * lsb, (k + 0.5) * lsb, rng.standard_normal(B) * 2.0 ** rng.integers(-30, 30, B)])
    x = x.astype(np.float32)
    assume(np.all(np.isfinite(x)))
    got = evaluate(program(cast(dst, V("a"), q, o), a=FLOAT), x)
    assert storage_ok(got, dst)
    assert values_of(got, dst) == [ref.from_float(float(v), R(dst), q, o) for v in x]


def test_cast_f32_nan_and_infinity() -> None:
    t = fixed(8, 4)
    nan = np.array([1.0, np.nan], dtype=np.float32)
    inf = np.array([np.inf, -np.inf, 1.0], dtype=np.float32)
    for q in ("TRN", "RND"):
        for o in ("WRAP", "SAT"):
            with pytest.raises(IRError, match="NaN"):
                evaluate(program(cast(t, V("a"), q, o), a=FLOAT), nan)
        with pytest.raises(IRError, match="infinity"):
            evaluate(program(cast(t, V("a"), q, "WRAP"), a=FLOAT), inf)
        got = evaluate(program(cast(t, V("a"), q, "SAT"), a=FLOAT), inf)
        assert got.tolist() == [t.max_raw, t.min_raw, 16]


@PROPS
@given(src=formats(max_width=100), seed=st.integers(0, 2**32 - 1))
def test_cast_to_f32(src: Fixed, seed: int) -> None:
    """Fixed -> f32 is the value rounded once to the nearest float32."""
    rng = np.random.default_rng(seed)
    a = rand(rng, src, (B,))
    got = evaluate(program(cast(FLOAT, V("a")), a=src), a)
    assert got.dtype == np.float32
    assert got.tolist() == [ref.to_float32(x) for x in values_of(a, src)]


@pytest.mark.parametrize("src", [fixed(62, 62), fixed(64, 60), fixed(100, 90)])
def test_cast_to_f32_rounds_once(src: Fixed) -> None:
    """Regression: via float64, 2^60 + 2^36 + 1 first became the float32 tie 2^60 + 2^36, then rounded to even."""
    v = (1 << 60) + (1 << 36) + 1
    a = np.array([v, -v], dtype=object if src.width > 62 else np.int64)
    got = evaluate(program(cast(FLOAT, V("a")), a=src), a)
    assert got.tolist() == [ref.to_float32(x) for x in values_of(a, src)]
    assert got[0] == np.float32(2.0**60 + 2.0**37) * np.float32(2.0**-src.frac)


@pytest.mark.parametrize("dst", [fixed(4, 2), ufixed(1, 1), fixed(1, 1), fixed(3, -2), ufixed(90, 40), FLOAT])
def test_cast_bool(dst: Type) -> None:
    c = np.array([False, True, True, False])
    got = evaluate(program(cast(dst, V("c"), "TRN", "WRAP"), c=BOOL), c)
    if dst == FLOAT:
        assert got.dtype == np.float32 and got.tolist() == [0.0, 1.0, 1.0, 0.0]
    else:
        assert isinstance(dst, Fixed)
        assert values_of(got, dst) == [ref.cast(Fraction(int(v)), R(dst), "TRN", "WRAP") for v in c]


def test_f32_arithmetic() -> None:
    rng = np.random.default_rng(7)
    a, b = rand(rng, FLOAT, (200,)), rand(rng, FLOAT, (200,))
    b[:20] = a[:20]
    ops = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "max": np.maximum, "min": np.minimum}
    cmps = {"lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal, "eq": np.equal,
            "ne": np.not_equal}
    body = P("tuple", *(P(op, V("a"), V("b")) for op in [*ops, *cmps]), P("neg", V("a")),
             P("select", P("lt", V("a"), V("b")), V("b"), V("a")), cast(FLOAT, V("a")))
    p = program(body, a=FLOAT, b=FLOAT)
    out = evaluate(p, a, b)
    assert result_type(p) == Tuple((*[FLOAT] * len(ops), *[BOOL] * len(cmps), FLOAT, FLOAT, FLOAT))
    for got, f in zip(out, [*ops.values(), *cmps.values()], strict=False):
        want = f(a, b)
        assert got.dtype == want.dtype and np.array_equal(got, want)
    assert out[-3].dtype == np.float32 and np.array_equal(out[-3], -a)
    assert np.array_equal(out[-2], np.maximum(a, b))
    assert np.array_equal(out[-1], a)


def test_mixing_f32_and_fixed_is_rejected() -> None:
    with pytest.raises(IRError, match="cannot mix f32"):
        check(program(P("add", V("a"), V("b")), a=FLOAT, b=fixed(8, 4)))


# ---------------------------------------------------------------------------------------------- structure
ELEMS = [fixed(12, 4), ufixed(80, 20), FLOAT, BOOL]


def run1(body: Term, **params: tuple[Type, np.ndarray]):
    p = program(body, **{k: t for k, (t, _) in params.items()})
    return evaluate(p, *(v for _, v in params.values())), result_type(p)


@pytest.mark.parametrize("e", ELEMS, ids=str)
def test_split_join_transpose(e: Type) -> None:
    rng = np.random.default_rng(1)
    x = rand(rng, e, (B, 12))
    out, t = run1(P("split", V("x"), st=(3,)), x=(array(e, 12), x))
    assert t == array(e, 4, 3) and np.array_equal(out, x.reshape(B, 4, 3))
    out, t = run1(P("join", P("split", V("x"), st=(4,))), x=(array(e, 12), x))
    assert t == array(e, 12) and np.array_equal(out, x)
    y = rand(rng, e, (B, 3, 5))
    out, t = run1(P("transpose", V("y")), y=(array(e, 3, 5), y))
    assert t == array(e, 5, 3) and np.array_equal(out, y.transpose(0, 2, 1))
    out, t = run1(P("join", P("transpose", V("y"))), y=(array(e, 3, 5), y))
    assert t == array(e, 15) and np.array_equal(out, y.transpose(0, 2, 1).reshape(B, 15))


@pytest.mark.parametrize("e", ELEMS, ids=str)
@pytest.mark.parametrize("n, size, step", [(10, 3, 1), (10, 3, 2), (12, 3, 4), (11, 4, 3), (7, 7, 1), (7, 1, 3),
                                           (9, 2, 5)])
def test_slide(e: Type, n: int, size: int, step: int) -> None:
    """Windows start at 0, step, 2*step, ...; a tail too short for a whole window is dropped."""
    x = rand(np.random.default_rng(n * 100 + size * 10 + step), e, (B, n))
    out, t = run1(P("slide", V("x"), st=(size, step)), x=(array(e, n), x))
    starts = range(0, n - size + 1, step)
    assert t == array(e, len(starts), size)
    want = np.stack([x[:, s:s + size] for s in starts], axis=1)
    assert out.shape == want.shape and np.array_equal(out, want)


@pytest.mark.parametrize("e", ELEMS, ids=str)
@pytest.mark.parametrize("left, right", [(0, 0), (2, 0), (0, 3), (1, 4)])
def test_pad(e: Type, left: int, right: int) -> None:
    x = rand(np.random.default_rng(left + 10 * right), e, (B, 5, 2))
    out, t = run1(P("pad", V("x"), st=(left, right)), x=(array(e, 5, 2), x))
    assert t == array(e, 5 + left + right, 2)
    zeros = np.zeros((B, 1, 2), dtype=x.dtype)
    want = np.concatenate([zeros] * left + [x] + [zeros] * right, axis=1)
    assert out.dtype == x.dtype and np.array_equal(out, want)
    assert all(type(v) is int for v in out.ravel()) if x.dtype == object else True


def test_pad_of_wide_values_then_wide_arithmetic() -> None:
    """Regression: np.pad put numpy int64 zeros into Python-int arrays, and 0 + s + s then overflowed int64."""
    t = fixed(64, 64)
    s = np.array([2**63 - 1, -(2**63)], dtype=object)
    x = np.array([[5, 6], [7, 8]], dtype=object)
    twice = fn("e", P("add", P("add", V("e"), V("s")), V("s")))
    out, rt = run1(P("map", twice, P("pad", V("x"), st=(1, 1))), x=(array(t, 2), x), s=(t, s))
    assert rt == array(fixed(66, 66), 4)
    assert out.tolist() == [[2 * s[0], 5 + 2 * s[0], 6 + 2 * s[0], 2 * s[0]], [2 * s[1], 7 + 2 * s[1], 8 + 2 * s[1],
                                                                               2 * s[1]]]


@pytest.mark.parametrize("n, t", [(1, fixed(1, 1)), (8, fixed(5, 4)), (8, ufixed(3, 3)), (5, fixed(16, 6)),
                                  (3, ufixed(70, 10)), (1, fixed(4, 6))])
def test_iota(n: int, t: Fixed) -> None:
    out, rt = run1(P("iota", st=(n, t)), x=(FLOAT, np.zeros(4, np.float32)))
    assert rt == Array(n, t) and out.shape == (4, n)
    assert [values_of(row, t) for row in out] == [list(range(n))] * 4


@pytest.mark.parametrize("n, t", [(9, fixed(5, 4)), (2, fixed(1, 1)), (5, fixed(4, 6)), (3, fixed(4, 6)),
                                  (2, ufixed(8, 0))])
def test_iota_rejects_unrepresentable_ranges(n: int, t: Fixed) -> None:
    """Regression: iota<5, fixed<4,6>> (multiples of 4 only) was accepted and produced 0, 0, 0, 0, 4."""
    with pytest.raises(IRError, match="cannot hold"):
        check(program(P("iota", st=(n, t)), x=FLOAT))


def test_zip_unzip_tuple_get() -> None:
    rng = np.random.default_rng(2)
    tx, ty, tz = fixed(10, 3), ufixed(70, 5), FLOAT
    x, y, z = rand(rng, tx, (B, 6)), rand(rng, ty, (B, 6)), rand(rng, tz, (B, 6))
    params = {"x": (array(tx, 6), x), "y": (array(ty, 6), y), "z": (array(tz, 6), z)}
    out, t = run1(P("unzip", P("zip", V("x"), V("y"), V("z"))), **params)
    assert t == Tuple((array(tx, 6), array(ty, 6), array(tz, 6)))
    assert all(np.array_equal(o, w) for o, w in zip(out, (x, y, z), strict=True))
    out, t = run1(P("get", P("unzip", P("zip", V("x"), V("y"), V("z"))), st=(1,)), **params)
    assert t == array(ty, 6) and np.array_equal(out, y)
    # map over an array of tuples, projecting components
    swap = P("map", fn("p", P("tuple", P("get", V("p"), st=(2,)), P("get", V("p"), st=(0,)))),
             P("zip", V("x"), V("y"), V("z")))
    out, t = run1(P("unzip", swap), **params)
    assert t == Tuple((array(tz, 6), array(tx, 6)))
    assert np.array_equal(out[0], z) and np.array_equal(out[1], x)
    # tuples of arrays and scalars
    out, t = run1(P("get", P("tuple", V("x"), P("tuple", V("y"), V("z"))), st=(1,)), **params)
    assert t == Tuple((array(ty, 6), array(tz, 6))) and np.array_equal(out[0], y) and np.array_equal(out[1], z)


def test_transpose_and_map_over_nested_arrays_of_tuples() -> None:
    """[m][n](A, B) is stored as a tuple of [m][n] arrays; transpose and nested maps must keep them aligned."""
    rng = np.random.default_rng(3)
    t = fixed(9, 4)
    x, y = rand(rng, t, (B, 3, 4)), rand(rng, t, (B, 3, 4))
    pairs = P("map", fn("r", P("zip", P("get", V("r"), st=(0,)), P("get", V("r"), st=(1,)))), P("zip", V("x"), V("y")))
    body = P("map", fn("row", P("map", fn("p", P("sub", P("get", V("p"), st=(0,)), P("get", V("p"), st=(1,)))),
                                V("row"))), P("transpose", pairs))
    out, rt = run1(body, x=(array(t, 3, 4), x), y=(array(t, 3, 4), y))
    assert rt == array(fixed(10, 5), 4, 3)
    assert np.array_equal(out, (x - y).transpose(0, 2, 1))
    out, _ = run1(P("split", P("join", pairs), st=(6,)), x=(array(t, 3, 4), x), y=(array(t, 3, 4), y))
    assert np.array_equal(out[0], x.reshape(B, 2, 6)) and np.array_equal(out[1], y.reshape(B, 2, 6))
    out, _ = run1(P("slide", P("transpose", pairs), st=(2, 2)), x=(array(t, 3, 4), x), y=(array(t, 3, 4), y))
    assert np.array_equal(out[1], y.transpose(0, 2, 1).reshape(B, 2, 2, 3))


# ---------------------------------------------------------------------------------------------- map, closures
def test_nested_maps_capture_outer_variables() -> None:
    """An outer product: the inner body uses the outer map's element and a program parameter."""
    rng = np.random.default_rng(4)
    tx, ty, ts = fixed(8, 3), fixed(7, 2), ufixed(4, 1)
    x, y, s = rand(rng, tx, (B, 5)), rand(rng, ty, (B, 6)), rand(rng, ts, (B,))
    inner = fn("b", P("add", P("mul", V("a"), V("b")), V("s")))
    body = P("map", fn("a", P("map", inner, V("y"))), V("x"))
    out, t = run1(body, x=(array(tx, 5), x), y=(array(ty, 6), y), s=(ts, s))
    mt = fixed(15, 5)
    at = ref.plus(R(mt), R(ts))
    assert t == array(F(at), 5, 6)
    shift = at.f - mt.frac
    want = (x[:, :, None] * y[:, None, :] << shift) + (s[:, None, None] << (at.f - ts.frac))
    assert np.array_equal(out, want)


def test_three_levels_of_closures_and_let() -> None:
    rng = np.random.default_rng(5)
    t = fixed(6, 6)
    x, y, z = rand(rng, t, (B, 2)), rand(rng, t, (B, 3)), rand(rng, t, (B, 4))
    body = P("map", fn("a", Let("d", P("neg", V("a")), P("map", fn("b", P("map", fn(
        "c", P("sub", P("add", V("d"), V("b")), V("c"))), V("z"))), V("y")))), V("x"))
    out, _ = run1(body, x=(array(t, 2), x), y=(array(t, 3), y), z=(array(t, 4), z))
    want = -x[:, :, None, None] + y[:, None, :, None] - z[:, None, None, :]
    assert out.shape == (B, 2, 3, 4) and np.array_equal(out, want)


def test_bodies_independent_of_their_parameter_broadcast() -> None:
    rng = np.random.default_rng(6)
    t = fixed(8, 4)
    x, s, w = rand(rng, t, (B, 5)), rand(rng, t, (B,)), rand(rng, t, (B, 3))
    c = const(np.array([1, -2, 3]), array(t, 3))
    params = {"x": (array(t, 5), x), "s": (t, s), "w": (array(t, 3), w)}
    out, rt = run1(P("map", fn("e", V("s")), V("x")), **params)
    assert rt == array(t, 5) and np.array_equal(out, np.repeat(s[:, None], 5, axis=1))
    out, rt = run1(P("map", fn("e", V("w")), V("x")), **params)
    assert rt == array(t, 5, 3) and np.array_equal(out, np.repeat(w[:, None, :], 5, axis=1))
    out, rt = run1(P("map", fn("e", c), V("x")), **params)
    assert out.shape == (B, 5, 3) and np.array_equal(out, np.broadcast_to([1, -2, 3], (B, 5, 3)))
    out, rt = run1(P("map", fn("e", P("iota", st=(4, t))), V("x")), **params)
    assert np.array_equal(out, np.broadcast_to(np.arange(4) << 4, (B, 5, 4)))
    out, rt = run1(P("map", fn("e", P("tuple", V("s"), V("e"))), V("x")), **params)  # half-independent tuple
    assert np.array_equal(out[0], np.repeat(s[:, None], 5, axis=1)) and np.array_equal(out[1], x)
    # a program whose output ignores every input still has the batch size of the inputs
    out, _ = run1(c, **params)
    assert out.shape == (B, 3) and out.flags.writeable


def test_reduce_over_a_broadcast_array_and_nested_reduce() -> None:
    rng = np.random.default_rng(8)
    t, acc = fixed(8, 4), fixed(20, 12)
    x, s = rand(rng, t, (B, 4, 5)), rand(rng, t, (B,))
    add = fn("a e", cast(acc, P("add", V("a"), V("e")), "TRN", "SAT"))
    row_sums = P("map", fn("r", P("reduce", add, cast(acc, V("s")), V("r"))), V("x"))
    total = P("reduce", fn("a e", cast(acc, P("add", V("a"), V("e")), "TRN", "SAT")), const(0, acc), row_sums)
    const_sum = P("reduce", add, const(0, acc), P("map", fn("e", V("s")), V("x")))
    out, _ = run1(P("tuple", total, const_sum), x=(array(t, 4, 5), x), s=(t, s))
    assert np.array_equal(out[0], (x.sum(axis=(1, 2)) + 4 * s) << 4)  # exact: nothing saturates at 20 bits
    assert np.array_equal(out[1], (4 * s) << 4)


def test_encode_run_decode_round_trip() -> None:
    t = fixed(16, 6)
    p = program(P("map", fn("e", cast(t, P("mul", V("e"), V("e")), "RND", "SAT")), V("x")), x=array(t, 3))
    xs = np.array([[0.5, -1.25, 40.0], [1e-9, -1e9, 3.0]])
    got = run(p, xs)
    want = [[0.25, 1.5625, 32 - 2**-10], [0.0, 32 - 2**-10, 9.0]]  # inputs saturate to +-32, 1e-9 rounds to 0
    assert got.tolist() == want
    with pytest.raises(IRError, match="different batch sizes"):
        evaluate(program(P("add", V("a"), V("b")), a=t, b=t), np.zeros(3, np.int64), np.zeros(4, np.int64))


def test_tuple_typed_inputs_and_outputs() -> None:
    """A parameter of type (A, [n](B, C)) is passed as nested tuples of arrays; run() decodes tuple results."""
    ta, tb, tc = fixed(8, 4), ufixed(6, 2), fixed(70, 30)
    pt = Tuple((ta, Array(3, Tuple((tb, tc)))))
    pairs = P("get", V("p"), st=(1,))
    body = P("tuple", P("map", fn("e", P("add", P("get", V("e"), st=(0,)), P("get", V("p"), st=(0,)))), pairs),
             P("get", P("unzip", pairs), st=(1,)))
    p = program(body, p=pt)
    rng = np.random.default_rng(9)
    a, b, c = rand(rng, ta, (B,)), rand(rng, tb, (B, 3)), rand(rng, tc, (B, 3))
    sums, cs = evaluate(p, (a, (b, c)))
    st_ = F(ref.plus(R(tb), R(ta)))
    assert result_type(p) == Tuple((Array(3, st_), Array(3, tc)))
    assert np.array_equal(sums, (b << (st_.frac - tb.frac)) + (a[:, None] << (st_.frac - ta.frac)))
    assert cs.dtype == object and np.array_equal(cs, c)
    real_sums, real_cs = run(p, (np.full(2, 1.5), (np.full((2, 3), 0.25), np.full((2, 3), -2.0**-30))))
    assert real_sums.tolist() == [[1.75] * 3] * 2 and real_cs.tolist() == [[-(2.0**-30)] * 3] * 2


# ---------------------------------------------------------------------------------------------- reduce
class Paths:
    """Evaluate a program normally and with the reduce fast path disabled; record which paths ran."""

    def __init__(self) -> None:
        self.fast: list[bool] = []  # one entry per reduce evaluation: did the fast path answer?
        self.dot: list[bool] = []  # one entry per dot-product attempt: did the einsum answer?

    def __call__(self, p: Program, *args: np.ndarray):
        fast_fn, dot_fn = prims._reduce_fast, prims._dot

        def spy_fast(*a):
            r = fast_fn(*a)
            self.fast.append(r is not None)
            return r

        def spy_dot(*a):
            r = dot_fn(*a)
            self.dot.append(r is not None)
            return r

        with pytest.MonkeyPatch.context() as m:
            m.setattr(prims, "_reduce_fast", spy_fast)
            m.setattr(prims, "_dot", spy_dot)
            got = evaluate(p, *args)
        with pytest.MonkeyPatch.context() as m:
            m.setattr(prims, "_reduce_fast", lambda *a: None)
            slow = evaluate(p, *args)
        return got, slow


@pytest.fixture
def paths() -> Paths:
    return Paths()


def fold(init: list[Fraction], rows: list[list[Fraction]], step: Callable[[Fraction, Fraction], Fraction]):
    out = []
    for acc, row in zip(init, rows, strict=True):
        for g in row:
            acc = step(acc, g)
        out.append(acc)
    return out


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)


def sum_program(acc: Fixed, xt: Fixed, n: int, q: str, o: str, reverse: bool = False) -> Program:
    add = P("add", V("x"), V("acc")) if reverse else P("add", V("acc"), V("x"))
    return program(P("reduce", fn("acc x", cast(acc, add, q, o)), V("init"), V("xs")), init=acc, xs=array(xt, n))


@PROPS
@given(acc=formats(max_width=100), xt=formats(max_width=100), n=st.integers(1, 40), modes=st.sampled_from(MODES),
       reverse=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_reduce_sum_any_types_and_modes(acc: Fixed, xt: Fixed, n: int, modes: tuple[str, str], reverse: bool,
                                        seed: int) -> None:
    """cast<A,Q,O>(add(acc, x)) folds: fast (WRAP, no quantisation) or slow, always the sequential result."""
    assume(ref.plus(R(acc), R(xt)).w <= MAX_WIDTH)
    q, o = modes
    rng = np.random.default_rng(seed)
    init, xs = rand(rng, acc, (8,)), rand(rng, xt, (8, n))
    paths = Paths()
    got, slow = paths(sum_program(acc, xt, n, q, o, reverse), init, xs)
    assert paths.fast == [o == "WRAP" and xt.frac <= acc.frac]
    assert same(got, slow) and storage_ok(got, acc)
    rows = [values_of(r, xt) for r in xs]
    assert values_of(got, acc) == fold(values_of(init, acc), rows, lambda a, g: ref.cast(a + g, R(acc), q, o))


def dot_program(acc: Fixed, at: Fixed, wt: Fixed, n: int, q: str = "TRN", o: str = "WRAP") -> Program:
    mul = P("mul", P("get", V("p"), st=(0,)), P("get", V("p"), st=(1,)))
    body = P("reduce", fn("acc p", cast(acc, P("add", V("acc"), mul), q, o)), V("init"), P("zip", V("a"), V("w")))
    return program(body, init=acc, a=array(at, n), w=array(wt, n))


@PROPS
@given(acc=formats(max_width=100), at=formats(max_width=50), wt=formats(max_width=50), n=st.integers(1, 70),
       modes=st.sampled_from(MODES), seed=st.integers(0, 2**32 - 1))
def test_reduce_dot_any_types_and_modes(acc: Fixed, at: Fixed, wt: Fixed, n: int, modes: tuple[str, str],
                                        seed: int) -> None:
    mt = ref.mult(R(at), R(wt))
    assume(ref.plus(R(acc), mt).w <= MAX_WIDTH)
    q, o = modes
    rng = np.random.default_rng(seed)
    init, a, w = rand(rng, acc, (6,)), rand(rng, at, (6, n)), rand(rng, wt, (6, n))
    paths = Paths()
    got, slow = paths(dot_program(acc, at, wt, n, q, o), init, a, w)
    fast = o == "WRAP" and mt.f <= acc.frac
    assert paths.fast == [fast]
    assert paths.dot == ([max(mt.w, acc.width) <= 62 and acc.frac - mt.f < 62] if fast else [])
    assert same(got, slow) and storage_ok(got, acc)
    rows = [[x * y for x, y in zip(values_of(ra, at), values_of(rw, wt), strict=True)] for ra, rw in zip(a, w,
                                                                                                         strict=True)]
    assert values_of(got, acc) == fold(values_of(init, acc), rows, lambda s, g: ref.cast(s + g, R(acc), q, o))


# Fast-path cases that must each hit a specific branch: (acc, a, w, n, einsum expected)
DOT_CASES = [
    (fixed(62, 20), fixed(31, 10), fixed(31, 10), 64, True),  # 62-bit products: the int64 sum itself overflows
    (fixed(62, 20), fixed(31, 31), fixed(31, 31), 64, True),  # ... and the shift by acc.frac - F overflows too
    (fixed(40, 10), fixed(31, 16), fixed(31, 16), 64, True),  # 40-bit wrap of a 68-bit exact sum
    (fixed(48, 28), fixed(16, 6), fixed(16, 6), 64, True),  # the MLP's exact accumulator
    (fixed(40, 20), fixed(40, 30), fixed(40, 30), 32, False),  # 80-bit products: exact Python-int path
    (fixed(62, 2), fixed(40, 10), fixed(40, 10), 32, False),
    (fixed(50, 45), fixed(33, 33), ufixed(32, 32), 16, False),
    (fixed(63, 40), fixed(16, 6), fixed(16, 6), 16, False),  # accumulator wider than 62 bits
    (fixed(64, 64), fixed(31, 31), fixed(31, 31), 64, False),
    (ufixed(100, 60), fixed(50, 30), fixed(50, 30), 40, False),
    (fixed(120, 56), fixed(64, 32), fixed(62, 30), 40, False),
]


@pytest.mark.parametrize("acc, at, wt, n, einsum", DOT_CASES)
def test_reduce_dot_fast_paths(paths: Paths, acc: Fixed, at: Fixed, wt: Fixed, n: int, einsum: bool) -> None:
    rng = np.random.default_rng(n + acc.width)
    init, a, w = rand(rng, acc, (B,)), rand(rng, at, (B, n)), rand(rng, wt, (B, n))
    a[:4], w[:4] = at.min_raw, wt.min_raw  # the largest products, all the same sign
    a[4:8], w[4:8] = at.max_raw, wt.min_raw
    got, slow = paths(dot_program(acc, at, wt, n), init, a, w)
    assert paths.fast == [True] and paths.dot == [einsum]
    assert same(got, slow)
    mt = ref.mult(R(at), R(wt))
    rows = [[x * y for x, y in zip(values_of(ra, at), values_of(rw, wt), strict=True)] for ra, rw in zip(a, w,
                                                                                                         strict=True)]
    assert values_of(got, acc) == fold(values_of(init, acc), rows, lambda s, g: ref.cast(s + g, R(acc)))
    # exact integer reference: sum of raw products, aligned, wrapped to acc's width
    exact = [sum(int(x) * int(y) for x, y in zip(ra, rw, strict=True)) << (acc.frac - mt.f) for ra, rw in zip(a, w,
                                                                                                           strict=True)]
    wrapped = [(int(i) + e - acc.min_raw) % (1 << acc.width) + acc.min_raw for i, e in zip(init, exact, strict=True)]
    assert [int(v) for v in got] == wrapped


@pytest.mark.parametrize("acc, xt, n", [
    (fixed(40, 20), fixed(40, 20), 64), (fixed(62, 62), fixed(62, 62), 64), (fixed(62, 30), fixed(40, 10), 33),
    (fixed(45, 10), fixed(60, 50), 16),  # the operand is wider than the accumulator
    (fixed(63, 63), fixed(62, 62), 64), (ufixed(64, 0), ufixed(64, 0), 50), (fixed(100, 50), fixed(64, 32), 64),
    (fixed(120, 0), fixed(100, -10), 20), (ufixed(8, 8), fixed(8, 8), 300),
])
def test_reduce_wrapping_sum_fast_path(paths: Paths, acc: Fixed, xt: Fixed, n: int) -> None:
    rng = np.random.default_rng(n + acc.width)
    init, xs = rand(rng, acc, (B,)), rand(rng, xt, (B, n))
    xs[:4] = xt.max_raw  # sums far beyond int64 for the widest cases
    got, slow = paths(sum_program(acc, xt, n, "TRN", "WRAP"), init, xs)
    assert paths.fast == [True] and same(got, slow)
    exact = [int(i) + (sum(int(v) for v in row) << (acc.frac - xt.frac)) for i, row in zip(init, xs, strict=True)]
    assert [int(v) for v in got] == [(e - acc.min_raw) % (1 << acc.width) + acc.min_raw for e in exact]


def test_reduce_sum_with_a_closure_and_a_broadcast_term(paths: Paths) -> None:
    """g(x) = mul(x, s) with s captured from outside, and g = s independent of the element."""
    rng = np.random.default_rng(11)
    acc, xt, stt = fixed(40, 20), fixed(16, 6), fixed(10, 2)
    init, xs, s = rand(rng, acc, (B,)), rand(rng, xt, (B, 40)), rand(rng, stt, (B,))
    mul = P("mul", V("x"), V("s"))
    body = P("tuple",
             P("reduce", fn("acc x", cast(acc, P("add", V("acc"), mul))), V("init"), V("xs")),
             P("reduce", fn("acc x", cast(acc, P("add", mul, V("acc")))), V("init"), V("xs")),
             P("reduce", fn("acc x", cast(acc, P("add", V("acc"), V("s")))), V("init"), V("xs")))
    p = program(body, init=acc, xs=array(xt, 40), s=stt)
    got, slow = paths(p, init, xs, s)
    assert paths.fast == [True] * 3 and paths.dot == [True, True]
    assert all(same(g, w) for g, w in zip(got, slow, strict=True))
    mt = fixed(26, 8)
    wrap = lambda e: (e - acc.min_raw) % (1 << acc.width) + acc.min_raw  # noqa: E731
    dots = [int(i) + (sum(int(v) * int(sv) for v in row) << (acc.frac - mt.frac))
            for i, row, sv in zip(init, xs, s, strict=True)]
    assert [int(v) for v in got[0]] == [wrap(e) for e in dots] == [int(v) for v in got[1]]
    assert [int(v) for v in got[2]] == [wrap(int(i) + 40 * (int(sv) << (acc.frac - stt.frac)))
                                        for i, sv in zip(init, s, strict=True)]


@pytest.mark.parametrize("op", ["max", "min"])
@pytest.mark.parametrize("acc, xt", [(fixed(12, 5), fixed(10, 4)), (fixed(9, 9), ufixed(8, 8)),
                                     (ufixed(70, 30), ufixed(64, 30)), (fixed(80, 40), fixed(80, 40)),
                                     (fixed(1, 1), fixed(1, 1))])
def test_reduce_max_min_fast_path(paths: Paths, op: str, acc: Fixed, xt: Fixed) -> None:
    rng = np.random.default_rng(acc.width)
    init, xs = rand(rng, acc, (B,)), rand(rng, xt, (B, 17))
    for order in ((V("acc"), V("x")), (V("x"), V("acc"))):
        p = program(P("reduce", fn("acc x", P(op, *order)), V("init"), V("xs")), init=acc, xs=array(xt, 17))
        got, slow = paths(p, init, xs)
        assert same(got, slow) and storage_ok(got, acc)
        pick = max if op == "max" else min
        assert values_of(got, acc) == [pick([i, *row]) for i, row in zip(values_of(init, acc),
                                                                        (values_of(r, xt) for r in xs), strict=True)]
    assert paths.fast == [True, True]


@pytest.mark.parametrize("q", ["TRN", "RND"])
def test_reduce_saturating_and_quantising_accumulators_take_the_slow_path(paths: Paths, q: str) -> None:
    """SAT is order-dependent (saturate, then come back down) and quantising every step is too."""
    rng = np.random.default_rng(12)
    acc, xt = fixed(8, 4), fixed(10, 5)
    init, xs = rand(rng, acc, (B,)), rand(rng, xt, (B, 30))
    rows = [values_of(r, xt) for r in xs]
    for o in ("SAT", "WRAP"):
        got, slow = paths(sum_program(acc, xt, 30, q, o), init, xs)
        assert same(got, slow)
        step = lambda a, g, o=o: ref.cast(a + g, R(acc), q, o)  # noqa: E731
        assert values_of(got, acc) == fold(values_of(init, acc), rows, step)
    assert paths.fast == [False, False]  # SAT, and F(x) > F(acc) under WRAP
    # saturating is order-dependent on these inputs: no reassociating shortcut could be right
    sat = lambda a, g: ref.cast(a + g, R(acc), q, "SAT")  # noqa: E731
    assert fold(values_of(init, acc), rows, sat) != fold(values_of(init, acc), [r[::-1] for r in rows], sat)


def test_reduce_with_other_bodies_takes_the_slow_path(paths: Paths) -> None:
    rng = np.random.default_rng(13)
    acc, xt = fixed(16, 8), fixed(8, 4)
    init, xs = rand(rng, acc, (B,)), rand(rng, xt, (B, 10))
    bodies = [
        cast(acc, P("sub", V("acc"), V("x"))),  # not add/max/min
        cast(acc, P("add", V("acc"), P("mul", V("x"), V("acc")))),  # g uses the accumulator
        cast(acc, P("max", V("acc"), V("x")), "TRN", "WRAP"),  # a wrapped max
        cast(acc, P("add", V("acc"), V("acc"))),
    ]
    p = program(P("tuple", *(P("reduce", fn("acc x", b), V("init"), V("xs")) for b in bodies)), init=acc,
                xs=array(xt, 10))
    got, slow = paths(p, init, xs)
    assert paths.fast == [False] * 4 and all(same(g, s) for g, s in zip(got, slow, strict=True))
    rows = [values_of(r, xt) for r in xs]
    wrap = lambda v: ref.cast(v, R(acc))  # noqa: E731
    steps = [lambda a, g: wrap(a - g), lambda a, g: wrap(a + g * a), lambda a, g: wrap(max(a, g)),
             lambda a, g: wrap(a + a)]
    for out, step in zip(got, steps, strict=True):
        assert values_of(out, acc) == fold(values_of(init, acc), rows, step)


def test_reduce_with_tuple_and_array_accumulators() -> None:
    """Accumulators that are not scalars: a running (sum, max) pair and an elementwise vector sum."""
    rng = np.random.default_rng(15)
    t, acc = fixed(8, 4), fixed(14, 10)
    xs = rand(rng, t, (B, 9))
    pair = fn("a x", P("tuple", cast(acc, P("add", P("get", V("a"), st=(0,)), V("x"))),
                       P("max", P("get", V("a"), st=(1,)), V("x"))))
    init = P("tuple", const(0, acc), const(t.min_raw, t))
    out, rt = run1(P("reduce", pair, init, V("xs")), xs=(array(t, 9), xs))
    assert rt == Tuple((acc, t))
    assert np.array_equal(out[0], xs.sum(axis=1)) and np.array_equal(out[1], xs.max(axis=1))
    vs = rand(rng, t, (B, 6, 3))
    vec = fn("a v", P("map", fn("p", cast(acc, P("add", P("get", V("p"), st=(0,)), P("get", V("p"), st=(1,))),
                                          "TRN", "SAT")), P("zip", V("a"), V("v"))))
    out, rt = run1(P("reduce", vec, const(np.zeros(3, np.int64), array(acc, 3)), V("vs")), vs=(array(t, 6, 3), vs))
    assert rt == array(acc, 3) and np.array_equal(out, vs.sum(axis=1))


def f32_fold(init: np.ndarray, vals: np.ndarray, op) -> np.ndarray:
    acc = init.astype(np.float32)
    for i in range(vals.shape[1]):
        acc = op(acc, vals[:, i]).astype(np.float32)
    return acc


def test_reduce_f32_is_the_left_fold_bit_for_bit(paths: Paths) -> None:
    """Regression: the f32 fast path summed pairwise (np.sum) and by einsum, not in the fold's order."""
    rng = np.random.default_rng(14)
    n = 200
    init, x, w = rand(rng, FLOAT, (B,)), rand(rng, FLOAT, (B, n)), rand(rng, FLOAT, (B, n))
    x *= np.exp2(rng.integers(-20, 20, (B, n))).astype(np.float32)  # magnitudes where the order matters
    mul = P("mul", P("get", V("p"), st=(0,)), P("get", V("p"), st=(1,)))
    body = P("tuple",
             P("reduce", fn("acc x", P("add", V("acc"), V("x"))), V("init"), V("x")),
             P("reduce", fn("acc x", P("add", V("x"), V("acc"))), V("init"), V("x")),
             P("reduce", fn("acc p", P("add", V("acc"), mul)), V("init"), P("zip", V("x"), V("w"))),
             P("reduce", fn("acc x", P("max", V("acc"), V("x"))), V("init"), V("x")),
             P("reduce", fn("acc x", P("min", V("x"), V("acc"))), V("init"), V("x")))
    p = program(body, init=FLOAT, x=array(FLOAT, n), w=array(FLOAT, n))
    got, slow = paths(p, init, x, w)
    assert paths.fast == [True] * 5 and paths.dot == []
    wants = [f32_fold(init, x, np.add), f32_fold(init, x, np.add), f32_fold(init, x * w, np.add),
             f32_fold(init, x, np.maximum), f32_fold(init, x, np.minimum)]
    for g, s, want in zip(got, slow, wants, strict=True):
        assert g.dtype == np.float32 and same(g, s) and np.array_equal(g, want)
    assert not np.array_equal(wants[0], init + x.sum(axis=1, dtype=np.float32))  # the inputs do tell orders apart


# ---------------------------------------------------------------------------------------------- performance sanity
A16 = fixed(16, 6)
ACC = fixed(48, 28)  # 16x16-bit products have 20 fraction bits; 64 of them plus a bias never reach 2^27
SIZES = (16, 64, 32, 32, 5)


def mlp_layers(seed: int = 0) -> list[tuple[np.ndarray, np.ndarray, bool]]:
    """Raw fixed<16,6> weights (out, in), biases (out,), and whether a ReLU follows."""
    rng = np.random.default_rng(seed)
    layers = []
    for k, (n_in, n_out) in enumerate(itertools.pairwise(SIZES)):
        w = np.round(rng.normal(0, 1 / np.sqrt(n_in), (n_out, n_in)) * 1024).astype(np.int64)
        b = np.round(rng.normal(0, 0.5, n_out) * 1024).astype(np.int64)
        layers.append((w, b, k < len(SIZES) - 2))
    return layers


def mlp_program(layers: list[tuple[np.ndarray, np.ndarray, bool]]) -> Program:
    """def mlp(x: [16]fixed<16,6>): dense layers with exact 48-bit accumulators, ReLU, TRN+WRAP back to 16 bits."""
    mul = P("mul", P("get", V("p"), st=(0,)), P("get", V("p"), st=(1,)))
    step = fn("acc p", cast(ACC, P("add", V("acc"), mul)))
    zero = const(0, ACC)

    def dense(h: str, w: np.ndarray, b: np.ndarray, relu: bool) -> Term:
        acc = P("reduce", step, cast(ACC, P("get", V("wb"), st=(1,))), P("zip", P("get", V("wb"), st=(0,)), V(h)))
        out = cast(A16, P("max", acc, zero) if relu else acc)
        wc, bc = const(w, array(A16, *w.shape)), const(b, array(A16, len(b)))
        return P("map", fn("wb", out), P("zip", wc, bc))

    body: Term = dense(f"h{len(layers) - 1}", *layers[-1])
    for k in range(len(layers) - 2, -1, -1):
        body = Let(f"h{k + 1}", dense(f"h{k}", *layers[k]), body)
    return Program("mlp", (Param("h0", array(A16, SIZES[0])),), body)


def mlp_reference(x: np.ndarray, layers: list[tuple[np.ndarray, np.ndarray, bool]]) -> np.ndarray:
    """Plain integer numpy: raw matmul (20 fraction bits), bias aligned, ReLU, floor to 10 fraction bits, wrap."""
    h = x.astype(np.int64)
    for w, b, relu in layers:
        acc = h @ w.T + (b << 10)
        if relu:
            acc = np.maximum(acc, 0)
        h = ((acc >> 10) + 2**15) % 2**16 - 2**15
    return h


def mlp_inputs(n: int, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).integers(-(2**15), 2**15, (n, SIZES[0]))


def test_mlp_matches_integer_numpy() -> None:
    layers = mlp_layers()
    p = mlp_program(layers)
    assert result_type(p) == array(A16, SIZES[-1])
    x = mlp_inputs(10_000)
    got = evaluate(p, x)
    want = mlp_reference(x, layers)
    assert got.dtype == np.int64 and got.shape == (10_000, SIZES[-1])
    assert np.array_equal(got, want)
    assert len(np.unique(want)) > 1000  # not a degenerate network
