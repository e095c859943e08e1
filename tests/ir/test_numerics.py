"""ir/numerics.py against the independent ap_fixed reference model in apfixed_ref.py.

Property tests draw formats of 1..64 bits (and some of 65..100 bits, the exact Python-int path), signed and
unsigned, with integer bits negative, zero, inside and beyond the width; every result is compared exactly with
the reference's rational arithmetic. Edge tables pin down the values everyone gets wrong first.
"""

import math
from fractions import Fraction

import apfixed_ref as ref
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from vhls.ir import IRError
from vhls.ir import numerics as fx
from vhls.ir.types import BOOL, MAX_WIDTH, Fixed, fixed, ufixed

PROPS = settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
Q_MODES = ("TRN", "RND")
O_MODES = ("WRAP", "SAT")
MODES = st.sampled_from([(q, o) for q in Q_MODES for o in O_MODES])


def R(t: Fixed) -> ref.T:
    return ref.T(t.width, t.int_bits, t.signed)


def F(t: ref.T) -> Fixed:
    return Fixed(t.w, t.i, t.signed)


def val(raw: int, t: Fixed) -> Fraction:
    return ref.value_of(int(raw), R(t))


@st.composite
def formats(draw: st.DrawFn, max_width: int = 64, wide: bool = True) -> Fixed:
    """Widths 1..max_width, sometimes 65..100; int_bits from well below zero to well beyond the width."""
    wider = wide and draw(st.integers(0, 5)) == 0
    width = draw(st.integers(65, 100) if wider else st.integers(1, max_width))
    int_bits = draw(st.one_of(st.integers(-10, width + 10), st.sampled_from([0, 1, width, -width, 2 * width])))
    return Fixed(width, int_bits, draw(st.booleans()))


def raws(t: Fixed) -> st.SearchStrategy[int]:
    """Raw integers of t, biased towards the range ends and the neighbourhood of zero."""
    edges = sorted(v for v in {t.min_raw, t.min_raw + 1, t.max_raw - 1, t.max_raw, 0, 1, -1}
                   if t.min_raw <= v <= t.max_raw)
    return st.one_of(st.integers(t.min_raw, t.max_raw), st.sampled_from(edges))


def raw_array(values: list[int], t: Fixed) -> np.ndarray:
    return fx.as_raw(np.array(values, dtype=object), t)


def check_storage(a: np.ndarray, t: Fixed) -> None:
    """Raw arrays are int64 up to INT64_BITS bits and Python ints beyond, always inside the type's range."""
    assert a.dtype == fx.dtype_for(t), (a.dtype, t)
    if a.dtype == object:
        assert all(type(v) is int for v in a.ravel())
    assert all(t.min_raw <= int(v) <= t.max_raw for v in a.ravel())


# ---------------------------------------------------------------------------------------------- the reference
def test_reference_model_self_consistency() -> None:
    t = ref.T(4, 2)  # -2 .. 1.75 in steps of 0.25
    assert t.values()[0] == -2 and t.values()[-1] == Fraction(7, 4) and len(t.values()) == 16
    assert ref.cast(Fraction(2), t, "TRN", "WRAP") == -2
    assert ref.cast(Fraction(2), t, "TRN", "SAT") == Fraction(7, 4)
    assert ref.cast(Fraction(-1, 8), t, "RND", "WRAP") == 0  # -0.5 LSB rounds up to 0
    assert ref.cast(Fraction(-3, 8), t, "RND", "WRAP") == Fraction(-1, 4)  # -1.5 LSB rounds up to -1 LSB
    assert ref.cast(Fraction(-1, 8), t, "TRN", "WRAP") == Fraction(-1, 4)
    assert ref.logic(ref.T(8, 8, False), ref.T(8, 8)) == ref.T(9, 9)


@PROPS
@given(a=formats(wide=False), b=formats(wide=False))
def test_reference_common_type_is_the_smallest(a: Fixed, b: Fixed) -> None:
    assert ref.logic(R(a), R(b)) == ref.smallest_common(R(a), R(b))


# ---------------------------------------------------------------------------------------------- formats
@PROPS
@given(t=formats())
def test_format_ranges(t: Fixed) -> None:
    r = R(t)
    assert val(t.min_raw, t) == r.lowest
    assert val(t.max_raw, t) == r.highest
    assert t.frac == r.f
    assert fx.dtype_for(t) is (np.int64 if t.width <= fx.INT64_BITS else object)


