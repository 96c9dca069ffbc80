"""The review page: a trial's criteria as written, with what critparse read in them highlighted.

A coordinator or a trial designer checks a parse by looking at the text and what was found in
it, not by reading JSONL. `render_report` turns whole-trial results (and, optionally, one
patient) into one self-contained HTML page: inline CSS and a little JS, nothing fetched, laid out
by the Jinja2 template `templates/report.html.j2` with autoescaping on. This module only builds
plain view objects (highlighted text pieces, rule and concept summaries, logic blocks, screening
outcomes) for the template, so each step is testable without a browser.

Concepts (`Criterion.concepts`) and logic trees (`Criterion.logic`) are read with `getattr`, as
plain dicts or as models, so the page shows them wherever a parse carries them.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from importlib import resources as package_files
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from critparse.model import Criterion, Diagnostic, Rule, ScreeningResult

if TYPE_CHECKING:
    from critparse.extract.context import ContextRules
    from critparse.lexicon.resources import Resources
    from critparse.model import CriterionResult, Patient, RuleResult

_FROZEN = ConfigDict(frozen=True, extra="forbid")

MarkKind = Literal[
    "rule", "condition", "value_set", "concept", "time", "analyte", "negation", "comparator",
    "value", "unit",
]
# Which mark encloses which when two cover the same characters: a rule holds its parts.
_RANK: dict[str, int] = {k: i for i, k in enumerate(MarkKind.__args__)}  # type: ignore[attr-defined]

__all__ = [
    "CriterionView",
    "Labels",
    "LogicNode",
    "Mark",
    "Node",
    "ReportStats",
    "TrialView",
    "build_trial_view",
    "highlight",
    "load_labels",
    "render_report",
    "rule_marks",
    "write_report",
]


# --- the page's words and symbols (templates/labels.json) ------------------------------------


class Symbol(BaseModel):
    """A state shown by a symbol and a word next to its colour."""

    model_config = _FROZEN

    symbol: str
    label: str


class Labels(BaseModel):
    """`templates/labels.json`: every word and symbol the page shows that is not data."""

    model_config = _FROZEN

    about: str = Field(default="", alias="_about")
    systems: dict[str, str]
    ops: dict[str, str]
    if_roles: tuple[str, str, str]
    kinds: dict[str, str]
    sections: dict[str, str]
    outcomes: dict[str, Symbol]
    verdicts: dict[str, Symbol]
    effects: dict[str, str]
    levels: dict[str, str]
    units: dict[str, str]

    def system(self, uri: str | None) -> str:
        """A short name for a code system ('http://loinc.org' -> 'LOINC')."""
        if not uri:
            return ""
        return self.systems.get(uri.rstrip("/"), uri)


def load_labels() -> Labels:
    """The bundled labels; a broken file fails here, with every problem listed by pydantic."""
    text = package_files.files("critparse.export").joinpath("templates/labels.json").read_text("utf-8")
    return Labels.model_validate_json(text)


# --- highlighted text ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Mark:
    """A highlighted stretch `[start, end)` of a criterion's text."""

    kind: MarkKind
    start: int
    end: int
    css: str = ""
    title: str = ""
    data: tuple[tuple[str, str], ...] = ()
    cont: bool = False  # a piece of a mark that was cut where an enclosing mark ends

    def clip(self, start: int, end: int) -> Mark:
        return Mark(self.kind, start, end, self.css, self.title, self.data, cont=True)


@dataclass(frozen=True, slots=True)
class Node:
    """A mark with what it encloses: plain strings and nested marks."""

    mark: Mark
    children: tuple[str | Node, ...]


def _merge_same(marks: Iterable[Mark]) -> list[Mark]:
    """One mark per kind and stretch: two rules of one range share one highlight."""
    merged: dict[tuple[str, int, int, str], Mark] = {}
    for m in marks:
        key = (m.kind, m.start, m.end, m.css)
        old = merged.get(key)
        if old is None:
            merged[key] = m
            continue
        data = dict(old.data)
        for k, v in m.data:
            data[k] = f"{data[k]} {v}" if k in data and v not in data[k].split() else v
        title = old.title if m.title in old.title else f"{old.title}; {m.title}"
        merged[key] = Mark(old.kind, old.start, old.end, old.css, title, tuple(data.items()))
    return list(merged.values())


def _sorted(marks: Iterable[Mark]) -> list[Mark]:
    return sorted(marks, key=lambda m: (m.start, -m.end, _RANK[m.kind]))


