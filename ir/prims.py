"""The primitive registry: one declarative entry per primitive with its signature, type rule and golden semantics.

Later layers register lowered forms (mapSeq, reduceTree, buffers, ...) with `register`, without touching the core.

Golden semantics operate on the interpreter's value representation: a value of scalar type is a numpy array
of shape `batch` (the evaluation context's `b` leading axes, possibly of size 1 for broadcasting); an array
`[n]T` adds an axis of size n at position `b` in front of T's own axes; tuples (also tuples inside arrays) are
Python tuples of their components (struct of arrays). Fixed-point leaves hold raw integers (see `fixed.py`).
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from vhls.ir import numerics as fx
from vhls.ir.errors import IRError
from vhls.ir.types import BOOL, F32, FLOAT, Array, Bool, Fixed, Scalar, Tuple, Type

Value = Any  # np.ndarray | tuple[Value, ...]


class TypeMismatch(IRError):
    """Raised by type rules; the checker adds the term and its position."""

    def __init__(self, what: str, expected: Type | str | None = None, got: Type | str | None = None) -> None:
        detail = f": expected {expected}, got {got}" if expected is not None else ""
        super().__init__(what + detail)
        self.expected, self.got = expected, got


class Fn(Protocol):
    """A lambda argument as seen by a type rule: give it parameter types, get its result type."""

    def __call__(self, *param_types: Type) -> Type: ...


class EvalContext(Protocol):
    b: int  # number of leading batch axes of every value in scope

    def call(self, fn: Any, args: Sequence[Value]) -> Value: ...
    def call_mapped(self, fn: Any, args: Sequence[Value], n: int) -> Value: ...
    def type_of(self, term: Any) -> Type: ...


TypeRule = Callable[[tuple, list], Type]
Evaluate = Callable[[EvalContext, tuple, list, list[Type], Type], Value]


@dataclass(frozen=True)
class Primitive:
    name: str
    statics: tuple[str, ...]  # kinds, in order: "int", "type", "qmode", "omode"
    arity: int | None  # None: two or more arguments
    type_rule: TypeRule
    evaluate: Evaluate
    doc: str
    fn_args: tuple[int, ...] = ()  # argument positions that must be lambdas
    fn_params: tuple[int, ...] = ()  # parameter count of each lambda argument
    min_statics: int | None = None  # trailing statics beyond this are optional
    lowered: bool = False  # a hardware-level form added by a lowering pass
    extra: dict[str, Any] = field(default_factory=dict, compare=False)


PRIMITIVES: dict[str, Primitive] = {}
# Words of the text form that can never name a primitive or a variable.
KEYWORDS = frozenset({"def", "let", "in", "fun", "const", "true", "false", "fixed", "ufixed", "bool", "f32",
                      *fx.Q_MODES, *fx.O_MODES})


def register(p: Primitive) -> Primitive:
    if not p.name.isidentifier() or p.name in KEYWORDS:
        raise ValueError(f"primitive name {p.name!r} must be an identifier and not a keyword of the text form")
    if p.name in PRIMITIVES:
        raise ValueError(f"primitive {p.name!r} is already registered")
    PRIMITIVES[p.name] = p
    return p


def lookup(name: str) -> Primitive | None:
    return PRIMITIVES.get(name)


# ---------------------------------------------------------------------------------------------- value helpers
def lmap(f: Callable[[np.ndarray], np.ndarray], v: Value) -> Value:
    """Apply `f` to every numpy leaf of a value."""
    return tuple(lmap(f, c) for c in v) if isinstance(v, tuple) else f(v)


def index(v: Value, axis: int, i: int) -> Value:
    return lmap(lambda a: np.take(a, i, axis=axis), v)


def zeros_like_type(t: Scalar, shape: tuple[int, ...]) -> np.ndarray:
    if isinstance(t, Fixed):
        return fx.as_raw(np.zeros(shape, dtype=np.int64), t)
    return np.zeros(shape, dtype=np.float32 if isinstance(t, F32) else np.bool_)


# ---------------------------------------------------------------------------------------------- type helpers
def expect_array(t: Type, who: str, nested: int = 1) -> Array:
    cur = t
    for _ in range(nested):
        if not isinstance(cur, Array):
            want = "an array" if nested == 1 else f"a {nested}-dimensional array"
            raise TypeMismatch(f"{who} needs {want}", "[n]T" if nested == 1 else "[m][n]T", t)
        cur = cur.elem
    assert isinstance(t, Array)
    return t


def numeric_pair(a: Type, b: Type, who: str) -> tuple[Scalar, Scalar]:
    for t in (a, b):
        if not isinstance(t, Fixed | F32):
            raise TypeMismatch(f"{who} needs fixed-point or f32 scalars", "a scalar", t)
    if isinstance(a, F32) != isinstance(b, F32):
        raise TypeMismatch(f"{who} cannot mix f32 and fixed-point operands (insert a cast)", a, b)
    assert isinstance(a, Scalar) and isinstance(b, Scalar)
    return a, b


# ---------------------------------------------------------------------------------------------- structure
def _map_type(st: tuple, args: list) -> Type:
    f, xs = args
    arr = expect_array(xs, "map")
    return Array(arr.size, f(arr.elem))


def _map_eval(ctx: EvalContext, st: tuple, args: list, ts: list[Type], rt: Type) -> Value:
    f, xs = args
    return ctx.call_mapped(f, [xs], ts[1].size)


register(Primitive("map", (), 2, _map_type, _map_eval, "map(fun x => e, xs): apply the function to every element",
                   fn_args=(0,), fn_params=(1,)))


def _reduce_type(st: tuple, args: list) -> Type:
    f, init, xs = args
    arr = expect_array(xs, "reduce")
    r = f(init, arr.elem)
    if r != init:
        raise TypeMismatch("reduce: the function must return the accumulator's type", init, r)
    return init


def _reduce_fast(ctx: EvalContext, f: Any, init: Value, xs: Value, ts: list[Type]) -> Value | None:
    """Whole-axis evaluation of `acc + g(x)` with wrap-around and of `max/min(acc, g(x))`: the same result as the
    left fold (modular addition and max/min are associative), computed with one vectorised pass. f32 addition is
    not associative, so f32 sums evaluate g once for all elements and then add in the fold's order."""
    from vhls.ir.terms import Lam, Prim, Var, free_vars  # local: terms imports nothing from here

    acc_t, b = ts[1], ctx.b
    if not isinstance(f, Lam) or not isinstance(acc_t, Fixed | F32):
        return None
    acc, _x = (p.name for p in f.params)
    body = f.body
    wrap = isinstance(body, Prim) and body.op == "cast" and len(body.static) == 3 and body.static[2] == "WRAP"
    inner = body.args[0] if wrap else body
    if not (isinstance(inner, Prim) and inner.op in ("add", "max", "min") and len(inner.args) == 2):
        return None
    if inner.op == "add" and not (wrap or isinstance(acc_t, F32)):
        return None
    if inner.op != "add" and wrap:  # wrapping inside max/min is not associative
        return None
    a0, a1 = inner.args
    g = a1 if a0 == Var(acc) else a0 if a1 == Var(acc) else None
    if g is None or acc in free_vars(g):
        return None
    g_t = ctx.type_of(g)
    if isinstance(acc_t, Fixed) and (not isinstance(g_t, Fixed) or g_t.frac > acc_t.frac):
        return None
    n = ts[2].size
    if inner.op == "add" and isinstance(g, Prim) and g.op == "mul" and isinstance(acc_t, Fixed):
        dot = _dot(ctx, Lam, f, g, xs, n, acc_t, g_t)
        if dot is not None:
            return fx.overflow(init + dot, acc_t, "WRAP")
    vals = ctx.call_mapped(Lam((f.params[1],), g), [xs], n)
    if isinstance(acc_t, Fixed):
        assert isinstance(g_t, Fixed)
        vals = fx.align(vals, g_t, acc_t.frac)
        if acc_t.width > fx.INT64_BITS:
            vals = vals.astype(object)
    if inner.op == "add" and isinstance(acc_t, F32):
        acc = init
        for i in range(n):
            acc = (acc + np.take(vals, i, axis=b)).astype(np.float32)
        return acc
    if inner.op == "add":
        total = init + np.sum(vals, axis=b)  # int64 wrap-around is harmless: the result is taken mod 2**W
        return fx.overflow(total, acc_t, "WRAP")
    best = np.max(vals, axis=b) if inner.op == "max" else np.min(vals, axis=b)
    return np.maximum(init, best) if inner.op == "max" else np.minimum(init, best)


