"""The baked (J-in-logic) p-bit array's configuration: the problem itself plus widths.

J and h are compile-time constants: the array is rebuilt for every graph (nothing to load), and in exchange
every spin has its own hard-wired field logic, so one SSA step takes one cycle. Spin i's field is
F_i = sum_j J_ij sigma_j = 2 P_i - W_i with P_i = sum_j |J_ij| x_j, x_j = sigma_j's bit inverted where J_ij < 0
and W_i = sum_j |J_ij|: a weighted popcount (a plain popcount for +-1 weights) and a constant.
"""

import dataclasses

import numpy as np

from vhls.anneal import rng
from vhls.backends.pbit.config import PBitConfig, signed_bits
from vhls.errors import VhlsError

SETUP = 3  # cycles before step 0: seed the generators, advance once, first draw
DRAIN = 4  # around the energy pass: heap sums settle, then lane terms, two partial-sum stages, accumulator


@dataclasses.dataclass(frozen=True)
class BakedConfig:
    n: int
    edges: tuple[tuple[int, int, int], ...]  # (i, j, J_ij) with i < j, J_ij != 0
    h: tuple[int, ...]
    i0_bits: int = 8
    frac_bits: int = 8
    step_bits: int = 16
    read_bits: int = 32  # sigma read port width, and spins per cycle of the energy pass
    share: int = 32  # spins per xorshift32 generator (vhls.anneal.rng.bits)
    interleave: int = 1  # C-slow factor k: k independent reads share the logic on alternate cycles (1 or 2)

    def __post_init__(self) -> None:
        if self.n < 1 or len(self.h) != self.n or self.read_bits < 1 or not 1 <= self.share <= 32:
            raise VhlsError(f"bad baked p-bit array: n {self.n}, read_bits {self.read_bits}, share {self.share}")
        if self.interleave not in (1, 2):
            raise VhlsError(f"baked p-bit array: --interleave must be 1 or 2, not {self.interleave}")
        for i, j, w in self.edges:
            if not (0 <= i < j < self.n and w):
                raise VhlsError(f"bad baked edge ({i}, {j}, {w}): need 0 <= i < j < n and J != 0")
        self.widths  # noqa: B018 - validates the remaining widths

    @classmethod
    def from_problem(cls, J: np.ndarray, h: np.ndarray, **widths: int) -> "BakedConfig":
        iu, ju = np.nonzero(np.triu(J, 1))
        edges = tuple((int(i), int(j), int(J[i, j])) for i, j in zip(iu, ju, strict=True))
        return cls(J.shape[0], edges, tuple(int(v) for v in h), **widths)

    @property
    def widths(self) -> PBitConfig:
        """A dense config with the same N and run-setting widths (for check_params)."""
        return PBitConfig(self.n, 0, 2, 2, self.i0_bits, self.frac_bits, self.step_bits)

    def matrix(self) -> np.ndarray:
        J = np.zeros((self.n, self.n), dtype=np.int64)
        for i, j, w in self.edges:
            J[i, j] = J[j, i] = w
        return J

    def neighbours(self) -> list[list[tuple[int, int]]]:
        """[spin] -> (j, J_ij), by j."""
        out: list[list[tuple[int, int]]] = [[] for _ in range(self.n)]
        for i, j, w in self.edges:
            out[i].append((j, w))
            out[j].append((i, w))
        return [sorted(x) for x in out]

    @property
    def count_bits(self) -> int:
        return self.i0_bits + 1

    @property
    def generators(self) -> int:
        return rng.generators(self.n, self.share)

    @property
    def read_words(self) -> int:
        return -(-self.n // self.read_bits)

    @property
    def e2_bits(self) -> int:
        w = np.abs(self.matrix()).sum(axis=1) + 2 * np.abs(np.array(self.h, dtype=np.int64))
        return signed_bits(int(w.sum()))

    @property
    def reads_per_run(self) -> int:
        return self.interleave

    def cycles_per_read(self, steps: int) -> int:
        """From the cycle after `start` to `done`: set-up, one cycle per step, the energy pass. Interleaved
        (k = 2), every phase takes k cycles and the energy pass's pipeline drain is rounded up to whole
        k-cycle slots; all k reads of the run finish together, so this is each read's latency."""
        k = self.interleave
        return k * (SETUP + steps + self.read_words + 1 + -(-(DRAIN - 1) // k))

    def check_problem(self, J: np.ndarray, h: np.ndarray) -> None:
        if not (np.array_equal(J, self.matrix()) and np.array_equal(h, np.array(self.h))):
            raise VhlsError("J/h differ from the ones baked into this array: rebuild it for this problem")

    def check_params(self, n_rnd: int, i0_min: int, i0_max: int, i0_delta: int, frac_bits: int, steps: int) -> None:
        self.widths.check_params(n_rnd, i0_min, i0_max, i0_delta, frac_bits, steps)
