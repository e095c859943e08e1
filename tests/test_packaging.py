"""Packaging: one distribution `vhls`; the top-level folders ship only as `vhls.*` subpackages.

Both the editable install (the venv the Makefile builds) and a wheel are checked, from a folder other than the
repo so the current directory on sys.path cannot hide a packaging mistake.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# Source folder -> package it becomes; mirrors ROOTS in setup.py.
PACKAGE_DIRS = {
    "vhls": "vhls",
    "ir": "vhls.ir",
    "rewrites": "vhls.rewrites",
    "backends": "vhls.backends",
    "sim": "vhls.sim",
}
# Generic names that must never become importable top-level modules.
STRAY_NAMES = ("ir", "rewrites", "backends", "sim")
# Files the wheel must carry for every source file of these kinds.
SHIPPED_SUFFIXES = (".py", ".lark")

PROBE = f"""
import importlib.util, json
import vhls, vhls.ir, vhls.rewrites, vhls.backends, vhls.sim
stray = {{}}
for name in {STRAY_NAMES!r}:
    spec = importlib.util.find_spec(name)
    if spec is not None:
        stray[name] = str(spec.origin or list(spec.submodule_search_locations or []))
print(json.dumps({{"stray": stray, "ir_file": vhls.ir.__file__}}))
"""


def _probe(cwd: Path, pythonpath: Path | None = None) -> dict[str, object]:
    """Import the packages in a fresh interpreter running in `cwd`; report stray top-level names."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # only what is installed (or passed here) may count
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert out.returncode == 0, f"import failed:\n{out.stderr}"
    return json.loads(out.stdout.strip().splitlines()[-1])


def _build_wheel(tmp_path: Path) -> Path:
    """Build a wheel from a copy of the sources, leaving the repo's build/ and egg-info alone."""
    src = tmp_path / "src"
    src.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "sim_build")
    for folder in PACKAGE_DIRS:
        shutil.copytree(REPO / folder, src / folder, ignore=ignore)
    for name in ("pyproject.toml", "README.md", "LICENSE", "setup.py", "MANIFEST.in"):
        if (REPO / name).exists():
            shutil.copy2(REPO / name, src / name)
    dist = tmp_path / "dist"
    out = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(src)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert out.returncode == 0, f"wheel build failed:\n{out.stdout[-4000:]}\n{out.stderr[-4000:]}"
    wheels = list(dist.glob("vhls-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_editable_install_has_only_vhls_packages(tmp_path: Path) -> None:
    result = _probe(cwd=tmp_path)
    assert result["stray"] == {}, f"generic top-level modules are importable: {result['stray']}"


def test_wheel_contains_subpackages_and_no_top_level_folders(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path)
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path / "site")  # a pure-Python wheel installs by unpacking

    top_level = {name.split("/", 1)[0] for name in names}
    dist_info = {t for t in top_level if t.startswith("vhls-") and t.endswith(".dist-info")}
    unexpected = top_level - {"vhls"} - dist_info
    assert not unexpected, f"unexpected top-level entries in the wheel: {sorted(unexpected)}"
    for pkg in PACKAGE_DIRS.values():
        assert f"{pkg.replace('.', '/')}/__init__.py" in names, f"{pkg} missing from the wheel"

    # Every source file must ship; a new sub-folder must be added to [tool.setuptools] packages.
    missing = []
    for folder, pkg in PACKAGE_DIRS.items():
        for path in sorted((REPO / folder).rglob("*")):
            if path.suffix not in SHIPPED_SUFFIXES or "__pycache__" in path.parts:
                continue
            rel = path.relative_to(REPO / folder).as_posix()
            if f"{pkg.replace('.', '/')}/{rel}" not in names:
                missing.append(f"{folder}/{rel}")
    assert not missing, f"not in the wheel (a folder without __init__.py?): {missing}"

    # The unpacked wheel comes first on sys.path (the editable finder sits after the path finder).
    site = tmp_path / "site"
    result = _probe(cwd=tmp_path, pythonpath=site)
    assert result["stray"] == {}, f"generic top-level modules are importable: {result['stray']}"
    assert Path(str(result["ir_file"])).is_relative_to(site), result["ir_file"]
