"""Training shared by examples/digits_mlp.py and examples/digits_cnn.py (scikit-learn's bundled 8x8 digits).

    python examples/train_digits.py                    # retrain both networks, rewrite examples/weights/digits_*.npz
    python examples/train_digits.py mlp --mode sam     # one network, one training mode -> digits_mlp_sam.npz

The data are `sklearn.datasets.load_digits` (1797 images bundled with scikit-learn, no download), pixel values 0..16
scaled to [0, 1]. A fixed permutation (numpy default_rng(0)) holds out 360 images as the test set. Training is
deterministic: seeded torch generator, deterministic algorithms, one thread, full-precision float32 on CPU.
The examples load the shipped .npz files and only train when a file is missing.

Modes (vhls.noise.train): `plain` (digits_KIND.npz), `noise` (multiplicative Gaussian weight noise in the forward
pass, digits_KIND_noise.npz) and `sam` (adaptive sharpness-aware minimisation, perturbations scaled by weight
magnitude, digits_KIND_sam.npz): weights meant to survive noisy accelerators (`vhls noise-sweep`).
"""

import argparse
import sys
from pathlib import Path
from typing import Any

import numpy as np

WEIGHTS = Path(__file__).resolve().parent / "weights"
SEED = 0
N_TEST = 360
KINDS = ("mlp", "cnn")
MODES = ("plain", "noise", "sam")
# Label smoothing keeps the logits small (a few units instead of tens): fixed<16,6> holds [-32, 32) only, and a
# logit past that would wrap around in the default TRN/WRAP result type.
LABEL_SMOOTHING = 0.1


def digits_split() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_train, y_train, x_test, y_test); x of shape (N, 1, 8, 8), float32 in [0, 1]; y int64 labels."""
    from sklearn.datasets import load_digits

    d = load_digits()
    x = (d.images / 16.0).astype(np.float32)[:, None, :, :]
    y = d.target.astype(np.int64)
    order = np.random.default_rng(SEED).permutation(len(y))
    test, train = order[:N_TEST], order[N_TEST:]
    return x[train], y[train], x[test], y[test]


def torch_model(kind: str) -> Any:
    """The torch network of each example (the vhls models mirror these layer by layer)."""
    from torch import nn

    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.BatchNorm1d(32), nn.ReLU(), nn.Linear(32, 10))
    if kind == "cnn":
        return nn.Sequential(
            nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64, 10),
        )
    raise ValueError(f"unknown kind {kind!r}; known: {', '.join(KINDS)}")


def train(kind: str, epochs: int = 60, verbose: bool = False, mode: str = "plain") -> dict[str, np.ndarray]:
    """Train one network from a fixed seed; returns its state dict as float32 numpy arrays."""
    import torch

    from vhls.noise.train import step

    x_train, y_train, x_test, y_test = digits_split()
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    try:
        torch.manual_seed(SEED)
        net = torch_model(kind)
        opt = torch.optim.Adam(net.parameters(), lr=3e-3, weight_decay=1e-4)
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, epochs)
        gen = torch.Generator().manual_seed(SEED)
        noise_gen = torch.Generator().manual_seed(SEED + 1)  # separate, so batch order matches plain training
        xt, yt = torch.from_numpy(x_train), torch.from_numpy(y_train)
        for epoch in range(epochs):
            net.train()
            for idx in torch.randperm(len(yt), generator=gen).split(32):
                def loss_of(idx: Any = idx) -> Any:
                    return torch.nn.functional.cross_entropy(net(xt[idx]), yt[idx], label_smoothing=LABEL_SMOOTHING)

                loss = step(net, opt, loss_of, mode, noise_gen)
            sched.step()
            if verbose and (epoch + 1) % 10 == 0:
                print(f"  {kind} ({mode}) epoch {epoch + 1}: loss {loss:.4f}, test accuracy "
                      f"{accuracy(net, x_test, y_test):.4f}")
        net.eval()
        return {k: v.detach().numpy().astype(np.float32) for k, v in net.state_dict().items()
                if v.dtype.is_floating_point}
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic)


def accuracy(net: Any, x: np.ndarray, y: np.ndarray) -> float:
    import torch

    net.eval()
    with torch.no_grad():
        return float((net(torch.from_numpy(x)).argmax(1).numpy() == y).mean())


def weights_path(kind: str, mode: str = "plain") -> Path:
    if mode not in MODES:
        raise ValueError(f"unknown training mode {mode!r}; known: {', '.join(MODES)}")
    return WEIGHTS / (f"digits_{kind}.npz" if mode == "plain" else f"digits_{kind}_{mode}.npz")


def save(kind: str, state: dict[str, np.ndarray], mode: str = "plain") -> Path:
    WEIGHTS.mkdir(parents=True, exist_ok=True)
    path = weights_path(kind, mode)
    np.savez_compressed(path, **state)
    return path


def load_weights(kind: str, mode: str = "plain") -> dict[str, np.ndarray]:
    """The shipped weights; trains (and writes the file) only when it is missing."""
    path = weights_path(kind, mode)
    if not path.exists():
        save(kind, train(kind, mode=mode), mode)
    with np.load(path) as f:
        return {k: f[k] for k in f.files}


def torch_with_weights(kind: str, state: dict[str, np.ndarray] | None = None, mode: str = "plain") -> Any:
    """The torch network with the shipped (or given) weights, in eval mode."""
    import torch

    net = torch_model(kind)
    state = load_weights(kind, mode) if state is None else state
    wanted = {k for k, v in net.state_dict().items() if v.dtype.is_floating_point}
    if wanted != set(state):
        raise ValueError(f"digits_{kind} weights do not fit the network: missing {sorted(wanted - set(state))}, "
                         f"unexpected {sorted(set(state) - wanted)}")
    net.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()}, strict=False)  # minus batch counters
    return net.eval()


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description="Retrain the digits examples and rewrite their shipped weights.")
    p.add_argument("kinds", nargs="*", metavar="KIND", help=f"networks to train ({', '.join(KINDS)}; default both)")
    p.add_argument("--mode", choices=MODES, default="plain", help="training mode (default plain)")
    args = p.parse_args(argv)
    if unknown := sorted(set(args.kinds) - set(KINDS)):
        p.error(f"unknown network {', '.join(unknown)}; known: {', '.join(KINDS)}")
    _, _, x_test, y_test = digits_split()
    for kind in args.kinds or list(KINDS):
        print(f"training digits_{kind} ({args.mode}, seed {SEED})")
        state = train(kind, verbose=True, mode=args.mode)
        path = save(kind, state, args.mode)
        acc = accuracy(torch_with_weights(kind, state), x_test, y_test)
        print(f"wrote {path} ({path.stat().st_size} bytes), float test accuracy {acc:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
