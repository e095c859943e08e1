"""vhls.from_torch: a torch model outside the examples imports, float mode is torch's forward, PTQ reports its
error, and every unsupported construct is refused with a one-line error naming the op and the fx node."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")
nn = torch.nn
F = torch.nn.functional

from vhls.errors import VhlsError  # noqa: E402
from vhls.precision import Precision, quant  # noqa: E402
from vhls.torch_import import default_split, from_torch, int_bits_for  # noqa: E402


# ---------------------------------------------------------------------------------------------- models
class SmallCNN(nn.Module):
    """conv -> batchnorm -> relu -> maxpool -> strided conv -> F.relu -> avgpool -> flatten -> MLP with dropout."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(4)
        self.act1 = nn.ReLU()
        self.pool1 = nn.MaxPool2d(2)
        self.conv2 = nn.Conv2d(4, 8, 3, stride=2)
        self.pool2 = nn.AvgPool2d(2)
        self.flat = nn.Flatten()
        self.fc1 = nn.Linear(32, 16)
        self.act2 = nn.ReLU()
        self.drop = nn.Dropout(0.3)
        self.fc2 = nn.Linear(16, 5)

    def forward(self, x):
        x = self.pool1(self.act1(self.bn1(self.conv1(x))))
        x = self.pool2(F.relu(self.conv2(x)))
        return self.fc2(self.drop(self.act2(self.fc1(self.flat(x)))))


def small_cnn() -> nn.Module:
    torch.manual_seed(0)
    m = SmallCNN()
    with torch.no_grad():  # non-trivial BatchNorm statistics so folding matters
        m.bn1.running_mean.copy_(torch.randn(4) * 0.2)
        m.bn1.running_var.copy_(torch.rand(4) + 0.5)
        m.bn1.weight.copy_(torch.rand(4) + 0.5)
        m.bn1.bias.copy_(torch.randn(4) * 0.1)
    return m


def images(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 1, 20, 20)).astype(np.float32)


def torch_out(m: nn.Module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return m.eval()(torch.as_tensor(x)).double().numpy()


@pytest.fixture(scope="module")
def cnn():
    return small_cnn()


# ---------------------------------------------------------------------------------------------- import + float
def test_cnn_imports_and_float_matches_torch(cnn):
    model = from_torch(cnn, torch.zeros(1, 1, 20, 20))
    assert model.input_shape == (1, 20, 20)
    assert model.output_shape == (5,)
    assert [li.name for li in model.layers] == ["input", "conv1", "act1", "pool1", "conv2", "relu", "pool2", "flat",
                                                "fc1", "act2", "fc2"]  # bn1 folded into conv1; dropout: identity
    assert "BatchNorm" in model.layers[1].kind
    x = images(64, 1)
    err = np.abs(model.run(x, exact=False) - torch_out(cnn, x)).max()
    assert err < 1e-5, err


def test_example_input_without_batch_axis_and_training_flags_restored():
    m = small_cnn().train()
    model = from_torch(m, np.zeros((1, 20, 20), dtype=np.float32), precision="fixed<18,8>")
    assert m.training and m.drop.training  # from_torch restores the caller's train/eval flags
    x = images(8, 2)
    assert np.abs(model.run(x, exact=False) - torch_out(m, x)).max() < 1e-5
    assert "fixed<18,8" in model.text()


def test_sequential_mlp_with_batchnorm1d_identity_and_view():
    class ViewNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.body = nn.Sequential(nn.Conv2d(2, 3, (3, 3), padding=(1, 1)), nn.ReLU(inplace=True))
            self.head = nn.Sequential(nn.Linear(3 * 4 * 4, 10), nn.BatchNorm1d(10), nn.Identity(), nn.ReLU(),
                                      nn.Linear(10, 3))

        def forward(self, x):
            x = self.body(x)
            x = x.view(x.size(0), -1)
            return self.head(x)

    torch.manual_seed(1)
    net = ViewNet()
    with torch.no_grad():
        net.head[1].running_mean.copy_(torch.randn(10))
        net.head[1].running_var.copy_(torch.rand(10) + 0.3)
    model = from_torch(net, torch.zeros(1, 2, 4, 4))
    x = np.random.default_rng(3).normal(size=(16, 2, 4, 4)).astype(np.float32)
    assert np.abs(model.run(x, exact=False) - torch_out(net, x)).max() < 1e-5

    mlp = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Dropout(), nn.Linear(8, 2))
    model = from_torch(mlp, torch.zeros(6), precision=16)  # int width without calibration: default split
    assert model.input_shape == (6,)
    x = np.random.default_rng(4).uniform(-1, 1, size=(32, 6)).astype(np.float32)
    assert np.abs(model.run(x, exact=False) - torch_out(mlp, x)).max() < 1e-5
    assert np.abs(model.run(x, exact=True) - torch_out(mlp, x)).max() < 0.02


