"""The rewriting context: what a rule may know about the place it is applied at.

A rule (and a strategy) is a function `(term, ctx) -> term | None`. `ctx` describes the scope of `term`: every
variable in scope with its type and how it was bound (a `let` with its value, a lambda parameter that ranges over
the elements of a known array, or an opaque parameter). Types of any term in scope come from the checker itself
(`ctx.type_of`), so side conditions never disagree with the type rules.
"""

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

import numpy as np

from vhls.ir.check import Checker, unshare
from vhls.ir.errors import VhlsError
from vhls.ir.prims import PRIMITIVES
from vhls.ir.terms import Const, Lam, Let, Param, Prim, Program, Term, Var
from vhls.ir.types import Array, Fixed, Type

# Lambda-taking primitives whose parameter ranges over the elements of an array argument: {op: (lam_param, arg)}.
MAPS = frozenset({"map", "mapSeq", "mapPar"})
REDUCES = frozenset({"reduce", "reduceSeq"})


class RewriteError(VhlsError):
    """A rule broke its contract (changed a type), or a strategy was misused."""


@dataclass(frozen=True)
class Binding:
    """How a name in scope was bound. kind: "let" (value = the bound term), "elem" (a lambda parameter ranging
    over the elements of the array `value`), "param" (opaque: program parameter, accumulator, ...)."""

    kind: str
    type: Type
    value: Term | None = None
    scope: "Ctx | None" = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Ctx:
    env: Mapping[str, Binding] = field(default_factory=dict)

    @staticmethod
    def of_program(p: Program) -> "Ctx":
        return Ctx({q.name: Binding("param", q.type) for q in p.params if q.type is not None})

    def types(self) -> dict[str, Type]:
        return {k: b.type for k, b in self.env.items()}

    def type_of(self, t: Term, extra: Mapping[str, Type] | None = None) -> Type:
        """The type of `t` in this scope (plus `extra` names), by the checker."""
        env = self.types()
        if extra:
            env.update(extra)
        return Checker().infer(unshare(t), env)

    def bind(self, name: str, b: Binding) -> "Ctx":
        return Ctx({**self.env, name: b})

    def lookup(self, name: str) -> Binding | None:
        return self.env.get(name)

    # ------------------------------------------------------------------ descending into a primitive
    def lambda_params(self, p: Prim) -> dict[int, tuple[Type, ...]]:
        """Parameter types of every lambda argument of `p`, asked from the primitive's own type rule."""
        prim = PRIMITIVES[p.op]
        env = self.types()
        got: dict[int, tuple[Type, ...]] = {}

        class Probe:
            def __init__(self, i: int, lam: Lam) -> None:
                self.i, self.lam = i, lam

            def __call__(self, *ts: Type) -> Type:
                got[self.i] = ts
                scope = dict(env)
                scope.update({q.name: ty for q, ty in zip(self.lam.params, ts, strict=True)})
                return Checker().infer(unshare(self.lam.body), scope)

        args: list[object] = []
        for i, a in enumerate(p.args):
            if i in prim.fn_args:
                assert isinstance(a, Lam)
                args.append(Probe(i, a))
            else:
                args.append(Checker().infer(unshare(a), env))
        prim.type_rule(p.static, args)
        return got

    def enter(self, p: Prim) -> list["Ctx"]:
        """The scope of every argument of `p` (for a lambda argument: the scope of its body)."""
        prim = PRIMITIVES[p.op]
        if not prim.fn_args:
            return [self] * len(p.args)
        params = self.lambda_params(p)
        out: list[Ctx] = []
        for i, a in enumerate(p.args):
            if i not in params:
                out.append(self)
                continue
            assert isinstance(a, Lam)
            inner = dict(self.env)
            for j, (q, ty) in enumerate(zip(a.params, params[i], strict=True)):
                if p.op in MAPS and j == 0:
                    inner[q.name] = Binding("elem", ty, p.args[1], self)
                elif p.op in REDUCES and j == 1:
                    inner[q.name] = Binding("elem", ty, p.args[2], self)
                else:
                    inner[q.name] = Binding("param", ty)
            out.append(Ctx(inner))
        return out

    def body_ctx(self, p: Prim, i: int) -> "Ctx":
        return self.enter(p)[i]


# ---------------------------------------------------------------------------------------------- term structure
def children(t: Term, ctx: Ctx) -> list[tuple[Term, Ctx]]:
    """Immediate subterms with their scopes. A lambda argument is transparent: its body is the child."""
    if isinstance(t, Let):
        ty = ctx.type_of(t.value)
        return [(t.value, ctx), (t.body, ctx.bind(t.name, Binding("let", ty, t.value, ctx)))]
    if isinstance(t, Prim) and t.args:
        ctxs = ctx.enter(t)
        return [(a.body if isinstance(a, Lam) else a, c) for a, c in zip(t.args, ctxs, strict=True)]
    if isinstance(t, Lam):
        raise RewriteError("internal: a lambda is only reached through its primitive")
    return []


