"""Sizes of the sparse, time-multiplexed p-bit array and how a problem's J is packed into its adjacency memories.

Spin i lives in unit i % U, group i // U (as in the dense array). Each unit streams one adjacency word per
cycle; a word holds `lanes` entries (m, J) and a `last` flag ending the current spin's list. Lane k only reads
spins j in bank k (j % lanes == k, entry m = j // lanes), so its spin read is a (npad / lanes):1 mux instead
of npad:1. With `choices` = 2, lane k reads bank k or bank k + 1 (mod lanes; one more entry bit says which), so
the packer can even out a spin's lanes: a spin's list takes as many words as its fullest lane (at least one),
and a second choice of lane cuts that from 177 to 107 words per step on G1 (32 units x 16 lanes). Every
unit holds exactly `words` words per step: the host pads the last spin's list, so all units run in lockstep
from one address counter and a step takes `words + PIPE` cycles whatever the graph.
"""

import dataclasses

import numpy as np

from vhls.backends.pbit.config import PBitConfig
from vhls.errors import VhlsError

PIPE = 3  # cycles from issuing a step's last word to its spin update (read, lane terms, field sum)


@dataclasses.dataclass(frozen=True)
class SparseConfig:
    n: int  # spins
    units: int  # spin-update units
    lanes: int  # adjacency entries per unit per cycle
    words: int  # adjacency words per unit and step (memory depth); see words_needed()
    j_bits: int = 2
    h_bits: int = 2
    i0_bits: int = 8
    frac_bits: int = 8
    step_bits: int = 16
    read_bits: int = 32  # width of the sigma read port
    choices: int = 1  # banks a lane can read: 1 (bank k) or 2 (banks k and k + 1)

    def __post_init__(self) -> None:
        if not (1 <= self.units <= self.n and self.lanes >= 1 and self.read_bits >= 1 and self.choices in (1, 2)):
            raise VhlsError(f"bad sparse p-bit configuration {self}")
        if self.words < self.groups:
            raise VhlsError(f"{self.words} words per unit cannot hold {self.groups} spins (one word each at least)")
        self.widths  # noqa: B018 - validates the remaining widths

    @property
    def widths(self) -> PBitConfig:
        """A dense config with the same N, U and widths: the p-bit, scheduler and adders use its derived widths."""
        return PBitConfig(self.n, self.units, self.j_bits, self.h_bits, self.i0_bits, self.frac_bits, self.step_bits)

    @property
    def groups(self) -> int:
        return -(-self.n // self.units)

    @property
    def npad(self) -> int:
        return self.groups * self.units

    @property
    def bank(self) -> int:
        """Spins one lane can read."""
        return -(-self.npad // self.lanes)

    @property
    def idx_bits(self) -> int:
        return max(1, (self.bank - 1).bit_length())

    @property
    def entry_bits(self) -> int:
        """J (low bits), m, and with two choices a bank-select bit (MSB: 1 = bank k + 1)."""
        return self.j_bits + self.idx_bits + (self.choices == 2)

    @property
    def word_bits(self) -> int:
        return self.lanes * self.entry_bits + 1  # + the `last` flag (MSB)

    @property
    def read_words(self) -> int:
        return -(-self.n // self.read_bits)

    @property
    def cycles_per_step(self) -> int:
        return self.words + PIPE

    def cycles_per_read(self, steps: int) -> int:
        """From the cycle after `start` to `done`: seeding walks the groups once, then `words + PIPE` per step."""
        return self.groups + steps * self.cycles_per_step

    def locate(self, spin: int) -> tuple[int, int]:
        return spin % self.units, spin // self.units

    def check_problem(self, J_max: int, h_max: int) -> None:
        self.widths.check_problem(J_max, h_max)

    def check_params(self, n_rnd: int, i0_min: int, i0_max: int, i0_delta: int, frac_bits: int, steps: int) -> None:
        self.widths.check_params(n_rnd, i0_min, i0_max, i0_delta, frac_bits, steps)


def _spread(counts: list[int], depth: int) -> list[int] | None:
    """Two choices: how many of bank b's entries go to lane b - 1 (the rest stay in lane b) so that no lane holds
    more than `depth`, or None. Around the ring, once the share x of bank 0 sent to lane L-1 is fixed, filling
    lane b - 1 first from each bank b is optimal; try every x."""
    L = len(counts)
    for x in range(min(counts[0], depth) + 1):
        if counts[0] - x > depth:
            continue
        moved, room = [x], depth - (counts[0] - x)  # room: what lane b - 1 can still take from bank b
        for b in range(1, L):
            moved.append(min(counts[b], room))
            room = depth - (counts[b] - moved[b])
            if room < 0:
                break
        else:
            if depth - room + x <= depth:  # lane L-1: rest of bank L-1 plus x from bank 0
                return moved
    return None


def _spin_words(row: np.ndarray, lanes: int, choices: int) -> list[list[tuple[int, int]]]:
    """One spin's neighbour list as words of per-lane entries (select, m, J); unused lanes are (0, 0, 0)."""
    (nbrs,) = np.nonzero(row)
    banks: list[list[tuple[int, int]]] = [[] for _ in range(lanes)]
    for j in nbrs.tolist():
        banks[j % lanes].append((j // lanes, int(row[j])))
    per_lane: list[list[tuple[int, int, int]]] = [[(0, m, w) for m, w in b] for b in banks]
    if choices == 2 and lanes > 1:
        counts = [len(b) for b in banks]
        depth = max(1, -(-sum(counts) // lanes))
        while (moved := _spread(counts, depth)) is None:
            depth += 1
        per_lane = [[] for _ in range(lanes)]
        for b, entries in enumerate(banks):
            k = moved[b]
            per_lane[(b - 1) % lanes] += [(1, m, w) for m, w in entries[:k]]
            per_lane[b] += [(0, m, w) for m, w in entries[k:]]
    depth = max(1, max(len(x) for x in per_lane))
    return [[x[r] if r < len(x) else (0, 0, 0) for x in per_lane] for r in range(depth)]


def unit_lists(J: np.ndarray, units: int, lanes: int, choices: int = 1) -> list[list[list[list[tuple[int, int, int]]]]]:
    """[unit][group] -> that spin's words."""
    n = J.shape[0]
    groups = -(-n // units)
    empty = np.zeros(n, dtype=J.dtype)
    return [
        [_spin_words(J[g * units + u] if g * units + u < n else empty, lanes, choices) for g in range(groups)]
        for u in range(units)
    ]


def words_needed(J: np.ndarray, units: int, lanes: int, choices: int = 1) -> int:
    """The smallest `words` that holds J: the busiest unit's word count."""
    return max(sum(len(w) for w in spins) for spins in unit_lists(J, units, lanes, choices))


def pack(cfg: SparseConfig, J: np.ndarray) -> list[list[int]]:
    """[unit] -> `cfg.words` memory words (ints) holding J; raises if a unit needs more."""
    if J.shape != (cfg.n, cfg.n):
        raise VhlsError(f"J is {J.shape[0]}x{J.shape[1]} but the array has {cfg.n} spins")
    mask = (1 << cfg.j_bits) - 1
    out = []
    for u, spins in enumerate(unit_lists(J, cfg.units, cfg.lanes, cfg.choices)):
        used = sum(len(w) for w in spins)
        if used > cfg.words:
            need = words_needed(J, cfg.units, cfg.lanes, cfg.choices)
            raise VhlsError(f"unit {u} needs {used} adjacency words but the array holds {cfg.words}; build with {need}")
        spins[-1][-1:-1] = [[(0, 0, 0)] * cfg.lanes] * (cfg.words - used)  # pad the last spin before its last word
        mem = []
        for words in spins:
            for r, entries in enumerate(words):
                v = 0
                for k, (sel, m, w) in enumerate(entries):
                    e = (((sel << cfg.idx_bits) | m) << cfg.j_bits) | (w & mask)
                    v |= e << (k * cfg.entry_bits)
                mem.append(v | (int(r == len(words) - 1) << (cfg.word_bits - 1)))
        out.append(mem)
    return out
