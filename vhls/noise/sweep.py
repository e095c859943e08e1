"""Accuracy versus noise level for each weights variant of a model, with and without each tolerance scheme.

For a model file with a labelled `test_set` (and optionally `variants`: name -> Model, the same network with other
weights, e.g. noise- or SAM-trained), every (variant, scheme, level) point runs the exact golden model
(`golden.forward`) with the noise model's faults (`models.make`) behind the scheme's hook (`tolerance.protect`) on
the whole test set and records the top-1 accuracy, and how often the scheme acted (`events`: outputs outvoted by
TMR, outputs replaced by ANT, vectors flagged by ABFT summed over layers; a conv stage counts window vectors).

Schemes: those of `tolerance.protect` (none, tmr, ant, abft), exactly as the RTL builds them. ANT's thresholds are
`tolerance.ant_thresholds` with the build's default, "cal" (per layer, the largest |acc − est| of the fault-free
network on the model file's calibration inputs, as Hegde and Shanbhag's ANT picks its threshold empirically; the
exact worst case, "worst", is 10-100x the errors seen on real data and too loose to catch errors that matter), so
`vhls build --tolerance ant:BITS` computes what the sweep's `ant` does. A test vector beyond the calibrated bound is
replaced by the estimate even without a fault: level-0 events show how often.
ABFT recomputes flagged vectors (fault-free) only for transient noise (gaussian, acc_ber, acc_flip); for persistent or
deterministic faults (weight_ber, stuck_at, vos) a re-execution fails again, so there it only flags.
"""

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from vhls.backends.nn.recognise import Network
from vhls.ir.errors import VhlsError
from vhls.model import Model
from vhls.noise import golden, models, tolerance

SCHEMES = tolerance.SCHEMES
LOSS_POINTS = 5.0  # "loses >= 5 points": the level the report singles out


def load_variants(path: str | Path) -> tuple[Model, dict[str, Model]]:
    """The model file's `model` (with its test set) and its `variants` (default: {"plain": model})."""
    from vhls.loader import load

    model = load(path)
    if model.test_set is None:
        raise VhlsError("noise-sweep needs labelled data: the model file defines no `test_set`", str(path))
    found: dict[str, Model] = {"plain": model}
    if Path(path).suffix == ".py":
        found = _variants_of(Path(path)) or found
    for name, m in found.items():
        if not isinstance(m, Model):
            raise VhlsError(f"`variants[{name!r}]` must be a vhls Model, got {type(m).__name__}", str(path))
        if m.input_shape != model.input_shape or m.output_shape != model.output_shape:
            raise VhlsError(f"`variants[{name!r}]` does not take and give the shapes of `model`", str(path))
    return model, found


