"""`critparse report`: the HTML review page of whole trials, optionally screened for a patient."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from critparse.cli.common import EXIT_CODES, app, err


@app.command("report", epilog=EXIT_CODES)
def report_command(
    source: str = typer.Argument(..., metavar="INPUT", help="Studies: a ClinicalTrials.gov API v2 study or page (JSON), a JSONL of studies, a .txt eligibility block, or '-' for stdin."),
    output: Path = typer.Option(..., "--output", "-o", help="The HTML file to write (one self-contained page)."),
    patient_file: Path | None = typer.Option(None, "--patient", "-p", help="Screen this patient (JSON: a plain mapping or FHIR) and colour every criterion met / not met / unknown."),
    as_of: str | None = typer.Option(None, "--as-of", help="Date for ages computed from a birth date (YYYY-MM-DD)."),
    fhir_version: str = typer.Option("R5", "--fhir-version", help="FHIR version of a FHIR patient: R5 or R4B."),
    uln_file: Path | None = typer.Option(None, "--uln", help="A limits-of-normal table replacing the default one (see the README for its shape)."),
    title: str | None = typer.Option(None, "--title", help="The page title (default: the trial id, or the number of trials)."),
) -> None:
    """Write a review page: each criterion as written, with what was read in it highlighted."""
    from critparse.cli.common import parse_date, screening_resources
    from critparse.errors import CritparseError
    from critparse.export.report import write_report
    from critparse.runs.batch import iter_trials
    from critparse.runs.registry import read_studies
    from critparse.screen.patient import load_patient

    if fhir_version not in ("R5", "R4B"):
        err.print(f"--fhir-version must be 'R5' or 'R4B', not {fhir_version!r}", highlight=False)
        raise typer.Exit(2)
    if source != "-" and Path(source).exists() and Path(source).resolve() == output.resolve():
        err.print("--output is the input file: refusing to overwrite it", highlight=False)
        raise typer.Exit(2)
    if not output.parent.is_dir():
        err.print(f"--output: no such directory {str(output.parent)!r}", highlight=False)
        raise typer.Exit(2)
    day = parse_date(as_of)
    try:
        resources = screening_resources(uln_file)
        patient = (load_patient(patient_file, as_of=day, version=fhir_version,  # type: ignore[arg-type]
                                resources=resources) if patient_file is not None else None)
        records = (read_studies(sys.stdin.buffer, name=None) if source == "-"
                   else read_studies(source))
        stats = write_report(iter_trials(records), output, patient=patient, resources=resources,
                             source="stdin" if source == "-" else source, title=title)
    except (CritparseError, OSError) as exc:
        err.print(str(exc), highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    err.print(f"{output}: {stats.describe()}", highlight=False, markup=False, soft_wrap=True)
    if stats.trials == 0:
        raise typer.Exit(1)
