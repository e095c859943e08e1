"""vhls.rewrites: rewrite rules over the IR (registered by name), strategies that place them, and the lowered
primitives they introduce (mapPar/mapSeq, reduceSeq/reduceTree, buffer/fifo)."""

from vhls.rewrites import lowered  # noqa: F401  (registers the lowered primitives)
from vhls.rewrites.core import Ctx, RewriteError
from vhls.rewrites.registry import RULES, Rule, RuleInfo, get, known
from vhls.rewrites.strategy import (
    all_,
    apply,
    at,
    bottomup,
    everywhere,
    lchoice,
    normalize,
    one,
    repeat,
    rewrite,
    seq,
    topdown,
    try_,
)

__all__ = ["RULES", "Ctx", "RewriteError", "Rule", "RuleInfo", "all_", "apply", "at", "bottomup", "everywhere",
           "get", "known", "lchoice", "normalize", "one", "repeat", "rewrite", "seq", "topdown", "try_"]
