"""Patient input: plain mappings and FHIR (R5, R4B) resources, validated and never guessed."""

from __future__ import annotations

import json
import math
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rule_builder import make_rule

from critparse.errors import PatientDataError
from critparse.screen.patient import load_patient, patient_from_fhir, patient_from_mapping
from critparse.screen.evaluate import evaluate, evaluate_rule

AS_OF = date(2024, 6, 1)


rule = make_rule


def observation(code: str, value: float, unit: str, *, oid: str, high: float | None = None,
                when: str = "2024-05-01", status: str = "final", **extra) -> dict:
    obs = {
        "resourceType": "Observation",
        "id": oid,
        "status": status,
        "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
        "effectiveDateTime": when,
        "valueQuantity": {"value": value, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit},
    }
    if high is not None:
        obs["referenceRange"] = [{"high": {"value": high, "unit": unit, "system": "http://unitsofmeasure.org", "code": unit}}]
    obs.update(extra)
    return obs


def bundle(*resources: dict) -> dict:
    return {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in resources]}


PATIENT = {"resourceType": "Patient", "id": "p1", "gender": "female", "birthDate": "1980-06-02"}
CREAT_UMOL = observation("14682-9", 150, "umol/L", oid="creat")  # Creatinine [Moles/volume]
AST_OWN_RANGE = observation("1920-8", 100, "U/L", oid="ast", high=30)


@pytest.mark.parametrize("version", ["R5", "R4B"])
def test_patient_fhir_bundle(version):
    patient = patient_from_fhir(bundle(PATIENT, CREAT_UMOL, AST_OWN_RANGE), as_of=AS_OF, version=version)
    assert patient.id == "p1" and patient.sex == "female"
    assert patient.get("age").value == 43  # birthday is tomorrow
    creat = patient.get("creatinine")
    assert (creat.value, creat.unit, creat.source) == (150.0, "umol/L", "Observation/creat")
    assert patient.get("ast").uln == 30


def test_patient_fhir_umol_creatinine_against_mg_rule():
    patient = patient_from_fhir(bundle(PATIENT, CREAT_UMOL), as_of=AS_OF)
    result = evaluate_rule(rule("creatinine", "<", 2.5, "mg/dL"), patient)
    assert result.outcome == "met"
    assert math.isclose(result.converted_value, 1.697, rel_tol=1e-3)
    high = observation("2160-0", 250, "umol/L", oid="c2")
    assert evaluate_rule(rule("creatinine", "<", 2.5, "mg/dL"), patient_from_fhir([high])).outcome == "not_met"


def test_patient_fhir_ast_with_own_reference_range():
    patient = patient_from_fhir(bundle(PATIENT, AST_OWN_RANGE), as_of=AS_OF)
    result = evaluate_rule(rule("ast", "<", 3, "x ULN"), patient)
    # 100 / 30 = 3.33 x ULN: fails with the lab's own ULN, though it would pass the default (38)
    assert result.outcome == "not_met"
    assert result.limit_value == 30 and "Observation/ast" in result.limit_source
    assert math.isclose(result.converted_value, 100 / 30)


def test_patient_fhir_age_against_age_rules():
    patient = patient_from_fhir([PATIENT], as_of=AS_OF)
    assert evaluate_rule(rule("age", "<=", 43, "a"), patient).outcome == "met"
    assert evaluate_rule(rule("age", ">=", 44, "a"), patient).outcome == "not_met"
    older = patient_from_fhir([PATIENT], as_of=date(2024, 6, 2))
    assert older.get("age").value == 44


def test_patient_fhir_missing_birthdate_is_unknown_age():
    patient = patient_from_fhir([{"resourceType": "Patient", "id": "x"}], as_of=AS_OF)
    result = evaluate_rule(rule("age", ">=", 18, "a"), patient)
    assert result.outcome == "unknown" and "birthDate" in result.reason


def test_patient_fhir_invalid_resources_all_reported():
    bad_obs = {"resourceType": "Observation", "code": {"text": "creatinine"}}  # no status
    bad_value = observation("2160-0", 1, "mg/dL", oid="v")
    bad_value["valueQuantity"]["value"] = "abc"
    with pytest.raises(PatientDataError) as info:
        patient_from_fhir(bundle(PATIENT, bad_obs, bad_value))
    message = str(info.value)
    assert "2 invalid" in message and "status" in message and "valueQuantity" in message


@pytest.mark.parametrize(
    "payload",
    ["not json", 42, {"resourceType": "Nonsense"}, [{"no": "type"}]],
)
def test_patient_fhir_garbage_is_a_clear_error(payload):
    with pytest.raises(PatientDataError):
        patient_from_fhir(payload)


def test_patient_fhir_latest_observation_wins_and_skips_errors():
    old = observation("2160-0", 3.0, "mg/dL", oid="old", when="2024-01-01")
    new = observation("2160-0", 1.0, "mg/dL", oid="new", when="2024-05-01")
    wrong = observation("2160-0", 9.0, "mg/dL", oid="oops", when="2024-05-30", status="entered-in-error")
    patient = patient_from_fhir([new, wrong, old])
    assert patient.get("creatinine").source == "Observation/new"
    assert any("entered-in-error" in n for n in patient.notes)


