"""The baked p-bit array: J and h hard-wired, every spin updated every cycle (one SSA step per cycle).

Per spin i, all from the snapshot sigma(t) held in registers:
    I_i   = Itanh_i + (r_i ? n_rnd : -n_rnd) + 2 sum_j |J_ij| x_j + (h_i - W_i)   (= Itanh + noise + F + h)
            with x_j = sigma_j's bit, inverted where J_ij < 0: one bit heap and one carry chain (bitheap.py)
    s_i   = sign of I_i;  sigma_i <- not s_i
    Itanh_i <- I_i, or -I0 / I0 - 1 when (I_i xor s_i) >= I0    (the clamp: one compare, since -I0 = ~(I0 - 1))
The spin leaves before the clamp, so the loop sigma -> sigma is the carry-save tree, one carry chain, a sign.
Noise: one xorshift32 per `share` spins, spin i taking bit 31 - i % share (vhls.anneal.rng.bits).
Run: `start` -> seed every generator at (seed + C_g) (one cycle), advance it (one), first draw: Itanh = 0 or
-1 (one), then `steps` cycles, then the energy pass: Itanh and the noise are zeroed after the last step, so
the heaps give F + h (registered per spin, keeping the pass off the spins' loop: one cycle to settle), and
`read_words` cycles sum sigma_i (F_i + 2 h_i) over `read_bits` spins at a time (+2 pipeline cycles); `done`
with `e2` = 2 (offset - E) and sigma on `rd_addr` / `rd_data`.
"""

from amaranth import Cat, Const, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from vhls.anneal.rng import FALLBACK, spin_constant
from vhls.backends.pbit.baked_config import BakedConfig
from vhls.backends.pbit.bitheap import heap_sum, signed_operand
from vhls.backends.pbit.config import signed_bits
from vhls.backends.pbit.field import tree_sum
from vhls.backends.pbit.schedule import I0Scheduler, run_ports
from vhls.backends.pbit.xorshift import xorshift32


