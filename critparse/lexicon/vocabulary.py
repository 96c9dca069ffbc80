"""Load and validate the comparator and unit vocabularies (`critparse/resources/*.json`).

The vocabularies are data; this module turns them into the compiled regular expressions the
extractor runs. A malformed file fails at load time with every problem listed at once.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from critparse.errors import ResourceError
from critparse.resources import load_resource
from critparse.model.span import Comparator

_STRICT = ConfigDict(frozen=True, extra="forbid")


class ComparatorVocabulary(BaseModel):
    """`comparators.json`: phrases before a number and after a number+unit."""

    model_config = _STRICT

    about: str = Field(default="", alias="_about")
    before: dict[Comparator, list[str]]
    after: dict[Comparator, list[str]]


class UnitEntry(BaseModel):
    model_config = _STRICT

    code: str = Field(min_length=1)
    surfaces: list[str] = Field(min_length=1)


class UnitVocabulary(BaseModel):
    """`units.json`: written unit forms -> normalised codes."""

    model_config = _STRICT

    about: str = Field(default="", alias="_about")
    case_sensitive: list[str] = []
    units: list[UnitEntry]


def _atoms(surface: str, fold: bool) -> list[str]:
    """Regex pieces of a written phrase: any white space between words, optional around '/'."""
    out = []
    for part in re.split(r"(\s+|/)", surface.strip()):
        if not part:
            continue
        if part.isspace():
            out.append(r"\s+")
        elif part == "/":
            out.append(r"\s*/\s*")
        else:
            out.extend(re.escape(ch.lower() if fold else ch) for ch in part)
    return out


def _alternation(surfaces: list[str], fold: bool = True) -> str:
    """One regex for many phrases, as a trie: the engine tries one branch per character instead
    of every phrase at every position, and a longer phrase wins over its prefix."""
    trie: dict[str, dict] = {}
    for surface in set(surfaces):
        node = trie
        for atom in _atoms(surface, fold):
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


class Vocabulary:
    """Compiled matchers for comparators and units, built once per process."""

    def __init__(self, comparators: ComparatorVocabulary, units: UnitVocabulary) -> None:
        self.comparators = comparators
        self.units = units
        self._before: dict[str, Comparator] = {}
        for comparator, phrases in comparators.before.items():
            for phrase in phrases:
                self._before[_fold(phrase)] = comparator
        self._after: dict[str, Comparator] = {}
        for comparator, phrases in comparators.after.items():
            for phrase in phrases:
                self._after[_fold(phrase)] = comparator
        # Comparator phrases before a number, found in one pass over a text (`comparators_ending`);
        # word phrases need word boundaries so that 'cover' is not 'over'.
        # Symbols may be glued to a word on their left ('ANC>1000', 'A1C>=6.5%').
        words = [p for p in self._before_surfaces() if p[:1].isalpha()]
        symbols = [p for p in self._before_surfaces() if not p[:1].isalpha()]
        self.before_iter_re = re.compile(
            r"(?P<cmp>(?<![A-Za-z])(?:" + _alternation(words) + r")|" + _alternation(symbols) + r")"
            r"(?:(?<![A-Za-z])|(?![A-Za-z]))(?:\s*(?:of|than)(?![A-Za-z]))?",
            re.IGNORECASE,
        )
        self.after_re = re.compile(
            r"\s*(?P<cmp>" + _alternation(list(self._after_surfaces())) + r")(?![A-Za-z])", re.IGNORECASE
        )
        self._unit_code: dict[str, str] = {}
        self._unit_code_exact: dict[str, str] = {}
        case_sensitive = set(units.case_sensitive)
        problems = []
        for entry in units.units:
            for surface in entry.surfaces:
                table = self._unit_code_exact if surface in case_sensitive else self._unit_code
                key = surface if surface in case_sensitive else _fold(surface)
                if key in table and table[key] != entry.code:
                    problems.append(f"unit surface {surface!r} maps to {table[key]!r} and {entry.code!r}")
                table[key] = entry.code
        if problems:
            raise ResourceError("units.json: " + "; ".join(problems))
        exact = _alternation(list(self._unit_code_exact), fold=False)
        loose = _alternation([s for e in units.units for s in e.surfaces if s not in case_sensitive])
        # Units end at a non-alphanumeric character; '%' and '²' end themselves.
        self.unit_exact_re = re.compile(r"\s*(" + exact + r")(?![A-Za-z0-9µμ])") if exact else None
        self.unit_re = re.compile(r"\s*(" + loose + r")(?![A-Za-z0-9µμ])", re.IGNORECASE)

    def _before_surfaces(self) -> list[str]:
        return [p for phrases in self.comparators.before.values() for p in phrases]

    def _after_surfaces(self) -> list[str]:
        return [p for phrases in self.comparators.after.values() for p in phrases]

    def comparators_ending(self, text: str) -> dict[int, tuple[Comparator, int]]:
        """Every comparator phrase of `text`, keyed by where it ends: end -> (comparator, start)."""
        return {
            m.end(): (self._before[_fold(m.group("cmp"))], m.start()) for m in self.before_iter_re.finditer(text)
        }

    def comparator_after(self, phrase: str) -> Comparator:
        return self._after[_fold(phrase)]

    def match_unit(self, text: str, pos: int) -> tuple[str, str, int, int] | None:
        """The unit starting at `pos` (after optional space): (code, surface, start, end)."""
        found = None
        if self.unit_exact_re is not None:
            m = self.unit_exact_re.match(text, pos)
            if m:
                found = (self._unit_code_exact[m.group(1)], m)
        m2 = self.unit_re.match(text, pos)
        if m2 and (found is None or m2.end() > found[1].end()):
            found = (self._unit_code[_fold(m2.group(1))], m2)
        if found is None:
            return None
        code, m = found
        return code, m.group(1), m.start(1), m.end(1)

    def unit_code(self, surface: str) -> str | None:
        """Normalised code for a unit as written, or None when unknown."""
        surface = surface.strip()
        if surface in self._unit_code_exact:
            return self._unit_code_exact[surface]
        return self._unit_code.get(_fold(surface))


@lru_cache(maxsize=8192)
def _fold(phrase: str) -> str:
    """Case- and space-insensitive key of a phrase (cached: the same few phrases recur)."""
    return re.sub(r"\s*/\s*", "/", re.sub(r"\s+", " ", phrase.strip().lower()))


def load_vocabulary(
    comparators: str | Path | None = None, units: str | Path | None = None
) -> Vocabulary:
    """The comparator and unit vocabularies (bundled ones by default), validated and compiled."""
    return Vocabulary(
        load_resource(ComparatorVocabulary, "comparators.json", comparators),
        load_resource(UnitVocabulary, "units.json", units),
    )
