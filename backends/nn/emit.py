"""Front door of the nn backend: IR program → Design → Verilog, report and an output folder.

    d = design(model, parallel=64)      # recognise the layers, choose PE/SIMD
    text = d.verilog()                  # byte-identical across runs and folders (emit_src=False)
    rep = build(model, "out/", 64)      # writes out/NAME.v, NAME.vhls (IR text), report.json, design.json
"""

import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amaranth.back import verilog
from vhls.backends.nn.plan import Parallel, StagePlan, plan, report
from vhls.backends.nn.recognise import Network, recognise
from vhls.backends.nn.top import NNTop
from vhls.ir.check import Typing, check
from vhls.ir.errors import VhlsError
from vhls.ir.printer import print_program
from vhls.ir.terms import Program

GENERATOR = "vhls nn backend"
INTERFACE = ("AXI-Stream, one whole vector per beat: element i at bits [i*W, (i+1)*W), two's complement raw "
             "fixed-point; m_axis_tlast = 1 on every beat; s_axis_tlast ignored; clk, synchronous active-high rst")


def _program(model: Any) -> Program:
    """A Model (anything with `.ir`) or a Program."""
    prog = getattr(model, "ir", model)
    if not isinstance(prog, Program):
        raise VhlsError(f"expected a model or an IR program, got {type(model).__name__}")
    return prog


def verilog_name(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return s if s and not s[0].isdigit() else f"nn_{s}"


@dataclass
class Design:
    program: Program
    typed: tuple[Program, Typing]
    net: Network
    stages: list[StagePlan]
    name: str
    source: Any = None  # what the design was made from (a Model has `run_raw`, the golden model)

    def top(self) -> NNTop:
        return NNTop(self.net, self.stages)

    def verilog(self) -> str:
        return verilog.convert(self.top(), name=self.name, emit_src=False)

    def report(self) -> dict:
        rep = report(self.net, self.stages)
        return {
            "generator": GENERATOR,
            "name": self.name,
            "interface": INTERFACE,
            "input": {"elements": self.net.n_in, "type": str(self.net.in_type),
                      "tdata_bits": self.net.n_in * self.net.in_type.width},
            "output": {"elements": self.net.n_out, "type": str(self.net.out_type),
                       "tdata_bits": self.net.n_out * self.net.out_type.width},
            **rep,
        }


def design(model: Any, parallel: Parallel = None, name: str | None = None) -> Design:
    prog = _program(model)
    typed = check(prog)
    net = recognise(prog, typed)
    return Design(prog, typed, net, plan(net, parallel), verilog_name(name or prog.name), model)


def emit_verilog(model: Any, parallel: Parallel = None, name: str | None = None) -> str:
    return design(model, parallel, name).verilog()


def _is_ours(out: Path) -> bool:
    try:
        return json.loads((out / "design.json").read_text()).get("generator") == GENERATOR
    except (OSError, ValueError, AttributeError):
        return False


def build(model: Any, out_dir: str | Path, parallel: Parallel = None, name: str | None = None,
          force: bool = False) -> dict:
    """Write NAME.v, NAME.vhls, report.json and design.json into out_dir; returns the report.

    Refuses a non-empty folder vhls did not write unless `force`. Every file is written to a temporary name in
    the same folder and renamed into place, so readers never see a half-written file.
    """
    d = design(model, parallel, name)
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()) and not _is_ours(out) and not force:
        raise VhlsError(f"{out} exists and was not written by vhls; use --force to overwrite it")
    out.mkdir(parents=True, exist_ok=True)
    rep = d.report()
    files = {
        f"{d.name}.v": d.verilog(),
        f"{d.name}.vhls": print_program(d.program),
        "report.json": json.dumps(rep, indent=2, sort_keys=True) + "\n",
        "design.json": json.dumps({"generator": GENERATOR, "name": d.name, "program": f"{d.name}.vhls",
                                   "verilog": f"{d.name}.v", "parallel": rep["total"]["parallel"]},
                                  indent=2, sort_keys=True) + "\n",
    }
    for fname, text in files.items():
        _atomic_write(out / fname, text)
    return rep


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs get ordinary permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def copy_verilog(d: Design, dst: Path) -> Path:
    """The design's Verilog in `dst` (for simulators), written atomically."""
    dst.mkdir(parents=True, exist_ok=True)
    path = dst / f"{d.name}.v"
    _atomic_write(path, d.verilog())
    return path


__all__ = ["Design", "build", "copy_verilog", "design", "emit_verilog"]
