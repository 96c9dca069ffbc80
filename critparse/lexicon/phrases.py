"""Phrases of the word lists and vocabularies, compiled into regular expressions.

A phrase is words separated by spaces (any white space matches), with optional parts in
[brackets] ('limit[s] of [the] normal'); white space is optional around '/' and parentheses.
Many phrases become one alternation built as a trie, so that the engine tries one branch per
character and a longer phrase wins over its prefix (no backtracking over the list).
"""

from __future__ import annotations

import re
from functools import lru_cache
from itertools import product
from typing import Annotated

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



__all__ = ["Phrases", "alternation", "expand_phrase", "fold", "phrase_pattern", "phrase_problem", "word_set"]
