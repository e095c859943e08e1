"""The golden fault stream (vhls.noise.inject): xorshift32 order, decision and bit choice as documented, rates,
zero rate == clean, and the tolerance schemes' semantics (vhls.noise.tolerance)."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backends"))
from nn_nets import narrow_acc, random_net, two_layer

from vhls.ir.errors import VhlsError
from vhls.ir.types import Fixed
from vhls.noise.golden import accumulators, forward, network, post, wrap
from vhls.noise.inject import fault, fault_hook, flips, mix, states, step, threshold
from vhls.noise.tolerance import (
    ant_calibrate,
    ant_estimate,
    ant_threshold,
    ant_thresholds,
    checksum,
    checksum_folds,
    overhead,
    protect,
    row_sum,
)

REPO = Path(__file__).resolve().parents[2]


def _x(net, n: int, seed: int) -> np.ndarray:
    t = net.in_type
    return np.random.default_rng(seed).integers(t.min_raw, t.max_raw, size=(n, net.n_in), endpoint=True)


def test_stream_is_plain_xorshift32_in_output_order() -> None:
    net = network(two_layer())
    v, rate, seed = 50, 0.3, 7
    for layer in range(2):
        w, m = net.layers[layer].acc_type.width, net.layers[layer].n_out
        x, want = mix(seed, layer, 0), []
        for _ in range(v * m):  # one step per output element, the decision made on the stepped state
            x = ((x ^ (x << 13)) & 0xFFFFFFFF)
            x ^= x >> 17
            x = (x ^ (x << 5)) & 0xFFFFFFFF
            want.append(((x & 0xFF) * w) >> 8 if (x >> 8) < round(rate * 2**24) else -1)
        assert flips(net, rate, seed, layer, 0, v).ravel().tolist() == want
    assert len({mix(seed, k, r) for k in range(3) for r in range(3)}) == 9
    assert mix(0, 0, 0) != 0 and step(1) != 1


def test_long_streams_jump_ahead_exactly() -> None:
    s = states(12345, 2500)
    x = 12345
    for i in range(2500):
        x = step(x)
        if i in (0, 1023, 1024, 2047, 2048, 2499):
            assert int(s[i]) == x


def test_rate_zero_is_clean_and_rate_matches() -> None:
    prog, _ = random_net(5)
    net = network(prog)
    x = _x(net, 40, 1)
    assert np.array_equal(forward(net, x, fault_hook(net, 0.0, 3)), forward(net, x))
    ly = net.layers[0]
    hits = flips(net, 0.05, 1, 0, 0, 4000) >= 0
    assert abs(hits.mean() - 0.05) < 0.01  # 4000·M Bernoulli(0.05) draws
    bits = flips(net, 1.0, 1, 0, 0, 2000)
    assert (bits >= 0).all() and set(np.unique(bits)) == set(range(ly.acc_type.width))
    with pytest.raises(VhlsError):
        threshold(1.5)


def test_faults_flip_exactly_one_bit_of_the_accumulator() -> None:
    net = network(narrow_acc())
    x = _x(net, 60, 2)
    clean = accumulators(net, x)[0]
    ly = net.layers[0]
    bad = fault(net, 0.2, 9)(0, 1, x, clean)
    b = flips(net, 0.2, 9, 0, 1, 60)
    mask = (1 << ly.acc_type.width) - 1
    diff = (np.asarray(bad) & mask) ^ (np.asarray(clean) & mask)
    assert np.array_equal(diff, np.where(b >= 0, 1 << np.maximum(b, 0), 0))
    assert (bad >= ly.acc_type.min_raw).all() and (bad <= ly.acc_type.max_raw).all()


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("scheme", ["none", "tmr", "ant", "abft"])
def test_schemes_without_faults_are_clean(scheme: str, seed: int) -> None:
    prog, _ = random_net(seed)
    net = network(prog)
    x = _x(net, 30, seed)
    try:
        hook, stats = protect(net, scheme, fault(net, 0.0, seed))
    except VhlsError as e:  # abft refuses layers with quantised products
        assert scheme == "abft" and "quantises its products" in str(e)
        return
    assert np.array_equal(forward(net, x, hook), forward(net, x))
    assert all(not f for f in stats.get("flagged", [])) and not any(stats.get("replaced", []))


def test_abft_flags_every_single_fault_and_only_faulty_vectors() -> None:
    from vhls import load

    model = load(REPO / "examples" / "jet_mlp.py")
    net = network(model)
    x = model.quantise_input(model.calibration[:300])
    rate, seed = 0.01, 4
    hook, stats = protect(net, "abft", fault(net, rate, seed))
    forward(net, x, hook)
    singles = 0
    for ly in net.layers:
        n = (flips(net, rate, seed, ly.index, 0, len(x)) >= 0).sum(axis=1)
        flagged = set(stats["flagged"][ly.index])
        assert flagged <= set(np.flatnonzero(n > 0))
        assert set(np.flatnonzero(n == 1)) <= flagged
        singles += int((n == 1).sum())
    assert singles > 100
    # the checksum neuron equals the sum of the clean accumulators
    acc = accumulators(net, x)
    xs = x
    for ly, a in zip(net.layers, acc, strict=True):
        assert np.array_equal(checksum(ly, xs), row_sum(a, ly.acc_type))
        xs = post(ly, a)
    # recompute repairs flagged vectors whose faults all cancel-free: output equals clean for those layers
    hook, stats = protect(net, "abft", fault(net, rate, seed), recompute=True)
    assert np.array_equal(forward(net, x, hook), forward(net, x)) or any(stats["flagged"])


def test_tmr_masks_faults_in_one_replica_and_ant_bounds() -> None:
    net = network(two_layer())
    x = _x(net, 100, 3)
    f = fault(net, 0.3, 5)
    only_r1 = lambda k, r, xi, a: f(k, r, xi, a) if r == 1 else a  # noqa: E731
    hook, stats = protect(net, "tmr", only_r1)
    assert np.array_equal(forward(net, x, hook), forward(net, x))
    hook, stats = protect(net, "tmr", f)
    y = forward(net, x, hook)  # three faulty replicas: runs, and usually differs from replica 0 somewhere
    assert y.shape == (100, net.n_out) and sum(stats["outvoted"]) > 0
    for ly in net.layers:
        acc = accumulators(net, x)[ly.index] if ly.index == 0 else None
        if acc is not None:
            for bits in (2, 3, 5, 99):
                t = Fixed(ly.acc_type.width, ly.acc_type.width, True)  # differences modulo 2^W
                d = np.abs(wrap(np.asarray(acc).astype(object) - ant_estimate(ly, x, bits), t))
                assert d.max() <= ant_threshold(ly, bits)
            assert ant_threshold(ly, 99) == 0


def test_ant_calibrated_thresholds_are_tight_on_their_data() -> None:
    """cal = the largest |acc - est| per layer on the calibration inputs: those are never replaced fault-free, and
    lowering any layer's threshold by one replaces at least one of them."""
    net = network(two_layer())
    x = _x(net, 80, 4)
    for bits in (3, 5):
        cal = ant_thresholds(net, bits, "cal", x)
        assert cal == ant_calibrate(net, x, bits) and cal <= ant_thresholds(net, bits, "worst")
        hook, stats = protect(net, "ant", fault(net, 0.0, 0), bits=bits, thresholds=cal)
        assert np.array_equal(forward(net, x, hook), forward(net, x)) and not any(stats["replaced"])
        for k in range(len(cal)):
            lower = [t - (i == k) for i, t in enumerate(cal)]
            hook, stats = protect(net, "ant", fault(net, 0.0, 0), bits=bits, thresholds=lower)
            forward(net, x, hook)
            assert stats["replaced"][k] > 0
    assert ant_thresholds(net, 4, [9]) == [9, 9]
    with pytest.raises(VhlsError, match="calibration inputs"):
        ant_thresholds(net, 4, "cal")
    with pytest.raises(VhlsError, match="unknown threshold"):
        ant_thresholds(net, 4, "best")


