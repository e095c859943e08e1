"""Import a `torch.nn` model into vhls via `torch.fx` symbolic tracing.

    model = vhls.from_torch(net, example_input)                        # layers' default precision
    model = vhls.from_torch(net, example_input, precision="fixed<16,6>")
    model = vhls.from_torch(net, example_input, precision=8, calibration=x_cal)   # 8-bit post-training quantisation

The module is put in eval mode while it is traced (its per-submodule training flags are restored afterwards) and
its graph must be a straight chain from one input to one output made only of the operations below. Everything else
is refused with a one-line `VhlsError` naming the op and the fx node — never skipped or approximated.

Supported (eval-mode semantics):
  - `nn.Linear`                                     -> Dense (input must be flat per sample)
  - `nn.Conv2d` (int/tuple/'valid'/'same' padding, stride; groups=1, dilation=1, padding_mode='zeros')
                                                    -> Conv2d (per-sample layout [C][H][W], as torch's NCHW)
  - `nn.ReLU`, `F.relu`, `torch.relu`, `Tensor.relu` (and their in-place forms)   -> ReLU
  - `nn.MaxPool2d`, `F.max_pool2d` (padding 0, dilation 1, ceil_mode False, no indices)  -> MaxPool2d
  - `nn.AvgPool2d`, `F.avg_pool2d` (padding 0, ceil_mode False, no divisor_override)     -> AvgPool2d
  - `nn.Flatten()`, `torch.flatten(x, 1)`, `x.flatten(1)`, `x.view(x.size(0), -1)` / `x.reshape(x.shape[0], -1)` /
    `x.view(-1, n)` with n the per-sample size                                          -> Flatten
  - `nn.BatchNorm1d`/`nn.BatchNorm2d` with running statistics, directly after a Linear/Conv2d -> BatchNorm (folded)
  - `nn.Dropout`/`Dropout1d/2d/3d`, `F.dropout(..., training=False)`, `nn.Identity`     -> nothing (identity)
  - containers (`nn.Sequential`, custom modules) are traced through.

`example_input` is one sample, with or without a leading batch axis: 1-D (F,) and 3-D (C, H, W) tensors are single
samples; 2-D (N, F) and 4-D (N, C, H, W) carry a batch axis (normally N = 1; any N is accepted).

Precision (`precision=`):
  - None: every layer keeps the DSL's default (`vhls.precision.DEFAULT`), the input is `fixed<16,6>`.
  - a `Precision`, or a `Quant` / type string such as "fixed<16,6,RND,SAT>" (weight, bias and result alike, exact
    accumulator): applied to every layer (via `Sequential`). A string/Quant's type is also the input type, a
    `Precision`'s `result` type when set. Real inputs are always quantised with RND, SAT.
  - an int W >= 2 with `calibration` data: post-training quantisation (PTQ). The float torch model runs on the
    calibration set; every Linear/Conv2d gets weights, bias (both after BatchNorm folding) and result, every
    AvgPool2d its result, of type `fixed<W,I>` with the smallest I whose largest value 2**(I-1) - 2**(I-W) covers
    the observed max |value| (a result is the layer's output before any ReLU, after a folded BatchNorm), so nothing
    saturates on the calibration set; I may be negative or exceed W for very small or large ranges. The input type
    comes from the calibration inputs the same way. Constants and results round to nearest and saturate (RND, SAT)
    so unseen larger values clamp instead of wrapping; accumulators stay exact (no rounding inside a dot product).
    Types are signed throughout; no headroom bit is added beyond the calibration range.
  - an int W without calibration: the documented default split `fixed<W, I>` with I = ceil(3W/8) (W=16 gives
    hls4ml's `fixed<16,6>`, W=8 gives `fixed<8,3>`), RND/SAT, exact accumulators, for every layer and the input.

The returned Model's `run(x, exact=False)` is the float program built from the unquantised (BatchNorm-folded) weights
and matches torch's forward to float32 rounding; `run(x, exact=True)` is the fixed-point golden model. As a guard,
the import itself compares the float program with torch on `example_input` (and up to 64 calibration samples) and
refuses a mismatch. `calibration` given with a non-int precision is only stored as `model.calibration`. The module
runs in the dtype of its parameters (float32 normally); vhls's float program computes in float32.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.fx as fx
import torch.nn.functional as F
from torch import nn
from torch.fx.passes.shape_prop import ShapeProp

from vhls.ir.check import KEYWORDS
from vhls.ir.errors import VhlsError
from vhls.ir.prims import PRIMITIVES
from vhls.ir.types import Fixed
from vhls.layers import AvgPool2d, BatchNorm, Conv2d, Dense, Flatten, Input, MaxPool2d, ReLU, Sequential
from vhls.model import Model
from vhls.precision import Precision, Quant, quant

__all__ = ["SUPPORTED", "default_split", "from_torch", "int_bits_for"]

SUPPORTED = ("Linear", "Conv2d", "ReLU/relu", "MaxPool2d/max_pool2d", "AvgPool2d/avg_pool2d",
             "Flatten/flatten/view/reshape", "BatchNorm1d/2d", "Dropout/dropout(training=False)", "Identity")
_SUPPORTED_TEXT = "supported: " + ", ".join(SUPPORTED)

FLOAT_GUARD = 1e-4  # relative tolerance of the import-time float self-check (float32 rounding is ~1e-7)

_RELU_FUNCS = (F.relu, F.relu_, torch.relu, torch.relu_)
_DROPOUT_MODULES = (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)
_MODULES = {nn.Linear: "linear", nn.Conv2d: "conv2d", nn.ReLU: "relu", nn.MaxPool2d: "maxpool",
            nn.AvgPool2d: "avgpool", nn.Flatten: "flatten", nn.BatchNorm1d: "batchnorm", nn.BatchNorm2d: "batchnorm",
            nn.Identity: "identity", **{m: "identity" for m in _DROPOUT_MODULES}}
_METHODS = {"relu": "relu", "relu_": "relu", "flatten": "flatten", "view": "reshape", "reshape": "reshape"}

# Argument names of the functional forms, for binding positional and keyword arguments alike.
_MAXPOOL_ARGS = ("input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")
_AVGPOOL_ARGS = ("input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")
_FLATTEN_ARGS = ("input", "start_dim", "end_dim")
_DROPOUT_ARGS = ("input", "p", "training", "inplace")


# ---------------------------------------------------------------------------------------------- errors
def _where(node: fx.Node) -> str:
    if node.op == "call_module":
        return f"module `{node.target}`, fx node `{node.name}`"
    if node.op == "call_method":
        return f"method `Tensor.{node.target}`, fx node `{node.name}`"
    if node.op == "call_function":
        return f"function `{_func_name(node.target)}`, fx node `{node.name}`"
    if node.op == "get_attr":
        return f"attribute `{node.target}`, fx node `{node.name}`"
    return f"fx node `{node.name}`"


def _func_name(f: Any) -> str:
    """How the user spelled a function: `torch.nn.functional.relu`, `torch.sigmoid`, `operator.add`, ..."""
    name = getattr(f, "__name__", repr(f))
    for prefix, namespace in (("torch.nn.functional", F), ("torch", torch), ("operator", operator)):
        if getattr(namespace, name, None) is f:
            return f"{prefix}.{name}"
    mod = getattr(f, "__module__", None)
    return f"{mod}.{name}" if mod else name


def _op_name(node: fx.Node, gm: fx.GraphModule) -> str:
    if node.op == "call_module":
        return type(gm.get_submodule(str(node.target))).__name__
    if node.op == "call_function":
        return getattr(node.target, "__name__", repr(node.target))
    if node.op == "get_attr":
        return "get_attr"
    return str(node.target)


def _unsupported(node: fx.Node, gm: fx.GraphModule) -> VhlsError:
    return VhlsError(f"unsupported torch op `{_op_name(node, gm)}` ({_where(node)}); {_SUPPORTED_TEXT}")


def _refuse(node: fx.Node, gm: fx.GraphModule, why: str) -> VhlsError:
    return VhlsError(f"unsupported torch op `{_op_name(node, gm)}` ({_where(node)}): {why}")


# ---------------------------------------------------------------------------------------------- arguments
def _bind(node: fx.Node, names: tuple[str, ...], defaults: dict[str, Any], gm: fx.GraphModule) -> dict[str, Any]:
    """Positional and keyword arguments of a call_function/call_method node by parameter name."""
    if len(node.args) > len(names):
        raise _refuse(node, gm, f"too many arguments ({len(node.args)})")
    bound = dict(defaults)
    bound.update(zip(names, node.args, strict=False))
    for k, v in node.kwargs.items():
        if k not in names:
            raise _refuse(node, gm, f"unknown argument `{k}`")
        bound[k] = v
    return bound


def _pair(v: Any, what: str, node: fx.Node, gm: fx.GraphModule) -> tuple[int, int]:
    if isinstance(v, int) and not isinstance(v, bool):
        return (v, v)
    if isinstance(v, list | tuple) and len(v) == 1 and isinstance(v[0], int):
        return (v[0], v[0])
    if isinstance(v, list | tuple) and len(v) == 2 and all(isinstance(e, int) and not isinstance(e, bool) for e in v):
        return (int(v[0]), int(v[1]))
    raise _refuse(node, gm, f"{what}={v!r} is not an int or a pair of ints")


def _square(v: tuple[int, int]) -> int | tuple[int, int]:
    return v[0] if v[0] == v[1] else v


# ---------------------------------------------------------------------------------------------- plan
@dataclass
class _Step:
    """One vhls layer to build, with what PTQ needs to know about it."""

    kind: str  # dense | conv2d | relu | maxpool | avgpool | flatten | batchnorm
    name: str
    node: fx.Node  # the fx node whose output this layer's output equals (a folded BatchNorm's node for dense/conv)
    args: dict[str, Any] = field(default_factory=dict)
    bn: _Step | None = None  # the BatchNorm step folded into this dense/conv2d step


def _finite(name: str, t: torch.Tensor | None) -> np.ndarray | None:
    if t is None:
        return None
    a = t.detach().to(torch.float64).cpu().numpy().copy()
    bad = ~np.isfinite(a)
    if bad.any():
        kind = "NaN" if np.isnan(a).any() else "infinite"
        raise VhlsError(f"parameter `{name}` contains {kind} values ({int(bad.sum())} of {a.size}); "
                        "vhls needs finite weights")
    return a


def _layer_name(node: fx.Node, taken: set[str]) -> str:
    base = re.sub(r"\W", "_", node.name).strip("_") or "layer"
    if base[0].isdigit():
        base = f"layer{base}"
    name, i = base, 1
    while name in taken:
        i += 1
        name = f"{base}_{i}"
    taken.add(name)
    return name


class _Importer:
    def __init__(self, gm: fx.GraphModule, sample_shape: tuple[int, ...]) -> None:
        self.gm = gm
        self.sample_shape = sample_shape
        self.steps: list[_Step] = []
        self.names: set[str] = {"input"}  # Sequential names the Input layer `input`
        self.kinds: dict[fx.Node, str] = {}

    # ---- pass 1: every node must be a supported op (reported in graph order, before structure problems)
    def classify(self) -> None:
        gm = self.gm
        bad = []
        for node in gm.graph.nodes:
            if node.op in ("placeholder", "output"):
                continue
            kind = self._kind(node)
            if kind is None:
                bad.append(node)
            else:
                self.kinds[node] = kind
        if bad:  # name the operation rather than a parameter it reads (`F.linear(x, self.w)`: `linear`)
            raise _unsupported(next((n for n in bad if n.op != "get_attr"), bad[0]), gm)

    def _kind(self, node: fx.Node) -> str | None:
        if node.op == "call_module":
            return _MODULES.get(type(self.gm.get_submodule(str(node.target))))
        if node.op == "call_method":
            if node.target == "size" and self._is_batch_size(node):
                return "shape"
            return _METHODS.get(str(node.target))
        if node.op == "call_function":
            t = node.target
            if any(t is f for f in _RELU_FUNCS):
                return "relu"
            if t is F.max_pool2d:
                return "maxpool"
            if t is F.avg_pool2d:
                return "avgpool"
            if t is torch.flatten:
                return "flatten"
            if t is F.dropout:
                return "dropout"
            if t is getattr and len(node.args) == 2 and node.args[1] == "shape":
                return "shape"
            if t is operator.getitem and self._is_batch_size(node):
                return "shape"
        return None

    @staticmethod
    def _is_batch_size(node: fx.Node) -> bool:
        """`x.size(0)`, `x.size()[0]` or `x.shape[0]` (and the intermediate `x.size()` / `x.shape`)."""
        if node.op == "call_method" and node.target == "size":
            rest = list(node.args[1:]) + list(node.kwargs.values())
            if rest == [0]:
                return True
            return not rest and all(u.op == "call_function" and u.target is operator.getitem for u in node.users)
        if node.op == "call_function" and node.target is operator.getitem:
            src, idx = node.args
            if idx != 0 or not isinstance(src, fx.Node):
                return False
            return (src.op == "call_method" and src.target == "size" and len(src.args) == 1) or (
                src.op == "call_function" and src.target is getattr and src.args[1:] == ("shape",))
        return False

    def _batch_ref(self, v: Any) -> bool:
        """A value that is the batch size: a `size(0)`/`shape[0]` node (of any tensor of the chain, all (N, ...))."""
        if not isinstance(v, fx.Node):
            return False
        if v.op == "call_method" and v.target == "size":
            return list(v.args[1:]) + list(v.kwargs.values()) == [0]
        return v.op == "call_function" and v.target is operator.getitem and self._is_batch_size(v)

    # ---- pass 2: a single chain from the one input to the one output
    def chain(self) -> list[fx.Node]:
        graph = self.gm.graph
        inputs = [n for n in graph.nodes if n.op == "placeholder"]
        if len(inputs) != 1:
            names = ", ".join(f"`{n.name}`" for n in inputs)
            raise VhlsError(f"the module's forward takes {len(inputs)} inputs ({names}); vhls imports single-input "
                            "models only")
        out = next(n for n in graph.nodes if n.op == "output")
        result = out.args[0]
        if not isinstance(result, fx.Node):
            what = (f"a {type(result).__name__} of {len(result)} values" if isinstance(result, list | tuple | dict)
                    else f"{result!r}")
            raise VhlsError(f"the module returns {what} (fx node `output`); vhls imports models with one output "
                            "tensor only")
        chain, cur = [], inputs[0]
        while True:
            data = [u for u in cur.users if self.kinds.get(u) != "shape"]
            if not data:
                raise VhlsError(f"fx node `{cur.name}` does not lead to the module's output tensor; vhls imports "
                                "straight-chain models only")
            if len(data) != 1:
                users = ", ".join(f"`{u.name}`" for u in data)
                raise VhlsError(f"fx node `{cur.name}` is used by {len(data)} nodes ({users}); vhls imports "
                                "straight-chain models only (no branches, residual connections or multiple outputs)")
            nxt = data[0]
            if nxt.op == "output":
                return chain
            if self._inputs(nxt) != [cur]:
                raise VhlsError(f"fx node `{nxt.name}` does not take `{cur.name}` as its only tensor input; vhls "
                                "imports straight-chain models only")
            chain.append(nxt)
            cur = nxt

    def _inputs(self, node: fx.Node) -> list[fx.Node]:
        """The tensor inputs of a node (its Node arguments other than batch-size queries), in order."""
        found: list[fx.Node] = []
        fx.node.map_arg((node.args, node.kwargs), lambda n: found.append(n) or n)
        return [n for n in found if self.kinds.get(n) != "shape"]

    # ---- pass 3: settings that need no shapes, checked before the module first runs
    def validate(self, chain: list[fx.Node]) -> None:
        for node in chain:
            kind = self.kinds[node]
            if kind == "conv2d":
                self._conv_geometry(node)
            elif kind in ("maxpool", "avgpool"):
                self._pool_args(node, avg=kind == "avgpool")
            elif kind == "dropout":
                self._dropout(node, ())
            elif kind == "batchnorm":
                m = self._module(node)
                if m.running_mean is None or m.running_var is None:
                    raise _refuse(node, self.gm, "track_running_stats=False uses batch statistics even in eval "
                                  "mode")

    # ---- pass 4: layers, with per-sample shapes from running the module on example_input
    def shape(self, node: fx.Node) -> tuple[int, ...]:
        meta = node.meta.get("tensor_meta")
        if meta is None or not hasattr(meta, "shape"):
            raise VhlsError(f"fx node `{node.name}` does not produce a single tensor")
        return tuple(int(d) for d in meta.shape[1:])

    def build(self, chain: list[fx.Node]) -> None:
        in_shape = self.sample_shape
        for node in chain:
            getattr(self, "_" + self.kinds[node])(node, in_shape)
            in_shape = self.shape(node)

    def _add(self, kind: str, node: fx.Node, **args: Any) -> _Step:
        step = _Step(kind, _layer_name(node, self.names), node, args)
        self.steps.append(step)
        return step

    def _rank(self, node: fx.Node, in_shape: tuple[int, ...], rank: int, what: str) -> None:
        if len(in_shape) != rank:
            raise _refuse(node, self.gm, f"its per-sample input has shape {in_shape}, vhls needs {what}")

    def _module(self, node: fx.Node) -> nn.Module:
        return self.gm.get_submodule(str(node.target))

    def _linear(self, node: fx.Node, in_shape: tuple[int, ...]) -> None:
        m = self._module(node)
        assert isinstance(m, nn.Linear)
        self._rank(node, in_shape, 1, "a flat vector (insert nn.Flatten before it)")
        w = _finite(f"{node.target}.weight", m.weight)
        b = _finite(f"{node.target}.bias", m.bias)
        self._add("dense", node, units=m.out_features, weight=w, bias=b)

    def _conv_geometry(self, node: fx.Node) -> dict[str, Any]:
        m = self._module(node)
        assert isinstance(m, nn.Conv2d)
        gm = self.gm
        if m.groups != 1:
            raise _refuse(node, gm, f"groups={m.groups}, vhls supports groups=1 only")
        if tuple(m.dilation) != (1, 1):
            raise _refuse(node, gm, f"dilation={tuple(m.dilation)}, vhls supports dilation=1 only")
        if m.padding_mode != "zeros":
            raise _refuse(node, gm, f"padding_mode={m.padding_mode!r}, vhls supports 'zeros' only")
        kh, kw = _pair(m.kernel_size, "kernel_size", node, gm)
        if isinstance(m.padding, str):
            if m.padding == "valid":
                pad = (0, 0)
            else:  # 'same' (torch allows it for stride 1 only): symmetric for odd kernels
                if kh % 2 == 0 or kw % 2 == 0:
                    raise _refuse(node, gm, "padding='same' with an even kernel pads asymmetrically; vhls pads "
                                  "symmetrically")
                pad = ((kh - 1) // 2, (kw - 1) // 2)
        else:
            pad = _pair(m.padding, "padding", node, gm)
        stride = _pair(m.stride, "stride", node, gm)
        return {"kernel_size": _square((kh, kw)), "stride": _square(stride), "padding": _square(pad)}

    def _conv2d(self, node: fx.Node, in_shape: tuple[int, ...]) -> None:
        m = self._module(node)
        assert isinstance(m, nn.Conv2d)
        geometry = self._conv_geometry(node)
        self._rank(node, in_shape, 3, "a [C][H][W] image")
        w = _finite(f"{node.target}.weight", m.weight)
        b = _finite(f"{node.target}.bias", m.bias)
        self._add("conv2d", node, out_channels=m.out_channels, weight=w, bias=b, **geometry)

    def _batchnorm(self, node: fx.Node, in_shape: tuple[int, ...]) -> None:
        m = self._module(node)
        assert isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d)
        gm = self.gm
        prev = self.steps[-1] if self.steps else None
        want = "dense" if isinstance(m, nn.BatchNorm1d) else "conv2d"
        after = "Linear" if want == "dense" else "Conv2d"
        if prev is None or prev.kind != want or prev.bn is not None:
            raise _refuse(node, gm, f"vhls folds {type(m).__name__} into the {after} directly before it, and there "
                          "is none")
        if m.running_mean is None or m.running_var is None:
            raise _refuse(node, gm, "track_running_stats=False uses batch statistics even in eval mode")
        self._rank(node, in_shape, 1 if want == "dense" else 3, "the output of the preceding " + after)
        n = m.num_features
        gamma = _finite(f"{node.target}.weight", m.weight) if m.affine else np.ones(n)
        beta = _finite(f"{node.target}.bias", m.bias) if m.affine else np.zeros(n)
        mean = _finite(f"{node.target}.running_mean", m.running_mean)
        var = _finite(f"{node.target}.running_var", m.running_var)
        assert mean is not None and var is not None and gamma is not None and beta is not None
        if (var + m.eps <= 0).any():
            raise VhlsError(f"parameter `{node.target}.running_var` has values <= -eps; cannot fold BatchNorm")
        step = self._add("batchnorm", node, gamma=gamma, beta=beta, running_mean=mean, running_var=var, eps=m.eps)
        prev.bn = step
        prev.node = node  # the folded layer's output is the BatchNorm's output

    def _relu(self, node: fx.Node, in_shape: tuple[int, ...]) -> None:
        self._add("relu", node)

    def _pool_args(self, node: fx.Node, avg: bool) -> dict[str, Any]:
        gm = self.gm
        if node.op == "call_module":
            m = self._module(node)
            a = {"kernel_size": m.kernel_size, "stride": m.stride, "padding": m.padding, "ceil_mode": m.ceil_mode}
            if avg:
                a.update(count_include_pad=m.count_include_pad, divisor_override=m.divisor_override)
            else:
                a.update(dilation=m.dilation, return_indices=m.return_indices)
        elif avg:
            a = _bind(node, _AVGPOOL_ARGS, {"stride": None, "padding": 0, "ceil_mode": False,
                                            "count_include_pad": True, "divisor_override": None}, gm)
        else:
            a = _bind(node, _MAXPOOL_ARGS, {"stride": None, "padding": 0, "dilation": 1, "ceil_mode": False,
                                            "return_indices": False}, gm)
        if _pair(a["padding"], "padding", node, gm) != (0, 0):
            raise _refuse(node, gm, f"padding={a['padding']!r}, vhls pools without padding")
        if a["ceil_mode"]:
            raise _refuse(node, gm, "ceil_mode=True, vhls pools with ceil_mode=False only")
        if not avg and _pair(a["dilation"], "dilation", node, gm) != (1, 1):
            raise _refuse(node, gm, f"dilation={a['dilation']!r}, vhls supports dilation=1 only")
        if not avg and a["return_indices"]:
            raise _refuse(node, gm, "return_indices=True is not supported")
        if avg and a["divisor_override"] is not None:
            raise _refuse(node, gm, "divisor_override is not supported")
        k = _pair(a["kernel_size"], "kernel_size", node, gm)
        s = k if a["stride"] is None or a["stride"] == [] or a["stride"] == () else _pair(a["stride"], "stride",
                                                                                           node, gm)
        return {"kernel_size": _square(k), "stride": _square(s)}

    def _maxpool(self, node: fx.Node, in_shape: tuple[int, ...]) -> None:
        self._rank(node, in_shape, 3, "a [C][H][W] image")
        self._add("maxpool", node, **self._pool_args(node, avg=False))

    def _avgpool(self, node: fx.Node, in_shape: tuple[int, ...]) -> None:
        self._rank(node, in_shape, 3, "a [C][H][W] image")
        self._add("avgpool", node, **self._pool_args(node, avg=True))

    def _flatten(self, node: fx.Node, in_shape: tuple[int, ...]) -> None:
        gm = self.gm
        if node.op == "call_module":
            m = self._module(node)
            start, end = m.start_dim, m.end_dim
        else:
            a = _bind(node, _FLATTEN_ARGS, {"start_dim": 0, "end_dim": -1}, gm)
            start, end = a["start_dim"], a["end_dim"]
        rank = len(in_shape) + 1
        if start % rank != 1 or end % rank != rank - 1:
            raise _refuse(node, gm, f"start_dim={start}, end_dim={end}; vhls flattens each sample "
                          "(start_dim=1, end_dim=-1) only")
        self._flat(node, in_shape)

    def _flat(self, node: fx.Node, in_shape: tuple[int, ...]) -> None:
        if len(in_shape) > 1:
            self._add("flatten", node)
        # a flat sample stays as it is: nothing to build

    def _reshape(self, node: fx.Node, in_shape: tuple[int, ...]) -> None:
        dims = list(node.args[1:])
        if len(dims) == 1 and isinstance(dims[0], list | tuple):
            dims = list(dims[0])
        if "shape" in node.kwargs or "size" in node.kwargs:
            dims = list(node.kwargs.get("shape", node.kwargs.get("size")))
        n = math.prod(in_shape)
        ok = len(dims) == 2 and (
            (self._batch_ref(dims[0]) and dims[1] in (-1, n)) or (dims[0] == -1 and dims[1] == n))
        if not ok:
            shown = ", ".join(d.name if isinstance(d, fx.Node) else repr(d) for d in dims)
            raise _refuse(node, self.gm, f"shape ({shown}); vhls imports view/reshape only as a per-sample flatten "
                          f"(x.size(0), -1) or (-1, {n})")
        self._flat(node, in_shape)

    def _dropout(self, node: fx.Node, in_shape: tuple[int, ...]) -> None:
        a = _bind(node, _DROPOUT_ARGS, {"p": 0.5, "training": True, "inplace": False}, self.gm)
        if a["training"] is not False:
            raise _refuse(node, self.gm, "F.dropout with training=True drops values even in eval mode; pass "
                          "training=self.training")

    def _identity(self, node: fx.Node, in_shape: tuple[int, ...]) -> None:
        pass


# ---------------------------------------------------------------------------------------------- precision
def default_split(width: int) -> Fixed:
    """The type an int precision W means without calibration: fixed<W, ceil(3W/8)> (W=16 -> hls4ml's fixed<16,6>)."""
    return Fixed(width, max(1, (3 * width + 7) // 8), True)


def int_bits_for(max_abs: float, width: int) -> int:
    """Smallest I such that signed fixed<width, I> represents max_abs without saturating (its largest value
    2**(I-1) - 2**(I-width) is >= max_abs). 1 for an all-zero range."""
    if not max_abs > 0:
        return 1
    if width < 2:
        raise VhlsError(f"a signed {width}-bit type cannot hold a positive value; use at least 2 bits")
    i = math.ceil(math.log2(max_abs)) + 1  # smallest i with 2**(i-1) >= max_abs; i-1 is always too small
    if max_abs > 2.0 ** (i - 1) - 2.0 ** (i - width):  # max_abs within one LSB of 2**(i-1): one more bit
        i += 1
    return i


def _q(max_abs: float, width: int) -> Quant:
    return Quant(Fixed(width, int_bits_for(max_abs, width), True), "RND", "SAT")


def _width(precision: int) -> int:
    if precision < 2:
        raise VhlsError(f"precision must be a bit width of at least 2 (sign and one more bit), got {precision}")
    if precision > 64:
        raise VhlsError(f"precision {precision} bits is wider than vhls's 64-bit limit for imported models")
    return precision


def _as_array(x: Any, what: str) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        x = x.detach().to(torch.float64).cpu().numpy()
    try:
        a = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise VhlsError(f"{what} must be a numeric array or tensor ({e})") from None
    if not np.isfinite(a).all():
        raise VhlsError(f"{what} contains NaN or infinite values")
    return a


def _sample_shape(a: np.ndarray) -> tuple[int, ...]:
    if a.ndim in (1, 3):
        return tuple(a.shape)
    if a.ndim in (2, 4):
        return tuple(a.shape[1:])
    raise VhlsError(f"example_input of shape {a.shape}: give one sample, (F,) or (C, H, W), optionally with a "
                    "leading batch axis")


def _record(gm: fx.GraphModule, x: torch.Tensor, nodes: list[fx.Node]) -> dict[fx.Node, float]:
    """Max |output| of the given nodes when the float model runs on x."""
    want = set(nodes)
    seen: dict[fx.Node, float] = {}

    class Rec(fx.Interpreter):
        def run_node(self, n: fx.Node) -> Any:
            out = super().run_node(n)
            if n in want:
                seen[n] = float(out.detach().abs().max())
            return out

    with torch.no_grad():
        Rec(gm).run(x)
    return seen


def _folded(step: _Step) -> tuple[np.ndarray, np.ndarray | None]:
    """Weights and bias of a dense/conv2d step after folding its BatchNorm (for range analysis only)."""
    w, b = step.args["weight"], step.args["bias"]
    if step.bn is None:
        return w, b
    a = step.bn.args
    scale = a["gamma"] / np.sqrt(a["running_var"] + a["eps"])
    w = w * scale.reshape((-1,) + (1,) * (w.ndim - 1))
    b = (np.zeros_like(scale) if b is None else b) * scale + a["beta"] - a["running_mean"] * scale
    return w, b


def _ptq(steps: list[_Step], gm: fx.GraphModule, calib: torch.Tensor, width: int) -> tuple[Fixed, dict[str, Precision]]:
    """Per-layer precisions from the ranges seen on the calibration set (see the module doc), and the input type."""
    nodes = [s.node for s in steps if s.kind in ("dense", "conv2d", "avgpool")]
    ranges = _record(gm, calib, nodes)
    per: dict[str, Precision] = {}
    for s in steps:
        if s.kind in ("dense", "conv2d"):
            w, b = _folded(s)
            per[s.name] = Precision(weight=_q(float(np.abs(w).max()), width),
                                    bias=None if b is None else _q(float(np.abs(b).max()), width),
                                    acc=None, result=_q(ranges[s.node], width))
        elif s.kind == "avgpool":
            per[s.name] = Precision(acc=None, result=_q(ranges[s.node], width))
    return _q(float(calib.abs().max()), width).type, per


# ---------------------------------------------------------------------------------------------- entry point
def _trace(module: nn.Module) -> fx.GraphModule:
    try:
        gm = fx.symbolic_trace(module)
    except Exception as e:  # torch raises many kinds; report the first line
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise VhlsError(f"torch.fx cannot trace `{type(module).__name__}`: {first}") from None
    # No dead-code elimination: torch.fx may consider in-place ops such as `F.relu_(x)` pure and drop them, which
    # would change the meaning; an unused node instead makes its input branch, which is refused.
    return gm


def _model_name(module: nn.Module, name: str | None) -> str:
    """`name`, or the module's class name in lower case (made an identifier that is no IR keyword or primitive)."""
    if name is not None:
        return name
    base = re.sub(r"\W", "_", type(module).__name__).lower().strip("_") or "model"
    if base[0].isdigit():
        base = f"model_{base}"
    if base in KEYWORDS or base in PRIMITIVES:
        base = f"{base}_model"
    return base


def _layers(steps: list[_Step], per: dict[str, Precision]) -> list[Any]:
    out: list[Any] = []
    for s in steps:
        a, p = s.args, per.get(s.name)
        if s.kind == "dense":
            out.append(Dense(a["units"], a["weight"], a["bias"], precision=p, name=s.name))
        elif s.kind == "conv2d":
            out.append(Conv2d(a["out_channels"], a["kernel_size"], a["weight"], a["bias"], stride=a["stride"],
                              padding=a["padding"], precision=p, name=s.name))
        elif s.kind == "batchnorm":
            out.append(BatchNorm(a["gamma"], a["beta"], a["running_mean"], a["running_var"], a["eps"], name=s.name))
        elif s.kind == "relu":
            out.append(ReLU(name=s.name))
        elif s.kind == "maxpool":
            out.append(MaxPool2d(a["kernel_size"], a["stride"], name=s.name))
        elif s.kind == "avgpool":
            out.append(AvgPool2d(a["kernel_size"], a["stride"], precision=p, name=s.name))
        elif s.kind == "flatten":
            out.append(Flatten(name=s.name))
        else:  # pragma: no cover - the importer only plans the kinds above
            raise AssertionError(s.kind)
    return out


def from_torch(module: nn.Module, example_input: torch.Tensor | np.ndarray,
               precision: Precision | Quant | str | int | None = None,
               calibration: np.ndarray | torch.Tensor | None = None, name: str | None = None) -> Model:
    """Import `module` (see the module docstring for what is supported and how precision is chosen)."""
    if not isinstance(module, nn.Module):
        raise VhlsError(f"from_torch needs a torch.nn.Module, got {type(module).__name__}")
    example = _as_array(example_input, "example_input")
    shape = _sample_shape(example)
    calib = None
    if calibration is not None:
        calib = _as_array(calibration, "calibration")
        if calib.shape == shape:
            calib = calib[None]
        if calib.shape[1:] != shape or calib.shape[0] == 0:
            raise VhlsError(f"calibration data of shape {calib.shape} does not fit the input shape {shape} "
                            f"(expected (N, {', '.join(map(str, shape))}))")
    if isinstance(precision, bool) or (
            precision is not None and not isinstance(precision, Precision | Quant | Fixed | str | int)):
        raise VhlsError(f"precision must be a Precision, a type string or an int bit width, got {precision!r}")
    width = _width(precision) if isinstance(precision, int) else None

    flags = {m: m.training for m in module.modules()}
    module.eval()
    try:
        gm = _trace(module)
        imp = _Importer(gm, shape)
        imp.classify()
        chain = imp.chain()
        imp.validate(chain)
        dtype = next((p.dtype for p in module.parameters() if p.is_floating_point()), torch.float32)
        batch = example.reshape((-1, *shape))[:64]  # the example sample(s), with a batch axis
        x1 = torch.as_tensor(batch[:1], dtype=dtype)
        try:
            with torch.no_grad():
                ShapeProp(gm).propagate(x1)
        except Exception as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise VhlsError(f"the module does not run on example_input of per-sample shape {shape}: {first}") from None
        imp.build(chain)
        steps = imp.steps

        per: dict[str, Precision] = {}
        global_prec: Precision | str | None = None
        in_type: Quant | Fixed | str | None = None
        if width is not None:
            w = width
            if calib is not None:
                in_type, per = _ptq(steps, gm, torch.as_tensor(calib, dtype=dtype), w)
            else:
                q = Quant(default_split(w), "RND", "SAT")
                global_prec, in_type = Precision(weight=q, bias=q, acc=None, result=q), q
        elif isinstance(precision, str | Quant | Fixed):
            global_prec, in_type = precision, quant(precision).type  # the input quantises with Input's RND, SAT
        elif isinstance(precision, Precision):
            global_prec = precision
            if isinstance(precision.result, Quant):
                in_type = precision.result.type  # the input quantises with Input's own RND, SAT

        layers = _layers(steps, per)
        inp = Input(shape) if in_type is None else Input(shape, in_type)
        model = Sequential(inp, *layers, name=_model_name(module, name), precision=global_prec)
        if calib is not None:
            model.calibration = calib

        # Guard: the float program must be torch's forward (catches any convention mismatch instead of hiding it).
        probe = batch if calib is None else np.concatenate([batch, calib[:64]])
        with torch.no_grad():
            ref = gm(torch.as_tensor(probe, dtype=dtype)).double().numpy()
        got = model.run(probe, exact=False)
        err = float(np.abs(got - ref).max()) if got.shape == ref.shape else math.inf
        if not err <= FLOAT_GUARD * max(1.0, float(np.abs(ref).max())):
            raise VhlsError(f"imported model disagrees with torch's forward (max error {err:.3g}); this is a vhls "
                            "bug, please report it")
        return model
    finally:
        for m, t in flags.items():
            m.training = t
