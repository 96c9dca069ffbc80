"""Concepts and conditions checked against a patient's records (`critparse.screen.records`).

Patients are hand-written: an R4 US Core-shaped bundle, an R5 bundle (both in `data/`) and plain
mappings, all screened on 2024-06-15. Every case names the outcome and a word of the reason.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from critparse.model.concept import Code, Concept, TimeWindow
from critparse.model.logic import Condition, ConditionLeaf, ValueSet
from critparse.model.rule import Analyte
from critparse.model.span import Span
from critparse.screen.patient import load_patient
from critparse.screen.records import evaluate_leaf, words

DAY = date(2024, 6, 15)
DATA = Path(__file__).parent / "data"

MAPPING = {
    "id": "m1",
    "sex": "female",
    "birth_date": "1970-01-01",
    "conditions": [
        "hepatitis B",
        {"name": "liver metastases", "status": "active"},
        {"name": "HIV", "status": "refuted"},
        {"name": "deep vein thrombosis", "onset": "2024-05", "status": "active"},
        {"name": "Crohn's disease", "status": "active"},
        {"name": "Chronic hepatitis C", "code": "B18.2", "system": "ICD-10-CM"},
        "family history of colon cancer",
        "suspected pulmonary embolism",
        "Breast cancer with liver metastases",
        "Hepatitis E antibody positive",
    ],
    "medications": [
        {"name": "cisplatin", "status": "completed", "start": "2024-05-20", "end": "2024-05-20"},
        {"name": "tamoxifen", "status": "stopped", "start": "2020-01", "end": "2023-12"},
    ],
    "procedures": [{"name": "major surgery", "date": "2024-05-25"}],
    "pregnant": True,
    "lactating": False,
}
CODED_ONLY = {"conditions": [{"code": "B18.2", "system": "http://hl7.org/fhir/sid/icd-10-cm"}]}


@pytest.fixture(scope="module")
def patients() -> dict[str, Any]:
    return {
        "r4": load_patient(DATA / "r4_us_core_bundle.json", as_of=DAY),
        "r5": load_patient(DATA / "r5_bundle.json", as_of=DAY),
        "map": load_patient(MAPPING, as_of=DAY),
        "coded": load_patient(CODED_ONLY, as_of=DAY),
        "male": load_patient({"sex": "male", "conditions": ["hypertension"]}, as_of=DAY),
        "empty": load_patient({}, as_of=DAY),
    }


def window(text: str, comparator: str | None, value: float | None, unit: str | None,
           anchor: str | None = None, relation: str | None = "before") -> TimeWindow:
    return TimeWindow(text=text, span=Span(start=0, end=len(text)), comparator=comparator,
                      value=value, unit=unit, anchor=anchor, relation=relation)


WITHIN_6_MO = window("within 6 months", "<=", 6, "mo")
WITHIN_2_MO = window("within 2 months", "<=", 2, "mo")
WITHIN_3_MO = window("within 3 months", "<=", 3, "mo")
WITHIN_1_MO = window("within 1 month", "<=", 1, "mo")
WITHIN_18_MO = window("within 18 months", "<=", 18, "mo")
WITHIN_4_WK = window("within 4 weeks", "<=", 4, "wk")
WITHIN_2_WK = window("within 2 weeks", "<=", 2, "wk")
WITHIN_7_D = window("within 7 days", "<=", 7, "d")
AT_LEAST_14_D = window("at least 14 days since", ">=", 14, "d")
AT_LEAST_6_WK = window("at least 6 weeks since", ">=", 6, "wk")
AT_LEAST_28_D = window("at least 28 days since", ">=", 28, "d")
BEFORE_DAY_1 = window("within 4 weeks before day 1", "<=", 4, "wk", anchor="day 1")
FROM_DIAGNOSIS = window("within 3 months of diagnosis", "<=", 3, "mo", anchor="diagnosis", relation=None)
PRIOR_TO_DAY_1 = window("prior to day 1", None, None, None, anchor="day 1")


def concept(name: str, type: str = "condition", *, text: str | None = None, **context: Any) -> Concept:
    written = text or name
    return Concept(type=type, text=written, span=Span(start=0, end=len(written)), name=name, **context)


def condition(text: str, kind: str = "clinical", **extra: Any) -> Condition:
    return Condition(text=text, span=Span(start=0, end=len(text)), kind=kind, **extra)


def value_set(*values: str) -> ValueSet:
    text = ", ".join(values)
    return ValueSet(analyte=Analyte(text="stage", name="stage"), values=values, text=text,
                    span=Span(start=0, end=len(text)))


CASES: list[tuple[str, str, Any, str, str]] = [
    # id, patient, leaf, outcome, a word of the reason
    # --- R4 bundle: conditions by code, lexicon and text; statuses
    ("r4-hcv-ellipsis", "r4", concept("hepatitis c infection", text="C infection", head="hepatitis"), "met", "Condition/hcv"),
    ("r4-hcv-negated", "r4", concept("hepatitis c infection", negated=True), "not_met", "Chronic hepatitis C"),
    ("r4-hcv-history", "r4", concept("hepatitis c", modality="history"), "met", "active"),
    ("r4-hcv-qualified-chronic", "r4", concept("hepatitis c", qualifiers=("chronic",)), "met", "current"),
    ("r4-hcv-qualified-untreated", "r4", concept("hepatitis c", qualifiers=("refractory",)), "unknown", "refractory"),
    ("r4-hbv-not-mentioned", "r4", concept("hepatitis b infection"), "unknown", "no record mentions"),
    ("r4-hbv-not-mentioned-negated", "r4", concept("hepatitis b infection", negated=True), "unknown", "no record"),
    ("r4-hiv-entered-in-error", "r4", concept("human immunodeficiency virus infection"), "unknown", "no record"),
    ("r4-tb-refuted", "r4", concept("tuberculosis"), "not_met", "ruled out"),
    ("r4-tb-refuted-negated", "r4", concept("tuberculosis", negated=True), "met", "Condition/tb"),
    ("r4-liver-mets-code", "r4", concept("liver metastases"), "met", "ICD-10-CM C78.7"),
    ("r4-hepatic-mets-active", "r4", concept("hepatic metastases", qualifiers=("active",)), "met", "Condition/livmet"),
    ("r4-mi-within-6-months", "r4", concept("myocardial infarction", temporal=WITHIN_6_MO), "met", "within 6 months"),
    ("r4-mi-within-2-months", "r4", concept("myocardial infarction", temporal=WITHIN_2_MO), "not_met", "within 2 months"),
    ("r4-mi-not-current", "r4", concept("myocardial infarction"), "not_met", "not current"),
    ("r4-mi-history", "r4", concept("myocardial infarction", modality="history"), "met", "resolved"),
    ("r4-diabetes-narrower", "r4", concept("diabetes mellitus"), "met", "Diabetes mellitus type 2"),
    ("r4-type-1-diabetes-unknown", "r4", concept("type 1 diabetes mellitus"), "unknown", "no record"),
    ("r4-breast-cancer-history", "r4", concept("breast cancer", modality="history"), "met", "History of breast cancer"),
    ("r4-breast-cancer-current", "r4", concept("breast cancer"), "not_met", "not current"),
    ("r4-seizure-inactive", "r4", concept("seizure disorder"), "not_met", "Epilepsy"),
    ("r4-seizure-history", "r4", concept("seizure disorder", modality="history"), "met", "inactive"),
    ("r4-stroke-provisional", "r4", concept("stroke"), "unknown", "not confirmed"),
    ("r4-stroke-suspected", "r4", concept("stroke", modality="suspected"), "met", "provisional"),
    # --- R4 bundle: medications, procedures, allergies, immunizations
    ("r4-warfarin-active", "r4", concept("warfarin", "drug"), "met", "RxNorm 855332"),
    ("r4-warfarin-negated", "r4", concept("warfarin", "drug", negated=True), "not_met", "MedicationRequest/warf"),
    ("r4-anticoagulant-class", "r4", concept("anticoagulant", "drug"), "unknown", "no record"),
    ("r4-pembro-history", "r4", concept("pembrolizumab", "drug", modality="history"), "met", "MedicationStatement/pembro"),
    ("r4-pembro-unsaid", "r4", concept("pembrolizumab", "drug"), "unknown", "past use"),
    ("r4-pembro-current", "r4", concept("pembrolizumab", "drug", qualifiers=("current",)), "not_met", "not current"),
    ("r4-pembro-within-4-weeks", "r4", concept("pembrolizumab", "drug", temporal=WITHIN_4_WK), "not_met", "wk"),
    ("r4-pembro-within-18-months", "r4", concept("pembrolizumab", "drug", temporal=WITHIN_18_MO), "met", "mo"),
    ("r4-prednisone-not-taken", "r4", concept("prednisone", "drug"), "not_met", "not-taken"),
    ("r4-prednisone-negated", "r4", concept("prednisone", "drug", negated=True), "met", "not-taken"),
    ("r4-cisplatin-within-4-weeks", "r4", concept("cisplatin", "drug", temporal=WITHIN_4_WK), "met", "MedicationAdministration/cis"),
    ("r4-cisplatin-within-2-weeks", "r4", concept("cisplatin", "drug", temporal=WITHIN_2_WK), "not_met", "within 2 weeks"),
    ("r4-cisplatin-at-least-14-days", "r4", concept("cisplatin", "drug", temporal=AT_LEAST_14_D), "met", "at least 14 days"),
    ("r4-cisplatin-at-least-6-weeks", "r4", concept("cisplatin", "drug", temporal=AT_LEAST_6_WK), "not_met", "6 weeks"),
    ("r4-cisplatin-before-day-1", "r4", concept("cisplatin", "drug", temporal=BEFORE_DAY_1), "met", "day 1"),
    ("r4-cisplatin-from-diagnosis", "r4", concept("cisplatin", "drug", temporal=FROM_DIAGNOSIS), "unknown", "diagnosis"),
    ("r4-cisplatin-prior-to-day-1", "r4", concept("cisplatin", "drug", temporal=PRIOR_TO_DAY_1), "met", "before"),
    ("r4-radiotherapy-within-4-weeks", "r4", concept("radiotherapy", "procedure", temporal=WITHIN_4_WK), "not_met", "Radiation therapy"),
    ("r4-radiotherapy-within-3-months", "r4", concept("radiotherapy", "procedure", temporal=WITHIN_3_MO), "met", "Procedure/rt"),
    ("r4-radiation-history", "r4", concept("radiation therapy", "procedure", modality="history"), "met", "SNOMED CT 108290001"),
    ("r4-appendectomy-event", "r4", concept("appendectomy", "procedure"), "met", "2010-06-01"),
    ("r4-chemotherapy-not-done", "r4", concept("chemotherapy", "procedure"), "unknown", "not-done"),
    ("r4-chemotherapy-not-done-negated", "r4", concept("chemotherapy", "procedure", negated=True, modality="history"), "unknown", "Procedure/ctx"),
    ("r4-penicillin-allergy", "r4", concept("penicillin allergy", "allergy"), "met", "AllergyIntolerance/pcn"),
    ("r4-allergy-to-penicillin", "r4", concept("allergy to penicillin", "allergy"), "met", "Penicillin"),
    ("r4-sulfa-allergy-unknown", "r4", concept("sulfonamide allergy", "allergy"), "unknown", "no record"),
    ("r4-hbv-vaccine", "r4", concept("hepatitis b vaccine", "immunization"), "met", "CVX 08"),
    ("r4-pregnancy-negative-status", "r4", concept("pregnancy"), "not_met", "Observation/preg"),
    ("r4-not-pregnant", "r4", concept("pregnant", negated=True), "met", "Not pregnant"),
    ("r4-lactation-unknown", "r4", concept("lactation"), "unknown", "no record"),
    ("r4-egfr-finding", "r4", concept("egfr gene mutation", "observation"), "met", "Detected"),
    ("r4-family-ovarian", "r4", concept("ovarian cancer", subject="family"), "met", "FamilyMemberHistory/fmh"),
    ("r4-own-ovarian-unknown", "r4", concept("ovarian cancer"), "unknown", "no record"),
    # --- R4 bundle: logic conditions and value sets
    ("r4-men", "r4", condition("men", "sex", sex="male"), "not_met", "female"),
    ("r4-women", "r4", condition("women", "sex", sex="female"), "met", "female"),
    ("r4-condition-hepatic-mets", "r4", condition("hepatic metastases"), "met", "Condition/livmet"),
    ("r4-condition-active-hcv", "r4", condition("patients with active hepatitis C"), "met", "Condition/hcv"),
    ("r4-condition-mi-window", "r4", condition("myocardial infarction within 2 months"), "not_met", "within 2 months"),
    ("r4-condition-transfusion", "r4", condition("transfusion within 7 days", "treatment"), "unknown", "no record"),
    ("r4-condition-object", "r4", {"text": "Gilbert's syndrome"}, "unknown", "no record"),
    ("r4-stage-in-set", "r4", value_set("IIIA", "IIIB", "IV"), "met", "IIIB"),
    ("r4-stage-in-parent", "r4", value_set("III", "IV"), "met", "IIIB"),
    ("r4-stage-not-in-set", "r4", value_set("IV"), "not_met", "IIIB"),
    # --- R5 bundle
    ("r5-hbv-icd-only", "r5", concept("hepatitis b infection"), "met", "ICD-10-CM B18.1"),
    ("r5-hbv-negated", "r5", concept("hepatitis b", negated=True), "not_met", "Condition/hbv"),
    ("r5-gilbert-lexicon", "r5", concept("gilbert syndrome"), "met", "Gilbert's syndrome"),
    ("r5-gilbert-condition-leaf", "r5", ConditionLeaf(condition=condition("Gilbert's syndrome")), "met", "Condition/gilbert"),
    ("r5-asthma-remission", "r5", concept("asthma"), "not_met", "remission"),
    ("r5-asthma-ended-in-window", "r5", concept("asthma", temporal=WITHIN_3_MO), "unknown", "ended within"),
    ("r5-dexamethasone-by-reference", "r5", concept("dexamethasone", "drug"), "met", "MedicationStatement/dex"),
    ("r5-ivig-contained", "r5", concept("immune globulin", "drug", temporal=WITHIN_2_WK), "met", "MedicationAdministration/ivig"),
    ("r5-rituximab-planned", "r5", concept("rituximab", "drug"), "unknown", "planned"),
    ("r5-rituximab-planned-modality", "r5", concept("rituximab", "drug", modality="planned"), "met", "intended"),
    ("r5-liver-transplant", "r5", concept("liver transplant", "procedure"), "met", "Procedure/tx"),
    ("r5-organ-transplant-narrower", "r5", concept("organ transplant", "procedure"), "met", "Liver transplant"),
    ("r5-organ-transplant-window", "r5", concept("organ transplant", "procedure", temporal=WITHIN_3_MO), "not_met", "mo"),
    ("r5-no-known-allergy", "r5", concept("penicillin allergy", "allergy"), "not_met", "no known allergy"),
    ("r5-no-known-allergy-negated", "r5", concept("penicillin allergy", "allergy", negated=True), "met", "716186003"),
    ("r5-mmr-not-done", "r5", concept("mmr vaccine", "immunization"), "unknown", "not-done"),
    ("r5-male-pregnancy", "r5", concept("pregnancy"), "not_met", "male"),
    ("r5-male-women-of-childbearing", "r5", condition("women of childbearing potential", "population"), "not_met", "male"),
    # --- plain mappings
    ("map-hbv-name", "map", concept("hepatitis b infection"), "met", "conditions[0]"),
    ("map-hiv-refuted", "map", concept("hiv infection"), "not_met", "conditions[2]"),
    ("map-hiv-refuted-negated", "map", concept("human immunodeficiency virus infection", negated=True), "met", "refuted"),
    ("map-dvt-within-3-months", "map", concept("deep vein thrombosis", temporal=WITHIN_3_MO), "met", "conditions[3]"),
    ("map-dvt-within-1-month", "map", concept("deep vein thrombosis", temporal=WITHIN_1_MO), "unknown", "mo"),
    ("map-dvt-within-7-days", "map", concept("deep vein thrombosis", temporal=WITHIN_7_D), "unknown", "still active"),
    ("map-surgery-within-4-weeks", "map", concept("major surgery", "procedure", temporal=WITHIN_4_WK), "met", "procedures[0]"),
    ("map-surgery-at-least-28-days", "map", concept("major surgery", "procedure", temporal=AT_LEAST_28_D), "not_met", "28 days"),
    ("map-crohn-uncontrolled", "map", concept("crohn disease", qualifiers=("uncontrolled",)), "unknown", "uncontrolled"),
    ("map-crohn-active", "map", concept("crohn disease", qualifiers=("active",)), "met", "conditions[4]"),
    ("r4-mi-uncontrolled-resolved", "r4", concept("myocardial infarction", qualifiers=("severe",)), "not_met", "not current"),
    ("map-crohn-severe", "map", concept("crohn disease", qualifiers=("severe",)), "unknown", "severe"),
    ("map-hcv-text-and-code", "map", concept("hepatitis c infection"), "met", "conditions[5]"),
    ("map-colon-cancer-family-only", "map", concept("colon cancer"), "unknown", "no record"),
    ("map-pe-suspected-record", "map", concept("pulmonary embolism"), "unknown", "not confirmed"),
    ("map-pe-suspected-concept", "map", concept("pulmonary embolism", modality="suspected"), "met", "suspected"),
    ("map-breast-cancer-trailing", "map", concept("breast cancer"), "met", "conditions[8]"),
    ("map-hepatitis-e-serology", "map", concept("hepatitis e"), "unknown", "no record"),
    ("map-tamoxifen-past-current", "map", concept("tamoxifen", "drug", qualifiers=("concurrent",)), "not_met", "not current"),
    ("map-tamoxifen-history", "map", concept("tamoxifen", "drug", modality="history"), "met", "stopped"),
    ("map-pregnant", "map", concept("pregnancy"), "met", "pregnant"),
    ("map-lactation-refuted", "map", concept("lactation"), "not_met", "lactating"),
    ("map-breastfeeding-synonym", "map", concept("breastfeeding", negated=True), "met", "lactating"),
    ("coded-hcv-icd-category", "coded", concept("hepatitis c infection"), "met", "ICD-10-CM B18.2"),
    ("coded-hbv-other-category", "coded", concept("hepatitis b infection"), "unknown", "no record"),
    ("male-pregnancy", "male", concept("pregnant"), "not_met", "male"),
    ("male-not-pregnant", "male", concept("pregnancy", negated=True), "met", "male"),
    ("male-htn-synonym", "male", concept("high blood pressure"), "met", "hypertension"),
    ("empty-anything", "empty", concept("hepatitis b"), "unknown", "no record"),
    ("empty-negated", "empty", concept("hepatitis b", negated=True), "unknown", "no record"),
    ("empty-sex-unknown", "empty", condition("men", "sex", sex="male"), "unknown", "sex"),
    ("empty-age-condition", "empty", condition("patients > 16 years", "age"), "unknown", "thresholds"),
]


@pytest.mark.parametrize(("patient", "leaf", "outcome", "word"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_records_evaluate_leaf(patients, patient, leaf, outcome, word):
    got, reason = evaluate_leaf(leaf, patients[patient], as_of=DAY)
    assert (got, word in reason) == (outcome, True), reason


@pytest.mark.parametrize("count", [len(CASES)])
def test_records_case_count(count):
    assert count >= 60


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Gilbert's syndrome", ("gilbert", "syndrome")), ("Liver Metastases", ("liver", "metastase")),
     ("non-small-cell", ("non", "small", "cell")), ("therapies", ("therapy",)), ("HIV", ("hiv",))],
)
def test_records_words_normalise(text, expected):
    assert words(text) == expected


@pytest.mark.parametrize("as_of", [DAY])
def test_records_as_of_defaults_to_patients_date(patients, as_of):
    leaf = concept("cisplatin", "drug", temporal=WITHIN_4_WK)
    assert evaluate_leaf(leaf, patients["r4"]) == evaluate_leaf(leaf, patients["r4"], as_of=as_of)
    later = evaluate_leaf(leaf, patients["r4"], as_of=date(2024, 9, 1))
    assert later[0] == "not_met"


@pytest.mark.parametrize("code", [Code(system="http://hl7.org/fhir/sid/icd-10-cm", code="B18")])
def test_records_concept_category_code_matches_by_prefix(patients, code):
    leaf = concept("some chronic viral hepatitis", codes=(code,))
    outcome, reason = evaluate_leaf(leaf, patients["coded"], as_of=DAY)
    assert outcome == "met" and "B18.2" in reason


@pytest.mark.parametrize("system", ["ICD-10-CM", "icd10cm", "http://hl7.org/fhir/sid/icd-10-cm"])
def test_records_mapping_code_systems_by_name(system):
    patient = load_patient({"conditions": [{"code": "B20", "system": system}]}, as_of=DAY)
    assert evaluate_leaf(concept("hiv infection"), patient)[0] == "met"


@pytest.mark.parametrize("status", ["entered-in-error", "error"])
def test_records_entered_in_error_is_ignored(status):
    patient = load_patient({"conditions": [{"name": "hepatitis B", "status": status}]}, as_of=DAY)
    assert evaluate_leaf(concept("hepatitis b"), patient)[0] == "unknown"


@pytest.mark.parametrize(
    ("records", "expected"),
    [([{"name": "hepatitis B", "status": "active"}, {"name": "hepatitis B", "status": "refuted"}], "unknown"),
     ([{"name": "myocardial infarction", "onset": "2010"}, {"name": "myocardial infarction", "onset": "2024-05-01"}], "met")],
)
def test_records_several_records_combine(records, expected):
    patient = load_patient({"conditions": records}, as_of=DAY)
    leaf = concept("myocardial infarction", temporal=WITHIN_6_MO) if "myocardial" in records[0]["name"] else concept("hepatitis b")
    outcome, reason = evaluate_leaf(leaf, patient)
    assert outcome == expected, reason


@pytest.mark.parametrize("patient_key", ["r4", "r5", "map"])
def test_records_reasons_name_the_record(patients, patient_key):
    for _, key, leaf, outcome, _ in CASES:
        if key == patient_key and outcome != "unknown":
            reason = evaluate_leaf(leaf, patients[key], as_of=DAY)[1]
            sources = [r.source for r in patients[key].records] + [m.source for m in patients[key].measurements]
            assert any(s in reason for s in sources) or "male" in reason, reason


def test_records_bundle_fixtures_are_valid_json():
    for path in DATA.glob("*.json"):
        assert json.loads(path.read_text("utf-8"))["resourceType"] == "Bundle"


@pytest.mark.parametrize(
    ("modality", "expected"),
    [(None, "unknown"), ("history", "met")],
)
def test_records_fhir_condition_without_status_is_not_current(modality, expected):
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {
        "resourceType": "Condition", "id": "enc-dx", "subject": {"reference": "Patient/p"},
        "category": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-category", "code": "encounter-diagnosis"}]}],
        "code": {"text": "Acute bronchitis"}, "onsetDateTime": "2015-02-01"}}]}
    patient = load_patient(bundle, as_of=DAY, version="R4")
    outcome, reason = evaluate_leaf(concept("acute bronchitis", modality=modality), patient)
    assert outcome == expected, reason


@pytest.mark.parametrize("heavy", ["spacy", "scispacy"])
def test_records_concepts_are_checked_without_spacy(heavy):
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from critparse.model.concept import Concept\n"
        "from critparse.model.span import Span\n"
        "from critparse.screen.patient import load_patient\n"
        "from critparse.screen.records import evaluate_leaf\n"
        "patient = load_patient({'conditions': ['Chronic hepatitis C']})\n"
        "leaf = Concept(type='condition', text='hepatitis C', span=Span(start=0, end=11), name='hepatitis c infection')\n"
        "assert evaluate_leaf(leaf, patient)[0] == 'met'\n"
        f"print({heavy!r} in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize(
    ("name", "type", "record", "expected"),
    [
        ("metformin", "drug", {"medications": [{"name": "insulin glargine", "status": "active"}]}, "unknown"),
        ("tetracycline", "drug", {"medications": [{"name": "linezolid", "status": "active"}]}, "unknown"),
        ("antibiotics", "drug", {"medications": [{"name": "azithromycin", "status": "active"}]}, "met"),
        ("spinal meningioma", "condition", {"conditions": ["intracranial meningioma"]}, "unknown"),
        ("meningioma", "condition", {"conditions": ["spinal meningioma"]}, "met"),
        ("spinal meningioma", "condition", {"conditions": ["meningioma"]}, "unknown"),
    ],
)
def test_records_a_shared_code_is_a_class_not_an_identity(name, type, record, expected):
    """Two drugs of one pharmacological class, or two subtypes of one disease, share a code of
    the lexicon: it makes the class's members match the class, never each other."""
    outcome, reason = evaluate_leaf(concept(name, type), load_patient(record, as_of=DAY))
    assert outcome == expected, reason


