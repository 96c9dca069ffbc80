"""Every shortcut of the concept pass finds what the plain reading finds: the roles laid on in
layers (not token by token), the role passes skipped when no token can need them, segments with
nothing to trim, segments that can name nothing, the head-word memo read in C, the allergy scan
skipped when no cue is written as a substring, and the digit read before the time-window gate."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from critparse.extract import concepts as module
from critparse.extract import temporal
from critparse.extract.concepts import read_concepts
from critparse.extract.context import Folding
from critparse.lexicon.resources import default_resources

ROOT = Path(__file__).resolve().parents[2]
RES = default_resources()
RULES = RES.memo("concept_rules", module.load_concept_resources)
HEADS = RULES.heads
WORDS = [
    "allergy to", "hypersensitivity", "Allergic", "reaction", "to", "A", "a", "the", "of", "and", "or", "and/or",
    ",", "(", ")", "CNS", "grade", "stage", "3", "III-IV", "class", "II", "HER2-positive", "positive", "ER",
    "breast", "ovarian", "cancer", "hepatitis", "B", "C", "infection", "no", "history", "within", "4", "weeks",
    "prior", "first dose", "months", "diabetes", "metformin", "therapy", "disease", "as confirmed by", "flow",
    "cytometry", "vitamin", "ΑΣ", "İ", "-", "/", "<", "2.5", "x", "ULN", "AST", "ALT", "platelets", ">=", "100",
    "Women", "with", "type", "1", "second-", "degree", "block", "any", "other", "caused by", "Pseudomonas",
]
TEXTS = st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from([" ", " ", ", ", "-", "", "\t", "; "])), max_size=24).map(
    lambda parts: "".join(w + s for w, s in parts)
)


def _word_roles_plainly(tokens, term_of, qual_of, mask, heads, bounds):  # type: ignore[no-untyped-def]
    """Token by token, left to right: a term's, a stop under a cue or window, a qualifier, else by its word."""
    roles = []
    previous = module._STOP
    for tok, owner, qual in zip(tokens, term_of, qual_of, strict=True):
        if owner >= 0:
            previous = module._TERM
        elif mask.find(1, tok.start, tok.end) >= 0:
            previous = module._STOP
        elif qual >= 0:
            previous = module._QUAL
        elif tok.low in heads.coordinators:
            previous = module._SEP
        elif tok.low in heads.determiners and not (tok.text == "A" and previous in module._NAME_ROLES):
            previous = module._DET
        elif not tok.text[0].isalnum() or tok.low in heads.stop_words:
            previous = module._STOP
        else:
            previous = module._CONTENT
        roles.append(previous)
    return roles


def _roles_plainly(doc_text, tokens, terms, mask, heads, bounds):  # type: ignore[no-untyped-def]
    """Every role pass over every token, needed or not."""
    pattern, target = heads.qualifier_scan.on(doc_text)
    quals = [m.span() for m in pattern.finditer(target)]
    term_of = module._owners(*bounds, [(t.start, t.end) for t in terms], inside=False)
    qual_of = module._owners(*bounds, quals, inside=True)
    roles = module._word_roles(tokens, term_of, qual_of, mask, heads, bounds)
    for k in range(1, len(tokens) - 1):
        if roles[k] is module._DET and tokens[k - 1].low == "of" and roles[k + 1] in module._NAME_ROLES:
            roles[k] = module._CONTENT
    if "(" in doc_text:
        module._inner_abbreviations(tokens, roles)
    module._stop_scales(tokens, roles, heads)
    return roles, term_of, qual_of, [module._norm(doc_text[a:b]) for a, b in quals]


def _segments_plainly(doc):  # type: ignore[no-untyped-def]
    out = []
    for run in module._NAME_RUN.finditer(doc.role_runs):
        k, j = run.start(), run.end() - 1
        joined = module._parenthesised_result(doc, out, k)
        if joined is not None:
            out.append(joined)
            k += 1
            if k > j:
                continue
        out.extend(module._split_results(doc, k, j))
    return out


