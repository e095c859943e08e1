"""Read-only storage for weights and biases: `amaranth.lib.memory.Memory` with init, one synchronous read port.

A synchronous read is what yosys maps to block RAM. A ROM deeper than one LUT4 can decode (BLOCK_MIN_WORDS) asks for
block RAM (`rom_style = "block"`) even when it is shallow and wide, as weight ROMs of parallel stages are: in
logic, every address bit would fan out to thousands of LUTs and a multi-level decode (about 8 ns on ECP5 for
32 words × 1024 bits), while a block RAM's registered output is a clean cycle. Smaller ROMs are left to yosys. A
ROM of one word is a constant: then the data is wired in directly, so the synthesiser can fold constant
multiplications.
"""

from collections.abc import Sequence

from amaranth.hdl import Const, Module, Signal
from amaranth.lib import wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2


class ROM(wiring.Component):
    """`data` shows word `addr` LATENCY = 3 cycles after `addr` is presented: the RAM's synchronous read, an output
    register (the block RAM's own, on ECP5: its slow clock-to-out never shares a cycle with anything), then a
    route register in the fabric. A wide stage's weight ROM spans many block RAMs and feeds multipliers across the
    die; without the route register one block-RAM-to-DSP route filled a whole cycle (jet@156 on ECP5-85k: 4.8 ns,
    60 columns, the critical path at 171 MHz)."""

    LATENCY = 3
    BLOCK_MIN_WORDS = 17

    def __init__(self, width: int, words: Sequence[int]) -> None:
        if not words:
            raise ValueError("a ROM needs at least one word")
        self.width, self.words = width, [int(w) for w in words]
        super().__init__({
            "addr": In(max(1, ceil_log2(len(self.words)))),
            "data": Out(width),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        if len(self.words) == 1:
            m.d.comb += self.data.eq(Const(self.words[0], self.width))
            return m
        block = {"rom_style": "block"} if len(self.words) >= self.BLOCK_MIN_WORDS else None
        m.submodules.mem = mem = Memory(shape=self.width, depth=len(self.words), init=self.words, attrs=block)
        rd = mem.read_port()
        out = Signal(self.width, reset_less=True)
        route = Signal(self.width, reset_less=True)
        m.d.comb += [rd.addr.eq(self.addr), self.data.eq(route)]
        m.d.sync += [out.eq(rd.data), route.eq(out)]
        return m


def pack(values: Sequence[int], width: int) -> int:
    """Pack raw (possibly negative) integers into one word, element i at bits [i·width, (i+1)·width)."""
    word, mask = 0, (1 << width) - 1
    for i, v in enumerate(values):
        word |= (int(v) & mask) << (i * width)
    return word
