"""A patient from FHIR resources (a Bundle, a list, or a stream of them): R5, R4B or R4.

What is read:
- `Patient`: sex (`gender`) and age (`birthDate`, year-month precision kept);
- `Observation`: LOINC-coded values (also each `component`, as in a blood-pressure panel),
  censored values (`comparator`), ordinal values (`valueString` / `valueCodeableConcept`: 'IIIB'),
  the observation's reference range; pregnancy status and tests; coded findings;
- `Condition`, `MedicationStatement` / `MedicationRequest` / `MedicationAdministration` (with
  `Medication` resources they reference, contained or in the bundle), `Procedure`,
  `AllergyIntolerance`, `Immunization`, `FamilyMemberHistory`: records with their codes,
  statuses and dates.

Versions: `"auto"` (the default) validates each resource as R5 and, failing that, as R4. R4 (what
most EHR endpoints serve, US Core) is read through fhir.resources' R4B models, because
fhir.resources 8 ships R5, R4B and STU3 only. R4B changed none of the elements read here (its
changes are to the medicinal-product, evidence and subscription resources), so R4 JSON of these
resources validates as R4B unchanged (the R4 US Core examples of the tests do); the one
normalisation is that the R4 resource types R4B dropped (`MedicinalProduct*`,
`SubstanceSpecification`, `*EvidenceSynthesis`; listed in `patient_records.json`) are accepted
and not used instead of being refused as unknown types. Field names
that differ between R4 and R5 (`medicationCodeableConcept` / `medication.concept`,
`performed[x]` / `occurrence[x]`, `effective[x]` / `occurence[x]`) are all read.

Validation: every resource that gives the patient something (the Patient, every record, the
Observation whose value is kept for each analyte) is validated with fhir.resources and all
invalid ones are reported in one `PatientDataError`; a field this module reads with the wrong
JSON type is an error naming it. Resources that are not used (unknown codes, superseded values,
other resource types) are counted in the notes, by kind, without being validated: that keeps a
100,000-Observation bundle fast and its memory flat.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, timezone
from typing import Any, Literal

from critparse.errors import PatientDataError, format_validation_error
from critparse.lexicon.resources import Resources, default_resources
from critparse.model.concept import Code
from critparse.model.patient import ClinicalRecord, Measurement, Patient, RecordKind, Sex
from critparse.screen.analytes import (
    LOINC,
    RecordVocabulary,
    is_unitless,
    record_vocabulary,
    resolve_code,
)
from critparse.screen.mapping import Notes, age_measurement, keep_measurement, read_sex
from critparse.screen.values import _CENSOR, measurement_from_value, require_text

UCUM = "http://unitsofmeasure.org"

FhirVersion = Literal["auto", "R5", "R4B", "R4"]
_VERSIONS = ("auto", "R5", "R4B", "R4")
_MAX_ERRORS_SHOWN = 20
_RECORD_TYPES: dict[str, RecordKind] = {
    "Condition": "condition",
    "MedicationStatement": "medication",
    "MedicationRequest": "medication",
    "MedicationAdministration": "medication",
    "Procedure": "procedure",
    "AllergyIntolerance": "allergy",
    "Immunization": "immunization",
}

__all__ = ["FhirVersion", "iter_resources", "patient_from_fhir"]


# --- validation --------------------------------------------------------------------------------


def _model_class(version: str, resource_type: str) -> Any:
    """The fhir.resources model of a type in a version (R4 through R4B), None when unknown."""
    if version == "R5":
        from fhir.resources import get_fhir_model_class
    else:
        from fhir.resources.R4B import get_fhir_model_class  # type: ignore[no-redef]
    try:
        return get_fhir_model_class(resource_type)
    except (KeyError, ValueError, AttributeError, ImportError):
        return None


def _problems(exc: Exception) -> str:
    from pydantic import ValidationError

    if not isinstance(exc, ValidationError):
        return str(exc)
    return format_validation_error(exc)


class _Validator:
    """Validates raw resources in one version, or ('auto') R5 then R4, whichever last worked first."""

    def __init__(self, version: str, vocab: RecordVocabulary) -> None:
        if version not in _VERSIONS:
            raise PatientDataError(f"FHIR version must be one of {', '.join(_VERSIONS)}, not {version!r}")
        self.order = ["R5", "R4"] if version == "auto" else [version]
        self.r4_only = vocab.fhir_r4_only_types

    def known(self, resource_type: str) -> bool:
        """True when some version in use defines the type (R4's dropped types count as R4)."""
        return any(
            _model_class(v, resource_type) is not None or (v == "R4" and resource_type in self.r4_only)
            for v in self.order
        )

    def check(self, raw: Mapping[str, Any], where: str) -> str | None:
        """None when `raw` is valid in a version in use, else what is wrong (in each version)."""
        failures = []
        for version in list(self.order):
            model = _model_class(version, str(raw.get("resourceType")))
            if model is None:
                continue
            try:
                model.model_validate(dict(raw))
            except Exception as exc:  # fhir.resources raises pydantic and its own errors
                failures.append(f"{version}: {_problems(exc)[:600]}")
                continue
            if self.order[0] != version:  # the next resource is most likely in the same version
                self.order.remove(version)
                self.order.insert(0, version)
            return None
        return f"{where}: invalid FHIR {raw.get('resourceType')} ({' | '.join(failures) or 'unknown type'})"


# --- typed reads of raw JSON -------------------------------------------------------------------


def _obj(raw: Any, field: str) -> Mapping[str, Any] | None:
    if raw is None or isinstance(raw, Mapping):
        return raw
    raise PatientDataError(f"{field}: expected an object, not {type(raw).__name__}")


def _items(raw: Any, field: str) -> list[Mapping[str, Any]]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise PatientDataError(f"{field}: expected a list, not {type(raw).__name__}")
    return [item for i, item in enumerate(raw) if _obj(item, f"{field}[{i}]") is not None]


def _concept(raw: Any, field: str) -> tuple[str | None, tuple[Code, ...]]:
    """A CodeableConcept's text (else its first display) and its codes."""
    node = _obj(raw, field)
    if node is None:
        return None, ()
    codes: list[Code] = []
    displays: list[str] = []
    for i, coding in enumerate(_items(node.get("coding"), f"{field}.coding")):
        where = f"{field}.coding[{i}]"
        system = require_text(coding.get("system"), f"{where}.system")
        code = require_text(coding.get("code"), f"{where}.code")
        display = require_text(coding.get("display"), f"{where}.display")
        if system and system.strip() and code and code.strip():  # checked above: skip re-validation
            codes.append(Code.model_construct(system=system.strip(), code=code.strip(), display=display))
        if display and display.strip():
            displays.append(display.strip())
    text = require_text(node.get("text"), f"{field}.text")
    text = text.strip() if text and text.strip() else (displays[0] if displays else None)
    return text, tuple(codes)


def _status_code(raw: Any, field: str) -> str | None:
    """The code of a status CodeableConcept (clinicalStatus), else its text, lower case."""
    text, codes = _concept(raw, field)
    if codes:
        return codes[0].code.lower()
    node = _obj(raw, field) or {}
    for coding in _items(node.get("coding"), f"{field}.coding"):  # a code without its system
        code = require_text(coding.get("code"), f"{field}.coding.code")
        if code and code.strip():
            return code.strip().lower()
    return text.lower() if text else None


def _iso(value: str | None) -> str | None:
    """A FHIR date or dateTime as ISO text; dateTimes with an offset in UTC, partial dates kept."""
    if value is None or len(value) <= 10:
        return value
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat()


def _dates(res: Mapping[str, Any], where: str, *names: str) -> tuple[str | None, str | None]:
    """(start, end) from the first of `names` present: a date/dateTime, or a Period."""
    for name in names:
        value = res.get(name)
        if value is None:
            continue
        if name.endswith("Period"):
            period = _obj(value, f"{where}.{name}") or {}
            start = require_text(period.get("start"), f"{where}.{name}.start")
            end = require_text(period.get("end"), f"{where}.{name}.end")
            return _iso(start), _iso(end)
        if name.endswith(("DateTime", "Date", "Instant", "date", "issued", "authoredOn", "recorded")):
            moment = _iso(require_text(value, f"{where}.{name}"))
            return moment, moment
    return None, None


# --- the reader --------------------------------------------------------------------------------


class _Reader:
    """Reads resources one at a time into what the patient needs, keeping nothing else."""

    def __init__(self, version: str, as_of: date, lexicon: Resources | None) -> None:
        self.lexicon = lexicon
        self.vocab = record_vocabulary(lexicon)
        self.validator = _Validator(version, self.vocab)
        self.as_of = as_of
        self.notes = Notes()
        self.errors: list[str] = []
        self.error_count = 0
        self.found: dict[str, Measurement] = {}
        self.winners: dict[str, Mapping[str, Any]] = {}
        self.records: list[ClinicalRecord] = []
        self.pending: list[tuple[dict[str, Any], str, Mapping[str, Any]]] = []
        self.medications: dict[str, tuple[str | None, tuple[Code, ...]]] = {}
        self.patients = 0
        self.fields: dict[str, Any] = {"id": None, "sex": None, "birth_date": None}

    def error(self, message: str) -> None:
        self.error_count += 1
        if len(self.errors) < _MAX_ERRORS_SHOWN:
            self.errors.append(message)

    def read(self, index: int, raw: Any, full_url: str | None) -> None:
        """One resource; a malformed one is recorded as an error and reading goes on."""
        rtype = raw.get("resourceType") if isinstance(raw, Mapping) else None
        rid = raw.get("id") if isinstance(raw, Mapping) else None
        where = f"{rtype}/{rid}" if isinstance(rtype, str) and isinstance(rid, str) else f"resource {index} ({rtype or '?'})"
        if not isinstance(raw, Mapping) or not isinstance(rtype, str):
            self.error(f"resource {index}: not a FHIR resource (no resourceType)")
            return
        if not self.validator.known(rtype):
            self.error(f"{where}: unknown FHIR resourceType {rtype!r}")
            return
        try:
            self._dispatch(rtype, raw, where, full_url)
        except PatientDataError as exc:
            self.error(str(exc))

    def _dispatch(self, rtype: str, raw: Mapping[str, Any], where: str, full_url: str | None) -> None:
        if rtype == "Patient":
            self._patient(raw, where)
        elif rtype == "Observation":
            self._observation(raw, where)
        elif rtype == "Medication":
            self._medication(raw, where, full_url)
        elif rtype in _RECORD_TYPES:
            self._record(rtype, raw, where)
        elif rtype == "FamilyMemberHistory":
            self._family(raw, where)
        else:
            self.notes.add("resource type not used", where)

    def validated(self, raw: Mapping[str, Any], where: str) -> bool:
        problem = self.validator.check(raw, where)
        if problem is not None:
            self.error(problem)
        return problem is None

    # --- Patient ---

    def _patient(self, raw: Mapping[str, Any], where: str) -> None:
        self.patients += 1
        if self.patients > 1 or not self.validated(raw, where):
            return
        self.fields["id"] = require_text(raw.get("id"), f"{where}.id")
        gender = require_text(raw.get("gender"), f"{where}.gender")
        sex: Sex | None = read_sex(gender)
        self.fields["sex"] = sex
        birth = require_text(raw.get("birthDate"), f"{where}.birthDate")
        self.fields["birth_date"] = birth
        if birth is None:
            age = Measurement(analyte="age", source=where, problem="the Patient has no birthDate")
        else:
            age = age_measurement(birth, self.as_of, source=where)
        keep_measurement(self.found, age, self.notes)

    # --- Observation ---

    def _observation(self, raw: Mapping[str, Any], where: str) -> None:
        # The fields every Observation must have are checked here, because most Observations
        # are not validated in full (see the module docstring).
        for required in ("status", "code"):
            if raw.get(required) is None:
                raise PatientDataError(f"{where}.{required}: field required")
        text, codes = _concept(raw.get("code"), f"{where}.code")
        if self._is_pregnancy(text, codes):
            self._pregnancy(raw, where, text, codes)
            return
        name = self._analyte(text, codes)
        status = require_text(raw.get("status"), f"{where}.status")
        components = _items(raw.get("component"), f"{where}.component")
        from_components = [self._component(c, raw, where, i) for i, c in enumerate(components)]
        if any(from_components):
            return
        if name is None:
            self._finding(raw, where, text, codes)
            return
        if status in ("entered-in-error", "cancelled"):
            self.notes.add(f"status {status}; ignored", where)
            return
        measurement = self._value(name, raw, where, where)
        self.keep(measurement, raw)

    def _analyte(self, text: str | None, codes: tuple[Code, ...]) -> str | None:
        for code in codes:
            if code.system in (LOINC,):
                name = resolve_code(code.code, LOINC, self.lexicon)
                if name is not None:
                    return name
        for label in [text, *(c.display for c in codes)]:
            if label:
                entry = (self.lexicon or default_resources()).analytes.lookup(label)
                if entry is not None:
                    return entry.name
        return None

    def _component(self, comp: Mapping[str, Any], raw: Mapping[str, Any], where: str, i: int) -> bool:
        field = f"{where}.component[{i}]"
        text, codes = _concept(comp.get("code"), f"{field}.code")
        name = self._analyte(text, codes)
        if name is None:
            return False
        if raw.get("status") in ("entered-in-error", "cancelled"):
            self.notes.add(f"status {raw.get('status')}; ignored", where)
            return True
        label = next((c.code for c in codes if c.system == LOINC), str(i))
        self.keep(self._value(name, comp, f"{where}#{label}", field, when_from=raw), raw)
        return True

    def keep(self, measurement: Measurement, raw: Mapping[str, Any]) -> None:
        """Keep the measurement if it is the best so far; remember the resource to validate."""
        before = self.found.get(measurement.analyte)
        keep_measurement(self.found, measurement, self.notes)
        if self.found[measurement.analyte] is measurement:
            self.winners[measurement.source] = raw
            if before is not None:
                self.winners.pop(before.source, None)

    def _value(
        self, name: str, node: Mapping[str, Any], source: str, field: str,
        when_from: Mapping[str, Any] | None = None,
    ) -> Measurement:
        """The measurement of one observation or component value."""
        start, _ = _dates(when_from or node, field, "effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued")
        absent = _obj(node.get("dataAbsentReason"), f"{field}.dataAbsentReason")
        if absent is not None:
            why, codes = _concept(absent, f"{field}.dataAbsentReason")
            why = why or ", ".join(c.code for c in codes) or "no reason given"
            return Measurement(analyte=name, source=source, when=start, problem=f"data absent: {why}")
        uln, lln, range_unit = self._range(node, field)
        quantity = _obj(node.get("valueQuantity"), f"{field}.valueQuantity")
        if quantity is not None:
            return self._quantity(name, quantity, source, field, start, uln, lln, range_unit)
        for key in ("valueInteger", "valueString"):
            if node.get(key) is not None:
                return measurement_from_value(name, node[key], source=source, when=start,
                                              resources=self.lexicon)
        coded, _ = _concept(node.get("valueCodeableConcept"), f"{field}.valueCodeableConcept")
        if coded is not None and is_unitless(name, self.lexicon):
            return measurement_from_value(name, coded, source=source, when=start, resources=self.lexicon)
        return Measurement(analyte=name, source=source, when=start, problem="no numeric value")

    def _quantity(
        self, name: str, quantity: Mapping[str, Any], source: str, field: str, when: str | None,
        uln: float | None, lln: float | None, range_unit: str | None,
    ) -> Measurement:
        value = quantity.get("value")
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise PatientDataError(f"{field}.valueQuantity.value: expected a number, not {type(value).__name__}")
        comparator = require_text(quantity.get("comparator"), f"{field}.valueQuantity.comparator")
        if comparator is not None and comparator not in _CENSOR:
            return Measurement(analyte=name, source=source, when=when,
                               problem=f"comparator {comparator!r} cannot be compared")
        unit = _quantity_unit(quantity, f"{field}.valueQuantity")
        return measurement_from_value(
            name, value, source=source, unit=unit, uln=uln, lln=lln,
            range_unit=range_unit if range_unit is not None else unit, when=when,
            comparator=None if comparator is None else _CENSOR[comparator], resources=self.lexicon,
        )

    def _range(self, node: Mapping[str, Any], field: str) -> tuple[float | None, float | None, str | None]:
        for i, rng in enumerate(_items(node.get("referenceRange"), f"{field}.referenceRange")):
            high = _obj(rng.get("high"), f"{field}.referenceRange[{i}].high")
            low = _obj(rng.get("low"), f"{field}.referenceRange[{i}].low")
            if high is None and low is None:
                continue
            uln = _number(high, f"{field}.referenceRange[{i}].high")
            lln = _number(low, f"{field}.referenceRange[{i}].low")
            unit = _quantity_unit(high, field) if uln is not None and high is not None else None
            if unit is None and low is not None and lln is not None:
                unit = _quantity_unit(low, field)
            return uln, lln, unit
        return None, None, None

    # --- pregnancy and findings ---

    def _is_pregnancy(self, text: str | None, codes: tuple[Code, ...]) -> bool:
        preg = self.vocab.pregnancy
        if any((c.system, c.code) in preg.observation_codes for c in codes):
            return True
        folded = (text or "").lower()
        return any(word in folded for word in preg.observation_words)

    def _coded_value(self, raw: Mapping[str, Any], where: str) -> tuple[str | None, tuple[Code, ...]]:
        text, codes = _concept(raw.get("valueCodeableConcept"), f"{where}.valueCodeableConcept")
        if text is None and raw.get("valueString") is not None:
            text = require_text(raw.get("valueString"), f"{where}.valueString")
        if text is None and isinstance(raw.get("valueBoolean"), bool):
            text = "true" if raw["valueBoolean"] else "false"
        interpretations = [c for i in _items(raw.get("interpretation"), f"{where}.interpretation")
                           for c in _concept(i, f"{where}.interpretation")[1]]
        return text, codes + tuple(interpretations)

    def _pregnancy(self, raw: Mapping[str, Any], where: str, text: str | None, codes: tuple[Code, ...]) -> None:
        preg = self.vocab.pregnancy
        value, value_codes = self._coded_value(raw, where)
        present = _polarity(value, value_codes, preg.positive, preg.negative, preg.positive_words, preg.negative_words)
        start, _ = _dates(raw, where, "effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued")
        status = require_text(raw.get("status"), f"{where}.status")
        if self.validated(raw, where):
            self.records.append(ClinicalRecord(
                kind="pregnancy", source=where, text=preg.term, codes=codes + value_codes, status=status,
                start=start, value=value, present=present,
            ))

    def _finding(self, raw: Mapping[str, Any], where: str, text: str | None, codes: tuple[Code, ...]) -> None:
        value, value_codes = self._coded_value(raw, where)
        if (value is None and not value_codes) or (text is None and not codes):
            self.notes.add("Observation with no LOINC code of a known analyte and no coded value; ignored", where)
            return
        fv = self.vocab.finding_values
        present = _polarity(value, value_codes, fv.positive, fv.negative, fv.positive_words, fv.negative_words)
        start, _ = _dates(raw, where, "effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued")
        if self.validated(raw, where):
            self.records.append(ClinicalRecord(
                kind="observation", source=where, text=text, codes=codes, start=start, value=value,
                status=require_text(raw.get("status"), f"{where}.status"), present=present,
            ))

    # --- records ---

    def _medication(self, raw: Mapping[str, Any], where: str, full_url: str | None) -> None:
        found = _concept(raw.get("code"), f"{where}.code")
        for key in (where, full_url):
            if key:
                self.medications[key] = found

    def _record(self, rtype: str, raw: Mapping[str, Any], where: str) -> None:
        kind = _RECORD_TYPES[rtype]
        fields = _RECORD_READERS[rtype](raw, where)
        if not self.validated(raw, where):
            return
        reference = fields.pop("reference", None)
        if reference is not None and fields.get("text") is None and not fields.get("codes"):
            self.pending.append(({"kind": kind, "source": where, **fields}, reference, raw))
            return
        self.add_record({"kind": kind, "source": where, **fields})

    def add_record(self, fields: dict[str, Any]) -> None:
        if fields.get("text") is None and not fields.get("codes"):
            self.notes.add(f"{fields['kind']} record with no code or text; ignored", fields["source"])
            return
        self.records.append(ClinicalRecord(**fields))

    def _family(self, raw: Mapping[str, Any], where: str) -> None:
        if not self.validated(raw, where):
            return
        status = require_text(raw.get("status"), f"{where}.status")
        relation, _ = _concept(raw.get("relationship"), f"{where}.relationship")
        for i, cond in enumerate(_items(raw.get("condition"), f"{where}.condition")):
            text, codes = _concept(cond.get("code"), f"{where}.condition[{i}].code")
            self.add_record({
                "kind": "family", "source": f"{where}#condition[{i}]", "text": text, "codes": codes,
                "status": status, "value": relation,
            })

    def finish(self) -> Patient:
        """The patient, once every resource is read; every error at once when some were bad."""
        for fields, reference, raw in self.pending:
            contained = {f"#{c.get('id')}": c for c in _items(raw.get("contained"), f"{fields['source']}.contained")}
            if reference in contained:
                fields["text"], fields["codes"] = _concept(contained[reference].get("code"), f"{fields['source']}.contained")
            else:
                fields["text"], fields["codes"] = self.medications.get(reference, (None, ()))
            self.add_record(fields)
        for source, raw in list(self.winners.items()):
            self.validated(raw, source.partition("#")[0])
        if self.patients > 1:
            self.error(f"FHIR input holds {self.patients} Patient resources; give one")
        if self.error_count:
            more = f" (first {len(self.errors)} shown)" if self.error_count > len(self.errors) else ""
            raise PatientDataError(f"{self.error_count} invalid FHIR resource(s){more}: " + " | ".join(self.errors))
        return Patient(
            **self.fields, as_of=self.as_of.isoformat(), measurements=tuple(self.found.values()),
            records=tuple(self.records), notes=self.notes.summary(),
        )


def _number(quantity: Mapping[str, Any] | None, field: str) -> float | None:
    if quantity is None or quantity.get("value") is None:
        return None
    value = quantity["value"]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise PatientDataError(f"{field}.value: expected a number, not {type(value).__name__}")
    return float(value)


def _quantity_unit(quantity: Mapping[str, Any], field: str) -> str | None:
    """The UCUM code of a FHIR Quantity, else its human-readable unit."""
    code = require_text(quantity.get("code"), f"{field}.code")
    system = require_text(quantity.get("system"), f"{field}.system")
    unit = require_text(quantity.get("unit"), f"{field}.unit")
    if code and system in (None, UCUM):
        return code
    return unit or None


def _polarity(
    value: str | None, codes: tuple[Code, ...], positive: frozenset[tuple[str, str]],
    negative: frozenset[tuple[str, str]], yes: frozenset[str], no: frozenset[str],
) -> bool | None:
    """True / False when the value's codes or words say positive / negative, else None."""
    pairs = {(c.system, c.code) for c in codes}
    if pairs & negative and not pairs & positive:
        return False
    if pairs & positive and not pairs & negative:
        return True
    folded = (value or "").strip().lower()
    if folded in no:
        return False
    if folded in yes:
        return True
    return None


# --- one reader per record type ----------------------------------------------------------------


def _condition(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    text, codes = _concept(raw.get("code"), f"{where}.code")
    clinical = _status_code(raw.get("clinicalStatus"), f"{where}.clinicalStatus")
    start, _ = _dates(raw, where, "onsetDateTime", "onsetPeriod")
    abated = [k for k in ("abatementDateTime", "abatementPeriod", "abatementAge", "abatementRange", "abatementString", "abatementBoolean") if raw.get(k) is not None]
    end_start, end_end = _dates(raw, where, "abatementDateTime", "abatementPeriod")
    if clinical is None and abated:
        clinical = "resolved"  # an abatement without a status still says it is over
    recorded, _ = _dates(raw, where, "recordedDate")
    return {
        "text": text, "codes": codes, "clinical_status": clinical,
        "verification_status": _status_code(raw.get("verificationStatus"), f"{where}.verificationStatus"),
        "start": start, "end": end_end or end_start, "recorded": recorded,
    }


def _medication_code(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The drug of a statement, request or administration: coded here, or by reference."""
    if raw.get("medicationCodeableConcept") is not None:
        text, codes = _concept(raw["medicationCodeableConcept"], f"{where}.medicationCodeableConcept")
        return {"text": text, "codes": codes}
    node = _obj(raw.get("medicationReference"), f"{where}.medicationReference")
    med = _obj(raw.get("medication"), f"{where}.medication") or {}
    if med.get("concept") is not None:
        text, codes = _concept(med["concept"], f"{where}.medication.concept")
        return {"text": text, "codes": codes}
    node = node or _obj(med.get("reference"), f"{where}.medication.reference")
    reference = require_text((node or {}).get("reference"), f"{where}.medication.reference")
    display = require_text((node or {}).get("display"), f"{where}.medication.display")
    return {"text": display, "codes": (), "reference": reference}


def _medication_statement(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    status = require_text(raw.get("status"), f"{where}.status")
    adherence = _obj(raw.get("adherence"), f"{where}.adherence")  # R5: taking, not-taking, ...
    if adherence is not None and _status_code(adherence.get("code"), f"{where}.adherence.code") == "not-taking":
        status = "not-taken"
    start, end = _dates(raw, where, "effectivePeriod", "effectiveDateTime")
    recorded, _ = _dates(raw, where, "dateAsserted")
    return {**_medication_code(raw, where), "status": status, "start": start, "end": end, "recorded": recorded}


def _medication_request(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    status = require_text(raw.get("status"), f"{where}.status")
    intent = require_text(raw.get("intent"), f"{where}.intent")
    if raw.get("doNotPerform") is True:
        status = "cancelled"  # an order not to give a drug says nothing of its use
    elif status == "active" and intent in ("proposal", "plan", "option"):
        status = "intended"
    authored, _ = _dates(raw, where, "authoredOn")
    start, end = _dates(raw, where, "effectiveDosePeriod")
    return {**_medication_code(raw, where), "status": status, "start": start or authored, "end": end, "recorded": authored}


def _medication_administration(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    start, end = _dates(raw, where, "effectiveDateTime", "effectivePeriod", "occurenceDateTime",
                        "occurencePeriod", "occurrenceDateTime", "occurrencePeriod")
    return {**_medication_code(raw, where), "status": require_text(raw.get("status"), f"{where}.status"),
            "start": start, "end": end}


def _procedure(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    text, codes = _concept(raw.get("code"), f"{where}.code")
    start, end = _dates(raw, where, "performedDateTime", "performedPeriod", "occurrenceDateTime", "occurrencePeriod")
    recorded, _ = _dates(raw, where, "recorded")
    return {"text": text, "codes": codes, "status": require_text(raw.get("status"), f"{where}.status"),
            "start": start, "end": end, "recorded": recorded}


def _allergy(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    text, codes = _concept(raw.get("code"), f"{where}.code")
    start, _ = _dates(raw, where, "onsetDateTime", "onsetPeriod")
    recorded, _ = _dates(raw, where, "recordedDate")
    categories = raw.get("category")
    value = ", ".join(c for c in categories if isinstance(c, str)) if isinstance(categories, list) else None
    return {
        "text": text, "codes": codes, "start": start, "recorded": recorded, "value": value or None,
        "clinical_status": _status_code(raw.get("clinicalStatus"), f"{where}.clinicalStatus"),
        "verification_status": _status_code(raw.get("verificationStatus"), f"{where}.verificationStatus"),
    }


def _immunization(raw: Mapping[str, Any], where: str) -> dict[str, Any]:
    text, codes = _concept(raw.get("vaccineCode"), f"{where}.vaccineCode")
    start, _ = _dates(raw, where, "occurrenceDateTime")
    recorded, _ = _dates(raw, where, "recorded")
    return {"text": text, "codes": codes, "status": require_text(raw.get("status"), f"{where}.status"),
            "start": start, "end": start, "recorded": recorded}


_RECORD_READERS = {
    "Condition": _condition,
    "MedicationStatement": _medication_statement,
    "MedicationRequest": _medication_request,
    "MedicationAdministration": _medication_administration,
    "Procedure": _procedure,
    "AllergyIntolerance": _allergy,
    "Immunization": _immunization,
}


# --- entry points ------------------------------------------------------------------------------


def iter_resources(source: Any) -> Iterator[tuple[Any, str | None]]:
    """Every resource of a Bundle (nested too), a resource, a list or an iterator of them, with
    its bundle `fullUrl`; one at a time, so a large bundle is never copied."""
    if isinstance(source, Mapping):
        if source.get("resourceType") != "Bundle":
            yield source, None
            return
        entries = source.get("entry")
        if entries is not None and not isinstance(entries, list):
            raise PatientDataError(f"Bundle.entry: expected a list, not {type(entries).__name__}")
        for i, entry in enumerate(entries or []):
            if not isinstance(entry, Mapping):
                raise PatientDataError(f"Bundle.entry[{i}]: expected an object, not {type(entry).__name__}")
            if entry.get("resource") is None:
                continue
            full_url = entry.get("fullUrl") if isinstance(entry.get("fullUrl"), str) else None
            for resource, nested_url in iter_resources(entry["resource"]):
                yield resource, nested_url or full_url
        return
    if isinstance(source, (list, tuple)) or (isinstance(source, Iterable) and not isinstance(source, (str, bytes))):
        for item in source:
            yield from iter_resources(item)
        return
    raise PatientDataError(
        f"FHIR input must be a Bundle, a resource or a list of them, not {type(source).__name__}"
    )


def patient_from_fhir(
    resources: Any, *, as_of: date | None = None, version: FhirVersion = "auto",
    lexicon: Resources | None = None,
) -> Patient:
    """A patient from a FHIR Bundle or list of resources (JSON objects, a JSON string, or an
    iterator of resources as `critparse.screen.patient` streams from a large file).

    `version`: "auto" (R5, else R4), "R5", "R4B" or "R4". All invalid resources are reported in
    one PatientDataError. Ages are computed at `as_of` (default today).
    """
    if isinstance(resources, (str, bytes)):
        try:
            resources = json.loads(resources)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise PatientDataError(f"FHIR input is not JSON: {exc}") from exc
    if not isinstance(resources, (Mapping, list, tuple, Iterator)):
        raise PatientDataError(
            f"FHIR input must be a Bundle, a resource or a list of them, not {type(resources).__name__}"
        )
    reader = _Reader(version, as_of or date.today(), lexicon)
    if isinstance(resources, Mapping) and resources.get("resourceType") == "Bundle":
        envelope = {k: v for k, v in resources.items() if k != "entry"}
        if reader.validator.check(envelope, "Bundle") is not None:
            reader.error(reader.validator.check(envelope, "Bundle") or "")
    for index, (raw, full_url) in enumerate(iter_resources(resources)):
        reader.read(index, raw, full_url)
    return reader.finish()

