"""Phrases of the word lists and vocabularies, compiled into regular expressions.

A phrase is words separated by spaces (any white space matches), with optional parts in
[brackets] ('limit[s] of [the] normal'); white space is optional around '/' and parentheses.
Many phrases become one alternation built as a trie, so that the engine tries one branch per
character and a longer phrase wins over its prefix (no backtracking over the list).
"""

from __future__ import annotations

import re
import re._constants as sre_constants
import re._parser as sre_parse
from collections.abc import Iterator
from functools import lru_cache
from itertools import product
from re._casefix import _EXTRA_CASES
from typing import Annotated, Any

from pydantic import AfterValidator, Field

_OPTIONAL = re.compile(r"\[([^\[\]]*)\]")


def phrase_problem(phrase: str) -> str | None:
    """What is wrong with a word-list phrase, or None: blank, or brackets nested or unbalanced."""
    if not phrase.strip() or phrase != phrase.strip():
        return "blank or padded with spaces"
    depth = 0
    for ch in phrase:
        depth += {"[": 1, "]": -1}.get(ch, 0)
        if depth not in (0, 1):
            return "optional parts in [brackets] may not nest or close before they open"
    if depth:
        return "unclosed '['"
    if not _OPTIONAL.sub("", phrase).strip():
        return "every part is optional"
    return None


def _check_phrases(phrases: list[str]) -> list[str]:
    problems = [f"{p!r}: {problem}" for p in phrases if (problem := phrase_problem(p))]
    if problems:
        raise ValueError("; ".join(problems))
    return phrases


Phrases = Annotated[list[str], Field(min_length=1), AfterValidator(_check_phrases)]
"""A word list: phrases with optional parts in [brackets] (see `words.json`)."""


def expand_phrase(phrase: str) -> list[str]:
    """Every written form of a phrase with optional parts: 'limit[s]' -> 'limit', 'limits'."""
    pieces = _OPTIONAL.split(phrase)
    choices = [[p] if i % 2 == 0 else ["", p] for i, p in enumerate(pieces)]
    return [" ".join("".join(c).split()) for c in product(*choices)]


def phrase_pattern(phrases: list[str]) -> str:
    """One regex alternation (no anchors) for phrases with optional parts, longest first."""
    return alternation([form for p in phrases for form in expand_phrase(p)])


def word_set(phrases: list[str]) -> frozenset[str]:
    """Lower-case forms of single words, for membership tests."""
    return frozenset(form.lower() for p in phrases for form in expand_phrase(p))


def atoms(surface: str, fold: bool) -> list[str]:
    """Regex pieces of a written phrase: any white space between words, optional around '/'
    and around parentheses."""
    out = []
    parts = [p for p in re.split(r"(\s+|[/()])", surface.strip()) if p]
    for i, part in enumerate(parts):
        if part.isspace():
            if (i > 0 and parts[i - 1] in "()") or (i + 1 < len(parts) and parts[i + 1] in "()"):
                continue
            out.append(r"\s+")
        elif part == "/":
            out.append(r"/\s*" if not out else r"\s*/\s*")  # at the start the caller's \s* covers it
        elif part in "()":
            out.append(r"\s*" + re.escape(part) + (r"\s*" if part == "(" else ""))
        else:
            out.extend(re.escape(ch.lower() if fold else ch) for ch in part)
    return out


def alternation(surfaces: list[str], fold: bool = True) -> str:
    """One regex for many phrases, as a trie: the engine tries one branch per character instead
    of every phrase at every position, and a longer phrase wins over its prefix."""
    trie: dict[str, dict] = {}
    for surface in set(surfaces):
        node = trie
        for atom in atoms(surface, fold):
            node = node.setdefault(atom, {})
        node[""] = {}

    def emit(node: dict[str, dict]) -> str:
        branches = [atom + emit(child) for atom, child in sorted(node.items()) if atom]
        if not branches:
            return ""
        body = "|".join(branches)
        if "" in node:
            return f"(?:{body})?"
        return body if len(branches) == 1 else f"(?:{body})"

    return emit(trie)


@lru_cache(maxsize=8192)
def fold(phrase: str) -> str:
    """Case- and space-insensitive key of a phrase (cached: the same few phrases recur)."""
    return re.sub(r"\s*/\s*", "/", re.sub(r"\s+", " ", phrase.strip().lower()))


_CASE_PARTNERS = {"s": "\u017f", "k": "\u212a", "i": "\u0130\u0131"}  # 'ſ', Kelvin 'K', 'İ', 'ı'


def last_characters(phrases: list[str]) -> frozenset[str] | None:
    """Every character a case-insensitive match of `phrases` can end with, or None when one of
    them ends with a cased character outside ASCII. A cheap test before a search that must end
    at a given place."""
    return _case_insensitive([form[-1] for p in phrases for form in expand_phrase(p)])


def first_characters(phrases: list[str]) -> frozenset[str] | None:
    """Every character a case-insensitive match of `phrases` can start with (as `last_characters`)."""
    return _case_insensitive([form[0] for p in phrases for form in expand_phrase(p)])


def _case_insensitive(chars: list[str]) -> frozenset[str] | None:
    out: set[str] = set()
    for ch in chars:
        if not ch.isascii() and ch.lower() != ch.upper():
            return None
        out.update({ch, ch.lower(), ch.upper(), *_CASE_PARTNERS.get(ch.lower(), "")})
    return frozenset(out)


