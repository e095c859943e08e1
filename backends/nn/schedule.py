"""Beat-level timing of one image through an idle accelerator with window units: the latency the report predicts.

Line buffers let a stage start on an image before its producer has finished it, so the latency is no longer a
sum of per-stage figures: it depends on when each pixel, window and chunk arrives. Each unit below takes its
input beats in order, told the cycle each is offered, answers the cycle it takes it (the handshake), and offers
its own output beats to the next unit as soon as their cycles are known. Every rule mirrors the RTL:

  frame banks (window.py)   the first window WINDOW_LATENCY cycles after the frame's last beat, the next one the
                            cycle after the previous is taken
  PISO (piso.py)            a frame's pixel k offered PISO_LATENCY cycles after the frame is taken (pixel 0) or
                            the cycle after pixel k - 1 is taken; the next frame taken no sooner than the cycle
                            the last pixel is taken
  line buffer (linebuf.py)  a pixel readable from the input FIFO FIFO_LATENCY cycles after it is taken (or the
                            cycle after the previous pixel is read); step s runs in cycle f_s = max(c_(s-1), its
                            pixel readable) and completes in c_s = max(f_s + 1, the last window taken); a window
                            is offered in c_s + 1. Decoupled (behind a PISO): only a step completing a window waits
                            for the last one to be taken, the others complete in f_s + 1
  pool reduce (pool.py)     pool_latency registers in a row, each taking a value once its last one has been taken
                            (or in the same cycle), offering it the next cycle
  dense stage (dense.py)    beats taken per_beat cycles apart into a free bank; issue starts per_beat cycles after
                            a vector's last beat (and after the previous vector's folds); the result of neuron fold
                            n is readable pipeline_depth cycles after its last fold issues
  collector (collect.py)    a whole vector the cycle after its last chunk
  slice (skid.py)           between two dense stages: a chunk offered SLICE_LATENCY cycles after its producer
                            offers it

The FIFOs in front of line buffers and behind dense stages are taken as never full: within one image a consumer
that fills them is slower than its producer, and stays the bottleneck (a PISO that fills a line buffer's FIFO
waits, but the pixels it holds back are needed no sooner than the FIFO's contents have left). The measured latency
checks this (tests).

The first stage's window unit depends on the plan (`serial_first`): a PISO into a line buffer when the line
buffer's cycles per frame (beside its consumer) do not exceed the rest of the pipeline's initiation interval, else
the frame banks. A line buffer is cheaper (a shift register and two line memories instead of two frames and a
window multiplexer over every position), but slower: rows x columns of steps, padding included, where the frame
banks emit a window per cycle.
"""

import functools
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from vhls.backends.nn.recognise import DenseLayer, Network, Unit, Window, pixels_per_beat
from vhls.backends.nn.vecbuf import fill_delay, gate_beat, handoff_delay, land_delay

if TYPE_CHECKING:  # plan.py imports this module
    from vhls.backends.nn.plan import StagePlan

WINDOW_LATENCY = 2  # window.py and linebuf.py: from the beat completing a window to the window offered
PISO_LATENCY = 1  # piso.py: from a frame taken to its first pixel offered
NEVER = -math.inf
SLICE_LATENCY = 1  # skid.py: the register slice between two dense stages
POOL_FOLD_STEPS = 1  # pool.py: window elements folded between two registers (a compare or add, and a mux, each)


def sliced(net: Network, k: int) -> bool:
    """A register slice (skid.py) feeds unit k: it and its producer are dense stages (no window), which the placer
    may put far apart, around their multipliers and weight RAMs."""
    chain = net.chain
    return k > 0 and all(isinstance(u, DenseLayer) and u.window is None for u in chain[k - 1:k + 1])


def pool_latency(win: Window) -> int:
    """Registers of a pool reduce: one after every POOL_FOLD_STEPS fold steps but the last, and the output one."""
    return 1 + (win.kh * win.kw - 1) // POOL_FOLD_STEPS


class _Unit(Protocol):
    def take(self, offered: float) -> float: ...


class _Sink:
    def __init__(self) -> None:
        self.last = NEVER

    def take(self, offered: float) -> float:
        self.last = offered
        return offered


class _Collector:
    def __init__(self, beats: int, down: _Unit) -> None:
        self.beats, self.down, self.n = beats, down, 0

    def take(self, offered: float) -> float:
        self.n += 1
        if self.n % self.beats == 0:
            self.down.take(offered + 1)
        return offered


class _FrameWindows:
    def __init__(self, win: Window, ppb: int, down: _Unit) -> None:
        self.win, self.beats, self.down, self.n = win, win.pixels // ppb, down, 0

    def take(self, offered: float) -> float:
        self.n += 1
        if self.n % self.beats == 0:
            o = offered + WINDOW_LATENCY
            for _ in range(self.win.positions):
                o = self.down.take(o) + 1
        return offered


