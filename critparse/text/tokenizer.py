"""scispaCy's rule tokenizer, adjusted so numbers, comparators and units split cleanly.

scispaCy's `combined_rule_tokenizer` is tuned for biomedical prose: it keeps `≤2.0mg/dL` as one
token and cuts `1.5x10^9/L` into `1.5x10 ^ 9/L`. Criteria need the number on its own, the
comparator on its own and the unit on its own, so we add:

* prefixes that peel a leading comparator (`≤`, `<`, `=<`, ...) and a leading number followed by
  anything that is not part of the number (`2.0mg/dL` -> `2.0` `mg/dL`; `3x` -> `3` `x`);
* a prefix for a multiplication sign glued to a power of ten (`x10^9/L` -> `x` `10^9/L`);
* infixes that split comparators and slashes between words (`Hb>9`, `AST/ALT`).

Everything else (hyphenated names, `CD19`, `HbA1c`, `mm3`) keeps scispaCy's behaviour. Special
cases that split exactly as the affix rules do (`'`, `0.0`, `C++`) are left out: spaCy re-applies
every special case wherever it occurs in a text, which in a glued run such as `1'1'1'...` is at
every other character, for nothing.

`harden` keeps the time per token linear: spaCy peels affixes one at a time and searches the
whole remaining token for each, so a 2,000-character run of glued digits and quotes cost
seconds. Prefixes are matched at the start only; suffixes are looked up (literal ones in a
table, the others searched in the last few characters only, results cached by the token's tail).
"""

from __future__ import annotations

import re
import re._compiler as sre_compile
import re._constants as sre_constants
import re._parser as sre_parse
import warnings
from typing import NamedTuple

from scispacy.custom_tokenizer import combined_rule_tokenizer
from spacy.attrs import ORTH
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.util import compile_infix_regex, compile_prefix_regex

# A number (with thousands separators or a decimal part) glued to what follows it.
_NUMBER_PREFIX = r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?=[^\d.,])"
_COMPARATOR_PREFIX = r"(?:<=|>=|=<|=>|≤|≥|⩽|⩾|≦|≧|<|>|=|≠|±|~)"
_TIMES_PREFIX = r"[xX×\*](?=\d)"
# A comparator between two non-space characters (`Hb>9`, `age>=18`).
_COMPARATOR_INFIX = r"(?<=[^\s<>=≤≥])(?:<=|>=|=<|=>|≤|≥|⩽|⩾|<|>|=|≠)(?=[^\s])"
# A slash between letters (`AST/ALT`, `and/or`) but not inside units such as `mg/dL`: units are
# read from the character stream by the extractor, so splitting them does no harm.
_SLASH_INFIX = r"(?<=[A-Za-z)])/(?=[A-Za-z(])"
# A hyphen between letters ('transaminase-alanine'); lexicon phrases are tokenized the same way,
# so 'NT-proBNP' and 'Child-Pugh' still match.
_HYPHEN_INFIX = r"(?<=[A-Za-z])-(?=[A-Za-z])"
# Parentheses glued to words ('AST(SGOT)/ALT(SGPT)').
_PAREN_INFIX = r"(?<=[A-Za-z0-9])\((?=[A-Za-z])|(?<=[A-Za-z])\)(?=[/A-Za-z])"


