"""The atoms of a criterion's logic: its rules grouped by the expression they came from, its value
sets and its concepts, each with where it starts and ends in the text.

Rules that share an expression (`AST/ALT ≤ 3 × ULN`, a range's two bounds, `140/90 mmHg`) are one
atom; the extractor's expression offsets are used when given, else they are found again from the
rule (the comparator or number after the previous atom). Value sets (`Stage IIIA, IIIB or IV`)
are read here from the text and replace the bounds the extractor read for the same list.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from critparse.extract.logic_cues import CueMatch, LogicCues
from critparse.model.concept import Concept
from critparse.model.logic import ConceptLeaf, Logic, Op, RuleLeaf, ValueSet, ValueSetLeaf
from critparse.model.rule import Analyte, Rule
from critparse.model.span import Span

__all__ = [
    "Atom", "ComparatorEnds", "concept_atoms", "concept_leaf", "no_value_meets", "rule_atoms", "rule_leaf", "rules_atom",
    "value_set_atoms",
]

LOWER = frozenset({">", ">="})
UPPER = frozenset({"<", "<="})


@dataclass(init=False)  # __init__ written out: see COMPILED in setup.py
class Atom:
    """One thing the logic combines, with its place in the text."""

    start: int  # where it begins (its own analyte words, else its comparator or number)
    core: int  # where its comparator or number begins
    end: int
    node: Logic
    kind: str  # rules | value_set | concept
    analytes: tuple[str, ...]
    units: tuple[str | None, ...]
    comparators: tuple[str, ...]
    rules: tuple[int, ...]
    concept: int | None
    conditions: list[Logic]  # attached 'if' conditions
    requirements: list[Logic]  # attached 'with' requirements

    def __init__(self, start: int, core: int, end: int, node: Logic, kind: str = "rules",
                 analytes: tuple[str, ...] = (), units: tuple[str | None, ...] = (),
                 comparators: tuple[str, ...] = (), rules: tuple[int, ...] = (), concept: int | None = None,
                 conditions: list[Logic] | None = None, requirements: list[Logic] | None = None) -> None:
        self.start, self.core, self.end, self.node, self.kind = start, core, end, node, kind
        self.analytes, self.units, self.comparators, self.rules = analytes, units, comparators, rules
        self.concept = concept
        self.conditions = [] if conditions is None else conditions
        self.requirements = [] if requirements is None else requirements

    @property
    def direction(self) -> str:
        """lower (≥, >), upper (≤, <), range (both) or other."""
        kinds = {"lower" if c in LOWER else "upper" if c in UPPER else "other" for c in self.comparators}
        if kinds == {"lower"}:
            return "lower"
        if kinds == {"upper"}:
            return "upper"
        return "range" if kinds == {"lower", "upper"} else "other"


_PREBUILT = 64
_RULE_LEAVES = tuple(RuleLeaf(rule=i) for i in range(_PREBUILT))
_CONCEPT_LEAVES = tuple(ConceptLeaf(concept=j) for j in range(_PREBUILT))


def rule_leaf(i: int) -> RuleLeaf:
    """The leaf of rule `i`. Leaves are frozen values, so those of the first rules are built
    once and shared by every tree."""
    return _RULE_LEAVES[i] if 0 <= i < _PREBUILT else RuleLeaf(rule=i)


def concept_leaf(j: int) -> ConceptLeaf:
    """The leaf of concept `j` (shared like `rule_leaf`)."""
    return _CONCEPT_LEAVES[j] if 0 <= j < _PREBUILT else ConceptLeaf(concept=j)


_SYMBOL = re.compile(r"[<>≤≥]")
_NUMBER = re.compile(r"(?<![\w.])[-−]?(?:\d{1,3}(?:[,\s]\d{3})+(?!\d)|\d+(?:[.,]\d+)?|\.\d+)")
_FALLBACK = re.compile(r"\b(?:I{1,3}|IV|V)\b|\b(?:ULN|LLN|upper|lower|normal)\b|\d", re.IGNORECASE)


_GROUPED_THOUSANDS = re.compile(r"-?\d{1,3}(?:,\d{3})+")
_OR = re.compile(r"\bor\b", re.IGNORECASE)
_AND_OR_SLASH = re.compile(r"\band\b|/", re.IGNORECASE)


def _number_value(literal: str) -> float | None:
    if "," in literal or "−" in literal or " " in literal:
        cleaned = literal.replace("−", "-").replace(" ", "")
        cleaned = cleaned.replace(",", "") if _GROUPED_THOUSANDS.fullmatch(cleaned) else cleaned.replace(",", ".")
    else:
        cleaned = literal  # nothing to clean: no sign, space or comma
    try:
        return float(cleaned)
    except ValueError:
        return None


_READ_ALL = 1 << 62  # past the end of any text


class ComparatorEnds(Mapping[int, tuple[str, int]]):
    """`Vocabulary.comparators_ending` read lazily: phrases come in the order they end
    (`Vocabulary.iter_comparators`), so a look-up reads the text only as far as it asks. A bullet
    of hundreds of comparators and a few rules reads a few."""

    def __init__(self, phrases: Iterator[tuple[int, tuple[str, int]]]) -> None:
        self._phrases = phrases
        self._ending: dict[int, tuple[str, int]] = {}
        self._read_to = -1  # every phrase ending at or before this has been read

    def _read(self, pos: int | None) -> None:
        """Read phrases until one ends at or after `pos` (None: to the end of the text)."""
        while pos is None or self._read_to < pos:
            found = next(self._phrases, None)
            if found is None:
                self._read_to = _READ_ALL
                return
            self._read_to = found[0]
            self._ending[found[0]] = found[1]

    def __getitem__(self, pos: int) -> tuple[str, int]:
        self._read(pos)
        return self._ending[pos]

    def __iter__(self) -> Iterator[int]:
        self._read(None)
        return iter(self._ending)

    def __len__(self) -> int:
        self._read(None)
        return len(self._ending)


def _core_of(text: str, group: Sequence[Rule], search: int, end: int, ending: Mapping[int, tuple[str, int]]) -> int:
    """Where an expression's comparator (or first number) begins: the last place in
    [search, end) where the rules' values are written (the earliest of them for a range), with
    the comparator phrase ending right before it; else the first comparator sign; else the
    first number or limit word."""
    last: dict[float, int] = {}
    values = {r.value for r in group}
    for m in _NUMBER.finditer(text, search, end):  # each value's last occurrence: the expression ends the span
        value = _number_value(m.group(0))
        if value is None:
            continue
        for v in values:
            if math.isclose(value, v) or math.isclose(value, -v):
                last[v] = m.start()
    if last:
        pos = first = min(last.values())
        while pos > search and text[pos - 1].isspace():
            pos -= 1
        found = ending.get(pos)
        return found[1] if found is not None and found[1] >= search else first
    for pattern in (_SYMBOL, _FALLBACK):
        hit = pattern.search(text, search, end)
        if hit is not None:
            return hit.start()
    return search


def _bounds(text: str, group: Sequence[Rule], lo: int, ending: Mapping[int, tuple[str, int]]) -> tuple[int, int]:
    """(start, core) of one expression when the extractor did not say: its own analyte words
    begin it when they stand after `lo`; its core is where its comparator or number begins."""
    starts = []
    places = [(r.span, r.analyte.text, r.text) for r in group]  # each read once: model fields are slow to reach
    search = max(lo, min(span.start for span, _, _ in places))
    for span, words, written in places:
        if words and written.startswith(words) and span.start >= lo:
            starts.append(span.start)
            search = max(search, span.start + len(words))
    end = max(span.end for span, _, _ in places)
    core = _core_of(text, group, search, end, ending)
    return (min(starts) if starts else core), core


def rule_atoms(
    text: str, rules: Sequence[Rule], expressions: Sequence[tuple[int, int] | None] | None = None,
    ending: Mapping[int, tuple[str, int]] | None = None,
) -> list[Atom]:
    """The rules grouped by expression (same expression offsets, else the same end), in order.

    `ending` maps where each comparator phrase of the text ends to (comparator, start)
    (`Vocabulary.comparators_ending`), to find where an expression begins."""
    groups: dict[tuple[int, int] | int, list[int]] = {}
    for i, rule in enumerate(rules):
        expr = expressions[i] if expressions is not None and i < len(expressions) else None
        groups.setdefault(expr if expr is not None else rule.span.end, []).append(i)
    ordered = list(groups.items())
    if len(ordered) > 1:
        ordered.sort(key=lambda kv: (_end_of(kv[0]), min(rules[i].span.start for i in kv[1])))
    atoms: list[Atom] = []
    previous_end = 0
    for key, members in ordered:
        if isinstance(key, tuple):
            core, end = key
            own = [i for i in members if rules[i].span.start < core and rules[i].span.start >= previous_end]
            start = min((rules[i].span.start for i in own), default=core)
            end = max(end, max(rules[i].span.end for i in members))
        else:
            start, core = _bounds(text, [rules[i] for i in members], previous_end, {} if ending is None else ending)
            end = key
        atoms.append(rules_atom(text, rules, members, start, core, end))
        previous_end = max(previous_end, end)
    return atoms


def _end_of(key: tuple[int, int] | int) -> int:
    return key[1] if isinstance(key, tuple) else key


def no_value_meets(rules: Sequence[Rule], indices: Sequence[int]) -> bool:
    """Whether no value meets every bound of the rules at `indices` ('< 3.5' and '> 5.0')."""
    low, high = -math.inf, math.inf
    low_open = high_open = False
    for i in indices:
        comparator, value = rules[i].comparator, rules[i].value
        if comparator in (">", ">=", "=") and (value > low or (value == low and comparator == ">")):
            low, low_open = value, comparator == ">"
        if comparator in ("<", "<=", "=") and (value < high or (value == high and comparator == "<")):
            high, high_open = value, comparator == "<"
    return low > high or (low == high and (low_open or high_open))


def _outside(rules: Sequence[Rule], indices: list[int]) -> bool:
    """'outside 3.5-5.0 mmol/L': an upper bound, then a lower one of the same unit, that no value
    meets together are alternatives (a range written the other way round stays a range)."""
    if len(indices) != 2:
        return False
    upper, lower = rules[indices[0]], rules[indices[1]]
    return (upper.unit == lower.unit and upper.comparator in ("<", "<=") and lower.comparator in (">", ">=")
            and no_value_meets(rules, indices))


def rules_atom(text: str, rules: Sequence[Rule], members: list[int], start: int, core: int, end: int) -> Atom:
    """One atom: per analyte a leaf or the `and` of its bounds; several analytes sharing the
    expression are a list (or an `or` when the text joins them with 'or')."""
    if len(members) == 1:  # the common case: the rule's own leaf
        rule = rules[members[0]]
        return Atom(start=start, core=core, end=end, node=rule_leaf(members[0]), analytes=(rule.analyte.name,),
                    units=(rule.unit,), comparators=(rule.comparator,), rules=(members[0],))
    by_analyte: dict[str, list[int]] = {}
    for i in members:
        by_analyte.setdefault(rules[i].analyte.name, []).append(i)
    parts: list[Logic] = []
    for indices in by_analyte.values():
        leaves: list[Logic] = [rule_leaf(i) for i in indices]
        disjoint = _outside(rules, indices)
        parts.append(leaves[0] if len(leaves) == 1 else Op(op="or" if disjoint else "and", args=tuple(leaves)))
    if len(parts) == 1:
        node = parts[0]
    elif _OR.search(text[start:core]) and not _AND_OR_SLASH.search(text[start:core]):
        node = Op(op="or", args=tuple(parts))  # 'ALT or AST > 5 × ULN'
    else:
        node = Op(op="and", args=tuple(parts), enumeration=True)  # 'AST/ALT ≤ 3 × ULN'
    return Atom(
        start=start, core=core, end=end, node=node,
        analytes=tuple(dict.fromkeys(rules[i].analyte.name for i in members)),
        units=tuple(rules[i].unit for i in members),
        comparators=tuple(rules[i].comparator for i in members),
        rules=tuple(members),
    )


# --- value sets ---------------------------------------------------------------------------------

_ROMAN = r"(?:IV|V|I{1,3})(?:[A-Da-d]\d?)?"
_CATEGORY = {
    "roman": rf"(?:{_ROMAN}|[1-5][A-Da-d]?)(?![\w+])",
    "letter": r"[A-D](?![\w+])",
    "number": r"\d+(?:\.\d+)?(?![\w+%.])",
    "prefixed": r"[A-Z]\d(?![\w+])",
}
_SEPARATOR = r"\s*(?:,\s*(?:or|and|and/or)?|or|and/or|and|/|nor)\s*"
_SCALE_REPEAT = r"(?:(?i:stage|class|grade|score)\s+)?"
_NOT_A_SET_AFTER = re.compile(
    r"\s*(?:or|and)\s+(?:higher|greater|more|above|worse|lower|less|below|better|over|under|"
    r"earlier|later|beyond)\b|\s*[-–]|\s*(?:\+|%|x\b|×)",
    re.IGNORECASE,
)
_ARABIC_ROMAN = {"1": "I", "2": "II", "3": "III", "4": "IV", "5": "V"}
_ONE = {category: re.compile(one) for category, one in _CATEGORY.items()}
_LIST = {
    category: re.compile(rf"\s*(?:of\s+|:\s*|=\s*|(?:class|score|stage)\s+)?(?P<list>{one}(?:{_SEPARATOR}{_SCALE_REPEAT}{one})*)")
    for category, one in _CATEGORY.items()
}
_COMPARATOR_END = re.compile(r"[<>≤≥=]\s*$")
_COMPARATOR_SIGN = re.compile(r"[<>≤≥]")


def _normal_category(raw: str, category: str) -> str:
    raw = raw.strip()
    if category == "roman" and raw[0].isdigit():
        return _ARABIC_ROMAN[raw[0]] + raw[1:].upper()
    return raw.upper() if category != "number" else raw


_ROMAN_RANGE = re.compile(
    rf"\s*(?:of\s+|:\s*)?(?P<lo>{_CATEGORY['roman']})\s*(?:-|–|—|to|through)\s*(?:(?i:stage)\s+)?(?P<hi>{_CATEGORY['roman']})"
)
_RANGE_MARK = re.compile(r"[-–—]|(?<![A-Za-z])(?:to|through)(?![A-Za-z])", re.IGNORECASE)
_NUMERALS = tuple(_ARABIC_ROMAN.values())  # I .. V
_SUB_STAGES = "ABCD"


def _stages_between(lo: str, hi: str) -> tuple[str, ...] | None:
    """The categories from `lo` to `hi` ('IIB', 'IIIC' -> IIB, IIC, IID, IIIA, IIIB, IIIC): a range
    whose ends name sub-stages, which bounds on the stage number cannot say."""
    (n1, s1), (n2, s2) = (_stage_key(_normal_category(x, "roman")) for x in (lo, hi))
    if n1 is None or n2 is None or n1 > n2 or not (s1 or s2):
        return None
    last = _SUB_STAGES.index(max("C", s1, s2))  # staging systems name sub-stages A to C (D rarely)
    if n1 == n2:
        return tuple(_NUMERALS[n1 - 1] + c for c in _SUB_STAGES[_SUB_STAGES.index(s1 or "A") : _SUB_STAGES.index(s2) + 1 if s2 else last + 1])
    low = [_NUMERALS[n1 - 1] + c for c in _SUB_STAGES[_SUB_STAGES.index(s1) : last + 1]] if s1 else [_NUMERALS[n1 - 1]]
    high = [_NUMERALS[n2 - 1] + c for c in _SUB_STAGES[: _SUB_STAGES.index(s2) + 1]] if s2 else [_NUMERALS[n2 - 1]]
    return (*low, *_NUMERALS[n1 : n2 - 1], *high)


def _stage_key(category: str) -> tuple[int | None, str]:
    numeral = category.rstrip(_SUB_STAGES)
    sub = category[len(numeral):]
    return (_NUMERALS.index(numeral) + 1 if numeral in _NUMERALS else None), (sub if len(sub) <= 1 else "")


def _stage_range_atom(text: str, rules: Sequence[Rule], scale_end: int, places: Sequence[tuple[int, int] | None],
                      scale: CueMatch) -> Atom | None:
    """'Stage IIB to IIIC': the categories between, as a set over the range's two rules."""
    found = _ROMAN_RANGE.match(text, scale_end)
    values = _stages_between(found["lo"], found["hi"]) if found else None
    if found is None or values is None:
        return None
    lo, hi = found.start("lo"), found.end("hi")
    covered = tuple(i for i, place in enumerate(places) if place is not None and place[0] < hi and lo < place[1])
    if not covered:
        return None
    analyte = rules[covered[0]].analyte
    vs = ValueSet(analyte=analyte, values=values, text=text[lo:hi], span=Span(start=lo, end=hi), rules=covered)
    return Atom(start=min([scale.start] + [rules[i].span.start for i in covered]), core=lo,
                end=max([hi] + [rules[i].span.end for i in covered]), node=ValueSetLeaf(value_set=vs), kind="value_set",
                analytes=(analyte.name,), rules=covered)