def _dot(ctx: EvalContext, lam: type, f: Any, g: Any, xs: Value, n: int, acc_t: Fixed, g_t: Fixed) -> Value | None:
    """Sum of products as one einsum over the reduced axis (no n-times-larger product array)."""
    x = f.params[1]
    u, v = (ctx.call_mapped(lam((x,), a), [xs], n) for a in g.args)
    # int64 sums are exact modulo 2**64, hence modulo 2**W for the accumulator's W <= 62
    if u.dtype == object or v.dtype == object or max(g_t.width, acc_t.width) > fx.INT64_BITS:
        return None
    b = ctx.b
    s = np.einsum("...i,...i->...", np.moveaxis(u, b, -1), np.moveaxis(v, b, -1))
    shift = acc_t.frac - g_t.frac
    if shift >= fx.INT64_BITS:
        return None
    return s << shift  # shifting the sum equals summing shifted terms, modulo 2**64


def _reduce_eval(ctx: EvalContext, st: tuple, args: list, ts: list[Type], rt: Type) -> Value:
    f, acc, xs = args
    fast = _reduce_fast(ctx, f, acc, xs, ts)
    if fast is not None:
        return fast
    for i in range(ts[2].size):
        acc = ctx.call(f, [acc, index(xs, ctx.b, i)])
    return acc


