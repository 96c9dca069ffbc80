"""One observed value read from what a person or a system wrote: a number, 'number unit', a
censored '<0.2 mg/dL', an ordinal 'NYHA III' or an object.

A value that cannot be used becomes a `Measurement` with a `problem`, never an exception, so
evaluation can say why it is unknown rather than guess; a value of the wrong JSON type (a unit
that is a number or a list, a date that is an integer) is a mistake in the input and raises a
`PatientDataError` naming the field. Impossible values (an age of 1e308 years) are problems too,
against the ranges of `resources/plausibility.json`.

The comparison helpers at the end decide a rule only where the answer is certain: a censored
value `<0.2` meets `<= 1.5` whatever it is, and an age known to the month meets a limit in
months exactly.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, Literal, NamedTuple

from critparse.errors import PatientDataError, UnitConversionError
from critparse.lexicon.resources import Resources
from critparse.model.patient import Censor, Measurement
from critparse.screen.analytes import (
    MISSING,
    Missing,
    analyte_kind,
    default_unit,
    is_unitless,
    plausibility,
    record_vocabulary,
)
from critparse.screen.units import REL_TOL, ULN, converter_for

_NUMBER = re.compile(
    r"^\s*(?P<cmp><=|>=|=<|=>|≤|≥|<|>)?\s*"
    r"(?P<num>[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?(?:[eE][+-]?\d+)?|[+-]?\.\d+|nan|[+-]?inf(?:inity)?)"
    r"\s*(?P<unit>.*?)\s*$",
    re.IGNORECASE,
)
_CENSOR: dict[str, Censor] = {
    "<": "<", "<=": "<=", "=<": "<=", "≤": "<=", ">": ">", ">=": ">=", "=>": ">=", "≥": ">=",
}
_TEMPERATURE_UNITS = frozenset({"Cel", "[degF]", "K"})
_VALUE_KEYS = frozenset(
    {"value", "unit", "uln", "reference_high", "lln", "reference_low", "when", "comparator"}
)
_ANNOTATION_ONLY = re.compile(r"^(?:\{[^{}]*\}|1)$")
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5, "vi": 6}
_ORDINAL = re.compile(r"^(?P<num>[ivx]+|\d{1,2})(?P<sub>[a-d]\d?)?$", re.IGNORECASE)
_LETTER = re.compile(r"^[a-d]$", re.IGNORECASE)
_PLAIN_NUMBER = re.compile(r"^\s*[<>=≤≥]*\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)\s*(?:%|\{[^}]*\})?\s*$")

__all__ = [
    "Interval",
    "age_bounds",
    "age_outcome",
    "category_outcome",
    "completed_units",
    "date_range",
    "implausible",
    "interval_outcome",
    "measurement_from_value",
    "observed_interval",
    "require_text",
]


class Unusable(Exception):
    """Why a value cannot be used (internal: becomes a Measurement's `problem`)."""

    def __init__(self, problem: str, *, code: str | None = None, unit_text: str | None = None) -> None:
        super().__init__(problem)
        self.problem, self.code, self.unit_text = problem, code, unit_text


# --- types -------------------------------------------------------------------------------------


def _kind(raw: Any) -> str:
    return f"{type(raw).__name__} {raw!r}"[:80]


def require_text(raw: Any, field: str, *, allow_date: bool = False) -> str | None:
    """`raw` as a string (or None); a value of another JSON type is a PatientDataError."""
    if raw is None or isinstance(raw, str):
        return raw
    if allow_date and isinstance(raw, (date, datetime)):
        return raw.isoformat()
    raise PatientDataError(f"{field}: expected a string, not {_kind(raw)}")


def _require_limit(raw: Any, field: str) -> None:
    if raw is None or isinstance(raw, str):
        return
    if isinstance(raw, bool) or not isinstance(raw, (int, float)):
        raise PatientDataError(f"{field}: expected a number, not {_kind(raw)}")


def _require_unit(raw: Any, field: str) -> str | Missing | None:
    if raw is MISSING:
        return MISSING
    return require_text(raw, field)


# --- numbers -----------------------------------------------------------------------------------


def _check_number(value: float, unit: str | None) -> str | None:
    """Why a number cannot be an observed value, or None when it can."""
    if math.isnan(value):
        return "value is NaN"
    if math.isinf(value):
        return "value is infinite"
    if value < 0 and unit not in _TEMPERATURE_UNITS:
        return f"negative value {value:g} is not a valid measurement"
    return None


def _number(raw: Any) -> float:
    if isinstance(raw, bool):
        raise ValueError(f"{raw!r} is a boolean, not a number")
    if isinstance(raw, (int, float)):
        return float(raw)
    return float(str(raw).replace(",", ""))


class _Read(NamedTuple):
    value: float
    unit_text: str | None
    comparator: Censor | None


def _number_and_unit(raw: Any, unit: str | Missing | None, comparator: Censor | None) -> _Read:
    """The number, the unit as written and any censoring, from a number or a string."""
    if raw is None:
        raise Unusable("no value given")
    if isinstance(raw, bool):
        raise Unusable(f"{raw!r} is a boolean, not a number")
    unit_text: str | None
    if isinstance(raw, str):
        match = _NUMBER.match(raw)
        if match is None:
            raise Unusable(f"cannot read a number from {raw!r}")
        number_text, unit_text = match["num"], match["unit"] or None
        if match["cmp"]:
            comparator = _CENSOR[match["cmp"]]
        if unit is not MISSING and unit_text is None:
            unit_text = unit
    else:
        number_text = raw
        unit_text = None if unit is MISSING else unit
    try:
        value = _number(number_text)
    except (TypeError, ValueError, OverflowError):
        raise Unusable(f"cannot read a number from {raw!r}") from None
    if not math.isfinite(value):
        raise Unusable(_check_number(value, None) or "not finite", unit_text=unit_text)
    return _Read(value, unit_text, comparator)


def _unit_code(
    analyte: str, raw: Any, unit: str | Missing | None, unit_text: str | None, resources: Resources | None
) -> str | None:
    """The UCUM code of the value: as written, else the analyte's default unit."""
    if unit_text is None and (isinstance(raw, str) or unit is MISSING):
        # A bare number is in the analyte's default unit; with none known it stays a bare
        # number, which only ever compares with unitless rules.
        fallback = default_unit(analyte, resources)
        return None if fallback is MISSING else fallback
    if unit_text is not None and is_unitless(analyte, resources) and _ANNOTATION_ONLY.match(unit_text.strip()):
        # A score written with a UCUM annotation ('50 {score}') or unity is the bare score:
        # read as a dimensionless quantity it would convert to 5,000 %.
        return None
    try:
        code = converter_for(resources).normalize_unit(unit_text)
    except UnitConversionError as exc:
        raise Unusable(str(exc), unit_text=unit_text) from exc
    if code == ULN:
        raise Unusable("a value cannot be in x ULN", unit_text=unit_text)
    return code


# --- plausibility ------------------------------------------------------------------------------


def _in_unit(value: float, unit: str | None, target: str | None, analyte: str, resources: Resources | None) -> float | None:
    if unit == target:
        return value
    try:
        return converter_for(resources).convert_value(value, unit, target, analyte)
    except UnitConversionError:
        return None


def implausible(
    analyte: str, value: float, unit: str | None, resources: Resources | None = None, *, limit: bool = False
) -> str | None:
    """Why `value unit` cannot be a living person's value (or limit of normal), else None."""
    table = plausibility(resources)
    bounds = table.kinds.get(analyte_kind(analyte, resources)) or table.kinds["other"]
    what = "limit of normal" if limit else "value"
    own = table.range_of(analyte)
    if own is not None:
        converted = _in_unit(value, unit, own.unit, analyte, resources)
        if converted is not None:
            low = max(own.low, bounds.min_limit) if limit else own.low
            if not low <= converted <= own.high:
                shown = f"{low:g}-{own.high:g}" + (f" {own.unit}" if own.unit else "")
                return f"implausible {what} {value:g}{f' {unit}' if unit else ''}: outside {shown} ({own.why})"
            return None
    fallback = default_unit(analyte, resources)
    converted = None if fallback is MISSING else _in_unit(value, unit, fallback, analyte, resources)
    top = bounds.max if converted is not None else bounds.max_any_unit
    magnitude = converted if converted is not None else value
    if magnitude > top or (limit and magnitude < bounds.min_limit):
        return f"implausible {what} {value:g}{f' {unit}' if unit else ''} for {analyte}"
    return None


# --- ordinals ----------------------------------------------------------------------------------


def _ordinal(text: str, resources: Resources | None) -> tuple[str, float | None] | None:
    """('IIIB', None), ('III', 3.0) or ('A', None) from 'Stage IIIB', 'NYHA class III', 'Child-Pugh A'."""
    words = record_vocabulary(resources).ordinal_words
    folded = " " + " ".join(re.sub(r"[\s_:,()\-]+", " ", text.lower()).split()) + " "
    for phrase in sorted(words, key=len, reverse=True):
        key = " " + " ".join(phrase.replace("-", " ").split()) + " "
        while key in folded:
            folded = folded.replace(key, " ")
    rest = folded.split()
    if len(rest) == 2 and _LETTER.match(rest[1]) and not _LETTER.match(rest[0]):
        rest = [rest[0] + rest[1]]  # 'IV-A', 'III b'
    if len(rest) != 1:
        return None
    token = rest[0]
    if _LETTER.match(token):
        return token.upper(), None
    match = _ORDINAL.match(token)
    if match is None:
        return None
    number = match["num"].lower()
    value = float(number) if number.isdigit() else _ROMAN.get(number)
    if value is None:
        return None
    category = token.upper()
    return category, (float(value) if not match["sub"] else None)


def _ordinal_measurement(analyte: str, raw: str, *, source: str, when: str | None, resources: Resources | None) -> Measurement | None:
    found = _ordinal(raw, resources)
    if found is None:
        return None
    category, value = found
    return Measurement(analyte=analyte, source=source, when=when, value=value, category=category)


# --- the measurement ---------------------------------------------------------------------------


def _limits(uln: Any, lln: Any, code: str | None) -> dict[str, float]:
    """The patient's own limits of normal, checked like values."""
    limits: dict[str, float] = {}
    for name, limit in (("uln", uln), ("lln", lln)):
        if limit is None:
            continue
        try:
            number = _number(limit)
        except (TypeError, ValueError, OverflowError):
            raise Unusable(f"{name} {limit!r} is not a number") from None
        bad = _check_number(number, code) or (f"{name} must be positive" if number <= 0 else None)
        if bad is not None:
            raise Unusable(f"{name}: {bad}")
        limits[name] = number
    return limits


def _check_plausible(
    analyte: str, read: _Read, code: str | None, limits: dict[str, float], range_code: str | None,
    resources: Resources | None,
) -> None:
    bad = implausible(analyte, read.value, code, resources)
    for name, limit in limits.items():
        bad = bad or implausible(analyte, limit, range_code, resources, limit=True)
        ratio_cap = plausibility(resources).max_ratio
        same = _in_unit(read.value, code, range_code, analyte, resources)
        if bad is None and same is not None and same / limit > ratio_cap:
            bad = f"implausible: the value is {same / limit:.3g} times its {name.upper()}"
    if bad is not None:
        raise Unusable(bad, code=code, unit_text=read.unit_text)


def measurement_from_value(
    analyte: str,
    raw: Any,
    *,
    source: str,
    unit: str | Missing | None = MISSING,
    uln: Any = None,
    lln: Any = None,
    range_unit: str | None = None,
    when: Any = None,
    comparator: Censor | None = None,
    resources: Resources | None = None,
) -> Measurement:
    """A measurement from a number, a 'number unit' string or a {'value','unit'} object.

    A value that cannot be used carries the problem; a value of the wrong type raises a
    PatientDataError that names the field (`creatinine.unit: expected a string, not int 5`).
    """
    if isinstance(raw, Mapping):
        return _from_object(analyte, raw, source=source, range_unit=range_unit, when=when, resources=resources)
    if raw is not None and not isinstance(raw, (str, int, float)):
        raise PatientDataError(
            f"{source}: a value is a number, a 'number unit' string or an object, not {_kind(raw)}"
        )
    unit = _require_unit(unit, f"{source}.unit")
    when_text = require_text(when, f"{source}.when", allow_date=True)
    range_unit = require_text(range_unit, f"{source}.range_unit")
    _require_limit(uln, f"{source}.uln")
    _require_limit(lln, f"{source}.lln")
    if isinstance(raw, str) and is_unitless(analyte, resources) and not _PLAIN_NUMBER.match(raw):
        ordinal = _ordinal_measurement(analyte, raw, source=source, when=when_text, resources=resources)
        if ordinal is not None:  # 'IIIB', 'NYHA III', 'Child-Pugh B', '3b'
            return ordinal
    try:
        read = _number_and_unit(raw, unit, comparator)
    except Unusable as bad:
        return Measurement(analyte=analyte, source=source, when=when_text, unit=bad.code,
                           unit_text=bad.unit_text, problem=bad.problem)
    return _checked(analyte, raw, read, unit, uln, lln, range_unit, source=source, when=when_text,
                    resources=resources)


def _checked(
    analyte: str, raw: Any, read: _Read, unit: str | Missing | None, uln: Any, lln: Any,
    range_unit: str | None, *, source: str, when: str | None, resources: Resources | None,
) -> Measurement:
    """The measurement of a number read from `raw`, or the reason it cannot be used."""
    try:
        code = _unit_code(analyte, raw, unit, read.unit_text, resources)
        problem = _check_number(read.value, code)
        if problem is not None:
            raise Unusable(problem, code=code, unit_text=read.unit_text)
        limits = _limits(uln, lln, code)
        try:
            range_code = converter_for(resources).normalize_unit(range_unit) if range_unit is not None else code
        except UnitConversionError as exc:
            raise Unusable(f"reference range: {exc}") from exc
        _check_plausible(analyte, read, code, limits, range_code, resources)
    except Unusable as bad:
        return Measurement(analyte=analyte, source=source, when=when, unit=bad.code,
                           unit_text=bad.unit_text, problem=bad.problem)
    return Measurement(
        analyte=analyte, source=source, when=when, value=read.value, comparator=read.comparator,
        unit=code, unit_text=read.unit_text, uln=limits.get("uln"), lln=limits.get("lln"),
        range_unit=range_code if limits else None,
    )


def _from_object(
    analyte: str, raw: Mapping[str, Any], *, source: str, range_unit: str | None,
    when: Any, resources: Resources | None,
) -> Measurement:
    """`{"value": 100, "unit": "U/L", "uln": 30}`: the keys of a value given as an object."""
    extra = sorted(str(k) for k in set(raw) - _VALUE_KEYS)
    if extra:
        return Measurement(
            analyte=analyte, source=source, when=require_text(when, f"{source}.when", allow_date=True),
            problem=f"unknown key(s) {', '.join(map(repr, extra))}; valid: {', '.join(sorted(_VALUE_KEYS))}",
        )
    if isinstance(raw.get("value"), Mapping):
        raise PatientDataError(f"{source}.value: a value object cannot hold another object")
    written = require_text(raw.get("comparator"), f"{source}.comparator")
    if written is not None and written.strip() not in _CENSOR:
        raise PatientDataError(
            f"{source}.comparator: {written!r} is not one of {', '.join(sorted(set(_CENSOR.values())))}"
        )
    return measurement_from_value(
        analyte,
        raw.get("value"),
        source=source,
        unit=raw.get("unit", MISSING),
        uln=raw.get("uln", raw.get("reference_high")),
        lln=raw.get("lln", raw.get("reference_low")),
        range_unit=range_unit,
        when=raw.get("when", when),
        comparator=None if written is None else _CENSOR[written.strip()],
        resources=resources,
    )


# --- comparing with certainty ------------------------------------------------------------------


class Interval(NamedTuple):
    """Where the true value lies: from `low` to `high`, each end open or closed."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False


def observed_interval(m: Measurement, value: float) -> Interval:
    """Where the patient's value lies, given `value` (m.value converted to the rule's unit)."""
    if m.comparator == "<":
        return Interval(-math.inf, value, high_open=True)
    if m.comparator == "<=":
        return Interval(-math.inf, value)
    if m.comparator == ">":
        return Interval(value, math.inf, low_open=True)
    if m.comparator == ">=":
        return Interval(value, math.inf)
    return Interval(value, value)


def _close(a: float, b: float) -> bool:
    return math.isfinite(a) and math.isfinite(b) and math.isclose(a, b, rel_tol=REL_TOL, abs_tol=1e-12)


def _lt(a: float, b: float) -> bool:
    return a < b and not _close(a, b)


def _le(a: float, b: float) -> bool:
    return a < b or _close(a, b)


Outcome = Literal["met", "not_met", "unknown"]


def interval_outcome(interval: Interval, comparator: str, threshold: float) -> Outcome:
    """`met` when every value in the interval satisfies `comparator threshold`, `not_met` when none
    does, else `unknown` (a censored `<0.2` against `<= 1.5` is met; against `<= 0.1` unknown)."""
    lo, hi, lo_open, hi_open = interval
    t = threshold
    if comparator == "<":
        inside, outside = _lt(hi, t) or (_close(hi, t) and hi_open), _le(t, lo)
    elif comparator == "<=":
        inside, outside = _le(hi, t), _lt(t, lo) or (_close(lo, t) and lo_open)
    elif comparator == ">":
        inside, outside = _lt(t, lo) or (_close(lo, t) and lo_open), _le(hi, t)
    elif comparator == ">=":
        inside, outside = _le(t, lo), _lt(hi, t) or (_close(hi, t) and hi_open)
    elif comparator in ("=", "!="):
        exact = _close(lo, hi) and not (lo_open or hi_open)
        inside = exact and _close(lo, t)
        outside = _lt(t, lo) or _lt(hi, t) or (exact and not _close(lo, t))
        if comparator == "!=":
            inside, outside = outside, inside
    else:
        return "unknown"
    return "met" if inside else "not_met" if outside else "unknown"


_DAYS_PER = {"a": 365.2425, "mo": 30.436875, "wk": 7.0, "d": 1.0, "h": 1 / 24, "min": 1 / 1440}


def date_range(written: str) -> tuple[date, date] | None:
    """The first and last day a full or partial ISO date ('2019', '2019-05', '2019-05-03') allows."""
    born = written
    try:
        if len(born) == 4:
            year = int(born)
            return date(year, 1, 1), date(year, 12, 31)
        if len(born) == 7:
            year, month = int(born[:4]), int(born[5:7])
            return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
        day = date.fromisoformat(born[:10])
    except ValueError:
        return None
    return day, day


def completed_units(birth: date, on: date, unit: str) -> int:
    """Completed units of age on a day, as eligibility counts them (17 years 11 months is 17)."""
    if unit in ("a", "mo"):
        months = (on.year - birth.year) * 12 + on.month - birth.month - (on.day < birth.day)
        return months // 12 if unit == "a" else months
    days = (on - birth).days
    return int(days // _DAYS_PER[unit]) if unit in ("wk", "d") else int(days / _DAYS_PER[unit])


def age_bounds(m: Measurement, unit: str) -> tuple[int, int] | None:
    """The least and greatest completed `unit`s (a, mo, wk, d) of age the data allow, or None.

    From a birth date, exactly (to the month when only the month is known); from an age given
    as a whole number of units, every age inside that unit (42 years is 504 to 515 months).
    """
    if unit not in _DAYS_PER or (m.value is None and m.born is None):
        return None
    if m.born is not None and m.when is not None:
        births = date_range(m.born)
        try:
            on = date.fromisoformat(m.when[:10])
        except ValueError:
            return None
        if births is None:
            return None
        return completed_units(births[1], on, unit), completed_units(births[0], on, unit)
    if m.value is None or m.unit not in _DAYS_PER:
        return None
    if m.unit == unit:
        whole = math.floor(m.value)
        return whole, whole
    per = _DAYS_PER[m.unit] / _DAYS_PER[unit]
    if m.unit == "a" and unit == "mo":
        per = 12.0
    if m.value != math.floor(m.value):  # a fractional age is taken as exact
        return math.floor(m.value * per), math.floor(m.value * per)
    return math.floor(m.value * per), math.ceil((m.value + 1) * per) - 1


def age_outcome(
    m: Measurement, comparator: str, threshold: float, unit: str | None
) -> tuple[Outcome, str, float] | None:
    """An age limit checked in completed units (a 10-month-old meets 'at least 6 months' though
    0 years old), with what was seen; None when `m` is not an age or `unit` not a time unit."""
    if m.analyte != "age" or unit not in ("a", "mo", "wk", "d"):
        return None
    if m.problem is not None and m.born is None:
        return None
    ages = age_bounds(m, unit)
    if ages is None:
        return None
    outcome = interval_outcome(Interval(ages[0], ages[1]), comparator, threshold)
    span = str(ages[0]) if ages[0] == ages[1] else f"{ages[0]} to {ages[1]}"
    return outcome, f"age {span} {unit} (completed, from {m.source})", float(ages[0])


def _ordinal_key(category: str) -> tuple[int | None, str]:
    match = _ORDINAL.match(category.strip())
    if match is None:
        return None, category.strip().upper()
    number = match["num"].lower()
    value = int(number) if number.isdigit() else _ROMAN.get(number)
    return value, (match["sub"] or "").upper()


def category_outcome(observed: str, allowed: list[str] | tuple[str, ...]) -> Outcome:
    """Whether an ordinal category is in a set as written: 'IIIB' in {IIIA, IIIB, IV} is met, 'III'
    in {IIIA, IIIB} unknown (its sub-stage is not known), 'IV' in {IIIA, IIIB} not met."""
    number, sub = _ordinal_key(observed)
    maybe = False
    for item in allowed:
        other_number, other_sub = _ordinal_key(item)
        if number is None or other_number is None:
            if (number, sub) == (other_number, other_sub):
                return "met"
            maybe = maybe or (number is None) != (other_number is None)
            continue
        if number != other_number:
            continue
        if other_sub == "" or other_sub == sub or (sub and other_sub and sub.startswith(other_sub)):
            return "met"
        if sub == "" or other_sub.startswith(sub):
            maybe = True
    return "unknown" if maybe else "not_met"
