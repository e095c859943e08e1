"""One dense layer as a streaming stage: input buffer → weight ROM + MAC array → requantise → output FIFO.

Schedule (FINN-style folding): for each neuron fold nf < M/PE and synapse fold sf < N/SIMD, one cycle issues
SIMD inputs and PE×SIMD weights; after the last synapse fold the PE accumulators go through the requantise unit
into the output FIFO as one chunk of PE results. The datapath never stalls: a fold starts only when the output
FIFO has a free entry reserved for it (credits = FIFO depth − outstanding folds), so backpressure stops issue
and nothing in flight is lost.

Ports: `i` (stream of chunks of the previous stage, `chunk` elements) and `o` (stream of PE results).
"""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from vhls.backends.nn.fifo import CreditFIFO
from vhls.backends.nn.mac import MACArray
from vhls.backends.nn.pipe import delay, kept_copy
from vhls.backends.nn.plan import ISSUE_TO_MAC, StagePlan
from vhls.backends.nn.protect import NoiseOptions, attach, stage_ports
from vhls.backends.nn.requant import Requant
from vhls.backends.nn.rom import ROM, pack
from vhls.backends.nn.vecbuf import input_buffer


class DenseStage(wiring.Component):
    def __init__(self, plan: StagePlan, chunk: int, noise: NoiseOptions | None = None) -> None:
        self.plan, self.chunk, self.noise = plan, chunk, noise
        ly = plan.layer
        assert ISSUE_TO_MAC == ROM.LATENCY
        assert chunk == plan.chunk
        super().__init__({
            "i": In(stream.Signature(chunk * ly.in_type.width)),
            "o": Out(stream.Signature(plan.pe * ly.out_type.width)),
            **stage_ports(noise),
        })

    def _weight_words(self) -> list[int]:
        """Word nf·SF + sf holds w[nf·PE + p][sf·SIMD + s] at element p·SIMD + s."""
        pl, ly = self.plan, self.plan.layer
        words = []
        for nf in range(pl.nf):
            for sf in range(pl.sf):
                block = ly.weights[nf * pl.pe:(nf + 1) * pl.pe, sf * pl.simd:(sf + 1) * pl.simd]
                words.append(pack(block.reshape(-1).tolist(), ly.w_type.width))
        return words

    def _bias_words(self) -> list[int]:
        pl, ly = self.plan, self.plan.layer
        return [pack(ly.bias[nf * pl.pe:(nf + 1) * pl.pe].tolist(), ly.acc_type.width) for nf in range(pl.nf)]

    def elaborate(self, platform: object) -> Module:
        m = Module()
        pl, ly = self.plan, self.plan.layer
        m.submodules.buf = buf = input_buffer(ly.n_in, ly.in_type.width, self.chunk, pl.simd)
        m.submodules.wrom = wrom = ROM(pl.pe * pl.simd * ly.w_type.width, self._weight_words())
        m.submodules.brom = brom = ROM(pl.pe * ly.acc_type.width, self._bias_words())
        m.submodules.mac = mac = MACArray(pl.pe, pl.simd, ly.in_type, ly.w_type, ly.acc_type, ly.prod_q,
                                              single_fold=pl.sf == 1)
        m.submodules.rq = rq = Requant(pl.pe, ly.acc_type, ly.post)
        m.submodules.fifo = fifo = CreditFIFO(pl.pe * ly.out_type.width, pl.fifo_depth)
        wiring.connect(m, wiring.flipped(self.i), buf.w)

        # Fold counters and credits.
        nf = Signal(max(1, ceil_log2(pl.nf)))
        sf = Signal(max(1, ceil_log2(pl.sf)))
        waddr = Signal(len(wrom.addr))
        # Reserved FIFO entries as a thermometer code (used[i]: more than i folds outstanding): each bit's next value
        # is a LUT of its neighbours, `take` and `popped`, with no adder between the consumer's handshake and `go`.
        used = Signal(pl.fifo_depth)
        # The issue logic and the FIFO's read side sit far apart in a wide stage, and the credit count between them
        # hears from both: a credit taken is counted a cycle late (`take_r`), and `credit` is a flip-flop saying
        # three entries were free a cycle ago, so one is free now whatever was taken since (plan.fifo_depth has the
        # entries this costs). Every route of the loop used → go → take → used then has a register of its own
        # (jet@156 stage0: two 1.4-1.9 ns routes in one cycle, 183.86 MHz; stage1 with the credit flip-flop alone:
        # take → 3.18 ns route → used, 165.95 MHz).
        credit = Signal(init=1)
        take_r = Signal()
        # sf == 0, sf == SF - 1 and nf == NF - 1 kept in flip-flops: `go` and the bank release read no comparators.
        start = Signal(init=1)  # first synapse fold of a neuron fold
        last = Signal(init=pl.sf == 1)  # its last synapse fold
        nf_last = Signal(init=pl.nf == 1)  # the vector's last neuron fold
        # last & nf_last, the vector's last fold, in a flip-flop of its own: the bank release is then one LUT of
        # flip-flops (b156 with PE 2 × SIMD 32: r_valid → go → last & nf_last → release → rbank, three LUTs, 196 MHz).
        fin = Signal(init=pl.sf == 1 and pl.nf == 1)
        go = Signal()
        take = Signal()  # a neuron fold starts: it takes a credit
        m.d.sync += [credit.eq(~used[-3]), take_r.eq(take)]
        m.d.comb += [
            go.eq(buf.r_valid & (~start | credit)),
            take.eq(go & start),
            buf.r_index.eq(sf),
            wrom.addr.eq(waddr),
            brom.addr.eq(nf),
        ]
        # A credit comes back a cycle after its pop: the consumer's handshake then drives one flip-flop, not the
        # credit logic (plan.fifo_depth has the extra entry).
        popped = Signal()
        m.d.sync += popped.eq(fifo.o.valid & fifo.o.ready)
        with m.If(take_r & ~popped):
            m.d.sync += used.eq(Cat(1, used[:-1]))
        with m.Elif(popped & ~take_r):
            m.d.sync += used.eq(Cat(used[1:], 0))
        # With several synapse folds the last one is never a first (start is 0), so it issues on r_valid alone. With
        # one, it needs a credit: from a copy of the credit flip-flop (`keep`, so synthesis does not merge the two),
        # so the release does not share `go`'s LUT, which sits by the far-reaching issue logic (h4 jet@156 stage1:
        # r_valid → 2.02 ns → go → 2.03 ns → release → freed, 162.81 MHz).
        if pl.sf > 1:
            m.d.comb += buf.r_done.eq(buf.r_valid & fin)
        else:
            m.d.comb += buf.r_done.eq(buf.r_valid & kept_copy(m, ~used[-3], "credit_b", init=1) & fin)
        with m.If(go):
            with m.If(last):
                m.d.sync += [sf.eq(0), start.eq(1), last.eq(pl.sf == 1)]
                with m.If(nf_last):
                    m.d.sync += [nf.eq(0), nf_last.eq(pl.nf == 1), fin.eq(pl.sf == 1 and pl.nf == 1)]
                with m.Else():
                    m.d.sync += [nf.eq(nf + 1), nf_last.eq(nf == pl.nf - 2), fin.eq((pl.sf == 1) & (nf == pl.nf - 2))]
            with m.Else():
                m.d.sync += [sf.eq(sf + 1), start.eq(0), last.eq(sf == pl.sf - 2), fin.eq((sf == pl.sf - 2) & nf_last)]
            with m.If(waddr == pl.nf * pl.sf - 1):
                m.d.sync += waddr.eq(0)
            with m.Else():
                m.d.sync += waddr.eq(waddr + 1)

        # Issue register: the x slice and tags line up with the ROM's registered data.
        x_r = delay(m, buf.r_data, ISSUE_TO_MAC - buf.read_latency, "x", reset_less=True)
        v_r = delay(m, go, ISSUE_TO_MAC, "issue")
        first_r = delay(m, start, ISSUE_TO_MAC, "first")
        last_r = delay(m, last, ISSUE_TO_MAC, "last")
        # fault injection / tolerance between the accumulators and requantisation (protect.py)
        acc, acc_valid = (mac.o_acc, mac.o_valid) if self.noise is None else \
            attach(m, self.noise, pl, mac, self, nf, sf)
        m.d.comb += [
            mac.i_valid.eq(v_r), mac.i_first.eq(first_r), mac.i_last.eq(last_r),
            mac.i_x.eq(x_r), mac.i_w.eq(wrom.data), mac.i_bias.eq(brom.data),
            rq.i_valid.eq(acc_valid), rq.i_data.eq(acc),
            fifo.i.payload.eq(rq.o_data), fifo.i.valid.eq(rq.o_valid),
        ]
        wiring.connect(m, fifo.o, wiring.flipped(self.o))
        return m
