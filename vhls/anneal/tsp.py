"""TSP as a QUBO/Ising (Lucas 2014, section 7.1): x[v, p] = city v is visited at position p.

H = A sum_v (1 - sum_p x_vp)^2 + A sum_p (1 - sum_v x_vp)^2 + B sum_{u != v} d_uv sum_p x_up x_v(p+1 mod n).
Valid tours have zero penalty and energy B * length; A > B * max(d) makes every invalid assignment worse.
"""

import itertools

import numpy as np

from vhls.anneal.problems import Ising, Qubo, qubo_to_ising
from vhls.errors import VhlsError


def var(v: int, p: int, n: int) -> int:
    return v * n + p


def add_one_hot(Q: np.ndarray, idx: list[int], weight: int) -> int:
    """Add weight * (1 - sum x)^2 = weight * (1 - sum x + 2 sum_{a<b} x_a x_b); returns the constant."""
    for a in idx:
        Q[a, a] -= weight
    for a, b in itertools.combinations(idx, 2):
        Q[min(a, b), max(a, b)] += 2 * weight
    return weight


def tsp_qubo(d: np.ndarray, a: int | None = None, b: int = 1) -> Qubo:
    d = np.asarray(d)
    n = d.shape[0]
    if d.shape != (n, n) or n < 3:
        raise VhlsError(f"TSP needs a square distance matrix with n >= 3, got shape {d.shape}")
    if not np.array_equal(d, d.T) or np.any(np.diag(d)) or np.any(d < 0) or np.any(d != np.rint(d)):
        raise VhlsError("TSP distances must be symmetric non-negative integers with a zero diagonal")
    d = d.astype(np.int64)
    a = 2 * b * int(d.max()) + 1 if a is None else a
    Q = np.zeros((n * n, n * n), dtype=np.int64)
    offset = 0
    for v in range(n):
        offset += add_one_hot(Q, [var(v, p, n) for p in range(n)], a)
    for p in range(n):
        offset += add_one_hot(Q, [var(v, p, n) for v in range(n)], a)
    for u, v in itertools.permutations(range(n), 2):
        for p in range(n):
            i, j = var(u, p, n), var(v, (p + 1) % n, n)
            Q[min(i, j), max(i, j)] += b * d[u, v]
    return Qubo(Q, offset, f"tsp{n}")


def tsp_ising(d: np.ndarray, a: int | None = None, b: int = 1) -> Ising:
    """Ising whose energy is 4 * the QUBO energy (integer J, h)."""
    return qubo_to_ising(tsp_qubo(d, a, b))


def decode_tour(spins: np.ndarray, n: int) -> list[int] | None:
    """City order from +-1 spins, or None if the assignment is not a permutation."""
    x = (np.asarray(spins).reshape(n, n) > 0).astype(int)
    if not (np.all(x.sum(axis=0) == 1) and np.all(x.sum(axis=1) == 1)):
        return None
    return [int(np.argmax(x[:, p])) for p in range(n)]


def tour_length(d: np.ndarray, tour: list[int]) -> int:
    return int(sum(d[tour[k], tour[(k + 1) % len(tour)]] for k in range(len(tour))))


def brute_force_tsp(d: np.ndarray) -> int:
    n = d.shape[0]
    return min(tour_length(d, [0, *perm]) for perm in itertools.permutations(range(1, n)))
