"""ConText cue rules and their scopes (`critparse.extract.context`), on hand-written criteria."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from critparse.errors import ResourceError
from critparse.extract.context import (
    ContextFlags,
    ContextRules,
    apply_context,
    find_cues,
    folding,
    load_context_rules,
)


@pytest.fixture(scope="module")
def rules() -> ContextRules:
    return load_context_rules()


def flags_of(text: str, target: str, rules: ContextRules) -> ContextFlags:
    start = text.index(target)
    return apply_context(text, [(start, start + len(target))], rules)[0]


BRIEF_LITERALS = [
    "no", "no prior", "no history of", "without", "free of", "negative for", "absence of", "not",
    "never", "non-", "denies", "ruled out", "no evidence of", "has not received", "must not have",
    "other than", "except", "but", ";", "history of", "past history", "prior history",
    "family history of", "suspected", "suspicion of", "possible", "probable", "planned",
    "scheduled", "anticipated", "expected to require", "risk of", "at risk for", "unless", "if",
    "not only", "no change", "not necessarily", "no increase", "gram negative",
    "negative pregnancy test",
]


@pytest.mark.parametrize("literal", BRIEF_LITERALS)
def test_context_rules_bundled_literal(rules: ContextRules, literal: str) -> None:
    assert literal in rules.by_key


NEGATIONS = [
    ("No diabetes", "diabetes"),
    ("No prior chemotherapy", "chemotherapy"),
    ("No history of stroke", "stroke"),
    ("Patients without a pacemaker", "pacemaker"),
    ("Must be free of active infection", "infection"),
    ("Negative for HIV", "HIV"),
    ("Absence of brain metastases", "brain metastases"),
    ("Not pregnant", "pregnant"),
    ("Never smoked tobacco", "tobacco"),
    ("non-smoker", "smoker"),
    ("Denies chest pain", "chest pain"),
    ("Tuberculosis ruled out", "Tuberculosis"),
    ("No evidence of disease progression", "disease progression"),
    ("Has not received rituximab", "rituximab"),
    ("Must not have hepatitis B", "hepatitis B"),
]


@pytest.mark.parametrize(("text", "target"), NEGATIONS, ids=[t for t, _ in NEGATIONS])
def test_context_negation_cue(rules: ContextRules, text: str, target: str) -> None:
    assert flags_of(text, target, rules).negated


TERMINATED = [
    ("No malignancy other than basal cell carcinoma", "basal cell carcinoma"),
    ("No prior malignancy except cervical carcinoma in situ", "cervical carcinoma in situ"),
    ("No fever but cough", "cough"),
    ("No fever; cough", "cough"),
    ("No fever. Cough", "Cough"),
    ("No chemotherapy unless given as adjuvant", "adjuvant"),
]


@pytest.mark.parametrize(("text", "target"), TERMINATED, ids=[t for t, _ in TERMINATED])
def test_context_scope_ends_at_terminator(rules: ContextRules, text: str, target: str) -> None:
    assert not flags_of(text, target, rules).negated


MODALITIES = [
    ("History of myocardial infarction", "myocardial infarction", "history"),
    ("Past history of tuberculosis", "tuberculosis", "history"),
    ("Prior history of stroke", "stroke", "history"),
    ("Suspected pneumonia", "pneumonia", "suspected"),
    ("Suspicion of sepsis", "sepsis", "suspected"),
    ("Possible COVID-19", "COVID-19", "suspected"),
    ("Probable Alzheimer's disease", "Alzheimer's disease", "suspected"),
    ("Planned surgery", "surgery", "planned"),
    ("Surgery planned during the study", "Surgery", "planned"),
    ("Scheduled transplant", "transplant", "planned"),
    ("Anticipated need for dialysis", "dialysis", "planned"),
    ("Expected to require mechanical ventilation", "mechanical ventilation", "planned"),
    ("Increased risk of bleeding", "bleeding", "hypothetical"),
    ("Patients at risk for falls", "falls", "hypothetical"),
    ("≤ 5 × ULN if liver metastases are present", "liver metastases", "hypothetical"),
    ("Excluded unless hepatitis B is controlled", "hepatitis B", "hypothetical"),
    ("No malignancy other than basal cell carcinoma", "basal cell carcinoma", "hypothetical"),
]


@pytest.mark.parametrize(("text", "target", "modality"), MODALITIES, ids=[t for t, _, _ in MODALITIES])
def test_context_modality_cue(rules: ContextRules, text: str, target: str, modality: str) -> None:
    assert flags_of(text, target, rules).modality == modality


@pytest.mark.parametrize("text", ["Family history of breast cancer"])
def test_context_family_history(rules: ContextRules, text: str) -> None:
    flags = flags_of(text, "breast cancer", rules)
    assert (flags.subject, flags.modality, flags.negated) == ("family", "history", False)


@pytest.mark.parametrize(
    ("text", "target"),
    [("First-degree relative with ovarian cancer", "ovarian cancer")],
)
def test_context_relative_is_family_without_history(rules: ContextRules, text: str, target: str) -> None:
    flags = flags_of(text, target, rules)
    assert (flags.subject, flags.modality) == ("family", None)


@pytest.mark.parametrize("text", ["No history of stroke", "no history of  stroke"])
def test_context_no_history_is_negated_history(rules: ContextRules, text: str) -> None:
    flags = flags_of(text, "stroke", rules)
    assert flags.negated and flags.modality == "history"


@pytest.mark.parametrize("text", ["Prior chemotherapy", "Previous radiotherapy"])
def test_context_prior_is_no_history_cue(rules: ContextRules, text: str) -> None:
    assert flags_of(text, text.split()[1], rules).modality is None


PSEUDO = [
    ("Not only diabetes", "diabetes"),
    ("No change in thyroid function", "thyroid function"),
    ("Not necessarily metastatic disease", "metastatic disease"),
    ("No increase in proteinuria", "proteinuria"),
    ("Gram negative bacteremia", "bacteremia"),
    ("Must have a negative pregnancy test", "pregnancy test"),
    ("Negative serum pregnancy test within 72 hours", "pregnancy test"),
    ("No more than 2 prior lines of chemotherapy", "chemotherapy"),
    ("Including but not limited to lupus", "lupus"),
    ("Non-Hodgkin lymphoma", "Hodgkin lymphoma"),
    ("HER2-negative breast cancer", "breast cancer"),
]


@pytest.mark.parametrize(("text", "target"), PSEUDO, ids=[t for t, _ in PSEUDO])
def test_context_pseudo_cue_negates_nothing(rules: ContextRules, text: str, target: str) -> None:
    assert not flags_of(text, target, rules).negated


@pytest.mark.parametrize(("text", "target"), [("non-smoker with diabetes", "diabetes")])
def test_context_fused_prefix_reaches_one_word(rules: ContextRules, text: str, target: str) -> None:
    assert flags_of(text, "smoker", rules).negated
    assert not flags_of(text, target, rules).negated


@pytest.mark.parametrize("text", ["Non-Hodgkin lymphoma"])
def test_context_cue_inside_target_does_not_apply(rules: ContextRules, text: str) -> None:
    assert not flags_of(text, text, rules).negated


@pytest.mark.parametrize("text", ["No history of diabetes, hypertension or stroke"])
def test_context_negation_covers_a_list(rules: ContextRules, text: str) -> None:
    for target in ("diabetes", "hypertension", "stroke"):
        flags = flags_of(text, target, rules)
        assert flags.negated and flags.modality == "history", target


@pytest.mark.parametrize("text", ["Patients with no fever"])
def test_context_cue_spans_slice_back(rules: ContextRules, text: str) -> None:
    flags = flags_of(text, "fever", rules)
    assert [(c.text, c.category) for c in flags.cues] == [("no", "NEGATED_EXISTENCE")]
    assert all(text[c.start : c.end] == c.text for c in flags.cues)


@pytest.mark.parametrize("text", ["No  HISTORY   of stroke", "no history\n of stroke"])
def test_context_cues_case_and_space_insensitive(rules: ContextRules, text: str) -> None:
    cues = find_cues(text, rules)
    assert cues[0].text == text[: text.index(" stroke")]
    assert {r.category for r in cues[0].rules} == {"NEGATED_EXISTENCE", "HISTORICAL"}


@pytest.mark.parametrize("text", ["", "diabetes"])
def test_context_no_targets_gives_no_flags(rules: ContextRules, text: str) -> None:
    assert apply_context(text, [], rules) == []


@pytest.mark.parametrize("text", ["diabetes", "Diabetes mellitus type 2"])
def test_context_no_cue_gives_default_flags(rules: ContextRules, text: str) -> None:
    assert apply_context(text, [(0, 8)], rules) == [ContextFlags()]


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("bad_key", ["diretion"])
def test_context_rules_bad_file_lists_every_problem(tmp_path: Path, bad_key: str) -> None:
    path = _write(tmp_path, {
        "default_max_scope": 10,
        "context_rules": [
            {"literal": "no", "category": "NEGATED_EXISTENCE", "direction": "FORWARD"},
            {"literal": "never", "category": "NEGATED_EXISTENCE", bad_key: "FORWARD"},
            {"literal": "but", "category": "SOMETHING", "direction": "TERMINATE"},
            {"literal": "no", "category": "NEGATED_EXISTENCE", "direction": "FORWARD"},
        ],
    })
    with pytest.raises(ResourceError) as info:
        load_context_rules(path)
    message = str(info.value)
    assert str(path) in message
    assert "rule 1" in message and bad_key in message
    assert "rule 2" in message and "category" in message
    assert "rule 3: repeats rule 0" in message
    assert "valid rule keys: category, direction, literal, max_scope" in message


@pytest.mark.parametrize(
    "rule",
    [
        {"literal": ";", "category": "TERMINATE", "direction": "FORWARD"},
        {"literal": "x", "category": "PSEUDO", "direction": "FORWARD"},
        {"literal": "x", "category": "PSEUDO", "direction": "PSEUDO", "max_scope": 2},
        {"literal": " no", "category": "NEGATED_EXISTENCE", "direction": "FORWARD"},
    ],
)
def test_context_rules_inconsistent_rule_rejected(tmp_path: Path, rule: dict) -> None:
    with pytest.raises(ResourceError, match="rule 0"):
        load_context_rules(_write(tmp_path, {"default_max_scope": 5, "context_rules": [rule]}))


@pytest.mark.parametrize("path", ["does/not/exist.json"])
def test_context_rules_unreadable_file(path: str) -> None:
    with pytest.raises(ResourceError, match="cannot read"):
        load_context_rules(path)


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_context_any_text_never_raises(rules: ContextRules, text: str) -> None:
    targets = [(i, min(len(text), i + 3)) for i in range(0, len(text), 7)]
    flags = apply_context(text, targets, rules)
    assert len(flags) == len(targets)
    for f in flags:
        assert all(text[c.start : c.end] == c.text for c in f.cues)


@pytest.mark.parametrize("seconds", [10.0])
def test_context_worst_case_is_fast(rules: ContextRules, seconds: float) -> None:
    fragments = "no history of not non- without ; but e.g. suspected family history of unless if "
    text = (fragments * (20_000 // len(fragments) + 1))[:20_000]
    targets = [(i, i + 2) for i in range(0, len(text) - 2, 5)]
    started = time.perf_counter()
    apply_context(text, targets, rules)
    assert time.perf_counter() - started < seconds


def _scans() -> list:
    from critparse.extract.concepts import load_concept_resources

    found = load_concept_resources()
    heads, windows = found.heads, found.windows
    return [found.context.scan, heads.qualifier_scan, heads.allergy_scan, heads.allergy_any, heads.method_any,
            windows.needed, *windows.scans]


SCAN_WORDS = ["No", "HISTORY of", "Hypersensitivity To", "within", "4", "Weeks", "PRIOR TO", "Day 1", "active", "as confirmed by",
              "e.g.", ".", "\n", "-", "İ", "ſ", "K", "≥", "Uncontrolled", "non-", "(", ")"]


@given(st.lists(st.sampled_from(SCAN_WORDS), max_size=20).map(" ".join) | st.text(max_size=60))
@settings(max_examples=300, deadline=None)
def test_context_folding_twin_matches_as_the_pattern(text: str) -> None:
    """A lower-case twin finds the same spans in the lower-cased text as its pattern in the text."""
    for scan in SCANS:
        assert scan.twin is not None
        pattern, target = scan.on(text)
        assert [m.span() for m in pattern.finditer(target)] == [m.span() for m in scan.pattern.finditer(text)]


SCANS = _scans()


@pytest.mark.parametrize(("source", "flags"), [(r"[A-Z]x", re.IGNORECASE), ("k\u212a", re.IGNORECASE), ("abc", 0)])
def test_context_folding_no_twin_when_unsafe(source: str, flags: int) -> None:
    assert folding(re.compile(source, flags)).twin is None
