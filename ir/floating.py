"""`to_float`: the float reference version of a program — every fixed-point type becomes f32, casts to fixed vanish.

Used for float runs of kernel-level programs; layer-level models build their float program from unquantised
weights instead (see vhls.layers), so float mode there matches the source framework.
"""

from vhls.ir import numerics as fx
from vhls.ir.check import check_term
from vhls.ir.terms import Const, Lam, Let, Param, Prim, Program, Term, Var, const
from vhls.ir.types import FLOAT, Fixed, Scalar, Type, map_scalars, scalar_of, shape_of


def float_type(t: Type) -> Type:
    return map_scalars(t, lambda s: FLOAT if isinstance(s, Fixed) else s)


def _const(c: Const) -> Term:
    s = scalar_of(c.type)
    if not isinstance(s, Fixed):
        return c
    values = fx.to_float32(c.array(), s)  # one rounding, even for constants wider than 53 bits
    return const(values.reshape(shape_of(c.type)), float_type(c.type))


def _term(t: Term, env: dict[str, Type]) -> Term:
    if isinstance(t, Var):
        return t
    if isinstance(t, Const):
        return _const(t)
    if isinstance(t, Lam):
        return Lam(tuple(Param(p.name, None if p.type is None else float_type(p.type)) for p in t.params),
                   _term(t.body, env), pos=t.pos)
    if isinstance(t, Let):
        return Let(t.name, _term(t.value, env), _term(t.body, env), pos=t.pos)
    assert isinstance(t, Prim)
    args = tuple(_term(a, env) for a in t.args)
    if t.op == "cast":
        return Prim("cast", (FLOAT,), args, pos=t.pos)
    if t.op in ("shl", "shr"):
        k = t.static[0] if t.op == "shl" else -t.static[0]
        return Prim("mul", (), (args[0], const(2.0**k, FLOAT)), pos=t.pos)
    if t.op == "iota":
        n, _ = t.static
        scale = Lam((Param("i"),), Prim("cast", (FLOAT,), (Var("i"),)))
        return Prim("map", (), (scale, Prim("iota", (n, Fixed(max(n.bit_length(), 1) + 1, max(n.bit_length(), 1) + 1)),
                                                  ())), pos=t.pos)
    static = tuple(float_type(s) if isinstance(s, Type) and not isinstance(s, Scalar) else s for s in t.static)
    return Prim(t.op, static, args, pos=t.pos)


def to_float(p: Program) -> Program:
    params = tuple(Param(q.name, float_type(q.type)) for q in p.params)  # type: ignore[arg-type]
    out = Program(p.name, params, _term(p.body, {}), pos=p.pos)
    check_term(out.body, {q.name: q.type for q in params})  # type: ignore[misc]
    return out
