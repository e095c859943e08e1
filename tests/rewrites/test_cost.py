"""Cost model facts: multipliers exactly the backend report's, II and latency exactly plan.py's, yosys's DSP
mapping rule per family, memory mapping, targets and speed."""

from functools import cache
from pathlib import Path

import pytest

from vhls.backends.nn import design, recognise
from vhls.ir.errors import VhlsError
from vhls.loader import load
from vhls.rewrites.cost import CostModel, bram_blocks, const_product, dsp_blocks, estimate, memory
from vhls.rewrites.explore import tilings
from vhls.rewrites.registry import get
from vhls.rewrites.strategy import everywhere, rewrite
from vhls.rewrites.targets import ECP5_85K, ICE40_UP5K, get_target

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PARALLEL = {
    "jet_mlp": [None, 68, 300, "1x4,2x4,1x4,1x2", "2x16,4x16,2x16,5x2", "4x16,4x32,4x16,1x32"],
    "digits_mlp": [None, 37, "2x64,5x4", "1x4,2x1", "32x64,10x32"],
}


@cache
def example(name: str):
    return load(EXAMPLES / f"{name}.py")


@pytest.mark.parametrize("name", sorted(PARALLEL))
def test_multipliers_ii_latency_equal_the_backend_report(name: str) -> None:
    m = example(name)
    for target in (ECP5_85K, ICE40_UP5K):
        cm = CostModel(target)
        for par in PARALLEL[name]:
            d = design(m, par)
            rep = d.report()
            c = cm.evaluate(d.net, [(s.pe, s.simd) for s in d.stages])
            tot = rep["total"]
            assert c.multipliers == tot["multipliers"]
            assert c.ii == tot["initiation_interval"] == tot["predicted_cycles_per_inference"]
            assert c.latency == tot["latency"]
            assert len(c.stages) == len(rep["stages"])
            assert c.throughput == pytest.approx(target.fclk_mhz * 1e6 / c.ii)


def test_every_balanced_tiling_matches_the_report_on_jet() -> None:
    m = example("jet_mlp")
    net = recognise(m.ir)
    cm = CostModel(ECP5_85K)
    for par in tilings(net)[::40]:
        rep = design(m, list(par)).report()["total"]
        c = cm.evaluate(net, par)
        assert (c.multipliers, c.ii, c.latency) == (rep["multipliers"], rep["initiation_interval"], rep["latency"])


def test_dsp_rule_ecp5() -> None:
    t = ECP5_85K
    assert dsp_blocks(16, 16, t) == 1
    assert dsp_blocks(18, 18, t) == 1
    assert dsp_blocks(2, 16, t) == 1  # yosys DSP_A_MINWIDTH=2: even a 2-bit operand goes to a MULT18X18D
    assert dsp_blocks(1, 16, t) == 0  # 1-bit: an AND array in LUTs
    assert dsp_blocks(19, 16, t) == 2  # split into 17-bit signed slices
    assert dsp_blocks(32, 32, t) == 4
    assert dsp_blocks(35, 16, t) == 3


def test_dsp_rule_ice40() -> None:
    t = ICE40_UP5K
    assert dsp_blocks(16, 16, t) == 1
    assert dsp_blocks(4, 6, t) == 0  # product below DSP_Y_MINWIDTH=11 stays in LUTs
    assert dsp_blocks(4, 8, t) == 1
    assert dsp_blocks(17, 16, t) == 2


def test_constant_weights() -> None:
    t = ECP5_85K
    assert const_product(0, 16, t) == (0, 0, 0)
    assert const_product(8, 16, t) == (0, 0, 0)  # a shift
    assert const_product(-1, 16, t) == (0, 16, 1)  # a negation
    assert const_product(3, 16, t) == (1, 0, 0)  # wreduce: 3 bits, still a DSP on ECP5
    # A fully unrolled stage multiplies by constants: zero weights cost nothing.
    m = example("jet_mlp")
    net = recognise(m.ir)
    c = estimate(net, [(64, 16), (32, 64), (32, 32), (5, 32)], t)
    nonzero = sum(int(v) not in (0, 1, 2, 4, 8, 16, 32, 64, 128, 256, 512) and int(v) != -1
                  for ly in net.layers for v in ly.weights.reshape(-1))
    assert c.dsp == nonzero < c.multipliers


