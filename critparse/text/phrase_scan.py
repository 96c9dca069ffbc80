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
    is_letter = re.compile(letter).fullmatch
    bounded: dict[str, bool] = {}  # each phrase as a key, tokens joined by _GAP: whether it ends on a boundary
    for tokens in phrases:
        kept = [t for t in tokens if t and not t.isspace()]
        key = _GAP.join(kept if whole else kept[:KEPT_TOKENS])
        ends = (whole or len(kept) <= KEPT_TOKENS) and bool(key) and is_letter(key[-1]) is not None
        bounded[key] = bounded.get(key, ends) and ends  # the weaker end wins
    keys = sorted(bounded)
    starting = [k for k in keys if k and is_letter(k[0])]
    others = [k for k in keys if not (k and is_letter(k[0]))]  # '' when a phrase is all white space
    parts = []
    for group, lead in ((starting, rf"(?<!{letter})"), (others, "")):
        if group:
            out = [lead]
            _emit(group, bounded, 0, len(group), 0, rf"(?!{letter})", out)
            parts.append("".join(out))
    return re.compile("|".join(parts) if parts else "(?!)")


_GAP = "\x00"
"""The white space between two tokens, in a phrase's key."""


def _emit(keys: list[str], bounded: dict[str, bool], lo: int, hi: int, depth: int, boundary: str,
          out: list[str]) -> None:
    """The alternation for the sorted `keys[lo:hi]`, which share their first `depth` characters,
    written to `out` piece by piece: strings and index ranges, no dict per trie node (building
    tens of thousands of them set off the garbage collector on the loading pipeline's heap)."""
    end = None
    if len(keys[lo]) == depth:  # the shared part is itself a phrase (sorted first)
        end = boundary if bounded[keys[lo]] else ""
        lo += 1
    branches = sum(1 for i in range(lo, hi) if i == lo or keys[i][depth] != keys[i - 1][depth])
    grouped = branches + (end is not None) > 1
    if grouped:
        out.append("(?:")
    i = lo
    while i < hi:
        ch = keys[i][depth]
        j = i + 1
        while j < hi and keys[j][depth] == ch:
            j += 1
        if i > lo:
            out.append("|")
        out.append(r"\s*" if ch == _GAP else re.escape(ch))
        _emit(keys, bounded, i, j, depth + 1, boundary, out)
        i = j
    if end is not None:
        out.append("|" + end if branches else end)
    if grouped:
        out.append(")")


__all__ = ["KEPT_TOKENS", "PhraseScan"]
