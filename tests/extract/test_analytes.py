"""The analyte passes of extraction (candidates, compatibility, inheritance, fallback), each on
its own, on strings and hand-made mentions: no spaCy."""

from __future__ import annotations

import pytest

from critparse.extract.analytes import (
    Previous,
    Site,
    analyte_patterns,
    assign_analytes,
    candidate_mentions,
    compatible,
    derived_words,
    fallback,
    implied,
    inherit,
    is_threshold,
    not_a_threshold,
    prepare_mentions,
    restated_limit,
)
from critparse.extract.mentions import Expression, Mention, Quantity
from critparse.extract.quantities import ComparatorsBefore
from critparse.extract.rules import find_expressions
from critparse.lexicon.resources import default_resources


@pytest.fixture(scope="module")
def vocab():
    return default_resources().vocabulary


@pytest.fixture(scope="module")
def pats(vocab):
    return analyte_patterns(vocab)


def _mention(text: str, surface: str, name: str | None = None, **kw) -> Mention:
    start = text.index(surface)
    return Mention(start, start + len(surface), surface, name or surface.lower(), **kw)


def _expressions(text, vocab):
    return find_expressions(text, vocab, ComparatorsBefore(text, vocab), {})[1]


AGE = Mention(0, 0, "", "age", default_unit="a", own=False)


@pytest.mark.parametrize(
    ("mention_unit", "unit", "ok"),
    [("a", "a", True), ("a", "mg/dL", False), ("mg/dL", "a", False), ("mg/dL", "mg/dL", True),
     (None, "wk", True), ("a", "x ULN", False), ("mg/dL", "x ULN", True), ("a", None, True)],
)
def test_analytes_compatible_units(mention_unit, unit, ok):
    assert compatible(Mention(0, 1, "x", "x", default_unit=mention_unit), unit) is ok


@pytest.mark.parametrize(
    ("text", "surfaces", "expected"),
    [
        ("AST/ALT < 3x ULN", ["AST", "ALT"], ["ast", "alt"]),
        ("AST (SGOT) and ALT (SGPT) ≤ 2.5 x ULN", ["AST", "ALT"], ["ast", "alt"]),
        ("Creatinine normal, hemoglobin ≥ 9 g/dL", ["Creatinine", "hemoglobin"], ["hemoglobin"]),
        ("PSA doubling time < 10 months", ["PSA"], ["psa doubling time"]),
    ],
)
def test_analytes_candidates_are_the_closest_joined_run(vocab, pats, text, surfaces, expected):
    mentions = [_mention(text, s) for s in surfaces]
    (expr,) = _expressions(text, vocab)
    assert [m.name for m in candidate_mentions(text, mentions, 0, expr, pats)] == expected


@pytest.mark.parametrize("text", ["Minimum platelet count 100,000/µL"])
def test_analytes_candidates_take_a_leading_comparator(vocab, pats, text):
    mentions = [_mention(text, "platelet count", "platelets")]
    (expr,) = _expressions(text, vocab)
    assert expr.kind == "bare"
    candidate_mentions(text, mentions, 0, expr, pats, ComparatorsBefore(text, vocab))
    assert (expr.kind, expr.bounds[0][0], expr.start) == ("single", ">=", 0)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("Type 2 diabetes", "name"), ("cortisol drawn 8 AM", "name"),
     ("for participants with total bilirubin > 1.5 x ULN", "condition"),
     ("Karnofsky ≥ 50 for patients > 16 years", "condition"), ("Creatinine < 1.5 mg/dL", None)],
)
def test_analytes_not_a_threshold(vocab, pats, text, reason):
    exprs = _expressions(text, vocab)
    expr = exprs[-1]
    previous = Previous([Mention(0, 9, "Karnofsky", "karnofsky")], exprs[0].end, "other", exprs[0]) if len(exprs) > 1 else Previous()
    lo = previous.end
    assert not_a_threshold(Site(text, expr, lo, pats, vocab), [], previous) == reason


