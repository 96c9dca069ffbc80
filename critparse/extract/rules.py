"""Pure extraction: criterion text + analyte mentions -> threshold rule drafts.

The algorithm, in the order it runs (each step a module of `critparse.extract`):

1. *Numbers and quantities* (`numbers`, `quantities`). Every free-standing number (not part of a
   name such as `CD19`, `COVID-19`, `HbA1c`, an ordinal, a phone number or a registry id) is read
   with what follows it: a power of ten and a count unit (`1.5 x 10^9/L`), a multiple of a limit
   of normal (`3x ULN`, `2.5 times the upper limit of normal`), or a unit of `units.json`. Roman
   numerals are read after stage/class/grade words, blood pressure pairs (`140/90 mmHg`) as two
   analytes, spelled-out counts with a comparator (`three or more`).
2. *Expressions* (`expressions`). Ranges, lists and single comparisons with a comparator before
   or after the number.
3. *Analytes* (`analytes`). Candidates, compatibility, inheritance and fallback passes give each
   expression the analytes it constrains; conditions, scale bounds and names are dropped.

Every draft keeps character offsets into the original text; nothing here touches spaCy, so it is
tested directly on strings. The word lists come in with `vocab` (`words.json`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace

from critparse.extract.analytes import assign_analytes, mentions_in_reach, prepare_mentions
from critparse.extract.expressions import build_expressions
from critparse.extract.mentions import Expression, Mention, Quantity, RuleDraft
from critparse.extract.quantities import (
    MAX_QUANTITIES,
    PLUSES,
    ComparatorsBefore,
    find_bare_limits,
    find_blood_pressure,
    find_number_words,
    find_quantities,
    find_staged,
)
from critparse.lexicon.phrases import FoldedPattern, alternation, folded
from critparse.lexicon.vocabulary import Vocabulary

__all__ = ["Mention", "RuleDraft", "extract_rules", "may_hold_threshold"]


def extract_rules(
    text: str,
    mentions: list[Mention] | Callable[[], list[Mention]],
    vocab: Vocabulary,
    *,
    known: Mapping[str, Mention] | None = None,
    context: list[Mention] | None = None,
    abbreviations: Mapping[str, Mention] | None = None,
    may_hold: bool | None = None,
) -> tuple[list[RuleDraft], str | None, int | None]:
    """Threshold rule drafts for `text`, or none and the reason why, and where the reading of
    numbers stopped when the text has more than `MAX_QUANTITIES` of them (None: it read them all).

    `mentions` may be a function that gives them: it is called only for a text that holds an
    expression (the component makes tokens for the analyte matcher only then). `known` holds
    lexicon analytes the patterns name themselves (`words.json` pattern_analytes: age, systolic
    and diastolic blood pressure), by name. `may_hold` is what
    `may_hold_threshold(text, vocab)` says, for a caller that has asked it already (None: ask).
    """
    if not (may_hold_threshold(text, vocab) if may_hold is None else may_hold):
        return [], _no_threshold_reason(text, [], []), None
    known = known or {}
    cmps = ComparatorsBefore(text, vocab)
    quantities, exprs = find_expressions(text, vocab, cmps, known)
    read_to = _read_to(text, quantities)
    if exprs:  # mentions only matter to expressions, and only those within their reach
        named = prepare_mentions(text, mentions_in_reach(text, mentions() if callable(mentions) else mentions, exprs), vocab)
        exprs = _outside_names(exprs, named)
        assign_analytes(text, exprs, named, vocab, known=known, context=context, abbreviations=abbreviations, cmps=cmps)
    drafts = _drafts(exprs, vocab.words.pattern_analytes.age)
    if drafts:
        return drafts, None, read_to
    return [], _no_threshold_reason(text, quantities, exprs), read_to


def _outside_names(exprs: list[Expression], mentions: list[Mention]) -> list[Expression]:
    """The expressions not written inside an analyte's name: the `19-9` of `CA 19-9` is no range."""
    names = [(m.start, m.end) for m in mentions if m.in_lexicon and any(c.isdigit() for c in m.text)]
    if not names:
        return exprs
    return [e for e in exprs if e.pinned or not any(s <= e.start and e.end <= t for s, t in names)]


def _read_to(text: str, quantities: list[Quantity]) -> int | None:
    """The end of the last number read when the cap stopped the reading before another digit."""
    if len(quantities) < MAX_QUANTITIES:
        return None
    end = quantities[MAX_QUANTITIES - 1].end
    return end if _DIGIT.search(text, end) is not None else None


