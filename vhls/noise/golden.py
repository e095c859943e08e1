"""Exact stage-by-stage evaluation of a `Network`, with a hook on the accumulators (the fault site).

This is what the nn backend's hardware computes, step by step: for each MAC stage l (dense or conv; l counts
`net.layers`), every product w·x is exact, then re-expressed with the accumulator's fraction bits (quantised with
the layer's `prod_q` when it has more), summed with the bias modulo 2^W of the accumulator (mac.py), then
`hook(l, x, acc)` may replace the accumulators, then the post ops (casts, max/min) run exactly as
`vhls.ir.numerics` (requant.py). Without a hook the result equals the IR interpreter (`Model.run_raw`) bit for bit.

Values travel in stream order, as in the hardware: an image as pixels (HWC, `Network.in_order`), a conv or pool
output as pixels. A conv stage is the dense stage over im2col window vectors (window.py: raster order of the
window positions, (i, j, c) elements, zeros in the padding), so its hook sees x (V·P, kh·kw·C) and acc (V·P, Cout)
with the P = Ho·Wo windows of each image in the order the RTL computes them (row k of acc is the MAC array's k-th
vector since reset, what the fault stream counts). A pool stage reduces each channel of each window with its IR
body (pool.py). The result is put back into the IR's order (`Network.out_order`).

Raw arrays are int64 when every intermediate fits in `numerics.INT64_BITS` bits, else numpy object arrays of Python
ints (exact at any width, slower).
"""

from collections.abc import Callable, Sequence

import numpy as np

from vhls.backends.nn.recognise import DenseLayer, Network, PoolLayer, Window
from vhls.ir import numerics as fx
from vhls.ir.errors import VhlsError
from vhls.ir.interp import Context
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


def post(ly: DenseLayer | PoolLayer, acc: np.ndarray, t: Fixed | None = None) -> np.ndarray:
    """The stage's post ops (requantise, ReLU, ...) on raw values of type `t` (default: the accumulator's), as the
    IR and requant.py do."""
    v, t = acc, t or ly.acc_type  # type: ignore[union-attr]
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


def im2col(win: Window, x: np.ndarray) -> np.ndarray:
    """Window vectors (V·P, kh·kw·C) of feature maps x (V, H·W·C, HWC order), as window.py / linebuf.py emit them."""
    v = len(x)
    pix = np.concatenate([np.asarray(x).reshape(v, win.pixels, win.channels),
                          np.zeros((v, 1, win.channels), dtype=np.asarray(x).dtype)], axis=1)  # pixel -1: padding
    src = win.sources()
    src = np.where(src < 0, win.pixels, src)
    return pix[:, src, :].reshape(v * win.positions, win.size)


def pool(ly: PoolLayer, x: np.ndarray) -> np.ndarray:
    """Pool outputs (V, P·C, HWC order) of feature maps x (V, H·W·C): the IR body per channel and window."""
    win, v = ly.window, len(x)
    taps = im2col(win, x).reshape(v * win.positions, win.kh * win.kw, win.channels).transpose(0, 2, 1)
    body = Context(ly.typing, {ly.k: taps.reshape(-1, win.kh * win.kw)}, 1).eval(ly.body)
    out = post(ly, np.asarray(body), ly.body_type)
    return out.reshape(v, win.positions * win.channels)


def forward(net: Network, x_raw: np.ndarray, hook: AccHook | None = None,
            weights: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """Raw outputs (V, n_out, IR order) for raw inputs (V, n_in, IR order); see the module docstring."""
    x = np.asarray(x_raw)
    if x.ndim != 2 or x.shape[1] != net.n_in:
        raise VhlsError(f"noise.forward: `{net.name}` takes inputs of shape (V, {net.n_in}), got {x.shape}")
    if weights is not None and len(weights) != len(net.layers):
        raise VhlsError(f"noise.forward: {len(weights)} weight matrices for {len(net.layers)} layers of `{net.name}`")
    x = fx.as_raw(x, net.in_type)
    if net.in_order is not None:
        x = x[:, list(net.in_order)]
    number = {id(ly): k for k, ly in enumerate(net.layers)}
    for u in net.chain:
        if isinstance(u, PoolLayer):
            x = pool(u, x)
            continue
        k = number[id(u)]
        w = None if weights is None else np.asarray(weights[k])
        if w is not None and w.shape != (u.n_out, u.n_in):
            raise VhlsError(f"noise.forward: weights of {u.name} must have shape {(u.n_out, u.n_in)}, "
                            f"got {w.shape}")
        v = len(x)
        xs = x if u.window is None else im2col(u.window, x)
        acc = layer_acc(u, xs, w)
        if hook is not None:
            acc = wrap(hook(k, xs, acc), u.acc_type)
        x = post(u, acc).reshape(v, -1)  # a conv's outputs: position-major, i.e. pixels
    return x if net.out_order is None else x[:, list(net.out_order)]


def accumulators(net: Network, x_raw: np.ndarray) -> list[np.ndarray]:
    """Clean accumulators of every layer (for calibrating value ranges): (V·P, n_out) for a conv stage."""
    accs: list[np.ndarray] = []

    def keep(_: int, __: np.ndarray, acc: np.ndarray) -> np.ndarray:
        accs.append(acc)
        return acc

    forward(net, x_raw, keep)
    return accs


def network(model: object) -> Network:
    """The `Network` of a Model or IR program (as the nn backend recognises it)."""
    from vhls.backends.nn.recognise import recognise
    from vhls.ir.check import check

    prog = getattr(model, "ir", model)
    return recognise(prog, check(prog))  # type: ignore[arg-type]


__all__ = ["AccHook", "accumulators", "forward", "im2col", "layer_acc", "network", "pool", "post", "wrap"]
