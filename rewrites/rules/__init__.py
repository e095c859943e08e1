"""The rule library, one themed module each; importing this package registers every rule."""

from vhls.rewrites.rules import fusion, layout, precision, spacetime, tiling

__all__ = ["fusion", "layout", "precision", "spacetime", "tiling"]
