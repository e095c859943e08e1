"""`vhls build` / `vhls verify` from the command line (the backend itself is tested in tests/backends, tests/sim)."""

import json
from pathlib import Path

import pytest

from vhls.cli import main


def test_build_then_verify_jet_on_icarus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "jet"
    assert main(["build", "examples/jet_mlp.py", "-o", str(out), "--parallel", "68"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["total"]["multipliers"] == 68 and report["total"]["macs"] == 4256
    first = (out / "jet_mlp.v").read_text()
    assert main(["build", "examples/jet_mlp.py", "-o", str(out), "--parallel", "68"]) == 0  # a vhls folder: reused
    assert (out / "jet_mlp.v").read_text() == first
    capsys.readouterr()
    assert main(["verify", str(out), "--vectors", "12", "--seed", "3"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line == "verify: 12 vectors, 0 mismatches, 64 cycles/inference (predicted 64)"


def test_build_refuses_foreign_folder_and_unsupported_models(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["build", "examples/jet_mlp.py", "-o", str(tmp_path)]) == 2
    assert "was not written by vhls; use --force" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "mine" and not (tmp_path / "jet_mlp.v").exists()
    bad = tmp_path / "bad.vhls"  # a sliding window that feeds no layer: nothing to build
    bad.write_text("def bad(x: [6]fixed<8,3>) =\n  slide<3, 1>(x)\n")
    assert main(["build", str(bad), "-o", str(tmp_path / "bad")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vhls: error:") and err.count("\n") == 1 and "slide<3, 1>(x)" in err
    assert not (tmp_path / "bad").exists()
    assert main(["build", "examples/jet_mlp.py", "-o", str(tmp_path / "x"), "--parallel", "3x5"]) == 2
    assert "--parallel" in capsys.readouterr().err


def test_build_then_verify_digits_cnn_on_icarus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The CNN example: conv/pool/flatten stages, checked (yosys, Verilator lint), built and verified."""
    pytest.importorskip("sklearn")
    out = tmp_path / "cnn"
    assert main(["build", "examples/digits_cnn.py", "-o", str(out), "--parallel", "64"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert [s["kind"] for s in report["stages"]] == ["conv", "maxpool", "conv", "maxpool", "dense"]
    assert report["total"]["predicted_cycles_per_inference"] == 384 and report["total"]["macs"] == 23680
    capsys.readouterr()
    assert main(["verify", str(out), "--vectors", "4", "--seed", "1"]) == 0
    line = capsys.readouterr().out.strip().splitlines()[-1]
    assert line == "verify: 4 vectors, 0 mismatches, 384 cycles/inference (predicted 384)"
