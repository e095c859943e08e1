"""Render bench/results/*.json (written by bench/run.py) as docs/BENCHMARKS.md.

    .venv/bin/python bench/report.py [--results bench/results] [--out docs/BENCHMARKS.md]

Only what a results file holds is shown; a figure with no measurement behind it reads "not measured". Published
reference figures (`REFERENCES`) are cited beside each row; plots (bench/plots.py, docs/img/) are linked when present.
"""

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NM = "not measured"

# Published / previously measured reference figures; never produced by this script. Sources are cited in each entry;
# figures "as recorded in DESIGN.md" were collected in /work/shared/DESIGN.md ("Reference figures").
REFERENCES = {
    "hls4ml": {
        "what": "hls4ml jet-tagging MLP 16→64→32→32→5 (ReLU), Xilinx VU9P @ 200 MHz",
        "rows": [("16-bit PTQ", "50 ns", "1,852", "89k"), ("6-bit QAT", "45 ns", "38", "63k")],
        "clock_mhz": 200,
        "source": "J. Duarte et al., Fast inference of deep neural networks in FPGAs for particle physics, JINST 13 "
        "(2018) P07027, arXiv:1804.06913 (the jet-tagging model); the 16-bit and 6-bit rows as recorded in DESIGN.md",
    },
    "finn": {
        "what": "FINN (Umuroglu et al., FINN: A Framework for Fast, Scalable Binarized Neural Network Inference, "
        "FPGA'17, arXiv:1612.07119)",
        "rows": [
            ("FINN TFC-w1a1 (784→64→64→64→10, 1-bit)", "~837k", 100, "as recorded in DESIGN.md"),
            ("FINN fastest MNIST MLP, Xilinx ZC706 (< 25 W), 95.8 % MNIST accuracy", "12.3 M", None,
             "arXiv:1612.07119 abstract (0.31 µs latency)"),
        ],
    },
    "ssa": {
        "what": "SSA (stochastic simulated annealing with integral stochastic computing, Onizawa et al.)",
        "figure": "mean cut about 98 % of best known on G-set, 1000 steps",
        "source": 'N. Onizawa et al. (Tohoku University / McGill), as recorded in DESIGN.md "p-bit annealing"',
    },
    "dwave": {
        "what": "dwave-samplers simulated annealing, G1, 1000 sweeps",
        "mean_cut": "11595 (99.75 %)",
        "ms_per_read": "~34 ms",
        "source": 'dwave-samplers (D-Wave, open source), measured on this machine by an earlier session, as recorded '
        'in DESIGN.md "Reference figures"',
    },
}
IMAGES = {  # bench/plots.py's outputs, relative to docs/
    "img/nn_cycles.png": "Cycles per inference vs multipliers (measured, predicted, MACs/multipliers bound)",
    "img/cost_vs_synth.png": "Cost-model estimate vs yosys synthesis",
    "img/anneal_cut_vs_steps.png": "Annealer mean cut vs steps per read",
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
        f"- Load average (1, 5, 15 min) when the run started: {m.get('load_average_at_start', NM)} — other work on "
        "the machine slows every timing",
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
        f"Simulated with {d['sim']} on {d['vectors']} vectors"
        + "".join(f" ({k}: {v})" for k, v in (d.get("vectors_per_example") or {}).items())
        + "; cycles are per inference in steady state; "
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
                    "out of context" if s.get("out_of_context") else rs.get("io"),
                    s.get("fmax_mhz") or (f"not placed (exit {r['synth_returncode']})" if r.get("synth_returncode")
                                          else None),
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
                "I/O pins (of 205)",
                "Fmax (MHz)",
                "inferences/s at Fmax",
                "command",
            ],
            srows,
        )
        out += [
            "Resources are yosys `synth_ecp5` counts (written even when place and route cannot run). A design "
            "whose whole-vector top-level ports need more than the CABGA381 package's 205 bonded pins is placed and "
            "routed out of context (`vhls synth --ooc`: the core without pins or I/O buffers; its Fmax is the "
            f"core's). The place-and-route runs share the machine's cores ({d.get('synthesis_jobs', 1)} at a time) "
            "after every timed measurement has finished, so their tool times are not comparable with single runs.",
            "",
        ]
        for r in synth:
            s = r["synth"]
            notes = []
            if s.get("seeds"):
                notes.append("Fmax per placer seed: " + ", ".join(
                    f"{k}: {'did not finish routing in time' if v is None else fmt(v)}" for k, v in s["seeds"].items())
                    + f" (the table keeps seed {s.get('seed')})")
            plan = s.get("floorplan") or {}
            if plan.get("dsp_locked"):
                notes.append(f"{plan['dsp_locked']} multipliers locked to DSP sites in adder-tree order "
                             f"(`--floorplan {plan.get('mode')}`)")
            if notes:
                out.append(f"- {r['example']} {r['parallel']}: " + "; ".join(notes) + ".")
        out.append("")
    else:
        why = " (quick mode skips synthesis)" if d.get("mode") == "quick" else ""
        out += [f"LUT/FF/DSP/BRAM/Fmax, inferences/s at Fmax: {NM}{why}.", ""]
    for r in d["rows"]:
        for k in ("build_verify_error", "synth_error", "synth_skipped"):
            if k in r:
                out.append(f"- {r['example']} {r['parallel']}: {k.replace('_', ' ')}: {r[k]}")
    missing = [
        f"- {e['example']} ({', '.join(e['parallel'])}): {NM} — `{e['command']}` failed: {e['error']}"
        for e in d.get("errors", [])
    ]
    if missing:
        out += ["", "Not measured:", "", *missing]
    out.append("")
    return out


