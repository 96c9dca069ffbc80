"""Step 1 of extraction: numbers with what follows them (a unit, a power of ten, a limit of normal).

See `critparse.extract.rules` for the whole algorithm. Everything here works on the text alone
(character offsets), with the vocabularies of `critparse.lexicon.vocabulary`; the word lists
(limit-of-normal aliases, number words, count units) come from `words.json` and `units.json`.
"""

from __future__ import annotations

import re
from bisect import bisect_right

from critparse.extract.mentions import TIME_UNITS, Expression, Mention, Quantity
from critparse.extract.numbers import (
    ORDINAL_OR_NAME,
    SUPERSCRIPT,
    Number,
    iter_numbers,
    negative_sign_before,
    plus_sign_before,
)
from critparse.lexicon.phrases import (
    FoldedPattern,
    alternation,
    first_characters,
    folded,
    last_characters,
    phrase_pattern,
)
from critparse.lexicon.vocabulary import Vocabulary

MAX_QUANTITIES = 40
"""Numbers read per bullet, and so many of each other kind (spelled counts, stages, bare limits,
blood pressure pairs). The gold bullets and 6,150 registry bullets have at most 23 (a flattened
table of limits by age); past 40 a text is a table dump or noise, and reading on would only cost
time (each number costs up to 0.1 ms with the analytes it looks back over), so a bullet under
2,000 characters stays within its time bound. The parse says where reading stopped
(`thresholds_truncated`)."""

Unit = tuple[str, str, int, int]
"""(code, surface, start, end) of a unit read by `Vocabulary.match_unit` (grammar and units.json)."""

_GLUED_BOUND = re.compile(r"-(\d{1,3}(?:\.\d+)?)(?![\d.,])")
# Possessive spaces (`*+`, `++`) before what cannot start with a space: a long run of spaces costs
# one pass, not one per space (see `critparse.extract.expressions`).
_RESTATED = re.compile(r"\s*+\(\s*+(\d{1,3})\s*+\)")  # 'eighteen (18)'
_TIMES_SIGN = re.compile(r"^(?:[xX×*·.]|times)\s*")
_LIST_GOES_ON = re.compile(r"\s*+(?:,|or|and|to|-|–)\s*+\d", re.IGNORECASE)
_DECIMAL_COMMA_RANGE = re.compile(r"\s*+(?:-|–|to|and)\s*+\d+,\d{1,2}(?!\d)")  # 'between 7,0 and 10,0 %'
_RANGE_BEFORE = re.compile(r"\d[.,]\d+[ \t]*(?:-|–|(?i:to))[ \t]*$")  # 'EDSS of 2.0 to 6,5': the upper bound
# The whole exponent is read ('10^400' is 1e400, too large: dropped later as infinite, not 1e40).
_POWER_VALUE = re.compile(r"\s*+(?:\^|\*\*|\*)\s*+\(?(\d+)\)?|([⁰¹²³⁴⁵⁶⁷⁸⁹]+)")  # '10^5 IU/mL'
_TIMES_POWER = re.compile(r"\s*+[xX×*]\s*+10\s*+(?:\^|\*\*|\*|[eE])\s*+\(?(\d+|[⁰¹²³⁴⁵⁶⁷⁸⁹]+)\)?")  # '1 x 10^4 IU/mL'
_PERCENTILE = re.compile(r"(?:st|nd|rd|th)(?=\s+(?:percentile|centile)s?\b)", re.IGNORECASE)
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}
# `\b(?P<word>(?i:stage|stages|class|classes|grade|grades|NYHA|ASA|physical\s+status))`, its first
# letter (in either case; 'ſ' is an 's') in front so that `re` skips to those letters.
_STAGED = re.compile(
    r"(?P<word>[sScCgGnNaApP\u017f](?<!\w[sScCgGnNaApP\u017f])(?i:(?<=s)tage|(?<=s)tages|(?<=c)lass|"
    r"(?<=c)lasses|(?<=g)rade|(?<=g)rades|(?<=n)yha|(?<=a)sa|(?<=p)hysical\s+status))\s*[:=]?\s*(?:(?i:of)\s+)?"  # 'risk class of III to V'
    r"(?P<cmp>≥|≤|>=|<=|>|<)?\s*"
    r"(?P<a>IV|V|I{1,3})(?:[A-Ca-c]\d?)?(?![A-Za-z0-9])"
    r"(?:\s*(?P<sep>-|–|—|(?i:to|through|or|and)|/|,)\s*(?:(?i:stage|class)\s+)?(?P<b>IV|V|I{1,3})(?:[A-Ca-c]\d?)?(?![A-Za-z0-9]))?"
)


