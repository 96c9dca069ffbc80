"""Steps 1 and 2 of extraction: numbers with their units, comparators, ranges and lists.

See `critparse.extract.analytes` for the whole algorithm. Everything here works on the text alone
(character offsets), with the vocabularies of `critparse.lexicon.vocabulary`.
"""

from __future__ import annotations

import re
from itertools import pairwise

from critparse.extract.mentions import TIME_UNITS, Expression, Mention, Quantity
from critparse.lexicon.vocabulary import Vocabulary

# --- step 1: quantities -------------------------------------------------------------------------

_NUMBER = re.compile(
    r"(?<![\w./^*#\u00b7])(?<![A-Za-z]-)"
    r"(?:\d{1,3}(?:,\d{3})+(?![\d.])|\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?=\s*(?:/|cells|per\b))"
    r"|\d+(?:\.\d+)?|\.\d+)"
)
_ORDINAL_OR_NAME = re.compile(r"(?:st|nd|rd|th)\b|[A-Z](?![A-Za-z])|[A-Za-z]+\d|[A-Za-z]+[-_][A-Za-z]*\d|-[A-Za-z]{2,}|\.\d|:\d|/\d")
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_POWER_OF_TEN = re.compile(
    r"\s*(?:[xX×*·]|times)?\s*10\s*(?:\^|\*\*|\*|[eE]|exp)?\s*\(?([0-9]{1,2}|[⁰¹²³⁴⁵⁶⁷⁸⁹]{1,2})\)?"
    r"(?:\s*(?:cells|cell))?\s*(?:/|per\s+)\s*"
    r"(L|l|litre|liter|µL|uL|μL|ul|µl|μl|mcL|microliter|mm3|mm\^3|mm³|cumm|cu\s*mm)(?![A-Za-z0-9])"
)
_LIMIT_OF_NORMAL = re.compile(
    r"\s*(?P<times>[xX×*]|times(?:\s+of)?|-?fold)?\s*(?:the\s+)?"
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
    r"\b(?P<word>(?i:stage|stages|class|classes|grade|grades|NYHA|ASA|physical\s+status))\s*[:=]?\s*"
    r"(?P<cmp>≥|≤|>=|<=|>|<)?\s*"
    r"(?P<a>IV|V|I{1,3})(?:[A-Ca-c]\d?)?(?![A-Za-z0-9])"
    r"(?:\s*(?P<sep>-|–|—|(?i:to|through|or|and)|/|,)\s*(?:(?i:stage|class)\s+)?(?P<b>IV|V|I{1,3})(?:[A-Ca-c]\d?)?(?![A-Za-z0-9]))?"
)


