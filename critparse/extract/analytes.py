"""Step 3 of extraction: which analytes each expression constrains.

An expression is read in four passes, each a function tested on its own:

1. *Candidates* (`candidate_mentions`): the lexicon mentions between the previous expression and
   this one, closest first, joined only by `/`, `and`, `or`, `-` or parentheses (`AST/ALT < 3x
   ULN`); a derived quantity after them makes another analyte (`PSA doubling time`).
2. *Compatibility* (`compatible`, `not_a_threshold`): a mention whose usual unit cannot go with the
   expression's is no candidate (an age never takes mg/dL); ages that choose which limit applies
   (`for patients > 16 years`), scale bounds (`on a 0-10 scale`) and subgroups are no threshold.
3. *Inheritance* (`inherit`): with no words of its own an expression takes the previous
   expression's analytes (`≥ 18 and ≤ 65 years`, `(≤ 3 × ULN for Gilbert's)`), a counted phrase
   right after it (`at least 2 prior regimens`) or a mention right after it (`≥ 18 years of age`),
   an age from its unit, an abbreviation defined in the text, or the parent bullet's analytes.
4. *Fallback* (`fallback`): the words in the analyte position are kept as an analyte not in the
   lexicon (`severe hypersensitivity (>= Grade 3)`, `time since prior radiotherapy`).

Nothing here touches spaCy: every function works on the text, character offsets and `Mention`s.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, replace
from itertools import pairwise

from critparse.extract.durations import age_at_event, event_after, lasting
from critparse.extract.expressions import AFTER_AGE
from critparse.extract.mentions import TIME_UNITS, Expression, Mention
from critparse.extract.quantities import ComparatorsBefore
from critparse.extract.quantities import patterns as quantity_patterns
from critparse.lexicon.phrases import (
    alternation,
    expand_phrase,
    last_characters,
    phrase_pattern,
    word_set,
)
from critparse.lexicon.vocabulary import Vocabulary, first_character_lead

__all__ = [
    "AnalytePatterns",
    "Asides",
    "assign_analytes",
    "candidate_mentions",
    "compatible",
    "derived_words",
    "fallback",
    "inherit",
    "mentions_in_reach",
    "not_a_threshold",
    "prepare_mentions",
]

_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'\-]*")
_ACRONYM = re.compile(r"(?!(?:OR|AND|IF|OF|THE|WITH|NOT|NO|IN|TO|AT|ON|BY|AS|IS|BE)\b)[A-Z]{2,}")
_PUNCT_CUT = re.compile(r"[;:.,\[]")
_NAMED_ASIDE = re.compile(r"\s*\(\s*")
_ASIDE_END = re.compile(r"\s*\)")
_RATIO = re.compile(r"/[A-Za-z][\w'’]{0,6}\s+ratio\b", re.IGNORECASE)  # 'P/F ratio'
_NEGATED_PREFIX = re.compile(r"\bnon[-\s]?$", re.IGNORECASE)  # 'non-HDL cholesterol' is not HDL
# 'Tanner stage', 'International Staging System (ISS) stage', 'Ann Arbor stage': a named system
_STAGING_SYSTEM = re.compile(r"(?<![\w-])(?:(?:[A-Z][\w-]*|\([A-Z][\w-]*\)|and)\s+){1,5}$")
_JOINERS = r"[\s/,&()\[\]\-–]*"
# '≥ 18 years of age', '28 weeks' gestation', 'a score of 20 on the 17-item Hamilton scale'
_RIGHT_GAP_WORDS = r"['’]?\s*(?:(?:of|in|for|as|on)\s+)?(?:the\s+)?(?:\d+-item\s+)?"
_RIGHT_GAP = re.compile(_RIGHT_GAP_WORDS + "$", re.IGNORECASE)
# Each optional part starts where the one before cannot go on, so its greedy match is the longest.
_RIGHT_GAP_REACH = re.compile(_RIGHT_GAP_WORDS, re.IGNORECASE)
_PART_OF = re.compile(r"\s+(?:item|subscale|domain|question)s?\b", re.IGNORECASE)  # 'MADRS item 10'
# '(≥ 5 cigarettes/day for the past year)' closes on what the expression is about; '(score ≥ 5 on
# MADRS item 10)' names it after the number instead.
_CLOSING_ASIDE = re.compile(r"(?!\s*(?:on|of|in)\s)[^()]{0,80}?\)", re.IGNORECASE)
_SINCE_ARTICLE = re.compile(r"^since\s+(?:the|a|an|any)\s+", re.IGNORECASE)
_SINCE_AFTER = re.compile(
    r"\s*(?:(?:must|should|will)\s+have\s+|have\s+|has\s+)?(?:(?:elapsed|passed)\s+)?"  # 'must have elapsed since'
    r"(since\s+(?:the\s+)?(?:last\s+|prior\s+|previous\s+|first\s+)?[A-Za-z][A-Za-z0-9'\- ]{1,50}?)"
    r"(?=\s*(?:[,;.()]|$|\band\b|\bor\b|\bto\b|\bbefore\b|\bat\b))",
    re.IGNORECASE,
)
_WORDS_AFTER = re.compile(
    r"\s*(?:of\s+|in\s+|on\s+)?(?:the\s+)?((?:(?:mild|moderate)\s+to\s+(?:moderate|severe)\s+)?"
    r"[A-Za-z][A-Za-z0-9+'\- ]{1,60}?)(?=\s*(?:[,;.()]|$|\band\b|\bor\b|\bout\s+of\b|"
    r"\bwithin\b|\bprior\s+to\b|\bbefore\b|\bafter\b|\bat\b|\bfor\b|\bsince\b|\bfrom\b|\bper\b|\bby\b|\bon\b|"
    r"\bas\b|\bin\b|\bduring\b|\bover\b|\brequiring\b|\bthat\b|\bwhich\b|\bwho\b|\bdespite\b|\bof\s+at\b|\bto\b|"
    r"\bincluding\b|\bwith\b|\bcontaining\b|\bexcluding\b|\bexcept\b|\bwhile\b|\bunless\b|\bwhose\b|"
    r"\badministered\b|\bgiven\b))"
)
# A look-ahead for the first characters opens the patterns searched over long stretches: `re` skips
# to them instead of trying the word boundary at every place.
_CONDITION_LEAD = re.compile(
    r"(?=[fiaFIA])\b(?:for|in|if|among)\s+(?:(?:those|patients|pts|subjects|participants|children|individuals|"
    r"adults|adolescents|men|women|males|females|infants)\s+)?(?:(?:aged|who\s+are|of\s+age|age)\s+)?$",
    re.IGNORECASE,
)
_SCALE_DESCRIPTOR = re.compile(r"\s*(?:(?:-\s*)?points?\s+)?(?:scale|NRS|VAS|Likert|numeric\s+rating)\b", re.IGNORECASE)
_ON_A_SCALE = re.compile(r"(?=[ouOU])\b(?:on\s+an?|using\s+an?)\s*\(?$", re.IGNORECASE)
_OPEN_PAREN = re.compile(r"\(\s*$")
# 'for participants with total bilirubin > 1.5 × ULN, ...': the threshold picks a subgroup.
_SUBGROUP = re.compile(
    r"(?=[fiaFIA])\b(?:for|in|among)\s+(?:[\w-]+\s+){0,2}?(?:(?:patient|participant|subject|individual)s?|those|people|"
    r"women|men|children)\s+(?:with|who\s+have|having)\s+(?:[\w()-]+\s+){0,5}$",
    re.IGNORECASE,
)
# '(age ≤ 16)', '(patients < 18 years)' right after a limit: which limit applies
_AGE_ASIDE = re.compile(
    r"\(\s*(?:(?:for|in)\s+)?(?:(?:patients|pts|subjects|participants|children)\s+)?(?:age[ds]?\s*)?[:=]?\s*$",
    re.IGNORECASE,
)
_OPENS_ASIDE = re.compile(r"[\s,;]*\(\s*(?:or\s+|and\s+)?", re.IGNORECASE)
_NAMES_WHAT_FOLLOWS = re.compile(r"(?:ctcae\s+)?(?:grade|class|stage|level)|(?:an?\s+)?(?:total\s+)?(?:score|scores|scoring)|presence")
"""Words that name no analyte by themselves: what follows says what they grade, score or count."""
_SCALE_OF_WHAT_FOLLOWS = re.compile(r"(?<![\w-])(?:a|an|any|for|of|with)\s+(?:ctcae\s+)?grade$")
"""'stopped for a grade 3 or 4 immune-mediated toxicity': the grade of the words after it."""
_HISTORY_ONLY = re.compile(r"(?:a\s+)?history")  # 'History of ≥ grade 3 CRS', 'history of at least 1 prior transfusion'
_NAMED_DURATION = re.compile(
    r"\s+(?!(?:of|or|and|old|in|at|with|who|to|on|from|inclusive|prior|before|after|since)\b)[A-Za-z]{4,}"
)
# '12 years of education', '10 years of smoking history': 'of' and what lasts; not '18 years of
# either sex' nor '18 years of age' (AFTER_AGE)
_DURATION_OF = re.compile(
    r"\s+of\s+(?!(?:either|both|any|all|each|every|the|their|his|her|male|female|sex|sexes|gender|genders"
    r"|older|younger|(?:[A-Za-z]+\s+){1,2}(?:descent|origin|ancestry|ethnicity|race))\b)[A-Za-z]{4,}",
    re.IGNORECASE,
)
_INDEXED_BY = re.compile(r"(?<![\w-])[A-Za-z]+-for-$")
_ANTIGEN_BEFORE = re.compile(
    r"(?<![\w-])(?:(?i:anti)-?[A-Za-z][\w-]*(?:\s+[a-z][\w-]*){0,2}|[A-Z][A-Z0-9-]+(?:\s+[A-Z][A-Z0-9-]+)?)\s+$"
)
_FOR_AN_INDEX = re.compile(r"-for-[A-Za-z]+(?![\w-])")
_OR_AS = re.compile(r"\b(?:or|and)\s+as\s*$", re.IGNORECASE)  # '... as >= 20 mm by X-ray or as >= 10 mm by CT'
_TO_A_COUNT = re.compile(r"\s+to\s+", re.IGNORECASE)  # 'inadequate response to more than two antidepressants'
_RANGE_GOES_ON = re.compile(  # 'at least one but no more than three', 'two and up to four'
    r"\s*+(?:but|and)\s++(?=(?:no|not)\s+more\s+than|up\s+to|at\s+most|fewer\s+than|less\s+than)", re.IGNORECASE
)
_ENDS_WITH_CONNECTOR = re.compile(r"\b(?:or|and|but)\s*$", re.IGNORECASE)
_AGE_TAIL = re.compile(r"\s*(?:or|and)\s+(?:older|younger|over|above|under)", re.IGNORECASE)
_AGE_ONLY_TAIL = re.compile(r"\s*(?:or|and)\s+(?:older|younger)", re.IGNORECASE)
_AGE_PLUS = re.compile(r"\+(?![\w+])")  # 'Aged 18+'
_PARENTHESES = re.compile(r"\([^()]*\)")
_GRADED = re.compile(r"(?<![A-Za-z])(?:grade|class|stage)s?\s*$", re.IGNORECASE)
_SCALE_GAP = re.compile(
    r"[\s:=(]*(?:(?:of|score|status|grade|class|stage|performance|ps|scale|level|index|is|was)\s*[:=]?\s*)*",
    re.IGNORECASE,
)


class AnalytePatterns:
    """The step-3 patterns that carry word lists (`words.json`), compiled once per vocabulary."""

    def __init__(self, vocab: Vocabulary) -> None:
        w = vocab.words
        self.stop_words = word_set(w.stop_words)
        self.not_staging_systems = word_set(w.not_staging_systems)
        # 'sweat chloride', 'left ventricular end-diastolic pressure'
        self.qualifier = re.compile(rf"{_lead(w.qualifiers)}\b(?:{phrase_pattern(w.qualifiers)})\s+(?:[A-Za-z]+-)?$", re.IGNORECASE)
        self.qualifier_last = last_characters(w.qualifiers)
        # 'HAS-BLED' is a name, not 'has'
        self.word_cut = re.compile(rf"{_lead(w.clause_words)}(?<!-)\b(?:{phrase_pattern(w.clause_words)})\b(?!-)", re.IGNORECASE)
        self.trailing_filler = re.compile(rf"(?:\s+(?:{phrase_pattern(w.trailing_filler)}))+\s*$", re.IGNORECASE)
        self.leading_filler = re.compile(  # 'HAS-BLED' is a name, not 'has'
            rf"^(?:\s*(?:{phrase_pattern(w.leading_filler)})\b(?!-)|\s*\W)+\s*", re.IGNORECASE
        )
        # Nouns that make a lexicon analyte into another quantity: 'PSA doubling time' is not PSA.
        self.derived_heads = re.compile(
            rf"\s*(?:{phrase_pattern(w.derived_heads)})\b[A-Za-z\s\-]*?"
            r"(?=\s*(?:[<>≤≥=(,:;]|$|\b(?:of|at|by|in|on|from|over|must|should|is|are)\b))",
            re.IGNORECASE,
        )
        # '(drawn 8-9 AM)', 'at least 4 weeks apart': times of day and spacing, not limits.
        self.not_a_measure_after = re.compile(rf"\s*(?:{phrase_pattern(w.clock_words)})\b", re.IGNORECASE)
        # 'genotypes 1-6', 'Cycle 1 Day 1', 'Week 52', 'visits 2 and 3': names of things, not limits.
        self.not_a_measure_before = re.compile(rf"\b(?:{phrase_pattern(w.name_nouns)})\s*$", re.IGNORECASE)
        self.name_nouns_last = last_characters(w.name_nouns)
        # 'protocol version 3.0 or later', 'CTCAE v5.0': the number names a version, even with a comparator
        self.version_before = re.compile(rf"\b(?:{phrase_pattern(w.version_nouns)})\s*$", re.IGNORECASE)
        self.version_nouns_last = last_characters(w.version_nouns)
        # 'Unresolved grade 2 neuropathy', 'FIGO stage IB2': a stage, grade or class named alone is no limit
        self.named_alone = word_set(w.named_alone)
        self.age_words = re.compile(rf"{_lead(w.age_words)}\b(?:{phrase_pattern(w.age_words)})\b", re.IGNORECASE)
        # With a number of years these words mean age; with weeks or days rarely ('patients who
        # received chemotherapy more than 4 weeks ago').
        self.people_words = re.compile(rf"{_lead(w.people_words)}\b(?:{phrase_pattern(w.people_words)})\b", re.IGNORECASE)
        self.age_name = w.pattern_analytes.age
        self.stage_name = w.pattern_analytes.stage
        self.heads_needing_complement = word_set(w.heads_needing_complement)
        self.instrument_heads = word_set(w.instrument_heads)
        self.people_before = re.compile(
            rf"(?<![\w-])(?:{phrase_pattern(w.people_words)})"
            r"(?:\s++(?:aged|who\s++are))?\s*+$",
            re.IGNORECASE,
        )
        """People right before an expression's comparator: a number after them is an age."""
        self.measurement_count_after = re.compile(
            rf"\s++(?:[A-Za-z][\w-]*+\s++){{0,2}}?(?:{phrase_pattern(w.measurement_counts)})(?![\w-])", re.IGNORECASE
        ) if w.measurement_counts else None
        """A count of measurements right after a number ('on at least two separate occasions')."""
        self.count_phrase = quantity_patterns(vocab).count_phrase
        self.count_run = re.compile(  # '≥ 2 moderate or severe COPD exacerbations': one phrase to the noun
            rf"[ \t]++((?:[A-Za-z][\w'-]*[ \t]+){{1,6}}?(?:{phrase_pattern(w.count_nouns)}))(?![\w-])", re.IGNORECASE
        )
        f = w.frequencies
        numbers = alternation([*w.number_words, "one"])
        self.frequency_tail = re.compile(  # 'hemodialysis 3 times per week for': not the analyte's words
            rf"(?<![\w-])(?:(?:\d+|{numbers})\s*(?:{phrase_pattern(f.times)})|{phrase_pattern(f.counts)})\s+"
            rf"(?:{phrase_pattern(f.periods)})(?=\s*(?:(?:for|over|lasting)\s*)?$)", re.IGNORECASE
        )
        self.measured_subject = re.compile(  # 'one lesion that can be accurately measured'
            r"(?<![\w-])((?:(?!(?:one|a|an|least|the|each|any)\b)[A-Za-z][\w-]*\s+)?[A-Za-z][\w-]*)\s+"
            rf"(?:{phrase_pattern(w.measured_subjects)})(?![\w-])", re.IGNORECASE
        )
        self.measured_after = re.compile(rf"(?<![\w-])(?:{phrase_pattern(w.measured_after)})\s*$", re.IGNORECASE)
        self.measured_after_last = last_characters(w.measured_after)
        # mentions that share one threshold: 'AST/ALT', 'AST and ALT', 'ASAT et ALAT', 'AST (SGOT) and ALT'
        connectors = phrase_pattern(w.connectors)
        self.group_gap = re.compile(rf"{_JOINERS}(?:(?:{connectors}){_JOINERS})?", re.IGNORECASE)
        self.parenthetical_gap = re.compile(
            rf"\s*\([^()]{{1,25}}\)[\s/,&\-]*(?:{connectors})?[\s/,&\-]*", re.IGNORECASE
        )
        # The most characters but joiners either gap holds: what is in brackets, and a connector.
        self.gap_letters = 25 + max(len(form) for c in w.connectors for form in expand_phrase(c))
        self.instrument_for = re.compile(
            rf"(?<![\w-])(?:[A-Z][\w'-]*\s+){{1,5}}(?i:{phrase_pattern(w.instrument_heads)})\s+(?:for|of)\s+(?:[a-z]+\s+){{0,3}}$"
        )
        self.new_clause = re.compile(rf"{_lead(w.new_clause)}(?<![\w-])(?:{phrase_pattern(w.new_clause)})(?![\w-])", re.IGNORECASE)
        self.age_subjects = word_set(w.people_words + w.age_words + w.age_subjects)
        self.immunoglobulins = word_set(w.immunoglobulins)


