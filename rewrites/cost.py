"""Cost model of an nn-backend design point: a `Network` (its layer types are the precisions) plus (PE, SIMD) per
layer, on a `Target` (rewrites/targets.py).

What is exact and what is an estimate:
  * multipliers = Σ PE·SIMD, exactly the backend's report (`backends.nn.plan.report`);
  * initiation interval, latency: computed by `backends.nn.plan` itself (`plan`, `StagePlan.cycles`,
    `predicted_latency`): the backend's own predictions, never re-derived here;
  * DSP blocks: yosys's inference rule per family applied to each product's operand widths (targets.py): a product
    is a DSP candidate when both operands have >= `dsp_min` bits and the product >= `dsp_y_min` bits, and needs
    ceil(wa/(max-1))·ceil(wb/(max-1)) blocks when an operand is wider than the block (mul2dsp's signed split);
    otherwise it is a LUT multiplier (about wa·wb LUT4). When a stage is fully unrolled (one ROM word) its weights
    are constants: products by 0 and by positive powers of two vanish (yosys opt_expr), by ±1 cost a negation,
    others use the constant's minimal signed width (yosys wreduce) in the same rule;
  * LUT, FF, BRAM: an analytical model of the components in backends/nn (adder trees, accumulators, bias
    pipelines, requantisers, ROMs, ping-pong buffers, FIFOs, control), with yosys's memory mapping rule below.
    Calibrated against yosys synthesis (`synth_ecp5`, `synth_ice40 -dsp`; cell counts after synthesis, not after
    place and route) by bench/cost_calibration.py; results in bench/results/cost_calibration.json. The structural
    LUT count of each component (`stage_parts`) is weighted per target (`Target.lut_weights`: MAC array, ROMs,
    the rest; least squares over the fit points), FFs by one `Target.ff_scale`. On the 14 jet/digits points yosys
    synthesised cleanly (10 fit, 4 held out; one iCE40 point is excluded, see the JSON): DSP exact on all, BRAM
    exact on 13/14, LUT mean |error| 4.7 % (max 11.2 %), FF mean 3.3 % (max 8.0 %). Treat LUTs as estimates;
    nothing here models timing (Fmax) or place-and-route packing.

Memory rule: a memory of one word is a constant; otherwise yosys memory_libmap's choice is emulated with its own
costs (soft logic width·depth for RAM, width·depth/16 for ROM; `cost 128` per ECP5 DP16KD, `cost 64` per iCE40
SB_RAM40_4K, `cost 4` per ECP5 TRELLIS_DPR16X4 16x4 distributed RAM, from yosys's share/lattice/*.txt and
share/ice40/brams.txt), see `memory`.

Speed: a `CostModel` caches per-stage resources by (layer, PE, SIMD, input chunk), so evaluating a design point is
one `plan()` call plus sums (bench/cost_speed.py measures points per second).
"""

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass, fields, replace

from vhls.backends.nn.linebuf import slack_pixels
from vhls.backends.nn.plan import (
    ISSUE_TO_MAC,
    PRODUCT_STAGES,
    TREE_LEVELS_PER_STAGE,
    Parallel,
    StagePlan,
    plan,
    predicted_latency,
    tree_stages,
    window_unit_cycles,
)
from vhls.backends.nn.recognise import DenseLayer, Network, PostOp, Window, pixels_per_beat
from vhls.backends.nn.rom import ROM
from vhls.backends.nn.schedule import line_buffered, serial_first, sliced
from vhls.backends.nn.vecbuf import uses_block_ram, uses_memory
from vhls.ir.types import Fixed
from vhls.rewrites.targets import Target

LUTRAM_WORDS = 16  # words per LUT4 of distributed RAM/ROM
MUX_INPUTS_PER_LUT = 3  # a binary mux tree costs about (n - 1) / 3 LUT4 per bit (LUT4 + PFUMX)
SHIFTX_LUT_PER_INPUT = 1.2  # `word_select` by a counter ($shiftx): LUT4 per extra word per bit (yosys, ECP5: 1.05
# for 2 words, 1.2 for 64, measured with `synth_ecp5 -noflatten` on digits_mlp's input buffers)
CONTROL_LUT, CONTROL_FF = 24, 12  # per stage, besides the counters sized below
FIFO_CONTROL_LUT, FIFO_CONTROL_FF = 12, 4
# Frame banks' window multiplexer ($pmux over positions): LUT4 per input per bit (digits_cnn@64's first conv:
# 8,774 LUT4 estimated, 8,514 from yosys synth_ecp5 -noflatten)
FRAME_MUX_LUT_PER_INPUT = 1.0


