"""ABFT with re-execution in the golden model (`tolerance.protect(..., retries=R)`, what `--tolerance abft:R`
builds): against a plain attempt-by-attempt loop over the fault stream, and the stream positions it uses."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backends"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sim"))
from test_nn_fault_sim import exact_net

import vhls.noise.tolerance as tolerance
from vhls.ir.errors import VhlsError
from vhls.noise.golden import forward, network
from vhls.noise.inject import fault, flips, xor_bits
from vhls.noise.tolerance import checksum, protect, row_sum


def _x(net, n: int, seed: int) -> np.ndarray:
    t = net.in_type
    return np.random.default_rng(seed).integers(t.min_raw, t.max_raw, size=(n, net.n_in), endpoint=True)


def _reference(net, rate: float, seed: int, retries: int, x: np.ndarray) -> tuple[np.ndarray, dict]:
    """One attempt at a time: attempt n of stage k meets row n of the stage's stream; a flagged vector goes again
    until it passes or has had `retries` re-executions."""
    log: dict = {"flagged": {}, "released": {}, "attempts": {}}

    def hook(k: int, xs: np.ndarray, acc: np.ndarray) -> np.ndarray:
        ly, pos, out = net.layers[k], 0, []
        table = flips(net, rate, seed, k, 0, len(acc) * (retries + 1))
        c = checksum(ly, xs)
        log["flagged"][k], log["released"][k] = [], []
        for v in range(len(acc)):
            for a in range(retries + 1):
                got = xor_bits(acc[v:v + 1], table[pos:pos + 1], ly.acc_type)
                bad = bool(row_sum(got, ly.acc_type)[0] != c[v])
                log["flagged"][k] += [pos] if bad else []
                pos += 1
                if not bad or a == retries:
                    log["released"][k] += [v] if bad else []
                    break
            out.append(got[0])
        log["attempts"][k] = pos
        return np.array(out)

    return forward(net, x, hook), log


@pytest.mark.parametrize("retries", [1, 2, 5])
@pytest.mark.parametrize("window", [3, 64])  # speculation windows: shorter and longer than the stream
def test_retries_equal_an_attempt_by_attempt_loop(retries: int, window: int, monkeypatch) -> None:
    monkeypatch.setattr(tolerance, "_SPECULATE", window)
    net = network(exact_net())
    x = _x(net, 40, 1)
    hook, stats = protect(net, "abft", fault(net, 0.1, 11), retries=retries)
    got = forward(net, x, hook)
    want, log = _reference(net, 0.1, 11, retries, x)
    assert np.array_equal(got, want)
    for k in range(2):
        assert stats["flagged"][k] == log["flagged"][k] and stats["attempts"][k] == log["attempts"][k]
        assert stats["released_flagged"][k] == log["released"][k]
        assert stats["retries"][k] == stats["attempts"][k] - len(x)
    assert sum(stats["retries"]) > 10  # the rate makes re-executions common


def test_retries_repair_vectors_and_zero_rate_is_clean() -> None:
    net = network(exact_net())
    x = _x(net, 60, 2)
    clean = forward(net, x)
    flag_only, _ = protect(net, "abft", fault(net, 0.1, 3))
    redo, stats = protect(net, "abft", fault(net, 0.1, 3), retries=8)
    ok_flag = (forward(net, x, flag_only) == clean).all(axis=1).sum()
    ok_redo = (forward(net, x, redo) == clean).all(axis=1).sum()
    assert ok_redo > ok_flag
    hook, stats = protect(net, "abft", fault(net, 0.0, 3), retries=2)
    assert np.array_equal(forward(net, x, hook), clean) and stats["retries"] == [0, 0]


def test_fault_rows_place_vectors_in_the_stream() -> None:
    net = network(exact_net())
    f = fault(net, 0.2, 5)
    acc = np.zeros((6, net.layers[0].n_out), dtype=np.int64)
    x = _x(net, 6, 0)
    assert np.array_equal(f(0, 0, x, acc), f(0, 0, x, acc, np.arange(6)))
    table = flips(net, 0.2, 5, 0, 0, 40)
    rows = np.array([39, 3, 17, 17, 0, 8])
    assert np.array_equal(f(0, 0, x, acc, rows), xor_bits(acc, table[rows], net.layers[0].acc_type))


def test_retry_options_are_checked() -> None:
    net = network(exact_net())
    with pytest.raises(VhlsError, match="retries"):
        protect(net, "abft", fault(net, 0.1, 0), retries=-1)
    with pytest.raises(VhlsError, match="retries"):
        protect(net, "abft", fault(net, 0.1, 0), retries=2, recompute=True)
    with pytest.raises(VhlsError, match="unknown parameters"):
        protect(net, "tmr", fault(net, 0.1, 0), retries=2)