register(Primitive("reduce", (), 3, _reduce_type, _reduce_eval,
                   "reduce(fun (acc, x) => e, init, xs): left fold over xs from init",
                   fn_args=(0,), fn_params=(2,)))


def _zip_type(st: tuple, args: list) -> Type:
    arrs = [expect_array(t, "zip") for t in args]
    if any(a.size != arrs[0].size for a in arrs):
        bad = next(a for a in arrs if a.size != arrs[0].size)
        raise TypeMismatch("zip: arrays must have the same size", arrs[0], bad)
    return Array(arrs[0].size, Tuple(tuple(a.elem for a in arrs)))


register(Primitive("zip", (), None, _zip_type, lambda ctx, st, vs, ts, rt: tuple(vs),
                   "zip(xs, ys, ...): array of tuples from arrays of equal size"))


def _unzip_type(st: tuple, args: list) -> Type:
    (t,) = args
    arr = expect_array(t, "unzip")
    if not isinstance(arr.elem, Tuple):
        raise TypeMismatch("unzip needs an array of tuples", "[n](A, B, ...)", t)
    return Tuple(tuple(Array(arr.size, e) for e in arr.elem.elems))


register(Primitive("unzip", (), 1, _unzip_type, lambda ctx, st, vs, ts, rt: vs[0],
                   "unzip(xs): tuple of arrays from an array of tuples"))


register(Primitive("tuple", (), None, lambda st, args: Tuple(tuple(args)), lambda ctx, st, vs, ts, rt: tuple(vs),
                   "tuple(a, b, ...): build a tuple"))


def _get_type(st: tuple, args: list) -> Type:
    (i,), (t,) = st, args
    if not isinstance(t, Tuple):
        raise TypeMismatch("get needs a tuple", "(A, B, ...)", t)
    if not 0 <= i < len(t.elems):
        raise TypeMismatch(f"get<{i}>: index out of range for a {len(t.elems)}-tuple")
    return t.elems[i]


register(Primitive("get", ("int",), 1, _get_type, lambda ctx, st, vs, ts, rt: vs[0][st[0]],
                   "get<i>(t): the i-th component (from 0) of a tuple"))