def section_sim_speed(res: dict) -> list[str]:
    """cocotb simulation speed on the jet MLP, Verilator beside Icarus (issue #3 target: >= 50k cycles/s)."""
    out = ["## cocotb simulation speed (jet MLP)", ""]
    d = res.get("sim_speed")
    if not d:
        why = " (full run only)" if (res.get("run") or {}).get("mode") == "quick" else ""
        return [*out, f"{NM}{why}", ""]
    target = d.get("target_cycles_per_s", 50_000)
    out += [
        f"Target (issue #3): cocotb + Verilator ≥ {target:,} simulated cycles/s on the jet MLP. Simulated cycles ÷ "
        "wall time of the simulator process (Python and cocotb start-up included, the build excluded: Verilator's "
        "C++ compile is the build column); ÷ the process's CPU time as well, which other work on the machine "
        "disturbs less (the load average is the 1/5/15-minute one at the end of the run), and ÷ the CPU time of the "
        "bench's own loop (from reset to the last check: the process without its ~1 s start-up). The bench checks "
        "the same in every row: random tvalid gaps and tready drops, every output bit-exact, no extra beat.",
        "",
    ]
    rows = []
    for r in d.get("rows", []):
        cps = r.get("sim_cycles_per_s")
        loop = round(r["sim_cycles"] / r["bench_cpu_seconds"]) if r.get("sim_cycles") and r.get("bench_cpu_seconds") \
            else None
        rows.append([r["sim"], r["parallel"], r["vectors"], r.get("sim_cycles"), r.get("build_seconds"),
                     r.get("sim_seconds"), cps, r.get("sim_cpu_seconds"), r.get("sim_cycles_per_cpu_s"), loop,
                     " / ".join(f"{x:.2f}" for x in r["load_average"]) if r.get("load_average") else NM,
                     ("yes" if cps >= target else "no") if r["sim"] == "verilator" and cps is not None else "—",
                     cmd(r.get("command"))])
    pars = {r["parallel"] for r in d.get("rows", [])}
    for r in _nn_rows(res, d.get("example", "jet_mlp")):  # the Icarus figures of the NN accelerator table
        if r["parallel"] in pars and r.get("sim_cycles_per_s") is not None:
            rows.append([f"{r.get('sim', 'icarus')} (NN table)", r["parallel"], r.get("vectors"), r.get("sim_cycles"),
                         None, r.get("sim_seconds"), r["sim_cycles_per_s"], r.get("sim_cpu_seconds"),
                         r.get("sim_cycles_per_cpu_s"), None, NM, "—", cmd(r.get("measure_command"))])
    out += table(["simulator", "parallel", "vectors", "simulated cycles", "build (s)", "sim (s)", "sim cycles/s",
                  "sim CPU (s)", "cycles per CPU s", "bench loop: cycles per CPU s", "load average",
                  f"≥ {target // 1000}k", "command"], rows)
    out += [f"- {e['sim']} {e['parallel']}: {NM} — `{e['command']}` failed: {e['error']}" for e in d.get("errors", [])]
    return [*out, ""] if d.get("errors") else out


