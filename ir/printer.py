"""The canonical text form of IR programs. `parse(print(p)) == p`; `print(parse(s)) == s` for printed text.

    def name(x: [16]fixed<16,6>) =
      let w = const<[2]fixed<8,3>>([0.5, -1]) in
      map(fun v => cast<fixed<8,3>, TRN, WRAP>(mul(v, v)), x)

Short terms print on one line; longer ones break their arguments onto indented lines, so output is a function of
the term alone (positions and original layout never matter).
"""

import math

from vhls.ir import numerics as fx
from vhls.ir.terms import Const, Lam, Let, Param, Prim, Program, Static, Term, Var
from vhls.ir.types import F32, Bool, Fixed, Type, scalar_of, shape_of

WIDTH = 100
INDENT = "  "


def print_type(t: Type) -> str:
    return str(t)


def _static(s: Static) -> str:
    return str(s)


def _param(p: Param) -> str:
    return p.name if p.type is None else f"{p.name}: {p.type}"


def _scalar_text(v: int | float | bool, s: Type) -> str:
    if isinstance(s, Fixed):
        return fx.raw_to_text(int(v), s)
    if isinstance(s, Bool):
        return "true" if v else "false"
    assert isinstance(s, F32)
    f = float(v)
    if math.isinf(f):
        return "inf" if f > 0 else "-inf"
    text = repr(f)
    return text[:-2] if text.endswith(".0") else text


def _literal(c: Const) -> list[str]:
    """The literal's lines: nested brackets, innermost rows kept on one line."""
    s, shape = scalar_of(c.type), shape_of(c.type)
    items = [_scalar_text(v, s) for v in c.values]
    if not shape:
        return [items[0]]

    def build(depth: int, start: int) -> tuple[list[str], int]:
        n = shape[depth]
        if depth == len(shape) - 1:
            return ["[" + ", ".join(items[start:start + n]) + "]"], start + n
        parts, pos = [], start
        for _ in range(n):
            lines, pos = build(depth + 1, pos)
            parts.append(lines)
        flat = "[" + ", ".join(" ".join(p) for p in parts) + "]"
        if len(flat) <= WIDTH and all(len(p) == 1 for p in parts):
            return [flat], pos
        out = ["["]
        for i, p in enumerate(parts):
            sep = "," if i < len(parts) - 1 else ""
            out += [INDENT + line for line in p[:-1]] + [INDENT + p[-1] + sep]
        return [*out, "]"], pos

    return build(0, 0)[0]


def _lines(t: Term) -> list[str]:
    """The term's text as lines (continuation lines carry relative indentation)."""
    if isinstance(t, Var):
        return [t.name]
    if isinstance(t, Const):
        lit = _literal(t)
        head = f"const<{t.type}>("
        if len(lit) == 1:
            return [head + lit[0] + ")"]
        return [head + lit[0], *lit[1:-1], lit[-1] + ")"]
    if isinstance(t, Lam):
        if len(t.params) == 1 and t.params[0].type is None:
            head = f"fun {t.params[0].name} =>"
        else:
            head = "fun (" + ", ".join(_param(p) for p in t.params) + ") =>"
        body = _lines(t.body)
        if len(body) == 1 and len(head) + 1 + len(body[0]) <= WIDTH:
            return [f"{head} {body[0]}"]
        return [head] + [INDENT + line for line in body]
    if isinstance(t, Let):
        value = _lines(t.value)
        out = [f"let {t.name} = {value[0]}"] + [INDENT + line for line in value[1:]]
        out[-1] += " in"
        return out + _lines(t.body)
    if isinstance(t, Prim):
        head = t.op + ("<" + ", ".join(_static(s) for s in t.static) + ">" if t.static else "")
        args = [_lines(a) for a in t.args]
        if all(len(a) == 1 for a in args):
            one = f"{head}(" + ", ".join(a[0] for a in args) + ")"
            if len(one) <= WIDTH:
                return [one]
        out = [f"{head}("]
        for i, a in enumerate(args):
            sep = "," if i < len(args) - 1 else ""
            out += [INDENT + line for line in a[:-1]] + [INDENT + a[-1] + sep]
        return [*out, ")"]
    raise TypeError(f"not a term: {t!r}")


def print_term(t: Term) -> str:
    return "\n".join(_lines(t))


def print_program(p: Program) -> str:
    params = ", ".join(_param(q) for q in p.params)
    body = _lines(p.body)
    return f"def {p.name}({params}) =\n" + "\n".join(INDENT + line for line in body) + "\n"


def short(t: Term, limit: int = 60) -> str:
    """A one-line excerpt of a term for error messages."""
    text = " ".join(line.strip() for line in _lines(t))
    return text if len(text) <= limit else text[: limit - 3] + "..."
