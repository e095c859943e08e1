"""Packaging glue that pyproject.toml cannot express: the top-level folders ir/ rewrites/ backends/ sim/ install as
vhls.ir, vhls.rewrites, vhls.backends, vhls.sim, and every sub-package (a folder with __init__.py) is found
automatically, so adding one never needs an edit here."""

from pathlib import Path

from setuptools import setup

ROOTS = {"vhls": "vhls", "vhls.ir": "ir", "vhls.rewrites": "rewrites", "vhls.backends": "backends", "vhls.sim": "sim"}


def packages() -> list[str]:
    here = Path(__file__).parent
    found = []
    for package, folder in ROOTS.items():
        for init in sorted((here / folder).rglob("__init__.py")):
            found.append(".".join((package, *init.parent.relative_to(here / folder).parts)))
    return found


setup(package_dir=ROOTS, packages=packages())