# ---------------------------------------------------------------------------------------------- fixed -> fixed
@PROPS
@given(src=formats(), dst=formats(), modes=MODES, data=st.data())
def test_convert_matches_reference(src: Fixed, dst: Fixed, modes: tuple[str, str], data: st.DataObject) -> None:
    q, o = modes
    values = data.draw(st.lists(raws(src), min_size=1, max_size=6))
    got = fx.convert(raw_array(values, src), src, dst, q, o)
    check_storage(got, dst)
    assert got.shape == (len(values),)
    for r, g in zip(values, got, strict=True):
        assert val(g, dst) == ref.cast(val(r, src), R(dst), q, o), (r, src, dst, q, o)


@PROPS
@given(src=formats(max_width=20, wide=False), dst=formats(max_width=20, wide=False), modes=MODES)
def test_convert_every_value_of_small_formats(src: Fixed, dst: Fixed, modes: tuple[str, str]) -> None:
    q, o = modes
    values = list(range(src.min_raw, src.max_raw + 1)) if src.width <= 8 else [src.min_raw, -1, 0, 1, src.max_raw]
    values = [v for v in values if src.min_raw <= v <= src.max_raw]
    got = fx.convert(raw_array(values, src), src, dst, q, o)
    assert [val(g, dst) for g in got] == [ref.cast(val(r, src), R(dst), q, o) for r in values]


@PROPS
@given(t=formats(max_width=20), modes=MODES)
def test_convert_to_same_type_is_identity_and_2d_shapes_survive(t: Fixed, modes: tuple[str, str]) -> None:
    values = [[t.min_raw, 0 if t.min_raw <= 0 else t.max_raw], [t.max_raw, t.min_raw]]
    got = fx.convert(fx.as_raw(np.array(values, dtype=object), t), t, t, *modes)
    assert got.shape == (2, 2) and [[int(v) for v in row] for row in got] == values


@pytest.mark.parametrize("q, o", [(q, o) for q in Q_MODES for o in O_MODES])
@pytest.mark.parametrize("dst", [fixed(4, 2), ufixed(3, 1), fixed(1, 1), fixed(70, 70), ufixed(80, -3)])
def test_convert_bool(dst: Fixed, q: str, o: str) -> None:
    got = fx.convert(np.array([False, True]), BOOL, dst, q, o)
    assert [val(g, dst) for g in got] == [ref.cast(Fraction(v), R(dst), q, o) for v in (0, 1)]


def test_convert_rejects_unknown_modes() -> None:
    with pytest.raises(IRError, match="quantisation"):
        fx.convert(np.array([3]), fixed(8, 4), fixed(8, 8), "RNE", "WRAP")
    with pytest.raises(IRError, match="overflow"):
        fx.convert(np.array([3]), fixed(8, 8), fixed(8, 4), "TRN", "SAT_ZERO")


# ---------------------------------------------------------------------------------------------- float -> fixed
def _exact_float(v: Fraction) -> float | None:
    x = float(v)
    return x if math.isfinite(x) and Fraction(x) == v else None


@PROPS
@given(dst=formats(), modes=MODES, xs=st.lists(st.floats(allow_nan=False, allow_infinity=False), min_size=1,
                                              max_size=6))
def test_from_float_arbitrary_doubles(dst: Fixed, modes: tuple[str, str], xs: list[float]) -> None:
    q, o = modes
    got = fx.from_float(np.array(xs), dst, q, o)
    check_storage(got, dst)
    for x, g in zip(xs, got, strict=True):
        assert val(g, dst) == ref.from_float(x, R(dst), q, o), (x, dst, q, o)


@PROPS
@given(dst=formats(), modes=MODES, data=st.data())
def test_from_float_near_the_grid_and_exact_ties(dst: Fixed, modes: tuple[str, str], data: st.DataObject) -> None:
    """Values k*LSB + d for d in {0, +-1/2 LSB (ties), +-tiny}: the cases where floor and round differ."""
    q, o = modes
    lsb = Fraction(2) ** -dst.frac
    xs = []
    for _ in range(data.draw(st.integers(1, 6))):
        k = data.draw(st.integers(dst.min_raw - 3, dst.max_raw + 3))
        d = data.draw(st.sampled_from([Fraction(0), Fraction(1, 2), Fraction(-1, 2), Fraction(1, 2**20),
                                       Fraction(-1, 2**20), Fraction(1, 2) - Fraction(1, 2**30)]))
        x = _exact_float((k + d) * lsb)
        if x is not None:
            xs.append(x)
    if not xs:
        return
    got = fx.from_float(np.array(xs), dst, q, o)
    check_storage(got, dst)
    for x, g in zip(xs, got, strict=True):
        assert val(g, dst) == ref.from_float(x, R(dst), q, o), (x, dst, q, o)


