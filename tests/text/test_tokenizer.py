from __future__ import annotations

import pytest
import spacy

from critparse.text.tokenizer import make_tokenizer


@pytest.fixture(scope="module")
def tokenize():
    nlp = spacy.blank("en")
    tokenizer = make_tokenizer(nlp)
    return lambda text: [t.text for t in tokenizer(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bilirubin ≤2.0mg/dL", ["Bilirubin", "≤", "2.0", "mg", "/", "dL"]),
        ("AST/ALT < 3x ULN", ["AST", "/", "ALT", "<", "3", "x", "ULN"]),
        ("ANC ≥ 1.5x10^9/L", ["ANC", "≥", "1.5", "x", "10", "^9/L"]),
        ("age>=18", ["age", ">=", "18"]),
        ("Hgb =< 9", ["Hgb", "=<", "9"]),
        ("AST(SGOT)/ALT(SGPT)", ["AST", "(", "SGOT", ")", "/", "ALT", "(", "SGPT", ")"]),
        ("transaminase-alanine", ["transaminase", "-", "alanine"]),
    ],
)
def test_tokenizer_splits_numbers_comparators_and_units(tokenize, text, expected):
    assert tokenize(text) == expected


@pytest.mark.parametrize("name", ["CD19", "HbA1c", "COVID-19", "BRCA1"])
def test_tokenizer_keeps_names_with_digits_whole(tokenize, name):
    assert name in tokenize(f"{name} positive") or "".join(tokenize(name)) == name


def test_tokenizer_shipped_artefact_matches_code(nlp):
    """models/critparse-pipeline must be rebuilt (python -m critparse.build) when the code changes."""
    fresh = make_tokenizer(spacy.blank("en"))
    assert nlp.tokenizer.prefix_search.__self__.pattern == fresh.prefix_search.__self__.pattern
    assert nlp.tokenizer.infix_finditer.__self__.pattern == fresh.infix_finditer.__self__.pattern
    assert nlp.tokenizer.suffix_search.__self__.pattern == fresh.suffix_search.__self__.pattern
    assert nlp.tokenizer.rules == fresh.rules


@pytest.mark.parametrize("string", ["'", "0.0", "C++", "D.C.", "XD"])
def test_tokenizer_idle_special_cases_are_left_out(string):
    # They split exactly as the affix rules do, and spaCy would re-apply them at every occurrence
    # (in `1'1'1'...`, at every other character).
    tokenizer = make_tokenizer(spacy.blank("en"))
    assert string not in tokenizer.rules and [t.text for t in tokenizer(string)] == [string]
    assert next(t.text for t in tokenizer(f"a {string}1{string}1 b")) == "a"


def test_tokenizer_special_cases_that_split_stay():
    tokenizer = make_tokenizer(spacy.blank("en"))
    assert {"''", "'s", "e.g.", "Dr."} <= set(tokenizer.rules)
