"""Step 1a of extraction: where numbers start and end and what they are worth."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from critparse.extract.numbers import _ID_CHAIN, NUMBER, iter_numbers, negative_sign_before


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
        # days after whole weeks, as gestational ages are written
        ("from 32 3/7 to 36+6 weeks", [(32.429, "32 3/7"), (36.857, "36+6")]),
        ("HbA1c 7 3/7 mmol", [(7, "7"), (3, "3")]),
        ("Age 18+ 3 weeks", [(18, "18"), (3, "3")]),
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


# The patterns as first written; NUMBER and _ID_CHAIN take their first character out in front
# (so that `re` skips to digits) and must find exactly what these find.
_PLAIN_NUMBER = re.compile(
    r"(?<![\w./^*#\u00b7])(?<![A-Za-z]-)"
    r"(?:\d{1,2}(?:,\d{2})+,\d{3}(?![\d.])|\d{1,3}(?:,\d{3})+(?![\d.])|\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?=\s*(?:/|cells|per\b))"
    r"|\d+(?:\.\d+)?|\.\d+)"
)
_PLAIN_ID_CHAIN = re.compile(r"(?<!\d)\d+(?:-\d+){2,}|\b0\d{2,}\b|\b\d{4}-\d{4,}")
_PIECES = [*"0123456789.,- /aX^*#_\u00b7\u00a0\u202f\u0663", "cells", "per ", "A-", "1,000", "1,00,000", ",00", "0123", "2019-1234"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_PIECES), max_size=20).map("".join))
def test_numbers_patterns_find_what_the_plain_ones_find(text: str) -> None:
    assert [m.span() for m in NUMBER.finditer(text)] == [m.span() for m in _PLAIN_NUMBER.finditer(text)]
    assert [m.span() for m in _ID_CHAIN.finditer(text)] == [m.span() for m in _PLAIN_ID_CHAIN.finditer(text)]


@pytest.mark.parametrize("text", ["1-2-3 " * 300 + "4", "call 1-800-555-0199 or 2"])
def test_numbers_identifiers_are_skipped_in_one_pass(text: str) -> None:
    assert _numbers(text)[-1] in ((4, "4"), (2, "2")) and len(_numbers(text)) == 1
