"""Time windows (`critparse.extract.temporal`) on hand-written criteria."""

from __future__ import annotations

import dataclasses
import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from critparse.errors import ResourceError
from critparse.extract.context import Folding
from critparse.extract.temporal import (
    TimeWindowRules,
    find_time_windows,
    find_windows_and_durations,
    load_time_windows,
)


@pytest.fixture(scope="module")
def windows() -> TimeWindowRules:
    return load_time_windows()


WINDOWS = [
    # text, window text, comparator, value, unit, anchor, relation
    ("Chemotherapy within 4 weeks before enrolment", "within 4 weeks before enrolment", "<=", 4, "wk", "enrolment", "before"),
    ("Myocardial infarction in the past 6 months", "in the past 6 months", "<=", 6, "mo", None, "before"),
    ("Stroke in the last 3 months", "in the last 3 months", "<=", 3, "mo", None, "before"),
    ("At least 28 days since prior chemotherapy", "At least 28 days since", ">=", 28, "d", None, "before"),
    ("Antibiotics prior to day 1", "prior to day 1", None, None, None, "day 1", "before"),
    ("Vaccination within 2 weeks of the first dose", "within 2 weeks of the first dose", "<=", 2, "wk", "first dose", None),
    ("More than 6 months since transplant", "More than 6 months since", ">", 6, "mo", None, "before"),
    ("Less than 3 months before randomization", "Less than 3 months before randomization", "<", 3, "mo", "randomization", "before"),
    ("Surgery within 14 days prior to the start of study treatment", "within 14 days prior to the start of study treatment", "<=", 14, "d", "study treatment", "before"),
    ("within six months of randomisation", "within six months of randomisation", "<=", 6, "mo", "randomization", None),
    ("Seizure within the past year", "within the past year", "<=", 1, "a", None, "before"),
    ("≥ 4 weeks since the last dose", "≥ 4 weeks since the last dose", ">=", 4, "wk", "last dose", "after"),
    ("at least 2 weeks before screening", "at least 2 weeks before screening", ">=", 2, "wk", "screening", "before"),
    ("within 72 hours before study entry", "within 72 hours before study entry", "<=", 72, "h", "study entry", "before"),
    ("within 30 minutes after registration", "within 30 minutes after registration", "<=", 30, "min", "registration", "after"),
    ("within 4wks of consent", "within 4wks of consent", "<=", 4, "wk", "consent", None),
    ("within 7 days before enrollment", "within 7 days before enrollment", "<=", 7, "d", "enrolment", "before"),
    ("Planned surgery during the study", "during the study", None, None, None, "study", None),
    ("no later than 2 weeks after the first dose", "no later than 2 weeks after the first dose", "<=", 2, "wk", "first dose", "after"),
    ("4 weeks prior to randomization", "4 weeks prior to randomization", "<=", 4, "wk", "randomization", "before"),
    ("Diabetes for at least 6 months", "for at least 6 months", ">=", 6, "mo", None, None),
    ("Platelet transfusion within a week", "within a week", "<=", 1, "wk", None, None),
]


@pytest.mark.parametrize(
    ("text", "window", "comparator", "value", "unit", "anchor", "relation"), WINDOWS, ids=[w[0] for w in WINDOWS]
)
def test_temporal_window(windows: TimeWindowRules, text: str, window: str, comparator, value, unit, anchor, relation) -> None:
    found = find_time_windows(text, windows)
    assert len(found) == 1
    w = found[0]
    assert (w.text, w.comparator, w.value, w.unit, w.anchor, w.relation) == (window, comparator, value, unit, anchor, relation)
    assert text[w.span.start : w.span.end] == w.text


NUMBER_WORDS = ["one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve"]


@pytest.mark.parametrize(("word", "value"), [(w, i + 1) for i, w in enumerate(NUMBER_WORDS)])
def test_temporal_number_words(windows: TimeWindowRules, word: str, value: int) -> None:
    (w,) = find_time_windows(f"within {word} months before randomization", windows)
    assert (w.value, w.unit, w.comparator) == (value, "mo", "<=")


@pytest.mark.parametrize("text", ["Within 4 weeks", "WITHIN 4 WEEKS", "within  4\nweeks", "within 4-weeks"])
def test_temporal_case_and_space(windows: TimeWindowRules, text: str) -> None:
    (w,) = find_time_windows(text, windows)
    assert (w.value, w.unit) == (4, "wk")


NOT_WINDOWS = [
    "Life expectancy of at least 12 weeks",
    "Life expectancy > 3 months",
    "Age 18-65 years",
    "Creatinine < 2.5 mg/dl",
    "Stage III-IV disease",
    "Prior to",
    "COVID-19 vaccine",
]


@pytest.mark.parametrize("text", NOT_WINDOWS)
def test_temporal_not_a_window(windows: TimeWindowRules, text: str) -> None:
    assert find_time_windows(text, windows) == []