class PBitBaked(wiring.Component):
    def __init__(self, cfg: BakedConfig) -> None:
        self.cfg = cfg
        c = cfg
        super().__init__(
            {
                **run_ports(c.step_bits, c.i0_bits, c.frac_bits),
                "rd_addr": In(range(c.read_words)),
                "rd_data": Out(c.read_bits),
                "e2": Out(signed(c.e2_bits)),
            }
        )

    def elaborate(self, platform: object) -> Module:
        c = self.cfg
        m = Module()
        cb = c.count_bits

        steps = Signal.like(self.steps)
        n_pos = Signal(signed(cb))
        n_neg = Signal(signed(cb))
        seed = Signal(32)
        m.submodules.sched = sched = I0Scheduler(c.i0_bits, c.frac_bits)
        i0_max = Signal.like(self.i0_max)
        delta = Signal.like(self.i0_delta)
        m.d.comb += [sched.i0_min.eq(self.i0_min), sched.i0_max.eq(i0_max), sched.delta.eq(delta)]
        # Registered I0 and -I0 (hi = I0 - 1 = ~lo): they fan out to every spin, so the scheduler runs one
        # cycle ahead (it advances from the draw cycle on) instead of sitting in front of 800 comparators.
        i0 = Signal(signed(cb))
        lo = Signal(signed(cb))
        m.d.sync += [i0.eq(sched.i0), lo.eq(-sched.i0)]

        # one flag per phase, so the spins' enables come straight from flip-flops
        seeding, advancing, draw, run, last, settle, energy = (
            Signal(name=x) for x in ("seeding", "advancing", "draw", "run", "last", "settle", "energy")
        )
        done = Signal()
        step = Signal.like(self.steps)
        no_steps, one_step = Signal(), Signal()  # latched at start: steps == 0 would fan out to every spin
        m.d.comb += [self.busy.eq(seeding | advancing | draw | run | settle | energy), self.done.eq(done)]
        m.d.comb += [sched.load.eq(seeding | advancing), sched.advance.eq(draw | run)]

        # generators: state x_g; a step's noise is x's bits while x advances
        gens = []
        for g in range(c.generators):
            x = Signal(32, name=f"rng{g}")
            s0 = Signal(32, name=f"seed{g}")
            m.d.comb += s0.eq((seed + spin_constant(g))[:32])
            with m.If(seeding):
                m.d.sync += x.eq(Mux(s0 == 0, FALLBACK, s0))
            with m.Elif(advancing | draw | run):
                m.d.sync += x.eq(xorshift32(x))
            gens.append(x)

        sigma = Signal(c.n)
        totals = []
        nbrs = c.neighbours()
        for i in range(c.n):
            r = gens[i // c.share][31 - i % c.share]
            w_i = sum(abs(w) for _, w in nbrs[i])
            itanh = Signal(signed(cb), name=f"itanh{i}")
            noise = Signal(signed(cb), name=f"noise{i}")
            m.d.comb += noise.eq(Mux(r, n_pos, n_neg))
            # one bit heap: Itanh + noise + 2 |J_ij| x_j + (h_i - W_i)
            t_bits, t_const = signed_operand(itanh)
            n_bits, n_const = signed_operand(noise)
            field = [(sigma[j] ^ (w < 0), 2 * abs(w)) for j, w in nbrs[i]]
            total = Signal(signed(signed_bits((2 << c.i0_bits) + w_i + abs(c.h[i]))), name=f"sum{i}")
            const = t_const + n_const + c.h[i] - w_i
            m.d.comb += total.eq(heap_sum(m, t_bits + n_bits + field, const, len(total), f"heap{i}"))
            held = Signal.like(total, name=f"held{i}")  # the energy pass reads this, off the spin's loop
            m.d.sync += held.eq(total)
            totals.append(held)
            neg = total[-1]
            mag = Signal(unsigned(len(total) - 1), name=f"mag{i}")
            m.d.comb += mag.eq(total[:-1] ^ neg.replicate(len(mag)))
            clamped = Mux(mag >= i0, Mux(neg, lo, ~lo), total[:cb])
            with m.If(draw):
                m.d.sync += [itanh.eq(Mux(r | no_steps, 0, -1)), sigma[i].eq(r)]
            with m.Elif(run):
                # after the last step Itanh and the noise are 0, so the energy pass reads F + h off the heap
                m.d.sync += [itanh.eq(Mux(last, 0, clamped)), sigma[i].eq(~neg)]

        # energy pass over the final sigma: word k holds spins k * B + lane; term sigma_i (total_i + h_i)
        B, K = c.read_bits, c.read_words
        word = Signal(range(K + 2))
        e2 = Signal(signed(c.e2_bits))
        m.d.comb += self.e2.eq(e2)
        terms = []
        for lane in range(B):
            spins = [k * B + lane for k in range(K)]
            width = max([1, *(len(totals[i]) for i in spins if i < c.n)])
            col = Cat(*(_extend(totals[i], width) if i < c.n else Const(0, width) for i in spins))
            hs = [c.h[i] if i < c.n else 0 for i in spins]
            hbits = signed_bits(max(abs(v) for v in hs))
            col_h = Cat(*(Const(v, signed(hbits)) for v in hs))
            v = Signal(signed(width), name=f"lane_sum{lane}")
            hv = Signal(signed(hbits), name=f"lane_h{lane}")
            m.d.comb += [v.eq(col.word_select(word, width)), hv.eq(col_h.word_select(word, hbits))]
            b = Cat(*(sigma[i] if i < c.n else 0 for i in spins)).bit_select(word, 1)
            local = v + hv  # F_i + 2 h_i
            t = Signal(signed(c.e2_bits), name=f"e2_lane{lane}")
            valid = (word < K) & energy
            m.d.sync += t.eq(Mux(valid, Mux(b, local, -local), 0))
            terms.append(t)
        parts = []  # a pipeline stage between the lanes and the accumulator: 8 lanes per partial sum
        for k in range(0, B, 8):
            part = Signal(signed(c.e2_bits), name=f"e2_part{k // 8}")
            m.d.sync += part.eq(tree_sum(terms[k : k + 8]))
            parts.append(part)
        readable = Signal(K * B)
        m.d.comb += readable.eq(sigma)
        rd = Signal(B)
        m.d.sync += rd.eq(readable.word_select(self.rd_addr, B))
        m.d.comb += self.rd_data.eq(rd)

        with m.If(self.start & ~self.busy):
            m.d.sync += [
                seeding.eq(1),
                no_steps.eq(self.steps == 0),
                one_step.eq(self.steps == 1),
                done.eq(0),
                step.eq(0),
                e2.eq(0),
                steps.eq(self.steps),
                n_pos.eq(self.n_rnd),
                n_neg.eq(-self.n_rnd),
                seed.eq(self.seed),
                i0_max.eq(self.i0_max),
                delta.eq(self.i0_delta),
            ]
        m.d.sync += [advancing.eq(seeding), draw.eq(advancing)]
        with m.If(seeding):
            m.d.sync += seeding.eq(0)
        with m.If(draw):
            m.d.sync += [run.eq(~no_steps), last.eq(one_step), settle.eq(no_steps)]
            with m.If(no_steps):
                m.d.sync += [n_pos.eq(0), n_neg.eq(0)]
        with m.If(run):
            m.d.sync += [step.eq(step + 1), last.eq(step + 2 == steps)]  # last: registered step == steps - 1
            with m.If(last):
                m.d.sync += [run.eq(0), last.eq(0), settle.eq(1), n_pos.eq(0), n_neg.eq(0)]
        with m.If(settle):  # one cycle for the registered heap sums to show F + h
            m.d.sync += [settle.eq(0), energy.eq(1), word.eq(0)]
        with m.If(energy):
            m.d.sync += [word.eq(word + 1), e2.eq(e2 + tree_sum(parts))]
            with m.If(word == K + 1):
                m.d.sync += [energy.eq(0), done.eq(1)]
        return m


def _extend(v: Value, width: int) -> Value:
    """Sign-extend v to `width` bits."""
    return Cat(v, v[-1].replicate(width - len(v)))
