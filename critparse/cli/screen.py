"""`critparse screen`: patients checked against a trial's rules.

One patient file gives the full table (or the `ScreeningResult` JSON); a directory of patient
files or a JSONL of patients gives one line per patient, in input order.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from critparse.cli.common import EXIT_CODES, app, err, out, parse_date, plural, screening_resources

_STYLE = {"met": "green", "not_met": "red", "unknown": "yellow",
          "eligible": "green", "ineligible": "red"}
_SYMBOL = {"eligible": "✓", "ineligible": "✗", "unknown": "?"}


@app.command("screen", epilog=EXIT_CODES)
def screen_command(
    rules_file: Path = typer.Argument(..., metavar="RULES", help="Trial rules: JSONL of ParseResult or Criterion (what parse --format jsonl or parse-trials write)."),
    patients: Path = typer.Argument(..., metavar="PATIENTS", help="A patient JSON file (a plain mapping or FHIR), a directory of them (*.json), or a JSONL of patients (one per line)."),
    output_format: str = typer.Option("table", "--format", "-f", help="table, or json (one patient: the ScreeningResult; several: one JSON line per patient)."),
    as_of: str | None = typer.Option(None, "--as-of", help="Date for ages computed from a birth date (YYYY-MM-DD)."),
    fhir_version: str = typer.Option("auto", "--fhir-version", help="FHIR version of FHIR patients: auto (R5, else R4), R5, R4B or R4."),
    uln_file: Path | None = typer.Option(None, "--uln", help="A limits-of-normal table replacing the default one (see the README for its shape)."),
) -> None:
    """Check patients against a trial's rules: met / not met / unknown, with reasons."""
    from critparse.errors import CritparseError
    from critparse.screen.evaluate import read_trial_rules

    if output_format not in ("table", "json", "jsonl"):
        err.print(f"--format must be 'table' or 'json', not {output_format!r}", highlight=False)
        raise typer.Exit(2)
    if fhir_version not in ("auto", "R5", "R4B", "R4"):
        err.print(f"--fhir-version must be auto, R5, R4B or R4, not {fhir_version!r}", highlight=False)
        raise typer.Exit(2)
    day = parse_date(as_of)
    try:
        items = read_trial_rules(rules_file)
        resources = screening_resources(uln_file)
    except CritparseError as exc:
        err.print(str(exc), highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    options = {"as_of": day, "version": fhir_version, "resources": resources}
    if patients.is_dir() or patients.suffix.lower() in (".jsonl", ".ndjson"):
        bad = _screen_many(items, patients, output_format, options)
        if bad:
            raise typer.Exit(1)
        return
    _screen_one(items, patients, output_format, options, uln_file)


def _screen_one(items: list[Any], patient_file: Path, output_format: str,
                options: dict[str, Any], uln_file: Path | None) -> None:
    from critparse.errors import CritparseError
    from critparse.screen.evaluate import evaluate
    from critparse.screen.patient import load_patient

    try:
        patient = load_patient(patient_file, **options)
    except CritparseError as exc:
        err.print(str(exc), highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    result = evaluate(items, patient, resources=options["resources"])
    if output_format != "table":
        sys.stdout.write(result.model_dump_json(indent=2 if output_format == "json" else None) + "\n")
        return
    table = Table(title=f"patient {result.patient_id or ''}: {result.verdict}".strip(), show_lines=True)
    for column in ("#", "section", "criterion", "result", "reason"):
        table.add_column(column, overflow="fold")
    for c in result.criteria:
        label = c.outcome.replace("_", " ") if c.checked else "not checked"
        table.add_row(c.id or str(c.index + 1), c.section + ("?" if c.section_assumed else ""),
                      c.text, f"[{_STYLE[c.outcome]}]{label}[/]", c.reason)
    out.print(table)
    out.print(f"[bold]{result.verdict}[/bold]: {result.reason}", highlight=False)
    if uln_file is not None:
        out.print(f"limits of normal: {uln_file} (where a patient's own reference range is missing)",
                  highlight=False, markup=False)


def iter_patient_inputs(source: Path) -> Iterator[tuple[str, Any]]:
    """(where, raw patient) for every patient of a directory (*.json, by name) or a JSONL file;
    a line that is not JSON yields its error message instead of a patient."""
    if source.is_dir():
        for path in sorted(source.glob("*.json")):
            yield str(path), path
        return
    with source.open("r", encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield f"{source}:{number}", json.loads(line)
            except json.JSONDecodeError as exc:
                yield f"{source}:{number}", ValueError(f"not JSON: {exc.msg} (column {exc.colno})")


def _screen_many(items: list[Any], source: Path, output_format: str,
                 options: dict[str, Any]) -> int:
    """One line per patient; the number of patients that could not be read."""
    from critparse.errors import CritparseError
    from critparse.screen.evaluate import evaluate
    from critparse.screen.patient import load_patient

    table = None if output_format != "table" else _many_table()
    bad = counted = 0
    for where, raw in iter_patient_inputs(source):
        counted += 1
        try:
            if isinstance(raw, Exception):
                raise raw
            result = evaluate(items, load_patient(raw, **options), resources=options["resources"])
        except (CritparseError, ValueError, OSError) as exc:
            bad += 1
            err.print(f"{where}: {exc}", highlight=False, markup=False, soft_wrap=True)
            _many_line(table, where, None, str(exc))
            continue
        _many_line(table, where, result, "")
    if table is not None:
        out.print(table)
    err.print(f"{plural(counted, 'patient')} screened, {plural(bad, 'unreadable patient')}",
              highlight=False)
    return bad


def _many_table() -> Table:
    table = Table(show_lines=False)
    for column in ("patient", "verdict", "met", "not met", "unknown", "not checked", "reason"):
        table.add_column(column, overflow="fold")
    return table


def _many_line(table: Table | None, where: str, result: Any, error: str) -> None:
    if table is None:
        line = ({"source": where, "error": error} if result is None
                else {"source": where, **result.model_dump(mode="json")})
        sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
        return
    if result is None:
        table.add_row(where, "[red]error[/]", "", "", "", "", error)
        return
    verdict = f"[{_STYLE.get(result.verdict, 'yellow')}]{_SYMBOL[result.verdict]} {result.verdict}[/]"
    table.add_row(result.patient_id or where, verdict, str(result.met), str(result.not_met),
                  str(result.unknown), str(result.unchecked), result.reason)
