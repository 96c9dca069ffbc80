"""`critparse parse`: threshold rules of criteria, from a file, stdin or `--text`.

Text and files are told apart by the command line, never guessed: `critparse parse FILE` reads
a file (a missing one is an error), `critparse parse --text "..."` parses the text given.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from critparse.cli.common import EXIT_CODES, app, err, out, plural

if TYPE_CHECKING:
    from critparse.runs.bullets import InputLine


@app.command("parse", epilog=EXIT_CODES)
def parse_command(
    source: str | None = typer.Argument(None, metavar="[INPUT]", help="A file (JSONL of {\"id\", \"text\"} or one bullet per line, optionally .gz), or '-' for stdin."),
    text: str | None = typer.Option(None, "--text", "-t", help="Parse this criterion text instead of a file."),
    output_format: str = typer.Option("table", "--format", "-f", help="table or jsonl."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Worker processes, each with its own copy of the pipeline, parsing batches of bullets (1: parse in this process)."),
) -> None:
    """Read threshold rules from criteria."""
    from critparse.errors import CritparseError
    from critparse.runs.bullets import InputLine, read_bullets
    from critparse.runs.inputs import open_input

    if output_format not in ("table", "jsonl"):
        err.print(f"--format must be 'table' or 'jsonl', not {output_format!r}")
        raise typer.Exit(2)
    if (source is None) == (text is None):
        err.print("give a file (or '-' for stdin), or --text \"criterion\", not both"
                  if source is not None else "nothing to parse: give a file, '-' or --text \"...\"",
                  highlight=False, markup=False)
        raise typer.Exit(2)
    is_file = source is not None
    if source is not None and source != "-" and not _is_file(source):
        hint = "; to parse a criterion written here, use --text" if " " in source else ""
        err.print(f"{source}: no such file{hint}", highlight=False, markup=False)
        raise typer.Exit(1)
    lines = read_bullets(source) if source is not None else iter([InputLine(1, None, text or "")])
    try:
        if source is not None and source != "-":
            open_input(source).close()  # refuse binary before the pipeline loads
        counts = _parse_lines(lines, source or "--text", output_format, workers)
    except CritparseError as exc:  # not text, unreadable, a worker lost twice
        err.print(str(exc), highlight=False, markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    bullets, rules, errors, seconds = counts
    if is_file:  # a batch ends with what it did, on stderr so the output stays clean
        err.print(f"{plural(bullets, 'bullet')}, {plural(rules, 'rule')}, "
                  f"{plural(errors, 'bad line')} in {seconds:.1f} s", highlight=False)
    if errors:
        raise typer.Exit(1)


def _is_file(source: str) -> bool:
    try:
        return Path(source).is_file()
    except (OSError, ValueError):  # a name too long for the file system, a NUL character
        return False


def _parse_lines(lines: Iterator[InputLine], source: str, output_format: str,
                 workers: int) -> tuple[int, int, int, float]:
    """Parse and print every line; (bullets, rules, bad lines, seconds)."""
    from critparse.model import Diagnostic
    from critparse.nlp.pipeline import parse_many

    errors = bullets = rules = 0
    started = time.perf_counter()

    def texts() -> Iterator[str]:
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
        result = result.model_copy(update={"id": item.id, "diagnostics": (*item.diagnostics, *result.diagnostics)})
        bullets += 1
        rules += len(result.rules)
        if table is None:
            sys.stdout.write(result.model_dump_json() + "\n")
        else:
            _add_rows(table, result)
    if table is not None:
        out.print(table)
    return bullets, rules, errors, time.perf_counter() - started


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
