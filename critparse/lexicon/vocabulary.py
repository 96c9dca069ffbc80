"""Load and validate the extractor's vocabularies (`comparators.json`, `units.json`, `words.json`).

The vocabularies are data; this module turns them into the compiled regular expressions the
extractor runs. A malformed file fails at load time with every problem listed at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import lru_cache
from itertools import product
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from critparse.errors import ResourceError
from critparse.model.span import Comparator
from critparse.resources import load_resource

_STRICT = ConfigDict(frozen=True, extra="forbid")
T = TypeVar("T")
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


class PatternAnalytes(BaseModel):
    """Lexicon names of the analytes that patterns supply themselves."""

    model_config = _STRICT

    age: str
    systolic: str
    diastolic: str


class CountUnits(BaseModel):
    """Codes of `units.json` a count may be per (one source for count units)."""

    model_config = _STRICT

    about: str = Field(default="", alias="_about")
    after_power: list[str] = Field(min_length=1)
    after_noun: list[str] = Field(min_length=1)


class LimitOfNormalWords(BaseModel):
    """How a multiple of the limits of normal is written ('2.5 x institutional ULN')."""

    model_config = _STRICT

    times: Phrases
    whose: Phrases
    upper: Phrases
    lower: Phrases
    normal: Phrases


class WordLists(BaseModel):
    """`words.json`: the word lists of the extraction grammar (see its `_about`)."""

    model_config = _STRICT

    about: str = Field(default="", alias="_about")
    pattern_analytes: PatternAnalytes
    number_words: dict[str, int] = Field(min_length=1)
    count_units: CountUnits
    limit_of_normal: LimitOfNormalWords
    stop_words: Phrases
    qualifiers: Phrases
    not_staging_systems: Phrases
    clause_words: Phrases
    trailing_filler: Phrases
    leading_filler: Phrases
    derived_heads: Phrases
    name_nouns: Phrases
    clock_words: Phrases
    age_words: Phrases
    people_words: Phrases
    duration_adjectives: Phrases


def expand_phrase(phrase: str) -> list[str]:
    """Every written form of a phrase with optional parts: 'limit[s]' -> 'limit', 'limits'."""
    pieces = _OPTIONAL.split(phrase)
    choices = [[p] if i % 2 == 0 else ["", p] for i, p in enumerate(pieces)]
    return [" ".join("".join(c).split()) for c in product(*choices)]


def phrase_pattern(phrases: list[str]) -> str:
    """One regex alternation (no anchors) for phrases with optional parts, longest first."""
    return _alternation([form for p in phrases for form in expand_phrase(p)])


def word_set(phrases: list[str]) -> frozenset[str]:
    """Lower-case forms of single words, for membership tests."""
    return frozenset(form.lower() for p in phrases for form in expand_phrase(p))


def _atoms(surface: str, fold: bool) -> list[str]:
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
            out.append(r"\s*/\s*")
        elif part in "()":
            out.append(r"\s*" + re.escape(part) + (r"\s*" if part == "(" else ""))
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

    def __init__(self, comparators: ComparatorVocabulary, units: UnitVocabulary, words: WordLists) -> None:
        self.comparators = comparators
        self.units = units
        self.words = words
        self._derived: dict[str, Any] = {}
        self._compile_comparators()
        self._compile_units()

    def _compile_comparators(self) -> None:
        comparators = self.comparators
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
        worded = [p for p in self._before_surfaces() if p[:1].isalpha()]
        symbols = [p for p in self._before_surfaces() if not p[:1].isalpha()]
        self.before_iter_re = re.compile(
            r"(?P<cmp>(?<![A-Za-z])(?:" + _alternation(worded) + r")|" + _alternation(symbols) + r")"
            r"(?:(?<![A-Za-z])|(?![A-Za-z]))(?:\s*(?:of|than)(?![A-Za-z]))?",
            re.IGNORECASE,
        )
        self.after_re = re.compile(
            r"\s*(?P<cmp>" + _alternation(list(self._after_surfaces())) + r")(?![A-Za-z])", re.IGNORECASE
        )

    def _compile_units(self) -> None:
        units = self.units
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
        known_codes = {e.code for e in units.units}
        problems += [
            f"words.json count_units: {code!r} is not a unit code of units.json"
            for code in self.words.count_units.after_power + self.words.count_units.after_noun
            if code not in known_codes
        ]
        if problems:
            raise ResourceError("units.json: " + "; ".join(problems))
        exact = _alternation(list(self._unit_code_exact), fold=False)
        loose = _alternation([s for e in units.units for s in e.surfaces if s not in case_sensitive])
        # Units end at a non-alphanumeric character; '%' and '²' end themselves.
        self.unit_exact_re = re.compile(r"\s*(" + exact + r")(?![A-Za-z0-9µμ])") if exact else None
        self.unit_re = re.compile(r"\s*(" + loose + r")(?![A-Za-z0-9µμ])", re.IGNORECASE)

    def derived(self, key: str, build: Callable[[Vocabulary], T]) -> T:
        """A matcher built from these vocabularies (e.g. an extract module's compiled
        patterns), built once per vocabulary so that no module keeps a global one."""
        if key not in self._derived:
            self._derived[key] = build(self)
        return self._derived[key]  # type: ignore[no-any-return]

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


def load_words(path: str | Path | None = None) -> WordLists:
    """The extraction word lists (bundled `words.json` by default), validated."""
    return load_resource(WordLists, "words.json", path)


def load_vocabulary(
    comparators: str | Path | None = None,
    units: str | Path | None = None,
    words: WordLists | str | Path | None = None,
) -> Vocabulary:
    """The comparator, unit and word vocabularies (bundled ones by default), validated and compiled."""
    return Vocabulary(
        load_resource(ComparatorVocabulary, "comparators.json", comparators),
        load_resource(UnitVocabulary, "units.json", units),
        words if isinstance(words, WordLists) else load_words(words),
    )
