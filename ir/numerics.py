"""The one implementation of fixed-point numerics (Xilinx ap_fixed conventions), used by everything.

A fixed-point value is stored as its raw two's-complement integer: value = raw * 2**-F.
Raw arrays are int64 when the type has at most `INT64_BITS` bits, else numpy object arrays of Python ints,
so every operation is exact at any width.

Exact arithmetic result types follow ap_fixed's rules (products widen to W1+W2 bits, sums grow one integer bit);
narrowing happens only in `convert`, which applies a quantisation mode (TRN = floor, RND = round half up) and then
an overflow mode (WRAP = two's-complement wrap-around, SAT = clamp), once.
"""

from typing import Literal

import numpy as np

from vhls.ir.errors import IRError
from vhls.ir.types import Bool, Fixed, Type

QMode = Literal["TRN", "RND"]
OMode = Literal["WRAP", "SAT"]
Q_MODES: tuple[str, ...] = ("TRN", "RND")
O_MODES: tuple[str, ...] = ("WRAP", "SAT")

INT64_BITS = 62  # headroom below 63 so one shift or add of an in-range value cannot overflow int64


def dtype_for(t: Fixed) -> type:
    return np.int64 if t.width <= INT64_BITS else object


def as_raw(values: np.ndarray | int, t: Fixed) -> np.ndarray:
    """Raw integers in the storage dtype of `t` (no range check)."""
    a = np.asarray(values)
    if dtype_for(t) is object:
        return np.vectorize(int, otypes=[object])(a) if a.size else a.astype(object)
    return a.astype(np.int64)


def _big(a: np.ndarray) -> np.ndarray:
    return a.astype(object) if a.dtype != object else a


# ---------------------------------------------------------------------------------------------- result types
def add_type(a: Fixed, b: Fixed) -> Fixed:
    f = max(a.frac, b.frac)
    i = max(a.int_bits + (b.signed and not a.signed), b.int_bits + (a.signed and not b.signed)) + 1
    return Fixed(i + f, i, a.signed or b.signed)


def sub_type(a: Fixed, b: Fixed) -> Fixed:
    f = max(a.frac, b.frac)
    i = max(a.int_bits + (b.signed and not a.signed), b.int_bits + (a.signed and not b.signed)) + 1
    return Fixed(i + f, i, True)


def mul_type(a: Fixed, b: Fixed) -> Fixed:
    return Fixed(a.width + b.width, a.int_bits + b.int_bits, a.signed or b.signed)


def neg_type(a: Fixed) -> Fixed:
    return Fixed(a.width + 1, a.int_bits + 1, True)


def common_type(a: Fixed, b: Fixed) -> Fixed:
    """The smallest type holding every value of both (for max, min, select)."""
    f = max(a.frac, b.frac)
    i = max(a.int_bits + (b.signed and not a.signed), b.int_bits + (a.signed and not b.signed))
    return Fixed(i + f, i, a.signed or b.signed)


def shift_type(a: Fixed, k: int) -> Fixed:
    """Multiplying by 2**k only moves the binary point: the raw bits are unchanged."""
    return Fixed(a.width, a.int_bits + k, a.signed)


# ---------------------------------------------------------------------------------------------- conversions
def align(raw: np.ndarray, src: Fixed, frac: int) -> np.ndarray:
    """Exact re-scaling to `frac` fraction bits (frac >= src.frac), widening the dtype if needed."""
    shift = frac - src.frac
    assert shift >= 0, "align only widens"
    if shift == 0:
        return raw
    if raw.dtype != object and src.width + shift > INT64_BITS:
        raw = _big(raw)
    return raw << shift


def quantise(raw: np.ndarray, shift: int, q: str) -> np.ndarray:
    """Drop `shift` fraction bits: TRN = floor, RND = round half up (towards +inf)."""
    if shift <= 0:
        return raw
    if raw.dtype != object and shift >= INT64_BITS:
        raw = _big(raw)
    if q == "RND":
        raw = raw + (1 << (shift - 1))
    elif q != "TRN":
        raise IRError(f"unknown quantisation mode {q!r}; known: {', '.join(Q_MODES)}")
    return raw >> shift


def overflow(raw: np.ndarray, dst: Fixed, o: str) -> np.ndarray:
    """Bring integers into the raw range of `dst`: WRAP = modulo 2**W, SAT = clamp."""
    lo, hi = dst.min_raw, dst.max_raw
    if o == "SAT":
        if raw.dtype == object:
            out = np.where(raw < lo, lo, np.where(raw > hi, hi, raw))
            return as_raw(out, dst)
        return as_raw(np.clip(raw, lo, hi), dst)
    if o != "WRAP":
        raise IRError(f"unknown overflow mode {o!r}; known: {', '.join(O_MODES)}")
    if raw.dtype == object or dst.width > INT64_BITS:
        raw = _big(raw)
        out = (raw - lo) % (1 << dst.width) + lo
        return as_raw(out, dst)
    mask = (1 << dst.width) - 1
    return ((raw - lo) & mask) + lo


