"""Golden-interpreter speed: a 16->64->32->32->5 ReLU MLP (fixed<16,6>, exact 48-bit accumulators) on 10^4 vectors.

    python bench/interp_speed.py [--vectors 10000] [--repeats 5]

Prints the median wall time of `evaluate` (type checking included, as callers pay it) and, for scale, of the plain
integer numpy reference that tests/ir/test_interp.py checks it against. The program and the reference are the
test's own, so the number measured is the one the test proves correct.
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

from vhls.ir.interp import evaluate

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "ir"))
from test_interp import mlp_inputs, mlp_layers, mlp_program, mlp_reference


def median_time(f, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        f()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--vectors", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    layers = mlp_layers()
    p = mlp_program(layers)
    x = mlp_inputs(args.vectors)
    assert np.array_equal(evaluate(p, x), mlp_reference(x, layers)), "interpreter disagrees with the reference"
    t_interp = median_time(lambda: evaluate(p, x), args.repeats)
    t_ref = median_time(lambda: mlp_reference(x, layers), args.repeats)
    macs = sum(a * b for a, b in zip((16, 64, 32, 32), (64, 32, 32, 5), strict=True)) * args.vectors
    print(
        f"interpreter: {t_interp * 1e3:.1f} ms for {args.vectors} vectors (median of {args.repeats}), "
        f"{macs / t_interp / 1e6:.0f} M MAC/s; integer numpy reference: {t_ref * 1e3:.1f} ms"
    )


if __name__ == "__main__":
    main()
