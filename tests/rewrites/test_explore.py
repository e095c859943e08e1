"""`vhls explore`: Pareto front on jet_mlp / ECP5-85k, budget and accuracy messages, JSON schema, process-pool
determinism, balanced tilings; three Pareto points built and verified bit-exactly on Icarus (the proof)."""

import argparse
import importlib.util
import json
import shutil
from functools import cache
from pathlib import Path

import pytest

from vhls.backends.nn import allocate, plan, recognise
from vhls.ir.errors import VhlsError
from vhls.loader import load
from vhls.rewrites import explore_cli
from vhls.rewrites.explore import Point, explore, make_scorer, pareto, precision_variants, score_all, tilings
from vhls.rewrites.targets import ECP5_85K, ICE40_UP5K, get_target

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
HAVE_ICARUS = shutil.which("iverilog") is not None and importlib.util.find_spec("cocotb") is not None


@cache
def example(name: str):
    return load(EXAMPLES / f"{name}.py")


@cache
def jet_ecp5():
    return explore(example("jet_mlp"), ECP5_85K, workers=1)


def cli(*argv: str) -> int:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command")
    explore_cli.add_parser(sub)
    return explore_cli.run(p.parse_args(["explore", *argv]))


def test_jet_mlp_on_ecp5_prints_a_pareto_table(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_json = tmp_path / "pareto.json"
    assert cli(str(EXAMPLES / "jet_mlp.py"), "--target", "ecp5-85k", "--json", str(out_json), "--workers", "1") == 0
    out = capsys.readouterr().out
    rows = [ln for ln in out.splitlines() if ln.startswith("│")]
    assert len(rows) >= 3
    assert "Pareto front" in out and "estimates" in out
    assert sum(" * │" in r for r in rows) == 1  # the chosen point is marked
    data = json.loads(out_json.read_text())
    assert len(data["pareto"]) == len(rows)


def test_json_schema(tmp_path: Path) -> None:
    out = tmp_path / "p.json"
    assert cli(str(EXAMPLES / "digits_mlp.py"), "--target", "ice40-up5k", "--json", str(out), "--workers", "1",
               "--objective", "area") == 0
    data = json.loads(out.read_text())
    assert set(data) >= {"model", "target", "objective", "accuracy_metric", "base_accuracy", "accuracy_drop_limit",
                         "points_evaluated", "points_feasible", "variants", "sensitivity", "result_sensitivity",
                         "chosen", "pareto", "calibrated"}
    assert data["model"] == "digits_mlp" and data["objective"] == "area"
    assert data["accuracy_metric"] == "test accuracy"
    assert data["target"]["name"] == "ice40-up5k" and data["target"]["dsp"] == 8
    keys = {"precision", "rules", "exact", "weight_bits", "result_bits", "parallel", "ii_cycles", "latency_cycles",
            "throughput_per_s", "latency_ns", "multipliers", "dsp", "lut", "ff", "bram", "lut_multipliers", "area",
            "utilisation", "accuracy", "accuracy_drop"}
    assert data["pareto"]
    for p in data["pareto"]:
        assert set(p) == keys
        assert p["area"] <= 1 and p["dsp"] <= 8 and p["bram"] <= 30 and p["accuracy_drop"] <= 1.0
        assert len(p["parallel"]) == 2 and all(len(x) == 2 for x in p["parallel"])
    chosen = data["pareto"][data["chosen"]]
    assert chosen["area"] == min(p["area"] for p in data["pareto"])


def test_pareto_front_is_a_front() -> None:
    ex = jet_ecp5()
    assert len(ex.pareto) >= 3 and ex.chosen is ex.pareto[0]
    objs = [(p.cost.ii, p.cost.latency, p.area, -p.accuracy) for p in ex.pareto]
    for i, a in enumerate(objs):
        for j, b in enumerate(objs):
            if i != j:
                assert not all(x <= y for x, y in zip(b, a, strict=True)), (a, b)
    # Every fitting point is dominated by (or equal to) a front point.
    for p in ex.points[::50]:
        assert any(q.cost.ii <= p.cost.ii and q.cost.latency <= p.cost.latency and q.area <= p.area
                   and q.accuracy >= p.accuracy for q in ex.pareto)
    assert pareto(ex.pareto) == sorted(ex.pareto, key=lambda p: (p.cost.ii, p.cost.latency, p.area))
    # The throughput objective picks the smallest II; all points fit the device.
    assert ex.chosen.cost.ii == min(p.cost.ii for p in ex.points)
    assert all(p.cost.fits(ECP5_85K) for p in ex.pareto)


def test_tilings_are_balanced_and_include_allocate() -> None:
    net = recognise(example("jet_mlp").ir)
    tl = tilings(net)
    assert len(tl) == len(set(tl))
    for budget in (4, 20, 68, 150, 300):
        assert tuple(allocate(net, budget)) in tl
    for par in tl[::25]:
        st = plan(net, list(par))
        ii = max(s.cycles for s in st)
        cheapest = [min(pe * s for pe in range(1, ly.n_out + 1) if ly.n_out % pe == 0
                        for s in range(1, ly.n_in + 1) if ly.n_in % s == 0
                        and (ly.n_out // pe) * (ly.n_in // s) <= ii) for ly in net.layers]
        assert all(s.multipliers <= 2 * c for s, c in zip(st, cheapest, strict=True))


def test_infeasible_budget_says_what_the_smallest_design_needs() -> None:
    with pytest.raises(VhlsError, match=r"no design fits generic.*smallest design needs 4 DSP.*over budget: DSP"):
        cli(str(EXAMPLES / "jet_mlp.py"), "--target", "generic", "--dsp", "2", "--lut", "100000", "--bram", "100",
            "--workers", "1")


def test_unreachable_accuracy_names_the_limiting_layer() -> None:
    # Six block RAMs (weight ROMs and input buffers of 17+ words need them) and little logic: only designs with
    # narrow weights fit, and they lose too much accuracy.
    t = get_target("generic", dsp=156, lut=8000, bram=6, ff=16000)
    with pytest.raises(VhlsError, match=r"accuracy drop of at most 0\.5 points.*unreachable.*layer dense\d limits it: "
                                        r"dense\d alone with \d+-bit (weights|results) drops"):
        explore(example("jet_mlp"), t, accuracy_drop=0.5, workers=1)


def test_bad_options() -> None:
    with pytest.raises(VhlsError, match="accuracy-drop must be >= 0"):
        explore(example("jet_mlp"), ECP5_85K, accuracy_drop=-1)
    with pytest.raises(VhlsError, match="unknown objective"):
        explore(example("jet_mlp"), ECP5_85K, objective="power")
    with pytest.raises(VhlsError, match="--bits"):
        cli(str(EXAMPLES / "jet_mlp.py"), "--bits", "8,x")


def test_accuracy_is_the_same_in_a_process_pool() -> None:
    m = example("digits_mlp")
    sc = make_scorer(m)
    vs, sens, base, rsens = precision_variants(m, 1.0, (8, 6, 4), sc, workers=1, result_bits=(10, 8))
    progs = [v.program for v in vs] * 3  # enough jobs for the pool
    assert score_all(progs, sc, workers=2) == score_all(progs, sc, workers=1)
    assert vs[0].name == "as written" and vs[0].drop == 0 and base == pytest.approx(98.89, abs=0.01)
    assert all(v.drop == 0 for v in vs if v.exact)
    assert set(sens) == {"dense0", "dense1"} and set(sens["dense0"]) == {8, 6, 4}
    assert set(rsens) == {"dense0"} and set(rsens["dense0"]) == {10, 8}  # dense1's result is the program's
    mixed = [v for v in vs if v.name == "mixed"]
    assert mixed and mixed[0].drop <= 1.0  # per-layer widths, backed off until the combination fits
    for rule in mixed[0].rules[:-1]:
        name, k = rule.split("@")[0].rstrip(")").split("(")
        layer = "dense0" if rule.endswith(("@w1", "@h1")) else "dense1"
        assert (sens if name == "quantise_weights" else rsens)[layer][int(k)] <= 1.0


def test_objectives_choose_differently() -> None:
    m = example("digits_mlp")
    fast = explore(m, ECP5_85K, objective="throughput", workers=1)
    small = explore(m, ECP5_85K, objective="area", workers=1)
    low = explore(m, ECP5_85K, objective="latency", workers=1)
    assert fast.chosen.cost.ii <= small.chosen.cost.ii and small.chosen.area <= fast.chosen.area
    assert low.chosen.cost.latency == min(p.cost.latency for p in low.pareto)


def test_calibration_results_are_in_the_repo() -> None:
    data = json.loads((EXAMPLES.parent / "bench" / "results" / "cost_calibration.json").read_text())
    assert data["summary"]["dsp_exact"] and data["summary"]["multipliers_equal_report"]
    assert data["summary"]["validation"]["points"] >= 3
    assert data["ff_scale"] == ECP5_85K.ff_scale  # the committed fit is the one the model uses
    assert data["lut_weights"]["ecp5"] == dict(ECP5_85K.lut_weights)
    assert data["lut_weights"]["ice40"] == dict(ICE40_UP5K.lut_weights)
    assert data["summary"]["all"]["lut"]["max_abs_rel_error"] <= 0.15  # issue #4's target
    for row in data["points"]:
        assert set(row["estimate"]) == set(row["synthesis"]) == {"dsp", "lut", "ff", "bram"}


def test_plot(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    png = tmp_path / "front.png"
    assert cli(str(EXAMPLES / "digits_mlp.py"), "--target", "ice40-up5k", "--plot", str(png), "--workers", "1") == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------------------------------- proof
def _proof_points() -> list[Point]:
    """Three Pareto points of jet_mlp: the smallest and a middle one on ECP5-85k, and an approximate-precision one
    (quantised weights) from iCE40-UP5K with a wide tolerance."""
    ex = jet_ecp5()
    by_area = sorted(ex.pareto, key=lambda p: p.area)
    pts = [by_area[0], by_area[len(by_area) // 3]]
    ice = explore(example("jet_mlp"), ICE40_UP5K, accuracy_drop=20, workers=1)
    approx = [p for p in ice.pareto if not p.variant.exact]
    assert approx, "expected a quantised-weight Pareto point on iCE40"
    pts.append(min(approx, key=lambda p: p.cost.ii))
    return pts


@pytest.mark.skipif(not HAVE_ICARUS, reason="needs Icarus Verilog and cocotb")
def test_three_pareto_points_build_and_verify_bit_exactly(tmp_path: Path) -> None:
    from vhls.backends.nn import build
    from vhls.sim.nn import verify

    for i, p in enumerate(_proof_points()):
        out = tmp_path / f"p{i}"
        rep = build(p.variant.program, out, [tuple(x) for x in p.parallel])
        assert rep["total"]["multipliers"] == p.cost.multipliers
        assert rep["total"]["initiation_interval"] == p.cost.ii and rep["total"]["latency"] == p.cost.latency
        res = verify(out, "icarus", vectors=6, seed=i)
        assert res.ok, (p.variant.name, p.parallel, res.summary(), res.first_bad)
        assert res.cycles_per_inference == pytest.approx(p.cost.ii, rel=0.05)
        assert res.latency == p.cost.latency


@pytest.mark.slow
@pytest.mark.skipif(not HAVE_ICARUS, reason="needs Icarus Verilog and cocotb")
def test_digits_pareto_points_verify_bit_exactly(tmp_path: Path) -> None:
    from vhls.backends.nn import design
    from vhls.sim.nn import verify

    ex = explore(example("digits_mlp"), ECP5_85K, accuracy_drop=2, workers=1)
    by_area = sorted(ex.pareto, key=lambda p: p.area)
    for i, p in enumerate({id(q): q for q in (by_area[0], by_area[len(by_area) // 2], by_area[-1])}.values()):
        res = verify(design(p.variant.program, list(p.parallel)), "icarus", vectors=10, seed=i)
        assert res.ok and res.cycles_per_inference == p.cost.ii, res.summary()


@pytest.mark.skipif(not HAVE_ICARUS, reason="needs Icarus Verilog and cocotb")
def test_chosen_jet_point_verifies_with_predicted_cycles() -> None:
    """The throughput-optimal jet_mlp design on ECP5-85k (138 multipliers): bit-exact, cycles as predicted."""
    from vhls.backends.nn import design
    from vhls.sim.nn import verify

    ch = jet_ecp5().chosen
    res = verify(design(ch.variant.program, list(ch.parallel)), "icarus", vectors=12, seed=3)
    assert res.ok, res.summary()
    assert res.cycles_per_inference == pytest.approx(ch.cost.ii, rel=0.05) and res.latency == ch.cost.latency


def test_build_option_builds_the_chosen_point(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert cli(str(EXAMPLES / "digits_mlp.py"), "--target", "ice40-up5k", "--objective", "area", "--build",
               str(out), "--workers", "1") == 0
    design_json = json.loads((out / "design.json").read_text())
    rep = json.loads((out / "report.json").read_text())
    assert "built the chosen point" in capsys.readouterr().err
    assert rep["total"]["multipliers"] <= 8 and design_json["parallel"] == rep["total"]["parallel"]
