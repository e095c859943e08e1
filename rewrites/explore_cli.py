"""`vhls explore MODEL --target ecp5-85k|ice40-up5k|generic ...`: search tilings and precisions under a budget, print
the Pareto table; optionally write every Pareto point as JSON, plot them, and build the chosen point.

Registered in vhls/cli.py's `_optional_commands` as ("explore", "vhls.rewrites.explore_cli").
"""

import argparse
import json
import math
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from vhls.ir.errors import VhlsError

if TYPE_CHECKING:
    from rich.console import Console

    from vhls.rewrites.explore import Exploration, Point


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("explore", help="search PE/SIMD tilings and precisions under an FPGA budget; Pareto table")
    p.add_argument("model", help="model file (.py defining `model`, optionally `test_set`/`calibration`) or .vhls")
    p.add_argument("--target", default="ecp5-85k", help="ecp5-85k (default), ice40-up5k or generic")
    p.add_argument("--dsp", type=int, default=None, help="DSP blocks (generic target, or to shrink a device)")
    p.add_argument("--lut", type=int, default=None, help="LUT4s (generic target, or to shrink a device)")
    p.add_argument("--bram", type=int, default=None, help="block RAMs (generic: 18 kbit each)")
    p.add_argument("--accuracy-drop", type=float, default=1.0,
                   help="largest accuracy loss accepted, in percentage points vs the unmodified model (default 1)")
    p.add_argument("--objective", choices=("throughput", "latency", "area"), default="throughput",
                   help="which Pareto point to choose (default throughput)")
    p.add_argument("--bits", default="8,6,4", help="weight widths tried by quantise_weights (default 8,6,4)")
    p.add_argument("--result-bits", default="12,10,8",
                   help="layer result widths tried by quantise_result (default 12,10,8; 'none' to skip)")
    p.add_argument("--json", default=None, help="write every Pareto point (and the chosen one) to this JSON file")
    p.add_argument("--plot", default=None, help="write a PNG: throughput vs area, coloured by accuracy")
    p.add_argument("--build", default=None, metavar="OUT", help="build the chosen point into this folder")
    p.add_argument("--force", action="store_true", help="with --build: overwrite a folder vhls did not write")
    p.add_argument("--workers", type=int, default=None, help="processes for accuracy evaluation (default: up to 4)")


def _bits(text: str, flag: str = "--bits") -> tuple[int, ...]:
    if flag != "--bits" and text.strip().lower() == "none":
        return ()
    try:
        bits = tuple(sorted({int(b) for b in text.split(",") if b.strip()}, reverse=True))
    except ValueError:
        raise VhlsError(f"{flag} must be comma-separated integers, got {text!r}") from None
    if any(b < 2 for b in bits):
        raise VhlsError(f"{flag} must be >= 2, got {text!r}")
    return bits


def _si(x: float) -> str:
    for unit, f in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if x >= f:
            return f"{x / f:.3g}{unit}"
    return f"{x:.3g}"


def print_table(ex: "Exploration", name: str, console: "Console | None" = None) -> None:
    from rich.console import Console
    from rich.table import Table

    out = console or Console(highlight=False, width=None if sys.stdout.isatty() else 180)
    t = ex.target
    table = Table(title=f"{name} on {t.name}: Pareto front ({len(ex.pareto)} of {ex.feasible:,} fitting designs, "
                        f"{ex.evaluated:,} evaluated; objective {ex.objective})")
    for col, just in (("#", "right"), ("precision", "left"), ("bits w/r", "left"), ("PE x SIMD", "left"),
                      ("II", "right"),
                      ("latency", "right"), ("inf/s", "right"), ("DSP", "right"), ("LUT*", "right"),
                      ("FF*", "right"), ("BRAM*", "right"), ("area", "right"), ("accuracy", "right"),
                      ("drop", "right")):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for i, p in enumerate(ex.pareto):
        c = p.cost
        table.add_row(f"{i}{' *' if p is ex.chosen else ''}", p.variant.name, _widths(p),
                      ",".join(f"{a}x{b}" for a, b in p.parallel), f"{c.ii:,}", f"{c.latency:,}",
                      _si(c.throughput), f"{c.dsp}", f"{c.lut:,}", f"{c.ff:,}", f"{c.bram}", f"{100 * p.area:.1f}%",
                      f"{p.accuracy:.2f}%", f"{p.drop:.2f}", style="bold" if p is ex.chosen else None)
    out.print(table)
    out.print(f"II and latency in cycles (backend predictions), inf/s at a nominal {t.fclk_mhz:g} MHz; area = "
              f"scarcest resource's share of the budget ({t.dsp} DSP, {t.lut:,} LUT, {t.ff:,} FF, {t.bram} BRAM); "
              f"accuracy = {ex.metric}. * LUT/FF/BRAM are model estimates (vs yosys synthesis: LUT mean error ~5 %, "
              f"max 11 %; FF ~3 %; bench/results/cost_calibration.json); no place and route, no Fmax; bits w/r = "
              f"weight/result widths per layer.", markup=False)


