"""Run the vhls benchmarks and regenerate docs/BENCHMARKS.md.

    .venv/bin/python bench/run.py            # full (make bench; synthesis included, tens of minutes)
    .venv/bin/python bench/run.py --quick    # make bench-quick (<= 5 min on 2 cores; no synthesis)

Every figure comes from one of the measurement scripts, run as a subprocess; the exact command is stored beside its
numbers. Timings are medians of repeated runs. Each benchmark writes bench/results/<name>.json (with the machine
description); bench/plots.py draws docs/img/*.png from them and bench/report.py writes docs/BENCHMARKS.md. The hls4ml
comparison runs when hls4ml (the optional `bench` extra) is installed and is recorded as skipped otherwise.
"""

import argparse
import contextlib
import json
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
TMP = RESULTS / "tmp"
PY = sys.executable
VHLS = str(Path(PY).parent / "vhls")

# (example, parallelism settings) per mode; measure runs them, `vhls build`/`verify` time them.
# Quick: one point per network (the full run adds the sequential and the larger points).
NN_QUICK = [("jet_mlp", ["68"]), ("digits_mlp", ["64"]), ("finn_tfc", ["64"]), ("digits_cnn", ["seq"])]
NN_FULL = [
    ("jet_mlp", ["seq", "68", "156", "300"]),
    ("digits_mlp", ["seq", "64", "256"]),
    ("finn_tfc", ["64", "256"]),
    ("digits_cnn", ["seq"]),
]
# The points the full run also places and routes on ECP5-85k. jet@156 (133 multipliers) is the largest jet that
# fits, the point of the Fmax target; the other large points take 10+ minutes each on 2 cores, so the full run
# (<= 30 min) measures, builds and verifies them but does not place them.
# Per tool run of `vhls synth`: a place-and-route that has not converged by then is recorded as such, not waited on.
SYNTH_TOOL_TIMEOUT = 2400
SYNTH_FULL = {"jet_mlp": ["seq", "68", "156"], "digits_mlp": ["seq", "64"], "finn_tfc": ["64"], "digits_cnn": ["seq"]}
# Points placed with several seeds (`vhls synth --seeds`, all at once on the bench's cores): the Fmax target's
# point, whose Fmax moves by 10-15 MHz from seed to seed; the row keeps every seed's Fmax, not only the best. Its
# seeds either route in 4-10 min or stall in routing for good (none of those seen in session 8 finished within
# 15-20 min), so each gets SYNTH_SEED_TIMEOUT and one cut off is recorded as such (Fmax null).
SYNTH_SEEDS = {("jet_mlp", "156"): 2}
SYNTH_SEED_TIMEOUT = 1200
HLS4ML_EXAMPLES = ["jet_mlp", "digits_mlp", "finn_tfc"]
# Fewer vectors where one inference takes thousands of simulated cycles (the sequential CNN).
VECTORS_FULL = {"digits_cnn": 10}
VECTORS_QUICK = {"digits_cnn": 4}
# cocotb simulation speed on the jet MLP (issue #3: cocotb + Verilator >= 50k simulated cycles/s), full run only:
# (simulator, parallelism, vectors), enough vectors for seconds of simulation at each point (the sequential design
# takes 2048 cycles per vector, the 156-multiplier one 32). The Icarus figures beside them are the NN table's (its
# measure runs): Icarus simulates jet@156 at about a thousand cycles/s, so seconds of it would cost a minute.
# The figure is simulated cycles / the simulator process's wall time (start-up included); Verilator's C++ compile
# is timed apart.
SIM_SPEED_EXAMPLE = "jet_mlp"
SIM_SPEED = [("verilator", "seq", 50), ("verilator", "156", 5000)]
SIM_SPEED_KEYS = ("sim_cycles", "sim_seconds", "sim_cpu_seconds", "bench_seconds", "bench_cpu_seconds",
                  "sim_cycles_per_s", "sim_cycles_per_cpu_s", "build_seconds", "load_average", "measured_cycles",
                  "mismatches", "ok")
GSET_FULL = ["G1", "G2", "G3", "G6", "G11", "G12", "G15", "G22"]
# Annealer arrays the full run builds, places and routes: instance and its `vhls anneal --build` options (the speed
# comparison takes the same options). Speed against dwave SA is timed, so it runs after the synthesis phase. The
# G11 baked array alone takes ~13 min of synthesis on one core; the G1 sparse array (another ~13 min) is left to its
# own command (result in docs/anneal/anneal_speed_G1.json) to keep the full run within 30 min.
ANNEAL_HW_FULL = [("G11", ["--arch", "baked"])]
ANNEAL_HW_STEPS = ["250", "1000"]


