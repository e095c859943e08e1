"""Layer-level DSL: `Sequential(Input(...), Dense(...), ReLU(), ...)` lowers a network to a `Model`.

    from vhls.layers import Input, Dense, ReLU, Sequential
    model = Sequential(Input((16,)), Dense(64, w1, b1), ReLU(), Dense(5, w2, b2), name="mlp")

Conventions follow torch: `Dense` weights are (units, in_features); `Conv2d` weights are (O, C, kh, kw) and a sample
is laid out [C][H][W]; `Flatten` is row-major over (C, H, W); pooling stride defaults to the kernel size.

Lowering produces two programs from the same structure:

* `model.ir`, the exact fixed-point program (the golden model): weights and biases are quantised to their precision
  (`vhls.precision`; default fixed<16,6>, round to nearest, saturate); every dot product accumulates exactly and is
  cast once to the layer's result type (default fixed<16,6>, TRN, WRAP). With an explicit accumulator type, the
  bias is cast into it and every step of the dot product (a left fold) is cast back into it, with its modes.
* `model.float_ir`, the float reference: f32 throughout, unquantised weights, no casts, so `model.run(x,
  exact=False)` reproduces the source framework's forward pass.

`BatchNorm` is folded (in float64, before quantisation) into the Dense/Conv2d directly before it:
`W' = W * s`, `b' = (b - mean) * s + beta` with `s = gamma / sqrt(var + eps)` per output channel. A Dense/Conv2d
without bias gets a zero bias, so every dot product has the same IR shape. Variable names in the IR are fixed: the
input is `x`, layer i's output `h<i>`, its weights `w<i>` and bias `b<i>`, conv patches `p<i>`.
"""

import math
import re
from typing import Any, ClassVar

import numpy as np

from vhls import lowering as lw
from vhls.ir.check import KEYWORDS
from vhls.ir.errors import VhlsError
from vhls.ir.prims import PRIMITIVES
from vhls.ir.terms import Param, Program, Term, Var, const, quantised_const
from vhls.ir.types import FLOAT, Fixed, array, ufixed
from vhls.model import LayerInfo, Model
from vhls.precision import DEFAULT, EXACT, Precision, Quant, as_precision, dot_accumulator, quant, sum_accumulator

__all__ = ["AvgPool2d", "BatchNorm", "Conv2d", "Dense", "Flatten", "Input", "Layer", "MaxPool2d", "ReLU", "Sequential"]


# ---------------------------------------------------------------------------------------------- argument checks
def _tensor(v: Any, layer: str, what: str, ndim: int | None = None) -> np.ndarray:
    """A float64 array from numpy data, nested lists or a torch tensor; NaN and infinity are errors."""
    if hasattr(v, "detach"):  # torch.Tensor, without importing torch
        v = v.detach().cpu().numpy()
    try:
        a = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError):
        raise VhlsError(f"{layer}: {what} must be an array of numbers, got {type(v).__name__}") from None
    if ndim is not None and a.ndim != ndim:
        raise VhlsError(f"{layer}: {what} must have {ndim} dimension(s), got shape {a.shape}")
    for bad, word in ((np.isnan(a), "NaN"), (np.isinf(a), "infinity")):
        if bad.any():
            at = tuple(int(i) for i in np.argwhere(bad)[0])
            raise VhlsError(f"{layer}: {what} contains {word} (first at index {at if a.ndim else ()})")
    return a


def _pair(v: Any, layer: str, what: str, minimum: int) -> tuple[int, int]:
    vals = (v, v) if isinstance(v, int | np.integer) else tuple(v) if isinstance(v, tuple | list) else None
    if vals is None or len(vals) != 2 or not all(isinstance(n, int | np.integer) and not isinstance(n, bool)
                                                 for n in vals):
        raise VhlsError(f"{layer}: {what} must be an integer or a pair of integers, got {v!r}")
    if any(n < minimum for n in vals):
        raise VhlsError(f"{layer}: {what} must be at least {minimum}, got {v!r}")
    return int(vals[0]), int(vals[1])


def _shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(map(str, shape)) + (",)" if len(shape) == 1 else ")")


