"""Run control shared by the p-bit arrays: the run ports, the settings latched at start, and the I0 schedule (a
fixed-point accumulator, I0 = min(I0max, acc >> F); adds delta once per step until I0max)."""

from amaranth import Module, Mux, Signal, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out


def run_ports(step_bits: int, i0_bits: int, frac_bits: int) -> dict:
    """The run-control ports every p-bit array shares (seed, step count, I0 schedule, start/busy/done)."""
    return {
        "seed": In(32),
        "steps": In(unsigned(step_bits)),
        "n_rnd": In(unsigned(i0_bits)),
        "i0_min": In(unsigned(i0_bits)),
        "i0_max": In(unsigned(i0_bits)),
        "i0_delta": In(unsigned(i0_bits + frac_bits)),
        "start": In(1),
        "busy": Out(1),
        "done": Out(1),
    }


class RunSettings:
    """The run settings every p-bit array latches at start (its ports may change during a run) and the I0 scheduler
    they drive; I0min is only read at start (the scheduler's load), so it stays on its port. `n_rnd=False` for an
    array that keeps its own noise registers (the baked one)."""

    def __init__(self, m: Module, ports: wiring.Component, i0_bits: int, frac_bits: int, n_rnd: bool = True) -> None:
        self._ports = ports
        self.steps = Signal.like(ports.steps)
        self.n_rnd: Signal | None = None
        if n_rnd:
            self.n_rnd = Signal.like(ports.n_rnd)
        self.seed = Signal(32)
        m.submodules.sched = self.sched = I0Scheduler(i0_bits, frac_bits)
        self.i0_max = Signal.like(ports.i0_max)
        self.delta = Signal.like(ports.i0_delta)
        m.d.comb += [self.sched.i0_min.eq(ports.i0_min), self.sched.i0_max.eq(self.i0_max),
                     self.sched.delta.eq(self.delta)]

    def latch(self) -> list:
        """The sync statements that take the settings from the ports (put them under the start condition)."""
        p = self._ports
        n_rnd = [] if self.n_rnd is None else [self.n_rnd.eq(p.n_rnd)]
        return [self.steps.eq(p.steps), *n_rnd, self.seed.eq(p.seed), self.i0_max.eq(p.i0_max),
                self.delta.eq(p.i0_delta)]


class I0Scheduler(wiring.Component):
    def __init__(self, i0_bits: int, frac_bits: int) -> None:
        self.frac = frac_bits
        super().__init__(
            {
                "load": In(1),  # acc <- I0min << F
                "advance": In(1),  # end of a step
                "i0_min": In(unsigned(i0_bits)),
                "i0_max": In(unsigned(i0_bits)),
                "delta": In(unsigned(i0_bits + frac_bits)),
                "i0": Out(unsigned(i0_bits)),
            }
        )

    def elaborate(self, platform: object) -> Module:
        m = Module()
        acc = Signal(unsigned(len(self.i0) + self.frac + 1))
        whole = acc >> self.frac
        reached = whole >= self.i0_max
        m.d.comb += self.i0.eq(Mux(reached, self.i0_max, whole))
        with m.If(self.load):
            m.d.sync += acc.eq(self.i0_min << self.frac)
        with m.Elif(self.advance & ~reached):  # stopping at I0max keeps acc from overflowing
            m.d.sync += acc.eq(acc + self.delta)
        return m
