"""Design-space exploration for the nn backend: tilings (PE × SIMD per layer) × precision variants, costed by
`rewrites.cost`, fitted to a `Target`, filtered by accuracy, reduced to a Pareto front over (throughput, latency,
area, accuracy).

    ex = explore(model, get_target("ecp5-85k"), accuracy_drop=1.0)
    ex.chosen            # the best point for the objective
    ex.pareto            # every Pareto point, best objective first

Precision variants come from the registered rewrite rules, applied to the model's IR:
  * `as written`   the program unchanged;
  * `narrow_acc`   exact accumulator narrowing (rule narrow_acc, everywhere) — bit-identical outputs;
  * `w<k>`         quantise_weights(k) on every weight literal, then narrow_acc (approximate);
  * `mixed`        per layer the fewest weight bits (quantise_weights) and result bits (quantise_result: the
                   layer's output type narrowed to k bits, the same integer bits) whose change alone stays within the
                   accuracy tolerance, then narrow_acc; when the combination exceeds the tolerance, the single
                   changes costing the most accuracy are undone one by one until it fits.
Accuracy is measured with the golden model (the IR interpreter): top-1 accuracy on the model's `test_set`, or
else agreement of the argmax with the unmodified model on its `calibration` inputs. `accuracy_drop` is in
percentage points relative to the unmodified program. Every layer's sensitivity (accuracy drop when only that
layer's weights, or only its results, are quantised to k bits) is measured too: it names the layer that limits an
unreachable tolerance.

Tilings: for every candidate initiation interval II (each stage's possible cycle count), each layer keeps the
(PE, SIMD) choices meeting II with at most `balance` times the fewest multipliers that meet it (as
`backends.nn.plan.allocate` does with balance 1): balanced pipelines, no stage far faster than the bottleneck
needs. At most `per_layer` choices per layer and II (the cheapest) keep the product small.
"""

import itertools
import math
import os
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from vhls.backends.nn.recognise import Network, recognise
from vhls.ir.errors import VhlsError
from vhls.ir.interp import evaluate
from vhls.ir.terms import Const, Let, Program, Term
from vhls.rewrites.core import Ctx
from vhls.rewrites.cost import Cost, CostModel
from vhls.rewrites.registry import get
from vhls.rewrites.strategy import everywhere, rewrite
from vhls.rewrites.targets import Target

if TYPE_CHECKING:
    from vhls.model import Model

OBJECTIVES = ("throughput", "latency", "area")
DEFAULT_BITS = (8, 6, 4)
DEFAULT_RESULT_BITS = (12, 10, 8)
POOL_MIN_JOBS = 12  # accuracy evaluations run in a process pool from this many (and more than one worker)


# ---------------------------------------------------------------------------------------------- variants
@dataclass
class Variant:
    name: str
    rules: tuple[str, ...]
    program: Program
    net: Network
    exact: bool
    weight_bits: tuple[int, ...]
    accuracy: float = math.nan
    result_bits: tuple[int, ...] = ()
    drop: float = math.nan


def weight_lets(prog: Program) -> list[str]:
    """Names of the let-bound weight literals (rank >= 2 constants) in program order."""
    names, t = [], prog.body
    while isinstance(t, Let):
        if isinstance(t.value, Const) and len(np.shape(t.value.array())) >= 2:
            names.append(t.name)
        t = t.body
    return names


def _only_let(name: str, rule: Callable[[Term, Ctx], Term | None]) -> Callable[[Term, Ctx], Term | None]:
    def run(t: Term, ctx: Ctx) -> Term | None:
        return rule(t, ctx) if isinstance(t, Let) and t.name == name else None

    return run


def _layer_lets(prog: Program, net: Network) -> list[str] | None:
    """The weight literal of each layer, in layer order, or None when they cannot be matched one to one."""
    names = weight_lets(prog)
    if len(names) != len(net.layers):
        return None
    t, shapes = prog.body, {}
    while isinstance(t, Let):
        if t.name in names:
            shapes[t.name] = np.shape(t.value.array())  # type: ignore[union-attr]
        t = t.body
    for n, ly in zip(names, net.layers, strict=True):
        if shapes[n] not in ((ly.n_out, ly.n_in), (ly.n_in, ly.n_out)):
            return None
    return names


def _result_lets(prog: Program, net: Network) -> list[str]:
    """The let bound to each layer's result, in layer order, for every layer but a last one that is not let-bound
    (its result is the program's: its type stays)."""
    from vhls.rewrites.lower_hw import is_stage, weight_names

    weights, names, t = weight_names(prog.body), [], prog.body
    while isinstance(t, Let):
        if is_stage(t.value, weights):
            names.append(t.name)
        t = t.body
    return names[:len(net.layers)]


