"""Verify an nn accelerator in cocotb against the golden model (the IR interpreter), on Icarus or Verilator.

    res = verify(design(model, parallel=64), sim="icarus", vectors=20, seed=0)
    print(res.summary())   # verify: 20 vectors, 0 mismatches, 64 cycles/inference (predicted 64)

`target` is a `Design`, a model / IR program (built with `parallel`), or a folder written by
`vhls.backends.nn.build` (its IR text is parsed back, its Verilog used as written). Simulator build products go
to `out_dir` (default: a temporary folder, removed afterwards), never into the source tree.
"""

import contextlib
import itertools
import json
import resource
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vhls.backends.nn.emit import (
    GENERATOR,
    Design,
    bench_config,
    copy_verilog,
    design,
    golden,
    make_vectors,
)
from vhls.backends.nn.plan import Parallel
from vhls.backends.nn.protect import NoiseOptions
from vhls.backends.synth.tools import verilator_environ
from vhls.ir.errors import VhlsError
from vhls.ir.types import Fixed
from vhls.sim.simulators import runner as simulator_runner

SIMULATORS = ("icarus", "verilator")
BENCH_MODULE = "vhls.sim.nn.bench"
# The simulator loads a copy of the bench from its work folder under this name: imported as vhls.sim.nn.bench it
# would pull in vhls and vhls.sim.nn (the IR, amaranth, the backends: seconds of CPU per run), which it never uses.
BENCH_COPY = "vhls_nn_bench"  # cocotb puts its test_dir (the work folder) on sys.path
BENCH_SOURCE = Path(__file__).with_name("bench.py")


@dataclass
class VerifyResult:
    sim: str
    vectors: int
    mismatches: int
    cycles_per_inference: float
    predicted_cycles: int
    latency: int
    predicted_latency: int
    macs: int
    multipliers: int
    first_bad: dict | None = None
    unexpected_beats: int = 0  # output beats after every input was answered: a duplicated or invented result
    sim_cycles: int = 0
    sim_seconds: float = 0.0  # the simulator process (start-up included, build excluded), wall clock
    build_seconds: float = 0.0
    sim_cpu_seconds: float = 0.0  # CPU time of the simulator process (user + system): robust on a loaded machine
    extra: dict = field(default_factory=dict)
    flag_mismatches: int = 0  # ABFT designs: stages whose flagged vectors differ from the golden model
    timing_errors: int = 0  # ABFT recompute: checks spaced otherwise than plan.StagePlan.attempt_cycles says's
    framing_errors: int = 0  # narrow ports: outputs with m_axis_tlast misplaced, plus 1 if s_axis_error rose

    @property
    def ok(self) -> bool:
        return (self.mismatches == 0 and self.unexpected_beats == 0 and self.flag_mismatches == 0
                and self.framing_errors == 0 and self.timing_errors == 0)

    @property
    def utilisation(self) -> float:
        """Steady-state MACs done ÷ (multipliers × cycles)."""
        return self.macs / (self.multipliers * self.cycles_per_inference)

    def summary(self) -> str:
        c = self.cycles_per_inference
        cyc = f"{c:.0f}" if abs(c - round(c)) < 0.05 else f"{c:.2f}"
        extra = f", {self.unexpected_beats} unexpected output beats" if self.unexpected_beats else ""
        extra += f", {self.framing_errors} framing errors" if self.framing_errors else ""
        return (f"verify: {self.vectors} vectors, {self.mismatches} mismatches{extra}, {cyc} cycles/inference "
                f"(predicted {self.predicted_cycles})")


# ---------------------------------------------------------------------------------------------- vectors
# make_vectors, golden and bench_config live with `build`, which also writes them to vectors.npz and tb/.


def unpack(word: int, n: int, t: Fixed) -> list[int]:
    mask = (1 << t.width) - 1
    vals = [(word >> (i * t.width)) & mask for i in range(n)]
    return [v - (1 << t.width) if t.signed and v >> (t.width - 1) else v for v in vals]


