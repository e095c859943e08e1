"""ABFT recompute hardware (`--tolerance abft:R`): option parsing, the replay and commit buffers in Amaranth
simulation, the plan's timing fields, and yosys check + Verilator lint of a recompute design. Bit-exactness and the
cycle counts are checked in cocotb (tests/sim/test_nn_fault_sim.py)."""

import random
import sys
from pathlib import Path

import pytest
from amaranth.sim import Simulator

from vhls.backends.nn.commit import CommitBuffer
from vhls.backends.nn.protect import NoiseOptions
from vhls.backends.nn.replay import ReplayBuffer
from vhls.backends.nn.schedule import SLICE_LATENCY
from vhls.ir.errors import VhlsError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sim"))
from test_nn_fault_sim import PARALLEL, exact_net


def test_parse_and_round_trip() -> None:
    opts = NoiseOptions.parse("acc:0.1:3", "abft:4")
    assert opts == NoiseOptions(0.1, 3, "abft", retries=4)
    assert NoiseOptions.from_json(opts.to_json()) == opts and opts.params() == {"retries": 4}
    assert "recompute (up to 4 retries)" in opts.describe()
    assert NoiseOptions.parse(None, "abft").retries == 0 and NoiseOptions.parse(None, "abft").params() == {}
    old = NoiseOptions(0.1, 3, "abft").to_json()
    del old["retries"]  # design.json written before recompute existed
    assert NoiseOptions.from_json(old) == NoiseOptions(0.1, 3, "abft")
    for tol in ("abft:0", "abft:x", "abft:1:2", "abft:-1"):
        with pytest.raises(VhlsError, match="abft"):
            NoiseOptions.parse(None, tol)
    with pytest.raises(VhlsError, match="retries"):
        NoiseOptions(None, 0, "tmr", retries=2)


