"""Move fabric flip-flops into the registers of ECP5 hard blocks, on yosys's JSON netlist, before nextpnr.

`synth_ecp5` maps a memory read to DP16KD with REGMODE NOREG and a multiplication to an unregistered MULT18X18D:
it never uses the blocks' own registers. Without them a block RAM read (clock-to-out about 5.8 ns in nextpnr's
speed-grade-6 data) or a multiply (about 3.9 ns plus two long routes to and from the fabric) fills a whole 5 ns
cycle. The backend already places a register behind every block RAM read, before every multiplier operand and
behind every product; this pass moves those registers into the blocks:

  * DP16KD: a read port whose every used DO bit drives exactly one flip-flop becomes REGMODE OUTREG;
  * MULT18X18D: the A and B operands, when every non-constant pin comes from a flip-flop, become REG_INPUTA/B
    (the pin takes the flip-flop's D; the flip-flop stays if it has other loads). Behind registered operands, two
    product registers (every used P bit drives one flip-flop, which drives one more) become REG_PIPELINE and
    REG_OUTPUT; behind unregistered operands one becomes REG_OUTPUT.

Why never operand and output registers without the pipeline register: nextpnr picks the block's timing from
REG_INPUTA/B and REG_OUTPUT only, and times that pair with the "all registers" data (prjtrellis characterised
MULT18X18D_REGS_ALL with the pipeline register on). Without it the multiply would sit, untimed, between the two
registers, and the reported Fmax would not hold. A lone product register behind registered operands therefore
stays in the fabric, where the multiply's delay (REGS_INPUT clock-to-out) is timed.

Only plain flip-flops qualify: rising edge, the block's clock, always enabled, no set/reset. Those behave exactly as
the block's registers with CE tied high and RST tied low, so the netlist's cycle behaviour is unchanged.
"""

from collections import defaultdict
from dataclasses import dataclass, field

Bit = int | str  # yosys JSON: a net number, or a constant "0" / "1" / "x" / "z"

_DSP_REGS = {"A": "REG_INPUTA", "B": "REG_INPUTB"}


@dataclass
class Absorbed:
    bram_ports: int = 0  # DP16KD read ports switched to OUTREG
    dsp_inputs: int = 0  # MULT18X18D operands (A or B) registered
    dsp_outputs: int = 0  # MULT18X18D products registered
    dsp_pipelines: int = 0  # MULT18X18D pipeline registers used (behind registered operands)
    ffs_removed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # why blocks kept their registers off (diagnostics)


class _Index:
    """Drivers and loads of every net bit of one module."""

    def __init__(self, mod: dict) -> None:
        self.driver: dict[Bit, tuple[str, str]] = {}
        self.loads: dict[Bit, list[tuple[str, str]]] = defaultdict(list)
        for name, cell in mod["cells"].items():
            dirs = cell.get("port_directions", {})
            for port, bits in cell["connections"].items():
                for b in bits:
                    if isinstance(b, str):
                        continue
                    if dirs.get(port) == "output":
                        self.driver[b] = (name, port)
                    else:
                        self.loads[b].append((name, port))
        for pname, p in mod.get("ports", {}).items():
            for b in p["bits"]:
                if not isinstance(b, str) and p["direction"] != "input":
                    self.loads[b].append(("", pname))  # a top-level output: not absorbable


def _param(cell: dict, name: str, default: str = "") -> str:
    return str(cell.get("parameters", {}).get(name, default)).strip()


def _plain_ff(mod: dict, name: str, clock: Bit | None) -> bool:
    """A TRELLIS_FF that is a bare D flip-flop on the rising edge of `clock` (any clock when None)."""
    c = mod["cells"].get(name)
    if c is None or c["type"] != "TRELLIS_FF":
        return False
    conn = c["connections"]
    return (_param(c, "CLKMUX", "CLK") == "CLK"
            and conn.get("LSR", ["0"]) == ["0"]
            and (_param(c, "CEMUX", "1") == "1" or conn.get("CE", ["1"]) == ["1"])
            and (clock is None or conn["CLK"] == [clock]))