def value_set_atoms(text: str, rules: Sequence[Rule], cues: LogicCues, taken: Sequence[Atom]) -> list[Atom]:
    """Lists of two or more ordinal categories after a scale word, and single letter classes
    ('Child-Pugh class A'), which the bounds of a range cannot say exactly."""
    out: list[Atom] = []
    reach = -1  # the furthest end of a set found: a scale word at or past it is inside none
    places = [(r.span.start, r.span.end) if r.unit is None else None for r in rules]  # read once
    may_range = _RANGE_MARK.search(text) is not None  # every stage range has one of these
    for scale in cues.scales(text):
        category = scale.meaning
        ranged = _stage_range_atom(text, rules, scale.end, places, scale) if (
            category == "roman" and scale.start >= reach and may_range) else None
        if ranged is not None:
            out.append(ranged)
            reach = max(reach, ranged.end)
            continue
        found = _LIST[category].match(text, scale.end)
        if found is None or (
            scale.start < reach and any(a.start <= scale.start < a.end and a.kind == "value_set" for a in out)
        ):
            continue
        items = _ONE[category].findall(found.group("list"))
        if len(items) < 2 and category in ("roman", "number"):
            continue  # one value is a bound, not a set (said below too; here before the dearer tests)
        lo, hi = found.start("list"), found.end("list")
        if _NOT_A_SET_AFTER.match(text, hi) or _comparator_before(text, scale.start, lo):
            continue
        covered = tuple(i for i, place in enumerate(places) if place is not None and place[0] < hi and lo < place[1])
        if len(items) < 2 and not (category in ("letter", "prefixed") and not covered):
            continue
        if not covered and category in ("roman", "number"):
            continue  # a list the extractor did not read as a scale ('class I or III antiarrhythmics')
        analyte = rules[covered[0]].analyte if covered else _scale_analyte(text, scale.start, scale.end)
        values = tuple(dict.fromkeys(_normal_category(v, category) for v in items))
        vs = ValueSet(analyte=analyte, values=values, text=text[lo:hi], span=Span(start=lo, end=hi), rules=covered)
        start = min([scale.start] + [rules[i].span.start for i in covered])
        out.append(Atom(start=start, core=lo, end=max([hi] + [rules[i].span.end for i in covered]),
                        node=ValueSetLeaf(value_set=vs), kind="value_set", analytes=(analyte.name,),
                        rules=covered))
        reach = max(reach, out[-1].end)
    return out


