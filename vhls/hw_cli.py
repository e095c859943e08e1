"""`vhls build`, `vhls verify` and `vhls synth`: a model file to a verified, synthesised streaming accelerator
(dense networks for now)."""

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from vhls.ir.errors import VhlsError

if TYPE_CHECKING:
    from vhls.backends.synth import SynthResult


def add_parsers(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser("build", help="generate Verilog, the IR, report.json and design.json for a model")
    b.add_argument("model", help="model file (.py defining `model`) or IR text (.vhls)")
    b.add_argument("-o", "--out", required=True, help="output folder (refused if it holds files vhls did not write)")
    b.add_argument("--parallel", default="seq",
                   help="multiplier budget (e.g. 64), 'seq' (one multiplier per layer), or PExSIMD per layer "
                        "(e.g. 4x2,8x4)")
    b.add_argument("--name", help="top-level module name (default: the model's name)")
    b.add_argument("--force", action="store_true", help="overwrite a folder vhls did not write")
    b.add_argument("--vectors", type=int, default=64, help="golden test vectors in vectors.npz and tb/ (default 64)")
    b.add_argument("--seed", type=int, default=0, help="seed of the random golden vectors")
    b.add_argument("--no-check", action="store_true",
                   help="skip the yosys check -assert and Verilator lint (they run by default)")
    b.add_argument("--inject", metavar="acc:RATE[:SEED]",
                   help="fault injection: flip one random accumulator bit with probability RATE per accumulator "
                        "value (xorshift32 streams, seed SEED; verify compares with the same faults in the golden "
                        "model)")
    b.add_argument("--tolerance", metavar="tmr|abft[:R]|ant[:BITS[:THRESH]]",
                   help="fault tolerance on every MAC array: triple modular redundancy, ABFT checksums (status "
                        "pins stageK_abft_checked / stageK_abft_errors toggle per vector checked / flagged; abft:R "
                        "also re-executes a flagged vector up to R times, the pins then count attempts), or "
                        "ANT with a BITS-bit replica (default 8) and threshold THRESH: cal (default: the largest "
                        "replica error on the model's `calibration` data), worst (exact worst case) or T / "
                        "T1,T2,... per layer (accumulator raw units); report.json records the thresholds")
    b.add_argument("--port-width", type=int, metavar="BITS",
                   help="narrow AXI-Stream ports: at most BITS data bits per beat, so a vector is several beats of "
                        "whole elements with tlast on the last (default: one whole vector per beat)")
    v = sub.add_parser("verify", help="simulate a build folder in cocotb; compare bit-exactly with the golden model")
    v.add_argument("out", help="a folder written by `vhls build`")
    v.add_argument("--sim", default="icarus", choices=("icarus", "verilator"))
    v.add_argument("--vectors", type=int, default=100, help="input vectors (random plus edge values)")
    v.add_argument("--seed", type=int, default=0)
    v.add_argument("--waves", action="store_true", help="dump waveforms")
    s = sub.add_parser("synth", help="synthesise and place-and-route a build folder (yowasp yosys + nextpnr)")
    s.add_argument("out", help="a folder written by `vhls build`")
    s.add_argument("--fpga", default="ecp5-85k", choices=("ecp5-85k", "ice40-up5k"),
                   help="ECP5 LFE5U-85F CABGA381 or iCE40 UP5K SG48 (default ecp5-85k)")
    s.add_argument("--freq", type=float, default=200.0, help="target clock in MHz (default 200)")
    s.add_argument("--seed", type=int, default=1, help="nextpnr placer seed (the first, with --seeds)")
    s.add_argument("--seeds", type=int, default=1, metavar="N",
                   help="place and route with N seeds (SEED .. SEED+N-1) from one synthesis and keep the fastest; "
                        "synth.json lists every seed's Fmax (default 1)")
    s.add_argument("--jobs", type=int, default=1, help="place-and-route runs at a time, with --seeds (default 1)")
    s.add_argument("--timeout", type=float, default=3600.0, metavar="SECONDS",
                   help="give up on a tool run (yosys, nextpnr) after SECONDS; synth.json records the timeout "
                        "(default 3600)")
    s.add_argument("--ooc", action="store_true",
                   help="ECP5: place and route out of context (no pins), for ports wider than the package")
    s.add_argument("--floorplan", default="auto", choices=("auto", "on", "off"),
                   help="ECP5: lock each MAC array's multipliers to neighbouring DSP sites in adder-tree order; auto "
                        "does when they fill at least half the sites (default auto)")
    s.add_argument("--pins", default="none", choices=("none", "edge"),
                   help="ECP5 pin plan: none lets nextpnr choose pads; edge writes an LPF putting each AXI-Stream "
                        "port on neighbouring bonded pins along the die edge and clk on a clock pin (default none)")


def _summary(report: dict, title: str) -> Table:
    table = Table(title=title)
    for col in ("stage", "in→out", "PE×SIMD", "MACs", "mults", "cycles", "util."):
        table.add_column(col, justify="left" if col == "stage" else "right")
    for s in report["stages"]:
        mac = "pe" in s  # pool stages have no MAC array
        table.add_row(s["name"], f"{s['inputs']}→{s['outputs']}", f"{s['pe']}×{s['simd']}" if mac else "—",
                      f"{s['macs']:,}", str(s["multipliers"]), str(s["cycles"]),
                      f"{s['utilisation'] * 100:.1f} %" if mac else "—")
    t = report["total"]
    table.add_row("total", "", "", f"{t['macs']:,}", str(t["multipliers"]),
                  f"{t['predicted_cycles_per_inference']}", f"{t['utilisation'] * 100:.1f} %", style="bold")
    return table


def _console() -> Console:
    return Console(highlight=False, width=None if sys.stdout.isatty() else 120)


def cmd_build(args: argparse.Namespace) -> int:
    from vhls.backends.nn import build, parse_parallel
    from vhls.backends.nn.protect import NoiseOptions
    from vhls.loader import load

    if args.vectors < 1:
        raise VhlsError("--vectors must be at least 1")
    t0 = time.perf_counter()
    model = load(args.model)
    noise = NoiseOptions.parse(args.inject, args.tolerance)
    report = build(model, args.out, parse_parallel(args.parallel), name=args.name, force=args.force,
                   check=not args.no_check, vectors=args.vectors, seed=args.seed, noise=noise,
                   port_width=args.port_width)
    t = report["total"]
    out = _console()
    out.print(_summary(report, f"{args.out}: II {t['initiation_interval']} cycles, latency {t['latency']} cycles"))
    if "noise" in report:
        ov = report["noise"]["overhead"]
        out.print(f"noise: {report['noise']['description']}; scheme overhead {ov['multipliers']} multipliers, "
                  f"{ov['rom_bits']} ROM bits, {ov['register_bits']} register bits")
    if report.get("port_width"):
        i, o = report["input"], report["output"]
        out.print(f"ports: at most {report['port_width']} data bits per beat, {i['beats']} beats per input vector, "
                  f"{o['beats']} per output vector; {report['pins']} pins")
    checks = "yosys check -assert and Verilator lint passed" if "checks" in report else "checks skipped"
    out.print(f"{checks}; wrote {report['name']}.v, .vhls, .core, report.json, vectors.npz ({args.vectors}), tb/ "
              f"in {time.perf_counter() - t0:.1f} s")
    return 0


def _report_total(out: str) -> dict:
    try:
        return json.loads((Path(out) / "report.json").read_text())["total"]
    except (OSError, ValueError, KeyError, TypeError):
        raise VhlsError(f"{out} has no usable report.json: build it with vhls build first") from None


def cmd_verify(args: argparse.Namespace) -> int:
    from vhls.sim.nn import verify

    total = _report_total(args.out)
    r = verify(args.out, sim=args.sim, vectors=args.vectors, seed=args.seed, waves=args.waves)
    predicted = total["predicted_cycles_per_inference"]  # what the build folder claims, not a re-derivation
    print(f"verify: {r.vectors} vectors, {r.mismatches} mismatches, {r.cycles_per_inference:g} cycles/inference "
          f"(predicted {predicted})")
    if "abft" in r.extra:
        a = r.extra["abft"]
        vecs = f", {a['single_fault_vectors_flagged']} of {a['single_fault_vectors']} vectors" \
            if "single_fault_vectors" in a else ""
        print(f"abft: {a['flagged']} of {a['stage_vectors']} stage-vectors flagged ({a['faulty']} with injected "
              f"faults, {a['false_alarms']} false alarms); single faults flagged: {a['single_fault_flagged']} of "
              f"{a['single_fault']} stage-vectors{vecs}; {r.flag_mismatches} stages differ from the golden flags")
    if "abft_timing" in r.extra:  # recompute: attempts per stage, each retry's cost checked exactly
        t = r.extra["abft_timing"]
        print("abft recompute: " + "; ".join(f"stage {k}: {s['attempts']} attempts, {s['retries']} retries of "
                                             f"{s['attempt_cycles']} cycles" for k, s in enumerate(t["stages"]))
              + f"; latency {r.latency} (plan + first vector's retries: {t['latency']}); {t['errors']} timing errors")
    if not r.ok:
        bad = r.first_bad or {}
        waves = ", ".join(r.extra.get("waves", [])) or "none"
        flags = f", {r.flag_mismatches} stages with wrong ABFT flags" if r.flag_mismatches else ""
        flags += f", {r.framing_errors} framing errors (tlast, s_axis_error)" if r.framing_errors else ""
        flags += f", {r.timing_errors} ABFT recompute timing errors" if r.timing_errors else ""
        raise VhlsError(f"{r.mismatches} mismatching vectors, {r.unexpected_beats} unexpected beats{flags}; first "
                        f"bad vector: {bad}; waveforms: {waves}", args.out)
    if predicted != r.predicted_cycles:
        raise VhlsError(f"report.json predicts {predicted} cycles/inference but the design it describes predicts "
                        f"{r.predicted_cycles}: the report is stale; rebuild", args.out)
    retried = sum(s["retries"] for s in r.extra.get("abft_timing", {}).get("stages", []))  # checked above instead
    if abs(r.cycles_per_inference - predicted) > 0.05 * predicted and not retried:
        raise VhlsError(f"measured {r.cycles_per_inference:g} cycles/inference, report.json predicts "
                        f"{predicted}: the report is wrong", args.out)
    return 0


def _synth_table(res: "SynthResult", title: str) -> Table:
    table = Table(title=title)
    for col in ("resource", "used", "available", "util."):
        table.add_column(col, justify="left" if col == "resource" else "right")
    labels = {"lut": "LUT4", "carry": "carry cells", "ff": "FF", "dsp": "DSP", "bram": "BRAM", "spram": "SPRAM",
              "lutram": "LUT-RAM", "io": "I/O"}
    for key, used in res.resources.items():
        cap = res.capacity.get(key)
        table.add_row(labels.get(key, key), f"{used:,}", f"{cap:,}" if cap else "", f"{used / cap * 100:.1f} %"
                      if cap else "")
    fmax = res.fmax_mhz
    verdict = "meets" if res.meets_target else "misses"
    table.add_row("Fmax", f"{fmax:.1f} MHz" if fmax else "?", f"{res.target_mhz:g} MHz target",
                  verdict, style="bold")
    return table


def cmd_synth(args: argparse.Namespace) -> int:
    from vhls.backends.synth import synth

    t0 = time.perf_counter()
    if args.seeds < 1:
        raise VhlsError(f"--seeds must be at least 1, got {args.seeds}")
    res = synth(args.out, args.fpga, freq_mhz=args.freq, seed=range(args.seed, args.seed + args.seeds),
                timeout=args.timeout, ooc=args.ooc, pins=args.pins, jobs=args.jobs, floorplan=args.floorplan)
    out = _console()
    where = f"{res.fpga}, out of context" if res.out_of_context else res.fpga
    where += f", {res.pins} pin plan" if res.pins != "none" else ""
    out.print(_synth_table(res, f"{res.top} on {where} (seed {res.seed})"))
    if res.seeds:
        out.print("Fmax per seed: " + ", ".join(f"{k}: {'did not finish' if v is None else f'{v:.1f} MHz'}"
                                                for k, v in res.seeds.items()) + f" (kept seed {res.seed})")
    if res.critical_path:
        out.print("critical path: " + "; ".join(res.critical_path[:6]))
    out.print(f"synthesis {res.synth_seconds:.0f} s, place-and-route {res.pnr_seconds:.0f} s "
              f"(total {time.perf_counter() - t0:.0f} s); {args.out}/synth.json, logs in "
              f"{args.out}/synth_{args.fpga}/")
    return 0


COMMANDS = {"build": cmd_build, "synth": cmd_synth, "verify": cmd_verify}
