"""`critparse report`: the review page from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from critparse.cli import app

TRIALS = Path(__file__).resolve().parents[1] / "trials"
SEED = TRIALS / "NCT02186860.json"
PATIENT = {"id": "P-001", "age": 42, "creatinine": "150 umol/L",
           "AST": {"value": 100, "unit": "U/L", "uln": 30}, "alt": "50 U/L"}

runner = CliRunner()


@pytest.mark.parametrize("source", [SEED, TRIALS / "paragraphs.txt"])
def test_cli_report_writes_one_page(source: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", str(source), "-o", str(out)])
    assert result.exit_code == 0, result.output
    html = out.read_text("utf-8")
    assert html.startswith("<!doctype html>") and 'class="crit' in html
    assert "1 trial, " in result.stderr and "KiB" in result.stderr


def test_cli_report_with_a_patient(tmp_path: Path) -> None:
    patient = tmp_path / "patient.json"
    patient.write_text(json.dumps(PATIENT), "utf-8")
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", str(SEED), "-o", str(out), "--patient", str(patient)])
    assert result.exit_code == 0, result.output
    html = out.read_text("utf-8")
    assert 'class="verdict s-fail"' in html and "P-001" in html


def test_cli_report_reads_stdin(tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = runner.invoke(app, ["report", "-", "-o", str(out)], input=SEED.read_bytes())
    assert result.exit_code == 0, result.output
    assert 'data-trial-id="NCT02186860"' in out.read_text("utf-8")


@pytest.mark.parametrize(("args", "code"), [
    (["--patient", "{missing}"], 1),
    (["--as-of", "yesterday"], 2),
    (["--fhir-version", "R3"], 2),
])
def test_cli_report_bad_options(args: list[str], code: int, tmp_path: Path) -> None:
    args = [a.replace("{missing}", str(tmp_path / "nope.json")) for a in args]
    result = runner.invoke(app, ["report", str(SEED), "-o", str(tmp_path / "r.html"), *args])
    assert result.exit_code == code, result.output
    assert not (tmp_path / "r.html").exists()


def test_cli_report_refuses_to_overwrite_its_input(tmp_path: Path) -> None:
    source = tmp_path / "study.json"
    source.write_bytes(SEED.read_bytes())
    result = runner.invoke(app, ["report", str(source), "-o", str(source)])
    assert result.exit_code == 2
    assert source.read_bytes() == SEED.read_bytes()


def test_cli_report_unreadable_input_is_exit_1(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", str(tmp_path / "missing.jsonl"), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 1
    assert "cannot open" in result.stderr
