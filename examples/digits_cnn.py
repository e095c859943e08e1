"""Handwritten digits (scikit-learn's bundled 8x8 `load_digits`): a small CNN on 1x8x8 images.

    Conv2d 1->8 3x3 pad 1, BatchNorm, ReLU, MaxPool 2   -> 8x4x4
    Conv2d 8->16 3x3 pad 1, ReLU, MaxPool 2              -> 16x2x2
    Flatten, Dense 64->10                                -> 10 logits (softmax omitted: argmax is the prediction)

Trained in torch by examples/train_digits.py (fixed seed, deterministic); the weights ship in
examples/weights/digits_cnn.npz, so loading is instant (training runs only when the file is missing).
The BatchNorm is folded into the first convolution before quantisation. Inputs are the pixel values 0..16 scaled
to [0, 1], laid out [C][H][W] like torch. Precision: vhls's default fixed<16,6> everywhere, exact accumulators.
`test_set` is the held-out split (360 images), `calibration` 256 training images.
`variants` holds the same network with each shipped set of weights: plain, noise-trained and SAM-trained
(examples/train_digits.py --mode).
"""

import train_digits as td  # next to this file: vhls.load and `python examples/...` both find it

from vhls.layers import BatchNorm, Conv2d, Dense, Flatten, Input, MaxPool2d, ReLU, Sequential
from vhls.model import Model


def build(w: dict, name: str = "digits_cnn") -> Model:
    return Sequential(
        Input((1, 8, 8), "fixed<16,6>"),
        Conv2d(8, 3, w["0.weight"], w["0.bias"], padding=1),
        BatchNorm(w["1.weight"], w["1.bias"], w["1.running_mean"], w["1.running_var"]),
        ReLU(),
        MaxPool2d(2),
        Conv2d(16, 3, w["4.weight"], w["4.bias"], padding=1),
        ReLU(),
        MaxPool2d(2),
        Flatten(),
        Dense(10, w["8.weight"], w["8.bias"]),
        name=name,
    )


model = build(td.load_weights("cnn"))
variants = {"plain": model, **{mode: build(td.load_weights("cnn", mode), f"digits_cnn_{mode}")
                               for mode in ("noise", "sam")}}

_x_train, _y_train, _x_test, _y_test = td.digits_split()
test_set = (_x_test, _y_test)
calibration = _x_train[:256]
