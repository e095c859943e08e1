"""The parser of the IR text form (grammar.lark): `parse(print_program(p)) == p` and `print_program(parse(s)) == s`
for printed text.

Every term and the program carry `pos=Pos(line, column, source)`, so checker errors point into the source. Every
problem is an `IRError` whose `where` is `source:line:col` and whose `what` says, on one line, what was found and
what was expected; nothing from lark leaks out.
"""

import difflib
import re
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
from lark import Lark, Token, Transformer_NonRecursive, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from vhls.ir import numerics as fx
from vhls.ir.errors import IRError, Pos
from vhls.ir.prims import PRIMITIVES
from vhls.ir.terms import Const, Lam, Let, Param, Prim, Program, Term, Var
from vhls.ir.types import BOOL, FLOAT, Array, Bool, Fixed, Tuple, Type, scalar_of, shape_of

GRAMMAR = Path(__file__).with_name("grammar.lark")
F32_MAX = float(np.finfo(np.float32).max)
MODES = (*fx.Q_MODES, *fx.O_MODES)

_INT = re.compile(r"-?[0-9]+\Z")
_NAT = re.compile(r"[0-9]+\Z")


@cache
def _lark() -> Lark:
    return Lark(GRAMMAR.read_text(), parser="lalr", lexer="basic", propagate_positions=True,
                maybe_placeholders=False, start=["program_start", "term_start", "type_start"])


@cache
def keywords() -> frozenset[str]:
    """The words the lexer reserves (every keyword string of the grammar); equals vhls.ir.check.KEYWORDS."""
    return frozenset(t.pattern.value for t in _lark().terminals
                     if t.pattern.type == "str" and re.fullmatch(r"[A-Za-z_]\w*", t.pattern.value))


# ---------------------------------------------------------------------------------------------- entry points
def parse(text: str, source: str | None = None) -> Program:
    """Parse a program `def name(x: T, ...) = term`."""
    return _run(text, "program_start", source)


def parse_term(text: str, source: str | None = None) -> Term:
    """Parse a single term (free variables allowed)."""
    return _run(text, "term_start", source)


def parse_type(text: str, source: str | None = None) -> Type:
    """Parse a type such as `[4](fixed<8,-2>, bool)`."""
    return _run(text, "type_start", source)


def _run(text: str, start: str, source: str | None) -> Any:
    try:
        tree = _lark().parse(text, start=start)
    except UnexpectedInput as e:
        raise _syntax_error(e, text, source) from None
    except LarkError as e:  # not expected from an LALR parse; never let a lark traceback through
        raise IRError(f"syntax error: {str(e).splitlines()[0]}", source) from None
    try:
        return _Build(source).transform(tree)
    except VisitError as e:  # an error found while building terms: re-raise it as itself
        raise e.orig_exc.with_traceback(None) if isinstance(e.orig_exc, IRError) else e.orig_exc from None


# ---------------------------------------------------------------------------------------------- syntax errors
_TERM = frozenset({"NAME", "LET", "FUN", "CONST"})
_TYPE = frozenset({"LSQB", "LPAR", "FIXED", "UFIXED", "BOOL", "F32"})
_LITERAL = frozenset({"NUMBER", "TRUE", "FALSE", "LSQB"})
_STATIC = frozenset({"NUMBER", "TRN", "RND", "WRAP", "SAT"}) | _TYPE
# Groups of expected terminals named as one thing, largest first.
_GROUPS = (
    (_STATIC, "a static parameter (an integer, a type or a mode TRN, RND, WRAP, SAT)"),
    (_TERM, "a term"),
    (_TYPE, "a type"),
    (_LITERAL, "a literal"),
)
_NAMED = {"NAME": "a name", "NUMBER": "a number", "$END": "end of input"}


def _terminal_text(name: str) -> str:
    if name in _NAMED:
        return _NAMED[name]
    try:
        pattern = _lark().get_terminal(name).pattern
    except KeyError:
        return name
    return f"`{pattern.value}`" if pattern.type == "str" else name


