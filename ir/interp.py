"""The golden model: the IR interpreter on numpy, vectorised over a leading batch axis.

`map` does not loop: the mapped axis simply becomes one more batch axis while the body is evaluated, so a whole
layer is a handful of numpy operations. Results are exact (see `fixed.py`); f32 programs compute in float32.
"""

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from vhls.ir import numerics as fx
from vhls.ir.check import Typing, check
from vhls.ir.errors import IRError
from vhls.ir.prims import PRIMITIVES, Value, lmap
from vhls.ir.terms import Const, Lam, Let, Prim, Program, Term, Var
from vhls.ir.types import F32, Array, Bool, Fixed, Tuple, Type


class Context:
    """Evaluation state: batch rank `b`, variables in scope (each with exactly b leading axes)."""

    def __init__(self, typing: Typing, env: Mapping[str, Value], b: int) -> None:
        self.typing, self.env, self.b = typing, dict(env), b

    def type_of(self, t: Term) -> Type:
        return self.typing[t]

    def eval(self, t: Term) -> Value:
        if isinstance(t, Var):
            return self.env[t.name]
        if isinstance(t, Const):
            a = t.array()
            return a.reshape((1,) * self.b + a.shape)
        if isinstance(t, Let):
            inner = Context(self.typing, {**self.env, t.name: self.eval(t.value)}, self.b)
            return inner.eval(t.body)
        if isinstance(t, Prim):
            prim = PRIMITIVES[t.op]
            args = [a if i in prim.fn_args else self.eval(a) for i, a in enumerate(t.args)]
            types = [None if i in prim.fn_args else self.typing[a] for i, a in enumerate(t.args)]
            return prim.evaluate(self, t.static, args, types, self.typing[t])
        raise IRError(f"cannot evaluate {t!r}")

    def call(self, fn: Lam, args: Sequence[Value]) -> Value:
        scope = {**self.env, **{p.name: v for p, v in zip(fn.params, args, strict=True)}}
        return Context(self.typing, scope, self.b).eval(fn.body)

    def call_mapped(self, fn: Lam, args: Sequence[Value], n: int) -> Value:
        """Apply `fn` to every element: axis b of each argument becomes a batch axis of the body."""
        b = self.b
        scope = {k: lmap(lambda a: np.expand_dims(a, b), v) for k, v in self.env.items()}
        scope.update({p.name: v for p, v in zip(fn.params, args, strict=True)})
        out = Context(self.typing, scope, b + 1).eval(fn.body)

        def full(a: np.ndarray) -> np.ndarray:  # a body independent of the element broadcasts over it
            if a.shape[b] == n:
                return a
            shape = list(a.shape)
            shape[b] = n
            return np.broadcast_to(a, shape)

        return lmap(full, out)


# ---------------------------------------------------------------------------------------------- encode/decode
def encode(x: Any, t: Type, q: str = "RND", o: str = "SAT", batch: bool = True) -> Value:
    """Real-valued data (leading batch axis if `batch`) to the interpreter representation of type t."""
    if isinstance(t, Tuple):
        return tuple(encode(c, e, q, o, batch) for c, e in zip(x, t.elems, strict=True))
    lead = 1 if batch else 0
    inner = t
    dims: list[int] = []
    while isinstance(inner, Array):
        dims.append(inner.size)
        inner = inner.elem
    if isinstance(inner, Tuple):
        return tuple(encode(c, _rewrap(e, dims), q, o, batch) for c, e in zip(x, inner.elems, strict=True))
    a = np.asarray(x)
    if tuple(a.shape[lead:]) != tuple(dims):
        want = ("(batch, " if batch else "(") + ", ".join(map(str, dims)) + ")"
        raise IRError(f"input of shape {a.shape} does not match type {t}: expected shape {want}")
    if isinstance(inner, Fixed):
        return fx.from_float(a, inner, q, o, what="input")
    if isinstance(inner, F32):
        return a.astype(np.float32)
    assert isinstance(inner, Bool)
    return a.astype(np.bool_)


def _rewrap(t: Type, dims: list[int]) -> Type:
    for n in reversed(dims):
        t = Array(n, t)
    return t


def decode(v: Value, t: Type) -> Any:
    """Interpreter values to real numbers (float64), keeping the structure of tuples."""
    if isinstance(t, Tuple):
        return tuple(decode(c, e) for c, e in zip(v, t.elems, strict=True))
    inner, dims = t, []
    while isinstance(inner, Array):
        dims.append(inner.size)
        inner = inner.elem
    if isinstance(inner, Tuple):
        return tuple(decode(c, _rewrap(e, dims)) for c, e in zip(v, inner.elems, strict=True))
    if isinstance(inner, Fixed):
        return fx.to_float(v, inner)
    return np.asarray(v, dtype=np.float64) if isinstance(inner, F32) else np.asarray(v)


# ---------------------------------------------------------------------------------------------- entry points
def evaluate(p: Program, *args: Value, typed: tuple[Program, Typing] | None = None) -> Value:
    """Run a program on values in interpreter representation, each with one leading batch axis."""
    q, typing = typed or check(p)
    if len(args) != len(q.params):
        raise IRError(f"`{q.name}` takes {len(q.params)} input(s), got {len(args)}")
    sizes = {np.shape(leaf)[0] for a in args for leaf in _leaves(a)}
    if len(sizes) > 1:
        raise IRError(f"inputs have different batch sizes: {sorted(sizes)}")
    env = {prm.name: a for prm, a in zip(q.params, args, strict=True)}
    out = Context(typing, env, 1).eval(q.body)
    n = sizes.pop() if sizes else 1
    return lmap(lambda a: np.broadcast_to(a, (n, *a.shape[1:])).copy(), out)


def run(p: Program, *xs: Any, q: str = "RND", o: str = "SAT") -> Any:
    """Real-valued inputs (with a leading batch axis) in, real-valued outputs out."""
    typed = check(p)
    prog, typing = typed
    vals = [encode(x, prm.type, q, o) for x, prm in zip(xs, prog.params, strict=True)]  # type: ignore[arg-type]
    return decode(evaluate(p, *vals, typed=typed), typing[prog.body])


def _leaves(v: Value) -> list[np.ndarray]:
    return [leaf for c in v for leaf in _leaves(c)] if isinstance(v, tuple) else [v]
