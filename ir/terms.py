"""IR terms: a small lambda calculus whose only built-in operations are the registered primitives.

Terms are frozen dataclasses with structural equality; source positions ride along but never take part in
equality, so `parse(print(p)) == p` compares meaning, not layout.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from vhls.ir import numerics as fx
from vhls.ir.errors import IRError, Pos
from vhls.ir.types import F32, Array, Bool, Fixed, Type, scalar_of, shape_of

Static = int | str | Type  # static parameters of a primitive: sizes, modes, types


@dataclass(frozen=True)
class Term:
    pos: Pos | None = field(default=None, compare=False, repr=False, kw_only=True)


@dataclass(frozen=True)
class Var(Term):
    name: str


@dataclass(frozen=True)
class Param:
    name: str
    type: Type | None = None


@dataclass(frozen=True)
class Lam(Term):
    params: tuple[Param, ...]
    body: Term


@dataclass(frozen=True)
class Let(Term):
    name: str
    value: Term
    body: Term


@dataclass(frozen=True)
class Const(Term):
    """A literal scalar or array. `values` is flat, row-major: raw integers for fixed, floats for f32."""

    type: Type
    values: tuple[int | float | bool, ...]

    def __post_init__(self) -> None:
        n = int(np.prod(shape_of(self.type), dtype=np.int64))
        if len(self.values) != n:
            raise IRError(f"constant of type {self.type} needs {n} values, got {len(self.values)}", self.pos)
        s = scalar_of(self.type)
        if isinstance(s, Fixed):
            bad = [v for v in self.values if not s.min_raw <= v <= s.max_raw]
            if bad:
                raise IRError(f"constant raw value {bad[0]} is out of range of {s}", self.pos)
        elif isinstance(s, F32):
            if not all(np.isfinite(self.values)):
                raise IRError("f32 constants must be finite (NaN or infinity found)", self.pos)
        elif not isinstance(s, Bool):
            raise IRError(f"constants must have scalar or array-of-scalar type, not {self.type}", self.pos)

    def array(self) -> np.ndarray:
        """The literal as a numpy array in interpreter representation (raw ints for fixed)."""
        shape, s = shape_of(self.type), scalar_of(self.type)
        if isinstance(s, Fixed):
            return fx.as_raw(np.array(self.values, dtype=object), s).reshape(shape)
        dtype = np.float32 if isinstance(s, F32) else np.bool_
        return np.array(self.values, dtype=dtype).reshape(shape)


@dataclass(frozen=True)
class Prim(Term):
    """Application of a registered primitive: `op<static...>(args...)`."""

    op: str
    static: tuple[Static, ...]
    args: tuple[Term, ...]


@dataclass(frozen=True)
class Program:
    """A named top-level function with typed parameters: `def name(x: T, ...) = body`."""

    name: str
    params: tuple[Param, ...]
    body: Term
    pos: Pos | None = field(default=None, compare=False, repr=False, kw_only=True)


# ---------------------------------------------------------------------------------------------- helpers
def const(values: np.ndarray | float | int, t: Type) -> Const:
    """A constant from raw integers (fixed), floats (f32) or bools, shaped like `t`."""
    a = np.asarray(values)
    if a.shape != shape_of(t):
        raise IRError(f"constant data of shape {a.shape} does not match type {t}")
    s = scalar_of(t)
    flat = a.reshape(-1).tolist()
    if isinstance(s, Fixed):
        return Const(t, tuple(int(v) for v in flat))
    if isinstance(s, F32):
        return Const(t, tuple(float(np.float32(v)) for v in flat))
    return Const(t, tuple(bool(v) for v in flat))


def quantised_const(values: np.ndarray | float, elem: Fixed, q: str = "RND", o: str = "SAT",
                    what: str = "constant") -> Const:
    """A fixed-point constant from real values, quantised with the given modes."""
    a = np.asarray(values, dtype=np.float64)
    t: Type = elem
    for n in reversed(a.shape):
        t = Array(n, t)
    return const(fx.from_float(a, elem, q, o, what), t)


def children(t: Term) -> Iterator[Term]:
    if isinstance(t, Lam):
        yield t.body
    elif isinstance(t, Let):
        yield t.value
        yield t.body
    elif isinstance(t, Prim):
        yield from t.args


def walk(t: Term) -> Iterator[Term]:
    """All subterms, pre-order."""
    yield t
    for c in children(t):
        yield from walk(c)


def free_vars(t: Term) -> frozenset[str]:
    if isinstance(t, Var):
        return frozenset({t.name})
    if isinstance(t, Lam):
        return free_vars(t.body) - {p.name for p in t.params}
    if isinstance(t, Let):
        return free_vars(t.value) | (free_vars(t.body) - {t.name})
    if isinstance(t, Prim):
        return frozenset().union(*(free_vars(a) for a in t.args)) if t.args else frozenset()
    return frozenset()


def bound_names(t: Term) -> set[str]:
    names: set[str] = set()
    for s in walk(t):
        if isinstance(s, Lam):
            names.update(p.name for p in s.params)
        elif isinstance(s, Let):
            names.add(s.name)
    return names


def fresh(base: str, taken: set[str] | frozenset[str]) -> str:
    """A name starting with `base` not in `taken` (deterministic)."""
    if base not in taken:
        return base
    i = 1
    while f"{base}{i}" in taken:
        i += 1
    return f"{base}{i}"


def substitute(t: Term, name: str, value: Term) -> Term:
    """Capture-avoiding substitution t[name := value]."""
    if isinstance(t, Var):
        return value if t.name == name else t
    if isinstance(t, Const):
        return t
    if isinstance(t, Prim):
        return Prim(t.op, t.static, tuple(substitute(a, name, value) for a in t.args), pos=t.pos)
    fv = free_vars(value)
    if isinstance(t, Let):
        new_value = substitute(t.value, name, value)
        if t.name == name:
            return Let(t.name, new_value, t.body, pos=t.pos)
        if t.name in fv:
            new = fresh(t.name, fv | free_vars(t.body) | {name})
            return Let(new, new_value, substitute(substitute(t.body, t.name, Var(new)), name, value), pos=t.pos)
        return Let(t.name, new_value, substitute(t.body, name, value), pos=t.pos)
    if isinstance(t, Lam):
        names = [p.name for p in t.params]
        if name in names:
            return t
        body, params = t.body, list(t.params)
        for i, p in enumerate(params):
            if p.name in fv:
                new = fresh(p.name, fv | free_vars(body) | set(names) | {name})
                body = substitute(body, p.name, Var(new))
                params[i] = Param(new, p.type)
                names[i] = new
        return Lam(tuple(params), substitute(body, name, value), pos=t.pos)
    raise TypeError(f"not a term: {t!r}")