class _Piso:
    def __init__(self, words: int, down: _Unit) -> None:
        self.words, self.down = words, down
        self.free = NEVER  # the previous frame's last pixel taken: the next frame may be taken in that cycle

    def take(self, offered: float) -> float:
        t = max(offered, self.free)
        o = t + PISO_LATENCY
        for _ in range(self.words):
            self.free = self.down.take(o)
            o = self.free + 1
        return t


class _LineBuffer:
    def __init__(self, win: Window, fifo_latency: int, down: _Unit, decoupled: bool = False) -> None:
        hv, wv = win.grid
        rows, cols = set(win.emit_rows), set(win.emit_cols)
        # (needs a pixel, completes a window) per step, in order
        self.steps = [(y < win.height and x < win.width, y in rows and x in cols) for y in range(hv) for x in range(wv)]
        self.fifo_latency, self.down, self.decoupled = fifo_latency, down, decoupled
        self.s = 0
        self.frame_ends: list[float] = []  # c of each frame's last step
        self.done = NEVER  # c of the previous step
        self.taken = NEVER  # when the last window was taken
        self.popped = NEVER  # when the previous pixel left the FIFO
        self._virtual()

    def _step(self, readable: float) -> None:
        f = max(self.done, readable)
        emits = self.steps[self.s][1]
        c = max(f + 1, self.taken) if emits or not self.decoupled else f + 1
        if emits:
            self.taken = self.down.take(c + 1)
        self.done = c
        if self.steps[self.s][0]:
            self.popped = f
        self.s += 1
        if self.s == len(self.steps):
            self.s = 0
            self.frame_ends.append(c)

    def _virtual(self) -> None:
        while not self.steps[self.s][0]:
            self._step(NEVER)

    def take(self, offered: float) -> float:
        self._step(max(offered + self.fifo_latency, self.popped + 1))
        self._virtual()
        return offered


class _Register:
    def __init__(self, down: _Unit) -> None:
        self.down, self.taken = down, NEVER

    def take(self, offered: float) -> float:
        t = max(offered, self.taken)
        self.taken = self.down.take(t + 1)
        return t


class _Slice:
    def __init__(self, down: _Unit) -> None:
        self.down, self.out = down, NEVER

    def take(self, offered: float) -> float:
        self.out = self.down.take(max(offered + SLICE_LATENCY, self.out + 1))
        return offered


def _pool_reduce(win: Window, down: _Unit) -> _Unit:
    for _ in range(pool_latency(win)):
        down = _Register(down)
    return down


class _Dense:
    def __init__(self, per_beat: int, beats: int, nf: int, sf: int, depth: int, down: _Unit, gate: int = 0,
                 handoff: int = 0, land: int = 0) -> None:
        self.per_beat, self.beats, self.nf, self.sf, self.depth = per_beat, beats, nf, sf, depth
        self.gate, self.handoff, self.land = gate, handoff, land  # vecbuf.gate_beat, handoff_delay, land_delay
        self.down = down
        self.n = 0
        self.last = NEVER  # previous beat taken
        self.ends = [NEVER, NEVER]  # issue end of the two previous vectors (bank release)
        self.out = NEVER  # previous result taken

    def take(self, offered: float) -> float:
        gated = self.n % self.beats == self.gate  # the beat that needs a free bank
        t = max(offered, self.last + self.per_beat, self.ends[0] + self.handoff if gated else NEVER)
        self.last, self.n = t, self.n + 1
        if self.n % self.beats == 0:
            start = max(t + self.per_beat + self.land + self.handoff, self.ends[1])
            self.ends = [self.ends[1], start + self.nf * self.sf]
            for n in range(self.nf):
                self.out = self.down.take(max(start + n * self.sf + self.sf - 1 + self.depth, self.out + 1))
        return t

    @staticmethod
    def input_side(stage: "StagePlan") -> tuple[int, int, int]:
        """Cycles a beat takes to write, beats per vector, cycles before the last word lands."""
        c, s = stage.chunk, stage.simd
        return fill_delay(c, s) + 1, stage.layer.n_in // c, land_delay(c, s)

    @classmethod
    def of(cls, stage: "StagePlan", down: _Unit) -> "_Dense":
        per_beat, beats, land = cls.input_side(stage)
        return cls(per_beat, beats, stage.nf, stage.sf, stage.pipeline_depth, down,
                   gate_beat(stage.chunk, stage.simd), handoff_delay(stage.chunk, stage.simd), land)


