"""Tolerance schemes on the accumulators of MAC (dense and conv) stages: their exact semantics, shared by the RTL
(backends/nn/tmr.py, ant.py, abft.py) and the statistical sweeps.

    hook, stats = protect(net, scheme, fault, **params)
    y = forward(net, x, hook)          # stats is filled while the hook runs (one entry per layer, per call)

`fault(l, r, x, acc)` gives replica r's faulty accumulators of layer l (replicas draw independent faults).
Schemes:
  None / "none"  the main array: fault replica 0.
  "tmr"          three MAC arrays (replicas 0, 1, 2), bitwise majority of their W-bit accumulators.
                 stats["outvoted"][l]: outputs where the vote differs from replica 0.
  "ant"          algorithmic noise tolerance: a fault-free reduced-precision replica (weights and inputs truncated
                 to their `bits` most significant bits, default 8; products re-aligned exactly) estimates each
                 accumulator; the output is the estimate when |acc − est| > threshold (difference taken modulo
                 2^W, so wrapping accumulators agree), else acc. `thresholds`: one per layer, in accumulator raw
                 units (`ant_thresholds`): calibrated ("cal", the default of builds and sweeps: the largest
                 |acc − est| of the fault-free network on calibration inputs, an empirical threshold as in Hegde
                 and Shanbhag's ANT), the exact worst case ("worst", the default here: max_j Σ_n (|w_jn|·(2^sx − 1)
                 + dw_jn·max|x|), sx: dropped input bits, dw_jn: the dropped weight bits; fault-free outputs are
                 never replaced) or given. stats["replaced"][l], stats["threshold"][l].
  "abft"         checksum neuron: weights Σ_j w[j][n], bias Σ_j b[j], computed alongside (fault-free), gives
                 c = Σ_j acc_j mod 2^W of the clean accumulators (exact because products are not quantised: layers
                 whose products lose bits in the accumulator are refused). A vector is flagged when the sum of its
                 (faulty) accumulators differs from c: every single bit flip changes the sum by ±2^b ≠ 0 mod 2^W,
                 so single faults are always flagged. stats["flagged"][l]: flagged vector indices.
                 recompute=True: flagged vectors get their clean accumulators (a fault-free re-execution: an upper
                 bound, used by the sweeps). retries=R >= 1: what the RTL recompute (`--tolerance abft:R`) does: a
                 flagged vector is re-executed, up to R times, and meets fresh faults each time: stage l's attempts
                 (first executions and re-executions, in the order the stage runs them) take consecutive positions
                 of its fault stream, so `fault` must take stream positions (inject.fault's `rows`); a vector still
                 flagged after R re-executions is released as it is. stats["flagged"][l] are then attempt positions
                 (the RTL's abft_checked count), stats["attempts"][l], stats["retries"][l] and
                 stats["released_flagged"][l] (vector indices) say what happened.
"""

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from vhls.backends.nn.recognise import DenseLayer, Network
from vhls.ir import numerics as fx
from vhls.ir.errors import VhlsError
from vhls.ir.types import Fixed
from vhls.noise.golden import AccHook, forward, layer_acc, wrap

Fault = Callable[[int, int, np.ndarray, np.ndarray], np.ndarray]
SCHEMES = ("none", "tmr", "ant", "abft")
ANT_BITS = 8
ANT_THRESHOLDS = ("cal", "worst")  # named threshold choices (else explicit integers)


def _bits(a: np.ndarray, t: Fixed) -> np.ndarray:
    return np.asarray(a) & ((1 << t.width) - 1)


def majority(a: np.ndarray, b: np.ndarray, c: np.ndarray, t: Fixed) -> np.ndarray:
    a, b, c = _bits(a, t), _bits(b, t), _bits(c, t)
    return wrap((a & b) | (a & c) | (b & c), t)


# ---------------------------------------------------------------------------------------------- ANT
def reduced_type(t: Fixed, bits: int) -> tuple[Fixed, int]:
    """The type of t's `bits` MSBs and the number of dropped LSBs."""
    drop = max(0, t.width - bits)
    return Fixed(t.width - drop, t.int_bits, t.signed), drop


def ant_replica(ly: DenseLayer, bits: int) -> tuple[Fixed, Fixed, np.ndarray, int]:
    """(x type, w type, weights, dropped input bits) of the reduced-precision replica."""
    xt, sx = reduced_type(ly.in_type, bits)
    wt, sw = reduced_type(ly.w_type, bits)
    return xt, wt, fx.as_raw(np.asarray(ly.weights).astype(object) >> sw, wt), sx


def ant_estimate(ly: DenseLayer, x: np.ndarray, bits: int) -> np.ndarray:
    xt, wt, w, sx = ant_replica(ly, bits)
    return layer_acc(ly, np.asarray(x) >> sx, w, xt, wt)


