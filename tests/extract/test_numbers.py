"""Step 1a of extraction: where numbers start and end and what they are worth."""

from __future__ import annotations

import pytest

from critparse.extract.numbers import iter_numbers, negative_sign_before


def _numbers(text, decimal=False):
    return [(n.value, text[n.start : n.end]) for n in iter_numbers(text, lambda start, pos: decimal)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,500", [(1500, "1,500")]),
        ("100 000/µL", [(100000, "100 000")]),
        ("1.500/mm3", [(1500, "1.500")]),
        ("2.5 and .5", [(2.5, "2.5"), (0.5, ".5")]),
        ("CD19 and COVID-19", []),
        ("call 1-800-555-0199", []),
    ],
)
def test_numbers_as_written(text, expected):
    assert _numbers(text) == expected


@pytest.mark.parametrize(("decimal", "expected"), [(True, [(1.5, "1,5")]), (False, [(1, "1"), (5, "5")])])
def test_numbers_decimal_comma_is_the_callers_call(decimal, expected):
    assert _numbers("1,5 x", decimal) == expected


@pytest.mark.parametrize(("text", "start", "negative"), [("≤ -2.5", 3, True), ("5-FU", 2, False), ("-1", 1, True)])
def test_numbers_negative_sign(text, start, negative):
    assert negative_sign_before(text, start) is negative
