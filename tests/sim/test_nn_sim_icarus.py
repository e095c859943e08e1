"""cocotb on Icarus: nn accelerators stream vectors with stalls and match the golden model bit for bit, and the
measured cycles per inference and latency equal the report's predictions."""

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backends"))
from nn_nets import kernel_style_model, narrow_acc, random_net, two_layer

from vhls.backends.nn import build, design
from vhls.sim.nn import verify

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("iverilog") is None or importlib.util.find_spec("cocotb") is None,
                                reason="needs Icarus Verilog and cocotb")


def _check(model, parallel, vectors: int = 20, seed: int = 0, **kw) -> None:
    d = design(model, parallel)
    res = verify(d, "icarus", vectors=vectors, seed=seed, **kw)
    assert res.ok, (res.summary(), res.first_bad)
    assert res.cycles_per_inference == res.predicted_cycles, res.summary()
    assert res.latency == res.predicted_latency
    assert res.summary() == (f"verify: {vectors} vectors, 0 mismatches, {res.predicted_cycles} cycles/inference "
                             f"(predicted {res.predicted_cycles})")
    return res


@pytest.mark.parametrize("parallel", [None, "2x4,2x3", "6x8,4x6"], ids=["sequential", "folded", "full"])
def test_two_layer_net(parallel) -> None:
    _check(two_layer(), parallel, vectors=24, seed=1)


def test_narrow_accumulator_unsigned_input_fused_relu() -> None:
    _check(narrow_acc(), 4, vectors=24, seed=2)


def _jet():
    path = REPO / "examples" / "jet_mlp.py"
    if not path.exists() or importlib.util.find_spec("vhls.layers") is None:
        pytest.skip("examples/jet_mlp.py is not there yet")
    from vhls import load

    return load(path)


@pytest.mark.parametrize("budget", [68, 300])
def test_jet_mlp(budget: int) -> None:
    res = _check(_jet(), budget)
    assert res.utilisation >= 0.97


def test_verify_a_build_folder_and_catch_a_wrong_design(tmp_path: Path) -> None:
    if importlib.util.find_spec("vhls.ir.parser") is None:
        pytest.skip("the IR parser is not there yet")
    out = tmp_path / "out"
    build(two_layer(), out, "2x2,1x3")
    ok = verify(out, "icarus", vectors=8, seed=4)
    assert ok.ok and (out / "sim_icarus").is_dir()
    # Same shapes, other weights: the RTL no longer matches the program it claims to implement.
    other = tmp_path / "other"
    build(two_layer(seed=9), other, "2x2,1x3")
    (out / "two_layer.vhls").write_text((other / "two_layer.vhls").read_text())
    bad = verify(out, "icarus", vectors=8, seed=4)
    assert bad.mismatches > 0 and bad.first_bad is not None
    assert len(bad.first_bad["got"]) == 4 and bad.first_bad["got"] != bad.first_bad["want"]
    assert bad.extra["waves"] and all(Path(w).is_file() for w in bad.extra["waves"])  # rerun with a dump


@pytest.mark.slow
def test_jet_mlp_fully_sequential() -> None:
    _check(_jet(), None, vectors=20)


@pytest.mark.slow
def test_digits_mlp() -> None:
    path = REPO / "examples" / "digits_mlp.py"
    if not path.exists():
        pytest.skip("examples/digits_mlp.py is not there yet")
    from vhls import load

    for budget in (40, 400):
        res = _check(load(path), budget)
        assert res.utilisation >= 0.9


def test_kernel_style_vector_matrix_product() -> None:
    _check(kernel_style_model(), "2x4")


def _fuzz(seed: int) -> None:
    prog, pairs = random_net(seed)
    d = design(prog, pairs)
    res = verify(d, "icarus", vectors=16, seed=seed)
    assert res.ok, (seed, res.summary(), res.first_bad)
    assert res.cycles_per_inference == res.predicted_cycles and res.latency == res.predicted_latency, seed


@pytest.mark.parametrize("seed", range(3))
def test_random_networks(seed: int) -> None:
    _fuzz(seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(3, 40))
def test_random_networks_more(seed: int) -> None:
    _fuzz(seed)