@pytest.mark.parametrize(
    ("comparator", "threshold", "expected"),
    [("<", 2.5, "met"), ("<=", 0.2, "met"), ("<", 0.2, "met"), ("<", 0.1, "unknown"),
     (">", 0.1, "unknown"), (">", 0.2, "not_met"), (">=", 0.2, "not_met"), (">=", 0.5, "not_met")],
)
def test_patient_fhir_censored_value_decides_only_when_certain(comparator, threshold, expected):
    censored = observation("2160-0", 0.2, "mg/dL", oid="c")
    censored["valueQuantity"]["comparator"] = "<"
    patient = patient_from_fhir([censored])
    assert patient.get("creatinine").comparator == "<"
    result = evaluate_rule(rule("creatinine", comparator, threshold, "mg/dL"), patient)
    assert result.outcome == expected, result.reason
    assert "<0.2 mg/dL" in result.reason


def test_patient_fhir_absent_values_are_unknown():
    absent = {
        "resourceType": "Observation", "id": "a", "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "1975-2"}]},
        "dataAbsentReason": {"text": "sample haemolysed"},
    }
    patient = patient_from_fhir([absent])
    bili = evaluate_rule(rule("bilirubin", "<", 2, "mg/dL"), patient)
    assert bili.outcome == "unknown" and "haemolysed" in bili.reason


def test_patient_fhir_unknown_code_and_other_resources_are_noted():
    other = {"resourceType": "Condition", "id": "c1", "clinicalStatus": {"text": "active"}, "subject": {"reference": "Patient/p1"}}
    unknown = observation("99999-9", 1, "mg/dL", oid="u")
    patient = patient_from_fhir([other, unknown])
    assert patient.measurements == ()
    assert len(patient.notes) == 2


def test_patient_fhir_unit_without_ucum_code_is_normalised():
    obs = observation("2160-0", 1.1, "mg/dl", oid="x")
    obs["valueQuantity"] = {"value": 1.1, "unit": "mg/dl"}
    patient = patient_from_fhir([obs])
    assert patient.get("creatinine").unit == "mg/dL"


def test_patient_load_patient_detects_format(tmp_path):
    fhir_file = tmp_path / "bundle.json"
    fhir_file.write_text(json.dumps(bundle(PATIENT, CREAT_UMOL)))
    assert load_patient(fhir_file, as_of=AS_OF).get("creatinine") is not None
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"creatinine": "1 mg/dL"}))
    assert load_patient(str(plain)).get("creatinine").value == 1.0
    assert load_patient('{"age": 30}').get("age").value == 30
    with pytest.raises(PatientDataError):
        load_patient(tmp_path / "missing.json")


def test_patient_mapping_birth_date_and_sex():
    patient = patient_from_mapping({"birth_date": "2006-06-02", "sex": "F"}, as_of=AS_OF)
    assert patient.get("age").value == 17 and patient.sex == "female"
    result = evaluate([rule("age", ">=", 18, "a")], {"birth_date": "2006-06-02"}, as_of=AS_OF)
    assert result.verdict == "ineligible"


def test_patient_mapping_rejects_non_mapping():
    with pytest.raises(PatientDataError):
        patient_from_mapping(["creatinine", 1])  # type: ignore[arg-type]


def test_patient_mapping_reference_high_alias():
    patient = patient_from_mapping({"alt": {"value": 90, "unit": "U/L", "reference_high": 45}})
    assert patient.get("alt").uln == 45
    assert evaluate_rule(rule("alt", "<=", 2, "x ULN"), patient).outcome == "met"


def test_patient_viral_load_units():
    patient = patient_from_mapping({"hbv dna": "100 [IU]/mL", "hiv viral load": "40 copies/mL"})
    assert evaluate_rule(rule("hbv dna", "<", 1000, "{copies}/mL"), patient).outcome == "met"
    hiv = evaluate_rule(rule("hiv viral load", "<", 50, "[IU]/mL"), patient)
    assert hiv.outcome == "unknown"  # no IU <-> copies factor for HIV
    assert evaluate_rule(rule("hiv viral load", "<", 50, "{copies}/mL"), patient).outcome == "met"


def test_patient_egfr_units():
    patient = patient_from_mapping({"egfr": "55 mL/min/1.73m2", "creatinine clearance": "70 mL/min"})
    assert evaluate_rule(rule("egfr", ">=", 60, "mL/min/{1.73_m2}"), patient).outcome == "not_met"
    assert evaluate_rule(rule("creatinine clearance", ">=", 60, "mL/min"), patient).outcome == "met"
    mixed = evaluate_rule(rule("egfr", ">=", 50, "mL/min"), patient)
    assert mixed.outcome == "unknown" and "body surface area" in mixed.reason


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(max_size=30), st.floats(allow_nan=True), st.integers(), st.none(), st.booleans()))
def test_patient_any_value_never_raises(raw):
    patient = patient_from_mapping({"creatinine": raw})
    result = evaluate_rule(rule("creatinine", "<", 2.5, "mg/dL"), patient)
    m = patient.get("creatinine")
    if m.problem is not None:
        assert result.outcome == "unknown"
    else:
        assert m.value is not None and math.isfinite(m.value) and m.value >= 0
