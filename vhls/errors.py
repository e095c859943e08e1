"""User-facing errors (defined in `vhls.ir` so the IR layer stays free of upward imports)."""

from vhls.ir.errors import IRError, Pos, VhlsError

__all__ = ["IRError", "Pos", "VhlsError"]
