"""Icarus compiles generated Verilog with Verilog-2005 semantics (vhls.sim.simulators): yosys's `always @*` blocks then
run at time 0, so a comb signal with constant inputs is 0 from the start, not X until an input changes."""

import shutil
import subprocess
from pathlib import Path

import pytest
from amaranth.back import verilog
from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from vhls.sim.simulators import BUILD_ARGS

needs_icarus = pytest.mark.skipif(shutil.which("iverilog") is None, reason="needs Icarus Verilog")


class _Enable(wiring.Component):
    """`we` is an `always @*` block in yosys's output: 0 unless `a` or (`b` and `c`)."""

    a: In(1)
    b: In(1)
    c: In(1)
    we: Out(1)

    def elaborate(self, platform: object) -> Module:
        m = Module()
        flop = Signal()
        m.d.sync += flop.eq(self.b)  # a clock domain, as in every generated design
        with m.If(self.a):
            m.d.comb += self.we.eq(1)
        with m.Elif(self.b & self.c):
            m.d.comb += self.we.eq(1)
        return m


_TB = """module tb;
  reg clk = 0, rst = 0, a = 0, b = 0, c = 0;
  wire we;
  enable dut(.clk(clk), .rst(rst), .a(a), .b(b), .c(c), .we(we));
  initial #1 $display("we=%b", we);
endmodule
"""


def _we_at_time_1(tmp_path: Path, flags: list[str]) -> str:
    (tmp_path / "enable.v").write_text(verilog.convert(_Enable(), name="enable"))
    (tmp_path / "tb.v").write_text(_TB)
    # cocotb's Icarus runner passes -g2012 first; our flags follow it, and the last generation flag counts
    subprocess.run(["iverilog", "-g2012", *flags, "-s", "tb", "-o", str(tmp_path / "sim.vvp"),
                    str(tmp_path / "tb.v"), str(tmp_path / "enable.v")], check=True)
    run = subprocess.run(["vvp", "-n", str(tmp_path / "sim.vvp")], capture_output=True, text=True, check=True)
    return run.stdout.strip()


@needs_icarus
def test_comb_outputs_are_defined_at_time_zero(tmp_path: Path) -> None:
    assert _we_at_time_1(tmp_path, BUILD_ARGS["icarus"]) == "we=0"


@needs_icarus
def test_without_the_flag_icarus_leaves_them_x(tmp_path: Path) -> None:
    """Why the flag exists (if a newer Icarus changes this, the flag may go)."""
    assert _we_at_time_1(tmp_path, []) == "we=x"
