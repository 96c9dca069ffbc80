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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from critparse.errors import ResourceError
from critparse.extract.context import (
    Folding,
    folding,
    literal_alternation,
    read_json_resource,
    validate_resource,
)
from critparse.extract.schemas import Anchor, Lead, RelationWord, TimeWindowFile, UnitForms
from critparse.model.concept import Relation, TimeUnit, TimeWindow
from critparse.model.span import Comparator, Span
from critparse.model.unchecked import unchecked_model

_NUMBER = r"(?<![\w.,])\d{1,4}(?:\.\d{1,2})?(?![\d])"
_GAP = frozenset(" \t\r\n-–")
_MAX_FILLERS = 4
_NO_OPENING = frozenset({"filler", "anchor"})
_DURATION_NEXT = frozenset({"number", "unit"})
"""What may follow a number that opens a window: it reads a range or alternatives, then a unit."""

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
    "find_windows_and_durations",
    "load_time_windows",
    "unchecked_model",
]


@dataclass(frozen=True, slots=True)
class _Entry:
    kind: Kind
    value: Any  # Lead | RelationWord | Anchor | (TimeUnit, singular) | float | None


@dataclass(frozen=True, slots=True)
class TimeWindowRules:
    """The vocabulary compiled into one lexer (build with `compile_time_windows`)."""

    pattern: re.Pattern[str]
    by_key: Mapping[str, _Entry]
    gate: re.Pattern[str]
    """A digit, a number word or a unit of two letters or more: what a window with a duration needs."""
    anchor_gate: re.Pattern[str]
    """A relation word, fillers and an anchor ('prior to the first dose'): a window without a duration."""
    articles: frozenset[str]
    """Fillers that may stand between a lead and its number ('within the 12 months')."""
    opener_leads: Mapping[str, Lead]
    """The lead each opening relation word acts as ('in' before '14 days' is 'within')."""
    unit_gap: re.Pattern[str]
    """Between a number and its unit ('3 consecutive months') or a unit and its relation ('month period before')."""
    range_gap: re.Pattern[str]
    """Between the two numbers of a range ('7-14 days', '2 to 4 weeks')."""
    alternative_gap: re.Pattern[str]
    """A duration in other units before the one read ('5 half-lives or 30 days')."""
    needed: Folding
    """What every window holds: a unit, or a relation word, fillers and an anchor joined by
    white space or hyphens (the reader takes nothing else); a text without it has none."""
    scans: tuple[Folding, Folding, Folding]
    """`pattern`, `gate` and `anchor_gate` with their lower-case twins."""
    memo: dict[str, _Entry | None] = field(default_factory=dict, compare=False, repr=False)
    """The entry of each phrase as written, already looked up."""
    number_memo: dict[str, _Entry] = field(default_factory=dict, compare=False, repr=False)
    """The entry of each number as written."""


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


def compile_time_windows(tw: TimeWindowFile) -> TimeWindowRules:
    """One lexer: every phrase (longest first, not glued to a letter on its left) or a number."""
    entries = _entries(tw)
    problems = _phrase_problems(entries)
    if problems:
        raise ResourceError("time windows: " + "; ".join(problems))
    by_key = {_key(p): e for p, e in entries}
    wordy_keys = [k for k in by_key if re.match(r"\w", k)]
    other_keys = [k for k in by_key if not re.match(r"\w", k)]
    wordy = literal_alternation(wordy_keys) if wordy_keys else ""
    other = literal_alternation(other_keys) if other_keys else ""
    parts = [f"(?P<num>{_NUMBER})", rf"(?<![^\W\d_])(?:{wordy})" if wordy else "", other]
    gate_keys = [k for k, e in by_key.items() if (e.kind == "unit" and len(k) > 1) or (e.kind == "number" and k not in tw.articles)]
    kinds = {kind: [k for k, e in by_key.items() if e.kind == kind] for kind in ("relation", "filler", "anchor")}
    fill = rf"(?:(?:{literal_alternation(kinds['filler'])})\s++){{0,{_MAX_FILLERS}}}" if kinds["filler"] else ""
    anchor_gate = (
        rf"(?<![^\W\d_])(?:{literal_alternation(kinds['relation'])})\s++{fill}(?:{literal_alternation(kinds['anchor'])})"
        if kinds["relation"] and kinds["anchor"] else "(?!)"
    )
    pattern = re.compile("|".join(p for p in parts if p), re.IGNORECASE)
    gate = re.compile(rf"\d|(?<![^\W\d_]){literal_alternation(gate_keys)}" if gate_keys else r"\d", re.IGNORECASE)
    anchor = re.compile(anchor_gate, re.IGNORECASE)
    return TimeWindowRules(
        needed=folding(_needed(by_key)),
        scans=(folding(pattern), folding(gate), folding(anchor)),
        pattern=pattern,
        by_key=by_key,
        gate=gate,
        anchor_gate=anchor,
        articles=frozenset(_key(a) for a in tw.articles),
        opener_leads={r.phrase: Lead(phrase=r.phrase, comparator=r.opens) for r in tw.relations if r.opens is not None},
        unit_gap=_gap([*tw.duration_words, *tw.period_words]),
        range_gap=re.compile(rf"[ \t]*+(?:{literal_alternation(tw.range_joiners)})[ \t]*+" if tw.range_joiners else "(?!)", re.IGNORECASE),
        alternative_gap=re.compile(
            rf"[ \t]*+(?:{literal_alternation(tw.alternative_units)})[ \t]*+,?[ \t]*+(?:{literal_alternation(tw.alternative_joiners)})[ \t]*+"
            if tw.alternative_units and tw.alternative_joiners else "(?!)",
            re.IGNORECASE,
        ),
    )