def machine() -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        import numpy

        np_version = numpy.__version__
    except ImportError:
        np_version = None
    try:
        commit = (
            subprocess.run(
                ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
            ).stdout.strip()
            or None
        )
    except OSError:
        commit = None
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "affinity_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "os": platform.platform(),
        "python": platform.python_version(),
        "numpy": np_version,
        "git_commit": commit,
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def show(cmd: list[str]) -> str:
    """The command as a user would type it from the repository root."""
    out = []
    for a in cmd:
        if a == PY:
            a = ".venv/bin/python"
        elif a == VHLS:
            a = ".venv/bin/vhls"
        else:
            with contextlib.suppress(ValueError):
                a = str(Path(a).relative_to(ROOT)) if a.startswith("/") else a
        out.append(shlex.quote(a))
    return " ".join(out)


class Runner:
    def __init__(self, progress: Progress, console: Console) -> None:
        self.progress = progress
        self.console = console

    def run(self, cmd: list[str], timeout: float = 1800) -> dict:
        """Run cmd from the repository root; returns its command line, wall time, return code and output."""
        t0 = time.perf_counter()
        try:
            p = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=timeout, check=False)
            rc, out, err = p.returncode, p.stdout, p.stderr
        except subprocess.TimeoutExpired as e:
            rc, out, err = -1, e.stdout or "", f"timeout after {timeout} s"
            out = out.decode() if isinstance(out, bytes) else out
        wall = time.perf_counter() - t0
        if rc != 0:
            last = (err.strip().splitlines() or ["?"])[-1]
            self.console.print(f"[yellow]exit {rc}[/yellow] {show(cmd)}: {last}")
        return {"command": show(cmd), "seconds": round(wall, 3), "returncode": rc, "stdout": out, "stderr": err}


def error_of(r: dict) -> str:
    lines = (r["stderr"].strip() or r["stdout"].strip()).splitlines()
    return lines[-1][:300] if lines else f"exit {r['returncode']}"


def bench_interp(run: Runner, quick: bool) -> dict:
    """Golden-model speed: interp_speed.py takes its own median over --repeats; run it `outer` times as well."""
    outer = 3 if quick else 5
    cmd = [PY, "bench/interp_speed.py", "--vectors", "10000", "--repeats", "5"]
    pat = re.compile(
        r"interpreter: ([\d.]+) ms for (\d+) vectors .*?, (\d+) M MAC/s; integer numpy reference: "
        r"([\d.]+) ms"
    )
    runs = []
    for _ in range(outer):
        r = run.run(cmd)
        m = pat.search(r["stdout"])
        if r["returncode"] != 0 or not m:
            return {"command": r["command"], "error": error_of(r)}
        runs.append({"interp_ms": float(m[1]), "vectors": int(m[2]), "mac_per_s_m": int(m[3]), "ref_ms": float(m[4])})
    interp = statistics.median(x["interp_ms"] for x in runs)
    ref = statistics.median(x["ref_ms"] for x in runs)
    return {
        "command": r["command"],
        "outer_runs": outer,
        "vectors": runs[0]["vectors"],
        "interp_ms": interp,
        "ref_ms": ref,
        "mac_per_s_m": statistics.median(x["mac_per_s_m"] for x in runs),
        "vectors_per_s": round(runs[0]["vectors"] / (interp / 1e3)),
        "ratio_to_numpy": round(interp / ref, 3),
        "runs": runs,
    }


def bench_cost_speed(run: Runner, quick: bool) -> dict:
    seconds, outer = (1.0, 3) if quick else (3.0, 5)
    cmd = [PY, "bench/cost_speed.py", "--seconds", str(seconds)]
    pat = re.compile(r"(\w+): (\d+) design points in ([\d.]+) s = ([\d,]+) points/s \((\d+) tilings x (\d+)")
    per: dict[str, list[float]] = {}
    shape: dict[str, tuple[int, int]] = {}
    for _ in range(outer):
        r = run.run(cmd)
        if r["returncode"] != 0:
            return {"command": r["command"], "error": error_of(r)}
        for m in pat.finditer(r["stdout"]):
            per.setdefault(m[1], []).append(float(m[4].replace(",", "")))
            shape[m[1]] = (int(m[5]), int(m[6]))
    rows = [
        {
            "example": k,
            "points_per_s": round(statistics.median(v)),
            "runs": [round(x) for x in v],
            "tilings": shape[k][0],
            "precisions": shape[k][1],
        }
        for k, v in per.items()
    ]
    return {"command": r["command"], "outer_runs": outer, "rows": rows}