def _nest(text: str, marks: list[Mark], lo: int, hi: int) -> tuple[str | Node, ...]:
    """`text[lo:hi]` as pieces; a mark crossing an enclosing mark's end is cut in two."""
    out: list[str | Node] = []
    pos, rest = lo, _sorted(marks)
    while rest:
        first, inner, later = rest[0], [], []
        for m in rest[1:]:
            if m.start >= first.end:
                later.append(m)
            elif m.end <= first.end:
                inner.append(m)
            else:
                inner.append(m.clip(m.start, first.end))
                later.append(m.clip(first.end, m.end))
        if first.start > pos:
            out.append(text[pos : first.start])
        out.append(Node(first, _nest(text, inner, first.start, first.end)))
        pos, rest = first.end, _sorted(later)
    if pos < hi:
        out.append(text[pos:hi])
    return tuple(out)


def highlight(text: str, marks: Iterable[Mark]) -> tuple[str | Node, ...]:
    """The text as pieces for the template: strings, and marks nested by what they enclose."""
    kept = [m for m in marks if 0 <= m.start < m.end <= len(text)]
    return _nest(text, _merge_same(kept), 0, len(text))


# --- the parts of a threshold rule -----------------------------------------------------------

_NUMBER = re.compile(r"(?<![\w.])\d+(?:[.,]\d+)*")
_ROMAN = re.compile(r"\b([IVX]{1,5})[A-C]?\b")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10}


def _number_values(written: str) -> set[float]:
    """What a written number can mean: '100,000' -> 100000; '2,5' -> 2.5 or 25."""
    values = set()
    for candidate in (written.replace(",", ""), written.replace(",", ".")):
        try:
            values.add(float(candidate))
        except ValueError:
            continue
    return values


def _roman(written: str) -> float:
    digits = [_ROMAN_VALUES[c] for c in written]
    return float(sum(-d if i + 1 < len(digits) and d < digits[i + 1] else d
                     for i, d in enumerate(digits)))


def _value_span(rt: str, value: float, avoid: tuple[int, int] | None) -> tuple[int, int] | None:
    """Where the rule's number is written in its text (a roman numeral for stages and classes)."""
    def free(start: int, end: int) -> bool:
        return avoid is None or end <= avoid[0] or start >= avoid[1]

    for m in _NUMBER.finditer(rt):
        if free(*m.span()) and any(math.isclose(v, value) for v in _number_values(m.group())):
            return m.span()
    for m in _ROMAN.finditer(rt):
        if free(*m.span(1)) and math.isclose(_roman(m.group(1)), value):
            return m.span(1)
    return None


def _find(haystack: str, needle: str | None, start: int = 0) -> tuple[int, int] | None:
    if not needle:
        return None
    at = haystack.lower().find(needle.lower(), start)
    return None if at < 0 else (at, at + len(needle))


def _comparator_span(rt: str, rule: Rule, lo: int, value: tuple[int, int] | None,
                     after: int, vocabulary: Any) -> tuple[int, int] | None:
    """The comparator phrase just before the number, else just after the number and unit."""
    if vocabulary is None or value is None:
        return None
    try:
        ending = vocabulary.comparators_ending(rt)
        best = max((end for end, (_, start) in ending.items()
                    if start >= lo and end <= value[0] and not rt[end : value[0]].strip()),
                   default=None)
        if best is not None:
            return ending[best][1], best
        m = vocabulary.after_re.match(rt, after)
        if m and vocabulary.comparator_after(m.group("cmp")) == rule.comparator:
            return m.span("cmp")
    except (AttributeError, KeyError, TypeError):  # a vocabulary without these matchers
        return None
    return None


def _rule_title(rule: Rule, labels: Labels) -> str:
    code = f" · {labels.system(rule.analyte.system)} {rule.analyte.code}" if rule.analyte.code else ""
    return f"{rule_summary(rule)}{code}"


def rule_summary(rule: Rule) -> str:
    """'creatinine < 2.5 mg/dL': the normalised rule in one line."""
    unit = f" {rule.unit}" if rule.unit else ""
    return f"{rule.analyte.name} {rule.comparator} {rule.value:g}{unit}"


