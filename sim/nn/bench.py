"""cocotb bench for nn accelerators (loaded by the simulator; configured by the JSON file in $VHLS_NN_CONFIG).

Throughput phase (first, on the idle design): the vectors back to back, tvalid and m_axis_tready held high;
cycles/inference is the mean spacing of the output vectors over the second half, latency is the first vector's
(first input beat's handshake to first output beat's handshake). Stress phase: every vector with random gaps in
s_axis_tvalid while m_axis_tready drops at random. Every output vector of both phases is compared bit for bit
with the golden output, and afterwards no further beat may appear. With narrow ports (config in_beats/out_beats)
a vector is several beats: tvalid gaps fall between beats too, m_axis_tlast must mark exactly each vector's last
beat and s_axis_error must stay low. Results go to $VHLS_NN_RESULT as JSON (the runner prints the summary).

Sampling discipline: inputs change just after a rising edge (cocotb applies the writes after the design's registers
have taken the edge) and the handshakes they make are sampled in ReadOnly of that time step, when everything has
settled and nothing changes until the next rising edge, so there are no races with the design's registers. Stretches
in which nothing the bench drives can matter (no input can be taken, no output is offered) are slept through on
value-change triggers, and so is the final watch for extra beats; cycle numbers come from simulation time.

Cost: the simulator is fast (Verilator), the bench's Python is not: every trigger is a trip through cocotb's
scheduler. Hence one trigger per wake-up (the bench drives in the time step that woke it: the design's outputs
change only in a clock edge's time step, where the bench writes too), wake-ups through two always-waiting tasks
rather than a First() per sleep, handles looked up once, writes only on change, and one watchdog timer per phase
instead of a timeout in every sleep.
"""

import json
import os
import random
import time

import cocotb
from cocotb.clock import Clock
from cocotb.simtime import convert, get_sim_time
from cocotb.triggers import ClockCycles, Event, FallingEdge, First, ReadOnly, RisingEdge, Timer


class _Sides:
    """Drives one input stream and consumes one output stream, one cycle at a time. A vector crosses a port as
    `beats` beats of `bits` bits, tlast on the last (narrow ports, backends/nn/port.py; by default one beat)."""

    def __init__(self, dut, inputs: list[int], rng: random.Random, p_valid: float, p_ready: float,
                 framing: tuple[int, int, int, int]) -> None:
        self.dut, self.rng = dut, rng
        self.p_valid, self.p_ready = p_valid, p_ready
        in_beats, in_bits, self.out_beats, self.out_bits = framing
        mask = (1 << in_bits) - 1 if in_beats > 1 else -1  # one beat: the whole word
        self.beats = [((word >> (k * in_bits)) & mask, k == in_beats - 1, k == 0)
                      for word in inputs for k in range(in_beats)]  # (tdata, tlast, first beat of a vector)
        self.sent = 0  # beats
        self.valid = False
        self.outputs: list[tuple[int, int]] = []  # (cycle of the first beat, whole tdata word)
        self.part: list[tuple[int, int, int]] = []  # output beats of the vector being received: (cycle, data, last)
        self.tlast_errors = 0  # output vectors whose m_axis_tlast is not on the last beat only
        self.accepted: list[int] = []  # cycle of each vector's first input beat
        self.ready = False
        # handles looked up once: dut.<name> goes through cocotb's handle lookup on every access
        self.h_valid, self.h_data, self.h_last = dut.s_axis_tvalid, dut.s_axis_tdata, dut.s_axis_tlast
        self.h_ready, self.h_s_ready, self.h_m_valid = dut.m_axis_tready, dut.s_axis_tready, dut.m_axis_tvalid
        self.h_m_data = dut.m_axis_tdata
        self.h_m_last = dut.m_axis_tlast if self.out_beats > 1 else None  # one beat: tlast is constant
        self.pins = [-1, -1, -1, -1]  # last written tvalid, tdata, tlast, tready: a GPI write only on change

    def drive(self) -> None:
        pins = self.pins
        if not self.valid and self.sent < len(self.beats) and self.rng.random() < self.p_valid:
            self.valid = True  # once raised, tvalid stays up until the beat is taken (AXI rule)
        valid = int(self.valid)
        if pins[0] != valid:
            self.h_valid.value = pins[0] = valid
        if valid:
            data, last, _ = self.beats[self.sent]
            if pins[1] != data:
                self.h_data.value = pins[1] = data
        else:
            last = False
        if pins[2] != int(last):
            self.h_last.value = pins[2] = int(last)
        self.ready = self.p_ready >= 1.0 or self.rng.random() < self.p_ready
        if pins[3] != int(self.ready):
            self.h_ready.value = pins[3] = int(self.ready)

    def release(self) -> None:
        """tvalid and tready low (the end of a phase)."""
        self.h_valid.value = self.pins[0] = 0
        self.h_ready.value = self.pins[3] = 0

    def sample(self, cycle: int) -> bool:
        """Record this cycle's handshakes; True when the design is blocked on its own work: nothing the bench
        drives matters until s_axis_tready or m_axis_tvalid rises (no input can be taken, no output is offered)."""
        s_ready = int(self.h_s_ready.value)
        m_valid = int(self.h_m_valid.value)
        taken = self.valid and s_ready
        if taken:
            if self.beats[self.sent][2]:
                self.accepted.append(cycle)
            self.sent += 1
            self.valid = False  # the pins still say valid: not a state to sleep in until drive() lowers them
        if self.ready and m_valid:
            last = int(self.h_m_last.value) if self.h_m_last is not None else 1
            self.part.append((cycle, self.h_m_data.value.to_unsigned(), last))
            if len(self.part) == self.out_beats:
                word = sum(d << (k * self.out_bits) for k, (_, d, _) in enumerate(self.part))
                self.tlast_errors += [t for _, _, t in self.part] != [0] * (self.out_beats - 1) + [1]
                self.outputs.append((self.part[0][0], word))
                self.part = []
        pending = self.valid or self.sent < len(self.beats)
        return not taken and not m_valid and (not s_ready or not pending)


