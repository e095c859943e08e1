"""An independent reference model of Xilinx `ap_[u]fixed<W, I, Q, O>` semantics, for testing `vhls.ir.numerics`.

Written from the specification (Vitis HLS user guide UG1399, "Arbitrary Precision Fixed-Point Data Types", and the
`RType` result-type table of `ap_fixed_base.h`), not from our implementation: plain Python integers and
`fractions.Fraction`, no numpy, nothing shared with `ir/numerics.py`. Everything works on exact rational *values*;
raw integers appear only at the edges (`value_of`, `cast`).

    ap_fixed<W, I>   W bits in total, I of them integer bits (including the sign bit), F = W - I fraction bits;
                     I may be negative or larger than W. Resolution 2^-F.
    signed range     [-2^(I-1), 2^(I-1) - 2^-F]
    unsigned range   [0, 2^I - 2^-F]
    AP_TRN           quantisation: truncation towards minus infinity
    AP_RND           quantisation: rounding to plus infinity (round half up; -2.5 -> -2)
    AP_WRAP          overflow: discard the bits above the MSB (two's complement wrap-around)
    AP_SAT           overflow: saturate to the largest / smallest representable value
Quantisation is applied first, then overflow.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True)
class T:
    """A fixed-point format: total bits w, integer bits i, signedness."""

    w: int
    i: int
    signed: bool = True

    @property
    def f(self) -> int:
        return self.w - self.i

    @property
    def eps(self) -> Fraction:
        """The resolution 2^-F."""
        return Fraction(2) ** (-self.f)

    @property
    def lowest(self) -> Fraction:
        return -(Fraction(2) ** (self.i - 1)) if self.signed else Fraction(0)

    @property
    def highest(self) -> Fraction:
        top = Fraction(2) ** (self.i - 1) if self.signed else Fraction(2) ** self.i
        return top - self.eps

    def holds(self, v: Fraction) -> bool:
        """True when v is exactly representable (on the grid and in range)."""
        return (v / self.eps).denominator == 1 and self.lowest <= v <= self.highest

    def values(self) -> list[Fraction]:
        """Every representable value, ascending (small formats only)."""
        assert self.w <= 12
        n = int((self.highest - self.lowest) / self.eps) + 1
        return [self.lowest + k * self.eps for k in range(n)]


# ------------------------------------------------------------------------------------------- raw <-> value
def value_of(raw: int, t: T) -> Fraction:
    """The value of the W-bit pattern `raw`, which must already be the (signed or unsigned) integer it encodes."""
    assert (t.lowest / t.eps) <= raw <= (t.highest / t.eps), (raw, t)
    return raw * t.eps


def raw_of(v: Fraction, t: T) -> int:
    assert t.holds(v), (v, t)
    q = v / t.eps
    return q.numerator


# ------------------------------------------------------------------------------------------- conversion
def quantise(v: Fraction, t: T, q: str) -> Fraction:
    """Snap v onto t's grid of multiples of 2^-F (range is not considered yet)."""
    steps = v / t.eps
    if q == "TRN":
        k = math.floor(steps)
    elif q == "RND":
        k = math.floor(steps + Fraction(1, 2))
    else:
        raise ValueError(q)
    return k * t.eps


def overflow(v: Fraction, t: T, o: str) -> Fraction:
    """Bring an on-grid value into t's range."""
    if t.lowest <= v <= t.highest:
        return v
    if o == "SAT":
        return t.highest if v > t.highest else t.lowest
    if o != "WRAP":
        raise ValueError(o)
    # keep the low W bits of the two's-complement pattern, then read them back as signed or unsigned
    steps = (v / t.eps).numerator
    bits = steps & ((1 << t.w) - 1)
    if t.signed and bits >> (t.w - 1):
        bits -= 1 << t.w
    return bits * t.eps


def cast(v: Fraction, t: T, q: str = "TRN", o: str = "WRAP") -> Fraction:
    """ap_fixed assignment `t x = v;` with modes q, o: the resulting value."""
    return overflow(quantise(v, t, q), t, o)