def rule_marks(text: str, rule: Rule, index: int, *, labels: Labels,
               vocabulary: Any = None) -> list[Mark]:
    """The rule's whole span and, inside it, its analyte, comparator, value and unit as written."""
    start, end = rule.span.start, min(rule.span.end, len(text))
    rt = text[start:end]
    ref = (("rule", str(index)),)
    marks = [Mark("rule", start, end, title=f"rule {index + 1}: {_rule_title(rule, labels)}",
                  data=ref)]
    analyte = _find(rt, rule.analyte.text)
    value = _value_span(rt, rule.value, analyte)
    unit = _find(rt, rule.unit_text, value[1] if value else 0)
    lo = analyte[1] if analyte and (value is None or analyte[1] <= value[0]) else 0
    after = unit[1] if unit else (value[1] if value else 0)
    comparator = _comparator_span(rt, rule, lo, value, after, vocabulary)
    unit_title = f"unit: {rule.unit_text} → {rule.unit}" if rule.unit else "unit (not normalised)"
    parts: list[tuple[MarkKind, tuple[int, int] | None, str]] = [
        ("analyte", analyte, f"analyte: {rule.analyte.name}"
         + (f" · {labels.system(rule.analyte.system)} {rule.analyte.code}" if rule.analyte.code else "")),
        ("comparator", comparator, f"comparator: {rule.comparator}"),
        ("value", value, f"value: {rule.value:g}"),
        ("unit", unit, unit_title),
    ]
    for kind, where, title in parts:
        if where is not None and where[0] < where[1]:
            marks.append(Mark(kind, start + where[0], start + where[1], title=title, data=ref))
    return marks


# --- concepts, negation cues, time windows and conditions ------------------------------------


def _get(obj: Any, name: str, default: Any = None) -> Any:
    """A field of a model or a dict: concepts and logic arrive either way."""
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _span_of(obj: Any) -> tuple[int, int] | None:
    span = _get(obj, "span")
    if span is None:
        start, end = _get(obj, "start"), _get(obj, "end")
    else:
        start, end = _get(span, "start"), _get(span, "end")
    return (start, end) if isinstance(start, int) and isinstance(end, int) else None


def concept_title(concept: Any, labels: Labels) -> str:
    """'condition: hepatitis c infection · negated · MONDO MONDO:0005231'."""
    bits = [f"{_get(concept, 'type', 'concept')}: {_get(concept, 'name') or _get(concept, 'text')}"]
    if _get(concept, "negated"):
        bits.append("negated")
    for name in ("modality", "subject"):
        value = _get(concept, name)
        if value and value != "patient":
            bits.append(str(value))
    temporal = _get(concept, "temporal")
    if temporal is not None:
        bits.append(f"time: {_get(temporal, 'text')}")
    bits += [f"{labels.system(_get(c, 'system'))} {_get(c, 'code')}" for c in _get(concept, "codes", ()) or ()]
    return " · ".join(bits)


def concept_marks(concepts: Sequence[Any], labels: Labels) -> list[Mark]:
    """Each concept (by type), its time window, and its own negation cues when it carries them."""
    marks = []
    for j, concept in enumerate(concepts):
        ref = (("concept", str(j)),)
        where = _span_of(concept)
        kind = str(_get(concept, "type", "other"))
        css = f"concept-{kind}" + (" negated" if _get(concept, "negated") else "")
        if where:
            marks.append(Mark("concept", *where, css=css, title=concept_title(concept, labels), data=ref))
        temporal = _get(concept, "temporal")
        window = _span_of(temporal) if temporal is not None else None
        if window:
            marks.append(Mark("time", *window, title=f"time window: {time_summary(temporal)}", data=ref))
        for cue in _get(concept, "cues", ()) or ():
            cue_at = _span_of(cue)
            if cue_at and "NEG" in str(_get(cue, "category", "NEGATED_EXISTENCE")).upper():
                marks.append(Mark("negation", *cue_at, title="negation cue", data=ref))
    return marks


def time_summary(window: Any) -> str:
    """'<= 4 wk before enrolment' from a time window, or its text when it has no duration."""
    value, unit = _get(window, "value"), _get(window, "unit")
    if value is None:
        parts = [str(_get(window, "relation") or ""), str(_get(window, "anchor") or "")]
        return " ".join(p for p in parts if p) or str(_get(window, "text", ""))
    comparator = _get(window, "comparator") or ""
    tail = " ".join(str(p) for p in (_get(window, "relation"), _get(window, "anchor") or "now") if p)
    return f"{comparator} {value:g} {unit} {tail}".strip()


