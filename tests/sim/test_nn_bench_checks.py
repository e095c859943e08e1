"""The cocotb bench (sim/nn/bench.py) catches what it claims to: a design that is only wrong after a tvalid gap or
under tready backpressure (so the stress phase must make both), an extra output beat right after the last vector,
and a design that stops making progress. Each fault is a wrapper around a correct design's Verilog (Icarus)."""

import importlib.util
import re
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "backends"))
from nn_nets import two_layer

from vhls.backends.nn import build
from vhls.ir.errors import VhlsError
from vhls.sim.nn import verify

pytestmark = pytest.mark.skipif(shutil.which("iverilog") is None or importlib.util.find_spec("cocotb") is None,
                                reason="needs Icarus Verilog and cocotb")
VECTORS, K = 24, 10  # checked vectors; throughput vectors (streamed first, back to back, no stalls)

# FAULT: "gap" inverts an input beat that follows a cycle in which the design was ready and tvalid low; "held"
# inverts the output after a cycle in which it was offered and tready was low; both only once K vectors
# went through, so only the stress phase can show them. "dup" offers the last output a second time, in the cycle
# after its handshake; "stuck" never offers an output.
WRAPPER = """
module {top}(clk, rst, s_axis_tvalid, s_axis_tready, s_axis_tdata, s_axis_tlast,
             m_axis_tvalid, m_axis_tready, m_axis_tdata, m_axis_tlast);
  input clk, rst, s_axis_tvalid, s_axis_tlast, m_axis_tready;
  input [{n_in}:0] s_axis_tdata;
  output s_axis_tready, m_axis_tvalid, m_axis_tlast;
  output [{n_out}:0] m_axis_tdata;
  wire valid;
  wire [{n_out}:0] data;
  reg gap = 0, held = 0, dup = 0;
  reg [15:0] n_in = 0, n_out = 0;
  always @(posedge clk) begin
    gap <= s_axis_tready & ~s_axis_tvalid;
    held <= m_axis_tvalid & ~m_axis_tready;
    n_in <= n_in + (s_axis_tvalid & s_axis_tready);
    n_out <= n_out + (m_axis_tvalid & m_axis_tready);
    dup <= "{fault}" == "dup" && valid && m_axis_tready && n_out == {last};
  end
  {top}_inner inner(.clk(clk), .rst(rst), .s_axis_tvalid(s_axis_tvalid), .s_axis_tready(s_axis_tready),
    .s_axis_tdata("{fault}" == "gap" && gap && n_in >= {k} ? ~s_axis_tdata : s_axis_tdata), .s_axis_tlast(s_axis_tlast),
    .m_axis_tvalid(valid), .m_axis_tready(m_axis_tready), .m_axis_tdata(data), .m_axis_tlast(m_axis_tlast));
  assign m_axis_tvalid = "{fault}" == "stuck" ? 1'b0 : valid | dup;
  assign m_axis_tdata = "{fault}" == "held" && held && n_out >= {k} ? ~data : data;
endmodule
"""


def _faulty(tmp_path: Path, fault: str) -> Path:
    out = tmp_path / fault
    build(two_layer(), out, "2x2,1x3", check=False)
    v = out / "two_layer.v"
    text = v.read_text()
    width = {m[2]: int(m[1]) for m in re.finditer(r"(?:input|output) \[(\d+):0\] ([sm]_axis_tdata);", text)}
    assert "module two_layer(" in text and set(width) == {"s_axis_tdata", "m_axis_tdata"}
    v.write_text(text.replace("module two_layer(", "module two_layer_inner(") + WRAPPER.format(
        top="two_layer", fault=fault, n_in=width["s_axis_tdata"], n_out=width["m_axis_tdata"], k=K,
        last=K + VECTORS - 1))
    return out


def _verify(folder: Path):
    return verify(folder, "icarus", vectors=VECTORS, seed=3, throughput_vectors=K, waves_on_failure=False)


@pytest.mark.parametrize("fault", ["gap", "held"])
def test_stress_phase_exercises_gaps_and_backpressure(tmp_path: Path, fault: str) -> None:
    res = _verify(_faulty(tmp_path, fault))
    assert not res.ok and res.mismatches > 0, res.summary()
    assert res.first_bad is not None and res.first_bad["phase"] == "stress"
    assert res.unexpected_beats == 0
    assert res.cycles_per_inference == res.predicted_cycles  # the throughput phase saw no fault


def test_the_wrapper_alone_is_correct(tmp_path: Path) -> None:
    res = _verify(_faulty(tmp_path, "none"))
    assert res.ok, (res.summary(), res.first_bad)


def test_extra_beat_right_after_the_last_output(tmp_path: Path) -> None:
    res = _verify(_faulty(tmp_path, "dup"))
    assert res.mismatches == 0 and res.unexpected_beats == 1 and not res.ok, res.summary()


def test_no_progress_fails_the_run(tmp_path: Path) -> None:
    with pytest.raises(VhlsError, match="produced no result") as e:
        _verify(_faulty(tmp_path, "stuck"))
    assert "no progress: 10 outputs expected" in str(e.value)
