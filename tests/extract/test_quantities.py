"""The pure quantity functions (step 1 of extraction), tested on strings without spaCy."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from critparse.extract.mentions import Mention
from critparse.extract.quantities import (
    _STAGED,
    ComparatorsBefore,
    find_bare_limits,
    find_blood_pressure,
    find_number_words,
    find_quantities,
    find_staged,
)
from critparse.lexicon.resources import default_resources


@pytest.fixture(scope="module")
def vocab():
    return default_resources().vocabulary


def _quantities(text, vocab):
    return [(q.value, q.unit, text[q.start : q.end]) for q in find_quantities(text, vocab)]


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
def test_quantities_numbers_and_units(vocab, text, expected):
    assert _quantities(text, vocab) == expected


@pytest.mark.parametrize(
    ("text", "value", "unit_text"),
    [
        ("10^123 copies/mL", 1e123, "10^123 copies/mL"),
        ("10^400 IU/mL", float("inf"), "10^400 IU/mL"),
        ("10⁴⁰⁰ IU/mL", float("inf"), "10⁴⁰⁰ IU/mL"),
        ("1 x 10^400 IU/mL", float("inf"), "1 x 10^400 IU/mL"),
    ],
)
def test_quantities_powers_of_ten_read_their_whole_exponent(vocab, text, value, unit_text):
    # '10^400' is not 1e40 with a stray '0': too large is infinite (dropped with a diagnostic), never an error
    ((found, _, surface),) = _quantities(text, vocab)
    assert found == value and surface == unit_text


@pytest.mark.parametrize(
    ("text", "unit", "unit_text"),
    [
        ("2 x 10^9 cells/L", "10*9/L", "10^9 cells/L"),
        ("4 x 10(9)/litre", "10*9/L", "10(9)/litre"),
        ("100 x 10³/µL", "10*3/uL", "10³/µL"),
        ("150 x 10^3 per mm3", "10*3/mm3", "10^3 per mm3"),
        ("5 blasts/mm3", "/mm3", "blasts/mm3"),
        ("20 parasites/µL", "/uL", "parasites/µL"),
    ],
)
def test_quantities_count_units(vocab, text, unit, unit_text):
    (q,) = find_quantities(text, vocab)
    assert (q.unit, q.unit_text) == (unit, unit_text)


@pytest.mark.parametrize(
    ("text", "unit"),
    [("3 x institutional ULN", "x ULN"), ("2.5 × upper normal limit", "x ULN"), ("1.2 x lower limit of normal", "x LLN"),
     ("5 times the upper limit of the normal range (ULN)", "x ULN"), ("3 fold ULN", "x ULN")],
)
def test_quantities_limit_of_normal_aliases(vocab, text, unit):
    (q,) = find_quantities(text, vocab)
    assert q.unit == unit and q.end == len(text)


@pytest.mark.parametrize(
    "text", ["CD19", "COVID-19", "HbA1c", "2nd line", "5-FU", "1-800-555-0199", "2019-001234-56", "BRCA1"]
)
def test_quantities_names_and_identifiers_are_not_values(vocab, text):
    assert _quantities(text, vocab) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("more than two prior lines", [(2, None)]), ("three or more cycles", [(3, None)]), ("at least one lesion", []),
        # 'one' is a count after any comparator but 'at least', or before what a count counts
        ("more than one lesion", [(1, None)]), ("at least one prior regimen", [(1, None)]),
        ("at least one but no more than three", [(1, None), (3, None)]), ("one prior regimen", []),
        ("at least one of the following", []), ("less than one year", [(1, "a")]),
    ],
)
def test_quantities_number_words_need_a_comparator(vocab, text, expected):
    found = find_number_words(text, vocab, ComparatorsBefore(text, vocab))
    assert [(q.value, q.unit) for q in found] == expected


@pytest.mark.parametrize(
    ("text", "bounds"),
    [("Stage III-IV", [(">=", 3), ("<=", 4)]), ("NYHA class II or III", [(">=", 2), ("<=", 3)]),
     ("stage IV", [("=", 4)]), ("Grade ≥ II", [(">=", 2)])],
)
def test_quantities_roman_numerals_after_scale_words(text, bounds):
    (expr,) = find_staged(text)
    assert [(c, q.value) for c, q in expr.bounds] == bounds


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Albumin ≥ LLN", [(">=", "x LLN")]), ("bilirubin ≤ the institutional upper limit of normal", [("<=", "x ULN")]),
     ("ULN values", [])],
)
def test_quantities_bare_limits(vocab, text, expected):
    found = find_bare_limits(text, [], ComparatorsBefore(text, vocab), vocab)
    assert [(e.bounds[0][0], e.bounds[0][1].unit) for e in found] == expected


@pytest.mark.parametrize("text", ["BP ≤ 140/90 mmHg", "blood pressure 140/90 mm Hg or lower"])
def test_quantities_blood_pressure_pairs(vocab, text):
    names = vocab.words.pattern_analytes
    known = {n: Mention(0, 0, "", n, own=False) for n in (names.systolic, names.diastolic)}
    found = find_blood_pressure(text, vocab, ComparatorsBefore(text, vocab), known)
    assert [(e.analytes[0].name, e.bounds[0][0], e.bounds[0][1].value) for e in found] == [
        (names.systolic, "<=", 140), (names.diastolic, "<=", 90)
    ]


_PLAIN_STAGED = re.compile(  # as first written; _STAGED puts the word's first letter in front
    r"\b(?P<word>(?i:stage|stages|class|classes|grade|grades|NYHA|ASA|physical\s+status))\s*[:=]?\s*"
    r"(?P<cmp>≥|≤|>=|<=|>|<)?\s*"
    r"(?P<a>IV|V|I{1,3})(?:[A-Ca-c]\d?)?(?![A-Za-z0-9])"
    r"(?:\s*(?P<sep>-|–|—|(?i:to|through|or|and)|/|,)\s*(?:(?i:stage|class)\s+)?(?P<b>IV|V|I{1,3})(?:[A-Ca-c]\d?)?(?![A-Za-z0-9]))?"
)
_STAGE_PIECES = ["stage", "Stage", "STAGES", "\u017ftage", "cla\u017fs", "classes", "grade", "NYHA", "asa", "ASA",
                 "physical  status", " ", "II", "IV", "V", "IIIb", "-", "to", "or", ":", "≥", "x", "1", "_", "é"]


@settings(max_examples=3000, deadline=None)
@given(st.lists(st.sampled_from(_STAGE_PIECES), max_size=12).map("".join))
def test_quantities_staged_pattern_finds_what_the_plain_one_finds(text: str) -> None:
    def found(pattern: re.Pattern[str]) -> list[tuple[tuple[int, int], dict[str, str | None]]]:
        return [(m.span(), m.groupdict()) for m in pattern.finditer(text)]

    assert found(_STAGED) == found(_PLAIN_STAGED)
