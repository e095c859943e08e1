"""Ising, QUBO and MAX-CUT problems: readers, writers and conversions.

Conventions (shared by the golden model and the RTL):
  Ising energy   E(s) = -sum_{i<j} J_ij s_i s_j - sum_i h_i s_i + offset,  s_i in {-1, +1}
  QUBO energy    E(x) = x^T Q x + offset,                                x_i in {0, 1}
  MAX-CUT        J = -W, h = 0, so cut(s) = (W_total - E(s)) / 2.

Text formats (1-based indices, `#` starts a comment line, CRLF accepted, UTF-16 decoded via its BOM):
  G-set:  `n m` then m lines `i j w`.
  Ising:  `p ising N`, then `h i v` and `j i k v` lines, optional `c v` (offset).
  QUBO:   `p qubo N`, then `q i k v` lines (i == k is the linear term), optional `c v`.
"""

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from vhls.errors import VhlsError

Number = int | float
MAX_DENSE = 16384  # spins; J is held dense (16384^2 int64 = 2 GiB)


@dataclasses.dataclass
class Graph:
    """A weighted undirected graph, 0-based edge list."""

    n: int
    edges: np.ndarray  # (m, 2) int64, i < j
    weights: np.ndarray  # (m,) int64 or float64
    name: str = "graph"

    @property
    def total_weight(self) -> Number:
        return self.weights.sum().item()

    def cut(self, spins: np.ndarray) -> np.ndarray:
        """Cut value of +-1 spins, shape (..., n) -> (...)."""
        s = np.asarray(spins)
        diff = s[..., self.edges[:, 0]] != s[..., self.edges[:, 1]]
        return (diff * self.weights).sum(axis=-1)

    def to_ising(self) -> "Ising":
        if self.n > MAX_DENSE:
            raise VhlsError(f"{self.n} spins: the dense J this model uses is limited to {MAX_DENSE} spins", self.name)
        J = np.zeros((self.n, self.n), dtype=self.weights.dtype)
        i, j = self.edges[:, 0], self.edges[:, 1]
        J[i, j] = -self.weights
        J[j, i] = -self.weights
        return Ising(J, np.zeros(self.n, dtype=J.dtype), 0, self.name)


@dataclasses.dataclass
class Ising:
    """Dense symmetric J (zero diagonal), fields h and a constant offset."""

    J: np.ndarray
    h: np.ndarray
    offset: Number = 0
    name: str = "ising"

    @property
    def n(self) -> int:
        return self.J.shape[0]

    def energy(self, spins: np.ndarray) -> np.ndarray:
        s = np.asarray(spins, dtype=np.float64 if self.J.dtype.kind == "f" else np.int64)
        pair = np.einsum("...i,ij,...j->...", s, self.J, s) / 2
        e = -pair - s @ self.h + self.offset
        return e if self.J.dtype.kind == "f" else np.rint(e).astype(np.int64)

    def is_integral(self) -> bool:
        return all(np.all(np.asarray(a) == np.rint(a)) for a in (self.J, self.h, self.offset))


@dataclasses.dataclass
class Qubo:
    """Upper-triangular Q (diagonal = linear terms) and offset."""

    Q: np.ndarray
    offset: Number = 0
    name: str = "qubo"

    @property
    def n(self) -> int:
        return self.Q.shape[0]

    def energy(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=self.Q.dtype)
        return np.einsum("...i,ij,...j->...", x, self.Q, x) + self.offset


def qubo_to_ising(q: Qubo) -> Ising:
    """Ising with E_ising(s) = 4 * E_qubo((1 + s) / 2) exactly, so integer Q gives integer J, h."""
    Q = np.triu(q.Q) + np.tril(q.Q, -1).T  # fold to upper triangle
    d = np.diag(Q).copy()
    U = np.triu(Q, 1)
    P = U + U.T  # q_ij on both sides
    J = -P
    h = -(2 * d + P.sum(axis=1))
    offset = 4 * q.offset + 2 * d.sum() + U.sum()
    return Ising(J, h, offset.item() if hasattr(offset, "item") else offset, q.name)


def ising_to_qubo(m: Ising) -> Qubo:
    """QUBO with E_qubo(x) = E_ising(2x - 1) exactly."""
    U = np.triu(m.J, 1)
    Q = -4 * U
    lin = -2 * m.h + 2 * m.J.sum(axis=1)
    Q = Q + np.diag(lin)
    offset = m.offset - U.sum() + m.h.sum()
    return Qubo(Q, offset.item() if hasattr(offset, "item") else offset, m.name)


# ---------------------------------------------------------------- reading


