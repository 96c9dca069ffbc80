"""The extraction vocabularies: `words.json` is validated with every problem reported at once,
phrases with optional parts expand as documented, and the count units are those of `units.json`."""

from __future__ import annotations

import json
import re
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from critparse.errors import ResourceError
from critparse.lexicon.phrases import FoldedPattern, expand_phrase, folded, phrase_problem
from critparse.lexicon.resources import Resources, default_resources
from critparse.lexicon.vocabulary import load_vocabulary, load_words


def _bundled() -> dict:
    return json.loads(resources.files("critparse").joinpath("resources", "words.json").read_text("utf-8"))


@pytest.mark.parametrize(
    ("phrase", "forms"),
    [("limit[s]", ["limit", "limits"]), ("[percent] change in", ["change in", "percent change in"]),
     ("institution[']s", ["institutions", "institution's"]), ("ULN", ["ULN"])],
)
def test_vocabulary_expand_phrase(phrase, forms):
    assert sorted(expand_phrase(phrase)) == sorted(forms)


@pytest.mark.parametrize("phrase", ["a [b [c]]", "x]y[", "[only]", " padded", "open ["])
def test_vocabulary_bad_phrase(phrase):
    assert phrase_problem(phrase)


@pytest.mark.parametrize("key", ["words"])
def test_vocabulary_resources_hold_the_words(key):
    res = default_resources()
    assert getattr(res, key) is res.vocabulary.words
    assert res.words.pattern_analytes.age in res.analytes


@pytest.mark.parametrize("count", [3])
def test_vocabulary_bad_words_file_lists_every_problem(tmp_path, count):
    data = _bundled()
    data["qualifiers"].append("a [b [c]]")
    data["stop_words"].append(" ")
    data["bogus"] = 1
    path = tmp_path / "words.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ResourceError) as err:
        load_words(path)
    assert f"{count} problem(s)" in str(err.value)
    assert "bogus" in str(err.value) and "qualifiers" in str(err.value) and "stop_words" in str(err.value)


@pytest.mark.parametrize(("key", "value"), [("after_power", "L"), ("after_noun", "furlongs")])
def test_vocabulary_count_units_are_checked(tmp_path, key, value):
    data = _bundled()
    data["count_units"][key].append(value)
    path = tmp_path / "words.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ResourceError, match=key):
        load_vocabulary(words=path)


@pytest.mark.parametrize("word", ["fortnightly"])
def test_vocabulary_custom_words_reach_the_extractor(tmp_path, word):
    data = _bundled()
    data["duration_adjectives"].append(word)
    path = tmp_path / "words.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    from critparse.extract.quantities import find_quantities

    vocab = Resources(words=path).vocabulary
    (q,) = find_quantities(f"12 {word} weeks", vocab)
    assert q.unit == "wk"
    assert find_quantities(f"12 {word} weeks", default_resources().vocabulary)[0].unit is None


# Characters that case-insensitive matching treats specially: 'İ', 'ı', 'ſ', Kelvin 'K', 'µ'
# (micro) and the Greek mus, final and medial sigma, an accented capital, and ASCII.
_TRICKY = list("aAbBsSkKiIlLnNtTuUoOfFrReEhHdDgGcC -/<>=≤≥%.,;0123456789") + list(
    "\u0130\u0131\u017f\u212aµμΜΣσςÉé"
)


def _scans():  # type: ignore[no-untyped-def]
    from critparse.extract.quantities import patterns
    from critparse.extract.rules import _MayHold

    vocab = default_resources().vocabulary
    return [vocab._before_scan, patterns(vocab).number_word, _MayHold(vocab).scan]


@settings(max_examples=1500, deadline=None)
@given(st.lists(st.sampled_from([*_TRICKY, "less than", "ULN", "Twenty-one", "NYHA", "at least", "LIMIT"]),
                max_size=30).map("".join))
def test_vocabulary_folded_scans_match_as_case_insensitive_ones(text: str) -> None:
    for scan in _scans():
        spans = [m.span() for m in scan.pattern.finditer(text)]
        assert [m.span() for m in scan.finditer(text, folded(text))] == spans


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [("[A-Z]x", "without its lower case"), ("Uln", "upper-case"), ("µg", "shares its case"),
     ("(?-i:N)", "changes case sensitivity"), (r"(a)\1", "back-reference")],
)
def test_vocabulary_unfoldable_patterns_are_refused(pattern: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        FoldedPattern(re.compile(pattern, re.IGNORECASE))


@settings(max_examples=800, deadline=None)
@given(st.lists(st.sampled_from(["at least", "<", "≥", "=", "greater than", "1", " ", "ANC", "no more than",
                                 "Above", "ſ", "x", "(", "or equal to", "\n", "≤5", "Maximum of"]),
                max_size=20).map("".join))
def test_vocabulary_comparator_lead_finds_what_the_plain_pattern_finds(text: str) -> None:
    vocab = default_resources().vocabulary
    assert vocab.before_iter_re.pattern.startswith("(?=[")  # the bundled phrases start with no space
    plain = re.compile(vocab.before_iter_re.pattern.split("])", 1)[1], re.IGNORECASE)
    assert [m.span() for m in vocab.before_iter_re.finditer(text)] == [m.span() for m in plain.finditer(text)]
