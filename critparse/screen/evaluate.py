"""Check a patient against a trial's rules: met, not met or unknown, never a guess.

Each rule compares the patient's value, converted into the rule's unit (`critparse.screen.units`), with
the threshold; `x ULN` / `x LLN` rules divide by the patient's own limit of normal (the
observation's reference range, else the default table `resources/uln.json`). A criterion ANDs
its rules. The trial rollup follows the sections: an inclusion criterion must be met, and a met
exclusion criterion (its rules describe who is excluded) makes the patient ineligible.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from critparse.errors import InputFormatError, UnitConversionError
from critparse.lexicon.normal_limits import NormalLimitTable, load_uln_table
from critparse.lexicon.resources import Resources, default_resources
from critparse.model.criterion import Criterion, ParseResult
from critparse.model.rule import Rule
from critparse.model.patient import Measurement, Patient
from critparse.model.screening import CriterionResult, Outcome, RuleResult, ScreeningResult, Verdict
from critparse.screen.patient import load_patient, resolve_analyte, resolve_code
from critparse.screen.units import LLN, ULN, converter_for
from critparse.screen.values import age_outcome, interval_outcome, observed_interval


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
        outcome = interval_outcome(observed_interval(m, ratio), rule.comparator, rule.value)
        where = "patient's range" if own is not None else (
            "custom table" if uln_table is not None else res.normal_limits_source
        )
        return result(
            outcome,
            f"{name} {seen} = {_fmt(ratio)} {rule.unit} ({label} {_with_unit(limit, limit_unit)},"
            f" {where}); needs {want}: {outcome.replace('_', ' ')}",
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


def _exclusion_outcome(rules: tuple[Rule, ...], results: tuple[RuleResult, ...]) -> Outcome:
    """An exclusion criterion describes who is excluded: any met rule excludes ('AST or ALT > 3 x
    ULN', 'SBP > 160 or DBP > 100'), except that the two bounds of one range are read together."""
    groups: dict[tuple[int, int, str], list[Outcome]] = {}
    for rule, result in zip(rules, results, strict=True):
        groups.setdefault((rule.span.start, rule.span.end, rule.analyte.name), []).append(result.outcome)
    return _or(_and(group) for group in groups.values())


_VERDICT: dict[tuple[str, Outcome], Verdict] = {
    ("inclusion", "met"): "eligible",
    ("inclusion", "not_met"): "ineligible",
    ("exclusion", "met"): "ineligible",
    ("exclusion", "not_met"): "eligible",
}

Item = Rule | ParseResult | Criterion


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


def evaluate_criterion(
    item: Item, patient: Patient, *, index: int = 0, uln_table: NormalLimitTable | None = None,
    resources: Resources | None = None,
) -> CriterionResult:
    """One criterion (a bare Rule counts as a one-rule inclusion criterion)."""
    if isinstance(item, Rule):
        rules: tuple[Rule, ...] = (item,)
        text, ident, section = item.text, None, "unknown"
    elif isinstance(item, ParseResult):
        rules, text = item.rules, item.text
        ident = None if item.id is None else str(item.id)
        section = "unknown"
    else:
        rules, text, ident, section = item.rules, item.text, item.path, item.section
    assumed = section == "unknown"
    effective: Literal["inclusion", "exclusion"] = "exclusion" if section == "exclusion" else "inclusion"
    results = tuple(evaluate_rule(r, patient, uln_table=uln_table, resources=resources) for r in rules)
    if effective == "exclusion":
        outcome = _exclusion_outcome(rules, results)
    else:
        outcome = _and(r.outcome for r in results)
    verdict: Verdict = _VERDICT.get((effective, outcome), "unknown")
    if not rules:
        why = getattr(item, "no_threshold_reason", None)
        reason = "no threshold rule to check" + (f" ({why})" if why else "")
    else:
        deciding = [r for r in results if r.outcome == outcome] or list(results)
        reason = "; ".join(r.reason for r in deciding)
        if effective == "exclusion" and outcome == "met":
            reason = f"excluded: {reason}"
    if assumed:
        reason = f"{reason} [section unknown: treated as inclusion]"
    return CriterionResult(
        index=index,
        id=ident,
        text=text,
        section=effective,
        section_assumed=assumed,
        checked=bool(rules),
        outcome=outcome,
        verdict=verdict if rules else "unknown",
        rules=results,
        reason=reason,
    )


def evaluate(
    criteria_or_rules: Item | Iterable[Item],
    patient: Patient | Mapping[str, Any] | Iterable[Any] | str | Path,
    *,
    as_of: date | None = None,
    uln_table: NormalLimitTable | None = None,
    resources: Resources | None = None,
) -> ScreeningResult:
    """Check a trial's rules against a patient.

    `criteria_or_rules`: Rules, ParseResults (section unknown: treated as inclusion, and said
    so) or Criterion objects. `patient`: a Patient, a plain mapping, FHIR JSON, or a file
    (see `critparse.patient.load_patient`; `as_of` dates the age from a birth date).
    The verdict is `ineligible` as soon as a checked criterion rules the patient out,
    `eligible` only when every checked criterion is known and passes, else `unknown`;
    criteria without threshold rules are listed but cannot decide.
    """
    person = load_patient(patient, as_of=as_of, resources=resources)
    results = tuple(
        evaluate_criterion(item, person, index=i, uln_table=uln_table, resources=resources)
        for i, item in enumerate(_items(criteria_or_rules))
    )
    checked = [c for c in results if c.checked]
    out = [c for c in checked if c.verdict == "ineligible"]
    unsure = [c for c in checked if c.verdict == "unknown"]
    unchecked = len(results) - len(checked)
    tail = (
        f"; {unchecked} {'criterion' if unchecked == 1 else 'criteria'} without a threshold rule"
        " not checked"
        if unchecked
        else ""
    )
    if out:
        verdict: Verdict = "ineligible"
        first = out[0].id or f"#{out[0].index + 1}"
        more = f" (+{len(out) - 1} more)" if len(out) > 1 else ""
        reason = f"{first} rules the patient out: {out[0].reason}{more}"
    elif not checked:
        verdict, reason = "unknown", "no threshold rule to check"
    elif unsure:
        verdict = "unknown"
        reason = f"{len(unsure)} of {len(checked)} checked criteria unknown: {unsure[0].reason}"
    else:
        verdict, reason = "eligible", f"all {len(checked)} checked criteria pass"
    return ScreeningResult(
        patient_id=person.id,
        verdict=verdict,
        reason=reason + tail,
        criteria=results,
        met=sum(c.outcome == "met" for c in checked),
        not_met=sum(c.outcome == "not_met" for c in checked),
        unknown=sum(c.outcome == "unknown" for c in checked),
        unchecked=unchecked,
        notes=person.notes,
    )


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
    "NormalLimitTable",
    "RuleResult",
    "ScreeningResult",
    "evaluate",
    "evaluate_criterion",
    "evaluate_rule",
    "load_uln_table",
    "read_trial_rules",
]
