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
from dataclasses import dataclass, field, replace
from itertools import pairwise

from critparse.lexicon import Vocabulary

# --- data carried between the steps -------------------------------------------------------------


@dataclass(frozen=True)
class Mention:
    """An analyte named in the text: `name` is canonical when `code`/`in_lexicon` say so."""

    start: int
    end: int
    text: str
    name: str
    code: str | None = None
    system: str | None = None
    in_lexicon: bool = True
    unitless: bool = False
    own: bool = True  # False: inferred (age from 'years') or from the parent bullet; no span here
    default_unit: str | None = None  # the lexicon's usual unit, to reject impossible pairings


@dataclass
class Quantity:
    value: float
    start: int  # start of the number
    end: int  # end of the number and its unit
    unit: str | None = None
    unit_text: str | None = None


@dataclass
class Expression:
    """One or two bounds read from the text, with the span from comparator to unit."""

    start: int
    end: int
    bounds: list[tuple[str, Quantity]]
    kind: str = "single"  # single | range | list | bare
    analytes: list[Mention] = field(default_factory=list)
    pinned: bool = False  # analytes fixed by the pattern itself (blood pressure pairs)
    anchor_end: int = -1  # end of the last analyte mention before the expression


@dataclass(frozen=True)
class RuleDraft:
    analyte: Mention
    comparator: str
    value: float
    unit: str | None
    unit_text: str | None
    start: int
    end: int


# --- step 1: quantities -------------------------------------------------------------------------

_NUMBER = re.compile(
    r"(?<![\w./^*#\u00b7])(?<![A-Za-z]-)"
    r"(?:\d{1,3}(?:,\d{3})+(?![\d.])|\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?=\s*(?:/|cells|per\b))"
    r"|\d+(?:\.\d+)?|\.\d+)"
)
_ORDINAL_OR_NAME = re.compile(r"(?:st|nd|rd|th)\b|[A-Za-z]+\d|[A-Za-z]+[-_][A-Za-z]*\d|-[A-Za-z]{2,}|\.\d|:\d|/\d")
_TIME_UNITS = frozenset({"a", "mo", "wk", "d", "h", "min"})
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_POWER_OF_TEN = re.compile(
    r"\s*(?:[xX×*·]|times)?\s*10\s*(?:\^|\*\*|\*|[eE]|exp)?\s*\(?([0-9]{1,2}|[⁰¹²³⁴⁵⁶⁷⁸⁹]{1,2})\)?"
    r"(?:\s*(?:cells|cell))?\s*(?:/|per\s+)\s*"
    r"(L|l|litre|liter|µL|uL|μL|ul|µl|μl|mcL|microliter|mm3|mm\^3|mm³|cumm|cu\s*mm)(?![A-Za-z0-9])"
)
_LIMIT_OF_NORMAL = re.compile(
    r"\s*(?P<times>[xX×*]|times|-?fold)?\s*(?:the\s+)?"
    r"(?:(?:institutional|institution'?s|local|site|laboratory|lab|reference)\s+)?"
    r"(?:(?P<upper>upper\s+limits?\s+of\s+(?:the\s+)?normal(?:\s+range)?(?:\s*\(\s*I?ULN\s*\))?"
    r"|upper\s+normal\s+limits?|I?ULN|ULN|UNL)"
    r"|(?P<lower>lower\s+limits?\s+of\s+(?:the\s+)?normal(?:\s+range)?(?:\s*\(\s*LLN\s*\))?"
    r"|lower\s+normal\s+limits?|LLN)"
    r"|(?P<normal>normal(?:\s+(?:values?|limits?|range))?))(?![A-Za-z])",
    re.IGNORECASE,
)
_COUNT_UNIT = {"l": "L", "litre": "L", "liter": "L", "mm3": "mm3", "mm^3": "mm3", "mm³": "mm3",
               "cumm": "mm3", "cu mm": "mm3", "cumm3": "mm3"}
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}
_STAGED = re.compile(
    r"\b(?P<word>(?i:stage|stages|class|classes|grade|grades))\s*[:=]?\s*"
    r"(?P<cmp>≥|≤|>=|<=|>|<)?\s*"
    r"(?P<a>IV|V|I{1,3})(?:[A-Ca-c]\d?)?(?![A-Za-z0-9])"
    r"(?:\s*(?P<sep>-|–|—|(?i:to|through|or|and)|/|,)\s*(?:(?i:stage|class)\s+)?(?P<b>IV|V|I{1,3})(?:[A-Ca-c]\d?)?(?![A-Za-z0-9]))?"
)