def _lead(phrases: list[str]) -> str:
    """`first_character_lead` of a word list's phrases (with their optional parts)."""
    return first_character_lead([form for p in phrases for form in expand_phrase(p)])


def analyte_patterns(vocab: Vocabulary) -> AnalytePatterns:
    return vocab.derived("extract.analytes", AnalytePatterns)


# --- mentions -----------------------------------------------------------------------------------


RENAME_REACH = 80
"""How far before a mention the words that rename it may start ('Neck Disability Index for')."""


def mentions_in_reach(text: str, mentions: list[Mention], exprs: list[Expression]) -> list[Mention]:
    """The mentions (in text order) that the passes may take for `exprs`, or that a mention
    renamed from further on may swallow: those that start before the furthest place any
    expression looks at (its aside, the gap after it), plus `RENAME_REACH`. A bullet of many
    mentions and few expressions then prepares only what it needs."""
    reach = max((expr.end for expr in exprs), default=0)
    if not mentions or mentions[-1].start < reach + RENAME_REACH:
        return mentions  # all of them (most bullets)
    for expr in exprs:
        aside = _NAMED_ASIDE.match(text, expr.end)
        right = _RIGHT_GAP_REACH.match(text, expr.end)
        reach = max(reach, aside.end() + 1 if aside else expr.end, right.end() + 1 if right else expr.end)
    return mentions[: bisect_left(mentions, reach + RENAME_REACH, key=lambda m: m.start)]



