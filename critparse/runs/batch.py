"""A whole run: read a registry file, write every criterion, count what happened.

`run` only wires the pieces together: `inputs` opens the source, `registry` reads its records,
`trials` (one process) or `workers` (several) parses them, `writers` writes the output and the
bad records, and a `Tally` counts. The output appears under its name only when the run
succeeded.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Literal

from critparse.export.rows import arrow_schema, criterion_row
from critparse.runs.inputs import check_outputs, open_input
from critparse.runs.registry import RecordError, StudyRecord, read_studies
from critparse.runs.trials import (
    Item,
    ParseMany,
    Summary,
    Tally,
    TrialItem,
    TrialResult,
    criterion_from,
    iter_trial_items,
    iter_trials,
)
from critparse.runs.workers import ChunkOutput, iter_chunk_outputs, iter_trials_parallel
from critparse.runs.writers import (
    ErrorLog,
    JsonlWriter,
    OutputFormat,
    ParquetWriter,
    Writer,
    open_writer,
)

Parallel = Literal["trials", "spacy"]
Progress = Callable[..., None]
"""`update(trials, final=False)`: tell the progress bar how far the run is."""
OnError = Callable[[RecordError], None]


def run(
    source: str | Path,
    output: str | Path | IO[str],
    *,
    fmt: OutputFormat = "jsonl",
    workers: int = 1,
    batch_size: int = 256,
    errors: str | Path | IO[str] | None = None,
    progress: bool = False,
    parse_many: ParseMany | None = None,
    on_error: OnError | None = None,
    parallel: Parallel = "trials",
) -> Summary:
    """Read `source`, write every criterion to `output`, return the counts.

    `workers` > 1 runs chunks of trials in worker processes (`parallel="trials"`, the fast
    default) or hands `n_process=workers` to spaCy (`parallel="spacy"`).

    Record errors go to `errors` (JSONL, one `RecordError` per line) and to `on_error`; they
    never stop the run. `output` and `errors` appear only when the run succeeds (written to a
    temporary file first). Raises `InputFormatError` when `source` cannot be opened, is not
    text, or is also an output; `WorkerLostError` when a worker process died twice on a chunk.
    """
    start = time.perf_counter()
    check_outputs(source, output, errors)
    tally = Tally()
    with open_input(source) as opened, _progress(progress, opened.raw, source) as update:
        writer = open_writer(output, fmt)
        done = False
        try:
            log = ErrorLog(errors)
        except BaseException:
            writer.close(commit=False)
            raise
        try:
            records = read_studies(opened.stream, name=opened.name)
            sink = _Sink(writer, log, on_error, tally, update)
            if workers > 1 and parallel == "trials" and parse_many is None:
                with tempfile.TemporaryDirectory(prefix="critparse-") as folder:
                    for chunk in iter_chunk_outputs(records, fmt=fmt, folder=folder,
                                                    workers=workers, batch_size=batch_size):
                        sink.add_chunk(chunk, fmt)
            else:
                for item in iter_trial_items(records, parse_many=parse_many, n_process=workers,
                                             batch_size=batch_size):
                    sink.add(item)
            update(tally.trials, True)
            done = True
        finally:
            writer.close(commit=done)
            log.close(commit=done)
    return Summary.of(tally, time.perf_counter() - start)


class _Sink:
    """Where a run's items go: criteria to the writer, bad records to the log, all counted."""

    def __init__(self, writer: Writer, log: ErrorLog, on_error: OnError | None, tally: Tally,
                 update: Progress) -> None:
        self.writer, self.log, self.on_error = writer, log, on_error
        self.tally, self.update = tally, update

    def add(self, item: Item) -> None:
        self.tally.add(item)
        if isinstance(item, TrialItem):
            self.writer.write(item.criterion)
        elif isinstance(item, RecordError):
            self.error(item.model_dump_json())
        else:
            self.update(self.tally.trials)

    def error(self, error_json: str) -> None:
        self.log.write(error_json)
        if self.on_error is not None:
            self.on_error(RecordError.model_validate_json(error_json))

    def add_chunk(self, chunk: ChunkOutput, fmt: OutputFormat) -> None:
        """A worker's chunk: its lines copied (JSONL) or read back as rows (Parquet)."""
        path = Path(chunk.path)
        try:
            with path.open(encoding="utf-8") as lines:
                if isinstance(self.writer, JsonlWriter):
                    shutil.copyfileobj(lines, _TextSink(self.writer), 1 << 20)
                else:
                    _copy_rows(lines, self.writer)
        finally:
            path.unlink(missing_ok=True)
        for error_json in chunk.errors:
            self.error(error_json)
        self.tally.merge(chunk.counts)
        self.update(self.tally.trials)


class _TextSink:
    """A file-like `write` onto a JSONL writer, for `shutil.copyfileobj`."""

    def __init__(self, writer: JsonlWriter) -> None:
        self.write = writer.write_text


def _copy_rows(lines: IO[str], writer: ParquetWriter, batch: int = 4096) -> None:
    rows: list[dict[str, Any]] = []
    for line in lines:
        rows.append(json.loads(line))
        if len(rows) >= batch:
            writer.write_rows(rows)
            rows = []
    writer.write_rows(rows)


@contextmanager
def _progress(enabled: bool, handle: IO[bytes], source: str | Path) -> Iterator[Progress]:
    """A rich progress bar on stderr (bytes read of the input), updated every 64 trials."""
    try:
        total = Path(source).stat().st_size if str(source) != "-" else None
    except OSError:
        total = None
    if not enabled or total is None:
        yield lambda trials, final=False: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as Bar

    bar = Bar(TextColumn("[bold]parse-trials"), BarColumn(), DownloadColumn(),
                   TextColumn("{task.fields[trials]} trials"), TimeElapsedColumn(),
                   TimeRemainingColumn(), console=Console(file=sys.stderr), transient=False)
    task = bar.add_task("parse", total=total, trials=0)

    def update(trials: int, final: bool = False) -> None:
        if final:
            bar.update(task, completed=total, trials=trials)
        elif trials % 64 == 0:
            bar.update(task, completed=_tell(handle, total), trials=trials)

    bar.start()
    try:
        yield update
    finally:
        bar.stop()


def _tell(handle: IO[bytes], total: int) -> int:
    try:
        return min(handle.tell(), total)
    except (OSError, ValueError):
        return 0


__all__ = [
    "JsonlWriter",
    "ParquetWriter",
    "StudyRecord",
    "Summary",
    "TrialResult",
    "arrow_schema",
    "criterion_from",
    "criterion_row",
    "iter_trials",
    "iter_trials_parallel",
    "run",
]
