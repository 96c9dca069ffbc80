"""FHIR R5 EvidenceVariable export: every trial, every node kind, validated with fhir.resources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fhir.resources.bundle import Bundle
from fhir.resources.evidencevariable import EvidenceVariable
from rule_builder import make_rule
from typer.testing import CliRunner

import critparse
from critparse.cli import app
from critparse.export.fhir import evidence_bundle, evidence_variable
from critparse.extract.logic import link_children
from critparse.model import Criterion

TRIALS = Path(__file__).resolve().parents[1] / "trials"


def _criteria(nlp, rows: list[tuple[str, str, str]]) -> list[Criterion]:
    out = []
    for section, path, text in rows:
        parsed = critparse.parse(text, nlp=nlp)
        out.append(Criterion(trial_id="NCT00000001", section=section, path=path, text=text, rules=parsed.rules,
                             concepts=parsed.concepts, logic=parsed.logic,
                             no_threshold_reason=parsed.no_threshold_reason))
    return link_children(out)


def _walk(characteristic: dict):
    yield characteristic
    for child in characteristic.get("definitionByCombination", {}).get("characteristic", []):
        yield from _walk(child)


ROWS = [
    ("inclusion", "inclusion/1", "Serum creatinine ≤ 1.6 mg/dL or creatinine clearance ≥ 55 mL/min"),
    ("inclusion", "inclusion/2", "ALT ≤ 3 × ULN (≤ 5 × ULN for patients with hepatic metastases)"),
    ("inclusion", "inclusion/3", "Age 18-65 years"),
    ("inclusion", "inclusion/4", "Stage IIIA, IIIB or IV"),
    ("inclusion", "inclusion/5", "Hemoglobin ≥ 8 g/dL (5.0 mmol/L)"),
    ("inclusion", "inclusion/6", "At least two of the following: age ≥ 65 years, BMI ≥ 30 kg/m2, HbA1c ≥ 6.5%"),
    ("inclusion", "inclusion/7", "One of the following:"),
    ("inclusion", "inclusion/7/a", "ECOG 0 or 1"),
    ("inclusion", "inclusion/7/b", "Karnofsky ≥ 70"),
    ("exclusion", "exclusion/1", "QTcF > 450 ms in men or > 470 ms in women"),
    ("exclusion", "exclusion/2", "Pregnant or lactating women"),
    ("exclusion", "exclusion/3", "Signed informed consent"),
]


def test_fhir_export_validates(nlp):
    resource = evidence_variable(_criteria(nlp, ROWS))
    parsed = EvidenceVariable.model_validate(resource)
    assert parsed.id == "NCT00000001" and parsed.status == "draft"
    links = [c["linkId"] for c in resource["characteristic"]]
    assert "inclusion-7" in links and "inclusion-7-a" not in links  # children inside their parent
    assert json.loads(json.dumps(resource)) == resource


def test_fhir_export_maps_each_node(nlp):
    by_link = {c["linkId"]: c for c in evidence_variable(_criteria(nlp, ROWS))["characteristic"]}
    assert by_link["inclusion-1"]["definitionByCombination"]["code"] == "any-of"
    age = by_link["inclusion-3"]["definitionByTypeAndValue"]
    assert age["type"]["coding"][0]["code"] == "30525-0"
    assert age["valueRange"]["low"] == {"value": 18.0, "unit": "years", "system": "http://unitsofmeasure.org", "code": "a"}
    conditional = [c for c in _walk(by_link["inclusion-2"]) if "definitionCodeableConcept" in c]
    assert {c["definitionCodeableConcept"]["text"] for c in conditional} == {"hepatic metastases"}
    assert any(c.get("exclude") for c in conditional)  # the otherwise-branch: not hepatic metastases
    stages = [c["definitionByTypeAndValue"]["valueCodeableConcept"]["text"] for c in _walk(by_link["inclusion-4"])
              if "definitionByTypeAndValue" in c]
    assert stages == ["IIIA", "IIIB", "IV"]
    at_least = by_link["inclusion-6"]["definitionByCombination"]
    assert (at_least["code"], at_least["threshold"]) == ("at-least", 2)
    assert by_link["inclusion-7"]["definitionByCombination"]["code"] == "any-of"
    assert by_link["exclusion-1"]["exclude"] is True
    assert "note" in by_link["exclusion-3"] or "definitionCodeableConcept" in by_link["exclusion-3"]


def test_fhir_export_quantity_and_loinc():
    rule = make_rule("creatinine", "<", 2.5, "mg/dL")
    rule = rule.model_copy(update={"analyte": rule.analyte.model_copy(update={"code": "2160-0", "system": "http://loinc.org"})})
    criterion = Criterion(section="inclusion", path="inclusion/1", text="Creatinine < 2.5 mg/dL", rules=(rule,))
    resource = evidence_variable([criterion], trial_id="NCT1")
    value = resource["characteristic"][0]["definitionByTypeAndValue"]
    assert value["type"]["coding"][0] == {"system": "http://loinc.org", "code": "2160-0", "display": "creatinine"}
    assert value["valueQuantity"] == {"value": 2.5, "comparator": "<", "unit": "mg/dL",
                                      "system": "http://unitsofmeasure.org", "code": "mg/dL"}
    EvidenceVariable.model_validate(resource)


@pytest.mark.parametrize("trial", sorted(p.name for p in TRIALS.glob("*.json")))
def test_fhir_export_every_test_trial_validates(tmp_path, trial):
    out = tmp_path / "ev.ndjson"
    run = CliRunner().invoke(app, ["export", str(TRIALS / trial), "--output", str(out)])
    assert run.exit_code == 0, run.output
    for line in out.read_text("utf-8").splitlines():
        EvidenceVariable.model_validate(json.loads(line))


def test_fhir_export_reads_parse_trials_output_and_bundles(tmp_path):
    jsonl = tmp_path / "criteria.jsonl"
    run = CliRunner().invoke(app, ["parse-trials", str(TRIALS / "NCT02186860.json"), "--output", str(jsonl)])
    assert run.exit_code == 0, run.output
    bundled = tmp_path / "bundle.json"
    run = CliRunner().invoke(app, ["export", str(jsonl), "--bundle", "--output", str(bundled)])
    assert run.exit_code == 0, run.output
    bundle = Bundle.model_validate(json.loads(bundled.read_text("utf-8")))
    assert len(bundle.entry) == 1
    assert evidence_bundle([])["entry"] == []
