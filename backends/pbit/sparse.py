"""The sparse, time-multiplexed p-bit array: J as adjacency lists in block RAM, U units of L lanes each.

Same SSA semantics as the dense array (and so the same golden model, vhls.anneal.ssa.run_ssa): every spin's
field is computed from the snapshot sigma(t); new spins go to per-unit shift registers and replace sigma only
at the end of the step. Layout and packing: sparse_config.py.

Per unit, a 4-stage pipeline fed by one address counter shared by all units (cycle k of a step):
  k      read adjacency word k
  k+1    each lane picks sigma[b + L*m] from its bank b (= lane, or lane + 1 with two choices), term = +-J
  k+2    field accumulator += sum of the L terms; on the spin's `last` word the field is handed on
  k+3    p-bit update of the unit's next spin (counter and rng state from a small memory read one cycle
         ahead), new spin shifted in, e2 term accumulated
A step is `words + PIPE` cycles; seeding walks the groups once (`groups` cycles) as in the dense array.

Host protocol: write adjacency words (`w_we`, `wr_unit`, `wr_addr`, `w_data`, packed by sparse_config.pack) and
h (`h_we`, `wr_unit`, `wr_group`, `h_data`), hold the run settings, pulse `start`; `trace_valid`/`trace_e2`
carry e2(t); after `done`, `rd_data` shows spins `rd_addr * read_bits ...` one cycle after `rd_addr` is set.
"""

from amaranth import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from vhls.anneal.rng import FALLBACK, spin_constant
from vhls.backends.pbit.counter import PBit
from vhls.backends.pbit.field import tree_sum
from vhls.backends.pbit.schedule import RunSettings, run_ports
from vhls.backends.pbit.sparse_config import PIPE, SparseConfig