def ant_threshold(ly: DenseLayer, bits: int) -> int:
    """Exact worst-case |acc − est| of fault-free arrays (in accumulator raw units)."""
    _, sx = reduced_type(ly.in_type, bits)
    _, sw = reduced_type(ly.w_type, bits)
    if sx == sw == 0:
        return 0  # the replica is the main array
    w = np.asarray(ly.weights).astype(object)
    dw = w - ((w >> sw) << sw)
    xmax = max(abs(ly.in_type.min_raw), abs(ly.in_type.max_raw))
    err = (np.abs(w) * ((1 << sx) - 1) + dw * xmax).sum(axis=1)  # per neuron, in product raw units
    shift = ly.acc_type.frac - ly.prod_type.frac
    worst = int(max(err.max(), 0))
    if shift >= 0:
        return worst << shift
    return -((-worst) >> -shift) + ly.n_in  # ceil, plus one unit per quantised product pair


def ant_difference(ly: DenseLayer, acc: np.ndarray, est: np.ndarray) -> np.ndarray:
    """acc − est modulo 2^W, as a signed W-bit value (what the RTL compares with the threshold)."""
    return wrap(np.asarray(acc).astype(object) - np.asarray(est).astype(object), _signed(ly.acc_type))


def ant_calibrate(net: Network, x_cal: np.ndarray, bits: int) -> list[int]:
    """Per layer the largest |acc − est| of the fault-free network on the raw calibration inputs `x_cal`."""
    out = [0] * len(net.layers)

    def keep(k: int, x: np.ndarray, acc: np.ndarray) -> np.ndarray:
        d = ant_difference(net.layers[k], acc, ant_estimate(net.layers[k], x, bits))
        out[k] = int(np.abs(d).max()) if d.size else 0
        return acc

    forward(net, np.asarray(x_cal), keep)
    return out


def ant_thresholds(net: Network, bits: int, spec: str | Sequence[int] = "cal",
                   x_cal: np.ndarray | None = None) -> list[int]:
    """Per-layer thresholds: "cal" (calibrated on the raw inputs `x_cal`), "worst" (exact worst-case replica
    error) or explicit values (one for every layer, or one per layer)."""
    n = len(net.layers)
    if spec == "cal":
        if x_cal is None or len(x_cal) == 0:
            raise VhlsError(f"tolerance ant: a calibrated threshold needs calibration inputs (`{net.name}` has "
                            f"none); give the threshold, e.g. ant:{bits}:1000, or ant:{bits}:worst")
        return ant_calibrate(net, x_cal, bits)
    if spec == "worst":
        return [ant_threshold(ly, bits) for ly in net.layers]
    if isinstance(spec, str):
        raise VhlsError(f"tolerance ant: unknown threshold {spec!r}; give {' or '.join(ANT_THRESHOLDS)} or integers")
    values = [int(t) for t in spec]
    if len(values) == 1:
        values *= n
    if len(values) != n or any(t < 0 for t in values):
        raise VhlsError(f"tolerance ant: give one threshold >= 0 for every layer or one per layer ({n}), got {values}")
    return values


def threshold_spec(text: str) -> str | list[int]:
    """The command-line form of ANT's thresholds: cal, worst, T or T1,T2,... (integers >= 0)."""
    if text in ANT_THRESHOLDS:
        return text
    try:
        values = [int(t) for t in text.split(",")]
    except ValueError:
        values = []
    if not values or min(values) < 0:
        raise VhlsError(f"ant threshold {text!r}: expected cal, worst or integers >= 0 (T or T1,T2,...)")
    return values


def _signed(t: Fixed) -> Fixed:
    return Fixed(t.width, t.width, True)


# ---------------------------------------------------------------------------------------------- ABFT
def checksum_weights(ly: DenseLayer) -> tuple[np.ndarray, int, Fixed]:
    """(checksum weights Σ_j w[j][n], checksum bias Σ_j b[j] mod 2^W, the checksum weights' type)."""
    if ly.acc_type.frac < ly.prod_type.frac:
        raise VhlsError(f"abft: {ly.name} quantises its products into the accumulator (acc {ly.acc_type}, products "
                        f"{ly.prod_type}); a checksum is exact only with exact accumulation")
    w = np.asarray(ly.weights).astype(object).sum(axis=0)
    # wide enough for the exact sums, but never wider than the accumulator: only c mod 2^W matters
    width = max(2, min(ly.w_type.width + (ly.n_out - 1).bit_length() + 1, ly.acc_type.width))
    cw = Fixed(width, width - ly.w_type.frac, True)  # the weights' binary point
    cw_raw = fx.overflow(fx.as_raw(w, cw).astype(object), cw, "WRAP")  # only the value mod 2^W matters
    b = int(wrap(np.array([int(np.asarray(ly.bias).astype(object).sum())], dtype=object), ly.acc_type)[0])
    return np.asarray(cw_raw, dtype=object), b, cw


