"""Problem files, conversions and the TSP / graph-isomorphism builders against brute force."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vhls.anneal import graph_iso, problems, tsp
from vhls.errors import VhlsError


def write(tmp_path: Path, text: str | bytes, name: str = "g.txt") -> Path:
    p = tmp_path / name
    if isinstance(text, bytes):
        p.write_bytes(text)
    else:
        p.write_text(text)
    return p


def test_read_small_gset(tmp_path: Path) -> None:
    g = problems.read_gset(write(tmp_path, "3 3\n1 2 1\n2 3 -1\n1 3 2\n"))
    assert g.n == 3 and g.edges.tolist() == [[0, 1], [1, 2], [0, 2]] and g.weights.tolist() == [1, -1, 2]
    assert g.cut(np.array([1, -1, 1])) == 0  # edges 1-2 (w 1) and 2-3 (w -1) cut
    assert g.cut(np.array([1, 1, -1])) == 1  # 2-3 (-1) and 1-3 (2)


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ("", ":1", "empty file"),
        ("3\n", ":1", "bad header"),
        ("x 2\n", ":1", "node count 'x' is not an integer"),
        ("3 1\n1 4 1\n", ":2", "node id 4 out of range 1..3"),
        ("3 1\n0 2 1\n", ":2", "node id 0 out of range"),
        ("3 1\n2 2 1\n", ":2", "self-loop on node 2"),
        ("3 2\n1 2 1\n2 1 1\n", ":3", "duplicate edge 1-2 (first on line 2)"),
        ("3 1\n1 2 abc\n", ":2", "weight 'abc' is not a number"),
        ("3 1\n1 2 nan\n", ":2", "not finite"),
        ("3 1\n1 2\n", ":2", "expected `i j w`"),
        ("99999 0\n", ":1", "more than the 16384 spins"),
        ("3 2\n1 2 1\n", ":2", "header declares 2 edges but the file has 1"),
        ("3 1\n1 2 1\n2 3 1\n", ":3", "more edges than the 1"),
        ("3 1\r1 2 1\r", ":1", "stray carriage return"),
        (b"3 1\n1 2 \xff\n", ":2", "not UTF-8"),
        ("3 1\n1 2 1\n".encode("utf-16-le"), ":1", "UTF-16 without a BOM"),
    ],
)
def test_bad_gset(tmp_path: Path, text: str | bytes, where: str, what: str) -> None:
    p = write(tmp_path, text)
    with pytest.raises(VhlsError) as e:
        problems.read_gset(p)
    assert e.value.where == f"{p}{where}"
    assert what in e.value.what
    assert "\n" not in str(e.value)


def test_crlf_and_utf16_bom_accepted(tmp_path: Path) -> None:
    plain = problems.read_gset(write(tmp_path, "3 2\n1 2 1\n2 3 1\n", "a.txt"))
    for data in (
        b"3 2\r\n1 2 1\r\n2 3 1\r\n",
        "3 2\n1 2 1\n2 3 1\n".encode("utf-16"),
        b"\xef\xbb\xbf3 2\n1 2 1\n2 3 1",
    ):
        g = problems.read_gset(write(tmp_path, data, "b.txt"))
        assert np.array_equal(g.edges, plain.edges) and np.array_equal(g.weights, plain.weights)


def test_gset_roundtrip_and_g1(tmp_path: Path, gset_dir: Path) -> None:
    g = problems.read_gset(gset_dir / "G1.txt")
    assert (g.n, len(g.edges), g.name) == (800, 19176, "G1")
    out = tmp_path / "G1copy.txt"
    problems.write_gset(g, out)
    assert out.read_bytes() == (gset_dir / "G1.txt").read_bytes().replace(b" \n", b"\n") or np.array_equal(
        problems.read_gset(out).edges, g.edges
    )
    assert problems.best_known("G1", gset_dir / "best_known.csv") == 11624
    assert problems.best_known("G999", gset_dir / "best_known.csv") is None


def random_ising(seed: int, n: int) -> problems.Ising:
    r = np.random.default_rng(seed)
    J = np.triu(r.integers(-3, 4, (n, n)), 1)
    return problems.Ising(J + J.T, r.integers(-2, 3, n), int(r.integers(-5, 5)), "rand")


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31), st.integers(1, 7))
def test_qubo_ising_conversions_preserve_energy(seed: int, n: int) -> None:
    m = random_ising(seed, n)
    q = problems.ising_to_qubo(m)
    s = np.where(np.random.default_rng(seed).random((20, n)) < 0.5, 1, -1)
    assert np.array_equal(q.energy((s + 1) // 2), m.energy(s))
    back = problems.qubo_to_ising(q)
    assert np.array_equal(back.energy(s), 4 * m.energy(s))


def test_maxcut_energy_matches_cut() -> None:
    r = np.random.default_rng(1)
    pairs = [(i, j) for i in range(6) for j in range(i + 1, 6) if r.random() < 0.6]
    g = problems.Graph(6, np.array(pairs), r.integers(1, 5, len(pairs)))
    m = g.to_ising()
    s = np.where(r.random((50, 6)) < 0.5, 1, -1)
    assert np.array_equal(g.cut(s), (g.total_weight - m.energy(s)) // 2)


def test_ising_and_qubo_files_roundtrip(tmp_path: Path) -> None:
    m = random_ising(3, 5)
    problems.write_ising(m, tmp_path / "m.ising")
    m2 = problems.read_problem(tmp_path / "m.ising")
    assert isinstance(m2, problems.Ising)
    assert np.array_equal(m2.J, m.J) and np.array_equal(m2.h, m.h) and m2.offset == m.offset
    q = problems.ising_to_qubo(m)
    problems.write_qubo(q, tmp_path / "m.qubo")
    m3 = problems.read_problem(tmp_path / "m.qubo")
    s = np.where(np.random.default_rng(0).random((10, 5)) < 0.5, 1, -1)
    assert np.array_equal(m3.energy(s), 4 * m.energy(s))


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("p ising 2\nj 1 1 3\n", "self-coupling"),
        ("p ising 2\nj 1 2 3\nj 2 1 1\n", "duplicate term 1 2 (first on line 2)"),
        ("p ising 2\nx 1 2\n", "unexpected line"),
        ("p qubo 0\n", "size must be 1..16384"),
        ("p ising 99999\n", "size must be 1..16384"),
    ],
)
def test_bad_ising_files(tmp_path: Path, text: str, what: str) -> None:
    with pytest.raises(VhlsError) as e:
        problems.read_problem(write(tmp_path, text, "bad.ising"))
    assert what in e.value.what and e.value.where.startswith(str(tmp_path))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tsp_ground_state_is_shortest_tour(seed: int) -> None:
    r = np.random.default_rng(seed)
    pts = r.integers(0, 10, (4, 2))
    d = np.rint(np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))).astype(np.int64)
    m = tsp.tsp_ising(d)
    e, ground = problems.brute_force_ground(m)
    best = tsp.brute_force_tsp(d)
    assert e == 4 * best  # Ising energies are 4x QUBO energies
    for s in ground:
        tour = tsp.decode_tour(s, 4)
        assert tour is not None and tsp.tour_length(d, tour) == best


@pytest.mark.parametrize(
    ("e1", "e2"),
    [
        ([(0, 1), (1, 2), (2, 3)], [(3, 1), (1, 0), (0, 2)]),  # paths: isomorphic
        ([(0, 1), (1, 2), (2, 3)], [(0, 1), (0, 2), (0, 3)]),  # path vs star: not
        ([(0, 1), (1, 2), (2, 0)], [(1, 2), (2, 3), (3, 1)]),  # triangles: isomorphic
        ([(0, 1), (2, 3)], [(0, 1), (1, 2)]),  # matching vs path: not
    ],
)
def test_graph_iso_ground_state(e1: list[tuple[int, int]], e2: list[tuple[int, int]]) -> None:
    m = graph_iso.iso_ising(4, e1, e2)
    e, ground = problems.brute_force_ground(m)
    iso = graph_iso.brute_force_isomorphic(4, e1, e2)
    assert (e == 0) == iso
    if iso:
        g1 = {frozenset(x) for x in e1}
        g2 = {frozenset(x) for x in e2}
        for s in ground:
            p = graph_iso.decode_mapping(s, 4)
            assert p is not None and {frozenset((p[u], p[v])) for u, v in g1} == g2


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=60))
def test_any_bytes_give_a_graph_or_a_one_line_error(data: bytes) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "fuzz.txt"
        p.write_bytes(data)
        try:
            problems.read_problem(p)
        except VhlsError as e:
            assert e.where is not None and e.where.startswith(str(p)) and "\n" not in str(e)


@settings(max_examples=30, deadline=None)
@given(st.integers(2, 12), st.data())
def test_gset_write_read_roundtrip(n: int, data: st.DataObject) -> None:
    import tempfile

    pairs = data.draw(st.sets(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)).filter(lambda t: t[0] < t[1])))
    pairs = sorted(pairs)
    w = data.draw(st.lists(st.integers(-5, 5), min_size=len(pairs), max_size=len(pairs)))
    g = problems.Graph(n, np.array(pairs, dtype=np.int64).reshape(-1, 2), np.array(w, dtype=np.int64))
    with tempfile.TemporaryDirectory() as d:
        problems.write_gset(g, Path(d) / "g.txt")
        back = problems.read_gset(Path(d) / "g.txt")
    assert back.n == n and np.array_equal(back.edges, g.edges) and np.array_equal(back.weights, g.weights)
