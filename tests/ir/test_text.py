"""The text form: ir/grammar.lark + ir/parser.py against ir/printer.py, and the random program generator ir/gen.py.

`parse(print_program(p)) == p` for every program, `print_program(parse(s)) == s` for printed text, positions on
every term, one-line `line:col` errors for malformed text, and generated programs that check and evaluate.
"""

from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vhls.ir import numerics as fx
from vhls.ir.check import KEYWORDS, check
from vhls.ir.errors import IRError, Pos
from vhls.ir.gen import F32_INPUT_LOG2, inputs, programs, random_inputs, random_program, types
from vhls.ir.interp import evaluate
from vhls.ir.parser import keywords, parse, parse_term, parse_type
from vhls.ir.prims import PRIMITIVES, Primitive
from vhls.ir.printer import print_program, print_term
from vhls.ir.terms import Const, Lam, Let, Param, Prim, Program, Term, Var, walk
from vhls.ir.types import BOOL, F32, FLOAT, Array, Bool, Fixed, Tuple, Type, fixed, ufixed

CI = settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
CORE = ("map", "reduce", "zip", "unzip", "tuple", "get", "split", "join", "transpose", "slide", "pad", "iota", "add",
        "sub", "mul", "max", "min", "neg", "shl", "shr", "lt", "le", "gt", "ge", "eq", "ne", "select", "cast")


def terms(p: Program) -> Iterator[Term]:
    return walk(p.body)


# ---------------------------------------------------------------------------------------------- hand-written text
# Canonical (printed) text covering every construct: each must print back exactly.
EVERY = """\
def every(a: [4]fixed<8,3>, b: (bool, f32), c: [2][3]ufixed<4,-2>, d: fixed<6,9>) =
  let w = const<[2][2]fixed<8,3>>([[0.5, -1], [3.875, -4]]) in
  let e = const<[3]f32>([1e-05, -2.5e+20, 0.1]) in
  tuple(
    map(fun x => cast<fixed<8,3>, RND, SAT>(mul(x, x)), a),
    reduce(fun (acc: f32, v) => add(acc, cast<f32>(v)), get<1>(b), join(c)),
    map(fun (x: [3]ufixed<4,-2>) => slide<2, 1>(x), c),
    iota<4, ufixed<4,4>>(),
    select(get<0>(b), d, const<fixed<6,9>>(-256))
  )
"""

LAYER = """\
def layer(x: [8][4]fixed<16,6>, w: [4]fixed<8,1>, t: bool) =
  map(
    fun row =>
      let s = reduce(
          fun (acc, p) => cast<fixed<24,10>, TRN, WRAP>(add(acc, mul(get<0>(p), get<1>(p)))),
          const<fixed<24,10>>(0),
          zip(row, w)
        ) in
      cast<fixed<8,3>, RND, SAT>(max(s, const<fixed<24,10>>(0.25))),
    x
  )
"""

DEEP = """\
def deep(m: [2][2][3]ufixed<4,4>) =
  let big = const<[2][2][3]ufixed<4,4>>([[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [10, 11, 12]]]) in
  let wide = const<[3][12]f32>([
      [1.5, 2.25, 3.125, 4, 5, 6, 7, 8, 9, 10, 11, 12],
      [1.5, 2.25, 3.125, 4, 5, 6, 7, 8, 9, 10, 11, 12],
      [1.5, 2.25, 3.125, 4, 5, 6, 7, 8, 9, 10, 11, 12.000244140625]
    ]) in
  let nested = let inner = transpose(get<0>(unzip(zip(join(m), join(big))))) in
    pad<1, 0>(split<2>(join(inner))) in
  tuple(
    nested,
    map(
      fun (a: [2][3]ufixed<4,4>) => map(fun r => map(fun v => lt(shl<2>(v), shr<1>(neg(v))), r), a),
      m
    ),
    wide,
    const<[2][2]bool>([[true, false], [false, true]]),
    eq(const<f32>(-0.5), const<f32>(3e+38))
  )
"""

