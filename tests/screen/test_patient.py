"""Patient input: plain mappings and FHIR (R5, R4B) resources, validated and never guessed."""

from __future__ import annotations

import json
import math
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rule_builder import make_rule

from critparse.errors import PatientDataError
from critparse.screen.evaluate import evaluate, evaluate_rule
from critparse.screen.patient import load_patient, patient_from_fhir, patient_from_mapping

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


# --- records, versions and new value forms ---------------------------------------------------

DATA = Path(__file__).parent / "data"
DAY = date(2024, 6, 15)


@pytest.mark.parametrize("version", ["auto", "R4", "R4B"])
def test_patient_r4_us_core_bundle_reads_every_record(version):
    patient = load_patient(DATA / "r4_us_core_bundle.json", as_of=DAY, version=version)
    kinds = sorted({r.kind for r in patient.records})
    assert kinds == ["allergy", "condition", "family", "immunization", "medication", "observation", "pregnancy", "procedure"]
    assert (patient.id, patient.sex, patient.get("age").value) == ("r4p", "female", 37.0)
    hcv = next(r for r in patient.records if r.source == "Condition/hcv")
    assert (hcv.clinical_status, hcv.verification_status, hcv.start) == ("active", "confirmed", "2019-03")
    assert [c.code for c in hcv.codes] == ["B18.2"]
    assert patient.notes == ("Encounter/enc: resource type not used",)


@pytest.mark.parametrize("version", ["R5"])
def test_patient_r4_bundle_is_not_r5(version):
    with pytest.raises(PatientDataError) as info:
        load_patient(DATA / "r4_us_core_bundle.json", as_of=DAY, version=version)
    assert "medicationCodeableConcept" in str(info.value) and "performedPeriod" in str(info.value)


@pytest.mark.parametrize("version", ["auto", "R5"])
def test_patient_r5_bundle_resolves_medication_references(version):
    patient = load_patient(DATA / "r5_bundle.json", as_of=DAY, version=version)
    texts = {r.source: r.text for r in patient.records if r.kind == "medication"}
    assert texts["MedicationStatement/dex"] == "Dexamethasone 4 MG Oral Tablet"  # bundle fullUrl
    assert texts["MedicationAdministration/ivig"] == "Immune globulin"  # contained
    assert next(r for r in patient.records if r.source == "Procedure/tx").start == "2024-01-20"


@pytest.mark.parametrize(("analyte", "value"), [("systolic blood pressure", 150.0), ("diastolic blood pressure", 95.0)])
def test_patient_blood_pressure_panel_components(analyte, value):
    patient = load_patient(DATA / "r4_us_core_bundle.json", as_of=DAY)
    m = patient.get(analyte)
    assert (m.value, m.unit) == (value, "mm[Hg]") and m.source.startswith("Observation/bp#")
    assert evaluate_rule(rule(analyte, "<", value + 1, "mm[Hg]"), patient).outcome == "met"


@pytest.mark.parametrize(
    ("raw", "rule_args", "expected"),
    [({"value": 50, "unit": "{score}"}, (">=", 70, None), "not_met"),
     ({"value": 50, "unit": "{score}"}, (">=", 70, "%"), "not_met"),
     ({"value": 80, "unit": "{score}"}, (">=", 70, "%"), "met"),
     ({"value": 50, "unit": "1"}, (">=", 70, None), "not_met"),
     ("50 {points}", ("<=", 60, None), "met")],
)
def test_patient_score_annotations_are_bare_scores(raw, rule_args, expected):
    patient = patient_from_mapping({"karnofsky": raw})
    assert patient.get("karnofsky").value in (50.0, 80.0)
    assert evaluate_rule(rule("karnofsky", *rule_args), patient).outcome == expected


@pytest.mark.parametrize(
    ("key", "raw", "category", "value"),
    [("stage", "Stage IIIB", "IIIB", None), ("stage", "IV", "IV", 4.0), ("nyha class", "NYHA class III", "III", 3.0),
     ("nyha class", "III", "III", 3.0), ("ecog", "ECOG 1", "1", 1.0), ("child-pugh score", "Child-Pugh B", "B", None),
     ("stage", "3b", "3B", None)],
)
def test_patient_ordinal_values(key, raw, category, value):
    m = patient_from_mapping({key: raw}).get(key)
    assert (m.category, m.value, m.problem) == (category, value, None)


