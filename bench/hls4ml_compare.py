"""vhls's golden model vs hls4ml's bit-accurate C++ emulation, at identical ap_fixed precisions.

    .venv/bin/python bench/hls4ml_compare.py [--examples jet_mlp digits_mlp] [--random 1000] [--json out.json]

For each MLP example (Input, Dense, ReLU layers only), the same weights go to hls4ml through a torch.nn.Sequential
(the float weights of the vhls float reference, i.e. BatchNorm already folded, as a torch model would hold them),
and hls4ml is configured per layer to vhls's types. Two configurations:

* `vhls`: the example's own precisions (vhls defaults: weights/biases fixed<16,6,RND,SAT>, exact accumulators,
  results fixed<16,6,TRN,WRAP>), i.e. hls4ml given ap_fixed<16,6,AP_RND,AP_SAT> weights, an accumulator of vhls's
  exact width and ap_fixed<16,6> results;
* `hls4ml`: hls4ml's own defaults (ap_fixed<16,6> TRN/WRAP for weights, biases, accumulators, results), and vhls
  given the same (`weight=fixed<16,6,TRN,WRAP>`, `acc=fixed<16,6>`).

Inputs: the example's data (test set and calibration) plus `--random` vectors drawn uniformly over the whole input
type (they reach overflow and wrap-around), all quantised to the input type first so both tools see the same bits.
hls4ml's C++ (`hls_model.compile()`, `predict`) needs only g++. Outputs are compared exactly; where they differ, the
first layer whose outputs differ (hls4ml's trace vs the vhls prefix model) is reported. Exit code 2 means hls4ml
is not installed (it is the optional `bench` extra).
"""

import argparse
import contextlib
import io
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "examples"))  # the examples import their training helpers by name

from vhls.ir import numerics as fx  # noqa: E402
from vhls.ir.terms import Const, Let, walk  # noqa: E402
from vhls.ir.types import scalar_of  # noqa: E402
from vhls.layers import Dense, Input, ReLU, Sequential  # noqa: E402
from vhls.loader import load  # noqa: E402
from vhls.precision import Precision, quant  # noqa: E402

_PREC = re.compile(r"(?:w/b=(?P<wb>\S+)|w=(?P<w>\S+) b=(?P<b>\S+)) acc=(?P<acc>fixed<[^>]*>)(?P<exact>\(exact\))? "
                   r"out=(?P<out>\S+)")


def ap(spec: str) -> str:
    """vhls `fixed<16,6,RND,SAT>` -> hls4ml `ap_fixed<16,6,AP_RND,AP_SAT>`."""
    q = quant(spec)
    t = q.type
    return f"ap_{'' if t.signed else 'u'}fixed<{t.width},{t.int_bits},AP_{q.q},AP_{q.o}>"


def mlp_layers(model) -> list[dict]:
    """The model's layers as [{kind, w, b, precision}], from its float IR (folded float32 weights) and report."""
    lets = [t for t in walk(model.float_ir.body) if isinstance(t, Let) and isinstance(t.value, Const)]
    ws = iter(t.value for t in lets if re.fullmatch(r"w\d+", t.name))  # in layer order
    bs = iter(t.value for t in lets if re.fullmatch(r"b\d+", t.name))
    out = []
    for info in model.layers:
        kind = info.kind.split("+")[0]
        if kind == "Input":
            continue
        if kind == "ReLU":
            out.append({"kind": "ReLU"})
            continue
        if kind != "Dense":
            raise ValueError(f"layer {info.name} is a {info.kind}: only Dense/ReLU MLPs are compared")
        w, b = next(ws), next(bs)
        m = _PREC.fullmatch(info.precision)
        if m is None:
            raise ValueError(f"cannot read the precision of {info.name}: {info.precision!r}")
        out.append({
            "kind": "Dense",
            "name": info.name,
            "w": np.array(w.values, dtype=np.float32).reshape(info.out_shape[0], -1),
            "b": np.array(b.values, dtype=np.float32),
            "weight": m["wb"] or m["w"],
            "bias": m["wb"] or m["b"],
            "acc": m["acc"],
            "exact_acc": bool(m["exact"]),
            "result": m["out"],
        })
    return out


def vhls_model(layers: list[dict], in_shape: tuple[int, ...], in_type: str, hls_defaults: bool, upto: int | None = None,
               name: str = "cmp"):
    """A vhls Sequential of the first `upto` layers with the example's precisions, or with hls4ml's defaults."""
    seq: list = [Input(in_shape, in_type)]
    for L in layers[:upto]:
        if L["kind"] == "ReLU":
            seq.append(ReLU())
            continue
        if hls_defaults:
            p = Precision(weight="fixed<16,6,TRN,WRAP>", bias="fixed<16,6,TRN,WRAP>", acc="fixed<16,6>",
                          result="fixed<16,6>")
        else:
            p = Precision(weight=L["weight"], bias=L["bias"], acc="exact" if L["exact_acc"] else L["acc"],
                          result=L["result"])
        seq.append(Dense(len(L["b"]), L["w"], L["b"], precision=p))
    return Sequential(*seq, name=name)