def _nn_rows(res: dict, example: str) -> list[dict]:
    return [r for r in (res.get("nn_accelerator") or {}).get("rows", []) if r["example"] == example]


def section_references(res: dict) -> list[str]:
    out = [
        "## Beside the published reference figures",
        "",
        "vhls rows are measured by this run (command beside each); reference rows are published figures, not "
        "re-measured. The devices differ (Xilinx UltraScale+/Zynq vs Lattice ECP5 with open-source place and route), "
        "so the machine-independent columns are the cycle counts: latency in clock cycles, cycles per inference.",
        "",
    ]
    h = REFERENCES["hls4ml"]
    rows = [
        [f"hls4ml {p}", lat, f"{round(float(lat.split()[0]) * h['clock_mhz'] / 1e3)}", "—", dsp, lut, "VU9P @ 200 MHz",
         h["source"]]
        for p, lat, dsp, lut in h["rows"]
    ]
    for r in _nn_rows(res, "jet_mlp"):
        s = r.get("synth") or {}
        rs = s.get("resources") or {}
        fmax = s.get("fmax_mhz")
        ns = f"{r['measured_latency'] * 1e3 / fmax:,.0f} ns" if fmax else NM
        rows.append(
            [
                f"vhls jet_mlp parallel {r['parallel']}",
                ns,
                f"{r['measured_latency']:,}",
                fmt(r.get("measured_cycles")),
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
            "cycles/inference",
            "DSP",
            "LUT (vhls: ECP5 LUT4-equivalent)",
            "device",
            "source / command",
        ],
        rows,
    )
    out += [
        "hls4ml's design is fully unrolled (reuse factor 1: one inference per clock); vhls folds the MACs onto the "
        "given number of multipliers, so its cycles per inference are MACs/multipliers and its DSP count is far "
        "smaller.",
        "",
    ]
    f = REFERENCES["finn"]
    out += [f"### {f['what']}", ""]
    frows = []
    for name, fps, mhz, src in f["rows"]:
        cyc = "—"
        if mhz:
            n = float(fps.strip("~").rstrip("k")) * (1e3 if fps.endswith("k") else 1)
            cyc = f"{mhz * 1e6 / n:,.0f}"
        frows.append([name, f"{fps} FPS" + (f" @ {mhz} MHz" if mhz else ""), cyc, "— (XNOR/popcount)", src])
    tfc = _nn_rows(res, "finn_tfc")
    for r in tfc:
        s = r.get("synth") or {}
        ips = s.get("inferences_per_s_at_fmax")
        frows.append(
            [
                f"vhls finn_tfc parallel {r['parallel']} (ternary weights, 2-bit activations)",
                f"{ips:,} inferences/s @ {fmt(s.get('fmax_mhz'))} MHz" if ips else f"{NM} (not synthesised)",
                fmt(r.get("measured_cycles")),
                f"{r['multipliers']:,}",
                cmd(r.get("synth_command") or r.get("measure_command")),
            ]
        )
    if not tfc:
        frows.append(["vhls finn_tfc", NM, NM, NM, "no finn_tfc row in bench/results/nn_accelerator.json"])
    out += table(["design", "throughput", "cycles/inference", "multipliers", "source / command"], frows)
    out += [
        "FINN computes binary products with XNOR and popcount in LUTs (no multipliers) and unfolds TFC-w1a1 far "
        "further than the vhls points above; vhls uses one (narrow) multiplier per MAC lane, so its cycles per "
        "inference follow MACs/multipliers.",
        "",
    ]
    w = REFERENCES["dwave"]
    ssa = REFERENCES["ssa"]
    out += [f"### {w['what']}; {ssa['what']}", ""]
    rows = [
        ["dwave SA (reference)", w["mean_cut"], w["ms_per_read"], "—", w["source"]],
        ["SSA (published)", ssa["figure"], "—", "—", ssa["source"]],
    ]
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


