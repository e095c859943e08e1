"""Before/after text tests of the fusion rules (map fusion and fission):
parse the before text, rewrite everywhere,
print, compare with the expected after text; both texts round-trip through the parser, and exact rules keep
the golden outputs on random inputs."""

import pytest
from rw_support import text_case

CASES = [
    ('map_fusion', (), '''\
def f(x: [4]fixed<8,4>) =
  map(fun y => mul(y, y), map(fun v => neg(v), x))
''', '''\
def f(x: [4]fixed<8,4>) =
  map(
    fun v =>
      let y = neg(v) in
      mul(y, y),
    x
  )
'''),
    ('map_fusion', (), '''\
def f(x: [4]fixed<8,4>) =
  map(fun y => neg(y), map(fun v => add(v, v), x))
''', '''\
def f(x: [4]fixed<8,4>) =
  map(fun v => neg(add(v, v)), x)
'''),
    ('map_fission', (), '''\
def f(x: [4]fixed<8,4>) =
  map(fun v => neg(add(v, v)), x)
''', '''\
def f(x: [4]fixed<8,4>) =
  map(fun y => neg(y), map(fun v => add(v, v), x))
'''),
    ('map_fission', (), '''\
def f(x: [4]fixed<8,4>) =
  map(
    fun v =>
      let y = add(v, v) in
      mul(y, y),
    x
  )
''', '''\
def f(x: [4]fixed<8,4>) =
  map(fun y => mul(y, y), map(fun v => add(v, v), x))
'''),
]


@pytest.mark.parametrize(("rule", "args", "before", "after"), CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(CASES)])
def test_text(rule: str, args: tuple[int, ...], before: str, after: str) -> None:
    text_case(rule, args, before, after)