class QuantityPatterns:
    """The step-1 patterns that carry word lists, compiled once per vocabulary."""

    def __init__(self, vocab: Vocabulary) -> None:
        words = vocab.words
        lon = words.limit_of_normal
        upper, lower = phrase_pattern(lon.upper), phrase_pattern(lon.lower)
        if lon.upper_case_sensitive:  # French 'N' (norme): '≤ 2,5 N'
            upper += "|(?-i:" + "|".join(re.escape(w) for w in lon.upper_case_sensitive) + r")(?![0-9])"
        whose = phrase_pattern(lon.whose)
        self.limit_of_normal = re.compile(
            rf"\s*+(?:(?P<times>{phrase_pattern(lon.times)})\s*+)?(?:the\s++)?(?:(?:{whose})\s++)?"
            rf"(?:(?P<upper>{upper})|(?P<lower>{lower})|(?P<normal>{phrase_pattern(lon.normal)}))(?![A-Za-z])",
            re.IGNORECASE,
        )
        self.limit_word = re.compile(
            rf"(?<![A-Za-z])(?:(?P<upper>{upper})|(?P<lower>{lower}))(?![A-Za-z])", re.IGNORECASE
        )
        self.at_most_limit = re.compile(
            rf"(?<![A-Za-z])(?:{phrase_pattern(lon.at_most)})\s*+$", re.IGNORECASE
        ) if lon.at_most else None
        """Words just before a multiple of the upper limit that make it a maximum ('within 1.5 x ULN')."""
        self.limit_lead = re.compile(rf"(?:(?:the|{whose})\s+)*$", re.IGNORECASE)
        self.multiples = {w.lower(): v for w, v in lon.multiples.items()}
        self.multiple_before = re.compile(
            r"(?<![A-Za-z])(" + "|".join(map(re.escape, lon.multiples)) + r")\s+$", re.IGNORECASE
        ) if lon.multiples else None
        """A word that is the multiple of the limit after it ('above twice the ULN')."""
        self.limit_lead_last = last_characters(["the", *lon.whose])
        """What a word of `limit_lead` ends with: any other character before the spaces ahead of a
        limit makes the lead empty."""
        starts = first_characters([*lon.times, "the", *lon.whose, *lon.upper, *lon.lower, *lon.normal])
        self.limit_starts = None if starts is None else starts | {w[0] for w in lon.upper_case_sensitive}
        """What a multiple of a limit of normal starts with after the spaces (None: anything)."""
        # 'x 10^9/L', '10(9)/l', '10⁹ cells/L': the count unit after it is read from units.json
        self.power_of_ten = re.compile(
            r"\s*+(?:(?:[xX×*·.]|times)\s*+)?10\s*+(?:(?:\^|\*\*|\*|[eE]|exp|[xX])\s*+)?\(?([0-9]{1,2}|[⁰¹²³⁴⁵⁶⁷⁸⁹]{1,2})\)?"
            r"(?:\s*+(?:cells|cell))?(?=\s*(?:/|per\s))"
        )
        # '× 1,000,000,000/L': the power of ten written out, three zeros a group
        self.power_written = re.compile(
            r"\s*+[xX×*·]\s*+1((?:,000)+|(?:\.000)+|(?:[ \u00a0]000)+)(?:\s*+(?:cells|cell))?(?=\s*(?:/|per\s))"
        )
        self.after_power = frozenset(words.count_units.after_power)
        self.after_noun = frozenset(words.count_units.after_noun)
        # 'parasites/µL', 'mitoses per 50 HPF'
        self.counted_noun = re.compile(r"\s*+(?:[A-Za-z]+\s+)?[A-Za-z]+(?=\s*(?:/|per\s))", re.IGNORECASE)
        self.number_words = {w.lower(): v for w, v in words.number_words.items()}
        spelled = alternation(list(words.number_words))
        self.number_word = FoldedPattern(re.compile(r"\b(" + spelled + r")\b", re.IGNORECASE))
        # 'thirteen to nineteen years old': two spelled numbers joined as a range need no comparator
        self.number_word_range = re.compile(rf"\s*+(?:to|-|–|and)\s*+(?:{spelled})\b", re.IGNORECASE)
        self.number_word_range_end = re.compile(rf"\b(?:{spelled}|one)\s*(?:to|-|–|and)\s*$", re.IGNORECASE)
        # 'zero or one', 'zero, one or two': spelled scores listed (a scale before them makes them a set)
        self.number_word_list = re.compile(rf"(?:\s*+,\s*+|\s++or\s++)(?:{spelled}|one)\b", re.IGNORECASE)
        self.number_word_list_end = re.compile(rf"\b(?:{spelled}|one)(?:\s*,\s*|\s+or\s+)$", re.IGNORECASE)
        self.longest_number_word = max(len(w) for w in words.number_words)
        # 'more than one biologic', 'at least one prior regimen', 'at least one but no more than three'
        self.one = FoldedPattern(re.compile(r"\b(one)\b(?![-'’])", re.IGNORECASE))
        self.count_phrase = re.compile(  # 'prior lines of therapy', 'doses of vaccine': what a count counts
            rf"(?:(?:{phrase_pattern(words.count_modifiers)})\s+)*(?:{phrase_pattern(words.count_nouns)})(?![\w-])",
            re.IGNORECASE,
        )
        self.one_bounds_a_range = re.compile(
            rf"\s*+(?:but\s+|and\s+)?(?:(?:no|not)\s+more\s+than|up\s+to|to|-|–)\s*+(?:\d|(?:{spelled})\b)", re.IGNORECASE
        )
        # 'Aged 18+', 'adults 65+': a plus sign is a comparator only after words for people or ages
        self.age_context = re.compile(
            rf"\b(?:{phrase_pattern(words.age_words + words.people_words)})\b[^\d;]*$", re.IGNORECASE
        )
        self.comparator_gap = re.compile(rf"(?<![A-Za-z])(?:{phrase_pattern(words.comparator_gap)})\s*$", re.IGNORECASE)
        self.comparator_gap_last = last_characters(words.comparator_gap)
        self.duration_adjective = re.compile(
            rf"\s++(?:{phrase_pattern(words.duration_adjectives)})(?![A-Za-z])", re.IGNORECASE
        )
        self.adjective_starts = first_characters(words.duration_adjectives)

    def limit_at(self, text: str, pos: int) -> re.Match[str] | None:
        """`limit_of_normal.match(text, pos)`, after a look at the first character it would need."""
        if self.limit_starts is not None and _next_character(text, pos) not in self.limit_starts:
            return None
        return self.limit_of_normal.match(text, pos)

    def adjective_at(self, text: str, pos: int) -> re.Match[str] | None:
        """`duration_adjective.match(text, pos)`, after the same look (it needs a space first)."""
        if self.adjective_starts is not None and (
            not text[pos : pos + 1].isspace() or _next_character(text, pos) not in self.adjective_starts
        ):
            return None
        return self.duration_adjective.match(text, pos)


