"""The sparse, time-multiplexed p-bit array: packing, and bit-exact agreement with the integer SSA golden model."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vhls.anneal import problems, ssa
from vhls.backends.pbit import SparseConfig, to_verilog
from vhls.backends.pbit.sparse_config import pack, unit_lists, words_needed
from vhls.errors import VhlsError

from .pbit_common import check_traces, needs, random_ising


def test_verilog_is_deterministic(tmp_path: Path) -> None:
    a = to_verilog(SparseConfig(9, 2, 3, 8))
    code = "from vhls.backends.pbit import *; print(to_verilog(SparseConfig(9, 2, 3, 8)), end='')"
    b = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert a == b and "module pbit_sparse" in a and "src =" not in a


@pytest.mark.parametrize("choices", [1, 2])
def test_pack_holds_every_entry_once_and_pads_the_last_spin(choices: int) -> None:
    J, _ = random_ising(3, 11)
    L = 3
    cfg = SparseConfig(11, 3, L, words_needed(J, 3, L, choices) + 2, j_bits=3, choices=choices)
    got = np.zeros_like(J)
    for u, mem in enumerate(pack(cfg, J)):
        assert len(mem) == cfg.words
        g = 0
        for word in mem:
            for lane in range(L):
                e = (word >> (lane * cfg.entry_bits)) & ((1 << cfg.entry_bits) - 1)
                w = e & 0b111
                w -= 8 if w & 4 else 0
                m, sel = (e >> 3) & ((1 << cfg.idx_bits) - 1), e >> (3 + cfg.idx_bits)
                if w:
                    got[g * 3 + u, m * L + (lane + sel) % L] += w
            g += word >> (cfg.word_bits - 1)  # `last` ends a spin's list
        assert g == cfg.groups and mem[-1] >> (cfg.word_bits - 1)
    assert np.array_equal(got, J)


def test_two_choices_never_need_more_words_and_balance_a_skewed_spin() -> None:
    J, _ = random_ising(5, 40, density=0.6)
    for units, lanes in [(4, 4), (8, 8), (5, 3)]:
        assert words_needed(J, units, lanes, 2) <= words_needed(J, units, lanes, 1)
    star = np.zeros((9, 9), dtype=np.int64)  # spin 0's 8 neighbours 1..8: banks 1, 0, 1, 0, ... with 2 lanes
    star[0, 1:] = star[1:, 0] = 1
    assert [words_needed(star, 9, 2, c) for c in (1, 2)] == [4, 4]  # 4 per bank either way: already balanced
    star[0, 1::2] = star[1::2, 0] = 0  # only even neighbours 2, 4, 6, 8: all in bank 0
    assert [words_needed(star, 9, 2, c) for c in (1, 2)] == [4, 2]


def test_words_needed_is_the_busiest_unit_and_too_few_is_refused() -> None:
    J, _ = random_ising(4, 12)
    need = words_needed(J, 4, 3)
    assert need == max(sum(len(w) for w in spins) for spins in unit_lists(J, 4, 3))
    with pytest.raises(VhlsError, match=f"build with {need}"):
        pack(SparseConfig(12, 4, 3, need - 1, j_bits=3), J)
    with pytest.raises(VhlsError, match="cannot hold"):
        SparseConfig(12, 4, 3, 2)


def check_bit_exact(cfg: SparseConfig, J: np.ndarray, h: np.ndarray, p: ssa.SSAParams, steps: int, sim: str) -> None:
    check_traces(cfg, J, h, p, steps, sim, seed=7, cycles=cfg.groups + steps * (cfg.words + 3))


# (n, units, lanes, bank choices, spare words): padded groups; one spin per unit; more lanes than spins; one lane
@pytest.mark.parametrize(
    ("n", "units", "lanes", "choices", "spare"),
    [(10, 3, 2, 1, 2), (6, 6, 2, 1, 0), (5, 2, 8, 1, 1), (9, 2, 1, 1, 0), (13, 3, 3, 2, 1), (7, 7, 3, 2, 0)],
)
def test_icarus_bit_exact_ising(n: int, units: int, lanes: int, choices: int, spare: int) -> None:
    needs("icarus")
    J, h = random_ising(n, n)
    words = words_needed(J, units, lanes, choices) + spare
    cfg = SparseConfig(n, units, lanes, words, j_bits=3, h_bits=3, frac_bits=4, choices=choices)
    check_bit_exact(cfg, J, h, ssa.SSAParams.linear(3, 2, 20, 30, frac_bits=4), 30, "icarus")


def test_icarus_bit_exact_maxcut() -> None:
    needs("icarus")
    r = np.random.default_rng(4)
    pairs = [(i, j) for i in range(24) for j in range(i + 1, 24) if r.random() < 0.25]
    m = problems.Graph(24, np.array(pairs), np.ones(len(pairs), dtype=np.int64)).to_ising()
    cfg = SparseConfig(24, 4, 4, words_needed(m.J, 4, 4, 2), read_bits=16, choices=2)
    check_bit_exact(cfg, m.J, m.h, ssa.tuned_params(m.J, 50), 50, "icarus")


@pytest.mark.slow
@pytest.mark.parametrize("sim", ["verilator", "icarus"])
def test_g1_800_spins_sparse_bit_exact(sim: str, gset_dir: Path) -> None:
    needs(sim)
    m = problems.read_gset(gset_dir / "G1.txt").to_ising()
    steps = 100
    cfg = SparseConfig(800, 32, 16, words_needed(m.J, 32, 16, 2), choices=2)  # as synthesised for G1
    check_bit_exact(cfg, m.J, m.h, ssa.tuned_params(m.J, steps), steps, sim)
