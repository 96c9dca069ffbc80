"""A patient from a plain mapping:

    {"creatinine": "1.1 mg/dL", "age": 42, "sex": "F", "birth_date": "2019-05",
     "conditions": ["hepatitis B", {"name": "liver metastases", "status": "active"},
                    {"code": "B18.1", "system": "ICD-10-CM"}],
     "medications": [{"name": "warfarin", "status": "active", "start": "2024-01"}],
     "pregnant": false}

Analyte keys become measurements; the list keys (`conditions`, `medications`, `procedures`,
`allergies`, `immunizations`, `findings`, `family_history`) become records, each a name, a code
or an object; `pregnant` and `lactating` take a yes/no (or an object with a date). A key or value
of the wrong type is a `PatientDataError` naming it; what cannot be used is a note.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from critparse.errors import PatientDataError
from critparse.lexicon.resources import Resources
from critparse.model.concept import Code
from critparse.model.patient import ClinicalRecord, Measurement, Patient, RecordKind, Sex
from critparse.screen.analytes import RecordVocabulary, record_vocabulary, resolve_analyte
from critparse.screen.values import (
    completed_units,
    date_range,
    measurement_from_value,
    require_text,
)

_ID_KEYS = {"id", "patient_id"}
_SEX_KEYS = {"sex", "gender"}
_BIRTH_KEYS = {"birthdate", "birth_date", "date_of_birth", "dob"}
_LIST_KEYS: dict[str, RecordKind] = {
    "conditions": "condition", "diagnoses": "condition", "problems": "condition",
    "medications": "medication", "drugs": "medication", "treatments": "medication",
    "procedures": "procedure", "surgeries": "procedure",
    "allergies": "allergy", "immunizations": "immunization", "vaccinations": "immunization",
    "findings": "observation", "family_history": "family",
}
_PREGNANCY_KEYS = {"pregnant", "pregnancy", "pregnancy_status", "pregnancy_test"}
_LACTATION_KEYS = {"lactating", "lactation", "breastfeeding", "breast_feeding", "nursing"}
_RECORD_KEYS = frozenset({
    "name", "text", "code", "system", "display", "codes", "status", "clinical_status",
    "verification", "verification_status", "onset", "start", "date", "when", "performed",
    "end", "abatement", "recorded", "present", "value",
})
_ICD10 = re.compile(r"^[A-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?$")
_LOINC = re.compile(r"^\d{1,7}-\d$")

__all__ = [
    "Notes",
    "age_in_years",
    "age_measurement",
    "keep_measurement",
    "patient_from_mapping",
    "read_code",
    "read_sex",
]


class Notes:
    """What was read but not used, counted by kind with a few examples, so a bundle of 100,000
    unused Observations gives one line rather than 100,000."""

    def __init__(self, examples: int = 3) -> None:
        self._examples = examples
        self._kinds: dict[str, list[Any]] = {}

    def add(self, kind: str, where: str) -> None:
        entry = self._kinds.setdefault(kind, [0, []])
        entry[0] += 1
        if len(entry[1]) < self._examples:
            entry[1].append(where)

    def summary(self) -> tuple[str, ...]:
        lines = []
        for kind, (count, examples) in self._kinds.items():
            more = f" and {count - len(examples):,} more" if count > len(examples) else ""
            lines.append(f"{', '.join(examples)}{more}: {kind}")
        return tuple(lines)


def patient_from_mapping(
    data: Mapping[str, Any], *, as_of: date | None = None, resources: Resources | None = None
) -> Patient:
    """A patient from `{"creatinine": "1.1 mg/dL", "age": 42, "conditions": [...], ...}`.

    Keys are analyte names, synonyms or LOINC codes, or one of the record keys above; `id`,
    `sex` and `birth_date` are read too (age from a birth date at `as_of`, default today).
    """
    if not isinstance(data, Mapping):
        raise PatientDataError(f"a patient mapping must be a JSON object, not {type(data).__name__}")
    today = as_of or date.today()
    fields: dict[str, Any] = {"id": None, "sex": None, "birth_date": None}
    notes = Notes()
    found: dict[str, Measurement] = {}
    records: list[ClinicalRecord] = []
    for key, raw in data.items():
        if not isinstance(key, str):
            raise PatientDataError(f"patient keys are strings, not {type(key).__name__} {key!r}")
        _read_key(key, raw, today, fields, found, records, notes, resources)
    return Patient(
        id=fields["id"], sex=fields["sex"], birth_date=fields["birth_date"], as_of=today.isoformat(),
        measurements=tuple(found.values()), records=tuple(records), notes=notes.summary(),
    )


def _read_key(
    key: str, raw: Any, today: date, fields: dict[str, Any], found: dict[str, Measurement],
    records: list[ClinicalRecord], notes: Notes, resources: Resources | None,
) -> None:
    """One top-level key of the mapping, into the patient's fields, measurements or records."""
    folded = key.strip().lower().replace(" ", "_")
    if folded in _ID_KEYS:
        if raw is not None and (isinstance(raw, bool) or not isinstance(raw, (str, int))):
            raise PatientDataError(f"{key}: expected a string, not {type(raw).__name__}")
        fields["id"] = None if raw is None else str(raw)
    elif folded in _SEX_KEYS:
        fields["sex"] = read_sex(require_text(raw, key))
        if fields["sex"] is None and raw is not None:
            notes.add("sex not understood (give female or male)", f"{key}={raw!r}")
    elif folded in _BIRTH_KEYS:
        fields["birth_date"] = require_text(raw, key, allow_date=True)
        keep_measurement(found, age_measurement(raw, today, source=key), notes)
    elif folded in _LIST_KEYS:
        records.extend(_records(key, raw, _LIST_KEYS[folded], resources))
    elif folded in _PREGNANCY_KEYS or folded in _LACTATION_KEYS:
        records.append(_yes_no_record(key, raw, folded in _PREGNANCY_KEYS, resources))
    else:
        name = resolve_analyte(key, resources)
        keep_measurement(found, measurement_from_value(name, raw, source=key, resources=resources), notes)


