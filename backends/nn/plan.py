"""Parallelism per dense stage (PE output neurons × SIMD inputs per cycle) and the performance it predicts.

A stage with N inputs, M outputs, PE | M and SIMD | N takes (M/PE)·(N/SIMD) cycles per vector (FINN's MVAU
folding). Stages run concurrently as a pipeline, so the design's initiation interval is the slowest stage's.

`parallel` may be
  * None               fully sequential: PE = SIMD = 1 everywhere;
  * an int B           a global multiplier budget: the smallest initiation interval whose cheapest per-stage
                       choices fit in B multipliers (ties: fewest multipliers);
  * a sequence         one (PE, SIMD) pair per stage;
  * a string           "64" (budget) or "4x2,8x4,..." (PE x SIMD per stage), for the command line.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from vhls.backends.nn.port import Ports
from vhls.backends.nn.recognise import DenseLayer, Network, PoolLayer
from vhls.backends.nn.schedule import SLICE_LATENCY, image_latency, line_buffered, serial_first, window_cycles
from vhls.backends.nn.vecbuf import fill_delay, handoff_delay, land_delay, uses_memory
from vhls.ir.errors import VhlsError

Parallel = int | str | Sequence[tuple[int, int]] | None

# Pipeline depth of a dense stage from "fold issued" to "result readable from the output FIFO" (see dense.py).
ISSUE_TO_MAC = 3  # ROM read, output and route registers (rom.py); the x slice and tags are delayed to match
# Operand, product and product-again registers (a MULT18X18D's input, pipeline and output registers on ECP5), then
# the product once more in the fabric: the route out of the DSP column gets a cycle of its own.
PRODUCT_STAGES = 4
TREE_LEVELS_PER_STAGE = 1  # adder-tree levels between registers: one carry chain per cycle (200 MHz on ECP5)
REQUANT_LATENCY = 1
FIFO_LATENCY = 2  # SyncFIFOBuffered: memory write, then its output register
# ABFT recompute (recompute.py): the checker's registered sum and compare, then the replay buffer's restart (from
# the last accumulators to the next attempt's first beat); the commit buffer's two registers before it releases.
ABFT_VERDICT = 2
ABFT_COMMIT = 2


def tree_stages(simd: int) -> int:
    """Register stages of a SIMD-input adder tree (at least one: it also aligns products to the accumulator)."""
    levels = max(0, (simd - 1).bit_length())
    return max(1, math.ceil(levels / TREE_LEVELS_PER_STAGE))


def mac_latency(simd: int) -> int:
    """Product registers, adder-tree registers, accumulator."""
    return PRODUCT_STAGES + tree_stages(simd) + 1


@dataclass(frozen=True)
class StagePlan:
    layer: DenseLayer
    pe: int
    simd: int
    chunk: int  # elements per input beat: the whole vector for the first stage, else the previous stage's PE
    beat_gap: int = 1  # cycles between the producer's beats (the previous stage's SF)
    hook_stages: int = 0  # registers a fault-tolerance scheme adds before requantisation (protect.NoiseOptions)
    recompute: bool = False  # ABFT recompute: the stage sits between a replay and a commit buffer (recompute.py)

    @property
    def nf(self) -> int:
        """Neuron folds: groups of PE outputs."""
        return self.layer.n_out // self.pe

    @property
    def sf(self) -> int:
        """Synapse folds: cycles per group of PE outputs."""
        return self.layer.n_in // self.simd

    @property
    def cycles(self) -> int:
        """Per inference: a conv layer runs the fold schedule once per window position. With ABFT recompute, the
        fault-free attempt of a vector (each re-execution costs as much again)."""
        if self.recompute:
            return self.attempt_cycles
        return self.nf * self.sf * self.layer.vectors

    @property
    def attempt_cycles(self) -> int:
        """ABFT recompute: one attempt, from its first beat leaving the replay buffer to the next attempt's: the
        beats back to back (each taking the input buffer's write cycles), the folds, the last fold's way to the
        accumulators, the verdict. The replay buffer then sends again: the next vector, or this one on a flag."""
        beats = self.layer.n_in // self.chunk
        per_beat = fill_delay(self.chunk, self.simd) + 1
        return (beats * per_beat + self.handoff + self.nf * self.sf + ISSUE_TO_MAC
                + mac_latency(self.simd) + self.hook_stages + ABFT_VERDICT)

    @property
    def multipliers(self) -> int:
        return self.pe * self.simd

    @property
    def pipeline_depth(self) -> int:
        return ISSUE_TO_MAC + mac_latency(self.simd) + self.hook_stages + REQUANT_LATENCY + FIFO_LATENCY

    @property
    def latency(self) -> int:
        """Cycles from a vector's last input beat being offered to its last result readable from the output FIFO:
        the buffer marks the bank full (1 + fill delay), all folds issue, the last one runs the pipeline. ABFT
        recompute: the replay buffer's slot fills (1), the attempt runs up to its verdict (attempt_cycles - 1), the
        last chunk reaches the commit buffer (1), which releases the vector (ABFT_COMMIT) one chunk per cycle."""
        if self.recompute:
            return self.attempt_cycles + 1 + ABFT_COMMIT + self.nf - 1
        return 1 + self.fill_delay + self.handoff + (self.cycles - 1) + self.pipeline_depth

    @property
    def handoff(self) -> int:
        """Cycles the input buffer adds after its last word is written before the bank is readable."""
        return land_delay(self.chunk, self.simd) + handoff_delay(self.chunk, self.simd)

    @property
    def fill_delay(self) -> int:
        """Cycles between the last beat becoming available and the bank being full, beyond one: a memory buffer
        writes a wide beat one word per cycle, so beats arriving faster than that queue up."""
        beats = self.layer.n_in // self.chunk
        per_beat = fill_delay(self.chunk, self.simd) + 1  # write cycles per beat
        return per_beat - 1 + max(0, (beats - 1) * (per_beat - self.beat_gap))

    @property
    def fifo_depth(self) -> int:
        """Output FIFO entries (PE results each): enough credits that a stage never waits on its own pipeline (nor
        on a credit's one-cycle way back, dense.py), plus the two that the registered credit flag and credit take
        hold back (dense.py: a fold starts only with three entries free a cycle ago)."""
        return math.ceil((self.pipeline_depth + 2) / self.sf) + 4


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def _check(layer: DenseLayer, pe: int, simd: int) -> None:
    if not (isinstance(pe, int) and isinstance(simd, int)) or pe < 1 or simd < 1:
        raise VhlsError(f"{layer.name}: PE and SIMD must be positive integers, got PE={pe}, SIMD={simd}")
    if layer.n_out % pe:
        raise VhlsError(f"{layer.name}: PE={pe} must divide the {layer.n_out} outputs "
                        f"(choose from {_divisors(layer.n_out)})")
    if layer.n_in % simd:
        raise VhlsError(f"{layer.name}: SIMD={simd} must divide the {layer.n_in} inputs "
                        f"(choose from {_divisors(layer.n_in)})")


def _cheapest(layer: DenseLayer, ii: int) -> tuple[int, int] | None:
    """(PE, SIMD) with the fewest multipliers meeting `ii` cycles; prefers SIMD (narrower output chunks)."""
    best: tuple[int, int, int] | None = None
    for pe in _divisors(layer.n_out):
        for simd in _divisors(layer.n_in):
            if (layer.n_out // pe) * (layer.n_in // simd) * layer.vectors <= ii:
                key = (pe * simd, pe, simd)
                if best is None or key < best:
                    best = key
    return None if best is None else (best[1], best[2])


def allocate(net: Network, budget: int, io_cycles: int = 0, hook_stages: int = 0,
             recompute: bool = False) -> list[tuple[int, int]]:
    """Per-stage (PE, SIMD) minimising the initiation interval under a multiplier budget; `io_cycles` (beats per
    vector on narrow top-level ports, port.py) is a floor below which more multipliers would only wait. With ABFT
    `recompute` a stage's cycles are its attempt cycles (see _allocate_attempts)."""
    if budget < len(net.layers):
        raise VhlsError(f"a multiplier budget of {budget} is below one multiplier per layer ({len(net.layers)})")
    if recompute:
        return _allocate_attempts(net, budget, io_cycles, hook_stages)
    floor = max(fixed_cycles(net), io_cycles)  # window and pool units, ports: no multipliers to add
    candidates = sorted({max(floor, (ly.n_out // pe) * (ly.n_in // s) * ly.vectors) for ly in net.layers
                         for pe in _divisors(ly.n_out) for s in _divisors(ly.n_in)})
    best: tuple[int, int, list[tuple[int, int]]] | None = None  # (II, multipliers, pairs)
    for ii in candidates:  # smallest first
        if best is not None and ii > best[0]:
            break
        choice = [_cheapest(ly, ii) for ly in net.layers]
        mults = sum(c[0] * c[1] for c in choice if c)
        if all(c is not None for c in choice) and mults <= budget:
            pairs = [c for c in choice if c]
            # a line buffer may not keep up with this choice's bunched windows (schedule.window_cycles)
            stages = _stages(net, pairs)
            key = (max(max(s.cycles for s in stages), window_unit_cycles(net, stages)), mults, pairs)
            best = key if best is None or key[:2] < best[:2] else best
    if best is None:
        raise AssertionError("unreachable: the fully sequential design always fits")
    return best[2]


def _allocate_attempts(net: Network, budget: int, floor: int, hook_stages: int) -> list[tuple[int, int]]:
    """ABFT recompute (dense stages only): a stage takes StagePlan.attempt_cycles per vector, which add the input
    beats (a chunk is the previous stage's PE), the pipeline and the verdict to the folds. For a cycle target T the
    fewest multipliers whose every stage meets T is an exact dynamic programme over the incoming chunk; fewer
    multipliers never allow a smaller T, so the smallest T within budget is a binary search over the cycle counts
    that occur."""
    layers = net.layers
    chunks = [[net.n_in]] + [_divisors(ly.n_out) for ly in layers[:-1]]
    # per layer and incoming chunk: (cycles, multipliers, pe, simd) of every choice
    opts = [{c: [(StagePlan(ly, pe, simd, c, 1, hook_stages, True).attempt_cycles, pe * simd, pe, simd)
                 for pe in _divisors(ly.n_out) for simd in _divisors(ly.n_in)] for c in cs}
            for ly, cs in zip(layers, chunks, strict=True)]

    def cheapest(t: int) -> tuple[int, list[tuple[int, int]]] | None:
        """Fewest multipliers with every stage's attempt within t cycles, and the pairs."""
        rest: dict[int, tuple[int, list[tuple[int, int]]]] | None = None  # next layer's chunk -> best tail
        for k in reversed(range(len(layers))):
            here = {}
            for c, choices in opts[k].items():
                ok = []
                for cyc, m, pe, simd in choices:
                    tail = (0, []) if rest is None else rest.get(pe)  # None: the rest cannot follow this PE
                    if cyc <= t and tail is not None:
                        ok.append((m + tail[0], pe, simd, tail[1]))
                if ok:
                    m, pe, simd, pairs = min(ok)
                    here[c] = (m, [(pe, simd), *pairs])
            rest = here
        assert rest is not None
        return rest.get(net.n_in)

    targets = sorted({o[0] for per in opts for choices in per.values() for o in choices})
    lo, hi = 0, len(targets) - 1  # the largest target always fits: one multiplier per stage
    while lo < hi:
        mid = (lo + hi) // 2
        best = cheapest(targets[mid])
        lo, hi = (lo, mid) if best is not None and best[0] <= budget else (mid + 1, hi)
    found = cheapest(max(targets[lo], floor))  # below the floor, fewer multipliers for the same II
    assert found is not None and found[0] <= budget
    return found[1]


def parse_parallel(text: str) -> Parallel:
    """Command-line form: "64" (multiplier budget), "seq" (fully sequential) or "4x2,8x4" (PE x SIMD per stage)."""
    s = text.strip().lower()
    if s in ("", "seq", "sequential", "none"):
        return None
    if s.isdigit():
        return int(s)
    pairs = []
    for part in s.split(","):
        bits = part.strip().split("x")
        if len(bits) != 2 or not all(b.strip().isdigit() for b in bits):
            raise VhlsError(f"bad --parallel {text!r}: expected a multiplier budget like 64 or PExSIMD per layer "
                            "like 4x2,8x4")
        pairs.append((int(bits[0]), int(bits[1])))
    return pairs


def plan(net: Network, parallel: Parallel = None, hook_stages: int = 0, io_cycles: int = 0,
         recompute: bool = False) -> list[StagePlan]:
    if isinstance(parallel, str):
        parallel = parse_parallel(parallel)
    if parallel is None:
        pairs = [(1, 1)] * len(net.layers)
    elif isinstance(parallel, int):
        pairs = allocate(net, parallel, io_cycles, hook_stages, recompute)
    else:
        pairs = [tuple(p) for p in parallel]  # type: ignore[misc]
        if len(pairs) != len(net.layers):
            raise VhlsError(f"--parallel gives {len(pairs)} (PE, SIMD) pair(s) for {len(net.layers)} layer(s)")
    for layer, (pe, simd) in zip(net.layers, pairs, strict=True):
        _check(layer, pe, simd)
    return _stages(net, pairs, hook_stages, recompute)


def _stages(net: Network, pairs: Sequence[tuple[int, int]], hook_stages: int = 0,
            recompute: bool = False) -> list[StagePlan]:
    chunks, gaps = _feeds(net, pairs)
    return [StagePlan(layer, pe, simd, chunk, gap, hook_stages, recompute)
            for layer, (pe, simd), chunk, gap in zip(net.layers, pairs, chunks, gaps, strict=True)]


def _feeds(net: Network, pairs: Sequence[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Per MAC stage: elements per input beat and cycles between the producer's beats. A conv reads whole window
    vectors; a dense layer the previous dense/conv stage's PE results, a pool's pixels or the whole input."""
    pe_of = {id(ly): pe for ly, (pe, _) in zip(net.layers, pairs, strict=True)}
    sf_of = {id(ly): ly.n_in // simd for ly, (_, simd) in zip(net.layers, pairs, strict=True)}
    units = net.chain
    chunks, gaps = [], []
    for ly in net.layers:
        prod = None if ly.src is None else units[ly.src]
        if ly.window is not None:
            chunks.append(ly.n_in)
            gaps.append(1)
        elif prod is None:
            chunks.append(net.n_in)
            gaps.append(1)
        elif isinstance(prod, DenseLayer):
            chunks.append(pe_of[id(prod)])
            gaps.append(sf_of[id(prod)])
        else:
            chunks.append(prod.window.channels)
            gaps.append(1)
    return chunks, gaps


def fixed_cycles(net: Network) -> int:
    """Cycles per inference of the window and pool units on their own (a lower bound: see window_unit_cycles)."""
    return max((u.feed_cycles for u in net.chain), default=0)


def window_unit_cycles(net: Network, stages: Sequence[StagePlan]) -> int:
    """Cycles per inference of the window and pool units beside their consumers (schedule.window_cycles)."""
    return max((window_cycles(net, stages, u) for u in net.chain if u.window is not None), default=0)


def predicted_latency(stages: Sequence[StagePlan], net: Network | None = None) -> int:
    """Cycles from accepting an input beat to presenting its output beat, with no stalls.

    Dense stages only: per stage, one cycle to mark the buffer full, then all folds but the last issue, the last
    fold's full pipeline; the register slice in front of every stage but the first (schedule.sliced); plus one
    cycle in the output collector. With window units (`net`), stages overlap within an image: the beat-level model
    in schedule.py.
    """
    if net is not None and any(u.window is not None for u in net.chain):
        return image_latency(net, stages, FIFO_LATENCY)
    return sum(s.latency for s in stages) + SLICE_LATENCY * (len(stages) - 1) + 1


def report(net: Network, stages: Sequence[StagePlan], ports: Ports | None = None) -> dict:
    """Per stage and total: MACs, multipliers and widths, predicted cycles, II, latency and the ΣMAC/mult bound.
    Narrow `ports` bound the II by their beats per vector and add their latency."""
    feed = {id(u): window_cycles(net, stages, u) for u in net.chain if u.window is not None}
    serial = serial_first(net, stages)
    kind = {id(u): ("PISO + line buffer" if serial and u is net.chain[0] else "line buffer")
            if line_buffered(net, stages, u) else "frame banks" for u in net.chain if u.window is not None}
    ii = max(max(s.cycles for s in stages), max(feed.values(), default=0), ports.beats if ports else 0)
    plans = {id(s.layer): s for s in stages}
    rows = []
    for u in net.chain:
        if isinstance(u, PoolLayer):
            rows.append({**_pool_row(u, feed[id(u)]), "window_unit": kind[id(u)]})
            continue
        s, ly = plans[id(u)], u
        rows.append({
            "name": ly.name,
            "kind": ly.kind,
            "inputs": ly.n_in,
            "outputs": ly.n_out,
            "vectors": ly.vectors,
            **({"window": f"per row of {ly.window.height}" if ly.per_row else ly.window.describe(),
                "window_cycles": feed[id(ly)], "window_unit": kind[id(ly)]} if ly.window else {}),
            "pe": s.pe,
            "simd": s.simd,
            "macs": ly.macs,
            "multipliers": s.multipliers,
            "operand_widths": [ly.w_type.width, ly.in_type.width],
            "product_width": ly.prod_type.width,
            "input_type": str(ly.in_type),
            "weight_type": str(ly.w_type),
            "acc_type": str(ly.acc_type),
            "output_type": str(ly.out_type),
            "post": [p.describe() for p in ly.post],
            "weight_rom_bits": ly.n_in * ly.n_out * ly.w_type.width,
            "cycles": max(s.cycles, feed.get(id(ly), 0)),
            "initiation_interval": max(s.cycles, feed.get(id(ly), 0)),
            "latency": s.latency,
            "input_buffer": "memory" if uses_memory(s.chunk, s.simd) else "registers",
            "utilisation": ly.macs / (s.multipliers * ii),
        })
    macs = sum(s.layer.macs for s in stages)
    mults = sum(s.multipliers for s in stages)
    return {
        "stages": rows,
        "total": {
            "macs": macs,
            "multipliers": mults,
            "predicted_cycles_per_inference": ii,
            "initiation_interval": ii,
            "latency": predicted_latency(stages, net) + (ports.latency if ports else 0),
            "bound_macs_per_multiplier": macs / mults,
            "utilisation": macs / (mults * ii),
            "parallel": [[s.pe, s.simd] for s in stages],
        },
    }


def _pool_row(u: PoolLayer, cycles: int) -> dict:
    w = u.window
    return {
        "name": u.name,
        "kind": u.kind,
        "window": w.describe(),
        "inputs": w.channels * w.pixels,
        "outputs": u.out_elems,
        "macs": 0,
        "multipliers": 0,
        "input_type": str(u.in_type),
        "output_type": str(u.out_type),
        "post": [p.describe() for p in u.post],
        "cycles": cycles,
        "initiation_interval": cycles,
    }
