"""Top level: stages chained by ready/valid streams, with AXI-Stream-compatible port names.

Interface (by default one whole input and one whole output per beat):
  s_axis_tdata   N_in·W_in bits, element i (raw two's complement, or unsigned for ufixed) at bits [i·W, (i+1)·W),
                 elements in the IR's row-major order ([C][H][W] for an image)
  s_axis_tvalid/tready   handshake; s_axis_tlast is accepted and ignored (every beat is a complete input)
  m_axis_tdata   N_out·W_out bits, same packing and order; m_axis_tlast is 1 on every beat
  clk, rst       added by the Verilog back end; rst is synchronous, active high
A beat per input keeps the first stage's input from ever being the bottleneck.

With `ports` (port.py, `vhls build --port-width BITS`), tdata carries at most BITS bits: a vector arrives and
leaves as several beats, tlast on the last; a Deserialiser in front of the first stage checks tlast (a wrongly
framed packet is dropped and the sticky `s_axis_error` output rises) and a Serialiser after the output Collector
sends the beats (serdes.py).

Inside, dense stages pass PE-element chunks (from one dense stage to the next through a register slice, skid.py);
conv and pool stages pass pixels (C elements, raster order) and a Collector gathers a conv's PE chunks into pixels
when a window unit reads them. The input image is reordered from [C][H][W] to pixel order, and a feature-map output
back to [C][H][W], by wiring alone (Network.in_order and out_order). A dense layer mapped over the rows of a matrix
is a 1x1 conv over rows x 1 pixels.
"""

from amaranth.hdl import Cat, Module, Shape
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from vhls.backends.nn.collect import Collector
from vhls.backends.nn.conv import ConvStage
from vhls.backends.nn.plan import StagePlan
from vhls.backends.nn.pool import PoolStage
from vhls.backends.nn.port import Ports
from vhls.backends.nn.protect import NoiseOptions, top_ports
from vhls.backends.nn.recognise import DenseLayer, Network, pixels_per_beat
from vhls.backends.nn.recompute import dense_stage
from vhls.backends.nn.schedule import SLICE_LATENCY, serial_first, sliced
from vhls.backends.nn.serdes import Deserialiser, Serialiser
from vhls.backends.nn.skid import SkidBuffer


def _ports(net: Network, noise: NoiseOptions | None, ports: Ports | None) -> dict:
    in_bits = net.n_in * net.in_type.width if ports is None else ports.i.tdata_bits
    out_bits = net.n_out * net.out_type.width if ports is None else ports.o.tdata_bits
    return {
        "s_axis_tdata": In(in_bits),
        "s_axis_tvalid": In(1),
        "s_axis_tready": Out(1),
        "s_axis_tlast": In(1),
        "m_axis_tdata": Out(out_bits),
        "m_axis_tvalid": Out(1),
        "m_axis_tready": In(1),
        "m_axis_tlast": Out(1),
        **({} if ports is None else {"s_axis_error": Out(1)}),  # sticky: a packet with tlast misplaced
        # fault tolerance status (protect.py), e.g. stage0_abft_errors: bit 0 of a MAC stage's error counter
        **{f"stage{k}_{n}": p for k, u in enumerate(net.chain) if isinstance(u, DenseLayer)
           for n, p in top_ports(noise).items()},
    }


def pins(net: Network, noise: NoiseOptions | None = None, ports: Ports | None = None) -> int:
    """Top-level pins: every port bit plus clk and rst (what placing the design on a package needs)."""
    sig = wiring.Signature(_ports(net, noise, ports))
    return sum(Shape.cast(mb.shape).width for _, mb in sig.members.flatten()) + 2