SCALARS = """\
def scalars(u: ufixed<1,1>, n: fixed<3,-2>, h: fixed<12,20>, f: f32) =
  let p = const<fixed<3,-2>>(-0.125) in
  let q = const<fixed<12,20>>(-524288) in
  let r = const<ufixed<1,1>>(1) in
  let s = const<f32>(-0) in
  tuple(
    sub(n, p),
    min(h, q),
    ge(u, r),
    le(f, s),
    gt(f, const<f32>(123456.7890625)),
    ne(const<bool>(true), const<bool>(false)),
    cast<ufixed<7,3>, TRN, SAT>(const<bool>(true)),
    cast<fixed<4,2>, RND, WRAP>(f)
  )
"""

HAND = [EVERY, LAYER, DEEP, SCALARS]


@pytest.mark.parametrize("text", HAND, ids=["every", "layer", "deep", "scalars"])
def test_hand_written_round_trip(text: str) -> None:
    p = parse(text)
    assert print_program(p) == text
    assert parse(print_program(p)) == p


def test_hand_written_cover_every_construct() -> None:
    ps = [parse(t) for t in HAND]
    seen = {t.op for p in ps for t in terms(p) if isinstance(t, Prim)}
    assert seen >= set(CORE)  # every core primitive
    lams = [t for p in ps for t in terms(p) if isinstance(t, Lam)]
    assert any(len(t.params) == 1 and t.params[0].type is None for t in lams)  # fun x => e
    assert any(len(t.params) == 2 for t in lams)  # fun (a, b) => e
    assert any(t.params[0].type is not None for t in lams)  # fun (x: T) => e
    assert any(isinstance(t, Let) and isinstance(t.value, Let) for p in ps for t in terms(p))
    assert any(isinstance(t, Lam) and isinstance(t.body, Let) for p in ps for t in terms(p))
    statics = {s for p in ps for t in terms(p) if isinstance(t, Prim) for s in t.static}
    assert {"TRN", "RND", "WRAP", "SAT"} <= statics
    consts = [t for p in ps for t in terms(p) if isinstance(t, Const)]
    assert {type(c.type) for c in consts} >= {Array, Fixed, F32, Bool}


def test_literal_values_are_exact() -> None:
    p = parse(EVERY)
    w = p.body.value  # type: ignore[attr-defined]
    assert w == Const(Array(2, Array(2, fixed(8, 3))), (16, -32, 124, -128))  # raw = value * 2**5
    e = p.body.body.value  # type: ignore[attr-defined]
    assert e.values == (1e-05, -2.5e20, 0.1)  # f32 literals through float(): the printed text round-trips
    s = parse(SCALARS)
    consts = {t.type: t.values for t in terms(s) if isinstance(t, Const)}
    assert consts[fixed(3, -2)] == (-4,)  # frac = 5: -0.125 = -4 * 2**-5
    assert consts[fixed(12, 20)] == (-2048,)  # frac = -8: raw = value / 256, the most negative
    assert consts[ufixed(1, 1)] == (1,)
    (neg_zero,), (big,) = (t.values for t in terms(s) if isinstance(t, Const) and t.type == FLOAT)
    assert neg_zero == 0.0 and np.signbit(neg_zero)  # `-0` keeps its sign
    assert big == 123456.7890625


def test_free_form_text_parses_like_the_canonical_form() -> None:
    loose = (
        "# a comment before the program\r\n"
        "def layer ( x : [ 8 ] [4]fixed< 16 , 6 >,w:[4]fixed<8,1>,\n\t t: bool)=map(fun(row)=>  # comment\n"
        "  let s = reduce(fun (acc,p)=>cast<fixed<24,10>,TRN,WRAP>(add(acc,mul(get<0>(p),get<1>(p)))),\n"
        "  const<fixed<24,10>>(0.0), zip(row, w)) in cast<fixed<8,3>, RND, SAT>(max(s,const<fixed<24,10>>(25e-2))),\n"
        "  x)   # trailing comment, no final newline"
    )
    p = parse(loose)
    assert p == parse(LAYER)
    assert print_program(p) == LAYER