_ID_CHAIN = re.compile(r"\d+(?:-\d+){2,}|\b0\d{2,}\b|\b\d{4}-\d{4,}")  # phone numbers, dates, EudraCT ids
_DECIMAL_COMMA = re.compile(r",(\d{1,2})(?!\d)")  # '1,5 x 10^9/l' (European decimal comma)
_POWER_VALUE = re.compile(r"\s*(?:\^|\*\*|\*)\s*\(?(\d{1,2})\)?|([⁰¹²³⁴⁵⁶⁷⁸⁹]{1,2})")  # '10^5 IU/mL'
_COUNT_PER_VOLUME = re.compile(
    r"\s*(?:[A-Za-z]+\s+)?[A-Za-z]+\s*/\s*(µL|μL|uL|ul|mcL|mm3|mm³|mm\^3)(?![A-Za-z0-9])"
)  # 'parasites/µL', 'blasts/mm3'
_PER_VOLUME_CODE = {"mm3": "/mm3", "mm³": "/mm3", "mm^3": "/mm3"}
_NEGATIVE_SIGN = re.compile(r"(?:^|(?<=[\s(:=<>≤≥]))[-−]$")


def find_quantities(text: str, vocab: Vocabulary) -> list[Quantity]:
    """Every number in `text` that can be a threshold value, with its unit."""
    found: list[Quantity] = []
    identifiers = [m.span() for m in _ID_CHAIN.finditer(text)]
    last_end = 0
    for m in _NUMBER.finditer(text):
        start, end = m.span()
        if start < last_end or any(s <= start < e for s, e in identifiers):
            continue  # inside the previous quantity ('x 10^9/L') or an identifier
        literal = m.group(0)
        decimal = _DECIMAL_COMMA.match(text, end) if literal.isdigit() else None
        if decimal is not None and (
            _POWER_OF_TEN.match(text, decimal.end()) or vocab.match_unit(text, decimal.end())
        ):
            literal, end = f"{literal}.{decimal.group(1)}", decimal.end()
        rest = text[end : end + 12]
        power = _POWER_OF_TEN.match(text, end)
        unit = vocab.match_unit(text, end + 1 if rest.startswith("-") else end)  # '18-year-old'
        if rest.startswith("-") and (unit is None or unit[0] not in _TIME_UNITS):
            unit = None if _ORDINAL_OR_NAME.match(rest) else vocab.match_unit(text, end)
        value = float(literal.replace(",", "").replace(" ", "").replace("\u00a0", "").replace("\u202f", ""))
        exponent = _POWER_VALUE.match(text, end) if literal == "10" and power is None else None
        if exponent is not None:  # the number is itself a power of ten
            value = float(10 ** int((exponent.group(1) or exponent.group(2)).translate(_SUPERSCRIPT)))
            end = exponent.end()
            unit = vocab.match_unit(text, end)
        elif power is None and unit is None and _ORDINAL_OR_NAME.match(rest):
            continue  # '2nd', '5-FU', 'A1c'-like glue: part of a name, not a value
        if _NEGATIVE_SIGN.search(text, max(0, start - 2), start):
            value, start = -value, start - 1  # 'T-score ≤ -2.5'
        q = Quantity(value=value, start=start, end=end)
        if power is not None:
            exponent_text = power.group(1).translate(_SUPERSCRIPT)
            per = power.group(2)
            per_code = _COUNT_UNIT.get(per.lower().replace(" ", ""), "uL")
            q.unit = f"10*{int(exponent_text)}/{per_code}"
            q.unit_text = text[end : power.end()].strip()
            q.end = power.end()
        elif (limit := _LIMIT_OF_NORMAL.match(text, end)) is not None and (
            limit.group("upper") or limit.group("lower") or limit.group("times")
        ):
            q.unit = "x LLN" if limit.group("lower") else "x ULN"
            q.unit_text = limit.group(0).strip()
            q.end = limit.end()
        elif unit is not None:
            q.unit, q.unit_text, _, q.end = unit
        elif (count := _COUNT_PER_VOLUME.match(text, end)) is not None:
            q.unit = _PER_VOLUME_CODE.get(count.group(1), "/uL")
            q.unit_text, q.end = count.group(0).strip(), count.end()
        found.append(q)
        last_end = q.end
    return found


