"""Local field F = sum_j J_ij sigma_j as a balanced adder tree (log depth rather than a chain)."""

from amaranth import Module, Mux, Signal, Value, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out


class FieldTree(wiring.Component):
    def __init__(self, n: int, j_bits: int, out_bits: int) -> None:
        self.n, self.j_bits = n, j_bits
        super().__init__({"row": In(n * j_bits), "sigma": In(n), "field": Out(signed(out_bits))})

    def elaborate(self, platform: object) -> Module:
        m = Module()
        terms = []
        for j in range(self.n):
            w = self.row[j * self.j_bits : (j + 1) * self.j_bits].as_signed()
            t = Signal(signed(self.j_bits + 1), name=f"t{j}")
            m.d.comb += t.eq(Mux(self.sigma[j], w, -w))  # sigma_j = +1 adds J, -1 subtracts it
            terms.append(t)
        m.d.comb += self.field.eq(tree_sum(terms))
        return m


def tree_sum(terms: list[Value]) -> Value:
    """Pairwise sum: depth log2(n) instead of n."""
    while len(terms) > 1:
        terms = [terms[k] + terms[k + 1] if k + 1 < len(terms) else terms[k] for k in range(0, len(terms), 2)]
    return terms[0]


def tree_or(terms: list[Value]) -> Value:
    while len(terms) > 1:
        terms = [terms[k] | terms[k + 1] if k + 1 < len(terms) else terms[k] for k in range(0, len(terms), 2)]
    return terms[0]