def test_parse_term_and_type() -> None:
    t = parse_term("map(fun (x: fixed<8,2>) => neg(x), v)")
    assert t == Prim("map", (), (Lam((Param("x", fixed(8, 2)),), Prim("neg", (), (Var("x"),))), Var("v")))
    assert parse_term(print_term(t)) == t
    assert parse_type("[4](fixed<8,-2>, ufixed<3,9>, f32)") == Array(
        4, Tuple((fixed(8, -2), ufixed(3, 9), FLOAT)))
    assert parse_type("((bool, f32), [2][3]bool)") == Tuple((Tuple((BOOL, FLOAT)), Array(2, Array(3, BOOL))))
    assert parse_type(" fixed<1,0> # c") == fixed(1, 0)
    assert parse_term("fun () => x") == Lam((), Var("x"))  # printable, so parseable (the checker rejects it)
    assert parse("def f(x) = x") == Program("f", (Param("x"),), Var("x"))  # likewise an untyped parameter
    names = parse_term("let fixedness = lets in letx")  # keywords only as whole words
    assert names == Let("fixedness", Var("lets"), Var("letx"))


def test_keywords_agree_with_the_checker() -> None:
    assert keywords() == KEYWORDS
    for word in sorted(keywords()):
        with pytest.raises(IRError, match="expected a name"):
            parse(f"def f(x: bool) = let {word} = x in x")


def test_later_registered_primitives_parse() -> None:
    base = PRIMITIVES["map"]
    prim = Primitive("test_mapseq", ("int",), 2, base.type_rule, base.evaluate, "test only", fn_args=(0,),
                     fn_params=(1,), lowered=True)
    text = "def f(x: [4]bool) =\n  test_mapseq<2>(fun v => v, x)\n"
    with pytest.raises(IRError, match="unknown primitive `test_mapseq`"):
        parse(text)
    PRIMITIVES[prim.name] = prim
    try:
        p = parse(text)
        assert p.body == Prim("test_mapseq", (2,), (Lam((Param("v"),), Var("v")), Var("x")))
        assert print_program(p) == text
    finally:
        del PRIMITIVES[prim.name]


@CI
@given(st.data())
def test_fixed_literals_parse_exactly(data: st.DataObject) -> None:
    """Any decimal text: the parser's fast path agrees with numerics.exact_raw (Fraction) on value and errors."""
    t = Fixed(data.draw(st.integers(1, 80)), data.draw(st.integers(-20, 90)), data.draw(st.booleans()))
    raw = data.draw(st.integers(t.min_raw, t.max_raw))
    text = fx.raw_to_text(raw, t)
    assert parse_term(f"const<{t}>({text})") == Const(t, (raw,))
    digits = data.draw(st.from_regex(r"-?[0-9]{1,30}(\.[0-9]{1,30})?([eE][+-]?[0-9]{1,2})?", fullmatch=True))
    try:
        want: int | None = fx.exact_raw(digits, t)  # type: ignore[arg-type]
    except IRError:
        want = None
    if want is None:
        with pytest.raises(IRError, match=r"is not a multiple|is out of range"):
            parse_term(f"const<{t}>({digits})")
    else:
        assert parse_term(f"const<{t}>({digits})") == Const(t, (want,))


# ---------------------------------------------------------------------------------------------- positions
def _token_at(text: str, pos: Pos) -> str:
    return text.split("\n")[pos.line - 1][pos.column - 1:]


def _check_positions(p: Program, text: str, source: str | None) -> None:
    assert p.pos == Pos(1, 1, source)
    for t in terms(p):
        assert t.pos is not None and t.pos.source == source, t
        here = _token_at(text, t.pos)
        if isinstance(t, Var):
            assert here.startswith(t.name)
        elif isinstance(t, Prim):
            assert here.startswith(t.op + ("<" if t.static else "("))
        else:
            assert here.startswith({Let: "let ", Lam: "fun ", Const: "const<"}[type(t)])


@pytest.mark.parametrize("text", HAND, ids=["every", "layer", "deep", "scalars"])
def test_every_term_has_its_position(text: str) -> None:
    _check_positions(parse(text, "model.ir"), text, "model.ir")


def test_checker_errors_carry_parsed_positions() -> None:
    text = "def f(x: [4]fixed<8,2>) =\n  map(\n    fun v => add(v, w),\n    x\n  )\n"
    with pytest.raises(IRError) as e:
        check(parse(text, "net.ir"))
    assert e.value.where == "net.ir:3:21"
    assert "unknown variable `w`" in e.value.what


