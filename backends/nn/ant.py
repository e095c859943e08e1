"""Algorithmic noise tolerance on a stage's MAC array: a fault-free reduced-precision replica (inputs and weights
cut to their `bits` most significant bits, `vhls.noise.tolerance.ant_replica`) estimates every accumulator; a lane
whose accumulator differs from the estimate by more than the layer's threshold (modulo 2^W; fixed at build time,
`tolerance.ant_thresholds`) outputs the estimate instead. Two register stages (LATENCY cycles after the main array):
the difference, then the compare-and-select; each stage holds one W-bit carry chain (subtract and compare in one
cycle ran jet_mlp --parallel 34 at 110.7 MHz on ECP5-85k)."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from vhls.backends.nn.mac import MACArray
from vhls.backends.nn.pipe import delay
from vhls.backends.nn.recognise import DenseLayer
from vhls.backends.nn.tmr import mac_inputs


class ANT(wiring.Component):
    """`i_acc`: the main array's (possibly faulty) accumulators; `o_acc`: acc or the replica's estimate, valid with
    `o_valid` LATENCY cycles after the main array's `o_valid`."""

    LATENCY = 2

    def __init__(self, layer: DenseLayer, pe: int, simd: int, bits: int, threshold: int) -> None:
        from vhls.noise.tolerance import ant_replica

        assert threshold >= 0
        self.layer, self.pe, self.simd, self.bits, self.threshold = layer, pe, simd, bits, threshold
        self.x_type, self.w_type, _, self.sx = ant_replica(layer, bits)
        self.sw = layer.w_type.width - self.w_type.width
        super().__init__({
            **mac_inputs(pe, simd, layer.in_type, layer.w_type, layer.acc_type),
            "i_acc": In(pe * layer.acc_type.width),
            "o_valid": Out(1),
            "o_acc": Out(pe * layer.acc_type.width),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        ly, pe, simd = self.layer, self.pe, self.simd
        wx, ww, wa = ly.in_type.width, ly.w_type.width, ly.acc_type.width
        m.submodules.replica = est = MACArray(pe, simd, self.x_type, self.w_type, ly.acc_type, ly.prod_q)
        # the replica's operands: the MSBs of every packed element
        m.d.comb += [
            est.i_valid.eq(self.i_valid), est.i_first.eq(self.i_first), est.i_last.eq(self.i_last),
            est.i_x.eq(Cat(*(self.i_x[s * wx + self.sx:(s + 1) * wx] for s in range(simd)))),
            est.i_w.eq(Cat(*(self.i_w[k * ww + self.sw:(k + 1) * ww] for k in range(pe * simd)))),
            est.i_bias.eq(self.i_bias),
        ]
        outs = []
        t = self.threshold
        for p in range(pe):
            acc = delay(m, self.i_acc[p * wa:(p + 1) * wa], 1, f"acc{p}", reset_less=True)
            e = delay(m, est.o_acc[p * wa:(p + 1) * wa], 1, f"est{p}", reset_less=True)
            d = Signal(range(-(1 << (wa - 1)), 1 << (wa - 1)), name=f"d{p}", reset_less=True)
            m.d.sync += d.eq((self.i_acc[p * wa:(p + 1) * wa] - est.o_acc[p * wa:(p + 1) * wa])[:wa].as_signed())
            bad = (d > t) | (d < -t) if t < 1 << (wa - 1) else Const(0, 1)  # |difference modulo 2^W| > t
            outs.append(Mux(bad, e, acc))
        out = Signal(len(self.o_acc), reset_less=True)
        m.d.sync += out.eq(Cat(*outs))
        m.d.comb += [self.o_acc.eq(out), self.o_valid.eq(delay(m, est.o_valid, self.LATENCY, "valid"))]
        return m