def find_staged(text: str) -> list[Expression]:
    """Roman-numeral stages, classes and grades (`Stage III-IV`, `NYHA class III or IV`)."""
    out = []
    for m in _STAGED.finditer(text):
        a = _ROMAN[m.group("a")]
        a_start = m.start("a")
        qa = Quantity(value=float(a), start=a_start, end=m.end("a"))
        if m.group("b"):
            b = _ROMAN[m.group("b")]
            qb = Quantity(value=float(b), start=m.start("b"), end=m.end("b"))
            lo, hi = (qa, qb) if a <= b else (qb, qa)
            out.append(Expression(m.start("a"), m.end(), [(">=", lo), ("<=", hi)], kind="range"))
        elif m.group("cmp"):
            cmp = {"≥": ">=", "≤": "<="}.get(m.group("cmp"), m.group("cmp"))
            out.append(Expression(m.start("cmp"), m.end("a"), [(cmp, qa)], kind="single"))
        else:
            out.append(Expression(a_start, m.end("a"), [("=", qa)], kind="bare"))
    return out


_LIMIT_WORD = re.compile(
    r"(?<![A-Za-z])(?:(?P<upper>I?ULN|upper\s+limits?\s+of\s+(?:the\s+)?normal(?:\s*\(\s*I?ULN\s*\))?)"
    r"|(?P<lower>LLN|lower\s+limits?\s+of\s+(?:the\s+)?normal(?:\s*\(\s*LLN\s*\))?))(?![A-Za-z])",
    re.IGNORECASE,
)
_LIMIT_LEAD = re.compile(r"(?:the\s+|institutional\s+|local\s+|site\s+|laboratory\s+)*$", re.IGNORECASE)


class ComparatorsBefore:
    """Comparator phrases of one text, found once, looked up by the position they stand before."""

    def __init__(self, text: str, vocab: Vocabulary) -> None:
        self.text = text
        self._ending = vocab.comparators_ending(text)

    def at(self, pos: int) -> tuple[str, int] | None:
        """(comparator, start) of a phrase ending at `pos`, white space aside."""
        while pos > 0 and self.text[pos - 1].isspace():
            pos -= 1
        return self._ending.get(pos)


def find_bare_limits(text: str, quantities: list[Quantity], cmps: ComparatorsBefore) -> list[Expression]:
    """`≤ ULN`, `above the lower limit of normal`: a limit with a comparator and no number (1 x)."""
    out = []
    for m in _LIMIT_WORD.finditer(text):
        if any(q.start <= m.start() < q.end for q in quantities):
            continue
        lead = _LIMIT_LEAD.search(text, max(0, m.start() - 60), m.start())
        found = cmps.at(lead.start() if lead else m.start())
        if found is None:
            continue
        comparator, start = found
        unit = "x LLN" if m.group("lower") else "x ULN"
        q = Quantity(1.0, m.start(), m.end(), unit, m.group(0))
        out.append(Expression(start, m.end(), [(comparator, q)], kind="single"))
    return out


def prepare_mentions(text: str, mentions: list[Mention]) -> list[Mention]:
    """Drop matches glued inside a word ('SLEDAI-2K' is not potassium) or negated ('non-HDL');
    a qualifying word before a match makes it another analyte ('sweat chloride', 'donor age')."""
    out = []
    for m in mentions:
        if m.own and (
            (m.start > 0 and text[m.start - 1].isalnum()) or (m.end < len(text) and text[m.end].isalnum())
        ):
            continue
        if _NEGATED_PREFIX.search(text, max(0, m.start - 4), m.start):
            continue
        qualifier = _QUALIFIER.search(text, max(0, m.start - 40), m.start)
        if qualifier is not None:
            phrase = text[qualifier.start() : m.end]
            m = Mention(qualifier.start(), m.end, phrase, " ".join(phrase.lower().split()), in_lexicon=False)
        out.append(m)
    return out


