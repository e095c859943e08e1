"""Recognising dense stages in IR programs, and refusing everything else by name."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from nn_nets import _cast, _p, dense, kernel_style_model, narrow_acc, rand_const, relu, two_layer

from vhls.backends.nn import recognise
from vhls.ir import numerics as fx
from vhls.ir.errors import VhlsError
from vhls.ir.interp import evaluate
from vhls.ir.terms import Const, Lam, Let, Param, Prim, Program, Var
from vhls.ir.types import Array, fixed

REPO = Path(__file__).resolve().parents[2]


def _reference(net, raw: np.ndarray) -> np.ndarray:
    """The recognised layers evaluated with plain numpy + numerics: must equal the IR interpreter."""
    v, t = raw.astype(np.int64), net.in_type
    for ly in net.layers:
        prods = ly.weights.astype(np.int64)[None, :, :] * v[:, None, :]  # exact: narrow test types
        d = ly.acc_type.frac - ly.prod_type.frac
        prods = prods << d if d >= 0 else fx.quantise(prods, -d, ly.prod_q)
        v, t = fx.overflow(prods.sum(axis=2) + ly.bias.astype(np.int64), ly.acc_type, "WRAP"), ly.acc_type
        for op in ly.post:
            if op.kind == "cast":
                v = fx.convert(v, t, op.type, op.q, op.o)
            else:
                assert op.const_type is not None
                c = fx.align(np.int64(op.const), op.const_type, op.type.frac)
                v = fx.align(v, t, op.type.frac)
                v = np.maximum(v, c) if op.kind == "max" else np.minimum(v, c)
            t = op.type
    return v


@pytest.mark.parametrize("prog", [two_layer(), narrow_acc()], ids=lambda p: p.name)
def test_recognised_layers_compute_the_program(prog: Program) -> None:
    net = recognise(prog)
    assert len(net.layers) == 2
    t = prog.params[0].type.elem
    raw = np.random.default_rng(0).integers(t.min_raw, t.max_raw, size=(200, net.n_in), endpoint=True)
    np.testing.assert_array_equal(_reference(net, raw), np.asarray(evaluate(prog, raw)))


def test_separate_and_fused_relu_give_the_same_stage() -> None:
    rng = np.random.default_rng(3)
    xt, at, ot = fixed(8, 3), fixed(20, 8), fixed(8, 4)
    w, b = rand_const(rng, xt, 4, 6), rand_const(rng, xt, 4)
    x = Var("x")
    fused = Program("f", (Param("x", Array(6, xt)),), dense(w, b, x, at, ot, relu=True))
    separate = Program("s", (Param("x", Array(6, xt)),), relu(dense(w, b, x, at, ot), ot))
    a, s = recognise(fused).layers[0], recognise(separate).layers[0]
    assert [p.describe() for p in a.post] == [p.describe() for p in s.post] == ["cast<fixed<8,4>,TRN,WRAP>", "max(0)"]
    np.testing.assert_array_equal(a.weights, s.weights)


def test_jet_mlp_example_is_four_dense_stages() -> None:
    path = REPO / "examples" / "jet_mlp.py"
    if not path.exists() or importlib.util.find_spec("vhls.layers") is None:
        pytest.skip("examples/jet_mlp.py is not there yet")
    from vhls import load

    net = recognise(load(path).ir)
    assert [(ly.n_in, ly.n_out) for ly in net.layers] == [(16, 64), (64, 32), (32, 32), (32, 5)]
    assert [len(ly.post) for ly in net.layers] == [2, 2, 2, 1]


# ---------------------------------------------------------------------------------------------- refusals
XT, ACC, OUT = fixed(8, 3), fixed(20, 8), fixed(8, 4)


def _prog(body, n: int = 6) -> Program:
    return Program("bad", (Param("x", Array(n, XT)),), body)


def _wb(n_out: int = 4, n_in: int = 6, seed: int = 0) -> tuple[Const, Const]:
    rng = np.random.default_rng(seed)
    return rand_const(rng, XT, n_out, n_in), rand_const(rng, XT, n_out)


def test_refuses_saturating_accumulation() -> None:
    w, b = _wb()
    bad = dense(w, b, Var("x"), ACC, OUT, acc_o="SAT")
    with pytest.raises(VhlsError, match="saturating accumulation"):
        recognise(_prog(bad))


def test_refuses_branching_dataflow() -> None:
    w, b = _wb(6, 6)
    w2, b2 = _wb(6, 6, 1)
    h = dense(w, b, Var("x"), ACC, XT)
    skip = _p("map", Lam((Param("t"),), _cast(_p("add", _p("get", Var("t"), static=(0,)),
                                                    _p("get", Var("t"), static=(1,))), XT)),
              _p("zip", Var("h"), dense(w2, b2, Var("h"), ACC, XT)))
    with pytest.raises(VhlsError, match="nn backend: unsupported term"):
        recognise(_prog(Let("h", h, skip)))
    # the same value used twice by two dense layers
    twice = Let("h", h, Let("a", dense(w2, b2, Var("h"), ACC, XT), dense(w2, b2, Var("h"), ACC, XT)))
    with pytest.raises(VhlsError, match="straight chain"):
        recognise(_prog(twice))


def test_refuses_elementwise_before_first_layer() -> None:
    w, b = _wb()
    with pytest.raises(VhlsError, match="before the first dense layer"):
        recognise(_prog(dense(w, b, relu(Var("x"), XT), ACC, OUT)))


def test_refuses_non_constant_weights_and_other_primitives() -> None:
    with pytest.raises(VhlsError, match=r"unsupported term `slide"):
        recognise(Program("c", (Param("x", Array(6, XT)),), _p("slide", Var("x"), static=(3, 1))))
    with pytest.raises(VhlsError, match=r"no dense layer|unsupported"):
        recognise(Program("id", (Param("x", Array(6, XT)),), Var("x")))


def test_refuses_four_dimensional_input() -> None:
    prog = Program("m", (Param("x", Array(2, Array(2, Array(2, Array(6, XT))))),), Var("x"))
    with pytest.raises(VhlsError, match=r"a vector, a matrix or a \[C\]\[H\]\[W\] feature map"):
        recognise(prog)


def test_kernel_style_transposed_weights_without_bias() -> None:
    model = kernel_style_model()
    net = recognise(model.ir)
    (ly,) = net.layers
    assert (ly.n_in, ly.n_out) == (8, 4) and not ly.bias.any()
    raw = np.random.default_rng(1).integers(-128, 127, size=(100, 8), endpoint=True)
    np.testing.assert_array_equal(_reference(net, raw), model.run_raw(raw))


def test_lowered_forms_are_refused_with_a_hint() -> None:
    import vhls.rewrites  # noqa: F401  (registers mapPar/mapSeq/...)

    w, b = _wb()
    d = dense(w, b, Var("x"), ACC, OUT)
    lowered = Prim("mapSeq", d.static, d.args)
    with pytest.raises(VhlsError, match=r"unsupported term `mapSeq.*lowered forms"):
        recognise(_prog(lowered))
