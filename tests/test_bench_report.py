"""bench/report.py: the BENCHMARKS.md generator on a small fixture (no subprocesses, no measurements)."""

import json
from pathlib import Path

import pytest
from benchmod import load_bench

ROOT = Path(__file__).resolve().parents[1]
MACHINE = {
    "cpu": "Test CPU",
    "cores": 2,
    "os": "Linux",
    "python": "3.11.7",
    "numpy": "2.0.0",
    "git_commit": "abc1234",
    "date_utc": "2026-01-01 00:00 UTC",
}


@pytest.fixture(scope="module")
def report():
    return load_bench("report")


def fixture() -> dict[str, dict]:
    base = {"mode": "quick", "machine": MACHINE}
    return {
        "run": {**base, "command": ".venv/bin/python bench/run.py --quick", "wall_seconds": 123.4},
        "interp_speed": {
            **base,
            "command": "python bench/interp_speed.py --vectors 100",
            "outer_runs": 3,
            "vectors": 100,
            "interp_ms": 1.5,
            "ref_ms": 2.0,
            "mac_per_s_m": 7,
            "vectors_per_s": 66667,
            "ratio_to_numpy": 0.75,
        },
        "nn_accelerator": {
            **base,
            "vectors": 4,
            "sim": "icarus",
            "rows": [
                {
                    "example": "jet_mlp",
                    "parallel": "68",
                    "pe_simd": [[1, 16], [1, 4]],
                    "multipliers": 68,
                    "predicted_cycles": 64,
                    "measured_cycles": 64.0,
                    "utilisation": 0.9779,
                    "predicted_latency": 269,
                    "measured_latency": 269,
                    "mismatches": 0,
                    "build_seconds": 1.5,
                    "verify_seconds": 2.5,
                    "sim_cycles_per_s": 1000,
                    "measure_command": "python -m vhls.sim.nn.measure examples/jet_mlp.py",
                    "build_command": "vhls build examples/jet_mlp.py -o x",
                    "verify_command": "vhls verify x",
                }
            ],
            "errors": [{"example": "digits_cnn", "parallel": ["seq"], "command": "measure cnn", "error": "boom"}],
        },
        "hls4ml_compare": {
            **base,
            "command": "python bench/hls4ml_compare.py --random 200",
            "hls4ml_version": "1.3.0",
            "random": 200,
            "rows": [
                {
                    "example": "jet_mlp",
                    "config": "vhls precisions",
                    "inputs": {"calibration": 1024, "random_full_range": 200},
                    "vectors": 1224,
                    "outputs_compared": 6120,
                    "outputs_differ": 0,
                    "vectors_differ": 0,
                    "outputs_differ_between_configs": 5000,
                },
                {
                    "example": "digits_mlp",
                    "config": "hls4ml defaults",
                    "inputs": {"test_set": 360, "random_full_range": 200},
                    "vectors": 560,
                    "outputs_compared": 5600,
                    "outputs_differ": 1965,
                    "vectors_differ": 200,
                    "outputs_differ_between_configs": 5500,
                    "weights_quantised_differently": {"dense1": 44, "dense2": 0},
                    "outputs_differ_if_vhls_reads_hls4ml_weight_text": 0,
                    "first_difference": {"layer": "_0", "kind": "Dense", "vector": 616, "output": 0,
                                         "vhls": -2.70703125, "hls4ml": -2.7138671875},
                },
            ],
        },
        "anneal_equal_time": {
            **base,
            "command": "python bench/anneal_bench.py equal-time G1",
            "hardware": {"arch": "sparse", "fmax_mhz": 120.5, "notes": [1]},
            "rows": [{"instance": "G1", "solver": "ssa-rtl", "mean_cut": 11500.0, "spin_updates": 800000,
                      "trace": [1, 2]}],
        },
        "cost_speed": {
            **base,
            "command": "python bench/cost_speed.py --seconds 1.0",
            "outer_runs": 3,
            "rows": [
                {
                    "example": "jet_mlp",
                    "points_per_s": 33000,
                    "runs": [32000, 33000, 34000],
                    "tilings": 820,
                    "precisions": 2,
                }
            ],
        },
        "cost_calibration_quick": {
            **base,
            "command": "python bench/cost_calibration.py --quick",
            "summary": {
                "fit": {
                    "points": 4,
                    "lut": {"mean_abs_rel_error": 0.1, "max_abs_rel_error": 0.2},
                    "ff": {"mean_abs_rel_error": 0.05, "max_abs_rel_error": 0.09},
                },
                "validation": {"points": 0, "lut": {"mean_abs_rel_error": None, "max_abs_rel_error": None}},
                "dsp_exact": True,
                "multipliers_equal_report": True,
            },
        },
        "anneal_quality": {
            **base,
            "command": "python bench/anneal_bench.py quality G1 --trials 10",
            "outer_runs": 3,
            "rows": [
                {
                    "instance": "G1",
                    "solver": "ssa-tuned",
                    "reads": 10,
                    "steps": 1000,
                    "mean_cut": 11525.5,
                    "max_cut": 11561,
                    "mean_pct": 99.15,
                    "max_pct": 99.46,
                    "ms_per_read": 19.3,
                }
            ],
        },
    }


