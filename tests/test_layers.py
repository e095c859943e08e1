"""Layer DSL: per-layer golden results against an independent ap_fixed reference, float mode against torch,
BatchNorm folding, precision parsing, the IR's shape and stability, and one-line user errors."""

from fractions import Fraction

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from vhls.ir.errors import VhlsError
from vhls.ir.terms import Let, Prim, Var
from vhls.ir.types import Fixed
from vhls.layers import AvgPool2d, BatchNorm, Conv2d, Dense, Flatten, Input, MaxPool2d, ReLU, Sequential
from vhls.precision import DEFAULT, Precision, Quant, as_precision, dot_accumulator, quant


# ---------------------------------------------------------------------------------------------- reference
# An independent ap_fixed model on Python integers and Fractions (deliberately shares no code with vhls.ir.numerics).
def _fit(n: int, w: int, o: str, signed: bool = True) -> int:
    lo, hi = (-(2 ** (w - 1)), 2 ** (w - 1) - 1) if signed else (0, 2**w - 1)
    if o == "SAT":
        return min(max(n, lo), hi)
    return (n - lo) % 2**w + lo


def ref_quantise(x: np.ndarray, w: int, i: int, q: str = "RND", o: str = "SAT", signed: bool = True) -> np.ndarray:
    """Real numbers -> raw integers of fixed<w,i> (round half up or floor, then saturate or wrap)."""
    def one(v: float) -> int:
        s = Fraction(float(v)) * Fraction(2) ** (w - i)
        n = (s + Fraction(1, 2)).__floor__() if q == "RND" else s.__floor__()
        return _fit(n, w, o, signed)

    return np.vectorize(one, otypes=[object])(np.asarray(x, dtype=np.float64))


def ref_requantise(raw: np.ndarray, frac: int, w: int, i: int, q: str = "TRN", o: str = "WRAP") -> np.ndarray:
    """Raw integers with `frac` fraction bits -> raw integers of fixed<w,i>."""
    shift = frac - (w - i)

    def one(n: int) -> int:
        n = int(n)
        if shift <= 0:
            return _fit(n * 2**-shift, w, o)
        return _fit((n + (2 ** (shift - 1) if q == "RND" else 0)) // 2**shift, w, o)

    return np.vectorize(one, otypes=[object])(raw)


def golden(model, x: np.ndarray) -> np.ndarray:
    return np.asarray(model.run_raw(model.quantise_input(x)), dtype=object)


def same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and all(int(u) == int(v) for u, v in zip(a.ravel(), b.ravel(), strict=True))


RNG = np.random.default_rng(1234)


# ---------------------------------------------------------------------------------------------- golden per layer
def test_dense_default_precision_bit_exact() -> None:
    w, b = RNG.uniform(-3, 3, (6, 10)), RNG.uniform(-2, 2, 6)
    x = RNG.uniform(-8, 8, (40, 10))  # large enough that the fixed<16,6> result wraps
    m = Sequential(Input((10,)), Dense(6, w, b), name="d")
    xr, wr, br = ref_quantise(x, 16, 6), ref_quantise(w, 16, 6), ref_quantise(b, 16, 6)
    acc = xr.dot(wr.T) + br * 2**10  # products have 20 fraction bits; exact in Python integers
    want = ref_requantise(acc, 20, 16, 6, "TRN", "WRAP")
    assert same(golden(m, x), want)
    wrapped = np.abs(xr.dot(wr.T).astype(float)) * 2.0**-20 >= 32
    assert wrapped.any()  # the test really exercises WRAP
    assert np.array_equal(m.run(x), want.astype(float) * 2.0**-10)


def test_dense_narrow_accumulator_and_modes_bit_exact() -> None:
    w, b = RNG.uniform(-4, 4, (5, 7)), RNG.uniform(-1, 1, 5)
    x = RNG.uniform(-4, 4, (30, 7))
    prec = Precision(weight="fixed<8,3,TRN,WRAP>", bias="fixed<10,4>", acc="fixed<14,6>", result="fixed<8,4,RND,SAT>")
    m = Sequential(Input((7,), "fixed<12,4>"), Dense(5, w, b, precision=prec), name="d")
    xr, wr = ref_quantise(x, 12, 4), ref_quantise(w, 8, 3, "TRN", "WRAP")
    br = ref_quantise(b, 10, 4)
    # the accumulator (8 fraction bits) truncates and wraps after every step of the left fold
    acc = ref_requantise(br, 6, 14, 6)
    acc = np.broadcast_to(acc, (30, 5)).copy()
    for k in range(7):
        acc = ref_requantise(acc * 2**5 + np.outer(xr[:, k], wr[:, k]), 13, 14, 6)
    want = ref_requantise(acc, 8, 8, 4, "RND", "SAT")
    assert same(golden(m, x), want)


def test_weights_wrap_only_when_asked() -> None:
    w = np.array([[40.0, -40.0, 1.3]])
    sat = Sequential(Input((3,)), Dense(1, w), name="d")
    wrap = Sequential(Input((3,)), Dense(1, w, precision=Precision(weight="fixed<16,6,TRN,WRAP>")), name="d")
    x = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]])
    assert sat.run(x)[:, 0].tolist() == [32 - 2**-10, -32, 1.2998046875]
    assert wrap.run(x)[:, 0].tolist() == [-24, 24, 1.2998046875]


