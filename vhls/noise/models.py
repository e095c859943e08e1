"""Statistical noise and fault models for MAC stages (dense and conv), each a seeded, deterministic `Fault`.

A `Fault` is `(layer l, replica r, layer input raw (V, n_in), clean accumulators raw (V, n_out)) -> faulty
accumulators raw`, wrapped to the accumulator's width W (two's complement), the shape vhls.noise.tolerance
protects. Replicas (r = 1, 2 are TMR's extra copies) draw independent faults. Random draws come from
`numpy.random.default_rng([seed, model, l, r])`, in row-major order of the batch: the same seed, model, level and
batch give the same faults on every machine.

Models and their `level`:

- `gaussian`: additive Gaussian noise on each accumulator (a MAC output), rounded to the accumulator's LSB.
  level = σ relative to the layer's accumulator value range (max - min of the clean accumulators of all neurons of
  that layer on the calibration data). Transient: fresh draws for every value.
- `acc_ber`: every bit of every accumulator value flips independently with probability level (a bit-error rate).
  Transient.
- `acc_flip`: the RTL fault injector's stream (`vhls.noise.inject`, `vhls build --inject acc:LEVEL:SEED`): each
  accumulator value gets at most one bit flip, with probability level (xorshift32 streams, not numpy). The batch is
  the stream from reset, so a sweep computes exactly what the generated RTL outputs for the test set. Transient.
- `weight_ber`: every bit of every stored weight (w_type.width bits, two's complement) flips independently with
  probability level. Persistent: one faulty weight matrix per (seed, layer, replica), used for the whole batch
  (`faulty_weights` gives it, for `golden.forward(weights=...)`).
- `stuck_at`: every bit of every neuron's accumulator register is stuck with probability level, at 0 or 1 with equal
  probability. Persistent (a manufacturing defect of a fully parallel array: one register per neuron).
- `vos`: timing errors of the accumulator's adder under voltage over-scaling. level = K = Vdd / Vdd_crit <= 1
  (Hegde and Shanbhag's voltage over-scaling factor; Vdd_crit is the lowest error-free supply). Deterministic
  and data dependent, so replicas fail alike (identical copies share the common-mode error).
    * Delay: the alpha-power law (Sakurai and Newton, IEEE JSSC 25(2):584-594, 1990), gate delay
      ∝ V / (V - Vt)^α, with α = 1.3 and Vt = 0.35 Vdd_crit (typical short-channel values, assumed, not fitted).
    * Adder: a W-bit ripple-carry adder whose carry chain exactly fills the clock period at Vdd_crit (zero slack;
      ripple-carry is the structure most exposed to VOS, Liu and Zhang, "On the selection of arithmetic unit
      structure in voltage overscaled soft DSP", ISLPED 2007). At K the delay grows by
      d(K) = [K / (K - vt)^α] / [1 / (1 - vt)^α], so carries ripple through at most L = floor(W / d(K)) bit
      positions per cycle; a carry that needs to travel further arrives late and is lost (each sum bit sees only
      the carries generated in the L bits below it — the "almost correct adder" view). Long chains are the ones
      that cross sign-extension runs, so the errors are large and in the MSBs, as VOS errors are.
    * Accumulation order: bias, then the products n = 0..n_in-1 one per cycle (the IR's fold), each addition a
      timing-faulty one. The nn backend's SIMD adder tree adds in a different order: this is a statistical model
      of the fold, not of a particular netlist.
    * Energy per operation relative to Vdd_crit: K² (dynamic CV² energy; leakage and the unchanged clock ignored),
      see `vos_energy`. Trading supply voltage (energy) for reliability is the trade-off of Leduc-Primeau et al.'s
      energy-reliability work and of algorithmic noise tolerance (Hegde and Shanbhag, "Soft digital signal
      processing", IEEE TVLSI 9(6), 2001), which corrects such errors with a reduced-precision replica.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vhls.backends.nn.recognise import DenseLayer, Network
from vhls.ir import numerics as fx
from vhls.ir.errors import VhlsError
from vhls.noise.golden import layer_acc
from vhls.noise.tolerance import Fault

VOS_ALPHA = 1.3  # alpha-power law exponent (Sakurai & Newton 1990: ~1.2-1.5 for velocity-saturated devices)
VOS_VT = 0.35  # threshold voltage relative to Vdd_crit (assumed typical value)


@dataclass(frozen=True)
class NoiseModel:
    name: str
    level: str  # what the level means (axis label)
    levels: tuple[float, ...]  # a default sweep grid, mildest first
    clean: float  # the level at which the model injects nothing
    persistent: bool  # a re-execution meets the same faults (so recomputing a flagged vector does not help)


MODELS: dict[str, NoiseModel] = {m.name: m for m in (
    NoiseModel("gaussian", "σ / accumulator range", (0.0, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2), 0.0, False),
    NoiseModel("acc_ber", "bit-error rate per accumulator bit", (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2), 0.0,
               False),
    NoiseModel("weight_ber", "bit-error rate per stored weight bit", (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2), 0.0,
               True),
    NoiseModel("vos", "Vdd / Vdd_crit", (1.0, 0.9, 0.8, 0.7, 0.6, 0.55, 0.5, 0.45, 0.4), 1.0, True),
    NoiseModel("stuck_at", "stuck-bit probability per accumulator bit", (0.0, 1e-3, 3e-3, 1e-2, 3e-2, 0.1), 0.0,
               True),
    NoiseModel("acc_flip", "flip rate per accumulator value",
               (0.0, 1e-3, 3e-3, 0.01, 0.03, 0.1, 0.3), 0.0, False),
)}
NOISES = tuple(MODELS)


# ---------------------------------------------------------------------------------------------- arithmetic
def wrap(raw: np.ndarray, width: int) -> np.ndarray:
    """Integers modulo 2**width as signed two's complement (int64; width <= 62)."""
    half = 1 << (width - 1)
    return ((np.asarray(raw, dtype=np.int64) + half) & ((1 << width) - 1)) - half


