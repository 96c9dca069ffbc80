"""Check a patient against a trial's criteria: met, not met or unknown, never a guess.

Each rule compares the patient's value, converted into the rule's unit (`critparse.screen.units`), with
the threshold; `x ULN` / `x LLN` rules divide by the patient's own limit of normal (the
observation's reference range, else the default table `resources/uln.json`). A criterion is
its logic tree (`critparse.model.logic`), evaluated in Kleene's three values: `and`, `or`, `not`
as usual; `if` takes the branch its condition picks, and when the condition is unknown gives
what both branches agree on, else unknown; `same` judges one limit on the form written in the
patient's unit. Sex and age conditions are checked here; other conditions and concepts against
the patient's records (`critparse.screen.records.evaluate_leaf`), unknown when nothing reads
them. The trial rollup follows the sections: an inclusion criterion must be met, a met
exclusion criterion (its tree describes who is excluded) makes the patient ineligible, and the
verdict is never `eligible` while an inclusion criterion is unknown or not checked.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from critparse.errors import InputFormatError, UnitConversionError
from critparse.extract.logic import flat_logic, link_children
from critparse.lexicon.normal_limits import NormalLimitTable, load_uln_table
from critparse.lexicon.resources import Resources, default_resources
from critparse.model.concept import Concept
from critparse.model.criterion import Criterion, ParseResult
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
from critparse.model.patient import Measurement, Patient
from critparse.model.rule import Analyte, Rule
from critparse.model.screening import (
    CriterionResult,
    LeafKind,
    LeafResult,
    Outcome,
    RuleResult,
    ScreeningResult,
    Verdict,
)
from critparse.model.span import Span
from critparse.screen.patient import load_patient, resolve_analyte, resolve_code
from critparse.screen.units import LLN, ULN, converter_for
from critparse.screen.values import (
    Interval,
    age_outcome,
    category_outcome,
    interval_outcome,
    observed_interval,
)

# --- evaluation -------------------------------------------------------------------------------


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _with_unit(x: float, unit: str | None) -> str:
    return _fmt(x) if unit is None else f"{_fmt(x)} {unit}"


def _find(patient: Patient, rule: Rule, resources: Resources) -> Measurement | None:
    analyte = rule.analyte
    found = patient.get(analyte.name)
    if found is not None:
        return found
    candidates = []
    if analyte.code:
        candidates.append(resolve_code(analyte.code, analyte.system or None, resources))
    if not analyte.in_lexicon:
        candidates.append(resolve_analyte(analyte.text, resources))
        candidates.append(resolve_analyte(analyte.name, resources))
    for name in candidates:
        if name is not None and name != analyte.name:
            found = patient.get(name)
            if found is not None:
                return found
    return None


def evaluate_rule(
    rule: Rule, patient: Patient, *, uln_table: NormalLimitTable | None = None,
    resources: Resources | None = None,
) -> RuleResult:
    """Check one rule; every failure to know becomes `unknown` with a reason.

    `uln_table` replaces the limits of normal of `resources` (the default ones when None).
    """
    res = resources or default_resources()
    converter = converter_for(res)
    name = rule.analyte.name
    want = f"{rule.comparator} {_with_unit(rule.value, rule.unit)}"
    if not math.isfinite(rule.value):
        return RuleResult(rule=rule, outcome="unknown", reason=f"unsupported rule: threshold {rule.value}")
    m = _find(patient, rule, res)
    if m is None and name.startswith("time since ") and rule.unit is not None:
        return _time_since_rule(rule, patient, want, res)
    if m is None:
        return RuleResult(rule=rule, outcome="unknown", reason=f"no {name} value for the patient")
    def result(outcome: Outcome, reason: str, **conversion: Any) -> RuleResult:
        """A result that carries what was observed, and how it was converted if it was."""
        return RuleResult(
            rule=rule, outcome=outcome, observed_value=m.value, observed_unit=m.unit,
            source=m.source, reason=reason, **conversion,
        )

    def unknown(reason: str) -> RuleResult:
        return result("unknown", reason)

    by_age = age_outcome(m, rule.comparator, rule.value, rule.unit)  # completed months, years ...
    if by_age is not None:
        return result(by_age[0], f"{by_age[1]}; needs {want}: {by_age[0].replace('_', ' ')}",
                      converted_value=by_age[2], converted_unit=rule.unit)
    if m.problem is not None or m.value is None:
        return unknown(f"{name}: {m.problem or 'no value'}")
    seen = (m.comparator or "") + _with_unit(m.value, m.unit)  # '<0.2 mg/dL' when censored

    if rule.unit in (ULN, LLN):
        is_uln = rule.unit == ULN
        label = "ULN" if is_uln else "LLN"
        own = m.uln if is_uln else m.lln
        if own is not None:
            limit, limit_unit = own, m.range_unit or m.unit
            limit_source = f"reference range of {m.source}"
        else:
            table = uln_table or res.normal_limits
            default = table.find(name, patient.sex)
            default_value = None if default is None else (default.uln if is_uln else default.lln)
            if default is None or default_value is None:
                return unknown(f"{name} {seen}: no {label} known (no reference range, no default)")
            limit, limit_unit, limit_source = default_value, default.unit, f"default: {default.source}"
        try:
            in_limit_unit = converter.convert_value(m.value, m.unit, limit_unit, name)
        except UnitConversionError as exc:
            return unknown(f"{name} {seen} vs {label}: {exc}")
        ratio = in_limit_unit / limit
        scope = _LimitScope(own is not None, patient.sex, uln_table or res.normal_limits, is_uln, label)
        outcome, caveat = _against_limits(m, in_limit_unit, rule, scope, limit, limit_unit or "")
        where = "patient's range" if own is not None else (
            "custom table" if uln_table is not None else res.normal_limits_source
        )
        return result(
            outcome,
            f"{name} {seen} = {_fmt(ratio)} {rule.unit} ({label} {_with_unit(limit, limit_unit)},"
            f" {where}{caveat}); needs {want}: {outcome.replace('_', ' ')}",
            converted_value=ratio, converted_unit=rule.unit,
            limit_value=limit, limit_unit=limit_unit, limit_source=limit_source,
        )

    try:
        converted = converter.convert_value(m.value, m.unit, rule.unit, name)
    except UnitConversionError as exc:
        return unknown(str(exc))
    outcome = interval_outcome(observed_interval(m, converted), rule.comparator, rule.value)
    shown = seen if m.unit == rule.unit else f"{seen} = {_with_unit(converted, rule.unit)}"
    return result(
        outcome,
        f"{name} {shown}; needs {want}: {outcome.replace('_', ' ')}",
        converted_value=converted, converted_unit=rule.unit,
    )


@dataclass(frozen=True)
class _LimitScope:
    """Where a limit of normal comes from: the patient's own range, or a table (with its spread)."""

    own: bool
    sex: str | None
    table: NormalLimitTable
    is_uln: bool
    label: str


