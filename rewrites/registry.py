"""The rule registry: every rule by name, with its documentation, exactness and (for precision rules) error bound.

A rule is a function `(term, ctx, *args) -> term | None` registered with `@rule(name, ...)`. Its docstring states
the pattern, the side conditions and the replacement. `exact=True` promises golden(before) == golden(after)
bit for bit (tested on random programs); approximate rules state `bound`, the error they may introduce, which
their tests check against measured errors.

`get("split_map", 4)` gives a ready strategy (a `Rule` bound to its arguments) that checks, on every application,
that the rewritten term has the type of the original: a rule can never silently change a type.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from vhls.ir.errors import IRError, VhlsError
from vhls.ir.terms import Term
from vhls.rewrites.core import Ctx, RewriteError

RuleFn = Callable[..., Term | None]


@dataclass(frozen=True)
class RuleInfo:
    name: str
    fn: RuleFn
    doc: str
    exact: bool
    bound: str | None = None  # approximate rules: the error bound they guarantee
    params: tuple[tuple[str, int | None], ...] = ()  # (name, default); None = required
    theme: str = ""

    def summary(self) -> str:
        return self.doc.strip().splitlines()[0]

    def signature(self) -> str:
        if not self.params:
            return self.name
        return f"{self.name}(" + ", ".join(n if d is None else f"{n}={d}" for n, d in self.params) + ")"

    def bind(self, *args: int) -> "Rule":
        if len(args) > len(self.params):
            raise VhlsError(f"rule {self.name} takes {len(self.params)} argument(s), got {len(args)}: "
                            f"{self.signature()}")
        full = list(args)
        for name, default in self.params[len(args):]:
            if default is None:
                raise VhlsError(f"rule {self.name} needs its argument `{name}`: {self.signature()}")
            full.append(default)
        return Rule(self, tuple(full))


@dataclass(frozen=True)
class Rule:
    """A rule bound to its arguments: a strategy `(term, ctx) -> term | None`."""

    info: RuleInfo
    args: tuple[int, ...] = ()
    check_types: bool = field(default=True, compare=False)

    @property
    def name(self) -> str:
        return self.info.name if not self.args else f"{self.info.name}({', '.join(map(str, self.args))})"

    def __call__(self, t: Term, ctx: Ctx) -> Term | None:
        new = self.info.fn(t, ctx, *self.args)
        if new is None or not self.check_types:
            return new
        before = ctx.type_of(t)
        try:
            after = ctx.type_of(new)
        except IRError as e:
            raise RewriteError(f"internal: rule {self.name} produced an ill-typed term: {e}") from None
        if after != before:
            raise RewriteError(f"internal: rule {self.name} changed a type from {before} to {after}")
        return new

    def __repr__(self) -> str:
        return self.name


RULES: dict[str, RuleInfo] = {}


def rule(name: str, *, exact: bool = True, bound: str | None = None, params: tuple = (), theme: str = "") \
        -> Callable[[RuleFn], RuleFn]:
    """Register a rule function under `name` (its docstring is the rule's documentation)."""

    def deco(fn: RuleFn) -> RuleFn:
        if name in RULES:
            raise ValueError(f"rule {name!r} is already registered")
        if not fn.__doc__:
            raise ValueError(f"rule {name!r} needs a docstring (pattern, side conditions, replacement)")
        if not exact and not bound:
            raise ValueError(f"approximate rule {name!r} must state its error bound")
        RULES[name] = RuleInfo(name, fn, fn.__doc__, exact, bound, tuple(params), theme or fn.__module__.split(".")[-1])
        return fn

    return deco


def get(name: str, *args: int) -> Rule:
    """The rule `name` bound to `args`; an unknown name lists the known ones."""
    _load()
    info = RULES.get(name)
    if info is None:
        raise VhlsError(f"unknown rule `{name}`; known rules: {', '.join(sorted(RULES))}")
    return info.bind(*args)


def known() -> dict[str, RuleInfo]:
    _load()
    return dict(RULES)


def _load() -> None:
    import vhls.rewrites.rules  # noqa: F401  (registers every rule on import)
