"""Benchmark table for the nn backend: per parallelism, predicted vs measured cycles/inference, MAC utilisation,
latency, emit time and Verilog byte-identity (two emissions compared).

    python -m vhls.sim.nn.measure examples/jet_mlp.py --parallel seq 68 300 --sim icarus --vectors 20
"""

import argparse
import hashlib
import json
import os
import sys
import time

from vhls.backends.nn.emit import design
from vhls.backends.nn.plan import parse_parallel
from vhls.sim.nn.runner import SIMULATORS, verify


def measure(model: object, parallel: str, sim: str, vectors: int, seed: int) -> dict:
    d = design(model, parse_parallel(parallel))
    t0 = time.perf_counter()
    text = d.verilog()
    emit_s = time.perf_counter() - t0
    identical = design(model, parse_parallel(parallel)).verilog() == text
    res = verify(d, sim, vectors=vectors, seed=seed)
    tot = d.report()["total"]
    return {
        "parallel": parallel,
        "pe_simd": tot["parallel"],
        "multipliers": tot["multipliers"],
        "macs": tot["macs"],
        "bound": round(tot["bound_macs_per_multiplier"], 2),
        "predicted_cycles": tot["predicted_cycles_per_inference"],
        "measured_cycles": res.cycles_per_inference,
        "utilisation": round(res.utilisation, 4),
        "predicted_latency": tot["latency"],
        "measured_latency": res.latency,
        "vectors": vectors,
        "mismatches": res.mismatches,
        "ok": res.ok,
        "emit_seconds": round(emit_s, 2),
        "verilog_identical": identical,
        "verilog_sha256": hashlib.sha256(text.encode()).hexdigest()[:16],
        "sim": sim,
        "sim_cycles": res.sim_cycles,
        # the simulator process (start-up included), its CPU time, and the bench's own loop (from reset to the
        # last check) in wall and CPU time; the build (Verilator's C++ compile) is timed apart
        "sim_seconds": round(res.sim_seconds, 2),
        "sim_cpu_seconds": round(res.sim_cpu_seconds, 2),
        "bench_seconds": round(res.extra["bench_wall_seconds"], 2),
        "bench_cpu_seconds": round(res.extra["bench_cpu_seconds"], 2),
        "sim_cycles_per_s": round(res.sim_cycles / res.sim_seconds) if res.sim_seconds else None,
        "sim_cycles_per_cpu_s": round(res.sim_cycles / res.sim_cpu_seconds) if res.sim_cpu_seconds else None,
        "build_seconds": round(res.build_seconds, 2),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "summary": res.summary(),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m vhls.sim.nn.measure", description=__doc__.splitlines()[0])
    ap.add_argument("model", help="model file (.py defining `model`, or .vhls)")
    ap.add_argument("--parallel", nargs="+", default=["seq"], help="budgets (68), 'seq' or PExSIMD lists")
    ap.add_argument("--sim", choices=SIMULATORS, default="icarus")
    ap.add_argument("--vectors", type=int, default=20)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    args = ap.parse_args(argv)
    from vhls.loader import load  # the CLI layer's loader; this script sits above the backend

    model = load(args.model)
    rows = [measure(model, p, args.sim, args.vectors, args.seed) for p in args.parallel]
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        cols = ["parallel", "multipliers", "bound", "predicted_cycles", "measured_cycles", "utilisation",
                "predicted_latency", "measured_latency", "mismatches", "emit_seconds", "verilog_identical",
                "sim_seconds", "sim_cycles_per_s"]
        print(" | ".join(cols))
        for r in rows:
            print(" | ".join(str(r[c]) for c in cols))
        for r in rows:
            print(f"{r['parallel']}: PE/SIMD {r['pe_simd']}  {r['summary']}")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
