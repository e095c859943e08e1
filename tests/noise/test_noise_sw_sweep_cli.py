"""`vhls noise-sweep` end to end on a tiny model file and on examples/digits_mlp.py (one level), and its errors."""

import json
from pathlib import Path

import numpy as np
import pytest

from vhls.cli import main

REPO = Path(__file__).resolve().parents[2]

TINY = '''
import numpy as np
from vhls.layers import Dense, Input, ReLU, Sequential

rng = np.random.default_rng(2)
w1, b1, w2, b2 = rng.normal(0, 0.5, (12, 10)), rng.normal(0, 0.1, 12), rng.normal(0, 0.5, (4, 12)), np.zeros(4)

def build(scale, name):
    return Sequential(Input((10,), "fixed<16,6>"), Dense(12, w1 * scale, b1), ReLU(), Dense(4, w2, b2), name=name)

model = build(1.0, "tiny")
variants = {"plain": model, "scaled": build(0.9, "tiny_scaled")}
x = rng.uniform(-1, 1, (120, 10))
test_set = (x, np.argmax(model.run(x), axis=1))  # labels = the clean prediction: clean accuracy is 100 %
calibration = x
'''


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.py"
    p.write_text(TINY)
    return p


def test_sweep_json_plot_and_determinism(tiny: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "out.json"
    args = ["noise-sweep", str(tiny), "--noise", "acc_ber", "--levels", "0,0.003,0.03", "--seed", "4",
            "--json", str(out), "--plot", str(tmp_path / "out.png")]
    assert main(args) == 0
    assert "tiny (plain)" in capsys.readouterr().out
    r = json.loads(out.read_text())
    assert r["command"].startswith("vhls noise-sweep ") and "--noise acc_ber" in r["command"]
    assert r["levels"] == [0.0, 0.003, 0.03] and r["test_vectors"] == 120 and r["seeds"] == [4]
    assert set(r["variants"]) == {"plain", "scaled"}
    assert r["variants"]["plain"]["clean"] == 1.0
    for res in r["variants"].values():
        assert set(res["accuracy"]) == {"none", "tmr", "ant", "abft"}
        for scheme, accs in res["accuracy"].items():
            assert len(accs) == 3 and accs[0] == res["clean"], scheme  # level 0 is the clean golden model
            assert res["events"][scheme][0] == 0
    plain = r["variants"]["plain"]
    assert plain["accuracy"]["none"][2] < 1.0  # 3 % of accumulator bits flipped costs accuracy
    assert plain["events"]["abft"][2] > 0 and plain["accuracy"]["abft"][2] == 1.0  # transient: recompute fixes
    assert (tmp_path / "out.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the same command gives the same results
    again = tmp_path / "again.json"
    assert main([*args[:-4], "--json", str(again)]) == 0
    assert json.loads(again.read_text())["variants"] == r["variants"]


def test_repeats_average_over_consecutive_seeds(tiny: Path, tmp_path: Path) -> None:
    def run(seed: int, repeats: int) -> dict:
        out = tmp_path / f"r{seed}_{repeats}.json"
        assert main(["noise-sweep", str(tiny), "--noise", "gaussian", "--levels", "0.2", "--schemes", "none",
                     "--variants", "plain", "--seed", str(seed), "--repeats", str(repeats), "--json", str(out)]) == 0
        return json.loads(out.read_text())

    both = run(7, 2)
    assert both["seeds"] == [7, 8]
    runs = both["variants"]["plain"]["accuracy_runs"]["none"][0]
    assert runs == [run(7, 1)["variants"]["plain"]["accuracy"]["none"][0],
                    run(8, 1)["variants"]["plain"]["accuracy"]["none"][0]]
    assert both["variants"]["plain"]["accuracy"]["none"][0] == pytest.approx(sum(runs) / 2)


def test_sweep_ant_is_the_builds_ant(tiny: Path, tmp_path: Path) -> None:
    """The sweep's `ant` uses the thresholds `vhls build --tolerance ant:BITS[:THRESH]` puts into the RTL."""
    from vhls import load
    from vhls.backends.nn import design
    from vhls.backends.nn.protect import NoiseOptions
    from vhls.noise.tolerance import ant_threshold

    model = load(tiny)
    for thresh in ("cal", "worst", "7"):
        out = tmp_path / f"a_{thresh}.json"
        assert main(["noise-sweep", str(tiny), "--noise", "acc_ber", "--levels", "0.01", "--schemes", "ant",
                     "--variants", "plain", "--ant-bits", "6", "--ant-threshold", thresh, "--json", str(out)]) == 0
        r = json.loads(out.read_text())
        assert r["ant_threshold"] == thresh and f"--ant-threshold {thresh}" in r["command"]
        built = design(model, "seq", noise=NoiseOptions(0.01, 0, "ant", 6, thresh)).noise
        assert built is not None and r["variants"]["plain"]["ant_thresholds"] == list(built.thresholds)
    net = design(model, "seq", noise=NoiseOptions(0.01, 0, "ant", 6, "7")).net  # declared weight types, as ANT uses
    assert list(built.thresholds) == [7, 7]
    worst = json.loads((tmp_path / "a_worst.json").read_text())["variants"]["plain"]
    cal = json.loads((tmp_path / "a_cal.json").read_text())["variants"]["plain"]
    assert worst["ant_thresholds"] == [ant_threshold(ly, 6) for ly in net.layers]
    assert all(c < w for c, w in zip(cal["ant_thresholds"], worst["ant_thresholds"], strict=True))
    assert cal["events"]["ant"][0] > worst["events"]["ant"][0]  # the calibrated threshold catches more faults


def test_persistent_faults_are_only_flagged_by_abft(tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "w.json"
    assert main(["noise-sweep", str(tiny), "--noise", "weight_ber", "--levels", "0.05", "--schemes", "none,abft",
                 "--variants", "plain", "--json", str(out)]) == 0
    res = json.loads(out.read_text())["variants"]["plain"]
    assert res["events"]["abft"][0] > 0
    assert res["accuracy"]["abft"] == res["accuracy"]["none"]  # a re-execution would meet the same faults


def test_digits_mlp_variants_clean_accuracy_is_the_golden_models(tmp_path: Path) -> None:
    from vhls import load

    out = tmp_path / "d.json"
    assert main(["noise-sweep", str(REPO / "examples" / "digits_mlp.py"), "--noise", "gaussian", "--levels", "0",
                 "--schemes", "none", "--json", str(out)]) == 0
    r = json.loads(out.read_text())
    assert set(r["variants"]) == {"plain", "noise", "sam"} and r["test_vectors"] == 360
    model = load(REPO / "examples" / "digits_mlp.py")
    x, y = model.test_set
    want = float(np.mean(np.argmax(model.run(x), axis=1) == y))
    assert r["variants"]["plain"]["clean"] == want == r["variants"]["plain"]["accuracy"]["none"][0]


@pytest.mark.parametrize(("extra", "match"), [
    (["--noise", "thermal"], "unknown noise model 'thermal'"),
    (["--levels", ","], "no noise levels"),
    (["--levels", "a,b"], "--levels must be comma-separated numbers"),
    (["--schemes", "ecc"], "unknown tolerance scheme 'ecc'"),
    (["--variants", "sam"], "unknown weights variant sam"),
    (["--noise", "acc_ber", "--levels", "2"], "probability"),
    (["--noise", "vos", "--levels", "1.5"], "Vdd"),
    (["--repeats", "0"], "--repeats must be at least 1"),
    (["--ant-threshold", "low"], "ant threshold 'low'"),
    (["--ant-threshold", "1,2,3"], "one per layer (2)"),
])
def test_bad_requests_are_one_line_errors(tiny: Path, capsys, extra: list[str], match: str) -> None:
    assert main(["noise-sweep", str(tiny), *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("vhls: error: ") and match in err and err.count("\n") == 1, err


def test_model_without_labels(tmp_path: Path, capsys) -> None:
    p = tmp_path / "nolabels.py"
    p.write_text(TINY.replace("test_set = ", "_unused = "))
    assert main(["noise-sweep", str(p)]) == 2
    err = capsys.readouterr().err
    assert "needs labelled data" in err and err.count("\n") == 1
