"""The phrase scan rules out only texts the analyte matchers find nothing in: the tokenizer splits
a run of letters only by a special case (the claim the scan's word boundaries rest on), and on
corpus bullets and made-up texts built from lexicon phrases the scan never says no where the
matchers find a phrase."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from critparse.text.phrase_scan import PhraseScan
from critparse.text.tokenizer import letter_splits

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
GLUE = " \t-/()[],.;:+*^'\"<>=≤≥%°µé×K0123456789aZ"
"""Characters put around phrase pieces: every kind the affix rules split at, letters, digits."""


def _corpus_texts() -> list[str]:
    texts: set[str] = set()
    for path in sorted(CORPUS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.add(json.loads(line)["text"])
    return sorted(texts)


@pytest.fixture(scope="module")
def extractor(nlp):
    found = nlp.get_pipe("critparse_rules")
    assert found.may_name_analyte("no such words") is False  # the scan is on for critparse's tokenizer
    return found


@pytest.fixture(scope="module")
def pieces(extractor) -> list[str]:
    """Lexicon phrases, their words and parts of words, for texts close to a match."""
    out: set[str] = set()
    for entry in extractor.lexicon.entries:
        for phrase in [*(entry.synonyms or []), *(entry.abbreviations or [])][:4]:
            out.add(phrase)
            out.update(phrase.split()[:2])
            out.add(phrase[1:4])
    return sorted(p for p in out if p)


def _no_miss(nlp, extractor, text: str) -> None:
    if not extractor.may_name_analyte(text):
        assert extractor.mentions(nlp.make_doc(text), text) == [], text


def test_phrase_scan_misses_no_corpus_mention(nlp, extractor) -> None:
    texts = _corpus_texts()
    assert len(texts) > 2000
    ruled_out = 0
    for text in texts:
        _no_miss(nlp, extractor, text)
        ruled_out += not extractor.may_name_analyte(text)
    assert ruled_out > len(texts) // 10  # the scan does rule texts out


@settings(max_examples=600, deadline=None)
@given(data=st.data())
def test_phrase_scan_misses_no_mention_in_glued_text(nlp, extractor, pieces, data) -> None:
    parts = data.draw(st.lists(st.one_of(st.sampled_from(pieces), st.text(alphabet=GLUE, max_size=3)), max_size=8))
    case = data.draw(st.sampled_from([str, str.lower, str.upper, str.title]))
    _no_miss(nlp, extractor, case("".join(parts)))


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet=GLUE + "bcdefgABCDEFG", min_size=2, max_size=30))
def test_phrase_scan_tokens_split_letters_only_by_special_cases(nlp, text: str) -> None:
    words = [w.lower() for w in letter_splits(nlp.tokenizer)]
    doc = nlp.make_doc(text)
    for token in doc[1:]:
        p = token.idx
        if text[p - 1].isalpha() and text[p].isalpha():
            assert any(w in text.lower() for w in words), (text, [t.text for t in doc])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("serum alt 40", True),
        ("basalt 40", False),  # inside a word: no token starts there
        ("alter 40", False),
        ("alt(40)", True),
        ("ALT/AST", True),
        ("cannot", True),  # 'can' 'not': a special case splits the word
        ("xnot", False),
        ("ΣALT", True),  # a text whose lower case the scan cannot trust
    ],
)
def test_phrase_scan_word_boundaries(text: str, expected: bool) -> None:
    scan = PhraseScan([["alt"], ["not"]], [["AST"]], ["cannot"])
    assert scan.may_match(text) is expected


def test_phrase_scan_reads_past_kept_tokens() -> None:
    scan = PhraseScan([["total", "serum", "bilirubin"]], [], [])
    assert scan.may_match("total  serum x") and not scan.may_match("total bilirubin")
