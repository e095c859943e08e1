"""Cost-model speed: design points evaluated per second (target: >= 10^4).

    .venv/bin/python bench/cost_speed.py [--seconds 3]

Evaluates every balanced tiling of jet_mlp and digits_mlp (as written and with 4-bit weights) on ECP5-85k with a
fresh CostModel per round, so the per-stage cache warms up inside the measurement exactly as in the explorer.
"""

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=3.0)
    args = ap.parse_args()
    from vhls.backends.nn import recognise
    from vhls.loader import load
    from vhls.rewrites.cost import CostModel
    from vhls.rewrites.explore import _layer_lets, _quantised, tilings
    from vhls.rewrites.targets import get_target

    target = get_target("ecp5-85k")
    work = []
    for name in ("jet_mlp", "digits_mlp"):
        m = load(ROOT / "examples" / f"{name}.py")
        net = recognise(m.ir)
        lets = _layer_lets(m.ir, net)
        assert lets is not None
        q = recognise(_quantised(m.ir, [4] * len(lets), lets)[0])
        tl = tilings(net)
        work.append((name, [net, q], tl))
    for name, nets, tl in work:
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < args.seconds:
            cm = CostModel(target)
            for net in nets:
                for par in tl:
                    cm.evaluate(net, par)
                    n += 1
        dt = time.perf_counter() - t0
        print(f"{name}: {n} design points in {dt:.2f} s = {n / dt:,.0f} points/s "
              f"({len(tl)} tilings x {len(nets)} precisions per round, cold cache each round)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
