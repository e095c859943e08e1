"""Map fusion and fission. Both exact: they only move where a pure function is applied."""

from vhls.ir.terms import Lam, Let, Prim, Term, Var, free_vars, fresh, substitute
from vhls.rewrites.core import MAPS, Ctx, is_prim, lam, occurrences
from vhls.rewrites.registry import rule


@rule("map_fusion")
def map_fusion(t: Term, ctx: Ctx) -> Term | None:
    """map(fun y => B, map(fun x => A, xs)) -> map(fun x => B[y := A], xs).

    Side conditions: both maps the same primitive (map, mapPar or mapSeq). When y occurs more than once in B the
    replacement is `let y = A in B` (A computed once). The new parameter is renamed away from B's free names."""
    if not (is_prim(t, MAPS, 2) and is_prim(t.args[1], t.op, 2)):
        return None
    outer, inner = t.args[0], t.args[1]
    assert isinstance(outer, Lam) and isinstance(inner.args[0], Lam)
    f, g, xs = outer, inner.args[0], inner.args[1]
    y, x = f.params[0].name, g.params[0].name
    xn = fresh(x, free_vars(f.body) | (free_vars(g.body) - {x}) | {y})
    a = g.body if xn == x else substitute(g.body, x, Var(xn))
    body = substitute(f.body, y, a) if occurrences(f.body, y) <= 1 else Let(y, a, f.body)
    return Prim(t.op, (), (lam(xn, body, (g.params[0].type,)), xs))


@rule("map_fission")
def map_fission(t: Term, ctx: Ctx) -> Term | None:
    """map(fun x => let y = A in B, xs) -> map(fun y => B, map(fun x => A, xs))   when x is not free in B;
    map(fun x => op(a1, .., G, .., an), xs) -> map(fun y => op(a1, .., y, .., an), map(fun x => G, xs))
    when G is the only argument mentioning x, G is not x itself and is not a lambda.

    The inverse of map_fusion (for map, mapPar and mapSeq alike); y is fresh."""
    if not is_prim(t, MAPS, 2):
        return None
    f, xs = t.args
    assert isinstance(f, Lam)
    x, body = f.params[0].name, f.body
    if isinstance(body, Let):
        if x in free_vars(body.body) or body.name == x:
            return None
        first = Prim(t.op, (), (lam(x, body.value, (f.params[0].type,)), xs))
        return Prim(t.op, (), (lam(body.name, body.body), first))
    if not isinstance(body, Prim):
        return None
    uses = [i for i, a in enumerate(body.args) if x in free_vars(a)]
    if len(uses) != 1:
        return None
    i = uses[0]
    g = body.args[i]
    if isinstance(g, Lam) or g == Var(x):
        return None
    y = fresh("y", set().union(*(free_vars(a) for a in body.args)) | {x})
    args = list(body.args)
    args[i] = Var(y)
    first = Prim(t.op, (), (lam(x, g, (f.params[0].type,)), xs))
    return Prim(t.op, (), (lam(y, Prim(body.op, body.static, tuple(args))), first))