def _quantised(prog: Program, bits: Sequence[int | None], lets: Sequence[str], rbits: Sequence[int | None] = (),
               rlets: Sequence[str] = ()) -> tuple[Program, tuple[str, ...]]:
    """quantise_result(k) on each layer's result let and quantise_weights(k) on each layer's literal (None:
    unchanged), then narrow_acc everywhere."""
    rules: list[str] = []
    for k, name in zip(rbits, rlets, strict=False):
        if k is not None:
            new = rewrite(prog, everywhere(_only_let(name, get("quantise_result", k))))
            if new != prog:
                prog = new
                rules.append(f"quantise_result({k})@{name}")
    for k, name in zip(bits, lets, strict=True):
        if k is not None:
            prog = rewrite(prog, everywhere(_only_let(name, get("quantise_weights", k))))
            rules.append(f"quantise_weights({k})@{name}")
    prog = rewrite(prog, everywhere(get("narrow_acc")))
    return prog, (*rules, "narrow_acc")


def _bits(net: Network) -> tuple[int, ...]:
    return tuple(ly.w_type.width for ly in net.layers)


def _variant(name: str, prog: Program, rules: tuple[str, ...], exact: bool) -> Variant:
    net = recognise(prog)
    return Variant(name, rules, prog, net, exact, _bits(net), result_bits=tuple(ly.out_type.width for ly in net.layers))


# ---------------------------------------------------------------------------------------------- accuracy
@dataclass(frozen=True)
class Scorer:
    """How accuracy is measured: raw golden-model inputs and the labels their argmax should match."""

    metric: str  # "test accuracy" | "agreement with the unmodified model"
    x_raw: np.ndarray
    labels: np.ndarray


def make_scorer(model: "Model", limit: int | None = None) -> Scorer:
    if model.test_set is not None:
        x, y = model.test_set
        x, y = np.asarray(x)[:limit], np.asarray(y)[:limit]
        return Scorer("test accuracy", model.quantise_input(x), np.asarray(y).reshape(-1).astype(np.int64))
    x = model.calibration
    if x is None:
        x = np.random.default_rng(0).standard_normal((256, *model.input_shape))
    x = np.asarray(x)[:limit]
    raw = model.quantise_input(x)
    ref = np.asarray(evaluate(model.ir, raw)).astype(object)
    return Scorer("agreement with the unmodified model", raw, _argmax(ref))


def _argmax(raw: np.ndarray) -> np.ndarray:
    a = np.asarray(raw)
    return np.asarray([max(range(a.shape[-1]), key=lambda i, r=r: int(r[i])) for r in a.reshape(-1, a.shape[-1])])


def score(prog: Program, x_raw: np.ndarray, labels: np.ndarray) -> float:
    """Percent of inputs whose golden-model argmax equals the label (ties: the first maximum, as numpy)."""
    out = np.asarray(evaluate(prog, x_raw))
    try:
        pred = np.argmax(out.astype(np.int64), axis=-1)
    except OverflowError:
        pred = _argmax(out)
    return 100.0 * float(np.mean(pred.reshape(-1) == labels))


def _score_job(job: tuple[Program, np.ndarray, np.ndarray]) -> float:
    return score(*job)


def score_all(progs: Sequence[Program], sc: Scorer, workers: int | None = None) -> list[float]:
    """Accuracy of every program, in order; a process pool when there are many (results do not depend on it)."""
    jobs = [(p, sc.x_raw, sc.labels) for p in progs]
    w = workers if workers is not None else min(4, os.cpu_count() or 1)
    if w > 1 and len(jobs) >= POOL_MIN_JOBS:
        with ProcessPoolExecutor(max_workers=w) as ex:
            return list(ex.map(_score_job, jobs))
    return [_score_job(j) for j in jobs]