def prepare_mentions(text: str, mentions: list[Mention], vocab: Vocabulary) -> list[Mention]:
    """Drop matches glued inside a word ('SLEDAI-2K' is not potassium) or negated ('non-HDL');
    a qualifying word before a match makes it another analyte ('sweat chloride', 'donor age'), and
    so do a ratio it is one side of ('P/F ratio') and an event an age is at ('age at diagnosis')."""
    pats = analyte_patterns(vocab)
    out: list[Mention] = []
    last_start = -1  # the latest start in `out`: a renamed mention starting after it swallows none
    for m in mentions:
        if m.own and (
            (m.start > 0 and text[m.start - 1].isalnum()) or (m.end < len(text) and text[m.end].isalnum())
        ):
            continue
        if _NEGATED_PREFIX.search(text, max(0, m.start - 4), m.start):
            continue
        if m.own and text[m.end : m.end + 1] == "-" and m.text.isupper() and _GLUED_ABBREVIATION.match(text, m.end) \
                and not any(o.start == m.end + 1 for o in mentions):
            continue  # 'HCT-CI' (a comorbidity index) is no haematocrit, 'PSA-DT' no PSA ('AST-ALT' is both)
        renamed = _another_analyte(text, m, vocab, pats)
        if renamed is not None:
            m = renamed
            if m.start <= last_start:
                out = [o for o in out if not (m.start <= o.start and o.end <= m.end)]  # now inside m
                last_start = max((o.start for o in out), default=-1)
        out.append(m)
        last_start = max(last_start, m.start)
    return out


_GLUED_ABBREVIATION = re.compile(r"-[A-Z]{2,}(?![a-z])")
"""A second abbreviation glued to a first by a hyphen: the two name one thing."""


def _another_analyte(text: str, m: Mention, vocab: Vocabulary, pats: AnalytePatterns) -> Mention | None:
    """The analyte `m` is part of, when the words around it make it another one; else None."""
    ratio = _RATIO.match(text, m.end) if m.own else None
    if ratio is not None:  # 'P/F ratio', "E/e' ratio": one side of a ratio names neither side
        phrase = text[m.start : ratio.end()]
        return Mention(m.start, ratio.end(), phrase, " ".join(phrase.lower().split()), in_lexicon=False)
    if m.name == pats.age_name and (at_event := age_at_event(text, m, vocab)) is not None:
        return at_event  # 'Age at diagnosis < 40 years' is not today's age
    antigen = (
        _ANTIGEN_BEFORE.search(text, max(0, m.start - 50), m.start)
        if m.own and m.name in pats.immunoglobulins else None
    )
    if antigen is not None:  # 'Anti-pertussis toxin IgG', 'CMV IgG': an antibody to that antigen
        phrase = text[antigen.start() : m.end]
        return Mention(antigen.start(), m.end, phrase, " ".join(phrase.lower().split()), in_lexicon=False)
    indexed = _FOR_AN_INDEX.match(text, m.end) if m.own else None
    if indexed is not None:  # 'BMI-for-age', 'length-for-age': a growth index, not the measure itself
        phrase = text[m.start : indexed.end()]
        return Mention(m.start, indexed.end(), phrase, phrase.lower(), in_lexicon=False)
    before = text[max(0, m.start - RENAME_REACH) : m.start]  # what renames it ends with a space (or '-')
    spaced = before[-1:].isspace()
    instrument = (
        pats.instrument_for.search(text, m.start - len(before), m.start)
        if m.own and spaced and ("for" in before or "of" in before) else None
    )
    if instrument is not None:  # 'Neck Disability Index for pain': pain names the instrument's subject
        phrase = text[instrument.start() : m.end]
        return Mention(instrument.start(), m.end, phrase, " ".join(phrase.lower().split()), in_lexicon=False)
    qualifier = (
        pats.qualifier.search(text, max(0, m.start - 40), m.start)
        if before[-1:] == "-" or (spaced and _ends_in(before, pats.qualifier_last)) else None
    )
    if qualifier is None and m.name == pats.stage_name and spaced:
        qualifier = _STAGING_SYSTEM.search(text, max(0, m.start - 60), m.start)
        if qualifier is not None and not any(
            w.lower() not in pats.not_staging_systems for w in _WORD.findall(qualifier.group(0))
        ):
            qualifier = None
    if qualifier is None:
        return None
    phrase = text[qualifier.start() : m.end]
    return Mention(qualifier.start(), m.end, phrase, " ".join(phrase.lower().split()), in_lexicon=False)


def _ends_in(text: str, last: frozenset[str] | None) -> bool:
    """Whether the last character of `text` but white space is one of `last` (None: any)."""
    return last is None or text.rstrip()[-1:] in last


def content_words(segment: str, pats: AnalytePatterns) -> list[str]:
    """The words of `segment` that can name something (acronyms always can)."""
    words = _WORD.findall(segment)
    return [w for w in words if len(w) > 1 and (w.lower() not in pats.stop_words or _ACRONYM.fullmatch(w))]


def _unit_kind(unit: str | None) -> str:
    """Durations never share an analyte with measurements ('Karnofsky ≥ 50 for patients > 16 years')."""
    return "time" if unit in TIME_UNITS else "other"


def _unique(group: list[Mention]) -> list[Mention]:
    seen: set[str] = set()
    out = []
    for m in group:
        if m.name not in seen:
            seen.add(m.name)
            out.append(m)
    return out


# --- pass 1: candidates -------------------------------------------------------------------------


def candidate_mentions(
    text: str, mentions: list[Mention], lo: int, expr: Expression, pats: AnalytePatterns,
    cmps: ComparatorsBefore | None = None, asides: Asides | None = None,
) -> list[Mention]:
    """The run of compatible mentions closest before `expr` in [lo, expr.start).

    A comparator before the first mention makes a bare number a single comparison ('Minimum
    platelet count 100,000/µL'); `expr` is updated then. `asides` keeps what is read of each
    mention's brackets for the next expression of the same text.
    """
    unit = expr.bounds[-1][1].unit
    asides = asides or Asides(text)
    aside = _NAMED_ASIDE.match(text, expr.end)
    starts, ends_in_order = asides.index(mentions)
    i = bisect_left(starts, lo)
    j = bisect_left(starts, aside.end() + 1 if aside is not None else expr.end, lo=i)
    near = mentions[i:j]  # those that start in [lo, hi)
    named = [m for m in near if m.start == aside.end() and _ASIDE_END.match(text, m.end)] if aside is not None else []
    if named and compatible(named[0], unit):
        return named[:1]  # '≥ 140 mm Hg (systolic) or ≥ 90 mm Hg (diastolic)': the aside names it
    number_start = expr.bounds[0][1].start
    k = bisect_left(starts, expr.start, lo=i, hi=j)  # the first near that starts at or after expr.start
    within = [m for m in mentions[k:j] if m.end <= number_start and compatible(m, unit)]
    if within:
        return within[-1:]  # 'under the age of 21': named between the comparator and the number
    if not near:
        return []
    group = _group_before(near, text, lo, expr.start, pats, unit, asides, ends_in_order) or _listed_aside(
        near, text, lo, expr.start, pats, unit
    )
    if not group:
        return group
    clause = pats.new_clause.search(text, group[-1].end, expr.start)
    if clause is not None and content_words(text[clause.end() : expr.start], pats):
        return []  # 'Diastolic dysfunction with average E/e' ratio > 14': the ratio is what is limited
    group = _derived_quantity(text, group, expr.start, pats)
    leading = cmps.at(group[0].start) if cmps is not None and expr.kind == "bare" else None
    if leading is not None:
        expr.kind, expr.bounds, expr.start = "single", [(leading[0], expr.bounds[0][1])], leading[1]
    return group


def _between(mentions: list[Mention], lo: int, hi: int) -> list[Mention]:
    """The mentions (in text order) that start in [lo, hi), found by bisection."""
    i = bisect_left(mentions, lo, key=lambda m: m.start)
    j = bisect_left(mentions, hi, lo=i, key=lambda m: m.start)
    return mentions[i:j]


