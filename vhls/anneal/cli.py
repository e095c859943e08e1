"""`vhls anneal FILE`: solve a MAX-CUT (G-set) or Ising/QUBO file with SSA, golden model or RTL simulation."""

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from vhls.anneal import problems, rng, ssa
from vhls.errors import VhlsError

if TYPE_CHECKING:
    from vhls.backends.pbit import BakedConfig, PBitConfig, SparseConfig


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "anneal",
        help="solve MAX-CUT / Ising / QUBO with the p-bit annealer (SSA)",
        description="Run stochastic simulated annealing (SSA) on a G-set graph (MAX-CUT), an Ising (`p ising N`) "
        "or a QUBO (`p qubo N`) file, with the integer golden model or the generated RTL in simulation.",
    )
    p.add_argument("file", type=Path, help="G-set graph, .ising or .qubo file")
    p.add_argument("--steps", type=int, default=1000, help="SSA steps per read (default 1000)")
    p.add_argument("--trials", type=int, default=100, help="independent reads (default 100)")
    p.add_argument(
        "--engine",
        choices=["golden", "rtl", "float", "sa"],
        default="golden",
        help="golden: integer SSA (bit-exact with the RTL); rtl: cocotb simulation of the generated "
        "array; float: published float SSA; sa: plain simulated annealing (sweeps = steps)",
    )
    p.add_argument("--seed", type=int, default=1, help="base seed (trial t uses a derived seed)")
    p.add_argument("--plot", type=Path, help="write cut (or energy) vs step to this PNG")
    p.add_argument(
        "--build",
        type=Path,
        metavar="OUT",
        help="write the array's Verilog, run settings and load list to OUT (and keep RTL simulation builds there)",
    )
    p.add_argument(
        "--schedule",
        choices=["auto", "tuned", "published"],
        default="auto",
        help="noise / I0 defaults derived from J: tuned (ours, for dense positive weights), published "
        "(Onizawa et al.), auto = tuned if |mu| >= 4 sigma else published (default)",
    )
    p.add_argument(
        "--yosys-option",
        action="append",
        default=[],
        metavar="OPT",
        help="with --build: an extra synth_ecp5 option for `vhls synth OUT` (repeatable); "
        "--yosys-option=-nowidelut takes ~20 %% off the baked array's LUT4 on G11 (its Fmax not measured)",
    )
    p.add_argument("--n-rnd", type=int, help="noise amplitude (overrides the schedule)")
    p.add_argument("--i0-min", type=int, help="initial I0 (overrides the schedule)")
    p.add_argument("--i0-max", type=int, help="final I0 (overrides the schedule)")
    p.add_argument("--j-bits", type=int, help="signed J/h width in hardware (default: smallest that fits)")
    p.add_argument(
        "--quantize",
        action="store_true",
        help="scale J and h to fit --j-bits and round (otherwise weights must be integers that fit)",
    )
    p.add_argument(
        "--arch",
        choices=["auto", "dense", "sparse", "baked"],
        default="auto",
        help="dense: J rows and adder trees over all N columns; sparse: adjacency lists in block RAM, U units x "
        "L lanes; baked: J and h hard-wired, one step per cycle, rebuilt per problem (see vhls/anneal/README.md); "
        "auto = dense if N <= 64 else sparse",
    )
    p.add_argument(
        "--units",
        type=int,
        default=0,
        help="spin-update units (default: dense all spins if N <= 64 else 64; sparse 32)",
    )
    p.add_argument("--lanes", type=int, default=16, help="sparse: adjacency entries per unit and cycle (default 16)")
    p.add_argument(
        "--lane-choices",
        type=int,
        choices=[1, 2],
        default=2,
        help="sparse: spin banks each lane can read (2 packs G1 into 40%% fewer cycles for a wider mux; default 2)",
    )
    p.add_argument(
        "--interleave",
        type=int,
        choices=[1, 2],
        default=1,
        help="baked: C-slow factor; 2 runs trials 2r and 2r+1 interleaved through the same logic (two reads per "
        "run, for a higher clock; default 1)",
    )
    p.add_argument("--sim", choices=["icarus", "verilator"], default="icarus", help="RTL simulator (default icarus)")
    p.add_argument("--fmax", type=float, help="clock in MHz to convert the array's cycles into time per read")
    p.add_argument(
        "--best-known", type=Path, help="CSV `instance,...,best_known_cut` (default: best_known.csv beside FILE)"
    )
    p.set_defaults(func=run)
    return p


def _width(maxabs: int) -> int:
    return max(2, maxabs.bit_length() + 1)


