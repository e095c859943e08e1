"""Fault injection and tolerance options of a build, and the hook that inserts them into a MAC stage.

    NoiseOptions(rate=0.01, seed=3, scheme="abft")   # `vhls build --inject acc:0.01:3 --tolerance abft`

The hook sits between the MAC array's accumulators and requantisation (dense.py; a conv stage is the same dense
stage behind its window unit, conv.py, so every window vector is one vector of the stage's stream): the main
array's chunk goes through its fault injector (fault.py; replica 0 of layer l's stream in `vhls.noise.inject`, l
counting the MAC stages), then the scheme:
  tmr   two more MAC arrays with their own fault streams (replicas 1, 2) and a registered bitwise vote (tmr.py)
  ant   a fault-free reduced-precision replica and a registered threshold decision (ant.py); the per-layer
        thresholds are fixed at build time (`resolve`): calibrated on the model's `calibration` data by default
  abft  a checksum neuron and a checker with 16-bit counters abft_checked / abft_errors (abft.py); the top level
        shows bit 0 of each as stageK_abft_checked / stageK_abft_errors (a toggle per vector checked / flagged;
        K: the stage's place in the chain, as in its name, e.g. conv2). abft:R (retries=R): the stage also
        re-executes a flagged vector up to R times (recompute.py); the counters then count attempts. Dense
        stages only: a conv stage's vectors come from its window unit one position at a time, and the recompute
        loop (its replay buffer, plan.StagePlan.attempt_cycles) is built and timed for whole input vectors
The registered vote (1 cycle) / decision (2) add `stages` cycles between the accumulators and requantisation
(plan.py).
The expected (noisy) outputs are `vhls.noise.tolerance.protect` run on `vhls.noise.golden.forward` (see `golden`).
"""

import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
from amaranth.hdl import Module, Value
from amaranth.lib.wiring import Out

from vhls.backends.nn.abft import COUNTER_BITS, ABFTChecker
from vhls.backends.nn.ant import ANT
from vhls.backends.nn.fault import FaultInjector
from vhls.backends.nn.mac import MACArray
from vhls.backends.nn.plan import StagePlan
from vhls.backends.nn.recognise import DenseLayer, Network
from vhls.backends.nn.tmr import TMR, feed
from vhls.ir.errors import VhlsError

SCHEMES = ("tmr", "ant", "abft")
ANT_BITS = 8
STAGES = {"tmr": TMR.LATENCY, "ant": ANT.LATENCY}  # cycles a scheme adds between accumulators and requantisation