def negation_marks(text: str, concepts: Sequence[Any], rules: ContextRules | None) -> list[Mark]:
    """The negation cues that reach the negated concepts (ConText over the criterion's text)."""
    if rules is None or any(_get(c, "cues") for c in concepts):
        return []
    targets = [(j, _span_of(c)) for j, c in enumerate(concepts) if _get(c, "negated")]
    targets = [(j, at) for j, at in targets if at is not None]
    if not targets:
        return []
    from critparse.extract.context import apply_context

    marks = []
    flags = apply_context(text, [at for _, at in targets], rules)  # type: ignore[misc]
    for (j, _), flag in zip(targets, flags, strict=True):
        for cue in flag.cues:
            if cue.category == "NEGATED_EXISTENCE":
                marks.append(Mark("negation", cue.start, cue.end, title="negation cue",
                                  data=(("concept", str(j)),)))
    return marks


# --- logic trees -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LogicNode:
    """One block of a criterion's logic: an operator over children, or a leaf."""

    kind: Literal["op", "rule", "concept", "condition", "value_set", "criterion", "other"]
    label: str
    op: str = ""
    ref: str = ""
    role: str = ""  # 'if' / 'then' / 'otherwise' for the children of an if
    children: tuple[LogicNode, ...] = ()


def _as_data(node: Any) -> Any:
    dump = getattr(node, "model_dump", None)
    return dump(exclude_none=True) if callable(dump) else node


def logic_view(node: Any, rules: Sequence[Rule], concepts: Sequence[Any], labels: Labels,
               depth: int = 0) -> LogicNode:
    """A logic tree (`{"op": ..., "args": [...]}` with rule, concept and condition leaves)."""
    data = _as_data(node)
    if not isinstance(data, Mapping) or depth > 50:
        return LogicNode("other", json.dumps(data, default=str)[:200])
    if "op" in data:
        op = str(data["op"])
        args = [logic_view(a, rules, concepts, labels, depth + 1) for a in data.get("args", ())]
        n = data.get("n", data.get("k", data.get("min", "")))
        label = labels.ops.get(op, op).format(n=n)
        if data.get("enumeration"):
            label = labels.ops.get("enumeration", label)
        if op == "if":
            args = [LogicNode(a.kind, a.label, a.op, a.ref, labels.if_roles[min(i, 2)], a.children)
                    for i, a in enumerate(args)]
        return LogicNode("op", label, op=op, children=tuple(args))
    return _logic_leaf(data, rules, concepts, labels)


def _logic_leaf(data: Mapping[str, Any], rules: Sequence[Rule], concepts: Sequence[Any],
                labels: Labels) -> LogicNode:
    if isinstance(data.get("rule"), int):
        i = data["rule"]
        label = rule_summary(rules[i]) if 0 <= i < len(rules) else "(missing rule)"
        return LogicNode("rule", f"rule {i + 1}: {label}", ref=str(i))
    if isinstance(data.get("concept"), int):
        j = data["concept"]
        label = concept_title(concepts[j], labels) if 0 <= j < len(concepts) else "(missing concept)"
        return LogicNode("concept", label, ref=str(j))
    if "condition" in data:
        return LogicNode("condition", condition_label(_as_data(data["condition"])))
    if "value_set" in data:
        vs = _as_data(data["value_set"])
        name = _get(_get(vs, "analyte", {}), "name", "") or "category"
        values = ", ".join(str(v) for v in _get(vs, "values", ()) or ())
        return LogicNode("value_set", f"{name} in {{{values}}}")
    if "criterion" in data:
        return LogicNode("criterion", f"item {data['criterion']}")
    return LogicNode("other", json.dumps(data, default=str)[:200])


def condition_label(cond: Any) -> str:
    """'condition (clinical): hepatic metastases', with the limits that define it."""
    text = _get(cond, "text") or _get(cond, "name") or json.dumps(cond, default=str)[:120]
    kind = _get(cond, "kind")
    limits = [rule_summary(Rule.model_validate(_as_data(r)))
              for r in _get(cond, "thresholds", ()) or ()]
    tail = f" [{'; '.join(limits)}]" if limits else ""
    return f"condition{f' ({kind})' if kind else ''}: {text}{tail}"