# Case-insensitive matching is slow in `re`: a branch cannot reject an alternative on its first
# character, so a trie of phrases costs a step per alternative at every position of a text. On
# lower-cased text the same pattern runs case-sensitively, with that fast rejection. The two agree
# when lowering keeps every character's position and case class: only these four break that (they
# match ASCII letters case-insensitively yet lower-case to something else, or to two characters).
_UNFOLDABLE_CHARS = "\u0130\u0131\u017f\u212a"  # 'İ', 'ı', 'ſ', Kelvin 'K'
_UNFOLDABLE = re.compile(f"[{_UNFOLDABLE_CHARS}]")


def folded(text: str) -> str | None:
    """`text` lower-cased for a `FoldedPattern`, or None when lowering could change a match."""
    return text.lower() if text.isascii() or _UNFOLDABLE.search(text) is None else None


class FoldedPattern:
    """A case-insensitive pattern that scans lower-cased text case-sensitively (same matches,
    several times faster). Matches found that way are on the lower-cased text: take spans from
    them, or the original's characters at those spans."""

    def __init__(self, pattern: re.Pattern[str]) -> None:
        problem = _fold_problem(pattern)
        if problem is not None:
            raise ValueError(f"pattern {pattern.pattern[:60]!r} cannot run on lower-cased text: {problem}")
        self.pattern = pattern
        self.lowered = re.compile(pattern.pattern, pattern.flags & ~re.IGNORECASE)

    def finditer(self, text: str, lowered: str | None) -> Iterator[re.Match[str]]:
        """`pattern.finditer(text)`; `lowered` is `folded(text)`."""
        return self.pattern.finditer(text) if lowered is None else self.lowered.finditer(lowered)

    def search(self, text: str, lowered: str | None, pos: int = 0, endpos: int | None = None) -> re.Match[str] | None:
        end = len(text) if endpos is None else endpos
        return self.pattern.search(text, pos, end) if lowered is None else self.lowered.search(lowered, pos, end)


def _fold_problem(pattern: re.Pattern[str]) -> str | None:
    """Why `pattern` would match lower-cased text otherwise than the text itself, or None."""
    if not pattern.flags & re.IGNORECASE:
        return "it is case-sensitive"
    if re.compile(pattern.pattern).flags & re.IGNORECASE:
        return "it sets the flag inline"
    return _tree_problem(list(sre_parse.parse(pattern.pattern, pattern.flags)))


def _tree_problem(ops: list[tuple[Any, Any]]) -> str | None:
    for op, av in ops:
        problem = _op_problem(op, av)
        if problem is not None:
            return problem
    return None


def _op_problem(op: Any, av: Any) -> str | None:
    c = sre_constants
    if op in (c.LITERAL, c.NOT_LITERAL):
        return _char_problem(av)
    if op is c.IN:
        return _set_problem(av)
    if op in (c.GROUPREF, c.GROUPREF_EXISTS):
        return "a back-reference"
    if op is c.SUBPATTERN:
        if (av[1] | av[2]) & sre_constants.SRE_FLAG_IGNORECASE:
            return "a group that changes case sensitivity"
        return _tree_problem(list(av[3]))
    if op is c.BRANCH:
        return next((p for sub in av[1] if (p := _tree_problem(list(sub))) is not None), None)
    if op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT):
        return _tree_problem(list(av[2]))
    if op in (c.ASSERT, c.ASSERT_NOT):
        return _tree_problem(list(av[1]))
    if op is c.ATOMIC_GROUP:
        return _tree_problem(list(av))
    return None  # ANY, AT (boundaries), categories: the same on lower-cased text


def _char_problem(code: int) -> str | None:
    """A literal agrees when it is its own lower case and shares it with no other character
    (`re` matches 'µ' with 'Μ', which lower-cases to 'μ'); 'i' and 's' share theirs with 'ı' and
    'ſ' only, which `folded` never lowers."""
    ch = chr(code)
    if ch.lower() != ch:
        return f"upper-case {ch!r}"
    if any(chr(other) not in _UNFOLDABLE_CHARS for other in _EXTRA_CASES.get(code, ())):
        return f"{ch!r} shares its case with other characters"
    return None


def _set_problem(items: list[tuple[Any, Any]]) -> str | None:
    """A character set agrees when it holds the lower case of each of its members, and each
    member agrees as a literal would (lower-cased text never reaches an upper-case member)."""
    members: set[int] = set()
    for op, av in items:
        if op is sre_constants.LITERAL:
            members.add(av)
        elif op is sre_constants.RANGE:
            if av[1] - av[0] > 0x3000:
                return "a range too wide to check"
            members.update(range(av[0], av[1] + 1))
    for code in members:
        low = chr(code).lower()
        if len(low) != 1 or ord(low) not in members:
            return f"{chr(code)!r} without its lower case"
        if (problem := _char_problem(ord(low))) is not None:
            return problem
    return None


__all__ = [
    "FoldedPattern",
    "Phrases",
    "alternation",
    "expand_phrase",
    "first_characters",
    "fold",
    "folded",
    "last_characters",
    "phrase_pattern",
    "phrase_problem",
    "word_set",
]
