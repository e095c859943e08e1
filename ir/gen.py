"""Random well-typed IR programs and random inputs for them: hypothesis strategies for property tests.

    @given(programs())                       # random programs: parse/print round trips, checker, interpreter
    @given(st.data())                        # a program and inputs for it:
    def test(data):
        p = data.draw(programs())
        xs = data.draw(inputs(p, batch=4))   # interpreter representation, ready for `evaluate(p, *xs)`

Generation is type-directed: pick a target type, then build a term of exactly that type from the primitives whose
result can have it (operand types are solved backwards from the result type rules of `numerics`), so every
program type-checks without filtering. All core primitives appear: map, reduce, zip, unzip, tuple, get, split,
join, transpose, slide, pad, iota, add, sub, mul, max, min, neg, shl, shr, the comparisons, select and cast (every
TRN/RND, WRAP/SAT), plus let, lambdas (some with annotated parameters), shadowing, and fixed/f32/bool constants.
Arrays have up to three dimensions and a few dozen elements; fixed-point types have 1..32 bits with integer bits
from negative to beyond the width (intermediate results of exact arithmetic may be wider).

f32 subterms carry a bound `2**b` on their magnitude (sums halve their operands' bounds, products split them,
reductions divide by the element count), so float arithmetic never overflows: no inf or NaN ever reaches a cast to
fixed point, and every generated program evaluates without error on `inputs`.

The same generator runs from a seed without hypothesis (`random_program`), e.g. for fuzzing or benchmarks.
"""

import functools
import math
import random
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from vhls.ir import numerics as fx
from vhls.ir.errors import IRError
from vhls.ir.prims import PRIMITIVES
from vhls.ir.terms import Const, Lam, Let, Param, Prim, Program, Term, Var
from vhls.ir.types import BOOL, F32, FLOAT, Array, Bool, Fixed, Tuple, Type, scalar_of, shape_of

F32_INPUT_LOG2 = 4  # f32 inputs lie in [-16, 16]
F32_RESULT_LOG2 = 100  # bound on every f32 value a program computes (f32 overflows past 2**128)
MAX_ELEMS = 48  # scalars in one drawn value type
MAX_SIZE = 6  # largest drawn array dimension
MAX_WIDTH = 32  # widest drawn fixed-point type
COMPARISONS = ("lt", "le", "gt", "ge", "eq", "ne")

Env = dict[str, tuple[Type, int]]  # variable -> (type, log2 bound of its f32 leaves)


class _Choices(Protocol):
    def integer(self, lo: int, hi: int) -> int: ...


if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy


def _st() -> Any:
    """hypothesis.strategies, imported on first use: hypothesis is a test dependency, and `random_program` and
    `random_inputs` work without it."""
    from hypothesis import strategies

    return strategies


@functools.cache
def _integers(lo: int, hi: int) -> "SearchStrategy[int]":
    return _st().integers(lo, hi)


class _Draw:
    """Choices from hypothesis (shrinks towards `lo`, i.e. the first option)."""

    def __init__(self, draw: Callable) -> None:
        self.draw = draw

    def integer(self, lo: int, hi: int) -> int:
        assert lo <= hi, (lo, hi)
        return lo if lo == hi else self.draw(_integers(lo, hi))


class _Random:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)

    def integer(self, lo: int, hi: int) -> int:
        assert lo <= hi, (lo, hi)
        return self.rng.randint(lo, hi)


# ---------------------------------------------------------------------------------------------- type helpers
def has_f32(t: Type) -> bool:
    if isinstance(t, Array):
        return has_f32(t.elem)
    if isinstance(t, Tuple):
        return any(has_f32(e) for e in t.elems)
    return isinstance(t, F32)


def elems(t: Type) -> int:
    """Number of scalars in a value of type t."""
    if isinstance(t, Array):
        return t.size * elems(t.elem)
    if isinstance(t, Tuple):
        return sum(elems(e) for e in t.elems)
    return 1