def bench_cost_calibration(run: Runner, quick: bool) -> tuple[str, dict]:
    name = "cost_calibration_quick" if quick else "cost_calibration"
    out = RESULTS / f"{name}.json"
    # Two place-and-route points: the larger ones repeat what the nn step synthesises anyway (full-run time budget).
    cmd = [PY, "bench/cost_calibration.py", "--out", str(out)] + (["--quick"] if quick else ["--flow", "2"])
    r = run.run(cmd, timeout=3600)
    if r["returncode"] != 0 or not out.exists():
        return name, {"command": r["command"], "error": error_of(r)}
    data = json.loads(out.read_text())
    data["command"] = r["command"]
    data["seconds"] = r["seconds"]
    return name, data


def bench_nn(run: Runner, quick: bool, progress: Progress, task, synth_jobs: list) -> dict:
    """Measure, build and verify every point (timed: runs alone); the place-and-route of the points is appended to
    synth_jobs, to run afterwards on all cores (synth_nn_point), where concurrency cannot distort a timing."""
    rows: list[dict] = []
    errors: list[dict] = []
    repeats = 1 if quick else 3
    plan = NN_QUICK if quick else NN_FULL
    for ex, pars in plan:
        vectors = VECTORS_QUICK.get(ex, 10) if quick else VECTORS_FULL.get(ex, 50)
        model = f"examples/{ex}.py"
        cmd = [
            PY,
            "-m",
            "vhls.sim.nn.measure",
            model,
            "--parallel",
            *pars,
            "--sim",
            "icarus",
            "--vectors",
            str(vectors),
            "--json",
        ]
        progress.update(task, description=f"nn: measure {ex}")
        r = run.run(cmd)
        try:
            measured = json.loads(r["stdout"]) if r["returncode"] in (0, 1) else None
        except json.JSONDecodeError:
            measured = None
        if measured is None:
            errors.append({"example": ex, "parallel": pars, "command": r["command"], "error": error_of(r)})
            continue
        for m in measured:
            row = {"example": ex, "measure_command": r["command"], **m}
            row.pop("summary", None)
            par = m["parallel"]
            out = TMP / f"{ex}_{par}"
            build = [VHLS, "build", model, "-o", str(out), "--parallel", par, "--vectors", str(vectors), "--force"]
            verify = [VHLS, "verify", str(out), "--sim", "icarus", "--vectors", str(vectors)]
            progress.update(task, description=f"nn: build+verify {ex} {par}")
            bt, vt = [], []
            for _ in range(repeats):
                shutil.rmtree(out, ignore_errors=True)
                b = run.run(build)
                v = run.run(verify) if b["returncode"] == 0 else b
                if b["returncode"] != 0 or v["returncode"] != 0:
                    row["build_verify_error"] = error_of(b if b["returncode"] else v)
                    break
                bt.append(b["seconds"])
                vt.append(v["seconds"])
            row["build_command"], row["verify_command"] = show(build), show(verify)
            if bt:
                row["build_seconds"] = round(statistics.median(bt), 2)
                row["verify_seconds"] = round(statistics.median(vt), 2)
                row["build_verify_repeats"] = len(bt)
                row["sim_cycles_per_s"] = round(m["sim_cycles"] / m["sim_seconds"]) if m["sim_seconds"] else None
            if not quick and bt and par not in SYNTH_FULL.get(ex, []):
                row["synth_skipped"] = "not placed in the full run (time budget; see bench/run.py SYNTH_FULL)"
            elif not quick and bt:
                synth_jobs.append((row, out))
            rows.append(row)
    return {"vectors": 10 if quick else 50, "vectors_per_example": VECTORS_QUICK if quick else VECTORS_FULL,
            "sim": "icarus", "rows": rows, "errors": errors}


