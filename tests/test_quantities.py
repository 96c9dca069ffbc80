"""The pure quantity and expression functions, tested on strings without spaCy."""

from __future__ import annotations

import pytest

from critparse.lexicon.resources import default_resources
from critparse.extract.quantities import ComparatorsBefore, build_expressions, find_quantities, find_staged


def _quantities(text):
    return [(q.value, q.unit, text[q.start : q.end]) for q in find_quantities(text, default_resources().vocabulary)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("≥ 1.5 x 10^9/L", [(1.5, "10*9/L", "1.5 x 10^9/L")]),
        ("1,500/mm3", [(1500, "/mm3", "1,500/mm3")]),
        ("100 000/µL", [(100000, "/uL", "100 000/µL")]),
        ("2.0mg/dL", [(2.0, "mg/dL", "2.0mg/dL")]),
        ("< 3x ULN", [(3, "x ULN", "3x ULN")]),
        ("1.5 times the upper limit of normal", [(1.5, "x ULN", "1.5 times the upper limit of normal")]),
        ("> 0.8 x LLN", [(0.8, "x LLN", "0.8 x LLN")]),
        ("≤ -2.5", [(-2.5, None, "-2.5")]),
        ("1,5 x 10^9/l", [(1.5, "10*9/L", "1,5 x 10^9/l")]),
        ("≤ 2,5 x ULN", [(2.5, "x ULN", "2,5 x ULN")]),
        ("10^5 IU/mL", [(100000, "[IU]/mL", "10^5 IU/mL")]),
        ("18-year-old", [(18, "a", "18-year")]),
        ("60 mL/min/1.73 m²", [(60, "mL/min/{1.73_m2}", "60 mL/min/1.73 m²")]),
    ],
)
def test_quantities_numbers_and_units(text, expected):
    assert _quantities(text) == expected


@pytest.mark.parametrize(
    "text", ["CD19", "COVID-19", "HbA1c", "2nd line", "5-FU", "1-800-555-0199", "2019-001234-56", "BRCA1"]
)
def test_quantities_names_and_identifiers_are_not_values(text):
    assert _quantities(text) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("between 18 and 65 years", ("range", [(">=", 18, "a"), ("<=", 65, "a")])),
        ("18–65", ("range", [(">=", 18, None), ("<=", 65, None)])),
        ("0, 1 or 2", ("list", [(">=", 0, None), ("<=", 2, None)])),
        ("at least 12 weeks", ("single", [(">=", 12, "wk")])),
        ("18 years or older", ("single", [(">=", 18, "a")])),
        ("6 months to < 18 years", ("range", [(">=", 6, "mo"), ("<", 18, "a")])),
        ("ANC>1000", ("single", [(">", 1000, None)])),
        ("2", ("bare", [("=", 2, None)])),
    ],
)
def test_quantities_expressions(text, expected):
    vocab = default_resources().vocabulary
    quantities = find_quantities(text, vocab)
    exprs = build_expressions(text, quantities, vocab, ComparatorsBefore(text, vocab))
    assert len(exprs) == 1
    kind, bounds = expected
    assert exprs[0].kind == kind
    assert [(c, q.value, q.unit) for c, q in exprs[0].bounds] == bounds


@pytest.mark.parametrize(
    ("text", "bounds"),
    [("Stage III-IV", [(">=", 3), ("<=", 4)]), ("NYHA class II or III", [(">=", 2), ("<=", 3)]),
     ("stage IV", [("=", 4)]), ("Grade ≥ II", [(">=", 2)])],
)
def test_quantities_roman_numerals_after_scale_words(text, bounds):
    (expr,) = find_staged(text)
    assert [(c, q.value) for c, q in expr.bounds] == bounds