def _group_before(
    mentions: list[Mention], text: str, lo: int, hi: int, pats: AnalytePatterns, unit: str | None,
    asides: Asides, ends_in_order: bool = False,
) -> list[Mention]:
    """The run of mentions closest to `hi` inside [lo, hi), joined only by connectors.

    Read from the end, so that only the mentions of the run (and the one that ends it) are
    tested, not every mention of the window. A mention that ends after the last ')' before `hi`
    is in no closed aside, which spares the look for its brackets. When the mentions end in text
    order, the reading stops at the first one too far from the run for any gap to join them, not
    only at the first that may stand in it ('(ANC 1500) (ANC 1500) ...' skips every aside)."""
    closed = text.rfind(")", lo, hi)
    rest = reversed(mentions)
    last = next((m for m in rest if _may_stand(m, lo, hi, unit, closed, asides)), None)
    if last is None:
        return []
    opened = asides.brackets.last_unclosed(lo, hi)
    after = opened if opened >= 0 and last.start > opened else -1  # 'QT interval (QTc > 500 ms)'
    group = [last]
    first = last.start
    too_far = -2  # a mention ending at or before this is too far from `first` to join (-2: not read)
    for m in rest:  # (`_may_stand` written out: a run may be dozens of mentions long)
        if not (m.start >= lo and m.end <= hi and compatible(m, unit) and (m.end > closed or not asides(m, hi))):
            if ends_in_order:
                too_far = asides.too_far(first, pats) if too_far == -2 else too_far
                if m.end <= too_far:
                    break  # and every mention before this one ends before it, further still
            continue
        if m.start > after and asides.joined(m.end, first, pats):
            group.append(m)
            first, too_far = m.start, -2
        else:
            break
    group.reverse()
    return group


def _may_stand(m: Mention, lo: int, hi: int, unit: str | None, closed: int, asides: Asides) -> bool:
    """Whether `m` may be part of the run before `hi`: inside [lo, hi), compatible with the unit,
    and in no closed aside that says more than its name (none after the last ')', `closed`)."""
    return m.start >= lo and m.end <= hi and compatible(m, unit) and (m.end > closed or not asides(m, hi))


def _listed_aside(
    mentions: list[Mention], text: str, lo: int, hi: int, pats: AnalytePatterns, unit: str | None
) -> list[Mention]:
    """The analytes a parenthesis right before `hi` lists, when it lists nothing else:
    'Transaminases (ALT or AST) > 5 x ULN' limits ALT and AST."""
    close = text.rfind(")", lo, hi)
    if close < 0 or text[close + 1 : hi].strip():
        return []
    open_at = text.rfind("(", lo, close)
    inside = [m for m in mentions if open_at < m.start and m.end <= close]
    if open_at < 0 or not inside or not all(compatible(m, unit) for m in inside):
        return []
    edges = [open_at + 1, *(e for m in inside for e in (m.start, m.end)), close]
    gaps = (text[edges[i] : edges[i + 1]] for i in range(0, len(edges), 2))
    return inside if all(pats.group_gap.fullmatch(gap) for gap in gaps) else []


class Asides:
    """Whether a mention stands inside a closed parenthetical that says more than its name
    ('(corrected for Hb)') and closes before a given place. What does not depend on that place
    (the brackets around the mention) is read once per mention, not once per expression that
    looks back over it; so are the text's brackets (`brackets`) and whether the gap between two
    mentions joins them (`joined`), which the next expression looks back over again."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._read: dict[int, tuple[int, bool]] = {}  # id(mention) -> (first ')' after it, says more)
        self.brackets = Brackets(text)
        self._joined: dict[tuple[int, int], bool] = {}
        self._indexed: tuple[list[Mention], list[int], bool] | None = None
        self._letters: _Letters | None = None  # read only for a run that meets an aside

    def index(self, mentions: list[Mention]) -> tuple[list[int], bool]:
        """The starts of `mentions` (in text order, for bisection) and whether their ends are in
        text order too; read once for the list every expression of the text looks back over."""
        if self._indexed is None or self._indexed[0] is not mentions or len(self._indexed[1]) != len(mentions):
            starts = [m.start for m in mentions]
            self._indexed = mentions, starts, all(a.end <= b.end for a, b in pairwise(mentions))
        return self._indexed[1], self._indexed[2]

    def too_far(self, start: int, pats: AnalytePatterns) -> int:
        """The last place from which the text up to `start` holds more characters but joiners
        than a joining gap can (-1: none): no gap from there or before is one `joined` accepts."""
        if self._letters is None:
            self._letters = _Letters(self.text)
        return self._letters.back_from(start, pats.gap_letters)

    def joined(self, end: int, start: int, pats: AnalytePatterns) -> bool:
        """Whether text[end:start] only joins two mentions ('/', ' and ', ' (SGOT) and ')."""
        found = self._joined.get((end, start))
        if found is None:
            gap = self.text[end:start]
            found = self._joined[end, start] = bool(pats.group_gap.fullmatch(gap) or pats.parenthetical_gap.fullmatch(gap))
        return found

    def __call__(self, mention: Mention, hi: int) -> bool:
        """Inside such a parenthetical that closes before `hi`."""
        read = self._read.get(id(mention))  # (mentions outlive this object: their ids stay theirs)
        if read is None:
            read = self._read[id(mention)] = self._brackets(mention)
        close_at, says_more = read
        return says_more and 0 <= close_at < hi

    def _brackets(self, mention: Mention) -> tuple[int, bool]:
        text = self.text
        open_at = text.rfind("(", 0, mention.start)
        close_at = text.find(")", mention.end)
        if open_at < 0 or close_at < 0 or text.find(")", open_at, mention.start) >= 0:
            return close_at, False
        return close_at, text[open_at + 1 : close_at].strip() != mention.text.strip()


def _derived_quantity(text: str, group: list[Mention], limit: int, pats: AnalytePatterns) -> list[Mention]:
    last = group[-1]
    m = pats.derived_heads.match(text, last.end, limit)
    if m is None or not last.own:
        return group
    start, end = group[0].start, m.end()
    indexed = _INDEXED_BY.search(text, max(0, start - 30), start)
    start = indexed.start() if indexed is not None else start  # 'weight-for-height z-score'
    phrase = text[start:end]
    return [Mention(start, end, phrase, " ".join(phrase.lower().split()), in_lexicon=False)]


# --- pass 2: compatibility ----------------------------------------------------------------------


def compatible(mention: Mention, unit: str | None) -> bool:
    """Durations go with time-valued analytes (age), measurements with the others."""
    if unit is None or (unit in ("x ULN", "x LLN") and mention.default_unit in TIME_UNITS):
        return unit is None
    if unit in TIME_UNITS:  # a scale never lasts: 'back pain lasting ≥ 3 months' is no pain score
        return (mention.default_unit is None and not mention.unitless) or mention.default_unit in TIME_UNITS
    return mention.default_unit not in TIME_UNITS


def not_a_threshold(site: Site, group: list[Mention], previous: Previous) -> str | None:
    """Why `site.expr` is no threshold, or None.

    'name': part of a name, a time of day or a count of measurements ('type 2', '8 AM',
    'genotypes 1-6', 'two occasions'); 'condition': an
    age that picks which limit applies ('Karnofsky ≥ 50 for patients > 16 years'), a scale's
    bounds ('pain ≥ 4 on a 0-10 scale') or a subgroup ('for patients with bilirubin > 1.5 × ULN').
    """
    expr, text, pats, tail = site.expr, site.text, site.pats, site.tail
    if site.unit in TIME_UNITS and _OVER_THE.match(text, expr.start):
        return "condition"  # 'no deterioration over the 2 weeks before treatment': a period
    if (site.unit is None or site.unit in TIME_UNITS) and _who_consents(site):
        return "condition"  # 'children aged 7 years and older will give assent': who signs, not who enters
    if pats.not_a_measure_after.match(text, expr.end) or (
        expr.kind != "single" and site.tail_ends_in(pats.name_nouns_last) and pats.not_a_measure_before.search(tail)
    ) or (site.tail_ends_in(pats.version_nouns_last) and pats.version_before.search(tail)) or _is_year(expr):
        return "name"  # also 'version 3.0 or later', 'in 2018 or later': a version, a calendar year
    if site.unit is None and pats.measurement_count_after is not None and pats.measurement_count_after.match(text, expr.end):
        return "name"  # 'on at least two occasions': how often a limit is checked, not a limit
    if site.unit in TIME_UNITS and site.tail_ends_in(pats.measured_after_last) and pats.measured_after.search(tail):
        return "condition"  # 'BP ... following at least 5 minutes of rest', '38 °C sustained over 1 hour'
    age_only = bool(group) and all(m.default_unit in TIME_UNITS for m in group)
    condition_unit = "a" if site.unit is None and age_only else site.unit  # '(age ≤ 16)'
    previous_kind = previous.kind if previous.analytes else None
    if (not group or age_only) and _is_condition(site.tail, condition_unit, previous_kind):
        return "condition"
    if expr.kind == "range" and (
        _SCALE_DESCRIPTOR.match(text, expr.end) or _ON_A_SCALE.search(site.tail)
        or (_OPEN_PAREN.search(site.tail) and _scale_bounds(expr))
    ):
        return "condition"
    return "condition" if tail[-1:].isspace() and _SUBGROUP.search(tail) else None  # it ends in spaces


_OVER_THE = re.compile(r"(?:over|during|throughout)\s+the\s+(?:(?:past|last|previous|next|first)\s+)?\d", re.IGNORECASE)
_ASSENT = re.compile(r"\bassent", re.IGNORECASE)
_CONSENT = re.compile(r"\bconsent", re.IGNORECASE)
_ASSENT_OR_CONSENT = re.compile(r"\b(?:assent|consent)", re.IGNORECASE)


def speaks_of_consent_and_assent(text: str) -> bool:
    """Whether a bullet names both consent and assent (read once per text)."""
    return _ASSENT.search(text) is not None and _CONSENT.search(text) is not None


def _who_consents(site: Site) -> bool:
    """Whether the number is in a clause on who gives consent or assent, in a bullet that names
    both: the ages say how consent is taken, not who is eligible."""
    text, expr = site.text, site.expr
    if not site.consent_and_assent:
        return False
    start = max(text.rfind(";", 0, expr.start), text.rfind(". ", 0, expr.start)) + 1
    ends = [i for i in (text.find(";", expr.end), text.find(". ", expr.end)) if i >= 0]
    return _ASSENT_OR_CONSENT.search(text, start, min(ends, default=len(text))) is not None


def _is_year(expr: Expression) -> bool:
    """A unitless whole number from 1900 to 2099 is a calendar year ('diagnosed in 2018 or later')."""
    return all(q.unit is None and q.value.is_integer() and 1900 <= q.value <= 2099 for _, q in expr.bounds)


def _scale_bounds(expr: Expression) -> bool:
    """'(0-10)', '(1-7)' after a scale name are its bounds; '(30-60)' after 'Age' is a limit."""
    (_, lo), (_, hi) = expr.bounds[0], expr.bounds[-1]
    return lo.unit is None and hi.unit is None and lo.value in (0.0, 1.0)


def _is_condition(segment: str, unit: str | None, previous_kind: str | None) -> bool:
    """An age that picks which limit applies ('for patients ≤ 16 years', '(1 to < 2 years)')."""
    if unit not in TIME_UNITS or previous_kind != "other":
        return False
    return bool(_CONDITION_LEAD.search(segment) or _AGE_ASIDE.search(segment)) or _opens_aside(segment)


def _opens_aside(segment: str) -> bool:
    """The expression starts a parenthetical right after the previous one: '(≤ 3 × ULN ...)'."""
    return _OPENS_ASIDE.fullmatch(segment) is not None


# --- the state passed from one expression to the next ---------------------------------------------


@dataclass(init=False)  # __init__ written out: see COMPILED in setup.py
class Previous:
    """What the last threshold expression took, for the next one to inherit."""

    analytes: list[Mention]
    end: int
    kind: str
    expr: Expression | None

    def __init__(self, analytes: list[Mention] | None = None, end: int = 0, kind: str = "other",
                 expr: Expression | None = None) -> None:
        self.analytes = [] if analytes is None else analytes
        self.end, self.kind, self.expr = end, kind, expr


class Site:
    """One expression and the text in its analyte position (from the previous one or the clause)."""

    def __init__(
        self, text: str, expr: Expression, lo: int, pats: AnalytePatterns, vocab: Vocabulary,
        brackets: Brackets | None = None, consent_and_assent: bool = False,
    ) -> None:
        self.text, self.expr, self.lo, self.pats, self.vocab = text, expr, lo, pats, vocab
        self.brackets = brackets
        """The text's brackets read once (None: each segment is read on its own)."""
        self.consent_and_assent = consent_and_assent
        """`speaks_of_consent_and_assent(text)`, read once for the text."""
        self.unit = expr.bounds[-1][1].unit
        self.segment = text[lo : expr.start]
        self.tail = self.segment[-80:]  # end-anchored patterns need no more (and stay linear)
        self._tail_last: str | None = None
        self._words: list[str] | None = None
        self._left: Mention | None = None
        self._left_done = False
        self._after: Mention | None = None
        self._after_done = False

    @property
    def words(self) -> list[str]:
        """The content words of the analyte position, read on first use."""
        if self._words is None:
            self._words = content_words(self.segment, self.pats)
        return self._words

    @property
    def left(self) -> Mention | None:
        """`derived_words` of the analyte position, computed on first use only."""
        if not self._left_done:
            self._left = derived_words(self.text, self.lo, self.expr.start, self.pats, self.brackets)
            self._left_done = True
        return self._left

    def last_unclosed(self) -> int:
        """`_last_unclosed_paren(self.segment)`."""
        return last_unclosed(self.text, self.lo, self.expr.start, self.brackets)

    @property
    def after(self) -> Mention | None:
        """`derived_after` the expression, computed on first use only (inheritance and fallback
        both ask)."""
        if not self._after_done:
            self._after, self._after_done = derived_after(self.text, self.expr.end, self.pats), True
        return self._after

    def tail_ends_in(self, last: frozenset[str] | None) -> bool:
        """Whether the tail's last character but white space is one of `last` (None: any), a cheap
        test before an end-anchored search that must end with one of them."""
        if self._tail_last is None:
            self._tail_last = self.tail.rstrip()[-1:]
        return last is None or self._tail_last in last

    def ends_with_connector(self) -> bool:
        return _ENDS_WITH_CONNECTOR.search(self.tail) is not None