def bench_sim_speed(run: Runner, points: list[tuple[str, str, int]] = SIM_SPEED) -> dict:
    """Simulated cycles/s of the cocotb bench on the jet MLP (vhls.sim.nn.measure, one command per point)."""
    rows: list[dict] = []
    errors: list[dict] = []
    for sim, par, vectors in points:
        cmd = [PY, "-m", "vhls.sim.nn.measure", f"examples/{SIM_SPEED_EXAMPLE}.py", "--parallel", par, "--sim", sim,
               "--vectors", str(vectors), "--json"]
        r = run.run(cmd)
        try:
            m = json.loads(r["stdout"])[0] if r["returncode"] in (0, 1) else None
        except (json.JSONDecodeError, IndexError, KeyError):
            m = None
        if not isinstance(m, dict):
            errors.append({"sim": sim, "parallel": par, "command": r["command"], "error": error_of(r)})
            continue
        rows.append({"sim": sim, "parallel": par, "vectors": vectors, "command": r["command"],
                     **{k: m.get(k) for k in SIM_SPEED_KEYS}})
    return {"example": SIM_SPEED_EXAMPLE, "target_cycles_per_s": 50_000, "rows": rows, "errors": errors}


def synth_nn_point(run: Runner, row: dict, out: Path) -> None:
    """`vhls synth` one built point on ECP5-85k into row["synth"]; a core whose whole-vector ports exceed the
    package's pins is placed and routed out of context (row["synth"]["out_of_context"])."""
    sj = out / "synth.json"
    seeds = SYNTH_SEEDS.get((row.get("example"), row.get("parallel")), 1)
    several = ["--seeds", str(seeds), "--jobs", str(min(seeds, os.cpu_count() or 1))] if seeds > 1 else []
    tool_timeout = SYNTH_SEED_TIMEOUT if seeds > 1 else SYNTH_TOOL_TIMEOUT
    for ooc in (False, True):
        s = run.run([VHLS, "synth", str(out), "--fpga", "ecp5-85k", "--freq", "200", "--timeout", str(tool_timeout),
                     *several, *(["--ooc"] if ooc else [])], timeout=(2 + seeds) * SYNTH_TOOL_TIMEOUT)
        sd = json.loads(sj.read_text()).get("ecp5-85k") if sj.exists() else None
        if not (sd and not sd.get("fits") and "--ooc" in (sd.get("problem") or "")):
            break
    row["synth_command"] = s["command"]
    if sd:  # written even when the 200 MHz target is missed (then `vhls synth` may exit non-zero)
        row["synth_returncode"] = s["returncode"]
        if s["returncode"] != 0:
            row["synth_error"] = error_of(s)
        row["synth"] = {k: sd.get(k) for k in ("resources", "fmax_mhz", "target_mhz", "synth_seconds", "pnr_seconds",
                                                "fits", "out_of_context", "problem", "seed", "seeds", "critical_path",
                                                "floorplan")}
        if sd.get("fmax_mhz") and row.get("measured_cycles"):
            row["synth"]["inferences_per_s_at_fmax"] = round(sd["fmax_mhz"] * 1e6 / row["measured_cycles"])
    else:
        row["synth_error"] = error_of(s)


def gset_folder() -> Path:
    """Where bench/anneal_bench.py looks by default: $VHLS_GSET, else ../shared/data/gset beside the repository."""
    env = os.environ.get("VHLS_GSET")
    return Path(env) if env else ROOT.parent / "shared" / "data" / "gset"


def synth_anneal_hw(run: Runner, inst: str, opts: list[str], out: Path) -> dict:
    """Build one annealer array and place and route it on ECP5-85k (synthesis phase); the commands and outcome."""
    build = [VHLS, "anneal", str(gset_folder() / f"{inst}.txt"), "--trials", "1", "--build", str(out), *opts]
    b = run.run(build)
    if b["returncode"] != 0:
        return {"build_command": b["command"], "error": error_of(b)}
    s = run.run([VHLS, "synth", str(out), "--fpga", "ecp5-85k", "--freq", "100"], timeout=3600)
    done = {"build_command": b["command"], "synth_command": s["command"]}
    sj = out / "synth.json"
    fmax = json.loads(sj.read_text()).get("ecp5-85k", {}).get("fmax_mhz") if sj.exists() else None
    return done if fmax else {**done, "error": error_of(s)}


