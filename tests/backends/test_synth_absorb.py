"""absorb.py on hand-made yosys JSON netlists: which flip-flops move into DP16KD / MULT18X18D and which must stay."""

import copy

from vhls.backends.synth.absorb import absorb_ecp5_registers

CLK, RST = 2, 3


def ff(d: int, q: int, **extra: object) -> dict:
    params = {"CEMUX": "1 ", "CLKMUX": "CLK", "GSR": "DISABLED", "LSRMUX": "LSR", "REGSET": "RESET"}
    conn = {"CLK": [CLK], "DI": [d], "LSR": ["0"], "Q": [q]}
    conn.update(extra.pop("conn", {}))  # type: ignore[arg-type]
    params.update(extra)  # type: ignore[arg-type]
    dirs = {p: ("output" if p == "Q" else "input") for p in conn}
    return {"type": "TRELLIS_FF", "parameters": params, "port_directions": dirs, "connections": conn}


def lut(inputs: list[int], out: int) -> dict:
    conn = {"ABCD"[i]: [b] for i, b in enumerate(inputs)} | {"Z": [out]}
    return {"type": "LUT4", "parameters": {}, "port_directions": {p: ("output" if p == "Z" else "input")
                                                                  for p in conn}, "connections": conn}


def netlist() -> dict:
    """A 36-bit PDP block RAM read (2 used bits) → output registers → operand registers → A of a multiplier; B from
    x → registers; P[0..1] → two registers → LUTs. Nets: RAM DO 10-11 → 20-21 → 22-23, x 30-31 → 40-41, P 50-51
    → 60-61 → 62-63."""
    ram = {"type": "DP16KD", "parameters": {"DATA_WIDTH_A": f"{36:032b}", "DATA_WIDTH_B": f"{36:032b}",
                                            "REGMODE_A": "NOREG", "REGMODE_B": "NOREG", "CLKBMUX": "CLKB"},
           "port_directions": {"CLKB": "input", "OCEA": "input", "OCEB": "input", "RSTB": "input",
                               "DOA0": "output", "DOB0": "output", "DOA1": "output"},
           "connections": {"CLKB": [CLK], "OCEA": ["0"], "OCEB": ["1"], "RSTB": ["0"],
                           "DOA0": [10], "DOB0": [11], "DOA1": [99]}}
    mult_conn = {"A0": [22], "A1": [23], "A2": [23], "A3": ["0"], "B0": [40], "B1": [41], "SIGNEDA": ["1"],
                 "P0": [50], "P1": [51], "P2": [98]}
    mult = {"type": "MULT18X18D", "parameters": {},
            "port_directions": {p: ("output" if p.startswith("P") else "input") for p in mult_conn},
            "connections": mult_conn}
    cells = {"ram": ram, "mult": mult,
             "r0": ff(10, 20), "r1": ff(11, 21), "w0": ff(20, 22), "w1": ff(21, 23), "x0": ff(30, 40), "x1": ff(31, 41),
             "p0": ff(50, 60), "p1": ff(51, 61), "q0": ff(60, 62), "q1": ff(61, 63),
             "use0": lut([62, 63], 70), "use1": lut([40], 71)}
    ports = {"clk": {"direction": "input", "bits": [CLK]}, "x": {"direction": "input", "bits": [30, 31]},
             "y": {"direction": "output", "bits": [70, 71]}}
    return {"modules": {"top": {"attributes": {"top": 1}, "ports": ports, "cells": cells, "netnames": {}}}}


