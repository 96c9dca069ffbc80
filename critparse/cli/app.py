"""The `critparse` command: a thin Typer layer over library calls.

Exit codes: 0 success, 1 bad data or configuration, 2 usage error.
"""

from __future__ import annotations

import json
import sys
from collections import deque
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(
    name="critparse",
    help="Turn clinical-trial eligibility criteria into structured threshold rules.",
    no_args_is_help=True,
    add_completion=False,
)

# --- parse / evaluate / schema (core parser) -------------------------------------------------

_out = Console()
_err = Console(stderr=True)


@app.command("parse")
def parse_command(
    source: str = typer.Argument(..., help="A criterion text, a file (JSONL or one bullet per line), or '-' for stdin."),
    output_format: str = typer.Option("table", "--format", "-f", help="table or jsonl."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Processes (spaCy n_process)."),
) -> None:
    """Read threshold rules from criteria."""
    from critparse.runs.bullets import InputLine, read_bullets
    from critparse.nlp.pipeline import parse_many
    from critparse.model import Diagnostic

    if output_format not in ("table", "jsonl"):
        _err.print(f"--format must be 'table' or 'jsonl', not {output_format!r}")
        raise typer.Exit(2)
    is_file = source == "-" or (len(source) < 4096 and "\n" not in source and Path(source).is_file())
    lines = read_bullets(source) if is_file else iter([InputLine(1, None, source)])
    errors = 0

    def texts():
        for item in lines:
            held.append(item)
            yield item.text

    held: deque[InputLine] = deque()
    table = _rules_table() if output_format == "table" else None
    for result in parse_many(texts(), n_process=workers):
        item = held.popleft()
        if item.error:
            errors += 1
            _err.print(f"[red]{source}:{item.line}[/red]: {item.error}", markup=True, highlight=False)
            result = result.model_copy(update={"text": "", "no_threshold_reason": "input line is malformed",
                                               "diagnostics": (Diagnostic(level="error", code="bad_input", message=item.error),)})
        result = result.model_copy(update={"id": item.id})
        if table is None:
            sys.stdout.write(result.model_dump_json() + "\n")
        else:
            _add_rows(table, result)
    if table is not None:
        _out.print(table)
    if errors:
        raise typer.Exit(1)


def _rules_table() -> Table:
    table = Table(show_lines=False)
    for column in ("id", "criterion", "analyte", "cmp", "value", "unit", "note"):
        table.add_column(column, overflow="fold")
    return table


def _add_rows(table: Table, result) -> None:  # type: ignore[no-untyped-def]
    ident = "" if result.id is None else str(result.id)
    if not result.rules:
        table.add_row(ident, result.text, "", "", "", "", result.no_threshold_reason or "")
    for k, rule in enumerate(result.rules):
        table.add_row(ident if k == 0 else "", result.text if k == 0 else "", rule.analyte.name,
                      rule.comparator, f"{rule.value:g}", rule.unit or "", "")


@app.command("evaluate")
def evaluate_command(
    gold: Path = typer.Argument(..., exists=True, dir_okay=False, help="Gold JSONL file."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    show: int = typer.Option(20, "--show", help="How many misses to list."),
) -> None:
    """Precision, recall and F1 of the parser against a gold file, with the misses."""
    from critparse.errors import InputFormatError
    from critparse.scoring import evaluate_file

    try:
        report = evaluate_file(gold)
    except InputFormatError as exc:
        _err.print(str(exc), highlight=False)
        raise typer.Exit(1) from None
    if as_json:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
        return
    for miss in report.misses[:show]:
        _out.print(f"{miss.id} {miss.text}", highlight=False, markup=False)
        for m in miss.missing:
            _out.print(f"   missing  {m}", highlight=False, markup=False)
        for extra in miss.spurious:
            _out.print(f"   spurious {extra}", highlight=False, markup=False)
    table = Table(title=f"{gold} ({report.bullets} bullets, {len(report.misses)} with misses)")
    for column in ("level", "precision", "recall", "F1", "tp", "predicted", "gold"):
        table.add_column(column)
    for level, score in report.levels.items():
        table.add_row(level, f"{score.precision:.3f}", f"{score.recall:.3f}", f"{score.f1:.3f}",
                      str(score.true_positives), str(score.predicted), str(score.gold))
    _out.print(table)
    summary = "  ".join(f"{level}: F1={score.f1:.3f}" for level, score in report.levels.items())
    _out.print(summary, highlight=False)


@app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of one output record of `critparse parse --format jsonl`."""
    from critparse.model import output_json_schema

    sys.stdout.write(json.dumps(output_json_schema(), indent=2) + "\n")

# --- screen (patient screening) --------------------------------------------------------------


@app.command("screen")
def screen_command(
    rules_file: Path = typer.Argument(..., help="Trial rules: JSONL of ParseResult or Criterion."),
    patient_file: Path = typer.Argument(..., help="Patient JSON: a plain mapping or FHIR."),
    output_format: str = typer.Option("table", "--format", "-f", help="table or json."),
    as_of: str | None = typer.Option(None, "--as-of", help="Date for ages (YYYY-MM-DD)."),
    fhir_version: str = typer.Option("R5", "--fhir-version", help="R5 or R4B."),
    uln_file: Path | None = typer.Option(None, "--uln", help="A limits-of-normal table."),
) -> None:
    """Check a patient against a trial's rules: met / not met / unknown, with reasons."""
    import datetime as _dt

    from critparse.errors import CritparseError
    from critparse.screen.patient import load_patient
    from critparse.lexicon.resources import Resources
    from critparse.screen.evaluate import evaluate, read_trial_rules

    if output_format not in ("table", "json"):
        _err.print(f"--format must be 'table' or 'json', not {output_format!r}")
        raise typer.Exit(2)
    if fhir_version not in ("R5", "R4B"):
        _err.print(f"--fhir-version must be 'R5' or 'R4B', not {fhir_version!r}")
        raise typer.Exit(2)
    try:
        day = _dt.date.fromisoformat(as_of) if as_of else None
    except ValueError:
        _err.print(f"--as-of must be a date YYYY-MM-DD, not {as_of!r}")
        raise typer.Exit(2) from None
    try:
        items = read_trial_rules(rules_file)
        patient = load_patient(patient_file, as_of=day, version=fhir_version)  # type: ignore[arg-type]
        resources_ = Resources(normal_limits=uln_file) if uln_file is not None else None
        if resources_ is not None:
            resources_.normal_limits  # noqa: B018 - load now, so a bad table is reported here
    except CritparseError as exc:
        _err.print(str(exc), highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    result = evaluate(items, patient, resources=resources_)
    if output_format == "json":
        sys.stdout.write(result.model_dump_json(indent=2) + "\n")
        return
    style = {"met": "green", "not_met": "red", "unknown": "yellow"}
    table = Table(title=f"patient {result.patient_id or ''}: {result.verdict}".strip(), show_lines=True)
    for column in ("#", "section", "criterion", "result", "reason"):
        table.add_column(column, overflow="fold")
    for c in result.criteria:
        label = c.outcome.replace("_", " ") if c.checked else "not checked"
        table.add_row(
            c.id or str(c.index + 1),
            c.section + ("?" if c.section_assumed else ""),
            c.text,
            f"[{style[c.outcome]}]{label}[/]",
            c.reason,
        )
    _out.print(table)
    _out.print(f"[bold]{result.verdict}[/bold]: {result.reason}", highlight=False)


# --- parse-trials (whole trials, batch) ------------------------------------------------------


@app.command("parse-trials")
def parse_trials_command(
    source: Path = typer.Argument(..., help="Studies: JSONL, an API v2 page or study JSON, or a .txt eligibility block."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Output file (default: stdout, JSONL only)."),
    output_format: str = typer.Option("jsonl", "--format", "-f", help="jsonl or parquet."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Processes (spaCy n_process)."),
    batch_size: int = typer.Option(256, "--batch-size", min=1, help="Bullets per spaCy batch."),
    errors_file: Path | None = typer.Option(None, "--errors", help="Write bad records here (JSONL)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar on stderr."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 when any record was bad."),
) -> None:
    """Every criterion of whole trials, with section, path, offsets and rules."""
    from critparse.runs.batch import run
    from critparse.errors import InputFormatError

    if output_format not in ("jsonl", "parquet"):
        _err.print(f"--format must be 'jsonl' or 'parquet', not {output_format!r}")
        raise typer.Exit(2)
    if output_format == "parquet" and output is None:
        _err.print("--format parquet needs --output FILE")
        raise typer.Exit(2)
    shown = 0

    def report(error) -> None:  # type: ignore[no-untyped-def]
        nonlocal shown
        shown += 1
        if shown <= 20:
            _err.print(error.describe(str(source)), highlight=False, markup=False, soft_wrap=True)
        elif shown == 21:
            _err.print("... more bad records (see --errors)", highlight=False, markup=False)

    try:
        summary = run(source, output if output is not None else sys.stdout, fmt=output_format,  # type: ignore[arg-type]
                      workers=workers, batch_size=batch_size, errors=errors_file,
                      progress=progress and output is not None, on_error=report)
    except InputFormatError as exc:
        _err.print(str(exc), highlight=False, markup=False)
        raise typer.Exit(1) from None
    _err.print(summary.describe(), highlight=False, markup=False, soft_wrap=True)
    if strict and summary.errors:
        raise typer.Exit(1)


if __name__ == "__main__":  # pragma: no cover - `python -m critparse.cli.app`
    app()