# ---------------------------------------------------------------------------------------------- layers
class Layer:
    """Base class. `name` defaults to the kind and a running number (dense1, conv2, ...)."""

    prefix: ClassVar[str] = "layer"

    def __init__(self, name: str | None = None) -> None:
        if name is not None and (not isinstance(name, str) or not name):
            raise VhlsError(f"{type(self).__name__}: name must be a non-empty string, got {name!r}")
        self.name = name

    @property
    def kind(self) -> str:
        return type(self).__name__

    def __repr__(self) -> str:
        return f"{self.kind}(name={self.name!r})"


class Input(Layer):
    """The model input: shape of one sample (no batch axis) and its element type. Real inputs are quantised to the
    type with its modes, by default round to nearest and saturate (`Input((4,), "fixed<8,3,TRN,WRAP>")` to change)."""

    prefix = "input"

    def __init__(self, shape: tuple[int, ...] | int, type: str | Quant | Fixed = "fixed<16,6>", *,
                 name: str | None = None) -> None:
        super().__init__(name)
        shape = (shape,) if isinstance(shape, int | np.integer) else shape
        if not isinstance(shape, tuple | list) or not shape or not all(
                isinstance(n, int | np.integer) and not isinstance(n, bool) and n >= 1 for n in shape):
            raise VhlsError(f"Input: shape must be a tuple of positive integers, got {shape!r}")
        self.shape = tuple(int(n) for n in shape)
        self.type = quant(type, q="RND", o="SAT")


class Dense(Layer):
    """Fully connected: y = W x + b with W of shape (units, in_features), like torch.nn.Linear."""

    prefix = "dense"

    def __init__(self, units: int, weight: Any, bias: Any = None, *, precision: Precision | str | None = None,
                 name: str | None = None) -> None:
        super().__init__(name)
        self.units, self.weight, self.bias = units, weight, bias
        self.precision = as_precision(precision, f"Dense {name or ''}".strip())


class Conv2d(Layer):
    """2-D convolution (cross-correlation, like torch): weight (O, C, kh, kw), per-sample layout [C][H][W]."""

    prefix = "conv"

    def __init__(self, out_channels: int, kernel_size: int | tuple[int, int], weight: Any, bias: Any = None, *,
                 stride: int | tuple[int, int] = 1, padding: int | tuple[int, int] = 0,
                 precision: Precision | str | None = None, name: str | None = None) -> None:
        super().__init__(name)
        self.out_channels, self.kernel_size, self.weight, self.bias = out_channels, kernel_size, weight, bias
        self.stride, self.padding = stride, padding
        self.precision = as_precision(precision, f"Conv2d {name or ''}".strip())


class ReLU(Layer):
    prefix = "relu"


class MaxPool2d(Layer):
    """Maximum over each kh x kw window of each channel; stride defaults to the kernel size (like torch)."""

    prefix = "maxpool"

    def __init__(self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None, *,
                 name: str | None = None) -> None:
        super().__init__(name)
        self.kernel_size, self.stride = kernel_size, stride


class AvgPool2d(Layer):
    """Mean over each window: an exact sum (or `precision.acc`) times 1/(kh*kw), cast to `precision.result`.

    When kh*kw is a power of two the scaling is an exact shift (`shr`). Otherwise the reciprocal is a constant
    rounded to ufixed<F,0> with F = ceil(log2(kh*kw)) + I_in + F_result (I_in: integer bits of the input type), so
    the scaled sum differs from the true mean by at most 2^-(F_result+2), a quarter of a result LSB, before the
    final cast; the cast may then still round a value lying that close to a rounding boundary the other way.
    """

    prefix = "avgpool"

    def __init__(self, kernel_size: int | tuple[int, int], stride: int | tuple[int, int] | None = None, *,
                 precision: Precision | str | None = None, name: str | None = None) -> None:
        super().__init__(name)
        self.kernel_size, self.stride = kernel_size, stride
        self.precision = as_precision(precision, f"AvgPool2d {name or ''}".strip())


class Flatten(Layer):
    """Row-major flattening of a sample, (C, H, W) -> (C*H*W,), like torch.flatten(x, 1)."""

    prefix = "flatten"


class BatchNorm(Layer):
    """Inference batch normalisation, folded into the Dense/Conv2d directly before it (see the module doc)."""

    prefix = "bn"

    def __init__(self, gamma: Any, beta: Any, running_mean: Any, running_var: Any, eps: float = 1e-5, *,
                 name: str | None = None) -> None:
        super().__init__(name)
        self.gamma, self.beta, self.running_mean, self.running_var, self.eps = (gamma, beta, running_mean,
                                                                                 running_var, eps)


