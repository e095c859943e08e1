"""The sliding-window unit (Amaranth sim) against numpy im2col: padding, stride, whole-frame and pixel beats,
random tvalid gaps and back-pressure, several images back to back."""

import numpy as np
import pytest
from nn_streams import pack, run_stream, unpack

from vhls.backends.nn.recognise import Window
from vhls.backends.nn.window import WindowUnit

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
], ids=["conv3x3", "pool2x2-frame", "asymmetric", "strided-frame"])
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
    got = run_stream(WindowUnit(win, WIDTH, ppb), beats, len(want), seed=len(beats))
    assert [unpack(g, win.size, WIDTH) for g in got] == want


def test_window_unit_sustains_one_window_per_cycle() -> None:
    """No stalls: a frame per beat in, one window per cycle out, no bubble between images."""
    win = Window(1, 4, 4, 2, 2, 1, 1, 0, 0)
    beats = [pack(range(16), WIDTH), pack(range(16, 32), WIDTH)]
    dut = WindowUnit(win, WIDTH, win.pixels)
    got = run_stream(dut, beats, 2 * win.positions, p_valid=1.0, p_ready=1.0, limit=2 * win.positions + 3)
    assert len(got) == 2 * win.positions
