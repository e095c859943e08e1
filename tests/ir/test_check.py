"""Checker errors (ir/check.py): each names the offending term, its source position and, for type clashes, both
types. Programs are written in the text form so the positions are real."""

import pytest

from vhls.ir.check import check, check_term, type_of_program
from vhls.ir.errors import IRError
from vhls.ir.parser import parse
from vhls.ir.terms import Const, Lam, Let, Param, Prim, Program, Var
from vhls.ir.types import BOOL, FLOAT, Array, Tuple, fixed


def error(text: str) -> IRError:
    with pytest.raises(IRError) as e:
        check(parse(text, "c.ir"))
    assert "\n" not in str(e.value)
    return e.value


def assert_error(text: str, where: str, term: str, *fragments: str) -> None:
    e = error(text)
    assert e.where == f"c.ir:{where}", e
    assert e.what.startswith(f"in `{term}`: "), e
    for f in fragments:
        assert f in e.what, e


def test_zip_size_mismatch() -> None:
    assert_error("def f(a: [4]bool, b: [5]fixed<8,2>) =\n  zip(a, b)", "2:3", "zip(a, b)",
                 "arrays must have the same size", "[4]bool", "[5]fixed<8,2>")


def test_reduce_accumulator_type_mismatch() -> None:
    assert_error("def f(a: [4]fixed<8,0>) =\n  reduce(fun (acc, x) => add(acc, x), const<fixed<8,0>>(0), a)", "2:3",
                 "reduce(fun (acc, x) => add(acc, x), const<fixed<8,0>>(0), a)",
                 "must return the accumulator's type", "expected fixed<8,0>, got fixed<9,1>")


@pytest.mark.parametrize("op", ["add", "sub", "mul", "max", "min", "lt", "eq"])
def test_mixing_f32_and_fixed(op: str) -> None:
    assert_error(f"def f(x: f32, y: fixed<8,2>) =\n  {op}(x, y)", "2:3", f"{op}(x, y)",
                 "cannot mix f32 and fixed-point", "f32", "fixed<8,2>")


def test_mixing_f32_and_fixed_in_select() -> None:
    assert_error("def f(c: bool, x: f32, y: ufixed<4,4>) =\n  select(c, y, x)", "2:3", "select(c, y, x)",
                 "cannot mix f32 and fixed-point", "ufixed<4,4>", "f32")


def test_unknown_variable() -> None:
    assert_error("def f(a: [4]bool) =\n  map(\n    fun x => tuple(x, b),\n    a\n  )", "3:23", "b",
                 "unknown variable `b`")


def test_variable_out_of_scope_after_lambda() -> None:
    assert_error("def f(a: [4]bool) =\n  tuple(map(fun x => x, a), x)", "2:29", "x", "unknown variable `x`")


@pytest.mark.parametrize(("call", "fragment"), [
    ("split(a)", "split takes 1 static parameter(s), got 0"),
    ("slide<2>(a)", "slide takes 2 static parameter(s), got 1"),
    ("pad<1, 2, 3>(a)", "pad takes 2 static parameter(s), got 3"),
    ("join<2>(a)", "join takes 0 static parameter(s), got 1"),
    ("map<1>(fun x => x, a)", "map takes 0 static parameter(s), got 1"),
    ("cast<f32, TRN, WRAP, SAT>(a)", "cast takes 1 to 3 static parameter(s), got 4"),
])
def test_wrong_static_count(call: str, fragment: str) -> None:
    assert_error(f"def f(a: [4]bool) =\n  {call}", "2:3", call, fragment)


@pytest.mark.parametrize(("call", "fragment"), [
    ("cast<fixed<8,2>>(x)", "needs a quantisation mode (TRN|RND) and an overflow mode (WRAP|SAT)"),
    ("cast<f32, TRN, WRAP>(x)", "cast<f32> takes no rounding modes"),
    ("cast<3, TRN, WRAP>(x)", "static parameter 3 should be a type"),
    ("cast<fixed<8,2>, WRAP, TRN>(x)", "static parameter WRAP should be TRN|RND"),
    ("shl<TRN>(x)", "static parameter TRN should be a non-negative integer"),
])
def test_wrong_static_kind(call: str, fragment: str) -> None:
    assert_error(f"def f(x: fixed<8,2>) =\n  {call}", "2:3", call, fragment)


@pytest.mark.parametrize(("body", "where", "term", "fragment"), [
    ("let g = fun x => x in a", "2:3", "let g = fun x => x in a", "a let cannot bind a function"),
    ("fun x => x", "2:3", "fun x => x", "a lambda can only be the function argument of a primitive"),
    ("add(fun x => x, a)", "2:7", "fun x => x", "argument 1 of add cannot be a lambda"),
    ("reduce(fun (s, x) => s, fun x => x, b)", "2:27", "fun x => x", "argument 2 of reduce cannot be a lambda"),
    ("map(a, b)", "2:7", "a", "argument 1 of map must be a lambda"),
    ("tuple(fun x => x, a)", "2:9", "fun x => x", "argument 1 of tuple cannot be a lambda"),
])
def test_lambda_in_wrong_place(body: str, where: str, term: str, fragment: str) -> None:
    assert_error(f"def f(a: fixed<8,2>, b: [2]bool) =\n  {body}", where, term, fragment)


def test_lambda_parameter_count() -> None:
    assert_error("def f(a: [4]bool) =\n  reduce(fun x => x, const<bool>(true), a)", "2:10", "fun x => x",
                 "reduce passes 2 argument(s) but the lambda takes 1")


