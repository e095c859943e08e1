"""`vhls opt MODEL -p 'rule,rule(4),...'`: apply rules (each everywhere it matches, in order) and print the IR.
`--lower PARALLEL` then lowers it for the nn backend (rewrites/lower_hw.py: PE/SIMD tilings, mapPar/mapSeq,
reduceTree/reduceSeq, FIFOs), with PARALLEL as `vhls build --parallel` takes it ("64", "seq", "4x2,8x4").

Registered in vhls/cli.py's `_optional_commands` as ("opt", "vhls.rewrites.opt_cli").
"""

import argparse
import re
import sys

from vhls.ir.errors import VhlsError

_ITEM = re.compile(r"\s*([A-Za-z_]\w*)\s*(?:\(([^()]*)\))?\s*(?:,|$)")


def parse_pipeline(text: str) -> list[tuple[str, tuple[int, ...]]]:
    """'split_map(4), map_par' -> [("split_map", (4,)), ("map_par", ())]."""
    out: list[tuple[str, tuple[int, ...]]] = []
    pos, text = 0, text.strip()
    while pos < len(text):
        m = _ITEM.match(text, pos)
        if m is None or m.end() == pos:
            raise VhlsError(f"bad rule list {text!r} at {text[pos:]!r}: expected name or name(int, ...), "
                            f"separated by commas")
        args: tuple[int, ...] = ()
        if m.group(2) is not None and m.group(2).strip():
            try:
                args = tuple(int(a) for a in m.group(2).split(","))
            except ValueError:
                raise VhlsError(f"rule {m.group(1)}: arguments must be integers, got ({m.group(2)})") from None
        out.append((m.group(1), args))
        pos = m.end()
    if not out:
        raise VhlsError("empty rule list: give -p 'rule,rule,...' (see --list)")
    return out


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("opt", help="apply rewrite rules to a model and print the rewritten IR")
    p.add_argument("model", nargs="?", help="model file (.py defining `model`) or IR text (.vhls)")
    p.add_argument("-p", "--passes", default=None,
                   help="comma-separated rules, each applied everywhere it matches, in order: 'split_map(4),map_par'")
    p.add_argument("--lower", default=None, metavar="PARALLEL",
                   help="then lower for the nn backend with PE x SIMD per layer as `vhls build --parallel` takes it")
    p.add_argument("--list", action="store_true", help="list the known rules and exit")
    p.add_argument("--verify", action="store_true",
                   help="run the golden model before and after on the model's calibration data (or random inputs) "
                        "and report the largest difference")


def _list() -> int:
    from vhls.rewrites.registry import known

    rules = known()
    width = max(len(r.signature()) for r in rules.values())
    for name in sorted(rules, key=lambda n: (rules[n].theme, n)):
        r = rules[name]
        kind = "exact" if r.exact else "approx"
        print(f"{r.signature():<{width}}  {r.theme:<10} {kind:<6} {r.summary()}")
        if r.bound:
            print(f"{'':<{width}}  {'':<10} bound: {r.bound}")
    return 0


def run(args: argparse.Namespace) -> int:
    if args.list:
        return _list()
    if not args.model:
        raise VhlsError("vhls opt needs a model file (or --list)")
    if not args.passes and args.lower is None:
        raise VhlsError("vhls opt needs -p 'rule,rule,...' (see vhls opt --list) or --lower PARALLEL")
    from vhls.ir.printer import print_program
    from vhls.loader import load
    from vhls.rewrites.registry import get
    from vhls.rewrites.strategy import count, everywhere, rewrite

    steps = [get(name, *a) for name, a in parse_pipeline(args.passes)] if args.passes else []  # fail before loading
    model = load(args.model)
    prog = model.ir
    for r in steps:
        counted, n = count(r)
        prog = rewrite(prog, everywhere(counted))
        print(f"vhls opt: {r.name}: {n[0]} rewrite(s)" + ("" if n[0] else " (matched nowhere)"), file=sys.stderr)
    if args.lower is not None:
        from vhls.backends.nn import design
        from vhls.backends.nn.plan import parse_parallel

        d = design(prog, parse_parallel(args.lower))
        prog = d.lowered()
        par = ",".join(f"{s.pe}x{s.simd}" for s in d.stages)
        print(f"vhls opt: lowered for the nn backend, PE x SIMD {par}", file=sys.stderr)
    sys.stdout.write(print_program(prog))
    if args.verify:
        _verify(model, prog, all(r.info.exact for r in steps))
    return 0


def _verify(model, prog, exact: bool) -> None:
    import numpy as np

    from vhls.model import Model

    x = model.calibration
    if x is None:
        x = np.random.default_rng(0).standard_normal((64, *model.input_shape))
    x = np.asarray(x)[:256]
    before = model.run(x)
    after = Model(prog, model.float_ir, input_modes=model.input_modes).run(x)
    diff = float(np.max(np.abs(after - before))) if before.size else 0.0
    print(f"vhls opt: verify on {len(x)} inputs: max |after - before| = {diff:g}"
          + (" (bit-exact)" if diff == 0 else ""), file=sys.stderr)
    if exact and diff != 0:
        raise VhlsError(f"exact rules changed the golden outputs (max difference {diff:g}): a rule bug")