# ---------------------------------------------------------------------------------------------- errors
BAD = [
    # (text, where, message fragment)
    ("def f(x: bool) = x y", "1:20", "expected `(`, `<` or end of input, found name `y`"),
    ("def f(x: bool) =", "1:17", "expected a term, found end of input"),
    ("def f(x: bool) = add(x, x", "1:26", "expected `)` or `,`, found end of input"),
    ("def f(x: bool) =\n  map(fun v => v, x) @", "2:22", "expected end of input, found `@`"),
    ("def f(x: bool) = x\ndef g(y: bool) = y", "2:1", "found keyword `def`"),
    ("def f(x: [4]bool) = map(fun (v: bool => v, x)", "1:38", "expected `)` or `,`, found `=>`"),
    ("def f(x: bool) = let in = x in x", "1:22", "expected a name, found keyword `in`"),
    ("def f(x: (bool)) = x", "1:15", "expected `,`, found `)`"),
    ("", "1:1", "expected `def`, found end of input"),
    ("def f(x: bool) = const<bool>()", "1:30", "expected a literal, found `)`"),
    ("def f(x: [4]bool) = split<foo>(x)", "1:27", "expected a static parameter (an integer, a type or a mode"),
    ("def f(x: [4]bool) = split<-1>(x)", "1:27", "must be a non-negative integer, a type or a mode"),
    ("def f(x: [4]bool) = split<1.5>(x)", "1:27", "found number `1.5`"),
    ("def f(x: [4]bool) = mapp(fun v => v, x)", "1:21", "unknown primitive `mapp`; did you mean `map`"),
    ("def f(x: [4]bool) = frobnicate(x)", "1:21", "unknown primitive `frobnicate`; known primitives: `add`"),
    ("def f(x: fixed<0,2>) = x", "1:10", "fixed-point width must be a positive integer, got 0"),
    ("def f(x: [0]bool) = x", "1:10", "array size must be a positive integer, got 0"),
    ("def f(x: fixed<8,2.5>) = x", "1:18", "must be an integer, found number `2.5`"),
    ("def f(x: fixed<200,2>) = x", "1:10", "exceeds the maximum"),
    ("def f() =\n  const<[3]bool>([true, false])", "2:18", "needs a list of 3 elements at nesting depth 1, found 2"),
    ("def f() = const<[2]bool>(true)", "1:26", "needs a list of 2 elements at nesting depth 1, found `true`"),
    ("def f() = const<[2][1]bool>([[true], [[false]]])", "1:39", "nests too deeply"),
    ("def f() = const<fixed<8,3>>(0.1)", "1:29", "literal 0.1 is not a multiple of fixed<8,3>'s resolution 2^-5"),
    ("def f() = const<ufixed<4,4>>(-1)", "1:30", "literal -1 is out of range of ufixed<4,4> (which holds 0 to 15)"),
    ("def f() = const<fixed<8,3>>(4)", "1:29", "out of range of fixed<8,3> (which holds -4 to 3.96875)"),
    ("def f() = const<fixed<8,3>>(true)", "1:29", "expected a number for a fixed<8,3> constant, found `true`"),
    ("def f() = const<bool>(1)", "1:23", "expected `true` or `false` for a bool constant, found number `1`"),
    ("def f() = const<f32>(1e39)", "1:22", "literal 1e39 is out of range of f32"),
    ("def f() = const<(bool, bool)>(true)", "1:11", "constants must have scalar or array-of-scalar type"),
    ("def f(x: fixed<-1,2>) = x", "1:16", "a fixed-point width must be a non-negative integer, found number `-1`"),
    ("def f() = const<fixed<8,3>>(1e99999999)", "1:29", "literal `1e99999999` has too large an exponent"),
    ("def f() = const<fixed<8,3>>(1e-99999)", "1:29", "is not representable in any fixed-point type"),
    (f"def f() = const<fixed<8,3>>({'1' * 5000})", "1:29", "has too many digits"),
    (f"def f(x: [{'9' * 5000}]bool) = x", "1:11", "has too many digits"),
]


