"""Kernel-level DSL: Python combinators mirroring the IR, for custom kernels (matmul, 1-D convolution, ...).

    from vhls.kernel import kernel, vmap, dot, transpose, const, fixed, array

    W = const(weights, fixed(8, 3))                       # a [k][n] constant
    model = kernel(lambda x: vmap(lambda row: vmap(lambda col: dot(row, col, fixed(24, 10)).cast(fixed(16, 6)),
                                                   transpose(W)), x),
                   x=array(fixed(8, 3), 4, 8), name="matmul")

Python lambdas become IR lambdas whose parameters keep the Python names (made unique), so the printed IR reads
like the source. Literals need a type: write `const(0.5, fixed(8, 3))`, never a bare Python number.
"""

import inspect
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from vhls.ir.errors import VhlsError
from vhls.ir.terms import Const, Lam, Let, Param, Prim, Program, Term, Var, quantised_const
from vhls.ir.terms import const as raw_const
from vhls.ir.types import FLOAT, Fixed, Type, array, fixed, ufixed
from vhls.model import Model

__all__ = ["E", "array", "cast", "const", "dot", "fixed", "get", "iota", "join", "kernel", "let", "maximum",
           "minimum", "pad", "reduce", "select", "slide", "split", "transpose", "tuple_", "ufixed", "unzip",
           "vmap", "vzip"]


class _Names:
    """Deterministic fresh names for one kernel build (reset by `kernel`)."""

    taken: ClassVar[set[str]] = set()

    @classmethod
    def fresh(cls, base: str) -> str:
        name, i = base, 1
        while name in cls.taken:
            i += 1
            name = f"{base}{i}"
        cls.taken.add(name)
        return name


class E:
    """An IR expression under construction; arithmetic operators build exact IR arithmetic."""

    __array_priority__ = 1000  # keep numpy from broadcasting over an E

    def __init__(self, term: Term) -> None:
        self.term = term

    def _other(self, o: Any) -> Term:
        if isinstance(o, E):
            return o.term
        raise VhlsError(f"cannot combine an IR expression with Python value {o!r}: give it a type, "
                        "e.g. const(0.5, fixed(8, 3))")

    def __add__(self, o: Any) -> "E":
        return E(Prim("add", (), (self.term, self._other(o))))

    def __sub__(self, o: Any) -> "E":
        return E(Prim("sub", (), (self.term, self._other(o))))

    def __mul__(self, o: Any) -> "E":
        return E(Prim("mul", (), (self.term, self._other(o))))

    def __neg__(self) -> "E":
        return E(Prim("neg", (), (self.term,)))

    def __lt__(self, o: Any) -> "E":
        return E(Prim("lt", (), (self.term, self._other(o))))

    def __le__(self, o: Any) -> "E":
        return E(Prim("le", (), (self.term, self._other(o))))

    def __gt__(self, o: Any) -> "E":
        return E(Prim("gt", (), (self.term, self._other(o))))

    def __ge__(self, o: Any) -> "E":
        return E(Prim("ge", (), (self.term, self._other(o))))

    def __getitem__(self, i: int) -> "E":
        return get(self, i)

    def __lshift__(self, k: int) -> "E":
        return E(Prim("shl", (k,), (self.term,)))

    def __rshift__(self, k: int) -> "E":
        return E(Prim("shr", (k,), (self.term,)))

    def cast(self, t: Type, q: str = "TRN", o: str = "WRAP") -> "E":
        return cast(self, t, q, o)

    def __bool__(self) -> bool:
        raise VhlsError("an IR expression has no Python truth value; use select(cond, a, b)")

    def __repr__(self) -> str:
        from vhls.ir.printer import short

        return f"E({short(self.term)})"


def _t(x: Any) -> Term:
    if isinstance(x, E):
        return x.term
    raise VhlsError(f"expected an IR expression, got {type(x).__name__} {x!r}")


def _lam(fn: Callable[..., Any], arity: int, default: tuple[str, ...]) -> Lam:
    try:
        names = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        names = []
    if len(names) != arity:
        names = list(default)
    params = tuple(Param(_Names.fresh(n)) for n in names)
    body = fn(*(E(Var(p.name)) for p in params))
    return Lam(params, _t(body))