def _against_limits(m: Measurement, in_limit_unit: float, rule: Rule, scope: _LimitScope, limit: float,
                    limit_unit: str) -> tuple[Outcome, str]:
    """The outcome over every limit the patient may have (a default's laboratory spread, both
    sexes when the sex is not known), and what made it unknown."""
    spread = 0.0 if scope.own else scope.table.lab_spread
    low, high = (limit, limit) if scope.own or scope.sex is not None else _both_sexes(
        scope.table, rule.analyte.name, scope.is_uln, limit_unit, limit)
    ratios = observed_interval(m, in_limit_unit / high)._replace(high=observed_interval(m, in_limit_unit / low).high)
    outcome = interval_outcome(_over_lab_limits(ratios, spread), rule.comparator, rule.value)
    caveat = ""
    if outcome == "unknown" and spread:
        caveat += f"; a laboratory's {scope.label} may differ by {spread:.0%}"
    if outcome == "unknown" and low != high:
        caveat += f"; women's and men's {scope.label}s differ ({_fmt(low)} to {_fmt(high)}) and the sex is not known"
    return outcome, caveat


def _time_since_rule(rule: Rule, patient: Patient, want: str, res: Resources) -> RuleResult:
    """'At least 28 days since the last dose of chemotherapy': the time since the latest dated
    record of it (a medication's end, a procedure's date), counted to the screening date."""
    from critparse.screen.records import time_since  # the records' matcher loads on first use

    assert rule.unit is not None
    found = time_since(rule.analyte.name.removeprefix("time since "), patient, rule.unit, resources=res)
    if found is None:
        return RuleResult(rule=rule, outcome="unknown", reason=f"no {rule.analyte.name} value for the patient (no dated record of it)")
    elapsed, record, described = found
    outcome = interval_outcome(elapsed, rule.comparator, rule.value)
    span = _fmt(elapsed.low) if elapsed.low == elapsed.high else f"{_fmt(elapsed.low)} to {_fmt(elapsed.high)}"
    return RuleResult(rule=rule, outcome=outcome, source=record.source,
                      reason=f"{rule.analyte.name}: {span} {rule.unit} ({described}); needs {want}: {outcome.replace('_', ' ')}")