def section_hls4ml(res: dict) -> list[str]:
    out = ["## Bit-exactness against hls4ml's C++ emulation", ""]
    d = res.get("hls4ml_compare")
    if not d:
        return [*out, NM, ""]
    if "skipped" in d or "error" in d:
        why = d.get("skipped") or f"failed: {d['error']}"
        return [*out, f"{NM}: `{d['command']}` {why}. Install the optional extra: `pip install -e '.[bench]'`.", ""]
    out += [
        f"hls4ml {d.get('hls4ml_version', '?')} (`hls_model.compile()` + `predict`, g++ only) against the vhls golden "
        "model on the same weights and inputs; outputs compared exactly. Inputs: each example's data plus "
        f"{d.get('random', '?')} random vectors over the whole input type (these reach overflow and wrap-around). "
        "`vhls precisions`: hls4ml configured per layer to the example's own types (weights RND/SAT, an "
        "accumulator as wide as vhls's exact one); `hls4ml defaults`: ap_fixed<16,6> (TRN, WRAP) everywhere, "
        "vhls given the same. The last column counts outputs that change between the two configurations (so a 0 "
        "in the differing column is not vacuous).",
        "",
    ]
    rows = []
    notes = []
    for r in d.get("rows", []):
        inputs = ", ".join(f"{k} {v}" for k, v in r.get("inputs", {}).items())
        first = r.get("first_difference")
        rows.append(
            [
                r["example"],
                r["config"],
                inputs,
                r["outputs_compared"],
                f"**{r['outputs_differ']:,}** ({r['vectors_differ']:,} vectors)",
                f"{first['layer']} ({first['kind']})" if first else "—",
                r.get("outputs_differ_between_configs"),
            ]
        )
        if r["outputs_differ"]:
            wq = r.get("weights_quantised_differently") or {}
            left = r.get("outputs_differ_if_vhls_reads_hls4ml_weight_text")
            notes.append(
                f"- {r['example']} [{r['config']}]: first difference at hls4ml layer {first['layer']} "
                f"(vector {first['vector']}, output {first['output']}: vhls {first['vhls']}, hls4ml "
                f"{first['hls4ml']}). Weights quantised differently: "
                f"{', '.join(f'{k} {v}' for k, v in wq.items())}. hls4ml writes the float weights as decimal text "
                "with 10 fraction digits and quantises that text, so weights smaller than 5e-11 (BatchNorm-folded "
                "weights of pixels that are 0 in every training image) become 0, while vhls truncates (floors) the "
                "binary value to -1 lsb. With hls4ml's weight text, vhls differs in "
                f"**{fmt(left)}** outputs." if first else f"- {r['example']} [{r['config']}]: {r['outputs_differ']}"
            )
    out += table(
        ["example", "configuration", "inputs", "outputs compared", "outputs that differ", "first differing layer",
         "outputs the other configuration changes"],
        rows,
    )
    if notes:
        out += ["Differences explained:", "", *notes, ""]
    out += [f"Command: `{d['command']}`", ""]
    return out


