"""Sliding-window units: a stream of pixels in, one whole window vector per beat out (im2col in hardware).

`window_unit` picks the unit: a pixel per beat streams through line buffers (linebuf.py: kh - 1 rows in memories
behind a FIFO of two rows, `Window.line_buffered`); a whole frame per beat (the first stage, whose input is one beat
per image) goes through a PISO (piso.py) into a line buffer when the planner says that keeps up with the pipeline
(`serial`: schedule.serial_first), else it lands in the frame banks below, as do the rare windows whose padding is
as wide as the kernel. All emit the windows in raster order of their position, kh*kw*C elements in (i, j, c)
order, zeros where the window overlaps the padding.

Frame banks: the feature map (C x H x W) is kept in two banks of flip-flops (ping-pong): one is written while the
windows of the other are read, so consecutive images overlap. The write side takes `pixels_per_beat` pixels per
beat in raster order, all C channels of a pixel together (HWC: element c of pixel y*W + x at (y*W + x)*C + c). The
read side emits one window per cycle when the consumer is ready. A bank is released in the cycle its last window
leaves, so there is no bubble between images: the unit needs max(H*W/pixels_per_beat, Ho*Wo) cycles per image.
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from vhls.backends.nn.linebuf import LineBufferWindowUnit
from vhls.backends.nn.pipe import ping_pong_advance
from vhls.backends.nn.piso import PISO
from vhls.backends.nn.recognise import Window
from vhls.backends.nn.schedule import WINDOW_LATENCY


def window_unit(win: Window, width: int, pixels_per_beat: int,
                serial: bool = False) -> "FrameWindowUnit | LineBufferWindowUnit | SerialWindowUnit":
    """`serial`: a frame per beat goes through a PISO into a line buffer (ignored for a pixel per beat)."""
    if win.line_buffered(pixels_per_beat):
        return LineBufferWindowUnit(win, width)
    if serial:
        return SerialWindowUnit(win, width)
    return FrameWindowUnit(win, width, pixels_per_beat)


class SerialWindowUnit(wiring.Component):
    """A whole frame per beat, sent a pixel per cycle (PISO) into a line buffer: Window.cycles(1) cycles per frame,
    the frame's windows from its pixels as they arrive (schedule.py models both). The line buffer is `decoupled`
    (linebuf.py) so its bunched windows keep up with a consumer that frame banks would keep busy; the plain one is
    there for tests."""

    def __new__(cls, win: Window, width: int, decoupled: bool = True) -> "SerialWindowUnit":
        # Refused before the object exists, so Amaranth does not warn about an unused elaboratable.
        if win.pixels < 2 or not win.line_buffered(1):
            raise ValueError(f"a PISO and line buffer need 2+ pixels and padding below the kernel: {win.describe()}")
        return super().__new__(cls)

    def __init__(self, win: Window, width: int, decoupled: bool = True) -> None:
        self.win, self.width, self.decoupled = win, width, decoupled
        super().__init__({
            "i": In(stream.Signature(win.pixels * win.channels * width)),
            "o": Out(stream.Signature(win.size * width)),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        m.submodules.piso = piso = PISO(self.win.pixels, self.win.channels * self.width)
        m.submodules.lines = lines = LineBufferWindowUnit(self.win, self.width, self.decoupled)
        wiring.connect(m, wiring.flipped(self.i), piso.i)
        wiring.connect(m, piso.o, lines.i)
        wiring.connect(m, lines.o, wiring.flipped(self.o))
        return m


class FrameWindowUnit(wiring.Component):
    LATENCY = 2  # from a frame's last beat taken to its first window offered: bank full flag, window register

    def __init__(self, win: Window, width: int, pixels_per_beat: int) -> None:
        assert self.LATENCY == WINDOW_LATENCY
        if win.pixels % pixels_per_beat:
            raise ValueError(f"{pixels_per_beat} pixels per beat must divide the {win.pixels} pixels of a frame")
        self.win, self.width, self.ppb = win, width, pixels_per_beat
        super().__init__({
            "i": In(stream.Signature(pixels_per_beat * win.channels * width)),
            "o": Out(stream.Signature(win.size * width)),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        win = self.win
        pix = win.channels * self.width  # bits per pixel
        beats, step = win.pixels // self.ppb, self.ppb * pix
        banks = [Signal(win.pixels * pix, name=f"frame{b}", reset_less=True) for b in range(2)]
        full = [Signal(name=f"full{b}") for b in range(2)]
        wbank, rbank = Signal(), Signal()

        # Write side: beats fill the bank wbank in raster order.
        wptr = Signal(range(max(beats, 2)))
        m.d.comb += self.i.ready.eq(~Mux(wbank, full[1], full[0]))
        with m.If(self.i.valid & self.i.ready):
            for b in range(2):
                with m.If(wbank == b), m.Switch(wptr):
                    for k in range(beats):  # the last beat as the default: every case covered (lint)
                        with m.Case(k) if k < beats - 1 else m.Default():
                            m.d.sync += banks[b][k * step:(k + 1) * step].eq(self.i.payload)
            ping_pong_advance(m, wptr, wptr == beats - 1, wbank, full, 1)

        # Read side: window `pos` of bank rbank into the output register whenever it is empty or being taken.
        frame = Signal(len(banks[0]))
        m.d.comb += frame.eq(Mux(rbank, banks[1], banks[0]))
        pos = Signal(range(max(win.positions, 2)))
        data = Signal(len(self.o.payload), reset_less=True)
        valid = Signal()
        taps = win.sources()
        with m.If(Mux(rbank, full[1], full[0]) & (~valid | self.o.ready)):
            with m.Switch(pos):
                for p in range(win.positions):
                    with m.Case(p) if p < win.positions - 1 else m.Default():
                        parts = [frame[t * pix:(t + 1) * pix] if t >= 0 else Const(0, pix) for t in taps[p]]
                        m.d.sync += data.eq(Cat(*parts))
            m.d.sync += valid.eq(1)
            ping_pong_advance(m, pos, pos == win.positions - 1, rbank, full, 0)
        with m.Elif(self.o.ready):
            m.d.sync += valid.eq(0)
        m.d.comb += [self.o.valid.eq(valid), self.o.payload.eq(data)]
        return m
