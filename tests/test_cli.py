from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from critparse.cli import app
from critparse.model import output_json_schema

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"

runner = CliRunner()


def test_cli_parse_single_text_prints_a_table():
    result = runner.invoke(app, ["parse", "Creatinine < 2.5 mg/dl"])
    assert result.exit_code == 0, result.output
    assert "creatinine" in result.output and "mg/dL" in result.output


def test_cli_parse_jsonl_one_record_per_line_and_names_bad_lines(tmp_path):
    source = tmp_path / "criteria.jsonl"
    source.write_text(
        '{"id": "a", "text": "Creatinine < 2.5 mg/dl"}\n'
        '{"id": "b", "text": \n'
        "Bilirubin < 2.0 mg/dl\n"
        "\n"
        '{"id": "d"}\n'
        '{"id": "e", "text": "Known HIV"}\n',
        encoding="utf-8",
    )
    result = runner.invoke(app, ["parse", "--format", "jsonl", str(source)])
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [line["id"] for line in lines] == ["a", None, 3, "d", "e"]
    assert lines[0]["rules"][0]["unit"] == "mg/dL"
    assert lines[1]["diagnostics"][0]["code"] == "bad_input"
    assert f"{source}:2" in result.stderr
    assert f"{source}:5" in result.stderr


def test_cli_parse_reads_stdin():
    result = runner.invoke(app, ["parse", "--format", "jsonl", "-"], input="ECOG 0-1\nKnown HIV\n")
    assert result.exit_code == 0
    assert len(result.stdout.splitlines()) == 2


def test_cli_parse_bad_format_is_a_usage_error():
    assert runner.invoke(app, ["parse", "--format", "xml", "x"]).exit_code == 2


def test_cli_evaluate_seed_reports_three_levels():
    result = runner.invoke(app, ["evaluate", str(CORPUS / "NCT02186860.jsonl")])
    assert result.exit_code == 0, result.output
    assert "value: F1=1.000  unit: F1=1.000  analyte: F1=1.000" in result.output


def test_cli_evaluate_malformed_gold_names_the_line(tmp_path):
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"id": 1, "text": "ECOG 0-1", "rules": []}\n{"id": 2, "rules": []}\n', encoding="utf-8")
    result = runner.invoke(app, ["evaluate", str(gold)])
    assert result.exit_code == 1
    assert f"{gold}:2" in result.output


def test_cli_schema_matches_the_checked_in_schema():
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    printed = json.loads(result.stdout)
    assert printed == output_json_schema()
    checked_in = json.loads((ROOT / "critparse" / "resources" / "parse_result.schema.json").read_text())
    assert printed == checked_in, "run: critparse schema > critparse/resources/parse_result.schema.json"


@pytest.mark.parametrize("text", ["Creatinine < 2.5 mg/dl", "Known HIV", "AST/ALT < 3x ULN"])
def test_cli_output_validates_against_schema(text):
    jsonschema = pytest.importorskip("jsonschema")
    result = runner.invoke(app, ["parse", "--format", "jsonl", "-"], input=text + "\n")
    jsonschema.validate(json.loads(result.stdout), output_json_schema())