@pytest.mark.parametrize("t", [fixed(8, 4), fixed(60, 40), fixed(100, 50)])  # fast path, wide paths
def test_from_float_tie_table(t: Fixed) -> None:
    half = 2.0 ** -(t.frac + 1)  # exactly half an LSB
    xs = np.array([half, 3 * half, 5 * half, -half, -3 * half, -5 * half, 0.0, -0.0])
    #               RND rounds half up (towards +inf), on negative values too; TRN floors
    assert fx.from_float(xs, t, "RND", "SAT").tolist() == [1, 2, 3, 0, -1, -2, 0, 0]
    assert fx.from_float(xs, t, "TRN", "SAT").tolist() == [0, 1, 2, -1, -2, -3, 0, 0]


@pytest.mark.parametrize("t", [fixed(8, 8), fixed(60, 60), ufixed(8, 7)])
def test_from_float_just_below_a_half_rounds_down(t: Fixed) -> None:
    """Regression: floor(x + 0.5) rounds 0.49999999999999994 + 0.5 up to 1.0 and so got RND wrong."""
    below = np.nextafter(0.5, 0.0) * 2.0**-t.frac  # the largest double below half an LSB
    assert fx.from_float(np.array([below, -below]), t, "RND", "SAT").tolist() == [0, 0]
    above = np.nextafter(0.5, 1.0) * 2.0**-t.frac
    assert fx.from_float(np.array([above]), t, "RND", "SAT").tolist() == [1]


def test_from_float_inexact_scaling_falls_back_to_exact_arithmetic() -> None:
    """Regression: scaling by 2^F must not underflow (tiny negatives floor to -1) or overflow (to inf)."""
    assert fx.from_float(np.array([-5e-324]), fixed(8, 9), "TRN", "WRAP").tolist() == [-1]  # value -2
    assert fx.from_float(np.array([-5e-324]), fixed(8, 9), "RND", "WRAP").tolist() == [0]
    big = fixed(8, -1000)  # resolution 2^-1008: every input below overflows 8 bits; 1e300 * 2^1008 is not a double
    for x in (1e-300, -1e-300, 1e300, -1e300, 3.0):
        for q, o in [(q, o) for q in Q_MODES for o in O_MODES]:
            assert val(fx.from_float(np.array([x]), big, q, o)[0], big) == ref.from_float(x, R(big), q, o)


@pytest.mark.parametrize("t", [fixed(16, 6), ufixed(8, 0), fixed(70, 30), fixed(1, 1), ufixed(1, 1)])
def test_from_float_nan_and_infinity(t: Fixed) -> None:
    for q in Q_MODES:
        for o in O_MODES:
            with pytest.raises(IRError, match="NaN"):
                fx.from_float(np.array([1.0, np.nan]), t, q, o)
        with pytest.raises(IRError, match="infinity"):
            fx.from_float(np.array([np.inf]), t, q, "WRAP")
        with pytest.raises(IRError, match="infinity"):
            fx.from_float(np.array([0.0, -np.inf]), t, q, "WRAP")
        got = fx.from_float(np.array([np.inf, -np.inf, 1.0]), t, q, "SAT")
        assert got.tolist()[:2] == [t.max_raw, t.min_raw]


def test_from_float_rejects_unknown_modes() -> None:
    with pytest.raises(IRError, match="quantisation"):
        fx.from_float(np.array([0.5]), fixed(8, 4), "RNE", "SAT")
    with pytest.raises(IRError, match="quantisation"):
        fx.from_float(np.array([0.5]), fixed(80, 4), "RNE", "SAT")
    with pytest.raises(IRError, match="overflow"):
        fx.from_float(np.array([0.5]), fixed(8, 4), "RND", "SAT_SYM")


def test_from_float_keeps_shape_and_empty_input() -> None:
    assert fx.from_float(np.zeros((3, 0, 2)), fixed(8, 4)).shape == (3, 0, 2)
    assert fx.from_float(np.zeros((0, 2)), fixed(80, 4)).shape == (0, 2)
    assert fx.from_float(np.full((2, 3), 1.25), fixed(8, 4)).tolist() == [[20] * 3] * 2
    assert fx.from_float(0.75, ufixed(4, 1)).tolist() == 6  # scalars work too


