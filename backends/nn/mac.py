"""PE × SIMD multiply-accumulate array: exact products, one pipelined adder tree per PE, an accumulator of the
declared type.

Per valid cycle each PE lane p computes Σ_s w[p][s]·x[s] over SIMD inputs and adds it to its accumulator
(starting from the bias on `i_first`). Accumulation wraps modulo 2^W of the accumulator, which is exactly the IR's
`cast<ACC, Q, WRAP>(add(acc, mul(...)))` fold: modular addition is associative, so summing a tree first (and
keeping only W bits of every partial sum) changes nothing. Products with more fraction bits than the accumulator
are quantised one by one with Q, which is what the fold's cast does to each step (the accumulator's dropped bits
are zero).

Pipeline (LATENCY = plan.mac_latency(SIMD)): PRODUCT_STAGES registers up to the tree: operands, product and the
product again (a MULT18X18D's input, pipeline and output registers, which the ECP5 flow moves into the block: all
three, so the multiply has a cycle of its own inside it), then the product once more in the fabric, so the long
route out of the DSP column has a cycle of its own; adder tree with a register every TREE_LEVELS_PER_STAGE levels;
accumulator. `o_valid` pulses with the accumulators holding the finished sums after an `i_last` input.
`single_fold`: every input is both first and last (a stage whose SIMD covers its whole input), so the accumulator
is bias + tree, with no select.
"""

from amaranth.hdl import Cat, Module, Mux, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from vhls.backends.nn import fixedhw as hw
from vhls.backends.nn.pipe import delay, kept_copy
from vhls.backends.nn.plan import PRODUCT_STAGES, TREE_LEVELS_PER_STAGE, mac_latency, tree_stages
from vhls.ir import numerics as fx
from vhls.ir.types import Fixed


def tree_level(terms: list[Value]) -> list[Value]:
    """One level of pairwise sums (Amaranth widens each add, so every partial sum is exact)."""
    nxt = [terms[i] + terms[i + 1] for i in range(0, len(terms) - 1, 2)]
    return [*nxt, terms[-1]] if len(terms) % 2 else nxt


class MACArray(wiring.Component):
    def __init__(self, pe: int, simd: int, x_type: Fixed, w_type: Fixed, acc_type: Fixed, prod_q: str,
                 single_fold: bool = False) -> None:
        self.pe, self.simd, self.single_fold = pe, simd, single_fold
        self.x_type, self.w_type, self.acc_type, self.prod_q = x_type, w_type, acc_type, prod_q
        self.prod_type = fx.mul_type(w_type, x_type)
        self.latency = mac_latency(simd)
        super().__init__({
            "i_valid": In(1),
            "i_first": In(1),
            "i_last": In(1),
            "i_x": In(simd * x_type.width),
            "i_w": In(pe * simd * w_type.width),
            "i_bias": In(pe * acc_type.width),
            "o_valid": Out(1),
            "o_acc": Out(pe * acc_type.width),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        pt, at = self.prod_type, self.acc_type
        stages = tree_stages(self.simd)
        # Tags and bias travel alongside the product registers and the tree.
        n = PRODUCT_STAGES + stages
        valid, first, last = (delay(m, v, n - 1, name) for v, name in
                              ((self.i_valid, "valid"), (self.i_first, "first"), (self.i_last, "last")))
        # The tags' last register, one copy per PE (kept apart by the `keep` attribute, see below): each drives one
        # accumulator's enables and selects, close by, instead of one flip-flop reaching every PE's carry chain
        # (jet@156 stage3, 5 PEs: first → 1.87 ns route → select → carry chain, its critical path at 181 MHz).
        copies = [(kept_copy(m, valid, f"valid_p{p}"), None if self.single_fold else kept_copy(m, first, f"first_p{p}"))
                  for p in range(self.pe)]
        valid, last = kept_copy(m, valid, "valid_o"), kept_copy(m, last, "last_o")
        bias = delay(m, self.i_bias, n, "bias", reset_less=True)
        xs = [delay(m, hw.element(self.i_x, s, self.x_type), 1, f"x{s}", reset_less=True) for s in range(self.simd)]

        accs = []
        for p in range(self.pe):
            # Registered operands, exact registered product, PRODUCT_STAGES - 2 more product registers.
            terms: list[Value] = []
            for s in range(self.simd):
                w = delay(m, hw.element(self.i_w, p * self.simd + s, self.w_type), 1, f"w{p}_{s}", reset_less=True)
                prod = Signal(hw.shape_of(pt), name=f"p{p}_{s}", reset_less=True)
                m.d.sync += prod.eq(w * xs[s])
                # The names matter: vhls synth's floorplan (backends/synth/floorplan.py) finds a multiplier by the
                # net `p<PE>_<SIMD>_f_d0` its product leaves the DSP on.
                prod = delay(m, prod, PRODUCT_STAGES - 2, f"p{p}_{s}_f", reset_less=True)
                terms.append(hw.to_frac(prod, pt, at.frac, self.prod_q))
            # Adder tree: registers every few levels; partial sums kept to the accumulator's width (mod 2^W).
            for k in range(stages):
                for _ in range(TREE_LEVELS_PER_STAGE):
                    if len(terms) > 1:
                        terms = tree_level(terms)
                regs = []
                for j, t in enumerate(terms):
                    shape = hw.shape_of(at) if len(t) >= at.width or k == stages - 1 else t.shape()
                    r = Signal(shape, name=f"t{p}_{k}_{j}", reset_less=True)
                    m.d.sync += r.eq(t)
                    regs.append(r)
                terms = regs
            assert len(terms) == 1
            acc = Signal(hw.shape_of(at), name=f"acc{p}", reset_less=True)
            # Single fold (the whole input in one SIMD slice): every input is first, so no select and no `first`
            # fan-out sits between the tree and the accumulator's carry chain.
            valid_p, first_p = copies[p]
            start = hw.element(bias, p, at) if self.single_fold else Mux(first_p, hw.element(bias, p, at), acc)
            with m.If(valid_p):
                m.d.sync += acc.eq(start + terms[0])
            accs.append(acc)
        m.d.sync += self.o_valid.eq(valid & last)
        m.d.comb += self.o_acc.eq(Cat(*(a.as_unsigned() for a in accs)))
        return m
