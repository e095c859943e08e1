"""Before/after text tests of the layout rules (transpose/zip/split-join/get eliminations):
parse the before text, rewrite everywhere,
print, compare with the expected after text; both texts round-trip through the parser, and exact rules keep
the golden outputs on random inputs."""

import pytest
from rw_support import text_case

CASES = [
    ('join_split', (), '''\
def f(x: [6]bool) =
  join(split<3>(x))
''', '''\
def f(x: [6]bool) =
  x
'''),
    ('split_join', (), '''\
def f(x: [2][3]bool) =
  split<3>(join(x))
''', '''\
def f(x: [2][3]bool) =
  x
'''),
    ('split_join', (), '''\
def f(x: [2][3]bool) =
  split<2>(join(x))
''', '''\
def f(x: [2][3]bool) =
  split<2>(join(x))
'''),
    ('transpose_transpose', (), '''\
def f(x: [2][3]bool) =
  transpose(transpose(x))
''', '''\
def f(x: [2][3]bool) =
  x
'''),
    ('unzip_zip', (), '''\
def f(a: [3]bool, b: [3]fixed<4,2>) =
  unzip(zip(a, b))
''', '''\
def f(a: [3]bool, b: [3]fixed<4,2>) =
  tuple(a, b)
'''),
    ('zip_unzip', (), '''\
def f(z: [3](bool, fixed<4,2>)) =
  zip(get<0>(unzip(z)), get<1>(unzip(z)))
''', '''\
def f(z: [3](bool, fixed<4,2>)) =
  z
'''),
    ('get_tuple', (), '''\
def f(a: bool, b: fixed<4,2>) =
  get<1>(tuple(a, b))
''', '''\
def f(a: bool, b: fixed<4,2>) =
  b
'''),
    ('map_get_zip', (), '''\
def f(a: [3]bool, b: [3]fixed<4,2>) =
  map(fun p => get<1>(p), zip(a, b))
''', '''\
def f(a: [3]bool, b: [3]fixed<4,2>) =
  b
'''),
    ('map_id', (), '''\
def f(a: [3]bool) =
  map(fun v => v, a)
''', '''\
def f(a: [3]bool) =
  a
'''),
]


@pytest.mark.parametrize(("rule", "args", "before", "after"), CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(CASES)])
def test_text(rule: str, args: tuple[int, ...], before: str, after: str) -> None:
    text_case(rule, args, before, after)
