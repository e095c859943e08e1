"""Static counts over a typed program: how often each primitive executes per input vector."""

from collections import Counter

from vhls.ir.check import Typing, check
from vhls.ir.terms import Lam, Let, Prim, Program, Term
from vhls.ir.types import Array


def op_counts(p: Program) -> Counter[str]:
    """Executions of each primitive for one input (map and reduce multiply their bodies by the array size)."""
    q, typing = check(p)
    counts: Counter[str] = Counter()
    _count(q.body, typing, 1, counts)
    return counts


def _count(t: Term, typing: Typing, times: int, counts: Counter[str]) -> None:
    if isinstance(t, Let):
        _count(t.value, typing, times, counts)
        _count(t.body, typing, times, counts)
    elif isinstance(t, Lam):
        _count(t.body, typing, times, counts)
    elif isinstance(t, Prim):
        counts[t.op] += times
        inner = times
        if t.op in ("map", "reduce"):
            arr = typing[t.args[-1]]
            assert isinstance(arr, Array)
            inner = times * arr.size
        for a in t.args:
            _count(a, typing, inner if isinstance(a, Lam) else times, counts)


def macs(p: Program) -> int:
    """Multiplications per input vector (a MAC is one multiply plus its accumulation)."""
    return op_counts(p)["mul"]