def keep_measurement(found: dict[str, Measurement], new: Measurement, notes: Notes) -> None:
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
    notes.add(f"another {new.analyte} value was used instead", drop.source)


def read_sex(raw: Any) -> Sex | None:
    text = str(raw).strip().lower() if raw is not None else ""
    if text in {"f", "female", "woman"}:
        return "female"
    if text in {"m", "male", "man"}:
        return "male"
    return None


def age_in_years(birth: date, as_of: date) -> int:
    """Completed years, as eligibility ages are counted (17 years 11 months is 17)."""
    return completed_units(birth, as_of, "a")


def age_measurement(raw: Any, as_of: date | None, *, source: str) -> Measurement:
    """The age at `as_of` from a birth date (full, year-month or year precision).

    A birth date known to the month gives a certain age in years except in the birth month;
    `born` keeps it so that limits in months can be checked exactly.
    """
    text = require_text(raw, source, allow_date=True)
    if text is None:
        return Measurement(analyte="age", source=source, problem="no birth date given")
    today = as_of or date.today()
    births = date_range(text.strip()) if re.match(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?", text.strip()) else None
    if births is None:
        return Measurement(analyte="age", source=source, problem=f"birth date {text!r} is not an ISO date")
    born = text.strip()[:10]
    if births[0] > today:
        return Measurement(analyte="age", source=source, problem=f"birth date {born} is after {today}")
    youngest, oldest = completed_units(births[1], today, "a"), completed_units(births[0], today, "a")
    if youngest != oldest or births[1] > today:
        return Measurement(
            analyte="age", source=source, unit="a", born=born, when=today.isoformat(),
            problem=f"age is {max(youngest, 0)} or {oldest} years on {today}: birth date {born} is not precise enough",
        )
    return Measurement(analyte="age", source=source, value=float(oldest), unit="a", born=born,
                       when=today.isoformat())


# --- records -----------------------------------------------------------------------------------


def read_code(raw: Any, field: str, vocab: RecordVocabulary, *, system: Any = None, display: Any = None) -> Code:
    """A code from `{"system": ..., "code": ...}` parts; a system may be a URI or a name."""
    code = require_text(raw, f"{field}.code")
    if code is None or not code.strip():
        raise PatientDataError(f"{field}.code: empty")
    written = require_text(system, f"{field}.system")
    known = vocab.system(written)
    uri = known.uri if known is not None else written
    if uri is None:
        if _ICD10.match(code.strip()):
            uri = "http://hl7.org/fhir/sid/icd-10-cm"
        elif _LOINC.match(code.strip()):
            uri = "http://loinc.org"
        else:
            raise PatientDataError(f"{field}: code {code!r} needs its system (e.g. 'SNOMED CT', 'ICD-10-CM', 'RxNorm')")
    return Code(system=uri, code=code.strip(), display=require_text(display, f"{field}.display"))


def _records(key: str, raw: Any, kind: RecordKind, resources: Resources | None) -> list[ClinicalRecord]:
    if raw is None:
        return []
    items = [raw] if isinstance(raw, (str, Mapping)) else raw
    if not isinstance(items, (list, tuple)):
        raise PatientDataError(f"{key}: expected a list of names or objects, not {type(raw).__name__}")
    vocab = record_vocabulary(resources)
    return [_record(f"{key}[{i}]", item, kind, vocab) for i, item in enumerate(items)]


def _record(field: str, raw: Any, kind: RecordKind, vocab: RecordVocabulary) -> ClinicalRecord:
    """One record: a name, or an object with a name and/or codes, statuses and dates."""
    if isinstance(raw, str):
        if not raw.strip():
            raise PatientDataError(f"{field}: empty name")
        return ClinicalRecord(kind=kind, source=field, text=raw.strip(), **_default_status(kind, {}, False))
    if not isinstance(raw, Mapping):
        raise PatientDataError(f"{field}: expected a name or an object, not {type(raw).__name__}")
    extra = sorted(str(k) for k in raw if k not in _RECORD_KEYS)
    if extra:
        raise PatientDataError(
            f"{field}: unknown key(s) {', '.join(map(repr, extra))}; valid: {', '.join(sorted(_RECORD_KEYS))}"
        )
    text = require_text(raw.get("name", raw.get("text")), f"{field}.name")
    codes = _codes(field, raw, vocab)
    if not (text and text.strip()) and not codes:
        raise PatientDataError(f"{field}: give a name or a code")
    statuses = _statuses(field, raw, kind, vocab)
    present = raw.get("present")
    if present is not None and not isinstance(present, bool):
        raise PatientDataError(f"{field}.present: expected true or false, not {type(present).__name__}")
    if present is False:
        statuses.update(_refuted(kind, vocab))
    dates: dict[str, Any] = {
        "start": _date(raw, field, "onset", "start", "date", "when", "performed"),
        "end": _date(raw, field, "end", "abatement"),
        "recorded": _date(raw, field, "recorded"),
    }
    return ClinicalRecord(
        kind=kind, source=field, text=text.strip() if text else None, codes=tuple(codes),
        value=require_text(raw.get("value"), f"{field}.value"), present=present,
        **_default_status(kind, statuses, dates["end"] is not None), **dates,
    )


def _default_status(kind: RecordKind, statuses: dict[str, str], has_end: bool) -> dict[str, Any]:
    """A condition listed without a status is active (the list says the patient has it), or
    resolved when it has an end date."""
    ruled_out = statuses.get("verification_status") in ("refuted", "entered-in-error")
    if kind == "condition" and "clinical_status" not in statuses and not ruled_out:
        return {**statuses, "clinical_status": "resolved" if has_end else "active", "status_assumed": not has_end}
    return statuses


def _codes(field: str, raw: Mapping[str, Any], vocab: RecordVocabulary) -> list[Code]:
    codes = []
    if raw.get("code") is not None:
        codes.append(read_code(raw["code"], field, vocab, system=raw.get("system"), display=raw.get("display")))
    listed = raw.get("codes") or []
    if not isinstance(listed, (list, tuple)):
        raise PatientDataError(f"{field}.codes: expected a list of {{system, code}} objects")
    for i, item in enumerate(listed):
        where = f"{field}.codes[{i}]"
        if not isinstance(item, Mapping) or set(item) - {"system", "code", "display"}:
            raise PatientDataError(f"{where}: expected an object with system, code and display")
        codes.append(read_code(item.get("code"), where, vocab, system=item.get("system"), display=item.get("display")))
    return codes


def _statuses(field: str, raw: Mapping[str, Any], kind: RecordKind, vocab: RecordVocabulary) -> dict[str, str]:
    """`status` (a word or a FHIR code) into clinical status, verification status or the
    resource status of `kind`; an unknown word is an error that lists the valid ones."""
    out: dict[str, str] = {}
    own = vocab.resource_status.get(kind, {})
    for key in ("status", "clinical_status", "verification", "verification_status"):
        word = require_text(raw.get(key), f"{field}.{key}")
        if word is None:
            continue
        folded = word.strip().lower()
        code = vocab.status_words.get(folded, folded)
        if own and folded in own:
            out["status"] = folded
        elif code in vocab.clinical_status and kind in ("condition", "allergy", "family", "observation"):
            out["clinical_status"] = code
        elif code in vocab.verification_status:
            out["verification_status"] = code
        elif own and (mapped := _status_for(kind, code, vocab)) is not None:
            out["status"] = mapped
        else:
            valid = sorted(set(vocab.status_words) | set(own))
            raise PatientDataError(f"{field}.{key}: {word!r} is not a status; valid: {', '.join(valid)}")
    return out


_WORD_STATE = {"active": "present", "recurrence": "present", "relapse": "present", "resolved": "past", "inactive": "past", "remission": "past"}


def _status_for(kind: RecordKind, code: str, vocab: RecordVocabulary) -> str | None:
    """The resource status of `kind` that a clinical-status word stands for ('current' -> active)."""
    state = _WORD_STATE.get(code)
    return next((c for c, s in vocab.resource_status.get(kind, {}).items() if s == state), None)


def _refuted(kind: RecordKind, vocab: RecordVocabulary) -> dict[str, str]:
    own = vocab.resource_status.get(kind, {})
    code = next((c for c, s in own.items() if s == "refuted"), None)
    return {"status": code} if code is not None and kind != "family" else {"verification_status": "refuted"}


def _date(raw: Mapping[str, Any], field: str, *keys: str) -> str | None:
    for key in keys:
        if raw.get(key) is not None:
            text = require_text(raw[key], f"{field}.{key}", allow_date=True)
            if text is not None and date_range(text.strip()[:10]) is None:
                raise PatientDataError(f"{field}.{key}: {text!r} is not an ISO date (YYYY, YYYY-MM or YYYY-MM-DD)")
            return None if text is None else text.strip()
    return None


_YES = {"yes", "y", "true", "positive", "pos", "pregnant", "lactating", "breastfeeding", "present", "1"}
_NO = {"no", "n", "false", "negative", "neg", "not pregnant", "absent", "0", "none"}


def _yes_no_record(key: str, raw: Any, pregnancy: bool, resources: Resources | None) -> ClinicalRecord:
    """`"pregnant": false`, `"pregnancy_test": {"value": "negative", "date": "2024-05-30"}`."""
    when = None
    if isinstance(raw, Mapping):
        extra = sorted(str(k) for k in raw if k not in {"value", "date", "when"})
        if extra:
            raise PatientDataError(f"{key}: unknown key(s) {', '.join(map(repr, extra))}; valid: date, value, when")
        when = _date(raw, key, "date", "when")
        raw = raw.get("value")
    if isinstance(raw, bool):
        present: bool | None = raw
    elif isinstance(raw, str) and raw.strip().lower() in _YES | _NO:
        present = raw.strip().lower() in _YES
    else:
        raise PatientDataError(f"{key}: expected true/false or yes/no/positive/negative, not {raw!r}")
    if pregnancy:
        term = record_vocabulary(resources).pregnancy.term
        return ClinicalRecord(kind="pregnancy", source=key, text=term, present=present, start=when,
                              value="positive" if present else "negative")
    return ClinicalRecord(kind="condition", source=key, text="lactation", start=when,
                          verification_status=None if present else "refuted", present=present)
