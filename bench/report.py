"""Render bench/results/*.json (written by bench/run.py) as docs/BENCHMARKS.md.

    .venv/bin/python bench/report.py [--results bench/results] [--out docs/BENCHMARKS.md]

Only what a results file holds is shown; a figure with no measurement behind it reads "not measured". The
published reference figures are the ones recorded in /work/shared/DESIGN.md ("Reference figures"), with sources.
"""

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NM = "not measured"

# Published / previously measured reference figures (DESIGN.md "Reference figures"); never produced by this script.
REFERENCES = {
    "hls4ml": {
        "what": "hls4ml jet-tagging MLP 16→64→32→32→5 (ReLU), Xilinx VU9P @ 200 MHz",
        "rows": [("16-bit PTQ", "50 ns", "1,852", "89k"), ("6-bit QAT", "45 ns", "38", "63k")],
        "source": 'published hls4ml jet-tagging results, as recorded in DESIGN.md "Reference figures"',
    },
    "finn": {
        "what": "FINN TFC-w1a1 (MLP 784→64→64→64→10, 1-bit weights and activations) @ 100 MHz",
        "fps": "~837k FPS",
        "source": 'published FINN throughput, as recorded in DESIGN.md "Reference figures"',
    },
    "dwave": {
        "what": "dwave-samplers simulated annealing, G1, 1000 sweeps",
        "mean_cut": "11595 (99.75 %)",
        "ms_per_read": "~34 ms",
        "source": 'measured on this machine by an earlier session, as recorded in DESIGN.md "Reference figures"',
    },
}


def fmt(x: object, nd: int = 2) -> str:
    if x is None:
        return NM
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        if x.is_integer() and abs(x) >= 10:
            return f"{int(x):,}"
        return f"{x:,.{nd}f}"
    return str(x)