def _split_type(st: tuple, args: list) -> Type:
    (k,), (t,) = st, args
    arr = expect_array(t, "split")
    if k < 1 or arr.size % k:
        raise TypeMismatch(f"split<{k}>: array size must be a multiple of {k}", f"[{k}*m]T", t)
    return Array(arr.size // k, Array(k, arr.elem))


def _split_eval(ctx: EvalContext, st: tuple, vs: list, ts: list[Type], rt: Type) -> Value:
    b, (k,) = ctx.b, st
    return lmap(lambda a: a.reshape((*a.shape[:b], a.shape[b] // k, k, *a.shape[b + 1:])), vs[0])


register(Primitive("split", ("int",), 1, _split_type, _split_eval,
                   "split<k>(xs): [m*k]T -> [m][k]T, consecutive chunks of k"))


def _join_type(st: tuple, args: list) -> Type:
    (t,) = args
    arr = expect_array(t, "join", 2)
    inner = arr.elem
    assert isinstance(inner, Array)
    return Array(arr.size * inner.size, inner.elem)


def _join_eval(ctx: EvalContext, st: tuple, vs: list, ts: list[Type], rt: Type) -> Value:
    b = ctx.b
    return lmap(lambda a: a.reshape((*a.shape[:b], a.shape[b] * a.shape[b + 1], *a.shape[b + 2:])), vs[0])


register(Primitive("join", (), 1, _join_type, _join_eval, "join(xss): [m][n]T -> [m*n]T, concatenation"))


def _transpose_type(st: tuple, args: list) -> Type:
    (t,) = args
    arr = expect_array(t, "transpose", 2)
    inner = arr.elem
    assert isinstance(inner, Array)
    return Array(inner.size, Array(arr.size, inner.elem))


register(Primitive("transpose", (), 1, _transpose_type,
                   lambda ctx, st, vs, ts, rt: lmap(lambda a: np.swapaxes(a, ctx.b, ctx.b + 1), vs[0]),
                   "transpose(xss): [m][n]T -> [n][m]T"))


def _slide_type(st: tuple, args: list) -> Type:
    (size, step), (t,) = st, args
    arr = expect_array(t, "slide")
    if size < 1 or step < 1:
        raise TypeMismatch(f"slide<{size},{step}>: window size and step must be positive")
    if size > arr.size:
        raise TypeMismatch(f"slide<{size},{step}>: window larger than the array", f"[n >= {size}]T", t)
    return Array((arr.size - size) // step + 1, Array(size, arr.elem))


def _slide_eval(ctx: EvalContext, st: tuple, vs: list, ts: list[Type], rt: Type) -> Value:
    (size, step), b = st, ctx.b
    assert isinstance(rt, Array)
    idx = np.arange(rt.size)[:, None] * step + np.arange(size)[None, :]
    return lmap(lambda a: np.take(a, idx, axis=b), vs[0])


register(Primitive("slide", ("int", "int"), 1, _slide_type, _slide_eval,
                   "slide<size,step>(xs): [n]T -> [(n-size)/step+1][size]T, overlapping windows (a tail that "
                   "does not fill a window is dropped)"))


def _pad_type(st: tuple, args: list) -> Type:
    (left, right), (t,) = st, args
    arr = expect_array(t, "pad")
    return Array(arr.size + left + right, arr.elem)


def _pad_eval(ctx: EvalContext, st: tuple, vs: list, ts: list[Type], rt: Type) -> Value:
    (left, right), b = st, ctx.b

    def pad(a: np.ndarray) -> np.ndarray:
        if a.dtype == object:  # np.pad would insert numpy int64 zeros, which overflow in later wide arithmetic
            shape = list(a.shape)
            shape[b] += left + right
            out = np.full(shape, 0, dtype=object)  # Python int zeros
            out[(slice(None),) * b + (slice(left, left + a.shape[b]),)] = a
            return out
        width = [(0, 0)] * a.ndim
        width[b] = (left, right)
        return np.pad(a, width)  # zero of every scalar type is raw 0 / 0.0 / False

    return lmap(pad, vs[0])


register(Primitive("pad", ("int", "int"), 1, _pad_type, _pad_eval,
                   "pad<l,r>(xs): [n]T -> [l+n+r]T, l zeros in front and r behind"))


def _iota_type(st: tuple, args: list) -> Type:
    n, t = st
    if not isinstance(t, Fixed):
        raise TypeMismatch(f"iota<{n}, T> needs a fixed-point element type", "fixed<W,I>", t)
    if n < 1 or (n - 1) << max(t.frac, 0) > t.max_raw or (t.frac < 0 and n > 1):  # 1 is not a multiple of 2^-F
        raise TypeMismatch(f"iota<{n}, {t}>: {t} cannot hold 0..{n - 1}")
    return Array(n, t)


def _iota_eval(ctx: EvalContext, st: tuple, vs: list, ts: list[Type], rt: Type) -> Value:
    n, t = st
    raw = fx.from_float(np.arange(n, dtype=np.float64), t, "TRN", "SAT")
    return raw.reshape((1,) * ctx.b + (n,))


register(Primitive("iota", ("int", "type"), 0, _iota_type, _iota_eval, "iota<n, T>(): [0, 1, ..., n-1] as T"))


# ---------------------------------------------------------------------------------------------- arithmetic
def _binary(name: str, fixed_type: Callable[[Fixed, Fixed], Fixed],
            fixed_op: Callable[[np.ndarray, np.ndarray], np.ndarray],
            float_op: Callable[[np.ndarray, np.ndarray], np.ndarray], doc: str) -> None:
    def rule(st: tuple, args: list) -> Type:
        a, b = numeric_pair(*args, name)
        return FLOAT if isinstance(a, F32) else fixed_type(a, b)  # type: ignore[arg-type]

    def ev(ctx: EvalContext, st: tuple, vs: list, ts: list[Type], rt: Type) -> Value:
        if isinstance(rt, F32):
            return float_op(vs[0], vs[1]).astype(np.float32)
        assert isinstance(rt, Fixed)
        if name == "mul":  # exact product: fraction bits add up, no alignment
            a, b = vs
            if rt.width > fx.INT64_BITS:
                a, b = a.astype(object), b.astype(object)
            return fixed_op(a, b)
        a, b = (_widen(v, t, rt) for v, t in zip(vs, ts, strict=True))
        return fixed_op(a, b)

    register(Primitive(name, (), 2, rule, ev, doc))


def _widen(raw: np.ndarray, src: Type, dst: Fixed) -> np.ndarray:
    """Exactly re-express raw values of `src` with dst's fraction bits and storage dtype."""
    assert isinstance(src, Fixed)
    out = fx.align(raw, src, dst.frac)
    return out.astype(object) if dst.width > fx.INT64_BITS and out.dtype != object else out


_binary("add", fx.add_type, np.add, np.add, "add(a, b): exact sum (ap_fixed result type)")
_binary("sub", fx.sub_type, np.subtract, np.subtract, "sub(a, b): exact difference (always signed)")
_binary("mul", fx.mul_type, np.multiply, np.multiply, "mul(a, b): exact product, W1+W2 bits")
_binary("max", fx.common_type, np.maximum, np.maximum, "max(a, b): the larger value, in the common type")
_binary("min", fx.common_type, np.minimum, np.minimum, "min(a, b): the smaller value, in the common type")


def _neg_type(st: tuple, args: list) -> Type:
    (a,) = args
    if isinstance(a, F32):
        return FLOAT
    if not isinstance(a, Fixed):
        raise TypeMismatch("neg needs a fixed-point or f32 scalar", "a scalar", a)
    return fx.neg_type(a)


def _neg_eval(ctx: EvalContext, st: tuple, vs: list, ts: list[Type], rt: Type) -> Value:
    if isinstance(rt, F32):
        return -vs[0]
    assert isinstance(rt, Fixed)
    return -_widen(vs[0], ts[0], rt)


register(Primitive("neg", (), 1, _neg_type, _neg_eval, "neg(a): exact negation (one more integer bit)"))


def _shift(name: str, sign: int) -> None:
    def rule(st: tuple, args: list) -> Type:
        (k,), (a,) = st, args
        if not isinstance(a, Fixed):
            raise TypeMismatch(f"{name} needs a fixed-point scalar", "fixed<W,I>", a)
        return fx.shift_type(a, sign * k)

    register(Primitive(name, ("int",), 1, rule, lambda ctx, st, vs, ts, rt: vs[0],
                       f"{name}<k>(a): exact multiplication by 2^{'-' if sign < 0 else ''}k (moves the binary point)"))


_shift("shl", 1)
_shift("shr", -1)


def _compare(name: str, op: Callable[[np.ndarray, np.ndarray], np.ndarray]) -> None:
    def rule(st: tuple, args: list) -> Type:
        numeric_pair(*args, name)
        return BOOL

    def ev(ctx: EvalContext, st: tuple, vs: list, ts: list[Type], rt: Type) -> Value:
        if isinstance(ts[0], F32):
            return op(vs[0], vs[1])
        common = fx.common_type(ts[0], ts[1])  # type: ignore[arg-type]
        return op(_widen(vs[0], ts[0], common), _widen(vs[1], ts[1], common))

    register(Primitive(name, (), 2, rule, ev, f"{name}(a, b): comparison, gives bool"))


for _name, _op in (("lt", np.less), ("le", np.less_equal), ("gt", np.greater), ("ge", np.greater_equal),
                   ("eq", np.equal), ("ne", np.not_equal)):
    _compare(_name, _op)


def _select_type(st: tuple, args: list) -> Type:
    c, a, b = args
    if not isinstance(c, Bool):
        raise TypeMismatch("select: the condition must be bool", BOOL, c)
    a, b = numeric_pair(a, b, "select")
    return FLOAT if isinstance(a, F32) else fx.common_type(a, b)  # type: ignore[arg-type]


def _select_eval(ctx: EvalContext, st: tuple, vs: list, ts: list[Type], rt: Type) -> Value:
    c, a, b = vs
    if isinstance(rt, Fixed):
        a, b = _widen(a, ts[1], rt), _widen(b, ts[2], rt)
    return np.where(c, a, b)


register(Primitive("select", (), 3, _select_type, _select_eval, "select(c, a, b): a where c holds, else b"))


def _cast_type(st: tuple, args: list) -> Type:
    target, (src,) = st[0], args
    if not isinstance(target, Fixed | F32):
        raise TypeMismatch("cast target must be fixed<W,I>, ufixed<W,I> or f32", "a scalar type", target)
    if not isinstance(src, Fixed | F32 | Bool):
        raise TypeMismatch("cast needs a scalar", "a scalar", src)
    if isinstance(target, Fixed) and len(st) != 3:
        raise TypeMismatch(f"cast<{target}, Q, O> needs a quantisation mode ({'|'.join(fx.Q_MODES)}) and an "
                           f"overflow mode ({'|'.join(fx.O_MODES)})")
    if isinstance(target, F32) and len(st) != 1:
        raise TypeMismatch("cast<f32> takes no rounding modes")
    return target


def _cast_eval(ctx: EvalContext, st: tuple, vs: list, ts: list[Type], rt: Type) -> Value:
    (v,), (src,) = vs, ts
    if isinstance(rt, F32):
        return v.astype(np.float32) if isinstance(src, F32 | Bool) else fx.to_float32(v, src)
    assert isinstance(rt, Fixed)
    _, q, o = st
    if isinstance(src, F32):
        return fx.from_float(v, rt, q, o, what="cast operand")
    return fx.convert(v, src, rt, q, o)


register(Primitive("cast", ("type", "qmode", "omode"), 1, _cast_type, _cast_eval,
                   "cast<T, Q, O>(a): convert to T applying quantisation Q (TRN|RND) then overflow O (WRAP|SAT); "
                   "cast<f32>(a) gives the real value", min_statics=1))
