"""Exact layer-by-layer evaluation of a dense `Network`, with a hook on the accumulators (the fault site).

This is what the nn backend's hardware computes, step by step: for each stage l, every product w·x is exact, then
re-expressed with the accumulator's fraction bits (quantised with the layer's `prod_q` when it has more), summed
with the bias modulo 2^W of the accumulator (mac.py), then `hook(l, x, acc)` may replace the accumulators, then the
post ops (casts, max/min) run exactly as `vhls.ir.numerics` (requant.py). Without a hook the result equals the IR
interpreter (`Model.run_raw`) bit for bit.

Raw arrays are int64 when every intermediate fits in `numerics.INT64_BITS` bits, else numpy object arrays of Python
ints (exact at any width, slower).
"""

from collections.abc import Callable, Sequence

import numpy as np

from vhls.backends.nn.recognise import DenseLayer, Network
from vhls.ir import numerics as fx
from vhls.ir.errors import VhlsError
from vhls.ir.types import Fixed

AccHook = Callable[[int, np.ndarray, np.ndarray], np.ndarray]


def wrap(raw: np.ndarray, t: Fixed) -> np.ndarray:
    """Raw integers modulo 2^W of `t` (two's complement for signed types)."""
    return fx.overflow(np.asarray(raw), t, "WRAP")


def layer_acc(ly: DenseLayer, x: np.ndarray, w: np.ndarray | None = None, x_type: Fixed | None = None,
              w_type: Fixed | None = None) -> np.ndarray:
    """Accumulators (V, n_out) of one stage for inputs x (V, n_in): bias + Σ products, wrapped to the accumulator.

    `w`, `x_type`, `w_type` override the layer's weights and operand types (reduced-precision replicas)."""
    w = ly.weights if w is None else w
    xt, wt, at = x_type or ly.in_type, w_type or ly.w_type, ly.acc_type
    pt = fx.mul_type(wt, xt)
    shift = at.frac - pt.frac  # > 0: exact alignment; < 0: each product is quantised with prod_q
    grow = max(1, int(ly.n_in).bit_length())
    small = pt.width + max(shift, 0) + grow + 1 <= fx.INT64_BITS and at.width <= fx.INT64_BITS
    dt = np.int64 if small else object
    xw = np.asarray(x).astype(dt)
    ww = np.asarray(w).astype(dt)
    if shift >= 0:
        s = xw @ ww.T
        s = s << shift if shift else s
    else:
        prods = xw[:, None, :] * ww[None, :, :]  # (V, n_out, n_in): quantised one by one
        s = fx.quantise(prods, -shift, ly.prod_q).sum(axis=2)
    return wrap(s + np.asarray(ly.bias).astype(dt)[None, :], at)


def post(ly: DenseLayer, acc: np.ndarray) -> np.ndarray:
    """The layer's post ops (requantise, ReLU, ...) on raw accumulators, as the IR and requant.py do."""
    v, t = acc, ly.acc_type
    for op in ly.post:
        if op.kind == "cast":
            v = fx.convert(v, t, op.type, op.q, op.o)
        else:
            assert op.const_type is not None
            ct = fx.common_type(t, op.const_type)
            a = fx.align(v, t, ct.frac)
            b = op.const << (ct.frac - op.const_type.frac)
            v = np.maximum(a, b) if op.kind == "max" else np.minimum(a, b)
            v = fx.as_raw(v, op.type)
        t = op.type
    return fx.as_raw(v, t)


def require_dense(net: Network) -> None:
    """Noise models and tolerance schemes cover chains of dense stages (no conv or pool units) for now."""
    for u in net.chain:
        if not isinstance(u, DenseLayer) or getattr(u, "window", None) is not None:
            raise VhlsError(f"noise: `{net.name}` has a {getattr(u, 'kind', type(u).__name__)} stage; fault "
                            f"injection and tolerance schemes support dense layers only")


def forward(net: Network, x_raw: np.ndarray, hook: AccHook | None = None,
            weights: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """Raw outputs (V, n_out of the last layer) for raw inputs (V, n_in); see the module docstring."""
    require_dense(net)
    x = np.asarray(x_raw)
    if x.ndim != 2 or x.shape[1] != net.n_in:
        raise VhlsError(f"noise.forward: `{net.name}` takes inputs of shape (V, {net.n_in}), got {x.shape}")
    if weights is not None and len(weights) != len(net.layers):
        raise VhlsError(f"noise.forward: {len(weights)} weight matrices for {len(net.layers)} layers of `{net.name}`")
    x = fx.as_raw(x, net.in_type)
    for ly in net.layers:
        w = None if weights is None else np.asarray(weights[ly.index])
        if w is not None and w.shape != (ly.n_out, ly.n_in):
            raise VhlsError(f"noise.forward: weights of {ly.name} must have shape {(ly.n_out, ly.n_in)}, "
                            f"got {w.shape}")
        acc = layer_acc(ly, x, w)
        if hook is not None:
            acc = wrap(hook(ly.index, x, acc), ly.acc_type)
        x = post(ly, acc)
    return x


def accumulators(net: Network, x_raw: np.ndarray) -> list[np.ndarray]:
    """Clean accumulators of every layer (for calibrating value ranges)."""
    accs: list[np.ndarray] = []

    def keep(_: int, __: np.ndarray, acc: np.ndarray) -> np.ndarray:
        accs.append(acc)
        return acc

    forward(net, x_raw, keep)
    return accs


def network(model: object) -> Network:
    """The dense `Network` of a Model or IR program (as the nn backend recognises it)."""
    from vhls.backends.nn.recognise import recognise
    from vhls.ir.check import check

    prog = getattr(model, "ir", model)
    return recognise(prog, check(prog))  # type: ignore[arg-type]


__all__ = ["AccHook", "accumulators", "forward", "layer_acc", "network", "post", "require_dense", "wrap"]
