"""`vhls anneal` (via vhls.anneal.cli.main, the same code `vhls anneal` runs)."""

from pathlib import Path

import numpy as np
import pytest

from vhls.anneal import problems
from vhls.anneal.cli import main
from vhls.backends.synth.flow import _load_build
from vhls.sim.pbit import simulators


@pytest.fixture
def graph_file(tmp_path: Path) -> Path:
    r = np.random.default_rng(0)
    pairs = [(i, j) for i in range(12) for j in range(i + 1, 12) if r.random() < 0.4]
    g = problems.Graph(12, np.array(pairs), np.ones(len(pairs), dtype=np.int64), "tiny")
    path = tmp_path / "tiny.txt"
    problems.write_gset(g, path)
    e, _ = problems.brute_force_ground(g.to_ising())
    (tmp_path / "best_known.csv").write_text(
        f"instance,nodes,edges,best_known_cut\ntiny,12,{len(pairs)},{(g.total_weight - e) // 2}\n"
    )
    return path


def test_golden_reports_best_known_and_plots(graph_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    png = tmp_path / "cut.png"
    assert main([str(graph_file), "--steps", "200", "--trials", "10", "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "of best-known" in out and "100.00%" in out  # max over 10 trials reaches the optimum
    assert png.read_bytes().startswith(b"\x89PNG")


def test_build_writes_verilog(graph_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "out"
    assert main([str(graph_file), "--steps", "10", "--trials", "1", "--build", str(out), "--units", "4"]) == 0
    v = (out / "pbit_array.v").read_text()
    assert "module pbit_array" in v and (out / "pbit_load.json").is_file()


def test_rtl_engine_matches_golden(graph_file: Path, capsys: pytest.CaptureFixture) -> None:
    if "icarus" not in simulators():
        pytest.skip("icarus not installed")
    common = [str(graph_file), "--steps", "30", "--trials", "2", "--units", "3"]
    assert main([*common, "--engine", "rtl"]) == 0
    rtl = capsys.readouterr().out
    assert main(common) == 0
    gold = capsys.readouterr().out
    cut_line = [line for line in rtl.splitlines() if "cut:" in line]
    assert cut_line and cut_line == [line for line in gold.splitlines() if "cut:" in line]
    assert "hardware: 124 cycles per read (dense, 4 per step, 3 units)" in rtl


def test_sparse_arch_builds_and_matches_golden(graph_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    if "icarus" not in simulators():
        pytest.skip("icarus not installed")
    out = tmp_path / "sparse"
    common = [str(graph_file), "--steps", "30", "--trials", "2", "--arch", "sparse", "--units", "3", "--lanes", "2"]
    assert main([*common, "--engine", "rtl", "--build", str(out)]) == 0
    rtl = capsys.readouterr().out
    assert main(common) == 0
    gold = capsys.readouterr().out
    cut_line = [line for line in rtl.splitlines() if "cut:" in line]
    assert cut_line and cut_line == [line for line in gold.splitlines() if "cut:" in line]
    hw = [line for line in rtl.splitlines() if "hardware:" in line]
    assert hw == [line for line in gold.splitlines() if "hardware:" in line]  # the golden's cycle count is the RTL's
    assert "sparse" in hw[0] and "3 units x 2 lanes" in hw[0]
    assert "module pbit_sparse" in (out / "pbit_sparse.v").read_text()
    assert '"name": "pbit_sparse"' in (out / "design.json").read_text()  # what `vhls synth OUT` reads


def test_baked_arch_builds_and_matches_golden(graph_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    if "icarus" not in simulators():
        pytest.skip("icarus not installed")
    out = tmp_path / "baked"
    common = [str(graph_file), "--steps", "30", "--trials", "2", "--arch", "baked"]
    assert main([*common, "--engine", "rtl", "--build", str(out), "--yosys-option=-nowidelut"]) == 0
    rtl = capsys.readouterr().out
    assert main(common) == 0
    gold = capsys.readouterr().out
    for key in ("cut:", "hardware:"):  # the golden uses the baked array's shared generators and cycle count
        line = [x for x in rtl.splitlines() if key in x]
        assert line and line == [x for x in gold.splitlines() if key in x]
    assert "hardware: 38 cycles per read (baked" in rtl  # 3 set-up + 30 steps + 1 word + 4
    assert '"name": "pbit_baked"' in (out / "design.json").read_text()
    assert _load_build(out)[2] == {"synth_ecp5": ["-nowidelut"]}  # `vhls synth OUT` adds it to synth_ecp5
    assert main([*common, "--build", str(out)]) == 0
    assert _load_build(out)[2] == {}


def test_interleaved_baked_arch_matches_golden(graph_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    if "icarus" not in simulators():
        pytest.skip("icarus not installed")
    common = [str(graph_file), "--steps", "30", "--trials", "3", "--arch", "baked", "--interleave", "2"]
    assert main([*common, "--engine", "rtl", "--build", str(tmp_path / "k2"), "--fmax", "100"]) == 0
    rtl = capsys.readouterr().out
    assert main([*common, "--fmax", "100"]) == 0  # 3 trials: the second run's second read is discarded
    gold = capsys.readouterr().out
    for key in ("cut:", "hardware:"):
        line = [x for x in rtl.splitlines() if key in x]
        assert line and line == [x for x in gold.splitlines() if key in x]
    # 2 x (3 set-up + 30 steps + settle + 1 word + 2 drain slots)
    assert "hardware: 74 cycles per run of 2 interleaved reads" in rtl and "37 cycles = 0.37 us per read" in rtl
    assert main([str(graph_file), "--trials", "1", "--interleave", "2"]) == 2
    assert "--interleave is an option of --arch baked" in capsys.readouterr().err


def test_ising_file_and_quantize(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    p = tmp_path / "m.ising"
    p.write_text("p ising 3\nj 1 2 0.5\nj 2 3 -1.5\nh 1 0.25\n")
    assert main([str(p), "--steps", "50", "--trials", "4"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vhls: error: ") and "--quantize" in err and err.count("\n") == 1
    assert main([str(p), "--steps", "50", "--trials", "4", "--quantize"]) == 0
    assert "energy: mean" in capsys.readouterr().out


def test_bad_inputs_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("3 1\n1 3 1\n1 1 1\n")
    assert main([str(bad)]) == 2
    assert capsys.readouterr().err == f"vhls: error: {bad}:3: more edges than the 1 the header declares\n"
    big = tmp_path / "big.txt"
    big.write_text("3 1\n1 2 9\n")
    assert main([str(big), "--j-bits", "3", "--trials", "1"]) == 2
    assert "need 5-bit signed J/h, more than --j-bits 3" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.txt")]) == 2
    assert "cannot read" in capsys.readouterr().err
