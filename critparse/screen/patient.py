"""A patient from whatever a screener holds: a Patient, a plain mapping, FHIR JSON or a file.

Both forms become one `Patient` (`critparse.model.patient`): at most one `Measurement` per
canonical analyte name, with its value in a UCUM unit and, when known, its own reference limits.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from critparse.errors import PatientDataError
from critparse.lexicon.resources import Resources
from critparse.model.patient import Measurement, Patient
from critparse.screen.analytes import resolve_analyte, resolve_code
from critparse.screen.fhir import FhirVersion, patient_from_fhir
from critparse.screen.mapping import age_in_years, patient_from_mapping
from critparse.screen.values import measurement_from_value

def load_patient(
    source: Patient | Mapping[str, Any] | Iterable[Any] | str | Path,
    *,
    as_of: date | None = None,
    version: FhirVersion = "R5",
    resources: Resources | None = None,
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
        return patient_from_mapping(source, as_of=as_of, resources=resources)
    return patient_from_fhir(source, as_of=as_of, version=version, lexicon=resources)


__all__ = [
    "Measurement",
    "Patient",
    "age_in_years",
    "load_patient",
    "measurement_from_value",
    "patient_from_fhir",
    "patient_from_mapping",
    "resolve_analyte",
    "resolve_code",
]
