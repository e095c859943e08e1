"""Per-spin xorshift32 streams, bit-exact with the RTL (`vhls.backends.pbit.xorshift`).

Spin i of a run with seed S starts from `(S + C_i) mod 2**32` (C_i a fixed splitmix hash of i; a zero
state is replaced by FALLBACK). The carry in the addition keeps the streams of different seeds from being
XOR-shifted copies of each other, which a purely linear seeding of a linear generator would give.
Each draw advances the state once (13, 17, 5 shifts) and uses its most significant bit.

Shared generators (`share` = k > 1, for the baked array where a generator per spin costs more than the spins):
generator g (seeded like spin g above) serves spins g*k .. g*k + k - 1, spin i taking bit 31 - i % k of every
new state, so k = 1 is the per-spin scheme.
"""

import numpy as np

MASK = 0xFFFF_FFFF
FALLBACK = 0x6C07_8965


def spin_constant(i: int) -> int:
    """splitmix32-style hash of the spin index: a constant the RTL bakes in per spin."""
    z = (i * 0x9E37_79B9 + 0x7F4A_7C15) & MASK
    z = ((z ^ (z >> 16)) * 0x85EB_CA6B) & MASK
    z = ((z ^ (z >> 13)) * 0xC2B2_AE35) & MASK
    return z ^ (z >> 16)


def spin_constants(n: int) -> np.ndarray:
    return np.array([spin_constant(i) for i in range(n)], dtype=np.uint32)


def trial_seed(seed: int, trial: int) -> int:
    """Seed of trial t: golden-ratio steps so neighbouring trials differ in many bits. The interleaved baked
    array (k = 2) started with seed S runs thread t with trial_seed(S, t), so trials 2r and 2r + 1 share a run."""
    return (seed + trial * 0x9E37_79B9) & MASK


def init_states(seeds: np.ndarray, n: int) -> np.ndarray:
    """(trials, n) uint32 start states."""
    s = (np.asarray(seeds, dtype=np.uint64)[:, None] + spin_constants(n)[None, :].astype(np.uint64)) & MASK
    s = s.astype(np.uint32)
    return np.where(s == 0, np.uint32(FALLBACK), s)


def generators(n: int, share: int = 1) -> int:
    return -(-n // share)


def bits(x: np.ndarray, n: int, share: int = 1) -> np.ndarray:
    """(trials, n) bool: each spin's bit of its generator's state x (trials, generators(n, share))."""
    i = np.arange(n)
    return ((x[:, i // share] >> (31 - i % share).astype(np.uint32)) & np.uint32(1)).astype(bool)


def step(x: np.ndarray) -> np.ndarray:
    """One xorshift32 step, elementwise on uint32 arrays."""
    x = x ^ (x << np.uint32(13))
    x = x ^ (x >> np.uint32(17))
    return x ^ (x << np.uint32(5))


def msb(x: np.ndarray) -> np.ndarray:
    return (x >> np.uint32(31)).astype(bool)


def step_int(x: int) -> int:
    """Scalar reference (used to check the vectorised one)."""
    x ^= (x << 13) & MASK
    x ^= x >> 17
    x ^= (x << 5) & MASK
    return x
