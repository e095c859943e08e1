"""Per-layer fixed-point precision: what the weights, biases, accumulators and results of a layer are stored in.

A `Quant` is a fixed-point type plus the two ap_fixed conversion modes used when a value is brought into it:
quantisation `TRN` (floor) or `RND` (round half up), then overflow `WRAP` (two's complement) or `SAT` (clamp).
The arithmetic itself is `vhls.ir.numerics`, the one implementation shared by the golden model and every backend.

Text form (also accepted anywhere a `Quant` is expected)::

    fixed<16,6>            16 bits, 6 integer bits (sign included), 10 fraction bits
    ufixed<8,0>            unsigned, 8 fraction bits
    fixed<16,6,RND,SAT>    with modes; `ap_fixed<16,6,AP_RND,AP_SAT>` (hls4ml spelling) is accepted too

Text without modes takes the defaults of the place it is used: `TRN, WRAP` (ap_fixed's own defaults) for
accumulators and results, `RND, SAT` for weights and biases (see `Precision`).

Defaults (`DEFAULT`) and why:

* **result = fixed<16,6,TRN,WRAP>**: hls4ml's default `ap_fixed<16,6>` with ap_fixed's default modes, so a layer
  output can be cross-checked bit for bit against hls4ml's emulation of the same network.
* **weight = bias = fixed<16,6,RND,SAT>**: round to nearest, and saturate: wrapping a weight that is out of range
  turns a large positive weight into a large negative one, which is never what a user wants, and rounding halves the
  quantisation error of truncation at no hardware cost (the constants are computed offline). Note that hls4ml
  truncates weights (its C++ converts the float literals with ap_fixed's TRN); give `fixed<16,6,TRN,WRAP>` to
  reproduce that.
* **acc = None, i.e. exact**: an accumulator wide enough that the dot product plus bias can never overflow or lose
  a bit (`dot_accumulator`), so the only rounding in a layer is the one cast to `result`. hls4ml's default
  accumulates in `ap_fixed<16,6>` instead; set `acc="fixed<16,6>"` to reproduce that.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

from vhls.ir import numerics as fx
from vhls.ir.errors import VhlsError
from vhls.ir.types import MAX_WIDTH, Fixed

EXACT = "exact"  # an explicit "exact accumulator" that overrides an outer precision's accumulator

_SPEC = re.compile(r"^\s*(?:ap_)?(u?)fixed\s*<\s*([+-]?\d+)\s*,\s*([+-]?\d+)\s*((?:,\s*[A-Za-z_]+\s*)*)>\s*$",
                   re.IGNORECASE)


@dataclass(frozen=True)
class Quant:
    """A fixed-point type and the modes that bring values into it: `str()` gives `fixed<16,6,TRN,WRAP>`."""

    type: Fixed
    q: str = "TRN"
    o: str = "WRAP"

    def __post_init__(self) -> None:
        if not isinstance(self.type, Fixed):
            raise VhlsError(f"a precision needs a fixed-point type, got {self.type!r}")
        if self.q not in fx.Q_MODES:
            raise VhlsError(f"unknown quantisation mode {self.q!r}; known: {', '.join(fx.Q_MODES)}")
        if self.o not in fx.O_MODES:
            raise VhlsError(f"unknown overflow mode {self.o!r}; known: {', '.join(fx.O_MODES)}")

    def __str__(self) -> str:
        return f"{str(self.type)[:-1]},{self.q},{self.o}>"


def quant(spec: "str | Quant | Fixed", *, q: str = "TRN", o: str = "WRAP") -> Quant:
    """Parse `fixed<16,6>`, `ufixed<8,0>`, `fixed<16,6,RND,SAT>` (or take a Quant / Fixed as it is).

    `q` and `o` are the modes used when the spec names none (ap_fixed's TRN, WRAP unless told otherwise).
    Malformed text, W <= 0 and unknown modes raise VhlsError naming the text.
    """
    if isinstance(spec, Quant):
        return spec
    if isinstance(spec, Fixed):
        return Quant(spec, q, o)
    if not isinstance(spec, str):
        raise VhlsError(f"a precision is text like 'fixed<16,6>' or a Quant, got {type(spec).__name__} {spec!r}")
    m = _SPEC.match(spec)
    if m is None:
        raise VhlsError(f"bad precision {spec!r}: expected fixed<W,I>, ufixed<W,I> or fixed<W,I,Q,O> "
                        f"(Q: {'|'.join(fx.Q_MODES)}, O: {'|'.join(fx.O_MODES)})")
    unsigned, width, int_bits, modes = m.group(1), int(m.group(2)), int(m.group(3)), m.group(4)
    if width < 1:
        raise VhlsError(f"bad precision {spec!r}: the width W must be at least 1, got {width}")
    if width > MAX_WIDTH:
        raise VhlsError(f"bad precision {spec!r}: the width W must be at most {MAX_WIDTH}, got {width}")
    got_q = got_o = None
    for raw in (s.strip().upper() for s in modes.split(",") if s.strip()):
        mode = raw.removeprefix("AP_")
        if mode in fx.Q_MODES and got_q is None:
            got_q = mode
        elif mode in fx.O_MODES and got_o is None:
            got_o = mode
        else:
            what = "repeated" if mode in fx.Q_MODES + fx.O_MODES else "unsupported"
            raise VhlsError(f"bad precision {spec!r}: {what} mode {raw!r}; quantisation is one of "
                            f"{'|'.join(fx.Q_MODES)}, overflow one of {'|'.join(fx.O_MODES)}")
    return Quant(Fixed(width, int_bits, not unsigned), got_q or q, got_o or o)


# Field-specific modes for text that names none: constants round and saturate, datapath values truncate and wrap.
_FIELD_MODES = {"weight": ("RND", "SAT"), "bias": ("RND", "SAT"), "acc": ("TRN", "WRAP"), "result": ("TRN", "WRAP")}


@dataclass(frozen=True)
class Precision:
    """Precisions of one layer (or a whole model): each field a Quant, its text, or None = not set here.

    `acc=None` (after merging with every outer level) means an exact accumulator (`dot_accumulator`); write
    `acc="exact"` to ask for it explicitly over an outer precision's accumulator. Text without modes gets
    RND, SAT for weight and bias and TRN, WRAP for acc and result. Fields are normalised to Quant on construction.
    """

    weight: Quant | str | None = None
    bias: Quant | str | None = None
    acc: Quant | str | None = None
    result: Quant | str | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if v is None:
                continue
            if f.name == "acc" and isinstance(v, str) and v.strip().lower() == EXACT:
                object.__setattr__(self, f.name, EXACT)
                continue
            q, o = _FIELD_MODES[f.name]
            object.__setattr__(self, f.name, quant(v, q=q, o=o))

    def merged(self, outer: "Precision") -> "Precision":
        """Field-wise override: this precision's set fields win, unset ones come from `outer`."""
        return Precision(*(getattr(self, f.name) if getattr(self, f.name) is not None else getattr(outer, f.name)
                           for f in fields(self)))

    def __str__(self) -> str:
        return " ".join(f"{f.name}={getattr(self, f.name) if getattr(self, f.name) is not None else '-'}"
                        for f in fields(self))


DEFAULT = Precision(weight="fixed<16,6,RND,SAT>", bias="fixed<16,6,RND,SAT>", acc=None,
                    result="fixed<16,6,TRN,WRAP>")


def as_precision(p: Any, what: str = "precision") -> Precision:
    """A layer's `precision=` argument: None, a Precision, or text/Quant meaning weight, bias and result alike
    (the accumulator stays exact), e.g. `precision="fixed<8,3>"`."""
    if p is None:
        return Precision()
    if isinstance(p, Precision):
        return p
    if isinstance(p, str | Quant | Fixed):
        return Precision(weight=p, bias=p, result=p)  # type: ignore[arg-type]
    raise VhlsError(f"{what}: expected a Precision or text like 'fixed<16,6>', got {type(p).__name__}")


def _clog2(n: int) -> int:
    return max(n - 1, 0).bit_length()


def sum_accumulator(terms: Sequence[tuple[Fixed, int]]) -> Fixed:
    """The smallest signed type (by this formula) holding any sum of `count` values of each listed type, exactly.

    With F = max frac over the terms, I = max over the terms of (int_bits, plus 1 if unsigned), and M the total
    number of summands, the result is `fixed<I + F + ceil(log2 M), I + ceil(log2 M)>`: each summand fits in the
    signed `fixed<I+F, I>`, i.e. |raw| <= 2^(I+F-1), so a sum of M of them has |raw| <= M * 2^(I+F-1) <=
    2^(I+F-1+ceil(log2 M)).
    """
    m = sum(c for _, c in terms)
    f = max(t.frac for t, _ in terms)
    i = max(t.int_bits + (0 if t.signed else 1) for t, _ in terms)
    g = _clog2(m)
    return Fixed(i + f + g, i + g, True)


def dot_accumulator(weight: Fixed, x: Fixed, n: int, bias: Fixed | None = None) -> Fixed:
    """The exact accumulator of `bias + sum_{k<n} w_k * x_k`.

    Products are exact `P = mul_type(weight, x)` = fixed<Ww+Wx, Iw+Ix>. Then (see `sum_accumulator`) with
    F = max(P.frac, bias.frac), I = max(P.int_bits, bias.int_bits) (+1 for an unsigned term), M = n + 1 (n without
    a bias): ACC = fixed<I + F + ceil(log2 M), I + ceil(log2 M)>. Example: fixed<16,6> weights, inputs and bias,
    n = 64: P = fixed<32,12>, M = 65, ACC = fixed<39,19>.
    """
    terms = [(fx.mul_type(weight, x), n)] + ([(bias, 1)] if bias is not None else [])
    return sum_accumulator(terms)
