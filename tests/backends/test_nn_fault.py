"""The RTL fault injector (backends/nn/fault.py) reproduces vhls.noise.inject's stream bit for bit (Amaranth
simulation), and the GF(2) jump matrices equal stepping xorshift32."""

import numpy as np
import pytest
from amaranth.sim import Simulator

from vhls.backends.nn.fault import FaultInjector, jump_matrix
from vhls.ir.types import Fixed
from vhls.noise.inject import flip_bits, states, step, threshold, xor_bits


def test_jump_matrix_is_n_steps() -> None:
    rng = np.random.default_rng(0)
    for n in (1, 2, 7, 33):
        cols = jump_matrix(n)
        for s in rng.integers(1, 1 << 32, size=5):
            x = int(s)
            want = x
            for _ in range(n):
                want = step(want)
            got = 0
            for j in range(32):
                if x >> j & 1:
                    got ^= cols[j]
            assert got == want


@pytest.mark.parametrize(("lanes", "width", "rate"), [(1, 12, 0.3), (3, 17, 0.5), (4, 40, 1.0), (2, 9, 0.0)])
def test_injector_matches_golden_stream(lanes: int, width: int, rate: float) -> None:
    t = Fixed(width, width, True)
    s0, chunks = 0x1234567 + lanes, 25
    dut = FaultInjector(lanes, t, s0, threshold(rate))
    rng = np.random.default_rng(lanes)
    accs = rng.integers(t.min_raw, t.max_raw, size=(chunks, lanes), endpoint=True)
    want = xor_bits(accs.reshape(1, -1), flip_bits(s0, rate, width, 1, chunks * lanes), t).reshape(chunks, lanes)
    got = []

    async def bench(ctx) -> None:
        mask = (1 << width) - 1
        for c in range(chunks):
            word = 0
            for p in range(lanes):
                word |= (int(accs[c, p]) & mask) << (p * width)
            ctx.set(dut.i_acc, word)
            ctx.set(dut.i_valid, 0)
            await ctx.tick()  # idle cycles must not advance the stream
            ctx.set(dut.i_valid, 1)
            out = ctx.get(dut.o_acc)
            got.append([((out >> (p * width)) & mask) for p in range(lanes)])
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    got_s = np.asarray([[v - (1 << width) if v >> (width - 1) else v for v in row] for row in got], dtype=object)
    assert np.array_equal(got_s, want.astype(object))
    if rate == 1.0:
        assert not np.array_equal(got_s, accs)
    assert int(states(s0, 1)[0]) == step(s0)


def test_noise_options_parse() -> None:
    from vhls.backends.nn.protect import NoiseOptions
    from vhls.ir.errors import VhlsError

    assert NoiseOptions.parse(None, None) is None
    assert NoiseOptions.parse("acc:0.01:7", "abft") == NoiseOptions(0.01, 7, "abft")
    assert NoiseOptions.parse("acc:1e-3", None) == NoiseOptions(0.001, 0, None)
    assert NoiseOptions.parse(None, "ant:5") == NoiseOptions(None, 0, "ant", 5, "cal")
    assert NoiseOptions.parse(None, "ant:5:worst") == NoiseOptions(None, 0, "ant", 5, "worst")
    assert NoiseOptions.parse(None, "ant:6:40,7") == NoiseOptions(None, 0, "ant", 6, "40,7")
    assert NoiseOptions.from_json(NoiseOptions(0.5, 3, "tmr").to_json()) == NoiseOptions(0.5, 3, "tmr")
    ant = NoiseOptions(0.5, 3, "ant", 6, "cal", (10, 20))
    assert NoiseOptions.from_json(ant.to_json()) == ant and NoiseOptions.from_json(ant.to_json()).stages == 2
    for inject, tol in [("ber:0.1", None), ("acc:x", None), ("acc:2", None), (None, "tmr:3"), (None, "dmr"),
                        (None, "ant:5:x"), (None, "ant:5:-1"), (None, "ant:5:1:2"), (None, "ant:x")]:
        with pytest.raises(VhlsError):
            NoiseOptions.parse(inject, tol)


