"""vhls.noise.train: deterministic steps, exact restoration of the clean weights, ASAM's perturbation radius,
multiplicative weight noise of the stated σ; examples/train_digits.py's modes (one short epoch)."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from vhls.noise import train  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _tiny(seed: int = 0):
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(32, 6, generator=g), torch.randint(0, 3, (32,), generator=g)
    return net, x, y


def _fit(mode: str, steps: int = 5) -> list:
    net, x, y = _tiny()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    gen = torch.Generator().manual_seed(3)
    for _ in range(steps):
        train.step(net, opt, lambda: torch.nn.functional.cross_entropy(net(x), y), mode, gen)
    return [p.detach().clone() for p in net.parameters()]


@pytest.mark.parametrize("mode", train.MODES)
def test_steps_are_deterministic(mode: str) -> None:
    a, b = _fit(mode), _fit(mode)
    assert all(torch.equal(u, v) for u, v in zip(a, b, strict=True))


def test_modes_differ_from_plain() -> None:
    plain = _fit("plain")
    for mode in ("noise", "sam"):
        assert any(not torch.equal(u, v) for u, v in zip(plain, _fit(mode), strict=True)), mode


def test_perturbation_is_undone_exactly() -> None:
    net, _, _ = _tiny()
    before = [p.detach().clone() for p in net.parameters()]
    params = list(net.parameters())
    deltas = [torch.full_like(p, 0.1234567) for p in params]
    with train._displaced(params, deltas):
        assert not torch.equal(params[0], before[0])
    assert all(torch.equal(p, b) for p, b in zip(params, before, strict=True))  # bit-exact, not (w + d) - d


def test_asam_perturbation_radius() -> None:
    net, x, y = _tiny()
    torch.nn.functional.cross_entropy(net(x), y).backward()
    params = list(net.parameters())
    rho, eta = 0.5, 0.01
    eps = train.asam_perturbation(params, rho, eta)
    # ASAM's constraint: ‖T⁻¹ ε‖ = ρ with T = |w| + η, and ε points along T² g (an ascent direction)
    norm = torch.sqrt(sum(((e / (p.detach().abs() + eta)) ** 2).sum() for e, p in zip(eps, params, strict=True)))
    assert float(norm) == pytest.approx(rho, rel=1e-5)
    assert float(sum((e * p.grad).sum() for e, p in zip(eps, params, strict=True))) > 0


def test_weight_noise_is_multiplicative_with_sigma() -> None:
    w = torch.nn.Parameter(torch.full((200, 200), 0.5))
    b = torch.nn.Parameter(torch.ones(200))
    d_w, d_b = train.weight_noise([w, b], 0.1, torch.Generator().manual_seed(0))
    rel = (d_w / w.detach()).flatten().numpy()
    assert abs(rel.std() - 0.1) < 5 * 0.1 / np.sqrt(2 * rel.size) and abs(rel.mean()) < 5 * 0.1 / np.sqrt(rel.size)
    assert torch.equal(d_b, torch.zeros_like(b))  # biases stay clean


def test_bad_mode() -> None:
    net, x, _ = _tiny()
    with pytest.raises(ValueError, match="unknown training mode"):
        train.step(net, torch.optim.SGD(net.parameters(), lr=0.1), lambda: net(x).sum(), "adversarial")


@pytest.fixture(scope="module")
def train_digits():
    spec = importlib.util.spec_from_file_location("train_digits_noise_test", EXAMPLES / "train_digits.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_train_digits_modes_one_epoch(train_digits) -> None:
    sam = train_digits.train("mlp", epochs=1, mode="sam")
    assert all(np.array_equal(sam[k], v) for k, v in train_digits.train("mlp", epochs=1, mode="sam").items())
    plain = train_digits.train("mlp", epochs=1)
    assert not np.array_equal(sam["1.weight"], plain["1.weight"])
    assert train_digits.weights_path("mlp", "sam").name == "digits_mlp_sam.npz"
    assert train_digits.weights_path("mlp").name == "digits_mlp.npz"
    with pytest.raises(ValueError, match="unknown training mode"):
        train_digits.weights_path("mlp", "fancy")


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
@pytest.mark.parametrize("mode", ["noise", "sam"])
def test_variant_weights_are_shipped(train_digits, kind: str, mode: str) -> None:
    path = train_digits.weights_path(kind, mode)
    assert path.is_file() and path.stat().st_size < 64_000
    train_digits.torch_with_weights(kind, mode=mode)  # every tensor of the torch network is in the file
