"""The abbreviation look-ups that skip the detector answer as the detector would: every short
form it reports stands next to a '(' (white space aside), and the lazy table gives the plain
table's answer for every key, on corpus texts and on generated ones."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from critparse.nlp.component import _LazyAbbreviations, _may_define

CORPUS = Path(__file__).resolve().parents[2] / "corpus"
_WORDS = ["Glomerular", "filtration", "rate", "GFR", "gfr", "IL", "-", "6", "interleukin", "HbA1c",
          "haemoglobin", "A1c", "eGFR", "estimated", "ULN", "upper", "limit", "of", "normal", "x",
          "<", ">=", "2", "mg/dL", ";", ",", "or", "and", "the", "Body", "Mass", "Index", "BMI"]
_GAPS = ["", " ", " ", "  ", "\n", "\t", "\xa0"]


def _corpus_texts() -> list[str]:
    texts: list[str] = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            text = json.loads(line).get("text") if line.strip() else None
            if isinstance(text, str) and "(" in text:
                texts.append(text)
    return sorted(set(texts))


def _words(rng: random.Random, n: int) -> str:
    pieces = [*_WORDS, "(", ")"]
    return "".join(rng.choice(pieces) + rng.choice(_GAPS) for _ in range(n))


def _definition(rng: random.Random) -> tuple[str, str]:
    """A long form and a short form made of its initials ('glomerular filtration rate', 'GFR')."""
    long_words = [rng.choice(_WORDS) for _ in range(rng.randint(1, 5))]
    short = "".join(w[0] for w in long_words if w[0].isalnum())
    short = rng.choice([short.upper(), short, short + "-" + str(rng.randint(1, 9)), short[:2] + " " + short[2:]])
    return rng.choice(_GAPS[1:4]).join(long_words), short


def _generated(seed: int, n: int) -> list[str]:
    """Noise, definitions both ways round ('long (SF)', 'SF (long)') and later uses of the short form."""
    rng = random.Random(seed)
    texts = []
    for _ in range(n):
        long_form, short = _definition(rng)
        gap = rng.choice(_GAPS)
        inner = rng.choice([f"({gap}{short}{gap})", f"({short};{gap}x)", f"({short}"])
        defined = rng.choice([f"{long_form}{gap}{inner}", f"{short}{gap}({long_form})"])
        parts = [_words(rng, rng.randint(0, 6)), defined, _words(rng, rng.randint(0, 6))]
        parts.append(rng.choice(["", short, f"{short} > 2", _words(rng, 3)]))
        texts.append(rng.choice(_GAPS[1:]).join(parts))
    return texts


def _keys(doc, table: dict) -> set[str]:
    """Every key worth asking: each token, each run of two or three tokens, the table's own."""
    keys = set(table)
    for size in (1, 2, 3):
        keys |= {doc[i : i + size].text for i in range(len(doc) - size + 1)}
    return keys


def _check(extractor, texts: list[str]) -> int:
    found = 0
    for text in texts:
        doc = extractor._doc_for(text)
        mentions = extractor.mentions(doc, text)
        plain = extractor.abbreviations(extractor._doc_for(text), mentions)
        squeezed = "".join(text.split())
        assert all(_may_define(squeezed, key) for key in plain), text
        for key in _keys(doc, plain):
            lazy = _LazyAbbreviations(lambda t=text, m=mentions: extractor._abbreviations_of(t, None, m), text)
            assert (key in lazy) == (key in plain), (text, key)
            assert lazy.get(key) == plain.get(key), (text, key)
        found += len(plain)
    return found


def test_abbreviation_shortcut_corpus_texts(nlp) -> None:
    texts = _corpus_texts()
    assert len(texts) > 100
    assert _check(nlp.get_pipe("critparse_rules"), texts) > 20  # definitions were found and checked


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_abbreviation_shortcut_generated_texts(nlp, seed: int) -> None:
    assert _check(nlp.get_pipe("critparse_rules"), _generated(seed, 300)) > 15


@pytest.mark.parametrize("text", ["Creatinine < 2 mg/dL", "", "  ", "BMI ≥ 30 kg/m2"])
def test_abbreviation_shortcut_no_parenthesis_makes_no_tokens(nlp, text: str) -> None:
    extractor = nlp.get_pipe("critparse_rules")
    made: list[str] = []
    lazy = _LazyAbbreviations(lambda: made.append(text) or extractor._abbreviations_of(text, None, []), text)
    assert "BMI" not in lazy and lazy.get("Creatinine") is None
    assert not made
    assert dict(lazy) == {}