def condition_marks(node: Any, depth: int = 0) -> list[Mark]:
    """The condition leaves of a logic tree that say where they are written."""
    data = _as_data(node)
    if not isinstance(data, Mapping) or depth > 50:
        return []
    if "op" in data:
        return [m for a in data.get("args", ()) for m in condition_marks(a, depth + 1)]
    leaves: tuple[tuple[str, MarkKind], ...] = (("condition", "condition"), ("value_set", "value_set"))
    for key, kind in leaves:
        leaf = _as_data(data.get(key))
        where = _span_of(leaf) if leaf is not None else None
        if where is not None:
            title = (condition_label(leaf) if kind == "condition"
                     else f"value set: {', '.join(str(v) for v in _get(leaf, 'values', ()) or ())}")
            return [Mark(kind, *where, title=title)]
    return []


# --- one criterion ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleScreen:
    """One rule checked against the patient: what was observed, converted and decided."""

    outcome: str
    symbol: str
    label: str
    observed: str
    converted: str
    limit: str
    reason: str


@dataclass(frozen=True, slots=True)
class RuleView:
    """A rule as the page lists it under its criterion: normalised, with codes and unit."""

    index: int
    summary: str
    text: str
    analyte: str
    analyte_text: str
    in_text: bool
    code: str
    unit: str
    unit_note: str
    unit_text: str
    screen: RuleScreen | None = None


@dataclass(frozen=True, slots=True)
class ConceptView:
    """A concept as the page lists it: type, name, context flags, time window and codes."""

    index: int
    type: str
    text: str
    name: str
    negated: bool
    flags: tuple[str, ...]
    time: str
    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DiagnosticView:
    level: str
    symbol: str
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class ScreenView:
    """A criterion's or a trial's screening state: colour class, symbol, words and reason."""

    state: Literal["pass", "fail", "unknown", "unchecked"]
    outcome: str
    symbol: str
    label: str
    effect: str
    reason: str


@dataclass(slots=True)
class CriterionView:
    """One criterion as the page shows it; `children` are the bullets nested under it."""

    anchor: str
    path: str
    label: str
    kind: str
    section: str
    pieces: tuple[str | Node, ...]
    rules: tuple[RuleView, ...]
    concepts: tuple[ConceptView, ...]
    logic: LogicNode | None
    diagnostics: tuple[DiagnosticView, ...]
    reason: str
    screen: ScreenView | None
    structured: bool
    children: list[CriterionView] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Tools:
    """What building views needs, loaded once per page."""

    labels: Labels
    vocabulary: Any = None
    context_rules: Any = None
    is_ucum: Any = None


def _unit_note(rule: Rule, tools: Tools) -> str:
    if rule.unit is None:
        return "no unit" if not rule.unit_text else "unit not normalised"
    if rule.unit in tools.labels.units:
        return tools.labels.units[rule.unit]
    if tools.is_ucum is None:
        return ""
    try:
        return "UCUM" if tools.is_ucum(rule.unit) else "not a UCUM code"
    except Exception:  # a unit checker that cannot load must not cost the page
        return ""


def _fmt(value: float | None, unit: str | None) -> str:
    if value is None:
        return ""
    return f"{value:.6g} {unit}" if unit else f"{value:.6g}"


def rule_screen(result: RuleResult, labels: Labels) -> RuleScreen:
    """What the page says about one rule checked against the patient."""
    outcome = labels.outcomes[result.outcome]
    observed = _fmt(result.observed_value, result.observed_unit)
    if observed and result.source:
        observed = f"{observed} ({result.source})"
    converted = _fmt(result.converted_value, result.converted_unit)
    if converted == _fmt(result.observed_value, result.observed_unit):
        converted = ""
    limit = _fmt(result.limit_value, result.limit_unit)
    if limit and result.limit_source:
        limit = f"{limit} ({result.limit_source})"
    return RuleScreen(result.outcome, outcome.symbol, outcome.label, observed, converted, limit,
                      result.reason)


def rule_view(rule: Rule, index: int, text: str, tools: Tools,
              result: RuleResult | None = None) -> RuleView:
    analyte = rule.analyte
    code = f"{tools.labels.system(analyte.system)} {analyte.code}" if analyte.code else ""
    return RuleView(
        index=index, summary=rule_summary(rule), text=rule.text, analyte=analyte.name,
        analyte_text=analyte.text, in_text=analyte.text.lower() in text.lower(), code=code,
        unit=rule.unit or "", unit_note=_unit_note(rule, tools), unit_text=rule.unit_text or "",
        screen=rule_screen(result, tools.labels) if result is not None else None,
    )


