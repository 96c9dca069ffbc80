"""Whole trials in, every criterion out: a streaming run over registry records.

`iter_trials` splits each record's eligibility text, sends every bullet and paragraph through
one long `parse_many` stream (so spaCy's `n_process` workers start once, not once per trial),
and puts the results back on their trials in order. Memory stays flat: only the trials whose
bullets are inside the parser's read-ahead are held. A bad record becomes a `RecordError` in
the output stream and the run goes on.
"""

from __future__ import annotations

import itertools
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import BaseModel, ConfigDict

from critparse.errors import InputFormatError
from critparse.runs.registry import RecordError, StudyRecord, read_studies, structured_criteria
from critparse.model.contract import Criterion, Diagnostic, ParseResult
from critparse.text.segment import Segment, split_eligibility

_FROZEN = ConfigDict(frozen=True, extra="forbid")

ParseMany = Callable[..., Iterator[ParseResult]]
OutputFormat = Literal["jsonl", "parquet"]


class TrialResult(BaseModel):
    """Every criterion of one trial: structured fields first, then the text in reading order."""

    model_config = _FROZEN

    position: int
    line: int | None = None
    trial_id: str | None = None
    criteria: tuple[Criterion, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()  # about the record (encoding, empty text)


class Summary(BaseModel):
    """What a run did; printed at its end."""

    model_config = _FROZEN

    trials: int = 0
    criteria: int = 0
    bullets: int = 0
    rules: int = 0
    errors: int = 0
    warnings: int = 0
    seconds: float = 0.0

    def describe(self) -> str:
        rate = self.trials / self.seconds if self.seconds else 0.0
        return (f"{self.trials} trials, {self.bullets} bullets ({self.criteria} records), "
                f"{self.rules} rules, {self.errors} errors, {self.warnings} warnings "
                f"in {self.seconds:.1f} s ({rate:.1f} trials/s)")


class _Job:
    """A trial waiting for the parse results of its bullets."""

    __slots__ = ("error", "filled", "record", "results", "segments", "slots")

    def __init__(self, record: StudyRecord | None = None, segments: list[Segment] | None = None,
                 error: RecordError | None = None) -> None:
        self.record = record
        self.segments = segments or []
        self.error = error
        self.slots = [i for i, seg in enumerate(self.segments) if seg.needs_parse]
        self.results: list[ParseResult | None] = [None] * len(self.segments)
        self.filled = 0

    @property
    def done(self) -> bool:
        return self.filled >= len(self.slots)

    def add(self, result: ParseResult) -> None:
        self.results[self.slots[self.filled]] = result
        self.filled += 1


def criterion_from(segment: Segment, result: ParseResult | None, *, trial_id: str | None,
                   diagnostics: tuple[Diagnostic, ...] = ()) -> Criterion:
    """One output record: the segment's place plus what the parser read from its text."""
    if result is None:
        reason = "header" if segment.kind == "header" else "not parsed"
        return Criterion(trial_id=trial_id, kind=segment.kind, section=segment.section,
                         path=segment.path, span=segment.span, text=segment.text,
                         parent_text=segment.parent_text, no_threshold_reason=reason,
                         diagnostics=diagnostics)
    return Criterion(
        trial_id=trial_id,
        kind=segment.kind,
        section=segment.section,
        path=segment.path,
        span=segment.span,
        text=segment.text,
        parent_text=segment.parent_text,
        rules=result.rules,
        no_threshold_reason=result.no_threshold_reason,
        diagnostics=diagnostics + result.diagnostics,
    )


def _finish(job: _Job) -> TrialResult | RecordError:
    if job.error is not None:
        return job.error
    record = job.record
    assert record is not None
    criteria = structured_criteria(record)
    for segment, result in zip(job.segments, job.results, strict=True):
        criteria.append(criterion_from(segment, result, trial_id=record.trial_id,
                                       diagnostics=record.diagnostics))
    if not job.segments and not criteria and record.diagnostics:
        # An empty trial still leaves a trace, so "count in = count out" holds for trials.
        criteria.append(Criterion(trial_id=record.trial_id, kind="paragraph", section="unknown",
                                  path="unknown", text="", no_threshold_reason="empty criteria",
                                  diagnostics=record.diagnostics))
    return TrialResult(position=record.position, line=record.line, trial_id=record.trial_id,
                       criteria=tuple(criteria), diagnostics=record.diagnostics)


def iter_trials(
    records: Iterable[StudyRecord | RecordError],
    *,
    parse_many: ParseMany | None = None,
    n_process: int = 1,
    batch_size: int = 256,
) -> Iterator[TrialResult | RecordError]:
    """One `TrialResult` (or the `RecordError`) per input record, in input order, streaming."""
    if parse_many is None:
        from critparse.nlp.pipeline import parse_many as default_parse_many

        parse_many = default_parse_many
    jobs: deque[_Job] = deque()

    def work() -> Iterator[tuple[str, str | None]]:
        for record in records:
            if isinstance(record, RecordError):
                jobs.append(_Job(error=record))
                continue
            try:
                segments = split_eligibility(record.eligibility_text)
            except Exception as exc:  # a splitter bug must not end a registry-wide run
                jobs.append(_Job(error=RecordError(
                    position=record.position, line=record.line, trial_id=record.trial_id,
                    code="parse_failed", message=f"splitting failed: {exc!r}")))
                continue
            job = _Job(record, segments)
            jobs.append(job)
            for i in job.slots:
                yield segments[i].text, segments[i].parent_text

    texts, contexts = itertools.tee(work())
    results = parse_many((t for t, _ in texts), contexts=(c for _, c in contexts),
                         n_process=n_process, batch_size=batch_size)
    for result in results:
        while jobs and jobs[0].done:
            yield _finish(jobs.popleft())
        jobs[0].add(result)
    while jobs:
        job = jobs.popleft()
        if not job.done:  # the parser returned fewer results than it was given
            job.error = RecordError(
                position=job.record.position if job.record else 0,
                trial_id=job.record.trial_id if job.record else None,
                code="parse_failed", message="the parser returned no result for some bullets")
        yield _finish(job)


# --- parallel runs ---------------------------------------------------------------------------

Parallel = Literal["trials", "spacy"]


def _chunks(records: Iterable[StudyRecord | RecordError],
            size: int) -> Iterator[list[StudyRecord | RecordError]]:
    chunk: list[StudyRecord | RecordError] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _work_chunk(chunk: list[StudyRecord | RecordError],
                batch_size: int) -> list[TrialResult | RecordError]:
    return list(iter_trials(chunk, batch_size=batch_size))


Encoded = tuple[Any, ...]
"""A trial already written out by a worker: ("error", RecordError JSON) or ("trial", trials=1,
criteria, bullets, rules, warnings, payload) where payload is JSONL text or Parquet rows."""


def encode_result(item: TrialResult | RecordError, fmt: OutputFormat) -> Encoded:
    """Serialise one result where it was made, so the writing process only copies bytes."""
    if isinstance(item, RecordError):
        return ("error", item.model_dump_json())
    criteria = item.criteria
    payload: Any = ("".join(c.model_dump_json() + "\n" for c in criteria) if fmt == "jsonl"
                    else [criterion_row(c) for c in criteria])
    return ("trial", len(criteria), sum(c.kind == "criterion" for c in criteria),
            sum(len(c.rules) for c in criteria),
            sum(d.level == "warning" for d in item.diagnostics), payload)


def _work_chunk_encoded(chunk: list[StudyRecord | RecordError], batch_size: int,
                        fmt: OutputFormat) -> list[Encoded]:
    return [encode_result(item, fmt) for item in iter_trials(chunk, batch_size=batch_size)]


def _pool_map_ordered(func: Callable[..., Any], chunks: Iterator[Any], args: tuple[Any, ...],
                      workers: int) -> Iterator[Any]:
    """`func(chunk, *args)` over worker processes, in order, with a bounded queue."""
    import multiprocessing as mp

    from critparse.nlp.pipeline import _default_nlp

    methods = mp.get_all_start_methods()
    ctx = mp.get_context("fork" if "fork" in methods else "spawn")
    if ctx.get_start_method() == "fork":
        _default_nlp()  # loaded once here, shared copy-on-write by the forked workers
    in_flight: deque[Any] = deque()
    with ctx.Pool(workers) as pool:
        for chunk in chunks:
            in_flight.append(pool.apply_async(func, (chunk, *args)))
            while len(in_flight) >= 4 * workers:
                yield from in_flight.popleft().get()
        while in_flight:
            yield from in_flight.popleft().get()


def iter_encoded_parallel(records: Iterable[StudyRecord | RecordError], *, fmt: OutputFormat,
                          workers: int = 2, chunk_size: int = 64,
                          batch_size: int = 256) -> Iterator[Encoded]:
    """Like `iter_trials_parallel`, but each result comes back already serialised."""
    yield from _pool_map_ordered(_work_chunk_encoded, _chunks(records, chunk_size),
                                 (batch_size, fmt), workers)


def iter_trials_parallel(
    records: Iterable[StudyRecord | RecordError],
    *,
    workers: int = 2,
    chunk_size: int = 64,
    batch_size: int = 256,
) -> Iterator[TrialResult | RecordError]:
    """`iter_trials` over `workers` processes, chunks of trials each, results in input order.

    spaCy's own `n_process` ships every Doc (with its results in `user_data`) between
    processes; for short bullets that costs more than parsing them (measured 221 bullets/s with
    n_process=2 against 2,780 with one process). Whole chunks of trials cross the process
    boundary once instead. At most `4 * workers` chunks are in flight, so memory stays flat.
    """
    if workers <= 1:
        yield from iter_trials(records, batch_size=batch_size)
        return
    yield from _pool_map_ordered(_work_chunk, _chunks(records, chunk_size), (batch_size,),
                                 workers)


# --- writers ---------------------------------------------------------------------------------


def criterion_row(criterion: Criterion) -> dict[str, Any]:
    """A flat row for tables (Parquet, dataframes): spans as two integers, rules nested."""
    return {
        "trial_id": criterion.trial_id,
        "kind": criterion.kind,
        "section": criterion.section,
        "path": criterion.path,
        "span_start": criterion.span.start if criterion.span else None,
        "span_end": criterion.span.end if criterion.span else None,
        "text": criterion.text,
        "parent_text": criterion.parent_text,
        "rules": [
            {
                "analyte_text": r.analyte.text,
                "analyte": r.analyte.name,
                "code": r.analyte.code,
                "system": r.analyte.system,
                "in_lexicon": r.analyte.in_lexicon,
                "comparator": r.comparator,
                "value": r.value,
                "unit": r.unit,
                "unit_text": r.unit_text,
                "span_start": r.span.start,
                "span_end": r.span.end,
                "text": r.text,
            }
            for r in criterion.rules
        ],
        "no_threshold_reason": criterion.no_threshold_reason,
        "diagnostics": [d.model_dump() for d in criterion.diagnostics],
    }


def arrow_schema() -> Any:
    """The Parquet schema of `criterion_row` (pyarrow imported only when asked for)."""
    import pyarrow as pa

    rule = pa.struct([
        ("analyte_text", pa.string()), ("analyte", pa.string()), ("code", pa.string()),
        ("system", pa.string()), ("in_lexicon", pa.bool_()), ("comparator", pa.string()),
        ("value", pa.float64()), ("unit", pa.string()), ("unit_text", pa.string()),
        ("span_start", pa.int64()), ("span_end", pa.int64()), ("text", pa.string()),
    ])
    diagnostic = pa.struct([("level", pa.string()), ("code", pa.string()),
                            ("message", pa.string())])
    return pa.schema([
        ("trial_id", pa.string()), ("kind", pa.string()), ("section", pa.string()),
        ("path", pa.string()), ("span_start", pa.int64()), ("span_end", pa.int64()),
        ("text", pa.string()), ("parent_text", pa.string()), ("rules", pa.list_(rule)),
        ("no_threshold_reason", pa.string()), ("diagnostics", pa.list_(diagnostic)),
    ])


class JsonlWriter:
    """One `Criterion.model_dump_json()` per line."""

    def __init__(self, target: str | Path | IO[str]) -> None:
        self._own = isinstance(target, (str, Path))
        self._out: IO[str] = (open(target, "w", encoding="utf-8")  # noqa: SIM115 (see close)
                              if isinstance(target, (str, Path)) else target)

    def write(self, criterion: Criterion) -> None:
        self._out.write(criterion.model_dump_json())
        self._out.write("\n")

    def write_encoded(self, payload: str) -> None:
        self._out.write(payload)

    def close(self) -> None:
        if self._own:
            self._out.close()
        else:
            self._out.flush()


class ParquetWriter:
    """Rows buffered into row groups, so a registry-sized run never holds more than one."""

    def __init__(self, target: str | Path, *, row_group_size: int = 20_000) -> None:
        import pyarrow.parquet as pq

        self._schema = arrow_schema()
        self._writer = pq.ParquetWriter(str(target), self._schema)
        self._rows: list[dict[str, Any]] = []
        self._size = row_group_size

    def write(self, criterion: Criterion) -> None:
        self.write_encoded([criterion_row(criterion)])

    def write_encoded(self, rows: list[dict[str, Any]]) -> None:
        self._rows.extend(rows)
        if len(self._rows) >= self._size:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if self._rows:
            self._writer.write_table(pa.Table.from_pylist(self._rows, schema=self._schema))
            self._rows = []

    def close(self) -> None:
        self._flush()
        self._writer.close()


# --- a whole run -----------------------------------------------------------------------------


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
    on_error: Callable[[RecordError], None] | None = None,
    parallel: Parallel = "trials",
) -> Summary:
    """Read `source`, write every criterion to `output`, return the counts.

    `workers` > 1 runs chunks of trials in worker processes (`parallel="trials"`, the fast
    default) or hands `n_process=workers` to spaCy (`parallel="spacy"`).

    Record errors go to `errors` (JSONL, one `RecordError` per line) and to `on_error`; they
    never stop the run. Raises `InputFormatError` only when `source` cannot be opened.
    """
    path = Path(source)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise InputFormatError(f"cannot open: {exc.strerror}", source=str(path)) from exc
    if fmt == "parquet":
        if not isinstance(output, (str, Path)):
            raise InputFormatError("parquet output needs a file path, not a stream")
        writer: JsonlWriter | ParquetWriter = ParquetWriter(output)
    else:
        writer = JsonlWriter(output)
    own_err = isinstance(errors, (str, Path))
    err_out: IO[str] | None = (open(errors, "w", encoding="utf-8")  # noqa: SIM115 (closed below)
                               if isinstance(errors, (str, Path)) else errors)

    counts = {"trials": 0, "criteria": 0, "bullets": 0, "rules": 0, "errors": 0, "warnings": 0}
    start = time.perf_counter()
    total = path.stat().st_size
    bar: Any = None
    task: Any = None
    if progress:
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        bar = Progress(TextColumn("[bold]parse-trials"), BarColumn(), DownloadColumn(),
                       TextColumn("{task.fields[trials]} trials"), TimeElapsedColumn(),
                       TimeRemainingColumn(), console=_stderr_console(), transient=False)
        task = bar.add_task("parse", total=total, trials=0)
        bar.start()
    try:
        records = read_studies(handle, name=path.name)
        if workers > 1 and parallel == "trials" and parse_many is None:
            stream: Iterator[Any] = iter_encoded_parallel(records, fmt=fmt, workers=workers,
                                                          batch_size=batch_size)
        else:
            stream = (encode_result(item, fmt) for item in iter_trials(
                records, parse_many=parse_many, n_process=workers, batch_size=batch_size))
        for encoded in stream:
            if encoded[0] == "error":
                error = RecordError.model_validate_json(encoded[1])
                counts["errors"] += 1
                if err_out is not None:
                    err_out.write(encoded[1] + "\n")
                if on_error is not None:
                    on_error(error)
            else:
                _, n_criteria, n_bullets, n_rules, n_warnings, payload = encoded
                writer.write_encoded(payload)
                counts["trials"] += 1
                counts["criteria"] += n_criteria
                counts["bullets"] += n_bullets
                counts["rules"] += n_rules
                counts["warnings"] += n_warnings
            if bar is not None and counts["trials"] % 64 == 0:
                bar.update(task, completed=_tell(handle, total), trials=counts["trials"])
        if bar is not None:
            bar.update(task, completed=total, trials=counts["trials"])
    finally:
        if bar is not None:
            bar.stop()
        writer.close()
        handle.close()
        if err_out is not None and own_err:
            err_out.close()
    return Summary(seconds=time.perf_counter() - start, **counts)


def _tell(handle: IO[bytes], total: int) -> int:
    try:
        return min(handle.tell(), total)
    except (OSError, ValueError):
        return 0


def _stderr_console() -> Any:
    from rich.console import Console

    return Console(file=sys.stderr)


__all__ = [
    "JsonlWriter",
    "ParquetWriter",
    "Summary",
    "TrialResult",
    "arrow_schema",
    "criterion_from",
    "criterion_row",
    "encode_result",
    "iter_encoded_parallel",
    "iter_trials",
    "iter_trials_parallel",
    "run",
]
