"""Recognising conv, pool and flatten stages (digits_cnn, a torch import, hand-made IR), the plan and report they
get, and refusals of rearrangements the hardware would get wrong."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from nn_cnn_nets import feature_map_cnn

from vhls import lowering as lw
from vhls.backends.nn import plan, recognise, report
from vhls.backends.nn.plan import fixed_cycles
from vhls.backends.nn.recognise import DenseLayer, PoolLayer, Window
from vhls.ir import numerics as fx
from vhls.ir.errors import VhlsError
from vhls.ir.interp import evaluate
from vhls.ir.terms import Let, Param, Program, const
from vhls.ir.types import array, fixed
from vhls.layers import Conv2d, Dense, Flatten, Input, MaxPool2d, ReLU, Sequential
from vhls.precision import Quant

REPO = Path(__file__).resolve().parents[2]


def _digits():
    if importlib.util.find_spec("sklearn") is None:
        pytest.skip("digits_cnn needs scikit-learn's digits")
    from vhls import load

    return load(REPO / "examples" / "digits_cnn.py")


def _post(v: np.ndarray, t, ops) -> np.ndarray:
    for op in ops:
        if op.kind == "cast":
            v = fx.convert(v, t, op.type, op.q, op.o)
        else:
            common = fx.common_type(t, op.const_type)
            a, b = fx.align(v, t, common.frac), fx.align(np.int64(op.const), op.const_type, common.frac)
            v = np.maximum(a, b) if op.kind == "max" else np.minimum(a, b)
        t = op.type
    return v


def _forward(net, raw: np.ndarray) -> np.ndarray:
    """The recognised units in stream order (HWC pixels, (i, j, c) windows, permuted weights) with numpy only."""
    n = len(raw)
    v = raw.reshape(n, *net.in_shape).transpose(0, 2, 3, 1).reshape(n, -1).astype(object)  # HWC
    for u in net.units:
        if u.window is not None:
            w = u.window
            taps = w.sources()  # [pos][kh*kw]
            px = np.concatenate([v.reshape(n, w.pixels, w.channels), np.zeros((n, 1, w.channels), object)], 1)
            win = px[:, np.where(taps >= 0, taps, w.pixels)]  # [n][pos][kh*kw][C]
            v = win.reshape(n * w.positions, w.size)
        if isinstance(u, PoolLayer):
            assert u.op == "max"
            v = v.reshape(-1, u.window.kh * u.window.kw, u.window.channels).max(axis=1)
            v = _post(v, u.body_type, u.post).reshape(n, -1)
            continue
        assert isinstance(u, DenseLayer)
        prods = v @ u.weights.T
        d = u.acc_type.frac - u.prod_type.frac
        assert d >= 0
        acc = fx.overflow(np.asarray((prods << d) + u.bias[None, :], dtype=object), u.acc_type, "WRAP")
        v = _post(acc, u.acc_type, u.post).reshape(n, -1)
    out = v.reshape(n, -1)
    return out if net.out_order is None else out[:, list(net.out_order)]


def test_digits_cnn_stages_and_stream_order() -> None:
    model = _digits()
    net = recognise(model.ir)
    assert [u.name for u in net.units] == ["conv0", "maxpool1", "conv2", "maxpool3", "dense4"]
    assert net.units[0].window == Window(1, 8, 8, 3, 3, 1, 1, 1, 1)
    assert net.units[2].window == Window(8, 4, 4, 3, 3, 1, 1, 1, 1)
    assert net.units[1].window == Window(8, 8, 8, 2, 2, 2, 2, 0, 0)
    assert [len(u.post) for u in net.units] == [2, 0, 2, 0, 1]  # cast + fused ReLU after each conv
    assert (net.n_in, net.n_out, net.in_shape, net.out_order) == (64, 10, (1, 8, 8), None)
    raw = np.random.default_rng(0).integers(-600, 600, size=(40, 64))
    np.testing.assert_array_equal(_forward(net, raw), model.run_raw(raw.reshape(40, 1, 8, 8)))


def test_feature_map_output_order() -> None:
    model = feature_map_cnn()
    net = recognise(model.ir)
    assert net.n_out == 12 and net.out_order == (0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11)  # HWC → [C][H][W]
    assert [u.kind for u in net.units] == ["conv", "avgpool"]


def test_plan_and_report_include_window_and_pool_units() -> None:
    net = recognise(_digits().ir)
    rep = report(net, plan(net))
    rows = {r["name"]: r for r in rep["stages"]}
    assert rows["conv0"]["cycles"] == 64 * 8 * 9 and rows["conv0"]["macs"] == 64 * 72
    assert rows["maxpool1"]["cycles"] == 64 and "pe" not in rows["maxpool1"]
    assert rep["total"]["predicted_cycles_per_inference"] == 16 * 16 * 72  # conv2, sequential
    assert rep["total"]["macs"] == 64 * 72 + 16 * 16 * 72 + 640
    big = report(net, plan(net, 10**6))["total"]
    assert big["initiation_interval"] == fixed_cycles(net) == 64  # the 8x8 window unit: one pixel per cycle


# ---------------------------------------------------------------------------------------------- refusals
T = fixed(8, 3)
ACC, RES = Quant(fixed(24, 10), "TRN", "WRAP"), Quant(T, "TRN", "WRAP")


def _conv_prog(patches_of, tail=None) -> Program:
    """A 1x4x5 input, a 2-filter 3x3 conv whose patches are `patches_of(x)`, then `tail(h)` (default: flatten)."""
    rng = np.random.default_rng(1)
    w, b = const(rng.integers(-9, 9, size=(2, 9)), array(T, 2, 9)), const(rng.integers(-9, 9, size=2), array(T, 2))
    h = lw.conv2d(lw.var("w"), lw.var("b"), lw.var("p"), ACC, RES)
    out = (tail or (lambda h: lw.flatten(h, 3)))(lw.var("h"))
    body = Let("w", w, Let("b", b, Let("p", patches_of(lw.var("x")), Let("h", h, out))))
    return Program("c", (Param("x", array(T, 1, 4, 5)),), body)


def test_a_conv_ending_on_a_flatten() -> None:
    prog = _conv_prog(lambda x: lw.patches2d(lw.pad2d(x, 1, 1), 3, 3, 1, 1))
    net = recognise(prog)
    assert net.units[0].window == Window(1, 4, 5, 3, 3, 1, 1, 1, 1) and net.out_order is not None
    raw = np.random.default_rng(4).integers(T.min_raw, T.max_raw, size=(30, 20), endpoint=True)
    want = np.asarray(evaluate(prog, raw.reshape(30, 1, 4, 5)))
    np.testing.assert_array_equal(_forward(net, raw), want)  # HWC stream → the IR's [C][H][W] flatten


def test_refuses_patches_that_are_not_windows() -> None:
    flipped = lambda x: lw.patches2d(lw.vmap(lw.fn("c", lw.prim("transpose", lw.var("c"))), x), 3, 3, 1, 1)  # noqa: E731
    with pytest.raises(VhlsError, match="not the im2col windows"):
        recognise(_conv_prog(flipped))


def test_refuses_a_dense_layer_reading_padding() -> None:
    rng = np.random.default_rng(2)
    w2, b2 = const(rng.integers(-9, 9, size=(2, 24)), array(T, 2, 24)), const(np.zeros(2, int), array(T, 2))
    padded = lambda h: lw.dense(w2, b2, lw.flatten(lw.pad2d(h, 1, 0), 3), ACC, RES)  # noqa: E731  [2][4][3]
    with pytest.raises(VhlsError, match="exactly once"):
        recognise(_conv_prog(lambda x: lw.patches2d(x, 3, 3, 1, 1), padded))


def test_refuses_a_pool_body_reading_its_window_twice() -> None:
    k = lw.var("k")
    t = fixed(16, 6)  # the layers' default type
    red = lw.prim("reduce", lw.fn(("acc", "v"), lw.prim("max", lw.var("acc"), lw.var("v"))), const(t.min_raw, t), k)
    body = lw.fn("k", lw.prim("max", red, red))
    model = Sequential(Input((1, 4, 4), "fixed<8,3>"), Conv2d(1, 1, np.ones((1, 1, 1, 1))), MaxPool2d(2),
                       Flatten(), Dense(1, np.ones((1, 4))), name="m")
    prog = model.ir
    pooled = lw.map_windows2d(lw.var("h1"), 2, 2, 2, 2, body)

    def swap(t):
        if isinstance(t, Let) and t.name == "h2":
            return Let("h2", pooled, t.body)
        return Let(t.name, t.value, swap(t.body))

    with pytest.raises(VhlsError, match="reduce its window exactly once"):
        recognise(Program("bad", prog.params, swap(prog.body)))


def test_refuses_an_activation_on_the_input_image() -> None:
    model = Sequential(Input((1, 4, 4), "fixed<8,3>"), ReLU(), Conv2d(1, 3, np.ones((1, 1, 3, 3))), Flatten(),
                       Dense(1, np.ones((1, 4))), name="m")
    with pytest.raises(VhlsError, match="before the first dense layer"):
        recognise(model.ir)


def test_matmul_is_one_dense_stage_over_four_rows() -> None:
    from vhls import load

    model = load(REPO / "examples" / "matmul.py")
    net = recognise(model.ir)
    (ly,) = net.units
    assert (ly.kind, ly.n_in, ly.n_out, ly.vectors, ly.per_row) == ("dense", 8, 4, 4, True)
    assert net.in_order is None and net.out_order is None and net.n_out == 16
    x = np.random.default_rng(3).integers(-128, 127, size=(20, 4, 8), endpoint=True)
    want = np.asarray(model.run_raw(x)).reshape(20, -1)
    acc = np.einsum("nrk,ok->nro", x.astype(object), ly.weights).reshape(20, -1) << (ly.acc_type.frac -
                                                                                   ly.prod_type.frac)
    np.testing.assert_array_equal(_post(acc, ly.acc_type, ly.post), want)
