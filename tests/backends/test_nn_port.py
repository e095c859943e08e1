"""Narrow top-level ports (backends/nn/port.py): framing, option errors, the report's II / latency / pins, budget
allocation, the default interface unchanged, and a misframed vector dropped by the whole design."""

import random
import sys
from pathlib import Path

import pytest
from amaranth.sim import Simulator

sys.path.insert(0, str(Path(__file__).resolve().parent))
from nn_nets import two_layer

from vhls.backends.nn import design
from vhls.backends.nn.emit import INTERFACE, golden, make_vectors, pack_rows
from vhls.backends.nn.port import Framing, ports
from vhls.ir.errors import VhlsError
from vhls.ir.types import fixed


def test_framing_packs_whole_elements() -> None:
    p = ports(20, 5, fixed(6, 2), 3, fixed(16, 6))
    assert p is not None
    assert (p.i.per_beat, p.i.beats, p.i.tdata_bits) == (3, 2, 18)  # 3 elements of 6 bits; 20 bits would split one
    assert (p.o.per_beat, p.o.beats, p.o.tdata_bits) == (1, 3, 16)
    assert p.beats == 3 and p.latency == 2 + 2 + 1  # + the serialiser's holding register (3 output beats)
    assert ports(None, 5, fixed(6, 2), 3, fixed(16, 6)) is None
    wide = ports(1000, 5, fixed(6, 2), 3, fixed(16, 6))
    assert wide is not None and wide.i == Framing(5, 6, 5) and wide.o.beats == 1  # never wider than the vector


@pytest.mark.parametrize(("bits", "message"), [
    (7, "--port-width 7 is narrower than one input element (fixed<8,3>, 8 bits)"),
    (0, "--port-width must be a positive number of bits, got 0"),
])
def test_bad_port_width_is_one_line_error(bits: int, message: str) -> None:
    with pytest.raises(VhlsError) as e:
        design(two_layer(), "2x2,1x3", port_width=bits)
    assert str(e.value) == message


def test_output_element_wider_than_port() -> None:
    with pytest.raises(VhlsError, match="narrower than one output element"):
        ports(8, 4, fixed(8, 3), 2, fixed(12, 4))


def test_report_ii_latency_and_pins() -> None:
    wide = design(two_layer(), "6x8,4x6").report()
    narrow = design(two_layer(), "6x8,4x6", port_width=8).report()  # 8 input beats, 4 output beats
    assert wide["total"]["predicted_cycles_per_inference"] == 1  # fully parallel MAC stages
    assert narrow["total"]["predicted_cycles_per_inference"] == 8  # the input beats bound it
    assert narrow["total"]["latency"] == wide["total"]["latency"] + 8 + 2 + 1  # 4 output beats: holding register
    assert wide["pins"] == 8 * 8 + 4 * 6 + 6 + 2 and wide["port_width"] is None
    assert narrow["pins"] == 8 + 6 + 6 + 1 + 2 and narrow["port_width"] == 8  # + s_axis_error
    assert narrow["input"]["beats"] == 8 and narrow["output"]["tdata_bits"] == 6


def test_budget_is_not_spent_below_the_port_floor() -> None:
    """Eight beats per vector: a budget of 48 buys nothing faster than II 8, so the cheapest II-8 design."""
    d = design(two_layer(), 48, port_width=8)
    tot = d.report()["total"]
    assert tot["predicted_cycles_per_inference"] == 8 and tot["multipliers"] == 8 * 6 // 8 + 6 * 4 // 8
    assert design(two_layer(), 48).report()["total"]["predicted_cycles_per_inference"] < 8


def test_default_interface_is_unchanged() -> None:
    d = design(two_layer(), "2x2,1x3")
    assert d.ports is None
    text = d.verilog()
    assert "input [63:0] s_axis_tdata;" in text and "output [23:0] m_axis_tdata;" in text
    assert "s_axis_error" not in text and "serialise" not in text and "assign m_axis_tlast = 1'h1;" in text
    assert d.report()["interface"] == INTERFACE
    narrow = design(two_layer(), "2x2,1x3", port_width=16).verilog()
    assert "input [15:0] s_axis_tdata;" in narrow and "output s_axis_error;" in narrow


def test_misframed_vectors_are_dropped_by_the_design() -> None:
    """The whole top level: a short and a long packet between good vectors; only the good ones are computed,
    each bit-exact, and s_axis_error rises and stays up."""
    d = design(two_layer(), "2x2,1x3", port_width=16)  # 4 input beats of 2 elements, 2 output beats
    p = d.ports
    assert p is not None
    raw = make_vectors(d, 3, seed=7)
    words = [int(w, 16) for w in pack_rows(raw, d.net.in_type)]
    want = [int(w, 16) for w in pack_rows(golden(d, raw), d.net.out_type)]
    mask = (1 << p.i.tdata_bits) - 1

    def beats(w: int) -> list[tuple[int, int]]:
        return [((w >> (k * p.i.tdata_bits)) & mask, int(k == p.i.beats - 1)) for k in range(p.i.beats)]

    stream = beats(words[0]) + [(1, 0), (2, 1)] + beats(words[1]) + [(3, 0)] * 5 + [(4, 1)] + beats(words[2])
    top = d.top()
    rng = random.Random(3)
    got: list[tuple[int, int]] = []
    error: list[int] = []

    async def bench(ctx) -> None:
        sent, valid = 0, False
        for _ in range(600):
            valid = valid or (sent < len(stream) and rng.random() < 0.7)
            ready = rng.random() < 0.7
            data, last = stream[sent] if valid else (0, 0)
            ctx.set(top.s_axis_tvalid, int(valid))
            ctx.set(top.s_axis_tdata, data)
            ctx.set(top.s_axis_tlast, last)
            ctx.set(top.m_axis_tready, int(ready))
            taken, o_valid = ctx.get(top.s_axis_tready), ctx.get(top.m_axis_tvalid)
            beat = (ctx.get(top.m_axis_tdata), ctx.get(top.m_axis_tlast))
            await ctx.tick()
            error.append(ctx.get(top.s_axis_error))
            if valid and taken:
                sent, valid = sent + 1, False
            if ready and o_valid:
                got.append(beat)

    sim = Simulator(top)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert len(got) == 3 * p.o.beats and [last for _, last in got] == [0, 1] * 3
    words_out = [got[k][0] | got[k + 1][0] << p.o.tdata_bits for k in range(0, len(got), 2)]
    assert words_out == want
    first = error.index(1)
    assert first > 0 and all(error[first:])


def test_command_line_refuses_a_port_narrower_than_an_element(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    from vhls.cli import main

    assert main(["build", "examples/jet_mlp.py", "-o", str(tmp_path / "x"), "--port-width", "12"]) == 2
    err = capsys.readouterr().err
    assert err == "vhls: error: --port-width 12 is narrower than one input element (fixed<16,6>, 16 bits)\n"
    assert not (tmp_path / "x").exists()
