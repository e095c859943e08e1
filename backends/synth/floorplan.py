"""ECP5: lock each MAC array's multipliers to DSP sites in adder-tree order, on yosys's JSON netlist, before nextpnr.

nextpnr's placer spreads a stage's multipliers over the DSP rows in no useful order: at 85 % DSP use (jet@156 on
ECP5-85k) the two products one adder sums sat 66 columns apart (or in two rows), and their first-level route took
about 3 ns of the 5 ns cycle (198.02 and 187.76 MHz on two netlists, each limited there). Here every MAC array
(mac.py) gets consecutive DSP sites along a serpentine over the rows, its multipliers in (PE, SIMD) order: the
products a tree level adds are neighbours, each level's partial sums come from twice as far, and each level has its
own register.

`vhls synth --floorplan auto` (the default) applies it when the multipliers fill at least half the sites (jet@156:
133 of 156), `on` always, `off` never.

A multiplier is recognised by the net its product leaves the block on (absorb.py moved the product register into
the block), named `<array>.p<PE>_<SIMD>_f_d0` by mac.py. Other multipliers are left to the placer.

Sites: the 156 MULT18X18D sites of the LFE5U-85F as nextpnr 0.11 names them (placing 156 multipliers with
`--no-route` and reading back each cell's NEXTPNR_BEL): three rows (Y 10, 34, 58) of 26 blocks, each two columns
with sites MULT18_0/1 or MULT18_4/5 in turn.
"""

import re
from dataclasses import dataclass

_ECP5_85K_COLUMNS = (4, 8, 13, 17, 22, 26, 31, 35, 40, 44, 49, 53, 58, 62, 69, 73, 78, 82, 87, 91, 96, 100, 105, 109,
                     114, 118)
_ECP5_85K_ROWS = (10, 34, 58)


def _row_sites(y: int) -> list[str]:
    sites = []
    for i, x in enumerate(_ECP5_85K_COLUMNS):
        a, b = ("MULT18_0", "MULT18_1") if i % 2 == 0 else ("MULT18_4", "MULT18_5")
        sites += [f"X{x}/Y{y}/{a}", f"X{x + 1}/Y{y}/{b}"]
    return sites


def serpentine(rows: tuple[int, ...]) -> tuple[str, ...]:
    """Every site, row by row, alternately left to right and right to left, so consecutive sites are neighbours."""
    out: list[str] = []
    for k, y in enumerate(rows):
        row = _row_sites(y)
        out += row if k % 2 == 0 else row[::-1]
    return tuple(out)


ECP5_85K_DSP_SITES = serpentine(_ECP5_85K_ROWS)

_PRODUCT = re.compile(r"^(?P<array>.+)\.p(?P<pe>\d+)_(?P<simd>\d+)_f_d0$")


@dataclass
class Floorplan:
    dsp_locked: int = 0  # multipliers given a site
    dsp_left: int = 0  # multipliers not recognised as a MAC array's: placed freely


def _natural(name: str) -> tuple:
    """`stage10` after `stage2`."""
    return tuple(int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name))


# `vhls synth --floorplan auto` locks the multipliers when they fill at least this share of the sites: below it the
# placer has room to keep a tree's multipliers together by itself (and a small design is best left near the die's
# centre, where the serpentine does not start).
AUTO_SHARE = 0.5


def floorplan_macs(netlist: dict, top: str, sites: tuple[str, ...], min_share: float = 0.0) -> Floorplan:
    """Give every recognised MAC-array multiplier a `BEL` attribute (in place): arrays in natural name order, each
    one's multipliers in (PE, SIMD) order, on consecutive `sites`. Nothing is locked if they do not all fit, or if
    they fill less than `min_share` of the sites."""
    mod = netlist["modules"][top]
    array_of: dict[int, tuple[str, int, int]] = {}
    for name, net in mod["netnames"].items():
        m = _PRODUCT.match(name)
        if m:
            key = (m["array"], int(m["pe"]), int(m["simd"]))
            for bit in net["bits"]:
                if isinstance(bit, int):
                    array_of[bit] = key
    keyed, left = [], 0
    for name, cell in mod["cells"].items():
        if cell["type"] != "MULT18X18D":
            continue
        keys = {array_of.get(b) for pin, bits in cell["connections"].items() if pin.startswith("P") for b in bits
                if isinstance(b, int)} - {None}
        if len(keys) == 1:
            array, pe, simd = keys.pop()
            keyed.append(((_natural(array), pe, simd), name))
        else:
            left += 1
    if len(keyed) + left > len(sites) or len(keyed) < min_share * len(sites):
        return Floorplan(0, len(keyed) + left)
    # sorted on the key alone: two cells never share one (one product net each)
    for (_, name), site in zip(sorted(keyed), sites, strict=False):
        mod["cells"][name]["attributes"]["BEL"] = site
    return Floorplan(len(keyed), left)