def _both_sexes(table: Any, name: str, is_uln: bool, unit: str, limit: float) -> tuple[float, float]:
    """The lowest and highest default limit over women and men (same unit), for a patient whose
    sex is not known: a verdict must hold for either."""
    found = [limit]
    for sex in ("female", "male"):
        entry = table.find(name, sex)
        value = None if entry is None or entry.unit != unit else (entry.uln if is_uln else entry.lln)
        if value:
            found.append(value)
    return min(found), max(found)


def _over_lab_limits(ratios: Interval, spread: float) -> Interval:
    """The ratios to every limit within `spread` of the table's: a value at 2.4 x a default ULN is
    from 1.92 to 3.2 x the ULN of some laboratory."""
    if not spread:
        return ratios
    return ratios._replace(low=ratios.low / (1 + spread), high=ratios.high / (1 - spread))


def _and(outcomes: Iterable[Outcome]) -> Outcome:
    """AND with unknowns: one not_met decides; otherwise any unknown stays unknown."""
    seen = set(outcomes)
    if "not_met" in seen:
        return "not_met"
    if "unknown" in seen or not seen:
        return "unknown"
    return "met"


def _or(outcomes: Iterable[Outcome]) -> Outcome:
    """OR with unknowns: one met decides; all not_met is not_met; otherwise unknown."""
    seen = set(outcomes)
    if "met" in seen:
        return "met"
    if seen == {"not_met"}:
        return "not_met"
    return "unknown"


_VERDICT: dict[tuple[str, Outcome], Verdict] = {
    ("inclusion", "met"): "eligible",
    ("inclusion", "not_met"): "ineligible",
    ("exclusion", "met"): "ineligible",
    ("exclusion", "not_met"): "eligible",
}

Item = Rule | ParseResult | Criterion
Judged = tuple[Outcome, str]
"""An outcome and the reason for it."""


def _items(criteria_or_rules: Item | Iterable[Item]) -> list[Item]:
    if isinstance(criteria_or_rules, (Rule, ParseResult, Criterion)):
        return [criteria_or_rules]
    items = list(criteria_or_rules)
    for i, item in enumerate(items):
        if not isinstance(item, (Rule, ParseResult, Criterion)):
            raise TypeError(
                f"item {i}: expected a Rule, ParseResult or Criterion, not {type(item).__name__}"
            )
    return items


# --- the logic tree, in three values -----------------------------------------------------------