_SPACES = re.compile(r"\s*")
_POWER_STARTS = frozenset("xX×*·.t1")  # what power_of_ten and power_written start with after spaces
_TIMES_POWER_STARTS = frozenset("xX×*")
# What counted_noun starts with: an ASCII letter, or one that `re` takes for one case-insensitively.
_COUNTED_STARTS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ\u0130\u0131\u017f\u212a")


def _next_character(text: str, pos: int) -> str:
    """The first character at or after `pos` that is not white space ('' at the end). None or
    one space is looked at directly (`str.isspace` is what `re` takes for white space), a longer
    run by `re`."""
    ch = text[pos : pos + 1]
    if not ch.isspace():
        return ch
    ch = text[pos + 1 : pos + 2]
    if not ch.isspace():
        return ch
    nxt = _SPACES.match(text, pos + 2).end()  # type: ignore[union-attr]
    return text[nxt : nxt + 1]


def patterns(vocab: Vocabulary) -> QuantityPatterns:
    return vocab.derived("extract.quantities", QuantityPatterns)


def find_quantities(text: str, vocab: Vocabulary, cmps: ComparatorsBefore | None = None) -> list[Quantity]:
    """Every number in `text` that can be a threshold value, with its unit."""
    pats = patterns(vocab)
    cmps = cmps if cmps is not None else ComparatorsBefore(text, vocab)
    found: list[Quantity] = []
    last_end = 0
    for number in iter_numbers(text, lambda start, pos: _decimal_follows(text, start, pos, vocab, pats, cmps)):
        if len(found) >= MAX_QUANTITIES:
            break
        if number.start < last_end:
            continue  # inside the previous quantity ('x 10^9/L')
        q = _quantity(text, number, vocab, pats)
        if q is not None:
            found.append(q)
            last_end = q.end
            glued = _GLUED_BOUND.match(text, q.end) if q.unit in TIME_UNITS else None
            if glued is not None and (hi := _quantity(text, Number(glued.group(1), glued.start(1), glued.end(1)), vocab, pats)):
                found.append(hi)  # 'Age 10yr-17yrs': the second number is glued to the first unit
                last_end = hi.end
    if "+" in text:  # as `rules.may_hold_threshold` asks
        found = _with_pluses(text, found, vocab, cmps)
    return found