def _out_regs(mod: dict, ix: _Index, bits: list[Bit], clock: Bit | None) -> dict[int, str] | None:
    """For the used bits among `bits`, the one plain flip-flop each drives (by position), or None."""
    regs: dict[int, str] = {}
    for i, b in enumerate(bits):
        if isinstance(b, str):
            continue
        loads = ix.loads.get(b, [])
        if not loads:
            continue
        if len(loads) != 1 or loads[0][1] != "DI" or not _plain_ff(mod, loads[0][0], clock):
            return None
        regs[i] = loads[0][0]
    return regs or None


def _in_regs(mod: dict, ix: _Index, bits: list[Bit]) -> dict[int, str] | None:
    """For the non-constant bits among `bits`, the plain flip-flop driving each (by position), or None. A constant
    operand gives {}: registering it changes nothing."""
    regs: dict[int, str] = {}
    for i, b in enumerate(bits):
        if isinstance(b, str):
            continue
        drv = ix.driver.get(b)
        if drv is None or drv[1] != "Q" or not _plain_ff(mod, drv[0], None):
            return None
        regs[i] = drv[0]
    return regs


def _ports(cell: dict, prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(n) if f"{prefix}{i}" in cell["connections"]]


def _take_outputs(mod: dict, cell: dict, pins: list[str], regs: dict[int, str]) -> None:
    """Each registered pin drives its flip-flop's Q net from now on; the flip-flop goes."""
    for i, ff in regs.items():
        cell["connections"][pins[i]] = list(mod["cells"][ff]["connections"]["Q"])
        del mod["cells"][ff]


def _absorb_bram(mod: dict, res: Absorbed) -> None:
    ix = _Index(mod)
    for cell in list(mod["cells"].values()):
        if cell["type"] != "DP16KD":
            continue
        conn = cell["connections"]
        pdp = 36 in (int(_param(cell, "DATA_WIDTH_A", "18"), 2), int(_param(cell, "DATA_WIDTH_B", "18"), 2))
        # Pseudo-dual-port (36-bit) mode reads all 36 bits through port B's clock and output enable.
        groups = [("AB", "B")] if pdp else [("A", "A"), ("B", "B")]
        for halves, clk_side in groups:
            clock = conn.get(f"CLK{clk_side}", ["0"])[0]
            pins = [p for h in halves for p in _ports(cell, f"DO{h}", 18)]
            if isinstance(clock, str) or all(_param(cell, f"REGMODE_{h}", "NOREG") != "NOREG" for h in halves):
                continue
            if _param(cell, f"CLK{clk_side}MUX", f"CLK{clk_side}") != f"CLK{clk_side}" \
                    or conn.get(f"OCE{clk_side}") != ["1"] or conn.get(f"RST{clk_side}", ["0"]) != ["0"]:
                res.skipped["bram_port_control"] = res.skipped.get("bram_port_control", 0) + 1
                continue
            regs = _out_regs(mod, ix, [conn[p][0] for p in pins], clock)
            if regs is None:
                res.skipped["bram_unregistered"] = res.skipped.get("bram_unregistered", 0) + 1
                continue
            _take_outputs(mod, cell, pins, regs)
            for h in halves:
                cell["parameters"][f"REGMODE_{h}"] = "OUTREG"
                if pdp:
                    conn[f"OCE{h}"] = ["1"]
            res.bram_ports += 1
            res.ffs_removed += len(regs)


def _set_dsp_regs(cell: dict, reg: str, clock: Bit) -> None:
    conn, dirs, params = cell["connections"], cell.setdefault("port_directions", {}), cell["parameters"]
    for port, value in (("CLK0", clock), ("CE0", "1"), ("RST0", "0")):
        conn[port] = [value]
        dirs[port] = "input"
    params.update({f"{reg}_CLK": "CLK0", f"{reg}_CE": "CE0", f"{reg}_RST": "RST0"})