# ---------------------------------------------------------------------------------------------- lowering
class _State:
    """What the next layer sees: its input variable, shape and exact scalar type, and the bindings so far."""

    def __init__(self, shape: tuple[int, ...], scalar: Fixed, outer: Precision) -> None:
        self.var, self.shape, self.scalar, self.outer = "x", shape, scalar, outer
        self.index = 0
        self.exact: list[tuple[str, Term]] = []
        self.float: list[tuple[str, Term]] = []

    def bind(self, name: str, exact: Term, flt: Term) -> None:
        self.exact.append((name, exact))
        self.float.append((name, flt))


def _weights(st: _State, name: str, values: np.ndarray, q: Quant, layer: str, what: str) -> None:
    exact = quantised_const(values, q.type, q.q, q.o, what=f"{layer}: {what}")
    st.bind(name, exact, const(values.astype(np.float32), array(FLOAT, *values.shape)))


def _fold(layer: str, w: np.ndarray, b: np.ndarray, bns: list[tuple[str, BatchNorm]]) -> tuple[np.ndarray, ...]:
    """Fold BatchNorms into (w, b) in float64: w' = w * s, b' = (b - mean) * s + beta, s = gamma/sqrt(var+eps)."""
    n = w.shape[0]
    for bn_name, bn in bns:
        parts = {}
        for what in ("gamma", "beta", "running_mean", "running_var"):
            a = _tensor(getattr(bn, what), bn_name, what, ndim=1)
            if a.shape != (n,):
                raise VhlsError(f"{bn_name}: {what} has shape {_shape_text(a.shape)} but {layer} has {n} outputs: "
                                f"expected ({n},)")
            parts[what] = a
        eps = float(bn.eps)
        if not math.isfinite(eps) or eps < 0:
            raise VhlsError(f"{bn_name}: eps must be a finite non-negative number, got {bn.eps!r}")
        denom = parts["running_var"] + eps
        if (denom <= 0).any():
            raise VhlsError(f"{bn_name}: running_var + eps must be positive (first offending channel "
                            f"{int(np.argmax(denom <= 0))})")
        s = parts["gamma"] / np.sqrt(denom)
        w = w * s.reshape((n,) + (1,) * (w.ndim - 1))
        b = (b - parts["running_mean"]) * s + parts["beta"]
    return w, b


def _acc_text(acc: Quant, exact_acc: bool) -> str:
    return f"acc={acc.type}(exact)" if exact_acc else f"acc={acc}"  # an exact accumulator never rounds or overflows


def _prec_text(p: Precision, acc: Quant, exact_acc: bool) -> str:
    """Compact text for reports: `w/b=fixed<16,6,RND,SAT> acc=fixed<39,19>(exact) out=fixed<16,6,TRN,WRAP>`."""
    wb = f"w/b={p.weight}" if p.weight == p.bias else f"w={p.weight} b={p.bias}"
    return f"{wb} {_acc_text(acc, exact_acc)} out={p.result}"


def _resolve_acc(p: Precision, exact: Fixed) -> tuple[Quant, bool]:
    if p.acc is None or p.acc == EXACT:
        return Quant(exact, "TRN", "WRAP"), True
    assert isinstance(p.acc, Quant)
    return p.acc, False


def _lower_dense(st: _State, layer: Dense, name: str, bns: list[tuple[str, BatchNorm]]) -> tuple:
    units = layer.units
    if not isinstance(units, int | np.integer) or isinstance(units, bool) or units < 1:
        raise VhlsError(f"{name}: units must be a positive integer, got {units!r}")
    w = _tensor(layer.weight, name, "weight", ndim=2)
    if len(st.shape) != 1:
        raise VhlsError(f"{name}: Dense needs a vector input but gets shape {_shape_text(st.shape)} "
                        f"(add Flatten before it)")
    (n_in,) = st.shape
    if w.shape != (units, n_in):
        raise VhlsError(f"{name}: weight has shape {_shape_text(w.shape)} but the layer has {units} units and its "
                        f"input has {n_in} features: expected ({units}, {n_in})")
    has_bias = layer.bias is not None or bool(bns)
    b = np.zeros(units) if layer.bias is None else _tensor(layer.bias, name, "bias", ndim=1)
    if b.shape != (units,):
        raise VhlsError(f"{name}: bias has shape {_shape_text(b.shape)}, expected ({units},)")
    w, b = _fold(name, w, b, bns)
    p = layer.precision.merged(st.outer)
    assert isinstance(p.weight, Quant) and isinstance(p.bias, Quant) and isinstance(p.result, Quant)
    acc, exact_acc = _resolve_acc(p, dot_accumulator(p.weight.type, st.scalar, n_in, p.bias.type))
    i = st.index
    _weights(st, f"w{i}", w, p.weight, name, "weight")
    _weights(st, f"b{i}", b, p.bias, name, "bias")
    wv, bv, xv = lw.var(f"w{i}"), lw.var(f"b{i}"), lw.var(st.var)
    exact = lw.dense(wv, bv, xv, acc, p.result)
    flt = lw.dense(wv, bv, xv, None, None)
    kind = "Dense" + "+BatchNorm" * len(bns)
    info = LayerInfo(name, kind, (units,), units * n_in, w.size + (units if has_bias else 0),
                     _prec_text(p, acc, exact_acc))
    return exact, flt, (units,), p.result.type, info


