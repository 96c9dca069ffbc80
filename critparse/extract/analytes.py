"""Pure extraction: criterion text + analyte mentions -> threshold rule drafts.

The algorithm, in the order it runs:

1. *Quantities.* Every free-standing number (not part of a name such as `CD19`, `COVID-19`,
   `HbA1c`, an ordinal, a phone number or a registry id) is read with what follows it: a power of
   ten and a count unit (`1.5 x 10^9/L`, `1,5 x 10(9)/l`), a multiple of a limit of normal (`3x
   ULN`, `2.5 times the upper limit of normal`), or a unit from `units.json`. Roman numerals are
   read after stage/class/grade words, blood pressure pairs (`140/90 mmHg`) as two analytes.
2. *Expressions.* Two quantities joined by `-`, `to`, `through` (or `and` after `between`) form a
   range; bare numbers joined by `,`/`or` form a list (`ECOG 0, 1 or 2`). A single quantity needs a
   comparator, read from the words just before it (`at least`, `≤`, glued `ANC>1000`) or just
   after it (`or more`, `and older`); a number with neither is a threshold only on a scale
   (`ECOG 2`, `Stage IV`).
3. *Analytes.* An expression takes the analyte mentions (from the lexicon matcher) between the
   previous expression and itself, if their usual unit fits (an age never takes mg/dL); mentions
   joined only by `/`, `and`, `or`, `-` or parentheses all share it (`AST/ALT < 3x ULN`). With no
   words there it inherits the previous expression's analytes (`≥ 18 and ≤ 65 years`, `(≤ 3 × ULN
   for Gilbert's)`); else a mention right after it (`≥ 18 years of age`); else the words in the
   analyte position are kept as an analyte not in the lexicon. Ages that choose which limit
   applies (`for patients > 16 years`) and the bounds of a rating scale (`on a 0-10 scale`) are
   not thresholds.

Every draft keeps character offsets into the original text; nothing here touches spaCy, so it is
tested directly on strings.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

from critparse.extract.mentions import TIME_UNITS, Expression, Mention, Quantity, RuleDraft
from critparse.lexicon.vocabulary import Vocabulary
from critparse.extract.quantities import (
    AFTER_AGE,
    ComparatorsBefore,
    build_expressions,
    find_bare_limits,
    find_blood_pressure,
    find_number_words,
    find_quantities,
    find_staged,
)

__all__ = ["Mention", "RuleDraft", "extract_rules", "may_hold_threshold"]

# --- step 3: analytes ---------------------------------------------------------------------------

def prepare_mentions(text: str, mentions: list[Mention]) -> list[Mention]:
    """Drop matches glued inside a word ('SLEDAI-2K' is not potassium) or negated ('non-HDL');
    a qualifying word before a match makes it another analyte ('sweat chloride', 'donor age')."""
    out: list[Mention] = []
    for m in mentions:
        if m.own and (
            (m.start > 0 and text[m.start - 1].isalnum()) or (m.end < len(text) and text[m.end].isalnum())
        ):
            continue
        if _NEGATED_PREFIX.search(text, max(0, m.start - 4), m.start):
            continue
        qualifier = _QUALIFIER.search(text, max(0, m.start - 40), m.start)
        if qualifier is None and m.name == "stage":
            qualifier = _STAGING_SYSTEM.search(text, max(0, m.start - 60), m.start)
            if qualifier is not None and not any(
                w.lower() not in _NOT_A_STAGING_SYSTEM for w in _WORD.findall(qualifier.group(0))
            ):
                qualifier = None
        if qualifier is not None:
            phrase = text[qualifier.start() : m.end]
            m = Mention(qualifier.start(), m.end, phrase, " ".join(phrase.lower().split()), in_lexicon=False)
            out = [o for o in out if not (m.start <= o.start and o.end <= m.end)]  # now inside m
        out.append(m)
    return out


_QUALIFIER = re.compile(
    r"\b(?:sweat|donor|recipient|urine|urinary|csf|cerebrospinal\s+fluid|fecal|faecal|stool|saliva|"
    r"salivary|sputum|maternal|paternal|partner|sibling|(?:percent\s+|%\s*)?change\s+in|"
    r"increase\s+in|decrease\s+in|reduction\s+in)\s+$",
    re.IGNORECASE,
)
# 'Tanner stage', 'International Staging System (ISS) stage', 'Ann Arbor stage': a named system
_STAGING_SYSTEM = re.compile(r"(?<![\w-])(?:(?:[A-Z][\w-]*|\([A-Z][\w-]*\)|and)\s+){1,5}$")
_NOT_A_STAGING_SYSTEM = frozenset(
    (
        "clinical pathologic pathological disease cancer tumor tumour stage advanced early locally "
        "metastatic histologic histological confirmed and with has have patients patient the or of in "
        "at any current documented known diagnosed newly recurrent"
    ).split()
)
_NEGATED_PREFIX = re.compile(r"\bnon[-\s]?$", re.IGNORECASE)  # 'non-HDL cholesterol' is not HDL

_GROUP_GAP = re.compile(
    r"[\s/,&()\[\]\-–]*(?:(?:and/or|and|or|&|nor|as\s+well\s+as)[\s/,&()\[\]\-–]*)?", re.IGNORECASE
)
_RIGHT_GAP = re.compile(r"\s*(?:(?:of|in|for|as)\s+)?(?:the\s+)?$", re.IGNORECASE)
_STOPWORDS = frozenset(
    (
        "a an the and or of for with to in on at by as is are be been being must should shall will "
        "may can has have having had who which that this these those their his her its any all no not "
        "patient patients subject subjects participant participants person people adult adults male "
        "males female females men women man woman child children individuals aged value values level "
        "levels if if: e.g. i.e. eg ie than then also either both only including include includes "
        "defined define following function adequate serum plasma blood total count counts result "
        "results laboratory lab test tests measured measurement score status documented known average "
        "mean median"
    ).split()
)
_PUNCT_CUT = re.compile(r"[;:.,\[]")
_WORD_CUT = re.compile(
    r"(?<!-)\b(?:must|should|shall|will|have|has|had|having|with|who|is|are|be|been|was|were|received|"
    r"receiving|undergone|if|when|where|defined\s+as|as\s+follows|including|e\.g\.|i\.e\.|and|or|but|"
    r"on|despite|after|before|during|without|per|by)\b(?!-)",  # 'HAS-BLED' is a name, not 'has'
    re.IGNORECASE,
)


def _cut_point(masked: str) -> int:
    """Where the analyte words start: after the last clause punctuation, then the last verb."""
    cut = 0
    for m in _PUNCT_CUT.finditer(masked):
        cut = m.end()
    for m in _WORD_CUT.finditer(masked, cut):
        cut = m.end()
    return cut


_TRAILING_FILLER = re.compile(
    r"(?:\s+(?:of|is|are|was|be|must|should|at|to|in|a|an|the|by|per|on|as|for|with|=|:|of\s+grade))+\s*$",
    re.IGNORECASE,
)
_LEADING_FILLER = re.compile(
    r"^(?:\s*(?:at\s+least|at\s+most|no\s+more\s+than|one|two|three|four|five|severe|moderate|mild|"
    r"clinically\s+significant|significant|a|an|the|any|all|patients?|subjects?|participants?|with|has|have|having|must|"
    r"should|documented|known|serum|plasma|blood|of|adequate)\b|\s*\W)+\s*",
    re.IGNORECASE,
)


_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'\-]*")


def _content_words(segment: str) -> list[str]:
    words = _WORD.findall(segment)
    return [w for w in words if len(w) > 1 and (w.lower() not in _STOPWORDS or _ACRONYM.fullmatch(w))]


_ACRONYM = re.compile(r"(?!(?:OR|AND|IF|OF|THE|WITH|NOT|NO|IN|TO|AT|ON|BY|AS|IS|BE)\b)[A-Z]{2,}")


def _compatible_analyte(mention: Mention, unit: str | None) -> bool:
    """Durations go with time-valued analytes (age), measurements with the others."""
    if unit is None or (unit in ("x ULN", "x LLN") and mention.default_unit in TIME_UNITS):
        return unit is None
    if unit in TIME_UNITS:
        return mention.default_unit is None or mention.default_unit in TIME_UNITS
    return mention.default_unit not in TIME_UNITS


def _in_aside(text: str, mention: Mention, hi: int) -> bool:
    """A mention inside a closed parenthetical that says more than its name ('(corrected for Hb)')."""
    open_at = text.rfind("(", 0, mention.start)
    close_at = text.find(")", mention.end, hi)
    if open_at < 0 or close_at < 0 or text.find(")", open_at, mention.start) >= 0:
        return False
    inside = text[open_at + 1 : close_at]
    return inside.strip() != mention.text.strip()


def _group_before(
    mentions: list[Mention], text: str, lo: int, hi: int, unit: str | None = None
) -> list[Mention]:
    """The run of mentions closest to `hi` inside [lo, hi), joined only by connectors."""
    inside = [
        m for m in mentions
        if m.start >= lo and m.end <= hi and _compatible_analyte(m, unit) and not _in_aside(text, m, hi)
    ]
    if not inside:
        return []
    opened = _last_unclosed_paren(text[lo:hi])
    if opened >= 0 and inside[-1].start > lo + opened:
        inside = [m for m in inside if m.start > lo + opened]  # 'QT interval (QTc > 500 ms)'
    group = [inside[-1]]
    for m in reversed(inside[:-1]):
        gap = text[m.end : group[0].start]
        if _GROUP_GAP.fullmatch(gap) or _parenthetical(gap):
            group.insert(0, m)
        else:
            break
    return group


def _parenthetical(gap: str) -> bool:
    """`AST (SGOT) and ALT`: the gap holds a short parenthetical and connectors only."""
    return bool(re.fullmatch(r"\s*\([^()]{1,25}\)[\s/,&\-]*(?:and|or|&)?[\s/,&\-]*", gap, re.IGNORECASE))


def _derived(text: str, lo: int, hi: int) -> Mention | None:
    """The words in the analyte position when no lexicon analyte stands there."""
    segment = text[lo:hi]
    unclosed = _last_unclosed_paren(segment)
    if unclosed >= 0:
        lo += unclosed + 1
        segment = segment[unclosed + 1 :]
    tail = segment[_cut_point(_mask_parentheticals(segment)) :]
    tail_start = hi - len(tail)
    cleaned = _TRAILING_FILLER.sub("", tail)
    lead = _LEADING_FILLER.match(cleaned)
    offset = lead.end() if lead else 0
    cleaned = cleaned[offset:].rstrip(" \t\n,-–:=")
    words = cleaned.split()
    if not _content_words(cleaned):
        return None
    if len(words) > 8:
        drop = len(" ".join(words[:-8])) + 1
        offset += drop
        cleaned = " ".join(words[-8:])
    start = tail_start + offset
    name = re.sub(r"\s+", " ", cleaned.lower()).strip()
    return Mention(start, start + len(cleaned), text[start : start + len(cleaned)], name, in_lexicon=False)


def _last_unclosed_paren(segment: str) -> int:
    if "(" not in segment and "[" not in segment:
        return -1
    depth_stack: list[int] = []
    for i, ch in enumerate(segment):
        if ch in "([":
            depth_stack.append(i)
        elif ch in ")]" and depth_stack:
            depth_stack.pop()
    return depth_stack[-1] if depth_stack else -1


def _mask_parentheticals(segment: str) -> str:
    """Same-length copy with balanced '( ... )' contents blanked, so cuts skip them."""
    return re.sub(r"\([^()]*\)", lambda m: "(" + "_" * (len(m.group(0)) - 2) + ")", segment)


def _derived_after(text: str, pos: int) -> Mention | None:
    since = re.match(r"\s*(since\s+(?:the\s+)?(?:last\s+|prior\s+|previous\s+|first\s+)?[A-Za-z][A-Za-z0-9'\- ]{1,50}?)(?=\s*(?:[,;.()]|$|\band\b|\bor\b|\bto\b|\bbefore\b|\bat\b))", text[pos:], re.IGNORECASE)
    if since:
        phrase = " ".join(since.group(1).split()[:7])
        start = pos + since.start(1)
        return Mention(start, start + len(phrase), text[start : start + len(phrase)], "time " + phrase.lower(), in_lexicon=False)
    m = re.match(r"\s*(?:of\s+|in\s+|on\s+)?(?:the\s+)?([A-Za-z][A-Za-z0-9'\- ]{1,60}?)(?=\s*(?:[,;.()]|$|\band\b|\bor\b|\bwithin\b|\bprior\s+to\b|\bbefore\b|\bafter\b|\bat\b|\bfor\b|\bsince\b|\bfrom\b|\bper\b|\bby\b|\bon\b|\bas\b|\bin\b|\bduring\b|\bover\b|\brequiring\b|\bthat\b|\bwhich\b|\bwho\b|\bdespite\b|\bof\s+at\b|\bto\b))", text[pos:])
    if not m or not _content_words(m.group(1)):
        return None
    words = m.group(1).split()[:6]
    phrase = _TRAILING_FILLER.sub("", " ".join(words))
    start = pos + m.start(1)
    return Mention(start, start + len(phrase), text[start : start + len(phrase)], phrase.lower(), in_lexicon=False)


def _unit_kind(unit: str | None) -> str:
    """Durations never share an analyte with measurements ('Karnofsky ≥ 50 for patients > 16 years')."""
    return "time" if unit in TIME_UNITS else "other"


def assign_analytes(
    text: str,
    exprs: list[Expression],
    mentions: list[Mention],
    *,
    known: dict[str, Mention] | None = None,
    context: list[Mention] | None = None,
    abbreviations: Mapping[str, Mention] | None = None,
    cmps: ComparatorsBefore | None = None,
) -> None:
    """Give each expression the analytes it constrains (see the module docstring, step 3).

    Bare numbers and lists that turn out not to be scale values keep no analyte and do not
    count as the previous expression.
    """
    known = known or {}
    age = known.get("age")
    previous_end = 0
    previous: list[Mention] = []
    previous_kind = "other"
    previous_expr: Expression | None = None
    for k, expr in enumerate(exprs):
        if expr.pinned:
            previous, previous_end, previous_kind = expr.analytes, expr.end, "other"
            continue
        lo = previous_end
        clause = max(text.rfind(";", lo, expr.start), text.rfind(". ", lo, expr.start))
        if clause >= lo:
            lo = clause + 1
        unit = expr.bounds[-1][1].unit
        group = _group_before(mentions, text, lo, expr.start, unit)
        if group:
            group = _derived_quantity(text, group, expr.start)
            leading = cmps.at(group[0].start) if cmps is not None and expr.kind == "bare" else None
            if leading is not None:  # 'Minimum platelet count 100,000/µL'
                expr.kind, expr.bounds, expr.start = "single", [(leading[0], expr.bounds[0][1])], leading[1]
        segment = text[lo : expr.start]
        tail_of_segment = segment[-120:]  # end-anchored patterns need no more (and stay linear)
        segment_words = _content_words(segment)
        if (
            not group
            and expr.kind == "bare"
            and unit is not None
            and previous_expr is not None
            and previous_expr.kind == "single"
            and previous_kind == _unit_kind(unit)
            and not segment_words
            and ("(" in segment or _ENDS_WITH_CONNECTOR.search(tail_of_segment) or "," in segment)
        ):
            # the same limit restated ('≥ 20 ng/mL (50 nmol/L)') or a second one ('14 drinks/week
            # for women or 21 drinks/week for men'): the comparator carries over
            expr.kind, expr.bounds = "single", [(previous_expr.bounds[0][0], expr.bounds[0][1])]
            group = previous
        if _NOT_A_MEASURE_AFTER.match(text, expr.end) or (
            expr.kind != "single" and _NOT_A_MEASURE_BEFORE.search(tail_of_segment)
        ):
            expr.analytes = []  # 'type 2', '8 AM', 'genotypes 1-6': part of a name, keep the words
            continue
        age_only = bool(group) and all(m.default_unit in TIME_UNITS for m in group)
        condition_unit = "a" if unit is None and age_only else unit  # '(age ≤ 16)'
        if ((not group or age_only) and _is_condition(tail_of_segment, condition_unit, previous_kind if previous else None)) or (
            expr.kind == "range" and (_SCALE_DESCRIPTOR.match(text, expr.end) or _ON_A_SCALE.search(tail_of_segment))
        ) or _SUBGROUP.search(tail_of_segment):
            # 'Karnofsky ≥ 50 for patients > 16 years' (which rule applies), 'pain ≥ 4 on a
            # 0-10 scale' (the scale) and 'for patients with bilirubin > 1.5 × ULN' (a subgroup) are
            # not thresholds; their words are no analyte either.
            expr.analytes = []
            previous_end = expr.end
            continue
        compatible_previous = previous if previous and previous_kind == _unit_kind(unit) else []
        left_words = _LeftWords(text, lo, expr.start)  # the words in the analyte position, read once
        counted = _derived_after(text, expr.end) if unit is None and expr.kind == "single" else None
        if counted is not None and counted.start - expr.end > 1:
            counted = None  # only a phrase right after the number names what it counts
        if not group and compatible_previous and counted is None and (
            not segment_words or _ENDS_WITH_CONNECTOR.search(tail_of_segment) or _opens_aside(tail_of_segment)
        ):
            group = compatible_previous  # '≥ 18 and ≤ 65 years', '... (< 3 × ULN for Gilbert's)'
        if not group and counted is not None and (
            left_words.mention is None or _ENDS_WITH_CONNECTOR.search(tail_of_segment)
        ):
            group = [counted]  # 'at least 2 prior regimens', '... and =< grade 2 peripheral neuropathy'
        consumed_to = expr.end
        if group:
            expr.anchor_end = max(m.end for m in group if m.own) if any(m.own for m in group) else -1
        else:
            nxt_start = exprs[k + 1].start if k + 1 < len(exprs) else len(text)
            right = [m for m in mentions if m.start >= expr.end and m.start < nxt_start
                     and _RIGHT_GAP.match(text[expr.end : m.start]) and _compatible_analyte(m, unit)]
            if right:
                group = [right[0]]
                consumed_to = right[0].end  # '> 16 years of age or Lansky ≥ 50': 'age' is taken
        if not group and unit in TIME_UNITS and age is not None:
            tail = text[expr.end : expr.end + 24]
            # 'Women ≥ 2 years postmenopausal': a word right after the unit names what lasts
            named = _NAMED_DURATION.match(tail) is not None
            people = _PEOPLE_WORDS.search(segment)
            if (not named and ((not segment_words and (unit == "a" or people)) or (unit == "a" and people))) \
                    or AFTER_AGE.match(tail) or _AGE_TAIL.match(tail) or _AGE_WORDS.search(segment):
                group = [age]
        if not group and abbreviations is not None:
            derived = left_words.mention
            if derived is not None and derived.text in abbreviations:
                long_form = abbreviations[derived.text]
                group = [replace(long_form, start=derived.start, end=derived.end, text=derived.text)]
        if not group and context:
            group = context
        if not group:
            derived = left_words.mention
            paren = _last_unclosed_paren(segment)
            before = _derived(text, lo, lo + paren) if derived is None and paren >= 0 else None
            same_unit = previous_expr is not None and previous_expr.bounds[-1][1].unit == unit
            if derived is None and compatible_previous and paren >= 0 and (before is None or same_unit):
                group = compatible_previous  # 'bilirubin < 1.5 x ULN, except ... (< 3 x ULN)'
            elif before is not None and (
                text[expr.end : expr.end + 2].strip().startswith(")") or compatible_previous
            ):
                group = [before]  # 'severe hypersensitivity (>=Grade 3)', 'splenomegaly (≥ 6 cm ...)'
            else:
                if derived is not None and _SCALE_NAME_ONLY.fullmatch(derived.name):
                    # 'Grade 3 or higher hypersensitivity reaction': the grade of what follows
                    derived = _derived_after(text, expr.end) or derived
                derived = derived or _derived_after(text, expr.end)
                group = [derived] if derived is not None else []
        expr.analytes = _unique(group)
        if expr.kind in ("bare", "list") and not _is_threshold(text, expr):
            expr.analytes = []
            continue
        previous = expr.analytes
        previous_end = consumed_to
        previous_kind = _unit_kind(unit)
        previous_expr = expr


class _LeftWords:
    """`_derived` for one expression, computed on first use only (most expressions never need it)."""

    def __init__(self, text: str, lo: int, hi: int) -> None:
        self._args = (text, lo, hi)
        self._done = False
        self._mention: Mention | None = None

    @property
    def mention(self) -> Mention | None:
        if not self._done:
            self._mention, self._done = _derived(*self._args), True
        return self._mention


_CONDITION_LEAD = re.compile(
    r"\b(?:for|in|if|among)\s+(?:(?:those|patients|pts|subjects|participants|children|individuals|"
    r"adults|adolescents|men|women|males|females|infants)\s+)?(?:(?:aged|who\s+are|of\s+age|age)\s+)?$",
    re.IGNORECASE,
)
_SCALE_DESCRIPTOR = re.compile(r"\s*(?:-?\s*points?\s+)?(?:scale|NRS|VAS|Likert|numeric\s+rating)\b", re.IGNORECASE)
_ON_A_SCALE = re.compile(r"\b(?:on\s+an?|using\s+an?)\s*\(?$|\(\s*$", re.IGNORECASE)


# 'for participants with total bilirubin > 1.5 × ULN, ...': the threshold picks a subgroup.
_SUBGROUP = re.compile(
    r"\b(?:for|in|among)\s+(?:[\w-]+\s+){0,2}?(?:(?:patient|participant|subject|individual)s?|those|people|"
    r"women|men|children)\s+(?:with|who\s+have|having)\s+(?:[\w()-]+\s+){0,5}$",
    re.IGNORECASE,
)
# '(drawn 8-9 AM)', 'at least 4 weeks apart': times of day and spacing, not limits.
_NOT_A_MEASURE_AFTER = re.compile(r"\s*(?:AM|PM|a\.m\.|p\.m\.|o'clock|apart)\b", re.IGNORECASE)
# 'genotypes 1-6', 'Cycle 1 Day 1', 'Week 52', 'visits 2 and 3': names of things, not limits.
_NOT_A_MEASURE_BEFORE = re.compile(
    r"\b(?:genotypes?|serotypes?|types?|versions?|visits?|days?|weeks?|cycles?|phases?|parts?|items?|"
    r"arms?|cohorts?|groups?|chapters?|doses?|sites?)\s*$",
    re.IGNORECASE,
)


def _opens_aside(segment: str) -> bool:
    """The expression starts a parenthetical right after the previous one: '(≤ 3 × ULN ...)'."""
    return bool(re.fullmatch(r"[\s,;]*\(\s*(?:or\s+|and\s+)?", segment, re.IGNORECASE))


def _is_condition(segment: str, unit: str | None, previous_kind: str | None) -> bool:
    """An age that picks which limit applies ('for patients ≤ 16 years', '(1 to < 2 years)')."""
    if unit not in TIME_UNITS or previous_kind != "other":
        return False
    return bool(_CONDITION_LEAD.search(segment) or _AGE_ASIDE.search(segment)) or _opens_aside(segment)


# '(age ≤ 16)', '(patients < 18 years)' right after a limit: which limit applies
_AGE_ASIDE = re.compile(
    r"\(\s*(?:(?:for|in)\s+)?(?:(?:patients|pts|subjects|participants|children)\s+)?(?:age[ds]?\s*)?[:=]?\s*$",
    re.IGNORECASE,
)


# Nouns that make a lexicon analyte into another quantity: 'PSA doubling time' is not PSA.
_DERIVED_HEADS = re.compile(
    r"\s*(?:doubling|velocity|kinetics|slope|variability|change|reduction|decline|increase|decrease|"
    r"excretion|clearance|gain|loss)\b[A-Za-z\s\-]*?(?=\s*(?:[<>≤≥=(,:;]|$|\b(?:of|at|by|in|on|from|over|must|should|is|are)\b))",
    re.IGNORECASE,
)


def _derived_quantity(text: str, group: list[Mention], limit: int) -> list[Mention]:
    last = group[-1]
    m = _DERIVED_HEADS.match(text, last.end, limit)
    if m is None or not last.own:
        return group
    start, end = group[0].start, m.end()
    phrase = text[start:end]
    return [Mention(start, end, phrase, " ".join(phrase.lower().split()), in_lexicon=False)]


_SCALE_NAME_ONLY = re.compile(r"(?:ctcae\s+)?(?:grade|class|stage|level)")
_NAMED_DURATION = re.compile(
    r"\s+(?!(?:of|or|and|old|in|at|with|who|to|on|from|inclusive|prior|before|after|since)\b)[A-Za-z]{4,}"
)
_ENDS_WITH_CONNECTOR = re.compile(r"\b(?:or|and|but)\s*$", re.IGNORECASE)
_AGE_TAIL = re.compile(r"\s*(?:or|and)\s+(?:older|younger|over|above|under)", re.IGNORECASE)
_AGE_WORDS = re.compile(
    r"\b(?:aged?|old|older|younger|children|boys|girls|infants|neonates|newborns|adolescents|toddlers)\b",
    re.IGNORECASE,
)
# Words for people: with a number of years they mean age; with weeks or days rarely ('patients
# who received chemotherapy more than 4 weeks ago').
_PEOPLE_WORDS = re.compile(
    r"\b(?:adults?|patients|subjects|participants|volunteers|men|women|males?|females?)\b", re.IGNORECASE
)


def _unique(group: list[Mention]) -> list[Mention]:
    seen: set[str] = set()
    out = []
    for m in group:
        if m.name not in seen:
            seen.add(m.name)
            out.append(m)
    return out


# --- the whole extraction -----------------------------------------------------------------------


def extract_rules(
    text: str,
    mentions: list[Mention],
    vocab: Vocabulary,
    *,
    known: dict[str, Mention] | None = None,
    context: list[Mention] | None = None,
    abbreviations: Mapping[str, Mention] | None = None,
) -> tuple[list[RuleDraft], str | None]:
    """Threshold rule drafts for `text`, or none and the reason why.

    `known` holds lexicon analytes the patterns name themselves ('age', 'systolic blood
    pressure', 'diastolic blood pressure').
    """
    if not may_hold_threshold(text):
        return [], _no_threshold_reason(text, [], [])
    known = known or {}
    mentions = prepare_mentions(text, mentions)
    cmps = ComparatorsBefore(text, vocab)
    quantities = find_quantities(text, vocab)
    counted = find_number_words(text, vocab, cmps)
    if counted:
        quantities = sorted(quantities + counted, key=lambda q: q.start)
    staged = find_staged(text)
    if staged:
        covered = [(e.start, e.end) for e in staged]
        quantities = [q for q in quantities if not any(s <= q.start < e for s, e in covered)]
    exprs = build_expressions(text, quantities, vocab, cmps)
    extra = staged + find_bare_limits(text, quantities, cmps) + find_blood_pressure(text, vocab, cmps, known)
    exprs = sorted(exprs + extra, key=lambda e: e.start)
    assign_analytes(text, exprs, mentions, known=known, context=context, abbreviations=abbreviations, cmps=cmps)
    drafts: list[RuleDraft] = []
    seen: set[tuple[str, str, float, str | None]] = set()
    for expr in exprs:
        for analyte in expr.analytes:
            start = min(analyte.start, expr.start) if analyte.own else expr.start
            end = max(expr.end, analyte.end) if analyte.own else expr.end
            for comparator, q in expr.bounds:
                if analyte.name == "age" and q.unit is None:  # ages are in years unless written otherwise
                    q = replace(q, unit="a")
                key = (analyte.name, comparator, q.value, q.unit)
                if key in seen:
                    continue
                seen.add(key)
                drafts.append(RuleDraft(analyte, comparator, q.value, q.unit, q.unit_text, start, end))
    if drafts:
        return drafts, None
    return [], _no_threshold_reason(text, quantities, exprs)


# Every threshold has a digit, a limit of normal ('≤ ULN') or a roman numeral on a scale word.
_MAY_HOLD_THRESHOLD = re.compile(
    r"\d|ULN|LLN|limit|normal|stage|class|grade|NYHA|ASA|status|\b(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\b",
    re.IGNORECASE,
)


def may_hold_threshold(text: str) -> bool:
    """False when no rule can be read from `text` (no digit, no limit of normal, no stage word)."""
    return _MAY_HOLD_THRESHOLD.search(text) is not None


def _is_threshold(text: str, expr: Expression) -> bool:
    """A bare number is a threshold only right after a scale ('ECOG 2', 'Stage IV')."""
    if not expr.analytes:
        return False
    if expr.kind in ("single", "range"):
        return True
    # lists and bare numbers: only on scales named just before them
    scale = expr.analytes[-1]
    if not scale.unitless or not scale.own or expr.anchor_end < 0 or expr.anchor_end > expr.start:
        return False
    return bool(_SCALE_GAP.fullmatch(_PARENTHETICAL.sub(" ", text[expr.anchor_end : expr.start])))


_PARENTHETICAL = re.compile(r"\([^()]*\)")
_SCALE_GAP = re.compile(
    r"[\s:=(]*(?:(?:of|score|status|grade|class|stage|performance|ps|scale|level|index|is|was)\s*[:=]?\s*)*",
    re.IGNORECASE,
)


def _no_threshold_reason(text: str, quantities: list[Quantity], exprs: list[Expression]) -> str:
    if not text.strip():
        return "empty text"
    if not quantities and not exprs:
        if re.search(r"\d", text):
            return "numbers are part of names, dates or identifiers, not thresholds"
        return "no number in the text: a condition without a numeric threshold"
    if all(not e.analytes for e in exprs):
        return "numbers without an analyte they constrain"
    return "numbers without a comparator: not thresholds"
