"""Space and time: which maps are parallel and which sequential, how reductions are scheduled, where buffers go."""

from vhls.ir.terms import Lam, Let, Prim, Term, Var
from vhls.ir.types import Array
from vhls.rewrites.core import REDUCES, Ctx, is_prim, lam, prim
from vhls.rewrites.registry import rule
from vhls.rewrites.rules.tiling import combine, monoid


@rule("map_par")
def map_par(t: Term, ctx: Ctx) -> Term | None:
    """map(f, xs) -> mapPar(f, xs): every element in space. Exact (same semantics)."""
    return Prim("mapPar", t.static, t.args, pos=t.pos) if is_prim(t, "map", 2) else None


@rule("map_seq")
def map_seq(t: Term, ctx: Ctx) -> Term | None:
    """map(f, xs) -> mapSeq(f, xs): one element per cycle. Exact (same semantics)."""
    return Prim("mapSeq", t.static, t.args, pos=t.pos) if is_prim(t, "map", 2) else None


@rule("reduce_seq")
def reduce_seq(t: Term, ctx: Ctx) -> Term | None:
    """reduce(f, init, xs) -> reduceSeq(f, init, xs): one sequential accumulator. Exact (same semantics)."""
    return Prim("reduceSeq", t.static, t.args, pos=t.pos) if is_prim(t, "reduce", 3) else None


@rule("reduce_tree")
def reduce_tree(t: Term, ctx: Ctx) -> Term | None:
    """reduce(fun (acc, x) => acc (+) g(x), init, xs) -> reduceTree(fun (a, b) => a (+) b, init, map(fun x => G, xs))
    where G is g brought into the accumulator type (cast<ACC, TRN, WRAP>, exact here) unless it already has it.

    Side condition: (+) is a monoid for the types (see tiling.monoid: wrap-around fixed add with no quantisation,
    or max/min); anything else (f32 sums, saturating steps) is refused. Exact. Also for reduceSeq."""
    if not is_prim(t, REDUCES, 3):
        return None
    f, init, xs = t.args
    assert isinstance(f, Lam)
    xt, acc_t = ctx.type_of(xs), ctx.type_of(init)
    if not isinstance(xt, Array):
        return None
    m = monoid(f, acc_t, ctx, xt.elem)
    if m is None:
        return None
    op, g = m
    x = f.params[1].name
    gt = ctx.type_of(g, {x: xt.elem})
    conv = g if gt == acc_t else prim("cast", g, static=(acc_t, "TRN", "WRAP"))
    elems = xs if conv == Var(x) else prim("map", lam(x, conv, (f.params[1].type,)), xs)
    a, b = "a", "b"
    return prim("reduceTree", lam((a, b), combine(op, acc_t, Var(a), Var(b))), init, elems)  # type: ignore[arg-type]


def _stage(v: Term) -> bool:
    """A let-bound value worth decoupling: computed (not a literal or a name) and not already buffered."""
    return isinstance(v, Prim) and v.op not in ("buffer", "fifo")


@rule("insert_fifo", params=(("depth", 2),))
def insert_fifo(t: Term, ctx: Ctx, depth: int) -> Term | None:
    """let h = v in b -> let h = fifo<depth>(v) in b: a FIFO between the stage computing h and its consumers.

    Side conditions: v is a computed array (a primitive application, not a literal, not already buffered),
    depth >= 1. Exact (a FIFO is the identity on values)."""
    if not isinstance(t, Let) or not _stage(t.value) or depth < 1:
        return None
    if not isinstance(ctx.type_of(t.value), Array):
        return None
    return Let(t.name, prim("fifo", t.value, static=(depth,)), t.body, pos=t.pos)


@rule("insert_buffer")
def insert_buffer(t: Term, ctx: Ctx) -> Term | None:
    """let h = v in b -> let h = buffer(v) in b: a full (ping-pong) buffer after the stage computing h.

    Side condition: v is a computed value (a primitive application, not already buffered; a FIFO'd value may be:
    the producer's output FIFO feeding the consumer's buffer). Exact (identity)."""
    if not isinstance(t, Let):
        return None
    v = t.value.args[0] if is_prim(t.value, "fifo", 1) else t.value
    if not _stage(v):
        return None
    return Let(t.name, prim("buffer", t.value), t.body, pos=t.pos)


@rule("remove_buffer")
def remove_buffer(t: Term, ctx: Ctx) -> Term | None:
    """buffer(x) -> x, fifo<d>(x) -> x. Exact."""
    return t.args[0] if is_prim(t, ("buffer", "fifo"), 1) else None
