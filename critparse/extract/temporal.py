"""Time windows in criteria: 'within 4 weeks before enrolment', 'in the past 6 months',
'at least 28 days since', 'prior to day 1'.

The vocabulary is data (`critparse/resources/time_windows.json`); the grammar is code. A lexer
(one compiled alternation of every phrase, a number pattern with bounded repeats and no nested
quantifier) marks leads, numbers, units, relation words, fillers and anchors; a small state
machine then reads `[lead] [number] unit [relation] [fillers] [anchor]` over adjacent lexemes.
Both are linear in the text, whatever it holds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from critparse.errors import ResourceError
from critparse.extract.context import read_json_resource, validate_resource
from critparse.model.concept import Relation, TimeUnit, TimeWindow
from critparse.model.span import Comparator, Span

_STRICT = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)
_NUMBER = r"(?<![\w.,])\d{1,4}(?:\.\d{1,2})?(?![\d])"
_GAP = frozenset(" \t\r\n-–")
_MAX_FILLERS = 4

Kind = Literal["lead", "relation", "anchor", "filler", "unit", "number"]

__all__ = [
    "Anchor",
    "Lead",
    "RelationWord",
    "TimeWindowFile",
    "TimeWindowRules",
    "UnitForms",
    "compile_time_windows",
    "find_time_windows",
    "load_time_windows",
]


class Lead(BaseModel):
    """A phrase opening a window with a comparator ('within', 'at least', 'in the past')."""

    model_config = _STRICT

    phrase: str = Field(min_length=1)
    comparator: Comparator
    relation: Relation | None = None
    period: bool = False
    needs_relation: bool = False


class RelationWord(BaseModel):
    """A word placing the event before or after the anchor ('before', 'prior to', 'since', 'of')."""

    model_config = _STRICT

    phrase: str = Field(min_length=1)
    relation: Relation | None
    needs_anchor: bool = False
    anchored_relation: Relation | None = None


class Anchor(BaseModel):
    """A written reference event and its normalised name ('enrollment' -> 'enrolment')."""

    model_config = _STRICT

    phrase: str = Field(min_length=1)
    anchor: str = Field(min_length=1)


class UnitForms(BaseModel):
    """The written forms of one duration unit."""

    model_config = _STRICT

    unit: TimeUnit
    singular: list[str] = Field(min_length=1)
    plural: list[str] = []


class TimeWindowFile(BaseModel):
    """`time_windows.json`; see its `_about` for the grammar the lists feed."""

    model_config = _STRICT

    about: str = Field(default="", alias="_about")
    leads: list[Lead]
    relations: list[RelationWord]
    anchors: list[Anchor]
    fillers: list[str]
    units: list[UnitForms]
    numbers: dict[str, float]

    @model_validator(mode="after")
    def _numbers_finite(self) -> TimeWindowFile:
        bad = [w for w, v in self.numbers.items() if not math.isfinite(v) or v < 0]
        if bad:
            raise ValueError(f"number words need finite, non-negative values: {bad}")
        return self


@dataclass(frozen=True, slots=True)
class _Entry:
    kind: Kind
    value: Any  # Lead | RelationWord | Anchor | (TimeUnit, singular) | float | None


@dataclass(frozen=True, slots=True)
class TimeWindowRules:
    """The vocabulary compiled into one lexer (build with `compile_time_windows`)."""

    pattern: re.Pattern[str]
    by_key: Mapping[str, _Entry]


def _key(phrase: str) -> str:
    return " ".join(phrase.lower().split())


def _entries(tw: TimeWindowFile) -> list[tuple[str, _Entry]]:
    """Every phrase with what it is, in file order."""
    out: list[tuple[str, _Entry]] = [(x.phrase, _Entry("lead", x)) for x in tw.leads]
    out += [(x.phrase, _Entry("relation", x)) for x in tw.relations]
    out += [(x.phrase, _Entry("anchor", x)) for x in tw.anchors]
    out += [(x, _Entry("filler", None)) for x in tw.fillers]
    for u in tw.units:
        out += [(x, _Entry("unit", (u.unit, True))) for x in u.singular]
        out += [(x, _Entry("unit", (u.unit, False))) for x in u.plural]
    out += [(w, _Entry("number", v)) for w, v in tw.numbers.items()]
    return out


def _phrase_problems(entries: Sequence[tuple[str, _Entry]]) -> list[str]:
    """Phrases that are blank or listed twice: the lexer must know what each phrase is."""
    seen: dict[str, str] = {}
    problems = []
    for phrase, entry in entries:
        key = _key(phrase)
        if not key:
            problems.append(f"{entry.kind} {phrase!r}: blank phrase")
        elif key in seen:
            problems.append(f"{entry.kind} {phrase!r}: already listed as a {seen[key]}")
        else:
            seen[key] = entry.kind
    return problems


def _phrase_regex(key: str) -> str:
    body = r"\s++".join(re.escape(w) for w in key.split())
    return body + (r"(?!\w)" if re.match(r"\w", key[-1]) else "")


def compile_time_windows(tw: TimeWindowFile) -> TimeWindowRules:
    """One lexer: every phrase (longest first, not glued to a letter on its left) or a number."""
    entries = _entries(tw)
    problems = _phrase_problems(entries)
    if problems:
        raise ResourceError("time windows: " + "; ".join(problems))
    by_key = {_key(p): e for p, e in entries}
    keys = sorted(by_key, key=lambda k: (-len(k), k))
    wordy = "|".join(_phrase_regex(k) for k in keys if re.match(r"\w", k))
    other = "|".join(_phrase_regex(k) for k in keys if not re.match(r"\w", k))
    parts = [f"(?P<num>{_NUMBER})", rf"(?<![^\W\d_])(?:{wordy})" if wordy else "", other]
    return TimeWindowRules(re.compile("|".join(p for p in parts if p), re.IGNORECASE), by_key)


def load_time_windows(path: str | Path | None = None) -> TimeWindowRules:
    """The bundled time-window vocabulary, or that of `path`; ResourceError listing every problem."""
    data, where = read_json_resource("time_windows.json", path)
    lists: dict[str, tuple[str, type[BaseModel]]] = {
        "leads": ("lead", Lead),
        "relations": ("relation", RelationWord),
        "anchors": ("anchor", Anchor),
        "units": ("unit", UnitForms),
    }
    tw = validate_resource(TimeWindowFile, data, where, lists)
    problems = _phrase_problems(_entries(tw))
    if problems:
        validate_resource(TimeWindowFile, data, where, lists, problems)
    return compile_time_windows(tw)


@dataclass(frozen=True, slots=True)
class _Lexeme:
    start: int
    end: int
    entry: _Entry


def _lex(text: str, rules: TimeWindowRules) -> list[_Lexeme]:
    out = []
    for m in rules.pattern.finditer(text):
        if m.group("num") is not None:
            out.append(_Lexeme(m.start(), m.end(), _Entry("number", float(m.group()))))
            continue
        entry = rules.by_key.get(_key(m.group()))
        if entry is not None:
            out.append(_Lexeme(m.start(), m.end(), entry))
    return out


@dataclass(slots=True)
class _Reader:
    """Reads one window from lexeme `pos` on; each step takes the next lexeme if it fits."""

    text: str
    lexemes: Sequence[_Lexeme]
    pos: int

    def take(self, kind: Kind, after: _Lexeme | None) -> _Lexeme | None:
        if self.pos >= len(self.lexemes):
            return None
        lex = self.lexemes[self.pos]
        if lex.entry.kind != kind:
            return None
        if after is not None and not set(self.text[after.end : lex.start]) <= _GAP:
            return None
        self.pos += 1
        return lex


def _read_anchor(reader: _Reader, rel: _Lexeme) -> _Lexeme | None:
    """Fillers then an anchor after a relation word; nothing is consumed unless the anchor is there."""
    start = reader.pos
    last = rel
    for _ in range(_MAX_FILLERS + 1):
        anchor = reader.take("anchor", last)
        if anchor is not None:
            return anchor
        filler = reader.take("filler", last)
        if filler is None:
            break
        last = filler
    reader.pos = start
    return None


def _window_at(text: str, lexemes: Sequence[_Lexeme], pos: int) -> tuple[TimeWindow | None, int]:
    """The window starting at lexeme `pos`, if one does, and the lexeme after it."""
    reader = _Reader(text, lexemes, pos)
    lead = reader.take("lead", None)
    num = reader.take("number", lead)
    unit = reader.take("unit", num or lead)
    if num is not None and unit is None:
        return None, pos + 1
    rel_pos = reader.pos
    rel = reader.take("relation", unit or num or lead)
    anchor = _read_anchor(reader, rel) if rel is not None else None
    if rel is not None and anchor is None and rel.entry.value.needs_anchor:
        rel, reader.pos = None, rel_pos
    lead_v: Lead | None = lead.entry.value if lead is not None else None
    if not _complete(lead_v, num, unit, rel, anchor):
        return None, pos + 1
    parts = [x for x in (lead, num, unit, rel, anchor) if x is not None]
    start, end = parts[0].start, parts[-1].end
    value = num.entry.value if num is not None else (1.0 if unit is not None and unit.entry.value[1] else None)
    relation = lead_v.relation if lead_v is not None else None
    if rel is not None:
        word: RelationWord = rel.entry.value
        relation = (word.anchored_relation if anchor is not None and word.anchored_relation else word.relation) or relation
    window = TimeWindow(
        text=text[start:end],
        span=Span(start=start, end=end),
        comparator=lead_v.comparator if lead_v is not None and value is not None else None,
        value=value,
        unit=unit.entry.value[0] if unit is not None else None,
        anchor=anchor.entry.value.anchor if anchor is not None else None,
        relation=relation,
    )
    return window, reader.pos


def _complete(
    lead: Lead | None,
    num: _Lexeme | None,
    unit: _Lexeme | None,
    rel: _Lexeme | None,
    anchor: _Lexeme | None,
) -> bool:
    """Whether the parts read make a window (and not a duration threshold or a stray word)."""
    if lead is not None and lead.period:
        return unit is not None
    if lead is not None:
        return unit is not None and num is not None and (rel is not None or not lead.needs_relation)
    if rel is None:
        return False
    return (num is not None and unit is not None) or anchor is not None


def find_time_windows(text: str, rules: TimeWindowRules) -> list[TimeWindow]:
    """Every time window in `text`, left to right, never overlapping."""
    lexemes = _lex(text, rules)
    out = []
    pos = 0
    while pos < len(lexemes):
        window, pos = _window_at(text, lexemes, pos)
        if window is not None:
            out.append(window)
    return out