def checksum_folds(ly: DenseLayer, pe: int, simd: int) -> int:
    """Neuron folds the RTL checksum neuron spreads its work over: g | gcd(NF, SIMD), so it needs SIMD / g
    multipliers (with g > 1, behind a register after the operand select). Its result must be ready by the main
    array's last chunk of the vector and must not overtake the last chunk of the previous vector: the largest g with
    latency(SIMD) < g·SF + its latency <= NF·SF + latency(SIMD) (g = 1 always qualifies)."""
    from vhls.backends.nn.plan import mac_latency

    nf, sf = ly.n_out // pe, ly.n_in // simd
    ok = [g for g in range(1, math.gcd(nf, simd) + 1) if nf % g == 0 and simd % g == 0
          and mac_latency(simd) < g * sf + mac_latency(simd // g) + int(g > 1) <= nf * sf + mac_latency(simd)]
    return max(ok)


def checksum(ly: DenseLayer, x: np.ndarray) -> np.ndarray:
    """c per vector: what the checksum neuron computes (= Σ_j clean acc_j mod 2^W)."""
    cw, cb, ct = checksum_weights(ly)
    t = ly.acc_type
    shift = t.frac - fx.mul_type(ct, ly.in_type).frac
    s = np.asarray(x).astype(object) @ cw
    return wrap(np.asarray((s << shift) + cb, dtype=object), t)


def row_sum(acc: np.ndarray, t: Fixed) -> np.ndarray:
    return wrap(np.asarray(acc).astype(object).sum(axis=1), t)


# ---------------------------------------------------------------------------------------------- protect
def protect(net: Network, scheme: str | None, fault: Fault, **params: Any) -> tuple[AccHook, dict]:
    """The accumulator hook of `scheme` on faults `fault`, and the stats dict it fills (module docstring)."""
    scheme = scheme or "none"
    if scheme not in SCHEMES:
        raise VhlsError(f"unknown tolerance scheme {scheme!r}; known: {', '.join(SCHEMES)}")
    known = {"none": set(), "tmr": set(), "ant": {"bits", "thresholds"}, "abft": {"recompute", "retries"}}[scheme]
    if set(params) - known:
        raise VhlsError(f"tolerance {scheme}: unknown parameters {sorted(set(params) - known)}")
    stats: dict[str, Any] = {"scheme": scheme}
    n = len(net.layers)

    if scheme == "none":
        return (lambda k, x, acc: fault(k, 0, x, acc)), stats

    if scheme == "tmr":
        stats["outvoted"] = [0] * n

        def tmr(k: int, x: np.ndarray, acc: np.ndarray) -> np.ndarray:
            t = net.layers[k].acc_type
            a = wrap(fault(k, 0, x, acc), t)
            out = majority(a, fault(k, 1, x, acc), fault(k, 2, x, acc), t)
            stats["outvoted"][k] = int((out != a).sum())
            return out

        return tmr, stats

    if scheme == "ant":
        bits = int(params.get("bits", ANT_BITS))
        if bits < 1:
            raise VhlsError(f"tolerance ant: bits must be at least 1, got {bits}")
        stats["bits"] = bits
        stats["threshold"] = ant_thresholds(net, bits, params.get("thresholds", "worst"))
        stats["replaced"] = [0] * n

        def ant(k: int, x: np.ndarray, acc: np.ndarray) -> np.ndarray:
            ly = net.layers[k]
            a = wrap(fault(k, 0, x, acc), ly.acc_type)
            est = ant_estimate(ly, x, bits)
            bad = np.abs(ant_difference(ly, a, est)) > stats["threshold"][k]
            stats["replaced"][k] = int(bad.sum())
            return np.where(bad, est, a)

        return ant, stats

    recompute = bool(params.get("recompute", False))
    retries = int(params.get("retries", 0))
    if retries < 0 or (retries and recompute):
        raise VhlsError(f"tolerance abft: retries must be >= 0 and exclusive with recompute, got {retries}")
    for ly in net.layers:
        checksum_weights(ly)  # refuse inexact layers up front
    stats["flagged"] = [[] for _ in range(n)]
    if retries:
        stats.update(attempts=[0] * n, retries=[0] * n, released_flagged=[[] for _ in range(n)])
        return (lambda k, x, acc: _abft_retry(net, fault, retries, stats, k, x, acc)), stats

    def abft(k: int, x: np.ndarray, acc: np.ndarray) -> np.ndarray:
        ly = net.layers[k]
        a = wrap(fault(k, 0, x, acc), ly.acc_type)
        flag = row_sum(a, ly.acc_type) != checksum(ly, x)
        stats["flagged"][k] = [int(i) for i in np.flatnonzero(flag)]
        return np.where(flag[:, None], acc, a) if recompute else a

    return abft, stats


_SPECULATE = 64


def _abft_retry(net: Network, fault: Fault, retries: int, stats: dict, k: int, x: np.ndarray,
                acc: np.ndarray) -> np.ndarray:
    """ABFT with re-execution on stage k (protect's `retries`): the vectors in order, each attempt at the next
    position of the stage's fault stream. Each pass evaluates the next _SPECULATE vectors at once, speculating that
    none is retried, and keeps them up to the first one that is, which goes again at the following position."""
    t = net.layers[k].acc_type
    acc, x = np.asarray(acc), np.asarray(x)
    c = checksum(net.layers[k], x)
    out = wrap(acc, t).copy()
    stats["flagged"][k], stats["released_flagged"][k] = [], []  # per call, as the other schemes' stats
    v = a = pos = 0  # vector, its attempt, stream position
    while v < len(acc):
        e = min(len(acc), v + _SPECULATE)
        rows = pos + np.arange(e - v)
        f = wrap(fault(k, 0, x[v:e], acc[v:e], rows), t)  # type: ignore[call-arg]
        bad = row_sum(f, t) != c[v:e]
        again = bad.copy()  # flagged and retried: the first vector has had `a` attempts already, the others none
        again[0] = bad[0] and a < retries
        stop = int(np.argmax(again)) if again.any() else len(rows)
        out[v:v + stop] = f[:stop]
        stats["flagged"][k] += [pos + int(i) for i in np.flatnonzero(bad[:stop + 1])]
        stats["released_flagged"][k] += [v + int(i) for i in np.flatnonzero(bad[:stop])]
        if stop == len(rows):
            v, a, pos = e, 0, pos + stop
            continue
        v, a, pos = v + stop, (a if stop == 0 else 0) + 1, pos + stop + 1
    stats["attempts"][k] = pos
    stats["retries"][k] = pos - len(acc)
    return out


# ---------------------------------------------------------------------------------------------- cost
def overhead(net: Network, scheme: str | None, parallel: list[tuple[int, int]], **params: Any) -> dict:
    """Extra hardware of `scheme` per stage for PE × SIMD `parallel`: multipliers (with operand widths),
    accumulator and state bits, ROM bits."""
    scheme = scheme or "none"
    stages = []
    if scheme == "ant":
        bits = int(params.get("bits", ANT_BITS))
        thresholds = ant_thresholds(net, bits, params.get("thresholds", "worst"))
    for k, (ly, (pe, simd)) in enumerate(zip(net.layers, parallel, strict=True)):
        wx, ww, wa = ly.in_type.width, ly.w_type.width, ly.acc_type.width
        sf = ly.n_in // simd
        s: dict[str, Any] = {"name": ly.name, "multipliers": 0, "multiplier_bits": "", "register_bits": 0,
                             "rom_bits": 0}
        if scheme == "tmr":  # two replicas' accumulators and the registered vote
            s.update(multipliers=2 * pe * simd, multiplier_bits=f"{ww}x{wx}", register_bits=3 * pe * wa)
        elif scheme == "ant":  # the replica's accumulators; acc, estimate, difference, then the decision
            s.update(multipliers=pe * simd, multiplier_bits=f"{min(ww, bits)}x{min(wx, bits)}",
                     register_bits=5 * pe * wa, threshold=thresholds[k])
        elif scheme == "abft":  # an accumulator per DSP-sized weight part; checksum, sum and their registers
            from vhls.backends.nn.abft import weight_parts

            _, _, ct = checksum_weights(ly)
            g = checksum_folds(ly, pe, simd)
            s.update(multipliers=simd // g, multiplier_bits=f"{ct.width}x{wx}",
                     register_bits=(len(weight_parts(ct)) + 3) * wa + 32,
                     rom_bits=ly.n_in * ct.width if g * sf > 1 else 0, checksum_folds=g)
        stages.append(s)
    return {"scheme": scheme, "stages": stages,
            "multipliers": sum(s["multipliers"] for s in stages),
            "rom_bits": sum(s["rom_bits"] for s in stages),
            "register_bits": sum(s["register_bits"] for s in stages)}


__all__ = ["ANT_BITS", "ANT_THRESHOLDS", "SCHEMES", "Fault", "ant_calibrate", "ant_difference", "ant_estimate",
           "ant_threshold", "ant_thresholds", "checksum", "checksum_folds", "checksum_weights",
           "majority", "overhead", "protect", "reduced_type", "row_sum", "threshold_spec"]
