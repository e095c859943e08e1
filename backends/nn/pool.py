"""Pool stage: sliding windows (window.py) reduced per channel into one output pixel per window position.

For each channel the window's kh*kw values, in (i, j) order, go through the pool body exactly as the IR writes it
(`reduce` unrolled as a left fold with its own casts, then the scaling and the result cast: max pool, avg pool
with a shift or a constant reciprocal, see vhls.layers) and the fused post-ops (e.g. a ReLU). One register stage:
a window per cycle in, a pixel (C elements) per cycle out.
"""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from vhls.backends.nn import fixedhw as hw
from vhls.backends.nn.recognise import PoolLayer
from vhls.backends.nn.scalar import ScalarLowering
from vhls.backends.nn.schedule import POOL_LATENCY
from vhls.backends.nn.window import window_unit


class PoolReduce(wiring.Component):
    """Window vectors (kh*kw*C elements, (i, j, c) order) in, pixels (C elements) out; LATENCY cycles."""

    LATENCY = 1

    def __init__(self, layer: PoolLayer) -> None:
        assert self.LATENCY == POOL_LATENCY
        self.layer = layer
        w = layer.window
        super().__init__({
            "i": In(stream.Signature(w.size * layer.in_type.width)),
            "o": Out(stream.Signature(w.channels * layer.out_type.width)),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        ly, win = self.layer, self.layer.window
        outs = []
        for c in range(win.channels):
            low = ScalarLowering(m, ly.typing, f"c{c}")
            taps = [(hw.element(self.i.payload, t * win.channels + c, ly.in_type), ly.in_type)
                    for t in range(win.kh * win.kw)]
            v, t = low.lower(ly.body, {ly.k: taps})
            v, t = hw.post_ops(m, v, t, ly.post, f"c{c}_post")
            assert t == ly.out_type
            outs.append(v.as_unsigned())
        data = Signal(len(self.o.payload), reset_less=True)
        valid = Signal()
        m.d.comb += [self.i.ready.eq(~valid | self.o.ready), self.o.valid.eq(valid), self.o.payload.eq(data)]
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [data.eq(Cat(*outs)), valid.eq(1)]
        with m.Elif(self.o.ready):
            m.d.sync += valid.eq(0)
        return m


class PoolStage(wiring.Component):
    def __init__(self, layer: PoolLayer, pixels_per_beat: int) -> None:
        self.layer, self.ppb = layer, pixels_per_beat
        w = layer.window
        super().__init__({
            "i": In(stream.Signature(pixels_per_beat * w.channels * layer.in_type.width)),
            "o": Out(stream.Signature(w.channels * layer.out_type.width)),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        m.submodules.window = win = window_unit(self.layer.window, self.layer.in_type.width, self.ppb)
        m.submodules.reduce = red = PoolReduce(self.layer)
        wiring.connect(m, wiring.flipped(self.i), win.i)
        wiring.connect(m, win.o, red.i)
        wiring.connect(m, red.o, wiring.flipped(self.o))
        return m
