"""Algorithmic noise tolerance on a stage's MAC array: a fault-free reduced-precision replica (inputs and weights
cut to their `bits` most significant bits, `vhls.noise.tolerance.ant_replica`) estimates every accumulator; a lane
whose accumulator differs from the estimate by more than the layer's exact worst-case replica error (modulo 2^W)
outputs the estimate instead. Same latency as the main array; the decision is combinational."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from vhls.backends.nn.mac import MACArray
from vhls.backends.nn.recognise import DenseLayer
from vhls.backends.nn.tmr import mac_inputs


class ANT(wiring.Component):
    """`i_acc`: the main array's (possibly faulty) accumulators; `o_acc`: acc or the replica's estimate."""

    def __init__(self, layer: DenseLayer, pe: int, simd: int, bits: int) -> None:
        from vhls.noise.tolerance import ant_replica, ant_threshold

        self.layer, self.pe, self.simd, self.bits = layer, pe, simd, bits
        self.x_type, self.w_type, _, self.sx = ant_replica(layer, bits)
        self.sw = layer.w_type.width - self.w_type.width
        self.threshold = ant_threshold(layer, bits)
        super().__init__({
            **mac_inputs(pe, simd, layer.in_type, layer.w_type, layer.acc_type),
            "i_acc": In(pe * layer.acc_type.width),
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
        for p in range(pe):
            acc, e = self.i_acc[p * wa:(p + 1) * wa], est.o_acc[p * wa:(p + 1) * wa]
            d = Signal(range(-(1 << (wa - 1)), 1 << (wa - 1)), name=f"d{p}")
            m.d.comb += d.eq((acc - e)[:wa].as_signed())  # the difference modulo 2^W
            t = self.threshold
            bad = (d > t) | (d < -t) if t < 1 << (wa - 1) else Const(0, 1)
            outs.append(Mux(bad, e, acc))
        m.d.comb += self.o_acc.eq(Cat(*outs))
        return m