@dataclass(frozen=True)
class NoiseOptions:
    rate: float | None = None  # probability of a bit flip per accumulator value; None: no injector
    seed: int = 0
    scheme: str | None = None  # None, "tmr", "ant" or "abft"
    bits: int = ANT_BITS  # ant: MSBs the replica keeps of inputs and weights
    threshold: str = "cal"  # ant: "cal", "worst" or integers "T" / "T1,T2,..." (tolerance.ant_thresholds)
    thresholds: tuple[int, ...] | None = None  # ant: per layer, in accumulator raw units, once resolved
    retries: int = 0  # abft: re-executions of a flagged vector (0: flag only)
    units: tuple[int, ...] | None = field(default=None, compare=False)  # DenseLayer.index per MAC stage (resolve)

    def __post_init__(self) -> None:
        if self.scheme is not None and self.scheme not in SCHEMES:
            raise VhlsError(f"unknown tolerance scheme {self.scheme!r}; known: {', '.join(SCHEMES)}")
        if self.rate is not None and not 0.0 <= self.rate <= 1.0:
            raise VhlsError(f"fault rate {self.rate} must be a probability in [0, 1]")
        if not 0 <= self.seed < 1 << 32:
            raise VhlsError(f"fault seed {self.seed} must be in [0, 2^32)")
        if self.retries < 0 or (self.retries and self.scheme != "abft"):
            raise VhlsError(f"retries ({self.retries}) apply to abft only and must be >= 0")
        if self.bits < 1:
            raise VhlsError(f"ant bits must be at least 1, got {self.bits}")
        from vhls.noise.tolerance import threshold_spec  # vhls.noise imports this package: import when used

        threshold_spec(self.threshold)

    @property
    def stages(self) -> int:
        """Cycles the scheme adds to a dense stage's pipeline (plan.StagePlan.hook_stages)."""
        return STAGES.get(self.scheme or "", 0)

    @staticmethod
    def parse(inject: str | None, tolerance: str | None) -> "NoiseOptions | None":
        """`acc:RATE[:SEED]` and `tmr|abft[:RETRIES]|ant[:BITS[:THRESH]]` (the command-line forms; THRESH: cal,
        worst, T or T1,T2,... per layer); None when both are absent."""
        if inject is None and tolerance is None:
            return None
        rate, seed = None, 0
        if inject is not None:
            parts = inject.split(":")
            try:
                if parts[0] != "acc" or len(parts) not in (2, 3):
                    raise ValueError
                rate, seed = float(parts[1]), int(parts[2]) if len(parts) == 3 else 0
            except ValueError:
                raise VhlsError(f"--inject {inject!r}: expected acc:RATE[:SEED] (bit flips in accumulators, "
                                f"e.g. acc:0.001:7)") from None
        scheme, bits, thresh, retries = None, ANT_BITS, "cal", 0
        if tolerance is not None:
            name, *args = tolerance.split(":")
            scheme = name
            if name == "abft" and args:
                if len(args) != 1 or not args[0].isdigit() or int(args[0]) < 1:
                    raise VhlsError(f"--tolerance {tolerance!r}: expected abft (flags only) or abft:R (re-execute a "
                                    f"flagged vector up to R >= 1 times)")
                retries = int(args[0])
            elif args:
                if name != "ant" or len(args) > 2 or not args[0].isdigit():
                    raise VhlsError(f"--tolerance {tolerance!r}: expected tmr, abft, ant, ant:BITS or "
                                    f"ant:BITS:THRESH (THRESH: cal, worst, T or T1,T2,...)")
                bits = int(args[0])
                thresh = args[1] if len(args) == 2 else thresh
        return NoiseOptions(rate, seed, scheme, bits, thresh, retries=retries)

    def validate(self, net: Network) -> None:
        """VhlsError unless every stage can take these options (ABFT: exact accumulation; recompute: dense)."""
        from vhls.noise.tolerance import checksum_weights

        if self.scheme == "abft":
            for ly in net.layers:
                checksum_weights(ly)
                if self.retries and ly.window is not None:
                    raise VhlsError(f"--tolerance abft:{self.retries}: recompute is for dense stages only, and "
                                    f"`{net.name}` has {ly.kind} stage {ly.name}; use abft (flags only)")

    def resolve(self, net: Network, model: Any = None) -> "NoiseOptions":
        """Validated options with ANT's per-layer thresholds fixed (kept when already fixed, as in a rebuild from
        design.json); "cal" calibrates on `model.calibration` (the inputs of a vhls Model)."""
        from vhls.noise.tolerance import ant_thresholds, threshold_spec

        self.validate(net)
        units = tuple(ly.index for ly in net.layers)
        if self.scheme != "ant":
            return replace(self, units=units)
        if self.thresholds is not None:
            if len(self.thresholds) != len(net.layers):
                raise VhlsError(f"ant: {len(self.thresholds)} thresholds for the {len(net.layers)} layers of "
                                f"`{net.name}`")
            return replace(self, units=units)
        cal = getattr(model, "calibration", None)
        x_cal = None
        if cal is not None:
            x_cal = np.asarray(model.quantise_input(cal)).reshape(len(cal), -1).astype(np.int64)
        return replace(self, units=units,
                       thresholds=tuple(ant_thresholds(net, self.bits, threshold_spec(self.threshold), x_cal)))

    def layer(self, ly: DenseLayer) -> int:
        """The number of MAC stage `ly` (its place in Network.layers): its fault streams and ANT threshold."""
        return ly.index if self.units is None else self.units.index(ly.index)

    def to_json(self) -> dict:
        d = asdict(self)
        d["thresholds"] = None if self.thresholds is None else list(self.thresholds)
        del d["units"]  # derived from the network
        return d

    @staticmethod
    def from_json(d: dict | None) -> "NoiseOptions | None":
        if d is None:
            return None
        t = d.get("thresholds")
        return NoiseOptions(**{**{k: v for k, v in d.items() if k != "units"},
                               "thresholds": None if t is None else tuple(int(v) for v in t)})

    def describe(self) -> str:
        inj = f"acc bit flips at rate {self.rate:g}, seed {self.seed}" if self.rate is not None else "no injection"
        how = {"cal": "calibrated", "worst": "worst-case"}.get(self.threshold, "given")
        ts = "" if self.thresholds is None else f" {', '.join(map(str, self.thresholds))}"
        abft = f"ABFT checksums, recompute (up to {self.retries} retries)" if self.retries else "ABFT checksums"
        sch = {None: "no tolerance", "tmr": "TMR", "abft": abft,
               "ant": f"ANT ({self.bits}-bit replica, {how} thresholds{ts})"}[self.scheme]
        return f"{inj}; {sch}"

    def params(self) -> dict:
        """tolerance.protect's parameters (ANT: resolved thresholds)."""
        if self.scheme == "abft" and self.retries:
            return {"retries": self.retries}
        if self.scheme != "ant":
            return {}
        if self.thresholds is None:
            raise VhlsError("internal: ANT thresholds are not resolved (NoiseOptions.resolve)")
        return {"bits": self.bits, "thresholds": list(self.thresholds)}