# ---------------------------------------------------------------------------------------------- fixed -> float
@PROPS
@given(t=formats(), data=st.data())
def test_to_float_is_correctly_rounded(t: Fixed, data: st.DataObject) -> None:
    values = data.draw(st.lists(raws(t), min_size=1, max_size=6))
    got = fx.to_float(raw_array(values, t), t)
    assert got.dtype == np.float64
    assert got.tolist() == [ref.to_float(val(r, t)) for r in values]


@PROPS
@given(t=formats(max_width=53, wide=False), data=st.data())
def test_float_round_trip_is_exact_up_to_53_bits(t: Fixed, data: st.DataObject) -> None:
    values = data.draw(st.lists(raws(t), min_size=1, max_size=6))
    for q, o in [(q, o) for q in Q_MODES for o in O_MODES]:
        back = fx.from_float(fx.to_float(raw_array(values, t), t), t, q, o)
        assert back.tolist() == values


@PROPS
@given(t=formats(), data=st.data())
def test_to_float32_is_rounded_once(t: Fixed, data: st.DataObject) -> None:
    values = data.draw(st.lists(raws(t), min_size=1, max_size=6))
    got = fx.to_float32(raw_array(values, t), t)
    assert got.dtype == np.float32 and got.shape == (len(values),)
    assert got.tolist() == [ref.to_float32(val(r, t)) for r in values]


@pytest.mark.parametrize("t", [fixed(62, 62), fixed(64, 64), fixed(100, 100), ufixed(62, 2)])
def test_to_float32_double_rounding_regression(t: Fixed) -> None:
    """2^60 + 2^36 + 1 is just above a float32 tie; through float64 it became the tie and rounded down to even."""
    v = (1 << 60) + (1 << 36) + 1
    got = fx.to_float32(raw_array([v, -v], t), t)
    up = float(np.float32(2.0**60 + 2.0**37)) * 2.0**-t.frac
    assert got.tolist() == [up, -up]
    assert fx.to_float32(np.zeros((2, 0), dtype=object), t).shape == (2, 0)


def test_reference_float32_rounding() -> None:
    for x in (1.0, 0.1, -3.3e38, 1.5e-45, 7e-46, 2.0**-149, 3.4028235e38, 1e-40):
        assert ref.to_float32(Fraction(x)) == float(np.float32(x))
    assert ref.to_float32(Fraction(2) ** 128) == math.inf
    assert ref.to_float32(Fraction(1, 2**150)) == 0.0  # exactly half the smallest subnormal: ties to even (0)


def test_to_float_bool() -> None:
    assert fx.to_float(np.array([True, False]), BOOL).tolist() == [1.0, 0.0]


@PROPS
@given(t=formats(), data=st.data())
def test_raw_to_text_is_the_exact_decimal(t: Fixed, data: st.DataObject) -> None:
    r = data.draw(raws(t))
    text = fx.raw_to_text(r, t)
    assert Fraction(text) == val(r, t)
    assert fx.exact_raw(Fraction(text), t) == r


# ---------------------------------------------------------------------------------------------- result types
def same_type(ours, theirs: ref.T) -> None:
    """Our result-type rule gives ap_fixed's type, or refuses (IRError) when that is wider than MAX_WIDTH."""
    if theirs.w > MAX_WIDTH:
        with pytest.raises(IRError, match="exceeds the maximum"):
            ours()
    else:
        assert ours() == F(theirs)


def fits(a: Fixed, b: Fixed) -> bool:
    """Whether every result type of a (op) b stays within MAX_WIDTH (formats far apart need > 128 bits)."""
    return max(ref.plus(R(a), R(b)).w, ref.mult(R(a), R(b)).w) <= MAX_WIDTH


@PROPS
@given(a=formats(wide=False), b=formats(wide=False))
def test_result_types_are_ap_fixed_rtype(a: Fixed, b: Fixed) -> None:
    same_type(lambda: fx.add_type(a, b), ref.plus(R(a), R(b)))
    same_type(lambda: fx.sub_type(a, b), ref.minus(R(a), R(b)))
    same_type(lambda: fx.mul_type(a, b), ref.mult(R(a), R(b)))
    same_type(lambda: fx.neg_type(a), ref.negate(R(a)))
    same_type(lambda: fx.common_type(a, b), ref.logic(R(a), R(b)))
    if fits(a, b):
        assert fx.add_type(a, b) == fx.add_type(b, a) and fx.mul_type(a, b) == fx.mul_type(b, a)