def bench_anneal_speed(run: Runner, inst: str, opts: list[str], out: Path, hw: dict) -> dict:
    """Hardware time per read against dwave SA (timed: runs alone); anneal_bench.py writes the results file, to
    which the build and synth commands are added."""
    name = f"anneal_speed_{inst}" + ("" if "sparse" in opts else f"_{opts[opts.index('--arch') + 1]}")
    if "error" in hw:
        return {"name": name, "instance": inst, **hw}
    cmd = [PY, "bench/anneal_bench.py", "speed", inst, *opts, "--synth-json", str(out / "synth.json"),
           "--steps-list", *ANNEAL_HW_STEPS]
    r = run.run(cmd, timeout=3600)
    path = RESULTS / f"{name}.json"
    if r["returncode"] != 0 or not path.exists():
        return {"name": name, "instance": inst, **hw, "command": r["command"], "error": error_of(r)}
    return {**json.loads(path.read_text()), **hw, "name": name, "command": r["command"]}


def bench_hls4ml(run: Runner, quick: bool) -> dict:
    """Bit-exact comparison with hls4ml's C++ emulation; skipped (not an error) when hls4ml is not installed."""
    out = TMP / "hls4ml_compare.json"
    cmd = [PY, "bench/hls4ml_compare.py", "--random", "200" if quick else "1000", "--json", str(out),
           "--examples", *(HLS4ML_EXAMPLES[:1] if quick else HLS4ML_EXAMPLES)]  # quick: jet_mlp only
    r = run.run(cmd, timeout=1800)
    if r["returncode"] == 2:
        return {"command": r["command"], "skipped": r["stdout"].strip() or "hls4ml is not installed"}
    if r["returncode"] != 0 or not out.exists():
        return {"command": r["command"], "error": error_of(r)}
    return {"command": r["command"], **json.loads(out.read_text())}