PLUSES = re.compile(r"(?<![^\s(\[:=<>≤≥])\+{1,4}(?![^\s)\],;.])")
"""A free-standing run of plus signs, as a dipstick reads ('urine protein ≥ ++')."""


def _with_pluses(text: str, found: list[Quantity], vocab: Vocabulary, cmps: ComparatorsBefore) -> list[Quantity]:
    """`found` and each run of plus signs that a comparator stands before or after (`< ++`,
    `++ or above`), worth the number of signs: with no comparator a plus is no value."""
    inside = _Covered([(q.start, q.end) for q in found])
    pluses = [
        Quantity(value=float(m.end() - m.start()), start=m.start(), end=m.end())
        for m in PLUSES.finditer(text)
        if not inside(m.start()) and (cmps.at(m.start()) is not None or vocab.after_re.match(text, m.end()))
    ]
    if not pluses:
        return found
    return sorted(found + pluses, key=lambda q: q.start)[:MAX_QUANTITIES]


def _decimal_follows(
    text: str, start: int, pos: int, vocab: Vocabulary, pats: QuantityPatterns, cmps: ComparatorsBefore
) -> bool:
    """',5' is decimal before a unit, a power of ten, another decimal-comma bound or a multiple of a
    limit of normal, and after a comparator unless a list goes on ('< 1,5 and' but 'of 0,1 or 2')."""
    if _power_of_ten(text, pos, vocab, pats) or vocab.match_unit(text, pos) or _DECIMAL_COMMA_RANGE.match(text, pos):
        return True
    if _RANGE_BEFORE.search(text, max(0, start - 16), start) is not None:
        return True
    limit = pats.limit_at(text, pos)
    if limit is not None and (limit.group("times") or limit.group("upper") or limit.group("lower")):
        return True
    return "," in text[start:pos] and cmps.at(start) is not None and _LIST_GOES_ON.match(text, pos) is None


