"""`vhls opt`: the subcommand module (registered in vhls/cli.py as ("opt", "vhls.rewrites.opt_cli"))."""

import argparse
from pathlib import Path

import pytest

from vhls.ir.errors import VhlsError
from vhls.ir.parser import parse
from vhls.ir.printer import print_program
from vhls.rewrites import known, opt_cli

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def opt(*argv: str) -> int:
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command")
    opt_cli.add_parser(sub)
    return opt_cli.run(p.parse_args(["opt", *argv]))


def test_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert opt("--list") == 0
    out = capsys.readouterr().out
    for r in known().values():
        assert r.signature() in out
        assert ("approx" if not r.exact else "exact") in out
    assert "bound:" in out


def test_rewrites_and_prints(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "m.vhls"
    src.write_text("def m(x: [4]fixed<8,4>) =\n  let h = map(fun v => neg(v), x) in\n  map(fun v => add(v, v), h)\n")
    assert opt(str(src), "-p", "split_map(2), map_par ,insert_fifo(3)", "--verify") == 0
    out, err = capsys.readouterr()
    assert out == ("def m(x: [4]fixed<8,4>) =\n"
                   "  let h = fifo<3>(join(mapPar(fun c => mapPar(fun v => neg(v), c), split<2>(x)))) in\n"
                   "  join(mapPar(fun c => mapPar(fun v => add(v, v), c), split<2>(h)))\n")
    assert parse(out) and print_program(parse(out)) == out
    assert "split_map(2): 2 rewrite(s)" in err and "bit-exact" in err


def test_example_model(capsys: pytest.CaptureFixture[str]) -> None:
    assert opt(str(EXAMPLES / "jet_mlp.py"), "-p", "narrow_acc,reduce_tree") == 0
    out = capsys.readouterr().out
    assert out.startswith("def jet_mlp(") and "reduceTree" in out and "fixed<37,17>" not in out


def test_unknown_rule_lists_known_ones() -> None:
    with pytest.raises(VhlsError, match=r"unknown rule `tiling`; known rules: .*split_map"):
        opt(str(EXAMPLES / "jet_mlp.py"), "-p", "tiling")


@pytest.mark.parametrize(("passes", "msg"), [("split_map(x)", "must be integers"), ("a b", "bad rule list"),
                                              ("split_map", "needs its argument `k`"), (",", "bad rule list")])
def test_bad_pipelines(passes: str, msg: str) -> None:
    with pytest.raises(VhlsError, match=msg):
        opt(str(EXAMPLES / "jet_mlp.py"), "-p", passes)


def test_missing_arguments() -> None:
    with pytest.raises(VhlsError, match="needs a model"):
        opt("-p", "map_par")
    with pytest.raises(VhlsError, match="needs -p"):
        opt(str(EXAMPLES / "jet_mlp.py"))


def test_registered_in_vhls_cli(capsys: pytest.CaptureFixture[str]) -> None:
    from vhls import cli

    _, commands = cli.parser()
    if "opt" not in commands:
        pytest.skip("vhls opt is not registered in vhls/cli.py yet")
    assert cli.main(["opt", "--list"]) == 0
    assert cli.main(["opt", str(EXAMPLES / "jet_mlp.py"), "-p", "nope"]) == 2
    assert "unknown rule `nope`" in capsys.readouterr().err


def test_lower_prints_the_hardware_tiling(capsys: pytest.CaptureFixture[str]) -> None:
    from vhls.rewrites.lower_hw import read_plan

    assert opt(str(EXAMPLES / "jet_mlp.py"), "-p", "narrow_acc", "--lower", "2x4,4x8,1x16,5x2", "--verify") == 0
    out, err = capsys.readouterr()
    assert read_plan(parse(out)) == [(2, 4), (4, 8), (1, 16), (5, 2)]
    assert "PE x SIMD 2x4,4x8,1x16,5x2" in err and "(bit-exact)" in err