def test_records_code_owners_name_the_class():
    from critparse.lexicon.concepts import _owner

    assert _owner("D000900", {"DrugBank:DB00207": "Azithromycin", "MESH:D000900": "antibiotics"}) == "MESH:D000900"
    assert _owner("D008579", {"DOID:1138": "spinal meningioma", "DOID:3565": "meningioma"}) == "DOID:3565"
    assert _owner("D007004", {"DrugBank:DB00331": "Metformin", "DrugBank:DB00047": "Insulin Glargine"}) is None


@pytest.mark.parametrize(
    ("written", "recorded"),
    [("transient ischaemic attack", "Transient ischemic attack"), ("oesophageal varices", "esophageal varices"),
     ("chronic diarrhoea", "chronic diarrhea"), ("brain tumour", "brain tumor"), ("anaemia", "anemia")],
)
def test_records_british_and_american_spellings_match(written, recorded):
    patient = load_patient({"conditions": [recorded]}, as_of=DAY)
    outcome, reason = evaluate_leaf(concept(written), patient)
    assert outcome == "met", reason


@pytest.mark.parametrize(
    ("text", "record", "expected"),
    [
        ("Current use of oral anticoagulants", {"medications": [{"name": "oral anticoagulants", "status": "stopped"}]}, "not_met"),
        ("Currently taking levothyroxine", {"medications": [{"name": "levothyroxine", "status": "active"}]}, "met"),
        ("Currently receiving radiotherapy", {"procedures": [{"name": "radiotherapy", "status": "completed"}]}, "unknown"),
    ],
)
def test_records_current_use_needs_a_current_record(nlp, text, record, expected):
    import critparse

    found = critparse.parse(text, nlp=nlp).concepts
    assert "current" in found[0].qualifiers
    outcome, reason = evaluate_leaf(found[0], load_patient(record, as_of=DAY))
    assert outcome == expected, reason