def _quantity(text: str, number: Number, vocab: Vocabulary, pats: QuantityPatterns) -> Quantity | None:
    """The number with its scale and unit, or None when it is part of a name ('2nd', '5-FU')."""
    start, end = number.start, number.end
    rest = text[end : end + 12]
    power = _power_of_ten(text, end, vocab, pats)
    unit = _unit_after(text, end, rest, vocab)
    value = number.value
    exponent = _POWER_VALUE.match(text, end) if number.literal == "10" and power is None else None
    if exponent is not None:  # the number is itself a power of ten
        value = power_of_ten_value(exponent.group(1) or exponent.group(2))
        end = exponent.end()
        unit = vocab.match_unit(text, end)
    elif power is None and _next_character(text, end) in _TIMES_POWER_STARTS and (
        scaled := _TIMES_POWER.match(text, end)
    ) is not None and (
        scaled_unit := vocab.match_unit(text, scaled.end())
    ) is not None:  # a power of ten on a value that is not a cell count
        value *= power_of_ten_value(scaled.group(1))
        end, unit = scaled.end(), scaled_unit
    elif (percentile := _PERCENTILE.match(text, end)) is not None:
        end = percentile.end()  # '≥ 95th percentile': the value is the percentile, the unit follows
        unit = vocab.match_unit(text, end)
    elif power is None and unit is None and ORDINAL_OR_NAME.match(rest) and not _times_limit(text, end, pats):
        return None  # '2nd', '5-FU', 'A1c'-like glue: part of a name, not a value ('2.5-fold ULN' is one)
    if negative_sign_before(text, start):
        value, start = -value, start - 1  # 'T-score ≤ -2.5'
    elif plus_sign_before(text, start):
        start -= 1  # 'a fluid balance not exceeding +10 mL/kg/h'
    q = Quantity(value=value, start=start, end=end)
    _attach_unit(text, q, end, power, unit, vocab, pats)
    return q


def power_of_ten_value(exponent: str) -> float:
    """10 to the power written (digits or superscripts); infinite, never an error, when too large."""
    return float("1e" + exponent.translate(SUPERSCRIPT))


def _times_limit(text: str, end: int, pats: QuantityPatterns) -> bool:
    limit = pats.limit_at(text, end)
    return limit is not None and bool(limit.group("times")) and bool(limit.group("upper") or limit.group("lower"))


def _unit_after(text: str, end: int, rest: str, vocab: Vocabulary) -> Unit | None:
    """The unit right after a number; after a hyphen only a duration ('18-year-old')."""
    unit = vocab.match_unit(text, end + 1 if rest.startswith("-") else end)
    if rest.startswith("-") and (unit is None or unit[0] not in TIME_UNITS):
        unit = None if ORDINAL_OR_NAME.match(rest) else vocab.match_unit(text, end)
    return unit