def make_tokenizer(nlp: Language) -> Tokenizer:
    """Build the adjusted scispaCy tokenizer for `nlp`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # `re` on scispaCy's patterns
        base = combined_rule_tokenizer(nlp)
    prefixes = [_COMPARATOR_PREFIX, _NUMBER_PREFIX, _TIMES_PREFIX, *_patterns(base.prefix_search)]
    infixes = [_COMPARATOR_INFIX, _SLASH_INFIX, _HYPHEN_INFIX, _PAREN_INFIX, *_patterns(base.infix_finditer)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        base.prefix_search = compile_prefix_regex(prefixes).search
        base.infix_finditer = compile_infix_regex(infixes).finditer
        return _without_idle_special_cases(harden(base))


def _without_idle_special_cases(tokenizer: Tokenizer) -> Tokenizer:
    """Drop the special cases that make one plain token of a string the affix rules already keep
    whole (see the module docstring); a string that would then split keeps its rule."""
    rules = tokenizer.rules
    idle = {s for s, subs in rules.items() if len(subs) == 1 and set(subs[0]) <= {ORTH, "ORTH"} and not any(
        c.isspace() for c in s)}
    tokenizer.rules = {s: subs for s, subs in rules.items() if s not in idle}
    needed = {s for s in idle if [t.text for t in tokenizer(s)] != [s]}
    if needed:
        tokenizer.rules = {s: subs for s, subs in rules.items() if s not in idle - needed}
    return tokenizer


def letter_splits(tokenizer: Tokenizer) -> list[str]:
    """The special cases that split between two letters ('cannot' -> 'can' 'not', 'Im' -> 'I'
    'm'): the affix rules split only at punctuation, symbols and digits, so these are the only
    tokens that start or end inside a run of letters (see `critparse.text.phrase_scan`)."""
    out = []
    for string, pieces in tokenizer.rules.items():
        ends, pos = [], 0
        for piece in pieces[:-1]:
            pos += len(piece.get(ORTH, piece.get("ORTH", "")))
            ends.append(pos)
        if any(0 < i < len(string) and string[i - 1].isalpha() and string[i].isalpha() for i in ends):
            out.append(string)
    return out


class Found(NamedTuple):
    """A suffix found at [begin, finish): what spaCy reads off a match (`start()`, `end()`)."""

    begin: int
    finish: int

    def start(self) -> int:
        return self.begin

    def end(self) -> int:
        return self.finish


class SuffixSearch:
    """The longest suffix any alternative of a spaCy suffix pattern matches, in constant time.

    Every alternative ends in `$`, yet `pattern.search` tries each start position of the token
    with each of ~80 alternatives, and spaCy calls it once per peeled affix: quadratic in the
    token. Here the literal alternatives (",", "'s", ...) are looked up in a table and the others
    searched from a few characters before the end (further only when an unbounded one such as
    the run of dots reaches the window's start); results are cached by the token's tail, which
    peeling prefixes does not change. `__self__` is the pattern, as on a bound method, so spaCy
    still serialises the tokenizer.
    """

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.__self__ = pattern
        literals, others, width, behind = _suffix_parts(pattern.pattern)
        self._lengths = sorted({len(x) for x in literals}, reverse=True)
        self._literals = frozenset(literals)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # `re` on scispaCy's patterns
            self._others = re.compile("|".join(others)) if others else None
        self._width = max(width, 1)
        self._key = max(self._width + behind, max(self._lengths, default=0))
        self._cache: dict[str, int] = {}
        self._enders = _enders(others, pattern.flags)
        self._may_end: dict[str, bool] = {}  # per last character: may an alternative of `_others` end with it

    def __call__(self, text: str) -> Found | None:
        key = text[-self._key :]
        length = self._cache.get(key)
        if length is None:
            length, cacheable = self._longest(text)
            if cacheable:
                if len(self._cache) >= 4096:
                    self._cache.clear()
                self._cache[key] = length
        return _NEW(Found, (len(text) - length, len(text))) if length else None

    def _longest(self, text: str) -> tuple[int, bool]:
        n = len(text)
        found = next((k for k in self._lengths if k <= n and text[n - k :] in self._literals), 0)
        if self._others is None or not self._ends_other(text[-1:]):
            return found, True
        pos, cacheable = max(0, n - self._width), True
        while True:
            m = self._others.search(text, pos)
            if m is None or m.start() > pos or pos == 0:
                break
            pos, cacheable = max(0, n - 2 * (n - pos)), False  # an unbounded one: look further
        return max(found, n - m.start() if m is not None else 0), cacheable


    def _ends_other(self, last: str) -> bool:
        """Whether some alternative of `_others` can end with the character `last` (a token
        ending in a quote or a digit skips their search)."""
        known = self._may_end.get(last)
        if known is None:
            known = self._enders is None or last in ("", "\n") or any(e.fullmatch(last) for e in self._enders)
            if len(self._may_end) < 4096:
                self._may_end[last] = known
        return known


_NEW = tuple.__new__
"""`Found(...)` without the Python-level `__new__` of a named tuple: spaCy asks once per affix."""


def _enders(alternatives: list[str], flags: int) -> list[re.Pattern[str]] | None:
    """One pattern per way an alternative can end: the single-character item before its `$`
    ('[0-9]' of '(?<=x)[0-9]$'); None when some alternative ends otherwise (a lookaround, an
    optional item, a case-insensitive group), so that every search is made."""
    out: list[re.Pattern[str]] = []
    for alternative in alternatives:
        parsed = sre_parse.parse(alternative, flags)
        ops = list(parsed)
        if len(ops) < 2 or ops[-1] != (sre_constants.AT, sre_constants.AT_END):
            return None
        items = _last_items(ops[-2])
        if items is None:
            return None
        out.extend(sre_compile.compile(sre_parse.SubPattern(parsed.state, [item]), flags) for item in items)
    return out


_ONE_CHARACTER = (sre_constants.LITERAL, sre_constants.NOT_LITERAL, sre_constants.IN, sre_constants.ANY)
_REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT)


def _last_items(op: tuple[object, object]) -> list[tuple[object, object]] | None:
    """The single-character items that can match the last character of `op`, or None."""
    code, arg = op
    if code in _ONE_CHARACTER:
        return [op]
    if code is sre_constants.SUBPATTERN and not arg[1] and not arg[2]:  # type: ignore[index]
        body = list(arg[3])  # type: ignore[index]
        return _last_items(body[-1]) if body else None
    if code in _REPEATS and arg[0] >= 1:  # type: ignore[index]
        body = list(arg[2])  # type: ignore[index]
        return _last_items(body[-1]) if body else None
    if code is sre_constants.BRANCH:
        out: list[tuple[object, object]] = []
        for branch in arg[1]:  # type: ignore[index]
            body = list(branch)
            found = _last_items(body[-1]) if body else None
            if found is None:
                return None
            out.extend(found)
        return out
    return None


def _top_alternatives(source: str) -> list[str]:
    """The top-level alternatives of a regular expression's source."""
    out, depth, start, i, in_class = [], 0, 0, 0, False
    while i < len(source):
        c = source[i]
        if c == "\\":
            i += 2
            continue
        if in_class:
            in_class = c != "]"
        elif c == "[":
            in_class = True
            i += 2 if source[i + 1 : i + 2] == "]" else 3 if source[i + 1 : i + 3] == "^]" else 1
            continue
        elif c in "()":
            depth += 1 if c == "(" else -1
        elif c == "|" and depth == 0:
            out.append(source[start:i])
            start = i + 1
        i += 1
    out.append(source[start:])
    return out


def _suffix_parts(source: str) -> tuple[list[str], list[str], int, int]:
    """(literal suffixes, other alternatives, widest bounded match, longest lookbehind)."""
    literals, others, width, behind = [], [], 0, 0
    for alternative in _top_alternatives(source):
        ops = list(sre_parse.parse(alternative))
        body, last = ops[:-1], ops[-1] if ops else (None, None)
        if last[0] == sre_constants.AT and all(op == sre_constants.LITERAL for op, _ in body):
            literals.append("".join(chr(code) for _, code in body))
            continue
        others.append(alternative)
        high = sre_parse.parse(alternative).getwidth()[1]
        if high < sre_constants.MAXREPEAT:
            width = max(width, high)
        for op, arg in ops:
            if op == sre_constants.ASSERT and arg[0] < 0:
                behind = max(behind, arg[1].getwidth()[1])
    return literals, others, width, behind


def harden(tokenizer: Tokenizer) -> Tokenizer:
    """Make affix search constant-time per step (see the module docstring); idempotent.

    Loading a saved pipeline recompiles plain `search` callbacks, so `load` calls this too.
    """
    prefix = _pattern(tokenizer.prefix_search)
    suffix = _pattern(tokenizer.suffix_search)
    if prefix is not None:
        tokenizer.prefix_search = prefix.match  # every alternative is anchored with '^'
    if suffix is not None:
        tokenizer.suffix_search = SuffixSearch(suffix)
    return tokenizer


def _pattern(callback: object) -> re.Pattern[str] | None:
    return getattr(callback, "__self__", None) if callback is not None else None


def _patterns(bound_method: object) -> list[str]:
    """The alternatives of the compiled regex behind a tokenizer callback."""
    pattern: re.Pattern[str] = bound_method.__self__  # type: ignore[attr-defined]
    return [pattern.pattern]


__all__ = ["SuffixSearch", "harden", "letter_splits", "make_tokenizer"]
