"""Read-only storage for weights and biases: `amaranth.lib.memory.Memory` with init, one synchronous read port.

A synchronous read is what yosys maps to block RAM. A ROM deeper than one LUT4 can decode (BLOCK_MIN_WORDS) asks for
block RAM (`rom_style = "block"`) even when it is shallow and wide, as weight ROMs of parallel stages are: in
logic, every address bit would fan out to thousands of LUTs and a multi-level decode (about 8 ns on ECP5 for
32 words × 1024 bits), while a block RAM's registered output is a clean cycle. Smaller ROMs are left to yosys. A
ROM of one word is a constant: then the data is wired in directly, so the synthesiser can fold constant
multiplications.
"""

from collections.abc import Sequence

from amaranth.hdl import Cat, Const, Module, Signal
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
    BLOCK_WIDTH = 36  # widest block-RAM port (ECP5 DP16KD, 512 x 36)

    def __init__(self, width: int, words: Sequence[int], element: int | None = None) -> None:
        """`element`: the word is a row of elements of this many bits, each feeding its own multiplier; a block-RAM
        ROM is then split into memories of whole elements (as many as fit in BLOCK_WIDTH), so no element straddles
        two block RAMs."""
        if not words:
            raise ValueError("a ROM needs at least one word")
        if element is not None and (element <= 0 or width % element):
            raise ValueError(f"element width {element} must divide the word width {width}")
        self.width, self.words, self.element = width, [int(w) for w in words], element
        super().__init__({
            "addr": In(max(1, ceil_log2(len(self.words)))),
            "data": Out(width),
        })

    @classmethod
    def memory_widths(cls, width: int, depth: int, element: int | None = None) -> list[int]:
        """Widths of the memories a ROM of `depth` words is built from. yosys cuts a wide memory into BLOCK_WIDTH-bit
        block RAMs in bit order: 16-bit weights would straddle block RAMs, each multiplier reading two of them and
        a stage's whole ROM becoming one chain of block RAMs and multipliers for the placer (jet@156: nextpnr's
        router1 did not converge in 50 min). Memories of whole elements keep each block RAM with its own
        multipliers."""
        if depth < cls.BLOCK_MIN_WORDS or element is None or element > cls.BLOCK_WIDTH:
            return [width]
        lane = cls.BLOCK_WIDTH // element * element
        return [min(lane, width - lo) for lo in range(0, width, lane)]

    def elaborate(self, platform: object) -> Module:
        m = Module()
        if len(self.words) == 1:
            m.d.comb += self.data.eq(Const(self.words[0], self.width))
            return m
        block = len(self.words) >= self.BLOCK_MIN_WORDS
        data = []
        lo = 0
        for k, w in enumerate(widths := self.memory_widths(self.width, len(self.words), self.element)):
            mask = (1 << w) - 1
            mem = Memory(shape=w, depth=len(self.words), init=[(x >> lo) & mask for x in self.words],
                         attrs={"rom_style": "block"} if block else None)
            m.submodules[f"mem{k}" if len(widths) > 1 else "mem"] = mem
            lo += w
            rd = mem.read_port()
            out = Signal(w, name=f"out{k}", reset_less=True)
            route = Signal(w, name=f"route{k}", reset_less=True)
            m.d.comb += rd.addr.eq(self.addr)
            m.d.sync += [out.eq(rd.data), route.eq(out)]
            data.append(route)
        m.d.comb += self.data.eq(Cat(*data))
        return m


def pack(values: Sequence[int], width: int) -> int:
    """Pack raw (possibly negative) integers into one word, element i at bits [i·width, (i+1)·width)."""
    word, mask = 0, (1 << width) - 1
    for i, v in enumerate(values):
        word |= (int(v) & mask) << (i * width)
    return word
