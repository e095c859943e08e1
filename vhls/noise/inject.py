"""The bit-exact fault stream of the RTL fault injector (backends/nn/fault.py), as golden-model hooks.

Fault site: each MAC stage's finished accumulator (bias + Σ products, before requantisation), W = acc width.

Stream: per MAC stage l (its place in Network.layers) and replica r (0 = the main MAC array; 1, 2 = the extra TMR
copies) one xorshift32 generator
    x ^= x << 13; x ^= x >> 17; x ^= x << 5        (all mod 2^32; Marsaglia 2003, period 2^32 - 1)
seeded with s = mix(seed, l, r): a murmur3 `fmix32` of seed·0x9E3779B1 + l·0x85EBCA77 + r·0xC2B2AE3D (mod 2^32),
replaced by 1 when it is 0 (xorshift's one fixed point). The state is a constant of the generated Verilog.

Order: the stage's outputs in stream order: vector v counted from reset (a conv stage: window vectors, Ho·Wo per
image in raster order, as golden.forward's hook sees them), neuron j = 0..M-1; output element
k = v·M + j uses the state x after k + 1 steps. (The hardware emits PE results per cycle, so it steps PE times
per chunk: lane p of chunk c sees step c·PE + p + 1.)

Decision: flip iff (x >> 8) < T with T = round(rate · 2^24) (rate = probability per accumulator value, resolution
2^-24); the bit is b = ((x & 0xFF) · W) >> 8 (uniform over the W bits to within 1/256); faulty = acc XOR 2^b in
W-bit two's complement.

    fault(net, rate, seed)                   -> Fault   (l, r, x, acc[, rows]) -> faulty acc  (see tolerance.py)
    fault_hook(net, rate, seed, replica=0)   -> AccHook (l, x, acc) -> faulty acc     (see golden.py)
    flips(net, rate, seed, l, r, V)          -> (V, M) flipped bit per output, -1 where none
The hooks assume their V input vectors are the first V vectors after reset; `rows` (one stream position per
vector: the vector's M outputs are elements rows·M .. rows·M + M − 1) places them elsewhere in the stream, as
ABFT's re-executions do (tolerance.protect with `retries`).
"""

from collections.abc import Callable
from functools import lru_cache

import numpy as np

from vhls.backends.nn.recognise import Network
from vhls.ir.errors import VhlsError
from vhls.ir.types import Fixed
from vhls.noise.golden import AccHook, wrap

Fault = Callable[[int, int, np.ndarray, np.ndarray], np.ndarray]

M32 = 0xFFFFFFFF
_BLOCK = 1024  # states computed one by one; later blocks jump ahead by _BLOCK steps at once (xorshift is linear)


def mix(seed: int, layer: int, replica: int) -> int:
    """The initial state of stage `layer`, replica `replica` (never 0)."""
    h = (seed * 0x9E3779B1 + layer * 0x85EBCA77 + replica * 0xC2B2AE3D) & M32
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & M32
    h ^= h >> 16
    return h or 1


def step(x):  # a Python int or a numpy uint64 array
    """One xorshift32 step (13, 17, 5)."""
    x = x ^ ((x << 13) & M32)
    x = x ^ (x >> 17)
    return x ^ ((x << 5) & M32)


@lru_cache(maxsize=4)
def _jump(n: int) -> np.ndarray:
    """Column i = the state n steps after state 2^i (xorshift is linear over GF(2))."""
    cols = np.array([1 << i for i in range(32)], dtype=np.uint64)
    for _ in range(n):
        cols = step(cols)
    return cols


def _apply(cols: np.ndarray, xs: np.ndarray) -> np.ndarray:
    out = np.zeros_like(xs)
    for i in range(32):
        out ^= np.where((xs >> np.uint64(i)) & np.uint64(1), cols[i], np.uint64(0))
    return out


def states(s0: int, n: int) -> np.ndarray:
    """The states after 1..n steps from s0 (uint64 array of length n)."""
    first = np.empty(min(n, _BLOCK), dtype=np.uint64)
    x = s0
    for i in range(len(first)):
        x = step(x)
        first[i] = x
    blocks, have = [first], len(first)
    while have < n:
        blocks.append(_apply(_jump(_BLOCK), blocks[-1]))
        have += _BLOCK
    return np.concatenate(blocks)[:n]


def threshold(rate: float) -> int:
    """T of the decision (x >> 8) < T."""
    if not 0.0 <= rate <= 1.0:
        raise VhlsError(f"fault rate {rate} must be a probability in [0, 1]")
    return round(rate * (1 << 24))


def flip_bits(s0: int, rate: float, width: int, v: int, m: int) -> np.ndarray:
    """(v, m) flipped bit index per output element of one stream, -1 where the element is not hit."""
    x = states(s0, v * m).reshape(v, m)
    hit = (x >> np.uint64(8)) < np.uint64(threshold(rate))
    bit = ((x & np.uint64(0xFF)) * np.uint64(width)) >> np.uint64(8)
    return np.where(hit, bit.astype(np.int64), -1)


def flips(net: Network, rate: float, seed: int, layer: int, replica: int, v: int) -> np.ndarray:
    ly = net.layers[layer]
    return flip_bits(mix(seed, layer, replica), rate, ly.acc_type.width, v, ly.n_out)


def xor_bits(acc: np.ndarray, bits: np.ndarray, t: Fixed) -> np.ndarray:
    """acc with bit `bits` flipped (W-bit two's complement) where bits >= 0."""
    acc = np.asarray(acc)
    big = acc.dtype == object
    if big:
        mask = np.vectorize(lambda b: 1 << int(b) if b >= 0 else 0, otypes=[object])(bits)
    else:
        mask = np.where(bits >= 0, np.left_shift(np.int64(1), np.maximum(bits, 0)), 0)
    u = acc & ((1 << t.width) - 1)  # the W-bit pattern (exact for negative values too)
    return wrap(u ^ mask, t)


def fault(net: Network, rate: float, seed: int) -> Fault:
    """Replica r of stage l gets its own stream (see the module docstring)."""
    threshold(rate)
    tables: dict[tuple[int, int], np.ndarray] = {}  # flip table per stream, grown by doubling (re-executions)

    def table(layer: int, replica: int, n: int) -> np.ndarray:
        t = tables.get((layer, replica))
        if t is None or len(t) < n:
            t = flips(net, rate, seed, layer, replica, max(n, 2 * len(t)) if t is not None else n)
            tables[layer, replica] = t
        return t

    def apply(layer: int, replica: int, x: np.ndarray, acc: np.ndarray, rows: np.ndarray | None = None) -> np.ndarray:
        if rate == 0.0:
            return acc
        rows = np.arange(len(acc)) if rows is None else np.asarray(rows, dtype=np.int64)
        bits = table(layer, replica, int(rows.max()) + 1 if rows.size else 0)[rows]
        return xor_bits(acc, bits, net.layers[layer].acc_type)

    return apply


def fault_hook(net: Network, rate: float, seed: int, replica: int = 0) -> AccHook:
    f = fault(net, rate, seed)
    return lambda layer, x, acc: f(layer, replica, x, acc)


__all__ = ["Fault", "fault", "fault_hook", "flip_bits", "flips", "mix", "states", "step", "threshold", "xor_bits"]
