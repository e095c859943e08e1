"""Three Pareto points of each example, taken from the explorer, built and verified bit-exactly on Icarus; the
measured cycles per inference are within 5 % of the explorer's prediction. CI runs the fastest point of the two
MLPs; the CNN and the middle and smallest points (longer simulations) are in the slow tier."""

import importlib.util
import shutil
from functools import cache
from pathlib import Path

import pytest

from vhls.backends.nn import build
from vhls.ir.errors import VhlsError
from vhls.loader import load
from vhls.rewrites.explore import Exploration, explore
from vhls.rewrites.lower_hw import read_plan
from vhls.rewrites.targets import get_target

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
pytestmark = pytest.mark.skipif(shutil.which("iverilog") is None or importlib.util.find_spec("cocotb") is None,
                                reason="needs Icarus Verilog and cocotb")


@cache
def _explored(name: str) -> Exploration:
    try:
        return explore(load(EXAMPLES / f"{name}.py"), get_target("ecp5-85k"), workers=1, score_limit=200)
    except VhlsError as e:  # an example the explorer cannot handle yet (convolutions)
        pytest.skip(str(e))


def _points(name: str) -> dict:
    front = _explored(name).pareto
    assert len(front) >= 3
    return {"fastest": front[0], "middle": front[len(front) // 2], "smallest": front[-1]}


def _build_and_verify(name: str, which: str, tmp_path: Path) -> None:
    from vhls.sim.nn.runner import verify

    p = _points(name)[which]
    out = tmp_path / "out"
    rep = build(p.variant.program, out, list(p.parallel), name=name, check=False, vectors=4)
    assert rep["total"]["initiation_interval"] == p.cost.ii
    assert rep["total"]["multipliers"] == p.cost.multipliers
    from vhls.ir.parser import parse

    assert read_plan(parse((out / f"{name}.lowered.vhls").read_text())) == list(p.parallel)
    res = verify(out, "icarus", vectors=4, seed=3)
    assert res.ok, res.summary()
    assert abs(res.cycles_per_inference - p.cost.ii) <= 0.05 * p.cost.ii, res.summary()


@pytest.mark.parametrize("name", ["jet_mlp", "digits_mlp",
                                  pytest.param("digits_cnn", marks=pytest.mark.slow)])  # cnn: ~20 s on Icarus
def test_fastest_pareto_point(name: str, tmp_path: Path) -> None:
    assert _explored(name).chosen is _points(name)["fastest"]  # the throughput objective's choice
    _build_and_verify(name, "fastest", tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("which", ["middle", "smallest"])
@pytest.mark.parametrize("name", ["jet_mlp", "digits_mlp", "digits_cnn"])
def test_more_pareto_points(name: str, which: str, tmp_path: Path) -> None:
    _build_and_verify(name, which, tmp_path)


def test_mixed_precision_builds_bit_exactly(tmp_path: Path) -> None:
    """Per-layer weight and result widths (the explorer's `mixed` variant) build and verify bit-exactly."""
    from vhls.rewrites.explore import make_scorer, precision_variants
    from vhls.sim.nn.runner import verify

    m = load(EXAMPLES / "digits_mlp.py")
    vs, *_ = precision_variants(m, 1.0, (8, 6, 4), make_scorer(m, 100), workers=1, result_bits=(10, 8))
    mixed = next(v for v in vs if v.name == "mixed")
    out = tmp_path / "mixed"
    build(mixed.program, out, 16, check=False, vectors=4)
    res = verify(out, "icarus", vectors=4, seed=5)
    assert res.ok and abs(res.cycles_per_inference - res.predicted_cycles) <= 0.05 * res.predicted_cycles
