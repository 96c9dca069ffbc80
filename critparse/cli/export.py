"""`critparse export`: one FHIR R5 EvidenceVariable per trial.

The input is what `parse-trials` reads (studies: JSONL, an API v2 page or study JSON, a text
block) or what it writes (`--format jsonl`: one Criterion per line, grouped by `trial_id`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from itertools import groupby
from pathlib import Path
from typing import Any

import typer

from critparse.cli.common import EXIT_CODES, app, err, plural


def _first_object(path: Path) -> dict[str, Any] | None:
    with path.open("rb") as handle:
        for raw in handle:
            if raw.strip():
                try:
                    first = json.loads(raw)
                except ValueError:
                    return None
                return first if isinstance(first, dict) else None
    return None


def _criteria_groups(path: Path) -> Iterator[tuple[str | None, list[Any]]]:
    """Criterion lines grouped by trial, in input order."""
    from critparse.model import Criterion

    def criteria() -> Iterator[Criterion]:
        with path.open(encoding="utf-8") as handle:
            for raw in handle:
                if raw.strip():
                    yield Criterion.model_validate_json(raw)

    for trial_id, group in groupby(criteria(), key=lambda c: c.trial_id):
        yield trial_id, list(group)


def _study_groups(path: Path) -> Iterator[tuple[str | None, list[Any]]]:
    from critparse.runs.registry import read_studies
    from critparse.runs.trials import TrialResult, iter_trials

    for result in iter_trials(read_studies(str(path))):
        if isinstance(result, TrialResult):
            yield result.trial_id, list(result.criteria)
        else:
            err.print(result.describe(str(path)), highlight=False, markup=False, soft_wrap=True)


def evidence_variables(path: Path) -> Iterator[dict[str, Any]]:
    """One EvidenceVariable per trial of `path` (criteria JSONL or studies)."""
    from critparse.export.fhir import evidence_variable
    from critparse.extract.logic import link_children

    first = _first_object(path)
    groups = _criteria_groups(path) if first is not None and "path" in first and "section" in first \
        else _study_groups(path)
    for trial_id, criteria in groups:
        yield evidence_variable(link_children(criteria), trial_id=trial_id)


@app.command("export", epilog=EXIT_CODES)
def export_command(
    source: Path = typer.Argument(..., exists=True, dir_okay=False, metavar="INPUT", help="Studies (as parse-trials reads them) or the criteria JSONL parse-trials writes."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Output file (default: stdout)."),
    bundle: bool = typer.Option(False, "--bundle", help="One FHIR Bundle (collection) instead of one EvidenceVariable per line."),
) -> None:
    """Each trial's criteria as a FHIR R5 EvidenceVariable (JSON, one per line)."""
    from pydantic import ValidationError

    from critparse.errors import InputFormatError
    from critparse.export.fhir import evidence_bundle

    try:
        resources = list(evidence_variables(source))
    except (InputFormatError, ValidationError, UnicodeDecodeError) as exc:
        err.print(f"{source}: {exc}", highlight=False, markup=False)
        raise typer.Exit(1) from None
    lines = [json.dumps(evidence_bundle(resources), ensure_ascii=False)] if bundle else [
        json.dumps(r, ensure_ascii=False) for r in resources
    ]
    text = "".join(line + "\n" for line in lines)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
    err.print(f"{plural(len(resources), 'EvidenceVariable')} written", highlight=False)