def _lower_conv(st: _State, layer: Conv2d, name: str, bns: list[tuple[str, BatchNorm]]) -> tuple:
    o = layer.out_channels
    if not isinstance(o, int | np.integer) or isinstance(o, bool) or o < 1:
        raise VhlsError(f"{name}: out_channels must be a positive integer, got {o!r}")
    kh, kw = _pair(layer.kernel_size, name, "kernel_size", 1)
    sh, sw = _pair(layer.stride, name, "stride", 1)
    ph, pw = _pair(layer.padding, name, "padding", 0)
    if len(st.shape) != 3:
        raise VhlsError(f"{name}: Conv2d needs an input of shape (C, H, W) but gets {_shape_text(st.shape)}")
    c, h, wd = st.shape
    w = _tensor(layer.weight, name, "weight", ndim=4)
    if w.shape != (o, c, kh, kw):
        raise VhlsError(f"{name}: weight has shape {_shape_text(w.shape)} but the layer has {o} output channels, "
                        f"a {kh}x{kw} kernel and its input has {c} channels: expected ({o}, {c}, {kh}, {kw})")
    hp, wp = h + 2 * ph, wd + 2 * pw
    if kh > hp or kw > wp:
        raise VhlsError(f"{name}: kernel {kh}x{kw} is larger than the (padded) input {hp}x{wp}")
    has_bias = layer.bias is not None or bool(bns)
    b = np.zeros(o) if layer.bias is None else _tensor(layer.bias, name, "bias", ndim=1)
    if b.shape != (o,):
        raise VhlsError(f"{name}: bias has shape {_shape_text(b.shape)}, expected ({o},)")
    w, b = _fold(name, w, b, bns)
    k = c * kh * kw
    ho, wo = (hp - kh) // sh + 1, (wp - kw) // sw + 1
    p = layer.precision.merged(st.outer)
    assert isinstance(p.weight, Quant) and isinstance(p.bias, Quant) and isinstance(p.result, Quant)
    acc, exact_acc = _resolve_acc(p, dot_accumulator(p.weight.type, st.scalar, k, p.bias.type))
    i = st.index
    _weights(st, f"w{i}", w.reshape(o, k), p.weight, name, "weight")
    _weights(st, f"b{i}", b, p.bias, name, "bias")
    patches = lw.patches2d(lw.pad2d(lw.var(st.var), ph, pw), kh, kw, sh, sw)
    st.bind(f"p{i}", patches, patches)
    wv, bv, pv = lw.var(f"w{i}"), lw.var(f"b{i}"), lw.var(f"p{i}")
    exact = lw.conv2d(wv, bv, pv, acc, p.result)
    flt = lw.conv2d(wv, bv, pv, None, None)
    kind = "Conv2d" + "+BatchNorm" * len(bns)
    info = LayerInfo(name, kind, (o, ho, wo), o * ho * wo * k, w.size + (o if has_bias else 0),
                     _prec_text(p, acc, exact_acc))
    return exact, flt, (o, ho, wo), p.result.type, info


def _pool_geometry(st: _State, layer: MaxPool2d | AvgPool2d, name: str) -> tuple[int, ...]:
    kh, kw = _pair(layer.kernel_size, name, "kernel_size", 1)
    sh, sw = (kh, kw) if layer.stride is None else _pair(layer.stride, name, "stride", 1)
    if len(st.shape) != 3:
        raise VhlsError(f"{name}: {layer.kind} needs an input of shape (C, H, W) but gets {_shape_text(st.shape)}")
    c, h, w = st.shape
    if kh > h or kw > w:
        raise VhlsError(f"{name}: kernel {kh}x{kw} is larger than the input {h}x{w}")
    return kh, kw, sh, sw, c, (h - kh) // sh + 1, (w - kw) // sw + 1