def test_commit_buffer_releases_committed_vectors_in_order() -> None:
    """As in a stage: chunks come out of a FIFO of `fifo` entries, and a vector's decision comes once all its chunks
    are produced, so decisions run up to fifo // chunks + 1 vectors ahead of the chunks the buffer has taken. Random
    commit/drop decisions and random gaps on both sides: the reader sees exactly the committed chunks, in order."""
    chunks, fifo, width = 3, 7, 8
    dut = CommitBuffer(width, chunks, fifo // chunks + 1)
    rng = random.Random(1)
    keep = [rng.random() < 0.6 for _ in range(40)]
    words = [(v * 16 + c) & 0xFF for v in range(len(keep)) for c in range(chunks)]
    want = [w for v, k in enumerate(keep) for w in words[v * chunks:(v + 1) * chunks] if k]
    got: list[int] = []

    async def bench(ctx) -> None:
        made = sent = decided = 0
        for _ in range(4000):
            decide = decided < made // chunks and rng.random() < 0.5
            ctx.set(dut.i_commit, decide and keep[decided])
            ctx.set(dut.i_drop, decide and not keep[decided])
            ctx.set(dut.i.valid, sent < made)
            ctx.set(dut.i.payload, words[sent] if sent < made else 0)
            ctx.set(dut.o.ready, rng.random() < 0.4)
            if ctx.get(dut.i.valid) and ctx.get(dut.i.ready):
                sent += 1
            if ctx.get(dut.o.valid) and ctx.get(dut.o.ready):
                got.append(ctx.get(dut.o.payload))
            decided += decide
            made += made < len(words) and made - sent < fifo and rng.random() < 0.8
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert got == want and len(want) > 20


def test_replay_buffer_resends_until_pass_or_out_of_retries() -> None:
    beats, retries = 3, 2
    dut = ReplayBuffer(8, beats, retries)
    vectors = [[10 * v + b for b in range(beats)] for v in range(4)]
    flags = {0: [True, False], 1: [True, True, True], 2: [False], 3: [True, False]}  # per attempt
    out: list[int] = []
    decisions: list[str] = []

    async def bench(ctx) -> None:
        fed = 0
        pending = 0  # beats of the current attempt seen
        attempt = {v: 0 for v in flags}
        v = 0
        verdict_at = None
        for cyc in range(300):
            flat = [w for vec in vectors for w in vec]
            ctx.set(dut.i.valid, fed < len(flat))
            ctx.set(dut.i.payload, flat[fed] if fed < len(flat) else 0)
            ctx.set(dut.o.ready, cyc % 3 != 1)
            ctx.set(dut.i_room, cyc % 7 > 2)  # a first attempt waits for room; a re-execution does not
            if ctx.get(dut.o.valid) and pending == 0:
                assert cyc % 7 > 2 or attempt[v] > 0
            give = verdict_at == cyc
            ctx.set(dut.i_verdict, give)
            ctx.set(dut.i_flag, give and flags[v][attempt[v]])
            if ctx.get(dut.i.valid) and ctx.get(dut.i.ready):
                fed += 1
            if ctx.get(dut.o.valid) and ctx.get(dut.o.ready):
                out.append(ctx.get(dut.o.payload))
                pending += 1
                if pending == beats:
                    verdict_at, pending = cyc + 5, 0
            if give:
                decisions.append("commit" if ctx.get(dut.o_commit) else "drop" if ctx.get(dut.o_drop) else "?")
                if ctx.get(dut.o_commit):
                    v += 1
                else:
                    attempt[v] += 1
                if v == len(vectors):
                    break
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    # vector 1 is flagged three times: re-sent twice (retries = 2), then released flagged
    assert decisions == ["drop", "commit", "drop", "drop", "commit", "commit", "drop", "commit"]
    order = [0, 0, 1, 1, 1, 2, 3, 3]
    assert out == [w for v in order for w in vectors[v]]


def test_plan_timing_and_report() -> None:
    from vhls.backends.nn import design

    plain = design(exact_net(), PARALLEL, noise=NoiseOptions(0.1, 1, "abft"))
    d = design(exact_net(), PARALLEL, noise=NoiseOptions(0.1, 1, "abft", retries=2))
    assert all(s.recompute and not p.recompute for s, p in zip(d.stages, plain.stages, strict=True))
    tot = d.report()["total"]
    assert tot["initiation_interval"] == max(s.attempt_cycles for s in d.stages)
    links = SLICE_LATENCY * (len(d.stages) - 1)  # the register slices between the stages
    assert tot["latency"] == sum(s.attempt_cycles + 2 + s.nf for s in d.stages) + links + 1
    # an attempt is the stage's folds plus its pipeline up to the verdict: far more than the folds alone
    assert all(s.attempt_cycles > s.nf * s.sf + 10 for s in d.stages)
    assert "recompute" in d.report()["noise"]["description"]


def test_recompute_design_passes_yosys_check_and_lint() -> None:
    from vhls.backends.nn import design
    from vhls.backends.synth.check import check_design

    d = design(exact_net(), "2x1,1x3", noise=NoiseOptions(0.01, 1, "abft", retries=3))
    text = d.verilog()
    check_design(text, d.name)
    assert "replay" in text and "commit" in text
    assert design(exact_net(), "2x1,1x3", noise=NoiseOptions(0.01, 1, "abft", retries=3)).verilog() == text


@pytest.mark.parametrize("example", ["two_layer", pytest.param("digits_mlp", marks=pytest.mark.slow)])  # ~5 s
def test_budget_allocation_counts_attempt_cycles(example: str) -> None:
    """`--parallel B` with abft:R spends the budget on the stages' attempt cycles (beats, folds, pipeline, verdict):
    the smallest II, then the fewest multipliers, of every (PE, SIMD) combination (brute force) within B."""
    import itertools

    from vhls.backends.nn.plan import _divisors, _stages, plan
    from vhls.noise.golden import network

    if example == "two_layer":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from nn_nets import two_layer

        net = network(two_layer())
    else:
        from vhls import load

        net = network(load(Path(__file__).resolve().parents[2] / "examples" / "digits_mlp.py"))
    hook = NoiseOptions(None, 0, "abft", retries=2).stages
    combos = []
    for pairs in itertools.product(*[[(pe, s) for pe in _divisors(ly.n_out) for s in _divisors(ly.n_in)]
                                     for ly in net.layers]):
        st = _stages(net, pairs, hook, True)
        combos.append((max(s.cycles for s in st), sum(s.multipliers for s in st)))
    for budget in (len(net.layers), 8, 20, 64):
        got = plan(net, budget, hook, 0, True)
        key = (max(s.cycles for s in got), sum(s.multipliers for s in got))
        assert key == min(c for c in combos if c[1] <= budget), budget
    # the budget search without recompute (fold cycles only) leaves a slower recompute design at some budget
    unaware = [_stages(net, [(s.pe, s.simd) for s in plan(net, b)], hook, True) for b in (8, 20, 64)]
    aware = [plan(net, b, hook, 0, True) for b in (8, 20, 64)]
    assert any(max(s.cycles for s in a) < max(s.cycles for s in u) for a, u in zip(aware, unaware, strict=True))
