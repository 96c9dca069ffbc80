"""`critparse parse`: threshold rules of criteria, from text, a file or stdin."""

from __future__ import annotations

import sys
import time
from collections import deque
from pathlib import Path

import typer
from rich.table import Table

from critparse.cli.common import EXIT_CODES, app, err, out, plural


@app.command("parse", epilog=EXIT_CODES)
def parse_command(
    source: str = typer.Argument(..., metavar="INPUT", help="A criterion text, a file (JSONL or one bullet per line), or '-' for stdin."),
    output_format: str = typer.Option("table", "--format", "-f", help="table or jsonl."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Worker processes, each with its own copy of the pipeline, parsing batches of bullets (1: parse in this process)."),
) -> None:
    """Read threshold rules from criteria."""
    from critparse.model import Diagnostic
    from critparse.nlp.pipeline import parse_many
    from critparse.runs.bullets import InputLine, read_bullets

    if output_format not in ("table", "jsonl"):
        err.print(f"--format must be 'table' or 'jsonl', not {output_format!r}")
        raise typer.Exit(2)
    is_file = source == "-" or (len(source) < 4096 and "\n" not in source and Path(source).is_file())
    lines = read_bullets(source) if is_file else iter([InputLine(1, None, source)])
    errors = bullets = rules = 0
    started = time.perf_counter()

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
            err.print(f"[red]{source}:{item.line}[/red]: {item.error}", markup=True, highlight=False)
            result = result.model_copy(update={"text": "", "no_threshold_reason": "input line is malformed",
                                               "diagnostics": (Diagnostic(level="error", code="bad_input", message=item.error),)})
        result = result.model_copy(update={"id": item.id})
        bullets += 1
        rules += len(result.rules)
        if table is None:
            sys.stdout.write(result.model_dump_json() + "\n")
        else:
            _add_rows(table, result)
    if table is not None:
        out.print(table)
    if is_file:  # a batch ends with what it did, on stderr so the output stays clean
        err.print(f"{plural(bullets, 'bullet')}, {plural(rules, 'rule')}, "
                  f"{plural(errors, 'bad line')} in {time.perf_counter() - started:.1f} s",
                  highlight=False)
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
