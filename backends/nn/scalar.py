"""Scalar IR expressions as combinational Amaranth logic, exactly as the golden model computes them.

Supports constants, variables and add/sub/mul/neg (exact, ap_fixed result types), max/min (common type), shr/shl
(binary point moves, raw bits unchanged), cast (TRN/RND then WRAP/SAT, once) and one kind of aggregate: a reduce
over a list-valued variable, unrolled in order (a left fold, each step exactly as its lambda says). Every result
is a signal of the IR type `typing` gives its term; recognise.py has checked that nothing else occurs.
"""

from collections.abc import Callable, Mapping, Sequence

from amaranth.hdl import Module, Mux, Value

from vhls.backends.nn import fixedhw as hw
from vhls.ir.check import Typing
from vhls.ir.terms import Const, Lam, Prim, Term, Var
from vhls.ir.types import Fixed

Scalar = tuple[Value, Fixed]
Binding = Scalar | Sequence[Scalar]
# After fold step k: (k, accumulator, the elements still to fold) -> the same, e.g. through pipeline registers.
FoldStage = Callable[[int, Scalar, Sequence[Scalar]], tuple[Scalar, Sequence[Scalar]]]


class ScalarLowering:
    def __init__(self, m: Module, typing: Typing, prefix: str, fold_stage: FoldStage | None = None) -> None:
        self.m, self.typing, self.prefix, self.fold_stage = m, typing, prefix, fold_stage
        self.count = 0

    def _sig(self, v: Value, t: Fixed) -> Scalar:
        self.count += 1
        return hw.fit(self.m, v, t, f"{self.prefix}_{self.count}"), t

    def lower(self, t: Term, env: Mapping[str, Binding]) -> Scalar:
        if isinstance(t, Var):
            b = env[t.name]
            assert isinstance(b, tuple), f"{t.name} is a window, not a scalar"
            return b
        ty = self.typing[t]
        assert isinstance(ty, Fixed)
        if isinstance(t, Const):
            (raw,) = t.values
            return self._sig(Value.cast(int(raw)), ty)
        assert isinstance(t, Prim)
        if t.op == "reduce":
            step, init, xs = t.args
            assert isinstance(step, Lam) and isinstance(xs, Var)
            acc_name, v_name = (p.name for p in step.params)
            acc = self.lower(init, env)
            rest = list(env[xs.name])
            for k in range(len(rest)):
                acc = self.lower(step.body, {**env, acc_name: acc, v_name: rest[0]})
                rest = rest[1:]
                if self.fold_stage is not None:
                    acc, rest = self.fold_stage(k, acc, rest)
            return acc
        args = [self.lower(a, env) for a in t.args]
        if t.op == "cast":
            (v, src), (_, q, o) = args[0], t.static
            self.count += 1
            return hw.convert(self.m, v, src, ty, str(q), str(o), f"{self.prefix}_{self.count}"), ty
        if t.op in ("shr", "shl"):
            return self._sig(args[0][0], ty)  # the raw bits stay; only the binary point moves
        if t.op == "mul":
            (a, _), (b, _) = args
            return self._sig(a * b, ty)
        al = [hw.align(v, vt, ty.frac) for v, vt in args]
        if t.op == "add":
            return self._sig(al[0] + al[1], ty)
        if t.op == "sub":
            return self._sig(al[0] - al[1], ty)
        if t.op == "neg":
            return self._sig(-al[0], ty)
        if t.op in ("max", "min"):
            a, b = al
            return self._sig(Mux(a > b if t.op == "max" else a < b, a, b), ty)
        raise AssertionError(f"unsupported scalar op {t.op}")
