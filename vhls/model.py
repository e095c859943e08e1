"""`Model`: what every front door (DSL, kernel combinators, torch import, model files) produces.

A model is an IR program (`ir`, exact fixed point: the golden model) plus an optional float reference program
(`float_ir`, built from unquantised weights) and per-layer facts for reports.
"""

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from vhls.ir import numerics as fx
from vhls.ir.analysis import op_counts
from vhls.ir.check import Typing, check
from vhls.ir.errors import VhlsError
from vhls.ir.floating import to_float
from vhls.ir.interp import decode, encode, evaluate
from vhls.ir.printer import print_program
from vhls.ir.terms import Program
from vhls.ir.types import Type, scalar_of, shape_of


@dataclass(frozen=True)
class LayerInfo:
    """One row of `vhls show`: a layer's kind, output shape, work and parameters."""

    name: str
    kind: str
    out_shape: tuple[int, ...]
    macs: int
    params: int
    precision: str = ""


@dataclass
class Model:
    ir: Program
    float_ir: Program | None = None
    layers: list[LayerInfo] = field(default_factory=list)
    input_modes: tuple[str, str] = ("RND", "SAT")  # how real inputs become fixed point: round to nearest, clamp
    calibration: np.ndarray | None = None
    test_set: tuple[np.ndarray, np.ndarray] | None = None
    source: str | None = None
    _typed: tuple[Program, Typing] | None = field(default=None, repr=False, compare=False)
    _float_typed: tuple[Program, Typing] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.ir.params) != 1:
            raise VhlsError(f"a model takes exactly one input, `{self.ir.name}` takes {len(self.ir.params)}")
        self._typed = check(self.ir)
        if self.float_ir is None:
            self.float_ir = to_float(self.ir)
        self._float_typed = check(self.float_ir)

    # ------------------------------------------------------------------------------------------ facts
    @property
    def name(self) -> str:
        return self.ir.name

    @property
    def input_type(self) -> Type:
        t = self.ir.params[0].type
        assert t is not None
        return t

    @property
    def output_type(self) -> Type:
        assert self._typed is not None
        q, typing = self._typed
        return typing[q.body]

    @property
    def input_shape(self) -> tuple[int, ...]:
        return shape_of(self.input_type)

    @property
    def output_shape(self) -> tuple[int, ...]:
        return shape_of(self.output_type)

    def text(self) -> str:
        return print_program(self.ir)

    def macs(self) -> int:
        return op_counts(self.ir)["mul"]

    # ------------------------------------------------------------------------------------------ running
    def _batched(self, x: Any) -> tuple[np.ndarray, bool]:
        a = np.asarray(x)
        if a.shape == self.input_shape:
            return a[None], True
        if a.shape[1:] != self.input_shape:
            raise VhlsError(f"input of shape {a.shape} does not fit model `{self.name}`, which takes "
                            f"{self.input_shape} (or a batch of them: (N, {', '.join(map(str, self.input_shape))}))")
        return a, False

    def run(self, x: Any, exact: bool = True) -> np.ndarray:
        """Outputs as real numbers. exact=True: the bit-exact golden model; exact=False: the float reference."""
        a, single = self._batched(x)
        typed = self._typed if exact else self._float_typed
        assert typed is not None
        prog, typing = typed
        in_t = prog.params[0].type
        assert in_t is not None
        raw = encode(a, in_t, *self.input_modes)
        out = decode(evaluate(prog, raw, typed=typed), typing[prog.body])
        return out[0] if single else out

    def quantise_input(self, x: Any) -> np.ndarray:
        """Raw integers the hardware receives for real inputs x."""
        a, single = self._batched(x)
        raw = encode(a, self.input_type, *self.input_modes)
        return raw[0] if single else raw

    def run_raw(self, raw: Any) -> np.ndarray:
        """Raw integers in, raw integers out (what the hardware sees)."""
        a, single = self._batched(raw)
        s = scalar_of(self.input_type)
        checked = fx.as_raw(a, s) if hasattr(s, "width") else a  # type: ignore[arg-type]
        out = evaluate(self.ir, checked, typed=self._typed)
        return out[0] if single else out
