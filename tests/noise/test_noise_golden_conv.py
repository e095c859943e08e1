"""vhls.noise.golden.forward on conv networks: im2col windows, pools and stream order as the RTL has them. Without a
hook it equals the golden model (the IR interpreter) bit for bit on digits_cnn, the test CNNs and random small conv
networks; the hook sees each conv stage's window vectors and accumulators in the order the MAC array runs them."""

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backends"))
from nn_cnn_nets import chained_cnn, feature_map_cnn, torch_cnn

from vhls.layers import AvgPool2d, Conv2d, Dense, Flatten, Input, MaxPool2d, ReLU, Sequential
from vhls.noise.golden import accumulators, forward, network

REPO = Path(__file__).resolve().parents[2]


def _raw(net, n: int, seed: int) -> np.ndarray:
    t = net.in_type
    rng = np.random.default_rng(seed)
    edges = [np.full(net.n_in, t.min_raw), np.full(net.n_in, t.max_raw)]
    return np.stack(edges + list(rng.integers(t.min_raw, t.max_raw, size=(n, net.n_in), endpoint=True)))


def _check(model, n: int = 20, seed: int = 0) -> None:
    net = network(model)
    x = _raw(net, n, seed)
    want = np.asarray(model.run_raw(x.reshape(len(x), *net.in_shape))).reshape(len(x), -1).astype(np.int64)
    got = forward(net, x)
    assert got.shape == want.shape
    np.testing.assert_array_equal(got.astype(np.int64), want)


def random_cnn(seed: int):
    """A small random conv net: conv (random kernel, stride, padding) [ReLU] [pool] [conv] Flatten Dense."""
    rng = np.random.default_rng(seed)
    c, h, w = int(rng.integers(1, 3)), int(rng.integers(5, 9)), int(rng.integers(5, 9))
    layers: list = [Input((c, h, w), "fixed<8,3>")]

    def conv(cin: int, hh: int, ww: int) -> tuple[int, int, int]:
        k = (int(rng.integers(1, min(3, hh) + 1)), int(rng.integers(1, min(3, ww) + 1)))
        s = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        p = (int(rng.integers(0, k[0])), int(rng.integers(0, k[1])))
        co = int(rng.integers(1, 5))
        layers.append(Conv2d(co, k, rng.normal(size=(co, cin, *k)) * 0.5, rng.normal(size=co) * 0.2, stride=s,
                             padding=p))
        if rng.random() < 0.6:
            layers.append(ReLU())
        return co, (hh + 2 * p[0] - k[0]) // s[0] + 1, (ww + 2 * p[1] - k[1]) // s[1] + 1

    c, h, w = conv(c, h, w)
    if h >= 2 and w >= 2:
        s = int(rng.integers(1, 3))
        layers.append(MaxPool2d(2, s) if rng.random() < 0.5 else AvgPool2d(2, s, precision="fixed<10,4,RND,SAT>"))
        h, w = (h - 2) // s + 1, (w - 2) // s + 1
    if rng.random() < 0.5 and h >= 2 and w >= 2:
        c, h, w = conv(c, h, w)
    layers += [Flatten(), Dense(3, rng.normal(size=(3, c * h * w)) * 0.3, rng.normal(size=3) * 0.1)]
    return Sequential(*layers, name=f"rcnn{seed}", precision="fixed<8,3>")


def test_digits_cnn_equals_run_raw() -> None:
    if importlib.util.find_spec("sklearn") is None:
        pytest.skip("digits_cnn needs scikit-learn's digits")
    from vhls import load

    model = load(REPO / "examples" / "digits_cnn.py")
    _check(model, 60, 1)
    net = network(model)
    xq = np.asarray(model.quantise_input(model.calibration[:32])).reshape(32, -1)
    np.testing.assert_array_equal(forward(net, xq), np.asarray(model.run_raw(xq.reshape(32, 1, 8, 8))))
    # a conv stage's accumulators: one row per window position of every image
    accs = accumulators(net, xq)
    assert [a.shape for a in accs] == [(32 * ly.vectors, ly.n_out) for ly in net.layers] == [
        (32 * 64, 8), (32 * 16, 16), (32, 10)]


@pytest.mark.parametrize("make", [torch_cnn, feature_map_cnn, chained_cnn], ids=["torch", "fmap", "chained"])
def test_test_cnns_equal_run_raw(make) -> None:
    _check(make(), 30, 2)


@pytest.mark.parametrize("seed", range(30))
def test_random_cnns_equal_run_raw(seed: int) -> None:
    _check(random_cnn(seed), 8, seed)


def test_per_row_dense_equals_run_raw() -> None:
    from vhls import load

    _check(load(REPO / "examples" / "matmul.py"), 10, 3)


def test_hook_sees_window_vectors_in_stream_order() -> None:
    """The conv hook gets the image's windows in raster order of their position (what window.py emits), and
    changing accumulator row r changes exactly output pixel r of that conv."""
    model = feature_map_cnn()  # conv 3x3 stride 2 pad 1 on 1x8x8 -> 3x4x4, avgpool 2 -> 3x2x2
    net = network(model)
    win = net.units[0].window
    x = _raw(net, 3, 5)
    seen = {}

    def keep(k: int, xs: np.ndarray, acc: np.ndarray) -> np.ndarray:
        seen[k] = xs
        return acc

    forward(net, x, keep)
    xs = seen[0].reshape(len(x), win.positions, win.kh, win.kw)
    img = x.reshape(len(x), 8, 8)
    for p in range(win.positions):
        oy, ox = divmod(p, win.out_w)
        for i in range(3):
            for j in range(3):
                y, xx = 2 * oy + i - 1, 2 * ox + j - 1
                want = img[:, y, xx] if 0 <= y < 8 and 0 <= xx < 8 else 0
                np.testing.assert_array_equal(xs[:, p, i, j], want)
