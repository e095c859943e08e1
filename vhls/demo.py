"""`vhls demo` / `make demo`: the flagship example end to end (grows as backends land)."""

import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from vhls.ir.errors import VhlsError

FLAGSHIP = "examples/jet_mlp.py"


def _find(example: str | None) -> Path:
    if example:
        return Path(example)
    for base in (Path.cwd(), Path(__file__).resolve().parent.parent):
        if (base / FLAGSHIP).is_file():
            return base / FLAGSHIP
    raise VhlsError(f"cannot find {FLAGSHIP}; run from the vhls repository or pass --example")


def demo(example: str | None = None, vectors: int = 10_000) -> int:
    from vhls.loader import load

    out = Console(highlight=False)
    path = _find(example)
    t0 = time.perf_counter()
    model = load(path)
    out.print(f"[bold]{model.name}[/] from {path}: {model.input_type} -> {model.output_type}, "
              f"{model.macs():,} MACs per inference (loaded in {time.perf_counter() - t0:.2f} s)")
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
    return 0


if __name__ == "__main__":
    raise SystemExit(demo())
