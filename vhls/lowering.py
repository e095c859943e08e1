"""IR term builders for layer lowering (used by `vhls.layers`): core primitives only.

Every builder takes a flag `exact`: True builds the fixed-point golden program (with casts), False the float
reference program (f32, no casts) of the same structure. Lambda parameter names are fixed, so the printed IR of a
model is a function of the model alone.
"""

from collections.abc import Sequence

from vhls.ir.terms import Lam, Let, Param, Prim, Term, Var
from vhls.precision import Quant


def var(name: str) -> Var:
    return Var(name)


def fn(params: str | Sequence[str], body: Term) -> Lam:
    names = (params,) if isinstance(params, str) else tuple(params)
    return Lam(tuple(Param(p) for p in names), body)


def prim(op: str, *args: Term, static: tuple = ()) -> Prim:
    return Prim(op, tuple(static), tuple(args))


def vmap(f: Lam, xs: Term) -> Prim:
    return prim("map", f, xs)


def get(i: int, t: Term) -> Prim:
    return prim("get", t, static=(i,))


def cast(t: Term, q: Quant | None) -> Term:
    """`cast<T, Q, O>(t)`; no cast at all when `q` is None (float programs)."""
    return t if q is None else prim("cast", t, static=(q.type, q.q, q.o))


def lets(bindings: Sequence[tuple[str, Term]], body: Term) -> Term:
    for name, value in reversed(bindings):
        body = Let(name, value, body)
    return body


def dot(ws: Term, xs: Term, init: Term, acc: Quant | None) -> Prim:
    """`reduce(fun (acc, q) => cast<ACC>(add(acc, mul(get<0>(q), get<1>(q)))), init, zip(ws, xs))`.

    This exact shape is the interpreter's fast dot-product path and the pattern hardware backends match.
    """
    step = cast(prim("add", var("acc"), prim("mul", get(0, var("q")), get(1, var("q")))), acc)
    return prim("reduce", fn(("acc", "q"), step), init, prim("zip", ws, xs))


def dense(w: Term, b: Term, x: Term, acc: Quant | None, result: Quant | None) -> Prim:
    """One output per row of zip(W, b): cast<RESULT>(dot(row, x, init = cast<ACC>(bias)))."""
    row = dot(get(0, var("wb")), x, cast(get(1, var("wb")), acc), acc)
    return vmap(fn("wb", cast(row, result)), prim("zip", w, b))


def pad2d(x: Term, ph: int, pw: int) -> Term:
    """[C][H][W] -> [C][H+2ph][W+2pw], zeros around each channel."""
    if ph == 0 and pw == 0:
        return x
    inner = var("c") if pw == 0 else vmap(fn("r", prim("pad", var("r"), static=(pw, pw))), var("c"))
    outer = inner if ph == 0 else prim("pad", inner, static=(ph, ph))
    return vmap(fn("c", outer), x)


def _row_windows(rw: Term, kw: int, sw: int) -> Prim:
    """[kh][W] (kh consecutive rows) -> [Wo][kh][kw]: slide each row, then bring the window position outward."""
    return prim("transpose", vmap(fn("r", prim("slide", var("r"), static=(kw, sw))), rw))


def map_windows2d(x: Term, kh: int, kw: int, sh: int, sw: int, body: Lam) -> Prim:
    """[C][H][W] -> [C][Ho][Wo] applying `body` to each window flattened row-major to [kh*kw] (pooling)."""
    per_row = fn("rw", vmap(fn("k", prim("join", var("k"))), _row_windows(var("rw"), kw, sw)))
    windows = vmap(per_row, prim("slide", var("c"), static=(kh, sh)))  # [Ho][Wo][kh*kw]
    return vmap(fn("c", vmap(fn("row", vmap(body, var("row"))), windows)), x)


def patches2d(x: Term, kh: int, kw: int, sh: int, sw: int) -> Prim:
    """[C][H][W] -> [Ho][Wo][C*kh*kw]: every receptive field flattened in (c, i, j) order, as torch's weight is."""
    win = vmap(fn("c", vmap(fn("rw", _row_windows(var("rw"), kw, sw)), prim("slide", var("c"), static=(kh, sh)))),
               x)  # [C][Ho][Wo][kh][kw]
    flat = fn("row", vmap(fn("k", prim("join", prim("join", var("k")))), prim("transpose", var("row"))))
    return vmap(flat, prim("transpose", win))  # transpose: [Ho][C][Wo]..., then per row: [Wo][C][kh][kw]


def conv2d(w: Term, b: Term, patches: Term, acc: Quant | None, result: Quant | None) -> Prim:
    """[O][Ho][Wo]: for each filter (row of zip(W, b)) the dot product with every patch."""
    one = cast(dot(get(0, var("wb")), var("pt"), cast(get(1, var("wb")), acc), acc), result)
    return vmap(fn("wb", vmap(fn("row", vmap(fn("pt", one), var("row"))), patches)), prim("zip", w, b))


def flatten(x: Term, rank: int) -> Term:
    """Row-major flattening of a rank-`rank` array (join rank-1 times)."""
    for _ in range(rank - 1):
        x = prim("join", x)
    return x


def elementwise(x: Term, rank: int, f: Lam) -> Term:
    """Map the scalar function `f` over every element of a rank-`rank` array (nested maps over e1, e2, ...)."""
    body = f
    for depth in range(rank - 1):
        name = f"e{depth + 1}"
        body = fn(name, vmap(body, var(name)))
    return vmap(body, x)
