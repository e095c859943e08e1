"""The p-bit itself: noisy integration into a saturating up/down counter, sign = spin."""

from amaranth import Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from vhls.backends.pbit.config import PBitConfig
from vhls.backends.pbit.xorshift import xorshift32


class PBit(wiring.Component):
    """Itanh' = clamp(Itanh + h + F +- n_rnd, -I0, I0 - 1); the noise sign is the MSB of the next rng state.
    Also returns this spin's energy term sigma_i (F + 2 h) with sigma_i the sign of the old counter."""

    def __init__(self, cfg: PBitConfig) -> None:
        self.cfg = cfg
        super().__init__(
            {
                "field": In(signed(cfg.field_bits)),
                "h": In(signed(cfg.h_bits)),
                "itanh": In(signed(cfg.count_bits)),
                "rng": In(32),
                "n_rnd": In(unsigned(cfg.i0_bits)),
                "i0": In(unsigned(cfg.i0_bits)),
                "itanh_next": Out(signed(cfg.count_bits)),
                "rng_next": Out(32),
                "sigma_next": Out(1),
                "e2": Out(signed(cfg.e2_unit_bits)),
            }
        )

    def elaborate(self, platform: object) -> Module:
        cfg = self.cfg
        m = Module()
        m.d.comb += self.rng_next.eq(xorshift32(self.rng))
        total = Signal(signed(cfg.sum_bits))
        noise = Mux(self.rng_next[31], self.n_rnd, -self.n_rnd)
        m.d.comb += total.eq(self.itanh + self.h + self.field + noise)
        i0 = Signal(signed(cfg.count_bits))  # zero-extended, so the arithmetic below is signed
        lo = Signal(signed(cfg.count_bits))
        hi = Signal(signed(cfg.count_bits))
        m.d.comb += [i0.eq(self.i0), lo.eq(-i0), hi.eq(i0 - 1)]
        m.d.comb += self.itanh_next.eq(Mux(total < lo, lo, Mux(total > hi, hi, total)))
        m.d.comb += self.sigma_next.eq(self.itanh_next >= 0)
        local = self.field + 2 * self.h
        m.d.comb += self.e2.eq(Mux(self.itanh >= 0, local, -local))
        return m