PERIOD_NS = 10


async def _watch_flags(dut, prefix: str, log: list[int], when: list[int], t0: int, period: int) -> None:
    """Record the stream index of every vector an ABFT checker flags (backends/nn/abft.py, protect.top_ports): the
    `checked` port changes once per vector checked, and `errors` changes in the same cycle when it is flagged.
    With recompute the index counts attempts (re-executions included). `when` gets the cycle of every check."""
    checked, errors = getattr(dut, f"{prefix}_checked"), getattr(dut, f"{prefix}_errors")
    e = 0
    while True:
        await checked.value_change
        await ReadOnly()
        err = int(errors.value)  # one bit: the LSB of the stage's error counter
        if err != e:
            log.append(len(when))
        when.append((get_sim_time() - t0) // period)
        e = err


async def _rises(signal, wake: Event) -> None:
    """Set `wake` at every rising edge of `signal`. A task per signal, always waiting: ~6x cheaper per wake-up than
    First(RisingEdge(a), RisingEdge(b)), which starts and cancels a task per trigger on every sleep (measured on
    Verilator: 25 against 146 us of CPU)."""
    edge = RisingEdge(signal)
    while True:
        await edge
        wake.set()


async def _watchdog(t0: int, period: int, limit: int, what: str) -> None:
    """Fail the test once cycle `limit` has passed (a design that stops making progress)."""
    await Timer(t0 + (limit + 1) * period - get_sim_time(), "step")
    raise TimeoutError(f"no progress: {what} after {limit} cycles")


async def _run_phase(dut, sides: _Sides, expect: int, limit: int, t0: int, period: int) -> int:
    """Drive and sample cycle by cycle, sleeping through stretches where the design is busy on its own.

    Cycle numbers come from simulation time, so skipped cycles still count: inputs driven just after the rising
    edge at t0 + (c - 1/2) periods meet the design at the next one, cycle c. Returns the last cycle sampled, with
    tvalid and tready low from the next one on.
    """
    clk, settled, wake = RisingEdge(dut.clk), ReadOnly(), Event()
    helpers = [cocotb.start_soon(_rises(dut.s_axis_tready, wake)), cocotb.start_soon(_rises(dut.m_axis_tvalid, wake)),
               cocotb.start_soon(_watchdog(t0, period, limit, f"{expect} outputs expected"))]
    await clk
    while True:
        sides.drive()
        await settled
        cycle = (get_sim_time() - t0 + period - 1) // period
        blocked = sides.sample(cycle)
        if len(sides.outputs) >= expect:
            break
        if blocked:  # sleep until s_axis_tready or m_axis_tvalid rises; the bench drives in that time step
            wake.clear()
            await wake.wait()
        else:
            await clk
    await clk
    sides.release()
    for task in helpers:
        task.cancel()
    return cycle


async def _extra_beats(dut, start: int, cycles: int, t0: int, period: int) -> int:
    """With tready high from cycle `start` on, count the output beats of cycles start..start + cycles - 1 (the design
    is idle: any beat is an input taken twice or an output invented). Stretches with m_axis_tvalid low are slept
    through; m_axis_tvalid rises only at a clock edge."""
    settled, m_valid = ReadOnly(), dut.m_axis_tvalid
    dut.m_axis_tready.value = 1
    extra, stop = 0, start + cycles - 1
    while True:
        await settled
        cycle = (get_sim_time() - t0 + period - 1) // period
        if cycle > stop:
            break
        if int(m_valid.value):
            extra += 1
            await RisingEdge(dut.clk)
        else:  # the timer lands on the rising edge of cycle stop + 1 / 2: past the window
            await First(RisingEdge(m_valid), Timer((stop - cycle + 1) * period, "step"))
    await RisingEdge(dut.clk)
    dut.m_axis_tready.value = 0
    return extra


@cocotb.test()
async def stream_vectors(dut) -> None:
    with open(os.environ["VHLS_NN_CONFIG"], encoding="utf-8") as f:
        cfg = json.load(f)
    inputs = [int(v, 16) for v in cfg["inputs"]]
    outputs = [int(v, 16) for v in cfg["outputs"]]
    rng = random.Random(cfg["seed"])
    cocotb.start_soon(Clock(dut.clk, PERIOD_NS, unit="ns").start())
    dut.rst.value = 1
    dut.s_axis_tvalid.value = 0
    dut.s_axis_tdata.value = 0
    dut.s_axis_tlast.value = 0
    dut.m_axis_tready.value = 0
    await ClockCycles(dut.clk, 3)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    wall, cpu = time.perf_counter(), time.process_time()
    flags: list[list[int]] = [[] for _ in cfg.get("abft_flagged", [])]  # ABFT designs: flagged vectors per stage
    checks: list[list[int]] = [[] for _ in flags]  # cycle of every check per stage
    limit = 1000 + 4 * (len(inputs) + cfg["throughput_vectors"] + 4) * (cfg["predicted_cycles"] + cfg["latency"])
    limit *= 1 + cfg.get("abft_retries", 0)  # recompute: an attempt per retry
    t0, period = get_sim_time(), convert(PERIOD_NS, "ns", to="step")  # simulator steps
    stages = cfg.get("abft_stages", list(range(len(flags))))  # chain index of each MAC stage (its port name)
    for s, log in enumerate(flags):
        cocotb.start_soon(_watch_flags(dut, f"stage{stages[s]}_abft", log, checks[s], t0, period))

    # Phase 2 first on an idle design: latency of the first vector and back-to-back throughput.
    k = cfg["throughput_vectors"]
    framing = (cfg.get("in_beats", 1), cfg.get("in_beat_bits", 0), cfg.get("out_beats", 1), cfg.get("out_beat_bits", 0))
    fast = _Sides(dut, [inputs[i % len(inputs)] for i in range(k)], rng, 1.0, 1.0, framing)
    end = await _run_phase(dut, fast, k, limit, t0, period)
    latency = fast.outputs[0][0] - fast.accepted[0]
    tail = [c for c, _ in fast.outputs[k // 2:]]
    cycles = (tail[-1] - tail[0]) / (len(tail) - 1) if len(tail) > 1 else float("nan")

    # Phase 1: random gaps and backpressure.
    stress = _Sides(dut, inputs, rng, cfg.get("p_valid", 0.6), cfg.get("p_ready", 0.6), framing)
    end = await _run_phase(dut, stress, len(inputs), limit + end, t0, period)

    # Nothing more may come out: an extra beat means an input was taken twice or an output invented. From the
    # cycle after the last output on, for longer than a vector takes to pass through.
    extra = await _extra_beats(dut, end + 1, cfg["latency"] + cfg["predicted_cycles"] + 9, t0, period)
    tlast_errors = fast.tlast_errors + stress.tlast_errors
    in_error = int(dut.s_axis_error.value) if "in_beats" in cfg else 0  # narrow ports: sticky framing error

    got = [d for _, d in fast.outputs] + [d for _, d in stress.outputs]
    want = [outputs[i % len(outputs)] for i in range(k)] + outputs
    if "stream_outputs" in cfg:  # fault injection: outputs depend on the position in the stream since reset
        want = [int(v, 16) for v in cfg["stream_outputs"]]
    flag_bad = sum(got_f != want_f for got_f, want_f in zip(flags, cfg.get("abft_flagged", []), strict=True))
    bad = [i for i, (g, w) in enumerate(zip(got, want, strict=True)) if g != w]
    bad_vectors = sorted({i % len(inputs) if i < k else i - k for i in bad})  # beat -> input vector index
    first = None
    if bad:
        i = bad[0]
        first = {"vector": i % len(inputs) if i < k else i - k, "phase": "throughput" if i < k else "stress",
                 "got": f"{got[i]:x}", "want": f"{want[i]:x}"}
    result = {
        "vectors": len(inputs),
        "checked": len(got),
        "mismatches": len(bad_vectors),
        "mismatching_beats": len(bad),
        "unexpected_beats": extra,
        **({"tlast_errors": tlast_errors, "s_axis_error": in_error} if "in_beats" in cfg else {}),
        "first_bad": first,
        "cycles_per_inference": cycles,
        "latency": latency,
        "sim_cycles": end,
        "trace": {"fast_in": fast.accepted, "fast_out": [c for c, _ in fast.outputs],
                  "stress_in": stress.accepted, "stress_out": [c for c, _ in stress.outputs]},
        "wall_seconds": time.perf_counter() - wall,
        "cpu_seconds": time.process_time() - cpu,  # the simulator process: the model and the bench's Python
        **({"abft_flagged": flags, "abft_check_cycles": checks, "flag_mismatches": flag_bad} if flags else {}),
    }
    with open(os.environ["VHLS_NN_RESULT"], "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    assert not bad and not extra, f"{len(bad)} mismatching outputs, {extra} unexpected; first: {first}"
    assert not tlast_errors and not in_error, f"{tlast_errors} outputs with tlast misplaced, s_axis_error {in_error}"
    assert not flag_bad, f"ABFT flags of {flag_bad} stages differ from the golden model"