class PBitSparse(wiring.Component):
    def __init__(self, cfg: SparseConfig) -> None:
        self.cfg = cfg
        c, wd = cfg, cfg.widths
        super().__init__(
            {
                "w_we": In(1),
                "h_we": In(1),
                "wr_unit": In(range(c.units)),
                "wr_addr": In(range(c.words)),
                "wr_group": In(range(c.groups)),
                "w_data": In(c.word_bits),
                "h_data": In(signed(c.h_bits)),
                **run_ports(c.step_bits, c.i0_bits, c.frac_bits),
                "rd_addr": In(range(c.read_words)),
                "rd_data": Out(c.read_bits),
                "trace_valid": Out(1),
                "trace_e2": Out(signed(wd.e2_bits)),
            }
        )

    def elaborate(self, platform: object) -> Module:
        c, wd = self.cfg, self.cfg.widths
        m = Module()
        U, G, W, L = c.units, c.groups, c.words, c.lanes

        settings = RunSettings(m, self, c.i0_bits, c.frac_bits)  # latched at start
        steps, n_rnd, seed, sched = settings.steps, settings.n_rnd, settings.seed, settings.sched

        running = Signal()
        init = Signal()
        done = Signal()
        k = Signal(range(max(W + PIPE, G)))  # cycle within the step (or the seeding walk)
        step = Signal.like(self.steps)
        active = running | init
        issue = running & (k < W)
        step_end = running & (k == W + PIPE - 1)
        init_end = init & (k == G - 1)
        m.d.comb += [self.busy.eq(active), self.done.eq(done)]

        sigma = Signal(c.bank * L)
        banks = [Cat(*(sigma[lane + L * i] for i in range(c.bank))) for lane in range(L)]

        new_cols = []  # per unit: its spins of sigma(t+1), group order
        e2_units = []
        for u in range(U):
            hit = self.wr_unit == u
            adj = memory.Memory(shape=unsigned(c.word_bits), depth=W, init=[])
            m.submodules[f"adj{u}"] = adj
            aw, ar = adj.write_port(), adj.read_port()
            m.d.comb += [aw.addr.eq(self.wr_addr), aw.data.eq(self.w_data), aw.en.eq(self.w_we & hit), ar.addr.eq(k)]

            # stage 1: lane terms
            valid = Signal(name=f"valid_u{u}")
            m.d.sync += valid.eq(issue)
            terms = []
            for lane in range(L):
                e = ar.data[lane * c.entry_bits : (lane + 1) * c.entry_bits]
                w = e[: c.j_bits].as_signed()
                idx = e[c.j_bits : c.j_bits + c.idx_bits]
                s = banks[lane].bit_select(idx, 1)
                if c.choices == 2:
                    s = Mux(e[-1], banks[(lane + 1) % L].bit_select(idx, 1), s)
                t = Signal(signed(c.j_bits + 1), name=f"term_u{u}_l{lane}")
                m.d.sync += t.eq(Mux(valid, Mux(s, w, -w), 0))
                terms.append(t)
            last = Signal(name=f"last_u{u}")
            m.d.sync += last.eq(valid & ar.data[-1])

            # stage 2: field accumulator
            acc = Signal(signed(wd.field_bits), name=f"acc_u{u}")
            field = Signal(signed(wd.field_bits), name=f"field_u{u}")
            fin = Signal(name=f"fin_u{u}")
            acc_next = acc + tree_sum(terms)
            m.d.sync += [acc.eq(Mux(last, 0, acc_next)), fin.eq(last)]
            with m.If(last):
                m.d.sync += field.eq(acc_next)

            # stage 3: the p-bit update (or the seeding draw) of spin group `grp`
            fire = fin | init
            grp = Signal(range(G), name=f"group_u{u}")
            grp_next = Signal(range(G), name=f"group_next_u{u}")
            m.d.comb += grp_next.eq(Mux(fire, Mux(grp == G - 1, 0, grp + 1), grp))
            m.d.sync += grp.eq(grp_next)
            state = memory.Memory(shape=unsigned(wd.count_bits + 32), depth=G, init=[])
            hmem = memory.Memory(shape=signed(c.h_bits), depth=G, init=[])
            rom = memory.Memory(shape=unsigned(32), depth=G, init=[spin_constant(g * U + u) for g in range(G)])
            m.submodules[f"state{u}"], m.submodules[f"h{u}"], m.submodules[f"rom{u}"] = state, hmem, rom
            sw, sr, cr = state.write_port(), state.read_port(), rom.read_port()
            hw, hr = hmem.write_port(), hmem.read_port()
            m.d.comb += [sr.addr.eq(grp_next), hr.addr.eq(grp_next), cr.addr.eq(grp_next)]  # read one cycle ahead
            m.d.comb += [hw.addr.eq(self.wr_group), hw.data.eq(self.h_data), hw.en.eq(self.h_we & hit)]

            m.submodules[f"pbit{u}"] = pb = PBit(wd)
            s0 = Signal(32, name=f"seed_u{u}")
            m.d.comb += s0.eq((seed + cr.data)[:32])
            m.d.comb += [
                pb.field.eq(field),
                pb.h.eq(hr.data),
                pb.itanh.eq(sr.data[: wd.count_bits].as_signed()),
                pb.rng.eq(Mux(init, Mux(s0 == 0, FALLBACK, s0), sr.data[wd.count_bits :])),
                pb.n_rnd.eq(n_rnd),
                pb.i0.eq(sched.i0),
            ]
            first = pb.rng_next[31]  # seeding: Itanh = 0 (sigma +1) on a 1, -1 on a 0
            new_itanh = Signal(signed(wd.count_bits), name=f"new_itanh_u{u}")
            m.d.comb += new_itanh.eq(Mux(init, Mux(first, 0, -1), pb.itanh_next))
            m.d.comb += [sw.addr.eq(grp), sw.data.eq(Cat(new_itanh, pb.rng_next)), sw.en.eq(fire)]

            col = Signal(G, name=f"col_u{u}")  # shift register: group g's new spin ends in bit g
            shifted = Cat(col[1:], Mux(init, first, pb.sigma_next)) if G > 1 else Mux(init, first, pb.sigma_next)
            col_next = Mux(fire, shifted, col)
            m.d.sync += col.eq(col_next)
            new_cols.append(col_next)

            e2 = Signal(signed(wd.e2_bits), name=f"e2_u{u}")
            e2_next = e2 + Mux(fin, pb.e2, 0)
            m.d.sync += e2.eq(Mux(step_end, 0, e2_next))
            e2_units.append(e2_next)

        sigma_next = Cat(*(new_cols[u][g] for g in range(G) for u in range(U)))
        m.d.comb += [self.trace_valid.eq(step_end), self.trace_e2.eq(tree_sum(e2_units))]
        m.d.comb += [sched.load.eq(init), sched.advance.eq(step_end)]

        readable = Signal(c.read_words * c.read_bits)
        m.d.comb += readable.eq(sigma[: c.n])
        m.d.sync += self.rd_data.eq(readable.word_select(self.rd_addr, c.read_bits))

        with m.If(self.start & ~active):
            m.d.sync += [
                init.eq(1),
                done.eq(0),
                k.eq(0),
                step.eq(0),
                *settings.latch(),
            ]
        with m.If(init):
            m.d.sync += k.eq(k + 1)
            with m.If(init_end):
                m.d.sync += [k.eq(0), sigma.eq(sigma_next), init.eq(0), running.eq(steps != 0), done.eq(steps == 0)]
        with m.If(running):
            m.d.sync += k.eq(k + 1)
            with m.If(step_end):
                m.d.sync += [k.eq(0), sigma.eq(sigma_next), step.eq(step + 1)]
                with m.If(step == steps - 1):
                    m.d.sync += [running.eq(0), done.eq(1)]
        return m