@dataclass
class _Scope:
    """What evaluating one criterion's tree needs, and what it found on the way."""

    patient: Patient
    rules: tuple[Rule, ...]
    concepts: tuple[Concept, ...]
    resources: Resources | None
    uln_table: NormalLimitTable | None
    as_of: date | None
    trial: Mapping[str, Criterion]
    rule_results: dict[int, RuleResult] = field(default_factory=dict)
    leaves: list[LeafResult] = field(default_factory=list)
    depth: int = 0
    sex: str | None = None  # a sex assumed while the patient's is unknown (see `_either_sex`)

    def rule(self, i: int) -> RuleResult:
        if i not in self.rule_results:
            self.rule_results[i] = evaluate_rule(
                self.rules[i], self.patient, uln_table=self.uln_table, resources=self.resources
            )
        return self.rule_results[i]

    def note(self, kind: LeafKind, text: str, judged: Judged, observed: str | None = None) -> Judged:
        self.leaves.append(LeafResult(kind=kind, text=text, outcome=judged[0], observed=observed, reason=judged[1]))
        return judged


def _said(outcome: Outcome) -> str:
    return outcome.replace("_", " ")


def evaluate_logic(node: Logic, scope: _Scope, *, exclusion: bool = False) -> Judged:
    """A tree's outcome (Kleene's three values) and why. `exclusion` reads it as an exclusion
    criterion does: a list excludes on any of its items, and an `if` whose condition fails
    excludes no one."""
    if isinstance(node, RuleLeaf):
        result = scope.rule(node.rule)
        return result.outcome, result.reason
    if isinstance(node, ValueSetLeaf):
        return _value_set(node.value_set, scope)
    if isinstance(node, ConditionLeaf):
        return _condition(node, scope)
    if isinstance(node, ConceptLeaf):
        return _concept(node.concept, scope)
    if isinstance(node, CriterionLeaf):
        return _child(node.criterion, scope, exclusion)
    return _operator(node, scope, exclusion)


def _operator(node: Op, scope: _Scope, exclusion: bool) -> Judged:
    if node.op == "if":
        return _if(node, scope, exclusion)
    if node.op == "same":
        return _same(node, scope, exclusion)
    judged = [evaluate_logic(arg, scope, exclusion=exclusion) for arg in node.args]
    outcomes = [o for o, _ in judged]
    if node.op == "not":
        outcome, reason = judged[0]
        flipped: Outcome = {"met": "not_met", "not_met": "met"}.get(outcome, "unknown")  # type: ignore[assignment]
        return flipped, f"not ({reason})"
    if node.op == "at_least":
        assert node.n is not None
        return _at_least(node.n, judged)
    any_of = node.op == "or" or (node.enumeration and exclusion)
    outcome = _or(outcomes) if any_of else _and(outcomes)
    deciding = [r for o, r in judged if o == outcome] or [r for _, r in judged]
    joiner = " or " if any_of and outcome != "met" else "; "
    return outcome, joiner.join(deciding)


def _at_least(n: int, judged: list[Judged]) -> Judged:
    met = sum(o == "met" for o, _ in judged)
    open_ = sum(o == "unknown" for o, _ in judged)
    outcome: Outcome = "met" if met >= n else "not_met" if met + open_ < n else "unknown"
    reasons = "; ".join(r for o, r in judged if o == "met") or "; ".join(r for _, r in judged)
    return outcome, f"{met} of {len(judged)} met, {n} needed ({open_} unknown): {reasons}"


def _if(node: Op, scope: _Scope, exclusion: bool) -> Judged:
    """Condition met: the consequent; not met: the otherwise-branch (or, without one, the limit
    does not apply); unknown: what both branches agree on, else unknown."""
    condition, reason = evaluate_logic(node.args[0], scope)
    then = lambda: evaluate_logic(node.args[1], scope, exclusion=exclusion)  # noqa: E731
    otherwise = lambda: (  # noqa: E731
        evaluate_logic(node.args[2], scope, exclusion=exclusion) if len(node.args) == 3
        else ("not_met" if exclusion else "met", "the limit does not apply")
    )
    if condition == "met":
        outcome, why = then()
        return outcome, f"condition met ({reason}), so: {why}"
    if condition == "not_met":
        outcome, why = otherwise()
        return outcome, f"condition not met ({reason}), so: {why}"
    (t, t_why), (o, o_why) = then(), otherwise()
    if t == o:
        return t, f"condition unknown ({reason}); both branches {_said(t)}: {t_why}; {o_why}"
    return "unknown", f"condition unknown ({reason}); if it holds: {t_why}; if not: {o_why}"


