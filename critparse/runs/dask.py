"""Run whole-trial parsing on Dask: a bag of studies (or a dataframe of eligibility texts) in,
criterion rows out, one `iter_trials` stream per partition.

Each partition loads the parser once (in whichever worker runs it) and streams its records, so a
cluster scales the single-machine run without changing its output. Bad records travel as error
rows (`"error"` set) instead of failing a task, and every row carries its partition number so an
error can be found again.

    from critparse.runs.dask import CRITERION_META, criteria_rows, read_jsonl, trial_results

    results = trial_results(read_jsonl("studies-*.jsonl"))
    criteria_rows(results).to_dataframe(meta=CRITERION_META).to_parquet("rules/")

`CRITERION_META` comes from the one row definition (`critparse.export.rows`): nullable integers
for spans and strings for text and for the rules and diagnostics (JSON), so every partition,
empty ones included, writes the same Parquet schema.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from critparse.export.rows import CRITERION_META, criterion_row, json_row
from critparse.model import Diagnostic
from critparse.runs.registry import (
    RecordError,
    StudyRecord,
    decode_bytes,
    study_record,
    text_record,
)
from critparse.runs.trials import Summary, iter_trials

if TYPE_CHECKING:  # pragma: no cover
    import dask.bag as db
    import dask.dataframe as dd


def read_jsonl(paths: str | list[str], *, blocksize: str | int | None = "64MiB") -> db.Bag:
    """A bag of the raw lines of JSONL study files (one study or one API page per line)."""
    import dask.bag as dbag

    return dbag.read_text(paths, blocksize=blocksize, encoding="latin-1")


def _as_records(items: Iterable[Any]) -> Iterator[StudyRecord | RecordError]:
    """Partition items (JSON lines, study dicts or StudyRecords) as records, never raising."""
    position = 0
    for item in items:
        if isinstance(item, (StudyRecord, RecordError)):
            yield item
            continue
        diags: list[Diagnostic] = []
        if isinstance(item, (str, bytes)):
            # read_jsonl reads bytes as Latin-1 so nothing fails there; undo that here so the
            # record gets the same UTF-8-or-fallback decoding as the single-machine reader.
            raw = item if isinstance(item, bytes) else item.encode("latin-1", errors="replace")
            text, diag = decode_bytes(raw)
            if not text.strip():
                continue
            diags = [diag] if diag else []
            position += 1
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                yield RecordError(position=position, code="invalid_json",
                                  message=f"{exc.msg} (column {exc.colno})")
                continue
        else:
            position += 1
            obj = item
        studies = obj.get("studies") if isinstance(obj, dict) else None
        if isinstance(studies, list):
            for study in studies:
                yield study_record(study, position=position, diagnostics=diags)
        else:
            yield study_record(obj, position=position, diagnostics=diags)


def _partition_results(items: Iterable[Any], partition: int, batch_size: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    started = time.time()  # wall clock: partitions run on several machines
    for result in iter_trials(_as_records(items), batch_size=batch_size):
        when = {"partition": partition, "started": started, "finished": time.time()}
        if isinstance(result, RecordError):
            out.append({**when, "error": result.model_dump(), "criteria": []})
        else:
            out.append({
                **when,
                "error": None,
                "trial_id": result.trial_id,
                "position": result.position,
                "criteria": [criterion_row(c) for c in result.criteria],
                "warnings": sum(d.level == "warning" for d in result.diagnostics),
            })
    return out


def trial_results(bag: db.Bag, *, batch_size: int = 256) -> db.Bag:
    """One dict per input record: a trial's criterion rows, or its error."""
    import dask
    import dask.bag as dbag

    parts = bag.to_delayed()
    done = [dask.delayed(_partition_results)(part, i, batch_size) for i, part in enumerate(parts)]
    return dbag.from_delayed(done)


def criteria_rows(results: db.Bag) -> db.Bag:
    """Flat criterion rows (`critparse.export.rows.json_row`: rules as JSON text)."""
    return results.map(lambda r: [json_row(row) for row in r["criteria"]]).flatten()


def error_rows(results: db.Bag) -> db.Bag:
    """The record errors, each with its partition and position in that partition."""
    return results.filter(lambda r: r["error"] is not None).map(
        lambda r: {"partition": r["partition"], **r["error"]})


def _count(r: dict[str, Any]) -> tuple[float, ...]:
    started, finished = r.get("started", math.inf), r.get("finished", -math.inf)
    if r["error"] is not None:
        return (0, 0, 0, 0, 1, 0, started, finished)
    rows = r["criteria"]
    return (1, len(rows), sum(row["kind"] == "criterion" for row in rows),
            sum(len(row["rules"]) for row in rows), 0, r.get("warnings", 0), started, finished)


def _add(a: tuple[float, ...], b: tuple[float, ...]) -> tuple[float, ...]:
    return (*(x + y for x, y in zip(a[:6], b[:6], strict=True)), min(a[6], b[6]), max(a[7], b[7]))


def summarize(results: db.Bag) -> Summary:
    """The same counts as a single-machine run; `seconds` is the wall time the parsing took,
    from the first partition's start to the last trial's end (whenever it was computed)."""
    totals = results.map(_count).fold(_add, initial=(0, 0, 0, 0, 0, 0, math.inf, -math.inf))
    *counts, started, finished = totals.compute()
    seconds = max(0.0, finished - started) if math.isfinite(started - finished) else 0.0
    fields = ("trials", "criteria", "bullets", "rules", "errors", "warnings")
    return Summary(seconds=seconds, **{k: int(v) for k, v in zip(fields, counts, strict=True)})


def criteria_frame(frame: dd.DataFrame, *, id_column: str = "nct_id",
                   text_column: str = "eligibility_criteria", batch_size: int = 256) -> dd.DataFrame:
    """Criterion rows from a dataframe with one trial per row (an id and an eligibility text)."""
    import pandas as pd

    def part(df: pd.DataFrame) -> pd.DataFrame:
        records = [
            text_record(text if isinstance(text, str) else "", position=i + 1,
                        trial_id=None if pd.isna(tid) else str(tid))
            for i, (tid, text) in enumerate(zip(df[id_column], df[text_column], strict=True))
        ]
        rows = [json_row(row) for r in _partition_results(records, 0, batch_size)
                for row in r["criteria"]]
        out = pd.DataFrame(rows, columns=list(CRITERION_META))
        return out.astype(CRITERION_META)

    meta = pd.DataFrame({k: pd.Series(dtype=v) for k, v in CRITERION_META.items()})
    return frame.map_partitions(part, meta=meta)


__all__ = [
    "CRITERION_META",
    "criteria_frame",
    "criteria_rows",
    "error_rows",
    "read_jsonl",
    "summarize",
    "trial_results",
]