def test_render_tables_commands_and_references(report):
    md = report.render(fixture())
    assert md.startswith("# Benchmarks\n")
    assert "**quick** run" in md and "123 s" in md and "Test CPU" in md and "numpy 2.0.0" in md
    # every measured figure sits beside its command
    for c in (
        "python bench/interp_speed.py --vectors 100",
        "python -m vhls.sim.nn.measure examples/jet_mlp.py",
        "vhls build examples/jet_mlp.py -o x",
        "python bench/cost_speed.py --seconds 1.0",
        "python bench/cost_calibration.py --quick",
        "python bench/anneal_bench.py quality G1 --trials 10",
    ):
        assert f"`{c}`" in md
    assert "| jet_mlp | 68 | 1×16, 1×4 | 68 | 64 | 64 | 97.8 % | 269 / 269 | 0 | 1.50 | 2.50 | 1,000 |" in md
    assert "| fit | 4 | 10.0 % / 20.0 % | 5.0 % / 9.0 % | not measured |" in md
    assert "| G1 | ssa-tuned | 10 | 11,525.50 | 99.15 % | 11,561 | 99.46 % | 19.30 |" in md
    # published figures with their source
    for ref in ("50 ns", "1,852", "89k", "~837k FPS", "99.75 %", "~34 ms", "DESIGN.md"):
        assert ref in md
    # no synthesis in quick mode, failed and missing networks: "not measured", never a number
    assert "not measured (quick mode skips synthesis)" in md
    assert "digits_cnn (seq): not measured" in md and "boom" in md
    assert "FINN TFC-w1a1" in md and "arXiv:1612.07119" in md and "JINST 13" in md and "Onizawa" in md


def test_finn_rows_cycles_and_hls4ml_section(report):
    res = fixture()
    res["nn_accelerator"]["rows"].append(
        {**res["nn_accelerator"]["rows"][0], "example": "finn_tfc", "parallel": "64", "multipliers": 58,
         "measured_cycles": 1024.0, "synth": {"resources": {"lut": 10}, "fmax_mhz": 50.0,
                                              "inferences_per_s_at_fmax": 48828},
         "synth_command": "vhls synth tfc"})
    md = report.render(res)
    # FINN: 837k FPS at 100 MHz is 119 cycles per image; hls4ml: 50 ns at 200 MHz is 10 cycles
    assert "| FINN TFC-w1a1 (784→64→64→64→10, 1-bit) | ~837k FPS @ 100 MHz | 119 | — (XNOR/popcount) |" in md
    assert "| hls4ml 16-bit PTQ | 50 ns | 10 |" in md
    assert "| vhls finn_tfc parallel 64 (ternary weights, 2-bit activations) | 48,828 inferences/s @ 50 MHz | " \
           "1,024 | 58 | `vhls synth tfc` |" in md
    # hls4ml comparison: counts, the first differing layer and the explanation
    jet = "| jet_mlp | vhls precisions | calibration 1024, random_full_range 200 | 6,120 | **0** (0 vectors) | — |"
    assert jet in md
    assert "**1,965** (200 vectors) | _0 (Dense) | 5,500 |" in md
    assert "dense1 44" in md and "10 fraction digits" in md
    assert "`python bench/hls4ml_compare.py --random 200`" in md
    # another annealer results file is shown as written (scalar columns), with its command
    assert "### `bench/results/anneal_equal_time.json`" in md
    assert "| G1 | ssa-rtl | 11,500 | 800,000 |" in md and "`python bench/anneal_bench.py equal-time G1`" in md
    assert "- hardware: arch=sparse, fmax_mhz=120.5\n" in md
    assert "Equal-time comparison and RTL: not measured" not in md


