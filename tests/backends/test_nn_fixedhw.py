"""The requantise/activation unit against vhls.ir.numerics, exhaustively over small input types (Amaranth sim)."""

import itertools

import numpy as np
import pytest
from amaranth.sim import Simulator

from vhls.backends.nn.recognise import PostOp
from vhls.backends.nn.requant import Requant
from vhls.ir import numerics as fx
from vhls.ir.types import Fixed, fixed, ufixed


def _expected(raw: np.ndarray, src: Fixed, ops: list[PostOp]) -> np.ndarray:
    v, t = raw, src
    for op in ops:
        if op.kind == "cast":
            v = fx.convert(v, t, op.type, op.q, op.o)
        else:
            assert op.const_type is not None
            common = fx.common_type(t, op.const_type)
            a = fx.align(v, t, common.frac)
            b = fx.align(np.int64(op.const), op.const_type, common.frac)
            v = np.maximum(a, b) if op.kind == "max" else np.minimum(a, b)
        t = op.type
    return v


def _simulate(src: Fixed, ops: list[PostOp], lanes: int = 4) -> None:
    """Every raw value of `src` through the unit (4 per cycle); compares each output with the golden rules."""
    dut = Requant(lanes, src, ops)
    out_t = dut.out_type
    values = np.arange(src.min_raw, src.max_raw + 1, dtype=np.int64)
    values = np.concatenate([values, np.zeros((-len(values)) % lanes, dtype=np.int64)])
    want = _expected(values, src, ops)
    got: list[int] = []

    async def bench(ctx) -> None:
        mask_in, mask_out = (1 << src.width) - 1, (1 << out_t.width) - 1
        for k in range(0, len(values), lanes):
            word = sum((int(v) & mask_in) << (i * src.width) for i, v in enumerate(values[k:k + lanes]))
            ctx.set(dut.i_data, word)
            ctx.set(dut.i_valid, 1)
            await ctx.tick()
            data = ctx.get(dut.o_data)
            for i in range(lanes):
                r = (data >> (i * out_t.width)) & mask_out
                got.append(r - (1 << out_t.width) if out_t.signed and r >> (out_t.width - 1) else r)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    bad = [(int(v), g, int(w)) for v, g, w in zip(values, got, want, strict=True) if g != w]
    assert not bad, f"{src} -> {[op.describe() for op in ops]}: {len(bad)} wrong, e.g. (in, got, want) {bad[:5]}"


CASTS = [
    # (source, destination): narrowing fraction and integer bits, widening, unsigned both ways, negative I
    (fixed(9, 4), fixed(6, 3)),
    (fixed(9, 4), fixed(5, 5)),
    (fixed(8, 2), fixed(12, 4)),
    (ufixed(8, 3), fixed(5, 2)),
    (fixed(8, 3), ufixed(5, 3)),
    (fixed(8, -1), fixed(4, -2)),
    (fixed(7, 9), fixed(6, 8)),
]


@pytest.mark.parametrize(("src", "dst"), CASTS, ids=[f"{s}->{d}" for s, d in CASTS])
def test_cast_all_modes_exhaustive(src: Fixed, dst: Fixed) -> None:
    for q, o in itertools.product(fx.Q_MODES, fx.O_MODES):
        _simulate(src, [PostOp("cast", dst, q, o)])


def test_cast_then_relu_and_clamp() -> None:
    src, mid = fixed(10, 5), fixed(7, 3)
    ops = [PostOp("cast", mid, "RND", "SAT"),
           PostOp("max", fx.common_type(mid, mid), const=0, const_type=mid),
           PostOp("min", fx.common_type(mid, fixed(4, 2)), const=3, const_type=fixed(4, 2))]
    _simulate(src, ops)


def test_max_with_constant_of_other_resolution() -> None:
    src, c_t = fixed(8, 4), fixed(6, 1)  # the constant has more fraction bits: the result type widens
    _simulate(src, [PostOp("max", fx.common_type(src, c_t), const=-7, const_type=c_t)])
