"""cocotb runners for Icarus and Verilator, set up alike for every flow (`vhls verify`, `vhls anneal --rtl`; the
generated tb/run.py carries the same settings).

Icarus: Verilog-2005 semantics (`-g2005`, after cocotb's `-g2012`; the last one counts). yosys's write_verilog
gives every `always @*` block a dummy read of a register declared `= 0`, so that the block runs at time 0. Under
-g2012 a declaration initialiser raises no event (SystemVerilog), so such blocks wait for their first input change
and their outputs stay X until then: a comb `we = 0; if (a) we = 1;` with constant inputs is X from reset on.
Flip-flops that take that X keep it, which neither hardware nor Verilator (2-state) does. Measured: the credit FIFO
of tests/sim/test_nn_narrow_ports_sim.py captured X into a "not empty" flip-flop and lost a vector under -g2012.
cocotb's waveform module declares a SystemVerilog `string`, so waveforms get a Verilog-2005 one instead.

Verilator: warnings are not fatal (`vhls build`'s lint step reports them, with documented waivers), and only the
top-level signals are public (`--public-depth 1`) instead of cocotb's `--public-flat-rw`, which makes every internal
signal public and writable and so blocks most of Verilator's optimisations (jet MLP at 156 multipliers: 2.4x the
CPU time per cycle, 2.6x the C++ to compile). The benches touch top-level ports only; waveforms do not need more.
"""

from collections.abc import Sequence
from typing import Any

BUILD_ARGS: dict[str, list[str]] = {"icarus": ["-g2005"], "verilator": ["-Wno-fatal"]}


def runner(sim: str) -> Any:
    """cocotb's runner for `sim` ("icarus" or "verilator"), set up as described above: its `build` adds
    BUILD_ARGS[sim] to the caller's build_args."""
    from cocotb_tools.runner import Icarus, Verilator

    class _Flags:
        def build(self, *args: Any, build_args: Sequence[Any] = (), **kwargs: Any) -> None:
            super().build(*args, build_args=[*build_args, *BUILD_ARGS[sim]], **kwargs)  # type: ignore[misc]

    class _Icarus(_Flags, Icarus):
        def _create_iverilog_dump_file(self) -> None:
            fst = str(self.build_dir / f"{self.hdl_toplevel}.fst").replace("\\", "\\\\").replace('"', '\\"')
            self.iverilog_dump_file.write_text(
                "module cocotb_iverilog_dump();\n"
                f'initial begin\n  $dumpfile("{fst}");\n  $dumpvars(0, {self.hdl_toplevel});\nend\nendmodule\n')

    class _Verilator(_Flags, Verilator):
        def _build_command(self) -> list:
            cmds = super()._build_command()
            cmds[0] = [a for arg in cmds[0] for a in (["--public-depth", "1"] if arg == "--public-flat-rw" else [arg])]
            return cmds

    if sim not in BUILD_ARGS:
        raise ValueError(f"unknown simulator {sim!r} (known: {', '.join(BUILD_ARGS)})")
    return {"icarus": _Icarus, "verilator": _Verilator}[sim]()