_QUALIFIER = re.compile(
    r"\b(?:sweat|donor|recipient|urine|urinary|csf|cerebrospinal\s+fluid|fecal|faecal|stool|saliva|"
    r"salivary|sputum|maternal|paternal|partner|sibling|(?:percent\s+|%\s*)?change\s+in|"
    r"increase\s+in|decrease\s+in|reduction\s+in)\s+$",
    re.IGNORECASE,
)
_NEGATED_PREFIX = re.compile(r"\bnon[-\s]?$", re.IGNORECASE)  # 'non-HDL cholesterol' is not HDL
_BLOOD_PRESSURE = re.compile(
    r"(?<![\d.])(?P<sys>\d{2,3})\s*/\s*(?P<dia>\d{2,3})\s*(?P<unit>mm\s*Hg|mmHg)(?![A-Za-z])", re.IGNORECASE
)


def find_blood_pressure(
    text: str, vocab: Vocabulary, cmps: ComparatorsBefore, known: dict[str, Mention]
) -> list[Expression]:
    """`BP ≤ 140/90 mmHg` -> systolic ≤ 140 and diastolic ≤ 90 (pinned analytes)."""
    systolic, diastolic = known.get("systolic blood pressure"), known.get("diastolic blood pressure")
    out: list[Expression] = []
    if systolic is None or diastolic is None:
        return out
    for m in _BLOOD_PRESSURE.finditer(text):
        found = cmps.at(m.start())
        after = vocab.after_re.match(text, m.end())
        if found is not None:
            (comparator, start), end = found, m.end()
        elif after is not None:
            comparator, start, end = vocab.comparator_after(after.group("cmp")), m.start(), after.end()
        else:
            continue
        unit_text = m.group("unit")
        for name, analyte in (("sys", systolic), ("dia", diastolic)):
            q = Quantity(float(m.group(name)), m.start(name), m.end(), "mm[Hg]", unit_text)
            out.append(Expression(start, end, [(comparator, q)], analytes=[analyte], pinned=True))
    return out


# --- step 2: expressions ------------------------------------------------------------------------

_RANGE_JOIN = re.compile(r"\s*(?:-|–|—|‐|to|through|thru|until)\s*$", re.IGNORECASE)
_AND_JOIN = re.compile(r"\s*(?:and|&)\s*$", re.IGNORECASE)
_RANGE_OPENER = re.compile(
    r"(?:(?<![A-Za-z])(?:between|from|ranging\s+from|range\s+of|range|within\s+the\s+range\s+of|in\s+the\s+range\s+of))\s*(?:of\s+)?$",
    re.IGNORECASE,
)
_LIST_JOIN = re.compile(r"\s*(?:,\s*(?:or|and)?|or|and|/)\s*$", re.IGNORECASE)
_AFTER_AGE = re.compile(r"(?:\s*-?\s*old|\s+of\s+age|\s+in\s+age|\s+of\s+life)(?![A-Za-z])", re.IGNORECASE)


_ASIDE = re.compile(r"\s*\([^()]{1,40}\)")


