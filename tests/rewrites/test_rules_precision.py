"""Before/after text tests of the precision rules (accumulator and weight narrowing, weight quantisation,
power-of-two weights): parse the before text, rewrite everywhere, print, compare with the expected after text; both
texts round-trip through the parser, and exact rules keep the golden outputs on random inputs."""

import pytest
from rw_support import text_case

CASES = [
    ('narrow_acc', (), '''\
def f(x: [3]fixed<8,4>) =
  let w = const<[2][3]fixed<4,1>>([[0.25, -0.5, 0.125], [0.375, 0, -0.25]]) in
  let b = const<[2]fixed<4,1>>([0.125, -0.5]) in
  map(
    fun wb =>
      cast<fixed<8,4>, TRN, WRAP>(
        reduce(
          fun (acc, q) => cast<fixed<16,8>, TRN, WRAP>(add(acc, mul(get<0>(q), get<1>(q)))),
          cast<fixed<16,8>, TRN, WRAP>(get<1>(wb)),
          zip(get<0>(wb), x)
        )
      ),
    zip(w, b)
  )
''', '''\
def f(x: [3]fixed<8,4>) =
  let w = const<[2][3]fixed<4,1>>([[0.25, -0.5, 0.125], [0.375, 0, -0.25]]) in
  let b = const<[2]fixed<4,1>>([0.125, -0.5]) in
  map(
    fun wb =>
      cast<fixed<8,4>, TRN, WRAP>(
        reduce(
          fun (acc, q) => cast<fixed<12,4>, TRN, WRAP>(add(acc, mul(get<0>(q), get<1>(q)))),
          cast<fixed<12,4>, TRN, WRAP>(get<1>(wb)),
          zip(get<0>(wb), x)
        )
      ),
    zip(w, b)
  )
'''),
    ('quantise_weights', (3,), '''\
def f(x: [3]fixed<8,4>) =
  let w = const<[2][3]fixed<8,2>>([[0.25, -0.59375, 0.125], [0.40625, 0, -1.03125]]) in
  map(
    fun r =>
      reduce(
        fun (acc, q) => cast<fixed<20,8>, TRN, WRAP>(add(acc, mul(get<0>(q), get<1>(q)))),
        const<fixed<20,8>>(0),
        zip(r, x)
      ),
    w
  )
''', '''\
def f(x: [3]fixed<8,4>) =
  let w = const<[2][3]fixed<3,1>>([[0.25, -0.5, 0.25], [0.5, 0, -1]]) in
  map(
    fun r =>
      reduce(
        fun (acc, q) => cast<fixed<20,8>, TRN, WRAP>(add(acc, mul(get<0>(q), get<1>(q)))),
        const<fixed<20,8>>(0),
        zip(r, x)
      ),
    w
  )
'''),
    ('pow2_weights', (), '''\
def f(x: [3]fixed<8,4>) =
  let w = const<[2][3]fixed<8,2>>([[0.25, -0.59375, 0.1875], [0.40625, 0, -1.03125]]) in
  map(
    fun r =>
      reduce(
        fun (acc, q) => cast<fixed<20,8>, TRN, WRAP>(add(acc, mul(get<0>(q), get<1>(q)))),
        const<fixed<20,8>>(0),
        zip(r, x)
      ),
    w
  )
''', '''\
def f(x: [3]fixed<8,4>) =
  let w = const<[2][3]fixed<8,2>>([[0.25, -0.5, 0.125], [0.5, 0, -1]]) in
  map(
    fun r =>
      reduce(
        fun (acc, q) => cast<fixed<20,8>, TRN, WRAP>(add(acc, mul(get<0>(q), get<1>(q)))),
        const<fixed<20,8>>(0),
        zip(r, x)
      ),
    w
  )
'''),
    ('narrow_result', (), '''\
def f(x: [3]fixed<8,4>) =
  let w = const<[2][3]fixed<4,1>>([[0.25, -0.5, 0.125], [0.375, 0, -0.25]]) in
  let b = const<[2]fixed<4,1>>([0.125, -0.5]) in
  map(
    fun wb =>
      cast<fixed<12,6>, TRN, WRAP>(
        reduce(
          fun (acc, q) => cast<fixed<16,8>, TRN, WRAP>(add(acc, mul(get<0>(q), get<1>(q)))),
          cast<fixed<16,8>, TRN, WRAP>(get<1>(wb)),
          zip(get<0>(wb), x)
        )
      ),
    zip(w, b)
  )
''', '''\
def f(x: [3]fixed<8,4>) =
  let w = const<[2][3]fixed<4,1>>([[0.25, -0.5, 0.125], [0.375, 0, -0.25]]) in
  let b = const<[2]fixed<4,1>>([0.125, -0.5]) in
  map(
    fun wb =>
      cast<fixed<12,6>, TRN, WRAP>(
        cast<fixed<10,4>, TRN, WRAP>(
          reduce(
            fun (acc, q) => cast<fixed<16,8>, TRN, WRAP>(add(acc, mul(get<0>(q), get<1>(q)))),
            cast<fixed<16,8>, TRN, WRAP>(get<1>(wb)),
            zip(get<0>(wb), x)
          )
        )
      ),
    zip(w, b)
  )
'''),
    ('narrow_weights', (), '''\
def f(x: [3]fixed<8,4>) =
  let w = const<[2][3]fixed<8,2>>([[0.25, -0.5, 0.125], [0.375, 0, -0.25]]) in
  let b = const<[2]fixed<8,2>>([0.125, -0.5]) in
  map(
    fun wb =>
      reduce(
        fun (acc, q) => cast<fixed<20,8>, TRN, WRAP>(add(acc, mul(get<0>(q), get<1>(q)))),
        cast<fixed<20,8>, TRN, WRAP>(get<1>(wb)),
        zip(get<0>(wb), x)
      ),
    zip(w, b)
  )
''', '''\
def f(x: [3]fixed<8,4>) =
  let w = const<[2][3]fixed<6,0>>([[0.25, -0.5, 0.125], [0.375, 0, -0.25]]) in
  let b = const<[2]fixed<8,2>>([0.125, -0.5]) in
  map(
    fun wb =>
      reduce(
        fun (acc, q) => cast<fixed<20,8>, TRN, WRAP>(add(acc, mul(get<0>(q), get<1>(q)))),
        cast<fixed<20,8>, TRN, WRAP>(get<1>(wb)),
        zip(get<0>(wb), x)
      ),
    zip(w, b)
  )
'''),
    # near miss: the literal is part of the result, so a narrower type would change the program's type
    ('narrow_weights', (), '''\
def g(x: [2]fixed<8,4>) =
  let m = const<[2][2]fixed<8,4>>([[0.5, 0], [0, -0.25]]) in
  zip(m, x)
''', '''\
def g(x: [2]fixed<8,4>) =
  let m = const<[2][2]fixed<8,4>>([[0.5, 0], [0, -0.25]]) in
  zip(m, x)
'''),
]


@pytest.mark.parametrize(("rule", "args", "before", "after"), CASES, ids=[f"{c[0]}{i}" for i, c in enumerate(CASES)])
def test_text(rule: str, args: tuple[int, ...], before: str, after: str) -> None:
    text_case(rule, args, before, after)
