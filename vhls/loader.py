"""`load(path)`: a model file (Python defining `model`, optionally `calibration` and `test_set`) or IR text (.vhls)."""

import importlib.util
import sys
import traceback
from pathlib import Path

import numpy as np

from vhls.ir.errors import VhlsError
from vhls.model import Model


def load(path: str | Path) -> Model:
    p = Path(path)
    if not p.is_file():
        raise VhlsError("no such model file", str(path))
    if p.suffix == ".vhls":
        return _load_ir(p)
    if p.suffix != ".py":
        raise VhlsError("a model is a Python file (.py) defining `model`, or IR text (.vhls)", str(path))
    return _load_python(p)


def _load_ir(p: Path) -> Model:
    from vhls.ir.parser import parse

    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise VhlsError(f"not UTF-8 text ({e.reason} at byte {e.start})", str(p)) from None
    return Model(parse(text, source=str(p)), source=str(p))


def _load_python(p: Path) -> Model:
    name = "vhls_model_" + "".join(c if c.isalnum() else "_" for c in p.stem)
    spec = importlib.util.spec_from_file_location(name, p)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    folder = str(p.resolve().parent)
    sys.path.insert(0, folder)  # model files may import helpers next to them
    try:
        spec.loader.exec_module(module)
    except VhlsError as e:
        line = _line_in(p, e)
        raise VhlsError(e.what, e.where or (f"{p}:{line}" if line else str(p))) from e
    except SyntaxError as e:
        raise VhlsError(f"syntax error: {e.msg}", f"{p}:{e.lineno}") from None
    except Exception as e:
        line = _line_in(p, e)
        raise VhlsError(f"{type(e).__name__}: {e}", f"{p}:{line}" if line else str(p)) from e
    finally:
        sys.path.remove(folder)
    model = getattr(module, "model", None)
    if model is None:
        raise VhlsError("the model file defines no `model`", str(p))
    if not isinstance(model, Model):
        raise VhlsError(f"`model` must be a vhls Model (from Sequential, kernel or from_torch), "
                        f"got {type(model).__name__}", str(p))
    model.source = str(p)
    if getattr(module, "calibration", None) is not None:
        model.calibration = np.asarray(module.calibration)
    test_set = getattr(module, "test_set", None)
    if test_set is not None:
        if not (isinstance(test_set, tuple) and len(test_set) == 2):
            raise VhlsError("`test_set` must be a pair (inputs, labels)", str(p))
        model.test_set = (np.asarray(test_set[0]), np.asarray(test_set[1]))
    return model


def _line_in(p: Path, e: BaseException) -> int | None:
    """The innermost traceback line inside the model file itself."""
    lines = [f.lineno for f in traceback.extract_tb(e.__traceback__) if Path(f.filename) == p]
    return lines[-1] if lines else None
