"""The one user-facing error type. Lives in `ir` because `ir` imports nothing else of ours."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Pos:
    """A source position: 1-based line and column, optionally in a named file."""

    line: int
    column: int
    source: str | None = None

    def __str__(self) -> str:
        return f"{self.source + ':' if self.source else ''}{self.line}:{self.column}"


class VhlsError(Exception):
    """A user error: printed by the CLI as one line `vhls: error: <where>: <what>`."""

    def __init__(self, what: str, where: object | None = None) -> None:
        self.what = what
        self.where = None if where is None else str(where)
        super().__init__(f"{self.where}: {what}" if self.where else what)


class IRError(VhlsError):
    """A malformed or ill-typed IR program."""