def serial_first(net: Network, stages: Sequence["StagePlan"]) -> bool:
    """The one rule for the first stage's window unit (its input is a whole frame per beat): a PISO into a line
    buffer (True) when the line buffer's cycles per frame beside its consumer are within the initiation interval
    of the rest (every MAC stage, every other window unit), else frame banks. Narrow ports (port.py) are left out:
    they can only raise the interval."""
    first = net.chain[0]
    win = first.window
    if win is None or first.src is not None or win.pixels < 2 or not win.line_buffered(1):
        return False
    rest = max([s.cycles for s in stages] +
               [window_cycles(net, stages, u) for u in net.chain[1:] if u.window is not None])
    return _line_buffer_cycles(net, stages, first) <= rest


def line_buffered(net: Network, stages: Sequence["StagePlan"], unit: Unit) -> bool:
    """The unit's windows come from a line buffer: fed a pixel per beat, or the first stage's through a PISO."""
    assert unit.window is not None
    if unit.window.line_buffered(pixels_per_beat(unit)):
        return True
    return unit is net.chain[0] and serial_first(net, stages)


def window_cycles(net: Network, stages: Sequence["StagePlan"], unit: Unit) -> int:
    """Cycles per image of a window unit feeding its consumer, when pixels are always there. A line buffer pauses
    while its consumer holds a window, and its windows come in bunches (rows and columns of steps that complete
    none between them), so a consumer that keeps up on average can still slow it: steady state of the pair."""
    if not line_buffered(net, stages, unit):
        return unit.feed_cycles
    return _line_buffer_cycles(net, stages, unit)


def _line_buffer_cycles(net: Network, stages: Sequence["StagePlan"], unit: Unit) -> int:
    win = unit.window
    assert win is not None
    plans = {id(s.layer): s for s in stages}
    serial = pixels_per_beat(unit) > 1  # behind a PISO: the decoupled line buffer (window.py)
    if isinstance(unit, DenseLayer):
        return _pair_cycles(win, False, _dense_key(plans[id(unit)]), serial)
    k = net.chain.index(unit) + 1
    nxt = net.chain[k] if k < len(net.chain) else None
    blocking = isinstance(nxt, DenseLayer) and nxt.window is None  # its input buffer may take pixels slowly
    return _pair_cycles(win, True, _dense_key(plans[id(nxt)]) if blocking else None, serial)


def _dense_key(stage: "StagePlan") -> tuple[int, int, int, int]:
    """All that matters of a consumer's dense stage here: per_beat, beats per vector, land delay, issue cycles per
    vector."""
    return *_Dense.input_side(stage), stage.nf * stage.sf


@functools.lru_cache(maxsize=256)
def _pair_cycles(win: Window, pool: bool, dense: tuple[int, int, int, int] | None, decoupled: bool = False,
                 frames: int = 5) -> int:
    consumer: _Unit = _Sink() if dense is None else _Dense(dense[0], dense[1], dense[3], 1, 0, _Sink(),
                                                            land=dense[2])
    if pool:
        consumer = _pool_reduce(win, consumer)
    lb = _LineBuffer(win, 0, consumer, decoupled)
    for _ in range(frames * win.pixels):
        lb.take(0)
    return int(lb.frame_ends[-1] - lb.frame_ends[-2])


def image_latency(net: Network, stages: Sequence["StagePlan"], fifo_latency: int) -> int:
    """Cycles from the first stage taking an input to the output beat being taken, on an idle design whose output
    is always ready."""
    plans = {id(s.layer): s for s in stages}
    sink = _Sink()
    last = net.chain[-1]
    down: _Unit = _Collector(net.n_out // (plans[id(last)].pe if isinstance(last, DenseLayer) else
                                           last.window.channels), sink)
    for k in reversed(range(len(net.chain))):
        u = net.chain[k]
        down = _Dense.of(plans[id(u)], down) if isinstance(u, DenseLayer) else _pool_reduce(u.window, down)
        if sliced(net, k):
            down = _Slice(down)
        if u.window is None:
            continue
        ppb = pixels_per_beat(u)
        if not line_buffered(net, stages, u):
            down = _FrameWindows(u.window, ppb, down)
        else:
            down = _LineBuffer(u.window, fifo_latency, down, decoupled=ppb > 1)
            if ppb > 1:
                down = _Piso(ppb, down)
        prod = None if u.src is None else net.chain[u.src]
        if isinstance(prod, DenseLayer) and plans[id(prod)].pe != u.window.channels:
            down = _Collector(u.window.channels // plans[id(prod)].pe, down)
    down.take(0)  # the first stage takes the whole input in one beat
    assert sink.last != NEVER
    return int(sink.last)