def with_children(t: Term, new: list[Term]) -> Term:
    """Rebuild `t` with new immediate subterms (same order as `children`)."""
    if isinstance(t, Let):
        return Let(t.name, new[0], new[1], pos=t.pos)
    if isinstance(t, Prim):
        args = tuple(Lam(a.params, n, pos=a.pos) if isinstance(a, Lam) else n
                     for a, n in zip(t.args, new, strict=True))
        return Prim(t.op, t.static, args, pos=t.pos)
    assert not new
    return t


def positions(t: Term, ctx: Ctx, path: tuple[int, ...] = ()) -> Iterator[tuple[tuple[int, ...], Term, Ctx]]:
    """Every subterm with its path (child indices) and scope, pre-order."""
    yield path, t, ctx
    for i, (c, cc) in enumerate(children(t, ctx)):
        yield from positions(c, cc, (*path, i))


# ---------------------------------------------------------------------------------------------- helpers for rules
def prim(op: str, *args: Term, static: tuple = ()) -> Prim:
    return Prim(op, tuple(static), tuple(args))


def lam(names: str | tuple[str, ...], body: Term, types: tuple[Type | None, ...] | None = None) -> Lam:
    names = (names,) if isinstance(names, str) else names
    types = types or (None,) * len(names)
    return Lam(tuple(Param(n, ty) for n, ty in zip(names, types, strict=True)), body)


def is_prim(t: Term, op: str | frozenset[str] | tuple[str, ...], nargs: int | None = None) -> bool:
    ops = (op,) if isinstance(op, str) else op
    return isinstance(t, Prim) and t.op in ops and (nargs is None or len(t.args) == nargs)


def occurrences(t: Term, name: str) -> int:
    """Free occurrences of `name` in `t`."""
    if isinstance(t, Var):
        return int(t.name == name)
    if isinstance(t, Lam):
        return 0 if any(p.name == name for p in t.params) else occurrences(t.body, name)
    if isinstance(t, Let):
        return occurrences(t.value, name) + (0 if t.name == name else occurrences(t.body, name))
    if isinstance(t, Prim):
        return sum(occurrences(a, name) for a in t.args)
    return 0


def const_value(t: Term, ctx: Ctx) -> Const | None:
    """The literal `t` denotes: a Const, or a variable let-bound (through variables) to one."""
    while isinstance(t, Var):
        b = ctx.lookup(t.name)
        if b is None or b.kind != "let" or b.value is None or b.scope is None:
            return None
        t, ctx = b.value, b.scope
    return t if isinstance(t, Const) else None


def const_rows(t: Term, ctx: Ctx) -> list[np.ndarray] | None:
    """Every value the array term `t` can take, when that set is known from literals: a literal gives one value;
    a lambda parameter ranging over a literal `[m]A` (or over component k of `zip` of literals, via `get<k>`) gives
    m values. Values are raw integer arrays; None when unknown."""
    c = const_value(t, ctx)
    if c is not None:
        return [c.array()]
    k: int | None = None
    if is_prim(t, "get", 1) and isinstance(t.args[0], Var):
        k, t = t.static[0], t.args[0]
    if not isinstance(t, Var):
        return None
    b = ctx.lookup(t.name)
    if b is None or b.kind != "elem" or b.value is None or b.scope is None:
        return None
    src, sctx = b.value, b.scope
    if k is not None:
        if not is_prim(src, "zip") or k >= len(src.args):
            return None
        src = src.args[k]
    elif is_prim(src, "zip"):
        return None
    whole = const_value(src, sctx)
    if whole is None:
        return None
    a = whole.array()
    return [a[i] for i in range(a.shape[0])]


def paired_rows(a: Term, b: Term, ctx: Ctx) -> list[tuple[np.ndarray, np.ndarray]] | None:
    """Values of the pair (a, b) when both are literal-determined by the same zip parameter (so row i of one goes
    with row i of the other), or when either is a plain literal (paired with every value of the other)."""
    ra, rb = const_rows(a, ctx), const_rows(b, ctx)
    if ra is None or rb is None:
        return None
    if len(ra) == len(rb) and _same_source(a, b):
        return list(zip(ra, rb, strict=True))
    if len(ra) == 1:
        return [(ra[0], r) for r in rb]
    if len(rb) == 1:
        return [(r, rb[0]) for r in ra]
    return None


def _same_source(a: Term, b: Term) -> bool:
    va = a.args[0] if is_prim(a, "get", 1) else a
    vb = b.args[0] if is_prim(b, "get", 1) else b
    return isinstance(va, Var) and va == vb


def fixed_range(t: Fixed) -> tuple[int, int]:
    return t.min_raw, t.max_raw


def fits(lo: int, hi: int, t: Fixed) -> bool:
    return t.min_raw <= lo and hi <= t.max_raw


def array_size(t: Type) -> int | None:
    return t.size if isinstance(t, Array) else None
