"""A patient from FHIR resources (a Bundle or a list), validated with fhir.resources."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime, timezone
from typing import Any, Literal

from critparse.errors import PatientDataError
from critparse.lexicon.resources import Resources, default_resources
from critparse.model.patient import Measurement, Patient, Sex
from critparse.screen.analytes import LOINC, resolve_code
from critparse.screen.mapping import age_measurement, keep_measurement, read_sex
from critparse.screen.values import measurement_from_value

UCUM = "http://unitsofmeasure.org"

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
    resources: Any, *, as_of: date | None = None, version: FhirVersion = "R5",
    lexicon: Resources | None = None,
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
        sex = read_sex(pat.gender)
        where = f"Patient/{pat.id or '?'}"
        if pat.birthDate is None:
            age = Measurement(analyte="age", source=where, problem="the Patient has no birthDate")
        else:
            age = age_measurement(pat.birthDate, as_of, source=where)
        keep_measurement(found, age, notes)
    for i, res in validated:
        rtype = res.get_resource_type()
        if rtype == "Observation":
            measurement = _measurement_from_observation(res, i, lexicon)
            if measurement is None:
                notes.append(f"Observation/{res.id or i}: no LOINC code of a known analyte; ignored")
            elif isinstance(measurement, str):
                notes.append(measurement)
            else:
                keep_measurement(found, measurement, notes)
        elif rtype != "Patient":
            notes.append(f"{rtype}/{res.id or i}: resource type not used")
    return Patient(id=patient_id, sex=sex, measurements=tuple(found.values()), notes=tuple(notes))


def _quantity_unit(quantity: Any) -> str | None:
    """The UCUM code of a FHIR Quantity, else its human-readable unit."""
    if quantity.code and (quantity.system in (None, UCUM)):
        return str(quantity.code)
    return str(quantity.unit) if quantity.unit else None


def _measurement_from_observation(
    obs: Any, index: int, lexicon: Resources | None = None
) -> Measurement | str | None:
    """The observation's measurement; a note when it is to be skipped; None if not an analyte."""
    source = f"Observation/{obs.id or index}"
    name = None
    codings = list(obs.code.coding or []) if obs.code else []
    for coding in codings:
        if coding.code and coding.system in (LOINC, None):
            name = resolve_code(str(coding.code), LOINC, lexicon)
            if name is not None:
                break
    if name is None:
        for text in [c.display for c in codings] + [obs.code.text if obs.code else None]:
            if text:
                candidate = (lexicon or default_resources()).analytes.lookup(str(text))
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
            resources=lexicon,
        )
    if getattr(obs, "valueInteger", None) is not None:
        return measurement_from_value(name, obs.valueInteger, source=source, when=when, resources=lexicon)
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