def _needed(by_key: Mapping[str, _Entry]) -> re.Pattern[str]:
    """A unit lexeme, or relation, fillers and anchor lexemes joined as `_Reader.joined` joins
    them with no gap pattern; no word boundaries beyond the lexer's, so it finds at least what it does."""
    kinds = {kind: [k for k, e in by_key.items() if e.kind == kind] for kind in ("unit", "relation", "filler", "anchor")}
    wordy = [k for k in kinds["unit"] if re.match(r"\w", k)]
    other = [k for k in kinds["unit"] if not re.match(r"\w", k)]
    parts = [rf"(?<![^\W\d_])(?:{literal_alternation(wordy)})" if wordy else "", literal_alternation(other) if other else ""]
    if kinds["relation"] and kinds["anchor"]:
        gap = "[" + re.escape("".join(sorted(_GAP))) + "]*"
        fill = rf"(?:(?:{literal_alternation(kinds['filler'])}){gap}){{0,{_MAX_FILLERS}}}" if kinds["filler"] else ""
        parts.append(rf"(?:{literal_alternation(kinds['relation'])}){gap}{fill}(?:{literal_alternation(kinds['anchor'])})")
    return re.compile("|".join(p for p in parts if p) or "(?!)", re.IGNORECASE)


def _gap(words: Sequence[str]) -> re.Pattern[str]:
    """White space or a hyphen, with at most one of `words` inside it."""
    if not words:
        return re.compile(r"[ \t\r\n\-–]*+")
    return re.compile(rf"[ \t\r\n\-–]*+(?:(?:{literal_alternation(words)})[ \t\r\n\-–]*+)?", re.IGNORECASE)


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


@dataclass(slots=True, init=False)  # __init__ written out: see COMPILED in setup.py
class _Lexeme:
    start: int
    end: int
    entry: _Entry

    def __init__(self, start: int, end: int, entry: _Entry) -> None:
        self.start, self.end, self.entry = start, end, entry


def _lex(text: str, rules: TimeWindowRules) -> list[_Lexeme]:
    out = []
    pattern, target = rules.scans[0].on(text)
    for m in pattern.finditer(target):
        written = m.group()
        memo: dict[str, Any] = rules.number_memo if m.lastgroup == "num" else rules.memo  # `num` is its one group
        entry = memo.get(written, _UNSEEN)
        if entry is _UNSEEN:
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            entry = memo[written] = rules.by_key.get(_key(written)) if memo is rules.memo else _Entry("number", float(written))
        if entry is not None:
            out.append(_Lexeme(m.start(), m.end(), entry))  # type: ignore[arg-type]
    return out


_UNSEEN = object()
_MEMO_SIZE = 100_000
_DIGIT = re.compile(r"\d")
"""The first branch of every `gate` (`compile_time_windows`)."""


@dataclass(slots=True, init=False)  # __init__ written out: see COMPILED in setup.py
class _Reader:
    """Reads one window from lexeme `pos` on; each step takes the next lexeme if it fits."""

    text: str
    lexemes: Sequence[_Lexeme]
    pos: int

    def __init__(self, text: str, lexemes: Sequence[_Lexeme], pos: int) -> None:
        self.text, self.lexemes, self.pos = text, lexemes, pos

    def take(self, kind: Kind, after: _Lexeme | None, gap: re.Pattern[str] | None = None) -> _Lexeme | None:
        """The next lexeme if it is of `kind` and only white space (or `gap`) separates it from `after`."""
        lex = self.peek(kind, after, gap)
        if lex is not None:
            self.pos += 1
        return lex

    def peek(self, kind: Kind, after: _Lexeme | None, gap: re.Pattern[str] | None = None, ahead: int = 0) -> _Lexeme | None:
        at = self.pos + ahead
        if at >= len(self.lexemes):
            return None
        lex = self.lexemes[at]
        if lex.entry.kind != kind:
            return None
        if after is not None and not self.joined(after, lex, gap):
            return None
        return lex

    def joined(self, left: _Lexeme, right: _Lexeme, gap: re.Pattern[str] | None) -> bool:
        between = self.text[left.end : right.start]
        if set(between) <= _GAP:
            return True
        return gap is not None and gap.fullmatch(self.text, left.end, right.start) is not None


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


