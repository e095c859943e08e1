"""Quantisation-aware training of examples/finn_tfc.py (a FINN-TFC-shaped MLP 784 -> 64 -> 64 -> 64 -> 10).

    python examples/train_finn_tfc.py        # retrain and rewrite examples/weights/finn_tfc.npz (~1 min on 1 core)

There is no MNIST offline, so the data are scikit-learn's bundled 8x8 digits (examples/train_digits.py's split:
1437 training and 360 test images) made MNIST-shaped: each pixel is repeated 3x3 (8x8 -> 24x24) and the image is
zero-padded by 2 on every side to 28x28 (MNIST centres its digits in a 20x20 box inside 28x28), then flattened to
784 values in [0, 1].

The forward pass used in training computes exactly what the vhls golden model computes (straight-through gradient
through every rounding): inputs rounded to `INPUT`, ternary weights {-s, 0, +s} (`WEIGHT`, never the -2s code of the
2-bit type, so the trained values are representable as they are), biases rounded to `BIAS`, exact dot products,
each hidden result truncated and saturated to `HIDDEN` and then ReLU (2-bit unsigned activations), the logits to
`OUTPUT`. Training is deterministic (seeded torch, deterministic algorithms, one thread, float32 on CPU).
"""

import sys
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np
import train_digits as td  # next to this file

WEIGHTS = Path(__file__).resolve().parent / "weights" / "finn_tfc.npz"
SIZES = (784, 64, 64, 64, 10)
SEED = 0
# (width, integer bits) of each vhls fixed<W,I>; examples/finn_tfc.py builds its precisions from these.
INPUT = (6, 1)  # pixels in [0, 1] with 1/32 steps (1.0 saturates to 31/32)
# Ternary weights {-s, 0, +s}, s = 2^(I-2): the type's extra code -2s is never used. s = 1/2 in the hidden layers;
# the first layer (784 inputs) gets s = 1/8 so that its sums stay within the 2-bit activation's range.
WEIGHT = ((2, -2), (2, 0), (2, 0), (2, 0))
BIAS = (8, 3)
HIDDEN = (3, 3)  # the integers {-4, ..., 3}, so ReLU leaves the 4 levels {0, 1, 2, 3}: a 2-bit activation
OUTPUT = (8, 4)


def to_tfc(x: np.ndarray) -> np.ndarray:
    """(N, 1, 8, 8) or (N, 64) digits in [0, 1] -> (N, 784): 3x3 pixel repeat to 24x24, zero border of 2 -> 28x28."""
    img = x.reshape(-1, 8, 8).repeat(3, axis=1).repeat(3, axis=2)
    return np.pad(img, ((0, 0), (2, 2), (2, 2))).reshape(-1, 784).astype(np.float32)


def split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    x_train, y_train, x_test, y_test = td.digits_split()
    return to_tfc(x_train), y_train, to_tfc(x_test), y_test


def fixed_round(v: Any, width: int, int_bits: int, rnd: bool, lo: float | None = None) -> Any:
    """v rounded (half up) or truncated to fixed<width,int_bits>'s grid and saturated; straight-through gradient."""
    import torch

    lsb = 2.0 ** (int_bits - width)
    q = torch.floor(v / lsb + (0.5 if rnd else 0.0)) * lsb
    q = q.clamp(-(2.0 ** (int_bits - 1)) if lo is None else lo, 2.0 ** (int_bits - 1) - lsb)
    return v + (q - v).detach()


def step(i: int) -> float:
    """The ternary step s of layer i's weights: the lsb of its 2-bit type."""
    return 2.0 ** (WEIGHT[i][1] - WEIGHT[i][0])


def ternary(w: Any, i: int) -> Any:
    return fixed_round(w, *WEIGHT[i], rnd=True, lo=-step(i))


def forward(params: list[tuple[Any, Any]], x: Any) -> Any:
    import torch

    h = fixed_round(x, *INPUT, rnd=True)
    for i, (w, b) in enumerate(params):
        wq = ternary(w, i)
        bq = fixed_round(b, *BIAS, rnd=True)
        z = h @ wq.T + bq
        if i < len(params) - 1:
            h = fixed_round(torch.relu(z), *HIDDEN, rnd=False)  # = relu(cast(z)); gradient where z > 0
        else:
            h = fixed_round(z, *OUTPUT, rnd=False)
    return h


def train(epochs: int = 40, verbose: bool = False) -> dict[str, np.ndarray]:
    """Train from a fixed seed; returns {w1, b1, ..., w4, b4} (float32, already on the quantisation grid)."""
    import torch

    x_train, y_train, x_test, y_test = split()
    threads, deterministic = torch.get_num_threads(), torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        gen = torch.Generator().manual_seed(SEED)
        params = []
        for i, (n_in, n_out) in enumerate(pairwise(SIZES)):
            w = (torch.rand(n_out, n_in, generator=gen) * 2 - 1) * 1.5 * step(i)  # about 1/3 zeros
            params.append((w.requires_grad_(), torch.zeros(n_out, requires_grad=True)))
        opt = torch.optim.Adam([p for wb in params for p in wb], lr=3e-3)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
        xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
        for epoch in range(epochs):
            for idx in torch.randperm(len(yt), generator=gen).split(32):
                opt.zero_grad()
                loss = torch.nn.functional.cross_entropy(forward(params, xt[idx]), yt[idx])
                loss.backward()
                opt.step()
            sched.step()
            if verbose and (epoch + 1) % 10 == 0:
                print(f"  epoch {epoch + 1}: loss {loss.item():.4f}, test accuracy "
                      f"{accuracy(params, x_test, y_test):.4f}")
        out = {}
        with torch.no_grad():
            for i, (w, b) in enumerate(params):
                out[f"w{i + 1}"] = ternary(w, i).numpy().astype(np.float32)
                out[f"b{i + 1}"] = fixed_round(b, *BIAS, rnd=True).numpy().astype(np.float32)
        return out
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)


def accuracy(params: list[tuple[Any, Any]], x: np.ndarray, y: np.ndarray) -> float:
    import torch

    with torch.no_grad():
        return float((forward(params, torch.from_numpy(x)).argmax(1).numpy() == y).mean())


def load_weights() -> dict[str, np.ndarray]:
    """The shipped weights; trains (and writes the file) only when it is missing."""
    if not WEIGHTS.exists():
        save(train())
    with np.load(WEIGHTS) as f:
        return {k: f[k] for k in f.files}


def save(state: dict[str, np.ndarray]) -> Path:
    WEIGHTS.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(WEIGHTS, **state)
    return WEIGHTS


def main() -> int:
    import torch

    print(f"training finn_tfc (seed {SEED})")
    state = train(verbose=True)
    path = save(state)
    _, _, x_test, y_test = split()
    params = [(torch.from_numpy(state[f"w{i}"]), torch.from_numpy(state[f"b{i}"])) for i in range(1, 5)]
    zeros = np.mean([(state[f"w{i}"] == 0).mean() for i in range(1, 5)])
    acc = accuracy(params, x_test, y_test)
    print(f"wrote {path} ({path.stat().st_size} bytes), quantised test accuracy {acc:.4f}, {zeros:.0%} zero weights")
    return 0


if __name__ == "__main__":
    sys.exit(main())
