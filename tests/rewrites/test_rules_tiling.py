"""Before/after text tests of the tiling rules
(split-join tiling of map, partial sums of reduce, terms quantised before a sum, overlapped tiling of slide):
parse the before text, rewrite everywhere,
print, compare with the expected after text; both texts round-trip through the parser, and exact rules keep
the golden outputs on random inputs."""

import pytest
from rw_support import text_case

CASES = [
    ('split_map', (2,), '''\
def f(x: [4]fixed<8,4>) =
  map(fun v => add(v, v), x)
''', '''\
def f(x: [4]fixed<8,4>) =
  join(map(fun c => map(fun v => add(v, v), c), split<2>(x)))
'''),
    ('split_reduce', (2,), '''\
def f(x: [4]fixed<8,4>) =
  reduce(fun (acc, v) => cast<fixed<10,6>, TRN, WRAP>(add(acc, v)), const<fixed<10,6>>(1), x)
''', '''\
def f(x: [4]fixed<8,4>) =
  reduce(
    fun (a, p) => cast<fixed<10,6>, TRN, WRAP>(add(a, p)),
    const<fixed<10,6>>(1),
    map(
      fun c => reduce(fun (acc, v) => cast<fixed<10,6>, TRN, WRAP>(add(acc, v)), const<fixed<10,6>>(0), c),
      split<2>(x)
    )
  )
'''),
    ('split_reduce', (3,), '''\
def f(x: [6]fixed<8,4>) =
  reduce(fun (m, v) => max(m, v), const<fixed<8,4>>(-8), x)
''', '''\
def f(x: [6]fixed<8,4>) =
  reduce(
    fun (a, p) => max(a, p),
    const<fixed<8,4>>(-8),
    map(fun c => reduce(fun (m, v) => max(m, v), const<fixed<8,4>>(-8), c), split<3>(x))
  )
'''),
    ('quantise_terms', (), '''\
def f(x: [4]fixed<8,4>) =
  reduce(fun (acc, v) => cast<fixed<10,7>, RND, WRAP>(add(acc, mul(v, v))), const<fixed<10,7>>(1), x)
''', '''\
def f(x: [4]fixed<8,4>) =
  reduce(
    fun (acc, v) => cast<fixed<10,7>, TRN, WRAP>(add(acc, cast<fixed<12,9>, RND, WRAP>(mul(v, v)))),
    const<fixed<10,7>>(1),
    x
  )
'''),
    ('tile_slide', (2,), '''\
def f(x: [9]fixed<8,4>) =
  slide<3, 2>(x)
''', '''\
def f(x: [9]fixed<8,4>) =
  join(map(fun c => slide<3, 2>(c), slide<5, 4>(x)))
'''),
]


@pytest.mark.parametrize(("rule", "args", "before", "after"), CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(CASES)])
def test_text(rule: str, args: tuple[int, ...], before: str, after: str) -> None:
    text_case(rule, args, before, after)