def _widths(p: "Point") -> str:
    """Weight / result widths per layer, one number when all layers agree."""
    def one(bits: tuple[int, ...]) -> str:
        return str(bits[0]) if len(set(bits)) == 1 else ",".join(map(str, bits))

    return f"{one(p.variant.weight_bits)}/{one(p.variant.result_bits)}"


def plot(ex: "Exploration", all_points: "list[Point] | None", path: str, name: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5), dpi=120)
    if all_points:
        ax.scatter([100 * p.area for p in all_points], [p.cost.throughput for p in all_points], s=6, c="0.8",
                   label="fitting designs")
    accs = [p.accuracy for p in ex.pareto]
    lo, hi = min(accs), max(accs)
    if hi - lo < 1e-9:
        lo, hi = lo - 1, hi + 1
    sc = ax.scatter([100 * p.area for p in ex.pareto], [p.cost.throughput for p in ex.pareto], c=accs,
                    cmap="viridis", vmin=lo, vmax=hi, s=36, edgecolors="k", linewidths=0.5, label="Pareto front")
    ch = ex.chosen
    ax.scatter([100 * ch.area], [ch.cost.throughput], marker="*", s=200, c="red", label=f"chosen ({ex.objective})")
    fig.colorbar(sc, ax=ax, label=f"accuracy (%, {ex.metric})")
    ax.set_yscale("log")
    ax.set_xlabel(f"area: scarcest resource, % of {ex.target.name}")
    ax.set_ylabel(f"throughput (inferences/s at {ex.target.fclk_mhz:g} MHz)")
    ax.set_title(f"{name}: design space on {ex.target.name}")
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)


def _write_json(path: str, data: dict) -> None:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=p.parent, prefix=f".{p.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, allow_nan=False, default=_finite)
            f.write("\n")
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _finite(x: object) -> object:
    raise TypeError(f"not JSON serialisable: {type(x).__name__}")


def _clean(d: object) -> object:
    """inf/nan (e.g. utilisation of a zero budget) become null in JSON."""
    if isinstance(d, dict):
        return {k: _clean(v) for k, v in d.items()}
    if isinstance(d, list):
        return [_clean(v) for v in d]
    if isinstance(d, float) and not math.isfinite(d):
        return None
    return d


def run(args: argparse.Namespace) -> int:
    from vhls.loader import load
    from vhls.rewrites.explore import explore
    from vhls.rewrites.targets import get_target

    target = get_target(args.target, args.dsp, args.lut, args.bram)
    bits = _bits(args.bits)
    model = load(args.model)
    err = sys.stderr
    ex = explore(model, target, accuracy_drop=args.accuracy_drop, objective=args.objective, bits=bits,
                 result_bits=_bits(args.result_bits, "--result-bits"), workers=args.workers, progress=err.isatty(),
                 report=lambda s: print(f"vhls explore: {s}", file=err))
    print_table(ex, model.name)
    if args.json:
        _write_json(args.json, _clean(ex.as_dict(model.name)))  # type: ignore[arg-type]
        print(f"vhls explore: wrote {len(ex.pareto)} Pareto points to {args.json}", file=err)
    if args.plot:
        plot(ex, ex.points, args.plot, model.name)
        print(f"vhls explore: wrote {args.plot}", file=err)
    if args.build:
        from vhls.backends.nn import build

        ch = ex.chosen
        rep = build(ch.variant.program, args.build, [tuple(p) for p in ch.parallel], force=args.force)
        tot = rep["total"]
        print(f"vhls explore: built the chosen point ({ch.variant.name}, "
              f"{','.join(f'{a}x{b}' for a, b in ch.parallel)}) in {args.build}: {tot['multipliers']} multipliers, "
              f"II {tot['initiation_interval']} cycles, latency {tot['latency']} cycles", file=err)
    return 0
