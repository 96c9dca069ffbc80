"""`critparse evaluate`: the parser scored against a gold file."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.table import Table

from critparse.cli.common import EXIT_CODES, app, err, out, plural


@app.command("evaluate", epilog=EXIT_CODES)
def evaluate_command(
    gold: Path = typer.Argument(..., exists=True, dir_okay=False, metavar="GOLD", help="Gold JSONL file (corpus/*.jsonl); whole blocks (corpus/blocks.jsonl) score the segmenter."),
    as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    show: int = typer.Option(20, "--show", min=0, help="How many bullets (or blocks) with misses to list."),
) -> None:
    """Precision, recall and F1 of the parser against a gold file, with the misses."""
    from critparse.errors import InputFormatError
    from critparse.scoring import BlockReport, evaluate_file

    try:
        report = evaluate_file(gold)
    except InputFormatError as exc:
        err.print(str(exc), highlight=False)
        raise typer.Exit(1) from None
    if as_json:
        sys.stdout.write(report.model_dump_json(indent=2) + "\n")
        return
    for miss in report.misses[:show]:
        out.print(f"{miss.id} {miss.text}", highlight=False, markup=False)
        for m in miss.missing:
            out.print(f"   missing  {m}", highlight=False, markup=False)
        for extra in miss.spurious:
            out.print(f"   spurious {extra}", highlight=False, markup=False)
    noun = "block" if isinstance(report, BlockReport) else "bullet"
    table = Table(title=f"{gold} ({plural(report.bullets, noun)}, {len(report.misses)} with misses)")
    for column in ("level", "precision", "recall", "F1", "tp", "predicted", "gold"):
        table.add_column(column)
    for level, score in report.levels.items():
        table.add_row(level, f"{score.precision:.3f}", f"{score.recall:.3f}", f"{score.f1:.3f}",
                      str(score.true_positives), str(score.predicted), str(score.gold))
    out.print(table)
    summary = "  ".join(f"{level}: F1={score.f1:.3f}" for level, score in report.levels.items())
    out.print(summary, highlight=False)
