"""Step 1a of extraction: the numbers of a text, as written (`1,500`, `1.500/mm3`, `2,5`, `-2.5`).

Numbers glued into names (`CD19`, `COVID-19`, `HbA1c`), ordinals, phone numbers and registry ids
are not values. What follows a number (a unit, a power of ten) is read by
`critparse.extract.quantities`; this module only decides where a number starts and ends and
what it is worth.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

NUMBER = re.compile(
    r"[\d.](?<![\w./^*#\u00b7][\d.])(?<![A-Za-z]-[\d.])"
    r"(?:(?<=\d)(?:\d?(?:,\d{2})+,\d{3}(?![\d.])|\d{0,2}(?:,\d{3})+(?![\d.])|\d{0,2}(?:[ \u00a0\u202f]\d{3})+(?=\s*(?:/|cells|per\b))"
    r"|\d*(?:\.\d+)?)|(?<=\.)\d+)"
)
"""A free-standing number: thousands with commas or spaces (before a count unit), Indian
groups of lakhs (`1,00,000`, `1,50,000`), decimals.

Its first character (a digit or a dot) comes first and the look-behinds after it, so that `re`
skips to the digits and dots of a text instead of trying every position; the plain form is in
`tests/extract/test_numbers.py`, which checks that both find the same numbers."""

ORDINAL_OR_NAME = re.compile(
    r"(?:st|nd|rd|th)\b|[A-Z](?![A-Za-z])|[A-Za-z]+\d|[A-Za-z]+[-_][A-Za-z]*\d|-[A-Za-z]{2,}|\.\d|:\d|/\d"
)
"""What follows a number that is part of a name: '2nd', '5-FU', '3A4', a version '1.1.2'."""

SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")

# Phone numbers, dates, EudraCT ids: `(?<!\d)\d+(?:-\d+){2,}|\b0\d{2,}\b|\b\d{4}-\d{4,}`, its first
# digit in front as in NUMBER.
_ID_CHAIN = re.compile(r"\d(?:(?<!\d\d)\d*(?:-\d+){2,}|(?<=0)(?<!\w0)\d{2,}\b|(?<!\w\d)\d{3}-\d{4,})")
_DECIMAL_COMMA = re.compile(r",(\d{1,2})(?!\d)")  # '1,5 x 10^9/l' (European decimal comma)
_STRAY_DECIMAL = re.compile(r"\.[ \t](\d{1,2})(?![\d.,])")  # '2. 5 x ULN': a decimal point and a stray space
_FRACTION = {"½": ".5", "¼": ".25", "¾": ".75"}
_DOT_THOUSANDS = re.compile(r"\d{1,3}(?:\.\d{3})+(?=\s*(?:/\s*(?:mm|µ|μ|u|mc)|cells\b))")  # '1.500/mm3'
_WEEKS_AND_DAYS = re.compile(
    r"(?:[ \u00a0]+([0-6])/7|\+([0-6]))(?![\d/])(?=[^.;:]{0,30}?(?<![A-Za-z])(?:weeks?|wks?)(?![A-Za-z]))",
    re.IGNORECASE,
)
"""Days after whole weeks, as gestational ages are written ('34 6/7 weeks', '23+0 to 27+6 weeks')."""
_NEGATIVE_SIGN = re.compile(r"(?:^|(?<=[\s(:=<>≤≥]))[-−]$")
_PLUS_SIGN = re.compile(r"(?:^|(?<=[\s(:=<>≤≥]))\+$")
_SEPARATORS = str.maketrans("", "", ", \u00a0\u202f")


@dataclass(init=False)  # __init__ written out: see COMPILED in setup.py
class Number:
    """A number as written: its literal (dots as decimal points), value and span."""

    literal: str
    start: int
    end: int

    def __init__(self, literal: str, start: int, end: int) -> None:
        self.literal, self.start, self.end = literal, start, end

    @property
    def value(self) -> float:
        return float(self.literal.translate(_SEPARATORS))


def iter_numbers(text: str, comma_is_decimal: Callable[[int, int], bool]) -> Iterator[Number]:
    """Every free-standing number of `text`, identifiers left out.

    `comma_is_decimal(start, pos)` says whether what surrounds the number at `start` with a ',dd'
    (or a '. d') ending at `pos` makes that a decimal ('1,5 x 10^9/l', '2,5 x ULN', '< 1,5 and',
    '2. 5 x ULN'); the caller knows the units and comparators.
    """
    identifiers = _ID_CHAIN.finditer(text)  # in text order, read only as far as the numbers go
    ident = next(identifiers, None)  # the first identifier that may hold a number
    last_end = 0
    for m in NUMBER.finditer(text):
        start, end = m.span()
        while ident is not None and ident.end() <= start:
            ident = next(identifiers, None)
        if start < last_end or (ident is not None and ident.start() <= start):
            continue  # the decimals of the previous number ('1,5') or an identifier
        literal = m.group(0)
        thousands = _DOT_THOUSANDS.match(text, start) if "." in text[start + 1 : start + 4] else None  # '1.500'
        if thousands is not None and thousands.end() >= end:
            literal, end = thousands.group(0).replace(".", ""), thousands.end()
        decimal = (
            (_DECIMAL_COMMA.match(text, end) or _STRAY_DECIMAL.match(text, end))
            if literal.isdigit() and text[end : end + 1] in (",", ".") else None
        )
        if decimal is not None and comma_is_decimal(start, decimal.end()):
            literal, end = f"{literal}.{decimal.group(1)}", decimal.end()
        if end < len(text) and text[end] in _FRACTION and "." not in literal:  # '1½ times ULN'
            literal, end = literal + _FRACTION[text[end]], end + 1
        days = _WEEKS_AND_DAYS.match(text, end) if literal.isdigit() and text[end : end + 1] in " +\u00a0" else None
        if days is not None:
            literal, end = f"{round(int(literal) + int(days.group(1) or days.group(2)) / 7, 3):g}", days.end()
        last_end = end
        yield Number(literal, start, end)


def negative_sign_before(text: str, start: int) -> bool:
    """A minus sign that belongs to the number at `start` ('T-score ≤ -2.5', not '5-FU')."""
    return text[start - 1 : start] in ("-", "−") and _NEGATIVE_SIGN.search(text, max(0, start - 2), start) is not None


def plus_sign_before(text: str, start: int) -> bool:
    """A plus sign that belongs to the number at `start` ('not exceeding +10 mL/kg/h')."""
    return text[start - 1 : start] == "+" and _PLUS_SIGN.search(text, max(0, start - 2), start) is not None
