"""The weight/bias ROM (Amaranth sim): word `addr` appears on `data` exactly ROM.LATENCY cycles later, for block-RAM
ROMs (one memory, or split into memories of whole elements) and logic ROMs, and a one-word ROM is a constant."""

import pytest
from amaranth.hdl import Fragment
from amaranth.sim import Simulator

from vhls.backends.nn.rom import ROM


@pytest.mark.parametrize(("depth", "width", "element"), [(5, 16, None), (ROM.BLOCK_MIN_WORDS + 3, 16, None),
                                                        (ROM.BLOCK_MIN_WORDS + 3, 48, 16), (5, 48, 16)])
def test_word_appears_latency_cycles_after_its_address(depth: int, width: int, element: int | None) -> None:
    # 48 bits of 16-bit elements: a block-RAM ROM is split into a 32-bit and a 16-bit memory
    words = [(0x9E3779B97F4A7C15 * (i + 1)) & ((1 << width) - 1) for i in range(depth)]
    dut = ROM(width, words, element)
    addrs = [(7 * k + 3) % depth for k in range(40)]
    seen: list[int] = []

    async def bench(ctx) -> None:
        for a in addrs + [0] * ROM.LATENCY:
            ctx.set(dut.addr, a)
            await ctx.tick()
            seen.append(ctx.get(dut.data))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    # seen[k] follows tick k + 1: the word presented before tick k - LATENCY + 2 (the words are distinct and the
    # first address is not 0, where the registers start, so a word showing up a cycle early fails)
    assert words[addrs[0]] not in seen[:ROM.LATENCY - 1]
    assert seen[ROM.LATENCY - 1:ROM.LATENCY - 1 + len(addrs)] == [words[a] for a in addrs]


def test_one_word_is_a_constant() -> None:
    dut = ROM(8, [0xA5])
    seen: list[int] = []

    async def bench(ctx) -> None:
        seen.append(ctx.get(dut.data))

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    assert seen == [0xA5]


def test_block_rom_is_split_into_whole_elements() -> None:
    dut = ROM(80, list(range(ROM.BLOCK_MIN_WORDS)), 16)  # five 16-bit elements: 32 + 32 + 16 bits
    frag = Fragment.get(dut, None)
    assert [sub._data.shape for sub, _, _ in frag.subfragments] == [32, 32, 16]