def integer_weights(
    m: problems.Ising, j_bits: int | None, quantize: bool, where: str
) -> tuple[np.ndarray, np.ndarray, float]:
    """(J, h, scale) as integers for the hardware; scale = 1 unless --quantize rescaled them."""
    J, h = m.J, m.h
    if quantize:
        bits = j_bits or 4
        top = float(max(np.abs(J).max(initial=0), np.abs(h).max(initial=0)))
        scale = ((1 << (bits - 1)) - 1) / top if top else 1.0
        return np.rint(J * scale).astype(np.int64), np.rint(h * scale).astype(np.int64), scale
    if not (np.all(np.rint(J) == J) and np.all(h == np.rint(h))):
        raise VhlsError("weights are not integers: pass --quantize to scale and round them", where)
    J, h = J.astype(np.int64), h.astype(np.int64)
    need = _width(int(max(np.abs(J).max(initial=0), np.abs(h).max(initial=0))))
    if j_bits is not None and need > j_bits:
        raise VhlsError(f"weights need {need}-bit signed J/h, more than --j-bits {j_bits} (or pass --quantize)", where)
    return J, h, 1.0


def choose_params(args: argparse.Namespace, J: np.ndarray) -> ssa.SSAParams:
    make = {"auto": ssa.auto_params, "tuned": ssa.tuned_params, "published": ssa.published_params}[args.schedule]
    base = make(J, args.steps)
    n_rnd = base.n_rnd if args.n_rnd is None else args.n_rnd
    lo = base.i0_min if args.i0_min is None else args.i0_min
    hi = base.i0_max if args.i0_max is None else args.i0_max
    p = ssa.SSAParams.linear(n_rnd, lo, max(lo, hi), args.steps)
    p.check()
    return p


def run(args: argparse.Namespace) -> int:
    if args.steps < 1 or args.trials < 1:
        raise VhlsError("--steps and --trials must be >= 1")
    prob = problems.read_problem(args.file)
    graph = prob if isinstance(prob, problems.Graph) else None
    model = graph.to_ising() if graph else prob
    J, h, scale = integer_weights(model, args.j_bits, args.quantize, str(args.file))
    p = choose_params(args, J)
    seeds = [rng.trial_seed(args.seed, t) for t in range(args.trials)]
    j_bits = args.j_bits or _width(int(max(np.abs(J).max(initial=0), np.abs(h).max(initial=0))))
    cfg = make_config(args, model.n, J, h, j_bits, p)
    if args.build:
        _write_build(args.build, cfg, J, h, p, args.steps, seeds, args.yosys_option)

    t0 = time.perf_counter()
    cycles = None
    if args.engine == "golden":
        cycles = cfg.cycles_per_read(args.steps)  # what the RTL takes (the rtl engine measures it)
        res = ssa.run_ssa(J, h, p, args.steps, seeds, share=getattr(cfg, "share", 1))
        spins, trace = res.spins, -res.e2 / 2  # trace of E - offset, in the (scaled) integer units
    elif args.engine == "rtl":
        from vhls.sim.pbit import run_rtl

        runs = run_rtl(
            cfg, J, h, p, args.steps, seeds, sim=args.sim, build_dir=args.build / "sim" if args.build else None
        )
        spins = np.stack([r.spins for r in runs])
        trace = -np.stack([r.trace for r in runs]) / 2 if runs[0].trace.size else None  # baked: no trace
        cycles = runs[0].cycles
    elif args.engine == "float":
        spins, trace = ssa.run_ssa_float(J, h, args.steps, args.trials, args.seed)
    else:
        spins, trace = ssa.run_sa(J, h, args.steps, args.trials, args.seed), None
    wall = time.perf_counter() - t0

    energies = model.energy(spins)
    print(f"{args.file.name}: {model.n} spins, engine {args.engine}, {args.trials} trials x {args.steps} steps")
    if args.engine in ("golden", "rtl"):
        print(
            f"  schedule: n_rnd {p.n_rnd}, I0 {p.i0_min} -> {p.i0_max} (+{p.i0_delta}/2^{p.frac_bits} per step)"
            + (f", J scaled by {scale:.4g}" if scale != 1 else "")
        )
    if graph is not None:
        cuts = graph.cut(spins)
        best = _best_known(args, graph.name)
        pct = f" ({cuts.mean() / best:.2%} / {cuts.max() / best:.2%} of best-known {best})" if best else ""
        print(f"  cut: mean {cuts.mean():.1f}, max {cuts.max()}{pct}")
    else:
        print(f"  energy: mean {np.mean(energies):.6g}, min {np.min(energies):.6g}")
    print(f"  time per trial: {wall / args.trials * 1e3:.3f} ms ({args.engine} on this machine)")
    if cycles is not None:
        k = getattr(cfg, "reads_per_run", 1)
        hw = f" = {cycles / args.fmax:.2f} us at {args.fmax} MHz" if args.fmax else ""
        if k == 1:
            print(f"  hardware: {cycles} cycles per read ({_describe(cfg)}){hw}")
        else:
            amortised = f" = {cycles / k / args.fmax:.2f} us" if args.fmax else ""
            print(
                f"  hardware: {cycles} cycles per run of {k} interleaved reads ({_describe(cfg)}){hw} latency, "
                f"{cycles / k:g} cycles{amortised} per read amortised"
            )
    if args.plot and trace is not None:
        _plot(args.plot, trace, graph, model, scale)
        print(f"  plot: {args.plot}")
    return 0