def _ref_conv(xr: np.ndarray, wr: np.ndarray, br: np.ndarray, stride: tuple, pad: tuple, frac: int) -> np.ndarray:
    n, c, h, w = xr.shape
    o, _, kh, kw = wr.shape
    xp = np.zeros((n, c, h + 2 * pad[0], w + 2 * pad[1]), dtype=object)
    xp[:, :, pad[0]:pad[0] + h, pad[1]:pad[1] + w] = xr
    ho, wo = (xp.shape[2] - kh) // stride[0] + 1, (xp.shape[3] - kw) // stride[1] + 1
    out = np.zeros((n, o, ho, wo), dtype=object)
    for i in range(ho):
        for j in range(wo):
            win = xp[:, :, i * stride[0]:i * stride[0] + kh, j * stride[1]:j * stride[1] + kw].reshape(n, -1)
            out[:, :, i, j] = win.dot(wr.reshape(o, -1).T) + br * 2**frac
    return out


@pytest.mark.parametrize(("k", "stride", "pad"), [(3, 1, 1), ((3, 2), (2, 1), (1, 0)), (2, 2, 0)])
def test_conv2d_bit_exact(k, stride, pad) -> None:
    kh, kw = (k, k) if isinstance(k, int) else k
    s = (stride, stride) if isinstance(stride, int) else stride
    p = (pad, pad) if isinstance(pad, int) else pad
    w, b = RNG.uniform(-1, 1, (3, 2, kh, kw)), RNG.uniform(-1, 1, 3)
    x = RNG.uniform(-3, 3, (5, 2, 7, 6))
    m = Sequential(Input((2, 7, 6)), Conv2d(3, k, w, b, stride=stride, padding=pad), name="c")
    acc = _ref_conv(ref_quantise(x, 16, 6), ref_quantise(w, 16, 6), ref_quantise(b, 16, 6), s, p, 10)
    assert same(golden(m, x), ref_requantise(acc, 20, 16, 6))
    assert m.layers[1].out_shape == acc.shape[1:]
    assert m.layers[1].macs == int(np.prod(acc.shape[1:])) * 2 * kh * kw


@pytest.mark.parametrize(("k", "stride"), [(2, None), ((3, 2), (2, 1)), (3, 1)])
def test_maxpool_bit_exact(k, stride) -> None:
    kh, kw = (k, k) if isinstance(k, int) else k
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    x = RNG.uniform(-40, 40, (6, 3, 7, 5))  # saturates on input: min/max raw values take part
    m = Sequential(Input((3, 7, 5)), MaxPool2d(k, stride), name="p")
    xr = ref_quantise(x, 16, 6)
    ho, wo = (7 - kh) // sh + 1, (5 - kw) // sw + 1
    want = np.array([[[[max(xr[n, c, i * sh:i * sh + kh, j * sw:j * sw + kw].ravel()) for j in range(wo)]
                       for i in range(ho)] for c in range(3)] for n in range(6)], dtype=object)
    assert same(golden(m, x), want)