@PROPS
@given(a=formats(wide=False), b=formats(wide=False), data=st.data())
def test_exact_results_fit_their_types(a: Fixed, b: Fixed, data: st.DataObject) -> None:
    assume(fits(a, b))
    x, y = val(data.draw(raws(a)), a), val(data.draw(raws(b)), b)
    assert R(fx.add_type(a, b)).holds(x + y)
    assert R(fx.sub_type(a, b)).holds(x - y)
    assert R(fx.sub_type(a, b)).holds(y - x)
    assert R(fx.mul_type(a, b)).holds(x * y)
    assert R(fx.neg_type(a)).holds(-x)
    common = R(fx.common_type(a, b))
    assert common.holds(x) and common.holds(y)


@PROPS
@given(a=formats(wide=False), b=formats(wide=False))
def test_extreme_results_fit_their_types(a: Fixed, b: Fixed) -> None:
    assume(fits(a, b))
    for x in (R(a).lowest, R(a).highest):
        assert R(fx.neg_type(a)).holds(-x)
        for y in (R(b).lowest, R(b).highest):
            assert R(fx.add_type(a, b)).holds(x + y)
            assert R(fx.sub_type(a, b)).holds(x - y)
            assert R(fx.mul_type(a, b)).holds(x * y)


@pytest.mark.parametrize("op, a, b, want", [
    (fx.mul_type, fixed(8, 3), fixed(6, 2), fixed(14, 5)),
    (fx.mul_type, ufixed(8, 3), fixed(6, 2), fixed(14, 5)),
    (fx.mul_type, ufixed(8, 3), ufixed(6, 2), ufixed(14, 5)),
    (fx.mul_type, fixed(16, 6), fixed(16, 6), fixed(32, 12)),
    (fx.add_type, fixed(8, 3), fixed(6, 2), fixed(9, 4)),  # F = max(5, 4), I = max(3, 2) + 1
    (fx.add_type, ufixed(8, 4), fixed(8, 4), fixed(10, 6)),  # the unsigned operand grows one integer bit
    (fx.add_type, fixed(8, 4), ufixed(8, 4), fixed(10, 6)),
    (fx.add_type, ufixed(8, 4), ufixed(8, 4), ufixed(9, 5)),
    (fx.add_type, fixed(4, -2), fixed(4, -2), fixed(5, -1)),
    (fx.add_type, fixed(4, 10), fixed(8, 0), fixed(19, 11)),
    (fx.sub_type, ufixed(8, 8), ufixed(8, 8), fixed(9, 9)),  # always signed
    (fx.sub_type, ufixed(8, 4), fixed(8, 4), fixed(10, 6)),
    (fx.common_type, ufixed(8, 8), fixed(8, 8), fixed(9, 9)),
    (fx.common_type, fixed(8, 3), fixed(6, 2), fixed(8, 3)),
    (fx.common_type, fixed(8, 3), ufixed(6, 4), fixed(10, 5)),
])
def test_result_type_table(op, a: Fixed, b: Fixed, want: Fixed) -> None:
    assert op(a, b) == want


def test_neg_and_shift_types() -> None:
    assert fx.neg_type(fixed(8, 3)) == fixed(9, 4)
    assert fx.neg_type(ufixed(8, 3)) == fixed(9, 4)
    assert fx.shift_type(fixed(8, 3), 2) == fixed(8, 5)
    assert fx.shift_type(ufixed(8, 3), -5) == ufixed(8, -2)


