"""The command line: one-line errors with exit 2, show/run on model files, atomic outputs."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from vhls.cli import main

KERNEL = """
import numpy as np
from vhls.kernel import array, const, dot, fixed, kernel, vmap
W = const(np.eye(4)[:3] * 0.5, fixed(8, 3))
model = kernel(lambda x: vmap(lambda w: dot(w, x, fixed(20, 10)).cast(fixed(8, 3), "RND", "SAT"), W),
               x=array(fixed(8, 3), 4), name="half")
"""


@pytest.fixture
def model_file(tmp_path: Path) -> Path:
    p = tmp_path / "half.py"
    p.write_text(KERNEL)
    return p


def run_cli(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc = main(list(args))
    out, err = capsys.readouterr()
    return rc, out, err


def test_show_prints_ir_and_types(model_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run_cli("show", str(model_file), capsys=capsys)
    assert rc == 0
    assert out.startswith("def half(x: [4]fixed<8,3>) =")
    assert "output [3]fixed<8,3>" in out


def test_run_writes_npy(model_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    np.save(tmp_path / "x.npy", np.array([[1.0, 2.0, -3.0, 0.5]]))
    rc, _, _ = run_cli("run", str(model_file), "--input", str(tmp_path / "x.npy"), "--output",
                       str(tmp_path / "y.npy"), capsys=capsys)
    assert rc == 0
    assert np.array_equal(np.load(tmp_path / "y.npy"), [[0.5, 1.0, -1.5]])


@pytest.mark.parametrize(("args", "message"), [
    (["show", "missing.py"], "missing.py: no such model file"),
    (["show", "README.md"], "README.md: a model is a Python file"),
    (["run", "{model}", "--input", "nope.npy"], "nope.npy: no such input file"),
    (["run", "{model}", "--input", "{bad_shape}"], "does not fit model `half`"),
])
def test_user_errors_are_one_line_exit_2(args: list[str], message: str, model_file: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.npy"
    np.save(bad, np.zeros((2, 5)))
    args = [a.format(model=model_file, bad_shape=bad) for a in args]
    rc, _, err = run_cli(*args, capsys=capsys)
    assert rc == 2
    assert err.startswith("vhls: error: ") and message in err and err.count("\n") == 1
    assert "Traceback" not in err


def test_model_file_errors_name_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = {
        "syntax.py": ("x = (\n", "syntax.py:1: syntax error"),
        "raises.py": ("a = 1\nraise RuntimeError('boom')\n", "raises.py:2: RuntimeError: boom"),
        "nomodel.py": ("x = 1\n", "defines no `model`"),
        "wrong.py": ("model = 3\n", "`model` must be a vhls Model"),
        "dsl.py": ("from vhls.kernel import kernel, array, fixed, vmap\n"
                   "model = kernel(lambda x: vmap(lambda v: v * 2, x), x=array(fixed(8, 3), 4))\n",
                   "dsl.py:2: cannot combine an IR expression with Python value 2"),
    }
    for name, (src, message) in cases.items():
        (tmp_path / name).write_text(src)
        rc, _, err = run_cli("show", str(tmp_path / name), capsys=capsys)
        assert rc == 2, name
        assert message in err, (name, err)


def test_console_script_and_help() -> None:
    done = subprocess.run([sys.executable, "-m", "vhls", "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    for command in ("show", "run", "demo"):
        assert command in done.stdout


EXAMPLES = sorted(
    p for p in (Path(__file__).parent.parent / "examples").glob("*.py") if not p.stem.startswith("train_")
)


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_show_every_example(example: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = run_cli("show", str(example), capsys=capsys)
    assert rc == 0, err
    assert out.startswith(f"def {example.stem}(")
    assert "MACs per inference" in out


def test_ir_text_files_show_and_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from vhls.loader import load

    text = load("examples/jet_mlp.py").text()
    (tmp_path / "jet.vhls").write_text(text)
    rc, out, _ = run_cli("show", str(tmp_path / "jet.vhls"), capsys=capsys)
    assert rc == 0 and out.startswith(text)
    np.save(tmp_path / "x.npy", np.linspace(-2, 2, 32).reshape(2, 16))
    rc, _, _ = run_cli("run", str(tmp_path / "jet.vhls"), "--input", str(tmp_path / "x.npy"), "--output",
                       str(tmp_path / "y.npy"), capsys=capsys)
    assert rc == 0
    assert np.array_equal(np.load(tmp_path / "y.npy"), load("examples/jet_mlp.py").run(np.load(tmp_path / "x.npy")))


def test_malformed_ir_text_names_line_and_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.vhls"
    bad.write_text("def f(x: [4]fixed<8,3>) =\n  map(fun v => add(v v), x)\n")
    rc, _, err = run_cli("show", str(bad), capsys=capsys)
    assert rc == 2
    assert f"{bad}:2:" in err and err.count("\n") == 1
