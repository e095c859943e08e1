"""Kernel combinators build the IR a user expects and compute what numpy computes."""

import numpy as np
import pytest

from vhls.ir import numerics as fx
from vhls.ir.errors import VhlsError
from vhls.kernel import array, cast, const, dot, fixed, get, kernel, let, maximum, pad, slide, transpose, vmap, vzip
from vhls.loader import load

IN = fixed(8, 3)


def test_matmul_example_is_exact_integer_matmul() -> None:
    model = load("examples/matmul.py")
    rng = np.random.default_rng(1)
    x = rng.uniform(-16, 16, size=(50, 4, 8))
    got = model.run_raw(model.quantise_input(x))
    xr = fx.from_float(x, IN, "RND", "SAT")
    w = fx.from_float(np.random.default_rng(7).uniform(-2, 2, size=(8, 4)), IN, "RND", "SAT")
    # products carry 5 + 5 fraction bits; the fixed<24,10> accumulator has 14
    acc = fx.overflow(np.einsum("bij,jk->bik", xr, w) << 4, fixed(24, 10), "WRAP")
    want = fx.convert(acc, fixed(24, 10), fixed(16, 6), "RND", "SAT")
    assert np.array_equal(got, want)


def test_conv1d_kernel_matches_numpy() -> None:
    taps = np.array([0.25, -0.5, 1.0])
    w = const(taps, IN)

    def conv1d(x):  # valid 1-D convolution with padding 1, written with slide and a dot product
        return vmap(lambda win: dot(win, w, fixed(20, 8)).cast(fixed(12, 5), "RND", "SAT"), slide(3, 1, pad(1, 1, x)))

    model = kernel(conv1d, x=array(IN, 16))
    x = np.random.default_rng(3).integers(-32, 32, size=(20, 16)) / 8.0  # exactly representable
    got = model.run(x)
    xp = np.pad(x, ((0, 0), (1, 1)))
    want = np.stack([xp[:, i:i + 3] @ taps for i in range(16)], axis=1)
    assert np.array_equal(got, np.clip(np.floor(want * 2**7 + 0.5) / 2**7, -16, 16 - 2**-7))  # RND, SAT
    assert np.allclose(model.run(x, exact=False), want)
    assert "slide<3, 1>(pad<1, 1>(x))" in model.text()


def test_python_parameter_names_survive_and_stay_unique() -> None:
    model = kernel(lambda x: vmap(lambda row: vmap(lambda row: row, row), x), x=array(IN, 2, 2), name="ident")
    text = model.text()
    assert "fun row =>" in text and "fun row2 =>" in text


def test_let_tuple_and_max() -> None:
    def f(x):
        return let(vzip(x, x), lambda pairs: vmap(lambda p: maximum(get(p, 0), cast(get(p, 1), IN)), pairs))

    model = kernel(f, x=array(IN, 5))
    x = np.linspace(-3, 3, 5)[None]
    assert np.array_equal(model.run(x), x)
    assert np.array_equal(model.run(x, exact=False), x)


def test_bare_python_numbers_are_refused() -> None:
    with pytest.raises(VhlsError, match="give it a type"):
        kernel(lambda x: vmap(lambda v: v * 2, x), x=array(IN, 4))


def test_kernel_needs_exactly_one_typed_input() -> None:
    with pytest.raises(VhlsError, match="exactly one typed input"):
        kernel(lambda x, y: x, x=array(IN, 4), y=array(IN, 4))
    with pytest.raises(VhlsError, match="needs an IR type"):
        kernel(lambda x: x, x=(4,))


def test_transpose_kernel_type() -> None:
    model = kernel(transpose, x=array(IN, 2, 3))
    assert str(model.output_type) == "[3][2]fixed<8,3>"
