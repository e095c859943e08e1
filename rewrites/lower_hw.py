"""Hardware lowering as IR-to-IR steps: a checked dense network plus the backend's (PE, SIMD) per stage gives the
lowered program the nn backend builds, written only with registered rules placed by strategies.

Per dense stage `map(fun wb => POST(reduce(f, init, zip(row, x))), rows)` with PE outputs and SIMD inputs a cycle:

    neurons  split_map(PE), map_seq, map_par:   join(mapSeq(fun c => mapPar(fun wb => ..., c), split<PE>(rows)))
                                                -- n_out/PE neuron folds in time, PE neurons in space
    synapses quantise_terms (where products have more fraction bits than the accumulator), split_reduce(SIMD),
             reduce_seq, map_seq, reduce_tree, map_par:
             reduceSeq(fun (a, p) => a + p, init,
                       mapSeq(fun c => reduceTree(fun (a, b) => a + b, 0, mapPar(fun q => cast<ACC>(w·x), c)),
                              split<SIMD>(zip(row, x))))
                                                -- n_in/SIMD synapse folds accumulated in time, SIMD products
                                                   summed by an adder tree in space
A convolution stage is the same map over output channels (PE) whose neurons map over pixels: those maps become
mapSeq (one window per step), the reduce over the window is tiled by SIMD. An elementwise map after a stage (a
separate ReLU, fused into the stage's requantiser in hardware) is tiled by its producer's PE. A let-bound stage
output consumed by the next stage becomes `buffer(fifo<d>(...))`: the producer's output FIFO (depth d as plan.py
sizes it) and the consumer's ping-pong input buffer; a let-bound last stage gets its FIFO. Window and pool units
(layout maps, max reductions over windows) are left as they are.

Before tiling, every weight literal and accumulator is narrowed to the fewest bits that hold its values
(narrow_weights, narrow_acc).
Every step is an exact rule, so golden(lowered) == golden(source) bit for bit (tests/rewrites/test_lower_hw.py
checks it on random plans); `read_plan` recovers the (PE, SIMD) factors from the lowered text alone.
"""

from collections.abc import Callable, Sequence

from vhls.ir.errors import VhlsError
from vhls.ir.terms import Const, Lam, Let, Prim, Program, Term, Var
from vhls.rewrites.core import Ctx, is_prim
from vhls.rewrites.registry import get
from vhls.rewrites.strategy import Strategy, apply, at, everywhere, seq, topdown, try_

POST_OPS = ("cast", "max", "min")


def weight_names(body: Term) -> frozenset[str]:
    """Names of the program's let-bound literals (and transposes of them): the weights and biases."""
    names: set[str] = set()
    while isinstance(body, Let):
        if _is_weights(body.value, names):
            names.add(body.name)
        body = body.body
    return frozenset(names)


def _is_weights(t: Term, names: set[str] | frozenset[str]) -> bool:
    if isinstance(t, Var):
        return t.name in names
    if is_prim(t, ("transpose", "zip")):
        return all(_is_weights(a, names) for a in t.args)
    return isinstance(t, Const)


def _stage_reduce(body: Term, weights: frozenset[str]) -> Prim | None:
    """The reduce a neuron's body computes, under its casts and max/min with constants and under maps over
    non-weight arrays (a convolution's pixels); None when `body` is not a neuron."""
    while isinstance(body, Prim):
        if body.op == "reduce":
            return body
        if body.op == "map" and isinstance(body.args[0], Lam) and not _is_weights(body.args[1], weights):
            body = body.args[0].body
            continue
        if body.op not in POST_OPS:
            return None
        inner = [a for a in body.args if isinstance(a, Prim) and not _is_weights(a, weights)]
        if len(inner) != 1:
            return None
        body = inner[0]
    return None


def is_stage(t: Term, weights: frozenset[str]) -> bool:
    """A dense or convolution stage: a map over weight rows whose body ends in a reduce (its neurons)."""
    return (is_prim(t, "map", 2) and isinstance(t.args[0], Lam) and _is_weights(t.args[1], weights)
            and _stage_reduce(t.args[0].body, weights) is not None)


