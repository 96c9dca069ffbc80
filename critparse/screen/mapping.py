"""A patient from a plain mapping: `{"creatinine": "1.1 mg/dL", "age": 42, "sex": "F"}`."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from critparse.errors import PatientDataError
from critparse.lexicon.resources import Resources
from critparse.model.patient import Measurement, Patient, Sex
from critparse.screen.analytes import resolve_analyte
from critparse.screen.values import measurement_from_value

_ID_KEYS = {"id", "patient_id"}
_SEX_KEYS = {"sex", "gender"}
_BIRTH_KEYS = {"birthdate", "birth_date", "date_of_birth", "dob"}


def patient_from_mapping(
    data: Mapping[str, Any], *, as_of: date | None = None, resources: Resources | None = None
) -> Patient:
    """A patient from `{"creatinine": "1.1 mg/dL", "age": 42, "2160-0": {...}, ...}`.

    Keys are analyte names, synonyms or LOINC codes; `id`, `sex` and `birth_date` are read too
    (age is computed from a birth date at `as_of`, default today).
    """
    if not isinstance(data, Mapping):
        raise PatientDataError(f"a patient mapping must be a JSON object, not {type(data).__name__}")
    patient_id: str | None = None
    sex: Sex | None = None
    notes: list[str] = []
    found: dict[str, Measurement] = {}
    for key, raw in data.items():
        folded = str(key).strip().lower()
        if folded in _ID_KEYS:
            patient_id = None if raw is None else str(raw)
            continue
        if folded in _SEX_KEYS:
            sex = read_sex(raw)
            if sex is None and raw is not None:
                notes.append(f"sex {raw!r} not understood")
            continue
        if folded in _BIRTH_KEYS:
            age = age_measurement(raw, as_of, source=str(key))
            keep_measurement(found, age, notes)
            continue
        name = resolve_analyte(str(key), resources)
        keep_measurement(found, measurement_from_value(name, raw, source=str(key), resources=resources), notes)
    return Patient(id=patient_id, sex=sex, measurements=tuple(found.values()), notes=tuple(notes))


def keep_measurement(found: dict[str, Measurement], new: Measurement, notes: list[str]) -> None:
    """Keep one measurement per analyte: a usable one over a problem, then the latest."""
    old = found.get(new.analyte)
    if old is None:
        found[new.analyte] = new
        return
    if (old.problem is None) != (new.problem is None):
        keep, drop = (old, new) if old.problem is None else (new, old)
    elif (new.when or "") >= (old.when or ""):
        keep, drop = new, old
    else:
        keep, drop = old, new
    found[new.analyte] = keep
    notes.append(f"{drop.source}: another {new.analyte} value ({keep.source}) was used instead")


def read_sex(raw: Any) -> Sex | None:
    text = str(raw).strip().lower() if raw is not None else ""
    if text in {"f", "female", "woman"}:
        return "female"
    if text in {"m", "male", "man"}:
        return "male"
    return None


def age_in_years(birth: date, as_of: date) -> int:
    """Completed years, as eligibility ages are counted (17 years 11 months is 17)."""
    years = as_of.year - birth.year
    if (as_of.month, as_of.day) < (birth.month, birth.day):
        years -= 1
    return years


def age_measurement(raw: Any, as_of: date | None, *, source: str) -> Measurement:
    if raw is None:
        return Measurement(analyte="age", source=source, problem="no birth date given")
    try:
        birth = raw if isinstance(raw, date) else date.fromisoformat(str(raw)[:10])
    except ValueError:
        return Measurement(
            analyte="age", source=source, problem=f"birth date {raw!r} is not an ISO date"
        )
    if isinstance(birth, datetime):
        birth = birth.date()
    today = as_of or date.today()
    if birth > today:
        return Measurement(
            analyte="age", source=source, problem=f"birth date {birth} is after {today}"
        )
    return Measurement(
        analyte="age",
        source=source,
        value=float(age_in_years(birth, today)),
        unit="a",
        when=today.isoformat(),
    )
