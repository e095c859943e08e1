"""Line-buffer sliding-window unit: a stream of pixels in, one whole window vector per beat out (im2col in hardware).

The unit walks a grid of steps in raster order: every pixel of the frame (one input beat each, all C channels,
HWC order), then the zero pixels of the bottom/right padding that the last windows reach (no input beat). A step
shifts one column of kh pixels into a kh x kw register window: the step's pixel at the bottom, the kh - 1 rows
above it from kh - 1 line memories (row y lives in memory y mod (kh - 1), read before it is overwritten with the
new row in the same cycle), zeros where the column lies in the padding. The window is offered downstream on the
steps where its bottom-right tap sits at a valid position, so windows leave in raster order of position, kh*kw*C
elements in (i, j, c) order, exactly as the frame-bank unit (window.py) emits them.

Pixels enter through a FIFO of SLACK_ROWS rows: it keeps taking pixels while the steps pause (on the padding, or
while the consumer holds a window), so a producer and a consumer running at the same rate, with windows and
pixels bunched differently over a frame, both keep their rate. Timing (schedule.py models it beat by beat): a
pixel is readable from the FIFO FIFO_LATENCY cycles after it is taken; a step per cycle when its pixel is there
and the output is free; the window a step completes is offered LATENCY cycles after the step (memory read, then
the window register). A frame takes `Window.cycles(1)` = rows x columns of steps.

`decoupled` adds an output register apart from the window register: then only a step completing a window waits
for the consumer, and the steps between windows (padding, the rows and columns no window ends on) run while the
previous window is still held. That keeps a line buffer at its consumer's rate where the plain one loses cycles to
bunched windows (schedule.py); the first stage's PISO + line buffer (window.py) uses it, as it has to keep up with
frame banks that would emit a window every cycle.
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out
from amaranth.utils import ceil_log2

from vhls.backends.nn.fifo import StreamFIFO
from vhls.backends.nn.recognise import Window
from vhls.backends.nn.schedule import WINDOW_LATENCY

SLACK_ROWS = 2


def slack_pixels(win: Window) -> int:
    """Depth of the input FIFO (at least 4: a SyncFIFOBuffered of 2 has a zero-width address, which lint refuses)."""
    return max(SLACK_ROWS * win.width, 4)


class LineBufferWindowUnit(wiring.Component):
    LATENCY = 2  # from a step's pixel taken to the window it completes offered: memory read, window register

    def __init__(self, win: Window, width: int, decoupled: bool = False) -> None:
        assert self.LATENCY == WINDOW_LATENCY
        if not win.line_buffered(1):
            raise ValueError(f"padding {win.ph}x{win.pw} must be below the {win.kh}x{win.kw} kernel")
        self.win, self.width, self.decoupled = win, width, decoupled
        super().__init__({
            "i": In(stream.Signature(win.channels * width)),
            "o": Out(stream.Signature(win.size * width)),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        win = self.win
        pix = win.channels * self.width
        (hv, wv), lines = win.grid, win.kh - 1
        m.submodules.slack = slack = StreamFIFO(pix, slack_pixels(win))
        wiring.connect(m, wiring.flipped(self.i), slack.i)
        src = slack.o

        # Step A: take the step's pixel (if it is one of the frame's), read the column above it, write it.
        y, x = Signal(range(max(hv, 2)), name="y"), Signal(range(max(wv, 2)), name="x")

        def below(v: Signal, bound: int, size: int) -> Value:  # v < bound, spelt out only when it can be false
            return v < bound if bound < size else Const(1)

        def from_(v: Signal, bound: int) -> Value:  # v >= bound, likewise
            return v >= bound if bound > 0 else Const(1)

        in_cols = below(x, win.width, wv)
        ymod = Signal(range(max(lines, 2)))  # y mod (kh - 1): the memory holding row y
        real = Signal()
        b_valid, b_done, fire = Signal(), Signal(), Signal()
        m.d.comb += [
            real.eq(below(y, win.height, hv) & in_cols),
            src.ready.eq((~b_valid | b_done) & real),
            fire.eq((~b_valid | b_done) & (src.valid | ~real)),
        ]
        mems = []
        for k in range(lines):
            m.submodules[f"line{k}"] = mem = Memory(shape=pix, depth=max(win.width, 2), init=[])  # no 0-bit address
            wr, rd = mem.write_port(), mem.read_port()  # read-first: the old row comes out as the new one goes in
            addr = x[:max(1, ceil_log2(win.width))]
            m.d.comb += [wr.addr.eq(addr), wr.data.eq(src.payload), wr.en.eq(fire & real & (ymod == k)),
                         rd.addr.eq(addr), rd.en.eq(fire)]
            mems.append(rd.data)
        with m.If(fire):
            with m.If(x == wv - 1):
                m.d.sync += x.eq(0)
                with m.If(y == hv - 1):
                    m.d.sync += [y.eq(0), ymod.eq(0)]
                with m.Else():
                    m.d.sync += [y.eq(y + 1), ymod.eq(Mux(ymod == lines - 1, 0, ymod + 1) if lines > 1 else 0)]
            with m.Else():
                m.d.sync += x.eq(x + 1)

        # Step B: the step's pixel, rotation and masks, a cycle later beside the memories' data.
        b_pix = Signal(pix, reset_less=True)
        b_rot = Signal.like(ymod, reset_less=True)
        b_rows = Signal(win.kh, reset_less=True)  # window row i (input row y - kh + 1 + i) inside the frame
        b_first = Signal(reset_less=True)  # x == 0: the columns left of it are padding
        b_emit = Signal(reset_less=True)
        rows_emit = Const(sum(1 << r for r in win.emit_rows), hv)
        cols_emit = Const(sum(1 << c for c in win.emit_cols), wv)
        with m.If(fire):
            m.d.sync += [
                b_valid.eq(1),
                b_pix.eq(Mux(real, src.payload, 0)),  # zero on padding steps
                b_rot.eq(ymod),
                b_rows.eq(Cat(*(from_(y, win.kh - 1 - i) & below(y, win.height + win.kh - 1 - i, hv) & in_cols
                                for i in range(win.kh)))),
                b_first.eq(x == 0),
                b_emit.eq(rows_emit.bit_select(y, 1) & cols_emit.bit_select(x, 1)),
            ]
        with m.Elif(b_done):
            m.d.sync += b_valid.eq(0)

        # The column (window row i at bits [i*pix, (i+1)*pix)): rows above from memory (y - d) mod (kh - 1).
        column = Signal(win.kh * pix)
        with m.Switch(b_rot):
            for r in range(max(lines, 1)):
                with m.Case(r) if r < lines - 1 else m.Default():
                    m.d.comb += column.eq(Cat(*(mems[(r - (win.kh - 1 - i)) % lines] for i in range(win.kh - 1)),
                                              b_pix))
        masked = Cat(*(Mux(b_rows[i], column[i * pix:(i + 1) * pix], 0) for i in range(win.kh)))

        # Window register, (i, j, c) order, shifted left by a column. Without `decoupled` it is the output, so it
        # moves only when that is free; with it, only a step completing a window waits for the output register.
        taps = Signal(win.size * self.width, reset_less=True)
        shifted = Cat(*(Cat(Mux(b_first, 0, taps[i * win.kw * pix:(i + 1) * win.kw * pix][pix:])
                            if win.kw > 1 else Cat(), masked[i * pix:(i + 1) * pix]) for i in range(win.kh)))
        out = Signal.like(taps, reset_less=True) if self.decoupled else taps
        valid = Signal()
        free = ~valid | self.o.ready
        m.d.comb += b_done.eq(b_valid & (free | ~b_emit if self.decoupled else free))
        with m.If(b_done):
            m.d.sync += taps.eq(shifted)
        with m.If(b_done & b_emit):
            m.d.sync += valid.eq(1)
            if self.decoupled:
                m.d.sync += out.eq(shifted)
        with m.Elif(self.o.ready):
            m.d.sync += valid.eq(0)
        m.d.comb += [self.o.valid.eq(valid), self.o.payload.eq(out)]
        return m