def _comparator_before(text: str, scale_start: int, list_start: int) -> bool:
    """'≤ grade 1', 'stage ≥ III': a comparator makes a bound, not a set."""
    return bool(_COMPARATOR_END.search(text[max(0, scale_start - 3) : scale_start])) or bool(
        _COMPARATOR_SIGN.search(text, scale_start, list_start)
    )


def _scale_analyte(text: str, start: int, end: int) -> Analyte:
    """The scale a set of categories belongs to, named without its generic word ('Child-Pugh
    class' is 'child-pugh'; a bare 'stage' stays 'stage')."""
    words = text[start:end]
    parts = words.lower().split()
    while len(parts) > 1 and parts[-1] in ("class", "classes", "score", "stage", "stages", "grade", "grades", "of"):
        parts.pop()
    return Analyte(text=words, name=" ".join(parts), in_lexicon=False)


# --- concepts -------------------------------------------------------------------------------------


def concept_atoms(text: str, concepts: Sequence[Concept], taken: Sequence[Atom], cues: LogicCues) -> list[Atom]:
    """Concepts as atoms, except those a rule stands for or that only qualify one: a concept
    inside a rule's words, a heading the rules after it define ('adequate renal function,
    defined as:'), a name the parenthesis after it defines ('obesity (BMI ≥ 30 kg/m²)'), a
    remark in a parenthesis after a limit ('(transfusion allowed ...)'), how a limit is measured
    ('> 450 ms in ECG examination') and a hypothetical concept (a condition, not a requirement)."""
    if not taken:  # nothing to stand for, define or qualify: every concept but a hypothetical one
        return [Atom(start=c.span.start, core=c.span.start, end=c.span.end, node=concept_leaf(j), kind="concept",
                     concept=j) for j, c in enumerate(concepts) if c.modality != "hypothetical"]
    out: list[Atom] = []
    skipped: list[Concept] = []
    for j, concept in enumerate(concepts):
        s, e = concept.span.start, concept.span.end
        if concept.modality == "hypothetical" or any(a.start <= s < a.end or s <= a.start < e for a in taken):
            continue
        remark = _REMARK.match(text, e)  # 'Adequate bone marrow function (Section 6.2): ANC ...'
        after = text[remark.end() if remark and not any(remark.start() <= a.start < remark.end() for a in taken) else e :][:40]
        later = [a for a in taken if a.start >= e]
        if later and (cues.header_re.match(after.lstrip(" ,")) or _defined_by_parenthesis(text, e, later[0])):
            continue
        if _qualifies_a_limit(text, concept, taken) or _continues(text, concept, skipped, taken):
            skipped.append(concept)
            continue
        out.append(Atom(start=s, core=s, end=e, node=concept_leaf(j), kind="concept", concept=j))
    return out


