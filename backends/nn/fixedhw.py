"""Fixed-point arithmetic in Amaranth, mirroring `vhls.ir.numerics` exactly.

A value of IR type `fixed<W,I>` is a `signed(W)` Amaranth value holding the raw integer (`unsigned(W)` for
`ufixed`); values travel packed in flat bit vectors, element i at bits [i·W, (i+1)·W).
"""

from collections.abc import Sequence
from typing import TYPE_CHECKING

from amaranth.hdl import Module, Mux, Shape, Signal, Value, signed, unsigned

from vhls.ir import numerics as fx
from vhls.ir.types import Fixed

if TYPE_CHECKING:
    from vhls.backends.nn.recognise import PostOp


def shape_of(t: Fixed) -> Shape:
    return signed(t.width) if t.signed else unsigned(t.width)


def element(flat: Value, i: int, t: Fixed) -> Value:
    """The i-th packed element of `flat`, with t's signedness."""
    bits = flat[i * t.width:(i + 1) * t.width]
    return bits.as_signed() if t.signed else bits.as_unsigned()


def fit(m: Module, v: Value, t: Fixed, name: str) -> Signal:
    """`v` in a signal of t's shape: sign/zero-extends or keeps the low bits (two's-complement wrap)."""
    s = Signal(shape_of(t), name=name)
    m.d.comb += s.eq(v)
    return s


def align(v: Value, src: Fixed, frac: int) -> Value:
    """Exact re-scaling to `frac` fraction bits (frac >= src.frac)."""
    assert frac >= src.frac
    return v << (frac - src.frac) if frac > src.frac else v


def quantise(v: Value, shift: int, q: str) -> Value:
    """Drop `shift` fraction bits: TRN = floor (arithmetic shift), RND = round half up."""
    if shift <= 0:
        return v
    if q == "RND":
        v = v + (1 << (shift - 1))  # Amaranth widens the sum, so this cannot overflow
    elif q != "TRN":
        raise ValueError(f"unknown quantisation mode {q!r}")
    return v >> shift


def to_frac(v: Value, src: Fixed, frac: int, q: str) -> Value:
    """`v` re-expressed with `frac` fraction bits: exact when widening, quantised with q when narrowing."""
    return align(v, src, frac) if frac >= src.frac else quantise(v, src.frac - frac, q)


def convert(m: Module, v: Value, src: Fixed, dst: Fixed, q: str, o: str, name: str) -> Signal:
    """cast<dst, q, o>(v): quantise once, then wrap or saturate once, as `numerics.convert`."""
    r = to_frac(v, src, dst.frac, q)
    if o == "SAT":
        r = Mux(r < dst.min_raw, dst.min_raw, Mux(r > dst.max_raw, dst.max_raw, r))
    elif o != "WRAP":
        raise ValueError(f"unknown overflow mode {o!r}")
    return fit(m, r, dst, name)


def maxmin(m: Module, kind: str, v: Value, v_t: Fixed, c: int, c_t: Fixed, name: str) -> Signal:
    """max/min of v and the raw constant c, in the common type (both aligned exactly)."""
    out_t = fx.common_type(v_t, c_t)
    a = align(v, v_t, out_t.frac)
    b = c << (out_t.frac - c_t.frac)  # Python int: exact
    # Ties pick either (equal values): `>=` makes max(v, 0) a test of v's sign bit alone, where `>` needs all bits.
    pick = a >= b if kind == "max" else a <= b
    return fit(m, Mux(pick, a, b), out_t, name)


def post_ops(m: Module, v: Value, t: Fixed, ops: Sequence["PostOp"], prefix: str) -> tuple[Value, Fixed]:
    """A recognised chain of post-accumulation steps (casts, max/min with a constant), each exactly as the IR does."""
    for k, op in enumerate(ops):
        name = f"{prefix}{k}"
        if op.kind == "cast":
            v = convert(m, v, t, op.type, op.q, op.o, name)
        else:
            assert op.const_type is not None
            v = maxmin(m, op.kind, v, t, op.const, op.const_type, name)
        t = op.type
    return v, t