def concept_view(concept: Any, index: int, labels: Labels) -> ConceptView:
    flags = [str(_get(concept, "modality"))] if _get(concept, "modality") else []
    if _get(concept, "subject") == "family":
        flags.append("family")
    flags += [str(q) for q in _get(concept, "qualifiers", ()) or ()]
    temporal = _get(concept, "temporal")
    codes = tuple(f"{labels.system(_get(c, 'system'))} {_get(c, 'code')}"
                  + (f" ({_get(c, 'display')})" if _get(c, "display") else "")
                  for c in _get(concept, "codes", ()) or ())
    return ConceptView(
        index=index, type=str(_get(concept, "type", "other")), text=str(_get(concept, "text", "")),
        name=str(_get(concept, "name") or _get(concept, "text", "")),
        negated=bool(_get(concept, "negated")), flags=tuple(flags),
        time=(f"{_get(temporal, 'text')} ({time_summary(temporal)})" if temporal is not None else ""),
        codes=codes,
    )


def criterion_screen(result: CriterionResult, labels: Labels) -> ScreenView:
    """Colour by what the criterion means for eligibility; symbol and word by its outcome."""
    if not result.checked:
        un = labels.outcomes["unchecked"]
        return ScreenView("unchecked", "unchecked", un.symbol, un.label, "", result.reason)
    outcome = labels.outcomes[result.outcome]
    state: Literal["pass", "fail", "unknown"] = (
        "pass" if result.verdict == "eligible" else "fail" if result.verdict == "ineligible"
        else "unknown")
    return ScreenView(state, result.outcome, outcome.symbol, outcome.label,
                      labels.effects[result.verdict], result.reason)


def _diagnostics(criterion: Criterion, known: set[tuple[str, str, str]],
                 labels: Labels) -> tuple[DiagnosticView, ...]:
    """The criterion's own diagnostics: not the record's (shown once per trial), and not the
    'no threshold' note that its reason already gives."""
    out = []
    for d in criterion.diagnostics:
        if (d.level, d.code, d.message) in known or (d.level == "info" and d.code == "no_threshold"):
            continue
        out.append(DiagnosticView(d.level, labels.levels.get(d.level, ""), d.code, d.message))
    return tuple(out)


def _path_label(criterion: Criterion) -> str:
    head, _, rest = criterion.path.partition("/")
    if criterion.kind == "structured":
        return rest
    return rest.replace("/", ".") if rest else head


def criterion_view(criterion: Criterion, anchor: str, tools: Tools, *,
                   known: set[tuple[str, str, str]] = frozenset(),  # type: ignore[assignment]
                   result: CriterionResult | None = None) -> CriterionView:
    """Everything the page shows for one criterion."""
    text, rules = criterion.text, criterion.rules
    concepts = tuple(getattr(criterion, "concepts", ()) or ())
    logic = getattr(criterion, "logic", None)
    marks = [m for i, r in enumerate(rules)
             for m in rule_marks(text, r, i, labels=tools.labels, vocabulary=tools.vocabulary)]
    marks += concept_marks(concepts, tools.labels)
    marks += negation_marks(text, concepts, tools.context_rules)
    marks += condition_marks(logic) if logic is not None else []
    rule_results: tuple[RuleResult | None, ...] = tuple(result.rules) if result is not None else ()
    if len(rule_results) != len(rules):
        rule_results = (None,) * len(rules)
    screen = criterion_screen(result, tools.labels) if result is not None else None
    if screen is not None and screen.reason == "; ".join(r.reason for r in rule_results if r):
        screen = replace(screen, reason="")  # the rules below say it, one by one
    return CriterionView(
        anchor=anchor, path=criterion.path, label=_path_label(criterion), kind=criterion.kind,
        section=criterion.section, pieces=highlight(text, marks),
        rules=tuple(rule_view(r, i, text, tools, rr) for i, (r, rr) in
                    enumerate(zip(rules, rule_results, strict=True))),
        concepts=tuple(concept_view(c, j, tools.labels) for j, c in enumerate(concepts)),
        logic=_drawn_logic(logic, rules, concepts, tools.labels),
        diagnostics=_diagnostics(criterion, known, tools.labels),
        reason=(criterion.no_threshold_reason or "") if not rules and screen is None else "",
        screen=screen,
        structured=bool(rules or concepts or (logic is not None and condition_marks(logic))),
    )


