"""floorplan.py on hand-made yosys JSON netlists (which multipliers get which site) and its ECP5-85k site list."""

import re
from itertools import pairwise

from vhls.backends.synth.floorplan import ECP5_85K_DSP_SITES, floorplan_macs


def mult(p_bits: list[int]) -> dict:
    conn = {f"P{i}": [b] for i, b in enumerate(p_bits)} | {"A0": ["0"]}
    return {"type": "MULT18X18D", "parameters": {}, "attributes": {},
            "port_directions": {p: ("output" if p.startswith("P") else "input") for p in conn}, "connections": conn}


def netlist(products: dict[str, str | None]) -> dict:
    """One multiplier per entry: cell name → the product net its P pins drive (None: an unnamed net)."""
    cells, nets = {}, {}
    for k, (cell, net) in enumerate(products.items()):
        bits = [100 + 2 * k, 101 + 2 * k]
        cells[cell] = mult(bits)
        if net:
            nets[net] = {"bits": bits}
    return {"modules": {"top": {"attributes": {"top": 1}, "cells": cells, "netnames": nets}}}


def site(d: dict, cell: str) -> str | None:
    return d["modules"]["top"]["cells"][cell]["attributes"].get("BEL")


def test_arrays_in_name_order_and_products_in_pe_simd_order() -> None:
    d = netlist({"a": "stage10.mac.p0_0_f_d0", "b": "stage2.mac.p1_0_f_d0", "c": "stage2.mac.p0_1_f_d0",
                 "e": "stage2.mac.p0_0_f_d0", "f": "stage2.mac.p0_10_f_d0", "g": None})
    plan = floorplan_macs(d, "top", ECP5_85K_DSP_SITES)
    assert (plan.dsp_locked, plan.dsp_left) == (5, 1)
    order = ["e", "c", "f", "b", "a"]  # stage2 before stage10; (PE, SIMD) with SIMD 10 after 1
    assert [site(d, c) for c in order] == list(ECP5_85K_DSP_SITES[:5])
    assert site(d, "g") is None  # not a MAC array's product: left to the placer


def test_nothing_locked_when_the_sites_run_out() -> None:
    d = netlist({f"m{i}": f"stage0.mac.p0_{i}_f_d0" for i in range(3)})
    plan = floorplan_macs(d, "top", ECP5_85K_DSP_SITES[:2])
    assert (plan.dsp_locked, plan.dsp_left) == (0, 3)
    assert all(site(d, f"m{i}") is None for i in range(3))


def test_ecp5_85k_sites_are_every_multiplier_once_in_a_serpentine() -> None:
    sites = ECP5_85K_DSP_SITES
    assert len(sites) == len(set(sites)) == 156  # LFE5U-85F: 156 18x18 multipliers (data sheet)
    xy = [tuple(int(v) for v in re.match(r"X(\d+)/Y(\d+)/MULT18_[0145]$", s).groups()) for s in sites]  # type: ignore[union-attr]
    rows = [y for _, y in xy]
    assert rows == sorted(rows) and [rows.count(y) for y in (10, 34, 58)] == [52, 52, 52]
    for (x0, y0), (x1, y1) in pairwise(xy):
        # neighbours: a few columns apart along a row, or the same end of the next row
        assert (y0 == y1 and 1 <= abs(x1 - x0) <= 7) or (y0 != y1 and x0 == x1)


def test_min_share_leaves_a_small_design_to_the_placer() -> None:
    d = netlist({f"m{i}": f"stage0.mac.p0_{i}_f_d0" for i in range(3)})
    assert floorplan_macs(d, "top", ECP5_85K_DSP_SITES[:6], min_share=0.5).dsp_locked == 3  # 3 of 6 sites: locked
    d = netlist({f"m{i}": f"stage0.mac.p0_{i}_f_d0" for i in range(2)})
    plan = floorplan_macs(d, "top", ECP5_85K_DSP_SITES[:6], min_share=0.5)  # 2 of 6: left alone
    assert (plan.dsp_locked, plan.dsp_left) == (0, 2) and site(d, "m0") is None