# ---------------------------------------------------------------------------------------------- verify
def _load_folder(folder: Path) -> tuple[Design, Path]:
    try:
        meta = json.loads((folder / "design.json").read_text())
    except (OSError, ValueError):
        raise VhlsError(f"{folder} has no design.json: build it with vhls build first") from None
    if meta.get("generator") != GENERATOR:
        raise VhlsError(f"{folder} was not written by the vhls nn backend")
    try:
        from vhls.ir.parser import parse
    except ImportError:
        raise VhlsError("verifying a build folder needs the IR parser (vhls.ir.parser)") from None
    prog = parse((folder / meta["program"]).read_text(), source=str(folder / meta["program"]))
    d = design(prog, [tuple(p) for p in meta["parallel"]], meta["name"], NoiseOptions.from_json(meta.get("noise")),
               meta.get("port_width"))
    return d, folder / meta["verilog"]


def _abft(d: Design, res: dict) -> dict:
    """ABFT designs: the flagged vectors read from the RTL and the detection figures (protect.abft_summary); with
    recompute also the attempts and the timing of each stage's checks (`abft_timing`)."""
    if "abft_flagged" not in res or d.noise is None:
        return {}
    from vhls.backends.nn.protect import abft_summary

    flagged, cycles = res["abft_flagged"], res["abft_check_cycles"]
    if not d.noise.retries:
        return {"abft_flagged": flagged, "abft": abft_summary(d.net, d.noise, flagged, res["checked"])}
    timing = abft_timing(d, flagged, cycles)
    # the first vector meets an idle design: its latency is the plan's plus its own re-executions, exactly
    timing["latency"] = d.report()["total"]["latency"] + sum(t["first_vector_retries"] * t["attempt_cycles"]
                                                             for t in timing["stages"])
    timing["errors"] += res["latency"] != timing["latency"]
    return {"abft_flagged": flagged, "abft": abft_summary(d.net, d.noise, flagged, [len(c) for c in cycles]),
            "abft_timing": timing}


def abft_timing(d: Design, flagged: list[list[int]], cycles: list[list[int]]) -> dict:
    """ABFT recompute: per stage, the attempts and retries read from the RTL (its check pins) and the spacing of its
    checks against plan.StagePlan.attempt_cycles T: a re-execution follows its flagged attempt after exactly T
    cycles, and no attempt comes sooner than T after the previous one (later only while the stage waits for its
    next input). `errors` counts the checks that break either rule."""
    assert d.noise is not None
    retries, out, errors = d.noise.retries, [], 0
    for s, (fl, cyc) in zip(d.stages, zip(flagged, cycles, strict=True), strict=True):
        bad, tries, redo = set(fl), 0, []
        for n in range(len(cyc)):  # attempt n is re-executed when flagged and its vector has retries left
            again = n in bad and tries < retries
            redo.append(again)
            tries = tries + 1 if again else 0
        gaps = [b - a for a, b in itertools.pairwise(cyc)]
        wrong = sum(g != s.attempt_cycles if redo[n] else g < s.attempt_cycles for n, g in enumerate(gaps))
        errors += wrong
        first = redo.index(False) if False in redo else len(redo)
        out.append({"attempts": len(cyc), "retries": sum(redo[:len(gaps)]), "attempt_cycles": s.attempt_cycles,
                    "first_vector_retries": first,
                    "retry_gaps": sorted({g for n, g in enumerate(gaps) if redo[n]}), "wrong_gaps": wrong})
    return {"stages": out, "errors": errors}