def _check_width(layer: DenseLayer) -> None:
    if layer.acc_type.width > fx.INT64_BITS or layer.prod_type.width > fx.INT64_BITS:
        raise VhlsError(f"noise models: {layer.name} needs more than {fx.INT64_BITS}-bit arithmetic "
                        f"(accumulator {layer.acc_type}, products {layer.prod_type})")


def products(layer: DenseLayer, x: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """(V, n_out, n_in) products w[m][n]·x[n] in the accumulator's format, quantised with prod_q as the fold does."""
    _check_width(layer)
    w = np.asarray(layer.weights if weights is None else weights).astype(np.int64)
    p = w[None, :, :] * np.asarray(x, dtype=np.int64)[:, None, :]
    return fx.convert(p, layer.prod_type, layer.acc_type, layer.prod_q, "WRAP")


def value_ranges(accumulators: Sequence[np.ndarray]) -> list[float]:
    """Per layer max - min of the clean accumulators (raw units), at least 1 LSB."""
    return [max(float(np.max(a) - np.min(a)), 1.0) if np.size(a) else 1.0 for a in accumulators]


def _rng(seed: int, model: str, layer: int, replica: int) -> np.random.Generator:
    return np.random.default_rng([seed, NOISES.index(model), layer, replica])


def _flip_masks(rng: np.random.Generator, shape: tuple[int, ...], width: int, p: float) -> np.ndarray:
    """Per element an int64 mask whose `width` bits are each set with probability p."""
    bits = rng.random((*shape, width)) < p
    return (bits.astype(np.int64) << np.arange(width, dtype=np.int64)).sum(axis=-1)


# ---------------------------------------------------------------------------------------------- models
def _gaussian(net: Network, level: float, seed: int, ranges: Sequence[float]) -> Fault:
    def fault(li: int, r: int, x: np.ndarray, acc: np.ndarray) -> np.ndarray:
        noise = np.rint(_rng(seed, "gaussian", li, r).normal(0.0, level * ranges[li], acc.shape)).astype(np.int64)
        return wrap(acc.astype(np.int64) + noise, net.layers[li].acc_type.width)
    return fault


def _acc_ber(net: Network, level: float, seed: int) -> Fault:
    def fault(li: int, r: int, x: np.ndarray, acc: np.ndarray) -> np.ndarray:
        width = net.layers[li].acc_type.width
        mask = _flip_masks(_rng(seed, "acc_ber", li, r), acc.shape, width, level)
        return wrap(acc.astype(np.int64) ^ mask, width)
    return fault


def faulty_weights(net: Network, level: float, seed: int, replica: int = 0) -> list[np.ndarray]:
    """The stored weights of every layer after `weight_ber` bit flips (raw int64), as replica `replica` holds them."""
    out = []
    for k, layer in enumerate(net.layers):
        width = layer.w_type.width
        w = np.asarray(layer.weights).astype(np.int64)
        mask = _flip_masks(_rng(seed, "weight_ber", k, replica), w.shape, width, level)
        out.append(wrap(w ^ mask, width) if layer.w_type.signed else (w ^ mask))
    return out


def _weight_ber(net: Network, level: float, seed: int) -> Fault:
    cache: dict[int, list[np.ndarray]] = {}

    def fault(li: int, r: int, x: np.ndarray, acc: np.ndarray) -> np.ndarray:
        if r not in cache:
            cache[r] = faulty_weights(net, level, seed, r)
        return layer_acc(net.layers[li], x, cache[r][li]).astype(np.int64)
    return fault


def _stuck_at(net: Network, level: float, seed: int) -> Fault:
    def fault(li: int, r: int, x: np.ndarray, acc: np.ndarray) -> np.ndarray:
        width = net.layers[li].acc_type.width
        rng = _rng(seed, "stuck_at", li, r)
        stuck = _flip_masks(rng, acc.shape[1:], width, level)  # per neuron register, the same for every vector
        ones = stuck & _flip_masks(rng, acc.shape[1:], width, 0.5)
        full = (1 << width) - 1
        return wrap((acc.astype(np.int64) & (full ^ stuck)) | ones, width)
    return fault


def vos_delay(k: float, alpha: float = VOS_ALPHA, vt: float = VOS_VT) -> float:
    """Gate delay at Vdd = k·Vdd_crit relative to the delay at Vdd_crit (alpha-power law)."""
    return (k / (k - vt) ** alpha) / (1.0 / (1.0 - vt) ** alpha)


def vos_energy(k: float) -> float:
    """Dynamic energy per operation at Vdd = k·Vdd_crit relative to Vdd_crit."""
    return k * k


def vos_carry_budget(k: float, width: int) -> int:
    """How many bit positions a carry can ripple through within one clock period at Vdd = k·Vdd_crit."""
    return max(1, min(width, int(np.floor(width / vos_delay(k) + 1e-9))))


def late_carry_add(a: np.ndarray, b: np.ndarray, width: int, budget: int) -> np.ndarray:
    """a + b in a `width`-bit adder where each sum bit sees only carries generated in the `budget` bits below it."""
    full = (1 << width) - 1
    a, b = np.asarray(a, dtype=np.int64) & full, np.asarray(b, dtype=np.int64) & full
    g, p = a & b, a ^ b
    # (G, P) of windows ending at each bit: G = carry out of the window with no carry in, P = it propagates.
    win_g, win_p, span = None, None, 0
    cur_g, cur_p, size = g, p, 1
    n = budget
    while n:
        if n & 1:
            if win_g is None:
                win_g, win_p, span = cur_g, cur_p, size
            else:  # the window so far sits on top; the new block lies below it
                win_g = win_g | (win_p & ((cur_g << span) & full))
                win_p = win_p & ((cur_p << span) & full)
                span += size
        n >>= 1
        if n:
            cur_g, cur_p = cur_g | (cur_p & ((cur_g << size) & full)), cur_p & ((cur_p << size) & full)
            size *= 2
    assert win_g is not None
    return wrap(p ^ ((win_g << 1) & full), width)


def _vos(net: Network, level: float) -> Fault:
    def fault(li: int, r: int, x: np.ndarray, acc: np.ndarray) -> np.ndarray:
        layer = net.layers[li]
        width = layer.acc_type.width
        budget = vos_carry_budget(level, width)
        if budget >= width:
            return acc.astype(np.int64)
        prods = products(layer, x)
        out = np.broadcast_to(np.asarray(layer.bias).astype(np.int64), acc.shape).copy()
        for n in range(layer.n_in):
            out = late_carry_add(out, prods[:, :, n], width, budget)
        return out
    return fault


def make(name: str, net: Network, level: float, seed: int = 0, ranges: Sequence[float] | None = None) -> Fault:
    """The `Fault` of model `name` at `level`. `ranges` (per layer accumulator value range, raw units, from
    `value_ranges` on calibration data) is needed by `gaussian` only."""
    if name not in MODELS:
        raise VhlsError(f"unknown noise model {name!r}; known: {', '.join(NOISES)}")
    if not np.isfinite(level):
        raise VhlsError(f"noise level must be a finite number, got {level}")
    if seed < 0:
        raise VhlsError(f"noise seed must be >= 0, got {seed}")
    for layer in net.layers:
        _check_width(layer)
    if name == "vos":
        if not VOS_VT < level <= 1.0:
            raise VhlsError(f"vos level is Vdd / Vdd_crit in ({VOS_VT}, 1], got {level}")
        return _vos(net, level)
    if name == "gaussian":
        if level < 0:
            raise VhlsError(f"gaussian level (σ / range) must be >= 0, got {level}")
        if ranges is None or len(ranges) != len(net.layers):
            raise VhlsError("gaussian noise needs the accumulator value range of every layer (calibration data)")
        return _gaussian(net, level, seed, ranges)
    if not 0.0 <= level <= 1.0:
        raise VhlsError(f"{name} level is a probability in [0, 1], got {level}")
    if name == "acc_flip":
        from vhls.noise.inject import fault

        if seed >= 1 << 32:
            raise VhlsError(f"acc_flip seed must be below 2^32, got {seed}")
        return fault(net, level, seed)
    return {"acc_ber": _acc_ber, "weight_ber": _weight_ber, "stuck_at": _stuck_at}[name](net, level, seed)
