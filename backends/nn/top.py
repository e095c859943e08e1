"""Top level: dense stages chained by ready/valid streams, with AXI-Stream-compatible port names.

Interface (one whole vector per beat, both directions):
  s_axis_tdata   N_in·W_in bits, element i (raw two's complement, or unsigned for ufixed) at bits [i·W, (i+1)·W)
  s_axis_tvalid/tready   handshake; s_axis_tlast is accepted and ignored (every beat is a complete vector)
  m_axis_tdata   N_out·W_out bits, same packing; m_axis_tlast is 1 on every beat
  clk, rst       added by the Verilog back end; rst is synchronous, active high
A beat per vector keeps the first stage's input from ever being the bottleneck; narrower buses are a later width
converter in front of the first stage.
"""

import itertools

from amaranth.hdl import Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from vhls.backends.nn.collect import Collector
from vhls.backends.nn.dense import DenseStage
from vhls.backends.nn.plan import StagePlan
from vhls.backends.nn.recognise import Network


class NNTop(wiring.Component):
    def __init__(self, net: Network, stages: list[StagePlan]) -> None:
        self.net, self.stages = net, stages
        in_bits = net.n_in * net.in_type.width
        out_bits = net.n_out * net.out_type.width
        super().__init__({
            "s_axis_tdata": In(in_bits),
            "s_axis_tvalid": In(1),
            "s_axis_tready": Out(1),
            "s_axis_tlast": In(1),
            "m_axis_tdata": Out(out_bits),
            "m_axis_tvalid": Out(1),
            "m_axis_tready": In(1),
            "m_axis_tlast": Out(1),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        chunk = self.net.n_in
        blocks = []
        for k, pl in enumerate(self.stages):
            blk = DenseStage(pl, chunk)
            m.submodules[f"stage{k}"] = blk
            blocks.append(blk)
            chunk = pl.pe
        for a, b in itertools.pairwise(blocks):
            wiring.connect(m, a.o, b.i)
        last = self.stages[-1]
        m.submodules.collect = col = Collector(self.net.n_out, self.net.out_type.width, last.pe)
        wiring.connect(m, blocks[-1].o, col.i)
        first = blocks[0]
        m.d.comb += [
            first.i.payload.eq(self.s_axis_tdata),
            first.i.valid.eq(self.s_axis_tvalid),
            self.s_axis_tready.eq(first.i.ready),
            self.m_axis_tdata.eq(col.o.payload),
            self.m_axis_tvalid.eq(col.o.valid),
            col.o.ready.eq(self.m_axis_tready),
            self.m_axis_tlast.eq(1),
        ]
        return m
