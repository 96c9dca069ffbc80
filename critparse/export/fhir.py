"""A trial's criteria as one FHIR R5 `EvidenceVariable` (hl7.org/fhir/R5/evidencevariable.html).

Each criterion is a `characteristic` (`exclude: true` for an exclusion criterion) whose
definition follows its logic tree one node at a time:

- a rule is `definitionByTypeAndValue`: the analyte (LOINC-coded when known) and a UCUM
  `Quantity` with its comparator; the two bounds of a range are one `Range`;
- `and` / `or` / `at_least` are `definitionByCombination` (`all-of` / `any-of` / `at-least`); a
  list in an exclusion criterion is `any-of` (any item excludes), as the screener reads it;
- `not` is `exclude: true` on the argument; `same` (one limit in several units) is `any-of`;
- `if(C, T, E)` has no FHIR operator and is written as what it means: any-of[all-of[C, T],
  all-of[not C, E]] (without E, an inclusion also accepts not C, an exclusion only excludes C and T);
- a condition, concept or value set is `definitionCodeableConcept` (codes where known, else text)
  or, for sex and age, `definitionByTypeAndValue` on LOINC 46098-0 (sex) and 30525-0 (age).

The output is plain JSON (a dict); the tests validate it with `fhir.resources`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from critparse.extract.logic import flat_logic
from critparse.model.concept import Concept
from critparse.model.criterion import Criterion
from critparse.model.logic import (
    ConceptLeaf,
    Condition,
    ConditionLeaf,
    CriterionLeaf,
    Logic,
    Op,
    RuleLeaf,
    ValueSet,
    ValueSetLeaf,
    iter_leaves,
)
from critparse.model.rule import Rule

__all__ = ["evidence_bundle", "evidence_variable"]

UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"
_SEX = {"coding": [{"system": LOINC, "code": "46098-0", "display": "Sex"}], "text": "sex"}
_AGE = {"coding": [{"system": LOINC, "code": "30525-0", "display": "Age"}], "text": "age"}
_GENDER = "http://hl7.org/fhir/administrative-gender"
_FHIR_COMPARATORS = {"<": "<", "<=": "<=", ">": ">", ">=": ">="}
_NOT_UCUM = ("x ULN", "x LLN")
Json = dict[str, Any]


class _Trial:
    """What writing one trial needs: its items by path, to inline a parent's children."""

    def __init__(self, criteria: Sequence[Criterion]) -> None:
        self.by_path = {c.path: c for c in criteria}
        self.depth = 0


def evidence_variable(criteria: Sequence[Criterion], *, trial_id: str | None = None) -> Json:
    """One `EvidenceVariable` for a trial's criteria (headers left out; children inlined in the
    parent that combines them)."""
    trial_id = trial_id or next((c.trial_id for c in criteria if c.trial_id), None)
    trial = _Trial(criteria)
    children = {leaf.criterion for c in criteria if c.logic is not None for leaf in _leaves(c.logic)
                if isinstance(leaf, CriterionLeaf)}
    characteristics = [
        _characteristic(c, trial) for c in criteria if c.kind != "header" and c.path not in children
    ]
    resource: Json = {
        "resourceType": "EvidenceVariable",
        "status": "draft",
        "title": f"Eligibility criteria of {trial_id}" if trial_id else "Eligibility criteria",
        "actual": False,
        "characteristic": characteristics,
    }
    if trial_id:
        resource["id"] = _fhir_id(trial_id)
        resource["identifier"] = [{"system": "https://clinicaltrials.gov", "value": trial_id}]
        resource["name"] = _fhir_name(trial_id)
    if not characteristics:
        resource["description"] = "No criteria were read."
    return resource


def evidence_bundle(resources: Sequence[Json]) -> Json:
    """Several EvidenceVariables as one FHIR `Bundle` of type collection."""
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


