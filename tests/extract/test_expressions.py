"""Step 2 of extraction: quantities grouped into ranges, lists and single comparisons."""

from __future__ import annotations

import pytest

from critparse.extract.expressions import build_expressions
from critparse.extract.quantities import ComparatorsBefore, find_quantities
from critparse.lexicon.resources import default_resources


def _exprs(text):
    vocab = default_resources().vocabulary
    cmps = ComparatorsBefore(text, vocab)
    return build_expressions(text, find_quantities(text, vocab), vocab, cmps)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("between 18 and 65 years", ("range", [(">=", 18, "a"), ("<=", 65, "a")])),
        ("18–65", ("range", [(">=", 18, None), ("<=", 65, None)])),
        ("0, 1 or 2", ("list", [(">=", 0, None), ("<=", 2, None)])),
        ("at least 12 weeks", ("single", [(">=", 12, "wk")])),
        ("18 years or older", ("single", [(">=", 18, "a")])),
        ("65 years of age or younger", ("single", [("<=", 65, "a")])),
        ("4 (moderately ill) or higher", ("single", [(">=", 4, None)])),
        ("6 months to < 18 years", ("range", [(">=", 6, "mo"), ("<", 18, "a")])),
        ("ANC>1000", ("single", [(">", 1000, None)])),
        ("2", ("bare", [("=", 2, None)])),
    ],
)
def test_expressions_kinds(text, expected):
    exprs = _exprs(text)
    assert len(exprs) == 1
    kind, bounds = expected
    assert exprs[0].kind == kind
    assert [(c, q.value, q.unit) for c, q in exprs[0].bounds] == bounds


@pytest.mark.parametrize("text", ["≥ 18 and ≤ 65 years", "> 18, < 65 years"])
def test_expressions_unitless_bound_shares_the_next_unit(text):
    exprs = _exprs(text)
    assert [e.bounds[0][1].unit for e in exprs] == ["a", "a"]


@pytest.mark.parametrize("text", ["10 mg/dL - 5 weeks"])
def test_expressions_incompatible_units_make_no_range(text):
    assert [e.kind for e in _exprs(text)] == ["bare", "bare"]