def restated_limit(site: Site, group: list[Mention], previous: Previous) -> list[Mention] | None:
    """The same limit restated ('≥ 20 ng/mL (50 nmol/L)') or a second one ('14 drinks/week for
    women or 21 drinks/week for men'): the comparator and the analytes carry over."""
    expr, prev = site.expr, previous.expr
    if (
        group
        or expr.kind != "bare"
        or site.unit is None
        or prev is None
        or prev.kind != "single"
        or previous.kind != _unit_kind(site.unit)
        or site.words
        or not ("(" in site.segment or site.ends_with_connector() or "," in site.segment)
    ):
        return None
    expr.kind, expr.bounds = "single", [(prev.bounds[0][0], expr.bounds[0][1])]
    return previous.analytes


# --- pass 3: inheritance ------------------------------------------------------------------------


def inherit(
    site: Site, mentions: list[Mention], previous: Previous, next_start: int, following: Expression | None = None
) -> tuple[list[Mention], int]:
    """Analytes for an expression with no mention of its own before it, and where its words end.

    The previous expression's (after a connector or an opening parenthesis), a counted phrase
    right after a unitless count, or a compatible mention right after the expression.
    """
    expr, text = site.expr, site.text
    compatible_previous = _compatible_previous(site, previous)
    counted = (
        site.after
        if site.unit is None and expr.kind in ("single", "range") and not _AGE_TAIL.match(text, expr.bounds[-1][1].end)
        else None
    )  # '3 or more prior regimens' counts regimens; '14 or older at consent' is an age
    if counted is not None and (counted.start - expr.end > 1 or _OPENS_A_CONDITION.match(counted.text)):
        counted = None  # only a phrase right after the number names what it counts; '(≥ 4 for ileal disease)' none
    run = None
    if counted is not None and not site.pats.count_phrase.match(counted.text):
        run = _count_run(site)
        counted = run or counted
    across = _counted_across_range(site, following)
    if across is not None:
        return _anchored(expr, [across]), expr.end
    of_what = _share_or_age_of(site, mentions, next_start)
    if of_what is not None:
        return [of_what], of_what.end
    if compatible_previous and counted is None and (
        not site.words or site.ends_with_connector() or _opens_aside(site.tail) or _OR_AS.search(site.tail)
    ):
        return _anchored(expr, compatible_previous), expr.end  # '≥ 18 and ≤ 65 years', '(< 3 × ULN ...)'
    if counted is not None and (
        site.left is None or site.ends_with_connector() or site.pats.count_phrase.match(counted.text)
        or _TO_A_COUNT.fullmatch(text, site.left.end, expr.start) is not None
        or (counted is run and site.pats.word_cut.search(counted.text) is None)
    ):  # 'at least 2 prior regimens', 'and =< grade 2 neuropathy', 'refractory to at least two lines of ...',
        # 'while taking ≥ 3 antihypertensive drugs'
        return _anchored(expr, [counted]), expr.end
    straddling = _named_from_the_unit(site, mentions)
    if straddling is not None:
        return [straddling], straddling.end  # '≥ 37 weeks gestation': the unit starts the analyte's name
    right = [m for m in _between(mentions, expr.end, next_start) if _RIGHT_GAP.match(text[expr.end : m.start])
             and compatible(m, site.unit) and not _PART_OF.match(text, m.end)]
    if right and not (site.unit == "%" and _OF_GAP.match(text, expr.end) and _named_right_before(site)):
        return [right[0]], right[0].end  # '> 16 years of age or Lansky ≥ 50': 'age' is taken
    return [], expr.end


_OPENS_A_CONDITION = re.compile(r"(?:for|if|when|in|among|unless|except|during|after|before|at)\b", re.IGNORECASE)
_OF_GAP = re.compile(r"\s+of\s+(?:the\s+)?(?:(?:postnatal|chronological)\s+)?", re.IGNORECASE)