def _head_types_plainly(tokens, heads):  # type: ignore[no-untyped-def]
    return [heads.head_type(t.text) for t in tokens]


@contextmanager
def _plainly() -> Iterator[module.ConceptResources]:
    """The module with its shortcuts taken out, and resources whose allergy pre-test always passes."""
    names = ("_word_roles", "_roles", "_head_types", "_filled_segments")
    saved = {name: getattr(module, name) for name in names}
    digit = temporal._DIGIT

    def filled_plainly(doc):  # type: ignore[no-untyped-def]
        segments = _segments_plainly(doc)
        for seg in segments:
            module._fill_segment(doc, seg)
        return segments

    module._word_roles = _word_roles_plainly  # type: ignore[assignment]
    module._roles = _roles_plainly  # type: ignore[assignment]
    module._head_types = _head_types_plainly  # type: ignore[assignment]
    module._filled_segments = filled_plainly  # type: ignore[assignment]
    temporal._DIGIT = re.compile(r"(?!)")  # never found: the gate is read as it was
    try:
        yield dataclasses.replace(RULES, heads=dataclasses.replace(HEADS, allergy_any=Folding(re.compile(""), None)))
    finally:
        for name, value in saved.items():
            setattr(module, name, value)
        temporal._DIGIT = digit


def _both(text: str) -> tuple[object, object]:
    fast = read_concepts(text, RES.concepts, RULES)
    with _plainly() as plain_rules:
        slow = read_concepts(text, RES.concepts, plain_rules)
    return fast, slow


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_concept_shortcuts_read_as_the_plain_reading(text: str) -> None:
    fast, slow = _both(text)
    assert fast == slow


@pytest.mark.parametrize("text", [
    json.loads(line)["text"] for line in (ROOT / "benchmarks" / "data" / "bullets.jsonl").read_text("utf-8").splitlines()[:300] if line.strip()
])
def test_concept_shortcuts_read_real_bullets_as_the_plain_reading(text: str) -> None:
    fast, slow = _both(text)
    assert fast == slow


@settings(max_examples=400, deadline=None)
@given(TEXTS, st.data())
def test_concept_shortcuts_word_roles_in_layers_are_the_token_by_token_roles(text: str, data: st.DataObject) -> None:
    """Terms, qualifiers and masked characters anywhere, overlapping or not."""
    tokens = module._tokenize(text)
    bounds = ([t.start for t in tokens], [t.end for t in tokens])
    term_of = [data.draw(st.sampled_from([-1, -1, -1, 0, 1])) for _ in tokens]
    qual_of = [data.draw(st.sampled_from([-1, -1, -1, 0])) for _ in tokens]
    mask = bytearray(len(text))
    for a, b in data.draw(st.lists(st.tuples(st.integers(0, len(text)), st.integers(0, 6)), max_size=2)):
        mask[a : a + b] = b"\x01" * len(mask[a : a + b])
    fast = module._word_roles(tokens, term_of, qual_of, mask, HEADS, bounds)
    assert fast == _word_roles_plainly(tokens, term_of, qual_of, mask, HEADS, bounds)


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_concept_shortcuts_allergy_cues_lie_in_the_plain_substrings(text: str) -> None:
    """No substring of `allergy_any`: the allergy scan finds nothing either."""
    assert HEADS.allergy_any.search(text) is not None or module._allergy_spans(text, HEADS) == []
    assert HEADS.allergy_any.search(text.upper()) is not None or module._allergy_spans(text.upper(), HEADS) == []


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789٣ab ", max_size=12))
def test_concept_shortcuts_a_digit_opens_the_window_gate(text: str) -> None:
    gate = RULES.windows.scans[1]
    assert temporal._DIGIT.search(text) is None or gate.search(text) is not None