def _same(node: Op, scope: _Scope, exclusion: bool) -> Judged:
    """One limit written in several units: judged on the form in the patient's own unit, else
    on the first form that can be compared (and said so when the forms disagree)."""
    judged = [evaluate_logic(arg, scope, exclusion=exclusion) for arg in node.args]
    exact = [k for k, arg in enumerate(node.args) if _in_patient_unit(arg, scope)]
    if exact and judged[exact[0]][0] != "unknown":
        outcome, why = judged[exact[0]]
        return outcome, f"{why} (the limit as written in the patient's unit)"
    known = [k for k, (o, _) in enumerate(judged) if o != "unknown"]
    if not known:
        return "unknown", " or ".join(r for _, r in judged)
    outcome, why = judged[known[0]]
    if any(judged[k][0] != outcome for k in known):
        why += " (the limit restated in another unit rounds differently; the first form decides)"
    return outcome, why


def _in_patient_unit(node: Logic, scope: _Scope) -> bool:
    rules = [leaf.rule for leaf in iter_leaves(node) if isinstance(leaf, RuleLeaf)]
    if not rules:
        return False
    results = [scope.rule(i) for i in rules]
    return all(r.observed_unit is not None and r.observed_unit == r.rule.unit for r in results)


def _measurement(analyte: Analyte, patient: Patient, resources: Resources | None) -> Measurement | None:
    probe = Rule(analyte=analyte, comparator="=", value=0.0, span=Span(start=0, end=0), text="")
    return _find(patient, probe, resources or default_resources())


def _value_set(vs: ValueSet, scope: _Scope) -> Judged:
    """A category checked against a set as written (sub-stages included: IIIB is in 'III')."""
    text = f"{vs.analyte.name} in {{{', '.join(vs.values)}}}"
    m = _measurement(vs.analyte, scope.patient, scope.resources)
    if m is None:
        return scope.note("value_set", text, ("unknown", f"no {vs.analyte.name} value for the patient"))
    observed = m.category or (None if m.value is None else _fmt(m.value))
    if observed is None:
        return scope.note("value_set", text, ("unknown", f"{vs.analyte.name}: {m.problem or 'no value'}"))
    outcome = category_outcome(observed, vs.values)
    return scope.note("value_set", text, (outcome, f"{vs.analyte.name} {observed}; needs one of "
                                                   f"{', '.join(vs.values)}: {_said(outcome)}"), observed)


def _condition(leaf: ConditionLeaf, scope: _Scope) -> Judged:
    """Sex from the patient's sex, an age band from the age, anything else from the records."""
    c = leaf.condition
    if c.kind == "sex":
        sex = scope.patient.sex or scope.sex
        if sex is None:
            return scope.note("condition", c.text, ("unknown", f"{c.text}: the patient's sex is not known"))
        outcome: Outcome = "met" if sex == c.sex else "not_met"
        said = f"the patient is {sex}" if scope.patient.sex else f"if the patient is {sex}"
        return scope.note("condition", c.text, (outcome, f"{c.text}: {said}"), sex)
    if c.thresholds:
        results = [evaluate_rule(r, scope.patient, uln_table=scope.uln_table, resources=scope.resources)
                   for r in c.thresholds]
        outcome = _and(r.outcome for r in results)
        return scope.note("condition", c.text, (outcome, f"{c.text}: " + "; ".join(r.reason for r in results)))
    target: ConditionLeaf | Concept = leaf
    if c.concept is not None and c.concept < len(scope.concepts):
        # the `if` says the condition is hypothetical; the records are asked whether it holds
        target = scope.concepts[c.concept].model_copy(update={"negated": False, "modality": None})
    return scope.note("condition", c.text, _from_records(target, c.text, scope))


