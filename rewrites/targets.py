"""FPGA budgets for the cost model and the explorer: what a device offers and how yosys maps arithmetic onto it.

Sources (checked 2026-12):
  * ECP5-85k (LFE5U-85F): Lattice FPGA-DS-02012 "ECP5 and ECP5-5G Family Data Sheet", table 1.1 (device
    selection): 84k LUT4 (83,640 = 41,820 slices x 2, as nextpnr-ecp5 counts them), 208 sysMEM EBR blocks of
    18 kbit (DP16KD, 3744 kbit), 156 18x18 multipliers (MULT18X18D). One flip-flop per LUT4.
  * iCE40 UltraPlus 5K (iCE40UP5K): Lattice FPGA-DS-02008 "iCE40 UltraPlus Family Data Sheet", table 1.1:
    5280 LUT4 (one DFF each), 30 EBR blocks of 4 kbit (SB_RAM40_4K, 120 kbit), 4 SPRAM blocks of 256 kbit
    (SB_SPRAM256KA, 1 Mbit), 8 DSP blocks (SB_MAC16, 16x16 multiply-accumulate).
  * DSP inference: yosys techlibs. synth_ecp5 runs `techmap -map +/mul2dsp.v -map +/ecp5/dsp_map.v
    -D DSP_A_MAXWIDTH=18 -D DSP_B_MAXWIDTH=18 -D DSP_A_MINWIDTH=2 -D DSP_B_MINWIDTH=2`; synth_ice40 (only with
    `-dsp`) runs `... -D DSP_A_MAXWIDTH=16 -D DSP_B_MAXWIDTH=16 -D DSP_A_MINWIDTH=2 -D DSP_B_MINWIDTH=2
    -D DSP_Y_MINWIDTH=11`. Products narrower than the minimums stay in LUTs; wider ones are split by mul2dsp into
    partial products of (MAXWIDTH - 1) bits per signed operand slice (one bit of sign headroom).

The nominal clock is an assumption for converting cycles to seconds, not a timing prediction (no Fmax model yet).
ECP5's 100 MHz is what `vhls synth` (nextpnr) reached on jet_mlp designs: 103-112 MHz post-route for 4-68
multipliers (the "flow" part of bench/results/cost_calibration.json at commit 23cd7cb, before the datapath was
re-pipelined for timing; `bench/cost_calibration.py --flow N` measures it again); iCE40's 24 MHz is an
unmeasured placeholder.
"""

from dataclasses import dataclass, field, replace
from functools import cache

from vhls.ir.errors import VhlsError


@dataclass(frozen=True)
class Target:
    name: str
    family: str  # "ecp5" | "ice40" | "generic"
    dsp: int  # hard multiplier blocks
    lut: int  # LUT4 (or LUT-equivalents for generic)
    ff: int
    bram: int  # block RAMs
    bram_kbit: int = 18  # bits per block RAM / 1024
    bram_shapes: tuple[tuple[int, int], ...] = ((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36))
    dsp_a_max: int = 18  # widest operand one DSP block multiplies
    dsp_b_max: int = 18
    dsp_min: int = 2  # narrower operands stay in LUTs (yosys DSP_A_MINWIDTH / DSP_B_MINWIDTH)
    dsp_y_min: int = 0  # narrower products stay in LUTs (yosys DSP_Y_MINWIDTH)
    lutram: bool = True  # distributed RAM in LUTs (ECP5: DPR16X4); iCE40 has none
    bram_cost: float = 128  # yosys memory_libmap cost of one block RAM (lattice/brams_16kd.txt: 128)
    lutram_cost: float = 4  # ... of one 16x4 distributed RAM cell (lattice/lutrams_trellis.txt: 4)
    # Calibration of the structural LUT/FF counts against yosys (bench/cost_calibration.py, least squares over
    # the fit points of bench/results/cost_calibration.json): after flattening yosys merges sign-copy and duplicate
    # flip-flops, drops constant ones and packs adders and ROM bits into fewer LUT4s than the structural count.
    lut_scale: float = 1.0
    ff_scale: float = 0.82
    # LUT weight of each stage component (cost.PARTS) before `lut_scale`; 1 where not listed.
    lut_weights: tuple[tuple[str, float], ...] = ()
    spram_kbit: int = 0  # single-port RAM not inferred by our designs; reported only
    fclk_mhz: float = 100.0  # nominal clock for throughput in inferences per second
    notes: tuple[str, ...] = field(default=(), compare=False)

    def lut_weight(self, part: str) -> float:
        return _as_dict(self.lut_weights).get(part, 1.0)

    def budget(self) -> dict[str, int]:
        return {"dsp": self.dsp, "lut": self.lut, "ff": self.ff, "bram": self.bram}

    def describe(self) -> str:
        return (f"{self.name}: {self.dsp} DSP, {self.lut:,} LUT, {self.ff:,} FF, {self.bram} BRAM x "
                f"{self.bram_kbit} kbit, nominal {self.fclk_mhz:g} MHz")


