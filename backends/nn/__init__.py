"""vhls.backends.nn: dense and convolutional networks in the IR → streaming Amaranth accelerators → Verilog and
reports.

    from vhls.backends.nn import design, build
    d = design(model, parallel=68)     # model: a vhls Model or an IR Program; parallel: see plan.py
    verilog_text = d.verilog()         # byte-identical across runs and folders
    report = build(model, "out/", 68)  # out/NAME.v, NAME.vhls, report.json, design.json (atomic writes)

Pipeline: `recognise` (recognise.py) finds the chain of stages of a checked program (dense, conv, max/avg pool,
fused or separate ReLU/casts, flatten; anything else is a VhlsError naming the term); `plan` (plan.py) chooses
PE × SIMD per dense/conv stage and predicts cycles; the components, one concept per file, are

    rom.py      weight/bias ROM (Memory with init: BRAM when large; constants when one word)
    vecbuf.py   ping-pong input-vector buffer (chunked writes, SIMD-slice reads)
    mac.py      PE × SIMD multipliers, pipelined adder trees, accumulators of the declared type (wrap)
    requant.py  casts (TRN/RND, WRAP/SAT) and max/min (ReLU) exactly as vhls.ir.numerics
    fifo.py     stream FIFO (the stage's output queue; credits keep the datapath stall-free)
    collect.py  width converter: PE-result chunks → whole output vectors
    dense.py    one layer = buffer + ROMs + MAC + requant + FIFO, with the fold schedule
    window.py   sliding windows: one kh·kw·C window vector per output position (choice of unit; frame banks when
                a whole image arrives in one beat)
    linebuf.py  the line-buffer window unit: kh−1 line memories and a kh×kw register window, one pixel per beat
    schedule.py beat-level timing model of window/pool units beside their consumers (latency, cycles per image)
    conv.py     a conv layer = window unit + the dense stage over window vectors
    scalar.py   scalar IR expressions (a pool body) as exact combinational logic
    pool.py     a pool layer = window unit + per-channel reduction (max, avg, as the IR writes it)
    serdes.py   narrow-port deserialiser/serialiser: whole vectors ↔ ceil(N/E) beats of E elements, tlast framing
    port.py     the port width choice (--port-width): elements per beat, beats, pins
    top.py      stages chained by amaranth.lib.stream, AXI-Stream port names (whole vectors per beat by default)
    emit.py     Design, emit_verilog, build

Simulation and verification against the golden model live in `vhls.sim.nn`.
"""

from vhls.backends.nn.emit import Design, build, design, emit_verilog
from vhls.backends.nn.plan import StagePlan, allocate, parse_parallel, plan, report
from vhls.backends.nn.recognise import DenseLayer, Network, PostOp, recognise

__all__ = ["DenseLayer", "Design", "Network", "PostOp", "StagePlan", "allocate", "build", "design", "emit_verilog",
           "parse_parallel", "plan", "recognise", "report"]