def stage_ports(noise: NoiseOptions | None) -> dict:
    """Extra ports of a dense stage (and, prefixed, of the top level)."""
    if noise is None or noise.scheme != "abft":
        return {}
    verdict = {"abft_verdict": Out(1), "abft_flag": Out(1)} if noise.retries else {}  # for recompute.py
    return {"abft_checked": Out(COUNTER_BITS), "abft_errors": Out(COUNTER_BITS), **verdict}


def top_ports(noise: NoiseOptions | None) -> dict:
    """Extra ports of the top level per stage: bit 0 of each status counter. A counter's LSB toggles exactly when
    the counter steps, so a monitor sees every event, and a stage costs 2 pins (whole-vector AXI buses leave few)."""
    return {n: Out(1) for n in stage_ports(noise) if n in ("abft_checked", "abft_errors")}


def _stream(noise: NoiseOptions, layer: int, replica: int) -> tuple[int, int]:
    from vhls.noise.inject import mix, threshold

    assert noise.rate is not None
    return mix(noise.seed, layer, replica), threshold(noise.rate)


def attach(m: Module, noise: NoiseOptions, pl: StagePlan, mac: MACArray, stage: object, issue_nf: Value,
           issue_sf: Value) -> tuple[Value, Value]:
    """Insert injector and scheme after `mac`; returns the accumulators requantisation gets and their valid strobe
    (`noise.stages` cycles after the MAC array's). `stage` carries the status ports; issue_nf / issue_sf are the
    neuron and synapse folds being issued (for ABFT's checksum ROM)."""
    ly = pl.layer
    k = noise.layer(ly)
    assert pl.hook_stages == noise.stages, "plan the stages with hook_stages=noise.stages"
    acc: Value = mac.o_acc
    valid: Value = mac.o_valid
    if noise.rate is not None:
        m.submodules.fault0 = inj = FaultInjector(pl.pe, ly.acc_type, *_stream(noise, k, 0))
        m.d.comb += [inj.i_valid.eq(mac.o_valid), inj.i_acc.eq(acc)]
        acc = inj.o_acc
    if noise.scheme == "tmr":
        faults = [_stream(noise, k, r) for r in (1, 2)] if noise.rate is not None else []
        m.submodules.tmr = tmr = TMR(pl.pe, pl.simd, ly.in_type, ly.w_type, ly.acc_type, ly.prod_q, faults)
        feed(m, tmr, mac)
        m.d.comb += tmr.i_acc.eq(acc)
        acc, valid = tmr.o_acc, tmr.o_valid
    elif noise.scheme == "ant":
        assert noise.thresholds is not None, "resolve the options first (NoiseOptions.resolve)"
        m.submodules.ant = ant = ANT(ly, pl.pe, pl.simd, noise.bits, noise.thresholds[k])
        feed(m, ant, mac)
        m.d.comb += ant.i_acc.eq(acc)
        acc, valid = ant.o_acc, ant.o_valid
    elif noise.scheme == "abft":
        m.submodules.abft = chk = ABFTChecker(ly, pl.pe, pl.simd)
        feed(m, chk, mac)
        m.d.comb += [chk.i_nf.eq(issue_nf), chk.i_sf.eq(issue_sf), chk.i_acc_valid.eq(mac.o_valid),
                     chk.i_acc.eq(acc), stage.abft_checked.eq(chk.o_checked),  # type: ignore[attr-defined]
                     stage.abft_errors.eq(chk.o_errors)]  # type: ignore[attr-defined]
        if noise.retries:
            m.d.comb += [stage.abft_verdict.eq(chk.o_verdict),  # type: ignore[attr-defined]
                         stage.abft_flag.eq(chk.o_flag)]  # type: ignore[attr-defined]
    return acc, valid


