"""Recognise the stages of a network in a checked IR program: dense, conv and pool layers with their fused
ReLU/casts, and the flatten/padding/window rearrangements between them.

The accepted shapes are those `vhls.lowering` builds (the DSL and torch import), with the variations that keep
their meaning exact:

    dense   map(fun p => POST(reduce(fun (acc, q) => cast<ACC, Q, WRAP>(add(acc, mul(get<i>(q), get<j>(q)))),
                                     INIT, zip(ROW, x))),
                zip(W, B))                  -- or map over W alone (then ROW = p, INIT a constant)
    conv    map(fun wb => map(fun row => map(fun pt => <a dense body over pt>, row), P), zip(W, B))
            with P a view [Ho][Wo][C*kh*kw] of a [C][H][W] stream: im2col patches, (c, i, j) order
    pool    map(fun c => map(fun row => map(fun k => BODY, row), WIN), h)   -- per channel c of h
            with WIN a view [Ho][Wo][kh*kw] of c and BODY scalar ops (add/sub/mul/max/min/shr/shl/neg/cast with
            constants) around exactly one reduce over k (max pool, avg pool as vhls.lowering writes them)

    POST  := cast<T, Q, O>(POST) | max(POST, c) | min(POST, c) | <the reduce>    (c a constant scalar)
    INIT  := cast<ACC, Q, O>(get<1>(p)) | get<1>(p) | a constant scalar
    W, B  := const | a let-bound const | transpose(W)

A *view* is a pure rearrangement of one stream (map/join/split/transpose/slide/pad: flatten, padding, patches,
pool windows). It is not a stage: its consumer reads it. Views are recognised semantically: the view is run by
the interpreter on element indices, and the result must be exactly the index map of the window geometry (or, for
a dense input, a permutation of the stream) -- so no rearrangement can be mis-lowered silently.

Streams between stages: a [C][H][W] value produced by a conv or pool travels pixel by pixel (all C channels of one
pixel per beat, raster order: HWC); conv windows are fed to the MAC array in (i, j, c) order, so conv weights and
the weights of a dense layer reading a flattened feature map are permuted into stream order here (exact: the
accumulation wraps, so its order does not matter). An elementwise `map(fun v => POST(v), h)` (a separate ReLU, any
rank) is fused into the stage producing `h`. The dataflow must be a straight line (every intermediate used once).
Anything else raises VhlsError naming the term: a backend must never mis-lower silently.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from vhls.ir import numerics as fx
from vhls.ir.check import Typing, check
from vhls.ir.errors import IRError, VhlsError
from vhls.ir.interp import evaluate
from vhls.ir.printer import short
from vhls.ir.terms import Const, Lam, Let, Param, Prim, Program, Term, Var, free_vars, walk
from vhls.ir.types import Array, Fixed, Type

LOWERED = frozenset({"mapPar", "mapSeq", "reduceSeq", "reduceTree", "buffer", "fifo"})
VIEW_OPS = frozenset({"map", "join", "split", "transpose", "slide", "pad"})  # pure rearrangements
SCALAR_OPS = frozenset({"add", "sub", "mul", "max", "min", "shr", "shl", "neg", "cast"})  # what pool.py lowers
_INDEX = Fixed(32, 32)  # element indices, for running views on the interpreter


@dataclass(frozen=True)
class PostOp:
    """One scalar step after accumulation: `cast` to `type` with q/o, or `max`/`min` with a raw constant."""

    kind: str  # "cast" | "max" | "min"
    type: Fixed  # the result type of this step
    q: str = "TRN"
    o: str = "WRAP"
    const: int = 0  # raw value of the constant operand (max/min)
    const_type: Fixed | None = None

    def describe(self) -> str:
        if self.kind == "cast":
            return f"cast<{self.type},{self.q},{self.o}>"
        assert self.const_type is not None
        return f"{self.kind}({fx.raw_to_text(self.const, self.const_type)})"


@dataclass(frozen=True)
class Window:
    """A kh x kw window sliding with stride (sh, sw) over a C x H x W feature map zero-padded by (ph, pw)."""

    channels: int
    height: int
    width: int
    kh: int
    kw: int
    sh: int
    sw: int
    ph: int
    pw: int

    @property
    def out_h(self) -> int:
        return (self.height + 2 * self.ph - self.kh) // self.sh + 1

    @property
    def out_w(self) -> int:
        return (self.width + 2 * self.pw - self.kw) // self.sw + 1

    @property
    def positions(self) -> int:
        return self.out_h * self.out_w

    @property
    def size(self) -> int:
        """Elements of one window vector."""
        return self.kh * self.kw * self.channels

    @property
    def pixels(self) -> int:
        return self.height * self.width

    def sources(self) -> np.ndarray:
        """[positions][kh*kw]: the input pixel (y*W + x) under each window tap, -1 for a padding zero."""
        out = np.full((self.out_h, self.out_w, self.kh, self.kw), -1, dtype=np.int64)
        for oy in range(self.out_h):
            for ox in range(self.out_w):
                for i in range(self.kh):
                    for j in range(self.kw):
                        y, x = oy * self.sh + i - self.ph, ox * self.sw + j - self.pw
                        if 0 <= y < self.height and 0 <= x < self.width:
                            out[oy, ox, i, j] = y * self.width + x
        return out.reshape(self.positions, self.kh * self.kw)

    def line_buffered(self, pixels_per_beat: int) -> bool:
        """The one rule choosing the window unit: a pixel per beat streams through line buffers (linebuf.py); a
        frame per beat (the first stage) lands in frame banks (window.py), as does padding as wide as the kernel."""
        return pixels_per_beat == 1 and self.ph < self.kh and self.pw < self.kw

    @property
    def grid(self) -> tuple[int, int]:
        """Rows and columns of steps of a line-buffer unit: the frame plus the bottom/right padding reached."""
        return (max(self.height, (self.out_h - 1) * self.sh + self.kh - self.ph),
                max(self.width, (self.out_w - 1) * self.sw + self.kw - self.pw))

    @property
    def emit_rows(self) -> list[int]:
        """Step rows (input row of the bottom taps) that complete a window."""
        return [oy * self.sh + self.kh - 1 - self.ph for oy in range(self.out_h)]

    @property
    def emit_cols(self) -> list[int]:
        return [ox * self.sw + self.kw - 1 - self.pw for ox in range(self.out_w)]

    def cycles(self, pixels_per_beat: int) -> int:
        """Cycles per image of the window unit: a step per cycle (line buffers), or beats written and windows read
        overlapping (two frame banks)."""
        if self.line_buffered(pixels_per_beat):
            return self.grid[0] * self.grid[1]
        return max(self.pixels // pixels_per_beat, self.positions)

    def describe(self) -> str:
        return (f"{self.kh}x{self.kw}/{self.sh}x{self.sw} pad {self.ph}x{self.pw} over "
                f"{self.channels}x{self.height}x{self.width}")


@dataclass(eq=False)
class DenseLayer:
    """y[m] = POST(bias[m] + Σ_n w[m][n]·x[n]) with every step exactly as the IR says.

    A conv layer is a DenseLayer with a `window`: the same sum for each of `window.positions` window vectors per
    image. `weights` columns are in stream order (conv: (i, j, c) window order)."""

    index: int
    n_in: int
    n_out: int
    in_type: Fixed  # element type of x
    w_type: Fixed
    weights: np.ndarray  # raw integers, shape (n_out, n_in)
    acc_type: Fixed
    bias: np.ndarray  # raw integers in acc_type, shape (n_out,)
    prod_q: str  # quantisation of each product when it has more fraction bits than the accumulator
    post: list[PostOp] = field(default_factory=list)
    where: str = ""
    window: Window | None = None  # conv: the sliding window feeding it
    src: int | None = None  # index in Network.units of the producer; None: the network input
    per_row: bool = False  # a dense layer mapped over the rows of a matrix (window: 1x1 over rows x 1 "pixels")

    @property
    def prod_type(self) -> Fixed:
        return fx.mul_type(self.w_type, self.in_type)

    @property
    def out_type(self) -> Fixed:
        return self.post[-1].type if self.post else self.acc_type

    @property
    def vectors(self) -> int:
        """Input vectors per inference."""
        return self.window.positions if self.window else 1

    @property
    def macs(self) -> int:
        return self.n_in * self.n_out * self.vectors

    @property
    def out_elems(self) -> int:
        return self.n_out * self.vectors

    @property
    def kind(self) -> str:
        return "conv" if self.window and not self.per_row else "dense"

    @property
    def feed_cycles(self) -> int:
        """Cycles per image of the window unit in front (0 for a dense layer)."""
        return _feed_cycles(self.window, self.src)

    @property
    def name(self) -> str:
        return f"{self.kind}{self.index}"


@dataclass(eq=False)
class PoolLayer:
    """Per channel and window position: `body` (scalar ops around one reduce over the window `k`, in (i, j) order)
    then `post`; evaluated exactly as the IR says by pool.py."""

    index: int
    window: Window
    in_type: Fixed
    body: Term
    k: str  # the window parameter of the body
    typing: Typing
    body_type: Fixed
    op: str  # "max", "avg" or "reduce": for names and reports
    post: list[PostOp] = field(default_factory=list)
    where: str = ""
    src: int | None = None

    @property
    def out_type(self) -> Fixed:
        return self.post[-1].type if self.post else self.body_type

    @property
    def out_elems(self) -> int:
        return self.window.channels * self.window.positions

    @property
    def kind(self) -> str:
        return f"{self.op}pool"

    @property
    def feed_cycles(self) -> int:
        return _feed_cycles(self.window, self.src)

    @property
    def name(self) -> str:
        return f"{self.kind}{self.index}"


Unit = DenseLayer | PoolLayer


def _feed_cycles(win: Window | None, src: int | None) -> int:
    """The first stage gets the whole input frame in one beat (frame banks: its fastest unit; the planner may pick a
    PISO and a line buffer instead, schedule.serial_first); later ones one pixel per beat."""
    if win is None:
        return 0
    return win.cycles(win.pixels if src is None else 1)


def pixels_per_beat(unit: Unit) -> int:
    assert unit.window is not None
    return unit.window.pixels if unit.src is None else 1


@dataclass(frozen=True)
class Network:
    """A straight chain of stages: what the nn backend builds. `layers` are the MAC stages (dense and conv, one
    (PE, SIMD) pair each); `units` every stage in order."""

    name: str
    in_type: Fixed  # element type of the input
    n_in: int
    layers: tuple[DenseLayer, ...]
    units: tuple[Unit, ...] = ()
    in_shape: tuple[int, ...] = ()
    out_order: tuple[int, ...] | None = None  # out_order[i]: stream position of IR output element i (None: same)
    in_order: tuple[int, ...] | None = None  # in_order[s]: IR input element at stream position s (None: same)

    @property
    def out_type(self) -> Fixed:
        return self.chain[-1].out_type

    @property
    def n_out(self) -> int:
        return self.chain[-1].out_elems

    @property
    def chain(self) -> tuple[Unit, ...]:
        return self.units or self.layers

    @property
    def pools(self) -> tuple[PoolLayer, ...]:
        return tuple(u for u in self.chain if isinstance(u, PoolLayer))


def _unsupported(t: Term, why: str) -> VhlsError:
    return VhlsError(f"nn backend: unsupported term `{short(t, 90)}`: {why}", str(t.pos) if t.pos else None)


@dataclass(frozen=True)
class _Stream:
    """A value flowing between stages: token 0 is the input, token k the output of unit k - 1. A [C][H][W] value
    made by a unit travels pixel by pixel (`pixels`: HWC order); everything else in IR (row-major) order."""

    token: int
    shape: tuple[int, ...]
    pixels: bool = False

    def order(self) -> np.ndarray:
        """order[s]: the row-major IR index of the element at stream position s."""
        n = int(np.prod(self.shape))
        if not self.pixels:
            return np.arange(n)
        c, h, w = self.shape
        return np.arange(n).reshape(c, h * w).T.reshape(-1)


@dataclass(frozen=True, eq=False)
class _View:
    """A rearrangement of a stream: index[...] is the row-major IR index of the stream element at each position of
    the view, -1 for a padding zero. `statics` are the slide/pad parameters it was written with."""

    src: _Stream
    index: np.ndarray
    statics: tuple[tuple[str, tuple[int, ...]], ...]


_Binding = Const | _Stream | _View


def _is_view_term(t: Term) -> bool:
    return all(isinstance(u, Lam | Var) or (isinstance(u, Prim) and u.op in VIEW_OPS) for u in walk(t))


def _array_shape(t: Type) -> tuple[int, ...]:
    shape = []
    while isinstance(t, Array):
        shape.append(t.size)
        t = t.elem
    return tuple(shape)


def _candidates(statics: tuple[tuple[str, tuple[int, ...]], ...]) -> list[tuple[int, int, int, int, int, int]]:
    """(kh, kw, sh, sw, ph, pw) choices suggested by a view's slide and pad parameters."""
    slides = sorted({st for op, st in statics if op == "slide"})
    pads = sorted({0, *(st[0] for op, st in statics if op == "pad" and st[0] == st[1])})
    return [(kh, kw, sh, sw, ph, pw) for kh, sh in slides for kw, sw in slides for ph in pads for pw in pads]


