"""Plots for docs/BENCHMARKS.md from bench/results/*.json (written by bench/run.py).

    .venv/bin/python bench/plots.py [--results bench/results] [--out docs/img]

Each plot is drawn only when its results hold the data; the PNGs' names are fixed (`PLOTS`), and bench/report.py
links the ones that exist. Needs matplotlib (the `plot` extra).
"""

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLOTS = {
    "nn_cycles.png": "cycles per inference vs multipliers: measured, predicted and the MACs/multipliers bound",
    "cost_vs_synth.png": "cost-model estimate vs yosys synthesis (LUT and FF), ECP5",
    "anneal_cut_vs_steps.png": "annealer mean cut (% of best known) vs steps per read",
}


def _axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=100)
    return plt, fig, ax


def _plain_ticks(ax) -> None:
    from matplotlib.ticker import NullFormatter, ScalarFormatter

    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(ScalarFormatter())
        axis.set_minor_formatter(NullFormatter())


def _save(plt, fig, path: Path) -> None:
    fig.tight_layout()
    fig.savefig(path, metadata={"Software": None})  # no version string: the same data give the same bytes
    plt.close(fig)


def nn_cycles(res: dict, path: Path) -> bool:
    rows = [r for r in (res.get("nn_accelerator") or {}).get("rows", []) if r.get("multipliers")]
    if not rows:
        return False
    plt, fig, ax = _axes()
    by_ex: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        by_ex[r["example"]].append(r)
    for i, (ex, rs) in enumerate(sorted(by_ex.items())):
        rs = sorted(rs, key=lambda r: r["multipliers"])
        c = f"C{i}"
        m = [r["multipliers"] for r in rs]
        bound = [(r["multipliers"], r.get("bound") or r["macs"] / r["multipliers"]) for r in rs
                 if r.get("bound") or r.get("macs")]
        if bound:
            ax.plot(*zip(*bound, strict=True), ":", color=c, alpha=0.7)
        ax.plot(m, [r["predicted_cycles"] for r in rs], "x", color=c, ms=9)
        ax.plot(m, [r["measured_cycles"] for r in rs], "o", color=c, mfc="none", label=ex)
    ax.plot([], [], "k:", label="bound: MACs / multipliers")
    ax.plot([], [], "kx", label="predicted")
    ax.plot([], [], "ko", mfc="none", label="measured (simulation)")
    ax.set(xscale="log", yscale="log", xlabel="multipliers", ylabel="cycles per inference (steady state)",
           title="NN accelerator: cycles vs multipliers")
    _plain_ticks(ax)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    _save(plt, fig, path)
    return True


def cost_vs_synth(res: dict, path: Path) -> bool:
    pts = []
    for name in ("cost_calibration", "cost_calibration_quick"):
        pts += [p for p in (res.get(name) or {}).get("points", []) if p.get("estimate") and p.get("synthesis")]
        if pts:
            break
    if not pts:
        return False
    plt, fig, ax = _axes()
    lo, hi = float("inf"), 1.0
    for key, mk in (("lut", "o"), ("ff", "s")):
        xs = [p["synthesis"][key] for p in pts if p["synthesis"].get(key) is not None]
        ys = [p["estimate"][key] for p in pts if p["synthesis"].get(key) is not None]
        if xs:
            ax.plot(xs, ys, mk, mfc="none", label=key.upper())
            lo, hi = min(lo, *xs, *ys), max(hi, *xs, *ys)
    ax.plot([lo / 1.2, hi * 1.2], [lo / 1.2, hi * 1.2], "k:", label="estimate = synthesis")
    ax.set(xscale="log", yscale="log", xlabel="yosys synth_ecp5", ylabel="cost-model estimate",
           title=f"Cost model vs synthesis ({name}.json, {len(pts)} points)")
    _plain_ticks(ax)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    _save(plt, fig, path)
    return True


def anneal_cut_vs_steps(res: dict, path: Path) -> bool:
    """Every anneal_*.json row with instance, solver, steps and mean_pct; drawn when some solver has >1 steps."""
    curves: dict[tuple[str, str], dict[int, float]] = defaultdict(dict)
    for name, d in res.items():
        if not name.startswith("anneal"):
            continue
        for r in d.get("rows", []):
            if all(r.get(k) is not None for k in ("instance", "solver", "steps", "mean_pct")):
                curves[(r["instance"], r["solver"])][int(r["steps"])] = float(r["mean_pct"])
            elif d.get("instance") and r.get("steps") and r.get("ssa_mean_pct") is not None:  # anneal_speed_*.json
                curves[(d["instance"], "SSA (golden)")][int(r["steps"])] = 100 * float(r["ssa_mean_pct"])
    curves = {k: v for k, v in curves.items() if len(v) > 1}
    if not curves:
        return False
    plt, fig, ax = _axes()
    for (inst, solver), pts in sorted(curves.items()):
        s = sorted(pts)
        ax.plot(s, [pts[k] for k in s], "o-", label=f"{inst} {solver}")
    ax.set(xscale="log", xlabel="steps (SSA) / sweeps (SA) per read", ylabel="mean cut, % of best known",
           title="Annealer quality vs steps")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    _save(plt, fig, path)
    return True


def draw(res: dict, out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, fn in (("nn_cycles.png", nn_cycles), ("cost_vs_synth.png", cost_vs_synth),
                     ("anneal_cut_vs_steps.png", anneal_cut_vs_steps)):
        path = out / name
        if fn(res, path):
            written.append(path)
        else:
            path.unlink(missing_ok=True)  # no data this run: no stale picture
    return written


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--out", default=str(ROOT / "docs" / "img"))
    args = ap.parse_args()
    res = {p.stem: json.loads(p.read_text()) for p in sorted(Path(args.results).glob("*.json"))}
    for p in draw(res, Path(args.out)):
        print(f"wrote {p}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
