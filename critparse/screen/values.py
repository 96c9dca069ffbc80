"""One observed value read from what a person or a system wrote: a number, 'number unit' or an
object. A value that cannot be used becomes a `Measurement` with a `problem`, never an exception,
so evaluation can say why it is unknown rather than guess."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from critparse.errors import UnitConversionError
from critparse.lexicon.resources import Resources
from critparse.model.patient import Measurement
from critparse.screen.analytes import MISSING, Missing, default_unit
from critparse.screen.units import ULN, converter_for

_NUMBER = re.compile(
    r"^\s*(?P<num>[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?(?:[eE][+-]?\d+)?|[+-]?\.\d+|nan|[+-]?inf(?:inity)?)"
    r"\s*(?P<unit>.*?)\s*$",
    re.IGNORECASE,
)
_TEMPERATURE_UNITS = frozenset({"Cel", "[degF]", "K"})
_VALUE_KEYS = frozenset({"value", "unit", "uln", "reference_high", "lln", "reference_low", "when"})


class Unusable(Exception):
    """Why a value cannot be used (internal: becomes a Measurement's `problem`)."""

    def __init__(self, problem: str, *, code: str | None = None, unit_text: str | None = None) -> None:
        super().__init__(problem)
        self.problem, self.code, self.unit_text = problem, code, unit_text


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


def _number_and_unit(raw: Any, unit: str | Missing | None) -> tuple[float, str | None]:
    """The number and the unit as written, from a number or a 'number unit' string."""
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
        if unit is not MISSING and unit_text is None:
            unit_text = unit
    else:
        number_text = raw
        unit_text = None if unit is MISSING else unit
    try:
        value = _number(number_text)
    except (TypeError, ValueError):
        raise Unusable(f"cannot read a number from {raw!r}") from None
    if not math.isfinite(value):
        raise Unusable(_check_number(value, None) or "not finite", unit_text=unit_text)
    return value, unit_text


def _unit_code(
    analyte: str, raw: Any, unit: str | Missing | None, unit_text: str | None, resources: Resources | None
) -> str | None:
    """The UCUM code of the value: as written, else the analyte's default unit."""
    if unit_text is None and (isinstance(raw, str) or unit is MISSING):
        # A bare number is in the analyte's default unit; with none known it stays a bare
        # number, which only ever compares with unitless rules.
        fallback = default_unit(analyte, resources)
        return None if fallback is MISSING else fallback
    try:
        code = converter_for(resources).normalize_unit(unit_text)
    except UnitConversionError as exc:
        raise Unusable(str(exc), unit_text=unit_text) from exc
    if code == ULN:
        raise Unusable("a value cannot be in x ULN", unit_text=unit_text)
    return code


def _limits(uln: Any, lln: Any, code: str | None) -> dict[str, float]:
    """The patient's own limits of normal, checked like values."""
    limits: dict[str, float] = {}
    for name, limit in (("uln", uln), ("lln", lln)):
        if limit is None:
            continue
        try:
            number = _number(limit)
        except (TypeError, ValueError):
            raise Unusable(f"{name} {limit!r} is not a number") from None
        bad = _check_number(number, code) or (f"{name} must be positive" if number <= 0 else None)
        if bad is not None:
            raise Unusable(f"{name}: {bad}")
        limits[name] = number
    return limits


def measurement_from_value(
    analyte: str,
    raw: Any,
    *,
    source: str,
    unit: str | Missing | None = MISSING,
    uln: Any = None,
    lln: Any = None,
    range_unit: str | None = None,
    when: str | None = None,
    resources: Resources | None = None,
) -> Measurement:
    """A measurement from a number, a 'number unit' string or a {'value','unit'} object.

    Never raises for a bad value: the measurement carries the problem instead.
    """
    if isinstance(raw, Mapping):
        return _from_object(analyte, raw, source=source, range_unit=range_unit, when=when,
                            resources=resources)
    try:
        value, unit_text = _number_and_unit(raw, unit)
        code = _unit_code(analyte, raw, unit, unit_text, resources)
        problem = _check_number(value, code)
        if problem is not None:
            raise Unusable(problem, code=code, unit_text=unit_text)
        limits = _limits(uln, lln, code)
        try:
            range_code = (
                converter_for(resources).normalize_unit(range_unit) if range_unit is not None else code
            )
        except UnitConversionError as exc:
            raise Unusable(f"reference range: {exc}") from exc
    except Unusable as bad:
        return Measurement(analyte=analyte, source=source, when=when, unit=bad.code,
                           unit_text=bad.unit_text, problem=bad.problem)
    return Measurement(
        analyte=analyte, source=source, when=when, value=value, unit=code, unit_text=unit_text,
        uln=limits.get("uln"), lln=limits.get("lln"), range_unit=range_code if limits else None,
    )


def _from_object(
    analyte: str, raw: Mapping[str, Any], *, source: str, range_unit: str | None,
    when: str | None, resources: Resources | None,
) -> Measurement:
    """`{"value": 100, "unit": "U/L", "uln": 30}`: the keys of a value given as an object."""
    extra = sorted(set(raw) - _VALUE_KEYS)
    if extra:
        return Measurement(
            analyte=analyte, source=source, when=when,
            problem=f"unknown key(s) {', '.join(map(repr, extra))}; valid: {', '.join(sorted(_VALUE_KEYS))}",
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
        resources=resources,
    )
