"""Handwritten digits (scikit-learn's bundled 8x8 `load_digits`): an MLP 64 -> 32 (BatchNorm, ReLU) -> 10.

Trained in torch by examples/train_digits.py (fixed seed, deterministic); the weights ship in
examples/weights/digits_mlp.npz, so loading is instant (training runs only when the file is missing).
The BatchNorm is folded into the first Dense before quantisation. Inputs are the pixel values 0..16 scaled to
[0, 1] and flattened; outputs are the 10 logits (softmax omitted: argmax is the prediction).
Precision: vhls's default fixed<16,6> everywhere, exact accumulators.
`test_set` is the held-out split (360 images), `calibration` 256 training images.
`variants` holds the same network with each shipped set of weights: plain, noise-trained and SAM-trained
(examples/train_digits.py --mode; compared by `vhls noise-sweep`).
"""

import train_digits as td  # next to this file: vhls.load and `python examples/...` both find it

from vhls.layers import BatchNorm, Dense, Input, ReLU, Sequential
from vhls.model import Model


def build(w: dict, name: str = "digits_mlp") -> Model:
    return Sequential(
        Input((64,), "fixed<16,6>"),
        Dense(32, w["1.weight"], w["1.bias"]),
        BatchNorm(w["2.weight"], w["2.bias"], w["2.running_mean"], w["2.running_var"]),
        ReLU(),
        Dense(10, w["4.weight"], w["4.bias"]),
        name=name,
    )


model = build(td.load_weights("mlp"))
variants = {"plain": model, **{mode: build(td.load_weights("mlp", mode), f"digits_mlp_{mode}")
                               for mode in ("noise", "sam")}}

_x_train, _y_train, _x_test, _y_test = td.digits_split()
test_set = (_x_test.reshape(-1, 64), _y_test)
calibration = _x_train[:256].reshape(-1, 64)