def find_expressions(
    text: str, vocab: Vocabulary, cmps: ComparatorsBefore, known: Mapping[str, Mention]
) -> tuple[list[Quantity], list[Expression]]:
    """Steps 1 and 2: the quantities of `text` and the expressions they form, in text order."""
    quantities = find_quantities(text, vocab, cmps)
    counted = find_number_words(text, vocab, cmps)
    if counted:
        spelled = [(q.start, q.end) for q in counted]  # 'eighteen (18)': the digits are inside
        quantities = [q for q in quantities if not any(s <= q.start < e for s, e in spelled)]
        quantities = sorted(quantities + counted, key=lambda q: q.start)
    staged = find_staged(text, cmps.folded)
    if staged:
        covered = [(e.start, e.end) for e in staged]
        quantities = [q for q in quantities if not any(s <= q.start < e for s, e in covered)]
    exprs = build_expressions(text, quantities, vocab, cmps)
    extra = (
        staged
        + find_bare_limits(text, quantities, cmps, vocab)
        + find_blood_pressure(text, vocab, cmps, dict(known))
    )
    return quantities, sorted(exprs + extra, key=lambda e: e.start)


def _drafts(exprs: list[Expression], age_name: str) -> list[RuleDraft]:
    """One draft per analyte and bound, duplicates dropped; ages are in years unless written (or
    left open: an age read from the people named only keeps no unit)."""
    drafts: list[RuleDraft] = []
    seen: set[tuple[str, str, float, str | None]] = set()
    for expr in exprs:
        for analyte in _each_member(expr.analytes):
            start = min(analyte.start, expr.start) if analyte.own else expr.start
            end = max(expr.end, analyte.end) if analyte.own else expr.end
            for comparator, q in expr.bounds:
                if analyte.name == age_name and q.unit is None and analyte.default_unit is not None:
                    q = replace(q, unit="a")
                key = (analyte.name, comparator, q.value, q.unit)
                if key in seen:
                    continue
                seen.add(key)
                drafts.append(RuleDraft(analyte, comparator, q.value, q.unit, q.unit_text, start, end))
    return drafts


def _each_member(analytes: list[Mention]) -> list[Mention]:
    """A group word stands for each of its members, at its own place in the text."""
    out: list[Mention] = []
    for a in analytes:
        if not a.members:
            out.append(a)
        else:
            out.extend(replace(m, start=a.start, end=a.end, text=a.text, own=a.own) for m in a.members)
    return out


_DIGIT = re.compile(r"\d")


class _MayHold:
    """Whether a text without a digit names a limit of normal, a scale or a spelled-out count:
    word lookups on the lower-cased text (a regular expression only to confirm a count word's
    boundaries), the case-insensitive scan for a text that cannot be lower-cased."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.words = ("uln", "lln", "limit", "normal", "stage", "class", "grade", "nyha", "asa", "status")
        self.counts = (*(w.lower() for w in vocab.words.number_words), "one")  # 'one': see `_one_counts`
        counts = alternation(list(self.counts))
        self.scan = FoldedPattern(re.compile("|".join(self.words) + rf"|\b(?:{counts})\b", re.IGNORECASE))
        self.count_word = re.compile(rf"\b(?:{counts})\b")

    def __call__(self, text: str) -> bool:
        lowered = folded(text)
        if lowered is None:
            return self.scan.search(text, None) is not None
        if any(w in lowered for w in self.words):
            return True
        return any(w in lowered for w in self.counts) and self.count_word.search(lowered) is not None


def may_hold_threshold(text: str, vocab: Vocabulary | None = None) -> bool:
    """False when no rule can be read from `text`: every threshold has a digit, a limit of normal
    ('≤ ULN'), a scale word, a spelled-out count or a run of plus signs."""
    if vocab is None:
        from critparse.lexicon.resources import default_resources

        vocab = default_resources().vocabulary
    if _DIGIT.search(text) is not None:  # most texts that hold one: no need to look for words
        return True
    if "+" in text and PLUSES.search(text) is not None:
        return True  # a dipstick reading ('urine protein ≥ ++')
    return vocab.derived("extract.may_hold", _MayHold)(text)


def _no_threshold_reason(text: str, quantities: list[Quantity], exprs: list[Expression]) -> str:
    if not text.strip():
        return "empty text"
    if not quantities and not exprs:
        if _DIGIT.search(text):
            return "numbers are part of names, dates or identifiers, not thresholds"
        return "no number in the text: a condition without a numeric threshold"
    if all(not e.analytes for e in exprs):
        return "numbers without an analyte they constrain"
    return "numbers without a comparator: not thresholds"
