"""Condition clauses: the words that say when a limit applies.

'≤ 5 × ULN *for patients with hepatic metastases*', '> 450 ms *in men*', '*unless receiving
therapeutic anticoagulation*', '≥ 27 kg/m² *with a weight-related comorbidity*'. A clause starts
at a cue of `resources/logic_cues.json` and runs to the end of its parenthesis, a clause mark
(`;` `,` `:` or a sentence end) or the next atom, whichever comes first; an atom right after the cue
is the condition itself ('unless 24-hour urine protein < 1 g'). What the words are about (sex, age,
a region, a treatment, a finding) decides how a screener checks them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from critparse.extract.atoms import Atom
from critparse.extract.logic_cues import CueMatch, LogicCues
from critparse.model import unchecked
from critparse.model.concept import Concept
from critparse.model.logic import Condition, ConditionKind
from critparse.model.rule import Analyte, Rule
from critparse.model.span import Span

__all__ = ["Clause", "age_thresholds", "find_clauses", "make_condition", "paren_depths"]

_HARD_STOP = re.compile(r";|\.(?=\s|$)|:|,|\[")
_TRIM_END = re.compile(
    r"(?:[\s,(/\[]|\b(?:or|and|and/or|who|that|which|must|should|have|has|is|are|present)\b)+$", re.IGNORECASE
)
_JOINS_NEXT = re.compile(r"\s*\b(?:and/or|or|and)\b(?:\s+\S+){0,2}\s*$", re.IGNORECASE)
_TRIM_START = re.compile(r"(?:\s|\b(?:the|a|an|in)\b)+", re.IGNORECASE)


@dataclass(init=False)  # __init__ written out: see COMPILED in setup.py
class Clause:
    """A condition clause found in the text."""

    role: str
    cue: CueMatch
    start: int  # the condition's words
    end: int
    inner: list[Atom]  # atoms that are the condition itself
    weak: bool
    sex: str | None  # a bare sex word, without a cue ('(men)')
    bare_age: bool  # an age band alone in a parenthesis ('(1 to < 2 years)')

    def __init__(self, role: str, cue: CueMatch, start: int, end: int, inner: list[Atom] | None = None,
                 weak: bool = False, sex: str | None = None, bare_age: bool = False) -> None:
        self.role, self.cue, self.start, self.end = role, cue, start, end
        self.inner = [] if inner is None else inner
        self.weak, self.sex, self.bare_age = weak, sex, bare_age

    @property
    def text_span(self) -> tuple[int, int]:
        return self.start, self.end


@lru_cache(maxsize=64)
def paren_depths(text: str) -> tuple[int, ...]:
    """Nesting depth of every character (an opening bracket counts inside its group); the
    passes of one bullet share it. The depth changes only at brackets, so the runs between
    them are filled whole."""
    if "(" not in text and "[" not in text and ")" not in text and "]" not in text:
        return (0,) * len(text)
    depth, out, pos = 0, [], 0
    for m in _BRACKET.finditer(text):
        at = m.start()
        out += [depth] * (at - pos)
        if text[at] in "([":
            depth += 1
            out.append(depth)
        else:
            out.append(depth)
            depth -= depth > 0
        pos = at + 1
    out += [depth] * (len(text) - pos)
    return tuple(out)


_BRACKET = re.compile(r"[()\[\]]")
_STOP_CANDIDATE = re.compile(r"[()\[\];:,.]")
"""The only characters where a clause's words can end (see `_natural_end`)."""


def _natural_end(text: str, start: int, depths: Sequence[int], stops: Sequence[int]) -> int:
    """Where a clause's words run out: the end of its parenthesis, a clause mark, an aside
    after some words, or the next cue that opens a clause of its own ('respectively')."""
    base = depths[start] if start < len(text) else 0
    limit = min([p for p in stops if p >= start] + [len(text)])
    # Only a bracket or a clause mark can end the words: the depth drops below `base` only
    # right after a closing bracket at `base`, which ends them first.
    for m in _STOP_CANDIDATE.finditer(text, start, limit):
        i = m.start()
        if depths[i] < base or (text[i] in ")]" and depths[i] == base and base > 0):
            return i
        if depths[i] == base and _HARD_STOP.match(text, i):
            return i
        if text[i] == "(" and i > start and text[start:i].strip():
            return i  # 'with a comorbidity (hypertension, ...)': the aside explains the words
    return limit