def constable(t: Type) -> bool:
    """Can t be the type of a literal (scalar or array of scalars)?"""
    return not isinstance(scalar_of(t), Tuple)


def iota_ok(n: int, t: Type) -> bool:
    """Does `iota<n, t>` type-check (t holds 0..n-1 exactly)? Asks the registered type rule."""
    if not isinstance(t, Fixed):
        return False
    try:
        PRIMITIVES["iota"].type_rule((n, t), [])
    except IRError:
        return False
    return True


class _Gen:
    def __init__(self, ch: _Choices, max_depth: int = 4, max_nodes: int = 60) -> None:
        self.ch, self.max_depth, self.max_nodes = ch, max_depth, max_nodes
        self.nodes = 0
        self.names = 0

    # -------------------------------------------------------------------- choices
    def num(self, lo: int, hi: int) -> int:
        return self.ch.integer(lo, hi)

    def flip(self, num: int = 1, den: int = 2) -> bool:
        return self.num(0, den - 1) < num

    def pick(self, seq: list | tuple):
        return seq[self.num(0, len(seq) - 1)]

    def weighted(self, options: list[tuple[int, Callable[[], Term]]]) -> Term:
        options = [(w, f) for w, f in options if w > 0]
        r = self.num(0, sum(w for w, _ in options) - 1)
        for w, f in options:
            if r < w:
                return f()
            r -= w
        raise AssertionError("unreachable")

    def fresh(self, base: str = "v") -> str:
        self.names += 1
        return f"{base}{self.names}"

    # -------------------------------------------------------------------- types
    def fixed(self, max_int: int | None = None, signed: bool | None = None) -> Fixed:
        w = self.num(1, 8) if self.flip(2, 3) else self.num(1, MAX_WIDTH)
        s = self.flip() if signed is None else signed
        r = self.num(0, 9)
        i = self.num(0, w) if r < 6 else self.num(-6, -1) if r < 8 else self.num(w + 1, w + 8)
        if max_int is not None:
            i = min(i, max_int)
        return Fixed(w, i, s)

    def below(self, t: Fixed, env: Env | None = None) -> Fixed:
        """A type all of whose values t holds, with t's signedness: common_type(t, below(t)) == t. Often the type
        of a variable in `env`, so that arithmetic uses variables."""
        if env:
            fits = [ty for ty, _ in env.values() if isinstance(ty, Fixed) and ty.signed == t.signed
                    and ty.int_bits <= t.int_bits and ty.frac <= t.frac]
            if fits and self.flip():
                return self.pick(fits)
        i, f = t.int_bits - self.num(0, 3), t.frac - self.num(0, 3)
        return Fixed(i + f, i, t.signed) if i + f >= 1 else t

    def scalar(self) -> Type:
        r = self.num(0, 8)
        return self.fixed() if r < 6 else BOOL if r < 7 else FLOAT

    def value_type(self, dims: int = 3, budget: int = MAX_ELEMS, tuples: int = 1) -> Type:
        options = [(4, "scalar")]
        if dims > 0 and budget >= 1:
            options.append((4, "array"))
        if tuples > 0 and budget >= 2:
            options.append((1, "tuple"))
        r = self.num(0, sum(w for w, _ in options) - 1)
        kind = options[-1][1]
        for w, k in options:
            if r < w:
                kind = k
                break
            r -= w
        if kind == "scalar":
            return self.scalar()
        if kind == "array":
            n = self.num(1, min(MAX_SIZE, budget))
            return Array(n, self.value_type(dims - 1, budget // n, tuples))
        k = self.num(2, min(3, budget))
        return Tuple(tuple(self.value_type(dims, budget // k, tuples - 1) for _ in range(k)))

    def env_type(self, env: Env, pred: Callable[[Type], bool], make: Callable[[], Type]) -> Type:
        """Often the type of a variable in scope (or an element type of one), so terms use their inputs."""
        found: list[Type] = []
        for ty, _ in env.values():
            while True:
                if pred(ty):
                    found.append(ty)
                if not isinstance(ty, Array):
                    break
                ty = ty.elem
        return self.pick(found) if found and self.flip() else make()

    # -------------------------------------------------------------------- terms
    def usable(self, t: Type, env: Env, bound: int) -> list[str]:
        return [n for n, (ty, b) in env.items() if ty == t and (b <= bound or not has_f32(ty))]

    def term(self, t: Type, env: Env, depth: int, bound: int) -> Term:
        self.nodes += 1
        if depth <= 0 or self.nodes > self.max_nodes:
            return self.leaf(t, env, bound)
        d = depth - 1
        leafy = 0 if depth == self.max_depth else 1 if depth >= 3 else 2  # the program itself is never a leaf
        options: list[tuple[int, Callable[[], Term]]] = [
            (leafy, lambda: self.leaf(t, env, bound)),
            (2, lambda: self.let(t, env, d, bound)),
            (1, lambda: self.get(t, env, d, bound)),
            (1, lambda: self.reduce(t, env, d, bound)),
        ]
        if isinstance(t, Fixed):
            options += self.fixed_ops(t, env, d, bound)
        elif isinstance(t, F32):
            options += self.f32_ops(env, d, bound)
        elif isinstance(t, Bool):
            options += self.bool_ops(env, d)
        elif isinstance(t, Array):
            options += self.array_ops(t, env, d, bound)
        elif isinstance(t, Tuple):
            options += self.tuple_ops(t, env, d, bound)
        return self.weighted(options)

    def leaf(self, t: Type, env: Env, bound: int) -> Term:
        """A small term of type t: preferably built from variables in scope, else a constant."""
        names = self.usable(t, env, bound)
        if names and self.flip(3, 4):
            return Var(self.pick(names))
        if isinstance(t, Fixed | F32):  # convert a scalar variable
            srcs = [n for n, (ty, b) in env.items() if isinstance(ty, Fixed | Bool | F32) and (
                isinstance(t, Fixed) or isinstance(ty, Bool) or (ty.int_bits if isinstance(ty, Fixed) else b) <= bound)]
            if srcs and self.flip():
                modes = (self.pick(fx.Q_MODES), self.pick(fx.O_MODES)) if isinstance(t, Fixed) else ()
                return Prim("cast", (t, *modes), (Var(self.pick(srcs)),))
        if isinstance(t, Bool):  # compare a numeric variable with a constant
            srcs = [n for n, (ty, _) in env.items() if isinstance(ty, Fixed | F32)]
            if srcs and self.flip():
                v = self.pick(srcs)
                ty, b = env[v]
                return Prim(self.pick(COMPARISONS), (), (Var(v), self.const(ty, b)))
        if isinstance(t, Array):  # map over an array variable of the same size
            srcs = [n for n, (ty, _) in env.items() if isinstance(ty, Array) and ty.size == t.size]
            if srcs and self.flip():
                v = self.pick(srcs)
                ty, b = env[v]
                assert isinstance(ty, Array)
                x = self.fresh("x")
                body = self.leaf(t.elem, {**env, x: (ty.elem, b)}, bound)
                return Prim("map", (), (Lam((self.param(x, ty.elem),), body), Var(v)))
        if isinstance(t, Array) and isinstance(t.elem, Fixed) and iota_ok(t.size, t.elem) and self.flip(1, 4):
            return Prim("iota", (t.size, t.elem), ())
        if constable(t):
            return self.const(t, bound)
        if isinstance(t, Tuple):
            return Prim("tuple", (), tuple(self.leaf(e, env, bound) for e in t.elems))
        assert isinstance(t, Array)
        if isinstance(t.elem, Tuple):
            return Prim("zip", (), tuple(self.leaf(Array(t.size, e), env, bound) for e in t.elem.elems))
        # an array of arrays of tuples: map a leaf over an index vector
        return Prim("map", (), (Lam((Param(self.fresh("i")),), self.leaf(t.elem, env, bound)),
                                Prim("iota", (t.size, Fixed(8, 8, False)), ())))

    def const(self, t: Type, bound: int) -> Const:
        s, n = scalar_of(t), math.prod(shape_of(t))
        if n > 8:  # many values: one choice seeds them all (keeps hypothesis' choice sequences short)
            rnd = _Gen(_Random(self.num(0, 2**32 - 1)))
            return Const(t, tuple(rnd.scalar_value(s, bound) for _ in range(n)))
        return Const(t, tuple(self.scalar_value(s, bound) for _ in range(n)))

    def scalar_value(self, s: Type, bound: int) -> int | float | bool:
        if isinstance(s, Fixed):
            r = self.num(0, 7)
            return s.min_raw if r == 0 else s.max_raw if r == 1 else 0 if r == 2 else self.num(s.min_raw, s.max_raw)
        if isinstance(s, Bool):
            return self.flip()
        top = min(bound, 20)  # |value| <= 2**top
        r = self.num(0, 7)
        if r == 0:
            return 0.0
        if r == 1 and top >= 8:  # not a short binary fraction: long decimal text
            return float(np.float32(self.num(-1000, 1000) / 7))
        return float(self.num(-(2**12), 2**12) * 2.0 ** self.num(-16, top - 12))

    # -------------------------------------------------------------------- any type
    def let(self, t: Type, env: Env, d: int, bound: int) -> Term:
        u = self.value_type(budget=MAX_ELEMS // 2)
        vb = self.num(0, bound) if self.flip(3, 4) else F32_INPUT_LOG2
        value = self.term(u, env, d, vb)
        name = self.pick(list(env)) if env and self.flip(1, 8) else self.fresh()  # sometimes shadow
        return Let(name, value, self.term(t, {**env, name: (u, vb)}, d, bound))

    def get(self, t: Type, env: Env, d: int, bound: int) -> Term:
        k = self.num(2, 3)
        i = self.num(0, k - 1)
        if isinstance(t, Array) and self.flip():  # arrays of one size: the tuple may come from unzip
            comps = tuple(t if j == i else Array(t.size, self.scalar()) for j in range(k))
        else:
            comps = tuple(t if j == i else self.value_type(dims=1, budget=8, tuples=0) for j in range(k))
        return Prim("get", (i,), (self.term(Tuple(comps), env, d, bound),))

    def param(self, name: str, t: Type) -> Param:
        return Param(name, t if self.flip(1, 3) else None)

    def reduce(self, t: Type, env: Env, d: int, bound: int) -> Term:
        e = self.env_type(env, lambda ty: isinstance(ty, Array) and elems(ty) <= MAX_ELEMS,
                          lambda: Array(self.num(1, MAX_SIZE), self.value_type(2, MAX_ELEMS // MAX_SIZE)))
        assert isinstance(e, Array)
        n, elem = e.size, e.elem
        xb = self.num(0, bound) if self.flip() else F32_INPUT_LOG2
        acc, x = self.fresh("acc"), self.fresh("x")
        inner = {**env, x: (elem, xb)}
        init_bound = bound
        r = self.num(0, 2)
        if r == 1 and isinstance(t, Fixed):  # accumulate: the shape of a dot product or a sum
            g = self.below(t, inner) if self.flip() else self.fixed()
            g_term = self.term(g, {**inner, acc: (t, bound)}, d, bound)
            pair = (Var(acc), g_term) if self.flip() else (g_term, Var(acc))
            body: Term = Prim("cast", (t, self.pick(fx.Q_MODES), "WRAP"), (Prim("add", (), pair),))
        elif r == 1 and isinstance(t, F32) and bound >= math.ceil(math.log2(n + 1)):
            init_bound = bound - math.ceil(math.log2(n + 1))  # n + 1 terms of at most 2**init_bound each
            g_term = self.term(FLOAT, inner, d, init_bound)
            body = Prim("add", (), (Var(acc), g_term) if self.flip() else (g_term, Var(acc)))
        elif r == 2 and isinstance(t, Fixed | F32):  # running max/min
            g = self.below(t, inner) if isinstance(t, Fixed) else FLOAT
            g_term = self.term(g, {**inner, acc: (t, bound)}, d, bound)
            pair = (Var(acc), g_term) if self.flip() else (g_term, Var(acc))
            body = Prim(self.pick(("max", "min")), (), pair)
        else:  # any body; f32 bounds hold because the accumulator's bound is the body's
            body = self.term(t, {**inner, acc: (t, bound)}, d, bound)
        init = self.term(t, env, d, init_bound)
        xs = self.term(e, env, d, xb)
        return Prim("reduce", (), (Lam((self.param(acc, t), self.param(x, elem)), body), init, xs))

    # -------------------------------------------------------------------- scalars
    def fixed_ops(self, t: Fixed, env: Env, d: int, bound: int) -> list[tuple[int, Callable[[], Term]]]:
        w, i, s = t.width, t.int_bits, t.signed

        def sub(a: Type) -> Term:
            return self.term(a, env, d, bound)

        def both(op: str, a: Fixed, b: Fixed) -> Term:
            x, y = sub(a), sub(b)
            return Prim(op, (), (x, y) if self.flip() else (y, x))

        def cast() -> Term:
            src = self.env_type(env, lambda ty: isinstance(ty, Fixed | F32 | Bool), self.scalar)
            sb = self.num(0, 40)
            return Prim("cast", (t, self.pick(fx.Q_MODES), self.pick(fx.O_MODES)), (self.term(src, env, d, sb),))

        def add() -> Term:
            a = Fixed(w - 1, i - 1, s)
            return both("add", a, self.below(a, env))

        def subtract() -> Term:
            a = Fixed(w - 1, i - 1, self.flip())
            x, y = sub(a), sub(self.below(a, env))
            return Prim("sub", (), (x, y) if self.flip() else (y, x))

        def mul() -> Term:
            wa = self.num(1, w - 1)
            ia = self.num(min(i, 0) - 2, max(i, wa) + 2)
            sa, sb = self.pick(((True, True), (True, False), (False, True))) if s else (False, False)
            return Prim("mul", (), (sub(Fixed(wa, ia, sa)), sub(Fixed(w - wa, i - ia, sb))))

        def neg() -> Term:
            return Prim("neg", (), (sub(Fixed(w - 1, i - 1, self.flip())),))

        def shift() -> Term:
            k = self.num(0, 3)
            if self.flip():
                return Prim("shl", (k,), (sub(Fixed(w, i - k, s)),))
            return Prim("shr", (k,), (sub(Fixed(w, i + k, s)),))

        def select() -> Term:
            c = self.term(BOOL, env, d, bound)
            a, b = sub(t), sub(self.below(t, env))
            return Prim("select", (), (c, a, b) if self.flip() else (c, b, a))

        ops: list[tuple[int, Callable[[], Term]]] = [
            (3, cast), (1, shift), (1, lambda: both(self.pick(("max", "min")), t, self.below(t, env))), (1, select)]
        if w >= 2:
            ops += [(2, add), (2, mul)]
            if s:
                ops += [(1, subtract), (1, neg)]
        return ops

    def f32_ops(self, env: Env, d: int, bound: int) -> list[tuple[int, Callable[[], Term]]]:
        def sub(b: int) -> Term:
            return self.term(FLOAT, env, d, b)

        def cast() -> Term:
            r = self.num(0, 3)
            src = self.fixed(max_int=bound) if r < 2 else BOOL if r == 2 else FLOAT
            return Prim("cast", (FLOAT,), (self.term(src, env, d, bound),))

        def mul() -> Term:
            la = self.num(0, bound)
            return Prim("mul", (), (sub(la), sub(bound - la)))

        def select() -> Term:
            return Prim("select", (), (self.term(BOOL, env, d, bound), sub(bound), sub(bound)))

        ops: list[tuple[int, Callable[[], Term]]] = [
            (3, cast), (1, mul), (1, lambda: Prim("neg", (), (sub(bound),))), (1, select),
            (1, lambda: Prim(self.pick(("max", "min")), (), (sub(bound), sub(bound))))]
        if bound >= 1:
            ops.append((2, lambda: Prim(self.pick(("add", "sub")), (), (sub(bound - 1), sub(bound - 1)))))
        return ops

    def bool_ops(self, env: Env, d: int) -> list[tuple[int, Callable[[], Term]]]:
        def compare() -> Term:
            if self.flip(3, 4):
                a = self.env_type(env, lambda ty: isinstance(ty, Fixed), self.fixed)
                b = self.below(a, env) if isinstance(a, Fixed) and self.flip() else self.fixed()
                x, y = self.term(a, env, d, 0), self.term(b, env, d, 0)
            else:
                b = self.num(0, 40)
                x, y = self.term(FLOAT, env, d, b), self.term(FLOAT, env, d, b)
            return Prim(self.pick(COMPARISONS), (), (x, y) if self.flip() else (y, x))

        return [(4, compare)]

    # -------------------------------------------------------------------- compound
    def array_ops(self, t: Array, env: Env, d: int, bound: int) -> list[tuple[int, Callable[[], Term]]]:
        n, e = t.size, t.elem

        def src(ty: Type) -> Term:
            return self.term(ty, env, d, bound)

        def map_() -> Term:
            a = self.env_type(env, lambda ty: isinstance(ty, Array) and ty.size == n,
                              lambda: Array(n, self.value_type(2, MAX_ELEMS // n)))
            assert isinstance(a, Array)
            xb = self.num(0, bound) if self.flip() else F32_INPUT_LOG2
            x = self.fresh("x")
            body = self.term(e, {**env, x: (a.elem, xb)}, d, bound)
            return Prim("map", (), (Lam((self.param(x, a.elem),), body), self.term(a, env, d, xb)))

        def join() -> Term:
            m = self.pick([k for k in range(1, n + 1) if n % k == 0])
            return Prim("join", (), (src(Array(m, Array(n // m, e))),))

        def pad() -> Term:
            left = self.num(0, min(2, n - 1))
            right = self.num(0, min(2, n - 1 - left))
            return Prim("pad", (left, right), (src(Array(n - left - right, e)),))

        def unzip() -> Term:  # one component of an unzipped array of pairs
            i = self.num(0, 1)
            pair = (e, self.scalar()) if i == 0 else (self.scalar(), e)
            return Prim("get", (i,), (Prim("unzip", (), (src(Array(n, Tuple(pair))),)),))

        ops: list[tuple[int, Callable[[], Term]]] = [(4, map_), (1, join), (1, unzip)]
        if n >= 2:
            ops.append((1, pad))
        if iota_ok(n, e):
            ops.append((1, lambda: Prim("iota", (n, e), ())))
        if isinstance(e, Tuple):
            ops.append((2, lambda: Prim("zip", (), tuple(src(Array(n, c)) for c in e.elems))))
        if isinstance(e, Array):
            k, inner = e.size, e.elem
            if elems(t) <= MAX_ELEMS:
                ops.append((1, lambda: Prim("split", (k,), (src(Array(n * k, inner)),))))
            ops.append((1, lambda: Prim("transpose", (), (src(Array(k, Array(n, inner))),))))

            def slide() -> Term:
                step = self.num(1, 3)
                length = (n - 1) * step + k + self.num(0, step - 1)
                return Prim("slide", (k, step), (src(Array(length, inner)),))

            if elems(t) <= MAX_ELEMS:
                ops.append((1, slide))
        return ops

    def tuple_ops(self, t: Tuple, env: Env, d: int, bound: int) -> list[tuple[int, Callable[[], Term]]]:
        ops: list[tuple[int, Callable[[], Term]]] = [
            (3, lambda: Prim("tuple", (), tuple(self.term(c, env, d, bound) for c in t.elems)))]
        sizes = {c.size if isinstance(c, Array) else None for c in t.elems}
        if len(sizes) == 1 and None not in sizes:
            (n,) = sizes
            inner = Tuple(tuple(c.elem for c in t.elems))  # type: ignore[attr-defined]
            ops.append((2, lambda: Prim("unzip", (), (self.term(Array(n, inner), env, d, bound),))))
        return ops

    # -------------------------------------------------------------------- programs
    def program(self, max_params: int = 3) -> Program:
        params = tuple(Param(f"p{j}", self.value_type()) for j in range(self.num(0, max_params)))
        env: Env = {q.name: (q.type, F32_INPUT_LOG2) for q in params}  # type: ignore[misc]
        out = self.env_type(env, lambda ty: True, self.value_type) if params else self.value_type()
        body = self.term(out, env, self.max_depth, F32_RESULT_LOG2)
        return Program(self.pick(("f", "main", "layer", "g2")), params, body)


# ---------------------------------------------------------------------------------------------- public API
def programs(max_depth: int = 4, max_params: int = 3, max_nodes: int = 60) -> "SearchStrategy[Program]":
    """Random well-typed programs: `check(p)` succeeds and `evaluate(p, *xs)` runs on `inputs(p)`. About
    `max_nodes` primitive applications at most, nested at most `max_depth` deep (plus small leaf terms)."""
    return _st().composite(lambda draw: _Gen(_Draw(draw), max_depth, max_nodes).program(max_params))()


def types(dims: int = 3, budget: int = MAX_ELEMS) -> "SearchStrategy[Type]":
    """Random value types: scalars, arrays up to `dims` deep with at most `budget` scalars, tuples."""
    return _st().composite(lambda draw: _Gen(_Draw(draw)).value_type(dims, budget))()


def random_program(seed: int, max_depth: int = 4, max_params: int = 3, max_nodes: int = 60) -> Program:
    """The same generator driven by `random.Random(seed)` instead of hypothesis."""
    return _Gen(_Random(seed), max_depth, max_nodes).program(max_params)


def inputs(program: Program, batch: int = 4) -> "SearchStrategy[tuple]":
    """Random inputs for `program` in interpreter representation (raw integers in range for fixed point, one
    leading batch axis), suitable for `evaluate(program, *xs)`. Drawn from one seed: fast for any size."""
    return _st().integers(0, 2**63 - 1).map(lambda seed: random_inputs(program, batch, seed))


def random_inputs(program: Program, batch: int, seed: int) -> tuple:
    rng = np.random.default_rng(seed)
    out = []
    for q in program.params:
        assert q.type is not None, f"parameter {q.name} has no type"
        out.append(_value(q.type, (batch,), rng))
    return tuple(out)


def _value(t: Type, lead: tuple[int, ...], rng: np.random.Generator):
    """A random value of type t with leading axes `lead` (arrays add axes; tuples are struct-of-arrays)."""
    if isinstance(t, Array):
        return _value(t.elem, (*lead, t.size), rng)
    if isinstance(t, Tuple):
        return tuple(_value(e, lead, rng) for e in t.elems)
    edge = rng.random(lead) < 0.15
    if isinstance(t, Fixed):
        lo, hi = t.min_raw, t.max_raw
        special = rng.choice(np.array([lo, hi, 0], dtype=object), size=lead)
        if fx.dtype_for(t) is np.int64:
            raw = rng.integers(lo, hi, size=lead, endpoint=True, dtype=np.int64)
            return np.where(edge, special.astype(np.int64), raw)
        r = random.Random(int(rng.integers(0, 2**62)))
        raw = np.array([r.randint(lo, hi) for _ in range(math.prod(lead))], dtype=object).reshape(lead)
        return np.where(edge, special, raw)
    if isinstance(t, Bool):
        return rng.random(lead) < 0.5
    assert isinstance(t, F32)
    top = 2.0**F32_INPUT_LOG2
    x = rng.uniform(-top, top, size=lead).astype(np.float32)
    special = rng.choice(np.array([0.0, top, -top, 1.0, -0.5], dtype=np.float32), size=lead)
    return np.where(edge, special, x).astype(np.float32)


__all__ = ["F32_INPUT_LOG2", "inputs", "programs", "random_inputs", "random_program", "types"]
