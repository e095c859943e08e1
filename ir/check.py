"""The type checker: infers every size and precision, and reports the term, its position and the disagreeing types.

Lambdas appear only as function arguments of primitives (map, reduce, ...), so each lambda is checked exactly once
with known parameter types and every term occurrence has exactly one type. `check` records them in a `Typing`
(keyed by node identity) that the interpreter and backends reuse.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from vhls.ir import numerics as fx
from vhls.ir.errors import IRError
from vhls.ir.prims import KEYWORDS, PRIMITIVES, TypeMismatch
from vhls.ir.printer import short
from vhls.ir.terms import Const, Lam, Let, Param, Prim, Program, Term, Var
from vhls.ir.types import F32, Type, scalar_of

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
F32_MAX = float(np.finfo(np.float32).max)


@dataclass
class Typing:
    """Types of every term node of one (unshared) program."""

    types: dict[int, Type] = field(default_factory=dict)
    _keep: list[Term] = field(default_factory=list, repr=False)  # keeps ids stable

    def __getitem__(self, t: Term) -> Type:
        return self.types[id(t)]

    def record(self, t: Term, ty: Type) -> Type:
        old = self.types.get(id(t))
        if old is not None and old != ty:
            raise IRError(f"internal: term {short(t)} typed twice ({old} and {ty}); unshare the program first")
        self.types[id(t)] = ty
        self._keep.append(t)
        return ty


def _where(t: Term) -> str | None:
    return str(t.pos) if t.pos else None


def _fail(t: Term, what: str) -> IRError:
    return IRError(f"in `{short(t)}`: {what}", _where(t))


def _name_problem(name: str, prims: bool = True) -> str | None:
    """Why `name` cannot name a variable (the text form must be able to spell it), or None."""
    if not isinstance(name, str) or not _IDENT.match(name):
        return f"`{name}` is not a name (letters, digits and _, not starting with a digit)"
    if name in KEYWORDS or (prims and name in PRIMITIVES):
        return f"`{name}` is reserved and cannot name a variable"
    return None


def _check_name(name: str, t: Term) -> None:
    problem = _name_problem(name)
    if problem:
        raise _fail(t, problem)


def _check_static(p: str, kind: str, s: object, t: Term) -> None:
    ok = {
        "int": isinstance(s, int) and not isinstance(s, bool) and s >= 0,
        "type": isinstance(s, Type),
        "qmode": s in fx.Q_MODES,
        "omode": s in fx.O_MODES,
    }[kind]
    if not ok:
        wanted = {"int": "a non-negative integer", "type": "a type", "qmode": "|".join(fx.Q_MODES),
                  "omode": "|".join(fx.O_MODES)}[kind]
        raise _fail(t, f"{p}: static parameter {s} should be {wanted}")


class Checker:
    def __init__(self) -> None:
        self.typing = Typing()

    def infer(self, t: Term, env: Mapping[str, Type]) -> Type:
        return self.typing.record(t, self._infer(t, env))

    def _infer(self, t: Term, env: Mapping[str, Type]) -> Type:
        if isinstance(t, Var):
            if t.name not in env:
                raise _fail(t, f"unknown variable `{t.name}`")
            return env[t.name]
        if isinstance(t, Const):
            if isinstance(scalar_of(t.type), F32) and not all(abs(v) <= F32_MAX for v in t.values):
                raise _fail(t, f"f32 constant out of range (largest f32 is {F32_MAX:.8g})")
            return t.type
        if isinstance(t, Let):
            _check_name(t.name, t)
            if isinstance(t.value, Lam):
                raise _fail(t, "a let cannot bind a function; write the lambda where it is used")
            value = self.infer(t.value, env)
            return self.infer(t.body, {**env, t.name: value})
        if isinstance(t, Lam):
            raise _fail(t, "a lambda can only be the function argument of a primitive such as map or reduce")
        if isinstance(t, Prim):
            return self._prim(t, env)
        raise IRError(f"not a term: {t!r}")

    def _lambda(self, lam: Lam, params: tuple[Type, ...], env: Mapping[str, Type], owner: Prim) -> Type:
        if len(lam.params) != len(params):
            raise _fail(lam, f"{owner.op} passes {len(params)} argument(s) but the lambda takes {len(lam.params)}")
        scope = dict(env)
        for p, ty in zip(lam.params, params, strict=True):
            _check_name(p.name, lam)
            if p.type is not None and p.type != ty:
                raise _fail(lam, f"parameter `{p.name}` is annotated {p.type} but receives {ty}")
            scope[p.name] = ty
        self.typing.record(lam, params[0])  # a lambda's own entry is unused; record for completeness
        return self.infer(lam.body, scope)

    def _prim(self, t: Prim, env: Mapping[str, Type]) -> Type:
        prim = PRIMITIVES.get(t.op)
        if prim is None:
            raise _fail(t, f"unknown primitive `{t.op}`")
        lo = prim.min_statics if prim.min_statics is not None else len(prim.statics)
        if not lo <= len(t.static) <= len(prim.statics):
            want = str(len(prim.statics)) if lo == len(prim.statics) else f"{lo} to {len(prim.statics)}"
            raise _fail(t, f"{t.op} takes {want} static parameter(s), got {len(t.static)}")
        for kind, s in zip(prim.statics, t.static, strict=False):
            _check_static(t.op, kind, s, t)
        if prim.arity is None and len(t.args) < 2:
            raise _fail(t, f"{t.op} takes two or more arguments, got {len(t.args)}")
        if prim.arity is not None and len(t.args) != prim.arity:
            raise _fail(t, f"{t.op} takes {prim.arity} argument(s), got {len(t.args)}")
        args: list[object] = []
        for i, a in enumerate(t.args):
            if i in prim.fn_args:
                if not isinstance(a, Lam):
                    raise _fail(a, f"argument {i + 1} of {t.op} must be a lambda (fun x => ...)")
                args.append(_FnArg(self, a, env, t))
            else:
                if isinstance(a, Lam):
                    raise _fail(a, f"argument {i + 1} of {t.op} cannot be a lambda")
                args.append(self.infer(a, env))
        try:
            return prim.type_rule(t.static, args)
        except TypeMismatch as e:
            if e.where is not None:  # an error already located inside a lambda body
                raise
            raise _fail(t, e.what) from None


class _FnArg:
    """A lambda argument given to a type rule: calling it checks the body with those parameter types."""

    def __init__(self, checker: Checker, lam: Lam, env: Mapping[str, Type], owner: Prim) -> None:
        self.checker, self.lam, self.env, self.owner = checker, lam, env, owner

    def __call__(self, *param_types: Type) -> Type:
        try:
            return self.checker._lambda(self.lam, param_types, self.env, self.owner)
        except TypeMismatch as e:
            raise IRError(e.what, e.where) from None


def unshare(t: Term) -> Term:
    """A copy in which no node object occurs twice (constants stay shared: their type is intrinsic)."""
    if isinstance(t, Var):
        return Var(t.name, pos=t.pos)
    if isinstance(t, Lam):
        return Lam(t.params, unshare(t.body), pos=t.pos)
    if isinstance(t, Let):
        return Let(t.name, unshare(t.value), unshare(t.body), pos=t.pos)
    if isinstance(t, Prim):
        return Prim(t.op, t.static, tuple(unshare(a) for a in t.args), pos=t.pos)
    return t


def check_term(t: Term, env: Mapping[str, Type] | None = None) -> tuple[Term, Typing]:
    """Type a term in an environment; returns the unshared term whose nodes the typing describes."""
    t = unshare(t)
    c = Checker()
    c.infer(t, dict(env or {}))
    return t, c.typing


def check(p: Program) -> tuple[Program, Typing]:
    """Type a program; returns an unshared copy and its typing. Raises IRError naming term, position and types."""
    where = str(p.pos) if p.pos else None
    problem = _name_problem(p.name, prims=False)
    if problem:
        raise IRError(problem.replace("a variable", "a program"), where)
    env: dict[str, Type] = {}
    for q in p.params:
        problem = _name_problem(q.name)
        if problem:
            raise IRError(f"parameter of `{p.name}`: {problem}", where)
        if q.type is None:
            raise IRError(f"parameter `{q.name}` of `{p.name}` needs a type", str(p.pos) if p.pos else None)
        if q.name in env:
            raise IRError(f"parameter `{q.name}` of `{p.name}` is declared twice", str(p.pos) if p.pos else None)
        env[q.name] = q.type
    body, typing = check_term(p.body, env)
    return Program(p.name, p.params, body, pos=p.pos), typing


def type_of_program(p: Program) -> Type:
    q, typing = check(p)
    return typing[q.body]


__all__ = ["Param", "Typing", "check", "check_term", "type_of_program", "unshare"]
