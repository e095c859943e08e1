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
    assert NoiseOptions.parse(None, "ant:5") == NoiseOptions(None, 0, "ant", 5)
    assert NoiseOptions.from_json(NoiseOptions(0.5, 3, "tmr").to_json()) == NoiseOptions(0.5, 3, "tmr")
    for inject, tol in [("ber:0.1", None), ("acc:x", None), ("acc:2", None), (None, "tmr:3"), (None, "dmr")]:
        with pytest.raises(VhlsError):
            NoiseOptions.parse(inject, tol)


@pytest.mark.parametrize("scheme", [pytest.param("tmr", marks=pytest.mark.slow), "ant"])
def test_protected_designs_pass_yosys_check_and_lint(scheme: str) -> None:
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sim"))
    from test_nn_fault_sim import exact_net

    from vhls.backends.nn import design
    from vhls.backends.nn.protect import NoiseOptions
    from vhls.backends.synth.check import check_design

    d = design(exact_net(), "2x1,1x3", noise=NoiseOptions(0.01, 1, scheme, bits=3))
    text = d.verilog()
    check_design(text, d.name)  # raises on a failed check
    assert ("keep_hierarchy" in text) == (scheme == "tmr")  # TMR replicas must survive synthesis
    assert "fault0" in text
