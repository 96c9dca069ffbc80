"""Step 2 of extraction: quantities grouped into ranges, lists and single comparisons.

Two quantities joined by `-`, `to`, `through` (or `and` after `between`) form a range; bare
numbers joined by `,`/`or` form a list (`ECOG 0, 1 or 2`). A single quantity takes a comparator
from the words just before it (`at least`, `≤`, glued `ANC>1000`) or just after it (`or more`,
`and older`); a number with neither stays `bare` (a threshold only on a scale: `ECOG 2`).
"""

from __future__ import annotations

import re
from itertools import pairwise

from critparse.extract.mentions import TIME_UNITS, Expression, Quantity
from critparse.extract.quantities import ComparatorsBefore, patterns
from critparse.lexicon.vocabulary import Vocabulary

# Spaces before a word are never given back (possessive `*+`, `++`: every word starts with a
# character that is not a space), so a long run of spaces costs one pass, not one per space.
_RANGE_JOIN = re.compile(r"\s*+(?:-|–|—|‐|~|to|through|thru|until)\s*$", re.IGNORECASE)
_AND_JOIN = re.compile(r"\s*+(?:-\s*+)?(?:and|&)\s*$", re.IGNORECASE)  # 'between 40- and 75-years'
_RANGE_OPENER = re.compile(
    r"(?:(?<![A-Za-z])(?:between|from|ranging\s+from|range\s+of|range|within\s+the\s+range\s+of|in\s+the\s+range\s+of))"
    r"(?:\s+the\s+ages?\s+of)?\s*(?:of\s+)?$",  # 'between the ages of 45 and 70'
    re.IGNORECASE,
)
_OUTSIDE = re.compile(  # 'outside 3.5-5.0 mmol/L', 'outside the range of 130-150': below or above
    r"(?<![A-Za-z])outside(?:\s++of)?(?:\s++the)?(?:\s++(?:normal|reference))?(?:\s++(?:range|interval|limits))?"
    r"(?:\s++of)?\s*+$",
    re.IGNORECASE,
)
_LIST_JOIN = re.compile(r"\s*+(?:,\s*+(?:or|and)?|or|and|/)\s*$", re.IGNORECASE)
_SHARED_UNIT_GAP = re.compile(r"\s*+(?:,|and|but|to|or)?\s*", re.IGNORECASE)
AFTER_AGE = re.compile(
    r"(?:\s*+(?:-\s*+)?old|\s++of\s++(?:postnatal\s++|chronological\s++)?age|\s++in\s++age|\s++of\s++life"
    r"|['’]?\s++(?:of\s++)?gestation(?:al\s++age)?)(?![A-Za-z])",
    re.IGNORECASE,
)
"""Words after a duration that make it an age ('18 years old', '65 years of age', '34 weeks'
gestational age')."""

_ASIDE = re.compile(r"\s*+\([^()]{1,40}\)")
_PLUS = re.compile(r"(?:\s*+years?)?\+(?![\w+])")


def build_expressions(
    text: str, quantities: list[Quantity], vocab: Vocabulary, cmps: ComparatorsBefore
) -> list[Expression]:
    """Group quantities into ranges, lists and single comparisons (see the module docstring)."""
    exprs: list[Expression] = []
    i = 0
    while i < len(quantities):
        q = quantities[i]
        nxt = quantities[i + 1] if i + 1 < len(quantities) else None
        cmp_match = cmps.at(q.start)
        if cmp_match is None and q.unit == "x ULN":
            cmp_match = _at_most_limit(text, q, vocab)
        found = _range(text, q, nxt, cmps) if nxt is not None and cmp_match is None else None
        if found is None and cmp_match is not None:
            found = Expression(cmp_match[1], q.end, [(cmp_match[0], q)], kind="single"), 1
        found = found or _comparator_after(text, q, vocab) or _list(text, quantities, i, cmps)
        found = found or _shared_comparator(text, q, exprs[-1] if exprs else None)
        expr, used = found or (Expression(q.start, q.end, [("=", q)], kind="bare"), 1)
        exprs.append(expr)
        i += used
        restated = _restated_in_aside(text, q, expr, quantities[i] if i < len(quantities) else None)
        if restated is not None:  # '100 mg/dL (2.6 mmol/L) or greater': the comparator after is both's
            exprs.append(Expression(restated.start, restated.end, [(expr.bounds[0][0], restated)], kind="single"))
            i += 1
    _share_units(text, exprs)
    return exprs


def _at_most_limit(text: str, q: Quantity, vocab: Vocabulary) -> tuple[str, int] | None:
    """('<=', start) when the words before a multiple of the upper limit of normal make it a
    maximum: `within 1.5 x ULN` (only before such a multiple: `within 28 days` is a window)."""
    pattern = patterns(vocab).at_most_limit
    found = pattern.search(text, max(0, q.start - 30), q.start) if pattern is not None else None
    return ("<=", found.start()) if found is not None else None


_LONE_QUANTITY_ASIDE = re.compile(r"\s*+\(\s*+$")


