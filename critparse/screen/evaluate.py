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
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from critparse.errors import InputFormatError, UnitConversionError
from critparse.screen.patient import Measurement, Patient, load_patient, resolve_analyte, resolve_code
from critparse.resources import load_resource
from critparse.model.contract import Criterion, ParseResult, Rule
from critparse.screen.units import LLN, ULN, compare, convert_value, is_ucum

Outcome = Literal["met", "not_met", "unknown"]
Verdict = Literal["eligible", "ineligible", "unknown"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")


# --- default limits of normal -----------------------------------------------------------------


class NormalLimit(BaseModel):
    """One default reference interval (or one of its ends) for one analyte."""

    model_config = _FROZEN

    analyte: str = Field(min_length=1)
    unit: str = Field(min_length=1)
    uln: float | None = Field(default=None, gt=0)
    lln: float | None = Field(default=None, gt=0)
    sex: Literal["female", "male"] | None = None
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _has_a_limit(self) -> NormalLimit:
        if self.uln is None and self.lln is None:
            raise ValueError(f"{self.analyte}: give uln, lln or both")
        if not is_ucum(self.unit):
            raise ValueError(f"{self.analyte}: unit {self.unit!r} is not a UCUM code")
        return self


class NormalLimitTable(BaseModel):
    """`uln.json`."""

    model_config = _FROZEN

    about: str = Field(default="", alias="_about")
    limits: tuple[NormalLimit, ...]

    @model_validator(mode="after")
    def _unique(self) -> NormalLimitTable:
        seen: set[tuple[str, str | None]] = set()
        dupes = []
        for limit in self.limits:
            key = (limit.analyte, limit.sex)
            if key in seen:
                dupes.append(f"{limit.analyte} ({limit.sex or 'any sex'})")
            seen.add(key)
        if dupes:
            raise ValueError(f"listed twice: {', '.join(dupes)}")
        return self

    def find(self, analyte: str, sex: str | None) -> NormalLimit | None:
        """The interval for this sex, else the one for everyone."""
        fallback = None
        for limit in self.limits:
            if limit.analyte != analyte:
                continue
            if limit.sex is not None and limit.sex == sex:
                return limit
            if limit.sex is None:
                fallback = limit
        return fallback


def load_uln_table(path: str | Path | None = None) -> NormalLimitTable:
    """Read and validate a limits-of-normal table (the bundled one when `path` is None)."""
    return load_resource(NormalLimitTable, "uln.json", path)


@cache
def default_uln_table() -> NormalLimitTable:
    """The bundled table, loaded once."""
    return load_uln_table()


# --- results ----------------------------------------------------------------------------------


class RuleResult(BaseModel):
    """One rule checked against one patient."""

    model_config = _FROZEN

    rule: Rule
    outcome: Outcome
    observed_value: float | None = None
    observed_unit: str | None = None
    converted_value: float | None = Field(
        default=None, description="The observed value in the rule's unit (a ratio for x ULN)."
    )
    converted_unit: str | None = None
    limit_value: float | None = Field(default=None, description="The ULN/LLN used, if any.")
    limit_unit: str | None = None
    limit_source: str | None = None
    source: str | None = Field(default=None, description="Where the observed value came from.")
    reason: str


class CriterionResult(BaseModel):
    """One criterion (or bare rule) checked, and what that means for eligibility.

    Inclusion: every rule must be met. Exclusion: any met rule excludes (a range's two bounds
    together).
    """

    model_config = _FROZEN

    index: int
    id: str | None = Field(default=None, description="ParseResult.id or Criterion.path.")
    text: str
    section: Literal["inclusion", "exclusion"]
    section_assumed: bool = Field(
        default=False, description="True when the section was unknown and inclusion was assumed."
    )
    checked: bool = Field(description="False when the criterion has no threshold rule.")
    outcome: Outcome
    verdict: Verdict = Field(description="What this criterion alone says about eligibility.")
    rules: tuple[RuleResult, ...] = ()
    reason: str


class ScreeningResult(BaseModel):
    """A whole trial's rules checked against one patient."""

    model_config = _FROZEN

    patient_id: str | None = None
    verdict: Verdict
    reason: str
    criteria: tuple[CriterionResult, ...]
    met: int = 0
    not_met: int = 0
    unknown: int = 0
    unchecked: int = Field(default=0, description="Criteria without a threshold rule.")
    notes: tuple[str, ...] = Field(default=(), description="Patient input that was not used.")


# --- evaluation -------------------------------------------------------------------------------


def _fmt(x: float) -> str:
    return f"{x:.6g}"


def _with_unit(x: float, unit: str | None) -> str:
    return _fmt(x) if unit is None else f"{_fmt(x)} {unit}"


def _find(patient: Patient, rule: Rule) -> Measurement | None:
    analyte = rule.analyte
    found = patient.get(analyte.name)
    if found is not None:
        return found
    candidates = []
    if analyte.code:
        candidates.append(resolve_code(analyte.code, analyte.system or None))
    if not analyte.in_lexicon:
        candidates.append(resolve_analyte(analyte.text))
        candidates.append(resolve_analyte(analyte.name))
    for name in candidates:
        if name is not None and name != analyte.name:
            found = patient.get(name)
            if found is not None:
                return found
    return None


def evaluate_rule(
    rule: Rule, patient: Patient, *, uln_table: NormalLimitTable | None = None
) -> RuleResult:
    """Check one rule; every failure to know becomes `unknown` with a reason."""
    name = rule.analyte.name
    want = f"{rule.comparator} {_with_unit(rule.value, rule.unit)}"
    if not math.isfinite(rule.value):
        return RuleResult(rule=rule, outcome="unknown", reason=f"unsupported rule: threshold {rule.value}")
    m = _find(patient, rule)
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

    if m.problem is not None or m.value is None:
        return unknown(f"{name}: {m.problem or 'no value'}")
    seen = _with_unit(m.value, m.unit)

    if rule.unit in (ULN, LLN):
        is_uln = rule.unit == ULN
        label = "ULN" if is_uln else "LLN"
        own = m.uln if is_uln else m.lln
        if own is not None:
            limit, limit_unit = own, m.range_unit or m.unit
            limit_source = f"reference range of {m.source}"
        else:
            default = (uln_table or default_uln_table()).find(name, patient.sex)
            default_value = None if default is None else (default.uln if is_uln else default.lln)
            if default is None or default_value is None:
                return unknown(f"{name} {seen}: no {label} known (no reference range, no default)")
            limit, limit_unit, limit_source = default_value, default.unit, f"default: {default.source}"
        try:
            in_limit_unit = convert_value(m.value, m.unit, limit_unit, name)
        except UnitConversionError as exc:
            return unknown(f"{name} {seen} vs {label}: {exc}")
        ratio = in_limit_unit / limit
        ok = compare(ratio, rule.comparator, rule.value)
        where = "patient's range" if own is not None else "default table"
        return result(
            "met" if ok else "not_met",
            f"{name} {seen} = {_fmt(ratio)} {rule.unit} ({label} {_with_unit(limit, limit_unit)},"
            f" {where}); needs {want}: {'met' if ok else 'not met'}",
            converted_value=ratio, converted_unit=rule.unit,
            limit_value=limit, limit_unit=limit_unit, limit_source=limit_source,
        )

    try:
        converted = convert_value(m.value, m.unit, rule.unit, name)
    except UnitConversionError as exc:
        return unknown(str(exc))
    ok = compare(converted, rule.comparator, rule.value)
    shown = seen if m.unit == rule.unit else f"{seen} = {_with_unit(converted, rule.unit)}"
    return result(
        "met" if ok else "not_met",
        f"{name} {shown}; needs {want}: {'met' if ok else 'not met'}",
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
    item: Item, patient: Patient, *, index: int = 0, uln_table: NormalLimitTable | None = None
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
    results = tuple(evaluate_rule(r, patient, uln_table=uln_table) for r in rules)
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
) -> ScreeningResult:
    """Check a trial's rules against a patient.

    `criteria_or_rules`: Rules, ParseResults (section unknown: treated as inclusion, and said
    so) or Criterion objects. `patient`: a Patient, a plain mapping, FHIR JSON, or a file
    (see `critparse.patient.load_patient`; `as_of` dates the age from a birth date).
    The verdict is `ineligible` as soon as a checked criterion rules the patient out,
    `eligible` only when every checked criterion is known and passes, else `unknown`;
    criteria without threshold rules are listed but cannot decide.
    """
    person = load_patient(patient, as_of=as_of)
    results = tuple(
        evaluate_criterion(item, person, index=i, uln_table=uln_table)
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
    "default_uln_table",
    "evaluate",
    "evaluate_criterion",
    "evaluate_rule",
    "load_uln_table",
    "read_trial_rules",
]