def hls4ml_model(layers: list[dict], in_shape: tuple[int, ...], in_type: str, hls_defaults: bool, out_dir: Path):
    import hls4ml
    import torch

    mods: list = []
    for L in layers:
        if L["kind"] == "ReLU":
            mods.append(torch.nn.ReLU())
        else:
            lin = torch.nn.Linear(L["w"].shape[1], L["w"].shape[0])
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(L["w"]))
                lin.bias.copy_(torch.from_numpy(L["b"]))
            mods.append(lin)
    net = torch.nn.Sequential(*mods).eval()
    cfg = hls4ml.utils.config_from_pytorch_model(net, in_shape, granularity="name", backend="Vivado",
                                                 default_precision="ap_fixed<16,6>")
    names = list(cfg["LayerName"])
    in_name, rest = names[0], names[1:]
    if len(rest) != len(layers):
        raise RuntimeError(f"hls4ml made layers {names} of {len(layers)} torch modules")
    cfg["LayerName"][in_name]["Precision"]["result"] = "ap_fixed<16,6>" if hls_defaults else ap(in_type)
    prev = ap(in_type)
    for name, L in zip(rest, layers, strict=True):
        c = cfg["LayerName"][name]
        c["Trace"] = True
        if L["kind"] == "ReLU":
            c["Precision"]["result"] = "ap_fixed<16,6>" if hls_defaults else prev  # ReLU keeps its input's type
            continue
        if hls_defaults:
            for k in ("weight", "bias", "accum", "result"):
                c["Precision"][k] = "ap_fixed<16,6>"
        else:
            c["Precision"].update(weight=ap(L["weight"]), bias=ap(L["bias"]), accum=ap(L["acc"]),
                                  result=ap(L["result"]))
            prev = ap(L["result"])
    hm = hls4ml.converters.convert_from_pytorch_model(net, output_dir=str(out_dir), backend="Vivado",
                                                      io_type="io_parallel", hls_config=cfg)
    with contextlib.redirect_stdout(io.StringIO()):
        hm.compile()
    return hm, rest


def qw(v: np.ndarray, layer: dict, hls_defaults: bool) -> np.ndarray:
    """Raw integers of weights/biases v in the layer's weight type (as vhls quantises them)."""
    q = quant("fixed<16,6,TRN,WRAP>" if hls_defaults else layer["weight"])
    return fx.from_float(np.asarray(v, dtype=np.float64), q.type, q.q, q.o)


def inputs(model, n_random: int, seed: int) -> tuple[np.ndarray, dict[str, int]]:
    """Real inputs on the input type's grid: the example's data, then uniform random raw values over the type."""
    parts, counts = [], {}
    if model.test_set is not None:
        parts.append(np.asarray(model.test_set[0], dtype=np.float64).reshape(len(model.test_set[0]), -1))
        counts["test_set"] = len(parts[-1])
    if model.calibration is not None:
        parts.append(np.asarray(model.calibration, dtype=np.float64).reshape(len(model.calibration), -1))
        counts["calibration"] = len(parts[-1])
    s = scalar_of(model.input_type)
    n_in = int(np.prod(model.input_shape))
    raw = np.random.default_rng(seed).integers(s.min_raw, s.max_raw + 1, size=(n_random, n_in))
    counts["random_full_range"] = n_random
    data = np.concatenate(parts) if parts else np.zeros((0, n_in))
    real = model.quantise_input(data).astype(np.float64) * s.lsb
    return np.concatenate([real, raw * s.lsb]), counts