@pytest.mark.parametrize(("k", "stride"), [(2, None), (3, 2), ((1, 3), 1)])
def test_avgpool_bit_exact(k, stride) -> None:
    kh, kw = (k, k) if isinstance(k, int) else k
    sh, sw = (kh, kw) if stride is None else ((stride, stride) if isinstance(stride, int) else stride)
    n = kh * kw
    x = RNG.uniform(-30, 30, (6, 2, 7, 7))
    m = Sequential(Input((2, 7, 7)), AvgPool2d(k, stride), name="p")
    xr = ref_quantise(x, 16, 6)
    ho, wo = (7 - kh) // sh + 1, (7 - kw) // sw + 1
    sums = np.array([[[[sum(xr[b, c, i * sh:i * sh + kh, j * sw:j * sw + kw].ravel()) for j in range(wo)]
                       for i in range(ho)] for c in range(2)] for b in range(6)], dtype=object)
    if n & (n - 1) == 0:  # exact shift
        want = ref_requantise(sums, 10 + n.bit_length() - 1, 16, 6)
    else:  # documented reciprocal: ufixed<F,0>, F = ceil(log2 n) + I_in + F_result, rounded to nearest
        f = (n - 1).bit_length() + 6 + 10
        recip = (Fraction(2**f, n) + Fraction(1, 2)).__floor__()
        want = ref_requantise(sums * recip, 10 + f, 16, 6)
    got = golden(m, x)
    assert same(got, want)
    # and within one result LSB (truncation) plus a quarter (reciprocal) of the true mean of the quantised input
    mean = sums.astype(float) * 2.0**-10 / n
    inside = np.abs(mean) < 32 - 1  # away from the wrap-around
    err = mean - got.astype(float) * 2.0**-10
    assert np.all((err[inside] >= -(2.0**-12)) & (err[inside] < 2.0**-10 + 2.0**-12))


def test_relu_and_flatten_bit_exact() -> None:
    x = RNG.uniform(-5, 5, (4, 2, 3, 4))
    m = Sequential(Input((2, 3, 4), "fixed<10,4>"), ReLU(), Flatten(), name="rf")
    xr = ref_quantise(x, 10, 4)
    want = np.vectorize(lambda v: max(int(v), 0), otypes=[object])(xr).reshape(4, -1)
    assert same(golden(m, x), want)
    assert m.output_shape == (24,)


# ---------------------------------------------------------------------------------------------- float mode
def _bn_stats(n: int, rng: np.random.Generator = RNG) -> tuple[np.ndarray, ...]:
    return (rng.uniform(0.5, 1.5, n), rng.uniform(-0.5, 0.5, n), rng.uniform(-0.5, 0.5, n), rng.uniform(0.5, 2, n))