def test_ant_thresholds_resolve_and_are_reported() -> None:
    """ANT's thresholds are fixed at build time: calibrated on the model's `calibration` data by default (what the
    sweep's `ant` uses), worst case or given; report.json records them; ANT adds two pipeline stages, TMR one."""
    from pathlib import Path

    from vhls.backends.nn import design
    from vhls.backends.nn.protect import NoiseOptions
    from vhls.ir.errors import VhlsError
    from vhls.loader import load
    from vhls.noise.tolerance import ant_calibrate, ant_threshold

    model = load(Path(__file__).resolve().parents[2] / "examples" / "jet_mlp.py")
    clean = design(model, "seq")
    d = design(model, "seq", noise=NoiseOptions(None, 0, "ant", 8))
    x_cal = np.asarray(model.quantise_input(model.calibration)).reshape(len(model.calibration), -1)
    want = ant_calibrate(d.net, x_cal, 8)
    assert d.noise is not None and d.noise.thresholds == tuple(want) and min(want) > 0
    rep = d.report()
    assert rep["noise"]["thresholds"] == want and rep["noise"]["threshold"] == "cal"
    assert [s["threshold"] for s in rep["noise"]["overhead"]["stages"]] == want
    assert rep["total"]["latency"] == clean.report()["total"]["latency"] + 2 * len(d.stages)
    assert design(model, "seq", noise=NoiseOptions(None, 0, "tmr")).report()["total"]["latency"] == \
        clean.report()["total"]["latency"] + len(d.stages)
    assert design(model, "seq", noise=NoiseOptions(0.1, 0, "abft")).report()["total"]["latency"] == \
        clean.report()["total"]["latency"]
    worst = design(model, "seq", noise=NoiseOptions(None, 0, "ant", 8, "worst")).noise
    assert worst is not None and worst.thresholds == tuple(ant_threshold(ly, 8) for ly in d.net.layers)
    assert all(w > c for w, c in zip(worst.thresholds, want, strict=True))  # the bound is far above real errors
    given = design(model, "seq", noise=NoiseOptions(None, 0, "ant", 8, "5")).noise
    assert given is not None and given.thresholds == (5,) * len(d.net.layers)
    with pytest.raises(VhlsError, match="one per layer"):
        design(model, "seq", noise=NoiseOptions(None, 0, "ant", 8, "1,2"))
    with pytest.raises(VhlsError, match="needs calibration inputs"):  # an IR program has no calibration data
        design(model.ir, "seq", noise=NoiseOptions(None, 0, "ant", 8))


@pytest.mark.parametrize("scheme", [pytest.param("tmr", marks=pytest.mark.slow), "ant"])
def test_protected_designs_pass_yosys_check_and_lint(scheme: str) -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sim"))
    from test_nn_fault_sim import exact_net

    from vhls.backends.nn import design
    from vhls.backends.nn.protect import NoiseOptions
    from vhls.backends.synth.check import check_design

    d = design(exact_net(), "2x1,1x3", noise=NoiseOptions(0.01, 1, scheme, bits=3, threshold="100"))
    text = d.verilog()
    check_design(text, d.name)  # raises on a failed check
    assert ("keep_hierarchy" in text) == (scheme == "tmr")  # TMR replicas must survive synthesis
    assert "fault0" in text


def test_conv_net_options_number_the_mac_stages() -> None:
    """A conv net's MAC stages are numbered by Network.layers (fault streams, ANT thresholds, stats) and its status
    pins by their place in the chain; pools get none. design.json leaves the numbering out (it is derived)."""
    from nn_cnn_nets import chained_cnn

    from vhls.backends.nn import design
    from vhls.backends.nn.protect import NoiseOptions
    from vhls.backends.nn.top import _ports

    d = design(chained_cnn(), 32, noise=NoiseOptions(0.01, 2, "ant", threshold="5,6,7"))
    assert [u.name for u in d.net.chain] == ["conv0", "conv1", "maxpool2", "dense3"]
    assert d.noise.units == (0, 1, 3) and [d.noise.layer(ly) for ly in d.net.layers] == [0, 1, 2]
    assert d.noise.thresholds == (5, 6, 7) and "units" not in d.noise.to_json()
    assert NoiseOptions.from_json(d.noise.to_json()) == d.noise
    assert [s["threshold"] for s in d.report()["noise"]["overhead"]["stages"]] == [5, 6, 7]
    a = design(chained_cnn(), 32, noise=NoiseOptions(0.01, 2, "abft"))
    pins = sorted(n for n in _ports(a.net, a.noise, None) if "abft" in n)
    assert pins == [f"stage{k}_abft_{p}" for k in (0, 1, 3) for p in ("checked", "errors")]
