"""A patient's data as a screener holds it: a plain mapping or FHIR resources.

Both become one `Patient`: at most one `Measurement` per canonical analyte name, with its value
in a UCUM unit and, when known, its own reference limits. Keys and codes are resolved through
the analyte lexicon (`critparse.lexicon.analytes`). A value that cannot be used is kept with a `problem`
instead of a number, so evaluation can say *why* it is unknown rather than guess.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timezone
from enum import Enum, auto
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from critparse.lexicon.analytes import load_analytes
from critparse.errors import PatientDataError, UnitConversionError
from critparse.screen.units import ULN, default_conversions, normalize_unit

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"

_FROZEN = ConfigDict(frozen=True, extra="forbid")

Sex = Literal["female", "male"]


class Measurement(BaseModel):
    """One observed value of one analyte, or why there is no usable value."""

    model_config = _FROZEN

    analyte: str = Field(description="Canonical analyte name (lexicon name, else the key).")
    value: float | None = None
    unit: str | None = Field(default=None, description="UCUM code; None for a bare score.")
    unit_text: str | None = Field(default=None, description="The unit as given.")
    uln: float | None = Field(default=None, description="The patient's own upper limit of normal.")
    lln: float | None = Field(default=None, description="The patient's own lower limit of normal.")
    range_unit: str | None = Field(default=None, description="Unit of uln/lln (UCUM).")
    source: str = Field(description="Where it came from, e.g. 'creatinine' or 'Observation/abc'.")
    when: str | None = Field(default=None, description="Effective date/time (ISO), if given.")
    problem: str | None = Field(default=None, description="Why `value` is missing or unusable.")


class Patient(BaseModel):
    """What `critparse.evaluate` checks rules against."""

    model_config = _FROZEN

    id: str | None = None
    sex: Sex | None = None
    measurements: tuple[Measurement, ...] = ()
    notes: tuple[str, ...] = Field(default=(), description="Input that was read but not used.")

    _by_name: dict[str, Measurement] = PrivateAttr(default_factory=dict)

    def model_post_init(self, __context: Any) -> None:
        self._by_name = {m.analyte: m for m in self.measurements}

    def get(self, analyte: str) -> Measurement | None:
        """The measurement of `analyte` (canonical name), if any."""
        return self._by_name.get(analyte)


# --- the analyte lexicon ----------------------------------------------------------------------


@cache
def _codes_from_conversions() -> dict[str, str]:
    """Extra LOINC codes (e.g. an analyte's moles/volume form) listed in conversions.json."""
    return {code: a.analyte for a in default_conversions().analytes for code in a.codes}


def resolve_analyte(key: str) -> str:
    """Canonical name for a key written by a person: name, synonym, abbreviation or LOINC code."""
    text = " ".join(str(key).split())
    lexicon = load_analytes()
    entry = lexicon.by_name(text.lower()) or lexicon.by_code(text) or lexicon.lookup(text)
    if entry is not None:
        return entry.name
    extra = _codes_from_conversions().get(text)
    return extra if extra is not None else text.lower()


def resolve_code(code: str, system: str | None = LOINC) -> str | None:
    """Canonical name for a LOINC code, or None when no analyte has it."""
    if system not in (None, LOINC):
        return None
    entry = load_analytes().by_code(code)
    if entry is not None:
        return entry.name
    return _codes_from_conversions().get(code)


class _Missing(Enum):
    """Sentinel type: "no unit given", distinct from None ("no unit, a bare score")."""

    MISSING = auto()


_MISSING = _Missing.MISSING


def default_unit(analyte: str) -> str | _Missing | None:
    """The unit a bare number for `analyte` is taken to be in; `_MISSING` when not known."""
    entry = load_analytes().by_name(analyte)
    if entry is not None:
        if entry.unitless:
            return None
        return entry.default_unit or _MISSING
    if analyte == "age":  # ages are in years everywhere, lexicon or not
        return "a"
    return _MISSING


# --- values -----------------------------------------------------------------------------------

_NUMBER = re.compile(
    r"^\s*(?P<num>[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?(?:[eE][+-]?\d+)?|[+-]?\.\d+|nan|[+-]?inf(?:inity)?)"
    r"\s*(?P<unit>.*?)\s*$",
    re.IGNORECASE,
)
_TEMPERATURE_UNITS = frozenset({"Cel", "[degF]", "K"})


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


def measurement_from_value(
    analyte: str,
    raw: Any,
    *,
    source: str,
    unit: str | _Missing | None = _MISSING,
    uln: Any = None,
    lln: Any = None,
    range_unit: str | None = None,
    when: str | None = None,
) -> Measurement:
    """A measurement from a number, a 'number unit' string or a {'value','unit'} object.

    Never raises for a bad value: the measurement carries the problem instead.
    """

    def unusable(problem: str, code: str | None = None, unit_text: str | None = None) -> Measurement:
        return Measurement(
            analyte=analyte, source=source, when=when, unit=code, unit_text=unit_text, problem=problem
        )

    if isinstance(raw, Mapping):
        allowed = {"value", "unit", "uln", "reference_high", "lln", "reference_low", "when"}
        extra = sorted(set(raw) - allowed)
        if extra:
            return unusable(
                f"unknown key(s) {', '.join(map(repr, extra))}; valid: {', '.join(sorted(allowed))}"
            )
        return measurement_from_value(
            analyte,
            raw.get("value"),
            source=source,
            unit=raw.get("unit", _MISSING),
            uln=raw.get("uln", raw.get("reference_high")),
            lln=raw.get("lln", raw.get("reference_low")),
            range_unit=range_unit,
            when=raw.get("when", when),
        )
    if raw is None:
        return unusable("no value given")
    if isinstance(raw, bool):
        return unusable(f"{raw!r} is a boolean, not a number")
    unit_text: str | None
    if isinstance(raw, str):
        match = _NUMBER.match(raw)
        if match is None:
            return unusable(f"cannot read a number from {raw!r}")
        number_text, unit_text = match["num"], match["unit"] or None
        if unit is not _MISSING and unit_text is None:
            unit_text = unit
    else:
        number_text = raw
        unit_text = None if unit is _MISSING else unit
    try:
        value = _number(number_text)
    except (TypeError, ValueError):
        return unusable(f"cannot read a number from {raw!r}")
    nonfinite = None if math.isfinite(value) else _check_number(value, None)
    if nonfinite is not None:
        return unusable(nonfinite, unit_text=unit_text)
    if unit_text is None and (isinstance(raw, str) or unit is _MISSING):
        # A bare number is in the analyte's default unit; with none known it stays a bare
        # number, which only ever compares with unitless rules.
        fallback = default_unit(analyte)
        code = None if fallback is _MISSING else fallback
    else:
        try:
            code = normalize_unit(unit_text)
        except UnitConversionError as exc:
            return unusable(str(exc), unit_text=unit_text)
    if code == ULN:
        return unusable("a value cannot be in x ULN", unit_text=unit_text)
    problem = _check_number(value, code)
    if problem is not None:
        return unusable(problem, code=code, unit_text=unit_text)
    limits: dict[str, float] = {}
    for name, limit in (("uln", uln), ("lln", lln)):
        if limit is None:
            continue
        try:
            number = _number(limit)
        except (TypeError, ValueError):
            return unusable(f"{name} {limit!r} is not a number")
        bad = _check_number(number, code) or (f"{name} must be positive" if number <= 0 else None)
        if bad is not None:
            return unusable(f"{name}: {bad}")
        limits[name] = number
    try:
        range_code = normalize_unit(range_unit) if range_unit is not None else code
    except UnitConversionError as exc:
        return unusable(f"reference range: {exc}")
    return Measurement(
        analyte=analyte,
        source=source,
        when=when,
        value=value,
        unit=code,
        unit_text=unit_text,
        uln=limits.get("uln"),
        lln=limits.get("lln"),
        range_unit=range_code if limits else None,
    )


# --- plain mappings ---------------------------------------------------------------------------

_ID_KEYS = {"id", "patient_id"}
_SEX_KEYS = {"sex", "gender"}
_BIRTH_KEYS = {"birthdate", "birth_date", "date_of_birth", "dob"}


def patient_from_mapping(data: Mapping[str, Any], *, as_of: date | None = None) -> Patient:
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
            sex = _sex(raw)
            if sex is None and raw is not None:
                notes.append(f"sex {raw!r} not understood")
            continue
        if folded in _BIRTH_KEYS:
            age = _age_measurement(raw, as_of, source=str(key))
            _keep(found, age, notes)
            continue
        name = resolve_analyte(str(key))
        _keep(found, measurement_from_value(name, raw, source=str(key)), notes)
    return Patient(id=patient_id, sex=sex, measurements=tuple(found.values()), notes=tuple(notes))


def _keep(found: dict[str, Measurement], new: Measurement, notes: list[str]) -> None:
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


def _sex(raw: Any) -> Sex | None:
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


def _age_measurement(raw: Any, as_of: date | None, *, source: str) -> Measurement:
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


# --- FHIR -------------------------------------------------------------------------------------

FhirVersion = Literal["R5", "R4B"]


def _model_class(version: FhirVersion, resource_type: str) -> Any:
    if version == "R5":
        from fhir.resources import get_fhir_model_class
    elif version == "R4B":
        from fhir.resources.R4B import get_fhir_model_class  # type: ignore[no-redef]
    else:
        raise PatientDataError(f"FHIR version must be 'R5' or 'R4B', not {version!r}")
    try:
        return get_fhir_model_class(resource_type)
    except (KeyError, ValueError) as exc:
        raise PatientDataError(f"unknown FHIR resourceType {resource_type!r}") from exc


def _validate(raw: Any, version: FhirVersion, where: str) -> Any:
    from pydantic import ValidationError

    if not isinstance(raw, Mapping) or "resourceType" not in raw:
        raise PatientDataError(f"{where}: not a FHIR resource (no resourceType)")
    model = _model_class(version, str(raw["resourceType"]))
    try:
        return model.model_validate(dict(raw))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise PatientDataError(
            f"{where}: invalid FHIR {version} {raw['resourceType']}: {problems}"
        ) from exc


def _flatten(resources: Any) -> list[Any]:
    """Bundles (nested too) and lists become one list of raw resources."""
    if isinstance(resources, Mapping):
        if resources.get("resourceType") == "Bundle":
            return [
                r
                for entry in resources.get("entry") or []
                if isinstance(entry, Mapping) and entry.get("resource") is not None
                for r in _flatten(entry["resource"])
            ]
        return [resources]
    if isinstance(resources, (list, tuple)):
        return [r for item in resources for r in _flatten(item)]
    raise PatientDataError(
        f"FHIR input must be a Bundle, a resource or a list of them, not {type(resources).__name__}"
    )


def patient_from_fhir(
    resources: Any, *, as_of: date | None = None, version: FhirVersion = "R5"
) -> Patient:
    """A patient from a FHIR Bundle or list of resources (JSON objects or a JSON string).

    Every resource is validated with fhir.resources (R5 by default, or R4B); all invalid
    resources are reported in one PatientDataError. A Patient gives sex and age (from
    birthDate at `as_of`, default today); Observations give LOINC-coded values with their
    reference range. Other resource types are ignored (noted on the patient).
    """
    if isinstance(resources, (str, bytes)):
        try:
            resources = json.loads(resources)
        except json.JSONDecodeError as exc:
            raise PatientDataError(f"FHIR input is not JSON: {exc}") from exc
    raw_list = _flatten(resources)
    # Validate the bundle envelope too when one was given (catches a malformed Bundle).
    if isinstance(resources, Mapping) and resources.get("resourceType") == "Bundle":
        envelope = {k: v for k, v in resources.items() if k != "entry"}
        _validate(envelope, version, "Bundle")
    errors: list[str] = []
    validated: list[tuple[int, Any]] = []
    for i, raw in enumerate(raw_list):
        rtype, rid = (raw.get("resourceType"), raw.get("id")) if isinstance(raw, Mapping) else (None, None)
        where = f"resource {i} ({rtype or '?'}{f'/{rid}' if rid else ''})"
        try:
            validated.append((i, _validate(raw, version, where)))
        except PatientDataError as exc:
            errors.append(str(exc))
    if errors:
        raise PatientDataError(f"{len(errors)} invalid FHIR resource(s): " + " | ".join(errors))

    patient_id: str | None = None
    sex: Sex | None = None
    notes: list[str] = []
    found: dict[str, Measurement] = {}
    patients = [r for _, r in validated if r.get_resource_type() == "Patient"]
    if len(patients) > 1:
        raise PatientDataError(f"FHIR input holds {len(patients)} Patient resources; give one")
    if patients:
        pat = patients[0]
        patient_id = pat.id
        sex = _sex(pat.gender)
        where = f"Patient/{pat.id or '?'}"
        if pat.birthDate is None:
            age = Measurement(analyte="age", source=where, problem="the Patient has no birthDate")
        else:
            age = _age_measurement(pat.birthDate, as_of, source=where)
        _keep(found, age, notes)
    for i, res in validated:
        rtype = res.get_resource_type()
        if rtype == "Observation":
            measurement = _measurement_from_observation(res, i)
            if measurement is None:
                notes.append(f"Observation/{res.id or i}: no LOINC code of a known analyte; ignored")
            elif isinstance(measurement, str):
                notes.append(measurement)
            else:
                _keep(found, measurement, notes)
        elif rtype != "Patient":
            notes.append(f"{rtype}/{res.id or i}: resource type not used")
    return Patient(id=patient_id, sex=sex, measurements=tuple(found.values()), notes=tuple(notes))


def _quantity_unit(quantity: Any) -> str | None:
    """The UCUM code of a FHIR Quantity, else its human-readable unit."""
    if quantity.code and (quantity.system in (None, UCUM)):
        return str(quantity.code)
    return str(quantity.unit) if quantity.unit else None


def _measurement_from_observation(obs: Any, index: int) -> Measurement | str | None:
    """The observation's measurement; a note when it is to be skipped; None if not an analyte."""
    source = f"Observation/{obs.id or index}"
    name = None
    codings = list(obs.code.coding or []) if obs.code else []
    for coding in codings:
        if coding.code and coding.system in (LOINC, None):
            name = resolve_code(str(coding.code), LOINC)
            if name is not None:
                break
    if name is None:
        for text in [c.display for c in codings] + [obs.code.text if obs.code else None]:
            if text:
                candidate = load_analytes().lookup(str(text))
                if candidate is not None:
                    name = candidate.name
                    break
    if name is None:
        return None
    if obs.status in ("entered-in-error", "cancelled"):
        return f"{source}: status {obs.status}; ignored"
    when_raw = obs.effectiveDateTime or obs.issued
    when = _iso(when_raw)
    if obs.dataAbsentReason is not None:
        why = obs.dataAbsentReason.text or ", ".join(
            str(c.code) for c in obs.dataAbsentReason.coding or []
        )
        return Measurement(analyte=name, source=source, when=when, problem=f"data absent: {why}")
    uln = lln = None
    range_unit = None
    for rng in obs.referenceRange or []:
        if rng.high is not None or rng.low is not None:
            if rng.high is not None and rng.high.value is not None:
                uln = float(rng.high.value)
                range_unit = _quantity_unit(rng.high)
            if rng.low is not None and rng.low.value is not None:
                lln = float(rng.low.value)
                range_unit = range_unit or _quantity_unit(rng.low)
            break
    if obs.valueQuantity is not None:
        quantity = obs.valueQuantity
        if quantity.comparator is not None:
            return Measurement(
                analyte=name,
                source=source,
                when=when,
                problem=f"censored value {quantity.comparator}{quantity.value}: not an exact value",
            )
        unit = _quantity_unit(quantity)
        return measurement_from_value(
            name,
            None if quantity.value is None else float(quantity.value),
            source=source,
            unit=unit,
            uln=uln,
            lln=lln,
            range_unit=range_unit if range_unit is not None else unit,
            when=when,
        )
    if getattr(obs, "valueInteger", None) is not None:
        return measurement_from_value(name, obs.valueInteger, source=source, when=when)
    return Measurement(analyte=name, source=source, when=when, problem="no numeric value")


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


# --- any input --------------------------------------------------------------------------------


def load_patient(
    source: Patient | Mapping[str, Any] | Iterable[Any] | str | Path,
    *,
    as_of: date | None = None,
    version: FhirVersion = "R5",
) -> Patient:
    """A Patient from whatever a screener holds: a Patient, a mapping, FHIR JSON, or a file.

    FHIR is recognised by `resourceType`; anything else that is an object is a plain mapping.
    """
    if isinstance(source, Patient):
        return source
    if isinstance(source, Path) or (isinstance(source, str) and not source.lstrip().startswith(("{", "["))):
        path = Path(source)
        try:
            source = json.loads(path.read_text("utf-8"))
        except OSError as exc:
            raise PatientDataError(f"{path}: cannot read: {exc}") from exc
        except json.JSONDecodeError as exc:
            raise PatientDataError(f"{path}: not JSON: {exc}") from exc
    elif isinstance(source, str):
        try:
            source = json.loads(source)
        except json.JSONDecodeError as exc:
            raise PatientDataError(f"patient input is not JSON: {exc}") from exc
    if isinstance(source, Mapping) and "resourceType" not in source:
        return patient_from_mapping(source, as_of=as_of)
    return patient_from_fhir(source, as_of=as_of, version=version)


__all__ = [
    "Measurement",
    "Patient",
    "load_patient",
    "patient_from_fhir",
    "patient_from_mapping",
    "resolve_analyte",
]
