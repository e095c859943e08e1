"""The `vhls` command line. User errors print one line `vhls: error: <where>: <what>` and exit 2."""

import argparse
import io
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from vhls.ir.errors import VhlsError

Command = Callable[[argparse.Namespace], int]


# ---------------------------------------------------------------------------------------------- show / run
def cmd_show(args: argparse.Namespace) -> int:
    from vhls.loader import load

    model = load(args.model)
    out = Console(highlight=False, width=None if sys.stdout.isatty() else 160)  # pipes and logs get whole rows
    if not args.no_ir:
        sys.stdout.write(model.text())  # verbatim: a console would wrap long lines and break the text form
        sys.stdout.flush()
    out.print(f"input  {model.input_type}\noutput {model.output_type}\n{model.macs():,} MACs per inference",
              markup=False)
    table = Table(title=f"{model.name}: layers")
    for col, just in (("layer", "left"), ("kind", "left"), ("output", "left"), ("precision", "left"),
                      ("MACs", "right"), ("params", "right")):
        table.add_column(col, justify=just)  # type: ignore[arg-type]
    for li in model.layers:
        table.add_row(li.name, li.kind, "×".join(map(str, li.out_shape)) or "scalar", li.precision,
                      f"{li.macs:,}", f"{li.params:,}")
    if model.layers:
        table.add_row("total", "", "", "", f"{sum(li.macs for li in model.layers):,}",
                      f"{sum(li.params for li in model.layers):,}", style="bold")
        out.print(table)
    else:  # a kernel without layers: count what the IR executes
        from vhls.ir.analysis import op_counts

        ops = Table(title=f"{model.name}: primitive executions per inference")
        ops.add_column("primitive")
        ops.add_column("count", justify="right")
        for op, n in sorted(op_counts(model.ir).items()):
            ops.add_row(op, f"{n:,}")
        out.print(ops)
    return 0


def _write_atomic(path: Path, array: np.ndarray) -> None:
    from vhls.backends.synth.tools import atomic_write

    buf = io.BytesIO()
    np.save(buf, array)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, buf.getvalue())


def _load_npy(path: str) -> np.ndarray:
    p = Path(path)
    if not p.is_file():
        raise VhlsError("no such input file", path)
    try:
        return np.load(p, allow_pickle=False)
    except ValueError as e:
        raise VhlsError(f"not a readable .npy array ({e})", path) from None


def cmd_run(args: argparse.Namespace) -> int:
    from vhls.loader import load

    model = load(args.model)
    x = _load_npy(args.input)
    if not np.issubdtype(x.dtype, np.number):
        raise VhlsError(f"input must be numeric, got dtype {x.dtype}", args.input)
    y = model.run(x, exact=not args.float)
    if args.output:
        _write_atomic(Path(args.output), y)
    else:
        np.set_printoptions(precision=6, suppress=True, threshold=200)
        print(y)
    return 0


# ---------------------------------------------------------------------------------------------- demo
def cmd_demo(args: argparse.Namespace) -> int:
    from vhls.demo import demo

    return demo(args.example)


# ---------------------------------------------------------------------------------------------- main
def _optional_commands(sub: argparse._SubParsersAction) -> dict[str, Command]:
    """Subcommands that live with their feature (registered when the feature's module is present)."""
    found: dict[str, Command] = {}
    for name, module in (("anneal", "vhls.anneal.cli"), ("opt", "vhls.rewrites.opt_cli"),
                         ("explore", "vhls.rewrites.explore_cli"), ("noise-sweep", "vhls.noise.sweep_cli")):
        try:
            mod = __import__(module, fromlist=["add_parser", "run"])
        except ImportError:
            continue
        mod.add_parser(sub)
        found[name] = mod.run
    return found


def parser() -> tuple[argparse.ArgumentParser, dict[str, Command]]:
    p = argparse.ArgumentParser(prog="vhls", description="Neural networks and Ising annealers to verified FPGA "
                                "accelerators: IR, golden model, rewrites and hardware backends.")
    p.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    s = sub.add_parser("show", help="print a model's IR, types and per-layer MACs and parameters")
    s.add_argument("model", help="model file (.py defining `model`) or IR text (.vhls)")
    s.add_argument("--no-ir", action="store_true", help="only the summary, not the IR text")
    r = sub.add_parser("run", help="run the golden model (or the float reference) on inputs from a .npy file")
    r.add_argument("model")
    r.add_argument("--input", required=True, help=".npy array: one input or a batch (leading axis)")
    r.add_argument("--output", help="write outputs to this .npy file instead of printing them")
    r.add_argument("--float", action="store_true", help="float reference instead of the bit-exact golden model")
    d = sub.add_parser("demo", help="run the flagship example end to end")
    d.add_argument("--example", default=None, help="model file (default: examples/jet_mlp.py)")
    commands: dict[str, Command] = {"show": cmd_show, "run": cmd_run, "demo": cmd_demo}
    from vhls import hw_cli

    hw_cli.add_parsers(sub)
    commands.update(hw_cli.COMMANDS)
    commands.update(_optional_commands(sub))
    return p, commands


def main(argv: list[str] | None = None) -> int:
    p, commands = parser()
    args = p.parse_args(argv)
    if not args.command:
        p.print_help()
        return 2
    start = time.perf_counter()
    try:
        return commands[args.command](args)
    except VhlsError as e:
        if args.debug:
            raise
        print(f"vhls: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("vhls: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # a bug in vhls, not a user error: say so, keep the traceback behind --debug
        if args.debug:
            raise
        print(f"vhls: internal error: {type(e).__name__}: {e} (run with --debug for the traceback)", file=sys.stderr)
        return 1
    finally:
        if args.debug:
            print(f"vhls: {args.command} took {time.perf_counter() - start:.2f} s", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