@pytest.mark.parametrize(
    ("observed", "allowed", "expected"),
    [("IIIB", ("IIIA", "IIIB", "IV"), "met"), ("IIIB", ("III", "IV"), "met"), ("III", ("IIIA", "IIIB"), "unknown"),
     ("IV", ("IIIA", "IIIB"), "not_met"), ("3B", ("IIIB",), "met"), ("B", ("A", "B"), "met"), ("C", ("A", "B"), "not_met"),
     ("T2N1M0", ("III",), "unknown")],
)
def test_patient_category_outcome(observed, allowed, expected):
    from critparse.screen.values import category_outcome

    assert category_outcome(observed, allowed) == expected


@pytest.mark.parametrize(
    ("written", "comparator", "threshold", "expected"),
    [("<0.2 mg/dL", "<=", 1.5, "met"), ("< 0.2 mg/dL", ">", 1.5, "not_met"), ("<0.2 mg/dL", "<", 0.1, "unknown"),
     (">= 5 mg/dL", ">", 1, "met"), ("≤1.0", "<", 1.5, "met"), ("≥ 2", "<", 2, "not_met")],
)
def test_patient_censored_strings(written, comparator, threshold, expected):
    patient = patient_from_mapping({"creatinine": written})
    assert evaluate_rule(rule("creatinine", comparator, threshold, "mg/dL"), patient).outcome == expected


@pytest.mark.parametrize(
    ("birth", "comparator", "threshold", "unit", "expected"),
    [("2023-08", ">=", 6, "mo", "met"), ("2023-08", ">=", 10, "mo", "unknown"), ("2023-08", ">=", 11, "mo", "not_met"),
     ("2023-08-10", ">=", 10, "mo", "met"), ("2023-08-20", ">=", 10, "mo", "not_met"), ("2023-08", "<", 1, "a", "met"),
     ("2006-06", ">=", 18, "a", "unknown"), ("2006-05", ">=", 18, "a", "met"), ("2006", ">=", 18, "a", "unknown"),
     ("2024-05-01", ">=", 4, "wk", "met"), ("2024-06-10", "<=", 7, "d", "met")],
)
def test_patient_ages_in_months_and_partial_birth_dates(birth, comparator, threshold, unit, expected):
    patient = patient_from_mapping({"birth_date": birth}, as_of=DAY)
    result = evaluate_rule(rule("age", comparator, threshold, unit), patient)
    assert result.outcome == expected, result.reason


@pytest.mark.parametrize(
    ("age", "comparator", "threshold", "unit", "expected"),
    [(42, ">=", 500, "mo", "met"), (42, ">=", 510, "mo", "unknown"), (42, "<=", 503, "mo", "not_met"),
     ("18 months", ">=", 1, "a", "met"), ("18 months", ">=", 2, "a", "not_met"), (17, ">=", 18, "a", "not_met")],
)
def test_patient_age_numbers_in_other_units(age, comparator, threshold, unit, expected):
    patient = patient_from_mapping({"age": age})
    assert evaluate_rule(rule("age", comparator, threshold, unit), patient).outcome == expected


@pytest.mark.parametrize(
    ("data", "field"),
    [({"creatinine": {"value": 1.1, "unit": 5}}, "creatinine.unit"),
     ({"creatinine": {"value": 1.1, "unit": ["mg/dL"]}}, "creatinine.unit"),
     ({"creatinine": {"value": 1.1, "unit": "mg/dL", "when": 20240601}}, "creatinine.when"),
     ({"creatinine": {"value": 1.1, "uln": [1.2]}}, "creatinine.uln"),
     ({"creatinine": {"value": 1.1, "comparator": "about"}}, "creatinine.comparator"),
     ({"creatinine": [1.1]}, "creatinine"),
     ({"sex": 1}, "sex"),
     ({"birth_date": 19800101}, "birth_date"),
     ({"conditions": "hepatitis B", "medications": 5}, "medications"),
     ({"conditions": [{"name": "x", "onset": 2020}]}, "conditions[0].onset"),
     ({"conditions": [{"name": "x", "onset": "last year"}]}, "conditions[0].onset"),
     ({"conditions": [{"name": "x", "colour": "red"}]}, "colour"),
     ({"conditions": [{"name": "x", "status": "sort of"}]}, "conditions[0].status"),
     ({"conditions": [{"code": "12345"}]}, "needs its system"),
     ({"conditions": [{}]}, "give a name or a code"),
     ({"pregnant": "maybe"}, "pregnant")],
)
def test_patient_wrong_types_are_errors_naming_the_field(data, field):
    with pytest.raises(PatientDataError) as info:
        load_patient(data)
    assert field in str(info.value)


