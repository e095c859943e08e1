"""The p-bit array: J/h memories, U spin-update units, rotating per-spin state, controller and readout.

Spin i lives in unit i % U, group i // U. One step takes `groups` cycles: in cycle g every unit updates the
spin of group g from sigma(t) (all spins read the same snapshot, as SSA requires), shifting the new spin
into sigma_next; after the last group sigma <- sigma_next and the step's e2 goes out on `trace`.
Per-spin counters and rng states sit in rotating registers (no read muxes); J and h rows sit in memories
read one cycle ahead. Memories are not cleared by reset: load every nonzero entry (and clear old ones).

Host protocol: write J (`j_we`, `wr_unit`, `wr_group`, `wr_col`, `j_data`) and h (`h_we`, ...), hold the
run settings steady, pulse `start`; `busy` is high while running, `trace_valid`/`trace_e2` carry e2(t) for
t = 0..steps-1, `done` rises when the last step committed and `sigma` holds the result until the next `start`.
"""

from amaranth import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import memory, wiring
from amaranth.lib.wiring import In, Out

from vhls.anneal.rng import FALLBACK, spin_constant
from vhls.backends.pbit.config import PBitConfig
from vhls.backends.pbit.counter import PBit
from vhls.backends.pbit.field import FieldTree, tree_or, tree_sum
from vhls.backends.pbit.schedule import RunSettings, run_ports