def _text_lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) for each line; refuses encodings we do not understand."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise VhlsError(f"cannot read: {e.strerror}", str(path)) from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = raw.decode("utf-16")  # the BOM tells the byte order
    else:
        if b"\x00" in raw:
            raise VhlsError("NUL bytes in text (UTF-16 without a BOM?): save the file as UTF-8", f"{path}:1")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            line = raw[: e.start].count(b"\n") + 1
            raise VhlsError(f"not UTF-8 text (byte 0x{raw[e.start]:02x})", f"{path}:{line}") from None
    for no, line in enumerate(text.split("\n"), 1):
        line = line.removesuffix("\r")  # CRLF files are fine
        if "\r" in line:
            raise VhlsError("stray carriage return (old Mac line endings?)", f"{path}:{no}")
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            yield no, stripped


def _int(tok: str, what: str, where: str) -> int:
    try:
        return int(tok)
    except ValueError:
        raise VhlsError(f"{what} {tok!r} is not an integer", where) from None


def _num(tok: str, where: str) -> Number:
    try:
        return int(tok)
    except ValueError:
        pass
    try:
        v = float(tok)
    except ValueError:
        raise VhlsError(f"weight {tok!r} is not a number", where) from None
    if not np.isfinite(v):
        raise VhlsError(f"weight {tok!r} is not finite", where)
    return v


def _node(tok: str, n: int, where: str) -> int:
    v = _int(tok, "node id", where)
    if not 1 <= v <= n:
        raise VhlsError(f"node id {v} out of range 1..{n}", where)
    return v - 1


def _array(vals: list[Number]) -> np.ndarray:
    if all(isinstance(v, int) for v in vals):
        return np.array(vals, dtype=np.int64)
    return np.array(vals, dtype=np.float64)


def read_gset(path: str | Path) -> Graph:
    """Read a G-set graph file; every problem raises VhlsError naming file:line."""
    path = Path(path)
    lines = _text_lines(path)
    first = next(lines, None)
    if first is None:
        raise VhlsError("empty file: expected header `n m`", f"{path}:1")
    no, text = first
    toks = text.split()
    if len(toks) != 2:
        raise VhlsError(f"bad header {text!r}: expected `n m`", f"{path}:{no}")
    n = _int(toks[0], "node count", f"{path}:{no}")
    m = _int(toks[1], "edge count", f"{path}:{no}")
    if n < 1 or m < 0:
        raise VhlsError(f"bad header {text!r}: need n >= 1 and m >= 0", f"{path}:{no}")
    if n > MAX_DENSE:
        raise VhlsError(f"{n} nodes: more than the {MAX_DENSE} spins a dense J allows", f"{path}:{no}")
    edges: list[tuple[int, int]] = []
    weights: list[Number] = []
    seen: dict[tuple[int, int], int] = {}
    last = no
    for no, text in lines:
        where = f"{path}:{no}"
        if len(edges) == m:
            raise VhlsError(f"more edges than the {m} the header declares", where)
        toks = text.split()
        if len(toks) != 3:
            raise VhlsError(f"expected `i j w`, got {text!r}", where)
        i, j = _node(toks[0], n, where), _node(toks[1], n, where)
        if i == j:
            raise VhlsError(f"self-loop on node {i + 1}", where)
        key = (min(i, j), max(i, j))
        if key in seen:
            raise VhlsError(f"duplicate edge {key[0] + 1}-{key[1] + 1} (first on line {seen[key]})", where)
        seen[key] = no
        edges.append(key)
        weights.append(_num(toks[2], where))
        last = no
    if len(edges) != m:
        raise VhlsError(f"header declares {m} edges but the file has {len(edges)}", f"{path}:{last}")
    e = np.array(edges, dtype=np.int64).reshape(-1, 2)
    return Graph(n, e, _array(weights), path.stem)


def _read_sparse(path: Path, kind: str) -> tuple[int, dict[tuple[int, int], Number], Number]:
    lines = _text_lines(path)
    first = next(lines, None)
    if first is None:
        raise VhlsError(f"empty file: expected header `p {kind} N`", f"{path}:1")
    no, text = first
    toks = text.split()
    if len(toks) != 3 or toks[0] != "p" or toks[1] != kind:
        raise VhlsError(f"bad header {text!r}: expected `p {kind} N`", f"{path}:{no}")
    n = _int(toks[2], "size", f"{path}:{no}")
    if not 1 <= n <= MAX_DENSE:
        raise VhlsError(f"size must be 1..{MAX_DENSE}", f"{path}:{no}")
    terms: dict[tuple[int, int], Number] = {}
    lineof: dict[tuple[int, int], int] = {}
    offset: Number = 0
    for no, text in lines:
        where = f"{path}:{no}"
        toks = text.split()
        tag = toks[0]
        if tag == "c" and len(toks) == 2:
            offset += _num(toks[1], where)
            continue
        if kind == "ising" and tag == "h" and len(toks) == 3:
            key = (_node(toks[1], n, where),) * 2
        elif ((kind == "ising" and tag == "j") or (kind == "qubo" and tag == "q")) and len(toks) == 4:
            i, j = _node(toks[1], n, where), _node(toks[2], n, where)
            if kind == "ising" and i == j:
                raise VhlsError(f"self-coupling j {i + 1} {i + 1}: use an `h` line", where)
            key = (min(i, j), max(i, j))
        else:
            raise VhlsError(f"unexpected line {text!r}", where)
        if key in terms:
            raise VhlsError(f"duplicate term {key[0] + 1} {key[1] + 1} (first on line {lineof[key]})", where)
        terms[key] = _num(toks[-1], where)
        lineof[key] = no
    return n, terms, offset