def from_float(x: float, t: T, q: str = "RND", o: str = "SAT") -> Fraction:
    """vhls's contract for real inputs: NaN is an error; infinity saturates under SAT and is an error under WRAP."""
    if math.isnan(x):
        raise ValueError("NaN")
    if math.isinf(x):
        if o != "SAT":
            raise ValueError("infinity cannot wrap")
        return t.highest if x > 0 else t.lowest
    return cast(Fraction(x), t, q, o)


def to_float(v: Fraction) -> float:
    """The nearest double (Fraction -> float rounds correctly, ties to even)."""
    return float(v)


def to_float32(v: Fraction) -> float:
    """The nearest IEEE single (ties to even; subnormals below 2^-126; infinity from 2^128 on), as a Python float."""
    if v == 0:
        return 0.0
    a = abs(v)
    e = a.numerator.bit_length() - a.denominator.bit_length()  # 2^e <= a < 2^(e+1), after the fix-up below
    if Fraction(2) ** e > a:
        e -= 1
    quantum = Fraction(2) ** (max(e, -126) - 23)  # 24 significant bits; a fixed 2^-149 step for subnormals
    n = math.floor(a / quantum)
    rest = a / quantum - n
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and n % 2 == 1):
        n += 1
    r = n * quantum
    out = math.inf if r >= Fraction(2) ** 128 else float(r)
    return out if v > 0 else -out


# ------------------------------------------------------------------------------------------- result types
# ap_fixed_base<_AP_W, _AP_I, _AP_S>::RType<_AP_W2, _AP_I2, _AP_S2> (ap_fixed_base.h), transcribed:
#   mult_w = _AP_W + _AP_W2;  mult_i = _AP_I + _AP_I2;  mult_s = _AP_S || _AP_S2
#   plus_i = AP_MAX(_AP_I + (_AP_S2 && !_AP_S), _AP_I2 + (_AP_S && !_AP_S2)) + 1
#   plus_w = plus_i + AP_MAX(_AP_F, F2);  plus_s = _AP_S || _AP_S2
#   minus_w, minus_i as plus;  minus_s = true
#   logic_i = AP_MAX(_AP_I + (_AP_S2 && !_AP_S), _AP_I2 + (_AP_S && !_AP_S2))
#   logic_w = logic_i + AP_MAX(_AP_F, F2);  logic_s = _AP_S || _AP_S2
# and unary minus returns ap_fixed_base<_AP_W + 1, _AP_I + 1, true>.
def _int_part(a: T, b: T) -> int:
    return max(a.i + (b.signed and not a.signed), b.i + (a.signed and not b.signed))


def plus(a: T, b: T) -> T:
    i = _int_part(a, b) + 1
    return T(i + max(a.f, b.f), i, a.signed or b.signed)


def minus(a: T, b: T) -> T:
    i = _int_part(a, b) + 1
    return T(i + max(a.f, b.f), i, True)


def mult(a: T, b: T) -> T:
    return T(a.w + b.w, a.i + b.i, a.signed or b.signed)


def negate(a: T) -> T:
    return T(a.w + 1, a.i + 1, True)


def logic(a: T, b: T) -> T:
    """The common type of two formats (ap_fixed's `logic` RType): what max, min and select return."""
    i = _int_part(a, b)
    return T(i + max(a.f, b.f), i, a.signed or b.signed)


def smallest_common(a: T, b: T) -> T:
    """The narrowest format holding every value of a and of b, found by search (a cross-check of `logic`)."""
    f = max(a.f, b.f)
    signed = a.signed or b.signed
    lo, hi = min(a.lowest, b.lowest), max(a.highest, b.highest)
    i = -f - 2
    while True:
        t = T(i + f, i, signed) if i + f >= 1 else None
        if t is not None and t.lowest <= lo and hi <= t.highest:
            return t
        i += 1