def test_split_size_not_divisible() -> None:
    assert_error("def f(a: [10]fixed<8,2>) =\n  split<4>(a)", "2:3", "split<4>(a)",
                 "array size must be a multiple of 4", "expected [4*m]T, got [10]fixed<8,2>")


def test_annotated_lambda_parameter_mismatch() -> None:
    assert_error("def f(a: [4]bool) =\n  map(fun (x: fixed<8,2>) => x, a)", "2:7", "fun (x: fixed<8,2>) => x",
                 "parameter `x` is annotated fixed<8,2> but receives bool")


def test_annotated_reduce_parameter_mismatch() -> None:
    assert_error("def f(a: [4]bool) =\n  reduce(fun (s: f32, x) => s, const<bool>(true), a)", "2:10",
                 "fun (s: f32, x) => s", "parameter `s` is annotated f32 but receives bool")


def test_error_inside_a_lambda_points_inside() -> None:
    text = ("def f(a: [4][2]fixed<8,2>) =\n"
            "  map(\n"
            "    fun row =>\n"
            "      reduce(fun (s, x) => add(s, x), const<f32>(0), row),\n"
            "    a\n"
            "  )\n")
    assert_error(text, "4:28", "add(s, x)", "cannot mix f32 and fixed-point", "f32", "fixed<8,2>")


def test_long_terms_are_abbreviated() -> None:
    e = error("def f(a: [4]bool, b: [3]bool) =\n  zip(a, map(fun x => tuple(x, x, x, x, x, x, x, x, x, x, x, x), b))")
    assert e.what.startswith("in `zip(a, map(fun x => tuple(x, x, x, x, x, x, x, x, x, x, x...`: ")
    assert "expected [4]bool, got [3](bool," in e.what


def test_other_type_errors_name_both_types() -> None:
    assert_error("def f(a: [4]bool) =\n  join(a)", "2:3", "join(a)", "expected [m][n]T, got [4]bool")
    assert_error("def f(a: [4]bool) =\n  unzip(a)", "2:3", "unzip(a)", "expected [n](A, B, ...), got [4]bool")
    assert_error("def f(a: [4]bool) =\n  select(a, a, a)", "2:3", "select(a, a, a)", "expected bool, got [4]bool")
    assert_error("def f(a: [4]bool) =\n  get<0>(a)", "2:3", "get<0>(a)", "expected (A, B, ...), got [4]bool")
    assert_error("def f(a: [4]bool) =\n  slide<5, 1>(a)", "2:3", "slide<5, 1>(a)", "got [4]bool")
    assert_error("def f() =\n  iota<4, fixed<2,2>>()", "2:3", "iota<4, fixed<2,2>>()", "cannot hold 0..3")


# ---------------------------------------------------------------------------------------------- names
def test_reserved_names() -> None:
    assert_error("def f(a: bool) =\n  let map = a in map", "2:3", "let map = a in map", "`map` is reserved")
    assert_error("def f(a: [2]bool) =\n  reduce(fun (zip, y) => zip, const<bool>(true), a)", "2:10",
                 "fun (zip, y) => zip", "`zip` is reserved")


def test_program_level_errors() -> None:
    e = error("def f(a: [4]bool, a: bool) =\n  a")
    assert e.where == "c.ir:1:1" and "parameter `a` of `f` is declared twice" in e.what
    e = error("def f(a) =\n  a")
    assert e.where == "c.ir:1:1" and "parameter `a` of `f` needs a type" in e.what


@pytest.mark.parametrize("name", ["let", "fixed", "TRN", "x y", "1x", "", "a-b"])
def test_names_the_text_form_cannot_spell(name: str) -> None:
    """Every checked program must print to parseable text: no keywords or non-identifiers as names."""
    with pytest.raises(IRError, match=r"cannot name a variable|is not a name"):
        check(Program("f", (Param(name, BOOL),), Var(name)))
    with pytest.raises(IRError, match=r"cannot name a variable|is not a name"):
        check_term(Let(name, Const(BOOL, (True,)), Var(name)))
    with pytest.raises(IRError, match=r"cannot name a program|is not a name"):
        check(Program(name, (), Const(BOOL, (True,))))


def test_f32_constants_must_fit_f32() -> None:
    with pytest.raises(IRError, match="f32 constant out of range"):
        check(Program("f", (), Const(Array(2, FLOAT), (1.0, 1e300))))
    assert type_of_program(Program("f", (), Const(FLOAT, (3.0e38,)))) == FLOAT


def test_terms_built_in_python_have_no_position() -> None:
    bad = Prim("zip", (), (Var("a"), Var("b")))
    with pytest.raises(IRError) as e:
        check_term(bad, {"a": Array(2, BOOL), "b": Array(3, BOOL)})
    assert e.value.where is None and "expected [2]bool, got [3]bool" in e.value.what


def test_well_typed_examples() -> None:
    p = parse("def f(a: [4]fixed<8,2>, b: [4]fixed<8,2>) =\n"
              "  reduce(fun (s, p) => cast<fixed<20,8>, TRN, WRAP>(add(s, mul(get<0>(p), get<1>(p)))),\n"
              "    const<fixed<20,8>>(0), zip(a, b))\n")
    assert type_of_program(p) == fixed(20, 8)
    lam = Lam((Param("x"),), Prim("tuple", (), (Var("x"), Var("x"))))
    _, typing = check_term(Prim("map", (), (lam, Var("v"))), {"v": Array(3, BOOL)})
    assert Tuple((BOOL, BOOL)) in typing.types.values()