def read_ising(path: str | Path) -> Ising:
    path = Path(path)
    n, terms, offset = _read_sparse(path, "ising")
    dtype = np.int64 if all(isinstance(v, int) for v in [*terms.values(), offset]) else np.float64
    J = np.zeros((n, n), dtype=dtype)
    h = np.zeros(n, dtype=dtype)
    for (i, j), v in terms.items():
        if i == j:
            h[i] = v
        else:
            J[i, j] = J[j, i] = v
    return Ising(J, h, offset, path.stem)


def read_qubo(path: str | Path) -> Qubo:
    path = Path(path)
    n, terms, offset = _read_sparse(path, "qubo")
    dtype = np.int64 if all(isinstance(v, int) for v in [*terms.values(), offset]) else np.float64
    Q = np.zeros((n, n), dtype=dtype)
    for (i, j), v in terms.items():
        Q[i, j] = v
    return Qubo(Q, offset, path.stem)


def read_problem(path: str | Path) -> Graph | Ising:
    """G-set graph or Ising/QUBO file, told apart by the header (QUBO is returned as Ising)."""
    path = Path(path)
    first = next(_text_lines(path), None)
    if first is not None and first[1].split()[:2] == ["p", "ising"]:
        return read_ising(path)
    if first is not None and first[1].split()[:2] == ["p", "qubo"]:
        return qubo_to_ising(read_qubo(path))
    return read_gset(path)


# ---------------------------------------------------------------- writing


def _fmt(v: Number) -> str:
    return str(int(v)) if float(v).is_integer() else repr(float(v))


def write_gset(g: Graph, path: str | Path) -> None:
    lines = [f"{g.n} {len(g.edges)}"]
    lines += [f"{i + 1} {j + 1} {_fmt(w)}" for (i, j), w in zip(g.edges.tolist(), g.weights.tolist(), strict=True)]
    Path(path).write_text("\n".join(lines) + "\n")


def write_ising(m: Ising, path: str | Path) -> None:
    lines = [f"p ising {m.n}"]
    if m.offset:
        lines.append(f"c {_fmt(m.offset)}")
    lines += [f"h {i + 1} {_fmt(v)}" for i, v in enumerate(m.h.tolist()) if v]
    iu, ju = np.nonzero(np.triu(m.J, 1))
    lines += [f"j {i + 1} {j + 1} {_fmt(m.J[i, j])}" for i, j in zip(iu.tolist(), ju.tolist(), strict=True)]
    Path(path).write_text("\n".join(lines) + "\n")


def write_qubo(q: Qubo, path: str | Path) -> None:
    Q = np.triu(q.Q) + np.tril(q.Q, -1).T
    lines = [f"p qubo {q.n}"]
    if q.offset:
        lines.append(f"c {_fmt(q.offset)}")
    iu, ju = np.nonzero(Q)
    lines += [f"q {i + 1} {j + 1} {_fmt(Q[i, j])}" for i, j in zip(iu.tolist(), ju.tolist(), strict=True)]
    Path(path).write_text("\n".join(lines) + "\n")


def best_known(name: str, csv_path: str | Path) -> int | None:
    """Best-known cut for a G-set instance name from best_known.csv, or None."""
    p = Path(csv_path)
    if not p.is_file():
        return None
    for line in p.read_text().splitlines()[1:]:
        cols = line.split(",")
        if cols and cols[0] == name:
            return int(cols[-1])
    return None


def brute_force_ground(m: Ising) -> tuple[Number, np.ndarray]:
    """Minimum energy and all minimising spin vectors (n <= 22)."""
    if m.n > 22:
        raise VhlsError(f"brute force needs n <= 22, got {m.n}")
    idx = np.arange(1 << m.n, dtype=np.int64)
    s = np.where((idx[:, None] >> np.arange(m.n)) & 1, 1, -1).astype(np.int64)
    e = m.energy(s)
    best = e.min()
    return best.item(), s[e == best]