def _drawn_logic(logic: Any, rules: Sequence[Rule], concepts: Sequence[Any],
                 labels: Labels) -> LogicNode | None:
    """The tree worth drawing: an operator; a lone leaf says no more than the lists above."""
    if logic is None:
        return None
    view = logic_view(logic, rules, concepts, labels)
    return view if view.kind == "op" else None


# --- one trial -------------------------------------------------------------------------------


class TrialLike(Protocol):
    """What a trial brings to the page (`critparse.runs.batch.TrialResult` is one)."""

    @property
    def trial_id(self) -> str | None: ...
    @property
    def criteria(self) -> Sequence[Criterion]: ...
    @property
    def diagnostics(self) -> Sequence[Diagnostic]: ...


@dataclass(slots=True)
class SectionView:
    key: str
    heading: str
    label: str
    items: list[CriterionView] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TrialView:
    """A trial's header (id, counts, coverage, verdict) and its criteria by section."""

    anchor: str
    trial_id: str
    criteria: int
    rules: int
    concepts: int
    unstructured: int
    coverage: str
    coverage_value: float
    diagnostics: tuple[DiagnosticView, ...]
    sections: tuple[SectionView, ...]
    verdict: ScreenView | None = None
    screening_counts: str = ""
    notes: tuple[str, ...] = ()


def _nest_items(entries: list[tuple[str, CriterionView]]) -> list[CriterionView]:
    """Bullets under their parent bullet, by path ('inclusion/3/b' under 'inclusion/3')."""
    top: list[CriterionView] = []
    by_path: dict[str, CriterionView] = {}
    for path, view in entries:
        parent = by_path.get(path.rsplit("/", 1)[0]) if path.count("/") > 1 else None
        (parent.children if parent is not None else top).append(view)
        by_path[path] = view
    return top


def _sections(pairs: Sequence[tuple[Criterion, CriterionView]], labels: Labels) -> tuple[SectionView, ...]:
    """Criteria grouped as written: registry fields, then a group per heading or section run."""
    groups: list[tuple[SectionView, list[tuple[str, CriterionView]]]] = []
    for criterion, view in pairs:
        key = "structured" if criterion.kind == "structured" else criterion.section
        if criterion.kind == "header" or not groups or groups[-1][0].key != key:
            heading = criterion.text if criterion.kind == "header" else labels.sections[key]
            groups.append((SectionView(key, heading, labels.sections[key]), []))
        if criterion.kind != "header":
            groups[-1][1].append((criterion.path, view))
    for section, entries in groups:
        section.items = _nest_items(entries)
    return tuple(section for section, _ in groups)


def _verdict(screening: ScreeningResult, labels: Labels) -> tuple[ScreenView, str]:
    v = labels.verdicts[screening.verdict]
    state: Literal["pass", "fail", "unknown"] = (
        "pass" if screening.verdict == "eligible" else "fail" if screening.verdict == "ineligible"
        else "unknown")
    counts = (f"{screening.met} met, {screening.not_met} not met, {screening.unknown} unknown, "
              f"{screening.unchecked} not checked")
    return ScreenView(state, screening.verdict, v.symbol, v.label, "", screening.reason), counts


def build_trial_view(trial: TrialLike, number: int, tools: Tools,
                     screening: ScreeningResult | None = None) -> TrialView:
    """The view of one trial; `screening` is `evaluate(trial.criteria, patient)` when given."""
    criteria = list(trial.criteria)
    known: set[tuple[str, str, str]] = {(d.level, d.code, d.message) for d in trial.diagnostics}
    results = list(screening.criteria) if screening is not None else []
    pairs = []
    for i, criterion in enumerate(criteria):
        result = results[i] if i < len(results) else None
        pairs.append((criterion, criterion_view(criterion, f"t{number}-c{i + 1}", tools,
                                                known=known, result=result)))
    items = [view for c, view in pairs if c.kind != "header"]
    unstructured = sum(not view.structured for view in items)
    coverage = f"{(len(items) - unstructured) / len(items):.0%}" if items else "–"
    verdict, counts = _verdict(screening, tools.labels) if screening is not None else (None, "")
    return TrialView(
        anchor=f"trial-{number}", trial_id=trial.trial_id or f"record {number}",
        criteria=len(items), rules=sum(len(c.rules) for c in criteria),
        concepts=sum(len(view.concepts) for view in items), unstructured=unstructured,
        coverage=coverage,
        coverage_value=(len(items) - unstructured) / len(items) if items else 0.0,
        diagnostics=tuple(DiagnosticView(d.level, tools.labels.levels.get(d.level, ""), d.code,
                                         d.message) for d in trial.diagnostics),
        sections=_sections(pairs, tools.labels), verdict=verdict, screening_counts=counts,
        notes=tuple(screening.notes) if screening is not None else (),
    )