def test_hls4ml_skipped_and_plots(report):
    res = fixture()
    res["hls4ml_compare"] = {"command": "python bench/hls4ml_compare.py", "skipped": "hls4ml is not installed"}
    md = report.render(res, images=["img/nn_cycles.png"])
    assert "not measured: `python bench/hls4ml_compare.py` hls4ml is not installed" in md
    assert "![Cycles per inference vs multipliers" in md and "(img/nn_cycles.png)" in md
    assert "img/cost_vs_synth.png" not in md
    assert "bench/plots.py wrote no image" in report.render(res)


def test_tables_are_well_formed(report):
    md = report.render(fixture())
    lines = md.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("|---"):
            cols = line.count("|")
            j = i - 1
            while j < len(lines) and lines[j].startswith("|"):
                assert lines[j].count("|") == cols, lines[j]
                j += 1


def test_empty_results_say_not_measured(report, tmp_path):
    md = report.render({})
    assert "not measured" in md and "50 ns" in md
    (tmp_path / "interp_speed.json").write_text(json.dumps(fixture()["interp_speed"]))
    assert set(report.load_results(tmp_path)) == {"interp_speed"}


def test_synthesis_rows_and_latency_in_ns(report):
    res = fixture()
    res["run"]["mode"] = "full"
    nn = res["nn_accelerator"]
    nn["mode"] = "full"
    nn["rows"][0]["synth"] = {
        "resources": {"lut": 900, "carry": 100, "lutram": 50, "ff": 1300, "dsp": 4, "bram": 6, "io": 344},
        "fmax_mhz": 100.0,
        "inferences_per_s_at_fmax": 1562500,
    }
    nn["rows"][0]["synth_command"] = "vhls synth x --fpga ecp5-85k --freq 200"
    md = report.render(res)
    # LUT-equivalent = 900 + 2*100 + 4*50 = 1300; latency 269 cycles at 100 MHz = 2,690 ns
    assert "| jet_mlp | 68 | 1,300 | 900 | 100 | 50 | 1,300 | 4 | 6 | 344 | 100 | 1,562,500 |" in md
    # a design with too many I/O pins: yosys counts shown, no Fmax, the reason beside it
    nn["rows"].append({**nn["rows"][0], "parallel": "seq", "synth_returncode": 2, "synth_error": "io 1,192 needed",
                       "synth": {"resources": {"lut": 10, "io": 1192}, "fmax_mhz": None}})
    md = report.render(res)
    assert "| 1,192 | not placed (exit 2) | not measured |" in md and "jet_mlp seq: synth error: io 1,192 needed" in md
    assert "| vhls jet_mlp parallel 68 | 2,690 ns | 269 | 64 | 4 | 1,300 | ECP5-85k @ 100 MHz |" in md
    assert "quick mode skips synthesis" not in md