class NNTop(wiring.Component):
    def __init__(self, net: Network, stages: list[StagePlan], noise: NoiseOptions | None = None,
                 ports: Ports | None = None) -> None:
        self.net, self.stages, self.noise, self.ports = net, stages, noise, ports
        super().__init__(_ports(net, noise, ports))

    def elaborate(self, platform: object) -> Module:
        m = Module()
        net = self.net
        plans = {id(s.layer): s for s in self.stages}
        src = None  # output stream of the previous stage (None: the top's input)
        chunk = net.n_in  # elements per beat of `src`
        in_payload, in_valid, in_ready = self.s_axis_tdata, self.s_axis_tvalid, self.s_axis_tready
        if self.ports is not None:
            m.submodules.deserialise = des = Deserialiser(self.ports.i)
            m.d.comb += [
                des.i.payload.data.eq(self.s_axis_tdata),
                des.i.payload.last.eq(self.s_axis_tlast),
                des.i.valid.eq(self.s_axis_tvalid),
                self.s_axis_tready.eq(des.i.ready),
                self.s_axis_error.eq(des.error),
            ]
            in_payload, in_valid, in_ready = des.o.payload, des.o.valid, des.o.ready
        first = None
        serial = serial_first(net, self.stages)  # the first stage's window unit: PISO + line buffer or frame banks
        for k, u in enumerate(net.chain):
            blk: wiring.Component
            if isinstance(u, DenseLayer) and u.window is None:
                blk = dense_stage(plans[id(u)], chunk, self.noise)  # wrapped for ABFT recompute
                for n in top_ports(self.noise):
                    m.d.comb += getattr(self, f"stage{k}_{n}").eq(getattr(blk, n)[0])
            else:
                assert u.window is not None
                ppb = pixels_per_beat(u)
                piso = serial and src is None
                if src is None:
                    if net.in_order is not None:  # an input image, [C][H][W], becomes pixels
                        t = net.in_type.width
                        in_payload = Cat(*(in_payload[i * t:(i + 1) * t] for i in net.in_order))
                elif chunk != u.window.channels:  # a conv's PE chunks → whole pixels
                    col = Collector(u.window.channels, u.in_type.width, chunk)
                    m.submodules[f"pixels{k}"] = col
                    wiring.connect(m, src, col.i)
                    src = col.o
                if isinstance(u, DenseLayer):
                    blk = ConvStage(plans[id(u)], ppb, self.noise, serial=piso)
                    for n in top_ports(self.noise):
                        m.d.comb += getattr(self, f"stage{k}_{n}").eq(getattr(blk, n)[0])
                else:
                    blk = PoolStage(u, ppb, serial=piso)
            m.submodules[f"stage{k}"] = blk
            if sliced(net, k):  # two dense stages: the chunks' way across the die gets a cycle of its own
                assert SkidBuffer.LATENCY == SLICE_LATENCY
                m.submodules[f"slice{k}"] = sk = SkidBuffer(len(blk.i.payload))
                wiring.connect(m, src, sk.i)
                src = sk.o
            if src is None:
                first = blk
            else:
                wiring.connect(m, src, blk.i)
            src = blk.o
            chunk = plans[id(u)].pe if isinstance(u, DenseLayer) else u.window.channels
        assert first is not None and src is not None
        m.submodules.collect = col = Collector(net.n_out, net.out_type.width, chunk)
        wiring.connect(m, src, col.i)
        out = col.o.payload
        if net.out_order is not None:
            t = net.out_type.width
            out = Cat(*(col.o.payload[s * t:(s + 1) * t] for s in net.out_order))
        m.d.comb += [first.i.payload.eq(in_payload), first.i.valid.eq(in_valid), in_ready.eq(first.i.ready)]
        if self.ports is None:
            m.d.comb += [
                self.m_axis_tdata.eq(out),
                self.m_axis_tvalid.eq(col.o.valid),
                col.o.ready.eq(self.m_axis_tready),
                self.m_axis_tlast.eq(1),
            ]
            return m
        m.submodules.serialise = ser = Serialiser(self.ports.o)
        m.d.comb += [
            ser.i.payload.eq(out),
            ser.i.valid.eq(col.o.valid),
            col.o.ready.eq(ser.i.ready),
            self.m_axis_tdata.eq(ser.o.payload.data),
            self.m_axis_tlast.eq(ser.o.payload.last),
            self.m_axis_tvalid.eq(ser.o.valid),
            ser.o.ready.eq(self.m_axis_tready),
        ]
        return m
