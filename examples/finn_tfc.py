"""A FINN-TFC-shaped MLP: 784 -> 64 -> 64 -> 64 -> 10, ternary weights and 2-bit activations.

FINN's TFC (Umuroglu et al., FPGA'17) is this topology on MNIST with binary weights and activations (TFC-w1a1;
FINN's later w2a2 variant uses 2 bits each). vhls has no binary {-1, +1} type, so the nearest precision it
expresses exactly is used: ternary weights {-s, 0, +s} stored as 2-bit fixed point (fixed<2,-2>, s = 1/8, in the
first layer; fixed<2,0>, s = 1/2, after it), and each hidden layer's result truncated and saturated to fixed<3,3>
(the integers -4..3) followed by ReLU, i.e. 2-bit unsigned activations {0, 1, 2, 3} as in w2a2. Inputs are
fixed<6,1> pixels, biases fixed<8,3>, the logits fixed<8,4>; every dot product accumulates exactly. FINN folds
BatchNorm and the activation into thresholds; here there is no BatchNorm (trained without it).

There is no MNIST offline: the data are scikit-learn's 8x8 digits upsampled to 28x28 (3x3 pixel repeat and a zero
border, see examples/train_finn_tfc.py, which trains it quantisation-aware; the weights ship in
examples/weights/finn_tfc.npz). `test_set` is the 360 held-out images, `calibration` 256 training images.
"""

import train_finn_tfc as tt  # next to this file: vhls.load and `python examples/...` both find it

from vhls.layers import Dense, Input, ReLU, Sequential
from vhls.precision import Precision


def fixed(wi: tuple[int, int], modes: str = "") -> str:
    return f"fixed<{wi[0]},{wi[1]}{modes}>"


w = tt.load_weights()
_layers: list = [Input((tt.SIZES[0],), fixed(tt.INPUT))]
for _i in range(4):
    _last = _i == 3
    _p = Precision(weight=fixed(tt.WEIGHT[_i]), bias=fixed(tt.BIAS),
                   result=fixed(tt.OUTPUT if _last else tt.HIDDEN, ",TRN,SAT"))
    _layers.append(Dense(tt.SIZES[_i + 1], w[f"w{_i + 1}"], w[f"b{_i + 1}"], precision=_p, name=f"fc{_i + 1}"))
    if not _last:
        _layers.append(ReLU(name=f"relu{_i + 1}"))

model = Sequential(*_layers, name="finn_tfc")

_x_train, _y_train, _x_test, _y_test = tt.split()
test_set = (_x_test, _y_test)
calibration = _x_train[:256]
