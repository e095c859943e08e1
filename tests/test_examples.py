"""The layer-level example models: they load (without training), the exact fixed-point model keeps the float
model's accuracy, float mode equals torch, and the printed IR is byte-identical from build to build."""

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from vhls.loader import load

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
LAYER_EXAMPLES = ["jet_mlp", "digits_mlp", "digits_cnn", "finn_tfc"]


@pytest.fixture(scope="module")
def train_digits():
    """examples/train_digits.py under the name the examples use, with training disabled: loading must not train."""
    name = "train_digits"  # the name the examples import it by
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, EXAMPLES / "train_digits.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    module = sys.modules[name]
    real = module.train

    def refuse(*args, **kwargs):
        raise AssertionError("an example trained at load time although its weights are shipped")

    module.train = refuse
    yield module
    module.train = real


@pytest.fixture(scope="module")
def models(train_digits):
    return {name: load(EXAMPLES / f"{name}.py") for name in LAYER_EXAMPLES}


def accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    return float((scores.argmax(axis=1) == labels).mean())


def test_weights_are_shipped_small_and_complete(train_digits) -> None:
    for kind in ("mlp", "cnn"):
        path = train_digits.weights_path(kind)
        assert path.is_file() and path.stat().st_size < 64_000
        train_digits.torch_with_weights(kind)  # every tensor of the torch network is in the file


@pytest.mark.parametrize("name", ["digits_mlp", "digits_cnn"])
def test_digits_exact_accuracy_within_two_points_of_float(models, name: str) -> None:
    m = models[name]
    x, y = m.test_set
    assert len(y) == 360
    acc_float = accuracy(m.run(x, exact=False), y)
    acc_exact = accuracy(m.run(x), y)
    assert acc_float >= 0.95
    assert abs(acc_exact - acc_float) <= 0.02, (acc_float, acc_exact)


@pytest.mark.parametrize(("name", "kind"), [("digits_mlp", "mlp"), ("digits_cnn", "cnn")])
def test_digits_float_mode_equals_torch(models, train_digits, name: str, kind: str) -> None:
    m = models[name]
    x, _ = m.test_set
    net = train_digits.torch_with_weights(kind)
    with torch.no_grad():
        want = net(torch.from_numpy(x.reshape(-1, 1, 8, 8).astype(np.float32))).numpy()
    assert np.abs(m.run(x, exact=False) - want).max() < 1e-5


def test_digits_models_fold_batchnorm(models) -> None:
    assert [i.kind for i in models["digits_mlp"].layers] == ["Input", "Dense+BatchNorm", "ReLU", "Dense"]
    cnn = [i.kind for i in models["digits_cnn"].layers]
    assert cnn == ["Input", "Conv2d+BatchNorm", "ReLU", "MaxPool2d", "Conv2d", "ReLU", "MaxPool2d", "Flatten", "Dense"]
    assert models["digits_cnn"].layers[-1].out_shape == (10,)


def test_jet_mlp(models) -> None:
    m = models["jet_mlp"]
    assert m.input_shape == (16,) and m.output_shape == (5,)
    assert [(i.kind, i.out_shape) for i in m.layers] == [
        ("Input", (16,)), ("Dense", (64,)), ("ReLU", (64,)), ("Dense", (32,)), ("ReLU", (32,)), ("Dense", (32,)),
        ("ReLU", (32,)), ("Dense", (5,))]
    assert m.macs() == sum(i.macs for i in m.layers) == 16 * 64 + 64 * 32 + 32 * 32 + 32 * 5
    assert sum(i.params for i in m.layers) == 16 * 64 + 64 + 64 * 32 + 32 + 32 * 32 + 32 + 32 * 5 + 5
    x = m.calibration
    assert x.shape == (1024, 16)
    exact, flt = m.run(x), m.run(x, exact=False)
    assert np.abs(exact - flt).max() < 0.05
    assert (exact.argmax(1) == flt.argmax(1)).mean() > 0.99


def test_finn_tfc_ternary_weights_2bit_activations_and_accuracy(models) -> None:
    """The TFC-shaped MLP: 784-64-64-64-10, shipped weights already on their ternary grid, and its exact model keeps
    the quantisation-aware training's accuracy (the golden model is what training computed)."""
    m = models["finn_tfc"]
    assert m.input_shape == (784,) and m.output_shape == (10,)
    assert m.macs() == 784 * 64 + 64 * 64 * 2 + 64 * 10
    tt = sys.modules["train_finn_tfc"]
    w = tt.load_weights()
    assert tt.WEIGHTS.stat().st_size < 64_000
    for i in range(4):
        s = 2.0 ** (tt.WEIGHT[i][1] - tt.WEIGHT[i][0])
        assert set(np.unique(w[f"w{i + 1}"])) <= {-s, 0.0, s}
    x, y = m.test_set
    assert x.shape == (360, 784)
    assert accuracy(m.run(x), y) >= 0.95


def test_finn_tfc_builds_and_verifies_bit_exactly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from vhls.cli import main

    out = tmp_path / "tfc"
    assert main(["build", str(EXAMPLES / "finn_tfc.py"), "-o", str(out), "--parallel", "64", "--vectors", "4"]) == 0
    capsys.readouterr()
    assert main(["verify", str(out), "--sim", "icarus", "--vectors", "4"]) == 0
    assert "4 vectors, 0 mismatches" in capsys.readouterr().out


@pytest.mark.parametrize("name", LAYER_EXAMPLES)
def test_printed_ir_identical_across_builds(models, train_digits, name: str) -> None:
    again = load(EXAMPLES / f"{name}.py")
    assert again.text() == models[name].text()
    assert again.ir == models[name].ir


def test_printed_ir_identical_across_processes(models) -> None:
    """A fresh interpreter with another hash seed prints the same bytes (no set/dict-order or id dependence)."""
    code = ("import sys; from vhls.loader import load; "
            "sys.stdout.write(load(sys.argv[1]).text())")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code, str(EXAMPLES / "digits_cnn.py")], env=env, cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    assert out == models["digits_cnn"].text()


@pytest.mark.parametrize("name", LAYER_EXAMPLES)
def test_text_round_trips(models, name: str) -> None:
    parser = pytest.importorskip("vhls.ir.parser")
    m = models[name]
    assert parser.parse(m.text()) == m.ir


@pytest.mark.slow
def test_retraining_reproduces_the_shipped_weights() -> None:
    """`python examples/train_digits.py` is deterministic: retraining gives the shipped weights (to float noise
    across CPUs; bit-identical on the machine that wrote them)."""
    spec = importlib.util.spec_from_file_location("train_digits_fresh", EXAMPLES / "train_digits.py")
    assert spec is not None and spec.loader is not None
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)  # a private copy: the fixture's copy refuses to train
    for kind in ("mlp", "cnn"):
        shipped = fresh.load_weights(kind)
        state = fresh.train(kind)
        assert set(state) == set(shipped)
        for k in state:
            assert np.allclose(state[k], shipped[k], atol=1e-5), (kind, k)
