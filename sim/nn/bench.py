"""cocotb bench for nn accelerators (loaded by the simulator; configured by the JSON file in $VHLS_NN_CONFIG).

Throughput phase (first, on the idle design): the vectors back to back, tvalid and m_axis_tready held high;
cycles/inference is the mean spacing of the output vectors over the second half, latency is the first vector's
(first input beat's handshake to first output beat's handshake). Stress phase: every vector with random gaps in
s_axis_tvalid while m_axis_tready drops at random. Every output vector of both phases is compared bit for bit
with the golden output, and afterwards no further beat may appear. With narrow ports (config in_beats/out_beats)
a vector is several beats: tvalid gaps fall between beats too, m_axis_tlast must mark exactly each vector's last
beat and s_axis_error must stay low. Results go to $VHLS_NN_RESULT as JSON (the runner prints the summary).

Sampling discipline: inputs change on the falling edge; handshakes are sampled in ReadOnly just before the
rising edge, so there are no races with the design's registers. Stretches in which nothing the bench drives can
matter (no input can be taken, no output is offered) are slept through on value-change triggers; cycle numbers
come from simulation time.
"""

import json
import os
import random
import time

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, First, ReadOnly, RisingEdge, Timer
from cocotb.utils import get_sim_time


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
        self.last: dict[str, int] = {}

    def _set(self, name: str, value: int) -> None:
        if self.last.get(name) != value:  # writes through the GPI are the bench's main cost: skip repeats
            getattr(self.dut, name).value = value
            self.last[name] = value

    def drive(self) -> None:
        if not self.valid and self.sent < len(self.beats) and self.rng.random() < self.p_valid:
            self.valid = True  # once raised, tvalid stays up until the beat is taken (AXI rule)
        self._set("s_axis_tvalid", int(self.valid))
        if self.valid:
            self._set("s_axis_tdata", self.beats[self.sent][0])
        self._set("s_axis_tlast", int(self.valid and self.beats[self.sent][1]))
        self.ready = self.p_ready >= 1.0 or self.rng.random() < self.p_ready
        self._set("m_axis_tready", int(self.ready))

    def sample(self, cycle: int) -> bool:
        """Record this cycle's handshakes; True when the design is blocked on its own work: nothing the bench
        drives matters until s_axis_tready or m_axis_tvalid rises (no input can be taken, no output is offered)."""
        dut = self.dut
        s_ready = int(dut.s_axis_tready.value)
        m_valid = int(dut.m_axis_tvalid.value)
        taken = self.valid and s_ready
        if taken:
            if self.beats[self.sent][2]:
                self.accepted.append(cycle)
            self.sent += 1
            self.valid = False  # the pins still say valid: not a state to sleep in until drive() lowers them
        if self.ready and m_valid:
            last = int(dut.m_axis_tlast.value) if self.out_beats > 1 else 1  # one beat: tlast is constant
            self.part.append((cycle, dut.m_axis_tdata.value.to_unsigned(), last))
            if len(self.part) == self.out_beats:
                word = sum(d << (k * self.out_bits) for k, (_, d, _) in enumerate(self.part))
                self.tlast_errors += [t for _, _, t in self.part] != [0] * (self.out_beats - 1) + [1]
                self.outputs.append((self.part[0][0], word))
                self.part = []
        pending = self.valid or self.sent < len(self.beats)
        return not taken and not m_valid and (not s_ready or not pending)


PERIOD_NS = 10


async def _watch_flags(dut, prefix: str, log: list[int], when: list[int], t0: list[float]) -> None:
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
        when.append(int((get_sim_time("ns") - t0[0]) // PERIOD_NS))
        e = err


async def _run_phase(dut, sides: _Sides, expect: int, limit: int, t0: float) -> int:
    """Drive and sample cycle by cycle, sleeping through stretches where the design is busy on its own.

    Cycle numbers come from simulation time, so skipped cycles still count. Returns the cycle reached.
    """
    cycle = 0
    while len(sides.outputs) < expect:
        await FallingEdge(dut.clk)
        sides.drive()
        await ReadOnly()
        cycle = int((get_sim_time("ns") - t0) // PERIOD_NS)
        if cycle > limit:
            raise TimeoutError(f"no progress: {len(sides.outputs)} of {expect} outputs after {cycle} cycles")
        if sides.sample(cycle) and len(sides.outputs) < expect:
            await First(RisingEdge(dut.s_axis_tready), RisingEdge(dut.m_axis_tvalid),
                        Timer((limit - cycle + 1) * PERIOD_NS, "ns"))
    await FallingEdge(dut.clk)
    dut.s_axis_tvalid.value = 0
    dut.m_axis_tready.value = 0
    return cycle


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
    wall = time.perf_counter()
    flags: list[list[int]] = [[] for _ in cfg.get("abft_flagged", [])]  # ABFT designs: flagged vectors per stage
    checks: list[list[int]] = [[] for _ in flags]  # cycle of every check per stage
    limit = 1000 + 4 * (len(inputs) + cfg["throughput_vectors"] + 4) * (cfg["predicted_cycles"] + cfg["latency"])
    limit *= 1 + cfg.get("abft_retries", 0)  # recompute: an attempt per retry
    t0 = get_sim_time("ns")
    stages = cfg.get("abft_stages", list(range(len(flags))))  # chain index of each MAC stage (its port name)
    for s, log in enumerate(flags):
        cocotb.start_soon(_watch_flags(dut, f"stage{stages[s]}_abft", log, checks[s], [t0]))

    # Phase 2 first on an idle design: latency of the first vector and back-to-back throughput.
    k = cfg["throughput_vectors"]
    framing = (cfg.get("in_beats", 1), cfg.get("in_beat_bits", 0), cfg.get("out_beats", 1), cfg.get("out_beat_bits", 0))
    fast = _Sides(dut, [inputs[i % len(inputs)] for i in range(k)], rng, 1.0, 1.0, framing)
    end = await _run_phase(dut, fast, k, limit, t0)
    latency = fast.outputs[0][0] - fast.accepted[0]
    tail = [c for c, _ in fast.outputs[k // 2:]]
    cycles = (tail[-1] - tail[0]) / (len(tail) - 1) if len(tail) > 1 else float("nan")

    # Phase 1: random gaps and backpressure.
    stress = _Sides(dut, inputs, rng, cfg.get("p_valid", 0.6), cfg.get("p_ready", 0.6), framing)
    end = await _run_phase(dut, stress, len(inputs), limit + end, t0)

    # Nothing more may come out: an extra beat means an input was taken twice or an output invented.
    dut.m_axis_tready.value = 1
    extra = 0
    for _ in range(cfg["latency"] + cfg["predicted_cycles"] + 8):
        await FallingEdge(dut.clk)
        await ReadOnly()
        extra += int(dut.m_axis_tvalid.value)
    await FallingEdge(dut.clk)
    dut.m_axis_tready.value = 0
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
        **({"abft_flagged": flags, "abft_check_cycles": checks, "flag_mismatches": flag_bad} if flags else {}),
    }
    with open(os.environ["VHLS_NN_RESULT"], "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
    assert not bad and not extra, f"{len(bad)} mismatching outputs, {extra} unexpected; first: {first}"
    assert not tlast_errors and not in_error, f"{tlast_errors} outputs with tlast misplaced, s_axis_error {in_error}"
    assert not flag_bad, f"ABFT flags of {flag_bad} stages differ from the golden model"
