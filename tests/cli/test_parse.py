from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from critparse.cli import app
from critparse.model import output_json_schema

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "corpus"

runner = CliRunner()


def test_cli_parse_single_text_prints_a_table():
    result = runner.invoke(app, ["parse", "--text", "Creatinine < 2.5 mg/dl"])
    assert result.exit_code == 0, result.output
    assert "creatinine" in result.output and "mg/dL" in result.output


@pytest.mark.parametrize("args", [["Creatinine < 2.5 mg/dl"], ["crteria.jsonl"],
                                  ["Creatinine < 2.5 mg/dl and " * 20]])
def test_cli_parse_missing_file_is_an_error_not_text(args):
    result = runner.invoke(app, ["parse", *args])
    assert result.exit_code == 1
    assert "no such file" in result.stderr
    assert ("--text" in result.stderr) == (" " in args[0])


@pytest.mark.parametrize("args", [[], ["x.jsonl", "--text", "ECOG 0-1"]])
def test_cli_parse_needs_exactly_one_of_file_and_text(args):
    assert runner.invoke(app, ["parse", *args]).exit_code == 2


def test_cli_parse_long_text_is_text(tmp_path):
    text = "Creatinine < 2.5 mg/dl and " * 40  # once crashed with ENAMETOOLONG
    result = runner.invoke(app, ["parse", "--format", "jsonl", "--text", text])
    assert result.exit_code == 0
    assert json.loads(result.stdout)["text"] == text


def test_cli_parse_reads_gzip_and_refuses_binary(tmp_path):
    source = tmp_path / "criteria.jsonl.gz"
    source.write_bytes(gzip.compress(b'{"id": "a", "text": "ECOG 0-1"}\nKnown HIV\n'))
    result = runner.invoke(app, ["parse", "--format", "jsonl", str(source)])
    assert result.exit_code == 0, result.output
    assert [json.loads(x)["id"] for x in result.stdout.splitlines()] == ["a", 2]
    archive = tmp_path / "criteria.zip"
    archive.write_bytes(b"PK\x03\x04" + bytes(100))
    refused = runner.invoke(app, ["parse", str(archive)])
    assert refused.exit_code == 1 and "zip archive" in refused.stderr
    assert "Traceback" not in refused.output


def test_cli_parse_surrogates_and_bad_utf8_get_records(tmp_path):
    source = tmp_path / "odd.jsonl"
    source.write_bytes(b'{"id": 1, "text": "Hb > 9 g/dL \\ud800"}\n\xff\xfe Platelets > 100\n')
    result = runner.invoke(app, ["parse", "--format", "jsonl", str(source)])
    assert result.exit_code == 0, result.output
    first, second = (json.loads(x) for x in result.stdout.splitlines())
    assert first["rules"][0]["value"] == 9 and "\ufffd" in first["text"]
    assert "replaced_surrogates" in [d["code"] for d in first["diagnostics"]]
    assert "invalid_utf8" in [d["code"] for d in second["diagnostics"]]


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
    assert runner.invoke(app, ["parse", "--format", "xml", "--text", "x"]).exit_code == 2


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
