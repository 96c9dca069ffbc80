"""Writers of criterion records: JSONL (one `Criterion` per line) and Parquet (flat rows).

A writer to a path writes a temporary file next to it and renames it over the target only
when the run succeeds (`commit`), so a failed or interrupted run never leaves a truncated
output behind, and an earlier good output survives until the new one is complete.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import IO, Any, Literal

from pydantic_core import PydanticSerializationError

from critparse.errors import InputFormatError
from critparse.export.rows import arrow_schema, criterion_row
from critparse.model import Criterion, Diagnostic
from critparse.runs.inputs import replace_surrogates

OutputFormat = Literal["jsonl", "parquet"]


_PENDING: set[Path] = set()
"""Temporary files not yet committed or discarded: a signal can land between creating one and
handing it to its owner, so the command's signal guard removes what is left here."""


def discard_pending() -> None:
    """Remove every temporary output still pending (after an interrupted run)."""
    for path in list(_PENDING):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        _PENDING.discard(path)


class AtomicFile:
    """A temporary file in the target's folder, renamed over the target by `commit`."""

    def __init__(self, target: str | Path) -> None:
        self.target = Path(target)
        folder = self.target.parent if str(self.target.parent) else Path(".")
        for _ in range(100):
            # Named before it exists, so a signal at any point can find and remove it.
            self.path = folder / f".{self.target.name}.{secrets.token_hex(4)}.tmp"
            _PENDING.add(self.path)
            try:
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
                return
            except FileExistsError:
                _PENDING.discard(self.path)
            except OSError as exc:
                _PENDING.discard(self.path)
                raise InputFormatError(f"cannot write: {exc.strerror or exc}", source=str(target)) from exc
        raise InputFormatError("cannot write: no free temporary name", source=str(target))

    def commit(self) -> None:
        os.replace(self.path, self.target)
        _PENDING.discard(self.path)

    def discard(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        _PENDING.discard(self.path)


def dump_json(criterion: Criterion) -> str:
    """`model_dump_json()`, or, when some text still holds a lone surrogate that no encoder
    takes, the record with those replaced and a diagnostic saying so (never an exception)."""
    try:
        return criterion.model_dump_json()
    except PydanticSerializationError:
        clean = Criterion.model_validate(_replace_surrogates(criterion.model_dump()))
        note = Diagnostic(level="warning", code="replaced_surrogates",
                          message="lone surrogates were replaced with U+FFFD when writing")
        return clean.model_copy(update={"diagnostics": (*clean.diagnostics, note)}).model_dump_json()


def _replace_surrogates(value: Any) -> Any:
    if isinstance(value, str):
        return replace_surrogates(value)[0]
    if isinstance(value, dict):
        return {k: _replace_surrogates(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_replace_surrogates(v) for v in value]
    return value


class JsonlWriter:
    """One `Criterion.model_dump_json()` per line."""

    def __init__(self, target: str | Path | IO[str]) -> None:
        self._file = AtomicFile(target) if isinstance(target, (str, Path)) else None
        try:
            self._out: IO[str] = (self._file.path.open("w", encoding="utf-8")
                                  if self._file is not None else target)  # type: ignore[assignment]
        except BaseException:
            if self._file is not None:
                self._file.discard()
            raise

    def write(self, criterion: Criterion) -> None:
        self._out.write(dump_json(criterion) + "\n")  # one call: a text stream's write is not free

    def write_text(self, text: str) -> None:
        """Lines already serialised (by a worker process)."""
        self._out.write(text)

    def close(self, *, commit: bool = True) -> None:
        """Finish the output: renamed into place on success, removed otherwise."""
        if self._file is None:
            self._out.flush()
            return
        self._out.close()
        if commit:
            self._file.commit()
        else:
            self._file.discard()


class ParquetWriter:
    """Rows buffered into row groups, so a registry-sized run never holds more than one."""

    def __init__(self, target: str | Path, *, row_group_size: int = 20_000) -> None:
        import pyarrow.parquet as pq

        self._file = AtomicFile(target)
        try:  # a signal while the writer opens must not leave the temporary file behind
            self._schema = arrow_schema()
            self._writer = pq.ParquetWriter(str(self._file.path), self._schema)
        except BaseException:
            self._file.discard()
            raise
        self._rows: list[dict[str, Any]] = []
        self._size = row_group_size

    def write(self, criterion: Criterion) -> None:
        self.write_rows([criterion_row(criterion)])

    def write_rows(self, rows: list[dict[str, Any]]) -> None:
        self._rows.extend(rows)
        if len(self._rows) >= self._size:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if self._rows:
            self._writer.write_table(pa.Table.from_pylist(self._rows, schema=self._schema))
            self._rows = []

    def close(self, *, commit: bool = True) -> None:
        """Finish the output: renamed into place on success, removed otherwise."""
        try:
            if commit:
                self._flush()
        finally:
            self._writer.close()
        if commit:
            self._file.commit()
        else:
            self._file.discard()


Writer = JsonlWriter | ParquetWriter


def open_writer(target: str | Path | IO[str], fmt: OutputFormat) -> Writer:
    """The writer for `fmt`; Parquet needs a path (it seeks back to write its footer)."""
    if fmt == "parquet":
        if not isinstance(target, (str, Path)):
            raise InputFormatError("parquet output needs a file path, not a stream")
        return ParquetWriter(target)
    return JsonlWriter(target)


class ErrorLog:
    """Bad records as JSONL (one `RecordError` per line), to a path (atomic) or a stream."""

    def __init__(self, target: str | Path | IO[str] | None) -> None:
        self._writer = JsonlWriter(target) if target is not None else None

    def write(self, error_json: str) -> None:
        if self._writer is not None:
            self._writer.write_text(error_json + "\n")

    def close(self, *, commit: bool = True) -> None:
        if self._writer is not None:
            self._writer.close(commit=commit)


__all__ = [
    "AtomicFile",
    "ErrorLog",
    "JsonlWriter",
    "OutputFormat",
    "ParquetWriter",
    "Writer",
    "discard_pending",
    "open_writer",
]