@cache
def _as_dict(pairs: tuple[tuple[str, float], ...]) -> dict[str, float]:
    return dict(pairs)


ECP5_85K = Target(
    "ecp5-85k", "ecp5", dsp=156, lut=83_640, ff=83_640, bram=208, bram_kbit=18,
    bram_shapes=((16384, 1), (8192, 2), (4096, 4), (2048, 9), (1024, 18), (512, 36)),
    dsp_a_max=18, dsp_b_max=18, dsp_min=2, dsp_y_min=0, lutram=True, fclk_mhz=100.0,
    lut_weights=(("mac", 0.804), ("rom", 0.656), ("products", 0.842), ("buffer", 0.842), ("requant", 0.842),
                 ("fifo", 0.842), ("control", 0.842)),
    notes=("LFE5U-85F: FPGA-DS-02012 table 1.1",))

ICE40_UP5K = Target(
    "ice40-up5k", "ice40", dsp=8, lut=5_280, ff=5_280, bram=30, bram_kbit=4,
    bram_shapes=((2048, 2), (1024, 4), (512, 8), (256, 16)),
    dsp_a_max=16, dsp_b_max=16, dsp_min=2, dsp_y_min=11, lutram=False, bram_cost=64, spram_kbit=1024, fclk_mhz=24.0,
    lut_weights=tuple((part, 0.818) for part in ("mac", "rom", "products", "buffer", "requant", "fifo", "control")),
    notes=("iCE40UP5K: FPGA-DS-02008 table 1.1; DSP inference needs synth_ice40 -dsp",))

GENERIC = Target("generic", "generic", dsp=0, lut=0, ff=0, bram=0, fclk_mhz=100.0,
                 notes=("18x18 DSP blocks and 18 kbit block RAMs, ECP5-like mapping rules",))

TARGETS = {t.name: t for t in (ECP5_85K, ICE40_UP5K)}


def get_target(name: str, dsp: int | None = None, lut: int | None = None, bram: int | None = None,
               ff: int | None = None) -> Target:
    """A named device, or `generic` with the budget given (DSP, LUT, BRAM; FF defaults to the LUT count).
    Overrides on a named device shrink (or grow) its budget, e.g. to reserve room for other logic."""
    if name == "generic":
        if dsp is None or lut is None or bram is None:
            raise VhlsError("--target generic needs a budget: --dsp N --lut N --bram N")
        t = GENERIC
    elif name in TARGETS:
        t = TARGETS[name]
    else:
        raise VhlsError(f"unknown target {name!r}; known: {', '.join([*TARGETS, 'generic'])}")
    for label, v in (("dsp", dsp), ("lut", lut), ("bram", bram), ("ff", ff)):
        if v is not None and v < 0:
            raise VhlsError(f"--{label} must be >= 0, got {v}")
    over = {k: v for k, v in (("dsp", dsp), ("lut", lut), ("bram", bram), ("ff", ff)) if v is not None}
    if "lut" in over and "ff" not in over:
        over["ff"] = over["lut"]
    return replace(t, **over) if over else t
