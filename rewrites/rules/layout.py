"""Layout eliminations: pairs of data-movement primitives that cancel. All exact (pure re-indexing)."""

from vhls.ir.terms import Lam, Term, Var
from vhls.ir.types import Array
from vhls.rewrites.core import MAPS, Ctx, is_prim, prim
from vhls.rewrites.registry import rule


@rule("join_split")
def join_split(t: Term, ctx: Ctx) -> Term | None:
    """join(split<k>(x)) -> x.

    Side conditions: none (split<k> type-checks only when k divides the size; join undoes it)."""
    if is_prim(t, "join", 1) and is_prim(t.args[0], "split", 1):
        return t.args[0].args[0]
    return None


@rule("split_join")
def split_join(t: Term, ctx: Ctx) -> Term | None:
    """split<k>(join(x)) -> x.

    Side condition: x : [m][k]T, i.e. the inner size of x is k (otherwise the chunks differ)."""
    if not (is_prim(t, "split", 1) and is_prim(t.args[0], "join", 1)):
        return None
    x = t.args[0].args[0]
    xt = ctx.type_of(x)
    if isinstance(xt, Array) and isinstance(xt.elem, Array) and xt.elem.size == t.static[0]:
        return x
    return None


@rule("transpose_transpose")
def transpose_transpose(t: Term, ctx: Ctx) -> Term | None:
    """transpose(transpose(x)) -> x."""
    if is_prim(t, "transpose", 1) and is_prim(t.args[0], "transpose", 1):
        return t.args[0].args[0]
    return None


@rule("unzip_zip")
def unzip_zip(t: Term, ctx: Ctx) -> Term | None:
    """unzip(zip(a1, ..., an)) -> tuple(a1, ..., an)."""
    if is_prim(t, "unzip", 1) and is_prim(t.args[0], "zip"):
        return prim("tuple", *t.args[0].args)
    return None


@rule("zip_unzip")
def zip_unzip(t: Term, ctx: Ctx) -> Term | None:
    """zip(get<0>(unzip(z)), ..., get<n-1>(unzip(z))) -> z.

    Side conditions: the same z in every argument, components 0..n-1 in order, and z's elements are n-tuples."""
    if not is_prim(t, "zip"):
        return None
    args = t.args
    if not all(is_prim(a, "get", 1) and a.static[0] == i and is_prim(a.args[0], "unzip", 1)
               for i, a in enumerate(args)):
        return None
    z = args[0].args[0].args[0]
    if any(a.args[0].args[0] != z for a in args):
        return None
    zt = ctx.type_of(z)
    if isinstance(zt, Array) and len(zt.elem.elems) == len(args):  # type: ignore[attr-defined]
        return z
    return None


@rule("get_tuple")
def get_tuple(t: Term, ctx: Ctx) -> Term | None:
    """get<i>(tuple(a0, ..., an)) -> ai (the other components are pure and dropped)."""
    if is_prim(t, "get", 1) and is_prim(t.args[0], "tuple"):
        return t.args[0].args[t.static[0]]
    return None


@rule("map_get_zip")
def map_get_zip(t: Term, ctx: Ctx) -> Term | None:
    """map(fun p => get<i>(p), zip(a0, ..., an)) -> ai (also for mapPar/mapSeq)."""
    if not (is_prim(t, MAPS, 2) and is_prim(t.args[1], "zip")):
        return None
    f = t.args[0]
    assert isinstance(f, Lam)
    body = f.body
    if is_prim(body, "get", 1) and body.args[0] == Var(f.params[0].name):
        return t.args[1].args[body.static[0]]
    return None


@rule("map_id")
def map_id(t: Term, ctx: Ctx) -> Term | None:
    """map(fun x => x, xs) -> xs (also for mapPar/mapSeq)."""
    if is_prim(t, MAPS, 2):
        f = t.args[0]
        assert isinstance(f, Lam)
        if f.body == Var(f.params[0].name):
            return t.args[1]
    return None