# ---------------------------------------------------------------------------------------------- golden side
def golden(net: Network, noise: NoiseOptions, raw: np.ndarray) -> tuple[np.ndarray, dict]:
    """Expected raw outputs of the noisy design for `raw`, the vectors streamed after reset, and the scheme's
    stats (e.g. stats["flagged"][l]: vectors stage l's ABFT checker flags)."""
    from vhls.noise.golden import forward
    from vhls.noise.inject import fault
    from vhls.noise.tolerance import protect

    f = fault(net, noise.rate, noise.seed) if noise.rate is not None else (lambda k, r, x, acc, rows=None: acc)
    hook, stats = protect(net, noise.scheme, f, **noise.params())
    return forward(net, raw, hook).astype(np.int64), stats


def injected(net: Network, noise: NoiseOptions, vectors: int | list[int]) -> list[np.ndarray]:
    """Faults injected into the main array per stage and stream position (the first positions after reset: those
    of `vectors` inputs (a conv stage runs a position per window), or a count per stage, e.g. the attempts each
    stage ran with recompute)."""
    from vhls.noise.inject import flips

    n = vectors if isinstance(vectors, list) else [vectors * ly.vectors for ly in net.layers]  # conv: per window
    if noise.rate is None:
        return [np.zeros(v, dtype=np.int64) for v in n]
    return [(flips(net, noise.rate, noise.seed, k, 0, v) >= 0).sum(axis=1) for k, v in enumerate(n)]


def report(net: Network, stages: list[StagePlan], noise: NoiseOptions) -> dict:
    """The report.json section: the options and the scheme's extra hardware."""
    from vhls.noise.tolerance import overhead

    ov = overhead(net, noise.scheme, [(s.pe, s.simd) for s in stages], **noise.params())
    inj = len(stages) * 32 * (3 if noise.scheme == "tmr" else 1) if noise.rate is not None else 0
    return {**noise.to_json(), "description": noise.describe(), "overhead": ov, "injector_state_bits": inj}


def abft_summary(net: Network, noise: NoiseOptions, flagged: list[list[int]], vectors: int | list[int]) -> dict:
    """Detection figures of an ABFT run: `flagged` (per stage, stream positions read from the RTL) against the
    faults the stream injected into each stage's accumulators at each of the `vectors` positions. With recompute
    (`vectors` per stage: the attempts each ran) positions are attempts, and the whole-vector figures are left out."""
    counts = injected(net, noise, vectors)
    faulty = sum(int((c > 0).sum()) for c in counts)
    single = [(s, int(v)) for s, c in enumerate(counts) for v in np.flatnonzero(c == 1)]
    caught = sum(1 for s, v in single if v in set(flagged[s]))
    false = sum(1 for s, f in enumerate(flagged) for v in f if counts[s][v] == 0)
    out = {"stage_vectors": sum(map(len, counts)), "faulty": faulty, "flagged": sum(map(len, flagged)),
           "single_fault": len(single), "single_fault_flagged": caught, "false_alarms": false}
    if isinstance(vectors, list):
        return out
    # whole vectors (all stages, all windows of a conv stage) with exactly one injected fault: flagged by some stage?
    per = [ly.vectors for ly in net.layers]
    ones = np.flatnonzero(sum(c.reshape(vectors, p).sum(axis=1) for c, p in zip(counts, per, strict=True)) == 1)
    any_flag = {v // p for f, p in zip(flagged, per, strict=True) for v in f}
    return {**out, "single_fault_vectors": len(ones),
            "single_fault_vectors_flagged": sum(int(v) in any_flag for v in ones)}


def keep_replicas(verilog_text: str) -> str:
    """Mark the TMR replicas `keep_hierarchy`: they compute exactly what the main array computes from the same
    operands, so a synthesiser would otherwise merge them into it (what a dont-touch constraint prevents)."""
    return re.sub(r'^(\(\* generator = "Amaranth" \*\)\nmodule \\\S+\.tmr\.replica\d )',
                  r"(* keep_hierarchy = 1 *)\n\1", verilog_text, flags=re.MULTILINE)