def _characteristic(criterion: Criterion, trial: _Trial) -> Json:
    exclusion = criterion.section == "exclusion"
    tree = criterion.logic if criterion.logic is not None else _flat(criterion.rules)
    if tree is None:
        out: Json = {"definitionCodeableConcept": {"text": criterion.text}}
        out["note"] = [{"text": f"not read into structure: {criterion.no_threshold_reason or 'no rule or concept'}"}]
    else:
        out = _node(tree, criterion, trial, exclusion)
    out = {"linkId": _fhir_id(criterion.path), "description": criterion.text, **out}
    if exclusion:
        out["exclude"] = not out.get("exclude", False)
    return out


def _flat(rules: Sequence[Rule]) -> Logic | None:
    return flat_logic(rules)


def _node(node: Logic, item: Criterion, trial: _Trial, exclusion: bool) -> Json:
    """One tree node as a characteristic's definition (no linkId, no description)."""
    if isinstance(node, RuleLeaf):
        return _rules([item.rules[node.rule]])
    if isinstance(node, ValueSetLeaf):
        return _value_set(node.value_set)
    if isinstance(node, ConditionLeaf):
        return _condition(node.condition, item.concepts)
    if isinstance(node, ConceptLeaf):
        return _concept(item.concepts[node.concept])
    if isinstance(node, CriterionLeaf):
        return _child(node.criterion, trial, exclusion)
    return _operator(node, item, trial, exclusion)


def _operator(node: Op, item: Criterion, trial: _Trial, exclusion: bool) -> Json:
    args = node.args
    if node.op == "not":
        inner = _node(args[0], item, trial, exclusion)
        return {**inner, "exclude": not inner.get("exclude", False)}
    if node.op == "if":
        return _if(node, item, trial, exclusion)
    if node.op == "and" and len(args) == 2 and all(isinstance(a, RuleLeaf) for a in args):
        pair = [item.rules[a.rule] for a in args if isinstance(a, RuleLeaf)]
        if _is_range(pair):
            return _rules(pair)
    parts = [_node(a, item, trial, exclusion) for a in args]
    if node.op == "at_least":
        return _combination("at-least", parts, threshold=node.n)
    any_of = node.op in ("or", "same") or (node.enumeration and exclusion)
    return _combination("any-of" if any_of else "all-of", parts)


def _if(node: Op, item: Criterion, trial: _Trial, exclusion: bool) -> Json:
    condition = _node(node.args[0], item, trial, False)
    then = _combination("all-of", [condition, _node(node.args[1], item, trial, exclusion)])
    negated = {**condition, "exclude": not condition.get("exclude", False)}
    if len(node.args) == 3:
        otherwise = _combination("all-of", [negated, _node(node.args[2], item, trial, exclusion)])
        return _combination("any-of", [then, otherwise])
    return then if exclusion else _combination("any-of", [then, negated])


def _combination(code: str, parts: list[Json], *, threshold: int | None = None) -> Json:
    combination: Json = {"code": code, "characteristic": parts}
    if threshold is not None:
        combination["threshold"] = threshold
    return {"definitionByCombination": combination}


def _child(path: str, trial: _Trial, exclusion: bool) -> Json:
    child = trial.by_path.get(path)
    tree = None if child is None else (child.logic if child.logic is not None else _flat(child.rules))
    if child is None or tree is None or trial.depth > 8:
        return {"definitionCodeableConcept": {"text": child.text if child else path}}
    trial.depth += 1
    try:
        inner = _node(tree, child, trial, exclusion)
    finally:
        trial.depth -= 1
    return {"description": child.text, **inner}


def _is_range(pair: Sequence[Rule]) -> bool:
    a, b = pair
    return (a.analyte.name == b.analyte.name and a.unit == b.unit
            and {a.comparator, b.comparator} == {">=", "<="})


def _analyte_concept(rule: Rule) -> Json:
    a = rule.analyte
    concept: Json = {"text": a.name}
    if a.code:
        concept["coding"] = [{"system": a.system or LOINC, "code": a.code, "display": a.text or a.name}]
    return concept