def _clog2(n: int) -> int:
    return max(1, (n - 1).bit_length())


@dataclass(frozen=True)
class Resources:
    dsp: int = 0
    lut: int = 0
    ff: int = 0
    bram: int = 0
    mem_bits: int = 0  # bits stored in block RAM
    lut_multipliers: int = 0  # products built from LUTs (too narrow for a DSP block, or constant)

    def __add__(self, o: "Resources") -> "Resources":
        return Resources(self.dsp + o.dsp, self.lut + o.lut, self.ff + o.ff, self.bram + o.bram,
                         self.mem_bits + o.mem_bits, self.lut_multipliers + o.lut_multipliers)

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


ZERO = Resources()


@dataclass(frozen=True)
class Cost:
    """Resources and performance of one design point on one target."""

    multipliers: int  # PE·SIMD summed: exactly the backend report's `multipliers`
    res: Resources
    ii: int  # cycles between inferences (the bottleneck stage), from plan.py
    latency: int  # cycles, plan.predicted_latency
    fclk_mhz: float
    stages: tuple[Resources, ...] = ()  # raw structural counts per stage (before the target's LUT/FF scale)

    @property
    def dsp(self) -> int:
        return self.res.dsp

    @property
    def lut(self) -> int:
        return self.res.lut

    @property
    def ff(self) -> int:
        return self.res.ff

    @property
    def bram(self) -> int:
        return self.res.bram

    @property
    def throughput(self) -> float:
        """Inferences per second at the target's nominal clock."""
        return self.fclk_mhz * 1e6 / self.ii

    @property
    def latency_ns(self) -> float:
        return self.latency * 1e3 / self.fclk_mhz

    def utilisation(self, t: Target) -> dict[str, float]:
        """Fraction of each budget used (inf when the budget is zero and the design needs some)."""
        out = {}
        for k, have in t.budget().items():
            need = getattr(self.res, k)
            out[k] = need / have if have else (0.0 if need == 0 else math.inf)
        return out

    def area(self, t: Target) -> float:
        """The scarcest resource's utilisation: the design fits when area <= 1."""
        return max(self.utilisation(t).values())

    def fits(self, t: Target) -> bool:
        r = self.res
        return r.dsp <= t.dsp and r.lut <= t.lut and r.ff <= t.ff and r.bram <= t.bram

    def as_dict(self) -> dict:
        return {"multipliers": self.multipliers, **self.res.as_dict(), "ii": self.ii, "latency": self.latency,
                "fclk_mhz": self.fclk_mhz, "throughput": self.throughput, "latency_ns": self.latency_ns}


# ---------------------------------------------------------------------------------------------- multipliers
def dsp_blocks(wa: int, wb: int, t: Target, signed: bool = True) -> int:
    """DSP blocks for one wa x wb product under yosys's rule for the family; 0 means a LUT multiplier."""
    if min(wa, wb) < t.dsp_min or wa + wb < t.dsp_y_min or t.family == "none":
        return 0
    head = 1 if signed else 0
    na = 1 if wa <= t.dsp_a_max else math.ceil(wa / (t.dsp_a_max - head))
    nb = 1 if wb <= t.dsp_b_max else math.ceil(wb / (t.dsp_b_max - head))
    if wa < wb and max(wa, wb) > t.dsp_a_max:  # mul2dsp splits the wider operand first; symmetric here
        na, nb = nb, na
    return na * nb


def lut_multiplier(wa: int, wb: int) -> int:
    """LUT4 for a soft wa x wb multiplier (array of partial products summed on carry chains)."""
    return wa * wb


def _signed_bits(v: int) -> int:
    return (v.bit_length() + 1) if v >= 0 else ((-v - 1).bit_length() + 1)