@pytest.mark.parametrize(("text", "carried"), [("Ferritin ≥ 100 ng/mL (225 pmol/L)", True), ("Ferritin ≥ 100 ng/mL", False)])
def test_analytes_restated_limit_keeps_comparator_and_analyte(vocab, pats, text, carried):
    exprs = _expressions(text, vocab)
    ferritin = _mention(text, "Ferritin")
    previous = Previous([ferritin], exprs[0].end, "other", exprs[0])
    if not carried:
        assert len(exprs) == 1
        return
    site = Site(text, exprs[1], previous.end, pats, vocab)
    assert restated_limit(site, [], previous) == [ferritin]
    assert (exprs[1].kind, exprs[1].bounds[0][0]) == ("single", ">=")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Age ≥ 18 and ≤ 65 years", ["age"]),  # the previous expression's analyte
        ("at least 2 prior regimens", ["prior regimens"]),  # a counted phrase right after
        ("≥ 18 years of age", ["age"]),  # a mention right after
    ],
)
def test_analytes_inherit(vocab, pats, text, expected):
    exprs = _expressions(text, vocab)
    mentions = [_mention(text, "age", "age", default_unit="a")] if "age" in text else []
    if text.startswith("Age"):
        mentions = [_mention(text, "Age", "age", default_unit="a")]
        previous = Previous(mentions, exprs[0].end, "time", exprs[0])
        expr = exprs[1]
    else:
        previous, expr = Previous(), exprs[0]
    group, _ = inherit(Site(text, expr, previous.end, pats, vocab), mentions, previous, len(text))
    assert [m.name for m in group] == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Women ≥ 18 years", ["age"]), ("Men and women aged 18 years or older", ["age"]),
     ("Women ≥ 2 years postmenopausal", [])],
)
def test_analytes_implied_age(vocab, pats, text, expected):
    (expr,) = _expressions(text, vocab)
    group = implied(Site(text, expr, 0, pats, vocab), {"age": AGE}, None, None)
    assert [m.name for m in group] == expected


@pytest.mark.parametrize("text", ["APC ≥ 1,500/µL"])
def test_analytes_implied_abbreviation(vocab, pats, text):
    (expr,) = _expressions(text, vocab)
    long_form = Mention(50, 74, "absolute phagocyte count", "absolute phagocyte count", in_lexicon=False)
    (found,) = implied(Site(text, expr, 0, pats, vocab), {}, {"APC": long_form}, None)
    assert (found.name, found.text, found.start) == ("absolute phagocyte count", "APC", 0)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("No more than 3 prior lines of systemic therapy", "prior lines of systemic therapy"),
        ("severe hypersensitivity (>= Grade 3)", "hypersensitivity"),  # severity is no part of the name
        ("Grade 3 or higher infusion reaction", "infusion reaction"),
        ("Patients must have a measurable lesion size ≥ 10 mm", "measurable lesion size"),
    ],
)
def test_analytes_fallback_keeps_the_words(vocab, pats, text, expected):
    expr = _expressions(text, vocab)[0]
    (found,) = fallback(Site(text, expr, 0, pats, vocab), Previous())
    assert found.name == expected and text[found.start : found.end] == found.text


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Patients must have adequate serum ferritin levels", "serum ferritin levels"), ("with the", None)],
)
def test_analytes_derived_words(pats, text, expected):
    found = derived_words(text, 0, len(text), pats)
    assert (found.name if found else None) == expected


@pytest.mark.parametrize(
    ("text", "surface", "expected"),
    [("SLEDAI-2K score", "K", []), ("non-HDL cholesterol", "HDL", []), ("sweat chloride", "chloride", ["sweat chloride"]),
     ("Tanner stage", "stage", ["tanner stage"]), ("Clinical stage", "stage", ["stage"])],
)
def test_analytes_prepare_mentions(vocab, text, surface, expected):
    found = prepare_mentions(text, [_mention(text, surface)], vocab)
    assert [m.name for m in found] == expected


@pytest.mark.parametrize(("text", "ok"), [("ECOG 2", True), ("ECOG performance status of 2", True), ("ECOG is assessed on visit 2", False)])
def test_analytes_bare_number_only_after_a_scale(text, ok):
    ecog = _mention(text, "ECOG", unitless=True)
    q = Quantity(2.0, text.rindex("2"), len(text))
    expr = Expression(q.start, q.end, [("=", q)], kind="bare", analytes=[ecog], anchor_end=ecog.end)
    assert is_threshold(text, expr) is ok


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Karnofsky ≥ 50 for patients > 16 years", [["karnofsky"], []]),
     ("AST and ALT ≤ 2.5 × ULN (≤ 5 × ULN if liver metastases)", [["ast", "alt"], ["ast", "alt"]])],
)
def test_analytes_assign_runs_every_pass(vocab, text, expected):
    names = {"Karnofsky": "karnofsky", "AST": "ast", "ALT": "alt"}
    mentions = [_mention(text, s, n) for s, n in names.items() if s in text]
    exprs = _expressions(text, vocab)
    assign_analytes(text, exprs, mentions, vocab, known={"age": AGE})
    assert [[m.name for m in e.analytes] for e in exprs] == expected
