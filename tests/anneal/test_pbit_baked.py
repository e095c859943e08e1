"""The baked (J-in-logic) p-bit array: one SSA step per cycle, bit-exact with the integer SSA golden model."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vhls.anneal import problems, rng, ssa
from vhls.backends.pbit import BakedConfig, to_verilog
from vhls.backends.pbit.baked_config import DRAIN, SETUP
from vhls.backends.pbit.bitheap import heap_sum, signed_operand
from vhls.errors import VhlsError
from vhls.sim.pbit import run_rtl

from .pbit_common import needs, random_ising


def check_bit_exact(cfg: BakedConfig, p: ssa.SSAParams, steps: int, sim: str, reads: int = 2) -> None:
    """`reads` golden reads (trial seeds, so interleaved pairs share a run) against the RTL."""
    J, h = cfg.matrix(), np.array(cfg.h)
    seeds = [rng.trial_seed(11, t) for t in range(reads)]
    gold = ssa.run_ssa(J, h, p, steps, seeds, share=cfg.share)
    runs = run_rtl(cfg, J, h, p, steps, seeds, sim=sim)
    assert len(runs) == reads
    for k, run in enumerate(runs):
        assert run.seed == seeds[k]
        assert run.spins.tolist() == gold.spins[k].tolist()
        assert run.e2 == gold.final_e2[k]
        assert run.cycles == cfg.cycles_per_read(steps)
        if cfg.interleave == 1:
            assert run.cycles == SETUP + steps + cfg.read_words + DRAIN
        else:  # every phase twice, the energy pass's 3-cycle drain in two 2-cycle slots
            assert run.cycles == 2 * (SETUP + steps + cfg.read_words + 1 + 2)


@pytest.mark.parametrize("k", [1, 2])
def test_verilog_is_deterministic(tmp_path: Path, k: int) -> None:
    J, h = random_ising(1, 6)
    code = (
        "import numpy as np; from vhls.backends.pbit import *; "
        f"print(to_verilog(BakedConfig.from_problem(np.array({J.tolist()}), np.array({h.tolist()}), "
        f"interleave={k})), end='')"
    )
    a = to_verilog(BakedConfig.from_problem(J, h, interleave=k))
    b = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert a == b and "module pbit_baked" in a and "src =" not in a


def test_shared_generators_hand_out_one_bit_per_spin() -> None:
    x = rng.init_states([5], 2)
    b = rng.bits(x, 40, share=32)
    assert b[0, 0] == rng.msb(x)[0, 0] and b[0, 32] == rng.msb(x)[0, 1]
    assert b[0, 1] == bool((int(x[0, 0]) >> 30) & 1)
    assert np.array_equal(rng.bits(rng.init_states([5], 40), 40), rng.msb(rng.init_states([5], 40)))


def test_bit_heap_sums_weighted_bits_and_signed_operands() -> None:
    from amaranth import Module, Signal, signed
    from amaranth.sim import Simulator

    m = Module()
    x, v = Signal(7), Signal(signed(5))
    weights = [1, 2, 3, 1, 6, 2, 1]
    v_bits, v_const = signed_operand(v)
    out = Signal(signed(8))
    m.d.comb += out.eq(heap_sum(m, [(x[k], w) for k, w in enumerate(weights)] + v_bits, v_const - 9, 8, "t"))
    r = np.random.default_rng(0)
    cases = [(int(a), int(b)) for a, b in zip(r.integers(0, 128, 60), r.integers(-16, 16, 60), strict=True)]
    got = []

    async def bench(ctx: object) -> None:
        for a, b in cases:
            ctx.set(x, a)
            ctx.set(v, b)
            got.append(ctx.get(out))

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    assert got == [sum(w for k, w in enumerate(weights) if a >> k & 1) + b - 9 for a, b in cases]


def test_a_different_problem_is_refused() -> None:
    J, h = random_ising(2, 5)
    cfg = BakedConfig.from_problem(J, h)
    with pytest.raises(VhlsError, match="rebuild"):
        cfg.check_problem(J, h + 1)


# (n, weight range, share, read bits, k): +-1 weights; multi-bit weights and h; a generator per spin; 1-bit
# reads; the first two again interleaved (k = 2: two reads per run, the second seeded by the array)
@pytest.mark.parametrize(
    ("n", "top", "share", "read_bits", "k"),
    [(12, 1, 32, 32, 1), (9, 3, 4, 4, 1), (7, 2, 1, 3, 1), (12, 1, 32, 32, 2), (9, 3, 4, 4, 2)],
)
def test_icarus_bit_exact_ising(n: int, top: int, share: int, read_bits: int, k: int) -> None:
    needs("icarus")
    J, h = random_ising(n, n, top)
    cfg = BakedConfig.from_problem(J, h, frac_bits=4, share=share, read_bits=read_bits, interleave=k)
    check_bit_exact(cfg, ssa.SSAParams.linear(3, 2, 20, 30, frac_bits=4), 30, "icarus", reads=2 * k)


@pytest.mark.parametrize("k", [1, 2])
def test_icarus_bit_exact_maxcut_and_zero_or_one_step(k: int) -> None:
    needs("icarus")
    r = np.random.default_rng(4)
    pairs = [(i, j) for i in range(40) for j in range(i + 1, 40) if r.random() < 0.2]
    m = problems.Graph(40, np.array(pairs), np.ones(len(pairs), dtype=np.int64)).to_ising()
    cfg = BakedConfig.from_problem(m.J, m.h, interleave=k)
    check_bit_exact(cfg, ssa.tuned_params(m.J, 60), 60, "icarus")
    check_bit_exact(cfg, ssa.tuned_params(m.J, 60), 0, "icarus")
    check_bit_exact(cfg, ssa.tuned_params(m.J, 60), 1, "icarus", reads=3 if k == 2 else 2)


def test_interleaved_seeds_must_pair_up() -> None:
    J, h = random_ising(3, 4)
    cfg = BakedConfig.from_problem(J, h, interleave=2)
    with pytest.raises(VhlsError, match="trial_seed"):
        run_rtl(cfg, J, h, ssa.SSAParams.linear(3, 2, 20, 30), 4, [1, 2])
    with pytest.raises(VhlsError, match="interleave"):
        BakedConfig.from_problem(J, h, interleave=3)


@pytest.mark.slow
@pytest.mark.parametrize("sim", ["verilator", "icarus"])
def test_g1_800_spins_baked_bit_exact(sim: str, gset_dir: Path) -> None:
    needs(sim)
    m = problems.read_gset(gset_dir / "G1.txt").to_ising()
    steps = 100
    check_bit_exact(BakedConfig.from_problem(m.J, m.h), ssa.tuned_params(m.J, steps), steps, sim)


@pytest.mark.slow
@pytest.mark.parametrize("k", [1, 2])
def test_g11_800_spins_baked_bit_exact_icarus(gset_dir: Path, k: int) -> None:
    """800 spins as built by `vhls anneal G11.txt --arch baked [--interleave 2]` (G1's heaps take Icarus/Verilator
    far longer)."""
    needs("icarus")
    m = problems.read_gset(gset_dir / "G11.txt").to_ising()
    steps = 100
    p = ssa.auto_params(m.J, steps)
    cfg = BakedConfig.from_problem(m.J, m.h, i0_bits=max(2, p.i0_max.bit_length()), interleave=k)
    check_bit_exact(cfg, p, steps, "icarus")