def build_expressions(
    text: str, quantities: list[Quantity], vocab: Vocabulary, cmps: ComparatorsBefore
) -> list[Expression]:
    """Group quantities into ranges, lists and single comparisons."""
    exprs: list[Expression] = []
    i = 0
    while i < len(quantities):
        q = quantities[i]
        nxt = quantities[i + 1] if i + 1 < len(quantities) else None
        cmp_match = cmps.at(q.start)
        if nxt is not None and cmp_match is None and _compatible(q, nxt):
            gap = text[q.end : nxt.start]
            opener = _RANGE_OPENER.search(text, max(0, q.start - 40), q.start)
            nxt_cmp = cmps.at(nxt.start)
            upper = "<="
            if nxt_cmp is not None:  # '6 months to < 18 years': the upper bound brings its own comparator
                upper, nxt_cmp_start = nxt_cmp
                gap = text[q.end : max(q.end, nxt_cmp_start)]
            if upper in ("<", "<=") and (_RANGE_JOIN.match(gap) or (opener and _AND_JOIN.match(gap))):
                start = opener.start() if opener else q.start
                lo, hi = _inherit_unit(q, nxt)
                exprs.append(Expression(start, nxt.end, [(">=", lo), (upper, hi)], kind="range"))
                i += 2
                continue
        if cmp_match is not None:
            comparator, start = cmp_match
            exprs.append(Expression(start, q.end, [(comparator, q)], kind="single"))
            i += 1
            continue
        after_pos = q.end
        aside = _ASIDE.match(text, after_pos)  # '4 (moderately ill) or higher'
        if aside is not None and vocab.after_re.match(text, aside.end()):
            after_pos = aside.end()
        age_tail = _AFTER_AGE.match(text, after_pos)
        after = vocab.after_re.match(text, age_tail.end() if age_tail else after_pos)
        if after is not None:
            comparator = vocab.comparator_after(after.group("cmp"))
            exprs.append(Expression(q.start, after.end(), [(comparator, q)], kind="single"))
            i += 1
            continue
        # A run of bare unitless numbers joined by ',', 'or', 'and' ('ECOG 0, 1 or 2').
        run = [q]
        j = i + 1
        while (
            j < len(quantities)
            and quantities[j].unit is None
            and run[-1].unit is None
            and _LIST_JOIN.match(text[run[-1].end : quantities[j].start])
            and cmps.at(quantities[j].start) is None
        ):
            run.append(quantities[j])
            j += 1
        if len(run) > 1:
            lo = min(run, key=lambda x: x.value)
            hi = max(run, key=lambda x: x.value)
            exprs.append(Expression(q.start, run[-1].end, [(">=", lo), ("<=", hi)], kind="list"))
            i = j
            continue
        exprs.append(Expression(q.start, q.end, [("=", q)], kind="bare"))
        i += 1
    _share_units(text, exprs)
    return exprs


def _compatible(a: Quantity, b: Quantity) -> bool:
    """Bounds of one range: same unit, one unit missing, or two durations ('6 weeks to 6 months')."""
    return (a.unit is None or b.unit is None or a.unit == b.unit
            or (a.unit in _TIME_UNITS and b.unit in _TIME_UNITS))


def _inherit_unit(lo: Quantity, hi: Quantity) -> tuple[Quantity, Quantity]:
    if lo.unit is None and hi.unit is not None:
        lo = Quantity(lo.value, lo.start, lo.end, hi.unit, hi.unit_text)
    elif hi.unit is None and lo.unit is not None:
        hi = Quantity(hi.value, hi.start, hi.end, lo.unit, lo.unit_text)
    return lo, hi


def _share_units(text: str, exprs: list[Expression]) -> None:
    """`≥ 18 and ≤ 65 years`: a unitless bound takes the unit of the bound it is paired with."""
    for left, right in pairwise(exprs):
        if left.kind != "single" or right.kind != "single":
            continue
        (_, lq), (_, rq) = left.bounds[0], right.bounds[0]
        if lq.unit is None and rq.unit is not None and re.fullmatch(
            r"\s*(?:,|and|but|to|or)?\s*", text[left.end : right.start], re.IGNORECASE
        ):
            left.bounds = [(left.bounds[0][0], Quantity(lq.value, lq.start, lq.end, rq.unit, rq.unit_text))]


# --- step 3: analytes ---------------------------------------------------------------------------