@pytest.mark.parametrize(
    ("data", "analyte", "rule_args"),
    [({"age": 1e308}, "age", (">=", 18, "a")),
     ({"platelets": "1e30/mm3"}, "platelets", (">=", 100, "10*9/L")),
     ({"alt": {"value": 40, "unit": "U/L", "uln": 1e-300}}, "alt", ("<=", 3, "x ULN")),
     ({"hemoglobin": "900 g/dL"}, "hemoglobin", (">=", 9, "g/dL")),
     ({"ecog": 7}, "ecog", ("<=", 1, None)),
     ({"body weight": "5000 kg"}, "body weight", (">=", 40, "kg"))],
)
def test_patient_impossible_values_are_unknown_with_a_reason(data, analyte, rule_args):
    patient = patient_from_mapping(data)
    assert "implausible" in patient.get(analyte).problem
    result = evaluate_rule(rule(analyte, *rule_args), patient)
    assert result.outcome == "unknown" and "implausible" in result.reason


@pytest.mark.parametrize("payload", [b"\xff\xfe{\x00}", b'{"creatinine": "1.1 mg/dL \xe9"}'])
def test_patient_file_not_utf8_is_an_error(tmp_path, payload):
    path = tmp_path / "patient.json"
    path.write_bytes(payload)
    with pytest.raises(PatientDataError) as info:
        load_patient(path)
    assert "UTF-8" in str(info.value) and str(path) in str(info.value)


@pytest.mark.parametrize("name", ["patient.json.gz", "patient.json"])
def test_patient_gzip_and_bom_files(tmp_path, name):
    import gzip

    raw = "\ufeff" + json.dumps({"creatinine": "1.1 mg/dL", "conditions": ["asthma"]})
    path = tmp_path / name
    path.write_bytes(gzip.compress(raw.encode()) if name.endswith(".gz") else raw.encode())
    patient = load_patient(path)
    assert patient.get("creatinine").value == 1.1 and patient.records[0].text == "asthma"


@pytest.mark.parametrize(
    ("resource", "field"),
    [({"resourceType": "Condition", "id": "c", "code": "hepatitis"}, "Condition/c.code"),
     ({"resourceType": "Observation", "id": "o", "status": "final", "code": {"coding": [{"system": "http://loinc.org", "code": "2160-0"}]},
       "valueQuantity": {"value": 1.0, "unit": 5}}, "Observation/o.valueQuantity.unit"),
     ({"resourceType": "Observation", "id": "o", "status": "final", "code": {"coding": {"code": "2160-0"}}}, "Observation/o.code.coding"),
     ({"resourceType": "Patient", "id": "p", "birthDate": 1980}, "Patient/p"),
     ({"resourceType": "MedicationStatement", "id": "m", "status": "active", "medicationCodeableConcept": {"text": "x"},
       "subject": {"reference": "Patient/p"}, "effectivePeriod": "2020"}, "MedicationStatement/m.effectivePeriod")],
)
def test_patient_fhir_wrong_types_name_the_field(resource, field):
    with pytest.raises(PatientDataError) as info:
        patient_from_fhir([resource])
    assert field in str(info.value)


def _big_bundle(count: int) -> dict:
    analytes = [("2160-0", "mg/dL"), ("777-3", "10*9/L"), ("718-7", "g/dL"), ("1742-6", "U/L"), ("1920-8", "U/L"), ("6768-6", "U/L")]
    entries = []
    for i in range(count):
        code, unit = analytes[i % len(analytes)]
        entries.append({"resource": observation(code, 1.0 + (i % 7), unit, oid=f"o{i}", when=f"2024-{1 + i % 12:02d}-01")})
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


def _peak_loading(path: Path) -> tuple[Any, int]:
    import tracemalloc

    tracemalloc.start()
    try:
        patient = load_patient(path)
        return patient, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(("small", "large"), [(500, 4_000)])
def test_patient_bundle_memory_is_flat_in_observations(tmp_path, monkeypatch, small, large):
    import critparse.screen.patient as module

    monkeypatch.setattr(module, "_STREAM_ABOVE", 0)  # stream even these small files
    monkeypatch.setattr(module, "_CHUNK", 1 << 16)  # and in chunks smaller than both
    peaks = []
    for count in (small, large):
        path = tmp_path / f"bundle-{count}.json"
        path.write_text(json.dumps(_big_bundle(count)))
        patient, peak = _peak_loading(path)
        assert len(patient.measurements) == 6 and len(patient.notes) == 6
        peaks.append(peak)
    assert peaks[1] < peaks[0] * 1.5 + 2_000_000, peaks  # eight times the resources, not eight times the memory


