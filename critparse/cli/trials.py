"""`critparse parse-trials`: every criterion of whole trials."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from critparse.cli.common import app, err


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
    from critparse.errors import InputFormatError
    from critparse.runs.batch import run

    if output_format not in ("jsonl", "parquet"):
        err.print(f"--format must be 'jsonl' or 'parquet', not {output_format!r}")
        raise typer.Exit(2)
    if output_format == "parquet" and output is None:
        err.print("--format parquet needs --output FILE")
        raise typer.Exit(2)
    shown = 0

    def report(error) -> None:  # type: ignore[no-untyped-def]
        nonlocal shown
        shown += 1
        if shown <= 20:
            err.print(error.describe(str(source)), highlight=False, markup=False, soft_wrap=True)
        elif shown == 21:
            err.print("... more bad records (see --errors)", highlight=False, markup=False)

    try:
        summary = run(source, output if output is not None else sys.stdout, fmt=output_format,  # type: ignore[arg-type]
                      workers=workers, batch_size=batch_size, errors=errors_file,
                      progress=progress and output is not None, on_error=report)
    except InputFormatError as exc:
        err.print(str(exc), highlight=False, markup=False)
        raise typer.Exit(1) from None
    err.print(summary.describe(), highlight=False, markup=False, soft_wrap=True)
    if strict and summary.errors:
        raise typer.Exit(1)