def table(head: list[str], rows: list[list[object]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(fmt(c) if not isinstance(c, str) else c for c in r) + " |" for r in rows]
    return [*out, ""]


def cmd(c: str | None) -> str:
    return f"`{c}`" if c else NM


def lut_equivalent(rs: dict) -> int | None:
    """ECP5 LUT4 sites: LUT4 + 2 per carry cell + 4 per 16x4 distributed RAM (bench/cost_calibration.py)."""
    if not rs or rs.get("lut") is None:
        return None
    return rs["lut"] + 2 * rs.get("carry", 0) + 4 * rs.get("lutram", 0)


def section_machine(res: dict) -> list[str]:
    run = res.get("run")
    any_res = run or next(iter(res.values()), {})
    m = any_res.get("machine", {})
    out = ["## Machine and run", ""]
    if run:
        out += [
            f"- Command: `{run['command']}` ({run['mode']} mode), wall time **{run['wall_seconds']:.0f} s "
            f"({run['wall_seconds'] / 60:.1f} min)**, measured by bench/run.py from start to the last benchmark."
        ]
    else:
        out += ["- Run wall time: not measured"]
    out += [
        f"- CPU: {m.get('cpu', NM)}; cores: {m.get('cores', NM)}",
        f"- OS: {m.get('os', NM)}; Python {m.get('python', NM)}; numpy {m.get('numpy', NM)}",
        f"- vhls commit: {m.get('git_commit', NM)}; date: {m.get('date_utc', NM)}",
        "",
    ]
    return out


def section_interp(res: dict) -> list[str]:
    out = ["## Golden model (IR interpreter) speed", ""]
    d = res.get("interp_speed")
    if not d or "error" in d:
        return [*out, f"{NM}" + (f" (`{d['command']}` failed: {d['error']})" if d else ""), ""]
    out += [
        f"16→64→32→32→5 ReLU MLP, fixed<16,6>, exact accumulators. Median of {d['outer_runs']} runs of the "
        "command (each itself a median of 5 timings).",
        "",
    ]
    out += table(
        [
            "vectors",
            "interpreter (ms)",
            "vectors/s",
            "M MAC/s",
            "integer numpy reference (ms)",
            "interpreter / numpy",
            "command",
        ],
        [
            [
                d["vectors"],
                d["interp_ms"],
                d["vectors_per_s"],
                d["mac_per_s_m"],
                d["ref_ms"],
                d["ratio_to_numpy"],
                cmd(d["command"]),
            ]
        ],
    )
    return out


def section_nn(res: dict) -> list[str]:
    out = ["## NN accelerator (nn backend)", ""]
    d = res.get("nn_accelerator")
    if not d:
        return [*out, NM, ""]
    reps = ", ".join(sorted({str(r["build_verify_repeats"]) for r in d["rows"] if "build_verify_repeats" in r})) or NM
    out += [
        f"Simulated with {d['sim']} on {d['vectors']} vectors; cycles are per inference in steady state; "
        f"build and verify times are the median of {reps} run(s) of `vhls build` / `vhls verify` (wall time of the "
        "subprocess, Python start-up included).",
        "",
    ]
    rows = []
    for r in d["rows"]:
        pe = ", ".join(f"{a}×{b}" for a, b in r["pe_simd"]) if r.get("pe_simd") else NM
        rows.append(
            [
                r["example"],
                r["parallel"],
                pe,
                r["multipliers"],
                r["predicted_cycles"],
                r["measured_cycles"],
                f"{r['utilisation'] * 100:.1f} %",
                f"{r['predicted_latency']} / {r['measured_latency']}",
                r["mismatches"],
                r.get("build_seconds"),
                r.get("verify_seconds"),
                r.get("sim_cycles_per_s"),
            ]
        )
    out += table(
        [
            "example",
            "parallel",
            "PE×SIMD per layer",
            "multipliers",
            "predicted cycles",
            "measured cycles",
            "MAC utilisation",
            "latency pred / meas (cycles)",
            "mismatches",
            "build (s)",
            "verify (s)",
            "sim cycles/s",
        ],
        rows,
    )
    if d["rows"]:
        out += ["Commands:", ""]
        seen = set()
        for r in d["rows"]:
            for c in (r.get("measure_command"), r.get("build_command"), r.get("verify_command")):
                if c and c not in seen:
                    seen.add(c)
                    out.append(f"- `{c}`")
        out.append("")
    synth = [r for r in d["rows"] if "synth" in r]
    out += ["### Post-place-and-route on ECP5-85k", ""]
    if synth:
        srows = []
        for r in synth:
            s, rs = r["synth"], r["synth"].get("resources") or {}
            srows.append(
                [
                    r["example"],
                    r["parallel"],
                    lut_equivalent(rs),
                    rs.get("lut"),
                    rs.get("carry"),
                    rs.get("lutram"),
                    rs.get("ff"),
                    rs.get("dsp"),
                    rs.get("bram"),
                    s.get("fmax_mhz"),
                    s.get("inferences_per_s_at_fmax"),
                    cmd(r.get("synth_command")),
                ]
            )
        out += table(
            [
                "example",
                "parallel",
                "LUT-equivalent",
                "LUT4",
                "carry (CCU2C)",
                "LUT-RAM (DPR16X4)",
                "FF",
                "DSP",
                "BRAM",
                "Fmax (MHz)",
                "inferences/s at Fmax",
                "command",
            ],
            srows,
        )
    else:
        why = " (quick mode skips synthesis)" if d.get("mode") == "quick" else ""
        out += [f"LUT/FF/DSP/BRAM/Fmax, inferences/s at Fmax: {NM}{why}.", ""]
    for r in d["rows"]:
        for k in ("build_verify_error", "synth_error"):
            if k in r:
                out.append(f"- {r['example']} {r['parallel']}: {k.replace('_', ' ')}: {r[k]}")
    missing = [
        f"- {e['example']} ({', '.join(e['parallel'])}): {NM} — `{e['command']}` failed: {e['error']}"
        for e in d.get("errors", [])
    ]
    missing.append(f"- FINN-TFC-shaped MLP (784→64→64→64→10, low precision): {NM} (no such example in examples/).")
    out += ["", "Not measured:", "", *missing, ""]
    return out


def section_references(res: dict) -> list[str]:
    out = [
        "## Beside the published reference figures",
        "",
        "vhls rows are measured by this run (command beside each); reference rows are not re-measured.",
        "",
    ]
    nn = res.get("nn_accelerator") or {"rows": []}
    h = REFERENCES["hls4ml"]
    rows = [[f"hls4ml {p}", lat, "—", dsp, lut, "VU9P @ 200 MHz", h["source"]] for p, lat, dsp, lut in h["rows"]]
    for r in nn["rows"]:
        if r["example"] != "jet_mlp":
            continue
        s = r.get("synth") or {}
        rs = s.get("resources") or {}
        fmax = s.get("fmax_mhz")
        ns = f"{r['measured_latency'] * 1e3 / fmax:,.0f} ns" if fmax else NM
        rows.append(
            [
                f"vhls jet_mlp parallel {r['parallel']}",
                ns,
                f"{r['measured_latency']:,}",
                fmt(rs.get("dsp")),
                fmt(lut_equivalent(rs)),
                f"ECP5-85k @ {fmt(fmax)} MHz" if fmax else "ECP5-85k (not synthesised)",
                cmd(r.get("synth_command") or r.get("measure_command")),
            ]
        )
    out += [f"### {h['what']}", ""]
    out += table(
        [
            "design",
            "latency",
            "latency (cycles)",
            "DSP",
            "LUT (vhls: ECP5 LUT4-equivalent)",
            "device",
            "source / command",
        ],
        rows,
    )
    f = REFERENCES["finn"]
    out += [f"### {f['what']}", ""]
    out += table(
        ["design", "throughput", "source / command"],
        [
            ["FINN TFC-w1a1", f"{f['fps']} @ 100 MHz", f["source"]],
            ["vhls TFC-shaped MLP", NM, "no TFC-shaped example exists yet"],
        ],
    )
    w = REFERENCES["dwave"]
    out += [f"### {w['what']}", ""]
    rows = [["dwave SA (reference)", w["mean_cut"], w["ms_per_read"], "—", w["source"]]]
    an = res.get("anneal_quality") or {}
    for r in an.get("rows", []):
        if r["instance"] == "G1":
            pct = f" ({r['mean_pct']:.2f} %)" if r.get("mean_pct") is not None else ""
            rows.append(
                [
                    f"{r['solver']} (this run)",
                    f"{r['mean_cut']:,.1f}{pct}",
                    f"{r['ms_per_read']:.2f} ms",
                    r["reads"],
                    cmd(an.get("command")),
                ]
            )
    out += table(["solver", "mean cut (% of best known)", "time per read (CPU)", "reads", "source / command"], rows)
    return out


def pct_pair(e: dict | None) -> str:
    if not e or e.get("mean_abs_rel_error") is None or e.get("max_abs_rel_error") is None:
        return NM
    return f"{e['mean_abs_rel_error'] * 100:.1f} % / {e['max_abs_rel_error'] * 100:.1f} %"


def section_cost(res: dict) -> list[str]:
    out = ["## Cost model", "", "### Speed (design points evaluated per second, ECP5-85k)", ""]
    d = res.get("cost_speed")
    if not d or "error" in d:
        out += [NM + (f" (`{d['command']}` failed: {d['error']})" if d else ""), ""]
    else:
        out += [f"Median of {d['outer_runs']} runs; each round uses a fresh CostModel (cold cache).", ""]
        out += table(
            ["example", "points/s (median)", "runs", "tilings × precisions", "command"],
            [
                [
                    r["example"],
                    r["points_per_s"],
                    ", ".join(f"{x:,}" for x in r["runs"]),
                    f"{r['tilings']} × {r['precisions']}",
                    cmd(d["command"]),
                ]
                for r in d["rows"]
            ],
        )
    out += ["### Calibration against yosys (estimate vs synthesis, relative error)", ""]
    found = False
    for name in ("cost_calibration_quick", "cost_calibration"):
        c = res.get(name)
        if not c:
            continue
        found = True
        if "error" in c:
            out += [f"{name}: {NM} (`{c['command']}` failed: {c['error']})", ""]
            continue
        how = (
            cmd(c.get("command"))
            if c.get("command")
            else (
                "stored file written earlier by `bench/cost_calibration.py` (exact command not recorded; not re-run by "
                "this run)"
            )
        )
        out += [f"`bench/results/{name}.json` — {how}", ""]
        rows = []
        for part, s in c.get("summary", {}).items():
            if not isinstance(s, dict) or "points" not in s:
                continue
            rows.append([part, s["points"]] + [pct_pair(s.get(k)) for k in ("lut", "ff", "bram")])
        out += table(
            ["points", "n", "LUT mean / max abs. error", "FF mean / max abs. error", "BRAM mean / max abs. error"], rows
        )
        summ = c.get("summary", {})
        out += [
            f"DSP counts exact: {fmt(summ.get('dsp_exact'))}; multipliers equal the design report: "
            f"{fmt(summ.get('multipliers_equal_report'))}.",
            "",
        ]
        flow = c.get("flow") or []
        if flow:
            out += [
                "Full `vhls synth` flow (yosys + nextpnr place and route, ECP5-85k) on the first points of this "
                "file; LUT-equivalent = LUT4 + 2·carry + 4·LUT-RAM:",
                "",
            ]
            frows = []
            for f in flow:
                r = f.get("resources") or {}
                lut_eq = lut_equivalent(r)
                frows.append(
                    [
                        f.get("example"),
                        f.get("precision"),
                        f.get("parallel"),
                        lut_eq,
                        r.get("ff"),
                        r.get("dsp"),
                        r.get("bram"),
                        f.get("fmax_mhz"),
                    ]
                )
            out += table(
                ["example", "precision", "PE×SIMD", "LUT-equivalent", "FF", "DSP", "BRAM", "Fmax (MHz)"], frows
            )
    if not found:
        out += [NM, ""]
    return out


def section_anneal(res: dict) -> list[str]:
    out = ["## Annealer (p-bit SSA golden model) vs CPU simulated annealing, G-set MAX-CUT", ""]
    d = res.get("anneal_quality")
    if not d or "error" in d:
        return [*out, NM + (f" (`{d['command']}` failed: {d['error']})" if d else ""), ""]
    out += [
        f"1000 steps / sweeps per read; time per read is the median over {d['outer_runs']} runs of the command "
        "(CPU; the SSA figure is the numpy golden model, not hardware). Equal-time comparison and RTL: "
        f"{NM}.",
        "",
    ]
    rows = [
        [
            r["instance"],
            r["solver"],
            r["reads"],
            r["mean_cut"],
            f"{r['mean_pct']:.2f} %" if r["mean_pct"] is not None else NM,
            r["max_cut"],
            f"{r['max_pct']:.2f} %" if r["max_pct"] is not None else NM,
            r["ms_per_read"],
        ]
        for r in d["rows"]
    ]
    out += table(
        ["instance", "solver", "reads", "mean cut", "mean % of best known", "max cut", "max %", "ms/read (median)"],
        rows,
    )
    out += [f"Command: `{d['command']}`", ""]
    return out


def render(results: dict[str, dict]) -> str:
    mode = (results.get("run") or {}).get("mode")
    lines = [
        "# Benchmarks",
        "",
        "Generated by `bench/report.py` from `bench/results/*.json`; reproduce with `make bench` (full) or "
        "`make bench-quick`. Every figure is listed with the command that produced it; anything without a "
        f'measurement reads "{NM}".',
        "",
    ]
    if mode:
        lines += [f"This page was generated from a **{mode}** run.", ""]
    for sec in (section_machine, section_interp, section_nn, section_references, section_cost, section_anneal):
        lines += sec(results)
    return "\n".join(lines).rstrip() + "\n"


def load_results(folder: Path) -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--out", default=str(ROOT / "docs" / "BENCHMARKS.md"))
    args = ap.parse_args()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(load_results(Path(args.results))))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
