"""`critparse screen`: the limits-of-normal table named in reasons, and many patients at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from critparse.cli import app
from critparse.model import Analyte, ParseResult, Rule, Span

runner = CliRunner()


def _rules_file(tmp_path: Path) -> Path:
    def rule(name: str, comparator: str, value: float, unit: str | None, text: str) -> Rule:
        return Rule(analyte=Analyte(text=name, name=name, in_lexicon=True), comparator=comparator,  # type: ignore[arg-type]
                    value=value, unit=unit, unit_text=unit, span=Span(start=0, end=len(text)), text=text)

    results = [
        ParseResult(id="alt", text="ALT < 3 x ULN", rules=(rule("alt", "<", 3, "x ULN", "ALT < 3 x ULN"),)),
        ParseResult(id="age", text="Age >= 18 years", rules=(rule("age", ">=", 18, "a", "Age >= 18 years"),)),
    ]
    path = tmp_path / "rules.jsonl"
    path.write_text("".join(r.model_dump_json() + "\n" for r in results), "utf-8")
    return path


@pytest.fixture
def lab_table(tmp_path: Path) -> Path:
    path = tmp_path / "my_lab.json"
    path.write_text(json.dumps({"_about": "a lab", "limits": [
        {"analyte": "alt", "unit": "U/L", "uln": 40, "source": "My lab 2024"}]}), "utf-8")
    return path


def test_cli_screen_names_the_uln_table(tmp_path: Path, lab_table: Path) -> None:
    rules = _rules_file(tmp_path)
    patient = tmp_path / "p.json"
    patient.write_text(json.dumps({"id": "p1", "age": 40, "alt": "100 U/L"}), "utf-8")
    custom = runner.invoke(app, ["screen", str(rules), str(patient), "--uln", str(lab_table),
                                 "--format", "json"])
    assert custom.exit_code == 0, custom.output
    reason = json.loads(custom.stdout)["criteria"][0]["reason"]
    assert "my_lab.json" in reason and "default table" not in reason and "ULN 40 U/L" in reason
    default = runner.invoke(app, ["screen", str(rules), str(patient), "--format", "json"])
    assert "default table" in json.loads(default.stdout)["criteria"][0]["reason"]
    table = runner.invoke(app, ["screen", str(rules), str(patient), "--uln", str(lab_table)],
                          terminal_width=200)
    assert f"limits of normal: {lab_table}" in " ".join(table.stdout.split())


def test_cli_screen_bad_uln_table_is_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"limits": [{"analyte": "alt", "unit": "U/L", "source": "x"}]}), "utf-8")
    patient = tmp_path / "p.json"
    patient.write_text("{}", "utf-8")
    result = runner.invoke(app, ["screen", str(_rules_file(tmp_path)), str(patient), "--uln", str(bad)])
    assert result.exit_code == 1 and "give uln, lln or both" in result.stderr


PATIENTS = [{"id": "young", "age": 12, "alt": "20 U/L"},
            {"id": "ok", "age": 40, "alt": "20 U/L"},
            {"id": "high", "age": 40, "alt": "500 U/L"}]


@pytest.mark.parametrize("layout", ["directory", "jsonl"])
def test_cli_screen_many_patients_one_line_each(layout: str, tmp_path: Path) -> None:
    if layout == "directory":
        source = tmp_path / "patients"
        source.mkdir()
        for i, p in enumerate(PATIENTS):
            (source / f"{i}-{p['id']}.json").write_text(json.dumps(p), "utf-8")
    else:
        source = tmp_path / "patients.jsonl"
        source.write_text("".join(json.dumps(p) + "\n" for p in PATIENTS), "utf-8")
    result = runner.invoke(app, ["screen", str(_rules_file(tmp_path)), str(source), "--format", "json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["patient_id"], r["verdict"]) for r in lines] == [
        ("young", "ineligible"), ("ok", "eligible"), ("high", "ineligible")]
    assert "3 patients screened, 0 unreadable patients" in result.stderr
    table = runner.invoke(app, ["screen", str(_rules_file(tmp_path)), str(source)], terminal_width=200)
    assert table.exit_code == 0
    assert all(p["id"] in table.stdout for p in PATIENTS) and "✓ eligible" in table.stdout


def test_cli_screen_many_patients_bad_line_keeps_its_place(tmp_path: Path) -> None:
    source = tmp_path / "patients.jsonl"
    source.write_text(json.dumps(PATIENTS[1]) + "\n{not json\n" + json.dumps(PATIENTS[2]) + "\n", "utf-8")
    result = runner.invoke(app, ["screen", str(_rules_file(tmp_path)), str(source), "--format", "json"])
    assert result.exit_code == 1
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line.get("patient_id") for line in lines] == ["ok", None, "high"]
    assert lines[1]["source"] == f"{source}:2" and "not JSON" in lines[1]["error"]
    assert "3 patients screened, 1 unreadable patient" in result.stderr