@pytest.mark.parametrize(("text", "where", "what"), BAD, ids=[f"bad{i}" for i in range(len(BAD))])
def test_parse_errors(text: str, where: str, what: str) -> None:
    with pytest.raises(IRError) as e:
        parse(text, "m.ir")
    assert e.value.where == f"m.ir:{where}"
    assert what in e.value.what
    assert "\n" not in str(e.value)
    assert type(e.value) is IRError and e.value.__cause__ is None  # nothing from lark attached
    with pytest.raises(IRError) as e2:  # without a source name: just line:col
        parse(text)
    assert e2.value.where == where


def test_errors_in_terms_and_types() -> None:
    with pytest.raises(IRError, match="expected `,`, found `>`"):
        parse_type("fixed<8>")
    with pytest.raises(IRError) as e:
        parse_term("add(x, y) z", "t.ir")
    assert e.value.where == "t.ir:1:11"


# ---------------------------------------------------------------------------------------------- generated programs
@CI
@given(programs())
def test_round_trip_generated(p: Program) -> None:
    text = print_program(p)
    q = parse(text, "gen.ir")
    assert q == p
    assert print_program(q) == text
    assert parse_term(print_term(p.body)) == p.body
    _check_positions(q, text, "gen.ir")


@CI
@given(types())
def test_round_trip_types(t: Type) -> None:
    assert parse_type(str(t)) == t


def _check_value(v: object, t: Type, lead: tuple[int, ...]) -> None:
    """v is a well-formed interpreter value of type t with leading axes `lead`."""
    if isinstance(t, Array):
        return _check_value(v, t.elem, (*lead, t.size))
    if isinstance(t, Tuple):
        assert isinstance(v, tuple) and len(v) == len(t.elems)
        for c, e in zip(v, t.elems, strict=True):
            _check_value(c, e, lead)
        return None
    a = np.asarray(v)
    assert a.shape == lead, (a.shape, lead, t)
    if isinstance(t, Fixed):
        assert a.dtype == (np.int64 if fx.dtype_for(t) is np.int64 else object)
        assert a.size == 0 or (t.min_raw <= a.min() and a.max() <= t.max_raw), t
    elif isinstance(t, Bool):
        assert a.dtype == np.bool_
    else:
        assert a.dtype == np.float32 and np.isfinite(a).all()
    return None


@CI
@given(st.data())
def test_generated_programs_check_and_evaluate(data: st.DataObject) -> None:
    p = data.draw(programs(), label="program")
    q, typing = check(p)
    batch = 3
    xs = data.draw(inputs(p, batch), label="inputs")
    for x, prm in zip(xs, p.params, strict=True):
        assert prm.type is not None
        _check_value(x, prm.type, (batch,))
    out = evaluate(p, *xs, typed=(q, typing))
    _check_value(out, typing[q.body], (batch if p.params else 1,))  # no inputs: a batch of one


def test_generator_covers_the_core() -> None:
    """Deterministic seeds: every core primitive, every mode, binders and shadowing appear; all check."""
    ops: set[str] = set()
    statics: set[object] = set()
    annotated = shadowed = lets = 0
    for seed in range(150):
        p = random_program(seed)
        check(p)
        names = {q.name for q in p.params}
        for t in terms(p):
            if isinstance(t, Prim):
                ops.add(t.op)
                statics.update(s for s in t.static if isinstance(s, str))
            elif isinstance(t, Lam):
                annotated += any(q.type is not None for q in t.params)
            elif isinstance(t, Let):
                lets += 1
                shadowed += t.name in names
                names.add(t.name)
    assert set(CORE) <= ops, set(CORE) - ops
    assert statics == {"TRN", "RND", "WRAP", "SAT"}
    assert annotated and shadowed and lets


def test_generated_inputs_are_in_range() -> None:
    p = Program("f", (Param("a", Array(3, Tuple((fixed(40, 3), ufixed(70, 70))))), Param("b", Array(2, FLOAT)),
                      Param("c", BOOL)), Var("a"))
    a, b, c = random_inputs(p, 5, seed=1)
    _check_value(a, p.params[0].type, (5,))  # type: ignore[arg-type]
    _check_value(b, p.params[1].type, (5,))  # type: ignore[arg-type]
    _check_value(c, BOOL, (5,))
    assert np.abs(b).max() <= 2.0**F32_INPUT_LOG2
    assert a[1].dtype == object and a[0].dtype == np.int64  # 70 bits need Python integers