# ---------------------------------------------------------------------------------------------- combinators
def vmap(fn: Callable[[E], E], xs: E) -> E:
    """map: apply fn to every element of xs."""
    return E(Prim("map", (), (_lam(fn, 1, ("x",)), _t(xs))))


def reduce(fn: Callable[[E, E], E], init: E, xs: E) -> E:
    """Left fold; fn(acc, x) must return the accumulator's type (cast to it)."""
    return E(Prim("reduce", (), (_lam(fn, 2, ("acc", "x")), _t(init), _t(xs))))


def vzip(*xs: E) -> E:
    return E(Prim("zip", (), tuple(_t(x) for x in xs)))


def unzip(xs: E) -> E:
    return E(Prim("unzip", (), (_t(xs),)))


def tuple_(*xs: E) -> E:
    return E(Prim("tuple", (), tuple(_t(x) for x in xs)))


def get(t: E, i: int) -> E:
    return E(Prim("get", (i,), (_t(t),)))


def split(k: int, xs: E) -> E:
    return E(Prim("split", (k,), (_t(xs),)))


def join(xs: E) -> E:
    return E(Prim("join", (), (_t(xs),)))


def transpose(xs: E) -> E:
    return E(Prim("transpose", (), (_t(xs),)))


def slide(size: int, step: int, xs: E) -> E:
    return E(Prim("slide", (size, step), (_t(xs),)))


def pad(left: int, right: int, xs: E) -> E:
    return E(Prim("pad", (left, right), (_t(xs),)))


def iota(n: int, t: Fixed) -> E:
    return E(Prim("iota", (n, t), ()))


def maximum(a: E, b: E) -> E:
    return E(Prim("max", (), (_t(a), _t(b))))


def minimum(a: E, b: E) -> E:
    return E(Prim("min", (), (_t(a), _t(b))))


def select(c: E, a: E, b: E) -> E:
    return E(Prim("select", (), (_t(c), _t(a), _t(b))))


def cast(x: E, t: Type, q: str = "TRN", o: str = "WRAP") -> E:
    static: tuple = (t,) if t == FLOAT else (t, q, o)
    return E(Prim("cast", static, (_t(x),)))


def let(value: E, body: Callable[[E], E], name: str = "v") -> E:
    """Compute value once and use it in body."""
    n = _Names.fresh(name)
    return E(Let(n, _t(value), _t(body(E(Var(n))))))


def const(values: Any, t: Type, q: str = "RND", o: str = "SAT") -> E:
    """A constant scalar or array of element type t from real values (quantised with q/o for fixed types)."""
    if isinstance(t, Fixed):
        return E(quantised_const(values, t, q, o, what="kernel constant"))
    a = np.asarray(values)
    return E(raw_const(a, array(t, *a.shape)))


def dot(xs: E, ys: E, acc: Fixed) -> E:
    """Exact sum of products, accumulated in `acc` (wraps on overflow: choose acc wide enough)."""
    zero = E(Const(acc, (0,)))
    return reduce(lambda s, p: cast(s + p[0] * p[1], acc), zero, vzip(xs, ys))


def kernel(fn: Callable[..., E], name: str | None = None, **inputs: Type) -> Model:
    """A Model from a Python function over one typed input, e.g. kernel(f, x=array(fixed(8, 3), 16))."""
    if len(inputs) != 1:
        raise VhlsError(f"a kernel takes exactly one typed input, got {len(inputs)}: {', '.join(inputs) or 'none'}")
    (pname, ptype), = inputs.items()
    if not isinstance(ptype, Type):
        raise VhlsError(f"input `{pname}` needs an IR type such as array(fixed(8, 3), 16), got {ptype!r}")
    _Names.taken = {pname}
    body = _t(fn(E(Var(pname))))
    return Model(Program(name or getattr(fn, "__name__", "kernel").replace("<lambda>", "kernel"),
                         (Param(pname, ptype),), body))