@pytest.mark.parametrize(
    ("record", "expected"),
    [("leptomeningeal metastases", "unknown"), ("active leptomeningeal metastases", "met")],
)
def test_records_active_metastases_need_the_record_to_say_active(record, expected):
    """'Active' metastases are untreated or growing, which a record of metastases alone does not say."""
    leaf = concept("leptomeningeal metastases", qualifiers=("active",))
    outcome, reason = evaluate_leaf(leaf, load_patient({"conditions": [record]}, as_of=DAY))
    assert outcome == expected, reason


def test_records_a_written_active_status_says_active():
    leaf = concept("brain metastases", qualifiers=("active",))
    patient = load_patient({"conditions": [{"name": "brain metastases", "status": "active"}]}, as_of=DAY)
    assert evaluate_leaf(leaf, patient)[0] == "met"


@pytest.mark.parametrize(
    ("recorded", "expected"),
    [("Major abdominal surgery", "met"), ("major surgery", "met"), ("major and minor surgery", "unknown"),
     ("minor surgery", "unknown")],
)
def test_records_a_name_with_adjectives_inside_is_narrower(recorded, expected):
    patient = load_patient({"procedures": [{"name": recorded, "status": "completed", "date": "2024-06-01"}]}, as_of=DAY)
    outcome, reason = evaluate_leaf(concept("major surgery", "procedure"), patient)
    assert outcome == expected, reason