_GROUP_GAP = re.compile(
    r"[\s/,&()\[\]\-–]*(?:(?:and/or|and|or|&|nor|as\s+well\s+as)[\s/,&()\[\]\-–]*)?", re.IGNORECASE
)
_RIGHT_GAP = re.compile(r"\s*(?:(?:of|in|for|as)\s+)?(?:the\s+)?$", re.IGNORECASE)
_STOPWORDS = frozenset(
    ["a", "an", "the", "and", "or", "of", "for", "with", "to", "in", "on", "at", "by", "as", "is", "are", "be", "been", "being", "must", "should", "shall", "will", "may", "can", "has", "have", "having", "had", "who", "which", "that", "this", "these", "those", "their", "his", "her", "its", "any", "all", "no", "not", "patient", "patients", "subject", "subjects", "participant", "participants", "person", "people", "adult", "adults", "male", "males", "female", "females", "men", "women", "man", "woman", "child", "children", "individuals", "aged", "value", "values", "level", "levels", "if", "if:", "e.g.", "i.e.", "eg", "ie", "than", "then", "also", "either", "both", "only", "including", "include", "includes", "defined", "define", "following", "function", "adequate", "serum", "plasma", "blood", "total", "count", "counts", "result", "results", "laboratory", "lab", "test", "tests", "measured", "measurement", "score", "status", "documented", "known"]
)
_PUNCT_CUT = re.compile(r"[;:.\[]")
_WORD_CUT = re.compile(
    r"\b(?:must|should|shall|will|have|has|had|having|with|who|is|are|be|been|was|were|received|"
    r"receiving|undergone|if|when|where|defined\s+as|as\s+follows|including|e\.g\.|i\.e\.|and|or|but|"
    r"on|despite|after|before|during|without|per|by)\b",
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
    r"(?:\s+(?:of|is|are|was|be|must|should|at|to|in|a|an|the|by|per|on|as|for|with|=|:))+\s*$",
    re.IGNORECASE,
)
_LEADING_FILLER = re.compile(
    r"^(?:\s*(?:at\s+least|at\s+most|no\s+more\s+than|one|two|three|four|five|a|an|the|any|all|patients?|subjects?|participants?|with|has|have|having|must|"
    r"should|documented|known|serum|plasma|blood|of|adequate)\b|\s*\W)+\s*",
    re.IGNORECASE,
)


_WORD = re.compile(r"[A-Za-z][A-Za-z0-9'\-]*")


def _content_words(segment: str) -> list[str]:
    words = _WORD.findall(segment)
    return [w for w in words if w.lower() not in _STOPWORDS and len(w) > 1]


def _compatible_analyte(mention: Mention, unit: str | None) -> bool:
    """Durations go with time-valued analytes (age), measurements with the others."""
    if unit is None or (unit in ("x ULN", "x LLN") and mention.default_unit in _TIME_UNITS):
        return unit is None
    if unit in _TIME_UNITS:
        return mention.default_unit is None or mention.default_unit in _TIME_UNITS
    return mention.default_unit not in _TIME_UNITS


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
    m = re.match(r"\s*(?:of\s+|in\s+|on\s+)?(?:the\s+)?([A-Za-z][A-Za-z0-9'\- ]{1,60}?)(?=\s*(?:[,;.()]|$|\band\b|\bor\b|\bwithin\b|\bprior\b|\bbefore\b|\bafter\b|\bat\b|\bfor\b|\bsince\b|\bfrom\b|\bper\b|\bby\b|\bon\b|\bas\b))", text[pos:])
    if not m or not _content_words(m.group(1)):
        return None
    words = m.group(1).split()[:6]
    phrase = " ".join(words)
    start = pos + m.start(1)
    return Mention(start, start + len(phrase), text[start : start + len(phrase)], phrase.lower(), in_lexicon=False)