def test_overhead_counts() -> None:
    net = network(two_layer())
    par = [(2, 4), (2, 3)]
    assert overhead(net, "tmr", par)["multipliers"] == 2 * (8 + 6)
    assert overhead(net, "ant", par)["multipliers"] == 8 + 6
    with pytest.raises(VhlsError, match="quantises its products"):
        overhead(net, "abft", par)
    assert overhead(net, None, par)["multipliers"] == 0
    prog, par = random_net(7)  # exact accumulation in every layer
    net = network(prog)
    folds = [checksum_folds(ly, pe, simd) for ly, (pe, simd) in zip(net.layers, par, strict=True)]
    assert all(simd % g == 0 and (ly.n_out // pe) % g == 0 for ly, (pe, simd), g in zip(net.layers, par, folds,
                                                                                          strict=True))
    assert overhead(net, "abft", par)["multipliers"] == sum(simd // g for (_, simd), g in zip(par, folds,
                                                                                              strict=True))
    # the checksum neuron spreads over the neuron folds: 1x16 over 64 outputs needs one multiplier, not 16
    from vhls import load

    jet = network(load(REPO / "examples" / "jet_mlp.py"))
    assert [checksum_folds(ly, 1, s) for ly, s in zip(jet.layers, (16, 32, 16, 4), strict=True)] == [16, 32, 16, 1]
