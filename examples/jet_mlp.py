"""hls4ml's jet-tagging MLP: 16 -> 64 -> 32 -> 32 -> 5 with ReLU after every hidden layer.

The published model ends in a softmax over the 5 jet classes; it is omitted here (the model outputs the 5 logits:
softmax does not change the argmax, and hls4ml implements it with a lookup table outside the datapath we model).
Weights are seeded, not trained: numpy default_rng(0), He-style normal weights (std sqrt(2 / fan_in)) and small
uniform biases in [-0.1, 0.1]. Precision: fixed<16,6> (hls4ml's default ap_fixed<16,6> result type, TRN, WRAP);
weights rounded and saturated, exact accumulators (see vhls.precision). `calibration` is 1024 seeded standard
normal input vectors (jet features are standardised); there is no labelled test set for seeded weights.
"""

from itertools import pairwise

import numpy as np

from vhls.layers import Dense, Input, ReLU, Sequential

SIZES = (16, 64, 32, 32, 5)

_rng = np.random.default_rng(0)
_layers: list = [Input((SIZES[0],), "fixed<16,6>")]
for _i, (_n_in, _n_out) in enumerate(pairwise(SIZES)):
    _w = _rng.normal(0.0, np.sqrt(2.0 / _n_in), size=(_n_out, _n_in))
    _b = _rng.uniform(-0.1, 0.1, size=_n_out)
    _layers.append(Dense(_n_out, _w, _b, name=f"fc{_i + 1}"))
    if _i < len(SIZES) - 2:
        _layers.append(ReLU(name=f"relu{_i + 1}"))

model = Sequential(*_layers, name="jet_mlp")
calibration = np.random.default_rng(1).standard_normal((1024, SIZES[0]))