def _expected(names: set[str] | frozenset[str] | None) -> str:
    names = set(names or ()) - set(_lark().lexer_conf.ignore)
    if not names:
        return "nothing more"
    parts = []
    for group, text in _GROUPS:
        if group <= names:
            names -= group
            parts.append(text)
    # punctuation and keywords first, then classes of tokens, then end of input; sorted within each
    rest = sorted(names, key=lambda n: (n == "$END", n in _NAMED, _terminal_text(n)))
    parts += [_terminal_text(n) for n in rest]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " or " + parts[-1]


def _found(tok: Token) -> str:
    if tok.type == "$END":
        return "end of input"
    if tok.type == "NAME":
        return f"name `{tok.value}`"
    if tok.type == "NUMBER":
        return f"number `{tok.value}`"
    if tok.value in keywords():
        return f"keyword `{tok.value}`"
    return f"`{tok.value}`"


def _end_pos(text: str, source: str | None) -> Pos:
    lines = text.split("\n")
    return Pos(len(lines), len(lines[-1]) + 1, source)


def _syntax_error(e: UnexpectedInput, text: str, source: str | None) -> IRError:
    if isinstance(e, UnexpectedToken):
        tok = e.token
        if tok.type == "$END":  # lark gives the end marker the last token's position: point just after it
            where = Pos(getattr(tok, "end_line", None) or 1, getattr(tok, "end_column", None) or 1, source)
        else:
            where = Pos(tok.line, tok.column, source)
        try:
            names = e.accepts or e.expected
        except Exception:  # accepts replays the parser; fall back to the state's terminals
            names = e.expected
        return IRError(f"expected {_expected(names)}, found {_found(tok)}", where)
    if isinstance(e, UnexpectedCharacters):
        ip = getattr(e, "interactive_parser", None)
        try:
            names = ip.accepts() if ip is not None else None
        except Exception:
            names = None
        ch = e.char if e.char.isprintable() else repr(e.char)
        exp = f"expected {_expected(names)}, " if names else ""
        return IRError(f"{exp}found `{ch}`", Pos(e.line, e.column, source))
    if isinstance(e, UnexpectedEOF):
        return IRError(f"expected {_expected(set(e.expected))}, found end of input", _end_pos(text.rstrip(), source))
    return IRError("syntax error", Pos(getattr(e, "line", 1), getattr(e, "column", 1), source))


# ---------------------------------------------------------------------------------------------- tree -> terms
class _List:
    """A bracketed literal `[a, b, ...]` before it is checked against the constant's type."""

    def __init__(self, items: list, pos: Pos) -> None:
        self.items, self.pos = items, pos


