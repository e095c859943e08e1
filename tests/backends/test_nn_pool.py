"""The pool stage (Amaranth sim) against the golden model: max and avg pooling (shift and reciprocal scaling),
a fused ReLU, strides other than the kernel size, random stalls."""

import numpy as np
import pytest
from nn_streams import pack, run_stream, unpack

from vhls.backends.nn.pool import PoolStage
from vhls.backends.nn.recognise import PoolLayer, recognise
from vhls.layers import AvgPool2d, Dense, Flatten, Input, MaxPool2d, ReLU, Sequential

IN = "fixed<8,3>"
SHAPE = (2, 5, 5)


def _pool_layer(layers: list) -> tuple[PoolLayer, object]:
    """The recognised pool unit of Input → layers → Flatten → Dense, and the golden model of Input → layers."""
    golden = Sequential(Input(SHAPE, IN), *layers, name="pool_only")
    c, ho, wo = golden.layers[-1].out_shape
    net = recognise(Sequential(Input(SHAPE, IN), *layers, Flatten(), Dense(2, np.ones((2, c * ho * wo)) * 0.25),
                               name="with_dense").ir)
    unit = net.units[0]
    assert isinstance(unit, PoolLayer)
    return unit, golden


@pytest.mark.parametrize("layers", [
    [MaxPool2d(2)],
    [MaxPool2d(3, stride=1)],
    [AvgPool2d(2, stride=1)],  # sum then shr<2>
    [AvgPool2d(3, stride=2), ReLU()],  # sum times a rounded 1/9, then the fused ReLU
    [AvgPool2d((1, 3), precision="fixed<6,2,RND,SAT>")],  # reciprocal 1/3, narrow saturating result
], ids=["max2", "max3-stride1", "avg2-shift", "avg3-relu", "avg1x3-sat"])
def test_pool_stage_matches_golden(layers: list) -> None:
    unit, golden = _pool_layer(layers)
    win = unit.window
    t = unit.in_type
    raw = np.random.default_rng(len(unit.where)).integers(t.min_raw, t.max_raw, size=(3, *SHAPE), endpoint=True)
    raw[0] = t.min_raw  # all most negative: the initial value of max pooling must not leak
    want = np.asarray(golden.run_raw(raw))  # [N][C][Ho][Wo]
    beats = [pack(img[:, y, x], t.width) for img in raw for y in range(win.height) for x in range(win.width)]
    got = run_stream(PoolStage(unit, 1), beats, 3 * win.positions, seed=5)
    out_t = unit.out_type
    got_px = np.array([unpack(g, win.channels, out_t.width, out_t.signed) for g in got])
    np.testing.assert_array_equal(got_px, want.transpose(0, 2, 3, 1).reshape(-1, win.channels))
