"""Whether a text may hold a phrase of a token matcher, read from its characters alone.

The analyte matcher needs the text's tokens, and half the bullets that reach it name no analyte:
tokenizing them is most of their cost. A phrase that matches tokens `t1 t2 ...` is written in the
text as those tokens with nothing but white space between them (spaCy keeps every character of
the text in a token or its trailing space), so a text without `t1\\s*t2...` holds no match. The
scan also asks what the tokenizer guarantees about where a token starts and ends: critparse's
tokenizer splits a run of letters only by a special case ('cannot' -> 'can' 'not'; its affix
rules split at punctuation, symbols and digits), so outside such words a phrase that starts (or
ends) with a letter starts (ends) where no letter stands before (after) it. That word boundary is
what makes the scan selective: 'ast' is in 'breast', but no token of 'breast' is 'ast'.
`tests/text/test_phrase_scan.py` checks both claims against the tokenizer and the matcher.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

KEPT_TOKENS = 2
"""Tokens of each phrase the scan asks for. The pattern's compile time (start-up) grows with the
phrases' length; two tokens already rule out nearly every text that holds no phrase (1,708 of
the 1,982 such benchmark bullets, whole phrases 1,970, at three times the compile time)."""

_SIGMA = "\u03a3"
"""The one letter whose lower case depends on the letters around it (a final sigma)."""


class PhraseScan:
    """`may_match(text)`: False only when no phrase can match the text's tokens.

    `loose` are the phrases' tokens in lower case (a matcher on LOWER), `exact` as written (on
    ORTH); `split_words` the special cases of the tokenizer that split between two letters.
    """

    def __init__(self, loose: Iterable[Sequence[str]], exact: Iterable[Sequence[str]],
                 split_words: Iterable[str]) -> None:
        self._loose = _scan_pattern(loose, "[a-z]")
        self._exact = _scan_pattern(exact, "[A-Za-z]")
        self._split = _scan_pattern([[w.lower()] for w in split_words], "[a-z]", whole=True)

    def may_match(self, text: str) -> bool:
        lowered = text.lower()
        if len(lowered) != len(text) or _SIGMA in text:
            return True  # each token's lower case might not be the text's, letter for letter
        if self._exact.search(text) is not None or self._loose.search(lowered) is not None:
            return True
        return self._split.search(lowered) is not None  # a special case may start a token inside a word


def _scan_pattern(phrases: Iterable[Sequence[str]], letter: str, *, whole: bool = False) -> re.Pattern[str]:
    """One trie-shaped alternation of the phrases' first `KEPT_TOKENS` tokens (all of them when
    `whole`), white space allowed between tokens, a word boundary where a kept end or the start
    is a letter; the phrases that start with a letter behind one look-behind (a look-behind in
    each branch, after its first letter, takes twice as long)."""
    root: dict[Any, Any] = {}
    for tokens in phrases:
        kept = [t for t in tokens if t and not t.isspace()]
        node = root
        for i, token in enumerate(kept if whole else kept[:KEPT_TOKENS]):
            if i:
                node = node.setdefault(None, {})  # None: the white space between two tokens
            for ch in token:
                node = node.setdefault(ch, {})
        complete = whole or len(kept) <= KEPT_TOKENS
        end = rf"(?!{letter})" if complete and kept and re.fullmatch(letter, kept[-1][-1]) else ""
        node[""] = end if node.get("", end) == end else ""  # the weaker end wins
    starting = {k: v for k, v in root.items() if k and re.fullmatch(letter, k)}
    others = {k: v for k, v in root.items() if k not in starting}  # '' when a phrase is all white space
    parts = [rf"(?<!{letter})" + _emit(starting)] if starting else []
    if others:
        parts.append(_emit(others))
    return re.compile("|".join(parts) if parts else "(?!)")


def _emit(node: dict[Any, Any]) -> str:
    alternatives = [(r"\s*" if key is None else re.escape(key)) + _emit(child)
                    for key, child in node.items() if key != ""]
    if "" in node:
        alternatives.append(node[""])
    if len(alternatives) == 1:
        return alternatives[0]
    return "(?:" + "|".join(alternatives) + ")"


__all__ = ["KEPT_TOKENS", "PhraseScan"]
