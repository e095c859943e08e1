"""`vhls build` and `vhls verify`: a model file to a verified streaming accelerator (dense networks for now)."""

import argparse
import sys

from rich.console import Console
from rich.table import Table

from vhls.ir.errors import VhlsError


def add_parsers(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("build", help="generate Verilog, the IR, report.json and design.json for a model")
    b.add_argument("model", help="model file (.py defining `model`) or IR text (.vhls)")
    b.add_argument("-o", "--out", required=True, help="output folder (refused if it holds files vhls did not write)")
    b.add_argument("--parallel", default="seq",
                   help="multiplier budget (e.g. 64), 'seq' (one multiplier per layer), or PExSIMD per layer "
                        "(e.g. 4x2,8x4)")
    b.add_argument("--name", help="top-level module name (default: the model's name)")
    b.add_argument("--force", action="store_true", help="overwrite a folder vhls did not write")
    v = sub.add_parser("verify", help="simulate a build folder in cocotb; compare bit-exactly with the golden model")
    v.add_argument("out", help="a folder written by `vhls build`")
    v.add_argument("--sim", default="icarus", choices=("icarus", "verilator"))
    v.add_argument("--vectors", type=int, default=100, help="input vectors (random plus edge values)")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--waves", action="store_true", help="dump waveforms")


def _summary(report: dict, title: str) -> Table:
    table = Table(title=title)
    for col in ("stage", "in→out", "PE×SIMD", "MACs", "mults", "cycles", "util."):
        table.add_column(col, justify="left" if col == "stage" else "right")
    for s in report["stages"]:
        table.add_row(s["name"], f"{s['inputs']}→{s['outputs']}", f"{s['pe']}×{s['simd']}", f"{s['macs']:,}",
                      str(s["multipliers"]), str(s["cycles"]), f"{s['utilisation'] * 100:.1f} %")
    t = report["total"]
    table.add_row("total", "", "", f"{t['macs']:,}", str(t["multipliers"]),
                  f"{t['predicted_cycles_per_inference']}", f"{t['utilisation'] * 100:.1f} %", style="bold")
    return table


def cmd_build(args: argparse.Namespace) -> int:
    from vhls.backends.nn import build, parse_parallel
    from vhls.loader import load

    model = load(args.model)
    report = build(model, args.out, parse_parallel(args.parallel), name=args.name, force=args.force)
    t = report["total"]
    out = Console(highlight=False, width=None if sys.stdout.isatty() else 120)
    out.print(_summary(report, f"{args.out}: II {t['initiation_interval']} cycles, latency {t['latency']} cycles"))
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from vhls.sim.nn import verify

    r = verify(args.out, sim=args.sim, vectors=args.vectors, seed=args.seed, waves=args.waves)
    print(f"verify: {r.vectors} vectors, {r.mismatches} mismatches, {r.cycles_per_inference:g} cycles/inference "
          f"(predicted {r.predicted_cycles})")
    if not r.ok:
        bad = r.first_bad or {}
        waves = ", ".join(r.extra.get("waves", [])) or "none"
        raise VhlsError(f"{r.mismatches} mismatching outputs, {r.unexpected_beats} unexpected beats; first bad "
                        f"vector: {bad}; waveforms: {waves}", args.out)
    if r.cycles_per_inference > r.predicted_cycles * 1.05:
        raise VhlsError(f"measured {r.cycles_per_inference:g} cycles/inference, the report predicts "
                        f"{r.predicted_cycles}: the report is wrong", args.out)
    return 0


COMMANDS = {"build": cmd_build, "verify": cmd_verify}