def const_product(v: int, wx: int, t: Target) -> tuple[int, int, int]:
    """(DSP, LUT, LUT multipliers) for x·v with v a constant (a fully unrolled stage's weight)."""
    if v == 0 or (v > 0 and v & (v - 1) == 0):
        return 0, 0, 0  # removed, or a shift
    if v == -1:
        return 0, wx, 1  # negation
    wv = _signed_bits(v)
    d = dsp_blocks(wv, wx, t)
    if d:
        return d, 0, 0
    ones = bin(abs(v)).count("1")
    return 0, (ones - 1 + (v < 0)) * (wx + wv), 1  # shift-and-add


def _dense_products(layer: DenseLayer, pe: int, simd: int, t: Target) -> Resources:
    wx, ww = layer.in_type.width, layer.w_type.width
    if pe == layer.n_out and simd == layer.n_in:  # one ROM word: the weights are constants
        d = lut = n = 0
        for v in layer.weights.reshape(-1):
            a, b, c = const_product(int(v), wx, t)
            d, lut, n = d + a, lut + b, n + c
        return Resources(dsp=d, lut=lut, lut_multipliers=n)
    per = dsp_blocks(ww, wx, t, layer.w_type.signed or layer.in_type.signed)
    k = pe * simd
    if per:
        return Resources(dsp=per * k)
    return Resources(lut=lut_multiplier(ww, wx) * k, lut_multipliers=k)


# ---------------------------------------------------------------------------------------------- memories
def bram_blocks(depth: int, width: int, t: Target) -> int:
    return min(math.ceil(depth / d) * math.ceil(width / w) for d, w in t.bram_shapes)


def memory(depth: int, width: int, t: Target, writable: bool, block: bool = False) -> Resources:
    """A memory of depth words x width bits with a synchronous read port, mapped as yosys's memory_libmap chooses:
    the cheapest of soft logic (cost width·depth for a RAM, width·depth/16 for a ROM), block RAM (`bram_cost` per
    block, fewest blocks over the aspect ratios) and distributed RAM (`lutram_cost` per 16x4 cell); ties go to
    logic. Logic ROMs become LUT4 trees plus the read register; logic RAMs flip-flops and a read multiplexer.
    `block`: the memory asks for block RAM (rom.py's rom_style for ROMs of ROM.BLOCK_MIN_WORDS words or more)."""
    if depth <= 1 or width == 0:
        return ZERO
    if block and t.bram_shapes:
        return Resources(bram=bram_blocks(depth, width, t), mem_bits=depth * width)
    banks = math.ceil(depth / LUTRAM_WORDS)
    mux = width * math.ceil((banks - 1) / MUX_INPUTS_PER_LUT)
    logic = depth * width * (1.0 if writable else 1.0 / 16)
    blocks = bram_blocks(depth, width, t)
    block = blocks * t.bram_cost
    dist = t.lutram_cost * banks * math.ceil(width / 4) if t.lutram else math.inf
    if block < logic and block <= dist:
        return Resources(bram=blocks, mem_bits=depth * width)
    if dist < logic:
        return Resources(lut=4 * banks * math.ceil(width / 4) + mux, ff=width)
    if writable:
        return Resources(ff=depth * width + width, lut=width * math.ceil((depth - 1) / MUX_INPUTS_PER_LUT) + depth)
    return Resources(lut=width * banks + mux, ff=width)


# ---------------------------------------------------------------------------------------------- datapath
def adder_tree(simd: int, wp: int, wa: int) -> tuple[int, int]:
    """(LUT, FF) of one PE's pipelined adder tree as mac.py builds it: pairwise sums widening by one bit (capped at
    the accumulator width), a register stage every TREE_LEVELS_PER_STAGE levels, the last one accumulator-wide."""
    terms = [min(wp, wa)] * simd
    lut = ff = 0
    stages = tree_stages(simd)
    for k in range(stages):
        for _ in range(TREE_LEVELS_PER_STAGE):
            if len(terms) > 1:
                nxt = [min(max(terms[i], terms[i + 1]) + 1, wa) for i in range(0, len(terms) - 1, 2)]
                lut += sum(nxt)
                terms = [*nxt, terms[-1]] if len(terms) % 2 else nxt
        terms = [wa if (w >= wa or k == stages - 1) else w for w in terms]
        ff += sum(terms)
    return lut, ff