def _share_or_age_of(site: Site, mentions: list[Mention], next_start: int) -> Mention | None:
    """'at least 10% of body surface area', '< 28 days of postnatal age': the analyte right after
    'of' is what the number measures, whatever an earlier expression was about."""
    gap = _OF_GAP.match(site.text, site.expr.end)
    if gap is None:
        return None
    m = next((m for m in _between(mentions, gap.end(), next_start) if m.start == gap.end()), None)
    if m is None or not m.own:
        return None
    age = m.name == site.pats.age_name and site.unit in TIME_UNITS
    if not age and _named_right_before(site):
        return None  # 'parasitaemia between 0.5% and 5% of red cells': red cells are the whole, not the analyte
    return m if age or (site.unit == "%" and compatible(m, "%")) else None


def _named_right_before(site: Site) -> bool:
    """Whether words that name an analyte stand right before the expression (`parasitaemia`
    in 'parasitaemia between 0.5% and 5% of red cells')."""
    left = site.left
    if left is None or site.text[left.end : site.expr.start].strip():
        return False
    return not _PARTICIPLE.search(left.text)  # 'psoriasis involving ≥ 10% of BSA' names the area


_PARTICIPLE = re.compile(r"[A-Za-z](?:ing|ed)$")


def _named_from_the_unit(site: Site, mentions: list[Mention]) -> Mention | None:
    """A compatible mention that starts after the number, inside the expression, and ends past its
    unit: its name begins with the unit or follows it ('37 weeks gestation', '32 weeks of gestation',
    '34 weeks' gestational age or more')."""
    expr = site.expr
    q = expr.bounds[-1][1]
    number_end = q.start + 1
    return next((m for m in _between(mentions, number_end, expr.end) if m.end > q.end and compatible(m, site.unit)), None)


def _count_run(site: Site) -> Mention | None:
    """The words after a count up to a count noun, across 'or' and 'and' ('2 moderate or severe
    COPD exacerbations')."""
    run = site.pats.count_run.match(site.text, site.expr.end)
    if run is None:
        return None
    start, end = run.span(1)
    phrase = site.text[start:end]
    return Mention(start, end, phrase, " ".join(phrase.lower().split()), in_lexicon=False)


def _counted_across_range(site: Site, following: Expression | None) -> Mention | None:
    """'at least one but no more than three prior regimens': a count whose range goes on with a
    second count takes what that one counts."""
    expr, text = site.expr, site.text
    if following is None or site.unit is not None or expr.kind != "single" or following.bounds[-1][1].unit is not None:
        return None
    goes_on = _RANGE_GOES_ON.match(text, expr.end)
    if goes_on is None or goes_on.end() != following.start:
        return None
    after = derived_after(text, following.end, site.pats)
    return after if after is not None and after.start - following.end <= 1 else None


def _anchored(expr: Expression, group: list[Mention]) -> list[Mention]:
    """Record where the analytes named before `expr` end (a bare scale value must follow them)."""
    expr.anchor_end = max((m.end for m in group if m.own), default=-1)
    return group


def _compatible_previous(site: Site, previous: Previous) -> list[Mention]:
    return previous.analytes if previous.analytes and previous.kind == _unit_kind(site.unit) else []


def implied(
    site: Site,
    known: Mapping[str, Mention],
    abbreviations: Mapping[str, Mention] | None,
    context: list[Mention] | None,
) -> list[Mention]:
    """Analytes no mention names here: an age from a duration ('aged 18 years or older', 'Women
    ≥ 18 years'), an abbreviation defined elsewhere in the text, the parent bullet's analytes."""
    age = known.get(site.pats.age_name)
    if site.unit in TIME_UNITS and (event := event_after(site.text, site.expr.end, site.vocab)) is not None:
        return [event]  # '≥ 1 year since the final menstrual period', '> 6 months post-transplant'
    if site.unit in TIME_UNITS and age is not None and _is_age(site):
        return [age]
    if site.unit is None and age is not None and (certain := _unitless_age(site)) is not None:
        # 'Men and women 18 and over' (years, no unit written); 'Healthy volunteers, 18-45' (open)
        return [age if certain else replace(age, default_unit=None)]
    if abbreviations is not None:
        derived = site.left
        if derived is not None and derived.text in abbreviations:
            long_form = abbreviations[derived.text]
            return [replace(long_form, start=derived.start, end=derived.end, text=derived.text)]
    return list(context) if context else []


def _unitless_age(site: Site) -> bool | None:
    """Whether a number with no unit is an age: True when years are certain (an age comparator:
    '14 or older', '18+'), False when only the people named make it one ('Elderly subjects over
    65', 'Healthy volunteers, 18-45'), None when it is no age."""
    expr, pats = site.expr, site.pats
    values = [q.value for _, q in expr.bounds]
    if expr.kind not in ("single", "range") or not all(0 < v <= 120 and v.is_integer() for v in values):
        return None
    tail = site.text[expr.bounds[-1][1].end : expr.end + 24]
    people_only = all(w.lower() in pats.age_subjects for w in site.words)
    if _AGE_ONLY_TAIL.match(tail) or ((_AGE_TAIL.match(tail) or _AGE_PLUS.match(tail)) and people_only):
        return True  # '14 or older', 'Men 18 and over'; not 'a GAD-7 total of 10 or above'
    if site.words and people_only:
        return bool(pats.age_words.search(site.segment))
    return None


def _is_age(site: Site) -> bool:
    text, end, pats = site.text, site.expr.end, site.pats
    tail = text[end : end + 24]
    # 'Women ≥ 2 years postmenopausal': a word right after the unit names what lasts
    named = _NAMED_DURATION.match(tail) is not None or _DURATION_OF.match(tail) is not None
    people = pats.people_words.search(site.segment)
    unit = site.unit
    return bool(
        (not named and ((not site.words and (unit == "a" or people)) or (unit == "a" and people)))
        or AFTER_AGE.match(tail) or _AGE_TAIL.match(tail) or pats.age_words.search(site.segment)
    )


# --- pass 4: fallback ---------------------------------------------------------------------------


def fallback(site: Site, previous: Previous) -> list[Mention]:
    """The words in the analyte position (or right after the expression) as an analyte not in the
    lexicon; the previous analytes for a parenthetical restatement with nothing of its own."""
    text, expr, lo = site.text, site.expr, site.lo
    compatible_previous = _compatible_previous(site, previous)
    derived = site.left
    paren = site.last_unclosed()
    before = derived_words(text, lo, lo + paren, site.pats, site.brackets) if derived is None and paren >= 0 else None
    same_unit = previous.expr is not None and previous.expr.bounds[-1][1].unit == site.unit
    if derived is None and compatible_previous and paren >= 0 and (before is None or same_unit):
        return compatible_previous  # 'bilirubin < 1.5 x ULN, except ... (< 3 x ULN)'
    if before is not None and _names_what_follows(site):
        return [site.after]  # type: ignore[list-item]  # 'Plasma cell leukaemia (> 20% circulating plasma cells)'
    if before is not None and (_CLOSING_ASIDE.match(text, expr.end) or compatible_previous):
        return [before]  # 'hypersensitivity (>=Grade 3)', 'daily smokers (≥ 5 cigarettes/day for a year)'
    if derived is not None and (
        _NAMES_WHAT_FOLLOWS.fullmatch(derived.name) or _SCALE_OF_WHAT_FOLLOWS.search(derived.name)
        or (site.unit is None and _HISTORY_ONLY.fullmatch(derived.name))
    ):
        # 'Grade 3 or higher hypersensitivity reaction': the grade of what follows
        derived = site.after or derived
    if derived is not None and site.unit in TIME_UNITS:
        derived = lasting(text, derived, lo, expr.start, expr.end, site.vocab)  # 'diabetes for ≥ 5 years'
    derived = derived or _counted_in_the_unit(site) or site.after
    return [derived] if derived is not None else []


_COUNTED_IN_UNIT = re.compile(r"((?:[A-Za-z]+\s+)?[A-Za-z]+)\s*(?:/|per\s)", re.IGNORECASE)


def _counted_in_the_unit(site: Site) -> Mention | None:
    """'1,000–100,000 asexual parasites per µL': with nothing named before, what a count per
    volume counts is the noun inside its unit (not 'cells', which says only that cells are counted)."""
    q = site.expr.bounds[-1][1]
    if not (q.unit and q.unit.startswith("/") and q.unit_text and q.unit_text[0].isalpha()):
        return None
    noun = _COUNTED_IN_UNIT.match(q.unit_text)
    if noun is None or noun.group(1).lower() in ("cells", "cell"):
        return None
    start = q.end - len(q.unit_text)
    return Mention(start, start + noun.end(1), noun.group(1), " ".join(noun.group(1).lower().split()), in_lexicon=False)


_TO_THE_CLOSE = re.compile(r"\s*(?:(?:in|of|on|at|from|by)\s+[^()]{1,40}?)?\)", re.IGNORECASE)  # '... in blood)'


def _names_what_follows(site: Site) -> bool:
    """In a parenthesis, a share or count followed by bare words up to the closing bracket counts
    those words ('(> 20% circulating plasma cells)'), not the words before the bracket."""
    after = site.after
    return (
        after is not None and _a_share_or_count(site.unit) and not site.text[site.expr.end : after.start].strip()
        and _TO_THE_CLOSE.match(site.text, after.end) is not None
        and site.pats.count_phrase.fullmatch(after.text) is None  # 'Recurrent infections (≥ 3 episodes)'
    )


def _a_share_or_count(unit: str | None) -> bool:
    """A percentage, a bare number or a count per volume: units that say how many of something."""
    return unit in ("%", None) or unit.startswith(("10*", "/"))