def bench_anneal(run: Runner, quick: bool) -> dict:
    instances, trials, outer = (["G1"], 10, 3) if quick else (GSET_FULL, 50, 3)
    cmd = [PY, "bench/anneal_bench.py", "quality", *instances, "--trials", str(trials), "--steps", "1000"]
    pat = re.compile(
        r"^(G\d+)\s+(.+?)\s+mean\s+([\d.]+) max\s+(\d+)\s+"
        r"(?:([\d.]+)%\s+([\d.]+)%|-\s+-)\s+([\d.]+) ms/read",
        re.M,
    )
    runs: dict[tuple[str, str], list[dict]] = {}
    for _ in range(outer):
        r = run.run(cmd, timeout=3600)
        if r["returncode"] != 0:
            return {"command": r["command"], "error": error_of(r)}
        for m in pat.finditer(r["stdout"]):
            runs.setdefault((m[1], m[2]), []).append(
                {
                    "mean_cut": float(m[3]),
                    "max_cut": int(m[4]),
                    "mean_pct": float(m[5]) if m[5] else None,
                    "max_pct": float(m[6]) if m[6] else None,
                    "ms_per_read": float(m[7]),
                }
            )
    rows = []
    for (inst, solver), rs in runs.items():
        rows.append(
            {
                "instance": inst,
                "solver": solver,
                "reads": trials,
                "steps": 1000,
                "mean_cut": rs[0]["mean_cut"],
                "max_cut": rs[0]["max_cut"],
                "mean_pct": rs[0]["mean_pct"],
                "max_pct": rs[0]["max_pct"],
                "ms_per_read": statistics.median(x["ms_per_read"] for x in rs),
                "ms_per_read_runs": [x["ms_per_read"] for x in rs],
                "deterministic": all(x["mean_cut"] == rs[0]["mean_cut"] for x in rs),
            }
        )
    return {"command": r["command"], "outer_runs": outer, "rows": rows}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="<= 5 min: fewer repeats, no synthesis, G1 only")
    ap.add_argument("--out", default=str(ROOT / "docs" / "BENCHMARKS.md"))
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1,
                    help="parallel synthesis runs in the (untimed) synthesis phase; default: all cores")
    args = ap.parse_args()
    mode = "quick" if args.quick else "full"
    t_start = time.perf_counter()
    RESULTS.mkdir(parents=True, exist_ok=True)
    TMP.mkdir(parents=True, exist_ok=True)
    mach = machine()
    console = Console(stderr=True)
    console.print(
        f"[bold]vhls bench ({mode})[/bold] on {mach['cpu']} x{mach['cores']}, "
        f"Python {mach['python']}, numpy {mach['numpy']}"
    )
    written: list[str] = []

    def save(name: str, data: dict, seconds: float) -> None:
        data = {"name": name, "mode": mode, "machine": mach, "bench_seconds": round(seconds, 1), **data}
        path = RESULTS / f"{name}.json"
        path.write_text(json.dumps(data, indent=2) + "\n")
        written.append(str(path.relative_to(ROOT)))

    # Timed steps run one at a time; then the untimed place-and-route work shares all cores (synthesis phase).
    steps = ["interp_speed", "cost_speed", "nn_accelerator", *([] if args.quick else ["sim_speed"]), "hls4ml_compare",
             "anneal_quality", "synthesis", *([] if args.quick else ["anneal_speed"])]
    anneal_hw: dict[str, dict] = {}
    synth_jobs: list[tuple[dict, Path]] = []
    nn: dict = {}
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        overall = progress.add_task(f"bench {mode}", total=len(steps))
        task = progress.add_task("", total=None)
        run = Runner(progress, console)
        for step in steps:
            progress.update(task, description=step)
            t0 = time.perf_counter()
            if step == "interp_speed":
                save(step, bench_interp(run, args.quick), time.perf_counter() - t0)
            elif step == "cost_speed":
                save(step, bench_cost_speed(run, args.quick), time.perf_counter() - t0)
            elif step == "nn_accelerator":
                nn = bench_nn(run, args.quick, progress, task, synth_jobs)
                nn["timed_seconds"] = round(time.perf_counter() - t0, 1)
            elif step == "sim_speed":
                save(step, bench_sim_speed(run), time.perf_counter() - t0)
            elif step == "hls4ml_compare":
                save(step, bench_hls4ml(run, args.quick), time.perf_counter() - t0)
            elif step == "anneal_quality":
                save(step, bench_anneal(run, args.quick), time.perf_counter() - t0)
            elif step == "synthesis":
                progress.update(task, description=f"synthesis: calibration + {len(synth_jobs)} place-and-route runs")
                # The longest runs (annealer arrays, then the largest nn points) start first.
                synth_jobs.sort(key=lambda job: -job[0]["multipliers"])
                with ThreadPoolExecutor(max_workers=args.jobs) as pool:
                    hw = {inst: pool.submit(synth_anneal_hw, run, inst, opts, TMP / f"anneal_{inst}")
                          for inst, opts in ([] if args.quick else ANNEAL_HW_FULL)}
                    cal = pool.submit(bench_cost_calibration, run, args.quick)
                    for f in [pool.submit(synth_nn_point, run, row, out) for row, out in synth_jobs]:
                        f.result()
                    name, data = cal.result()
                    anneal_hw = {inst: f.result() for inst, f in hw.items()}
                nn["synthesis_seconds"] = round(time.perf_counter() - t0, 1)
                nn["synthesis_jobs"] = args.jobs
                save(name, data, time.perf_counter() - t0)
                save("nn_accelerator", nn, nn["timed_seconds"] + nn["synthesis_seconds"])
            elif step == "anneal_speed":
                for inst, opts in ANNEAL_HW_FULL:
                    progress.update(task, description=f"anneal_speed: {inst} hardware vs dwave SA")
                    t1 = time.perf_counter()
                    data = bench_anneal_speed(run, inst, opts, TMP / f"anneal_{inst}", anneal_hw[inst])
                    save(data.pop("name"), data, time.perf_counter() - t1)
            progress.advance(overall)
            console.print(f"[green]done[/green] {step} in {time.perf_counter() - t0:.1f} s")
    shutil.rmtree(TMP, ignore_errors=True)
    wall = time.perf_counter() - t_start
    cmd = ".venv/bin/python bench/run.py" + (" --quick" if args.quick else "") + \
        (f" --jobs {args.jobs}" if args.jobs != (os.cpu_count() or 1) else "")
    save("run", {"command": cmd, "wall_seconds": round(wall, 1), "results": list(written)}, wall)
    img = str(Path(args.out).parent / "img")
    plots = [PY, str(ROOT / "bench" / "plots.py"), "--results", str(RESULTS), "--out", img]
    if subprocess.run(plots, cwd=ROOT, check=False).returncode != 0:
        console.print("[yellow]plots failed[/yellow] (is matplotlib installed? `pip install -e '.[plot]'`)")
    rep = [PY, str(ROOT / "bench" / "report.py"), "--results", str(RESULTS), "--out", args.out]
    subprocess.run(rep, cwd=ROOT, check=True)
    console.print(
        f"wrote {', '.join(written)} and {Path(args.out).relative_to(ROOT)}; total {wall:.0f} s ({wall / 60:.1f} min)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