def _clause_end(text: str, start: int, depths: Sequence[int], atoms: Sequence[Atom],
                stops: Sequence[int] = ()) -> tuple[int, list[Atom]]:
    """Where a clause's words end, and the atom that is the condition itself: one that starts
    within a few words of the cue with its own analyte words ('unless 24-hour urine protein
    < 1 g') or is an age band; else the clause ends where the next atom begins."""
    stop = _natural_end(text, start, depths, stops)
    after = [a for a in atoms if start <= a.start < stop and a.kind != "concept"]
    if not after:
        return stop, []
    first = after[0]
    lead = text[start : first.start].lower().split()
    joined = any(w.strip(",") in ("and", "or", "and/or", "nor") or w.endswith(",") for w in lead)
    if len(lead) <= 2 and not joined and (first.start < first.core or first.analytes == ("age",)):
        return max(stop, first.end), [first]
    tail = _JOINS_NEXT.search(text, start, first.start)
    return (tail.start() if tail else first.start), []  # '... techniques or as >= 1 cm': 'or' joins the limits


def find_clauses(text: str, atoms: Sequence[Atom], cues: LogicCues) -> list[Clause]:
    """Every condition clause, in text order (pseudo cues and cues inside an atom skipped)."""
    out: list[Clause] = []
    found = cues.conditions(text)
    if not found:
        return out
    depths = paren_depths(text)
    stops = [c.start for c in found if c.meaning in ("respectively", "in_which_case", "otherwise", "unless", "pseudo")]
    pseudo = {c.start for c in found if c.meaning == "pseudo"}  # an 'unless' runs to its clause mark
    for cue in found:
        if cue.meaning == "pseudo" or any(a.core <= cue.start < a.end for a in atoms if a.kind != "concept"):
            continue
        if out and cue.start < out[-1].end and out[-1].role != "respectively":
            continue  # inside the previous clause ('for patients with ... in case of ...')
        start = _skip_space(text, cue.end)
        if cue.meaning in ("respectively", "otherwise", "in_which_case"):
            out.append(Clause(cue.meaning, cue, start, start, weak=cue.weak))
            continue
        own_stops = [p for p in stops if p not in pseudo] if cue.meaning == "unless" else stops
        end, inner = _clause_end(text, start, depths, atoms, own_stops)
        end = _trim(text, start, end)
        if end <= start and not inner:
            continue
        out.append(Clause(cue.meaning, cue, start, end, inner=inner, weak=cue.weak))
    return out


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


def _trim(text: str, start: int, end: int) -> int:
    """The clause's end without trailing connectives, brackets and spaces."""
    m = _TRIM_END.search(text[start:end])
    return start + m.start() if m else end


def condition_kind(text: str, cues: LogicCues, *, bare_age: bool = False) -> tuple[ConditionKind, str | None]:
    """What a condition's words are about; a sex only when that is all they say ('men', 'female
    patients'), an age only when they are an age band."""
    words = " ".join(text.lower().split())
    sexes = cues.sex(words)
    if len(sexes) == 1 and sexes[0].start == 0 and _only_population(words[sexes[0].end :], cues):
        return "sex", sexes[0].meaning
    if age_thresholds(text, cues, unchecked.span(0, len(text)), bare=bare_age):
        return "age", None
    if cues.region_re.search(text):
        return "region", None
    if cues.treatment_re.search(words):
        return "treatment", None
    if cues.population_re.fullmatch(words.strip()):
        return "population", None
    return "clinical", None


def _only_population(rest: str, cues: LogicCues) -> bool:
    rest = rest.strip(" ,)")
    return not rest or bool(cues.population_re.fullmatch(rest))


_AGE_NUMBER = re.compile(
    r"(?P<cmp>[<>≤≥]=?|=<|=>)?\s*(?P<a>\d+(?:\.\d+)?)\s*(?:(?:-|–|to)\s*(?P<cmp2>[<≤]=?)?\s*(?P<b>\d+(?:\.\d+)?)\s*)?"
    r"(?P<unit>years?|yrs?|y|months?|mo|weeks?|wk|days?)?\b",
    re.IGNORECASE,
)
_AGE_UNIT = {"y": "a", "yr": "a", "yrs": "a", "year": "a", "years": "a", "month": "mo", "months": "mo",
             "mo": "mo", "week": "wk", "weeks": "wk", "wk": "wk", "day": "d", "days": "d"}
_WORD_BEFORE = re.compile(r"[a-z]+(?:\s+than)?")
_AGE_TAIL = re.compile(r"^(?:of\s+age|old|of\s+life)\b")
_OLDER_TAIL = re.compile(r"^(?:or|and)\s+(?:older|more|above|over|younger|less|under)\b")
_AGE_NAMED = re.compile(r"\b(?:age[ds]?|old|of\s+age)\b", re.IGNORECASE)
_AGE_WORD = re.compile(r"\bage[ds]?\b", re.IGNORECASE)
_SYMBOL = {"≥": ">=", "≤": "<=", "=<": "<=", "=>": ">=", ">": ">", "<": "<", ">=": ">=", "<=": "<="}


