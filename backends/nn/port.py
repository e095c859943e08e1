"""Narrow top-level ports: a vector crosses the AXI-Stream port as several beats of whole elements.

With a port width of BITS, each beat carries floor(BITS / W) elements of W bits (element i of the vector in beat
i // E at bits [(i % E)·W, (i % E + 1)·W), little-endian element order); a vector of N elements takes ceil(N / E)
beats, tlast on the last one, whose unused high bits are zero. The deserialiser and serialiser (serdes.py) adapt
these beats to the stages' whole-vector streams, so the beats per vector bound the initiation interval.
"""

import math
from dataclasses import dataclass

from vhls.ir.errors import VhlsError
from vhls.ir.types import Fixed


@dataclass(frozen=True)
class Framing:
    """One side of the top level: N elements of W bits, E per beat."""

    n: int
    width: int
    per_beat: int

    @property
    def beats(self) -> int:
        return math.ceil(self.n / self.per_beat)

    @property
    def tdata_bits(self) -> int:
        return self.per_beat * self.width

    def to_json(self) -> dict:
        return {"elements_per_beat": self.per_beat, "beats": self.beats, "tdata_bits": self.tdata_bits}


@dataclass(frozen=True)
class Ports:
    """Input and output framing for a port width of `bits` data bits per beat at most."""

    bits: int
    i: Framing
    o: Framing

    @property
    def beats(self) -> int:
        """Cycles per vector the ports need: a floor on the initiation interval."""
        return max(self.i.beats, self.o.beats)

    @property
    def latency(self) -> int:
        """Cycles added from a vector's first input beat to its result's first output beat: the other B_in − 1
        input beats, the deserialiser's shift and output registers, the serialiser's register (and its holding
        register first when the output has several beats)."""
        return self.i.beats + 2 + (self.o.beats > 1)


def ports(bits: int | None, n_in: int, t_in: Fixed, n_out: int, t_out: Fixed) -> Ports | None:
    """The framing for `--port-width bits` (None: one whole vector per beat, no serdes)."""
    if bits is None:
        return None
    if not isinstance(bits, int) or isinstance(bits, bool) or bits < 1:
        raise VhlsError(f"--port-width must be a positive number of bits, got {bits!r}")
    for side, t in (("input", t_in), ("output", t_out)):
        if bits < t.width:
            raise VhlsError(f"--port-width {bits} is narrower than one {side} element ({t}, {t.width} bits)")
    return Ports(bits, Framing(n_in, t_in.width, min(n_in, bits // t_in.width)),
                 Framing(n_out, t_out.width, min(n_out, bits // t_out.width)))
