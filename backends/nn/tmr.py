"""Triple modular redundancy on a stage's MAC array: two more MAC arrays fed the same operands, each with its own
fault stream (replicas 1 and 2 of `vhls.noise.inject`), and a bitwise majority vote with the main array's
accumulators. The vote is registered (LATENCY cycles after the main array), so it does not lengthen the path into
requantisation."""

from collections.abc import Sequence

from amaranth.hdl import Cat, Module, Signal, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from vhls.backends.nn.fault import FaultInjector
from vhls.backends.nn.mac import MACArray
from vhls.ir.types import Fixed


def majority(a: Value, b: Value, c: Value) -> Value:
    return (a & b) | (a & c) | (b & c)


def mac_inputs(pe: int, simd: int, x_type: Fixed, w_type: Fixed, acc_type: Fixed) -> dict:
    """The operand ports of a MAC array (what a replica beside it is fed)."""
    return {
        "i_valid": In(1), "i_first": In(1), "i_last": In(1),
        "i_x": In(simd * x_type.width), "i_w": In(pe * simd * w_type.width), "i_bias": In(pe * acc_type.width),
    }


def feed(m: Module, dst: MACArray, src: wiring.Component) -> None:
    """Drive a MAC array's operand ports from `src`'s ports of the same names."""
    m.d.comb += [getattr(dst, n).eq(getattr(src, n)) for n in ("i_valid", "i_first", "i_last", "i_x", "i_w",
                                                               "i_bias")]


class TMR(wiring.Component):
    """`i_acc`: the main array's (possibly faulty) accumulators; `o_acc`: the vote of it and two replicas, valid
    with `o_valid` LATENCY cycles after the main array's `o_valid`.

    `faults`: (seed state, threshold) of replicas 1 and 2, or empty for fault-free replicas."""

    LATENCY = 1

    def __init__(self, pe: int, simd: int, x_type: Fixed, w_type: Fixed, acc_type: Fixed, prod_q: str,
                 faults: Sequence[tuple[int, int]] = ()) -> None:
        self.args = (pe, simd, x_type, w_type, acc_type, prod_q)
        self.faults = tuple(faults)
        assert len(self.faults) in (0, 2)
        super().__init__({
            **mac_inputs(pe, simd, x_type, w_type, acc_type),
            "i_acc": In(pe * acc_type.width),
            "o_valid": Out(1),
            "o_acc": Out(pe * acc_type.width),
        })

    def elaborate(self, platform: object) -> Module:
        m = Module()
        pe, acc_type = self.args[0], self.args[4]
        w = acc_type.width
        accs: list[Value] = [self.i_acc]
        for r in (1, 2):
            mac = MACArray(*self.args)
            m.submodules[f"replica{r}"] = mac
            feed(m, mac, self)
            acc: Value = mac.o_acc
            if self.faults:
                s0, t = self.faults[r - 1]
                m.submodules[f"fault{r}"] = inj = FaultInjector(pe, acc_type, s0, t)
                m.d.comb += [inj.i_valid.eq(mac.o_valid), inj.i_acc.eq(acc)]
                acc = inj.o_acc
            accs.append(acc)
        a, b, c = accs
        vote = Signal(len(self.o_acc), reset_less=True)
        m.d.sync += [vote.eq(Cat(*(majority(a[p * w:(p + 1) * w], b[p * w:(p + 1) * w], c[p * w:(p + 1) * w])
                                   for p in range(pe)))),
                     self.o_valid.eq(mac.o_valid)]  # replica 2's strobe: the same as the main array's
        m.d.comb += self.o_acc.eq(vote)
        return m
