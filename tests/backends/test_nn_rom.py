"""The weight/bias ROM (Amaranth sim): word `addr` appears on `data` exactly ROM.LATENCY cycles later, for block-RAM
and logic ROMs, and a one-word ROM is a constant."""

import pytest
from amaranth.sim import Simulator

from vhls.backends.nn.rom import ROM


@pytest.mark.parametrize("depth", [5, ROM.BLOCK_MIN_WORDS + 3])
def test_word_appears_latency_cycles_after_its_address(depth: int) -> None:
    words = [(0x9E37 * (i + 1)) & 0xFFFF for i in range(depth)]
    dut = ROM(16, words)
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
