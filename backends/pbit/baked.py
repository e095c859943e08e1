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
`read_words` cycles sum sigma_i (F_i + 2 h_i) over `read_bits` spins at a time (+3 pipeline cycles), each
lane's column of held sums shifting towards its adder; `done` with `e2` = 2 (offset - E) and sigma on
`rd_addr` / `rd_data`. Nothing fans out to all spins: each generator's group and each lane has its own
registered copies of the control (`_copy`).

Interleaved (C-slow, `interleave` = k = 2): every register on a loop through the spins' logic is a pair, so
two independent reads (threads 0 and 1; thread t seeded with rng.trial_seed(seed, t)) take turns: thread
`phase` in even/odd cycles. sigma's second register is retimed onto every sigma_j -> heap_i edge (a copy per
edge, which the placer can put anywhere along the route), Itanh, the generators, the held heap sums and the
e2 accumulator are register pairs. The control is shared (both reads run the same steps and schedule) and
advances every k cycles, so each thread sees it unchanged in its own cycle; thread 1's e2 and sigma come
out on `e2_1` and `rd_data1`.
"""

from amaranth import Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from vhls.anneal.rng import FALLBACK, MASK, spin_constant, trial_seed
from vhls.backends.pbit.baked_config import DRAIN, BakedConfig
from vhls.backends.pbit.bitheap import heap_sum, signed_operand
from vhls.backends.pbit.config import signed_bits
from vhls.backends.pbit.field import tree_sum
from vhls.backends.pbit.schedule import RunSettings, run_ports
from vhls.backends.pbit.xorshift import xorshift32


class PBitBaked(wiring.Component):
    def __init__(self, cfg: BakedConfig) -> None:
        self.cfg = cfg
        c = cfg
        thread1 = {"rd_data1": Out(c.read_bits), "e2_1": Out(signed(c.e2_bits))} if c.interleave == 2 else {}
        super().__init__(
            {
                **run_ports(c.step_bits, c.i0_bits, c.frac_bits),
                "rd_addr": In(range(c.read_words)),
                "rd_data": Out(c.read_bits),
                "e2": Out(signed(c.e2_bits)),
                **thread1,
            }
        )

    def elaborate(self, platform: object) -> Module:
        c = self.cfg
        m = Module()
        cb = c.count_bits
        B, K = c.read_bits, c.read_words
        k = c.interleave
        end = K + -(-(DRAIN - 1) // k) - 1  # the energy pass's last word count (in k-cycle slots)

        settings = RunSettings(m, self, c.i0_bits, c.frac_bits, n_rnd=False)  # the noise is in n_pos / n_neg below
        steps, seed, sched = settings.steps, settings.seed, settings.sched

        # control: one flag per phase, each register's next value (`_d`) a comb signal so that groups of
        # spins and lanes of the energy pass can keep their own registered copies (no net reaches all spins)
        names = ("seeding", "advancing", "draw", "run", "last", "settle", "energy", "no_steps", "one_step")
        flags = [Signal(name=x) for x in names]
        seeding, advancing, draw, run, last, settle, energy, no_steps, one_step = flags
        nxt = {x: Signal(name=f"{x}_d") for x in names}
        n_pos, n_pos_d = Signal(signed(cb)), Signal(signed(cb))
        n_neg, n_neg_d = Signal(signed(cb)), Signal(signed(cb))
        done, step, word = Signal(), Signal.like(self.steps), Signal(range(end + 1))
        e2 = Signal(signed(c.e2_bits))
        busy = seeding | advancing | draw | run | settle | energy
        go = self.start & ~busy
        quiet = (draw & no_steps) | (run & last)  # noise off after the last step (or at once for 0 steps)
        if k == 1:
            dd, n_pos_dd, n_neg_dd, ph, tick = nxt, n_pos_d, n_neg_d, None, None
        else:  # the control advances at the end of a k-cycle slot (or at go), its copies follow it exactly
            ph = Signal(name="phase")  # the thread whose turn it is
            ph_d = Mux(go, 0, ~ph)
            tick = go | ph
            dd = {x: Mux(tick, nxt[x], v) for x, v in zip(names, flags, strict=True)}
            n_pos_dd, n_neg_dd = Mux(tick, n_pos_d, n_pos), Mux(tick, n_neg_d, n_neg)
            m.d.sync += ph.eq(ph_d)
        m.d.comb += [
            self.busy.eq(busy),
            self.done.eq(done),
            self.e2.eq(e2),
            nxt["seeding"].eq(go),
            nxt["advancing"].eq(seeding),
            nxt["draw"].eq(advancing),
            nxt["run"].eq(Mux(draw, ~no_steps, run & ~last)),
            nxt["last"].eq(Mux(draw, one_step, run & ~last & (step + 2 == steps))),  # registered step == steps - 1
            nxt["settle"].eq(Mux(draw, no_steps, run & last)),  # one cycle for the held heap sums to show F + h
            nxt["energy"].eq(settle | (energy & (word != end))),
            nxt["no_steps"].eq(Mux(go, self.steps == 0, no_steps)),
            nxt["one_step"].eq(Mux(go, self.steps == 1, one_step)),
            n_pos_d.eq(Mux(go, self.n_rnd, Mux(quiet, 0, n_pos))),
            n_neg_d.eq(Mux(go, -self.n_rnd, Mux(quiet, 0, n_neg))),
            sched.load.eq(seeding | advancing),
            # the group copies of I0 lag the scheduler by one cycle; interleaved, I0(t) must show in both
            # cycles of step t, so it advances in the middle of each step's slot
            sched.advance.eq((draw | run) if k == 1 else (run & ~ph)),
        ]
        m.d.sync += [*(v.eq(dd[x]) for x, v in zip(names, flags, strict=True)), n_pos.eq(n_pos_dd), n_neg.eq(n_neg_dd)]
        with m.If(go):
            m.d.sync += [
                done.eq(0),
                step.eq(0),
                e2.eq(0),
                *settings.latch(),
            ]
        with m.If(run if k == 1 else run & ph):
            m.d.sync += step.eq(step + 1)
        with m.If(settle):
            m.d.sync += word.eq(0)
        with m.If(energy if k == 1 else energy & ph):
            m.d.sync += word.eq(word + 1)
            with m.If(word == end):
                m.d.sync += done.eq(1)

        sigma = Signal(c.n)  # interleaved: the other thread's (latest written) spins; this thread's are in sigma_b
        if k == 2:
            sigma_b = Signal(c.n)
            m.d.sync += sigma_b.eq(sigma)
        totals = []
        nbrs = c.neighbours()
        for g in range(c.generators):
            # this group's copies of everything its spins share: I0 and -I0 (hi = I0 - 1 = ~lo; the scheduler
            # runs one cycle ahead, from the draw cycle on), the noise magnitudes and the phase flags
            f = {x: _copy(m, dd[x], f"{x}_g{g}") for x in ("seeding", "draw", "run", "last", "no_steps")}
            i0, lo = _copy(m, sched.i0, f"i0_g{g}"), _copy(m, -sched.i0, f"lo_g{g}", signed(cb))
            pos, neg_n = _copy(m, n_pos_dd, f"n_pos_g{g}"), _copy(m, n_neg_dd, f"n_neg_g{g}")
            advance = _copy(m, dd["advancing"] | dd["draw"] | dd["run"], f"advance_g{g}")
            # generator g: state x; a step's noise is x's bits while x advances
            x = Signal(32, name=f"rng{g}")
            s0 = Signal(32, name=f"seed{g}")
            m.d.comb += s0.eq((seed + spin_constant(g))[:32])
            if k == 1:
                with m.If(f["seeding"]):
                    m.d.sync += x.eq(Mux(s0 == 0, FALLBACK, s0))
                with m.Elif(advance):
                    m.d.sync += x.eq(xorshift32(x))
            else:  # x is this thread's state, x_next the other's; thread 1 seeds with trial_seed(seed, 1)
                x_next = Signal(32, name=f"rng{g}_next")
                s1 = Signal(32, name=f"seed{g}_t1")
                m.d.comb += s1.eq((seed + ((spin_constant(g) + trial_seed(0, 1)) & MASK))[:32])
                s = Mux(_copy(m, ph_d, f"phase_g{g}"), s1, s0)
                with m.If(f["seeding"]):
                    m.d.sync += x_next.eq(Mux(s == 0, FALLBACK, s))
                with m.Elif(advance):
                    m.d.sync += x_next.eq(xorshift32(x))
                with m.Else():
                    m.d.sync += x_next.eq(x)
                m.d.sync += x.eq(x_next)

            for i in range(g * c.share, min(c.n, (g + 1) * c.share)):
                r = x[31 - i % c.share]
                w_i = sum(abs(w) for _, w in nbrs[i])
                itanh = Signal(signed(cb), name=f"itanh{i}")  # interleaved: this thread's, the heap's input
                itanh_d = itanh
                if k == 2:  # the other thread's
                    itanh_d = Signal(signed(cb), name=f"itanh{i}_next")
                    m.d.sync += itanh.eq(itanh_d)
                noise = Signal(signed(cb), name=f"noise{i}")
                m.d.comb += noise.eq(Mux(r, pos, neg_n))
                # one bit heap: Itanh + noise + 2 |J_ij| x_j + (h_i - W_i)
                t_bits, t_const = signed_operand(itanh)
                n_bits, n_const = signed_operand(noise)
                if k == 1:
                    field = [(sigma[j] ^ (w < 0), 2 * abs(w)) for j, w in nbrs[i]]
                else:  # sigma's second register, one per edge
                    field = [(_edge(m, sigma[j], j, i, nbrs[j]) ^ (w < 0), 2 * abs(w)) for j, w in nbrs[i]]
                total = Signal(signed(signed_bits((2 << c.i0_bits) + w_i + abs(c.h[i]))), name=f"sum{i}")
                const = t_const + n_const + c.h[i] - w_i
                m.d.comb += total.eq(heap_sum(m, t_bits + n_bits + field, const, len(total), f"heap{i}"))
                totals.append(total)
                sign = total[-1]
                mag = Signal(unsigned(len(total) - 1), name=f"mag{i}")
                m.d.comb += mag.eq(total[:-1] ^ sign.replicate(len(mag)))
                clamped = Mux(mag >= i0, Mux(sign, lo, ~lo), total[:cb])
                with m.If(f["draw"]):
                    m.d.sync += [itanh_d.eq(Mux(r | f["no_steps"], 0, -1)), sigma[i].eq(r)]
                with m.Elif(f["run"]):
                    # after the last step Itanh and the noise are 0, so the energy pass reads F + h off the heap
                    m.d.sync += [itanh_d.eq(Mux(f["last"], 0, clamped)), sigma[i].eq(~sign)]
                if k == 2:
                    with m.Else():  # keep the pair turning: sigma_b is always the current thread's
                        m.d.sync += sigma[i].eq(sigma_b[i])

        # energy pass over the final sigma: word k holds spins k * B + lane. Each lane's column of held heap
        # sums, final spins and h shifts one word per cycle towards word 0 (no K:1 mux); zeros shift in behind.
        terms = []
        for lane in range(B):
            spins = list(range(lane, c.n, B))
            t = Signal(signed(c.e2_bits), name=f"e2_lane{lane}")
            terms.append(t)
            if not spins:
                continue
            shift = _copy(m, dd["energy"], f"shift{lane}")
            width = max(len(totals[i]) for i in spins)
            hbits = signed_bits(max(abs(c.h[i]) for i in spins))
            # held heap sum (every cycle until the pass: it is off the spin's loop), h and sigma of each spin
            col = [
                (
                    Signal(signed(width), name=f"held{i}"),
                    Signal(signed(hbits), name=f"held_h{i}"),
                    Signal(name=f"held_sigma{i}"),
                )
                for i in spins
            ]
            if k == 2:  # a pair per spin: the other thread's (col) behind this thread's (head), one chain
                head = [tuple(Signal.like(x, name=f"{x.name}_b") for x in a) for a in col]
                for a, hd in zip(col, head, strict=True):
                    m.d.sync += [x.eq(y) for x, y in zip(hd, a, strict=True)]
                col, ahead = [(a, hd) for a, hd in zip(col, head, strict=True)], head
            for idx, (v, hv, b) in enumerate(col if k == 1 else (a for a, _ in col)):
                i = spins[idx]
                if k == 1:
                    after = col[idx + 1] if idx + 1 < len(col) else (0, 0, 0)
                else:
                    after = ahead[idx + 1] if idx + 1 < len(ahead) else (0, 0, 0)
                with m.If(shift):
                    m.d.sync += [v.eq(after[0]), hv.eq(after[1]), b.eq(after[2])]
                with m.Else():
                    m.d.sync += [v.eq(totals[i]), hv.eq(c.h[i]), b.eq(sigma[i] if k == 1 else sigma_b[i])]
            v, hv, b = col[0] if k == 1 else ahead[0]
            local = v + hv  # F_i + 2 h_i
            m.d.sync += t.eq(Mux(shift, Mux(b, local, -local), 0))
        parts = _reduce(m, terms, 4, c.e2_bits, "e2_part")  # pipeline stages of 4-input sums between the lanes
        parts = _reduce(m, parts, 4, c.e2_bits, "e2_quad")  # and the accumulator
        if k == 1:
            with m.If(energy):
                m.d.sync += e2.eq(e2 + tree_sum(parts))
            readable = Signal(K * B)
            m.d.comb += readable.eq(sigma)
            rd = Signal(B)
            m.d.sync += rd.eq(readable.word_select(self.rd_addr, B))
            m.d.comb += self.rd_data.eq(rd)
            return m

        # a pair of accumulators taking turns; the pass is an even number of cycles, so when it ends thread 0's
        # sum is in e2 and thread 1's in e2_1
        e2_1 = Signal(signed(c.e2_bits))
        with m.If(go):
            m.d.sync += e2_1.eq(0)
        with m.If(energy):
            m.d.sync += [e2.eq(e2_1 + tree_sum(parts)), e2_1.eq(e2)]
        m.d.comb += self.e2_1.eq(e2_1)
        # thread t's spins are in sigma_b in its own cycles and in sigma in the other thread's
        other, own = Signal(K * B), Signal(K * B)
        m.d.comb += [other.eq(sigma), own.eq(sigma_b)]
        w_other, w_own = other.word_select(self.rd_addr, B), own.word_select(self.rd_addr, B)
        rd, rd1 = Signal(B), Signal(B)
        m.d.sync += [rd.eq(Mux(ph, w_other, w_own)), rd1.eq(Mux(ph, w_own, w_other))]
        m.d.comb += [self.rd_data.eq(rd), self.rd_data1.eq(rd1)]
        return m


def _copy(m: Module, d: Value, name: str, shape: object = None) -> Signal:
    """A register that takes `d` every cycle, written as 'load when it differs': its own value is among its
    inputs, so yosys keeps the copies apart (opt_merge merges flip-flops with equal inputs) and each drives
    only its own group instead of one net reaching every spin."""
    q = Signal(shape if shape is not None else d.shape(), name=name)
    with m.If(q != d):
        m.d.sync += q.eq(d)
    return q


def _edge(m: Module, sigma_j: Value, j: int, i: int, fanout: list[tuple[int, int]]) -> Signal:
    """Spin j's register on its edge to spin i. yosys merges flip-flops with equal inputs but not ones with a
    different reset or initial value, so j's first four edges get the four (reset, init) variants, no logic (the
    value before the first draw is never used); further edges fall back to `_copy` (one LUT each). The first
    variant shares its flip-flop with sigma_b (same input and reset), which costs nothing."""
    k = [x for x, _ in fanout].index(i)
    if k >= 4:
        return _copy(m, sigma_j, f"edge{j}_{i}")
    q = Signal(name=f"edge{j}_{i}", init=k & 1, reset_less=k >= 2)
    m.d.sync += q.eq(sigma_j)
    return q


def _reduce(m: Module, terms: list[Value], k: int, width: int, name: str) -> list[Signal]:
    """One pipeline stage: registered sums of `k` terms at a time."""
    out = []
    for g in range(0, len(terms), k):
        s = Signal(signed(width), name=f"{name}{g // k}")
        m.d.sync += s.eq(tree_sum(terms[g : g + k]))
        out.append(s)
    return out
