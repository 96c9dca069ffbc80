"""Load and validate the extractor's vocabularies (`comparators.json`, `units.json`,
`unit_grammar.json`, `words.json`).

The vocabularies are data; this module turns them into the compiled regular expressions the
extractor runs. A malformed file fails at load time with every problem listed at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from critparse.errors import ResourceError
from critparse.lexicon.phrases import FoldedPattern, alternation, fold, folded
from critparse.lexicon.unit_grammar import Unit, UnitGrammar, UnitReader
from critparse.lexicon.vocabulary_files import (
    ComparatorVocabulary,
    UnitVocabulary,
    WordLists,
)
from critparse.model.span import Comparator
from critparse.resources import load_resource

T = TypeVar("T")
class Vocabulary:
    """Compiled matchers for comparators and units, built once per process."""

    def __init__(
        self, comparators: ComparatorVocabulary, units: UnitVocabulary, words: WordLists, grammar: UnitGrammar
    ) -> None:
        self.comparators = comparators
        self.units = units
        self.words = words
        self.unit_reader = UnitReader(grammar)
        """Units the grammar composes (`mL/kg/h`); `units.json` holds the forms it cannot."""
        unknown = sorted(set(words.count_units.after_noun) - self.unit_reader.dimensions)
        if unknown:
            raise ResourceError(
                f"words.json count_units.after_noun: {unknown} are not dimensions of unit_grammar.json "
                f"({sorted(self.unit_reader.dimensions)})"
            )
        self._derived: dict[str, Any] = {}
        self._compile_comparators()
        self._compile_units()

    def _compile_comparators(self) -> None:
        comparators = self.comparators
        self._before: dict[str, Comparator] = {}
        for comparator, phrases in comparators.before.items():
            for phrase in phrases:
                self._before[fold(phrase)] = comparator
        self._after: dict[str, Comparator] = {}
        for comparator, phrases in comparators.after.items():
            for phrase in phrases:
                self._after[fold(phrase)] = comparator
        # Comparator phrases before a number, found in one pass over a text (`comparators_ending`);
        # word phrases need word boundaries so that 'cover' is not 'over'.
        # Symbols may be glued to a word on their left ('ANC>1000', 'A1C>=6.5%').
        worded = [p for p in self._before_surfaces() if p[:1].isalpha()]
        symbols = [p for p in self._before_surfaces() if not p[:1].isalpha()]
        self.before_iter_re = re.compile(
            first_character_lead(self._before_surfaces())
            + r"(?P<cmp>(?<![A-Za-z])(?:" + alternation(worded) + r")|" + alternation(symbols) + r")"
            r"(?:(?<![A-Za-z])|(?![A-Za-z]))(?:\s*(?:of|than)(?![A-Za-z]))?"
            # the comparator restated in a parenthesis: 'greater than or equal to (≥) 3 weeks',
            # '≥ (greater than or equal to) 1500/mm3'
            r"(?:\s*\(\s*(?:" + alternation(self._before_surfaces()) + r")\s*\))?",
            re.IGNORECASE,
        )
        self._before_scan = FoldedPattern(self.before_iter_re)
        self.after_re = re.compile(
            r"\s*+(?P<cmp>" + alternation(list(self._after_surfaces())) + r")(?![A-Za-z])", re.IGNORECASE
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
                key = surface if surface in case_sensitive else fold(surface)
                if key in table and table[key] != entry.code:
                    problems.append(f"unit surface {surface!r} maps to {table[key]!r} and {entry.code!r}")
                table[key] = entry.code
        if problems:
            raise ResourceError("units.json: " + "; ".join(problems))
        exact = alternation(list(self._unit_code_exact), fold=False)
        loose = alternation([s for e in units.units for s in e.surfaces if s not in case_sensitive])
        # Units end at a non-alphanumeric character; '%' and '²' end themselves. No written form
        # starts with white space, so the space before one is never given back (possessive `*+`):
        # a long run of spaces costs one pass, not one per space.
        self.unit_exact_re = re.compile(r"\s*+(" + exact + r")(?![A-Za-z0-9µμ])") if exact else None
        self.unit_re = re.compile(r"\s*+(" + loose + r")(?![A-Za-z0-9µμ])", re.IGNORECASE)

    def derived(self, key: str, build: Callable[[Vocabulary], T]) -> T:
        """A matcher built from these vocabularies (e.g. an extract module's compiled
        patterns), built once per vocabulary so that no module keeps a global one."""
        found = self._derived.get(key)  # (one look-up: every extract step asks, for every text)
        if found is None:
            found = self._derived[key] = build(self)
        return found  # type: ignore[no-any-return]

    def _before_surfaces(self) -> list[str]:
        return [p for phrases in self.comparators.before.values() for p in phrases]

    def _after_surfaces(self) -> list[str]:
        return [p for phrases in self.comparators.after.values() for p in phrases]

    def comparators_ending(self, text: str) -> dict[int, tuple[Comparator, int]]:
        """Every comparator phrase of `text`, keyed by where it ends: end -> (comparator, start)."""
        return dict(self.iter_comparators(text))

    def iter_comparators(self, text: str) -> Iterator[tuple[int, tuple[Comparator, int]]]:
        """The comparator phrases of `text` in text order, found as they are asked for:
        (end, (comparator, start)); each ends after the one before."""
        return self.iter_comparators_folded(text, folded(text))

    def iter_comparators_folded(self, text: str, lowered: str | None) -> Iterator[tuple[int, tuple[Comparator, int]]]:
        """`iter_comparators`, given `folded(text)` (for a caller that has it already)."""
        for m in self._before_scan.finditer(text, lowered):
            yield m.end(), (self._before[fold(m.group("cmp"))], m.start())

    def comparator_after(self, phrase: str) -> Comparator:
        return self._after[fold(phrase)]

    def match_unit(self, text: str, pos: int) -> Unit | None:
        """The unit starting at `pos` (after optional space): (code, surface, start, end).

        The longer of the grammar's reading and a whole written form of `units.json`, the latter
        on a tie (it carries the corpus's choices: `G/L` is `10*9/L`, `mg/day` is `mg/(24.h)`)."""
        alias = self._alias_unit(text, pos)
        grammar = self.unit_reader.read(text, pos)
        if grammar is None or (alias is not None and alias[3] >= grammar[3]):
            return alias
        return grammar

    def read_per_count(self, text: str, pos: int, dimensions: frozenset[str]) -> Unit | None:
        """A count's denominator after a counted noun ('blasts/mm3'); see `UnitReader.read_per_count`."""
        return self.unit_reader.read_per_count(text, pos, dimensions)

    def _alias_unit(self, text: str, pos: int) -> Unit | None:
        found = None
        if self.unit_exact_re is not None:
            m = self.unit_exact_re.match(text, pos)
            if m:
                found = (self._unit_code_exact[m.group(1)], m)
        m2 = self.unit_re.match(text, pos)
        if m2 and (found is None or m2.end() > found[1].end()):
            found = (self._unit_code[fold(m2.group(1))], m2)
        if found is None:
            return None
        code, m = found
        return code, m.group(1), m.start(1), m.end(1)

    def unit_code(self, surface: str) -> str | None:
        """Normalised code for a unit written alone ('mg/dl' -> 'mg/dL'), or None when unknown."""
        surface = surface.strip()
        found = self.match_unit(surface, 0)
        return found[0] if found is not None and found[3] == len(surface) else None


def first_character_lead(phrases: list[str]) -> str:
    """A look-ahead for the characters the written phrases (no optional parts) start with, in
    either case, or '' when one may start with white space (`atoms` lets it open a phrase with a
    parenthesis). Put before a pattern whose matches start with one of the phrases, it lets `re`
    skip to those characters instead of trying the look-behind or word boundary that opens the
    pattern at every place of a text (four times faster on a long run of numbers); the matches
    are the same."""
    firsts = {p.strip()[:1] for p in phrases}
    if not all(firsts) or any(c in "()" for c in firsts):  # 'atoms' lets white space open these
        return ""
    chars = sorted({form for c in firsts for form in (c, c.lower(), c.upper())})
    return "(?=[" + "".join(re.escape(c) for c in chars) + "])"


def load_words(path: str | Path | None = None) -> WordLists:
    """The extraction word lists (bundled `words.json` by default), validated."""
    return load_resource(WordLists, "words.json", path)


def load_vocabulary(
    comparators: str | Path | None = None,
    units: str | Path | None = None,
    words: WordLists | str | Path | None = None,
    unit_grammar: str | Path | None = None,
) -> Vocabulary:
    """The comparator, unit and word vocabularies (bundled ones by default), validated and compiled."""
    return Vocabulary(
        load_resource(ComparatorVocabulary, "comparators.json", comparators),
        load_resource(UnitVocabulary, "units.json", units),
        words if isinstance(words, WordLists) else load_words(words),
        load_resource(UnitGrammar, "unit_grammar.json", unit_grammar),
    )
