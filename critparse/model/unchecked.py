"""Contract models built from values already checked, without pydantic validating them again.

Every bullet's result is a `ParseResult` holding rules, diagnostics, concepts and a logic tree,
each a validated model. Validating the result again checks nothing new about those parts, yet
it costs about 15 µs, and a rule with its analyte and span another 10 µs: together more than a
short bullet's whole logic pass. Each builder here makes the checks its model makes, by hand,
and when a value is not exactly what it expects (a type, a closed vocabulary, an order) it
lets the model validate instead, so a wrong value raises just as before (compiled, a value of
another type than the one declared is a TypeError before that).
`tests/model/test_unchecked.py` checks that both ways build the same objects, field for field.
"""

from __future__ import annotations

from collections.abc import Sequence, Set
from typing import Any, TypeVar, get_args

from pydantic import BaseModel

from critparse.model.concept import Concept
from critparse.model.criterion import Criterion, ParseResult
from critparse.model.diagnostic import Diagnostic
from critparse.model.logic import (
    ConceptLeaf,
    ConditionLeaf,
    CriterionLeaf,
    Logic,
    Op,
    RuleLeaf,
    ValueSetLeaf,
    check_indices,
)
from critparse.model.rule import Analyte, Rule
from critparse.model.segment import ItemKind, Segment
from critparse.model.span import Comparator, Section, Span

_Model = TypeVar("_Model", bound=BaseModel)

# The closed vocabularies, read from the models' own types.
_COMPARATORS = frozenset(get_args(Comparator))
_LEVELS = frozenset(get_args(Diagnostic.model_fields["level"].annotation))
_SECTIONS = frozenset(get_args(Section))
_KINDS = frozenset(get_args(Criterion.model_fields["kind"].annotation))
_ITEM_KINDS = frozenset(get_args(ItemKind))
_LOGIC_TYPES = (Op, RuleLeaf, ConceptLeaf, ConditionLeaf, ValueSetLeaf, CriterionLeaf)

_RULE_GIVEN = frozenset(["analyte", "comparator", "value", "unit", "unit_text", "span", "text"])


def unchecked_model(model: type[_Model], values: dict[str, object], given: Set[str] | None = None) -> _Model:
    """A model of checked values, every field given in order (what `model_construct` does, minus
    its per-field work). `given` is what the caller would have passed to the model, its
    `model_fields_set` (default: every field)."""
    obj = object.__new__(model)  # BaseModel has no __new__ of its own
    object.__setattr__(obj, "__dict__", values)
    object.__setattr__(obj, "__pydantic_fields_set__", set(values if given is None else given))
    object.__setattr__(obj, "__pydantic_extra__", None)
    object.__setattr__(obj, "__pydantic_private__", None)
    return obj


def _optional_str(value: object) -> bool:
    return value is None or type(value) is str


def span(start: int, end: int) -> Span:
    """`Span(start=start, end=end)`."""
    if type(start) is int and type(end) is int and 0 <= start <= end:
        return unchecked_model(Span, {"start": start, "end": end})
    return Span(start=start, end=end)


def analyte(text: str, name: str, code: str | None, system: str | None, in_lexicon: bool) -> Analyte:
    """`Analyte(text=..., name=..., code=..., system=..., in_lexicon=...)`."""
    if type(text) is str and type(name) is str and _optional_str(code) and _optional_str(system) and type(in_lexicon) is bool:
        return unchecked_model(Analyte, {"text": text, "name": name, "code": code, "system": system, "in_lexicon": in_lexicon})
    return Analyte(text=text, name=name, code=code, system=system, in_lexicon=in_lexicon)


def rule(
    measured: Analyte, comparator: str, value: float, unit: str | None, unit_text: str | None, where: Span, text: str
) -> Rule:
    """`Rule(analyte=measured, comparator=..., value=..., unit=..., unit_text=..., span=where, text=...)`."""
    if (
        type(measured) is Analyte and type(comparator) is str and comparator in _COMPARATORS and type(value) is float
        and _optional_str(unit) and _optional_str(unit_text) and type(where) is Span and type(text) is str
    ):
        return unchecked_model(Rule, {
            "kind": "threshold", "analyte": measured, "comparator": comparator, "value": value, "unit": unit,
            "unit_text": unit_text, "span": where, "text": text,
        }, _RULE_GIVEN)
    return Rule(analyte=measured, comparator=comparator, value=value, unit=unit,  # type: ignore[arg-type]
                unit_text=unit_text, span=where, text=text)


