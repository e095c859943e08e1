"""IR types. Sizes and precisions live in the types, so the checker knows every shape and bit width.

Scalars: `fixed<W,I>` / `ufixed<W,I>` (Xilinx ap_fixed conventions: W total bits, I integer bits, F = W - I
fraction bits; I may be negative or exceed W), `bool`, and `f32` for float reference runs.
Compound: arrays `[n]T` and tuples `(T1, T2, ...)`.
"""

from dataclasses import dataclass

from vhls.ir.errors import IRError

MAX_WIDTH = 128  # wide enough for any exact intermediate of 32-bit operands; interpreter falls back to bigints


class Type:
    """Base class of IR types; subclasses are frozen dataclasses (structural equality, hashable)."""

    def __str__(self) -> str:
        raise NotImplementedError


class Scalar(Type):
    pass


@dataclass(frozen=True)
class Fixed(Scalar):
    width: int
    int_bits: int
    signed: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.width, int) or self.width < 1:
            raise IRError(f"fixed-point width must be a positive integer, got {self.width}")
        if self.width > MAX_WIDTH:
            raise IRError(f"fixed-point width {self.width} exceeds the maximum {MAX_WIDTH}")

    @property
    def frac(self) -> int:
        return self.width - self.int_bits

    @property
    def min_raw(self) -> int:
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def max_raw(self) -> int:
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    @property
    def lsb(self) -> float:
        return 2.0**-self.frac

    def __str__(self) -> str:
        return f"{'' if self.signed else 'u'}fixed<{self.width},{self.int_bits}>"


@dataclass(frozen=True)
class Bool(Scalar):
    def __str__(self) -> str:
        return "bool"


@dataclass(frozen=True)
class F32(Scalar):
    def __str__(self) -> str:
        return "f32"


@dataclass(frozen=True)
class Array(Type):
    size: int
    elem: Type

    def __post_init__(self) -> None:
        if not isinstance(self.size, int) or self.size < 1:
            raise IRError(f"array size must be a positive integer, got {self.size}")

    def __str__(self) -> str:
        return f"[{self.size}]{self.elem}"


@dataclass(frozen=True)
class Tuple(Type):
    elems: tuple[Type, ...]

    def __post_init__(self) -> None:
        if len(self.elems) < 2:
            raise IRError(f"a tuple type needs at least two components, got {len(self.elems)}")

    def __str__(self) -> str:
        return "(" + ", ".join(map(str, self.elems)) + ")"


BOOL = Bool()
FLOAT = F32()


def fixed(width: int, int_bits: int) -> Fixed:
    return Fixed(width, int_bits, True)


def ufixed(width: int, int_bits: int) -> Fixed:
    return Fixed(width, int_bits, False)


def array(elem: Type, *shape: int) -> Type:
    """`array(T, 4, 8)` is `[4][8]T`."""
    for n in reversed(shape):
        elem = Array(n, elem)
    return elem


def shape_of(t: Type) -> tuple[int, ...]:
    """Array dimensions from the outside in: shape_of([4][8]T) == (4, 8)."""
    dims = []
    while isinstance(t, Array):
        dims.append(t.size)
        t = t.elem
    return tuple(dims)


def scalar_of(t: Type) -> Type:
    """The innermost non-array type."""
    while isinstance(t, Array):
        t = t.elem
    return t


def map_scalars(t: Type, f) -> Type:
    """Rebuild `t` with every scalar replaced by `f(scalar)` (used e.g. for float reference programs)."""
    if isinstance(t, Array):
        return Array(t.size, map_scalars(t.elem, f))
    if isinstance(t, Tuple):
        return Tuple(tuple(map_scalars(e, f) for e in t.elems))
    return f(t)