_ID_CHAIN = re.compile(r"\d+(?:-\d+){2,}|\b0\d{2,}\b|\b\d{4}-\d{4,}")  # phone numbers, dates, EudraCT ids
_DECIMAL_COMMA = re.compile(r",(\d{1,2})(?!\d)")  # '1,5 x 10^9/l' (European decimal comma)
_DECIMAL_COMMA_RANGE = re.compile(r"\s*(?:-|–|to|and)\s*\d+,\d{1,2}(?!\d)")  # 'between 7,0 and 10,0 %'
_POWER_VALUE = re.compile(r"\s*(?:\^|\*\*|\*)\s*\(?(\d{1,2})\)?|([⁰¹²³⁴⁵⁶⁷⁸⁹]{1,2})")  # '10^5 IU/mL'
_COUNT_PER_VOLUME = re.compile(
    r"\s*(?:[A-Za-z]+\s+)?[A-Za-z]+\s*/\s*(µL|μL|uL|ul|mcL|mm3|mm³|mm\^3)(?![A-Za-z0-9])"
)  # 'parasites/µL', 'blasts/mm3'
_PER_VOLUME_CODE = {"mm3": "/mm3", "mm³": "/mm3", "mm^3": "/mm3"}
_DOT_THOUSANDS = re.compile(r"\d{1,3}(?:\.\d{3})+(?=\s*(?:/\s*(?:mm|µ|μ|u|mc)|cells\b))")  # '1.500/mm3'
_TIMES_POWER = re.compile(r"\s*[xX×*]\s*10\s*(?:\^|\*\*|\*|[eE])\s*\(?(\d{1,2}|[⁰¹²³⁴⁵⁶⁷⁸⁹]{1,2})\)?")  # '1 x 10^4 IU/mL'
_PERCENTILE = re.compile(r"(?:st|nd|rd|th)\s+(?:percentile|centile)\b", re.IGNORECASE)
_DURATION_ADJECTIVE = re.compile(r"\s+(?:consecutive|continuous|complete|full|calendar|successive)", re.IGNORECASE)
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
        thousands = _DOT_THOUSANDS.match(text, start)
        if thousands is not None and thousands.end() >= end:
            literal, end = thousands.group(0).replace(".", ""), thousands.end()
        decimal = _DECIMAL_COMMA.match(text, end) if literal.isdigit() else None
        if decimal is not None and (
            _POWER_OF_TEN.match(text, decimal.end())
            or vocab.match_unit(text, decimal.end())
            or _DECIMAL_COMMA_RANGE.match(text, decimal.end())
            or ((limit := _LIMIT_OF_NORMAL.match(text, decimal.end())) is not None and limit.group("times"))
        ):
            literal, end = f"{literal}.{decimal.group(1)}", decimal.end()
        rest = text[end : end + 12]
        power = _POWER_OF_TEN.match(text, end)
        unit = vocab.match_unit(text, end + 1 if rest.startswith("-") else end)  # '18-year-old'
        if rest.startswith("-") and (unit is None or unit[0] not in TIME_UNITS):
            unit = None if _ORDINAL_OR_NAME.match(rest) else vocab.match_unit(text, end)
        value = float(literal.replace(",", "").replace(" ", "").replace("\u00a0", "").replace("\u202f", ""))
        exponent = _POWER_VALUE.match(text, end) if literal == "10" and power is None else None
        if exponent is not None:  # the number is itself a power of ten
            value = float(10 ** int((exponent.group(1) or exponent.group(2)).translate(_SUPERSCRIPT)))
            end = exponent.end()
            unit = vocab.match_unit(text, end)
        elif power is None and (scaled := _TIMES_POWER.match(text, end)) is not None and (
            scaled_unit := vocab.match_unit(text, scaled.end())
        ) is not None:  # a power of ten on a value that is not a cell count
            value *= 10 ** int(scaled.group(1).translate(_SUPERSCRIPT))
            end, unit = scaled.end(), scaled_unit
        elif (percentile := _PERCENTILE.match(text, end)) is not None:
            end = percentile.end()  # '≥ 5th percentile': the value is the percentile
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
        elif (adjective := _DURATION_ADJECTIVE.match(text, end)) is not None and (
            timed := vocab.match_unit(text, adjective.end())
        ) is not None and timed[0] in TIME_UNITS:  # '12 consecutive months'
            q.unit, q.unit_text, q.end = timed[0], text[end : timed[3]].strip(), timed[3]
        elif (count := _COUNT_PER_VOLUME.match(text, end)) is not None:
            q.unit = _PER_VOLUME_CODE.get(count.group(1), "/uL")
            q.unit_text, q.end = count.group(0).strip(), count.end()
        found.append(q)
        last_end = q.end
    return found


_NUMBER_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
                 "nine": 9, "ten": 10, "eleven": 11, "twelve": 12}
_NUMBER_WORD = re.compile(r"\b(" + "|".join(_NUMBER_WORDS) + r")\b", re.IGNORECASE)