def requant_lane(acc: Fixed, ops: Sequence[PostOp]) -> int:
    """LUT4 of one lane's casts and max/min: TRN/WRAP is wiring; RND adds an adder; SAT a compare and a mux;
    max/min with a constant a compare and a mux."""
    lut, ty = 0, acc
    for op in ops:
        if op.kind == "cast":
            if op.q == "RND" and ty.frac > op.type.frac:
                lut += op.type.width + 1
            if op.o == "SAT" and ty.width - ty.frac > op.type.width - op.type.frac:
                lut += ty.width + op.type.width
        else:
            lut += 2 * ty.width
        ty = op.type
    return lut


PARTS = ("products", "mac", "rom", "buffer", "requant", "fifo", "control")


def stage_parts(s: StagePlan, t: Target) -> dict[str, Resources]:
    """Every component of one dense stage (dense.py), by name: multipliers, MAC array registers and adder trees,
    weight and bias ROMs, input buffer, requantiser, output FIFO, control (structural counts, before scaling)."""
    ly, pe, simd, chunk = s.layer, s.pe, s.simd, s.chunk
    wx, ww, wa, wo = ly.in_type.width, ly.w_type.width, ly.acc_type.width, ly.out_type.width
    pt = ly.prod_type
    wp = pt.width - max(0, pt.frac - ly.acc_type.frac)
    parts: dict[str, Resources] = {"products": _dense_products(ly, pe, simd, t)}
    # MAC array (mac.py): registered operands (x shared by the PEs), PRODUCT_STAGES - 1 product registers (bits
    # above the accumulator's are unused: trimmed), adder trees, accumulators (adder + first/bias select), delayed
    # bias and tags.
    stages = tree_stages(simd)
    tl, tf = adder_tree(simd, wp, wa)
    # Bias bits above the widest bias value's are sign copies: yosys merges those flip-flops (opt_merge).
    wb = min(wa, max((_signed_bits(int(b)) for b in ly.bias), default=1))
    rnd = pe * simd * wp if ly.prod_q == "RND" and pt.frac > ly.acc_type.frac else 0
    delay = PRODUCT_STAGES + stages
    single = s.sf == 1  # one fold per sum: no first/bias select and no `first` tag (mac.py single_fold)
    # tags: valid, first, last delayed; the last register of valid and first is one copy per PE
    parts["mac"] = Resources(
        lut=pe * (tl + (1 if single else 2) * wa) + rnd,
        ff=simd * wx + pe * simd * ww + pe * (simd * min(wp, wa) * (PRODUCT_STAGES - 1) + tf + wa)
        + pe * wb * delay + (2 if single else 3) * (delay - 1) + 2 + pe * (1 if single else 2) + 1)
    # Weight ROM (nf·sf words of PE·SIMD weights) and bias ROM (nf words), each with an output and a route register.
    words = s.nf * s.sf
    big = ROM.BLOCK_MIN_WORDS
    rom = memory(words, pe * simd * ww, t, writable=False, block=words >= big)
    rom += Resources(ff=2 * pe * simd * ww if words > 1 else 0)
    rom += memory(s.nf, pe * wb, t, writable=False, block=s.nf >= big) + Resources(ff=2 * pe * wb if s.nf > 1 else 0)
    parts["rom"] = rom
    # Input ping-pong buffer (vecbuf.py) and the x slice aligned with the ROM data.
    if uses_memory(chunk, simd):
        bits = _clog2(ly.n_in // simd)
        # The memory and its registered write port (data, address, enable); a deep one is block RAM read through
        # its output register.
        block = uses_block_ram(ly.n_in, simd)
        buf = memory(2 << bits, simd * wx, t, writable=True, block=block) + Resources(ff=simd * wx + bits + 3)
        if chunk > simd:  # a held beat written word by word: a k:1 word multiplexer (the beat or a held word)
            k = chunk // simd
            buf += Resources(lut=round(simd * wx * (k - 1) * SHIFTX_LUT_PER_INPUT) + 2 * bits + 6,
                             ff=chunk * wx + _clog2(k) + bits + 4)
        else:  # narrower beats gathered into a word: flip-flops with per-beat enables
            k = simd // chunk
            buf += Resources(lut=k + 2 * bits + 6, ff=(simd - chunk) * wx + _clog2(k) + bits + 5)
        read_latency = 2 if block else 1
        buf += Resources(ff=simd * wx if block else 0)
    else:
        n_sl = 2 * ly.n_in // simd
        beats = ly.n_in // chunk
        buf = Resources(ff=2 * ly.n_in * wx + _clog2(beats) + 4,
                        lut=round(simd * wx * (n_sl - 1) * SHIFTX_LUT_PER_INPUT) + 2 * beats + 6)
        read_latency = 0
    parts["buffer"] = buf + Resources(ff=simd * wx * (ISSUE_TO_MAC - read_latency))
    # Requantiser (one register stage), output FIFO, fold counters and credits.
    parts["requant"] = Resources(lut=pe * requant_lane(ly.acc_type, ly.post), ff=pe * wo + 1)
    depth = s.fifo_depth
    parts["fifo"] = memory(depth - 1, pe * wo, t, writable=True) + Resources(
        lut=FIFO_CONTROL_LUT + 3 * _clog2(depth + 1), ff=pe * wo + FIFO_CONTROL_FF + 3 * _clog2(depth + 1))
    cnt = _clog2(s.nf) + _clog2(s.sf) + _clog2(words) + _clog2(depth + 1)
    parts["control"] = Resources(lut=CONTROL_LUT + 2 * cnt, ff=CONTROL_FF + cnt + 3 * ISSUE_TO_MAC)
    return parts


def stage_resources(s: StagePlan, t: Target) -> Resources:
    """Every component of one dense stage, summed, with the target's per-component LUT calibration applied."""
    parts = stage_parts(s, t)
    r = ZERO
    for part in parts.values():
        r += part
    return replace(r, lut=sum(round(part.lut * t.lut_weight(name)) for name, part in parts.items()))


def slices(net: Network, stages: Sequence[StagePlan]) -> Resources:
    """Register slices between dense stages (skid.py): main and skid registers of a chunk, a 2:1 choice per bit."""
    plans = {id(s.layer): s for s in stages}
    r = ZERO
    for k, u in enumerate(net.chain):
        if sliced(net, k):
            w = plans[id(u)].chunk * u.in_type.width
            r += Resources(lut=w + 3, ff=2 * w + 2)
    return r


def collector(net: Network, last_pe: int) -> Resources:
    beats = net.n_out // last_pe
    return Resources(lut=2 * beats + 4, ff=net.n_out * net.out_type.width + _clog2(beats) + 1)


# ---------------------------------------------------------------------------------------------- window units
@functools.lru_cache(maxsize=256)  # an explorer evaluates the same few units over and over
def window_unit(win: Window, width: int, ppb: int, kind: str, t: Target) -> Resources:
    """Structural LUT/FF/RAM of one sliding-window unit fed `ppb` pixels per beat: `kind` "frames" (frame banks,
    window.py), "lines" (a line buffer fed a pixel per beat, linebuf.py) or "serial" (the first stage's PISO,
    piso.py, into a decoupled line buffer). Which one a design has is schedule.py's rule (`window_kinds`).
    Against yosys synth_ecp5 -noflatten on digits_cnn@64 (LUT RAM counted as memory() does, 4 LUT4 per 16x4 cell):
    the PISO + line buffer 1,185 LUT / 1,422 FF estimated vs 1,259 / 1,366; the three line buffers within 3 %."""
    pix, out = win.channels * width, win.size * width
    if kind == "frames":
        # Two banks of flip-flops, the read bank's select, and per output bit a multiplexer over the pixels its
        # tap reads at the positions (a padding zero counts as one input).
        src = win.sources()
        inputs = sum(len(set(src[:, k].tolist())) - 1 for k in range(src.shape[1])) * pix
        beats = win.pixels // ppb  # the write side: a slot enable per beat, data straight from the input
        return Resources(lut=win.pixels * pix + round(inputs * FRAME_MUX_LUT_PER_INPUT) + 2 * _clog2(win.positions)
                         + 2 * beats + 8, ff=2 * win.pixels * pix + out + _clog2(win.positions) + _clog2(beats) + 4)
    # Line buffer: input FIFO of slack_pixels, kh - 1 line memories of W pixels, the column's rotation (the rows
    # above from kh - 1 memories), step counters. The window register shifts by its enable and zeroes the padding
    # by its synchronous reset: no LUT per bit (yosys synth_ecp5 on digits_cnn: 23 LUT4 beside 780 FF).
    depth = slack_pixels(win)
    lines = ZERO
    for _ in range(win.kh - 1):
        lines += memory(max(win.width, 2), pix, t, writable=True)
    rot = (win.kh - 1) * pix * math.ceil((win.kh - 2) / MUX_INPUTS_PER_LUT)
    hv, wv = win.grid
    cnt = _clog2(hv) + _clog2(wv) + _clog2(win.kh)
    r = (memory(depth - 1, pix, t, writable=True) + lines
         + Resources(lut=FIFO_CONTROL_LUT + 3 * _clog2(depth + 1) + rot + 3 * cnt + 8,
                     ff=FIFO_CONTROL_FF + 3 * _clog2(depth + 1) + out + pix + win.kh + cnt + 6))
    if kind == "serial":
        # The decoupled line buffer's output register, and the PISO: a load-or-shift LUT per frame bit.
        r += Resources(lut=win.pixels * pix + 2 * _clog2(win.pixels) + 4,
                       ff=out + win.pixels * pix + _clog2(win.pixels) + 2)
    return r


def window_kinds(net: Network, stages: Sequence[StagePlan]) -> list[tuple[Window, int, int, str]]:
    """(window, element width, pixels per beat, kind) of every window unit of the planned design, as the backend
    builds them."""
    serial = serial_first(net, stages)
    return [(u.window, u.in_type.width, pixels_per_beat(u),
             ("serial" if serial and u is net.chain[0] else "lines") if line_buffered(net, stages, u) else "frames")
            for u in net.chain if u.window is not None]


# ---------------------------------------------------------------------------------------------- the model
class CostModel:
    """Evaluates design points on one target, caching per-stage resources by (layer object, PE, SIMD, chunk)."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._stage: dict[tuple[DenseLayer, int, int, int], Resources] = {}

    def stage(self, s: StagePlan) -> Resources:
        key = (s.layer, s.pe, s.simd, s.chunk)
        r = self._stage.get(key)
        if r is None:
            r = self._stage[key] = stage_resources(s, self.target)
        return r

    def evaluate(self, net: Network, parallel: Parallel) -> Cost:
        stages = plan(net, parallel)
        per = tuple(self.stage(s) for s in stages)
        t = self.target
        total = collector(net, stages[-1].pe) + slices(net, stages)
        total = replace(total, lut=round(total.lut * t.lut_weight("control")))
        for r in per:
            total = total + r
        for w in window_kinds(net, stages):  # window units (not calibrated: the "window" weight defaults to 1)
            r = window_unit(*w, t)
            total = total + replace(r, lut=round(r.lut * t.lut_weight("window")))
        total = replace(total, lut=round(total.lut * t.lut_scale), ff=round(total.ff * t.ff_scale))
        ii = max(max(s.cycles for s in stages), window_unit_cycles(net, stages))  # window/pool units may bound it
        return Cost(multipliers=sum(s.multipliers for s in stages), res=total, ii=ii,
                    latency=predicted_latency(stages, net), fclk_mhz=self.target.fclk_mhz, stages=per)


def estimate(net: Network, parallel: Parallel, target: Target) -> Cost:
    """One-off evaluation (use a CostModel to evaluate many points)."""
    return CostModel(target).evaluate(net, parallel)


__all__ = ["PARTS", "Cost", "CostModel", "Resources", "adder_tree", "bram_blocks", "const_product", "dsp_blocks",
           "estimate", "memory", "requant_lane", "stage_parts", "stage_resources", "window_kinds", "window_unit"]
