"""Small dense networks built directly from IR terms (no DSL), shared by the nn backend and simulation tests."""

import itertools

import numpy as np

from vhls.ir import numerics as fx
from vhls.ir.terms import Const, Lam, Let, Param, Prim, Program, Term, Var, const
from vhls.ir.types import Array, Fixed, fixed


def _p(op: str, *args: Term, static: tuple = ()) -> Prim:
    return Prim(op, static, args)


def _cast(t: Term, ty: Fixed, q: str = "TRN", o: str = "WRAP") -> Prim:
    return _p("cast", t, static=(ty, q, o))


def dense(w: Term, b: Term, x: Term, acc: Fixed, out: Fixed, q: str = "TRN", o: str = "WRAP",
          relu: bool = False, acc_q: str = "TRN", swap: bool = False, acc_o: str = "WRAP") -> Prim:
    """The DSL's dense lowering; `relu` fuses max(., 0) inside the map, `swap` mirrors operand orders."""
    prod = _p("mul", _p("get", Var("q"), static=(1 if swap else 0,)), _p("get", Var("q"), static=(0 if swap else 1,)))
    step = _cast(_p("add", prod, Var("acc")) if swap else _p("add", Var("acc"), prod), acc, acc_q, acc_o)
    pairs = _p("zip", x, _p("get", Var("wb"), static=(0,))) if swap else _p("zip", _p("get", Var("wb"), static=(0,)), x)
    red = _p("reduce", Lam((Param("acc"), Param("q")), step), _cast(_p("get", Var("wb"), static=(1,)), acc), pairs)
    body: Term = _cast(red, out, q, o)
    if relu:
        body = _p("max", body, Const(out, (0,)))
    return _p("map", Lam((Param("wb"),), body), _p("zip", w, b))


def relu(x: Term, t: Fixed) -> Prim:
    return _p("map", Lam((Param("v"),), _p("max", Var("v"), Const(t, (0,)))), x)


def rand_const(rng: np.random.Generator, t: Fixed, *shape: int) -> Const:
    ty: Fixed | Array = t
    for n in reversed(shape):
        ty = Array(n, ty)
    return const(rng.integers(t.min_raw, t.max_raw, size=shape, endpoint=True), ty)


def two_layer(seed: int = 0, n_in: int = 8, hidden: int = 6, n_out: int = 4) -> Program:
    """8 -> 6 (separate ReLU, let-bound) -> 4 (RND, SAT result): narrow types so wrap and saturation happen."""
    rng = np.random.default_rng(seed)
    xt, wt = fixed(8, 3), fixed(6, 2)
    acc1, h_t = fixed(14, 6), fixed(8, 4)  # the accumulator can wrap: 8 products of 14 bits
    acc2, out_t = fixed(20, 9), fixed(6, 3)
    w1, b1 = rand_const(rng, wt, hidden, n_in), rand_const(rng, wt, hidden)
    w2, b2 = rand_const(rng, wt, n_out, hidden), rand_const(rng, fixed(10, 5), n_out)
    body = Let("w1", w1, Let("h", dense(Var("w1"), b1, Var("x"), acc1, h_t),
               Let("r", relu(Var("h"), h_t),
                   dense(w2, b2, Var("r"), acc2, out_t, "RND", "SAT", swap=True))))
    return Program("two_layer", (Param("x", Array(n_in, xt)),), body)


def narrow_acc(seed: int = 1) -> Program:
    """Products with more fraction bits than the accumulator (quantised per step, RND), fused ReLU, ufixed input."""
    rng = np.random.default_rng(seed)
    xt, wt = Fixed(6, 2, False), fixed(7, 1)
    acc, out = fixed(12, 7), fixed(8, 5)
    assert fx.mul_type(wt, xt).frac > acc.frac
    w, b = rand_const(rng, wt, 6, 4), rand_const(rng, fixed(9, 6), 6)
    w2, b2 = rand_const(rng, wt, 3, 6), rand_const(rng, fixed(9, 6), 3)
    h = dense(w, b, Var("x"), acc, out, "RND", "SAT", relu=True, acc_q="RND")
    body = dense(w2, b2, h, fixed(16, 8), fixed(8, 4), acc_q="TRN")
    return Program("narrow_acc", (Param("x", Array(4, xt)),), body)


def kernel_style_model():
    """`vhls.kernel` style: no bias (a constant initial accumulator), weights given as transpose(W)."""
    from vhls.kernel import array, const, dot, kernel, transpose, vmap

    w = const(np.random.default_rng(7).uniform(-2, 2, size=(8, 4)), fixed(8, 3))
    return kernel(lambda x: vmap(lambda col: dot(x, col, acc=fixed(24, 10)).cast(fixed(10, 4), "RND", "SAT"),
                                 transpose(w)),
                  x=array(fixed(8, 3), 8), name="vecmat")



def random_net(seed: int) -> tuple[Program, list[tuple[int, int]]]:
    """A random 1-3 layer chain: random sizes, signedness, binary points (also negative), modes and fused or
    separate ReLU; plus a random valid (PE, SIMD) per layer. For fuzzing the backend against the golden model."""
    rng = np.random.default_rng(seed)

    def rtype(lo: int, hi: int, signed: bool | None = None) -> Fixed:
        w = int(rng.integers(lo, hi + 1))
        s = bool(rng.integers(2)) if signed is None else signed
        return Fixed(w, int(rng.integers(-2, w + 3)), s)

    sizes = [int(rng.integers(1, 9)) for _ in range(int(rng.integers(2, 5)))]
    xt = rtype(3, 10)
    x: Term = Var("x")
    cur_t = xt
    pairs = []
    for n_in, n_out in itertools.pairwise(sizes):
        wt, bt = rtype(2, 9), rtype(2, 12)
        acc = Fixed(int(rng.integers(8, 30)), 0, True)
        f = cur_t.frac + wt.frac  # the product's fraction bits: the accumulator gets a few more or fewer
        lo = max(0, f - 6)
        acc = Fixed(acc.width, acc.width - int(rng.integers(lo, max(lo + 1, f + 4))), True)
        out = rtype(3, 10)
        q, o = str(rng.choice(["TRN", "RND"])), str(rng.choice(["WRAP", "SAT"]))
        layer = dense(rand_const(rng, wt, n_out, n_in), rand_const(rng, bt, n_out), x, acc, out, q, o,
                      relu=bool(rng.integers(2)), acc_q=str(rng.choice(["TRN", "RND"])), swap=bool(rng.integers(2)))
        if rng.integers(2):
            layer = relu(layer, out)
        x, cur_t = layer, out
        divs_out = [d for d in range(1, n_out + 1) if n_out % d == 0]
        divs_in = [d for d in range(1, n_in + 1) if n_in % d == 0]
        pairs.append((int(rng.choice(divs_out)), int(rng.choice(divs_in))))
    return Program(f"fuzz{seed}", (Param("x", Array(sizes[0], xt)),), x), pairs
