"""Golden models: xorshift streams, integer SSA against a plain-loop reference, quality on small graphs."""

import itertools
from pathlib import Path

import numpy as np
import pytest

from vhls.anneal import problems, rng, ssa
from vhls.errors import VhlsError


def test_xorshift_known_values_and_vectorised() -> None:
    assert rng.step_int(1) == 270369  # 1 ^ 1<<13 = 8193; ^ 8193>>17 = 8193; ^ 8193<<5
    xs = np.array([1, 0xDEADBEEF, 0x80000000, 12345], dtype=np.uint32)
    for _ in range(5):
        ref = [rng.step_int(int(x)) for x in xs]
        xs = rng.step(xs)
        assert xs.tolist() == ref


def test_init_states_never_zero_and_spread() -> None:
    c = rng.spin_constants(4)
    s = rng.init_states(np.array([(-int(c[2])) & rng.MASK, 7]), 4)
    assert s[0, 2] == rng.FALLBACK and np.all(s != 0)
    assert len(set(rng.spin_constants(1000).tolist())) == 1000


def reference_ssa(J: np.ndarray, h: np.ndarray, p: ssa.SSAParams, steps: int, seed: int) -> tuple[list[int], list[int]]:
    """Spin-by-spin Python loops: the spec in the ssa module docstring, nothing vectorised."""
    n = len(h)
    state = [rng.step_int(((seed + rng.spin_constant(i)) & rng.MASK) or rng.FALLBACK) for i in range(n)]
    itanh = [0 if s >> 31 else -1 for s in state]
    trace = []
    for t in range(steps):
        sigma = [1 if c >= 0 else -1 for c in itanh]
        fields = [sum(int(J[i, j]) * sigma[j] for j in range(n)) for i in range(n)]
        trace.append(sum(sigma[i] * (fields[i] + 2 * int(h[i])) for i in range(n)))
        i0 = min(p.i0_max, ((p.i0_min << p.frac_bits) + t * p.i0_delta) >> p.frac_bits)
        for i in range(n):
            state[i] = rng.step_int(state[i])
            noise = p.n_rnd if state[i] >> 31 else -p.n_rnd
            itanh[i] = max(-i0, min(i0 - 1, itanh[i] + int(h[i]) + fields[i] + noise))
    return [1 if c >= 0 else -1 for c in itanh], trace


def random_problem(seed: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    r = np.random.default_rng(seed)
    J = np.triu(r.integers(-7, 8, (n, n)) * (r.random((n, n)) < 0.5), 1)
    return J + J.T, r.integers(-5, 6, n)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_integer_ssa_matches_loop_reference(seed: int) -> None:
    J, h = random_problem(seed, 9)
    p = ssa.SSAParams.linear(4, 3, 20, 30, frac_bits=4)
    seeds = [rng.trial_seed(seed, t) for t in range(3)]
    res = ssa.run_ssa(J, h, p, 30, seeds)
    for k, s in enumerate(seeds):
        spins, trace = reference_ssa(J, h, p, 30, s)
        assert res.spins[k].tolist() == spins
        assert res.e2[k].tolist() == trace
    m = problems.Ising(J, h, 0)
    assert np.array_equal(res.final_e2, -2 * m.energy(res.spins))
    assert np.all((res.itanh >= -p.i0_max) & (res.itanh <= p.i0_max - 1))


def test_schedule_reaches_i0max_on_last_step() -> None:
    p = ssa.SSAParams.linear(5, 24, 72, 1000)
    i0 = [p.i0(t) for t in range(1000)]
    assert i0[0] == 24 and i0[-1] == 72 and i0[900] < 72 and all(a <= b for a, b in itertools.pairwise(i0))


def test_bad_params_and_inputs() -> None:
    J, h = random_problem(0, 4)
    with pytest.raises(VhlsError, match="I0min"):
        ssa.run_ssa(J, h, ssa.SSAParams(1, 5, 4, 0), 3, [1])
    with pytest.raises(VhlsError, match="integer"):
        ssa.run_ssa(J * 0.5, h, ssa.SSAParams(1, 2, 4, 0), 3, [1])
    with pytest.raises(VhlsError, match="symmetric"):
        ssa.run_ssa(np.triu(J), h, ssa.SSAParams(1, 2, 4, 0), 3, [1])


def small_maxcut(seed: int, n: int = 14) -> problems.Graph:
    r = np.random.default_rng(seed)
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n) if r.random() < 0.4]
    return problems.Graph(n, np.array(pairs), np.ones(len(pairs), dtype=np.int64))


def optimum_cut(g: problems.Graph) -> int:
    e, _ = problems.brute_force_ground(g.to_ising())
    return (g.total_weight - e) // 2


@pytest.mark.parametrize("seed", [0, 1])
def test_all_three_solvers_find_good_cuts(seed: int) -> None:
    g = small_maxcut(seed)
    best = optimum_cut(g)
    m = g.to_ising()
    res = ssa.run_ssa(m.J, m.h, ssa.tuned_params(m.J, 200), 200, [rng.trial_seed(seed, t) for t in range(20)])
    assert g.cut(res.spins).max() == best and g.cut(res.spins).mean() >= 0.95 * best
    spins, energy = ssa.run_ssa_float(m.J, m.h, 200, 20, seed)
    assert g.cut(spins).mean() >= 0.95 * best and energy.shape == (20, 200)
    assert g.cut(ssa.run_sa(m.J, m.h, 200, 20, seed)).mean() >= 0.95 * best


def test_g1_golden_quality(gset_dir: Path) -> None:
    """A floor, not the target: 8 trials of the default schedule on G1 (the bench reports the real numbers)."""
    g = problems.read_gset(gset_dir / "G1.txt")
    m = g.to_ising()
    res = ssa.run_ssa(m.J, m.h, ssa.tuned_params(m.J, 1000), 1000, [rng.trial_seed(3, t) for t in range(8)])
    cut = g.cut(res.spins)
    assert np.array_equal(cut, (2 * g.total_weight + res.final_e2) // 4)
    assert cut.mean() >= 0.98 * problems.best_known("G1", gset_dir / "best_known.csv")


def test_auto_schedule_picks_by_mean_field() -> None:
    r = np.random.default_rng(0)
    dense = np.triu((r.random((60, 60)) < 0.5).astype(np.int64), 1)
    J_pos = -(dense + dense.T)  # MAX-CUT with positive weights: |mu| >> sigma
    signs = np.triu(r.choice([-1, 1], (60, 60)) * dense, 1)
    J_pm = signs + signs.T  # +-1 weights: mu ~ 0
    assert ssa.auto_params(J_pos, 100) == ssa.tuned_params(J_pos, 100)
    assert ssa.auto_params(J_pm, 100) == ssa.published_params(J_pm, 100)