def test_float_mode_matches_torch_on_every_layer_kind() -> None:
    torch.manual_seed(0)
    net = torch.nn.Sequential(
        torch.nn.Conv2d(2, 4, 3, stride=2, padding=1, bias=False), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
        torch.nn.AvgPool2d(3, stride=1), torch.nn.MaxPool2d((2, 1)), torch.nn.Conv2d(4, 3, (1, 2)),
        torch.nn.Flatten(), torch.nn.Linear(3, 5), torch.nn.BatchNorm1d(5), torch.nn.ReLU(), torch.nn.Linear(5, 3),
    ).eval()
    for bn in (net[1], net[8]):
        g, be, mu, var = (torch.tensor(a, dtype=torch.float32) for a in _bn_stats(bn.num_features))
        bn.weight.data, bn.bias.data, bn.running_mean.data, bn.running_var.data = g, be, mu, var
    bn1, bn2 = net[1], net[8]
    m = Sequential(
        Input((2, 9, 8)),
        Conv2d(4, 3, net[0].weight, stride=2, padding=1),
        BatchNorm(bn1.weight, bn1.bias, bn1.running_mean, bn1.running_var, eps=bn1.eps),
        ReLU(), AvgPool2d(3, 1), MaxPool2d((2, 1)), Conv2d(3, (1, 2), net[5].weight, net[5].bias), Flatten(),
        Dense(5, net[7].weight, net[7].bias),
        BatchNorm(bn2.weight, bn2.bias, bn2.running_mean, bn2.running_var, eps=bn2.eps),
        ReLU(), Dense(3, net[10].weight, net[10].bias), name="all_kinds",
    )
    x = RNG.uniform(-2, 2, (64, 2, 9, 8)).astype(np.float32)
    with torch.no_grad():
        want = net(torch.from_numpy(x)).numpy()
    got = m.run(x, exact=False)
    assert got.shape == want.shape == (64, 3)
    assert np.abs(got - want).max() < 1e-5
    assert np.abs(m.run(x) - want).max() < 0.05  # the exact fixed<16,6> model stays close
    assert [info.kind for info in m.layers] == ["Input", "Conv2d+BatchNorm", "ReLU", "AvgPool2d", "MaxPool2d",
                                                "Conv2d", "Flatten", "Dense+BatchNorm", "ReLU", "Dense"]
    assert sum(info.macs for info in m.layers) == m.macs()


def test_batchnorm_folding_equals_unfolded_float() -> None:
    w, b = RNG.normal(size=(8, 12)), RNG.normal(size=8)
    gamma, beta, mean, var = _bn_stats(8)
    x = RNG.normal(size=(50, 12))
    m = Sequential(Input((12,)), Dense(8, w, b), BatchNorm(gamma, beta, mean, var, eps=1e-3), name="bn")
    unfolded = (x @ w.T + b - mean) / np.sqrt(var + 1e-3) * gamma + beta
    assert np.allclose(m.run(x, exact=False), unfolded, atol=1e-5, rtol=1e-5)
    # a Dense without bias gets the folded bias; the exact model quantises the folded weights
    m2 = Sequential(Input((12,)), Dense(8, w), BatchNorm(gamma, beta, mean, var), name="bn")
    unfolded2 = (x @ w.T - mean) / np.sqrt(var + 1e-5) * gamma + beta
    assert np.allclose(m2.run(x, exact=False), unfolded2, atol=1e-5, rtol=1e-5)
    assert m2.layers[1].params == 8 * 12 + 8
    s = gamma / np.sqrt(var + 1e-5)
    wf, bf = ref_quantise(w * s[:, None], 16, 6), ref_quantise(-mean * s + beta, 16, 6)
    acc = ref_quantise(x, 16, 6).dot(wf.T) + bf * 2**10
    assert same(golden(m2, x), ref_requantise(acc, 20, 16, 6))


# ---------------------------------------------------------------------------------------------- precision
def test_quant_parsing_and_text() -> None:
    assert str(quant("fixed<16,6>")) == "fixed<16,6,TRN,WRAP>"
    assert quant("ufixed<8,0>") == Quant(Fixed(8, 0, False))
    assert quant(" fixed< 12 , -2 , RND , SAT > ") == Quant(Fixed(12, -2), "RND", "SAT")
    assert quant("ap_fixed<16,6,AP_RND,AP_SAT>") == Quant(Fixed(16, 6), "RND", "SAT")
    assert quant("fixed<8,3,SAT>") == Quant(Fixed(8, 3), "TRN", "SAT")
    assert quant("fixed<8,3>", q="RND", o="SAT") == Quant(Fixed(8, 3), "RND", "SAT")
    assert quant(Fixed(4, 1)) == Quant(Fixed(4, 1))


