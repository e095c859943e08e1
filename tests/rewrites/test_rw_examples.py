"""The examples keep their golden outputs under every exact rule applied everywhere; the precision rules stay
within their bounds on real weights."""

from fractions import Fraction
from functools import cache
from pathlib import Path

import numpy as np
import pytest
from rw_support import apply_everywhere, same

from vhls.ir.interp import encode, evaluate
from vhls.ir.terms import Const, Let, Program
from vhls.loader import load
from vhls.model import Model
from vhls.rewrites import get, known

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXACT = sorted(n for n, r in known().items() if r.exact)
ARGS = {"split_map": (2,), "split_reduce": (2,), "tile_slide": (2,)}
# Rules that must find something to do in each example (the others may legitimately match nowhere).
MUST = {"jet_mlp": {"narrow_acc", "split_map", "split_reduce", "map_par", "map_seq", "reduce_seq", "reduce_tree",
                    "insert_fifo", "insert_buffer", "map_fission"},
        "digits_cnn": {"narrow_acc", "split_map", "split_reduce", "tile_slide", "map_par", "reduce_tree",
                       "insert_fifo", "map_fusion", "map_fission"}}


@cache
def example(name: str) -> tuple[Model, tuple]:
    m = load(EXAMPLES / f"{name}.py")
    x = m.calibration[:24] if m.calibration is not None else np.zeros((4, *m.input_shape))
    raw = encode(np.asarray(x), m.input_type, *m.input_modes)
    return m, (raw,)


@pytest.mark.parametrize("rule", EXACT)
@pytest.mark.parametrize("name", ["jet_mlp", "digits_cnn"])
def test_examples_keep_golden_outputs(name: str, rule: str) -> None:
    m, xs = example(name)
    q, hits = apply_everywhere(m.ir, get(rule, *ARGS.get(rule, ())))
    if rule in MUST[name]:
        assert hits > 0, f"{rule} found nothing to rewrite in {name}"
    assert same(evaluate(m.ir, *xs), evaluate(q, *xs))


def _weights(p: Program) -> dict[str, Const]:
    out, t = {}, p.body
    while isinstance(t, Let):
        if isinstance(t.value, Const) and len(np.shape(t.value.array())) >= 2:
            out[t.name] = t.value
        t = t.body
    return out


def _real(c: Const) -> np.ndarray:
    s = c.type
    while hasattr(s, "elem"):
        s = s.elem
    return np.vectorize(lambda v: Fraction(int(v)) * Fraction(2) ** -s.frac, otypes=[object])(c.array())


@pytest.mark.parametrize("k", [4, 8])
def test_quantise_weights_on_jet_mlp(k: int) -> None:
    m, xs = example("jet_mlp")
    q, hits = apply_everywhere(m.ir, get("quantise_weights", k))
    before, after = _weights(m.ir), _weights(q)
    assert hits == len(before) == 4
    for name, c in after.items():
        s = c.type
        while hasattr(s, "elem"):
            s = s.elem
        assert s.width == k
        assert np.abs(_real(c) - _real(before[name])).max() <= Fraction(2) ** -(s.frac + 1)
    evaluate(q, *xs)  # still runs


def test_pow2_weights_on_jet_mlp() -> None:
    m, _ = example("jet_mlp")
    q, hits = apply_everywhere(m.ir, get("pow2_weights"))
    assert hits == 4
    for name, c in _weights(q).items():
        assert all(abs(v) & (abs(v) - 1) == 0 for v in c.values)
        old = _real(_weights(m.ir)[name])
        assert (np.abs(_real(c) - old) <= np.abs(old) / 3).all()


def test_narrow_acc_on_jet_mlp_is_narrower() -> None:
    m, _ = example("jet_mlp")
    q, hits = apply_everywhere(m.ir, get("narrow_acc"))
    from vhls.ir.printer import print_program

    text = print_program(q)
    assert hits == 4 and "fixed<37,17>" in print_program(m.ir) and "fixed<37,17>" not in text