class PBitArray(wiring.Component):
    def __init__(self, cfg: PBitConfig) -> None:
        self.cfg = cfg
        c = cfg
        super().__init__(
            {
                "j_we": In(1),
                "h_we": In(1),
                "wr_unit": In(range(c.u)),
                "wr_group": In(range(c.groups)),
                "wr_col": In(range(c.npad)),
                "j_data": In(signed(c.j_bits)),
                "h_data": In(signed(c.h_bits)),
                **run_ports(c.step_bits, c.i0_bits, c.frac_bits),
                "sigma": Out(c.n),
                # e2 of each step; valid for one cycle, no back-pressure (the array never stalls)
                "trace_valid": Out(1),
                "trace_e2": Out(signed(c.e2_bits)),
            }
        )

    def elaborate(self, platform: object) -> Module:
        c = self.cfg
        m = Module()
        U, G = c.u, c.groups

        settings = RunSettings(m, self, c.i0_bits, c.frac_bits)  # latched at start
        steps, n_rnd, seed, sched = settings.steps, settings.n_rnd, settings.seed, settings.sched

        running = Signal()
        init = Signal()
        done = Signal()
        group = Signal(range(G))
        step = Signal.like(self.steps)
        last_group = group == G - 1
        active = running | init
        m.d.comb += [self.busy.eq(active), self.done.eq(done)]

        sigma = Signal(c.npad)
        sigma_next = Signal(c.npad)
        e2_acc = Signal(signed(c.e2_bits))
        m.d.comb += self.sigma.eq(sigma[: c.n])

        next_group = Signal(range(G))
        m.d.comb += next_group.eq(0)
        with m.If(active & ~last_group):
            m.d.comb += next_group.eq(group + 1)

        chunk = []
        e2_terms = []
        for u in range(U):
            jmem = memory.Memory(shape=unsigned(c.npad * c.j_bits), depth=G, init=[])
            hmem = memory.Memory(shape=signed(c.h_bits), depth=G, init=[])
            m.submodules[f"jmem{u}"] = jmem
            m.submodules[f"hmem{u}"] = hmem
            jw = jmem.write_port(granularity=c.j_bits)
            hw = hmem.write_port()
            jr = jmem.read_port()
            hr = hmem.read_port()
            hit = self.wr_unit == u
            m.d.comb += [
                jw.addr.eq(self.wr_group),
                jw.data.eq(Cat(*[self.j_data] * c.npad)),
                jw.en.eq(Mux(self.j_we & hit, Const(1, c.npad) << self.wr_col, 0)),
                hw.addr.eq(self.wr_group),
                hw.data.eq(self.h_data),
                hw.en.eq(self.h_we & hit),
                jr.addr.eq(next_group),  # read one cycle ahead of use
                hr.addr.eq(next_group),
            ]

            # rotating per-spin state: slot 0 is the spin of the current group
            itanh = [Signal(signed(c.count_bits), name=f"itanh_u{u}_g{g}") for g in range(G)]
            state = [Signal(32, name=f"rng_u{u}_g{g}") for g in range(G)]

            m.submodules[f"field{u}"] = tree = FieldTree(c.npad, c.j_bits, c.field_bits)
            m.submodules[f"pbit{u}"] = pb = PBit(c)
            m.d.comb += [
                tree.row.eq(jr.data),
                tree.sigma.eq(sigma),
                pb.field.eq(tree.field),
                pb.h.eq(hr.data),
                pb.itanh.eq(itanh[0]),
                pb.n_rnd.eq(n_rnd),
                pb.i0.eq(sched.i0),
            ]
            # init walks the groups like a step does, so each unit needs one adder and one xorshift for
            # seeding (plus a ROM of its spins' constants), not one per spin.
            # An OR of masked constants, not an Array: Array becomes a Verilog `always @*` case that Icarus
            # never evaluates if `group` does not change after time 0, leaving the first group's seeds X.
            rom = tree_or([Mux(group == g, spin_constant(g * U + u), 0) for g in range(G)])
            s0 = Signal(32, name=f"seed_u{u}")
            s1 = Signal(32, name=f"draw_u{u}")
            m.d.comb += s0.eq((seed + rom)[:32])
            # the unit's own xorshift makes the first draw during init
            m.d.comb += pb.rng.eq(Mux(init, Mux(s0 == 0, FALLBACK, s0), state[0]))
            m.d.comb += s1.eq(pb.rng_next)
            new_itanh = Mux(init, Mux(s1[31], 0, -1), pb.itanh_next)  # first draw: Itanh = 0 on a 1, -1 on a 0
            new_state = Mux(init, s1, pb.rng_next)
            with m.If(active):
                m.d.sync += [a.eq(b) for a, b in zip(itanh, [*itanh[1:], new_itanh], strict=True)]
                m.d.sync += [a.eq(b) for a, b in zip(state, [*state[1:], new_state], strict=True)]
            chunk.append(Mux(init, s1[31], pb.sigma_next))
            e2_terms.append(pb.e2)

        chunk_v = Cat(*chunk)
        shifted = Cat(sigma_next[U:], chunk_v) if G > 1 else chunk_v
        e2_group = Signal(signed(c.e2_bits))
        m.d.comb += e2_group.eq(tree_sum(e2_terms))
        e2_step = e2_acc + e2_group
        m.d.comb += [self.trace_e2.eq(e2_step), self.trace_valid.eq(running & last_group)]
        m.d.comb += [sched.load.eq(init), sched.advance.eq(running & last_group)]

        with m.If(self.start & ~active):
            m.d.sync += [
                init.eq(1),
                done.eq(0),
                group.eq(0),
                step.eq(0),
                e2_acc.eq(0),
                *settings.latch(),
            ]
        with m.If(init):
            m.d.sync += [sigma_next.eq(shifted), group.eq(next_group)]
            with m.If(last_group):
                m.d.sync += [sigma.eq(shifted), init.eq(0), running.eq(steps != 0), done.eq(steps == 0)]
        with m.If(running):
            m.d.sync += [sigma_next.eq(shifted), group.eq(next_group), e2_acc.eq(e2_step)]
            with m.If(last_group):
                m.d.sync += [sigma.eq(shifted), step.eq(step + 1), e2_acc.eq(0)]
                with m.If(step == steps - 1):
                    m.d.sync += [running.eq(0), done.eq(1)]
        return m