def _variants_of(p: Path) -> dict[str, Model] | None:
    """`variants` of a model file (the file runs a second time: loader.load keeps only `model`)."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("vhls_noise_variants_" + p.stem, p)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    folder = str(p.resolve().parent)
    sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(folder)
    found = getattr(module, "variants", None)
    if found is not None and not isinstance(found, dict):
        raise VhlsError(f"`variants` must be a dict name -> Model, got {type(found).__name__}", str(p))
    return found


def accuracy(y_raw: np.ndarray, labels: np.ndarray) -> float:
    return float(np.mean(np.argmax(np.asarray(y_raw).astype(np.int64), axis=1) == labels))


def _events(scheme: str, stats: dict) -> int:
    """What the scheme did: outputs outvoted (tmr), replaced (ant), vectors flagged (abft, summed over layers)."""
    if scheme == "tmr":
        return int(sum(stats["outvoted"]))
    if scheme == "ant":
        return int(sum(stats["replaced"]))
    if scheme == "abft":
        return int(sum(len(f) for f in stats["flagged"]))
    return 0


def check_request(noise: str, levels: Sequence[float], schemes: Sequence[str]) -> None:
    if noise not in models.MODELS:
        raise VhlsError(f"unknown noise model {noise!r}; known: {', '.join(models.NOISES)}")
    if not levels:
        raise VhlsError("no noise levels given")
    if not schemes:
        raise VhlsError("no tolerance schemes given")
    for s in schemes:
        if s not in SCHEMES:
            raise VhlsError(f"unknown tolerance scheme {s!r}; known: {', '.join(SCHEMES)}")


def protect(net: Network, scheme: str, fault: models.Fault, noise: str, bits: int,
            thresholds: Sequence[int]) -> tuple[golden.AccHook, dict]:
    params: dict[str, Any] = {"ant": {"bits": bits, "thresholds": thresholds},
                              "abft": {"recompute": not models.MODELS[noise].persistent}}.get(scheme, {})
    return tolerance.protect(net, scheme, fault, **params)


def replica_only(net: Network, x: np.ndarray, bits: int) -> np.ndarray:
    """Outputs of the fault-free reduced-precision replica alone (what ANT falls back on)."""
    return golden.forward(net, x, lambda li, xi, acc: tolerance.ant_estimate(net.layers[li], xi, bits))


def sweep(model: Model, variants: dict[str, Model], noise: str, levels: Sequence[float], schemes: Sequence[str],
          seed: int = 0, advance: Callable[[str], None] | None = None,
          ant_bits: int = tolerance.ANT_BITS, repeats: int = 1, ant_threshold: str = "cal") -> dict[str, Any]:
    """The sweep's results (JSON-ready); `advance(label)` is called after every point (progress).

    Each point averages `repeats` runs with seeds seed, seed + 1, ... (vos is deterministic: one run)."""
    check_request(noise, levels, schemes)
    if ant_bits < 1:
        raise VhlsError(f"--ant-bits must be at least 1, got {ant_bits}")
    if repeats < 1:
        raise VhlsError(f"--repeats must be at least 1, got {repeats}")
    spec = tolerance.threshold_spec(ant_threshold)
    seeds = [seed] if noise == "vos" else list(range(seed, seed + repeats))
    assert model.test_set is not None
    x_real, labels = model.test_set
    labels = np.asarray(labels).astype(np.int64).reshape(-1)
    if len(labels) != len(x_real):
        raise VhlsError(f"`test_set` has {len(x_real)} inputs but {len(labels)} labels", model.source)
    out: dict[str, Any] = {
        "model": model.name, "source": model.source, "noise": noise, "level_meaning": models.MODELS[noise].level,
        "levels": [float(v) for v in levels], "schemes": list(schemes), "seeds": seeds, "test_vectors": len(labels),
        "calibration_vectors": None, "ant_bits": ant_bits, "ant_threshold": ant_threshold,
        "persistent": models.MODELS[noise].persistent,
        "variants": {},
    }
    if noise == "vos":
        out["vos"] = {"alpha": models.VOS_ALPHA, "vt": models.VOS_VT,
                      "energy": [models.vos_energy(v) for v in levels]}
    for vname, m in variants.items():
        net = golden.network(m)
        x = np.asarray(m.quantise_input(x_real)).reshape(len(labels), -1)
        # the model file's calibration inputs serve every variant (the test inputs when there are none)
        cal = x if model.calibration is None else np.asarray(m.quantise_input(model.calibration)).reshape(len(
            model.calibration), -1)
        out["calibration_vectors"] = len(cal) if model.calibration is not None else None
        ranges = models.value_ranges(golden.accumulators(net, cal))
        clean = accuracy(golden.forward(net, x), labels)
        thresholds = tolerance.ant_thresholds(net, ant_bits, spec, cal) if "ant" in schemes else []
        res: dict[str, Any] = {"clean": clean, "ant_replica_only": accuracy(replica_only(net, x, ant_bits), labels),
                               "ant_thresholds": thresholds, "accuracy": {}, "accuracy_runs": {}, "events": {}}
        if noise == "vos":
            res["carry_budget"] = [[models.vos_carry_budget(v, ly.acc_type.width) for ly in net.layers]
                                   for v in levels]
        for scheme in schemes:
            runs, events = [], []
            for level in levels:
                accs, ev = [], 0
                for s in seeds:
                    fault = models.make(noise, net, float(level), s, ranges)
                    hook, stats = protect(net, scheme, fault, noise, ant_bits, thresholds)
                    accs.append(accuracy(golden.forward(net, x, hook), labels))
                    ev += _events(scheme, stats)
                runs.append(accs)
                events.append(ev / len(seeds))
                if advance is not None:
                    advance(f"{vname} {scheme} {level:g}")
            res["accuracy"][scheme] = [float(np.mean(a)) for a in runs]
            res["accuracy_runs"][scheme] = runs
            res["events"][scheme] = events
        out["variants"][vname] = res
    out["summary"] = summary(out)
    return out


def summary(result: dict[str, Any]) -> dict[str, Any]:
    """Per variant: the mildest level where the unprotected accuracy is >= 5 points below clean, and what every
    scheme (and every other variant, unprotected) keeps there."""
    levels = result["levels"]
    found: dict[str, Any] = {}
    for vname, res in result["variants"].items():
        plain = res["accuracy"].get("none")
        if plain is None:
            continue
        idx = next((i for i, a in enumerate(plain) if 100 * (res["clean"] - a) >= LOSS_POINTS), None)
        if idx is None:
            found[vname] = {"level": None}
            continue
        found[vname] = {
            "level": levels[idx], "clean": res["clean"],
            "schemes": {s: accs[idx] for s, accs in res["accuracy"].items()},
            "variants_unprotected": {v: r["accuracy"]["none"][idx] for v, r in result["variants"].items()},
            "variants_clean": {v: r["clean"] for v, r in result["variants"].items()},
        }
    return found


def plot(result: dict[str, Any], path: Path) -> None:
    """Accuracy vs level, one panel per variant, one line per scheme (matplotlib, Agg)."""
    try:
        import matplotlib
    except ImportError:
        raise VhlsError("--plot needs matplotlib (pip install 'vhls[plot]')", str(path)) from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(result["variants"])
    levels = np.asarray(result["levels"], dtype=float)
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.6), sharey=True, squeeze=False)
    for ax, vname in zip(axes[0], names, strict=True):
        res = result["variants"][vname]
        for i, (scheme, accs) in enumerate(res["accuracy"].items()):  # thinner lines on top: overlaps stay visible
            ax.plot(levels, 100 * np.asarray(accs), marker="o", ms=3, lw=max(3.0 - 0.5 * i, 0.8), label=scheme)
        ax.axhline(100 * res["clean"], color="grey", lw=0.8, ls=":", label="clean")
        positive = levels[levels > 0]
        if result["noise"] != "vos" and len(positive) and positive.max() / positive.min() > 20:
            ax.set_xscale("symlog", linthresh=float(positive.min()))
            ax.set_xlim(0, float(levels.max()) * 1.3)
        if result["noise"] == "vos":
            ax.invert_xaxis()
        ax.set_title(f"{result['model']}: {vname}")
        ax.set_xlabel(f"{result['noise']}: {result['level_meaning']}")
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("test accuracy (%)")
    axes[0][-1].legend(fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