# ---------------------------------------------------------------------------------------------- edge tables
EDGES = [
    # (src, raw, dst, q, o, expected dst raw)
    (fixed(9, 9), 128, fixed(8, 8), "TRN", "WRAP", -128),  # max + 1 wraps to min
    (fixed(9, 9), 128, fixed(8, 8), "TRN", "SAT", 127),
    (fixed(9, 9), -129, fixed(8, 8), "TRN", "WRAP", 127),  # min - 1 wraps to max
    (fixed(9, 9), -129, fixed(8, 8), "TRN", "SAT", -128),
    (fixed(9, 9), -128, fixed(8, 8), "TRN", "WRAP", -128),  # most negative survives
    (fixed(9, 9), 255, fixed(8, 8), "TRN", "WRAP", -1),
    (fixed(10, 9), 255, fixed(8, 8), "RND", "WRAP", -128),  # 127.5 rounds to 128, then wraps
    (fixed(10, 9), 255, fixed(8, 8), "RND", "SAT", 127),  # ... or saturates
    (fixed(10, 9), 255, fixed(8, 8), "TRN", "SAT", 127),
    (fixed(10, 9), -257, fixed(8, 8), "RND", "SAT", -128),  # -128.5 rounds up to -128: in range
    (fixed(10, 9), -257, fixed(8, 8), "TRN", "WRAP", 127),  # -128.5 floors to -129 and wraps
    (fixed(8, 8), -1, ufixed(8, 8), "TRN", "WRAP", 255),
    (fixed(8, 8), -1, ufixed(8, 8), "TRN", "SAT", 0),
    (ufixed(8, 8), 255, fixed(8, 8), "TRN", "WRAP", -1),
    (ufixed(8, 8), 255, fixed(8, 8), "TRN", "SAT", 127),
    (fixed(2, 2), 1, fixed(1, 1), "TRN", "WRAP", -1),  # fixed<1,1> holds only -1 and 0
    (fixed(2, 2), 1, fixed(1, 1), "TRN", "SAT", 0),
    (fixed(2, 2), -2, fixed(1, 1), "TRN", "WRAP", 0),
    (fixed(2, 2), -2, fixed(1, 1), "TRN", "SAT", -1),
    (fixed(2, 2), -1, fixed(1, 1), "TRN", "SAT", -1),
    (fixed(2, 1), 1, fixed(1, 1), "RND", "SAT", 0),  # 0.5 rounds to 1, saturates to 0
    (fixed(2, 1), 1, fixed(1, 1), "RND", "WRAP", -1),
    (fixed(2, 1), -1, fixed(1, 1), "RND", "WRAP", 0),  # -0.5 rounds up to 0
    (fixed(2, 1), -1, fixed(1, 1), "TRN", "WRAP", -1),
    (fixed(4, 4), 2, ufixed(1, 1), "TRN", "WRAP", 0),  # ufixed<1,1> holds 0 and 1
    (fixed(4, 4), 3, ufixed(1, 1), "TRN", "WRAP", 1),
    (fixed(4, 4), -1, ufixed(1, 1), "TRN", "WRAP", 1),
    (fixed(4, 4), 3, ufixed(1, 1), "TRN", "SAT", 1),
    (fixed(4, 4), -1, ufixed(1, 1), "TRN", "SAT", 0),
    (fixed(4, 0), 7, ufixed(1, 0), "RND", "SAT", 1),  # 7/16 rounds to 1/2 = ufixed<1,0>'s max
    (fixed(33, 33), 2**31, fixed(32, 32), "TRN", "WRAP", -(2**31)),
    (fixed(33, 33), 2**31, fixed(32, 32), "TRN", "SAT", 2**31 - 1),
    (fixed(33, 33), -(2**31) - 1, fixed(32, 32), "TRN", "WRAP", 2**31 - 1),
    (fixed(32, 32), -(2**31), ufixed(32, 32), "TRN", "WRAP", 2**31),
    (ufixed(32, 32), 2**32 - 1, fixed(32, 32), "TRN", "WRAP", -1),
    (fixed(64, 64), 2**61, fixed(62, 62), "TRN", "WRAP", -(2**61)),
    (fixed(64, 64), 2**62, fixed(62, 62), "TRN", "WRAP", 0),
    (fixed(64, 64), 2**63 - 1, fixed(62, 62), "TRN", "SAT", 2**61 - 1),
    (fixed(64, 64), 2**63 - 1, fixed(63, 63), "TRN", "WRAP", -1),
    (fixed(62, 62), -(2**61), fixed(100, 100), "TRN", "SAT", -(2**61)),
    (fixed(62, 0), 2**61 - 1, fixed(100, 38), "TRN", "SAT", 2**61 - 1),
    (fixed(100, 100), 2**99 - 1, fixed(100, 99), "RND", "SAT", 2**99 - 1),
    (fixed(100, 100), 2**98, fixed(100, 99), "TRN", "WRAP", -(2**99)),
    (fixed(100, 0), -1, fixed(8, 8), "TRN", "WRAP", -1),  # -2^-100 floors to -1
    (fixed(100, 0), -1, fixed(8, 8), "RND", "WRAP", 0),
    (fixed(8, -4), 1, fixed(8, 8), "RND", "WRAP", 0),  # tiny values round away entirely
    (fixed(8, 12), 1, fixed(8, 8), "TRN", "WRAP", 16),  # I > W: coarse grid
    (fixed(8, 12), 127, fixed(8, 8), "TRN", "WRAP", -16),  # 2032 mod 256 = 240
]