@pytest.mark.parametrize(("text", "msg"), [
    ("fixed<0,0>", "width W must be at least 1"), ("fixed<-3,1>", "width W must be at least 1"),
    ("fixed<16>", "expected fixed<W,I>"), ("float32", "expected fixed<W,I>"),
    ("fixed<16,6,RND_CONV>", "unsupported mode 'RND_CONV'"), ("fixed<16,6,RND,RND>", "repeated mode"),
    ("fixed<999,6>", "at most 128"),
])
def test_quant_errors_name_the_text(text: str, msg: str) -> None:
    with pytest.raises(VhlsError) as e:
        quant(text)
    assert repr(text) in str(e.value) and msg in str(e.value) and "\n" not in str(e.value)


def test_precision_defaults_and_merging() -> None:
    assert str(DEFAULT) == ("weight=fixed<16,6,RND,SAT> bias=fixed<16,6,RND,SAT> acc=- "
                            "result=fixed<16,6,TRN,WRAP>")
    p = Precision(weight="fixed<8,3>", acc="fixed<20,8>", result="fixed<8,3>")
    assert p.weight == Quant(Fixed(8, 3), "RND", "SAT")  # constants round and saturate by default
    assert p.result == Quant(Fixed(8, 3), "TRN", "WRAP")
    merged = p.merged(DEFAULT)
    assert merged.bias == DEFAULT.bias and merged.weight == p.weight and merged.acc == Quant(Fixed(20, 8))
    assert Precision(acc="exact").merged(merged).acc == "exact"
    assert as_precision("fixed<8,3>") == Precision(weight="fixed<8,3>", bias="fixed<8,3>", result="fixed<8,3>")
    m = Sequential(Input((4,)), Dense(2, np.ones((2, 4)), precision=Precision(acc="exact")), name="m",
                   precision=Precision(acc="fixed<12,4>"))
    assert "(exact)" in m.layers[1].precision
    m = Sequential(Input((4,)), Dense(2, np.ones((2, 4))), name="m", precision="fixed<8,3>")
    assert m.layers[1].precision == "w/b=fixed<8,3,RND,SAT> acc=fixed<27,12>(exact) out=fixed<8,3,TRN,WRAP>"
    m = Sequential(Input((4,)), Dense(2, np.ones((2, 4)), precision=Precision(bias="fixed<20,8>", acc="fixed<24,8>")),
                   name="m")
    assert m.layers[1].precision == ("w=fixed<16,6,RND,SAT> b=fixed<20,8,RND,SAT> acc=fixed<24,8,TRN,WRAP> "
                                     "out=fixed<16,6,TRN,WRAP>")


def test_dot_accumulator_formula() -> None:
    assert dot_accumulator(Fixed(16, 6), Fixed(16, 6), 64, Fixed(16, 6)) == Fixed(39, 19)
    assert dot_accumulator(Fixed(8, 0, False), Fixed(8, 0, False), 1) == Fixed(17, 1)


_types = st.builds(lambda w, i, s: Fixed(w, i, s), st.integers(1, 10), st.integers(-4, 12), st.booleans())


@settings(max_examples=200, deadline=None)
@given(_types, _types, _types, st.integers(1, 300))
def test_exact_accumulator_never_overflows(wt: Fixed, xt: Fixed, bt: Fixed, n: int) -> None:
    acc = dot_accumulator(wt, xt, n, bt)
    f = acc.frac
    corners = [Fraction(a) * Fraction(c) * Fraction(2) ** -(wt.frac + xt.frac)
               for a in (wt.min_raw, wt.max_raw) for c in (xt.min_raw, xt.max_raw)]
    biases = [Fraction(v) * Fraction(2) ** -bt.frac for v in (bt.min_raw, bt.max_raw)]
    for total in (n * max(corners) + max(biases), n * min(corners) + min(biases)):
        raw = total * Fraction(2) ** f
        assert raw.denominator == 1 and acc.min_raw <= raw <= acc.max_raw


