"""The tokenizer's affix search stays constant per step: glued runs tokenize in linear time, and
the fast suffix lookup finds exactly what spaCy's own `search` finds."""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from critparse.nlp.pipeline import default_nlp
from critparse.text.tokenizer import SuffixSearch


@pytest.fixture(scope="module")
def tokenizer():  # type: ignore[no-untyped-def]
    return default_nlp().tokenizer


def _searches(pattern: object, work: Callable[[], object]) -> int:
    """How many times `work` calls `pattern.search`."""
    count = 0

    def profile(frame: object, event: str, arg: object) -> None:
        nonlocal count
        if (event == "c_call" and getattr(arg, "__self__", None) is pattern
                and getattr(arg, "__name__", "") == "search"):
            count += 1

    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
    return count


GLUED = {
    "digits_quotes": '1"',
    "digits_apostrophes": "1'",
    "comparators": "<",
    "number_comparator": "1<2",
    "punctuation": ".,;:!?)]}",
    "quotes": '"',
}


@pytest.mark.parametrize("unit", list(GLUED.values()), ids=list(GLUED))
def test_tokenizer_glued_run_costs_a_bounded_search_per_affix(tokenizer, unit: str) -> None:  # type: ignore[no-untyped-def]
    # Counting work: the suffix regex runs at most once per peeled affix, and each run starts a
    # few characters from the end (it used to search the whole remaining token every time).
    suffix = tokenizer.suffix_search
    assert isinstance(suffix, SuffixSearch)
    others = suffix._others
    text = (unit * 2000)[:2000]
    doc = tokenizer(text)
    runs = _searches(others, lambda: tokenizer(text)) if others is not None else 0
    assert runs <= len(doc) + 1
    # and a generous bound on time: seconds before, milliseconds now
    import time

    started = time.perf_counter()
    tokenizer(text)
    assert time.perf_counter() - started < 0.5


def test_tokenizer_prefixes_are_matched_at_the_start_only(tokenizer) -> None:  # type: ignore[no-untyped-def]
    prefix = tokenizer.prefix_search
    assert prefix.__name__ == "match" and prefix.__self__.pattern.startswith("^")


_PIECES = [*'.,;:!?)]}"\'’”»…$%+°Cc1234567890aAbBkmgLsS-/<>=xX^', "US$", "km", "mg", "°C", "'s",
           "...", "km²"]
_SUFFIXY = st.lists(st.sampled_from(_PIECES), max_size=12).map("".join)


@given(_SUFFIXY)
@settings(max_examples=3000, deadline=None)
def test_tokenizer_suffix_lookup_equals_spacy_search(text: str) -> None:
    suffix = default_nlp().tokenizer.suffix_search
    fast, plain = suffix(text), suffix.__self__.search(text)
    length = (lambda m: m.end() - m.start() if m is not None else 0)  # noqa: E731
    assert length(fast) == length(plain)


def test_tokenizer_survives_serialisation() -> None:
    nlp = default_nlp()
    data = nlp.tokenizer.to_bytes()
    import spacy

    from critparse.text.tokenizer import harden

    other = spacy.blank("en")
    other.tokenizer.from_bytes(data)
    harden(other.tokenizer)
    text = 'Bilirubin ≤2.0mg/dL, ANC>1.5x10^9/L "quoted"...'
    assert [t.text for t in other(text)] == [t.text for t in nlp.tokenizer(text)]


@pytest.mark.parametrize("last", [*list('"\'1a.%+$Bµ²³)°Cmgk-/'), "кг"[-1], "м²"[-1]])
def test_tokenizer_suffix_skips_a_search_only_where_none_can_end(last: str) -> None:
    """A last character the non-literal alternatives cannot end with is one no search finds."""
    suffix = default_nlp().tokenizer.suffix_search
    if suffix._ends_other(last):
        return
    for head in ("", "1", "12", "a", "A", "°", "US", "1.", "..", "x1", "k", "кг1"):
        assert suffix._others.search(head + last) is None