def _lower_maxpool(st: _State, layer: MaxPool2d, name: str) -> tuple:
    kh, kw, sh, sw, c, ho, wo = _pool_geometry(st, layer, name)
    t = st.scalar
    low = lw.prim("reduce", lw.fn(("acc", "v"), lw.prim("max", lw.var("acc"), lw.var("v"))),
                  const(t.min_raw, t), lw.var("k"))
    flow = lw.prim("reduce", lw.fn(("acc", "v"), lw.prim("max", lw.var("acc"), lw.var("v"))),
                   const(float(np.finfo(np.float32).min), FLOAT), lw.var("k"))
    exact = lw.map_windows2d(lw.var(st.var), kh, kw, sh, sw, lw.fn("k", low))
    flt = lw.map_windows2d(lw.var(st.var), kh, kw, sh, sw, lw.fn("k", flow))
    return exact, flt, (c, ho, wo), t, LayerInfo(name, "MaxPool2d", (c, ho, wo), 0, 0, str(t))


def _lower_avgpool(st: _State, layer: AvgPool2d, name: str) -> tuple:
    kh, kw, sh, sw, c, ho, wo = _pool_geometry(st, layer, name)
    n = kh * kw
    p = layer.precision.merged(st.outer)
    assert isinstance(p.result, Quant)
    acc, exact_acc = _resolve_acc(p, sum_accumulator([(st.scalar, n)]))
    step = lw.cast(lw.prim("add", lw.var("acc"), lw.var("v")), acc)
    total = lw.prim("reduce", lw.fn(("acc", "v"), step), const(0, acc.type), lw.var("k"))
    fstep = lw.prim("add", lw.var("acc"), lw.var("v"))
    ftotal = lw.prim("reduce", lw.fn(("acc", "v"), fstep), const(0.0, FLOAT), lw.var("k"))
    muls = 0
    if n == 1:
        scaled: Term = total
        how = "none"
    elif n & (n - 1) == 0:
        scaled = lw.prim("shr", total, static=(n.bit_length() - 1,))
        how = f"shr<{n.bit_length() - 1}>"
    else:
        frac = min(max((n - 1).bit_length() + st.scalar.int_bits + p.result.type.frac, 2), 60)
        rt = ufixed(frac, 0)
        scaled = lw.prim("mul", total, quantised_const(1.0 / n, rt, "RND", "SAT"))
        how = f"x 1/{n} as {rt}"
        muls = c * ho * wo
    exact = lw.map_windows2d(lw.var(st.var), kh, kw, sh, sw, lw.fn("k", lw.cast(scaled, p.result)))
    fscaled = lw.prim("mul", ftotal, const(1.0 / n, FLOAT))
    flt = lw.map_windows2d(lw.var(st.var), kh, kw, sh, sw, lw.fn("k", fscaled))
    text = f"{_acc_text(acc, exact_acc)} scale={how} out={p.result}"
    return exact, flt, (c, ho, wo), p.result.type, LayerInfo(name, "AvgPool2d", (c, ho, wo), muls, 0, text)


def _lower_relu(st: _State, name: str) -> tuple:
    t = st.scalar
    f = lw.fn("v", lw.prim("max", lw.var("v"), const(0, t)))
    ff = lw.fn("v", lw.prim("max", lw.var("v"), const(0.0, FLOAT)))
    rank = len(st.shape)
    return (lw.elementwise(lw.var(st.var), rank, f), lw.elementwise(lw.var(st.var), rank, ff), st.shape, t,
            LayerInfo(name, "ReLU", st.shape, 0, 0, str(t)))


def _lower_flatten(st: _State, name: str) -> tuple:
    n = int(np.prod(st.shape))
    t = lw.flatten(lw.var(st.var), len(st.shape))
    return t, t, (n,), st.scalar, LayerInfo(name, "Flatten", (n,), 0, 0, str(st.scalar))


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _names(layers: tuple[Layer, ...]) -> list[str]:
    counts: dict[str, int] = {}
    out: list[str] = []
    for layer in layers:
        if layer.name is not None:
            out.append(layer.name)
            continue
        counts[layer.prefix] = counts.get(layer.prefix, 0) + 1
        k = counts[layer.prefix]
        out.append("input" if layer.prefix == "input" and k == 1 else f"{layer.prefix}{k}")
    seen: set[str] = set()
    for n in out:
        if n in seen:
            raise VhlsError(f"Sequential: two layers are named {n!r}; layer names must be unique")
        seen.add(n)
    return out