def find_number_words(text: str, vocab: Vocabulary, cmps: ComparatorsBefore) -> list[Quantity]:
    """Counts spelled out with a comparator ('more than two lines', 'three or more cycles').

    'one' is left out: 'at least one lesion' says that a thing exists, not how many.
    """
    out = []
    for m in _NUMBER_WORD.finditer(text):
        if cmps.at(m.start()) is None and vocab.after_re.match(text, m.end()) is None:
            continue
        q = Quantity(float(_NUMBER_WORDS[m.group(1).lower()]), m.start(), m.end())
        unit = vocab.match_unit(text, m.end())
        if unit is not None:
            q.unit, q.unit_text, _, q.end = unit
        out.append(q)
    return out


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
    return _merge_staged(text, out)


_STAGED_JOIN = re.compile(r"\s*(?:,|or|and|/)\s*(?:stage\s+|class\s+)?$", re.IGNORECASE)


def _merge_staged(text: str, exprs: list[Expression]) -> list[Expression]:
    """'Stage IIIB/IIIC or Stage IV': joined alternatives become one span, lowest to highest."""
    merged: list[Expression] = []
    for expr in exprs:
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.kind in ("range", "bare", "list")
            and expr.kind in ("range", "bare")
            and _STAGED_JOIN.match(text[last.end : expr.start])
        ):
            quantities = [q for _, q in last.bounds + expr.bounds]
            lo = min(quantities, key=lambda q: q.value)
            hi = max(quantities, key=lambda q: q.value)
            merged[-1] = Expression(last.start, expr.end, [(">=", lo), ("<=", hi)], kind="list")
        else:
            merged.append(expr)
    return merged


_LIMIT_WORD = re.compile(
    r"(?<![A-Za-z])(?:(?P<upper>I?ULN|upper\s+limits?\s+of\s+(?:the\s+)?normal(?:\s*\(\s*I?ULN\s*\))?)"
    r"|(?P<lower>LLN|lower\s+limits?\s+of\s+(?:the\s+)?normal(?:\s*\(\s*LLN\s*\))?))(?![A-Za-z])",
    re.IGNORECASE,
)
_LIMIT_LEAD = re.compile(r"(?:the\s+|institutional\s+|local\s+|site\s+|laboratory\s+)*$", re.IGNORECASE)


_SCALE_WORD = re.compile(r"(?<![A-Za-z])(?:CTCAE\s+)?(?:grade|class|stage|level)\s*$", re.IGNORECASE)


class ComparatorsBefore:
    """Comparator phrases of one text, found once, looked up by the position they stand before."""

    def __init__(self, text: str, vocab: Vocabulary) -> None:
        self.text = text
        self._ending = vocab.comparators_ending(text)

    def at(self, pos: int) -> tuple[str, int] | None:
        """(comparator, start) of a phrase ending at `pos`, white space and a scale word aside
        ('≤ grade 1', '>= CTCAE grade 3')."""
        while pos > 0 and self.text[pos - 1].isspace():
            pos -= 1
        found = self._ending.get(pos)
        if found is None and (word := _SCALE_WORD.search(self.text, max(0, pos - 20), pos)) is not None:
            return self.at(word.start()) if word.start() < pos else None
        return found


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

_RANGE_JOIN = re.compile(r"\s*(?:-|–|—|‐|~|to|through|thru|until)\s*$", re.IGNORECASE)
_AND_JOIN = re.compile(r"\s*(?:and|&)\s*$", re.IGNORECASE)
_RANGE_OPENER = re.compile(
    r"(?:(?<![A-Za-z])(?:between|from|ranging\s+from|range\s+of|range|within\s+the\s+range\s+of|in\s+the\s+range\s+of))\s*(?:of\s+)?$",
    re.IGNORECASE,
)
_LIST_JOIN = re.compile(r"\s*(?:,\s*(?:or|and)?|or|and|/)\s*$", re.IGNORECASE)
AFTER_AGE = re.compile(r"(?:\s*-?\s*old|\s+of\s+age|\s+in\s+age|\s+of\s+life)(?![A-Za-z])", re.IGNORECASE)


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
        age_tail = AFTER_AGE.match(text, after_pos)
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
            or (a.unit in TIME_UNITS and b.unit in TIME_UNITS))


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


