"""`critparse parse-trials`: every criterion of whole trials.

JSONL and Parquet go through `critparse.runs.batch.run`; the human views (a table per trial on a
terminal, CSV with one row per rule) read the same stream of trials and print as they go.
"""

from __future__ import annotations

import csv
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import typer
from rich.table import Table

from critparse.cli.common import EXIT_CODES, app, err, out, plural

FORMATS = ("table", "jsonl", "csv", "parquet")
_SUFFIX_FORMATS = {".parquet": "parquet", ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}
CSV_COLUMNS = ("trial_id", "path", "section", "kind", "text", "analyte", "code", "comparator",
               "value", "unit", "unit_text", "rule_text", "concepts", "no_threshold_reason",
               "diagnostics")


@app.command("parse-trials", epilog=EXIT_CODES)
def parse_trials_command(
    source: str = typer.Argument(..., metavar="INPUT", help="Studies: JSONL, an API v2 page or study JSON, a .txt eligibility block, or '-' for stdin."),
    output: Path | None = typer.Option(None, "--output", "-o", help="Output file (default: stdout)."),
    output_format: str | None = typer.Option(None, "--format", "-f", help="table, jsonl, csv (one row per rule) or parquet. Default: from the --output suffix, else table on a terminal and jsonl otherwise."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Worker processes, each parsing whole chunks of trials (1: parse in this process)."),
    batch_size: int = typer.Option(256, "--batch-size", min=1, help="Bullets per spaCy batch."),
    errors_file: Path | None = typer.Option(None, "--errors", help="Write bad records here (JSONL)."),
    progress: bool = typer.Option(True, "--progress/--no-progress", help="Show a progress bar on stderr (with --output only)."),
    strict: bool = typer.Option(False, "--strict", help="Exit 1 when any record was bad."),
) -> None:
    """Every criterion of whole trials, with section, path, offsets and rules.

    Output files appear only when the run succeeds; an output that is the input is refused.
    """
    from critparse.errors import CritparseError

    fmt = _resolve_format(output_format, output)
    with _input_path(source) as path, terminate_as_exit():
        try:
            if fmt in ("jsonl", "parquet"):
                summary = _run(path, source, output, fmt, workers, batch_size, errors_file,
                               progress)
            else:
                summary = _run_rows(path, source, output, fmt, workers, batch_size, errors_file)
        except CritparseError as exc:  # unreadable input, an output that is the input, lost workers
            err.print(str(exc), highlight=False, markup=False, soft_wrap=True)
            raise typer.Exit(1) from None
    err.print(describe_summary(summary), highlight=False, markup=False, soft_wrap=True)
    if summary.errors and (strict or not summary.trials):
        raise typer.Exit(1)  # with no trial read at all, the input was not what was meant


@contextmanager
def terminate_as_exit() -> Iterator[None]:
    """SIGTERM ends the command like Ctrl-C does, through `finally` blocks, so a half-written
    output is removed instead of left behind under its final name."""
    import signal

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(128 + signum)

    try:
        previous = signal.signal(signal.SIGTERM, stop)
    except ValueError:  # not the main thread (an embedding application): leave signals alone
        yield
        return
    try:
        yield
    except SystemExit:
        from critparse.runs.writers import discard_pending

        discard_pending()  # a signal that landed while a temporary file was being opened
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)


def stdout_is_terminal() -> bool:
    return sys.stdout.isatty()


def _resolve_format(given: str | None, output: Path | None) -> str:
    """The format asked for, else the output's suffix, else table on a terminal, else JSONL."""
    if given is None:
        if output is not None:
            return _SUFFIX_FORMATS.get(output.suffix.lower(), "jsonl")
        return "table" if stdout_is_terminal() else "jsonl"
    if given not in FORMATS:
        err.print(f"--format must be one of {', '.join(FORMATS)}, not {given!r}", highlight=False)
        raise typer.Exit(2)
    if given == "parquet" and output is None:
        err.print("--format parquet needs --output FILE", highlight=False)
        raise typer.Exit(2)
    if given == "table" and output is not None:
        err.print("--format table is for the terminal; use csv or jsonl with --output", highlight=False)
        raise typer.Exit(2)
    return given


@contextmanager
def _input_path(source: str) -> Iterator[str]:
    """The input as a file: '-' (stdin) is spooled to a temporary file, read as the registry
    reader reads any file (format sniffed from the content)."""
    if source != "-":
        yield source
        return
    with tempfile.TemporaryDirectory(prefix="critparse-stdin-") as folder:
        path = Path(folder) / "stdin"
        with path.open("wb") as spool:
            shutil.copyfileobj(sys.stdin.buffer, spool)
        yield str(path)


def _error_reporter(source: str) -> Callable[[Any], None]:
    shown = 0

    def report(error: Any) -> None:
        nonlocal shown
        shown += 1
        if shown <= 20:
            err.print(error.describe(source), highlight=False, markup=False, soft_wrap=True)
        elif shown == 21:
            err.print("... more bad records (see --errors)", highlight=False, markup=False)

    return report