def _quantity(rule: Rule) -> Json:
    q: Json = {"value": rule.value}
    if rule.comparator in _FHIR_COMPARATORS:
        q["comparator"] = _FHIR_COMPARATORS[rule.comparator]
    if rule.unit is not None:
        q["unit"] = rule.unit_text or rule.unit
        if rule.unit not in _NOT_UCUM:
            q["system"], q["code"] = UCUM, rule.unit
    return q


def _rules(rules: Sequence[Rule]) -> Json:
    """A rule (or the two bounds of a range) as a type and a value."""
    first = rules[0]
    type_ = _AGE if first.analyte.name == "age" else _analyte_concept(first)
    if len(rules) == 2:
        low, high = sorted(rules, key=lambda r: r.comparator != ">=")
        value: Json = {"valueRange": {"low": _bound(low), "high": _bound(high)}}
    else:
        value = {"valueQuantity": _quantity(first)}
    out: Json = {"definitionByTypeAndValue": {"type": type_, **value}}
    if first.comparator == "!=":
        out["exclude"] = True
    return out


def _bound(rule: Rule) -> Json:
    q = _quantity(rule)
    q.pop("comparator", None)  # a Range's bounds are inclusive
    return q


def _value_set(vs: ValueSet) -> Json:
    type_ = {"text": vs.analyte.name, **({"coding": [{"system": vs.analyte.system or LOINC, "code": vs.analyte.code}]}
                                         if vs.analyte.code else {})}
    parts = [{"definitionByTypeAndValue": {"type": type_, "valueCodeableConcept": {"text": v}}} for v in vs.values]
    return parts[0] if len(parts) == 1 else _combination("any-of", parts)


def _condition(condition: Condition, concepts: Sequence[Concept]) -> Json:
    if condition.kind == "sex" and condition.sex is not None:
        gender = {"coding": [{"system": _GENDER, "code": condition.sex}], "text": condition.text}
        return {"definitionByTypeAndValue": {"type": _SEX, "valueCodeableConcept": gender}}
    if condition.thresholds:
        bounds = list(condition.thresholds)
        if len(bounds) == 2 and not _is_range(bounds):
            return _combination("all-of", [_rules([b]) for b in bounds])
        return _rules(bounds)
    concept = concepts[condition.concept] if condition.concept is not None and condition.concept < len(concepts) else None
    return {"definitionCodeableConcept": _codeable(condition.text, concept)}


def _codeable(text: str, concept: Concept | None) -> Json:
    out: Json = {"text": text}
    if concept is not None and concept.codes:
        out["coding"] = [{k: v for k, v in (("system", c.system), ("code", c.code), ("display", c.display)) if v}
                         for c in concept.codes]
    return out


def _concept(concept: Concept) -> Json:
    out: Json = {"definitionCodeableConcept": _codeable(concept.text, concept)}
    if concept.negated:
        out["exclude"] = True
    window = concept.temporal
    if window is not None:
        event: Json = {"description": window.text}
        if window.value is not None and window.unit is not None:
            q: Json = {"value": window.value, "unit": window.unit, "system": UCUM, "code": window.unit}
            if window.comparator in _FHIR_COMPARATORS:
                q["comparator"] = _FHIR_COMPARATORS[window.comparator]
            event["quantity"] = q
        out["timeFromEvent"] = [event]
    return out


def _leaves(node: Logic) -> list[Logic]:
    return list(iter_leaves(node))


def _fhir_id(text: str) -> str:
    """A FHIR id ([A-Za-z0-9.-]{1,64}) from a path or a trial id."""
    cleaned = re.sub(r"[^A-Za-z0-9.\-]+", "-", text).strip("-") or "x"
    return cleaned[:64]


def _fhir_name(text: str) -> str:
    """A computer-friendly name (starts with a capital letter, letters, digits and '_')."""
    cleaned = re.sub(r"[^A-Za-z0-9_]+", "_", text)
    return cleaned if cleaned[:1].isupper() else f"Eligibility_{cleaned}"
