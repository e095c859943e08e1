"""Compiler wrapper for Verilator's makefiles (their OBJCACHE prefix, as ccache would be): `python THIS c++ ARGS`.

Verilator's run-time library (verilated.cpp, verilated_vpi.cpp, ...) is compiled again for every model although it
is the same each time: about half of the C++ compile of a small design. An object compiled from a source under
$VERILATOR_ROOT/include is kept in a cache keyed by the whole command line, the compiler's identity and the
source's size and modification time, and copied back next time; anything else (the model, cocotb's main) is
compiled as usual. Standalone (runs by path, imports nothing of vhls): it starts once per compiled file.
Cache: $VHLS_VERILATOR_CACHE, else $XDG_CACHE_HOME/vhls/verilator-objects (~/.cache by default).
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path


def cache_dir() -> Path:
    env = os.environ.get("VHLS_VERILATOR_CACHE")
    if env:
        return Path(env)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "vhls" / "verilator-objects"


def _runtime_source(cmd: list[str]) -> Path | None:
    """The source file when `cmd` compiles one file of Verilator's run-time library to an object, else None."""
    root = os.environ.get("VERILATOR_ROOT")
    if not root or "-c" not in cmd or "-o" not in cmd:
        return None
    srcs = [a for a in cmd if a.endswith((".cpp", ".cc"))]
    if len(srcs) != 1:
        return None
    src = Path(srcs[0]).resolve()
    return src if src.is_relative_to(Path(root, "include").resolve()) and src.is_file() else None


def _key(cmd: list[str], src: Path) -> str:
    """The command line (flags, defines, -O level: the model's folder is only `-I.`), the compiler behind
    cmd[0] and the source, by size and modification time (headers come from the same installed package)."""
    cc = shutil.which(cmd[0])
    real = os.path.realpath(cc) if cc else cmd[0]
    st = os.stat(real) if cc else None
    ident = [cmd, real, st and [st.st_size, st.st_mtime_ns], str(src), os.stat(src).st_size, os.stat(src).st_mtime_ns]
    return hashlib.sha256(json.dumps(ident).encode()).hexdigest()[:32]


def _store(src: Path, dst: Path) -> None:
    """Copy atomically (another build may read or write the same entry)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=dst.name + ".")
    os.close(fd)
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main(cmd: list[str]) -> int:
    if not cmd:
        print("usage: verilator_objcache.py COMPILER ARGS...", file=sys.stderr)
        return 2
    src = _runtime_source(cmd)
    if src is None:
        return subprocess.call(cmd)
    out = Path(cmd[cmd.index("-o") + 1])
    dep = out.with_suffix(".d")  # -MMD writes it beside the object
    entry = cache_dir() / _key(cmd, src)
    if entry.with_suffix(".o").is_file():
        shutil.copyfile(entry.with_suffix(".o"), out)  # a fresh mtime: newer than its sources for make
        if entry.with_suffix(".d").is_file() and "-MMD" in cmd:
            shutil.copyfile(entry.with_suffix(".d"), dep)
        return 0
    rc = subprocess.call(cmd)
    if rc == 0 and out.is_file():
        try:
            if dep.is_file():
                _store(dep, entry.with_suffix(".d"))
            _store(out, entry.with_suffix(".o"))  # last: an entry's .o means it is complete
        except OSError:
            pass  # a read-only or full cache only costs the next compile
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
