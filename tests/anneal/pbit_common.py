"""Shared by the p-bit RTL tests (dense, sparse, baked): simulator skips, random Ising problems, and the bit-exact
check of a stepped array's energy trace against the integer SSA golden model."""

import numpy as np
import pytest

from vhls.anneal import rng, ssa
from vhls.backends.pbit import PBitConfig, SparseConfig
from vhls.sim.pbit import run_rtl, simulators


def needs(sim: str) -> None:
    if sim not in simulators():
        pytest.skip(f"{sim} not installed")


def random_ising(seed: int, n: int, top: int = 3, density: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric J and h with integer weights in [-top, top], a `density` share of the couplings nonzero."""
    r = np.random.default_rng(seed)
    J = np.triu(r.integers(-top, top + 1, (n, n)) * (r.random((n, n)) < density), 1)
    return J + J.T, r.integers(-top, top + 1, n)


def check_traces(cfg: PBitConfig | SparseConfig, J: np.ndarray, h: np.ndarray, p: ssa.SSAParams, steps: int,
                 sim: str, seed: int, cycles: int) -> None:
    """Two reads (trial seeds of `seed`): the RTL's per-step energy trace and final spins equal the golden model's,
    and each read takes `cycles` cycles, as cfg.cycles_per_read predicts."""
    seeds = [rng.trial_seed(seed, t) for t in range(2)]
    gold = ssa.run_ssa(J, h, p, steps, seeds)
    runs = run_rtl(cfg, J, h, p, steps, seeds, sim=sim)
    for k, run in enumerate(runs):
        assert run.trace.tolist() == gold.e2[k].tolist()
        assert run.spins.tolist() == gold.spins[k].tolist()
        assert run.cycles == cfg.cycles_per_read(steps) == cycles
