"""`vhls noise-sweep MODEL.py`: accuracy-vs-noise curves per weights variant and tolerance scheme (JSON + PNG)."""

import argparse
import json
import shlex
import sys
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from vhls.ir.errors import VhlsError
from vhls.noise import models, sweep, tolerance


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "noise-sweep", help="accuracy vs noise level for each weights variant, with and without tolerance schemes",
        description="Run the exact golden model under a noise or fault model on the model file's `test_set`, for "
        "every weights variant (`variants` in the model file, default just `model`) and every tolerance scheme. "
        "Noise levels: " + "; ".join(f"{m.name}: {m.level}" for m in models.MODELS.values()) + ".")
    p.add_argument("model", help="model file (.py defining `model`, `test_set`, optionally `variants`)")
    p.add_argument("--noise", default="gaussian", help=f"noise model: {', '.join(models.NOISES)} (default gaussian)")
    p.add_argument("--levels", help="comma-separated noise levels (default: a grid per noise model)")
    p.add_argument("--schemes", default=",".join(sweep.SCHEMES),
                   help=f"comma-separated tolerance schemes (default {','.join(sweep.SCHEMES)})")
    p.add_argument("--ant-bits", type=int, default=tolerance.ANT_BITS,
                   help=f"MSBs of weights and inputs in ANT's reduced-precision replica (default {tolerance.ANT_BITS})")
    p.add_argument("--ant-threshold", default="cal",
                   help="ANT's threshold per layer: cal (default: the largest replica error on the calibration data), "
                   "worst (exact worst case) or T / T1,T2,... (accumulator raw units), as vhls build's "
                   "--tolerance ant:BITS:THRESH")
    p.add_argument("--variants", help="comma-separated weights variants (default: all the model file defines)")
    p.add_argument("--seed", type=int, default=0, help="noise seed (default 0)")
    p.add_argument("--repeats", type=int, default=1,
                   help="average each point over this many seeds: seed, seed + 1, ... (default 1)")
    p.add_argument("--json", type=Path, help="write the results (and the command) to this JSON file")
    p.add_argument("--plot", type=Path, help="write accuracy-vs-level curves to this PNG (needs matplotlib)")
    return p


def _floats(text: str) -> list[float]:
    try:
        return [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise VhlsError(f"--levels must be comma-separated numbers, got {text!r}") from None


def _names(text: str) -> list[str]:
    return [v.strip() for v in text.split(",") if v.strip()]


def command(args: argparse.Namespace, levels: list[float], schemes: list[str], variants: list[str]) -> str:
    """The canonical command line that reproduces this run."""
    parts = ["vhls", "noise-sweep", str(args.model), "--noise", args.noise, "--levels", ",".join(f"{v:g}" for v in
             levels), "--schemes", ",".join(schemes), "--variants", ",".join(variants), "--seed", str(args.seed),
             "--repeats", str(args.repeats), "--ant-bits", str(args.ant_bits), "--ant-threshold", args.ant_threshold]
    parts += ["--json", str(args.json)] if args.json else []
    parts += ["--plot", str(args.plot)] if args.plot else []
    return shlex.join(parts)


def _table(result: dict) -> list[Table]:
    tables = []
    for vname, res in result["variants"].items():
        t = Table(title=f"{result['model']} ({vname}): accuracy % ({result['noise']}: {result['level_meaning']}; "
                        f"clean {100 * res['clean']:.2f}; ANT replica alone {100 * res['ant_replica_only']:.2f})")
        t.add_column("scheme")
        for v in result["levels"]:
            t.add_column(f"{v:g}", justify="right")
        for scheme, accs in res["accuracy"].items():
            t.add_row(scheme, *(f"{100 * a:.2f}" for a in accs))
            if scheme != "none":
                t.add_row(f"  {scheme} events", *(f"{e:g}" for e in res["events"][scheme]), style="dim")
        tables.append(t)
    return tables


def run(args: argparse.Namespace) -> int:
    levels = list(models.MODELS[args.noise].levels) if args.levels is None and args.noise in models.MODELS \
        else _floats(args.levels or "")
    schemes = _names(args.schemes)
    sweep.check_request(args.noise, levels, schemes)
    model, found = sweep.load_variants(args.model)
    names = _names(args.variants) if args.variants is not None else list(found)
    if not names:
        raise VhlsError("no weights variants given")
    if unknown := [n for n in names if n not in found]:
        raise VhlsError(f"unknown weights variant {', '.join(unknown)}; the model file has {', '.join(found)}",
                        args.model)
    err = Console(stderr=True, highlight=False)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=err, transient=True, disable=not err.is_terminal) as progress:
        task = progress.add_task("noise-sweep", total=len(names) * len(schemes) * len(levels))
        result = sweep.sweep(model, {n: found[n] for n in names}, args.noise, levels, schemes, args.seed,
                             lambda label: progress.update(task, advance=1, description=label), args.ant_bits,
                             args.repeats, args.ant_threshold)
    result = {"command": command(args, levels, schemes, names), **result}
    out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)
    for t in _table(result):
        out.print(t)
    for vname, s in result["summary"].items():
        if s["level"] is None:
            out.print(f"{vname}: unprotected accuracy stays within {sweep.LOSS_POINTS:g} points of clean at every "
                      f"level", markup=False)
        else:
            kept = ", ".join(f"{k} {100 * a:.2f}" for k, a in s["schemes"].items())
            out.print(f"{vname}: loses >= {sweep.LOSS_POINTS:g} points first at {args.noise} {s['level']:g} "
                      f"(clean {100 * s['clean']:.2f}): {kept}", markup=False)
    if args.json:
        from vhls.backends.synth.tools import atomic_write

        args.json.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(args.json, json.dumps(result, indent=1) + "\n")
        out.print(f"wrote {args.json}", markup=False)
    if args.plot:
        sweep.plot(result, args.plot)
        out.print(f"wrote {args.plot}", markup=False)
    return 0