def make_config(
    args: argparse.Namespace, n: int, J: np.ndarray, h: np.ndarray, j_bits: int, p: ssa.SSAParams
) -> "PBitConfig | SparseConfig | BakedConfig":
    from vhls.backends.pbit import BakedConfig, PBitConfig, SparseConfig
    from vhls.backends.pbit.sparse_config import words_needed

    if args.arch == "baked":  # hard-wired: only as wide as this schedule needs
        return BakedConfig.from_problem(
            J,
            h,
            i0_bits=max(2, p.i0_max.bit_length()),
            step_bits=max(16, args.steps.bit_length()),
            interleave=args.interleave,
        )
    if args.interleave != 1:
        raise VhlsError("--interleave is an option of --arch baked")

    widths = {
        "j_bits": j_bits,
        "h_bits": j_bits,
        "i0_bits": max(8, p.i0_max.bit_length()),
        "step_bits": max(16, args.steps.bit_length()),
    }
    if args.arch == "dense" or (args.arch == "auto" and n <= 64):
        return PBitConfig(n, units=min(args.units or (n if n <= 64 else 64), n), **widths)
    if args.units < 0 or args.lanes < 1:
        raise VhlsError("--units must be >= 0 and --lanes >= 1")
    units = min(args.units or 32, n)
    words = words_needed(J, units, args.lanes, args.lane_choices)
    return SparseConfig(n, units, args.lanes, words, choices=args.lane_choices, **widths)


def _describe(cfg: "PBitConfig | SparseConfig | BakedConfig") -> str:
    from vhls.backends.pbit import BakedConfig, SparseConfig

    if isinstance(cfg, BakedConfig):
        if cfg.interleave == 1:
            return f"baked, 1 per step + {cfg.cycles_per_read(0)} set-up/energy pass, {cfg.share} spins per rng"
        k = cfg.interleave
        return f"baked, {k}-slow: {k} per step + {cfg.cycles_per_read(0)} set-up/energy pass, {cfg.share} spins per rng"

    if isinstance(cfg, SparseConfig):
        lanes = f"{cfg.units} units x {cfg.lanes} lanes, {cfg.choices} bank choice(s)"
        return f"sparse, {cfg.cycles_per_step} per step = {cfg.words} words + pipeline, {lanes}"
    return f"dense, {cfg.groups} per step, {cfg.u} units"


def _best_known(args: argparse.Namespace, name: str) -> int | None:
    csv = args.best_known or args.file.parent / "best_known.csv"
    return problems.best_known(name, csv)


def _write_build(
    out: Path,
    cfg: object,
    J: np.ndarray,
    h: np.ndarray,
    p: ssa.SSAParams,
    steps: int,
    seeds: list[int],
    yosys_options: list[str],
) -> None:
    import dataclasses

    from vhls.backends.pbit import top_name, write_verilog
    from vhls.sim.pbit.job import make_job

    out.mkdir(parents=True, exist_ok=True)
    v = write_verilog(cfg, out)
    (out / "pbit_config.json").write_text(json.dumps(dataclasses.asdict(cfg), indent=1) + "\n")
    (out / "pbit_load.json").write_text(json.dumps(make_job(cfg, J, h, p, steps, seeds)) + "\n")
    # what `vhls synth OUT` reads
    design: dict[str, object] = {"name": top_name(cfg), "verilog": v.name}
    if yosys_options:
        design["synth_options"] = {"synth_ecp5": yosys_options}
    (out / "design.json").write_text(json.dumps(design, indent=1) + "\n")
    print(f"  build: {v} ({_describe(cfg)})")


def _plot(path: Path, trace: np.ndarray, graph: problems.Graph | None, model: problems.Ising, scale: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    y = trace / scale + model.offset
    label = "energy"
    if graph is not None:
        y = (graph.total_weight - y) / 2
        label = "cut"
    fig, ax = plt.subplots(figsize=(6, 3.5))
    steps = np.arange(y.shape[1])
    ax.fill_between(steps, y.min(axis=0), y.max(axis=0), alpha=0.3, label="min..max over trials")
    ax.plot(steps, y.mean(axis=0), label="mean")
    ax.set_xlabel("step")
    ax.set_ylabel(label)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120, metadata={"Software": None})
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="vhls")
    sub = parser.add_subparsers(dest="command", required=True)
    add_parser(sub)
    args = parser.parse_args(["anneal", *(argv if argv is not None else sys.argv[1:])])
    try:
        return run(args)
    except VhlsError as e:
        print(f"vhls: error: {e}", file=sys.stderr)
        return 2