# ---------------------------------------------------------------------------------------------- IR shape
def _small_cnn(seed: int = 0):
    rng = np.random.default_rng(seed)
    return Sequential(
        Input((1, 6, 6)), Conv2d(2, 3, rng.normal(size=(2, 1, 3, 3)), rng.normal(size=2), padding=1),
        BatchNorm(*_bn_stats(2, rng)), ReLU(), MaxPool2d(2), AvgPool2d(3), Flatten(), Dense(3, rng.normal(size=(3, 2))),
        name="small",
    )


def test_dense_lowers_to_the_dot_product_pattern() -> None:
    m = Sequential(Input((4,)), Dense(3, np.ones((3, 4)), np.zeros(3)), name="d")
    body = m.ir.body
    names = []
    while isinstance(body, Let):
        names.append(body.name)
        body = body.body
    assert names == ["w1", "b1"]
    assert isinstance(body, Prim) and body.op == "map"
    lam, rows = body.args
    assert rows == Prim("zip", (), (Var("w1"), Var("b1")))
    res = lam.body
    acc_q = (Fixed(35, 15), "TRN", "WRAP")
    assert res.op == "cast" and res.static == (Fixed(16, 6), "TRN", "WRAP")
    red = res.args[0]
    assert red.op == "reduce"
    step, init, pairs = red.args
    assert [p.name for p in step.params] == ["acc", "q"]
    prod = Prim("mul", (), (Prim("get", (0,), (Var("q"),)), Prim("get", (1,), (Var("q"),))))
    assert step.body == Prim("cast", acc_q, (Prim("add", (), (Var("acc"), prod)),))
    assert init == Prim("cast", acc_q, (Prim("get", (1,), (Var("wb"),)),))
    assert pairs == Prim("zip", (), (Prim("get", (0,), (Var("wb"),)), Var("x")))
    assert "cast" not in repr(m.float_ir) and "fixed" not in repr(m.float_ir.body)


def test_printed_ir_is_stable_across_builds() -> None:
    a, b = _small_cnn(), _small_cnn()
    assert a.text() == b.text()
    assert a.ir == b.ir and a.float_ir == b.float_ir
    text = a.text()
    for name in ("def small(x: [1][6][6]fixed<16,6>)", "let w1 =", "let b1 =", "let p1 =", "let h1 =",
                 "let h5 = join(join(h4)) in", "let w6 ="):
        assert name in text


def test_layer_infos() -> None:
    m = _small_cnn()
    assert [(i.name, i.kind, i.out_shape) for i in m.layers] == [
        ("input", "Input", (1, 6, 6)), ("conv1", "Conv2d+BatchNorm", (2, 6, 6)), ("relu1", "ReLU", (2, 6, 6)),
        ("maxpool1", "MaxPool2d", (2, 3, 3)), ("avgpool1", "AvgPool2d", (2, 1, 1)), ("flatten1", "Flatten", (2,)),
        ("dense1", "Dense", (3,))]
    assert [i.params for i in m.layers] == [0, 20, 0, 0, 0, 0, 6]
    assert [i.macs for i in m.layers] == [0, 2 * 36 * 9, 0, 0, 2, 0, 6]
    assert sum(i.macs for i in m.layers) == m.macs()
    assert m.output_shape == (3,) and m.input_shape == (1, 6, 6)


# ---------------------------------------------------------------------------------------------- errors
def _d(units: int, n_in: int, **kw) -> Dense:
    return Dense(units, np.ones((units, n_in)), np.zeros(units), **kw)


