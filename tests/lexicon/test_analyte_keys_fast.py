"""The analyte lexicon's load-time shortcuts give what the plain reading gives: the surface keys
(ASCII skips NFKC, white space by `str.split`, joiners only when present) are the regex keys, and
the lexicon whose cross-entry checks ran once in `parse_analytes` equals one validated from
scratch."""

from __future__ import annotations

import json
import re
import unicodedata
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from critparse.lexicon.analytes import AnalyteLexicon, loose_key, normalize_surface, parse_analytes
from critparse.lexicon.resources import default_resources

_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2212"})


def _plain_normal(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).translate(_DASHES)
    text = re.sub(r"\s+", " ", text).strip()
    return re.sub(r"\s*([-/])\s*", r"\1", text)


def _plain_loose(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[-/:]", " ", _plain_normal(text))).strip()


_ALPHABET = st.sampled_from(list("aB -/:\t\n\x1c\x85\u00a0\u2002\u3000\u2013\u2212\ufb01\u00b5\u2126ｱé"))


@settings(max_examples=3000, deadline=None)
@given(st.text(alphabet=_ALPHABET, max_size=16))
def test_analyte_keys_fast_match_plain_reading(text: str) -> None:
    assert normalize_surface(text) == _plain_normal(text)
    assert loose_key(text) == _plain_loose(text)


def test_analyte_keys_fast_match_plain_reading_on_the_lexicon() -> None:
    for entry in default_resources().analytes.entries:
        for surface in (entry.name, *entry.surfaces):
            assert normalize_surface(surface) == _plain_normal(surface)
            assert loose_key(surface) == _plain_loose(surface)


@pytest.mark.parametrize("source", ["bundled"])
def test_analyte_lexicon_checked_once_equals_validated(source: str) -> None:
    text = resources.files("critparse").joinpath("resources", "analytes.json").read_text(encoding="utf-8")
    loaded = parse_analytes(text)
    data = json.loads(text)
    plain = AnalyteLexicon.model_validate(data)  # every check, no context
    assert loaded == plain  # fields and the private look-up indexes
    assert loaded._synonyms == plain._synonyms and loaded._loose_abbreviations == plain._loose_abbreviations


def test_analyte_lexicon_context_skips_only_the_checked_entries() -> None:
    lexicon = default_resources().analytes
    twice = lexicon.entries[:2] + lexicon.entries[:1]  # a duplicate name
    with pytest.raises(ValueError, match="already used"):
        AnalyteLexicon.model_validate({"analytes": twice}, context={"critparse.checked_entries": lexicon.entries[:3]})