def verify(target: Any, sim: str = "icarus", vectors: int = 20, seed: int = 0, parallel: Parallel = None,
           out_dir: str | Path | None = None, waves: bool = False, throughput_vectors: int | None = None,
           p_valid: float = 0.6, p_ready: float = 0.6, waves_on_failure: bool = True) -> VerifyResult:
    """Stream `vectors` inputs through the RTL with stalls, compare bit-exactly with the golden model.

    With an `out_dir` (or a build folder as target), a failing run is repeated with waveforms on
    (`waves_on_failure`); `result.extra["waves"]` lists the dump files.
    """
    if sim not in SIMULATORS:
        raise VhlsError(f"unknown simulator {sim!r}; known: {', '.join(SIMULATORS)}")
    if vectors < 1:
        raise VhlsError("verify needs at least one vector")
    verilog_path: Path | None = None
    if isinstance(target, str | Path):
        d, verilog_path = _load_folder(Path(target))
        verilog_path = verilog_path.resolve()
        if out_dir is None:
            out_dir = Path(target) / f"sim_{sim}"
    elif isinstance(target, Design):
        d = target
    else:
        d = design(target, parallel)
    rep = d.report()
    tot = rep["total"]
    k = throughput_vectors or max(8, 2 * len(d.stages) + 6)

    raw = make_vectors(d, vectors, seed)
    want = golden(d, raw)
    with contextlib.ExitStack() as stack:
        if out_dir is None:
            work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="vhls-nn-")))
        else:
            work = Path(out_dir).resolve()  # the simulators run in other folders
            work.mkdir(parents=True, exist_ok=True)
        if verilog_path is None:
            verilog_path = copy_verilog(d, work / "rtl")
        cfg = bench_config(d, raw, want, seed, k, p_valid, p_ready)
        cfg_path, res_path = work / "vectors.json", work / "result.json"
        cfg_path.write_text(json.dumps(cfg))
        res_path.unlink(missing_ok=True)
        (work / f"{BENCH_COPY}.py").write_text(BENCH_SOURCE.read_text(encoding="utf-8"), encoding="utf-8")
        if sim == "verilator":
            stack.enter_context(verilator_environ())
        runner = simulator_runner(sim)
        build_dir = work / f"build_{sim}"
        t0 = time.perf_counter()
        runner.build(sources=[verilog_path], hdl_toplevel=d.name, build_dir=build_dir, timescale=("1ns", "1ps"),
                     waves=waves, always=True, log_file=work / f"build_{sim}.log")
        t1 = time.perf_counter()
        cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)  # the runner waits for the simulator: it is counted
        with contextlib.suppress(SystemExit):  # cocotb's runner exits when the bench fails; result.json says why
            runner.test(test_module=BENCH_COPY, hdl_toplevel=d.name, build_dir=build_dir, test_dir=work,
                        extra_env={"VHLS_NN_CONFIG": str(cfg_path), "VHLS_NN_RESULT": str(res_path)},
                        results_xml=str(work / "results.xml"), waves=waves, seed=seed,
                        log_file=work / f"sim_{sim}.log")
        t2 = time.perf_counter()
        cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if not res_path.exists():
            log = (work / f"sim_{sim}.log")
            tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
            raise VhlsError(f"the {sim} simulation produced no result (see {log}):\n{tail}")
        res = json.loads(res_path.read_text())
    first = res["first_bad"]
    abft = _abft(d, res)
    dumps: list[str] = []
    framing = res.get("tlast_errors", 0) + res.get("s_axis_error", 0)
    failed = res["mismatches"] > 0 or res["unexpected_beats"] > 0 or res.get("flag_mismatches", 0) > 0 or framing \
        or abft.get("abft_timing", {}).get("errors", 0) > 0
    if failed and not waves and waves_on_failure and out_dir is not None:
        again = verify(target if isinstance(target, str | Path) else d, sim, vectors, seed,
                       out_dir=Path(out_dir) / "waves", waves=True,
                       throughput_vectors=k, p_valid=p_valid, p_ready=p_ready, waves_on_failure=False)
        dumps = again.extra["waves"]
    elif waves and out_dir is not None:
        dumps = sorted(str(f) for ext in ("*.fst", "*.vcd") for f in Path(out_dir).rglob(ext))
    if first is not None:
        n_out, t = d.net.n_out, d.net.out_type
        first = {**first, "got": unpack(int(first["got"], 16), n_out, t), "want": unpack(int(first["want"], 16),
                                                                                           n_out, t)}
        first["input"] = raw[first["vector"]].tolist()
    return VerifyResult(
        sim=sim, vectors=vectors, mismatches=res["mismatches"], cycles_per_inference=res["cycles_per_inference"],
        predicted_cycles=tot["predicted_cycles_per_inference"], latency=res["latency"],
        predicted_latency=tot["latency"], macs=tot["macs"], multipliers=tot["multipliers"], first_bad=first,
        unexpected_beats=res["unexpected_beats"], sim_cycles=res["sim_cycles"], sim_seconds=t2 - t1,
        build_seconds=t1 - t0,
        sim_cpu_seconds=cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime,
        extra={"checked": res["checked"], "mismatching_beats": res["mismatching_beats"],
               "bench_wall_seconds": res["wall_seconds"], "bench_cpu_seconds": res.get("cpu_seconds"),
               "waves": dumps, **abft},
        flag_mismatches=res.get("flag_mismatches", 0), framing_errors=framing,
        timing_errors=abft.get("abft_timing", {}).get("errors", 0))


__all__ = ["SIMULATORS", "VerifyResult", "golden", "make_vectors", "verify"]
