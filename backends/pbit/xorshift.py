"""xorshift32 (13, 17, 5) as combinational logic; the golden twin is vhls.anneal.rng.step."""

from amaranth import Value


def xorshift32(x: Value) -> Value:
    x = x ^ (x << 13)[:32]
    x = x ^ (x >> 17)
    return (x ^ (x << 5)[:32])[:32]
