"""Arbitrary patient input never crashes: it is read, or refused with a PatientDataError.

The strategies build JSON-ish values under the keys patient readers look at (and random ones),
plain mappings and FHIR-shaped resources alike, then screen what was read.
"""

from __future__ import annotations

import contextlib
import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rule_builder import make_rule

from critparse.errors import PatientDataError
from critparse.model.concept import Concept, TimeWindow
from critparse.model.span import Span
from critparse.screen.evaluate import evaluate_rule
from critparse.screen.patient import load_patient
from critparse.screen.records import evaluate_leaf

DAY = date(2024, 6, 15)

SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.sampled_from(["1.1 mg/dL", "<0.2", "IIIB", "2024-05", "2024-13-45", "active", "refuted", "B18.1",
                     "ICD-10-CM", "http://snomed.info/sct", "{score}", "\ud800", "1e308", "-5", "yes"]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)
MAPPING_KEYS = st.sampled_from([
    "creatinine", "age", "sex", "birth_date", "id", "conditions", "medications", "procedures", "allergies",
    "immunizations", "findings", "family_history", "pregnant", "lactating", "stage", "karnofsky", "alt",
    "platelets", "2160-0", "nyha class",
])
VALUE_KEYS = st.sampled_from(["value", "unit", "uln", "lln", "when", "comparator", "name", "code", "system",
                              "status", "onset", "end", "present", "codes", "date"])


def _object(keys: st.SearchStrategy[str]) -> st.SearchStrategy[dict]:
    return st.dictionaries(keys, st.one_of(JSON, st.dictionaries(VALUE_KEYS, JSON, max_size=4),
                                           st.lists(st.dictionaries(VALUE_KEYS, JSON, max_size=4), max_size=3)),
                           max_size=6)


FHIR_TYPES = st.sampled_from(["Patient", "Observation", "Condition", "MedicationStatement", "MedicationRequest",
                              "MedicationAdministration", "Procedure", "AllergyIntolerance", "Immunization",
                              "FamilyMemberHistory", "Medication", "Encounter", "Nonsense"])
FHIR_KEYS = st.sampled_from([
    "id", "status", "code", "valueQuantity", "valueString", "valueCodeableConcept", "component", "referenceRange",
    "effectiveDateTime", "effectivePeriod", "clinicalStatus", "verificationStatus", "onsetDateTime",
    "abatementDateTime", "medicationCodeableConcept", "medication", "medicationReference", "performedDateTime",
    "occurrenceDateTime", "gender", "birthDate", "subject", "dataAbsentReason", "contained", "condition",
])
CODEABLE = st.fixed_dictionaries(
    {}, optional={"coding": st.lists(st.fixed_dictionaries({}, optional={"system": SCALARS, "code": SCALARS, "display": SCALARS}), max_size=2),
                  "text": SCALARS},
)


@st.composite
def fhir_resource(draw: st.DrawFn) -> dict:
    resource = draw(st.dictionaries(FHIR_KEYS, st.one_of(JSON, CODEABLE), max_size=6))
    resource["resourceType"] = draw(FHIR_TYPES)
    return resource


def _screen(patient) -> None:
    for rule in (make_rule("creatinine", "<=", 1.5, "mg/dL"), make_rule("age", ">=", 6, "mo"),
                 make_rule("alt", "<=", 3, "x ULN"), make_rule("karnofsky", ">=", 70, "%")):
        assert evaluate_rule(rule, patient).outcome in ("met", "not_met", "unknown")
    for name in ("hepatitis b", "pregnancy", "warfarin"):
        text = name
        leaf = Concept(type="condition", text=text, span=Span(start=0, end=len(text)), name=name,
                       temporal=TimeWindow(text="x", span=Span(start=0, end=1), comparator="<=", value=6, unit="mo",
                                           anchor=None, relation="before"))
        assert evaluate_leaf(leaf, patient, as_of=DAY)[0] in ("met", "not_met", "unknown")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_object(st.one_of(MAPPING_KEYS, st.text(max_size=10))))
def test_patient_fuzz_mapping_reads_or_refuses(data):
    try:
        patient = load_patient(data, as_of=DAY)
    except PatientDataError:
        return
    _screen(patient)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(fhir_resource(), min_size=1, max_size=4))
def test_patient_fuzz_fhir_reads_or_refuses(resources):
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}
    try:
        patient = load_patient(bundle, as_of=DAY)
    except PatientDataError:
        return
    _screen(patient)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200))
def test_patient_fuzz_file_bytes(tmp_path_factory, raw):
    path = Path(tmp_path_factory.mktemp("fuzz")) / "patient.json"
    path.write_bytes(raw)
    with contextlib.suppress(PatientDataError):
        load_patient(path, as_of=DAY)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=60), st.booleans())
def test_patient_fuzz_leaf_text_never_raises(text, negated):
    patient = load_patient({"sex": "female", "conditions": ["hepatitis B", {"name": "asthma", "onset": "2024-01"}],
                            "medications": ["warfarin"]}, as_of=DAY)
    outcome, reason = evaluate_leaf({"text": text, "negated": negated}, patient, as_of=DAY)
    assert outcome in ("met", "not_met", "unknown") and isinstance(reason, str)


@pytest.mark.parametrize("text", ["", "{}", "[]", "null", '"x"', "[1, 2]", json.dumps({"resourceType": 5})])
def test_patient_fuzz_odd_json_documents(text):
    with contextlib.suppress(PatientDataError):
        load_patient(text if text.strip().startswith(("{", "[")) else f"[{text}]", as_of=DAY)
