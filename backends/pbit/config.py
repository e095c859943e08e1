"""Sizes of a p-bit array and the bit widths that follow from them (shared by RTL, drivers and tests)."""

import dataclasses

from vhls.errors import VhlsError


def signed_bits(maxabs: int) -> int:
    """Bits of a signed value holding -maxabs .. maxabs."""
    return max(1, maxabs).bit_length() + 1


@dataclasses.dataclass(frozen=True)
class PBitConfig:
    n: int  # spins
    units: int = 0  # spin-update units; 0 = fully parallel (one per spin)
    j_bits: int = 4  # signed J
    h_bits: int = 4  # signed h
    i0_bits: int = 8  # unsigned I0, n_rnd
    frac_bits: int = 8  # fraction bits of the I0 accumulator
    step_bits: int = 16  # step counter

    def __post_init__(self) -> None:
        if self.n < 1 or self.units < 0 or min(self.j_bits, self.h_bits, self.i0_bits, self.step_bits) < 2:
            raise VhlsError(f"bad p-bit array configuration {self}")

    @property
    def u(self) -> int:
        return self.units or self.n

    @property
    def groups(self) -> int:
        """Cycles per step: each cycle every unit updates one spin (spin i = group * U + unit)."""
        return -(-self.n // self.u)

    @property
    def npad(self) -> int:
        return self.groups * self.u

    @property
    def field_max(self) -> int:
        return self.npad << (self.j_bits - 1)

    @property
    def field_bits(self) -> int:
        return signed_bits(self.field_max)

    @property
    def count_bits(self) -> int:
        return self.i0_bits + 1

    @property
    def sum_bits(self) -> int:
        return signed_bits((2 << self.i0_bits) + (1 << self.h_bits) + self.field_max)

    @property
    def e2_unit_bits(self) -> int:
        return signed_bits(self.field_max + (1 << self.h_bits))

    @property
    def e2_bits(self) -> int:
        return signed_bits(self.npad * (self.field_max + (1 << self.h_bits)))

    @property
    def acc_bits(self) -> int:
        return self.i0_bits + self.frac_bits + 1

    def cycles_per_read(self, steps: int) -> int:
        """From the cycle after `start` to `done`: seeding walks the groups once, then `groups` per step."""
        return (steps + 1) * self.groups

    def locate(self, spin: int) -> tuple[int, int]:
        """(unit, group) that holds a spin's row."""
        return spin % self.u, spin // self.u

    def check_problem(self, J_max: int, h_max: int) -> None:
        if J_max >= 1 << (self.j_bits - 1) or h_max >= 1 << (self.h_bits - 1):
            raise VhlsError(
                f"|J| <= {J_max} or |h| <= {h_max} does not fit signed {self.j_bits}-bit J / {self.h_bits}-bit h"
            )

    def check_params(self, n_rnd: int, i0_min: int, i0_max: int, i0_delta: int, frac_bits: int, steps: int) -> None:
        if frac_bits != self.frac_bits:
            raise VhlsError(f"schedule has {frac_bits} fraction bits but the array was built with {self.frac_bits}")
        top = 1 << self.i0_bits
        if not (0 <= n_rnd < top and 1 <= i0_min <= i0_max < top):
            raise VhlsError(f"n_rnd {n_rnd} / I0 {i0_min}..{i0_max} do not fit {self.i0_bits} bits")
        if not 0 <= i0_delta < 1 << (self.i0_bits + self.frac_bits):
            raise VhlsError(f"I0 step {i0_delta} does not fit {self.i0_bits + self.frac_bits} bits")
        if not 0 <= steps < 1 << self.step_bits:
            raise VhlsError(f"{steps} steps do not fit the {self.step_bits}-bit step counter")