class _Recogniser:
    def __init__(self, typing: Typing) -> None:
        self.typing = typing
        self.units: list[Unit] = []
        self.consumed: set[int] = set()
        self.current = 0  # the token of the newest stream: the only one a stage may consume
        self.tokens = 0

    @property
    def layers(self) -> list[DenseLayer]:
        return [u for u in self.units if isinstance(u, DenseLayer)]

    def fresh(self, shape: tuple[int, ...], pixels: bool = False) -> _Stream:
        self.tokens += 1
        self.current = self.tokens
        return _Stream(self.tokens, shape, pixels)

    def src_of(self, s: _Stream) -> int | None:
        """The unit producing the (current) stream s: the newest one, or None for the network input."""
        return None if s.token == 0 else len(self.units) - 1

    # ------------------------------------------------------------------------------------------ constants
    def const_of(self, t: Term, env: Mapping[str, _Binding]) -> tuple[np.ndarray, Fixed] | None:
        """Raw data and element type of a constant expression, or None if `t` is not one."""
        if isinstance(t, Var):
            b = env.get(t.name)
            t = b if isinstance(b, Const) else t
        if isinstance(t, Const):
            ty: Type = t.type
            while isinstance(ty, Array):
                ty = ty.elem
            if not isinstance(ty, Fixed):
                raise _unsupported(t, f"constants must be fixed-point, not {ty}")
            return np.asarray(t.array(), dtype=object), ty
        if isinstance(t, Prim) and t.op == "transpose":
            inner = self.const_of(t.args[0], env)
            return None if inner is None else (inner[0].T, inner[1])
        return None

    # ------------------------------------------------------------------------------------------ streams
    def consume(self, s: _Stream, t: Term) -> None:
        if s.token != self.current or s.token in self.consumed:
            raise _unsupported(t, "only a straight chain of layers is supported (an intermediate value is used "
                                  "twice or out of order)")
        self.consumed.add(s.token)

    def view(self, t: Term, env: Mapping[str, _Binding]) -> _View | None:
        """The view `t` denotes (a rearrangement of one stream), or None if it is not one."""
        if isinstance(t, Var):
            b = env.get(t.name)
            return b if isinstance(b, _View) else None
        if not isinstance(t, Prim) or not _is_view_term(t):
            return None
        names = free_vars(t)
        srcs = [env.get(n) for n in names]
        if len(names) != 1 or not isinstance(srcs[0], _Stream | _View):
            raise _unsupported(t, "a rearrangement must read exactly one layer output (bind inner layers with let)")
        (name,), (src,) = names, srcs
        shape = src.shape if isinstance(src, _Stream) else src.index.shape
        n = int(np.prod(shape))
        prog = Program("view", (Param(name, _array_type(_INDEX, shape)),), t)
        try:
            out = np.asarray(evaluate(prog, np.arange(1, n + 1).reshape(1, *shape)))[0].astype(np.int64) - 1
        except IRError as e:
            raise _unsupported(t, f"cannot run this rearrangement on indices: {e}") from None
        statics = tuple((u.op, tuple(int(v) for v in u.static)) for u in walk(t)
                        if isinstance(u, Prim) and u.op in ("slide", "pad"))
        if isinstance(src, _View):
            flat = src.index.reshape(-1)
            out = np.where(out >= 0, flat[np.maximum(out, 0)], -1)
            return _View(src.src, out, src.statics + statics)
        return _View(src, out, statics)

    def stream(self, t: Term, env: Mapping[str, _Binding]) -> _Stream:
        """Lower a term producing a layer output; returns the stream it becomes."""
        if isinstance(t, Var):
            b = env.get(t.name)
            if isinstance(b, _Stream):
                return b
            if isinstance(b, _View):
                raise _unsupported(t, "this rearrangement (flatten/pad/window) can only feed a dense, conv or pool "
                                      "layer or be the result")
            raise _unsupported(t, "a constant or a lambda parameter where a layer input was expected")
        if isinstance(t, Prim) and any(isinstance(u, Prim) and u.op in LOWERED for u in walk(t)):
            raise _unsupported(t, "lowered forms (mapPar/mapSeq/reduceSeq/reduceTree, split/join tilings, buffer, "
                                  "fifo) are not read by the nn backend yet: build from the program before lowering "
                                  "and choose PE x SIMD with `parallel`")
        if isinstance(t, Prim) and t.op == "map":
            lam, xs = t.args
            assert isinstance(lam, Lam)
            rows = xs.args if isinstance(xs, Prim) and xs.op == "zip" else (xs,)
            if all(self.const_of(a, env) is not None for a in rows):
                return self.dense(t, lam, xs, env)
            body = lam.body
            if isinstance(body, Prim) and body.op == "map" and body.args[1] != Var(lam.params[0].name):
                inner_rows = body.args[1].args if isinstance(body.args[1], Prim) and body.args[1].op == "zip" \
                    else (body.args[1],)
                if all(self.const_of(a, {k: b for k, b in env.items() if k != lam.params[0].name}) is not None
                       for a in inner_rows):
                    return self.per_row(t, lam, xs, env)
                return self.pool(t, lam, xs, env)
            return self.elementwise(t, lam, xs, env)
        if isinstance(t, Prim) and _is_view_term(t):
            raise _unsupported(t, "this rearrangement (flatten/pad/window) can only feed a dense, conv or pool layer "
                                  "or be the result")
        raise _unsupported(t, "the nn backend handles dense, conv and pool layers and elementwise max/min/cast only")

    def elementwise(self, t: Prim, lam: Lam, xs: Term, env: Mapping[str, _Binding]) -> _Stream:
        src = self.stream(xs, env)
        scope = dict(env)
        for _ in range(len(src.shape) - 1):  # map(fun e => map(fun e' => ..., e), h) down to the scalars
            (e,) = lam.params
            scope.pop(e.name, None)
            inner = lam.body
            if not (isinstance(inner, Prim) and inner.op == "map" and inner.args[1] == Var(e.name)
                    and isinstance(inner.args[0], Lam)):
                raise _unsupported(t, "expected an elementwise map over every element of a layer output")
            lam = inner.args[0]
        (v,) = lam.params
        scope.pop(v.name, None)
        ops = self.post_ops(lam.body, lambda u: isinstance(u, Var) and u.name == v.name, scope)
        if src.token == 0:
            raise _unsupported(t, "an elementwise operation before the first dense layer is not supported yet")
        self.consume(src, t)
        self.units[-1].post.extend(ops)
        return self.fresh(src.shape, src.pixels)

    def post_ops(self, t: Term, is_core, env: Mapping[str, _Binding]) -> list[PostOp]:
        """The chain of casts and max/min with constants wrapped around a core term, innermost first."""
        ops: list[PostOp] = []
        while not is_core(t):
            ty = self.typing[t]
            if isinstance(t, Prim) and t.op == "cast" and isinstance(ty, Fixed):
                _, q, o = t.static
                ops.append(PostOp("cast", ty, str(q), str(o)))
                t = t.args[0]
            elif isinstance(t, Prim) and t.op in ("max", "min") and isinstance(ty, Fixed):
                a, b = t.args
                ca, cb = self.const_of(a, env), self.const_of(b, env)
                c, other = (ca, b) if ca is not None else (cb, a)
                if c is None or c[0].ndim != 0:
                    raise _unsupported(t, f"{t.op} needs a constant scalar operand")
                ops.append(PostOp(t.op, ty, const=int(c[0]), const_type=c[1]))
                t = other
            else:
                raise _unsupported(t, "expected cast, max or min with a constant around the layer's result")
        ops.reverse()
        return ops

    # ------------------------------------------------------------------------------------------ dense
    def dense(self, t: Prim, lam: Lam, rows: Term, env: Mapping[str, _Binding],
              patches: tuple[str, _Stream, Window] | None = None, per_row: bool = False) -> _Stream:
        body = lam.body
        if patches is None and isinstance(body, Prim) and body.op == "map":
            return self.conv(t, lam, rows, env)
        (p,) = lam.params
        inner = {k: v for k, v in env.items() if k != p.name}
        is_reduce = lambda u: isinstance(u, Prim) and u.op == "reduce"  # noqa: E731
        post = self.post_ops(lam.body, is_reduce, inner)
        red = lam.body
        while not is_reduce(red):
            assert isinstance(red, Prim)
            red = red.args[0] if red.op == "cast" else next(a for a in red.args if self.const_of(a, inner) is None)
        assert isinstance(red, Prim)
        step, init, pairs = red.args
        assert isinstance(step, Lam)
        acc_t = self.typing[red]
        if not isinstance(acc_t, Fixed):
            raise _unsupported(red, f"the accumulator must be fixed-point, not {acc_t}")

        # Weights and bias: map over zip(W, B) (row = get<0>(p)) or over W (row = p).
        if isinstance(rows, Prim) and rows.op == "zip" and len(rows.args) == 2:
            wb = [self.const_of(a, env) for a in rows.args]
            if wb[0] is None or wb[1] is None:
                raise _unsupported(rows, "weights and biases must be constants")
            (w, w_t), (b, b_t) = wb
            row_term: Term = Prim("get", (0,), (Var(p.name),))
            bias_term: Term | None = Prim("get", (1,), (Var(p.name),))
        else:
            cw = self.const_of(rows, env)
            assert cw is not None
            (w, w_t), b, b_t, bias_term = cw, None, None, None
            row_term = Var(p.name)
        if w.ndim != 2:
            raise _unsupported(rows, f"dense weights must be a matrix, got shape {w.shape}")
        n_out, n_in = w.shape

        # The step: cast<ACC, Q, WRAP>(add(acc, mul(get<i>(q), get<j>(q)))) in either operand order.
        acc_v, q_v = (prm.name for prm in step.params)
        body = step.body
        if not (isinstance(body, Prim) and body.op == "cast" and isinstance(body.args[0], Prim)
                and body.args[0].op == "add"):
            raise _unsupported(body, "the accumulation must be cast<ACC, Q, WRAP>(add(acc, mul(...)))")
        _, prod_q, o = body.static
        if o != "WRAP":
            raise _unsupported(body, "saturating accumulation is not associative; use WRAP and a wide accumulator")
        a0, a1 = body.args[0].args
        mul = a1 if a0 == Var(acc_v) else a0 if a1 == Var(acc_v) else None
        ok = isinstance(mul, Prim) and mul.op == "mul"
        idx = []
        if ok:
            assert isinstance(mul, Prim)
            for m in mul.args:
                if isinstance(m, Prim) and m.op == "get" and m.args[0] == Var(q_v):
                    idx.append(m.static[0])
            ok = sorted(idx) == [0, 1]
        if not ok:
            raise _unsupported(body, "expected add(acc, mul(get<0>(q), get<1>(q)))")

        # zip(ROW, x) in either order: the other operand is the layer input.
        if not (isinstance(pairs, Prim) and pairs.op == "zip" and len(pairs.args) == 2):
            raise _unsupported(pairs, "the reduction must run over zip(weight row, input)")
        if pairs.args[0] == row_term:
            x_term = pairs.args[1]
        elif pairs.args[1] == row_term:
            x_term = pairs.args[0]
        else:
            raise _unsupported(pairs, "the reduction must zip the weight row with the layer input")
        if p.name in free_vars(x_term):
            raise _unsupported(x_term, "the layer input may not depend on the weight row")
        x_t = self.typing[x_term]
        if not (isinstance(x_t, Array) and isinstance(x_t.elem, Fixed)):
            raise _unsupported(x_term, f"the layer input must be a vector of fixed-point values, not {x_t}")
        in_t = x_t.elem
        window = None
        if patches is not None:
            pt, src, window = patches
            if x_term != Var(pt):
                raise _unsupported(x_term, "a conv layer must reduce over its patch")
            # window vectors arrive in (i, j, c) order; the IR's patch is (c, i, j)
            k = window.kh * window.kw
            perm = np.arange(n_in).reshape(window.channels, k).T.reshape(-1)
        else:
            src, perm = self.vector_input(x_term, inner)
        w = w[:, perm]

        # Initial accumulator: the bias (cast exactly as the golden model does) or a constant.
        if isinstance(init, Prim) and init.op == "cast" and bias_term is not None and init.args[0] == bias_term:
            assert b is not None and b_t is not None
            _, bq, bo = init.static
            bias = fx.convert(fx.as_raw(b, b_t), b_t, acc_t, str(bq), str(bo))
        elif bias_term is not None and init == bias_term and b_t == acc_t:
            assert b is not None
            bias = b
        else:
            c = self.const_of(init, inner)
            if c is None or c[0].ndim != 0:
                raise _unsupported(init, "the initial accumulator must be the (cast) bias or a constant")
            bias = np.full(n_out, int(c[0]), dtype=object)

        self.consume(src, x_term)
        if self.units and self.units[-1].out_type != in_t:
            raise _unsupported(x_term, "internal: layer input type differs from the previous stage's output")
        self.units.append(DenseLayer(
            index=len(self.units), n_in=int(n_in), n_out=int(n_out), in_type=in_t, w_type=w_t,
            weights=np.asarray(w, dtype=object), acc_type=acc_t, bias=np.asarray(bias, dtype=object).reshape(-1),
            prod_q=str(prod_q), post=post, where=short(t, 70), window=window, src=self.src_of(src), per_row=per_row))
        if window is None:
            return self.fresh((int(n_out),))
        if per_row:
            return self.fresh((window.height, int(n_out)))
        return self.fresh((int(n_out), window.out_h, window.out_w), pixels=True)

    def vector_input(self, x_term: Term, env: Mapping[str, _Binding]) -> tuple[_Stream, np.ndarray]:
        """The stream a dense layer reads and perm: stream position s carries input element perm[s]."""
        v = self.view(x_term, env)
        if v is None:
            src = self.stream(x_term, env)
            if len(src.shape) != 1:
                raise _unsupported(x_term, f"a dense layer needs a vector, not a {src.shape} value (flatten it)")
            return src, src.order()
        n = v.index.size
        flat = v.index.reshape(-1)
        if sorted(flat.tolist()) != list(range(n)) or int(np.prod(v.src.shape)) != n:
            raise _unsupported(x_term, "a dense layer's input must use every element of the layer before it exactly "
                                       "once (a flatten or another permutation)")
        inv = np.empty(n, dtype=np.int64)
        inv[flat] = np.arange(n)
        return v.src, inv[v.src.order()]

    def feature_map(self, v: _View, t: Term) -> tuple[_Stream, int, int, int]:
        """The [C][H][W] stream a window view reads (a conv/pool output, or the network input)."""
        src = v.src
        if len(src.shape) != 3 or not (src.pixels or src.token == 0):
            raise _unsupported(t, f"sliding windows need a [C][H][W] layer output or input, not {src.shape}")
        c, h, w = src.shape
        return src, c, h, w

    # ------------------------------------------------------------------------------------------ conv
    def conv(self, t: Prim, lam: Lam, rows: Term, env: Mapping[str, _Binding]) -> _Stream:
        (p,) = lam.params
        outer = lam.body
        assert isinstance(outer, Prim)
        lam_row, pts = outer.args
        inner = lam_row.body if isinstance(lam_row, Lam) else None
        if not (isinstance(lam_row, Lam) and isinstance(inner, Prim) and inner.op == "map"
                and inner.args[1] == Var(lam_row.params[0].name) and isinstance(inner.args[0], Lam)):
            raise _unsupported(outer, "expected a conv: map(fun row => map(fun pt => <dot product>, row), patches)")
        lam_pt = inner.args[0]
        scope = {k: b for k, b in env.items() if k != p.name}
        v = self.view(pts, scope)
        if v is None or v.index.ndim != 3:
            raise _unsupported(pts, "conv patches must be a [Ho][Wo][K] rearrangement of a layer output")
        src, c, h, w = self.feature_map(v, pts)
        ho, wo, k = v.index.shape
        for kh, kw, sh, sw, ph, pw in _candidates(v.statics):
            win = Window(c, h, w, kh, kw, sh, sw, ph, pw)
            if (win.out_h, win.out_w, win.size) != (ho, wo, k):
                continue
            taps = win.sources()  # [pos][kh*kw] pixel index
            want = np.where(taps[:, None, :] >= 0, np.arange(c)[None, :, None] * h * w + taps[:, None, :], -1)
            if np.array_equal(want.reshape(ho, wo, k), v.index):
                one = Lam(lam.params, lam_pt.body)  # the dense body, for one patch
                return self.dense(t, one, rows, env, patches=(lam_pt.params[0].name, src, win))
        raise _unsupported(pts, "conv patches are not the im2col windows of any slide/pad geometry they use")

    # ------------------------------------------------------------------------------------------ per row
    def per_row(self, t: Prim, lam: Lam, xs: Term, env: Mapping[str, _Binding]) -> _Stream:
        """map(fun row => <dense over row>, x) for x: [N][K]: N vectors through one dense stage. In hardware a
        1x1 conv over N x 1 pixels of K channels, so the window unit splits the input into vectors."""
        src = self.stream(xs, env)
        (row,) = lam.params
        body = lam.body
        assert isinstance(body, Prim)
        if len(src.shape) != 2 or (src.token != 0 and not self.units[-1].per_row):  # type: ignore[union-attr]
            raise _unsupported(t, f"a dense layer per row needs a matrix input or per-row layer output, not "
                                  f"{src.shape}")
        n, k = src.shape
        inner_lam, rows = body.args
        assert isinstance(inner_lam, Lam)
        scope = {name: b for name, b in env.items() if name != row.name}
        return self.dense(body, inner_lam, rows, scope, patches=(row.name, src, Window(k, n, 1, 1, 1, 1, 1, 0, 0)),
                          per_row=True)

    # ------------------------------------------------------------------------------------------ pool
    def pool(self, t: Prim, lam: Lam, xs: Term, env: Mapping[str, _Binding]) -> _Stream:
        (cv,) = lam.params
        outer = lam.body
        assert isinstance(outer, Prim)
        lam_row, wins = outer.args
        inner = lam_row.body if isinstance(lam_row, Lam) else None
        if not (isinstance(lam_row, Lam) and isinstance(inner, Prim) and inner.op == "map"
                and inner.args[1] == Var(lam_row.params[0].name) and isinstance(inner.args[0], Lam)):
            raise _unsupported(t, "expected a pool: map(fun c => map(fun row => map(fun k => f(k), row), "
                                  "windows(c)), h)")
        lam_k = inner.args[0]
        src = self.stream(xs, env)
        if len(src.shape) != 3:
            raise _unsupported(t, f"pooling needs a [C][H][W] layer output, not {src.shape}")
        c, h, w = src.shape
        if not _is_view_term(wins) or free_vars(wins) != {cv.name}:
            raise _unsupported(wins, "pool windows must be a rearrangement of the channel alone")
        per_channel = _Stream(-1, (h, w))
        v = self.view(wins, {cv.name: per_channel})
        assert v is not None
        if v.index.ndim != 3:
            raise _unsupported(wins, "pool windows must be [Ho][Wo][kh*kw]")
        ho, wo, k = v.index.shape
        win = None
        for kh, kw, sh, sw, ph, pw in _candidates(v.statics):
            cand = Window(c, h, w, kh, kw, sh, sw, ph, pw)
            if (cand.out_h, cand.out_w, cand.kh * cand.kw) == (ho, wo, k) and \
                    np.array_equal(cand.sources().reshape(ho, wo, k), v.index):
                win = cand
                break
        if win is None:
            raise _unsupported(wins, "pool windows are not the windows of any slide/pad geometry they use")
        (kv,) = lam_k.params
        op = self.pool_body(lam_k.body, kv.name)
        body_t = self.typing[lam_k.body]
        x_t = self.typing[xs]
        while isinstance(x_t, Array):
            x_t = x_t.elem
        if not isinstance(body_t, Fixed) or not isinstance(x_t, Fixed):
            raise _unsupported(t, "pooling must compute fixed-point values")
        if src.token != 0 and not src.pixels:
            raise _unsupported(xs, "pooling needs a conv/pool output or the network input")
        self.consume(src, xs)
        self.units.append(PoolLayer(index=len(self.units), window=win, in_type=x_t, body=lam_k.body, k=kv.name,
                                    typing=self.typing, body_type=body_t, op=op, where=short(t, 70),
                                    src=self.src_of(src)))
        return self.fresh((c, ho, wo), pixels=True)

    def pool_body(self, body: Term, k: str) -> str:
        """Check a window body is scalar ops around exactly one reduce over k; returns "max", "avg" or "reduce"."""
        reduces = [u for u in walk(body) if isinstance(u, Prim) and u.op == "reduce"]
        uses = [u for u in walk(body) if u == Var(k)]
        if len(reduces) != 1 or reduces[0].args[2] != Var(k) or len(uses) != 1:
            raise _unsupported(body, "a pool body must reduce its window exactly once")
        red = reduces[0]
        step, init = red.args[0], red.args[1]
        assert isinstance(step, Lam)
        if not (isinstance(init, Const) and not isinstance(init.type, Array)):
            raise _unsupported(init, "a pool reduction must start from a constant scalar")
        step_vars = {prm.name for prm in step.params}
        inside = {id(u) for u in walk(red)}
        for part, allowed in ((body, {k}), (step.body, step_vars)):
            for u in walk(part):
                if part is body and id(u) in inside:
                    continue
                if isinstance(u, Var) and u.name not in allowed:
                    raise _unsupported(u, "a pool body may use only its window and literal constants")
                if isinstance(u, Prim) and u.op not in SCALAR_OPS:
                    raise _unsupported(u, f"`{u.op}` is not supported in a pool body "
                                          f"(supported: {', '.join(sorted(SCALAR_OPS))})")
                if isinstance(u, Lam):
                    raise _unsupported(u, "a pool body may not contain other functions")
        sb = step.body
        core = sb.args[0] if isinstance(sb, Prim) and sb.op == "cast" else sb
        if isinstance(core, Prim) and core.op == "max":
            return "max"
        return "avg" if isinstance(core, Prim) and core.op == "add" else "reduce"

    # ------------------------------------------------------------------------------------------ program
    def program(self, body: Term, env: dict[str, _Binding]) -> _Stream | _View:
        while isinstance(body, Let):
            c = self.const_of(body.value, env)
            if isinstance(body.value, Const):
                env = {**env, body.name: body.value}
            elif c is not None:  # an alias or a transpose of a constant: bind the data it denotes
                data, ty = c
                env = {**env, body.name: Const(_array_type(ty, data.shape), tuple(int(v) for v in data.ravel()))}
            else:
                v = self.view(body.value, env)
                env = {**env, body.name: v if v is not None else self.stream(body.value, env)}
            body = body.body
        v = self.view(body, env)
        return v if v is not None else self.stream(body, env)