def _concept(j: int, scope: _Scope) -> Judged:
    """A concept as the criterion states it: present, or absent when it is negated."""
    concept = scope.concepts[j]
    outcome, reason = _from_records(concept.model_copy(update={"negated": False}), concept.text, scope)
    if concept.negated:
        outcome = {"met": "not_met", "not_met": "met"}.get(outcome, "unknown")  # type: ignore[assignment]
        reason = f"no {concept.text}: {reason}"
    return scope.note("concept", concept.text, (outcome, reason))


def _from_records(leaf: ConditionLeaf | Concept, text: str, scope: _Scope) -> Judged:
    """The patient's records on a condition or concept; unknown when nothing reads them."""
    try:
        from critparse.screen.records import evaluate_leaf
    except ImportError:
        return "unknown", f"{text}: the patient's records are not read for conditions"
    try:
        outcome, reason = evaluate_leaf(leaf, scope.patient, as_of=scope.as_of, resources=scope.resources)
    except Exception as exc:  # a screener must never crash on one leaf
        return "unknown", f"{text}: could not be checked ({type(exc).__name__}: {exc})"
    return outcome, reason


def _child(path: str, scope: _Scope, exclusion: bool) -> Judged:
    child = scope.trial.get(path)
    if child is None or scope.depth > 8:
        return scope.note("criterion", path, ("unknown", f"{path}: no such criterion in the trial"))
    tree = _tree_of(child)
    if tree is None:
        why = child.no_threshold_reason or "nothing to check"
        return scope.note("criterion", path, ("unknown", f"{path} not checked ({why})"))
    inner = _Scope(scope.patient, child.rules, child.concepts, scope.resources, scope.uln_table,
                   scope.as_of, scope.trial, depth=scope.depth + 1)
    outcome, reason = evaluate_logic(tree, inner, exclusion=exclusion)
    return scope.note("criterion", path, (outcome, f"{path}: {reason}"))


def _tree_of(item: Item) -> Logic | None:
    """The item's tree; without one, its rules as a list (an exclusion's rules each exclude),
    or for a registry's structured sex field ('sex: FEMALE') that sex."""
    if isinstance(item, Rule):
        return RuleLeaf(rule=0)
    if item.logic is not None:
        return item.logic
    if isinstance(item, Criterion) and item.kind == "structured" and not item.rules:
        return _structured_sex(item)
    return flat_logic(item.rules)


_STRUCTURED_SEX = {"female": "female", "females": "female", "male": "male", "males": "male"}


def _structured_sex(item: Criterion) -> Logic | None:
    field, _, value = item.text.partition(":")
    sex = _STRUCTURED_SEX.get(value.strip().lower())
    if field.strip().lower() not in ("sex", "gender") or sex is None:
        return None
    at = item.text.index(":") + 1 + len(value) - len(value.lstrip())
    words = value.strip()
    return ConditionLeaf(condition=Condition(text=words, span=Span(start=at, end=at + len(words)), kind="sex",
                                             sex=sex))  # type: ignore[arg-type]


def evaluate_criterion(
    item: Item, patient: Patient, *, index: int = 0, uln_table: NormalLimitTable | None = None,
    resources: Resources | None = None, as_of: date | None = None,
    trial: Mapping[str, Criterion] | None = None, part_of: str | None = None,
) -> CriterionResult:
    """One criterion (a bare Rule counts as a one-rule inclusion criterion), by its logic tree.

    `trial` holds the trial's items by path, for a parent whose tree names its children.
    """
    rules: tuple[Rule, ...] = (item,) if isinstance(item, Rule) else item.rules
    text = item.text
    ident = item.path if isinstance(item, Criterion) else (None if isinstance(item, Rule) or item.id is None else str(item.id))
    section = item.section if isinstance(item, Criterion) else "unknown"
    assumed = section == "unknown"
    effective: Literal["inclusion", "exclusion"] = "exclusion" if section == "exclusion" else "inclusion"
    tree = _tree_of(item)
    concepts = () if isinstance(item, Rule) else item.concepts
    scope = _Scope(patient, rules, concepts, resources, uln_table, as_of, trial or {})
    if tree is None:
        why = getattr(item, "no_threshold_reason", None)
        outcome: Outcome = "unknown"
        reason = "nothing to check" + (f" ({why})" if why else "")
    else:
        outcome, reason = _either_sex(tree, scope, effective == "exclusion")
        if effective == "exclusion" and outcome == "met":
            reason = f"excluded: {reason}"
    if assumed:
        reason = f"{reason} [section unknown: treated as inclusion]"
    return CriterionResult(
        index=index, id=ident, text=text, section=effective, section_assumed=assumed,
        checked=tree is not None, outcome=outcome,
        verdict=_VERDICT.get((effective, outcome), "unknown") if tree is not None else "unknown",
        rules=tuple(scope.rule(i) for i in _tree_rules(tree)),
        leaves=tuple(scope.leaves), part_of=part_of, reason=reason,
    )