@dataclass(slots=True, init=False)  # __init__ written out: see COMPILED in setup.py
class _Duration:
    """The number(s) and unit of a window: one value, or the two ends of a range."""

    first: _Lexeme
    unit: _Lexeme | None
    low: float | None
    high: float | None

    def __init__(self, first: _Lexeme, unit: _Lexeme | None, low: float | None, high: float | None) -> None:
        self.first, self.unit, self.low, self.high = first, unit, low, high


def _read_opening(reader: _Reader, rules: TimeWindowRules) -> tuple[_Lexeme | None, Lead | None]:
    """A lead phrase, or a relation word that opens a window before a number ('in the 14 days')."""
    lead = reader.take("lead", None)
    if lead is not None:
        return lead, lead.entry.value
    opener = reader.peek("relation", None)
    if opener is None or opener.entry.value.opens is None:
        return None, None
    reader.pos += 1
    if _article(reader, opener, rules) is None and reader.peek("number", opener) is None:
        reader.pos -= 1
        return None, None
    word: RelationWord = opener.entry.value
    return opener, rules.opener_leads[word.phrase]


def _article(reader: _Reader, after: _Lexeme, rules: TimeWindowRules) -> _Lexeme | None:
    """An article filler right after `after` with a number right after it ('within the 12 months')."""
    filler = reader.peek("filler", after)
    if filler is None or _key(reader.text[filler.start : filler.end]) not in rules.articles:
        return None
    return filler if reader.peek("number", filler, ahead=1) is not None else None


def _read_number(reader: _Reader, after: _Lexeme | None, rules: TimeWindowRules) -> tuple[_Lexeme, float, float] | None:
    """A number, a range of two ('7-14', '2 to 4') or the last of alternatives ('5 half-lives or 30')."""
    start = reader.pos
    article = _article(reader, after, rules) if after is not None else None
    if article is not None:
        reader.pos += 1
    num = reader.take("number", article or after)
    if num is None:
        reader.pos = start
        return None
    if _key(reader.text[num.start : num.end]) in rules.articles:  # 'within a 4-week period'
        following = reader.take("number", num)
        num = following or num
    low = high = num.entry.value
    second = reader.peek("number", num, rules.range_gap) or reader.peek("number", num, rules.alternative_gap)
    if second is not None and reader.peek("unit", second, rules.unit_gap, ahead=1) is not None:
        reader.pos += 1
        if rules.range_gap.fullmatch(reader.text, num.end, second.start):
            high = second.entry.value
        else:
            low = high = second.entry.value
    return num, low, high


def _read_duration(reader: _Reader, after: _Lexeme | None, rules: TimeWindowRules) -> _Duration | None:
    start = reader.pos
    number = _read_number(reader, after, rules)
    if number is None:
        unit = reader.take("unit", after)
        return None if unit is None else _Duration(unit, unit, None, None)
    num, low, high = number
    unit = reader.take("unit", reader.lexemes[reader.pos - 1], rules.unit_gap)
    if unit is None:
        reader.pos = start
        return _Duration(num, None, low, high)
    return _Duration(num, unit, low, high)


def _window_at(
    text: str, lexemes: Sequence[_Lexeme], pos: int, rules: TimeWindowRules
) -> tuple[TimeWindow | None, int, bool]:
    """The window starting at lexeme `pos`, if one does, the lexeme after it, and whether it is
    only a bounded duration ('< 12 months': a lead that needs a relation word, without one)."""
    reader = _Reader(text, lexemes, pos)
    lead, lead_v = _read_opening(reader, rules)
    duration = _read_duration(reader, lead, rules)
    if duration is not None and duration.unit is None:
        return None, pos + 1, False
    last = duration.unit if duration is not None else lead
    rel_pos = reader.pos
    rel = reader.take("relation", last, rules.unit_gap if duration is not None else None)
    anchor = _read_anchor(reader, rel) if rel is not None else None
    if rel is not None and anchor is None and rel.entry.value.needs_anchor:
        rel, reader.pos = None, rel_pos
    if rel is not None and duration is None and rel.entry.value.needs_duration:
        return None, pos + 1, False
    numbered = duration is not None and duration.low is not None
    bare = lead_v is not None and lead_v.needs_relation and numbered and rel is None
    if not bare and not _complete(lead_v, numbered, duration is not None, rel, anchor):
        return None, pos + 1, False
    parts = [x for x in (lead, duration.first if duration else None, duration.unit if duration else None, rel, anchor) if x is not None]
    start, end = parts[0].start, parts[-1].end
    word: RelationWord | None = rel.entry.value if rel is not None else None
    comparator = _comparator(lead_v, word)
    value = _value(duration, comparator)
    relation = lead_v.relation if lead_v is not None else None
    if word is not None:
        relation = (word.anchored_relation if anchor is not None and word.anchored_relation else word.relation) or relation
    unit = duration.unit.entry.value[0] if duration is not None and duration.unit is not None else None
    window = _time_window(text, start, end, comparator if value is not None else None, value, unit,
                          anchor.entry.value.anchor if anchor is not None else None, relation)
    return window, reader.pos, bare


