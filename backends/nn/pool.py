"""Pool stage: sliding windows (window.py) reduced per channel into one output pixel per window position.

For each channel the window's kh*kw values, in (i, j) order, go through the pool body exactly as the IR writes it
(`reduce` unrolled as a left fold with its own casts, then the scaling and the result cast: max pool, avg pool
with a shift or a constant reciprocal, see vhls.layers) and the fused post-ops (e.g. a ReLU). The fold is
pipelined: a register after every POOL_FOLD_STEPS steps (holding the accumulator and the elements still to fold)
and one at the output, `schedule.pool_latency` in all; each register takes a value when it is empty or its value
is being taken, so a window per cycle in and a pixel (C elements) per cycle out.
"""

from collections.abc import Sequence

from amaranth.hdl import Cat, Module, Signal, Value
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from vhls.backends.nn import fixedhw as hw
from vhls.backends.nn.recognise import PoolLayer
from vhls.backends.nn.scalar import Scalar, ScalarLowering
from vhls.backends.nn.schedule import POOL_FOLD_STEPS, pool_latency
from vhls.backends.nn.window import window_unit
from vhls.ir.types import Fixed


class PoolReduce(wiring.Component):
    """Window vectors (kh*kw*C elements, (i, j, c) order) in, pixels (C elements) out; `latency` cycles."""

    def __init__(self, layer: PoolLayer) -> None:
        self.layer = layer
        w = layer.window
        self.latency = pool_latency(w)
        super().__init__({
            "i": In(stream.Signature(w.size * layer.in_type.width)),
            "o": Out(stream.Signature(w.channels * layer.out_type.width)),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        ly, win = self.layer, self.layer.window
        n = self.latency
        # Register s moves (takes its input, a bubble or a value) when empty or when its value is being taken.
        valid = [Signal(name=f"valid{s}") for s in range(n)]
        move = [Signal(name=f"move{s}") for s in range(n)]
        ready = self.o.ready
        for s in reversed(range(n)):
            m.d.comb += move[s].eq(~valid[s] | ready)
            ready = move[s]
        feed = [self.i.valid, *valid[:-1]]
        for s in range(n):
            with m.If(move[s]):
                m.d.sync += valid[s].eq(feed[s])
        load = [move[s] & feed[s] for s in range(n)]

        def reg(s: int, v: Value, t: Fixed, name: str) -> Value:
            r = Signal(hw.shape_of(t), name=name, reset_less=True)
            with m.If(load[s]):
                m.d.sync += r.eq(v)
            return r

        outs = []
        for c in range(win.channels):
            def stage(k: int, acc: Scalar, rest: Sequence[Scalar], c: int = c) -> tuple[Scalar, Sequence[Scalar]]:
                if (k + 1) % POOL_FOLD_STEPS or not rest:
                    return acc, rest
                s = (k + 1) // POOL_FOLD_STEPS - 1
                return ((reg(s, acc[0], acc[1], f"c{c}_acc{s}"), acc[1]),
                        [(reg(s, v, t, f"c{c}_tap{s}_{j}"), t) for j, (v, t) in enumerate(rest)])

            low = ScalarLowering(m, ly.typing, f"c{c}", stage)
            taps = [(hw.element(self.i.payload, t * win.channels + c, ly.in_type), ly.in_type)
                    for t in range(win.kh * win.kw)]
            v, t = low.lower(ly.body, {ly.k: taps})
            v, t = hw.post_ops(m, v, t, ly.post, f"c{c}_post")
            assert t == ly.out_type
            outs.append(v.as_unsigned())
        data = Signal(len(self.o.payload), reset_less=True)
        with m.If(load[-1]):
            m.d.sync += data.eq(Cat(*outs))
        m.d.comb += [self.i.ready.eq(move[0]), self.o.valid.eq(valid[-1]), self.o.payload.eq(data)]
        return m


class PoolStage(wiring.Component):
    def __init__(self, layer: PoolLayer, pixels_per_beat: int, serial: bool = False) -> None:
        self.layer, self.ppb, self.serial = layer, pixels_per_beat, serial
        w = layer.window
        super().__init__({
            "i": In(stream.Signature(pixels_per_beat * w.channels * layer.in_type.width)),
            "o": Out(stream.Signature(w.channels * layer.out_type.width)),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        m.submodules.window = win = window_unit(self.layer.window, self.layer.in_type.width, self.ppb, self.serial)
        m.submodules.reduce = red = PoolReduce(self.layer)
        wiring.connect(m, wiring.flipped(self.i), win.i)
        wiring.connect(m, win.o, red.i)
        wiring.connect(m, red.o, wiring.flipped(self.o))
        return m
