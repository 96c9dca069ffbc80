"""`critparse parse-trials` as people use it: stdin, a table on a terminal, CSV, counts in words;
and the summary line after a batch `critparse parse`."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from critparse.cli import app
from critparse.cli import trials as trials_cli

SEED = Path(__file__).resolve().parents[1] / "trials" / "NCT02186860.json"
runner = CliRunner()


@pytest.fixture(scope="module")
def seed_jsonl() -> list[dict]:
    result = runner.invoke(app, ["parse-trials", str(SEED), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_cli_parse_trials_reads_stdin(seed_jsonl: list[dict]) -> None:
    result = runner.invoke(app, ["parse-trials", "-"], input=SEED.read_bytes())
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in result.stdout.splitlines()] == seed_jsonl


def test_cli_parse_trials_jsonl_when_not_a_terminal(seed_jsonl: list[dict]) -> None:
    result = runner.invoke(app, ["parse-trials", str(SEED)])
    assert [json.loads(line) for line in result.stdout.splitlines()] == seed_jsonl


def test_cli_parse_trials_table_on_a_terminal(monkeypatch: pytest.MonkeyPatch, seed_jsonl: list[dict]) -> None:
    monkeypatch.setattr(trials_cli, "stdout_is_terminal", lambda: True)
    result = runner.invoke(app, ["parse-trials", str(SEED)], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert f"NCT02186860: {len(seed_jsonl)} criteria" in result.stdout
    assert "creatinine" in result.stdout and "inclusion/6" in result.stdout
    assert not result.stdout.lstrip().startswith("{")


@pytest.mark.parametrize("to_file", [False, True])
def test_cli_parse_trials_csv_one_row_per_rule(to_file: bool, tmp_path: Path, seed_jsonl: list[dict]) -> None:
    target = tmp_path / "rules.csv"
    args = ["-o", str(target)] if to_file else ["--format", "csv"]
    result = runner.invoke(app, ["parse-trials", str(SEED), *args])
    assert result.exit_code == 0, result.output
    text = target.read_text("utf-8") if to_file else result.stdout
    rows = list(csv.DictReader(io.StringIO(text)))
    assert tuple(rows[0]) == trials_cli.CSV_COLUMNS
    assert len(rows) == sum(max(1, len(c["rules"])) for c in seed_jsonl)
    creatinine = next(r for r in rows if r["path"] == "inclusion/6")
    assert (creatinine["analyte"], creatinine["comparator"], creatinine["value"], creatinine["unit"]) == (
        "creatinine", "<", "2.5", "mg/dL")


@pytest.mark.parametrize("args", [["--format", "xml"], ["--format", "table", "-o", "x.txt"],
                                  ["--format", "parquet"]])
def test_cli_parse_trials_bad_format_is_a_usage_error(args: list[str]) -> None:
    assert runner.invoke(app, ["parse-trials", str(SEED), *args]).exit_code == 2


def test_cli_parse_trials_summary_in_words() -> None:
    result = runner.invoke(app, ["parse-trials", str(SEED), "--format", "csv"])
    assert result.stderr.startswith("1 trial, ") and " 0 errors, 0 warnings in " in result.stderr


def test_cli_parse_trials_bad_record_strict(tmp_path: Path) -> None:
    source = tmp_path / "studies.jsonl"
    source.write_text(json.dumps(json.loads(SEED.read_text("utf-8"))) + "\n{broken\n", "utf-8")
    errors = tmp_path / "bad.jsonl"
    result = runner.invoke(app, ["parse-trials", str(source), "--format", "csv", "--strict",
                                 "--errors", str(errors)])
    assert result.exit_code == 1
    assert "1 trial, " in result.stderr and "1 error," in result.stderr
    assert json.loads(errors.read_text("utf-8"))["code"] == "invalid_json"


@pytest.mark.parametrize(("lines", "summary", "code"), [
    ("ECOG 0-1\nCreatinine < 2.5 mg/dl\n", "2 bullets, ", 0),
    ('Creatinine < 2.5 mg/dl\n{"id": 1}\n', "2 bullets, ", 1),
])
def test_cli_parse_batch_ends_with_a_summary(lines: str, summary: str, code: int) -> None:
    result = runner.invoke(app, ["parse", "--format", "jsonl", "-"], input=lines)
    assert result.exit_code == code
    assert result.stderr.splitlines()[-1].startswith(summary)
    assert ("1 bad line in" if code else "0 bad lines in") in result.stderr
    assert len(result.stdout.splitlines()) == 2


def test_cli_parse_single_text_has_no_summary() -> None:
    result = runner.invoke(app, ["parse", "--text", "Creatinine < 2.5 mg/dl"])
    assert result.exit_code == 0 and result.stderr == ""