@pytest.mark.parametrize("src, raw, dst, q, o, want", EDGES)
def test_edge_table(src: Fixed, raw: int, dst: Fixed, q: str, o: str, want: int) -> None:
    got = fx.convert(raw_array([raw], src), src, dst, q, o)
    assert [int(g) for g in got] == [want]
    assert val(want, dst) == ref.cast(val(raw, src), R(dst), q, o)  # the table agrees with the reference too


@pytest.mark.parametrize("t, lo, hi", [
    (fixed(1, 1), -1, 0), (ufixed(1, 1), 0, 1), (fixed(1, 0), Fraction(-1, 2), 0), (ufixed(1, 0), 0, Fraction(1, 2)),
    (fixed(8, 8), -128, 127), (ufixed(8, 8), 0, 255), (fixed(16, 6), -32, 32 - Fraction(1, 1024)),
    (fixed(32, 32), -(2**31), 2**31 - 1), (ufixed(32, 32), 0, 2**32 - 1), (fixed(4, 6), -32, 28),
    (fixed(4, -2), Fraction(-1, 8), Fraction(7, 64)),
])
def test_range_table(t: Fixed, lo: Fraction, hi: Fraction) -> None:
    assert (val(t.min_raw, t), val(t.max_raw, t)) == (lo, hi)
    # float inputs beyond the range saturate to exactly these ends and wrap modulo 2^W
    got = fx.from_float(np.array([float(lo) - 1000.0, float(hi) + 1000.0]), t, "TRN", "SAT")
    assert got.tolist() == [t.min_raw, t.max_raw]
    assert fx.to_float(np.array([t.min_raw, t.max_raw]), t).tolist() == [float(lo), float(hi)]


def test_one_bit_signed_float_inputs() -> None:
    t = fixed(1, 1)
    xs = np.array([-1.0, 0.0, -0.5, 0.5, -1.5, 1.0, -0.25])
    assert fx.from_float(xs, t, "TRN", "SAT").tolist() == [-1, 0, -1, 0, -1, 0, -1]
    assert fx.from_float(xs, t, "RND", "SAT").tolist() == [-1, 0, 0, 0, -1, 0, 0]
    assert fx.from_float(xs, t, "TRN", "WRAP").tolist() == [-1, 0, -1, 0, 0, -1, -1]
    assert fx.from_float(xs, t, "RND", "WRAP").tolist() == [-1, 0, 0, -1, -1, -1, 0]


def test_one_bit_unsigned_float_inputs() -> None:
    t = ufixed(1, 1)
    xs = np.array([0.0, 1.0, 2.0, 3.0, -1.0, 0.5, 1.5])
    assert fx.from_float(xs, t, "TRN", "SAT").tolist() == [0, 1, 1, 1, 0, 0, 1]
    assert fx.from_float(xs, t, "TRN", "WRAP").tolist() == [0, 1, 0, 1, 1, 0, 1]
    assert fx.from_float(xs, t, "RND", "WRAP").tolist() == [0, 1, 0, 1, 1, 1, 0]


def test_overflow_and_quantise_directly() -> None:
    t = fixed(8, 8)
    assert fx.overflow(np.array([128, -129, 383, -1000]), t, "WRAP").tolist() == [-128, 127, 127, 24]
    assert fx.overflow(np.array([128, -129, 383, -1000]), t, "SAT").tolist() == [127, -128, 127, -128]
    assert fx.quantise(np.array([5, -5, 6, -6, 7, -7]), 2, "TRN").tolist() == [1, -2, 1, -2, 1, -2]
    assert fx.quantise(np.array([5, -5, 6, -6, 7, -7]), 2, "RND").tolist() == [1, -1, 2, -1, 2, -2]
    big = fx.overflow(np.array([2**70 + 5, -(2**70) - 5], dtype=object), t, "WRAP")
    assert big.dtype == np.int64 and big.tolist() == [5, -5]
