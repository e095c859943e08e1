"""Model, float reference pass and static counts on a small hand-built program."""

import numpy as np
import pytest

from vhls.ir.analysis import op_counts
from vhls.ir.errors import VhlsError
from vhls.ir.floating import to_float
from vhls.ir.interp import run
from vhls.ir.terms import Const, Lam, Param, Prim, Program, Var
from vhls.ir.types import Array, fixed
from vhls.model import Model

T = fixed(8, 4)


def scale_program() -> Program:
    """x * 1.5 shifted left by one, summed: sum(shl<1>(x * 1.5)) in fixed<16,8>."""
    body = Prim("reduce", (), (
        Lam((Param("acc"), Param("v")),
            Prim("cast", (fixed(16, 8), "TRN", "WRAP"), (Prim("add", (), (
                Var("acc"), Prim("shl", (1,), (Prim("mul", (), (Var("v"), Const(T, (24,)))),)))),))),
        Const(fixed(16, 8), (0,)),
        Var("x"),
    ))
    return Program("scale", (Param("x", Array(3, T)),), body)


def test_float_pass_keeps_meaning_for_exact_values() -> None:
    p = scale_program()
    x = np.array([[1.0, -2.5, 0.25]])
    assert run(p, x)[0] == pytest.approx(3 * (1.0 - 2.5 + 0.25))
    assert run(to_float(p), x)[0] == pytest.approx(3 * (1.0 - 2.5 + 0.25))


def test_op_counts_multiply_through_reduce() -> None:
    counts = op_counts(scale_program())
    assert counts["mul"] == 3 and counts["shl"] == 3 and counts["reduce"] == 1


def test_model_run_single_and_batch() -> None:
    m = Model(scale_program())
    assert m.run([1.0, 1.0, 1.0]) == pytest.approx(9.0)
    assert m.run(np.ones((5, 3))).shape == (5,)
    assert m.run(np.ones((5, 3)), exact=False).shape == (5,)
    with pytest.raises(VhlsError, match=r"takes \(3,\)"):
        m.run(np.ones((5, 4)))


def test_model_inputs_round_to_nearest_and_saturate() -> None:
    m = Model(scale_program())
    raw = m.quantise_input([100.0, -100.0, 0.03125 + 0.0625])  # 1/16 resolution: 0.09375 rounds half up
    assert raw.tolist() == [127, -128, 2]
