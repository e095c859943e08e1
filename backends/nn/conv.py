"""Conv stage: a convolution is a dense layer over window vectors (im2col).

The window unit (window.py) turns the pixel stream into one kh*kw*Cin window vector per output position; the
unchanged DenseStage computes the Cout outputs of each with its PE x SIMD fold schedule (weights already permuted
into the window's (i, j, c) order by recognise.py) and emits them as PE-element chunks, Ho*Wo vectors per image.
Fault injection and tolerance (protect.py) sit inside that dense stage, its status ports passed through.
"""

from amaranth.hdl import Module
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from vhls.backends.nn.dense import DenseStage
from vhls.backends.nn.plan import StagePlan
from vhls.backends.nn.protect import NoiseOptions, stage_ports
from vhls.backends.nn.window import window_unit


class ConvStage(wiring.Component):
    def __init__(self, plan: StagePlan, pixels_per_beat: int, noise: NoiseOptions | None = None,
                 serial: bool = False) -> None:
        ly = plan.layer
        assert ly.window is not None and plan.chunk == ly.n_in
        assert noise is None or not noise.retries, "ABFT recompute is for dense stages (protect.NoiseOptions)"
        self.plan, self.ppb, self.noise, self.serial = plan, pixels_per_beat, noise, serial
        super().__init__({
            "i": In(stream.Signature(pixels_per_beat * ly.window.channels * ly.in_type.width)),
            "o": Out(stream.Signature(plan.pe * ly.out_type.width)),
            **stage_ports(noise),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        ly = self.plan.layer
        assert ly.window is not None
        m.submodules.window = win = window_unit(ly.window, ly.in_type.width, self.ppb, self.serial)
        m.submodules.dense = dense = DenseStage(self.plan, ly.n_in, self.noise)
        wiring.connect(m, wiring.flipped(self.i), win.i)
        wiring.connect(m, win.o, dense.i)
        wiring.connect(m, dense.o, wiring.flipped(self.o))
        for n in stage_ports(self.noise):
            m.d.comb += getattr(self, n).eq(getattr(dense, n))
        return m
