"""vhls.noise.golden.forward is the nn backend's datapath model: without a hook it equals the golden model (the IR
interpreter) bit for bit, on the dense examples and on random networks, for random and edge-value inputs."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backends"))
from nn_nets import narrow_acc, random_net, two_layer

from vhls.ir.check import check
from vhls.ir.interp import evaluate
from vhls.noise.golden import accumulators, forward, network

REPO = Path(__file__).resolve().parents[2]


def _inputs(net, n: int, seed: int) -> np.ndarray:
    t = net.in_type
    lo, hi = t.min_raw, t.max_raw
    edges = [np.full(net.n_in, lo), np.full(net.n_in, hi), np.zeros(net.n_in, dtype=np.int64),
             np.where(np.arange(net.n_in) % 2 == 0, lo, hi), np.where(np.arange(net.n_in) % 2 == 0, hi, lo)]
    rng = np.random.default_rng(seed)
    return np.stack(edges + list(rng.integers(lo, hi, size=(n, net.n_in), endpoint=True))).astype(np.int64)


@pytest.mark.parametrize("example", ["jet_mlp", "digits_mlp"])
def test_forward_equals_run_raw_on_examples(example: str) -> None:
    from vhls import load

    model = load(REPO / "examples" / f"{example}.py")
    net = network(model)
    x = _inputs(net, 200, 3)
    want = np.asarray(model.run_raw(x)).astype(np.int64)
    got = forward(net, x)
    assert got.dtype == np.int64 and got.shape == want.shape
    assert np.array_equal(got, want)
    # real data too (the quantised calibration inputs), and a hook that changes nothing
    xq = model.quantise_input(model.calibration[:64])
    assert np.array_equal(forward(net, xq, hook=lambda k, xi, a: a), np.asarray(model.run_raw(xq)))
    accs = accumulators(net, xq)
    assert [a.shape for a in accs] == [(64, ly.n_out) for ly in net.layers]


@pytest.mark.parametrize("seed", range(40))
def test_forward_equals_interpreter_on_random_networks(seed: int) -> None:
    prog, _ = random_net(seed)
    typed = check(prog)
    net = network(prog)
    x = _inputs(net, 30, seed)
    want = np.asarray(evaluate(prog, x, typed=typed)).astype(np.int64)
    assert np.array_equal(forward(net, x), want)


@pytest.mark.parametrize("prog", [two_layer(), narrow_acc()], ids=["two_layer", "narrow_acc"])
def test_forward_with_replaced_weights_and_hook(prog) -> None:
    net = network(prog)
    x = _inputs(net, 20, 0)
    same = forward(net, x, weights=[ly.weights for ly in net.layers])
    assert np.array_equal(same, forward(net, x))
    zero = forward(net, x, weights=[np.zeros_like(ly.weights) for ly in net.layers])
    # with zero weights the output does not depend on the input
    assert (zero == zero[0]).all()
    # the hook's result is wrapped to the accumulator's width: adding 2^W changes nothing
    big = forward(net, x, hook=lambda k, xi, a: a.astype(object) + (1 << net.layers[k].acc_type.width))
    assert np.array_equal(big, forward(net, x))
