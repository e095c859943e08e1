"""The p-bit array in cocotb agrees bit-exactly with the integer SSA golden model."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vhls.anneal import problems, ssa
from vhls.backends.pbit import PBitConfig, to_verilog
from vhls.errors import VhlsError
from vhls.sim.pbit import run_rtl, simulators

from .pbit_common import check_traces, needs, random_ising


def test_verilog_is_deterministic_and_has_no_paths(tmp_path: Path) -> None:
    cfg = PBitConfig(5, units=2)
    a = to_verilog(cfg)
    # another process in another folder must emit the same bytes
    code = "from vhls.backends.pbit import PBitConfig, to_verilog; print(to_verilog(PBitConfig(5, units=2)), end='')"
    b = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert a == b
    assert "src =" not in a and str(Path.cwd()) not in a


def check_bit_exact(cfg: PBitConfig, J: np.ndarray, h: np.ndarray, p: ssa.SSAParams, steps: int, sim: str) -> None:
    check_traces(cfg, J, h, p, steps, sim, seed=99, cycles=(steps + 1) * cfg.groups)


@pytest.mark.parametrize(("n", "units"), [(7, 0), (10, 4)])  # fully parallel; time-multiplexed with padding
def test_icarus_bit_exact_ising(n: int, units: int) -> None:
    needs("icarus")
    J, h = random_ising(n, n, top=7, density=0.6)
    cfg = PBitConfig(n, units=units, frac_bits=4)
    check_bit_exact(cfg, J, h, ssa.SSAParams.linear(4, 2, 30, 40, frac_bits=4), 40, "icarus")


def test_verilator_bit_exact_maxcut() -> None:
    needs("verilator")
    r = np.random.default_rng(4)
    pairs = [(i, j) for i in range(16) for j in range(i + 1, 16) if r.random() < 0.3]
    g = problems.Graph(16, np.array(pairs), np.ones(len(pairs), dtype=np.int64))
    m = g.to_ising()
    check_bit_exact(PBitConfig(16, units=4, j_bits=2, h_bits=2), m.J, m.h, ssa.tuned_params(m.J, 60), 60, "verilator")


def test_weights_that_do_not_fit_are_refused() -> None:
    J, h = random_ising(0, 4, top=7, density=0.6)
    with pytest.raises(VhlsError, match="does not fit signed 3-bit J"):
        run_rtl(PBitConfig(4, j_bits=3), J, h, ssa.SSAParams(1, 1, 2, 0), 2, [1], sim=(simulators() or ["icarus"])[0])
    with pytest.raises(VhlsError, match="fraction bits"):
        run_rtl(
            PBitConfig(4), J // 2, h // 2, ssa.SSAParams(1, 1, 2, 0, 4), 2, [1], sim=(simulators() or ["icarus"])[0]
        )


@pytest.mark.slow
@pytest.mark.parametrize("sim", ["verilator", "icarus"])
def test_g1_800_spins_bit_exact(sim: str, gset_dir: Path) -> None:
    needs(sim)
    g = problems.read_gset(gset_dir / "G1.txt")
    m = g.to_ising()
    steps = 100
    check_bit_exact(PBitConfig(800, units=16, j_bits=2, h_bits=2), m.J, m.h, ssa.tuned_params(m.J, steps), steps, sim)