def _dsp_clock(cell: dict) -> Bit | None:
    return cell["connections"]["CLK0"][0] if "CLK0" in cell["connections"] else None


def _absorb_dsp_inputs(mod: dict, res: Absorbed) -> None:
    ix = _Index(mod)
    touched: set[str] = set()
    for cell in list(mod["cells"].values()):
        if cell["type"] != "MULT18X18D" or _param(cell, "REG_INPUTA_CLK", "NONE") != "NONE":
            continue
        sides = {side: _ports(cell, side, 18) for side in "AB"}
        regs = {side: _in_regs(mod, ix, [cell["connections"][p][0] for p in pins]) for side, pins in sides.items()}
        ffs = [ff for r in regs.values() for ff in (r or {}).values()]
        clocks = {mod["cells"][ff]["connections"]["CLK"][0] for ff in ffs}
        # Both operands or neither: nextpnr times a half-registered multiplier as unregistered.
        if any(r is None for r in regs.values()) or len(clocks) != 1:
            res.skipped["dsp_operand"] = res.skipped.get("dsp_operand", 0) + 1
            continue
        clock = clocks.pop()
        for side, pins in sides.items():
            for i, ff in (regs[side] or {}).items():
                cell["connections"][pins[i]] = list(mod["cells"][ff]["connections"]["DI"])
            _set_dsp_regs(cell, _DSP_REGS[side], clock)
            res.dsp_inputs += 1
        touched.update(ffs)
    # Operand flip-flops left without loads (every multiplier they fed took a copy) go.
    ix = _Index(mod)
    for name in sorted(touched):
        if not ix.loads.get(mod["cells"][name]["connections"]["Q"][0]):
            del mod["cells"][name]
            res.ffs_removed += 1


def _absorb_dsp_outputs(mod: dict, res: Absorbed) -> None:
    ix = _Index(mod)
    for cell in list(mod["cells"].values()):
        if cell["type"] != "MULT18X18D" or _param(cell, "REG_OUTPUT_CLK", "NONE") != "NONE":
            continue
        pins = _ports(cell, "P", 36)
        regs = _out_regs(mod, ix, [cell["connections"][p][0] for p in pins], _dsp_clock(cell))
        if regs is None:
            res.skipped["dsp_product"] = res.skipped.get("dsp_product", 0) + 1
            continue
        clock = _dsp_clock(cell) or mod["cells"][next(iter(regs.values()))]["connections"]["CLK"][0]
        if len({mod["cells"][ff]["connections"]["CLK"][0] for ff in regs.values()}) != 1:
            continue
        if _param(cell, "REG_INPUTA_CLK", "NONE") != "NONE":
            # The first register becomes the pipeline register, a second one behind it the output register.
            used = sorted(regs)
            second = _out_regs(mod, ix, [mod["cells"][regs[i]]["connections"]["Q"][0] for i in used], clock)
            if second is None or len(second) != len(used):
                res.skipped["dsp_no_pipeline"] = res.skipped.get("dsp_no_pipeline", 0) + 1
                continue
            for k, i in enumerate(used):
                del mod["cells"][regs[i]]
                regs[i] = second[k]
            _set_dsp_regs(cell, "REG_PIPELINE", clock)
            res.dsp_pipelines += 1
            res.ffs_removed += len(used)
        _take_outputs(mod, cell, pins, regs)
        _set_dsp_regs(cell, "REG_OUTPUT", clock)
        res.dsp_outputs += 1
        res.ffs_removed += len(regs)


def absorb_ecp5_registers(netlist: dict, top: str) -> Absorbed:
    """Rewrite module `top` of a `synth_ecp5 -json` netlist in place; returns what moved."""
    mod = netlist["modules"][top]
    res = Absorbed()
    _absorb_bram(mod, res)
    _absorb_dsp_inputs(mod, res)
    _absorb_dsp_outputs(mod, res)
    return res
