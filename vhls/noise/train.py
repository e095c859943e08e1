"""Noise-aware training steps (torch): plain, noise injection, and adaptive sharpness-aware minimisation.

- `noise`: each step evaluates the loss and its gradient at weights w·(1 + σ·N(0, 1)) (multiplicative Gaussian
  noise on every weight matrix / kernel, fresh per step, from a seeded torch Generator), then applies that gradient
  to the clean weights. This is the usual "train on simulated noisy hardware" recipe that SAMSON's paper takes as
  its baseline.
- `sam`: adaptive SAM with perturbations scaled by weight magnitude: ε = ρ·T²g / ‖T g‖ with T = |w| + η
  (ASAM, Kwon et al., ICML 2021, arXiv:2102.11600; the magnitude scaling that SAMSON — Mordido, Henwood, Chandar,
  Leduc-Primeau, arXiv:2211.11561 — builds on for noisy analog accelerators, without SAMSON's extra outlier
  normalisation). The gradient at w + ε is applied to w (Foret et al., SAM, arXiv:2010.01412). Every trainable
  tensor is perturbed; BatchNorm running statistics see both forward passes.

Weights are saved and restored by copy, so the clean weights are bit-exactly what the optimiser produced (adding
and subtracting a perturbation in float32 would not round-trip). Deterministic on CPU with a seeded Generator.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

MODES = ("plain", "noise", "sam")
NOISE_SIGMA = 0.1  # relative weight noise for `noise` training (a priori choice, not tuned on the test split)
SAM_RHO = 0.5  # ASAM radius (Kwon et al.'s CIFAR-10 setting)
SAM_ETA = 0.01  # ASAM's offset so zero weights still get perturbed


@contextmanager
def _displaced(params: list[Any], deltas: list[Any]) -> Iterator[None]:
    """Temporarily add `deltas` to `params`, restoring the exact original values afterwards."""
    import torch

    saved = [p.detach().clone() for p in params]
    with torch.no_grad():
        for p, d in zip(params, deltas, strict=True):
            p.add_(d)
    try:
        yield
    finally:
        with torch.no_grad():
            for p, s in zip(params, saved, strict=True):
                p.copy_(s)


def weight_noise(params: list[Any], sigma: float, gen: Any) -> list[Any]:
    """Multiplicative Gaussian perturbations w·σ·N(0, 1) for the weight tensors (ndim >= 2), zeros elsewhere."""
    import torch

    return [p.detach() * sigma * torch.randn(p.shape, generator=gen, dtype=p.dtype) if p.ndim >= 2
            else torch.zeros_like(p) for p in params]


def asam_perturbation(params: list[Any], rho: float, eta: float) -> list[Any]:
    """ε = ρ·T²g / ‖T g‖ with T = |w| + η, from the gradients currently stored in `params`."""
    import torch

    scaled = [(p.detach().abs() + eta) * (p.grad if p.grad is not None else torch.zeros_like(p)) for p in params]
    norm = torch.sqrt(sum((s * s).sum() for s in scaled)) + 1e-12
    return [rho * (p.detach().abs() + eta) * s / norm for p, s in zip(params, scaled, strict=True)]


def step(net: Any, opt: Any, loss_of: Callable[[], Any], mode: str, gen: Any = None, sigma: float = NOISE_SIGMA,
         rho: float = SAM_RHO, eta: float = SAM_ETA) -> float:
    """One optimiser step of `mode` on the loss `loss_of()` (a closure running the network); returns the loss."""
    params = [p for p in net.parameters() if p.requires_grad]
    opt.zero_grad()
    if mode == "plain":
        loss = loss_of()
        loss.backward()
    elif mode == "noise":
        if gen is None:
            raise ValueError("noise training needs a seeded torch.Generator")
        with _displaced(params, weight_noise(params, sigma, gen)):
            loss = loss_of()
            loss.backward()
    elif mode == "sam":
        loss = loss_of()
        loss.backward()
        eps = asam_perturbation(params, rho, eta)
        opt.zero_grad()
        with _displaced(params, eps):
            loss_of().backward()
    else:
        raise ValueError(f"unknown training mode {mode!r}; known: {', '.join(MODES)}")
    opt.step()
    return float(loss.item())