def test_plots_drawn_only_from_data(tmp_path):
    pytest.importorskip("matplotlib")
    plots = load_bench("plots")
    res = fixture()
    res["cost_calibration"] = {"points": [{"estimate": {"lut": 100, "ff": 90}, "synthesis": {"lut": 110, "ff": 95}}]}
    res["anneal_steps"] = {"rows": [{"instance": "G1", "solver": "ssa", "steps": s, "mean_pct": p}
                                    for s, p in ((100, 95.0), (1000, 99.0))]}
    names = {p.name for p in plots.draw(res, tmp_path)}
    assert names == {"nn_cycles.png", "cost_vs_synth.png", "anneal_cut_vs_steps.png"}
    assert (tmp_path / "nn_cycles.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert plots.draw({}, tmp_path) == [] and not list(tmp_path.glob("*.png"))  # no data: stale pictures removed


def test_anneal_speed_equal_quality_and_equal_time(report):
    res = fixture()
    res["anneal_quality"] = {"mode": "full", "outer_runs": 1, "command": "q", "rows": []}
    res["anneal_speed_G9"] = {
        "instance": "G9", "best_known": 1000, "reads": 10, "command": "python bench/anneal_bench.py speed G9",
        "hardware": {"arch": "baked", "n": 8, "fmax_mhz": 100.0, "cycles_per_read": "steps + 2"},
        "rows": [{"steps": 100, "ssa_mean_cut": 990.0, "cycles_per_read": 102, "hw_us_per_read": 1.02,
                  "sa_sweeps": 7, "sa_mean_cut": 991.0, "sa_us_per_read": 51.0, "speedup": 50.0},
                 {"steps": 1000, "ssa_mean_cut": 995.0, "cycles_per_read": 1002, "hw_us_per_read": 100.0}],
        "dwave_sa": {"1": {"mean_cut": 900.0, "us_per_read": 10.0}, "7": {"mean_cut": 991.0, "us_per_read": 51.0},
                     "20": {"mean_cut": 998.0, "us_per_read": 140.0}},
    }
    md = report.render(res)
    assert "G9, baked array" in md and "**100 MHz**" in md
    # equal quality from the row; equal time = the most SA sweeps measured within the hardware time
    assert "| 100 | 990.0 (99.00 %) | 102 | 1.02 | 7 | 51 | 50.0× | no SA point that fast |" in md
    assert "| 1,000 | 995.0 (99.50 %) | 1,002 | 100 | not measured | not measured | not measured | " \
           "7 sweeps: 991.0 (99.10 %) |" in md


def test_sim_speed_beside_icarus(report):
    res = fixture()
    m = "python -m vhls.sim.nn.measure examples/jet_mlp.py --parallel 68 --sim verilator --vectors 2500 --json"
    row = {"sim": "verilator", "parallel": "68", "vectors": 2500, "command": m, "sim_cycles": 160_000,
           "sim_seconds": 2.0, "sim_cpu_seconds": 1.6, "sim_cycles_per_s": 80_000, "sim_cycles_per_cpu_s": 100_000,
           "build_seconds": 25.5, "load_average": [1.5, 1.25, 1.0], "bench_cpu_seconds": 1.28}
    slow = {**row, "parallel": "seq", "sim_cycles_per_s": 40_000, "command": "slow"}
    res["sim_speed"] = {"example": "jet_mlp", "target_cycles_per_s": 50_000, "rows": [row, slow],
                        "errors": [{"sim": "icarus", "parallel": "156", "command": "ic", "error": "no iverilog"}]}
    md = report.render(res)
    assert "## cocotb simulation speed (jet MLP)" in md and "≥ 50,000 simulated cycles/s" in md
    figures = "2,500 | 160,000 | 25.50 | 2.00 | {} | 1.60 | 100,000 | 125,000 | 1.50 / 1.25 / 1.00"
    assert f"| verilator | 68 | {figures.format('80,000')} | yes | `{m}` |" in md
    assert f"| verilator | seq | {figures.format('40,000')} | no | `slow` |" in md
    # the Icarus figure of the NN table (jet_mlp 68) sits beside it, with its own command
    assert "| icarus (NN table) | 68 | not measured | not measured | not measured | not measured | 1,000 | " \
           "not measured | not measured | not measured | not measured | — |" in md
    assert "`python -m vhls.sim.nn.measure examples/jet_mlp.py` |" in md
    assert "- icarus 156: not measured — `ic` failed: no iverilog" in md
    res.pop("sim_speed")
    assert "## cocotb simulation speed (jet MLP)\n\nnot measured (full run only)" in report.render(res)
