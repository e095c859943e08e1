"""A sum of single bits with constant weights (a bit heap) as a carry-save (Wallace) tree and one carry chain.

Full adders (two 3-input LUTs) reduce every column to at most two bits, then one carry chain adds the two
rows. Chained `+` would spend a carry chain on every operand (and on every 1-bit + 1-bit add of a popcount).
"""

from amaranth import Cat, Const, Module, Signal, Value


def signed_operand(v: Value) -> tuple[list[tuple[Value, int]], int]:
    """A signed value as heap bits plus a constant: the sign bit's -2^(w-1) b becomes 2^(w-1) ~b - 2^(w-1)."""
    w = len(v)
    return [(v[k], 1 << k) for k in range(w - 1)] + [(~v[w - 1], 1 << (w - 1))], -(1 << (w - 1))


def heap_sum(m: Module, bits: list[tuple[Value, int]], const: int, width: int, name: str) -> Value:
    """(const + sum of bit * weight) mod 2^width, weights > 0; the caller sizes `width` for the range.
    Each level's adder outputs go through one Signal: sum and carry both read a, b, c, and an expression
    tree that shares subterms is expanded per use when it is lowered (exponential in depth)."""
    cols: list[list[Value]] = [[] for _ in range(width)]
    for bit, w in [*bits, *((Const(1, 1), 1 << k) for k in range(width) if (const >> k) & 1)]:
        for k in range(width):
            if (w >> k) & 1:
                cols[k].append(bit)
    level = 0
    while any(len(c) > 2 for c in cols):
        outs: list[Value] = []
        places: list[int] = []  # column of each output bit
        nxt: list[list[Value]] = [[] for _ in range(width)]
        for k, col in enumerate(cols):
            while len(col) >= 3:
                a, b, c = col.pop(), col.pop(), col.pop()
                outs.append(a ^ b ^ c)
                places.append(k)
                if k + 1 < width:
                    outs.append((a & b) | (a & c) | (b & c))
                    places.append(k + 1)
            nxt[k] += col
        sig = Signal(len(outs), name=f"{name}_l{level}")
        m.d.comb += sig.eq(Cat(*outs))
        for b, k in enumerate(places):
            nxt[k].append(sig[b])
        cols, level = nxt, level + 1
    rows = [Cat(*(c[r] if len(c) > r else Const(0, 1) for c in cols)) for r in range(2)]
    return (rows[0] + rows[1])[:width]
