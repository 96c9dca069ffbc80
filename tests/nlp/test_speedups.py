"""Output is identical with and without the speed-ups: the parse cache (results and parents'
analytes) on and off, text cleaning that skips clean texts, the saved pipeline loaded by `load()`
and by plain `spacy.load`; on bullets and on whole trials."""

from __future__ import annotations

import io
import json
import random
import types
import typing
import warnings
from functools import partial
from pathlib import Path

import pytest
import spacy
from pydantic import BaseModel

import critparse
from critparse.model import ParseResult
from critparse.model.concept import TimeWindow
from critparse.model.rule import Rule
from critparse.nlp.inputs import _TABLE, clean_text
from critparse.nlp.pipeline import MODEL_DIR, parse_many
from critparse.runs.batch import run
from critparse.text.tokenizer import harden

ROOT = Path(__file__).resolve().parents[2]
_SURROGATES = {c: "\ufffd" for c in range(0xD800, 0xE000)}
TRIALS = [*sorted((ROOT / "tests" / "trials").glob("*.json")), ROOT / "corpus" / "NCT02186860.json"]


def _bullets() -> tuple[list[str], list[str | None]]:
    """A spread of the gold bullets, each also with a parent's text and repeated (cache hits)."""
    texts: list[str] = []
    for path in sorted((ROOT / "corpus").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            text = json.loads(line).get("text") if line.strip() else None
            if isinstance(text, str) and "\n" not in text:
                texts.append(text)
    texts = sorted(set(texts))[::5]
    parents = ["Adequate organ function defined as:", "Hemoglobin", None]
    contexts = [parents[i % 3] for i in range(len(texts))]
    odd = ["", "ANC > 1.5 x 10^400 /L", "Hb > 9 g/dL \ud800", "x" * 3000 + " Creatinine < 2 mg/dL"]
    return texts + texts[:50] + odd, contexts + contexts[:50] + [None] * len(odd)


def _dumps(results: typing.Iterable[ParseResult]) -> list[str]:
    return [r.model_dump_json() for r in results]


@pytest.fixture(scope="module")
def uncached() -> spacy.language.Language:
    nlp = critparse.load()
    nlp.get_pipe("critparse_rules").cache_size = 0
    return nlp


@pytest.mark.parametrize("seed", [0, 1])
def test_speedups_clean_text_skips_only_texts_it_would_not_change(seed: int) -> None:
    rng = random.Random(seed)
    odd = [chr(c) for c in _TABLE] + ["\ud800", "\udfff", "a", " ", "\n", "\t", "é", "≤", "<", "1"]
    for _ in range(20_000):
        text = "".join(rng.choice(odd) for _ in range(rng.randint(0, 6)))
        assert clean_text(text) == text.translate(_TABLE).translate(_SURROGATES), repr(text)


def test_speedups_cache_changes_no_result(nlp, uncached) -> None:
    texts, contexts = _bullets()
    assert len(texts) > 300
    expected = _dumps(parse_many(texts, contexts=contexts, nlp=uncached))
    assert not uncached.get_pipe("critparse_rules")._cache
    cached = nlp.get_pipe("critparse_rules")
    cached._cache.clear()
    assert _dumps(parse_many(texts, contexts=contexts, nlp=nlp)) == expected
    assert _dumps(parse_many(texts, contexts=contexts, nlp=nlp)) == expected  # all from the cache
    assert len(cached._cache) > 300 and cached._contexts


def _trials_output(path: Path, nlp: spacy.language.Language) -> str:
    out = io.StringIO()
    run(path, out, parse_many=partial(parse_many, nlp=nlp))
    return out.getvalue()


@pytest.mark.parametrize("path", TRIALS, ids=[p.stem for p in TRIALS])
def test_speedups_whole_trials_identical_with_and_without_cache(nlp, uncached, path: Path) -> None:
    expected = _trials_output(path, uncached)
    assert expected.count("\n") > 3
    assert _trials_output(path, nlp) == expected
    assert _trials_output(path, nlp) == expected


def test_speedups_load_matches_plain_spacy_load(nlp) -> None:
    """`load()` compiles the tokenizer's special cases once; `spacy.load` + `harden` is the
    straightforward way to the same pipeline."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # `re` on scispaCy's patterns
        plain = spacy.load(MODEL_DIR)
        harden(plain.tokenizer)
    assert nlp.tokenizer.to_bytes(exclude=["vocab"]) == plain.tokenizer.to_bytes(exclude=["vocab"])
    texts, contexts = _bullets()
    for text in texts[::3]:
        text = text.encode("utf-8", "replace").decode("utf-8")  # parse replaces lone surrogates first
        assert [t.text for t in nlp.make_doc(text)] == [t.text for t in plain.make_doc(text)]
    assert _dumps(parse_many(texts, contexts=contexts, nlp=plain)) == _dumps(
        parse_many(texts, contexts=contexts, nlp=nlp))


def _float_fields(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[str]:
    """`Model.field` for every float field reachable from `model`."""
    if model in seen:
        return set()
    seen.add(model)
    found: set[str] = set()
    for name, field in model.model_fields.items():
        for kind in _leaf_types(field.annotation):
            if kind is float:
                found.add(f"{model.__name__}.{name}")
            elif isinstance(kind, type) and issubclass(kind, BaseModel):
                found |= _float_fields(kind, seen)
    return found


def _leaf_types(annotation: object) -> list[object]:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType, tuple, typing.Literal) or (
        args and typing.get_origin(annotation) is not None
    ):
        return [] if typing.get_origin(annotation) is typing.Literal else [
            leaf for arg in args if arg is not Ellipsis for leaf in _leaf_types(arg)]
    return [annotation]


def test_speedups_non_finite_check_sees_every_float() -> None:
    """`finite_only` looks at rule values and time windows only: the result's only floats.
    A new float field in the contract fails here until `_non_finite_thresholds` covers it."""
    assert _float_fields(ParseResult, set()) == {"Rule.value", "TimeWindow.value"}
    assert Rule.model_fields["value"].annotation is float
    assert TimeWindow.model_fields["value"].annotation == float | None
