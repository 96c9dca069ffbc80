"""`critparse screen`: a patient checked against a trial's rules."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.table import Table

from critparse.cli.common import app, err, out


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
    from critparse.lexicon.resources import Resources
    from critparse.screen.evaluate import evaluate, read_trial_rules
    from critparse.screen.patient import load_patient

    if output_format not in ("table", "json"):
        err.print(f"--format must be 'table' or 'json', not {output_format!r}")
        raise typer.Exit(2)
    if fhir_version not in ("R5", "R4B"):
        err.print(f"--fhir-version must be 'R5' or 'R4B', not {fhir_version!r}")
        raise typer.Exit(2)
    try:
        day = _dt.date.fromisoformat(as_of) if as_of else None
    except ValueError:
        err.print(f"--as-of must be a date YYYY-MM-DD, not {as_of!r}")
        raise typer.Exit(2) from None
    try:
        items = read_trial_rules(rules_file)
        patient = load_patient(patient_file, as_of=day, version=fhir_version)  # type: ignore[arg-type]
        resources_ = Resources(normal_limits=uln_file) if uln_file is not None else None
        if resources_ is not None:
            resources_.normal_limits  # noqa: B018 - load now, so a bad table is reported here
    except CritparseError as exc:
        err.print(str(exc), highlight=False, markup=False, soft_wrap=True)
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
    out.print(table)
    out.print(f"[bold]{result.verdict}[/bold]: {result.reason}", highlight=False)
