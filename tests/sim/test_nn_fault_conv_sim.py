"""RTL fault injection and tolerance on conv networks (Icarus): a conv stage is the dense stage behind its window
unit, so its injector, TMR replicas, ANT replica and ABFT checker see one window vector per position; the noisy RTL
equals the noisy golden model (vhls.noise.golden with conv and pool stages) bit for bit, ABFT's flags read from the
RTL equal the golden model's and every window vector with exactly one injected fault is flagged. Measured cycles
and latency equal the plan's. CI: a small conv -> conv -> pool -> dense net; slow: digits_cnn at --parallel 64."""

import importlib.util
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backends"))
from nn_cnn_nets import chained_cnn

from vhls.backends.nn import design
from vhls.backends.nn.emit import make_vectors
from vhls.backends.nn.protect import NoiseOptions
from vhls.backends.nn.protect import golden as noise_golden
from vhls.ir.errors import VhlsError
from vhls.noise.golden import forward, network
from vhls.noise.tolerance import ant_calibrate
from vhls.sim.nn import verify

pytestmark = pytest.mark.skipif(shutil.which("iverilog") is None or importlib.util.find_spec("cocotb") is None,
                                reason="needs Icarus Verilog and cocotb")
REPO = Path(__file__).resolve().parents[2]


def _check(model, parallel, noise: NoiseOptions, vectors: int, throughput: int) -> dict:
    d = design(model, parallel, noise=noise)
    res = verify(d, "icarus", vectors=vectors, seed=1, throughput_vectors=throughput)
    assert res.ok, (res.summary(), res.first_bad, res.flag_mismatches)
    assert res.cycles_per_inference == res.predicted_cycles and res.latency == res.predicted_latency
    raw = make_vectors(d, vectors, 1)
    seq = np.concatenate([raw[np.arange(throughput) % len(raw)], raw])  # what the bench streams after reset
    out, stats = noise_golden(d.net, d.noise, seq)
    clean = forward(d.net, seq)
    plain, _ = noise_golden(d.net, NoiseOptions(noise.rate, noise.seed), seq)
    assert (plain != clean).any(), "the faults change some outputs (else the test proves nothing)"
    if noise.scheme == "tmr":
        assert sum(stats["outvoted"]) > 0 and np.array_equal(out, clean)  # single-replica faults are voted away
    if noise.scheme == "ant":
        assert sum(stats["replaced"]) > 0
    if noise.scheme == "abft":
        a = res.extra["abft"]
        assert a["stage_vectors"] == len(seq) * sum(ly.vectors for ly in d.net.layers)
        assert a["single_fault"] > 0 and a["single_fault_flagged"] == a["single_fault"] and a["false_alarms"] == 0
        assert a["flagged"] == a["faulty"]  # here no fault pattern cancels in the checksum
    return res.extra


def _ant(model, bits: int = 6) -> str:
    """Thresholds calibrated on random inputs (not the bench's): the CNN has no calibration data."""
    net = network(model)
    t = net.in_type
    x = np.random.default_rng(9).integers(t.min_raw, t.max_raw, size=(32, net.n_in), endpoint=True)
    return ",".join(map(str, ant_calibrate(net, x, bits)))


@pytest.mark.parametrize("scheme", ["tmr", "ant", "abft"])
def test_chained_cnn_noisy_rtl_equals_golden(scheme: str) -> None:
    model = chained_cnn()  # conv (frame banks) -> conv (line buffers, PE chunks collected) -> maxpool -> dense
    noise = NoiseOptions(0.05, 5, scheme, bits=6, threshold=_ant(model) if scheme == "ant" else "cal")
    _check(model, 32, noise, vectors=4, throughput=4)


def test_recompute_is_refused_on_conv_stages() -> None:
    with pytest.raises(VhlsError, match=r"abft:2: recompute is for dense stages only.*conv stage conv0"):
        design(chained_cnn(), 32, noise=NoiseOptions(0.01, 0, "abft", retries=2))


def _digits():
    if importlib.util.find_spec("sklearn") is None:
        pytest.skip("digits_cnn needs scikit-learn's digits")
    from vhls import load

    return load(REPO / "examples" / "digits_cnn.py")


@pytest.mark.slow
@pytest.mark.parametrize("scheme", [None, "tmr", "ant", "abft"])
def test_digits_cnn_noisy_rtl_equals_golden(scheme: str | None) -> None:
    """30-90 s each (shared machine): 24 vectors after 12 throughput vectors; ANT with the calibrated thresholds."""
    _check(_digits(), 64, NoiseOptions(0.01, 3, scheme), vectors=24, throughput=12)


@pytest.mark.slow
def test_digits_cnn_abft_flags_every_single_fault() -> None:
    """A low rate (~130 s): whole images with exactly one injected fault occur, and each is flagged."""
    extra = _check(_digits(), 64, NoiseOptions(2e-4, 1, "abft"), vectors=48, throughput=12)
    a = extra["abft"]
    assert a["single_fault_vectors"] > 0 and a["single_fault_vectors_flagged"] == a["single_fault_vectors"]