_ERRORS = [
    (lambda: Sequential(Input((6,)), _d(4, 5)), "dense1: weight has shape (4, 5) but the layer has 4 units and its "
                                                "input has 6 features: expected (4, 6)"),
    (lambda: Sequential(Input((6,)), Dense(3, np.ones((4, 6)))), "dense1: weight has shape (4, 6)"),
    (lambda: Sequential(Input((6,)), Dense(4, np.ones((4, 6)), np.ones(3))), "dense1: bias has shape (3,), expected"),
    (lambda: Sequential(Input((1, 4, 4)), _d(4, 16)), "dense1: Dense needs a vector input but gets shape (1, 4, 4)"),
    (lambda: Sequential(Input((6,)), _d(4, 6, precision="fixed<0,0>")), "bad precision 'fixed<0,0>'"),
    (lambda: Sequential(Input((6,)), _d(4, 6, precision=Precision(result="fixed<-1,2>"))),
     "bad precision 'fixed<-1,2>'"),
    (lambda: Sequential(Input((2,)), Dense(1, [[1.0, np.nan]])), "dense1: weight contains NaN (first at index (0, 1))"),
    (lambda: Sequential(Input((2,)), Dense(1, [[1.0, 2.0]], [np.inf], name="fc")), "fc: bias contains infinity"),
    (lambda: Sequential(_d(4, 6)), "Sequential: the first layer must be Input(shape), got Dense"),
    (lambda: Sequential(), "Sequential: the first layer must be Input(shape), got no layers"),
    (lambda: Sequential(Input((6,))), "no layers after Input"),
    (lambda: Sequential(Input((6,)), ReLU(), Input((6,))), "input2: Input may only be the first layer"),
    (lambda: Sequential(Input((1, 3, 3)), Conv2d(2, 5, np.ones((2, 1, 5, 5)))),
     "conv1: kernel 5x5 is larger than the (padded) input 3x3"),
    (lambda: Sequential(Input((2, 4, 4)), Conv2d(2, 3, np.ones((2, 1, 3, 3)))),
     "conv1: weight has shape (2, 1, 3, 3) but the layer has 2 output channels, a 3x3 kernel and its input has 2 "
     "channels: expected (2, 2, 3, 3)"),
    (lambda: Sequential(Input((4,)), Conv2d(2, 3, np.ones((2, 1, 3, 3)))), "conv1: Conv2d needs an input of shape"),
    (lambda: Sequential(Input((1, 4, 4)), Conv2d(2, 3, np.ones((2, 1, 3, 3)), stride=0)),
     "conv1: stride must be at least 1"),
    (lambda: Sequential(Input((1, 4, 4)), MaxPool2d(5)), "maxpool1: kernel 5x5 is larger than the input 4x4"),
    (lambda: Sequential(Input((1, 4, 4)), AvgPool2d((2, 2, 2))), "avgpool1: kernel_size must be an integer or a pair"),
    (lambda: Sequential(Input((6,)), ReLU(), BatchNorm(*_bn_stats(6))),
     "bn1: BatchNorm must directly follow a Dense or Conv2d (to be folded into it), but follows ReLU relu1"),
    (lambda: Sequential(Input((6,)), _d(4, 6), BatchNorm(*_bn_stats(3))),
     "bn1: gamma has shape (3,) but dense1 has 4 outputs: expected (4,)"),
    (lambda: Sequential(Input((6,)), _d(4, 6), BatchNorm(np.ones(4), np.zeros(4), np.zeros(4), -np.ones(4))),
     "bn1: running_var + eps must be positive"),
    (lambda: Sequential(Input((6,)), _d(4, 6, name="a"), ReLU(name="a")), "two layers are named 'a'"),
    (lambda: Sequential(Input((6,)), ReLU(), name="map"), "model name 'map' must be an identifier"),
    (lambda: Sequential(Input((6,)), ReLU(), name="my model"), "model name 'my model' must be an identifier"),
    (lambda: Sequential(Input((6,)), "relu"), "Sequential: argument 2 is not a layer"),
    (lambda: Input((0, 3)), "Input: shape must be a tuple of positive integers"),
    (lambda: Input((3,), "fixed<0,1>"), "bad precision 'fixed<0,1>'"),
    (lambda: Sequential(Input((6,)), Dense(4, "weights")), "dense1: weight must be an array of numbers"),
]


@pytest.mark.parametrize(("build", "msg"), _ERRORS)
def test_user_errors_are_one_clear_line(build, msg: str) -> None:
    with pytest.raises(VhlsError) as e:
        build()
    text = str(e.value)
    assert msg in text, text
    assert "\n" not in text
