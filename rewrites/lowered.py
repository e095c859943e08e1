"""Lowered (hardware-level) primitives, registered with `vhls.ir.prims.register` without touching the core.

    mapPar(f, xs)        map, all elements in space (one instance of f per element, one cycle)
    mapSeq(f, xs)        map, one element per cycle through one instance of f
    reduceSeq(f, i, xs)  reduce, a sequential accumulator (left fold)
    reduceTree(f, i, xs) a balanced tree: f(i, T(xs)) where T pairs neighbours level by level (an odd last element
                         moves up unchanged); f : (A, A) -> A. Equals reduce exactly when f is associative, which
                         is the side condition of the rule introducing it; its golden model is the tree itself, so a
                         wrong side condition shows up as a golden mismatch.
    buffer(x)            identity: a full buffer (e.g. a ping-pong vector buffer) between two stages
    fifo<d>(x)           identity: a depth-d FIFO between two stages

Type rules and golden semantics of mapPar/mapSeq/reduceSeq are those of map/reduce (the same functions).
"""

from typing import Any

from vhls.ir.prims import PRIMITIVES, EvalContext, Primitive, TypeMismatch, Value, expect_array, lmap, register
from vhls.ir.types import Array, Type

LOWERED_MAPS = ("mapPar", "mapSeq")


def _register_once(p: Primitive) -> None:
    if p.name not in PRIMITIVES:  # importing twice (e.g. reloads in tests) must not fail
        register(p)


_map, _reduce = PRIMITIVES["map"], PRIMITIVES["reduce"]
for _name, _how in (("mapPar", "all elements in parallel (space)"), ("mapSeq", "one element per cycle (time)")):
    _register_once(Primitive(_name, (), 2, _map.type_rule, _map.evaluate,
                             f"{_name}(fun x => e, xs): map with {_how}", fn_args=(0,), fn_params=(1,), lowered=True))

_register_once(Primitive("reduceSeq", (), 3, _reduce.type_rule, _reduce.evaluate,
                         "reduceSeq(fun (acc, x) => e, init, xs): reduce with one sequential accumulator",
                         fn_args=(0,), fn_params=(2,), lowered=True))


def _tree_type(st: tuple, args: list) -> Type:
    f, init, xs = args
    arr = expect_array(xs, "reduceTree")
    if arr.elem != init:
        raise TypeMismatch("reduceTree: the elements must have the accumulator's type", init, arr.elem)
    r = f(init, init)
    if r != init:
        raise TypeMismatch("reduceTree: the function must return the accumulator's type", init, r)
    return init


def _tree_eval(ctx: EvalContext, st: tuple, args: list, ts: list[Type], rt: Type) -> Value:
    f, init, xs = args
    b = ctx.b
    n = ts[2].size
    level: Any = xs
    while n > 1:  # one level of the tree: all pairs at once (the pair index is a batch axis of f's body)
        h = n // 2
        left = lmap(lambda a, h=h: a.take(range(0, 2 * h, 2), axis=b), level)
        right = lmap(lambda a, h=h: a.take(range(1, 2 * h, 2), axis=b), level)
        pairs = ctx.call_mapped(f, [left, right], h)
        if n % 2:
            last = lmap(lambda a, n=n: a.take(range(n - 1, n), axis=b), level)
            pairs = _concat(pairs, last, b)
        level, n = pairs, h + n % 2
    root = lmap(lambda a: a.take(0, axis=b), level)
    return ctx.call(f, [init, root])


def _concat(a: Value, c: Value, axis: int) -> Value:
    import numpy as np

    if isinstance(a, tuple):
        return tuple(_concat(x, y, axis) for x, y in zip(a, c, strict=True))
    shape = list(np.broadcast_shapes((*a.shape[:axis], 1, *a.shape[axis + 1:]),
                                     (*c.shape[:axis], 1, *c.shape[axis + 1:])))
    sa, sc = list(shape), list(shape)
    sa[axis], sc[axis] = a.shape[axis], c.shape[axis]
    out = np.concatenate([np.broadcast_to(a, sa), np.broadcast_to(c, sc)], axis=axis)
    return out


_register_once(Primitive("reduceTree", (), 3, _tree_type, _tree_eval,
                         "reduceTree(fun (a, b) => e, init, xs): balanced-tree reduction, f(init, tree(xs)); equals "
                         "reduce when f is associative", fn_args=(0,), fn_params=(2,), lowered=True))


def _same_type(st: tuple, args: list) -> Type:
    (t,) = args
    return t


def _fifo_type(st: tuple, args: list) -> Type:
    (d,), (t,) = st, args
    if d < 1:
        raise TypeMismatch(f"fifo<{d}>: the depth must be at least 1")
    if not isinstance(t, Array):
        raise TypeMismatch("fifo needs an array (a stream of its elements)", "[n]T", t)
    return t


_register_once(Primitive("buffer", (), 1, _same_type, lambda ctx, st, vs, ts, rt: vs[0],
                         "buffer(x): identity; a full buffer between two stages", lowered=True))
_register_once(Primitive("fifo", ("int",), 1, _fifo_type, lambda ctx, st, vs, ts, rt: vs[0],
                         "fifo<d>(xs): identity; a depth-d FIFO carrying the elements of xs", lowered=True))
