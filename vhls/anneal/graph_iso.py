"""Graph isomorphism as a QUBO/Ising (Lucas 2014, section 9): x[v, i] = vertex v of G1 maps to vertex i of G2.

H = A (each v maps once, each i is hit once) + B (non-edge -> edge) + B (edge -> non-edge).
H = 0 exactly for an isomorphism, H > 0 otherwise; any A, B > 0 works.
"""

import itertools

import numpy as np

from vhls.anneal.problems import Ising, Qubo, qubo_to_ising
from vhls.anneal.tsp import add_one_hot
from vhls.errors import VhlsError


def _adj(n: int, edges: list[tuple[int, int]]) -> np.ndarray:
    m = np.zeros((n, n), dtype=bool)
    for u, v in edges:
        if u == v or not (0 <= u < n and 0 <= v < n):
            raise VhlsError(f"bad edge {u}-{v} for {n} vertices")
        m[u, v] = m[v, u] = True
    return m


def iso_qubo(n: int, edges1: list[tuple[int, int]], edges2: list[tuple[int, int]], a: int = 1, b: int = 1) -> Qubo:
    g1, g2 = _adj(n, edges1), _adj(n, edges2)
    Q = np.zeros((n * n, n * n), dtype=np.int64)
    offset = 0
    for v in range(n):
        offset += add_one_hot(Q, [v * n + i for i in range(n)], a)
    for i in range(n):
        offset += add_one_hot(Q, [v * n + i for v in range(n)], a)
    for (u, v), (i, j) in itertools.product(itertools.combinations(range(n), 2), repeat=2):
        if g1[u, v] != g2[i, j]:  # mapping {u,v} onto {i,j} (either way round) breaks adjacency
            for x, y in ((u * n + i, v * n + j), (u * n + j, v * n + i)):
                Q[min(x, y), max(x, y)] += b
    return Qubo(Q, offset, f"iso{n}")


def iso_ising(n: int, edges1: list[tuple[int, int]], edges2: list[tuple[int, int]]) -> Ising:
    return qubo_to_ising(iso_qubo(n, edges1, edges2))


def decode_mapping(spins: np.ndarray, n: int) -> list[int] | None:
    x = (np.asarray(spins).reshape(n, n) > 0).astype(int)
    if not (np.all(x.sum(axis=0) == 1) and np.all(x.sum(axis=1) == 1)):
        return None
    return [int(np.argmax(x[v])) for v in range(n)]


def brute_force_isomorphic(n: int, edges1: list[tuple[int, int]], edges2: list[tuple[int, int]]) -> bool:
    g1, g2 = _adj(n, edges1), _adj(n, edges2)
    return any(np.array_equal(g1, g2[np.ix_(p, p)]) for p in map(list, itertools.permutations(range(n))))
