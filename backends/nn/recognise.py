"""Recognise dense (fully connected) stages in a checked IR program.

The accepted shapes are those `vhls.lowering` builds, with the variations that keep their meaning exact:

    map(fun p => POST(reduce(fun (acc, q) => cast<ACC, Q, WRAP>(add(acc, mul(get<i>(q), get<j>(q)))),
                             INIT, zip(ROW, x))),
        zip(W, B))                          -- or map over W alone (then ROW = p, INIT a constant)

    POST  := cast<T, Q, O>(POST) | max(POST, c) | min(POST, c) | <the reduce>    (c a constant scalar)
    INIT  := cast<ACC, Q, O>(get<1>(p)) | get<1>(p) | a constant scalar
    W, B  := const | a let-bound const | transpose(W)

An elementwise `map(fun v => POST(v), h)` (a separate ReLU) is fused into the dense stage producing `h`.
Stages are chained through `let` or by nesting; the dataflow must be a straight line (every intermediate used
once). Anything else raises VhlsError naming the term: a backend must never mis-lower silently.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from vhls.ir import numerics as fx
from vhls.ir.check import Typing, check
from vhls.ir.errors import VhlsError
from vhls.ir.printer import short
from vhls.ir.terms import Const, Lam, Let, Prim, Program, Term, Var, free_vars
from vhls.ir.types import Array, Fixed, Type

LOWERED = frozenset({"mapPar", "mapSeq", "reduceSeq", "reduceTree", "split", "join", "buffer", "fifo"})


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


@dataclass(eq=False)
class DenseLayer:
    """y[m] = POST(bias[m] + Σ_n w[m][n]·x[n]) with every step exactly as the IR says."""

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

    @property
    def prod_type(self) -> Fixed:
        return fx.mul_type(self.w_type, self.in_type)

    @property
    def out_type(self) -> Fixed:
        return self.post[-1].type if self.post else self.acc_type

    @property
    def macs(self) -> int:
        return self.n_in * self.n_out

    @property
    def name(self) -> str:
        return f"dense{self.index}"


@dataclass(frozen=True)
class Network:
    """A straight chain of dense stages: what the nn backend builds."""

    name: str
    in_type: Fixed  # element type of the input vector
    n_in: int
    layers: tuple[DenseLayer, ...]

    @property
    def out_type(self) -> Fixed:
        return self.layers[-1].out_type

    @property
    def n_out(self) -> int:
        return self.layers[-1].n_out


def _unsupported(t: Term, why: str) -> VhlsError:
    return VhlsError(f"nn backend: unsupported term `{short(t, 90)}`: {why}", str(t.pos) if t.pos else None)


@dataclass(frozen=True)
class _Stream:
    """A value flowing between stages: token 0 is the input, token k the output of stage k - 1."""

    token: int


_Binding = Const | _Stream


class _Recogniser:
    def __init__(self, typing: Typing) -> None:
        self.typing = typing
        self.layers: list[DenseLayer] = []
        self.consumed: set[int] = set()
        self.current = 0  # the token of the newest stream: the only one a stage may consume
        self.tokens = 0

    def fresh(self) -> _Stream:
        self.tokens += 1
        self.current = self.tokens
        return _Stream(self.tokens)

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

    def stream(self, t: Term, env: Mapping[str, _Binding]) -> _Stream:
        """Lower a term producing a vector; returns the stream it becomes."""
        if isinstance(t, Var):
            b = env.get(t.name)
            if isinstance(b, _Stream):
                return b
            raise _unsupported(t, "a constant or a lambda parameter where a layer input was expected")
        if isinstance(t, Prim) and t.op == "map":
            lam, xs = t.args
            assert isinstance(lam, Lam)
            rows = xs.args if isinstance(xs, Prim) and xs.op == "zip" else (xs,)
            if all(self.const_of(a, env) is not None for a in rows):
                return self.dense(t, lam, xs, env)
            return self.elementwise(t, lam, xs, env)
        if isinstance(t, Prim) and t.op in LOWERED:
            raise _unsupported(t, "lowered forms (mapPar/mapSeq/reduceSeq/reduceTree, split/join tilings, buffer, "
                                  "fifo) are not read by the nn backend yet: build from the program before lowering "
                                  "and choose PE x SIMD with `parallel`")
        raise _unsupported(t, "the nn backend handles dense layers and elementwise max/min/cast only")

    def elementwise(self, t: Prim, lam: Lam, xs: Term, env: Mapping[str, _Binding]) -> _Stream:
        src = self.stream(xs, env)
        (v,) = lam.params
        scope = {k: b for k, b in env.items() if k != v.name}
        ops = self.post_ops(lam.body, lambda u: isinstance(u, Var) and u.name == v.name, scope)
        if src.token == 0:
            raise _unsupported(t, "an elementwise operation before the first dense layer is not supported yet")
        self.consume(src, t)
        self.layers[-1].post.extend(ops)
        return self.fresh()

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
    def dense(self, t: Prim, lam: Lam, rows: Term, env: Mapping[str, _Binding]) -> _Stream:
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
        src = self.stream(x_term, inner)

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
        if self.layers and self.layers[-1].out_type != in_t:
            raise _unsupported(x_term, "internal: layer input type differs from the previous stage's output")
        self.layers.append(DenseLayer(
            index=len(self.layers), n_in=int(n_in), n_out=int(n_out), in_type=in_t, w_type=w_t,
            weights=np.asarray(w, dtype=object), acc_type=acc_t, bias=np.asarray(bias, dtype=object).reshape(-1),
            prod_q=str(prod_q), post=post, where=short(t, 70)))
        return self.fresh()

    # ------------------------------------------------------------------------------------------ program
    def program(self, body: Term, env: dict[str, _Binding]) -> _Stream:
        while isinstance(body, Let):
            c = self.const_of(body.value, env)
            if isinstance(body.value, Const):
                env = {**env, body.name: body.value}
            elif c is not None:  # an alias or a transpose of a constant: bind the data it denotes
                data, ty = c
                env = {**env, body.name: Const(_array_type(ty, data.shape), tuple(int(v) for v in data.ravel()))}
            else:
                env = {**env, body.name: self.stream(body.value, env)}
            body = body.body
        return self.stream(body, env)


def _array_type(elem: Fixed, shape: tuple[int, ...]) -> Type:
    t: Type = elem
    for n in reversed(shape):
        t = Array(n, t)
    return t


def recognise(prog: Program, typed: tuple[Program, Typing] | None = None) -> Network:
    """The chain of dense stages computing `prog`, or VhlsError naming the first term the backend cannot build."""
    q, typing = typed or check(prog)
    if len(q.params) != 1:
        raise VhlsError(f"nn backend: `{q.name}` must take exactly one input vector")
    (param,) = q.params
    in_t = param.type
    if not (isinstance(in_t, Array) and isinstance(in_t.elem, Fixed)):
        raise VhlsError(f"nn backend: the input of `{q.name}` must be a vector of fixed-point values, not {in_t}")
    r = _Recogniser(typing)
    out = r.program(q.body, {param.name: _Stream(0)})
    if not r.layers:
        raise _unsupported(q.body, "the program has no dense layer")
    if out.token != r.current:
        raise _unsupported(q.body, "the result is not the output of the last layer")
    return Network(q.name, in_t.elem, in_t.size, tuple(r.layers))