_REMARK = re.compile(r"[ \t]*\([^()]{1,40}\)")


def _continues(text: str, concept: Concept, skipped: Sequence[Concept], taken: Sequence[Atom]) -> bool:
    """'by echocardiogram or MUGA': listed right after a concept that only qualifies a limit."""
    if not skipped:
        return False
    last = skipped[-1]
    if any(last.span.end <= a.start < concept.span.start for a in taken):
        return False
    return bool(_LISTED_AFTER.fullmatch(text[last.span.end : concept.span.start]))


_LISTED_AFTER = re.compile(r"[\s,/]*(?:or|and|and/or)?[\s,/]*", re.IGNORECASE)


_JOINED = re.compile(r"[;]|\b(?:and|or)\b", re.IGNORECASE)
_MEASURED_BY = re.compile(r"\s*\)?\s*,?\s*(?:in|on|by|at|using|via|per|from|during|according\s+to)\b", re.IGNORECASE)


def _qualifies_a_limit(text: str, concept: Concept, taken: Sequence[Atom]) -> bool:
    """A concept in a parenthesis right after a limit, or a test or method after a limit."""
    s = concept.span.start
    before = [a for a in taken if a.end <= s]
    if not before:
        return False
    last = max(before, key=lambda a: a.end)
    open_at = text.rfind("(", last.end, s)
    if open_at >= 0 and not text[last.end : open_at].strip() and text.find(")", open_at, s) < 0:
        return True
    gap = text[last.end : s]
    return concept.type in ("procedure", "observation", "device") and bool(_MEASURED_BY.match(gap)) \
        and not _JOINED.search(gap)


def _defined_by_parenthesis(text: str, end: int, nxt: Atom) -> bool:
    """'Obesity (BMI ≥ 30 kg/m²)': the parenthesis right after the concept holds the next atom."""
    gap = text[end : nxt.start]
    return bool(_OPEN_NAME.fullmatch(gap)) and ")" not in gap


_OPEN_NAME = re.compile(r"\s*[(\[]\s*(?:[A-Za-z][\w-]*\s*){0,4}")