def _run(path: str, source: str, output: Path | None, fmt: str, workers: int, batch_size: int,
         errors_file: Path | None, progress: bool) -> Any:
    from critparse.runs.batch import run

    return run(path, output if output is not None else sys.stdout, fmt=fmt,  # type: ignore[arg-type]
               workers=workers, batch_size=batch_size, errors=errors_file,
               progress=progress and output is not None, on_error=_error_reporter(source))


def describe_summary(summary: Any) -> str:
    """The run's counts in words, singular where it is one."""
    rate = summary.trials / summary.seconds if summary.seconds else 0.0
    return (f"{plural(summary.trials, 'trial')}, {plural(summary.bullets, 'bullet')} "
            f"({plural(summary.criteria, 'record')}), {plural(summary.rules, 'rule')}, "
            f"{plural(summary.errors, 'error')}, {plural(summary.warnings, 'warning')} "
            f"in {summary.seconds:.1f} s ({rate:.1f} trials/s)")


# --- the human views: a table per trial, CSV rows ----------------------------------------------


def rule_rows(criterion: Any) -> Iterator[dict[str, Any]]:
    """One flat row per rule of a criterion; a criterion without a rule gives one row too."""
    base = {"trial_id": criterion.trial_id or "", "path": criterion.path,
            "section": criterion.section, "kind": criterion.kind, "text": criterion.text,
            "concepts": len(getattr(criterion, "concepts", ()) or ()),
            "no_threshold_reason": criterion.no_threshold_reason or "",
            "diagnostics": ";".join(d.code for d in criterion.diagnostics)}
    empty = dict.fromkeys(("analyte", "code", "comparator", "value", "unit", "unit_text",
                           "rule_text"), "")
    if not criterion.rules:
        yield {**base, **empty}
    for rule in criterion.rules:
        yield {**base, "analyte": rule.analyte.name, "code": rule.analyte.code or "",
               "comparator": rule.comparator, "value": f"{rule.value:g}", "unit": rule.unit or "",
               "unit_text": rule.unit_text or "", "rule_text": rule.text}


def _trial_table(trial: Any) -> Table:
    table = Table(title=f"{trial.trial_id or 'trial'}: {plural(len(trial.criteria), 'criterion', 'criteria')}",
                  title_justify="left")
    for column in ("path", "criterion", "analyte", "cmp", "value", "unit", "note"):
        table.add_column(column, overflow="fold")
    for criterion in trial.criteria:
        if criterion.kind == "header":
            table.add_section()
            continue
        for k, row in enumerate(rule_rows(criterion)):
            table.add_row(row["path"] if k == 0 else "", row["text"] if k == 0 else "",
                          row["analyte"], row["comparator"], row["value"], row["unit"],
                          row["no_threshold_reason"] if not row["analyte"] else "")
    return table


def _run_rows(path: str, source: str, output: Path | None, fmt: str, workers: int,
              batch_size: int, errors_file: Path | None) -> Any:
    """Table or CSV: every trial as soon as it is parsed; the counts of a run."""
    from critparse.runs.batch import Summary, iter_trials_parallel
    from critparse.runs.inputs import check_outputs
    from critparse.runs.registry import RecordError, read_studies

    started, counts = time.perf_counter(), dict.fromkeys(("trials", "criteria", "bullets", "rules", "errors", "warnings"), 0)
    report = _error_reporter(source)
    check_outputs(path, output, errors_file)
    with _text_target(output) as target, _text_target(errors_file, required=False) as bad:
        assert target is not None
        writer = csv.DictWriter(target, fieldnames=CSV_COLUMNS) if fmt == "csv" else None
        if writer is not None:
            writer.writeheader()
        for item in iter_trials_parallel(read_studies(path), workers=workers, batch_size=batch_size):
            if isinstance(item, RecordError):
                counts["errors"] += 1
                report(item)
                if bad is not None:
                    bad.write(item.model_dump_json() + "\n")
                continue
            _count(counts, item)
            if writer is None:
                out.print(_trial_table(item))
            else:
                writer.writerows(row for c in item.criteria for row in rule_rows(c))
    return Summary(seconds=time.perf_counter() - started, **counts)


def _count(counts: dict[str, int], trial: Any) -> None:
    counts["trials"] += 1
    counts["criteria"] += len(trial.criteria)
    counts["bullets"] += sum(c.kind == "criterion" for c in trial.criteria)
    counts["rules"] += sum(len(c.rules) for c in trial.criteria)
    counts["warnings"] += sum(d.level == "warning" for d in trial.diagnostics)


@contextmanager
def _text_target(path: Path | None, *, required: bool = True) -> Iterator[IO[str] | None]:
    """A text file to write (stdout when `path` is None and one is required), renamed into
    place only when the block succeeds."""
    from critparse.runs.writers import AtomicFile

    if path is None:
        yield sys.stdout if required else None
        return
    target = AtomicFile(path)
    try:
        with target.path.open("w", encoding="utf-8", newline="") as handle:
            yield handle
    except BaseException:
        target.discard()
        raise
    target.commit()
