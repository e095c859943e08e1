"""cocotb bench: load J/h from the job file, run each seed, record e2 trace, final spins and cycles."""

import json
import os
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge


async def _tick(dut: object) -> None:
    await RisingEdge(dut.clk)


@cocotb.test()
async def run_job(dut: object) -> None:
    job = json.loads(Path(os.environ["PBIT_JOB"]).read_text())
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    for name in ("j_we", "h_we", "wr_unit", "wr_group", "wr_col", "j_data", "h_data", "start"):
        getattr(dut, name).value = 0
    dut.rst.value = 1
    await _tick(dut)
    await _tick(dut)
    dut.rst.value = 0

    dut.j_we.value = 1
    for unit, group, col, v in job["j"]:
        dut.wr_unit.value, dut.wr_group.value, dut.wr_col.value, dut.j_data.value = unit, group, col, v
        await _tick(dut)
    dut.j_we.value = 0
    dut.h_we.value = 1
    for unit, group, v in job["h"]:
        dut.wr_unit.value, dut.wr_group.value, dut.h_data.value = unit, group, v
        await _tick(dut)
    dut.h_we.value = 0

    for name in ("steps", "n_rnd", "i0_min", "i0_max", "i0_delta"):
        getattr(dut, name).value = job[name]
    runs = []
    for seed in job["seeds"]:
        dut.seed.value = seed
        dut.start.value = 1
        await _tick(dut)
        dut.start.value = 0
        trace: list[int] = []
        cycles = 0
        while True:
            await ReadOnly()
            if dut.trace_valid.value:
                trace.append(dut.trace_e2.value.to_signed())
            if dut.done.value:
                break
            await _tick(dut)
            cycles += 1
        sigma = dut.sigma.value.to_unsigned()
        runs.append(
            {"seed": seed, "trace": trace, "sigma": [(sigma >> i) & 1 for i in range(job["n"])], "cycles": cycles}
        )
        await _tick(dut)
    Path(os.environ["PBIT_OUT"]).write_text(json.dumps(runs))