@v_args(meta=True, inline=True)
class _Build(Transformer_NonRecursive):
    def __init__(self, source: str | None) -> None:
        super().__init__()
        self.source = source

    def _pos(self, meta: Any) -> Pos:
        return Pos(meta.line, meta.column, self.source)

    def _tpos(self, tok: Token) -> Pos:
        return Pos(tok.line, tok.column, self.source)

    # -------------------------------------------------------------------- starts
    def program_start(self, meta: Any, p: Program) -> Program:
        return p

    def term_start(self, meta: Any, t: Term) -> Term:
        return t

    def type_start(self, meta: Any, t: Type) -> Type:
        return t

    # -------------------------------------------------------------------- program and binders
    def program(self, meta: Any, name: Token, params: tuple[Param, ...], body: Term) -> Program:
        return Program(str(name), params, body, pos=self._pos(meta))

    def params(self, meta: Any, *ps: Param) -> tuple[Param, ...]:
        return ps

    def param(self, meta: Any, name: Token, t: Type | None = None) -> Param:
        return Param(str(name), t)

    # -------------------------------------------------------------------- terms
    def let(self, meta: Any, name: Token, value: Term, body: Term) -> Term:
        return Let(str(name), value, body, pos=self._pos(meta))

    def lam_bare(self, meta: Any, name: Token, body: Term) -> Term:
        return Lam((Param(str(name)),), body, pos=self._pos(meta))

    def lam(self, meta: Any, params: tuple[Param, ...], body: Term) -> Term:
        return Lam(params, body, pos=self._pos(meta))

    def var(self, meta: Any, name: Token) -> Term:
        return Var(str(name), pos=self._pos(meta))

    def prim(self, meta: Any, name: Token, statics: tuple, args: tuple[Term, ...]) -> Term:
        op = str(name)
        if op not in PRIMITIVES:
            close = difflib.get_close_matches(op, PRIMITIVES, n=4, cutoff=0.5)
            hint = (f"did you mean {_or(close)}?" if close
                    else "known primitives: " + ", ".join(f"`{k}`" for k in sorted(PRIMITIVES)))
            raise IRError(f"unknown primitive `{op}`; {hint}", self._tpos(name))
        return Prim(op, statics, args, pos=self._pos(meta))

    def statics(self, meta: Any, *ss: Any) -> tuple:
        return ss

    def args(self, meta: Any, *ts: Term) -> tuple[Term, ...]:
        return ts

    def static_int(self, meta: Any, tok: Token) -> int:
        if not _NAT.match(tok):
            raise IRError(f"a static parameter must be a non-negative integer, a type or a mode "
                          f"({', '.join(MODES)}), found number `{tok}`", self._tpos(tok))
        return self._to_int(tok)

    def _to_int(self, tok: Token) -> int:
        try:
            return int(tok)
        except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
            raise IRError(f"number `{_clip(tok)}` has too many digits", self._tpos(tok)) from None

    def static_mode(self, meta: Any, tok: Token) -> str:
        return str(tok)

    # -------------------------------------------------------------------- types
    def _int(self, tok: Token, what: str, signed: bool = False) -> int:
        if not (_INT if signed else _NAT).match(tok):
            kind = "an integer" if signed else "a non-negative integer"
            raise IRError(f"{what} must be {kind}, found number `{tok}`", self._tpos(tok))
        return self._to_int(tok)

    def _type(self, meta: Any, make: Any, *args: Any) -> Type:
        try:
            return make(*args)
        except IRError as e:  # the constructors check widths and sizes but know no position
            raise IRError(e.what, self._pos(meta)) from None

    def array_type(self, meta: Any, n: Token, elem: Type) -> Type:
        return self._type(meta, Array, self._int(n, "an array size"), elem)

    def tuple_type(self, meta: Any, *elems: Type) -> Type:
        return self._type(meta, Tuple, elems)

    def fixed_type(self, meta: Any, w: Token, i: Token, signed: bool = True) -> Type:
        width = self._int(w, "a fixed-point width")
        int_bits = self._int(i, "the integer bits of a fixed-point type", signed=True)
        return self._type(meta, Fixed, width, int_bits, signed)

    def ufixed_type(self, meta: Any, w: Token, i: Token) -> Type:
        return self.fixed_type(meta, w, i, signed=False)

    def bool_type(self, meta: Any) -> Type:
        return BOOL

    def f32_type(self, meta: Any) -> Type:
        return FLOAT

    # -------------------------------------------------------------------- constants
    def list(self, meta: Any, *items: Any) -> _List:
        return _List(list(items), self._pos(meta))

    def const(self, meta: Any, t: Type, lit: Any) -> Term:
        pos = self._pos(meta)
        s = scalar_of(t)
        if not isinstance(s, Fixed | Bool) and s != FLOAT:
            raise IRError(f"constants must have scalar or array-of-scalar type, not {t}", pos)
        values: list[int | float | bool] = []
        self._flatten(lit, t, shape_of(t), s, values)
        try:
            return Const(t, tuple(values), pos=pos)
        except IRError as e:
            raise IRError(e.what, pos) from None

    def _flatten(self, lit: Any, t: Type, shape: tuple[int, ...], s: Type, out: list) -> None:
        """Check the literal's nesting against `shape` and append its values, row-major."""
        stack = [(lit, 0)]
        while stack:
            item, depth = stack.pop()
            if depth < len(shape):
                want = f"a list of {shape[depth]} element{'s' * (shape[depth] != 1)}"
                if not isinstance(item, _List):
                    raise IRError(f"literal of type {t} needs {want} at nesting depth {depth + 1}, "
                                  f"found `{item}`", self._tpos(item))
                if len(item.items) != shape[depth]:
                    raise IRError(f"literal of type {t} needs {want} at nesting depth {depth + 1}, "
                                  f"found {len(item.items)}", item.pos)
                stack.extend((x, depth + 1) for x in reversed(item.items))
            else:
                if isinstance(item, _List):
                    raise IRError(f"literal of type {t} nests too deeply: expected a {s} value, found a list",
                                  item.pos)
                out.append(self._scalar(item, s))

    def _scalar(self, tok: Token, s: Type) -> int | float | bool:
        pos = self._tpos(tok)
        if isinstance(s, Bool):
            if tok.type == "NUMBER":
                raise IRError(f"expected `true` or `false` for a bool constant, found number `{tok}`", pos)
            return tok.type == "TRUE"
        if tok.type != "NUMBER":
            raise IRError(f"expected a number for a {s} constant, found `{tok}`", pos)
        if isinstance(s, Fixed):
            try:
                raw = _decimal_raw(str(tok), s)
            except ValueError as e:
                raise IRError(f"literal `{_clip(tok)}` {e}", pos) from None
            if raw is not None:
                return raw
            try:  # the reference: exact_raw reads the decimal text with Fraction, never through a float
                return fx.exact_raw(str(tok), s, what="literal")  # type: ignore[arg-type]
            except IRError as e:
                lo, hi = fx.raw_to_text(s.min_raw, s), fx.raw_to_text(s.max_raw, s)
                extra = f" (which holds {lo} to {hi})" if "out of range" in e.what else ""
                raise IRError(e.what + extra, pos) from None
        v = float(tok)
        if not abs(v) <= F32_MAX:
            raise IRError(f"literal {_clip(tok)} is out of range of f32", pos)
        return v