class FunctionalNet(nn.Module):
    """Functional and method spellings, rectangular 'same' padding, a 3x3 average (not a power of two), reshape."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, (3, 5), padding="same", bias=False)
        self.conv2 = nn.Conv2d(4, 4, 2, stride=(1, 2), padding=(1, 0))
        self.drop = nn.Dropout2d(0.5)
        self.fc = nn.Linear(4 * 4 * 2, 6)
        self.fc2 = nn.Linear(6, 6)

    def forward(self, x):
        x = torch.relu(self.conv(x))
        x = F.max_pool2d(x, kernel_size=(2, 2), stride=1)
        x = F.avg_pool2d(x, 3, stride=2)
        x = self.drop(self.conv2(x)).relu()
        x = F.dropout(x, 0.2, training=self.training)
        x = x.reshape(x.shape[0], -1)
        x = F.relu(self.fc(torch.flatten(x, 1)), inplace=True)  # flattening a flat sample: nothing to build
        return self.fc2(x.view(x.size()[0], -1).view(-1, 6))


def test_functional_spellings_match_torch():
    torch.manual_seed(5)
    net = FunctionalNet()
    model = from_torch(net, torch.zeros(1, 3, 9, 10))
    assert [li.kind for li in model.layers] == ["Input", "Conv2d", "ReLU", "MaxPool2d", "AvgPool2d", "Conv2d",
                                                "ReLU", "Flatten", "Dense", "ReLU", "Dense"]
    x = np.random.default_rng(6).normal(size=(16, 3, 9, 10)).astype(np.float32)
    assert np.abs(model.run(x, exact=False) - torch_out(net, x)).max() < 1e-5
    assert np.abs(model.run(x, exact=True) - torch_out(net, x)).max() < 0.05


# ---------------------------------------------------------------------------------------------- PTQ
def ptq_error(m: nn.Module, width: int) -> tuple[float, float]:
    calib, test = images(256, 10), images(200, 11)
    model = from_torch(m, calib[:1], precision=width, calibration=calib)
    ref, got = torch_out(m, test), model.run(test, exact=True)
    return float(np.abs(got - ref).max()), float((got.argmax(1) == ref.argmax(1)).mean())


def test_ptq_8_and_16_bit_report_error(cnn):
    err8, agree8 = ptq_error(cnn, 8)
    err16, agree16 = ptq_error(cnn, 16)
    print(f"\nPTQ  8-bit: max abs error {err8:.4g}, argmax agreement {agree8:.1%}")
    print(f"PTQ 16-bit: max abs error {err16:.4g}, argmax agreement {agree16:.1%}")
    assert err16 < err8 / 50
    assert err16 < 5e-3
    assert agree16 >= 0.99
    assert agree8 >= 0.75


def test_ptq_chooses_integer_bits_from_ranges(cnn):
    calib = images(64, 12)
    model = from_torch(cnn, calib[:1], precision=8, calibration=calib)
    amax = float(np.abs(calib).max())
    assert str(model.input_type).startswith(f"[1][20][20]fixed<8,{int_bits_for(amax, 8)}>")
    assert model.calibration is not None and model.calibration.shape == calib.shape
    # the int-bit rule: the largest value of fixed<W,I> covers max |value|, one bit fewer would not
    for m, w in ((1.0, 8), (0.99, 8), (3.2, 16), (0.05, 8), (100.0, 8), (127.0, 8), (127.9, 8)):
        i = int_bits_for(m, w)
        assert 2.0 ** (i - 1) - 2.0 ** (i - w) >= m > 2.0 ** (i - 2) - 2.0 ** (i - 1 - w)
    assert (default_split(16).width, default_split(16).int_bits) == (16, 6)
    assert (default_split(8).width, default_split(8).int_bits) == (8, 3)


# ---------------------------------------------------------------------------------------------- refusals
class Sig(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.act = nn.Sigmoid()

    def forward(self, x):
        return self.act(self.fc(x))


class Residual(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        return self.fc(x) + x


class Grouped(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(2, 4, 3, groups=2)

    def forward(self, x):
        return self.conv(x)


class Lstm(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lstm = nn.LSTM(4, 4)

    def forward(self, x):
        return self.lstm(x)[0]


class TwoIn(nn.Module):
    def forward(self, x, y):
        return F.relu(x)


class TwoOut(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)

    def forward(self, x):
        y = self.fc(x)
        return y, F.relu(y)


class InplaceUnused(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(4, 4)
        self.fc2 = nn.Linear(4, 4)

    def forward(self, x):
        y = self.fc(x)
        F.relu_(y)  # mutates y in place: the import must not drop it, nor ignore it
        return self.fc2(y)


class ViewSplit(nn.Module):
    def forward(self, x):
        return F.relu(x.view(x.size(0), 2, -1))


class ControlFlow(nn.Module):
    def forward(self, x):
        return F.relu(x) if x.sum() > 0 else x


class FunctionalLinear(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.ones(3, 4))

    def forward(self, x):
        return F.linear(x, self.w)


class FlattenAll(nn.Module):
    def forward(self, x):
        return torch.flatten(x)


class FunctionalPool(nn.Module):
    def forward(self, x):
        return F.max_pool2d(x, 2, ceil_mode=True)


class FunctionalSigmoid(nn.Module):
    def forward(self, x):
        return torch.sigmoid(x)


class FunctionalDropout(nn.Module):
    def forward(self, x):
        return F.dropout(x, 0.5)


REFUSED = [
    ("sigmoid", Sig(), (1, 4), r"^unsupported torch op `Sigmoid` \(module `act`, fx node `act`\)"),
    ("torch.sigmoid", FunctionalSigmoid(), (1, 4),
     r"^unsupported torch op `sigmoid` \(function `torch.sigmoid`, fx node `sigmoid`\)"),
    ("residual add", Residual(), (1, 4), r"^unsupported torch op `add` \(function `operator.add`, fx node `add`\)"),
    ("conv groups=2", Grouped(), (1, 2, 6, 6), r"^unsupported torch op `Conv2d` \(module `conv`, fx node `conv`\): "
     r"groups=2"),
    ("maxpool ceil_mode", nn.Sequential(nn.MaxPool2d(2, ceil_mode=True)), (1, 1, 5, 5),
     r"`MaxPool2d` \(module `0`, fx node `_0`\): ceil_mode=True"),
    ("F.max_pool2d ceil_mode", FunctionalPool(), (1, 1, 5, 5),
     r"`max_pool2d` \(function `torch.nn.functional.max_pool2d`, fx node `max_pool2d`\): ceil_mode=True"),
    ("lstm", Lstm(), (1, 3, 4), r"^unsupported torch op `LSTM` \(module `lstm`, fx node `lstm`\)"),
    ("two inputs", TwoIn(), (1, 4), r"takes 2 inputs \(`x`, `y`\)"),
    ("two outputs", TwoOut(), (1, 4), r"^the module returns a tuple of 2 values \(fx node `output`\)"),
    ("F.dropout training=True", FunctionalDropout(), (1, 4), r"`dropout` .*training=True"),
    ("linear on an image", nn.Sequential(nn.Linear(4, 4)), (1, 2, 3, 4), r"`Linear` \(module `0`.*flat vector"),
    ("batchnorm after relu", nn.Sequential(nn.Linear(4, 4), nn.ReLU(), nn.BatchNorm1d(4)), (1, 4),
     r"`BatchNorm1d` .*folds BatchNorm1d into the Linear"),
    ("in-place op, result unused", InplaceUnused(), (1, 4), r"fx node `fc` is used by 2 nodes \(`relu_`, `fc2`\)"),
    ("view to a non-flat shape", ViewSplit(), (1, 4), r"`view` \(method `Tensor.view`, fx node `view`\): shape "
     r"\(size, 2, -1\)"),
    ("data-dependent control flow", ControlFlow(), (1, 4), r"^torch.fx cannot trace `ControlFlow`"),
    ("F.linear", FunctionalLinear(), (1, 4), r"^unsupported torch op `linear` \(function `torch.nn.functional.linear`"),
    ("adaptive pooling", nn.Sequential(nn.AdaptiveAvgPool2d(1)), (1, 1, 4, 4), r"`AdaptiveAvgPool2d` \(module `0`"),
    ("even kernel 'same' padding", nn.Sequential(nn.Conv2d(1, 1, 2, padding="same")), (1, 1, 4, 4),
     r"`Conv2d` .*padding='same' with an even kernel"),
    ("dilation", nn.Sequential(nn.Conv2d(1, 1, 3, dilation=2)), (1, 1, 8, 8), r"`Conv2d` .*dilation=\(2, 2\)"),
    ("padding_mode", nn.Sequential(nn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect")), (1, 1, 8, 8),
     r"padding_mode='reflect'"),
    ("maxpool padding", nn.Sequential(nn.MaxPool2d(3, padding=1)), (1, 1, 8, 8), r"`MaxPool2d` .*padding=1"),
    ("flatten over the batch axis", FlattenAll(), (1, 2, 2), r"`flatten` .*start_dim=0"),
    ("no running stats", nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4, track_running_stats=False)), (1, 4),
     r"track_running_stats=False"),
]


@pytest.mark.parametrize(("what", "module", "shape", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_unsupported_constructs_are_refused(what, module, shape, message):
    with pytest.raises(VhlsError, match=message) as info:
        from_torch(module, torch.zeros(shape))
    assert "\n" not in str(info.value)


def test_float_self_check_refuses_a_wrong_import(monkeypatch, cnn):
    """The import compares its float program with torch: a convention slip (here: gamma and beta swapped when
    building the folded BatchNorm) is an error, not a silently different model."""
    import vhls.layers
    import vhls.torch_import as ti

    def swapped(gamma, beta, mean, var, eps, *, name=None):
        return vhls.layers.BatchNorm(beta, gamma, mean, var, eps, name=name)

    monkeypatch.setattr(ti, "BatchNorm", swapped)
    with pytest.raises(VhlsError, match=r"^imported model disagrees with torch's forward \(max error"):
        from_torch(cnn, images(4, 7))


def test_nan_and_inf_weights_name_the_parameter():
    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
    with torch.no_grad():
        net[2].weight[1, 1] = float("nan")
    with pytest.raises(VhlsError, match=r"^parameter `2.weight` contains NaN values \(1 of 6\)"):
        from_torch(net, torch.zeros(1, 4))
    conv = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2))
    with torch.no_grad():
        conv[1].running_var[0] = float("inf")
    with pytest.raises(VhlsError, match=r"parameter `1.running_var` contains infinite"):
        from_torch(conv, torch.zeros(1, 1, 5, 5))


@pytest.mark.parametrize("bad", [0, -8, True])
def test_bad_precision_width(bad):
    with pytest.raises(VhlsError, match="precision"):
        from_torch(nn.Sequential(nn.Linear(2, 2)), torch.zeros(2), precision=bad)


def test_precision_object_or_quant_applies_to_all_layers():
    mlp = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    p = Precision(weight="fixed<10,2>", bias="fixed<10,2>", result="fixed<12,4,RND,SAT>")
    model = from_torch(mlp, torch.zeros(1, 3), precision=p)
    assert str(model.input_type) == "[3]fixed<12,4>"
    text = model.text()  # weights stored as fixed<10,2>, both results cast to fixed<12,4> with RND, SAT
    assert "const<[4][3]fixed<10,2>>" in text and "const<[2][4]fixed<10,2>>" in text
    assert text.count("cast<fixed<12,4>, RND, SAT>") == 2
    model = from_torch(mlp, torch.zeros(1, 3), precision=quant("fixed<9,3>"))
    assert str(model.input_type) == "[3]fixed<9,3>" and model.input_modes == ("RND", "SAT")
