"""bench/run.py: the synthesis step's out-of-context fallback, with a stand-in for `vhls synth` (no tools run)."""

import json
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