def _unit_kind(unit: str | None) -> str:
    """Durations never share an analyte with measurements ('Karnofsky ≥ 50 for patients > 16 years')."""
    return "time" if unit in _TIME_UNITS else "other"


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
        segment_words = _content_words(segment)
        if (not group and _is_condition(segment, unit, previous_kind if previous else None)) or (
            expr.kind == "range" and (_SCALE_DESCRIPTOR.match(text, expr.end) or _ON_A_SCALE.search(segment))
        ):
            # 'Karnofsky ≥ 50 for patients > 16 years' (which rule applies) and 'pain ≥ 4 on a
            # 0-10 scale' (the scale) are not thresholds; their words are no analyte either.
            expr.analytes = []
            previous_end = expr.end
            continue
        compatible_previous = previous if previous and previous_kind == _unit_kind(unit) else []
        if not group and compatible_previous and (
            not segment_words or _ENDS_WITH_CONNECTOR.search(segment) or _opens_aside(segment)
        ):
            group = compatible_previous  # '≥ 18 and ≤ 65 years', '... (< 3 × ULN for Gilbert's)'
        if not group and unit is None and expr.kind == "single" and _derived(text, lo, expr.start) is None:
            counted = _derived_after(text, expr.end)
            if counted is not None and counted.start - expr.end <= 1:
                group = [counted]  # 'at least 2 prior chemotherapy regimens': a count of things
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
        if not group and unit in _TIME_UNITS and age is not None:
            tail = text[expr.end : expr.end + 12]
            if (unit == "a" and not segment_words) or _AFTER_AGE.match(tail) or _AGE_TAIL.match(tail) \
                    or _AGE_WORDS.search(segment):
                group = [age]
        if not group and abbreviations is not None:
            derived = _derived(text, lo, expr.start)
            if derived is not None and derived.text in abbreviations:
                long_form = abbreviations[derived.text]
                group = [replace(long_form, start=derived.start, end=derived.end, text=derived.text)]
        if not group and context:
            group = context
        if not group:
            derived = _derived(text, lo, expr.start)
            if derived is None and compatible_previous and _last_unclosed_paren(segment) >= 0:
                group = compatible_previous  # 'bilirubin < 1.5 x ULN, except ... (< 3 x ULN)'
            else:
                derived = derived or _derived_after(text, expr.end)
                group = [derived] if derived is not None else []
        expr.analytes = _unique(group)
        if expr.kind in ("bare", "list") and not _is_threshold(text, expr):
            expr.analytes = []
            continue
        previous = expr.analytes
        previous_end = consumed_to
        previous_kind = _unit_kind(unit)


_CONDITION_LEAD = re.compile(
    r"\b(?:for|in|if|among)\s+(?:(?:those|patients|pts|subjects|participants|children|individuals|"
    r"adults|adolescents|men|women|males|females|infants)\s+)?(?:(?:aged|who\s+are|of\s+age|age)\s+)?$",
    re.IGNORECASE,
)
_SCALE_DESCRIPTOR = re.compile(r"\s*(?:-?\s*points?\s+)?(?:scale|NRS|VAS|Likert|numeric\s+rating)\b", re.IGNORECASE)
_ON_A_SCALE = re.compile(r"\b(?:on\s+an?|using\s+an?)\s*\(?$|\(\s*$", re.IGNORECASE)


def _opens_aside(segment: str) -> bool:
    """The expression starts a parenthetical right after the previous one: '(≤ 3 × ULN ...)'."""
    return bool(re.fullmatch(r"[\s,;]*\(\s*(?:or\s+|and\s+)?", segment, re.IGNORECASE))


def _is_condition(segment: str, unit: str | None, previous_kind: str | None) -> bool:
    """An age that picks which limit applies ('for patients ≤ 16 years', '(1 to < 2 years)')."""
    if unit not in _TIME_UNITS or previous_kind != "other":
        return False
    return bool(_CONDITION_LEAD.search(segment)) or _opens_aside(segment)


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


_ENDS_WITH_CONNECTOR = re.compile(r"\b(?:or|and|but)\s*$", re.IGNORECASE)
_AGE_TAIL = re.compile(r"\s*(?:or|and)\s+(?:older|younger|over|above|under)", re.IGNORECASE)
_AGE_WORDS = re.compile(
    r"\b(?:aged?|old|older|younger|adults?|children|patients|subjects|participants|volunteers|"
    r"men|women|males?|females?|boys|girls|infants|adolescents)\b",
    re.IGNORECASE,
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
    quantities = find_quantities(text, vocab)
    staged = find_staged(text)
    if staged:
        covered = [(e.start, e.end) for e in staged]
        quantities = [q for q in quantities if not any(s <= q.start < e for s, e in covered)]
    cmps = ComparatorsBefore(text, vocab)
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
_MAY_HOLD_THRESHOLD = re.compile(r"\d|ULN|LLN|limit|normal|stage|class|grade", re.IGNORECASE)


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