def _power_of_ten(text: str, end: int, vocab: Vocabulary, pats: QuantityPatterns) -> tuple[str, int] | None:
    """('10*9/L', end) for 'x 10^9/L' and its spellings right after a number."""
    if _next_character(text, end) not in _POWER_STARTS:
        return None
    power = pats.power_of_ten.match(text, end)
    if power is not None:
        exponent = int(power.group(1).translate(SUPERSCRIPT))
    elif (power := pats.power_written.match(text, end)) is not None:
        exponent = 3 * (len(power.group(1)) // 4)
    else:
        return None
    per = vocab.match_unit(text, power.end())
    if per is None or per[0] not in pats.after_power:
        return None
    return f"10*{exponent}{per[0]}", per[3]


def _attach_unit(
    text: str, q: Quantity, end: int, power: tuple[str, int] | None, unit: Unit | None,
    vocab: Vocabulary, pats: QuantityPatterns,
) -> None:
    """Set the quantity's unit: a power of ten, a multiple of a limit of normal, a unit of
    `units.json`, a duration after an adjective ('12 consecutive months') or a count per volume."""
    if power is not None:
        q.unit, q.end = power
        q.unit_text = _TIMES_SIGN.sub("", text[end : q.end].strip())  # '10⁹/L', not '× 10⁹/L'

    elif (limit := pats.limit_at(text, end)) is not None and (
        limit.group("upper") or limit.group("lower") or limit.group("times")
    ):
        q.unit = "x LLN" if limit.group("lower") else "x ULN"
        q.unit_text = limit.group(0).strip()
        q.end = limit.end()
    elif unit is not None:
        q.unit, q.unit_text, _, q.end = unit
    elif (adjective := pats.adjective_at(text, end)) is not None and (
        timed := vocab.match_unit(text, adjective.end())
    ) is not None and timed[0] in TIME_UNITS:
        q.unit, q.unit_text, q.end = timed[0], text[end : timed[3]].strip(), timed[3]
    elif _next_character(text, end) in _COUNTED_STARTS and (noun := pats.counted_noun.match(text, end)) is not None and (
        per := vocab.read_per_count(text, noun.end(), pats.after_noun)
    ) is not None:
        q.unit, q.unit_text, q.end = per[0], text[end : per[3]].strip(), per[3]


def find_number_words(text: str, vocab: Vocabulary, cmps: ComparatorsBefore) -> list[Quantity]:
    """Counts spelled out with a comparator ('more than two lines', 'three or more cycles').

    'one' is left out of `words.json` and read by `_one_counts`: 'at least one lesion' says that a
    thing exists, not how many.
    """
    pats = patterns(vocab)
    ones = _one_counts(text, vocab, pats, cmps)
    out: list[Quantity] = []
    for m in pats.number_word.finditer(text, cmps.folded):
        if len(out) >= MAX_QUANTITIES:
            break
        value = float(pats.number_words[m.group(1).lower()])
        end = m.end()
        restated = _RESTATED.match(text, end)
        if restated is not None and float(restated.group(1)) == value:
            end = restated.end()  # 'eighteen (18) years': one number, written twice
        elif not (
            cmps.at(m.start()) is not None or vocab.after_re.match(text, end) is not None
            or pats.number_word_range.match(text, end) or _range_ends_before(text, m.start(), pats)
            or _comparator_after_unit(text, end, vocab) or _listed(text, m.start(), end, pats)
        ):
            continue
        out.append(_spelled(value, m.start(), end, text, vocab))
    return sorted(ones + out, key=lambda q: q.start) if ones else out


def _listed(text: str, start: int, end: int, pats: QuantityPatterns) -> bool:
    """A spelled number in a list of spelled numbers ('zero or one', 'zero, one or two')."""
    return pats.number_word_list.match(text, end) is not None or pats.number_word_list_end.search(
        text, max(0, start - pats.longest_number_word - 6), start) is not None


def _comparator_after_unit(text: str, end: int, vocab: Vocabulary) -> bool:
    """'fifty percent or greater': the comparator after the unit of a spelled number."""
    unit = vocab.match_unit(text, end)
    return unit is not None and vocab.after_re.match(text, unit[3]) is not None


def _spelled(value: float, start: int, end: int, text: str, vocab: Vocabulary) -> Quantity:
    """A spelled-out count, with the unit written right after it ('two weeks')."""
    q = Quantity(value, start, end)
    unit = vocab.match_unit(text, end)
    if unit is not None:
        q.unit, q.unit_text, _, q.end = unit
    return q


def _one_counts(text: str, vocab: Vocabulary, pats: QuantityPatterns, cmps: ComparatorsBefore) -> list[Quantity]:
    """'one' with a comparator, where it is a count: after any comparator but 'at least' ('more
    than one biologic DMARD'), or before what a count counts ('at least one prior regimen') or the
    other end of a range. 'At least one lesion' only says that a lesion exists."""
    out: list[Quantity] = []
    if not cmps.any and "etween" not in text and " or " not in text and "," not in text:
        return out
    for m in pats.one.finditer(text, cmps.folded):
        if len(out) >= MAX_QUANTITIES:
            break
        found = cmps.at(m.start()) if cmps.any else None
        if found is None:
            if (_BETWEEN_BEFORE.search(text, max(0, m.start() - 12), m.start()) and pats.number_word_range.match(text, m.end())) \
                    or _listed(text, m.start(), m.end(), pats):
                out.append(_spelled(1.0, m.start(), m.end(), text, vocab))  # 'between one and three regimens', 'zero or one'
            continue
        end = m.end()
        gap = space_after(text, end)
        counts = gap > end and pats.count_phrase.match(text, gap) is not None
        if found[0] == ">=" and not (counts or pats.one_bounds_a_range.match(text, end)):
            continue
        out.append(_spelled(1.0, m.start(), end, text, vocab))
    return out


_BETWEEN_BEFORE = re.compile(r"(?<![A-Za-z])between\s+$", re.IGNORECASE)


def _range_ends_before(text: str, pos: int, pats: QuantityPatterns) -> bool:
    """A spelled number and a range joiner end at `pos` ('thirteen to' before 'nineteen').

    Searched from where such a match can start only (a number word before the joiner and the
    white space around it), not from the start of the text: that was quadratic in number words."""
    joined = space_before(text, pos)  # then 'to', '-', '–' or 'and', then white space, then the word
    if not (text[max(0, joined - 1) : joined] in ("-", "–") or text[max(0, joined - 2) : joined].lower() == "to"
            or text[max(0, joined - 3) : joined].lower() == "and"):
        return False  # ('t', 'o', 'a', 'n', 'd' have no other case partners than their capitals)
    lo = min(space_before(text, max(0, joined - n)) for n in (1, 2, 3)) - pats.longest_number_word
    return pats.number_word_range_end.search(text, max(0, lo), pos) is not None


def space_before(text: str, pos: int) -> int:
    """`pos` moved back over the white space before it."""
    while pos > 0 and text[pos - 1].isspace():
        pos -= 1
    return pos


def space_after(text: str, pos: int) -> int:
    """`pos` moved on over the white space after it."""
    while pos < len(text) and text[pos].isspace():
        pos += 1
    return pos


_STAGE_WORDS = ("stage", "class", "grade", "nyha", "asa", "physical")


def find_staged(text: str, lowered: str | None = None) -> list[Expression]:
    """Roman-numeral stages, classes and grades (`Stage III-IV`, `NYHA class III or IV`).

    `lowered` (`folded(text)`, when at hand) lets a text without any of the words skip the scan."""
    out: list[Expression] = []
    if lowered is not None and not any(w in lowered for w in _STAGE_WORDS):
        return out
    for m in _STAGED.finditer(text):
        if len(out) >= MAX_QUANTITIES:
            break
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


_SCALE_WORD = re.compile(r"(?<![A-Za-z])(?:CTCAE\s+)?(?:grade|class|stage|level)\s*$", re.IGNORECASE)


_SCALE_WORD_LAST = frozenset("eEsS\u017flL")  # what _SCALE_WORD ends with, in either case ('ſ' is an 's')


class ComparatorsBefore:
    """Comparator phrases of one text, looked up by the position they stand before.

    They are read from the text only as far as a look-up needs (each once): a bullet of
    hundreds of comparators and a few dozen numbers reads the few dozen."""

    def __init__(self, text: str, vocab: Vocabulary) -> None:
        self.text = text
        self.folded = folded(text)
        """The text lower-cased for `FoldedPattern` scans (None when it cannot be)."""
        self._phrases = vocab.iter_comparators_folded(text, self.folded)
        self._ending: dict[int, tuple[str, int]] = {}
        self._read_to = -1  # every phrase ending at or before this is in `_ending`
        self._read_to_end(0)
        self._first_end = min(self._ending, default=len(text) + 1)
        self.any = bool(self._ending)
        """Whether the text has any comparator phrase before a number."""
        pats = patterns(vocab)
        self._gap, self._gap_last = pats.comparator_gap, pats.comparator_gap_last

    def _read_to_end(self, pos: int) -> None:
        """Read phrases until one ends at or after `pos` (or the text does); at least one."""
        while self._read_to < pos or not self._ending:
            found = next(self._phrases, None)
            if found is None:
                self._read_to = len(self.text) + 1
                return
            self._read_to = found[0]
            self._ending[found[0]] = found[1]

    def at(self, pos: int) -> tuple[str, int] | None:
        """(comparator, start) of a phrase ending at `pos`, white space, a scale word and the
        words of `words.json` comparator_gap aside ('≤ grade 1', '>= CTCAE grade 3', 'below the
        3rd percentile', 'under the age of 21')."""
        pos = space_before(self.text, pos)
        if pos < self._first_end:
            return None  # every answer is a comparator ending at or before `pos`
        self._read_to_end(pos)
        found = self._ending.get(pos)
        if found is not None:
            return found
        last = self.text[pos - 1]  # a scale word or a gap ends right here (cheap test first)
        if last in _SCALE_WORD_LAST and (word := _SCALE_WORD.search(self.text, max(0, pos - 20), pos)) is not None:
            return self.at(word.start()) if word.start() < pos else None
        if (self._gap_last is None or last in self._gap_last) and (
            gap := self._gap.search(self.text, max(0, pos - 20), pos)
        ) is not None:
            return self._ending.get(space_before(self.text, gap.start())) if gap.start() < pos else None
        return None


def find_bare_limits(
    text: str, quantities: list[Quantity], cmps: ComparatorsBefore, vocab: Vocabulary
) -> list[Expression]:
    """`≤ ULN`, `above the lower limit of normal`: a limit with a comparator and no number (1 x)."""
    pats = patterns(vocab)
    out: list[Expression] = []
    if not cmps.any:
        return out  # each needs a comparator before it
    inside = _Covered([(q.start, q.end) for q in quantities])
    for m in pats.limit_word.finditer(text):
        if len(out) >= MAX_QUANTITIES:
            break
        if inside(m.start()):
            continue
        before = space_before(text, m.start())
        last = text[before - 1 : before] if before else ""
        lead = (
            pats.limit_lead.search(text, max(0, m.start() - 60), m.start())
            if pats.limit_lead_last is None or last in pats.limit_lead_last else None
        )  # an empty lead is read as none: `at` moves back over the spaces either way
        at = lead.start() if lead else m.start()
        multiple = pats.multiple_before.search(text, max(0, at - 12), at) if pats.multiple_before and at else None
        found = cmps.at(multiple.start() if multiple else at)
        if found is None:
            continue
        comparator, start = found
        unit = "x LLN" if m.group("lower") else "x ULN"
        value = float(pats.multiples[multiple.group(1).lower()]) if multiple else 1.0
        q = Quantity(value, multiple.start() if multiple else m.start(), m.end(), unit, text[at : m.end()] if multiple else m.group(0))
        out.append(Expression(start, m.end(), [(comparator, q)], kind="single"))
    return out


class _Covered:
    """Whether a position is inside one of some spans, by bisection (spans may overlap)."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        spans = sorted(spans)
        self._starts = [s for s, _ in spans]
        self._reach: list[int] = []  # the furthest end of the spans up to each one
        for _, end in spans:
            self._reach.append(max(end, self._reach[-1]) if self._reach else end)

    def __call__(self, pos: int) -> bool:
        i = bisect_right(self._starts, pos) - 1
        return i >= 0 and self._reach[i] > pos


_BLOOD_PRESSURE = re.compile(
    r"(?<![\d.])(?P<sys>\d{2,3})\s*/\s*(?P<dia>\d{2,3})\s*(?P<unit>mm\s*Hg|mmHg)(?![A-Za-z])", re.IGNORECASE
)


def find_blood_pressure(
    text: str, vocab: Vocabulary, cmps: ComparatorsBefore, known: dict[str, Mention]
) -> list[Expression]:
    """`BP ≤ 140/90 mmHg` -> systolic ≤ 140 and diastolic ≤ 90 (pinned analytes)."""
    names = vocab.words.pattern_analytes
    systolic, diastolic = known.get(names.systolic), known.get(names.diastolic)
    out: list[Expression] = []
    if systolic is None or diastolic is None or (cmps.folded is not None and "hg" not in cmps.folded):
        return out  # (a pair ends in 'mmHg')
    for m in _BLOOD_PRESSURE.finditer(text):
        if len(out) >= 2 * MAX_QUANTITIES:
            break
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
