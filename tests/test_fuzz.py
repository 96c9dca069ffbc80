"""Property tests: no text crashes the parser, and what it returns is self-consistent."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import critparse

PIECES = st.sampled_from(
    ["AST", "ALT", "/", " and ", " or ", "<", "≤", ">=", "at least", "or more", " ", "-", "–", "x", "×",
     "ULN", "10^9/L", "mg/dL", "%", "years", "(", ")", ",", ";", "ECOG", "Stage", "III", "IV", "0", "1.5",
     "18", "1,500", "100 000", "/mm3", "between", "to", "platelets", "age", "≥", "\n", "CD19", "e.g."]
)
criterion_like = st.lists(PIECES, max_size=25).map("".join)


def _check(result, text):
    assert result.text == text
    assert result.rules or result.no_threshold_reason
    for rule in result.rules:
        assert 0 <= rule.span.start <= rule.span.end <= len(text)
        assert text[rule.span.start : rule.span.end] == rule.text
        assert rule.comparator in {"<", "<=", ">", ">=", "=", "!="}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300))
def test_fuzz_any_text(nlp, text):
    _check(critparse.parse(text, nlp=nlp), text)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=criterion_like)
def test_fuzz_criterion_like_text(nlp, text):
    _check(critparse.parse(text, nlp=nlp), text)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(st.one_of(st.text(max_size=80), criterion_like), max_size=30))
def test_fuzz_batch_count_in_equals_count_out(nlp, texts):
    results = list(critparse.parse_many(texts, nlp=nlp, batch_size=4))
    assert [r.text for r in results] == texts