def Sequential(*layers: Layer, name: str = "model", precision: Precision | str | None = None) -> Model:
    """Lower a chain of layers (the first one an `Input`) to a Model with exact and float programs.

    `precision` applies to every layer; a layer's own `precision` overrides it field by field, and unset fields
    fall back to `vhls.precision.DEFAULT`.
    """
    if len(layers) == 1 and isinstance(layers[0], list | tuple):
        layers = tuple(layers[0])
    if not isinstance(name, str) or not _NAME.match(name) or name in KEYWORDS or name in PRIMITIVES:
        raise VhlsError(f"Sequential: model name {name!r} must be an identifier that is not an IR keyword or "
                        f"primitive (it names the IR program)")
    for i, layer in enumerate(layers):
        if not isinstance(layer, Layer):
            raise VhlsError(f"Sequential: argument {i + 1} is not a layer: {type(layer).__name__} {layer!r}")
    if not layers or not isinstance(layers[0], Input):
        got = f"{layers[0].kind} {layers[0].name or ''}".rstrip() if layers else "no layers"
        raise VhlsError(f"Sequential: the first layer must be Input(shape), got {got}")
    outer = as_precision(precision, "Sequential").merged(DEFAULT)
    names = _names(layers)
    inp = layers[0]
    assert isinstance(inp, Input)
    st = _State(inp.shape, inp.type.type, outer)
    infos = [LayerInfo(names[0], "Input", inp.shape, 0, 0, str(inp.type))]
    outputs: list[tuple[Term, Term]] = []
    j = 1
    while j < len(layers):
        layer, lname = layers[j], names[j]
        bns: list[tuple[str, BatchNorm]] = []
        while isinstance(layer, Dense | Conv2d) and j + 1 + len(bns) < len(layers) and \
                isinstance(layers[j + 1 + len(bns)], BatchNorm):
            bn = layers[j + 1 + len(bns)]
            assert isinstance(bn, BatchNorm)
            bns.append((names[j + 1 + len(bns)], bn))
        st.index += 1
        if isinstance(layer, Input):
            raise VhlsError(f"{lname}: Input may only be the first layer")
        if isinstance(layer, BatchNorm):
            prev = f"{layers[j - 1].kind} {names[j - 1]}"
            raise VhlsError(f"{lname}: BatchNorm must directly follow a Dense or Conv2d (to be folded into it), "
                            f"but follows {prev}")
        if isinstance(layer, Dense):
            out = _lower_dense(st, layer, lname, bns)
        elif isinstance(layer, Conv2d):
            out = _lower_conv(st, layer, lname, bns)
        elif isinstance(layer, ReLU):
            out = _lower_relu(st, lname)
        elif isinstance(layer, MaxPool2d):
            out = _lower_maxpool(st, layer, lname)
        elif isinstance(layer, AvgPool2d):
            out = _lower_avgpool(st, layer, lname)
        elif isinstance(layer, Flatten):
            out = _lower_flatten(st, lname)
        else:
            raise VhlsError(f"{lname}: unsupported layer kind {layer.kind}")
        exact, flt, st.shape, st.scalar, info = out
        infos.append(info)
        outputs.append((exact, flt))
        j += 1 + len(bns)
        if j < len(layers) and not isinstance(exact, Var):
            st.bind(f"h{st.index}", exact, flt)
            st.var = f"h{st.index}"
        elif j < len(layers):
            assert isinstance(exact, Var)
            st.var = exact.name  # nothing computed (e.g. Flatten of a vector): no new name
    if not outputs:
        raise VhlsError("Sequential: the model has no layers after Input")
    exact_body = lw.lets(st.exact, outputs[-1][0])
    float_body = lw.lets(st.float, outputs[-1][1])
    exact_prog = Program(name, (Param("x", array(inp.type.type, *inp.shape)),), exact_body)
    float_prog = Program(name, (Param("x", array(FLOAT, *inp.shape)),), float_body)
    return Model(exact_prog, float_prog, infos, input_modes=(inp.type.q, inp.type.o))
