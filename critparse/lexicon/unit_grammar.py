"""The unit grammar (`unit_grammar.json`): written units read term by term and mapped to UCUM.

A unit is terms joined by `/`, `per` (a denominator) or `.`/`·` (a product); a term is a prefix,
an atom and an exponent (`mL/kg/h`, `µg/kg/min`, `kg.m-2`, `mL/mmHg/min`, `cm H2O`); a
denominator may start with a number (`g/24 h` -> `g/(24.h)`, `mL/min/1.73 m²` ->
`mL/min/{1.73_m2}`, `/50 HPF` -> `/{50_HPF}`). Counted things UCUM has no unit for keep their
written name as an annotation (`{cigarettes}/d`); beats and cells are left out (`/min`, `/uL`).
The terms are one trie-shaped regular expression; the reader only moves forward.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from critparse.errors import ResourceError
from critparse.lexicon.phrases import alternation, fold, phrase_pattern
from critparse.lexicon.vocabulary_files import UnitAtom, UnitGrammar

Unit = tuple[str, str, int, int]
"""(UCUM code, surface, start, end) of a unit read from a text."""


Term = tuple[str | None, str, bool, int]
"""(UCUM code or None, dimension, may stand alone, end) of one prefixed atom read from a text."""


class UnitTerms:
    """Every prefix + atom of a unit grammar, compiled into one matcher (longest form wins)."""

    def __init__(self, grammar: UnitGrammar) -> None:
        self.grammar = grammar
        self._loose: dict[str, tuple[str | None, str, bool]] = {}
        self._exact: dict[str, tuple[str | None, str, bool]] = {}
        problems: list[str] = []
        for atom in grammar.atoms:
            table = self._exact if atom.case_sensitive else self._loose
            for written, code in _prefixed_forms(atom, grammar.prefixes):
                key = written if atom.case_sensitive else fold(written)
                if key in table and table[key][:2] != (code, atom.dimension):
                    problems.append(f"{written!r} reads as {table[key][0]!r} and as {code!r}")
                table[key] = (code, atom.dimension, atom.alone)
        if problems:
            raise ResourceError("unit_grammar.json: " + "; ".join(problems))
        end = r"(?![A-Za-zµμ])"
        self._loose_re = re.compile("(?:" + alternation(list(self._loose)) + ")" + end, re.IGNORECASE)
        self._exact_re = re.compile("(?:" + alternation(list(self._exact), fold=False) + ")" + end)

    def match(self, text: str, pos: int) -> Term | None:
        """The longest prefixed atom starting exactly at `pos` (a case-sensitive one on a tie)."""
        exact = self._exact_re.match(text, pos)
        if exact is None and text[pos : pos + 2].isupper():  # 'PLATELETS >= 100,000/MM3'
            shouted = self._exact_re.match(text[pos : pos + 24].lower())
            if shouted is not None and len(shouted.group(0)) > 1 and text[pos : pos + shouted.end()].isupper():
                return (*self._exact[shouted.group(0)], pos + shouted.end())
        loose = self._loose_re.match(text, pos)
        if exact is not None and (loose is None or exact.end() >= loose.end()):
            return (*self._exact[exact.group(0)], exact.end())
        if loose is not None:
            return (*self._loose[fold(loose.group(0))], loose.end())
        return None


def _prefixed_forms(atom: UnitAtom, prefixes: dict[str, list[str]]) -> list[tuple[str, str | None]]:
    """(written form, UCUM code) of an atom alone and after each prefix it takes."""
    forms: list[tuple[str, str | None]] = [(w, atom.code) for w in atom.written]
    for p in atom.prefixes:
        code = None if atom.code is None else p + atom.code
        forms += [(pw + w, code) for pw in prefixes[p] for w in atom.written]
    return forms


_SPACE = re.compile(r"[ \t]*")
_GLUED = re.compile(r"[A-Za-z0-9µμ]")  # a unit ends where a word or number would go on
_EXPONENT = re.compile(r"(?:\^|\*\*)?(-|⁻)?([23²³])(?![0-9])")
_DENOMINATOR_NUMBER = re.compile(r"(\d+(?:[.,]\d+)?)[ \t]?")
_SUPERSCRIPT = str.maketrans("²³", "23")
_NUMBERED_DIMENSIONS = frozenset({"time", "volume", "field", "area"})
"""A number may lead a denominator of these (`/24 h`, `/100 mL`, `/50 HPF`, `/1.73 m²`), never of a
pressure or a mass: `140/90 mmHg` is two numbers, not a unit."""

_Term = tuple[str | None, str, int, bool]
"""(code with its exponent, dimension, end, negative exponent) of one term."""


@dataclass(init=False)  # __init__ written out: see COMPILED in setup.py
class _Reading:
    """A unit being read: the codes above and below the line, and where it ends so far."""

    numerator: list[str]
    denominator: list[str]
    dimensions: list[str]
    end: int
    named: bool  # at least one atom was read (a counted thing counts)

    def __init__(self, numerator: list[str] | None = None, denominator: list[str] | None = None,
                 dimensions: list[str] | None = None, end: int = 0, named: bool = False) -> None:
        self.numerator = [] if numerator is None else numerator
        self.denominator = [] if denominator is None else denominator
        self.dimensions = [] if dimensions is None else dimensions
        self.end, self.named = end, named

    def code(self) -> str | None:
        if not self.numerator and not self.denominator:
            return None
        return ".".join(self.numerator) + "".join("/" + d for d in self.denominator)


class UnitReader:
    """Reads written units with a grammar: `read(text, pos)` -> (UCUM code, surface, start, end)."""

    def __init__(self, grammar: UnitGrammar) -> None:
        self.grammar = grammar
        self.terms = UnitTerms(grammar)
        self.dimensions = frozenset(a.dimension for a in grammar.atoms)
        worded = [p for p in grammar.per if p[:1].isalpha()]
        symbols = [p for p in grammar.per if not p[:1].isalpha()]
        self._per = re.compile(
            r"[ \t]*+(?:" + "|".join(re.escape(p) for p in symbols) + r")[ \t]*+"
            + (r"|[ \t]*+(?<![A-Za-z])(?:" + phrase_pattern(worded) + r")[ \t]++" if worded else ""),
            re.IGNORECASE,
        )
        self._per_time = re.compile(r"[ \t]++(?:" + phrase_pattern(grammar.per_time) + r")[ \t]++", re.IGNORECASE)
        self._times = re.compile("(?:" + phrase_pattern(grammar.times) + ")")
        self._bracketed = frozenset(grammar.bracketed_denominators)

    def read(self, text: str, pos: int) -> Unit | None:
        """The unit the grammar reads at `pos` (after optional spaces), or None."""
        start = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
        found = self.terms.match(text, start)
        first = self._powered(text, found) if found is not None else None
        if first is None and self._per.match(text, pos) is None:
            return None  # a unit starts with a term, '/' or 'per' ('/min', 'per 50 HPF')
        reading = _Reading(end=pos)
        if first is not None:
            _add(reading, first, denominator=False)
        while self._next_term(text, reading):
            pass
        if found is not None and not reading.denominator and len(reading.numerator) < 2 and not found[2]:
            return None  # '14 units of alcohol': a count, not enzyme units (one that cannot stand alone)
        code = reading.code()
        if code is None or not reading.named or _GLUED.match(text, reading.end):
            return None
        return code, text[start : reading.end], start, reading.end

    def read_per_count(self, text: str, pos: int, dimensions: frozenset[str]) -> Unit | None:
        """'/µL', 'per 50 HPF' after a counted noun ('blasts/mm3', 'mitoses per 50 HPF'): the
        count per a denominator of one of `dimensions`; the noun is left out of the code."""
        per = self._per.match(text, pos)
        found = self._denominator(text, per.end()) if per is not None else None
        if found is None or found[1] not in dimensions or _GLUED.match(text, found[2]):
            return None
        start = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
        return "/" + found[0], text[start : found[2]], start, found[2]

    def _term(self, text: str, pos: int, *, alone: bool = False) -> _Term | None:
        """One term at `pos`; `alone`: only atoms that name a unit by themselves ('mg', not 'units')."""
        found = self.terms.match(text, pos)
        if found is None or (alone and not found[2]):
            return None
        return self._powered(text, found)

    def _powered(self, text: str, found: Term) -> _Term:
        """The term read at `found`, with the exponent after a length ('m²', 'mm3')."""
        code, dimension, _, end = found
        exponent = _EXPONENT.match(text, end) if dimension == "length" else None
        if exponent is None:
            return code, dimension, end, False
        power = exponent.group(2).translate(_SUPERSCRIPT)
        dimension = "area" if power == "2" else "volume"  # 'm²', 'mm3'
        return (None if code is None else code + power), dimension, exponent.end(), bool(exponent.group(1))

    def _next_term(self, text: str, reading: _Reading) -> bool:
        """Read one more '/ term', 'per term', 'a day' or '.term'; False at the end of the unit."""
        pos = reading.end
        times = self._times.match(text, pos)
        if times is not None and (term := self._term(text, times.end())) is not None:
            _add(reading, term, denominator=False)  # 'kg.m-2'
            return True
        per = self._per.match(text, pos) or self._per_time.match(text, pos)
        denominator = self._denominator(text, per.end()) if per is not None else None
        if per is None or denominator is None:
            return False
        code, dimension, end = denominator
        if per.re is self._per_time and dimension != "time":
            return False  # 'a day', 'an hour'; not '5 mg a patient'
        if dimension == "time" and reading.dimensions and all(d == "time" for d in reading.dimensions):
            return False  # '3 months/12 weeks' is two durations, not a rate
        reading.denominator.append(code)
        reading.end, reading.named = end, True
        return True

    def _denominator(self, text: str, pos: int) -> tuple[str, str, int] | None:
        """A denominator term, with a leading number when one stands there ('24 h', '1.73 m²')."""
        number = _DENOMINATOR_NUMBER.match(text, pos)
        if number is None:
            term = self._term(text, pos)
            return None if term is None or term[0] is None else (term[0], term[1], term[2])
        term = self._term(text, number.end())
        if term is None or term[0] is None or term[1] not in _NUMBERED_DIMENSIONS:
            return None
        value, code = number.group(1).replace(",", "."), term[0]
        if code in self._bracketed or code.startswith("{"):
            return "{" + value + "_" + code.strip("{}") + "}", term[1], term[2]
        return f"({value}.{code})", term[1], term[2]


def _add(reading: _Reading, term: _Term, *, denominator: bool) -> None:
    code, dimension, end, negative = term
    reading.end, reading.named = end, True
    if code is None:
        return  # beats, cells: counted things UCUM leaves out
    if denominator != negative:
        reading.denominator.append(code)
    else:
        reading.numerator.append(code)
        reading.dimensions.append(dimension)


__all__ = ["Unit", "UnitAtom", "UnitGrammar", "UnitReader", "UnitTerms"]