def derived_words(
    text: str, lo: int, hi: int, pats: AnalytePatterns, brackets: Brackets | None = None
) -> Mention | None:
    """The words in the analyte position [lo, hi) when no lexicon analyte stands there
    (`brackets`: the text's, read once)."""
    segment = text[lo:hi]
    measured = _measured_subject(text, lo, segment, pats) if "measur" in segment.lower() else None
    if measured is not None:
        return measured
    modal = _MODAL_BE.search(segment, max(0, len(segment) - 40)) if segment[-9:].rstrip().lower().endswith(("be", "measure")) else None
    if modal is not None and modal.start() > 0:  # 'Nodal target lesions must measure ≥ 15 mm': the subject
        return derived_words(text, lo, lo + modal.start(), pats, brackets)
    frequency = pats.frequency_tail.search(segment, max(0, len(segment) - 60))
    if frequency is not None:  # 'Maintenance hemodialysis 3 times per week for ≥ 3 months'
        return derived_words(text, lo, lo + frequency.start(), pats, brackets)
    unclosed = last_unclosed(text, lo, hi, brackets)
    if unclosed >= 0:
        lo += unclosed + 1
        segment = segment[unclosed + 1 :]
    tail = segment[_cut_point(_mask_parentheticals(segment), pats) :]
    tail_start = hi - len(tail)
    cleaned = pats.trailing_filler.sub("", tail)
    lead = pats.leading_filler.match(cleaned)
    offset = lead.end() if lead else 0
    cleaned = cleaned[offset:].rstrip(" \t\n,-–:=")
    cleaned = _without_trailing_phrase(cleaned, pats)
    words = cleaned.split()
    if not content_words(cleaned, pats):
        return None
    if len(words) > 8:
        drop = len(" ".join(words[:-8])) + 1
        offset += drop
        cleaned = " ".join(words[-8:])
    start = tail_start + offset
    name = re.sub(r"\s+", " ", cleaned.lower()).strip()
    return Mention(start, start + len(cleaned), text[start : start + len(cleaned)], name, in_lexicon=False)


_MODAL_BE = re.compile(r"\s+(?:must|should|shall|needs?\s+to)\s+(?:be|measure)\s*$", re.IGNORECASE)


def _measured_subject(text: str, lo: int, segment: str, pats: AnalytePatterns) -> Mention | None:
    """What the segment says can be measured, named before 'that can be measured' ('at least one
    lesion that can be accurately measured in at least one dimension (...) as': the lesion)."""
    found = None
    for found in pats.measured_subject.finditer(segment):  # noqa: B007  (the last one is wanted)
        pass
    if found is None:
        return None
    start, end = lo + found.start(1), lo + found.end(1)
    first = text[start:end].split()[0]
    if start + len(first) < end and (not content_words(first, pats) or pats.word_cut.fullmatch(first)):
        start = end - len(text[start:end].split()[-1])  # 'includes lesions that can be measured'
    return Mention(start, end, text[start:end], " ".join(text[start:end].lower().split()), in_lexicon=False)


_TRAILING_PHRASE = re.compile(r"\s+(?:at|of|on|in|for)\s+the\s+[^()]*$", re.IGNORECASE)


def _without_trailing_phrase(words: str, pats: AnalytePatterns) -> str:
    """'fixed flexion contracture of the knee' -> 'fixed flexion contracture', 'hydroxyurea at the
    maximum tolerated dose' -> 'hydroxyurea': where or how, not what; unless the head needs it
    ('duration of the episode')."""
    phrase = _TRAILING_PHRASE.search(words)
    if phrase is None:
        return words
    head = words[: phrase.start()]
    if not content_words(head, pats) or head.lower().split()[-1] in pats.heads_needing_complement:
        return words
    return head


def derived_after(text: str, pos: int, pats: AnalytePatterns) -> Mention | None:
    """The words right after an expression ('since prior radiotherapy', 'prior regimens')."""
    since = _SINCE_AFTER.match(text, pos)
    if since:
        phrase = " ".join(since.group(1).split()[:7])
        start = since.start(1)
        name = "time " + " ".join(_SINCE_ARTICLE.sub("since ", phrase).lower().split())
        return Mention(start, start + len(phrase), text[start : start + len(phrase)], name, in_lexicon=False)
    m = _WORDS_AFTER.match(text, pos)
    if not m or not content_words(m.group(1), pats):
        return None
    words = m.group(1).split()[:6]
    phrase = pats.trailing_filler.sub("", " ".join(words))
    start = m.start(1)
    name = phrase.lower()
    shared = _SHARED_NOUN.match(text, m.end(1)) if len(words) == 1 else None
    if shared is not None and not ({shared.group(1).lower(), shared.group(2).lower()} & pats.stop_words):
        name = f"{name} {shared.group(2).lower()}"  # '6 swollen and 6 tender joints': swollen joints
    return Mention(start, start + len(phrase), text[start : start + len(phrase)], name, in_lexicon=False)


_SHARED_NOUN = re.compile(r"\s+(?:and|or)\s+[^\d;,()]{0,20}?\d+\s+([A-Za-z][\w-]*)\s+([A-Za-z][\w-]*)(?![\w-])", re.IGNORECASE)
"""The noun after a second count that two adjectives share ('swollen and 6 tender joints')."""


def _cut_point(masked: str, pats: AnalytePatterns) -> int:
    """Where the analyte words start: after the last clause punctuation, then the last verb."""
    cut = 0
    for m in _PUNCT_CUT.finditer(masked):
        cut = m.end()
    for m in pats.word_cut.finditer(masked, cut):
        if not _inside_a_name(masked, m):
            cut = m.end()
    return cut


_TITLE_BEFORE = re.compile(r"[A-Z][\w'-]*\s+$")
_TITLE_AFTER = re.compile(r"\s+[A-Z]")


def _inside_a_name(text: str, m: re.Match[str]) -> bool:
    """'Eczema Area and Severity Index': 'and' between capitalised words joins one name."""
    return (
        m.group(0).lower() in ("and", "or")
        and _TITLE_BEFORE.search(text, max(0, m.start() - 30), m.start()) is not None
        and _TITLE_AFTER.match(text, m.end()) is not None
    )


_BRACKET = re.compile(r"[()\[\]]")


def last_unclosed(text: str, lo: int, hi: int, brackets: Brackets | None) -> int:
    """`_last_unclosed_paren(text[lo:hi])`, from the text's brackets read once when at hand."""
    if brackets is None:
        return _last_unclosed_paren(text[lo:hi])
    opened = brackets.last_unclosed(lo, hi)
    return opened - lo if opened >= 0 else -1


def _last_unclosed_paren(segment: str) -> int:
    """Where the last bracket left open in `segment` opens (-1: none). Read from the end, over
    the brackets only: an opener is open when the closers after it are all matched before it
    (a closer with nothing to close is ignored, as a left-to-right stack would)."""
    if "(" not in segment and "[" not in segment:
        return -1
    depth = 0
    for m in reversed(list(_BRACKET.finditer(segment))):
        if segment[m.start()] in ")]":
            depth += 1
        elif depth == 0:
            return m.start()
        else:
            depth -= 1
    return -1


_NOT_JOINERS = re.compile(r"[^\s/,&()\[\]\-–]+")  # what _JOINERS leaves out


class _Letters:
    """How many characters of a text but joiners (`_JOINERS`) stand before a place: the runs of
    them are read once, in text order, as far as asked."""

    def __init__(self, text: str) -> None:
        self._runs = _NOT_JOINERS.finditer(text)
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._before: list[int] = []  # characters in the runs before each
        self._done = False

    def between(self, lo: int, hi: int) -> int:
        """The characters but joiners in text[lo:hi]."""
        return self._upto(hi) - self._upto(lo) if lo < hi else 0

    def back_from(self, hi: int, n: int) -> int:
        """The last place `lo` with more than `n` characters but joiners in text[lo:hi] (-1: none)."""
        target = self._upto(hi) - n - 1  # the place of this character (counted from 0) is `lo`
        if target < 0:
            return -1
        k = bisect_right(self._before, target) - 1
        return self._starts[k] + target - self._before[k]

    def _upto(self, pos: int) -> int:
        while not self._done and (not self._starts or self._starts[-1] < pos):
            run = next(self._runs, None)
            if run is None:
                self._done = True
            else:
                self._before.append(self._before[-1] + self._ends[-1] - self._starts[-1] if self._starts else 0)
                self._starts.append(run.start())
                self._ends.append(run.end())
        k = bisect_right(self._starts, pos) - 1
        return self._before[k] + min(pos, self._ends[k]) - self._starts[k] if k >= 0 else 0


