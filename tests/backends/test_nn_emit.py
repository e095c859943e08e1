"""Verilog emission: port names, byte-identical output across runs and folders, and `build`'s output folder."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from nn_nets import two_layer

from vhls.backends.nn import build, design, emit_verilog
from vhls.ir.errors import VhlsError

HERE = Path(__file__).resolve().parent
PARALLEL = "2x4,2x3"

PORTS = ["clk", "rst", "s_axis_tdata", "s_axis_tvalid", "s_axis_tready", "s_axis_tlast",
         "m_axis_tdata", "m_axis_tvalid", "m_axis_tready", "m_axis_tlast"]


def test_ports_and_no_source_paths() -> None:
    text = emit_verilog(two_layer(), PARALLEL)
    head = text[text.index("module two_layer("):]
    head = head[:head.index(");")]
    for port in PORTS:
        assert port in head, port
    assert "input [63:0] s_axis_tdata" in text  # 8 inputs x 8 bits, one vector per beat
    assert "output [23:0] m_axis_tdata" in text  # 4 outputs x 6 bits
    assert "src = " not in text and str(HERE.parents[1]) not in text


def test_verilog_is_byte_identical_across_runs_and_folders(tmp_path: Path) -> None:
    first = emit_verilog(two_layer(), PARALLEL)
    assert emit_verilog(two_layer(), PARALLEL) == first
    # A fresh interpreter in another folder (fresh yosys, different cwd and hash seed) gives the same bytes.
    script = (f"import sys; sys.path.insert(0, {str(HERE)!r})\n"
              "from nn_nets import two_layer\nfrom vhls.backends.nn import build\n"
              f"build(two_layer(), 'out', {PARALLEL!r})\n")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", script], cwd=tmp_path, env=env, check=True, capture_output=True)
    assert (tmp_path / "out" / "two_layer.v").read_text() == first


def test_build_writes_a_vhls_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    rep = build(two_layer(), out, PARALLEL, name="tiny")
    assert sorted(p.name for p in out.iterdir()) == ["design.json", "report.json", "tb", "tiny.core",
                                                     "tiny.lowered.vhls", "tiny.v", "tiny.vhls", "vectors.npz"]
    assert json.loads((out / "report.json").read_text()) == json.loads(json.dumps(rep))
    assert "module tiny(" in (out / "tiny.v").read_text()
    umask = os.umask(0)
    os.umask(umask)
    assert (out / "tiny.v").stat().st_mode & 0o777 == 0o666 & ~umask  # not mkstemp's 0600
    build(two_layer(), out, None, name="tiny")  # rebuilding our own folder is fine
    assert json.loads((out / "design.json").read_text())["parallel"] == [[1, 1], [1, 1]]


def test_build_refuses_a_foreign_folder(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with pytest.raises(VhlsError, match="not written by vhls"):
        build(two_layer(), tmp_path, PARALLEL)
    build(two_layer(), tmp_path, PARALLEL, force=True)
    assert (tmp_path / "notes.txt").exists()


def test_design_report_has_interface_and_totals() -> None:
    rep = design(two_layer(), 6).report()
    assert rep["input"] == {"elements": 8, "type": "fixed<8,3>", "tdata_bits": 64}
    assert rep["output"] == {"elements": 4, "type": "fixed<6,3>", "tdata_bits": 24}
    assert rep["total"]["initiation_interval"] == 12