def section_plots(res: dict, images: list[str]) -> list[str]:
    out = ["## Plots", ""]
    shown = [i for i in IMAGES if i in images]
    if not shown:
        return [*out, f"{NM} (bench/plots.py wrote no image; it needs matplotlib and results to draw).", ""]
    for i in shown:
        out += [f"![{IMAGES[i]}]({i})", "", f"*{IMAGES[i]}* (`bench/plots.py`, from `bench/results/*.json`)", ""]
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
                        fmt(f.get("fmax_mhz")) + (" (out of context)" if f.get("out_of_context") else ""),
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
    others = sorted(k for k in res if k.startswith("anneal_") and k != "anneal_quality")
    out += [
        f"1000 steps / sweeps per read; time per read is the median over {d['outer_runs']} runs of the command "
        "(CPU; the SSA figure is the numpy golden model, not hardware)."
        + ("" if others else f" Equal-time comparison and RTL: {NM}."),
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
    for name in others:
        out += anneal_speed(name, res[name]) if name.startswith("anneal_speed_") else generic(name, res[name])
    out += [
        "Not re-made by `make bench`: the G1 sparse (time-multiplexed, J in block RAM) array's speed, whose place "
        "and route alone takes ~13 min. It is slower than CPU SA at equal quality; figures, commands and the "
        "bandwidth bound behind them are in `vhls/anneal/README.md` (sparse array on G1).",
        "",
    ]
    return out


def sa_at_time(d: dict, us: float) -> tuple[int, dict] | None:
    """The measured dwave SA point with the most sweeps that takes at most `us` per read (equal-time comparison)."""
    pts = [(int(k), v) for k, v in (d.get("dwave_sa") or {}).items() if v["us_per_read"] <= us]
    return max(pts, key=lambda kv: kv[0]) if pts else None


def anneal_speed(name: str, d: dict) -> list[str]:
    """Annealer hardware time per read (cycles / post-route Fmax) against dwave SA on the CPU, at equal quality
    (the fewest SA sweeps whose mean cut reaches SSA's) and at equal time (the best SA point measured that fits)."""
    hw = d.get("hardware") or {}
    best = d.get("best_known")
    title = f"### Annealer hardware vs CPU simulated annealing: {d.get('instance')}, {hw.get('arch', NM)} array"
    out = [title, ""]
    if "error" in d or not d.get("rows"):
        return [*out, NM + (f" (`{d.get('command')}` failed: {d['error']})" if "error" in d else ""), ""]
    knobs = ", ".join(f"{k}={v}" for k, v in hw.items() if k not in ("fmax_mhz", "cycles_per_read", "arch"))
    out += [
        f"Hardware: {knobs}; post-route Fmax **{fmt(hw.get('fmax_mhz'))} MHz** on ECP5-85k; cycles per read = "
        f"`{hw.get('cycles_per_read', NM)}`. Time per read = cycles / Fmax (the RTL is bit-exact with the golden "
        f"model, so its cut is the golden model's). dwave SA: {d.get('reads')} reads per point on this machine's CPU.",
        "",
    ]
    def pct(cut: float) -> str:
        return f"{100 * cut / best:.2f} %" if best else NM

    rows = []
    for r in d["rows"]:
        eq = sa_at_time(d, r["hw_us_per_read"])
        rows.append([
            r["steps"],
            f"{r['ssa_mean_cut']:.1f} ({pct(r['ssa_mean_cut'])})",
            r["cycles_per_read"],
            r["hw_us_per_read"],
            r.get("sa_sweeps", NM),
            r.get("sa_us_per_read", NM),
            f"{r['speedup']}×" if r.get("speedup") is not None else NM,
            f"{eq[0]} sweeps: {eq[1]['mean_cut']:.1f} ({pct(eq[1]['mean_cut'])})" if eq else "no SA point that fast",
        ])
    out += table(
        ["SSA steps", "SSA mean cut", "cycles/read", "hardware µs/read", "SA sweeps at equal quality",
         "SA µs/read", "speed-up (SA time / hardware time)",
         "SA at equal time: most sweeps measured within the hardware time (mean cut)"],
        rows,
    )
    steps = [(what, d.get(key)) for what, key in (("build", "build_command"), ("place and route", "synth_command"),
                                                  ("compare", "command")) if d.get(key)]
    if steps:
        out += ["Commands: " + "; ".join(f"{what} `{cmd}`" for what, cmd in steps), ""]
    return out


def generic(name: str, d: dict) -> list[str]:
    """Any other results file (e.g. the annealer's equal-time and RTL runs): its command and its rows, as written."""
    out = [f"### `bench/results/{name}.json`", ""]
    if "error" in d:
        return [*out, f"{NM} (`{d.get('command')}` failed: {d['error']})", ""]
    if d.get("description"):
        out += [str(d["description"]), ""]
    facts = []
    for k, v in d.items():
        if k in ("name", "mode", "machine", "bench_seconds", "command", "rows", "description", "error"):
            continue
        if isinstance(v, dict):
            v = ", ".join(f"{a}={b}" for a, b in v.items() if not isinstance(b, list | dict)) or None
        if v is not None and not isinstance(v, list):
            facts.append(f"- {k}: {fmt(v)}")
    if facts:
        out += [*facts, ""]
    rows = [r for r in d.get("rows", []) if isinstance(r, dict)]
    cols: list[str] = []
    for r in rows:
        cols += [k for k, v in r.items() if k not in cols and not isinstance(v, list | dict)]
    if rows:
        out += table(cols, [[r.get(k) if r.get(k) is not None else NM for k in cols] for r in rows])
    else:
        out += [NM + " (no rows)", ""]
    if d.get("command"):
        out += [f"Command: `{d['command']}`", ""]
    return out


def render(results: dict[str, dict], images: list[str] | None = None) -> str:
    """The page; `images` are the plot paths (relative to docs/) that exist, shown in the Plots section."""
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
    for sec in (section_machine, section_interp, section_nn, section_sim_speed, section_references, section_hls4ml,
                section_cost, section_anneal):
        lines += sec(results)
    lines += section_plots(results, images or [])
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
    images = [i for i in IMAGES if (out.parent / i).is_file()]
    out.write_text(render(load_results(Path(args.results)), images))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