def age_thresholds(text: str, cues: LogicCues, span: Span, *, bare: bool = False) -> tuple[Rule, ...]:
    """The age band a condition states ('> 16 years of age', 'age ≤ 16', 'patients 65 years or
    older'), as age rules; none when the words are not (only) an age. A duration alone ('≥ 5
    years', '1 to < 2 years'), or a number with a comparator and no unit ('over 70'), is an age
    only when `bare` says the context is about age."""
    m = _AGE_NUMBER.search(text)
    if m is None:
        return ()
    before = text[: m.start()].strip().lower()
    after = text[m.end() :].strip().lower()
    words_before = _WORD_BEFORE.findall(before)
    cmp = _SYMBOL.get(m.group("cmp") or "")
    for phrase in [*words_before[-1:], " ".join(words_before[-2:])]:
        cmp = cmp or cues.age_comparator.get(phrase)
    tail = _AGE_TAIL.sub("", after).strip()
    if tail:
        cmp = cmp or cues.age_comparator.get(" ".join(tail.split()[:2]))
        tail = _OLDER_TAIL.sub("", tail).strip()
    unit_word = (m.group("unit") or "").lower()
    named = _AGE_NAMED.search(text) or cues.population_re.search(before)
    is_age = bool(named) or (bare and (bool(unit_word) or (cmp is not None and m.group("b") is None
                                                          and 0 < float(m.group("a")) <= 120)))
    leftover = [w for w in before.split() if not (cues.age_re.fullmatch(w) or cues.population_re.fullmatch(w)
                                                  or cues.age_comparator.get(w) or w in ("than", "aged", "between"))]
    if not is_age or tail.strip(" ,)(") or leftover:
        return ()
    unit = _AGE_UNIT.get(unit_word, "a")
    if m.group("b") is not None:
        upper = _SYMBOL.get(m.group("cmp2") or "", "<=")
        bounds = [(">=", float(m.group("a"))), (upper, float(m.group("b")))]
    elif cmp is not None:
        bounds = [(cmp, float(m.group("a")))]
    else:
        return ()
    return tuple(_age_rule(c, v, unit, text, span) for c, v in bounds)


def _age_rule(comparator: str, value: float, unit: str, text: str, span: Span) -> Rule:
    return Rule(
        analyte=Analyte(text=text, name="age", in_lexicon=True),
        comparator=comparator,  # type: ignore[arg-type]
        value=value,
        unit=unit,
        unit_text=unit,
        span=span,
        text=text,
    )


def make_condition(text: str, start: int, end: int, cues: LogicCues, concepts: Sequence[Concept],
                   *, bare_age: bool = False) -> Condition:
    """A condition leaf's content for `text[start:end]`, with the concept it names if any
    (`bare_age`: a duration alone is an age band, as in an aside after a limit)."""
    lead = _TRIM_START.match(text, start)
    start = lead.end() if lead and lead.end() < end else start
    words = text[start:end]
    kind, sex = condition_kind(words, cues, bare_age=bare_age)
    span = unchecked.span(start, end)
    concept = next((j for j, c in enumerate(concepts) if start <= c.span.start and c.span.end <= end), None)
    thresholds = age_thresholds(words, cues, span, bare=True) if kind == "age" else ()
    return Condition(text=words, span=span, kind=kind, sex=sex, concept=concept,  # type: ignore[arg-type]
                     thresholds=thresholds)


def bare_age_clauses(text: str, atoms: Sequence[Atom], clauses: Sequence[Clause], cues: LogicCues) -> list[Clause]:
    """An age band alone in a parenthesis after a limit picks that limit: 'Lansky ≥ 60 (age
    ≤ 16)', '≤ 0.8 mg/dL (1 to < 2 years)'."""
    out: list[Clause] = []
    about_age: bool | None = None
    for m in _PLAIN_PARENTHESIS.finditer(text):
        lo, hi = m.start() + 1, m.end() - 1
        if any(lo <= a.core < hi for a in atoms) or any(lo <= c.cue.start < hi for c in clauses):
            continue
        words = text[lo:hi]
        if about_age is None:
            about_age = bool(_AGE_WORD.search(text))
        if not words.strip() or not age_thresholds(words.strip(), cues, unchecked.span(0, len(words.strip())),
                                                   bare=about_age):
            continue
        start = lo + len(words) - len(words.lstrip())
        end = hi - (len(words) - len(words.rstrip()))
        out.append(Clause("if", CueMatch(m.start(), lo, "(", "if"), start, end, bare_age=True))
    return out


_PLAIN_PARENTHESIS = re.compile(r"\([^()]{1,40}\)")