class Brackets:
    """Where the last bracket left open before a place opens, for any stretch of one text: the
    brackets are read once, left to right with a stack (a closer with nothing open ignored), and
    only as far as asked. An opener in [lo, hi) is open at `hi` in `text[lo:hi]` exactly when it
    is open at `hi` in the whole text (what closes it lies between the two), so the innermost
    bracket open at `hi` answers for every `lo` up to it."""

    def __init__(self, text: str) -> None:
        self._brackets = _BRACKET.finditer(text)
        self._at: list[int] = []  # the brackets read, in text order
        self._open: list[int] = []  # the innermost opener open just after each (-1: none)
        self._stack: list[int] = []
        self._done = False
        self._text = text

    def last_unclosed(self, lo: int, hi: int) -> int:
        """`lo + _last_unclosed_paren(text[lo:hi])` (-1: none open)."""
        self._read_to(hi)
        k = bisect_left(self._at, hi) - 1
        top = self._open[k] if k >= 0 else -1
        return top if top >= lo else -1

    def _read_to(self, hi: int) -> None:
        """Read brackets until one at or after `hi` (or the end of the text)."""
        at, stack, text = self._at, self._stack, self._text
        while not self._done and (not at or at[-1] < hi):
            m = next(self._brackets, None)
            if m is None:
                self._done = True
                return
            i = m.start()
            if text[i] in "([":
                stack.append(i)
            elif stack:
                stack.pop()
            at.append(i)
            self._open.append(stack[-1] if stack else -1)


def _mask_parentheticals(segment: str) -> str:
    """Same-length copy with balanced '( ... )' contents blanked, so cuts skip them."""
    return _PARENTHESES.sub(lambda m: "(" + "_" * (len(m.group(0)) - 2) + ")", segment)


# --- all passes ---------------------------------------------------------------------------------


def assign_analytes(
    text: str,
    exprs: list[Expression],
    mentions: list[Mention],
    vocab: Vocabulary,
    *,
    known: Mapping[str, Mention] | None = None,
    context: list[Mention] | None = None,
    abbreviations: Mapping[str, Mention] | None = None,
    cmps: ComparatorsBefore | None = None,
) -> None:
    """Give each expression the analytes it constrains (the four passes of the module docstring).

    Bare numbers and lists that turn out not to be scale values keep no analyte and do not
    count as the previous expression.
    """
    pats = analyte_patterns(vocab)
    previous = Previous()
    asides = Asides(text)
    consent = speaks_of_consent_and_assent(text)  # ages in such a bullet may only say who signs
    for k, expr in enumerate(exprs):
        if expr.pinned:
            previous.analytes, previous.end, previous.kind = expr.analytes, expr.end, "other"
            continue
        _years_of_people(text, expr, pats)
        lo = _clause_start(text, previous.end, expr.start)
        group = candidate_mentions(text, mentions, lo, expr, pats, cmps, asides)
        site = Site(text, expr, lo, pats, vocab, asides.brackets, consent)
        group = restated_limit(site, group, previous) or _without_restated_names(text, group, previous)
        if not group and expr.kind in ("bare", "list") and not (expr.kind == "list" and _graded(text, expr)):
            scale = _scale_named_before(site) if expr.kind == "list" else None
            if scale is None:
                expr.analytes = []  # only a scale named right before makes a bare number a threshold
                continue
            group = [scale]
        reason = not_a_threshold(site, group, previous)
        if reason is not None:
            expr.analytes = []
            if reason == "condition":  # its words are no analyte of the next expression either
                previous.end = expr.end
            continue
        consumed_to = expr.end
        if group:
            _anchored(expr, group)
        else:
            next_start = exprs[k + 1].start if k + 1 < len(exprs) else len(text)
            group, consumed_to = inherit(site, mentions, previous, next_start, exprs[k + 1] if k + 1 < len(exprs) else None)
        group = group or implied(site, known or {}, abbreviations, context) or fallback(site, previous)
        expr.analytes = _unique(group)
        if expr.kind in ("bare", "list") and not is_threshold(text, expr, pats.named_alone):
            expr.analytes = []
            continue
        previous = Previous(expr.analytes, consumed_to, _unit_kind(site.unit), expr)
    _drop_name_numbers(text, exprs)


_OPENS_ASIDE = re.compile(r"\s*\(\s*")


def _without_restated_names(text: str, group: list[Mention], previous: Previous) -> list[Mention]:
    """'QT interval above 480 ms (QTcF), or heart rate outside 50-100 bpm': a name alone in the
    parenthesis right after the previous limit restates that limit's analyte; it is no analyte of
    the next limit."""
    if len(group) < 2 or not previous.analytes:
        return group
    names = {a.name for a in previous.analytes}
    kept = [m for m in group if not (
        m.name in names and _OPENS_ASIDE.fullmatch(text, previous.end, m.start) and text[m.end : m.end + 2].lstrip().startswith(")")
    )]
    return kept or group


def _years_of_people(text: str, expr: Expression, pats: AnalytePatterns) -> None:
    """'(≤ 2 for patients over 70)', 'if older than 16': a number without a unit right after people
    and a comparator, or said older or younger, is an age in years (as ages without a unit are),
    not a value of the scale before it."""
    if expr.kind not in ("single", "range") or any(q.unit is not None or not 0 < q.value <= 120 for _, q in expr.bounds):
        return
    first = expr.bounds[0][1].start
    said_of_age = _OLDER_OR_YOUNGER.search(text, expr.start, expr.end) is not None  # 'if older than 16'
    if not said_of_age and (
        expr.start == first or pats.people_before.search(text, max(0, expr.start - 40), expr.start) is None
    ):
        return  # a comparator stands between the people and the number
    if _AGE_NAMED.search(text, expr.start, first):
        return  # 'under the age of 21': the age is named
    for _, q in expr.bounds:
        q.unit = "a"


_AGE_NAMED = re.compile(r"\bage[sd]?\b", re.IGNORECASE)
_OLDER_OR_YOUNGER = re.compile(r"\b(?:older|younger)\b", re.IGNORECASE)
_NAME_NUMBER_GAP = re.compile(r"\s*+\)?(?:\s*+[A-Za-z][A-Za-z-]*){0,3}\s*+")
"""What may stand between a scale's number and the limit on the same scale ('(HAM-D 17) total
score ≥ 18'): a closing bracket and a few words, no comparator and no clause break."""


def _drop_name_numbers(text: str, exprs: list[Expression]) -> None:
    """A bare number glued to a scale's name and followed by a limit on that same scale is part
    of the name (the item count of `HAM-D 17`, `ADAS-Cog 13`), not a value of the scale."""
    for expr, nxt in pairwise(exprs):
        if expr.kind != "bare" or not expr.analytes or not nxt.analytes or nxt.kind not in ("single", "range"):
            continue
        glued = 0 <= expr.start - expr.anchor_end <= 1 and not text[expr.anchor_end : expr.start].strip("- ")
        same = [m.name for m in expr.analytes] == [m.name for m in nxt.analytes]
        if glued and same and _NAME_NUMBER_GAP.fullmatch(text, expr.end, nxt.start):
            expr.analytes = []


_SCALE_VALUE_GAP = re.compile(r"\s*+(?:of\s++)?", re.IGNORECASE)


def _scale_named_before(site: Site) -> Mention | None:
    """A scale outside the lexicon named right before a list of its values (`Deauville score 4
    or 5`, `a total score of 2 or 3`): the words end with an instrument head (`words.json`)."""
    left = site.left
    if left is None or not _SCALE_VALUE_GAP.fullmatch(site.text, left.end, site.expr.start):
        return None
    if left.name.split()[-1] not in site.pats.instrument_heads:
        return None
    return replace(left, unitless=True)


_WINDOW = 240
"""How far back from an expression its analyte may be named (characters). Analyte names are a
few words; the limit keeps a bullet of many numbers linear instead of quadratic."""


def _clause_start(text: str, lo: int, hi: int) -> int:
    """The analyte position starts after the previous expression, or after a ';' or '. ', and at
    most `_WINDOW` characters back (at a word start)."""
    if hi - lo > _WINDOW:
        space = text.find(" ", hi - _WINDOW, hi)
        lo = space + 1 if space >= 0 else hi - _WINDOW
    period = text.rfind(". ", lo, hi)
    while period >= lo and _ABBREVIATION_END.search(text, max(lo, period - 7), period + 1):
        period = text.rfind(". ", lo, period)  # 'below 20 ng/mL, i.e. 50 nmol/L': no sentence ends there
    clause = max(text.rfind(";", lo, hi), period)
    return clause + 1 if clause >= lo else lo


_ABBREVIATION_END = re.compile(r"(?<![A-Za-z])i\.e\.$", re.IGNORECASE)  # 'e.g.' does start what follows


def _graded(text: str, expr: Expression) -> bool:
    return _GRADED.search(text, max(0, expr.start - 24), expr.start) is not None


def is_threshold(text: str, expr: Expression, named_alone: frozenset[str] = frozenset()) -> bool:
    """A bare number or a list is a threshold only right after a scale ('ECOG 2', 'Stage III-IV');
    a bare value of a word in `named_alone` never is ('grade 2 diarrhoea')."""
    if not expr.analytes:
        return False
    if expr.kind in ("single", "range"):
        return True
    if expr.kind == "list" and _graded(text, expr):
        return True  # 'Grade 3 or 4 immune-related adverse event', 'Kellgren-Lawrence grade 2 or 3'
    scale = expr.analytes[-1]
    if not scale.unitless or not scale.own or expr.anchor_end < 0 or expr.anchor_end > expr.start:
        return False
    gap = _PARENTHESES.sub(" ", text[expr.anchor_end : expr.start])
    if expr.kind == "bare" and named_alone and (
        scale.name.split()[-1] in named_alone or any(w.lower() in named_alone for w in gap.split())
    ):
        return False  # 'grade 2 diarrhoea', 'stage IV disease': which one, not a limit
    return bool(_SCALE_GAP.fullmatch(gap))
