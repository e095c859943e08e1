"""Strategies in the spirit of ELEVATE: rules say *what* may be rewritten, strategies *where* and *how often*.

A strategy is a function `(term, ctx) -> term | None` (None: it does not apply). Rules are strategies. The
traversals carry the scope (`Ctx`) down, so a rule applied deep inside a lambda still sees every binding above it.

    seq(a, b)        a then b (fails if either fails)
    lchoice(a, b)    a, or b where a fails
    try_(s)          s where it applies, else the term unchanged
    repeat(s, n)     s as often as it applies, at most n times (never fails)
    all_(s)          s on every immediate subterm (fails if one fails);  one(s): on the first where it applies
    topdown(s)       s at the first place it applies, pre-order;  bottomup(s): post-order
    everywhere(s)    try s at every node of the original term, children first; results are not revisited
    at(path, s)      s at the subterm reached by child indices `path`
    normalize(s, n)  topdown(s) until it applies nowhere (at most n rewrites)
"""

from collections.abc import Callable, Sequence

from vhls.ir.check import check
from vhls.ir.terms import Program, Term
from vhls.rewrites.core import Ctx, RewriteError, children, with_children

Strategy = Callable[[Term, Ctx], Term | None]
DEFAULT_BOUND = 10_000


def identity(t: Term, ctx: Ctx) -> Term | None:
    return t


def fail(t: Term, ctx: Ctx) -> Term | None:
    return None


def seq(*ss: Strategy) -> Strategy:
    def run(t: Term, ctx: Ctx) -> Term | None:
        for s in ss:
            r = s(t, ctx)
            if r is None:
                return None
            t = r
        return t

    return run


def lchoice(*ss: Strategy) -> Strategy:
    def run(t: Term, ctx: Ctx) -> Term | None:
        for s in ss:
            r = s(t, ctx)
            if r is not None:
                return r
        return None

    return run


def try_(s: Strategy) -> Strategy:
    return lchoice(s, identity)


def repeat(s: Strategy, bound: int = DEFAULT_BOUND) -> Strategy:
    """Apply s until it no longer applies; the bound stops rules that would apply forever (e.g. fission and
    fusion together)."""

    def run(t: Term, ctx: Ctx) -> Term | None:
        for _ in range(bound):
            r = s(t, ctx)
            if r is None:
                return t
            t = r
        return t

    return run


def all_(s: Strategy) -> Strategy:
    def run(t: Term, ctx: Ctx) -> Term | None:
        kids = children(t, ctx)
        new = []
        for c, cc in kids:
            r = s(c, cc)
            if r is None:
                return None
            new.append(r)
        return with_children(t, new) if kids else t

    return run


def one(s: Strategy) -> Strategy:
    def run(t: Term, ctx: Ctx) -> Term | None:
        kids = children(t, ctx)
        for i, (c, cc) in enumerate(kids):
            r = s(c, cc)
            if r is not None:
                new = [k for k, _ in kids]
                new[i] = r
                return with_children(t, new)
        return None

    return run


def topdown(s: Strategy) -> Strategy:
    def run(t: Term, ctx: Ctx) -> Term | None:
        return lchoice(s, one(run))(t, ctx)

    return run


def bottomup(s: Strategy) -> Strategy:
    def run(t: Term, ctx: Ctx) -> Term | None:
        return lchoice(one(run), s)(t, ctx)

    return run


def everywhere(s: Strategy) -> Strategy:
    """Children first, then s at the node; never fails. Rewritten parts are not visited again, so rules whose
    result contains their own pattern (tiling) still terminate."""

    def run(t: Term, ctx: Ctx) -> Term | None:
        inner = all_(run)(t, ctx)
        assert inner is not None
        r = s(inner, ctx)
        return inner if r is None else r

    return run


def at(path: Sequence[int], s: Strategy) -> Strategy:
    def run(t: Term, ctx: Ctx) -> Term | None:
        if not path:
            return s(t, ctx)
        kids = children(t, ctx)
        i = path[0]
        if not 0 <= i < len(kids):
            return None
        r = at(path[1:], s)(*kids[i])
        if r is None:
            return None
        new = [k for k, _ in kids]
        new[i] = r
        return with_children(t, new)

    return run


def normalize(s: Strategy, bound: int = DEFAULT_BOUND) -> Strategy:
    return repeat(topdown(s), bound)


def count(s: Strategy) -> tuple[Strategy, list[int]]:
    """Wrap s to count its successful applications (for reports: "rule matched N times")."""
    n = [0]

    def run(t: Term, ctx: Ctx) -> Term | None:
        r = s(t, ctx)
        if r is not None:
            n[0] += 1
        return r

    return run, n


# ---------------------------------------------------------------------------------------------- programs
def apply(p: Program, s: Strategy) -> Program | None:
    """Apply s to the program body; None where s fails. The result is re-checked and keeps the output type."""
    q, typing = check(p)
    body = s(q.body, Ctx.of_program(q))
    if body is None:
        return None
    out = Program(p.name, p.params, body, pos=p.pos)
    r, rtyping = check(out)
    if rtyping[r.body] != typing[q.body]:
        raise RewriteError(f"internal: rewriting changed the program type from {typing[q.body]} to "
                           f"{rtyping[r.body]}")
    return out


def rewrite(p: Program, s: Strategy) -> Program:
    """Like `apply`, but a failing strategy leaves the program unchanged."""
    r = apply(p, s)
    return p if r is None else r
