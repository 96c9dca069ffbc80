"""The extraction vocabularies: `words.json` is validated with every problem reported at once,
phrases with optional parts expand as documented, and the count units are those of `units.json`."""

from __future__ import annotations

import json
from importlib import resources

import pytest

from critparse.errors import ResourceError
from critparse.lexicon.phrases import expand_phrase, phrase_problem
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