def convert(raw: np.ndarray, src: Type, dst: Fixed, q: str = "TRN", o: str = "WRAP") -> np.ndarray:
    """Convert raw values of type `src` (fixed or bool) to `dst`, applying q then o exactly once."""
    if isinstance(src, Bool):
        raw, src = np.asarray(raw).astype(np.int64), Fixed(2, 2, False)  # 0 or 1
    if not isinstance(src, Fixed):
        raise IRError(f"cannot convert {src} with fixed-point rules")
    raw = align(raw, src, dst.frac) if dst.frac >= src.frac else quantise(raw, src.frac - dst.frac, q)
    return overflow(raw, dst, o)


def from_float(x: np.ndarray | float, dst: Fixed, q: str = "RND", o: str = "SAT", what: str = "value") -> np.ndarray:
    """Quantise real numbers to raw integers of `dst`. NaN is an error; infinity saturates (SAT) or is an error."""
    x = np.asarray(x, dtype=np.float64)
    if q not in Q_MODES:
        raise IRError(f"unknown quantisation mode {q!r}; known: {', '.join(Q_MODES)}")
    if np.isnan(x).any():
        raise IRError(f"{what} contains NaN and cannot be converted to {dst}")
    if np.isinf(x).any() and o != "SAT":
        raise IRError(f"{what} contains infinity and cannot be wrapped into {dst}")
    lo, hi = dst.min_raw, dst.max_raw
    finite = np.isfinite(x)
    with np.errstate(over="ignore", under="ignore", invalid="ignore"):
        scaled = np.ldexp(x, dst.frac)  # multiplying by a power of two: exact unless it over- or underflows
        exact = np.array_equal(np.ldexp(scaled[finite], -dst.frac), x[finite])
        if dst.width <= 52 and exact and np.all(np.abs(scaled[finite]) < 2.0**52):
            r = np.floor(scaled)
            if q == "RND":  # not floor(scaled + 0.5): that sum can round up (0.49999999999999994 + 0.5 == 1.0)
                r += scaled - r >= 0.5
            if o == "SAT":
                return np.clip(r, lo, hi).astype(np.int64)
            return overflow(r.astype(np.int64), dst, o)

    # Rare wide path: exact Python integers.
    def one(v: float) -> int:
        if np.isinf(v):
            return hi if v > 0 else lo
        num, den = float(v).as_integer_ratio()  # den is a power of two
        if dst.frac >= 0:
            num <<= dst.frac
        else:
            den <<= -dst.frac
        return (2 * num + den) // (2 * den) if q == "RND" else num // den

    r = np.vectorize(one, otypes=[object])(x) if x.size else x.astype(object)
    return overflow(r, dst, o)


def to_float(raw: np.ndarray, t: Type) -> np.ndarray:
    """Real values (float64) of raw integers of type `t`."""
    if isinstance(t, Bool):
        return np.asarray(raw, dtype=np.float64)
    assert isinstance(t, Fixed)
    a = np.asarray(raw)
    if a.dtype == object:
        return np.array([float(v) for v in a.ravel()], dtype=np.float64).reshape(a.shape) * t.lsb
    return np.ldexp(a.astype(np.float64), -t.frac)


def to_float32(raw: np.ndarray, t: Fixed) -> np.ndarray:
    """Nearest float32 values of raw integers of `t`, rounded once. Going through float64 would round twice for
    more than 53 bits, so wider values are first cut to 53 bits with round-to-odd (the cut-off bits survive as a
    sticky last bit), after which rounding to float32's 24 bits gives the correctly rounded result."""
    a = np.asarray(raw)
    if t.width <= 53:
        return to_float(a, t).astype(np.float32)
    mant, exp = [], []
    for v in a.ravel().tolist():
        extra = max(abs(v).bit_length() - 53, 0)
        m = abs(v) >> extra | (abs(v) & ((1 << extra) - 1) != 0)
        mant.append(float(m if v >= 0 else -m))
        exp.append(extra - t.frac)
    with np.errstate(over="ignore"):
        out = np.ldexp(np.array(mant, dtype=np.float64), np.array(exp, dtype=np.int64)).astype(np.float32)
    return out.reshape(a.shape)


def exact_raw(value: float | int, t: Fixed, what: str = "constant") -> int:
    """The raw integer of a value that must be exactly representable in `t` (for literals)."""
    from fractions import Fraction

    scaled = Fraction(value) * (Fraction(2) ** t.frac)
    if scaled.denominator != 1:
        raise IRError(f"{what} {value} is not a multiple of {t}'s resolution 2^{-t.frac}")
    n = int(scaled)
    if not t.min_raw <= n <= t.max_raw:
        raise IRError(f"{what} {value} is out of range of {t}")
    return n


def raw_to_text(n: int, t: Fixed) -> str:
    """Exact decimal text of raw value `n` of type `t` (a dyadic rational always has a finite decimal)."""
    if t.frac <= 0:
        return str(n << -t.frac)
    sign = "-" if n < 0 else ""
    n = abs(n)
    whole, rest = divmod(n, 1 << t.frac)
    if rest == 0:
        return f"{sign}{whole}"
    digits = (rest * 10**t.frac) >> t.frac  # exact: 2**-F has exactly F decimal digits
    s = str(digits).rjust(t.frac, "0").rstrip("0")
    return f"{sign}{whole}.{s}"