def _either_sex(tree: Logic, scope: _Scope, exclusion: bool) -> Judged:
    """The tree's outcome; when it names a sex the patient's record does not give, and the
    answer is the same for a man and a woman ('> 450 ms in men or > 470 ms in women' at 490
    ms), that answer."""
    outcome, reason = evaluate_logic(tree, scope, exclusion=exclusion)
    sexes = [leaf for leaf in iter_leaves(tree) if isinstance(leaf, ConditionLeaf) and leaf.condition.kind == "sex"]
    if outcome != "unknown" or not sexes or scope.patient.sex is not None:
        return outcome, reason
    answers = []
    for sex in ("male", "female"):
        trial = _Scope(scope.patient, scope.rules, scope.concepts, scope.resources, scope.uln_table, scope.as_of,
                       scope.trial, rule_results=scope.rule_results, depth=scope.depth, sex=sex)
        answers.append(evaluate_logic(tree, trial, exclusion=exclusion))
    if answers[0][0] == answers[1][0] != "unknown":
        return answers[0][0], f"the same for either sex: {answers[0][1]}"
    return outcome, reason


def _tree_rules(tree: Logic | None) -> list[int]:
    """The rules a tree names, in order (a value set's bounds are not among them)."""
    if tree is None:
        return []
    return sorted({leaf.rule for leaf in iter_leaves(tree) if isinstance(leaf, RuleLeaf)})


def _heading(item: Item) -> bool:
    """Headers, lead-ins ('Patients must meet all of the following:') and registry fields with
    nothing to check ('sex: ALL', 'healthyVolunteers: false') decide nothing."""
    if isinstance(item, Criterion) and (item.kind == "header" or (item.kind == "structured" and _tree_of(item) is None)):
        return True
    return not isinstance(item, Rule) and _tree_of(item) is None and item.text.rstrip().endswith(":")


def _linked(items: list[Item], resources: Resources | None) -> tuple[list[Item], dict[str, str]]:
    """The items with each parent's tree over its children, and each child's parent."""
    criteria = [i for i in items if isinstance(i, Criterion)]
    if not criteria:
        return items, {}
    linked = iter(link_children(criteria, resources=resources))
    items = [next(linked) if isinstance(i, Criterion) else i for i in items]
    parents: dict[str, str] = {}
    for item in items:
        if isinstance(item, Criterion) and item.logic is not None:
            for leaf in iter_leaves(item.logic):
                if isinstance(leaf, CriterionLeaf):
                    parents[leaf.criterion] = item.path
    return items, parents