def _is_post_map(t: Term) -> bool:
    """map(fun v => POST(v), h): a separate ReLU (or cast) that the hardware fuses into the stage before it."""
    if not (is_prim(t, "map", 2) and isinstance(t.args[0], Lam) and len(t.args[0].params) == 1):
        return False
    v, body = t.args[0].params[0].name, t.args[0].body
    while is_prim(body, POST_OPS):
        rest = [a for a in body.args if not isinstance(a, Const)]
        if len(rest) != 1:
            return False
        body = rest[0]
    return body == Var(v)


def _pixels_in_time() -> Strategy:
    """map(fun p => B, xs) -> mapSeq(...) down the chain of a convolution's pixel loops."""

    def run(t: Term, ctx: Ctx) -> Term | None:
        if not is_prim(t, "map", 2):
            return None
        return seq(get("map_seq"), at([0], try_(run)))(t, ctx)

    return run


def lower_reduce(simd: int) -> Strategy:
    """reduce over n synapses -> reduceSeq over n/SIMD folds of a SIMD-wide reduceTree of mapPar products."""
    return seq(try_(get("quantise_terms")), get("split_reduce", simd), at([2], get("map_seq")), get("reduce_seq"),
               at([2, 0], seq(get("reduce_tree"), try_(at([2], get("map_par"))))))


def lower_map(pe: int) -> Strategy:
    """map over m neurons -> join(mapSeq over m/PE folds of mapPar over PE neurons)."""
    return seq(get("split_map", pe), at([0], seq(get("map_seq"), at([0], get("map_par")))))


class _Lowering:
    """Post-order over the program (children first: a stage's producer is lowered before the stage)."""

    def __init__(self, pairs: Sequence[tuple[int, int]], weights: frozenset[str], outputs: set[str]) -> None:
        self.pairs = list(pairs)
        self.weights = weights
        self.outputs = outputs  # let names bound to a stage's output
        self.done = 0  # stages lowered so far

    def __call__(self, t: Term, ctx: Ctx) -> Term | None:
        if is_stage(t, self.weights):
            pe, simd = self.pairs[self.done]
            neuron = seq(try_(_pixels_in_time()), topdown(lower_reduce(simd)))
            r = seq(at([0], neuron), lower_map(pe))(t, ctx)
            if r is None:
                raise VhlsError(f"lowering: stage {self.done} cannot be tiled as PE={pe}, SIMD={simd} (the sizes "
                                "must divide and the accumulation must be a wrap-around add)")
            self.done += 1
            return r
        if _is_post_map(t) and self.done and isinstance(t.args[1], Var) and t.args[1].name in self.outputs:
            return lower_map(self.pairs[self.done - 1][0])(t, ctx)
        return None


def _stage_lets(body: Term, weights: frozenset[str]) -> list[tuple[str, int]]:
    """(let name, index of the stage) for the let carrying each let-bound stage's output (the stage's own let, or
    the separate ReLU let right after it)."""
    out: list[tuple[str, int]] = []
    done = 0
    while isinstance(body, Let):
        v = body.value
        n = _count_stages(v, weights)
        if n:
            done += n
            out.append((body.name, done - 1))
        elif out and _is_post_map(v) and out[-1][1] == done - 1 and v.args[1] == Var(out[-1][0]):
            out[-1] = (body.name, done - 1)
        body = body.body
    return out


def _let_names(body: Term, pred: Callable[[Term], bool]) -> set[str]:
    names: set[str] = set()
    while isinstance(body, Let):
        if pred(body.value):
            names.add(body.name)
        body = body.body
    return names


def _count_stages(t: Term, weights: frozenset[str]) -> int:
    if isinstance(t, Lam):
        return _count_stages(t.body, weights)
    if isinstance(t, Let):
        return _count_stages(t.value, weights) + _count_stages(t.body, weights)
    if isinstance(t, Prim):
        return int(is_stage(t, weights)) + sum(_count_stages(a, weights) for a in t.args)
    return 0


def _at_let(name: str, s: Strategy) -> Strategy:
    def run(t: Term, ctx: Ctx) -> Term | None:
        return s(t, ctx) if isinstance(t, Let) and t.name == name else None

    return run


def narrow_storage(prog: Program) -> Program:
    """Every weight literal at the narrowest type holding its values (rule narrow_weights), then every accumulator at
    the narrowest type holding its exact range over those weights (narrow_acc): the ROM words, multiplier operands,
    products, adder trees and accumulators the backend builds are that much narrower, the values the same."""
    out = apply(prog, seq(everywhere(get("narrow_weights")), everywhere(get("narrow_acc"))))
    assert out is not None  # everywhere never fails
    return out