def test_bram_and_memory_mapping() -> None:
    assert bram_blocks(1024, 18, ECP5_85K) == 1
    assert bram_blocks(512, 36, ECP5_85K) == 1
    assert bram_blocks(2048, 16, ECP5_85K) == 2
    assert bram_blocks(64, 512, ECP5_85K) == 15
    assert bram_blocks(256, 16, ICE40_UP5K) == 1
    assert bram_blocks(1024, 16, ICE40_UP5K) == 4
    assert memory(1, 100, ECP5_85K, writable=False).lut == 0  # a constant
    # yosys memory_libmap costs: RAM as logic w*d, ROM as logic w*d/16, 128 per DP16KD, 4 per 16x4 DPR16X4.
    small = memory(16, 8, ECP5_85K, writable=True)
    assert small.bram == 0 and small.lut == 8 and small.ff == 8  # two DPR16X4 (4 LUT sites each) + read register
    assert memory(16, 8, ICE40_UP5K, writable=True).bram == 1  # no LUT RAM on iCE40: 128 > one EBR's 64
    assert memory(2, 4, ICE40_UP5K, writable=True).ff == 12  # tiny: flip-flops (8) and the read register
    big = memory(4096, 16, ECP5_85K, writable=False)
    assert big.bram == 4 and big.mem_bits == 4096 * 16
    assert memory(64, 256, ECP5_85K, writable=False).bram == 0  # logic 1024 < 8 blocks x 128
    assert memory(64, 512, ECP5_85K, writable=False).bram == 15  # logic 2048 > 15 blocks x 128


def test_narrower_types_cost_less() -> None:
    m = example("jet_mlp")
    net = recognise(m.ir)
    narrow = recognise(rewrite(m.ir, everywhere(get("narrow_acc"))))
    w4 = recognise(rewrite(m.ir, everywhere(get("quantise_weights", 4))))
    for par in (None, [(1, 4), (2, 4), (1, 4), (1, 2)], [(1, 16), (1, 32), (1, 16), (1, 4)]):
        base, n, q = (estimate(x, par, ECP5_85K) for x in (net, narrow, w4))
        assert n.lut < base.lut and n.ff < base.ff
        assert q.res.mem_bits < base.res.mem_bits or q.lut < base.lut
        assert base.dsp == n.dsp == q.dsp  # 4 x 16 bits is still one MULT18X18D (yosys maps >= 2-bit operands)
    ice = estimate(w4, None, ICE40_UP5K)
    assert ice.dsp == 4  # 4 x 16: product of 20 bits >= DSP_Y_MINWIDTH


def test_fit_and_area() -> None:
    m = example("jet_mlp")
    net = recognise(m.ir)
    seq = estimate(net, None, ICE40_UP5K)
    assert seq.fits(ICE40_UP5K) and 0 < seq.area(ICE40_UP5K) <= 1
    big = estimate(net, 300, ICE40_UP5K)
    assert not big.fits(ICE40_UP5K) and big.area(ICE40_UP5K) > 1
    tiny = get_target("generic", dsp=0, lut=10, bram=0)
    assert seq.area(tiny) == float("inf")


def test_targets() -> None:
    assert (ECP5_85K.dsp, ECP5_85K.bram, ECP5_85K.bram_kbit) == (156, 208, 18)
    assert (ICE40_UP5K.dsp, ICE40_UP5K.bram, ICE40_UP5K.bram_kbit, ICE40_UP5K.lut) == (8, 30, 4, 5280)
    g = get_target("generic", dsp=10, lut=2000, bram=4)
    assert (g.dsp, g.lut, g.ff, g.bram) == (10, 2000, 2000, 4)
    assert get_target("ecp5-85k", dsp=100).dsp == 100
    with pytest.raises(VhlsError, match="needs a budget"):
        get_target("generic", dsp=4)
    with pytest.raises(VhlsError, match=r"unknown target 'xc7'.*ecp5-85k"):
        get_target("xc7")


def test_window_units_are_the_ones_the_backend_builds() -> None:
    """Each window unit is costed as the kind schedule.py's rule picks (the first conv: a PISO and a line buffer
    while it keeps up, else frame banks), and the design's total counts them."""
    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backends"))
    from nn_cnn_nets import chained_cnn

    from vhls.backends.nn.plan import plan
    from vhls.rewrites.cost import collector, slices, window_kinds, window_unit

    net = recognise(chained_cnn().ir)
    kinds = {p: [k[3] for k in window_kinds(net, plan(net, p))] for p in (200, 64)}
    assert kinds == {200: ["serial", "lines", "lines"], 64: ["frames", "lines", "lines"]}
    win, width, ppb, _ = window_kinds(net, plan(net, 200))[0]
    serial, frames = (window_unit(win, width, ppb, k, ECP5_85K) for k in ("serial", "frames"))
    assert serial.lut < frames.lut and serial.ff < frames.ff  # one frame and a shift, not two and a window mux
    cm = CostModel(ECP5_85K)
    for p in (200, 64):
        stages = plan(net, p)
        c = cm.evaluate(net, p)
        ff = collector(net, stages[-1].pe).ff + slices(net, stages).ff + sum(r.ff for r in c.stages)
        ff += sum(window_unit(*k, ECP5_85K).ff for k in window_kinds(net, stages))
        assert c.ff == round(ff * ECP5_85K.ff_scale)
