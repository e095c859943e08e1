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
    assert main(["build", "examples/digits_cnn.py", "-o", str(tmp_path / "cnn")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vhls: error:") and err.count("\n") == 1
    assert not (tmp_path / "cnn").exists()
    assert main(["build", "examples/jet_mlp.py", "-o", str(tmp_path / "x"), "--parallel", "3x5"]) == 2
    assert "--parallel" in capsys.readouterr().err