# --- the page --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PageView:
    title: str
    source: str
    version: str
    patient: str
    trials: tuple[TrialView, ...]
    errors: tuple[str, ...]
    labels: Labels


class ReportStats(BaseModel):
    """What `write_report` wrote."""

    model_config = _FROZEN

    trials: int
    errors: int
    criteria: int
    rules: int
    concepts: int
    bytes: int
    seconds: float

    def describe(self) -> str:
        def n(count: int, one: str, many: str) -> str:
            return f"{count} {one if count == 1 else many}"

        return (f"{n(self.trials, 'trial', 'trials')}, {n(self.criteria, 'criterion', 'criteria')}, "
                f"{n(self.rules, 'rule', 'rules')}, {n(self.concepts, 'concept', 'concepts')}, "
                f"{n(self.errors, 'bad record', 'bad records')}; {self.bytes / 1024:.0f} KiB "
                f"in {self.seconds:.1f} s")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("critparse")
    except PackageNotFoundError:  # pragma: no cover - a source tree that was never installed
        return "0.0.0"


def make_tools(resources: Resources | None = None, *, check_ucum: bool = True) -> Tools:
    """The labels, comparator vocabulary, ConText rules and UCUM check a page uses."""
    from critparse.extract.context import load_context_rules
    from critparse.lexicon.resources import default_resources

    res = resources or default_resources()
    try:
        vocabulary = res.vocabulary
    except Exception:  # the comparator parts are a nicety: a page without them still shows rules
        vocabulary = None
    is_ucum = (lambda code: res.ucum.is_ucum(code)) if check_ucum else None
    return Tools(load_labels(), vocabulary, load_context_rules(), is_ucum)


def build_page(trials: Iterable[Any], *, patient: Any = None, as_of: date | None = None,
               resources: Resources | None = None, tools: Tools | None = None,
               title: str | None = None, source: str | None = None) -> PageView:
    """Views of every trial (a `RecordError` becomes a line in the page's list of bad records)."""
    from critparse.screen.evaluate import evaluate
    from critparse.screen.patient import load_patient

    tools = tools or make_tools(resources)
    person: Patient | None = (load_patient(patient, as_of=as_of, resources=resources)
                              if patient is not None else None)
    views: list[TrialView] = []
    errors: list[str] = []
    for item in trials:
        if not hasattr(item, "criteria"):
            describe = getattr(item, "describe", None)
            errors.append(describe(source) if callable(describe) else str(item))
            continue
        screening = (evaluate(list(item.criteria), person, resources=resources)
                     if person is not None else None)
        views.append(build_trial_view(item, len(views) + 1, tools, screening))
    first = views[0].trial_id if len(views) == 1 else f"{len(views)} trials"
    return PageView(title=title or f"critparse review: {first}", source=source or "",
                    version=_version(), patient=(person.id or "patient") if person else "",
                    trials=tuple(views), errors=tuple(errors), labels=tools.labels)


def render_page(page: PageView) -> str:
    """The page as one self-contained HTML document (Jinja2, autoescaped)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("critparse.export", "templates"),
        autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
    )
    return env.get_template("report.html.j2").render(page=page)


def render_report(trials: Iterable[Any], **options: Any) -> str:
    """`build_page` then `render_page`: the HTML of the review page of these trials."""
    return render_page(build_page(trials, **options))


def write_report(trials: Iterable[Any], output: str | Path, **options: Any) -> ReportStats:
    """Write the page to `output` atomically (a temporary file renamed into place)."""
    started = time.perf_counter()
    page = build_page(trials, **options)
    html = render_page(page)
    target = Path(output)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent or Path("."))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(html)
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a report is meant to be shared
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return ReportStats(
        trials=len(page.trials), errors=len(page.errors),
        criteria=sum(t.criteria for t in page.trials), rules=sum(t.rules for t in page.trials),
        concepts=sum(t.concepts for t in page.trials), bytes=len(html.encode("utf-8")),
        seconds=time.perf_counter() - started,
    )
