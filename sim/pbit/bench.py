"""cocotb bench: load J/h from the job file, run each seed, record e2 trace, final spins and cycles.
Dense arrays take J entry by entry and show sigma on one port; sparse ones take packed adjacency words and
are read through `rd_addr` / `rd_data`; baked ones load nothing, are read the same way and report the final
e2 instead of a trace; an interleaved baked array (k = 2) runs two reads per `start` (seeds[0::2]; thread 1
is seeded by the array itself) and shows thread 1 on `e2_1` / `rd_data1`."""

import json
import os
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge

INPUTS = ("j_we", "w_we", "h_we", "wr_unit", "wr_group", "wr_col", "wr_addr", "j_data", "w_data", "h_data", "start")


async def _tick(dut: object) -> None:
    await RisingEdge(dut.clk)


def _set(dut: object, name: str, value: int) -> None:
    """Ports of width 0 (e.g. wr_group with one group) are not in the Verilog at all."""
    if hasattr(dut, name):
        getattr(dut, name).value = value


async def _load(dut: object, job: dict) -> None:
    if job["arch"] == "baked":
        return
    if job["arch"] == "sparse":
        dut.w_we.value = 1
        for unit, addr, word in job["words"]:
            _set(dut, "wr_unit", unit)
            _set(dut, "wr_addr", addr)
            dut.w_data.value = word
            await _tick(dut)
        dut.w_we.value = 0
    else:
        dut.j_we.value = 1
        for unit, group, col, v in job["j"]:
            dut.wr_unit.value, dut.wr_group.value, dut.wr_col.value, dut.j_data.value = unit, group, col, v
            await _tick(dut)
        dut.j_we.value = 0
    dut.h_we.value = 1
    for unit, group, v in job["h"]:
        _set(dut, "wr_unit", unit)
        _set(dut, "wr_group", group)
        dut.h_data.value = v
        await _tick(dut)
    dut.h_we.value = 0


async def _read_sigma(dut: object, job: dict, threads: int = 1) -> list[int]:
    """Final spins of each thread (one unless the baked array is interleaved)."""
    if job["arch"] == "dense":
        return [dut.sigma.value.to_unsigned()]
    ports = [dut.rd_data, *(getattr(dut, f"rd_data{t}") for t in range(1, threads))]
    sigma = [0] * threads
    for a in range(job["read_words"]):
        _set(dut, "rd_addr", a)
        await _tick(dut)
        await ReadOnly()
        for t, port in enumerate(ports):
            sigma[t] |= port.value.to_unsigned() << (a * job["read_bits"])
        await RisingEdge(dut.clk)  # leave the read-only phase before driving rd_addr again
    return sigma


@cocotb.test()
async def run_job(dut: object) -> None:
    job = json.loads(Path(os.environ["PBIT_JOB"]).read_text())
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    for name in INPUTS:
        _set(dut, name, 0)
    dut.rst.value = 1
    await _tick(dut)
    await _tick(dut)
    dut.rst.value = 0
    await _load(dut, job)

    for name in ("steps", "n_rnd", "i0_min", "i0_max", "i0_delta"):
        getattr(dut, name).value = job[name]
    runs = []
    threads = job.get("interleave", 1)
    for seed in job["seeds"][::threads]:
        dut.seed.value = seed
        dut.start.value = 1
        await _tick(dut)
        dut.start.value = 0
        trace: list[int] = []
        cycles = 0
        while True:
            await ReadOnly()
            if hasattr(dut, "trace_valid") and dut.trace_valid.value:
                trace.append(dut.trace_e2.value.to_signed())
            if dut.done.value:
                break
            await _tick(dut)
            cycles += 1
        if job["arch"] == "baked":
            e2 = [dut.e2.value.to_signed(), *(getattr(dut, f"e2_{t}").value.to_signed() for t in range(1, threads))]
        else:
            e2 = [None]
        await _tick(dut)
        sigmas = await _read_sigma(dut, job, threads)
        for t, sigma in enumerate(sigmas):
            bits = [(sigma >> i) & 1 for i in range(job["n"])]
            runs.append({"thread": t, "trace": trace, "sigma": bits, "cycles": cycles, "e2": e2[t]})
    Path(os.environ["PBIT_OUT"]).write_text(json.dumps(runs))