def _time_window(
    text: str, start: int, end: int, comparator: Comparator | None, value: float | None, unit: TimeUnit | None,
    anchor: str | None, relation: Relation | None,
) -> TimeWindow:
    """The window as a `TimeWindow`, built without validating again when it passes the model's
    checks here (the other fields come from the validated vocabulary); else validated as usual,
    which raises as it always did."""
    if 0 <= start < end <= len(text) and (comparator is None or value is not None) and (
        value is None or (type(value) is float and math.isfinite(value) and unit is not None)
    ):
        return unchecked_model(TimeWindow, {
            "text": text[start:end], "span": unchecked_model(Span, {"start": start, "end": end}), "comparator": comparator,
            "value": value, "unit": unit, "anchor": anchor, "relation": relation,
        })
    return TimeWindow(text=text[start:end], span=Span(start=start, end=end), comparator=comparator, value=value, unit=unit,
                      anchor=anchor, relation=relation)


def _comparator(lead: Lead | None, word: RelationWord | None) -> Comparator | None:
    if lead is None:
        return word.bare_comparator if word is not None else None
    if word is not None and word.relation == "after" and lead.after_comparator is not None:
        return lead.after_comparator
    return lead.comparator


def _value(duration: _Duration | None, comparator: Comparator | None) -> float | None:
    """The number compared: a range's upper end for 'within', its lower end for 'at least'."""
    if duration is None or duration.unit is None:
        return None
    if duration.low is None:
        return 1.0 if duration.unit.entry.value[1] else None  # 'in the past year': one year
    return duration.low if comparator in (">", ">=") else duration.high


def _complete(lead: Lead | None, numbered: bool, timed: bool, rel: _Lexeme | None, anchor: _Lexeme | None) -> bool:
    """Whether the parts read make a window (and not a duration threshold or a stray word)."""
    if lead is not None and lead.period:
        return timed
    if lead is not None:
        return numbered and (rel is not None or not lead.needs_relation)
    if rel is None:
        return False
    return numbered or anchor is not None


def _opens_nothing(lexemes: Sequence[_Lexeme], pos: int) -> bool:
    """Whether `_window_at` finds no window at lexeme `pos`, seen without reading one: a filler or
    an anchor begins none, nor a number with no number or unit after it, nor a relation word that
    opens no window and forms one only after a duration ('of' in 'quality of life')."""
    entry = lexemes[pos].entry
    kind = entry.kind
    if kind in _NO_OPENING:
        return True
    if kind == "number":
        return pos + 1 == len(lexemes) or lexemes[pos + 1].entry.kind not in _DURATION_NEXT
    return kind == "relation" and entry.value.opens is None and entry.value.needs_duration


def find_time_windows(text: str, rules: TimeWindowRules) -> list[TimeWindow]:
    """Every time window in `text`, left to right, never overlapping."""
    return find_windows_and_durations(text, rules)[0]


def find_windows_and_durations(text: str, rules: TimeWindowRules) -> tuple[list[TimeWindow], list[TimeWindow]]:
    """The time windows of `text`, and apart from them the bounded durations with no relation
    word ('transplantation < 12 months', 'stable for ... (at least 3 months)'): a duration is a
    window only for the concept written right before it, which the caller decides."""
    _, gate, anchor_gate = rules.scans
    # a digit is what `gate` finds first in most texts: one scan in C, not the trie at each place before it
    if not _DIGIT.search(text) and not gate.search(text) and not anchor_gate.search(text):
        return [], []
    if not rules.needed.search(text):
        return [], []
    lexemes = _lex(text, rules)
    windows: list[TimeWindow] = []
    durations: list[TimeWindow] = []
    pos = 0
    while pos < len(lexemes):
        if _opens_nothing(lexemes, pos):
            pos += 1
            continue
        window, pos, bare = _window_at(text, lexemes, pos, rules)
        if window is not None:
            (durations if bare else windows).append(window)
    return windows, durations
