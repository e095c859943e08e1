"""vhls.noise.models: each model is deterministic per seed, injects nothing at its clean level, and its measured
error statistics match its stated parameters (binomial / Gaussian tolerances of several standard deviations)."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backends"))
from nn_nets import narrow_acc, two_layer

from vhls.ir.errors import VhlsError
from vhls.layers import Dense, Input, ReLU, Sequential
from vhls.noise import golden, models
from vhls.noise.models import late_carry_add, wrap


@pytest.fixture(scope="module")
def small():
    """A 24 -> 16 (ReLU) -> 6 network with default fixed<16,6> and random weights, and 200 real inputs."""
    rng = np.random.default_rng(5)
    m = Sequential(Input((24,), "fixed<16,6>"), Dense(16, rng.normal(0, 0.4, (16, 24)), rng.normal(0, 0.2, 16)),
                   ReLU(), Dense(6, rng.normal(0, 0.4, (6, 16)), rng.normal(0, 0.2, 6)), name="small")
    net = golden.network(m)
    x = m.quantise_input(rng.uniform(-1, 1, (200, 24)))
    return net, np.asarray(x)


def _run(net, x, name, level, seed, replica=0):
    """Faulty accumulators of every layer (each layer fed its clean input)."""
    fault = models.make(name, net, level, seed, models.value_ranges(golden.accumulators(net, x)))
    outs, h = [], x
    for ly in net.layers:
        acc = golden.layer_acc(ly, h)
        outs.append(fault(ly.index, replica, h, acc))
        h = golden.post(ly, acc)
    return outs


def _clean(net, x):
    return golden.accumulators(net, x)


LEVELS = {"gaussian": 0.02, "acc_ber": 0.01, "weight_ber": 0.01, "vos": 0.7, "stuck_at": 0.05, "acc_flip": 0.1}


@pytest.mark.parametrize("name", models.NOISES)
def test_deterministic_per_seed(small, name: str) -> None:
    net, x = small
    a, b = _run(net, x, name, LEVELS[name], 3), _run(net, x, name, LEVELS[name], 3)
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    assert any(not np.array_equal(u, c) for u, c in zip(a, _clean(net, x), strict=True)), "the level injects errors"
    if name != "vos":  # vos is deterministic by design (timing, not randomness)
        c = _run(net, x, name, LEVELS[name], 4)
        assert any(not np.array_equal(u, v) for u, v in zip(a, c, strict=True))
        r1 = _run(net, x, name, LEVELS[name], 3, replica=1)
        assert any(not np.array_equal(u, v) for u, v in zip(a, r1, strict=True)), "replicas draw independently"


@pytest.mark.parametrize("name", models.NOISES)
def test_clean_level_is_bit_exact(small, name: str) -> None:
    net, x = small
    clean = models.MODELS[name].clean
    assert all(np.array_equal(u, c) for u, c in zip(_run(net, x, name, clean, 1), _clean(net, x), strict=True))
    fault = models.make(name, net, clean, 1, [1.0] * len(net.layers))
    assert np.array_equal(golden.forward(net, x, lambda li, xi, acc: fault(li, 0, xi, acc)), golden.forward(net, x))


def _popcount(a: np.ndarray, width: int) -> int:
    a = np.asarray(a, dtype=np.int64) & ((1 << width) - 1)
    return int(sum(((a >> b) & 1).sum() for b in range(width)))


def _binomial_ok(k: int, n: int, p: float, sigmas: float = 5.0) -> bool:
    return abs(k - n * p) <= sigmas * np.sqrt(n * p * (1 - p)) + 1


def test_acc_ber_flip_frequency(small) -> None:
    net, x = small
    p = 0.01
    for ly, faulty, clean in zip(net.layers, _run(net, x, "acc_ber", p, 9), _clean(net, x), strict=True):
        w = ly.acc_type.width
        flips = _popcount(faulty ^ clean, w)
        assert _binomial_ok(flips, clean.size * w, p), (ly.name, flips, clean.size * w * p)
        # every bit position is hit (uniform over the W bits): the top and bottom bits flip too
        diff = (faulty ^ clean) & ((1 << w) - 1)
        assert ((diff >> (w - 1)) & 1).any() and (diff & 1).any()


def test_weight_ber_flip_frequency_and_forward_equivalence(small) -> None:
    net, x = small
    p = 0.02
    ws = models.faulty_weights(net, p, 11)
    assert all(np.array_equal(a, b) for a, b in zip(ws, models.faulty_weights(net, p, 11), strict=True))
    for ly, w in zip(net.layers, ws, strict=True):
        flips = _popcount(np.asarray(ly.weights).astype(np.int64) ^ w, ly.w_type.width)
        assert _binomial_ok(flips, w.size * ly.w_type.width, p)
        assert w.min() >= ly.w_type.min_raw and w.max() <= ly.w_type.max_raw
    # the Fault view (recomputed accumulators) equals golden.forward with the faulty weight matrices
    fault = models.make("weight_ber", net, p, 11)
    assert np.array_equal(golden.forward(net, x, lambda li, xi, acc: fault(li, 0, xi, acc)),
                          golden.forward(net, x, weights=ws))


def test_gaussian_sigma_relative_to_range(small) -> None:
    net, x = small
    level = 0.01
    ranges = models.value_ranges(_clean(net, x))
    for ly, faulty, clean, rng in zip(net.layers, _run(net, x, "gaussian", level, 2), _clean(net, x), ranges,
                                      strict=True):
        d = wrap(faulty - clean, ly.acc_type.width).astype(float)
        sigma = level * rng
        assert sigma > 10  # many LSBs: rounding is negligible
        n = d.size
        assert abs(d.mean()) <= 5 * sigma / np.sqrt(n)
        assert abs(d.std() / sigma - 1) <= 5 / np.sqrt(2 * n)


def test_stuck_at_fraction_and_persistence(small) -> None:
    net, x = small
    p = 0.05
    for ly, faulty, clean in zip(net.layers, _run(net, x, "stuck_at", p, 8), _clean(net, x), strict=True):
        w = ly.acc_type.width
        fb, cb = (_bits(a, w) for a in (faulty, clean))
        constant = (fb == fb[:1]).all(axis=0)  # (n_out, w): bits equal across all vectors
        changed = (cb != fb).any(axis=0)
        stuck = constant & changed  # a lower bound of the stuck set (a stuck bit may agree with every clean value)
        assert not (changed & ~constant).any(), "faults are persistent per neuron register"
        assert stuck.sum() <= _binomial_upper(ly.n_out * w, p)
    # the stuck masks themselves: fraction p, values 0/1 about equally
    rng = models._rng(8, "stuck_at", 0, 0)
    masks = models._flip_masks(rng, (4000,), 30, p)
    assert _binomial_ok(_popcount(masks, 30), 4000 * 30, p)


def _bits(a: np.ndarray, width: int) -> np.ndarray:
    return (np.asarray(a, dtype=np.int64)[..., None] >> np.arange(width)) & 1


def _binomial_upper(n: int, p: float) -> float:
    return n * p + 5 * np.sqrt(n * p * (1 - p)) + 1


def test_late_carry_adder_matches_bit_level_model() -> None:
    rng = np.random.default_rng(1)
    w = 10
    a, b = rng.integers(-2**9, 2**9, 400), rng.integers(-2**9, 2**9, 400)
    assert np.array_equal(late_carry_add(a, b, w, w), wrap(a + b, w))

    def brute(x: int, y: int, budget: int) -> int:
        xu, yu, s = x & (2**w - 1), y & (2**w - 1), 0
        for i in range(w):
            c = 0
            for j in range(max(0, i - budget), i):  # carries generated within `budget` bits below bit i
                xj, yj = (xu >> j) & 1, (yu >> j) & 1
                c = (xj & yj) | ((xj ^ yj) & c)
            s |= (((xu >> i) & 1) ^ ((yu >> i) & 1) ^ c) << i
        return s - 2**w if s >= 2**(w - 1) else s

    for budget in range(1, w + 1):
        want = [brute(int(u), int(v), budget) for u, v in zip(a, b, strict=True)]
        assert np.array_equal(late_carry_add(a, b, w, budget), want), budget


def test_vos_products_rebuild_the_accumulator() -> None:
    """The vos model re-runs the fold from `products`: with no timing error it must equal golden.layer_acc,
    also when products are quantised into the accumulator (narrow_acc) and accumulators wrap (two_layer)."""
    for prog in (narrow_acc(), two_layer()):
        net = golden.network(prog)
        rng = np.random.default_rng(0)
        x = rng.integers(net.in_type.min_raw, net.in_type.max_raw, (50, net.n_in), endpoint=True)
        for ly in net.layers:
            s = np.asarray(ly.bias).astype(np.int64) + models.products(ly, x).sum(axis=2)
            assert np.array_equal(wrap(s, ly.acc_type.width), golden.layer_acc(ly, x).astype(np.int64))
            x = golden.post(ly, golden.layer_acc(ly, x))


def test_vos_errors_grow_as_voltage_drops(small) -> None:
    net, x = small
    clean = _clean(net, x)
    wrong = []
    for k in (1.0, 0.9, 0.8, 0.7, 0.6, 0.5):
        budgets = [models.vos_carry_budget(k, ly.acc_type.width) for ly in net.layers]
        faulty = _run(net, x, "vos", k, 0)
        wrong.append(sum(int((f != c).sum()) for f, c in zip(faulty, clean, strict=True)))
        if k == 1.0:
            assert budgets == [ly.acc_type.width for ly in net.layers]
    assert wrong[0] == 0 and wrong[-1] > 0
    assert wrong == sorted(wrong), wrong  # a smaller carry budget never fixes an addition
    assert models.vos_delay(1.0) == pytest.approx(1.0) and models.vos_delay(0.7) > models.vos_delay(0.8) > 1
    assert models.vos_energy(0.8) == pytest.approx(0.64)


@pytest.mark.parametrize(("name", "level", "match"), [
    ("thermal", 0.1, "unknown noise model"), ("acc_ber", 1.5, "probability"), ("stuck_at", -0.1, "probability"),
    ("vos", 1.2, "Vdd"), ("vos", 0.2, "Vdd"), ("gaussian", -1.0, ">= 0"), ("acc_ber", float("nan"), "finite")])
def test_bad_levels(small, name: str, level: float, match: str) -> None:
    net, _ = small
    with pytest.raises(VhlsError, match=match):
        models.make(name, net, level, 0, [1.0, 1.0])


def test_acc_flip_is_the_rtl_injector_stream(small) -> None:
    """acc_flip is vhls.noise.inject's fault (what `vhls build --inject acc:LEVEL:SEED` puts into the RTL)."""
    from vhls.noise.inject import fault

    net, x = small
    ref = fault(net, 0.1, 3)
    got = _run(net, x, "acc_flip", 0.1, 3, replica=2)
    h = x
    for ly, g in zip(net.layers, got, strict=True):
        acc = golden.layer_acc(ly, h)
        assert np.array_equal(g, ref(ly.index, 2, h, acc))
        h = golden.post(ly, acc)
    with pytest.raises(VhlsError, match="below 2"):
        models.make("acc_flip", net, 0.1, 1 << 32)


def test_gaussian_needs_ranges_and_seed_must_be_natural(small) -> None:
    net, _ = small
    with pytest.raises(VhlsError, match="value range"):
        models.make("gaussian", net, 0.1, 0)
    with pytest.raises(VhlsError, match="seed"):
        models.make("acc_ber", net, 0.1, -1)
