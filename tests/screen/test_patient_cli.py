"""`critparse screen` on bad patient files: a clear error naming the field, exit 1, no traceback;
impossible values are screened as unknown with a reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from critparse.cli import app
from critparse.model import Analyte, ParseResult, Rule, Span

runner = CliRunner()


def _rules(tmp_path: Path) -> Path:
    def rule(name: str, comparator: str, value: float, unit: str | None) -> Rule:
        text = f"{name} {comparator} {value:g} {unit or ''}".strip()
        return Rule(analyte=Analyte(text=name, name=name, in_lexicon=True), comparator=comparator,  # type: ignore[arg-type]
                    value=value, unit=unit, unit_text=unit, span=Span(start=0, end=len(text)), text=text)

    results = [ParseResult(id=n, text=r.text, rules=(r,)) for n, r in (
        ("creat", rule("creatinine", "<=", 1.5, "mg/dL")), ("age", rule("age", ">=", 18, "a")),
        ("plt", rule("platelets", ">=", 100, "10*9/L")), ("alt", rule("alt", "<=", 3, "x ULN")))]
    path = tmp_path / "rules.jsonl"
    path.write_text("".join(r.model_dump_json() + "\n" for r in results), "utf-8")
    return path


@pytest.mark.parametrize(
    ("patient", "field"),
    [({"creatinine": {"value": 1.1, "unit": 5}}, "creatinine.unit"),
     ({"creatinine": {"value": 1.1, "unit": ["mg/dL"]}}, "creatinine.unit"),
     ({"creatinine": {"value": 1.1, "when": 20240601}}, "creatinine.when"),
     ({"conditions": [{"name": "asthma", "onset": 2020}]}, "conditions[0].onset")],
)
def test_patient_cli_wrong_types_name_the_field(tmp_path, patient, field):
    path = tmp_path / "patient.json"
    path.write_text(json.dumps(patient), "utf-8")
    result = runner.invoke(app, ["screen", str(_rules(tmp_path)), str(path)])
    assert result.exit_code == 1
    assert field in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("payload", [b'{"creatinine": "1.1 mg/dL \xff"}'])
def test_patient_cli_not_utf8(tmp_path, payload):
    path = tmp_path / "patient.json"
    path.write_bytes(payload)
    result = runner.invoke(app, ["screen", str(_rules(tmp_path)), str(path)])
    assert result.exit_code == 1 and "UTF-8" in result.output


@pytest.mark.parametrize(
    ("patient", "criterion"),
    [({"age": 1e308}, "age"), ({"platelets": "1e30/mm3"}, "plt"), ({"alt": {"value": 40, "uln": 1e-300}}, "alt")],
)
def test_patient_cli_impossible_values_are_unknown(tmp_path, patient, criterion):
    path = tmp_path / "patient.json"
    path.write_text(json.dumps(patient), "utf-8")
    result = runner.invoke(app, ["screen", str(_rules(tmp_path)), str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    screened = {c["id"]: c for c in json.loads(result.stdout)["criteria"]}
    assert screened[criterion]["outcome"] == "unknown" and "implausible" in screened[criterion]["reason"]


@pytest.mark.parametrize("version", ["auto", "R4"])
def test_patient_cli_reads_r4_bundles(tmp_path, version):
    bundle = Path(__file__).parent / "data" / "r4_us_core_bundle.json"
    result = runner.invoke(app, ["screen", str(_rules(tmp_path)), str(bundle), "--format", "json",
                                 "--fhir-version", version, "--as-of", "2024-06-15"])
    assert result.exit_code == 0, result.output
    screened = {c["id"]: c for c in json.loads(result.stdout)["criteria"]}
    assert screened["creat"]["outcome"] == "met"  # a censored <0.2 mg/dL is certainly <= 1.5
    assert screened["age"]["outcome"] == "met"
