"""Before/after text tests of the spacetime rules
(map -> mapPar/mapSeq, reduce -> reduceSeq/reduceTree, buffers and FIFOs):
parse the before text, rewrite everywhere,
print, compare with the expected after text; both texts round-trip through the parser, and exact rules keep
the golden outputs on random inputs."""

import pytest
from rw_support import text_case

CASES = [
    ('map_par', (), '''\
def f(x: [4]fixed<8,4>) =
  map(fun v => add(v, v), x)
''', '''\
def f(x: [4]fixed<8,4>) =
  mapPar(fun v => add(v, v), x)
'''),
    ('map_seq', (), '''\
def f(x: [4]fixed<8,4>) =
  map(fun v => add(v, v), x)
''', '''\
def f(x: [4]fixed<8,4>) =
  mapSeq(fun v => add(v, v), x)
'''),
    ('reduce_seq', (), '''\
def f(x: [4]fixed<8,4>) =
  reduce(fun (m, v) => max(m, v), const<fixed<8,4>>(-8), x)
''', '''\
def f(x: [4]fixed<8,4>) =
  reduceSeq(fun (m, v) => max(m, v), const<fixed<8,4>>(-8), x)
'''),
    ('reduce_tree', (), '''\
def f(x: [4]fixed<8,4>) =
  reduce(
    fun (acc, v) => cast<fixed<20,12>, TRN, WRAP>(add(acc, mul(v, v))),
    const<fixed<20,12>>(0.5),
    x
  )
''', '''\
def f(x: [4]fixed<8,4>) =
  reduceTree(
    fun (a, b) => cast<fixed<20,12>, TRN, WRAP>(add(a, b)),
    const<fixed<20,12>>(0.5),
    map(fun v => cast<fixed<20,12>, TRN, WRAP>(mul(v, v)), x)
  )
'''),
    ('reduce_tree', (), '''\
def f(x: [4]fixed<8,4>) =
  reduce(fun (m, v) => max(m, v), const<fixed<8,4>>(-8), x)
''', '''\
def f(x: [4]fixed<8,4>) =
  reduceTree(fun (a, b) => max(a, b), const<fixed<8,4>>(-8), x)
'''),
    ('reduce_tree', (), '''\
def f(x: [4]f32) =
  reduce(fun (acc, v) => add(acc, v), const<f32>(0), x)
''', '''\
def f(x: [4]f32) =
  reduce(fun (acc, v) => add(acc, v), const<f32>(0), x)
'''),
    ('insert_fifo', (4,), '''\
def f(x: [4]fixed<8,4>) =
  let h = map(fun v => neg(v), x) in
  map(fun v => add(v, v), h)
''', '''\
def f(x: [4]fixed<8,4>) =
  let h = fifo<4>(map(fun v => neg(v), x)) in
  map(fun v => add(v, v), h)
'''),
    ('insert_buffer', (), '''\
def f(x: [4]fixed<8,4>) =
  let h = map(fun v => neg(v), x) in
  map(fun v => add(v, v), h)
''', '''\
def f(x: [4]fixed<8,4>) =
  let h = buffer(map(fun v => neg(v), x)) in
  map(fun v => add(v, v), h)
'''),
    ('remove_buffer', (), '''\
def f(x: [4]fixed<8,4>) =
  let h = fifo<2>(map(fun v => neg(v), x)) in
  buffer(h)
''', '''\
def f(x: [4]fixed<8,4>) =
  let h = map(fun v => neg(v), x) in
  h
'''),
]


@pytest.mark.parametrize(("rule", "args", "before", "after"), CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(CASES)])
def test_text(rule: str, args: tuple[int, ...], before: str, after: str) -> None:
    text_case(rule, args, before, after)