def lower(prog: Program, pairs: Sequence[tuple[int, int]], fifo_depths: Sequence[int] | None = None,
          narrow: bool = True) -> Program:
    """The lowered program for (PE, SIMD) per dense stage, in stage order; `fifo_depths` (per stage, default 2)
    sizes the FIFOs between stages. `narrow`: weights stored narrowed first (narrow_storage), as the backend builds
    them unless a fault-tolerance scheme depends on their declared type."""
    if narrow:
        prog = narrow_storage(prog)
    pairs = [(int(pe), int(simd)) for pe, simd in pairs]
    depths = list(fifo_depths) if fifo_depths is not None else [2] * len(pairs)
    weights = weight_names(prog.body)
    n = _count_stages(prog.body, weights)
    if n != len(pairs):
        raise VhlsError(f"lowering: `{prog.name}` has {n} stage(s) but {len(pairs)} (PE, SIMD) pair(s) were given")
    marks = _stage_lets(prog.body, weights)
    low = _Lowering(pairs, weights, _let_names(prog.body, lambda v: _count_stages(v, weights) > 0))
    out = apply(prog, everywhere(low))
    assert out is not None and low.done == n  # everywhere never fails and visits every stage
    for name, stage in marks:
        s = get("insert_fifo", depths[stage])
        if stage < len(pairs) - 1:
            s = seq(s, get("insert_buffer"))
        r = apply(out, topdown(_at_let(name, s)))
        if r is None:
            raise VhlsError(f"lowering: cannot insert the FIFO after stage {stage} at `let {name}`")
        out = r
    return out


# ---------------------------------------------------------------------------------------------- reading back
def _split_k(t: Term) -> int | None:
    return int(t.static[0]) if is_prim(t, "split", 1) else None


def _neuron_tiling(t: Term) -> tuple[int, Lam] | None:
    """join(mapSeq(fun c => mapPar(F, c), split<PE>(rows))) -> (PE, F)."""
    if not is_prim(t, "join", 1) or not is_prim(t.args[0], "mapSeq", 2):
        return None
    outer = t.args[0]
    fold, rows = outer.args
    pe = _split_k(rows)
    if pe is None or not isinstance(fold, Lam) or not is_prim(fold.body, "mapPar", 2):
        return None
    f = fold.body.args[0]
    return (pe, f) if isinstance(f, Lam) else None


def _synapse_tiling(t: Term) -> int | None:
    """reduceSeq(_, _, mapSeq(fun c => reduceTree(...), split<SIMD>(pairs))) -> SIMD."""
    if not is_prim(t, "reduceSeq", 3) or not is_prim(t.args[2], "mapSeq", 2):
        return None
    fold, chunks = t.args[2].args
    if not isinstance(fold, Lam) or not is_prim(fold.body, "reduceTree", 3):
        return None
    return _split_k(chunks)


def _find(t: Term, pred) -> Term | None:
    """The first subterm (pre-order) satisfying pred."""
    if pred(t):
        return t
    kids: list[Term] = []
    if isinstance(t, Let):
        kids = [t.value, t.body]
    elif isinstance(t, Prim):
        kids = [a.body if isinstance(a, Lam) else a for a in t.args]
    for k in kids:
        r = _find(k, pred)
        if r is not None:
            return r
    return None


def read_plan(prog: Program) -> list[tuple[int, int]]:
    """(PE, SIMD) per dense stage, in stage order, read from a lowered program's tilings alone."""
    out: list[tuple[int, int]] = []

    def walk(t: Term) -> None:
        if isinstance(t, Let):
            walk(t.value)
            walk(t.body)
            return
        if not isinstance(t, Prim):
            return
        nt = _neuron_tiling(t)
        if nt is not None:
            pe, f = nt
            red = _find(f.body, lambda u: _synapse_tiling(u) is not None)
            if red is not None:
                assert isinstance(red, Prim)
                walk(red.args[2].args[1])  # the producer (inside zip(row, x)) comes first
                out.append((pe, _synapse_tiling(red) or 0))
                return
        for a in t.args:
            walk(a.body if isinstance(a, Lam) else a)

    walk(prog.body)
    return out


__all__ = ["is_stage", "lower", "lower_map", "lower_reduce", "read_plan", "weight_names"]