def compare(example: str, n_random: int, seed: int, hls_defaults: bool, work: Path) -> dict:
    model = load(ROOT / "examples" / f"{example}.py")
    layers = mlp_layers(model)
    s = scalar_of(model.input_type)
    in_type = str(quant(s, q=model.input_modes[0], o=model.input_modes[1]))
    shape = model.input_shape
    x, counts = inputs(model, n_random, seed)
    ours = vhls_model(layers, shape, in_type, hls_defaults, name=model.name)
    if not hls_defaults and ours.ir != model.ir:
        raise RuntimeError(f"{example}: the rebuilt vhls model differs from the example's (weight extraction)")
    t0 = time.perf_counter()
    hm, names = hls4ml_model(layers, shape, in_type, hls_defaults, work / f"{example}_{int(hls_defaults)}")
    compile_s = time.perf_counter() - t0
    want = ours.run(x)
    other = vhls_model(layers, shape, in_type, not hls_defaults).run(x)  # the other configuration's outputs
    got = np.asarray(hm.predict(np.ascontiguousarray(x))).reshape(want.shape)
    diff_rows = np.flatnonzero((got != want).any(axis=1))
    res = {
        "example": example,
        "config": "hls4ml defaults" if hls_defaults else "vhls precisions",
        "precisions": [
            {"layer": L["name"], "weight": "ap_fixed<16,6>" if hls_defaults else ap(L["weight"]),
             "accum": "ap_fixed<16,6>" if hls_defaults else ap(L["acc"]) + (" (exact)" if L["exact_acc"] else ""),
             "result": "ap_fixed<16,6>" if hls_defaults else ap(L["result"])}
            for L in layers if L["kind"] == "Dense"
        ],
        "inputs": counts,
        "vectors": len(x),
        "outputs_compared": int(want.size),
        "outputs_differ": int((got != want).sum()),
        "vectors_differ": len(diff_rows),
        # how many outputs the choice of precisions changes (vhls vs vhls): a count of 0 above is not vacuous
        "outputs_differ_between_configs": int((other != want).sum()),
        "hls4ml_compile_seconds": round(compile_s, 1),
    }
    if len(diff_rows):
        # hls4ml writes the weights as decimal text with 10 fraction digits (`%.10f`) and quantises that text in C++;
        # tiny values (|w| < 5e-11, e.g. BatchNorm-folded weights of never-lit pixels) become 0 there, while vhls
        # quantises the binary value (a TRN floor takes -1e-38 to -1 lsb). Same weights as text: does vhls agree?
        text = [{**L, "w": np.round(L["w"].astype(np.float64), 10), "b": np.round(L["b"].astype(np.float64), 10)}
                if L["kind"] == "Dense" else L for L in layers]
        res["weights_quantised_differently"] = {
            L["name"]: int(sum((qw(L[k], L, hls_defaults) != qw(T[k], L, hls_defaults)).sum() for k in ("w", "b")))
            for L, T in zip(layers, text, strict=True) if L["kind"] == "Dense"}
        res["outputs_differ_if_vhls_reads_hls4ml_weight_text"] = int(
            (vhls_model(text, shape, in_type, hls_defaults).run(x) != got).sum())
    if len(diff_rows):  # find the first layer where the two disagree, on the differing vectors
        xs = x[diff_rows[:50]]
        _, trace = hm.trace(np.ascontiguousarray(xs))
        for k, name in enumerate(names):
            mine = vhls_model(layers, shape, in_type, hls_defaults, upto=k + 1).run(xs)
            theirs = np.asarray(trace[name]).reshape(mine.shape)
            bad = theirs != mine
            if bad.any():
                v, j = np.argwhere(bad)[0]
                res["first_difference"] = {"layer": name, "kind": layers[k]["kind"], "vector": int(diff_rows[v]),
                                           "output": int(j), "vhls": float(mine[v, j]), "hls4ml": float(theirs[v, j])}
                break
    return res


def main() -> int:
    ap_ = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap_.add_argument("--examples", nargs="+", default=["jet_mlp", "digits_mlp"])
    ap_.add_argument("--random", type=int, default=1000, help="random full-range vectors per example (default 1000)")
    ap_.add_argument("--seed", type=int, default=0)
    ap_.add_argument("--json", help="write the results here")
    args = ap_.parse_args()
    try:
        import hls4ml
    except ImportError:
        print("hls4ml is not installed (pip install 'vhls[bench]'): comparison skipped")
        return 2
    rows = []
    with tempfile.TemporaryDirectory(prefix="vhls_hls4ml_") as tmp:
        for ex in args.examples:
            for hls_defaults in (False, True):
                r = compare(ex, args.random, args.seed, hls_defaults, Path(tmp))
                rows.append(r)
                first = r.get("first_difference")
                where = f"; first difference at {first['layer']} ({first['kind']})" if first else ""
                if "outputs_differ_if_vhls_reads_hls4ml_weight_text" in r:
                    where += (f"; weights quantised differently {r['weights_quantised_differently']}, outputs that "
                              f"differ when vhls reads hls4ml's weight text: "
                              f"{r['outputs_differ_if_vhls_reads_hls4ml_weight_text']}")
                print(f"{ex} [{r['config']}]: {r['outputs_differ']} of {r['outputs_compared']} outputs differ "
                      f"({r['vectors_differ']} of {r['vectors']} vectors){where}; the other configuration changes "
                      f"{r['outputs_differ_between_configs']}; hls4ml compile {r['hls4ml_compile_seconds']} s")
    out = {"hls4ml_version": hls4ml.__version__, "random": args.random, "seed": args.seed, "rows": rows}
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
