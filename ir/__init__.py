"""vhls.ir: the functional IR — types, terms, primitive registry, checker, text form and golden interpreter."""

from vhls.ir.check import Typing, check, check_term
from vhls.ir.errors import IRError, Pos, VhlsError
from vhls.ir.interp import decode, encode, evaluate, run
from vhls.ir.parser import parse, parse_term, parse_type
from vhls.ir.prims import PRIMITIVES, Primitive, register
from vhls.ir.printer import print_program, print_term
from vhls.ir.terms import Const, Lam, Let, Param, Prim, Program, Term, Var, const, quantised_const
from vhls.ir.types import BOOL, F32, FLOAT, Array, Bool, Fixed, Tuple, Type, array, fixed, ufixed

__all__ = [
    "BOOL", "F32", "FLOAT", "PRIMITIVES", "Array", "Bool", "Const", "Fixed", "IRError", "Lam", "Let", "Param",
    "Pos", "Prim", "Primitive", "Program", "Term", "Tuple", "Type", "Typing", "Var", "VhlsError", "array",
    "check", "check_term", "const", "decode", "encode", "evaluate", "fixed", "parse", "parse_term", "parse_type",
    "print_program", "print_term",
    "quantised_const", "register", "run", "ufixed",
]