def _array_type(elem: Fixed, shape: tuple[int, ...]) -> Type:
    t: Type = elem
    for n in reversed(shape):
        t = Array(n, t)
    return t


def recognise(prog: Program, typed: tuple[Program, Typing] | None = None) -> Network:
    """The chain of stages computing `prog`, or VhlsError naming the first term the backend cannot build."""
    q, typing = typed or check(prog)
    if len(q.params) != 1:
        raise VhlsError(f"nn backend: `{q.name}` must take exactly one input")
    (param,) = q.params
    in_t = param.type
    in_shape = _array_shape(in_t) if in_t is not None else ()
    elem = in_t
    while isinstance(elem, Array):
        elem = elem.elem
    if len(in_shape) not in (1, 2, 3) or not isinstance(elem, Fixed):
        raise VhlsError(f"nn backend: the input of `{q.name}` must be a vector, a matrix or a [C][H][W] feature "
                        f"map of fixed-point values, not {in_t}")
    r = _Recogniser(typing)
    out = r.program(q.body, {param.name: _Stream(0, in_shape)})
    if not r.layers:
        raise _unsupported(q.body, "the program has no dense or conv layer")
    if isinstance(out, _View):
        flat = out.index.reshape(-1)
        if sorted(flat.tolist()) != list(range(int(np.prod(out.src.shape)))):
            raise _unsupported(q.body, "the result must be a permutation (e.g. a flatten) of the last layer's output")
        stream, pos = out.src, flat
    else:
        stream, pos = out, np.arange(int(np.prod(out.shape)))
    if stream.token != r.current or stream.token == 0:
        raise _unsupported(q.body, "the result is not the output of the last layer")
    inv = np.empty(stream.order().size, dtype=np.int64)
    inv[stream.order()] = np.arange(inv.size)  # IR index -> stream position
    out_order = inv[pos]
    first = r.units[0]
    in_order = None  # an image feeding a window unit arrives in [C][H][W] order and travels as pixels
    if first.window is not None and len(in_shape) == 3:
        in_order = tuple(int(i) for i in _Stream(0, in_shape, pixels=True).order())
    identity = bool(np.array_equal(out_order, np.arange(out_order.size)))
    return Network(q.name, elem, int(np.prod(in_shape)), tuple(r.layers), tuple(r.units), in_shape,
                   None if identity else tuple(int(i) for i in out_order), in_order)