def diagnostic(level: str, code: str, message: str) -> Diagnostic:
    """`Diagnostic(level=..., code=..., message=...)`."""
    if type(level) is str and level in _LEVELS and type(code) is str and type(message) is str:
        return unchecked_model(Diagnostic, {"level": level, "code": code, "message": message})
    return Diagnostic(level=level, code=code, message=message)  # type: ignore[arg-type]


def _all_of(items: Any, model: type) -> bool:
    """A tuple of exactly `model` instances (a list, or a subclass, is left to validation)."""
    return type(items) is tuple and all(type(item) is model for item in items)


def _parts_fit(rules: Any, diagnostics: Any, concepts: Any, logic: Any) -> bool:
    """The parts of a result or criterion are validated models, in tuples, and every leaf of the
    logic names a rule or concept there is (what the models' own check says)."""
    if not (_all_of(rules, Rule) and _all_of(diagnostics, Diagnostic) and _all_of(concepts, Concept)
            and (logic is None or type(logic) in _LOGIC_TYPES)):
        return False
    try:
        check_indices(logic, len(rules), len(concepts))
    except ValueError:
        return False  # validating raises it as pydantic does
    return True


def parse_result(
    text: str, rules: Sequence[Rule], no_threshold_reason: str | None, diagnostics: Sequence[Diagnostic],
    concepts: Sequence[Concept], logic: Logic | None,
) -> ParseResult:
    """`ParseResult(text=..., rules=..., no_threshold_reason=..., diagnostics=..., concepts=..., logic=...)`,
    its own check included (every leaf of `logic` names a rule or concept it has)."""
    given: dict[str, Any] = {
        "text": text, "rules": rules, "no_threshold_reason": no_threshold_reason,
        "diagnostics": diagnostics, "concepts": concepts, "logic": logic,
    }
    if type(text) is str and _optional_str(no_threshold_reason) and _parts_fit(rules, diagnostics, concepts, logic):
        return unchecked_model(ParseResult, {"id": None, **given}, given.keys())
    return ParseResult(**given)


_CRITERION_DEFAULTS: dict[str, Any] = {
    name: None if field.is_required() else field.default for name, field in Criterion.model_fields.items()
}
"""`Criterion`'s fields in order, with their defaults (`path` and `text` have none: None here)."""


def criterion(given: dict[str, Any]) -> Criterion:
    """`Criterion(**given)`, its own check included, as `parse_result`."""
    values = {**_CRITERION_DEFAULTS, **given}
    span_ = values["span"]
    if (
        len(values) == len(_CRITERION_DEFAULTS) and _optional_str(values["trial_id"])
        and type(values["kind"]) is str and values["kind"] in _KINDS
        and type(values["section"]) is str and values["section"] in _SECTIONS
        and type(values["path"]) is str and (span_ is None or type(span_) is Span)
        and type(values["text"]) is str and _optional_str(values["parent_text"])
        and _optional_str(values["no_threshold_reason"])
        and _parts_fit(values["rules"], values["diagnostics"], values["concepts"], values["logic"])
    ):
        return unchecked_model(Criterion, values, given.keys())
    return Criterion(**given)


def segment(
    kind: str, section: str, path: str, where: Span, text: str, parent_text: str | None, parent_path: str | None,
    depth: int, marker: str | None, given: Set[str] | None = None,
) -> Segment:
    """`Segment(kind=..., section=..., path=..., span=where, text=..., parent_text=..., parent_path=..., depth=..., marker=...)`;
    `given` is the fields the caller would have named (default: all)."""
    if (
        type(kind) is str and kind in _ITEM_KINDS and type(section) is str and section in _SECTIONS
        and type(path) is str and type(where) is Span and type(text) is str and _optional_str(parent_text)
        and _optional_str(parent_path) and type(depth) is int and _optional_str(marker)
    ):
        return unchecked_model(Segment, {
            "kind": kind, "section": section, "path": path, "span": where, "text": text, "parent_text": parent_text,
            "parent_path": parent_path, "depth": depth, "marker": marker,
        }, given)
    return Segment(kind=kind, section=section, path=path, span=where, text=text,  # type: ignore[arg-type]
                   parent_text=parent_text, parent_path=parent_path, depth=depth, marker=marker)