# ---------------------------------------------------------------------------------------------- tilings
def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def tilings(net: Network, balance: float = 2.0, per_layer: int = 3) -> list[tuple[tuple[int, int], ...]]:
    """Balanced (PE, SIMD) assignments, one per candidate II (see the module docstring), deduplicated."""
    opts = [[(pe, s, (ly.n_out // pe) * (ly.n_in // s)) for pe in _divisors(ly.n_out) for s in _divisors(ly.n_in)]
            for ly in net.layers]
    iis = sorted({c for o in opts for _, _, c in o})
    seen: set[tuple[tuple[int, int], ...]] = set()
    out = []
    for ii in iis:
        per = []
        for o in opts:
            ok = [(pe * s, -s, pe, s) for pe, s, c in o if c <= ii]
            best = min(m for m, *_ in ok)
            keep = sorted(k for k in ok if k[0] <= balance * best)[:per_layer]
            per.append([(pe, s) for _, _, pe, s in keep])
        for combo in itertools.product(*per):
            if combo not in seen:
                seen.add(combo)
                out.append(combo)
    return out


# ---------------------------------------------------------------------------------------------- points
@dataclass
class Point:
    variant: Variant
    parallel: tuple[tuple[int, int], ...]
    cost: Cost
    area: float

    @property
    def accuracy(self) -> float:
        return self.variant.accuracy

    @property
    def drop(self) -> float:
        return self.variant.drop

    def key(self, objective: str) -> tuple:
        c = self.cost
        if objective == "latency":
            return (c.latency, c.ii, self.area, -self.accuracy)
        if objective == "area":
            return (self.area, c.ii, c.latency, -self.accuracy)
        return (c.ii, c.latency, self.area, -self.accuracy)

    def as_dict(self, target: Target) -> dict:
        c = self.cost
        return {
            "precision": self.variant.name,
            "rules": list(self.variant.rules),
            "exact": self.variant.exact,
            "weight_bits": list(self.variant.weight_bits),
            "result_bits": list(self.variant.result_bits),
            "parallel": [list(p) for p in self.parallel],
            "ii_cycles": c.ii,
            "latency_cycles": c.latency,
            "throughput_per_s": c.throughput,
            "latency_ns": c.latency_ns,
            "multipliers": c.multipliers,
            "dsp": c.dsp,
            "lut": c.lut,
            "ff": c.ff,
            "bram": c.bram,
            "lut_multipliers": c.res.lut_multipliers,
            "area": self.area,
            "utilisation": c.utilisation(target),
            "accuracy": self.accuracy,
            "accuracy_drop": self.drop,
        }


def pareto(points: Iterable[Point]) -> list[Point]:
    """Points no other point beats or equals on every objective: II (lower is more throughput), latency, area,
    accuracy. Among identical objective tuples the one with the smallest summed utilisation is kept."""
    pts = sorted(points, key=lambda p: (p.cost.ii, p.cost.latency, p.area, -p.accuracy, p.cost.lut + p.cost.ff))
    front: list[Point] = []
    for p in pts:
        a = (p.cost.ii, p.cost.latency, p.area, -p.accuracy)
        if not any(q.cost.ii <= a[0] and q.cost.latency <= a[1] and q.area <= a[2] and -q.accuracy <= a[3]
                   for q in front):
            front.append(p)
    return front


@dataclass
class Exploration:
    target: Target
    objective: str
    metric: str
    base_accuracy: float
    accuracy_drop: float
    variants: list[Variant]
    pareto: list[Point]
    chosen: Point
    evaluated: int
    feasible: int
    sensitivity: dict[str, dict[int, float]] = field(default_factory=dict)
    result_sensitivity: dict[str, dict[int, float]] = field(default_factory=dict)
    seconds: float = 0.0
    points: list[Point] = field(default_factory=list, repr=False)  # every fitting point within the tolerance

    def as_dict(self, model_name: str) -> dict:
        return {
            "model": model_name,
            "target": {"name": self.target.name, "family": self.target.family, **self.target.budget(),
                       "bram_kbit": self.target.bram_kbit, "fclk_mhz": self.target.fclk_mhz},
            "objective": self.objective,
            "accuracy_metric": self.metric,
            "base_accuracy": self.base_accuracy,
            "accuracy_drop_limit": self.accuracy_drop,
            "points_evaluated": self.evaluated,
            "points_feasible": self.feasible,
            "seconds": self.seconds,
            "calibrated": {"multipliers": "exact (backend report)", "ii": "exact (plan.py)",
                           "latency": "exact (plan.py)", "dsp": "yosys DSP inference rule (exact on 15 points)",
                           "lut": "estimate, mean |error| 5 % (max 11 %) vs yosys",
                           "ff": "estimate, mean |error| 3 % (max 8 %) vs yosys",
                           "bram": "yosys memory_libmap rule", "see": "bench/results/cost_calibration.json"},
            "variants": [{"name": v.name, "rules": list(v.rules), "exact": v.exact,
                          "weight_bits": list(v.weight_bits), "result_bits": list(v.result_bits),
                          "accuracy": v.accuracy, "accuracy_drop": v.drop}
                         for v in self.variants],
            "sensitivity": {layer: {str(k): d for k, d in per.items()} for layer, per in self.sensitivity.items()},
            "result_sensitivity": {layer: {str(k): d for k, d in per.items()}
                                   for layer, per in self.result_sensitivity.items()},
            "chosen": self.pareto.index(self.chosen),
            "pareto": [p.as_dict(self.target) for p in self.pareto],
        }


# ---------------------------------------------------------------------------------------------- explorer
def precision_variants(model: "Model", accuracy_drop: float, bits: Sequence[int], sc: Scorer, workers: int | None,
                       report: Callable[[str], None] = lambda s: None, result_bits: Sequence[int] = ()) \
        -> tuple[list[Variant], dict, float, dict]:
    """The precision variants with their accuracy, the per-layer weight sensitivity, the base accuracy and the
    per-layer result sensitivity ({layer: {bits: accuracy drop}})."""
    base = _variant("as written", model.ir, (), True)
    variants = [base]
    narrow = rewrite(model.ir, everywhere(get("narrow_acc")))
    if narrow != model.ir:
        variants.append(_variant("narrow_acc", narrow, ("narrow_acc",), True))
    lets = _layer_lets(model.ir, base.net)
    rlets = _result_lets(model.ir, base.net)
    singles: list[tuple[str, str, int, Program]] = []  # (kind, layer, bits, program)
    if lets is not None:
        for k in bits:
            prog, rules = _quantised(model.ir, [k] * len(lets), lets)
            if prog not in (v.program for v in variants):
                variants.append(_variant(f"w{k}", prog, rules, False))
        for ly, name in zip(base.net.layers, lets, strict=True):
            for k in bits:
                choice = [k if n == name else None for n in lets]
                singles.append(("w", ly.name, k, _quantised(model.ir, choice, lets)[0]))
    for ly, name in zip(base.net.layers, rlets, strict=False):
        for k in result_bits:
            prog, rules = _quantised(model.ir, [], [], [k], [name])
            if len(rules) > 1:  # quantise_result applied
                singles.append(("r", ly.name, k, prog))
    report(f"accuracy of {len(variants) + len(singles)} precision variants ({sc.metric}, {len(sc.labels)} inputs)")
    accs = score_all([v.program for v in variants] + [p for *_, p in singles], sc, workers)
    base_acc = accs[0]
    for v, a in zip(variants, accs, strict=False):
        v.accuracy, v.drop = a, base_acc - a
        if v.exact and a != base_acc:
            raise VhlsError(f"internal: exact variant {v.name} changed the accuracy ({a} vs {base_acc})")
    sens: dict[str, dict[int, float]] = {}
    rsens: dict[str, dict[int, float]] = {}
    for (kind, layer, k, _), a in zip(singles, accs[len(variants):], strict=True):
        (sens if kind == "w" else rsens).setdefault(layer, {})[k] = base_acc - a
    mv = _mixed(model, base, lets or [], rlets, sens, rsens, accuracy_drop, sc, base_acc)
    if mv is not None and mv.program not in (v.program for v in variants):
        variants.append(mv)
    return variants, sens, base_acc, rsens


def _mixed(model: "Model", base: Variant, lets: Sequence[str], rlets: Sequence[str], sens: dict, rsens: dict,
           tol: float, sc: Scorer, base_acc: float) -> Variant | None:
    """Per layer the fewest weight and result bits whose change alone stays within `tol`; while the combination
    does not, the single change costing the most accuracy is undone."""
    layers = [ly.name for ly in base.net.layers]
    choice: dict[tuple[str, int], tuple[int, float]] = {}  # (kind, layer index) -> (bits, drop alone)
    for i, name in enumerate(layers):
        for kind, table in (("w", sens if lets else {}), ("r", rsens if i < len(rlets) else {})):
            ok = [(k, d) for k, d in table.get(name, {}).items() if d <= tol + 1e-9]
            if ok:
                choice[(kind, i)] = min(ok)
    while choice:
        wb = [choice[("w", i)][0] if ("w", i) in choice else None for i in range(len(lets))]
        rb = [choice[("r", i)][0] if ("r", i) in choice else None for i in range(len(rlets))]
        prog, rules = _quantised(model.ir, wb, lets, rb, rlets)
        mv = _variant("mixed", prog, rules, False)
        a = score(prog, sc.x_raw, sc.labels)
        mv.accuracy, mv.drop = a, base_acc - a
        if mv.drop <= tol + 1e-9:
            return mv
        del choice[max(choice, key=lambda c: (choice[c][1], c))]
    return None


def _describe_need(p: Point, t: Target) -> str:
    c, u = p.cost, p.cost.utilisation(t)
    over = [k.upper() for k, v in u.items() if v > 1]
    par = ",".join(f"{a}x{b}" for a, b in p.parallel)
    return (f"{c.dsp} DSP, {c.lut:,} LUT, {c.ff:,} FF, {c.bram} BRAM (precision {p.variant.name}, PE x SIMD "
            f"{par}); over budget: {', '.join(over)}")


def explore(model: "Model", target: Target, accuracy_drop: float = 1.0, objective: str = "throughput",
            bits: Sequence[int] = DEFAULT_BITS, result_bits: Sequence[int] = DEFAULT_RESULT_BITS,
            balance: float = 2.0, per_layer: int = 3,
            workers: int | None = None, progress: bool = False, score_limit: int | None = None,
            report: Callable[[str], None] = lambda s: None) -> Exploration:
    """Search tilings x precision variants for `model` on `target` (see the module docstring)."""
    import time

    t0 = time.perf_counter()
    if objective not in OBJECTIVES:
        raise VhlsError(f"unknown objective {objective!r}; choose from {', '.join(OBJECTIVES)}")
    if accuracy_drop < 0 or math.isnan(accuracy_drop):
        raise VhlsError(f"--accuracy-drop must be >= 0 percentage points, got {accuracy_drop}")
    sc = make_scorer(model, score_limit)
    variants, sens, base_acc, rsens = precision_variants(model, accuracy_drop, bits, sc, workers, report, result_bits)
    base_net = variants[0].net
    tiles = tilings(base_net, balance, per_layer)
    cm = CostModel(target)
    total = len(tiles) * len(variants)
    report(f"{len(tiles)} tilings x {len(variants)} precision variants = {total} design points")
    fitting: list[Point] = []
    smallest: Point | None = None
    with _progress(progress, total) as tick:
        for v in variants:
            for par in tiles:
                c = cm.evaluate(v.net, par)
                a = c.area(target)
                if a <= 1.0:
                    fitting.append(Point(v, par, c, a))
                elif smallest is None or a < smallest.area:
                    smallest = Point(v, par, c, a)
            tick(len(tiles))
    if not fitting:
        assert smallest is not None
        raise VhlsError(f"no design fits {target.describe()}: the smallest design needs "
                        f"{_describe_need(smallest, target)}")
    ok = [p for p in fitting if p.drop <= accuracy_drop + 1e-9]
    if not ok:
        raise VhlsError(_accuracy_message(fitting, accuracy_drop, sens, sc.metric, rsens))
    front = pareto(ok)
    front.sort(key=lambda p: p.key(objective))
    return Exploration(target, objective, sc.metric, base_acc, accuracy_drop, variants, front, front[0],
                       evaluated=total, feasible=len(fitting), sensitivity=sens, seconds=time.perf_counter() - t0,
                       points=ok, result_sensitivity=rsens)


def _accuracy_message(fitting: list[Point], tol: float, sens: dict[str, dict[int, float]], metric: str,
                      rsens: dict[str, dict[int, float]] | None = None) -> str:
    best = min(fitting, key=lambda p: (p.drop, p.area))
    v = best.variant
    msg = (f"an accuracy drop of at most {tol:g} points ({metric}) is unreachable within the budget: every design "
           f"that fits needs approximate weights or results; the most accurate ({v.name}, weight bits "
           f"{list(v.weight_bits)}, result bits {list(v.result_bits)}) drops {v.drop:.2f} points")
    limits = []
    for ly, b, rb in zip(v.net.layers, v.weight_bits, v.result_bits, strict=True):
        d = sens.get(ly.name, {}).get(b)
        if d is not None:
            limits.append((d, ly.name, f"{b}-bit weights"))
        d = (rsens or {}).get(ly.name, {}).get(rb)  # only narrowed widths were measured
        if d is not None:
            limits.append((d, ly.name, f"{rb}-bit results"))
    if limits:
        d, name, what = max(limits)
        msg += f"; layer {name} limits it: {name} alone with {what} drops {d:.2f} points"
    return msg


class _progress:
    """A rich progress bar on stderr (or nothing)."""

    def __init__(self, on: bool, total: int) -> None:
        self.on, self.total = on, total

    def __enter__(self) -> Callable[[int], None]:
        if not self.on:
            return lambda n: None
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self.p = Progress(TextColumn("exploring"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                          console=Console(stderr=True), transient=True)
        self.p.__enter__()
        task = self.p.add_task("points", total=self.total)
        return lambda n: self.p.advance(task, n)

    def __exit__(self, *exc: object) -> None:
        if self.on:
            self.p.__exit__(*exc)


__all__ = ["DEFAULT_BITS", "OBJECTIVES", "Exploration", "Point", "Scorer", "Variant", "explore", "make_scorer",
           "pareto", "precision_variants", "score", "score_all", "tilings", "weight_lets"]