def _restated_in_aside(text: str, q: Quantity, expr: Expression, nxt: Quantity | None) -> Quantity | None:
    """The quantity alone in a parenthesis between `q` and the comparator after both, in another
    unit ('100 mg/dL (2.6 mmol/L) or greater'), or None."""
    if nxt is None or expr.kind != "single" or expr.start != q.start or nxt.end >= expr.end:
        return None
    if q.unit is None or nxt.unit is None or nxt.unit == q.unit:
        return None
    if not _LONE_QUANTITY_ASIDE.fullmatch(text, q.end, nxt.start) or not text[nxt.end : expr.end].lstrip().startswith(")"):
        return None
    return nxt


_ELIDED_NOUN_GAP = re.compile(r"\s++[A-Za-z][\w-]*+\s++(?:and|or)\s++", re.IGNORECASE)
_ADJECTIVE_AND_NOUN = re.compile(r"\s++[A-Za-z][\w-]*+\s++[A-Za-z][\w-]*+")


def _shared_comparator(text: str, q: Quantity, last: Expression | None) -> tuple[Expression, int] | None:
    """'at least 6 swollen and 6 tender joints': a count after another, each with its own
    adjective before one noun, shares the first one's comparator."""
    if last is None or last.kind != "single" or q.unit is not None or last.bounds[0][1].unit is not None:
        return None
    if not _ELIDED_NOUN_GAP.fullmatch(text, last.end, q.start) or not _ADJECTIVE_AND_NOUN.match(text, q.end):
        return None
    return Expression(q.start, q.end, [(last.bounds[0][0], q)], kind="single"), 1


def _range(text: str, q: Quantity, nxt: Quantity, cmps: ComparatorsBefore) -> tuple[Expression, int] | None:
    """'18-65 years', 'between 40 and 80', '6 months to < 18 years' (the upper bound may bring
    its own comparator)."""
    if not _compatible(q, nxt):
        return None
    gap = text[q.end : nxt.start]
    nxt_cmp = cmps.at(nxt.start)
    upper = "<="
    if nxt_cmp is not None:
        upper, nxt_cmp_start = nxt_cmp
        gap = text[q.end : max(q.end, nxt_cmp_start)]
    if upper not in ("<", "<="):
        return None
    joined = _RANGE_JOIN.match(gap)
    bare_gap = nxt_cmp is not None and not gap.strip()  # 'from 6 months up to 6 years': the opener joins
    if not joined and not bare_gap and not _AND_JOIN.match(gap):
        return None  # no joiner: the opener before it is not looked for
    opener = _RANGE_OPENER.search(text, max(0, q.start - 40), q.start)
    if not (joined or opener):
        return None
    lo, hi = _inherit_unit(q, nxt)
    if upper == "<=" and lo.unit == hi.unit and lo.value > hi.value:
        lo, hi = hi, lo  # 'from -0.75 D to -4.00 D', 'BCVA 78-24 letters': the smaller is the lower bound
    start = opener.start() if opener else q.start
    if nxt_cmp is None and upper == "<=" and (outside := _OUTSIDE.search(text, max(0, q.start - 40), q.start)):
        return Expression(outside.start(), nxt.end, [("<", lo), (">", hi)], kind="range"), 2
    return Expression(start, nxt.end, [(">=", lo), (upper, hi)], kind="range"), 2


def _comparator_after(text: str, q: Quantity, vocab: Vocabulary) -> tuple[Expression, int] | None:
    """'18 years or older', '4 (moderately ill) or higher', '65 years of age or younger'."""
    after_pos = q.end + 1 if text[q.end : q.end + 1] == "+" else q.end  # '2+ or more' on a dipstick
    aside = _ASIDE.match(text, after_pos)
    if aside is not None and vocab.after_re.match(text, aside.end()):
        after_pos = aside.end()
    age_tail = AFTER_AGE.match(text, after_pos)
    after = vocab.after_re.match(text, age_tail.end() if age_tail else after_pos)
    if after is None:
        plus = _PLUS.match(text, q.end)
        if plus is None or patterns(vocab).age_context.search(text, max(0, q.start - 40), q.start) is None:
            return None
        return Expression(q.start, plus.end(), [(">=", q)], kind="single"), 1  # 'Aged 18+', 'adults 65+'
    comparator = vocab.comparator_after(after.group("cmp"))
    return Expression(q.start, after.end(), [(comparator, q)], kind="single"), 1


def _list(text: str, quantities: list[Quantity], i: int, cmps: ComparatorsBefore) -> tuple[Expression, int] | None:
    """A run of bare unitless numbers joined by ',', 'or', 'and' ('ECOG 0, 1 or 2')."""
    run = [quantities[i]]
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
    if len(run) < 2:
        return None
    lo = min(run, key=lambda x: x.value)
    hi = max(run, key=lambda x: x.value)
    return Expression(run[0].start, run[-1].end, [(">=", lo), ("<=", hi)], kind="list"), j - i


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
        if lq.unit is None and rq.unit is not None and _SHARED_UNIT_GAP.fullmatch(text[left.end : right.start]):
            left.bounds = [(left.bounds[0][0], Quantity(lq.value, lq.start, lq.end, rq.unit, rq.unit_text))]