_DECIMAL = re.compile(r"(-?)([0-9]+)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?\Z")


def _decimal_raw(text: str, s: Fixed) -> int | None:
    """Fast exact path for `exact_raw(text, s)` (constants can have many thousands of values): the raw integer if
    the decimal is representable and in range, else None (exact_raw then produces the error). Raises ValueError
    for numbers too long to convert safely."""
    m = _DECIMAL.match(text)
    if m is None:
        return None
    sign, whole, frac_digits, exp = m.groups()
    frac_digits = frac_digits or ""
    if len(whole) + len(frac_digits) > 4000:
        raise ValueError("has too many digits")
    if exp and len(exp.lstrip("+-")) > 6:
        raise ValueError("has too large an exponent")
    mantissa = int(whole + frac_digits)
    if mantissa == 0:
        return 0
    e10 = int(exp or 0) - len(frac_digits)
    if abs(e10) > 10_000:  # with at most 4000 digits (and widths <= 128 bits) no fixed-point type holds it exactly
        raise ValueError("is not representable in any fixed-point type")
    num = mantissa * 10 ** max(e10, 0) << max(s.frac, 0)
    den = 10 ** max(-e10, 0) << max(-s.frac, 0)
    raw, rest = divmod(num, den)
    if rest:
        return None
    raw = -raw if sign else raw
    return raw if s.min_raw <= raw <= s.max_raw else None


def _clip(text: str, limit: int = 24) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


def _or(names: list[str]) -> str:
    quoted = [f"`{n}`" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


__all__ = ["keywords", "parse", "parse_term", "parse_type"]