@pytest.mark.parametrize("text", ["within 4 weeks before enrolment or 2 weeks after surgery"])
def test_temporal_two_windows(windows: TimeWindowRules, text: str) -> None:
    assert [w.text for w in find_time_windows(text, windows)] == ["within 4 weeks before enrolment", "2 weeks after"]


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "windows.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _minimal() -> dict:
    return {
        "leads": [{"phrase": "within", "comparator": "<="}],
        "relations": [{"phrase": "before", "relation": "before"}],
        "anchors": [{"phrase": "day 1", "anchor": "day 1"}],
        "fillers": ["the"],
        "units": [{"unit": "wk", "singular": ["week"], "plural": ["weeks"]}],
        "numbers": {"two": 2},
    }


@pytest.mark.parametrize("text", ["within two weeks before the day 1"])
def test_temporal_custom_file(tmp_path: Path, text: str) -> None:
    (w,) = find_time_windows(text, load_time_windows(_write(tmp_path, _minimal())))
    assert (w.comparator, w.value, w.unit, w.anchor, w.relation) == ("<=", 2, "wk", "day 1", "before")


@pytest.mark.parametrize("bad_unit", ["weeks", "w"])
def test_temporal_bad_file_lists_every_problem(tmp_path: Path, bad_unit: str) -> None:
    data = _minimal()
    data["leads"].append({"phrase": "at least", "comparator": "=>", "colour": "red"})
    data["units"][0]["unit"] = bad_unit
    path = _write(tmp_path, data)
    with pytest.raises(ResourceError) as info:
        load_time_windows(path)
    message = str(info.value)
    assert str(path) in message
    assert "lead 1: comparator" in message and "lead 1: colour" in message and "unit 0: unit" in message
    assert "valid lead keys: after_comparator, comparator, needs_relation, period, phrase, relation" in message


@pytest.mark.parametrize("phrase", ["before", "BEFORE "])
def test_temporal_phrase_in_two_lists_rejected(tmp_path: Path, phrase: str) -> None:
    data = _minimal()
    data["fillers"].append(phrase)
    with pytest.raises(ResourceError, match="already listed as a relation"):
        load_time_windows(_write(tmp_path, data))


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_temporal_any_text_never_raises(windows: TimeWindowRules, text: str) -> None:
    for w in find_time_windows(text, windows):
        assert text[w.span.start : w.span.end] == w.text


PIECES = ["within", "prior to", "of", "in", "the", "past", "first dose", "day 1", "randomization", "start of", "4", "six",
          "weeks", "d", "y", "year", "-", "–", " ", "\n", "at least", "since", "elapsed", "must have", "ago", "(", "a", "Within"]


@given(st.lists(st.sampled_from(PIECES), max_size=14).map(lambda parts: " ".join(parts).replace(" - ", "-")) | st.text(max_size=80))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_temporal_needed_gate_skips_only_texts_without_windows(windows: TimeWindowRules, text: str) -> None:
    """A text the `needed` pattern does not match is skipped: it must be one with no window."""
    ungated = dataclasses.replace(windows, needed=Folding(re.compile(""), None), memo={}, number_memo={})
    assert find_windows_and_durations(text, windows) == find_windows_and_durations(text, ungated)


@given(st.lists(st.sampled_from(PIECES), max_size=14).map(lambda parts: " ".join(parts).replace(" - ", "-")) | st.text(max_size=80))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_temporal_windows_built_unchecked_are_what_validation_builds(windows: TimeWindowRules, text: str) -> None:
    """Windows are built without validating again; validating their fields gives the same model and JSON."""
    from critparse.model.concept import TimeWindow

    found, durations = find_windows_and_durations(text, windows)
    for w in (*found, *durations):
        checked = TimeWindow.model_validate(w.model_dump())
        assert checked == w
        assert checked.model_dump_json() == w.model_dump_json()
        assert checked.model_fields_set == w.model_fields_set


@given(st.lists(st.sampled_from([*PIECES, "2", "3", "7-14", "or", "half-lives", "a", "of the", "quality of life", "after"]), max_size=14).map(" ".join) | st.text(max_size=80))
@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_temporal_lexemes_skipped_only_where_no_window_starts(windows: TimeWindowRules, text: str) -> None:
    """A lone number or a relation word that needs a duration is passed over unread: reading it finds no window either."""
    from critparse.extract import temporal

    fast = find_windows_and_durations(text, windows)
    saved = temporal._opens_nothing
    temporal._opens_nothing = lambda lexemes, pos: lexemes[pos].entry.kind in temporal._NO_OPENING  # every other lexeme read
    try:
        assert find_windows_and_durations(text, windows) == fast
    finally:
        temporal._opens_nothing = saved


ADVERSARIAL = [
    "within 4 weeks before ",
    "within within the past in the last at least more than ",
    "4 ",
    "1",
    "1.",
    "prior to the the the the ",
    "week(s) ",
    "within" + " " * 50,
]


@pytest.mark.parametrize("fragment", ADVERSARIAL)
def test_temporal_worst_case_is_fast(windows: TimeWindowRules, fragment: str) -> None:
    text = (fragment * (20_000 // len(fragment) + 1))[:20_000]
    started = time.perf_counter()
    find_time_windows(text, windows)
    assert time.perf_counter() - started < 5.0
