"""Soundness of every exact rule: on random well-typed programs (ir/gen.py) and on targeted programs that contain
the rule's pattern with random types, sizes and bodies, applying the rule everywhere it matches keeps the type,
round-trips through the text form and gives the same golden outputs bit for bit.

CI: 60 targeted + 25 general programs per rule; `-m slow`: 250 + 200.
"""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rw_support import CI, SLOW, assert_sound, rule_for

from vhls.ir.gen import inputs, programs
from vhls.rewrites import get, known

EXACT = sorted(n for n, r in known().items() if r.exact)
GENERAL = settings(CI, max_examples=25)
GENERAL_SLOW = settings(SLOW, max_examples=200)


def _default(name: str):
    r = known()[name]
    return get(name, *(2 for _, d in r.params if d is None))


def _targeted(name: str, data: st.DataObject) -> None:
    case, r = rule_for(name, data.draw)
    xs = data.draw(inputs(case.program, batch=3))
    assert_sound(case.program, r, xs, case.expect_hit)


def _general(name: str, data: st.DataObject) -> None:
    p = data.draw(programs(max_depth=4, max_nodes=40))
    assert_sound(p, _default(name), data.draw(inputs(p, batch=3)))


def test_every_rule_is_documented_and_exact_ones_are_tested() -> None:
    rules = known()
    assert len(EXACT) >= 18
    for r in rules.values():
        assert r.doc.strip() and "->" in r.doc, r.name
        assert r.exact or r.bound, r.name


@pytest.mark.parametrize("name", EXACT)
@CI
@given(data=st.data())
def test_targeted(name: str, data: st.DataObject) -> None:
    _targeted(name, data)


@pytest.mark.parametrize("name", EXACT)
@GENERAL
@given(data=st.data())
def test_general(name: str, data: st.DataObject) -> None:
    _general(name, data)


@pytest.mark.slow
@pytest.mark.parametrize("name", EXACT)
@SLOW
@given(data=st.data())
def test_targeted_slow(name: str, data: st.DataObject) -> None:
    _targeted(name, data)


@pytest.mark.slow
@pytest.mark.parametrize("name", EXACT)
@GENERAL_SLOW
@given(data=st.data())
def test_general_slow(name: str, data: st.DataObject) -> None:
    _general(name, data)
