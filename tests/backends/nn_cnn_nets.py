"""Small CNNs for the nn backend's conv/pool tests: torch-imported (not among the examples) and hand-built IR."""

import numpy as np


def torch_cnn(precision: int | str | None = 8):
    """Conv(pad 1) → ReLU → AvgPool 3x3 stride 2 (reciprocal constant) → F.relu → Conv 2x2 → MaxPool 2 stride 1 →
    Flatten → Linear, on 2x7x7 images; 8-bit post-training quantisation by default (RND/SAT casts)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    from vhls import from_torch

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(2, 4, 3, padding=1)
            self.pool1 = nn.AvgPool2d(3, stride=2)
            self.conv2 = nn.Conv2d(4, 6, 2)
            self.pool2 = nn.MaxPool2d(2, stride=1)
            self.fc = nn.Linear(6, 5)

        def forward(self, x):
            x = F.relu(self.pool1(torch.relu(self.conv1(x))))
            x = self.pool2(self.conv2(x))
            return self.fc(torch.flatten(x, 1))

    torch.manual_seed(3)
    net = Net()
    cal = np.random.default_rng(4).normal(size=(32, 2, 7, 7)).astype(np.float32)
    if isinstance(precision, int):
        return from_torch(net, cal[:1], precision=precision, calibration=cal)
    return from_torch(net, cal[:1], precision=precision)


def feature_map_cnn():
    """Ends on a feature map (no Flatten): strided padded conv → AvgPool 2 (a shift) → output [3][2][2]."""
    from vhls.layers import AvgPool2d, Conv2d, Input, ReLU, Sequential

    rng = np.random.default_rng(5)
    return Sequential(Input((1, 8, 8), "fixed<8,3>"),
                      Conv2d(3, 3, rng.normal(size=(3, 1, 3, 3)), rng.normal(size=3) * 0.1, stride=2, padding=1),
                      ReLU(), AvgPool2d(2, precision="fixed<10,4,RND,SAT>"),
                      name="fmap", precision="fixed<8,3>")


def chained_cnn():
    """Line buffers behind a conv: conv 3x3 pad 1 → conv 3x3 stride 2 pad (1, 2) (its PE chunks collected into
    pixels) → ReLU → MaxPool (2, 1) → Flatten → Dense, on 2x9x7 images."""
    from vhls.layers import Conv2d, Dense, Flatten, Input, MaxPool2d, ReLU, Sequential

    rng = np.random.default_rng(6)
    return Sequential(Input((2, 9, 7), "fixed<8,3>"),
                      Conv2d(4, 3, rng.normal(size=(4, 2, 3, 3)) * 0.5, rng.normal(size=4) * 0.1, padding=1),
                      Conv2d(6, 3, rng.normal(size=(6, 4, 3, 3)) * 0.3, stride=2, padding=(1, 2)), ReLU(),
                      MaxPool2d((2, 1)), Flatten(), Dense(3, rng.normal(size=(3, 6 * 2 * 5)) * 0.2),
                      name="chained", precision="fixed<8,3>")