def evaluate(
    criteria_or_rules: Item | Iterable[Item],
    patient: Patient | Mapping[str, Any] | Iterable[Any] | str | Path,
    *,
    as_of: date | None = None,
    uln_table: NormalLimitTable | None = None,
    resources: Resources | None = None,
) -> ScreeningResult:
    """Check a trial's criteria against a patient, each by its logic tree.

    `criteria_or_rules`: Rules, ParseResults (section unknown: treated as inclusion, and said
    so) or Criterion objects (children combine as their parent says). `patient`: a Patient, a
    plain mapping, FHIR JSON, or a file (see `critparse.screen.patient.load_patient`; `as_of`
    dates ages and time windows). The verdict is `ineligible` as soon as a criterion rules the
    patient out, `eligible` only when every inclusion criterion is checked and met and no
    exclusion criterion is unknown, else `unknown`, naming the criteria that stand in the way.
    """
    person = load_patient(patient, as_of=as_of, resources=resources)
    items, parents = _linked(_items(criteria_or_rules), resources)
    trial = {i.path: i for i in items if isinstance(i, Criterion)}
    results = tuple(
        evaluate_criterion(item, person, index=i, uln_table=uln_table, resources=resources, as_of=as_of,
                           trial=trial, part_of=parents.get(item.path) if isinstance(item, Criterion) else None)
        for i, item in enumerate(items)
    )
    deciding = [r for r, item in zip(results, items, strict=True) if r.part_of is None and not _heading(item)]
    verdict, reason = _rollup(deciding)
    checked = [c for c in results if c.checked]
    return ScreeningResult(
        patient_id=person.id, verdict=verdict, reason=reason, criteria=results,
        met=sum(c.outcome == "met" for c in checked),
        not_met=sum(c.outcome == "not_met" for c in checked),
        unknown=sum(c.outcome == "unknown" for c in checked),
        unchecked=sum(not c.checked for c, item in zip(results, items, strict=True) if not _heading(item)),
        notes=person.notes,
    )


def _name(c: CriterionResult) -> str:
    return c.id or f"#{c.index + 1}"


def _rollup(deciding: list[CriterionResult]) -> tuple[Verdict, str]:
    """The trial verdict from the criteria that decide it, with the reason."""
    checked = [c for c in deciding if c.checked]
    out = [c for c in checked if c.verdict == "ineligible"]
    if out:
        more = f" (+{len(out) - 1} more)" if len(out) > 1 else ""
        return "ineligible", f"{_name(out[0])} rules the patient out: {out[0].reason}{more}"
    if not checked:
        return "unknown", "nothing to check"
    blocking = [c for c in deciding if c.section == "inclusion" and (not c.checked or c.verdict == "unknown")]
    blocking += [c for c in checked if c.section == "exclusion" and c.verdict == "unknown"]
    unchecked_exclusions = sum(not c.checked for c in deciding if c.section == "exclusion")
    tail = (f"; {unchecked_exclusions} exclusion {'criterion' if unchecked_exclusions == 1 else 'criteria'}"
            " not checked" if unchecked_exclusions else "")
    if blocking:
        first = blocking[0]
        why = first.reason if first.checked else f"not checked: {first.reason}"
        kind = "unknown or not checked"
        return "unknown", f"{len(blocking)} {'criterion' if len(blocking) == 1 else 'criteria'} {kind}: {_name(first)} {why}{tail}"
    return "eligible", f"all {len(checked)} checked criteria pass{tail}"


def read_trial_rules(path: str | Path) -> list[ParseResult | Criterion]:
    """A trial's rules from JSONL: each line the JSON of a ParseResult or of a Criterion.

    Raises InputFormatError naming the file and line of the first bad line.
    """
    source = str(path)
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise InputFormatError(f"cannot read: {exc}", source=source) from exc
    items: list[ParseResult | Criterion] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        model: type[ParseResult] | type[Criterion]
        try:
            keys = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InputFormatError(f"not JSON: {exc}", source=source, line=number) from None
        if not isinstance(keys, dict):
            raise InputFormatError("expected a JSON object", source=source, line=number)
        model = Criterion if ("path" in keys or "section" in keys) else ParseResult
        try:
            items.append(model.model_validate_json(line))
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in err['loc']) or '(line)'}: {err['msg']}"
                for err in exc.errors()
            )
            raise InputFormatError(
                f"not a {model.__name__}: {problems}", source=source, line=number
            ) from None
    return items


__all__ = [
    "CriterionResult",
    "LeafResult",
    "NormalLimitTable",
    "RuleResult",
    "ScreeningResult",
    "evaluate",
    "evaluate_criterion",
    "evaluate_logic",
    "evaluate_rule",
    "load_uln_table",
    "read_trial_rules",
]