def test_registers_move_into_ram_and_multiplier() -> None:
    n = netlist()
    res = absorb_ecp5_registers(n, "top")
    cells = n["modules"]["top"]["cells"]
    assert (res.bram_ports, res.dsp_inputs, res.dsp_pipelines, res.dsp_outputs) == (1, 2, 1, 1)
    ram, mult = cells["ram"], cells["mult"]
    # The RAM's output register replaces r0/r1: DO now drives their Q nets, all 36 bits through port B's enable.
    assert ram["parameters"]["REGMODE_A"] == ram["parameters"]["REGMODE_B"] == "OUTREG"
    assert ram["connections"]["DOA0"] == [20] and ram["connections"]["DOB0"] == [21]
    assert ram["connections"]["OCEA"] == ram["connections"]["OCEB"] == ["1"]
    # Operand registers: pins take the flip-flops' D nets (the RAM's registered outputs, x); constants stay constant.
    c = mult["connections"]
    assert (c["A0"], c["A1"], c["A2"], c["A3"], c["B0"], c["B1"]) == ([20], [21], [21], ["0"], [30], [31])
    # Pipeline and output registers: P drives the second registers' Q nets; the unused P2 is left alone.
    assert (c["P0"], c["P1"], c["P2"]) == ([62], [63], [98])
    assert (c["CLK0"], c["CE0"], c["RST0"]) == ([CLK], ["1"], ["0"])
    for reg in ("REG_INPUTA", "REG_INPUTB", "REG_PIPELINE", "REG_OUTPUT"):
        assert mult["parameters"][f"{reg}_CLK"] == "CLK0"
    # x0 still feeds a LUT, so it stays (the multiplier took a copy); every other register went.
    assert sorted(k for k, v in cells.items() if v["type"] == "TRELLIS_FF") == ["x0"]
    assert res.ffs_removed == 9


def test_registers_that_are_not_plain_stay_in_the_fabric() -> None:
    base = netlist()
    variants = {
        "enable": lambda cs: cs["r0"].update(ff(10, 20, CEMUX="CE", conn={"CE": [5]})),
        "reset": lambda cs: cs["x0"].update(ff(30, 40, conn={"LSR": [RST]})),
        "fanout": lambda cs: cs.update(extra=lut([10], 72)),  # a RAM bit read by logic as well as its register
        "unregistered operand": lambda cs: cs["mult"]["connections"].update(B1=[31]),
        "product read twice": lambda cs: cs["use1"]["connections"].update(B=[50]),
        "one product register": lambda cs: cs["use0"]["connections"].update(A=[60]),
    }
    for name, change in variants.items():
        n = copy.deepcopy(base)
        change(n["modules"]["top"]["cells"])
        res = absorb_ecp5_registers(n, "top")
        cells = n["modules"]["top"]["cells"]
        if name in ("enable", "fanout"):
            assert res.bram_ports == 0 and cells["ram"]["parameters"]["REGMODE_B"] == "NOREG", name
            assert "r0" in cells and "r1" in cells, name
        if name in ("reset", "unregistered operand"):
            assert res.dsp_inputs == 0 and "REG_INPUTA_CLK" not in cells["mult"]["parameters"], name
            assert "x0" in cells and "x1" in cells, name
        if name in ("product read twice", "one product register"):
            # Operand and output registers without the pipeline register would leave the multiply untimed.
            assert res.dsp_outputs == res.dsp_pipelines == 0 and "p0" in cells and "p1" in cells, name
            assert "REG_OUTPUT_CLK" not in cells["mult"]["parameters"], name


def test_second_pass_changes_nothing() -> None:
    n = netlist()
    absorb_ecp5_registers(n, "top")
    once = copy.deepcopy(n)
    res = absorb_ecp5_registers(n, "top")
    assert n == once and (res.bram_ports, res.dsp_inputs, res.dsp_outputs, res.ffs_removed) == (0, 0, 0, 0)


def test_constant_operand_counts_as_registered() -> None:
    """A weight folded to a constant (a one-word ROM): the other operand's register still moves in."""
    n = netlist()
    n["modules"]["top"]["cells"]["mult"]["connections"].update(B0=["1"], B1=["0"])
    res = absorb_ecp5_registers(n, "top")
    c = n["modules"]["top"]["cells"]["mult"]["connections"]
    assert res.dsp_inputs == 2 and (c["A0"], c["B0"], c["B1"]) == ([20], ["1"], ["0"])


def test_unregistered_operands_take_one_product_register() -> None:
    """Without operand registers the characterised output-only mode applies: one register, no pipeline stage."""
    n = netlist()
    n["modules"]["top"]["cells"]["mult"]["connections"].update(B1=[31])
    res = absorb_ecp5_registers(n, "top")
    cells = n["modules"]["top"]["cells"]
    assert (res.dsp_inputs, res.dsp_pipelines, res.dsp_outputs) == (0, 0, 1)
    assert cells["mult"]["connections"]["P0"] == [60] and "q0" in cells and "p0" not in cells
    assert "REG_PIPELINE_CLK" not in cells["mult"]["parameters"]