@pytest.mark.slow
@pytest.mark.parametrize("count", [100_000])
def test_patient_large_bundle_notes_are_summarised_and_memory_flat(tmp_path, count):
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(_big_bundle(count)))
    patient, peak = _peak_loading(path)
    assert len(patient.measurements) == 6
    assert len(patient.notes) == 6 and all("more" in n for n in patient.notes)
    assert sum(int(n.split(" and ")[1].split(" more")[0].replace(",", "")) + 3 for n in patient.notes) == count - 6
    assert peak < 40_000_000, peak  # the file is ~25 MB; parsing all of it would take several times that


@pytest.mark.parametrize("count", [300])
def test_patient_streamed_and_loaded_bundles_agree(tmp_path, count, monkeypatch):
    import critparse.screen.patient as module

    bundle = _big_bundle(count)
    bundle["entry"].append({"fullUrl": "urn:uuid:1", "resource": PATIENT})
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle, indent=1))
    whole = load_patient(path, as_of=AS_OF)
    monkeypatch.setattr(module, "_STREAM_ABOVE", 0)
    monkeypatch.setattr(module, "_CHUNK", 997)
    streamed = load_patient(path, as_of=AS_OF)
    assert streamed == whole


@pytest.mark.parametrize("text", ['{"resourceType": "Bundle", "entry": [{"resource": ', '{"resourceType": "Bundle", "entry": 5}'])
def test_patient_streamed_bundle_errors(tmp_path, monkeypatch, text):
    import critparse.screen.patient as module

    monkeypatch.setattr(module, "_STREAM_ABOVE", 0)
    path = tmp_path / "bundle.json"
    path.write_text(text)
    with pytest.raises(PatientDataError):
        load_patient(path)


@pytest.mark.parametrize(
    ("raw", "present"),
    [(True, True), (False, False), ("negative", False), ({"value": "positive", "date": "2024-06-01"}, True)],
)
def test_patient_mapping_pregnancy(raw, present):
    patient = patient_from_mapping({"pregnancy_test": raw}, as_of=DAY)
    record = patient.records[0]
    assert (record.kind, record.present) == ("pregnancy", present)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [("hepatitis B", {"text": "hepatitis B"}),
     ({"name": "liver metastases", "status": "active"}, {"clinical_status": "active"}),
     ({"name": "HIV", "status": "ruled out"}, {"verification_status": "refuted"}),
     ({"name": "PE", "status": "suspected"}, {"verification_status": "provisional"}),
     ({"name": "MI", "present": False}, {"verification_status": "refuted"}),
     ({"code": "B18.1", "system": "ICD-10-CM"}, {"text": None}),
     ({"name": "x", "codes": [{"system": "snomed", "code": "66071002"}]}, {"text": "x"}),
     ({"name": "MI", "onset": "2024-03", "end": "2024-04-01"}, {"start": "2024-03", "end": "2024-04-01"})],
)
def test_patient_mapping_condition_forms(entry, expected):
    record = patient_from_mapping({"conditions": [entry]}).records[0]
    for key, value in expected.items():
        assert getattr(record, key) == value
    assert all(code.system.startswith("http") for code in record.codes)


@pytest.mark.parametrize(
    ("entry", "status"),
    [({"name": "warfarin", "status": "current"}, "active"), ({"name": "warfarin", "status": "not-taken"}, "not-taken"),
     ({"name": "warfarin", "present": False}, "not-taken"), ({"name": "warfarin", "status": "past"}, "completed")],
)
def test_patient_mapping_medication_statuses(entry, status):
    assert patient_from_mapping({"medications": [entry]}).records[0].status == status


@pytest.mark.parametrize("rtype", ["MedicinalProduct", "RiskEvidenceSynthesis"])
def test_patient_r4_only_resource_types_are_accepted_and_not_used(rtype):
    patient = patient_from_fhir([{"resourceType": rtype, "id": "x"}, PATIENT], version="R4", as_of=AS_OF)
    assert patient.id == "p1" and any(rtype in n for n in patient.notes)
    with pytest.raises(PatientDataError):
        patient_from_fhir([{"resourceType": rtype, "id": "x"}], version="R5")
