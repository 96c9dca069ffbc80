"""A patient from whatever a screener holds: a Patient, a plain mapping, FHIR JSON or a file.

Both forms become one `Patient` (`critparse.model.patient`): at most one `Measurement` per
canonical analyte name, with its value in a UCUM unit and, when known, its own reference limits,
and the `ClinicalRecord`s (conditions, medications, ...) that concepts are checked against.

A large FHIR Bundle file is read one entry at a time (`stream_bundle`), so memory stays flat in
the number of its resources; a file that is not UTF-8 (or gzip of UTF-8) is a PatientDataError.
"""

from __future__ import annotations

import codecs
import gzip
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import IO, Any

from critparse.errors import PatientDataError
from critparse.lexicon.resources import Resources
from critparse.model.patient import ClinicalRecord, Measurement, Patient
from critparse.screen.analytes import resolve_analyte, resolve_code
from critparse.screen.fhir import FhirVersion, patient_from_fhir
from critparse.screen.mapping import age_in_years, patient_from_mapping
from critparse.screen.values import measurement_from_value

_CHUNK = 1 << 20
_STREAM_ABOVE = 8 << 20
"""Files larger than this (bytes) whose first key is `"resourceType": "Bundle"` are streamed."""
_GZIP_MAGIC = b"\x1f\x8b"


def load_patient(
    source: Patient | Mapping[str, Any] | Iterable[Any] | str | bytes | Path,
    *,
    as_of: date | None = None,
    version: FhirVersion = "auto",
    resources: Resources | None = None,
) -> Patient:
    """A Patient from whatever a screener holds: a Patient, a mapping, FHIR JSON, or a file.

    FHIR is recognised by `resourceType`; anything else that is an object is a plain mapping.
    A string that does not start with `{` or `[` is a file path.
    """
    if isinstance(source, Patient):
        return source
    if isinstance(source, Path) or (isinstance(source, str) and not source.lstrip().startswith(("{", "["))):
        return _load_file(Path(source), as_of=as_of, version=version, resources=resources)
    if isinstance(source, (str, bytes)):
        text = _decode(source, "patient input") if isinstance(source, bytes) else source
        try:
            source = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PatientDataError(f"patient input is not JSON: {exc}") from exc
    return _from_data(source, as_of=as_of, version=version, resources=resources)


def _from_data(data: Any, *, as_of: date | None, version: FhirVersion, resources: Resources | None) -> Patient:
    if isinstance(data, Mapping) and "resourceType" not in data:
        return patient_from_mapping(data, as_of=as_of, resources=resources)
    return patient_from_fhir(data, as_of=as_of, version=version, lexicon=resources)


def _decode(raw: bytes, where: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PatientDataError(f"{where}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _open(path: Path) -> IO[bytes]:
    try:
        handle: IO[bytes] = path.open("rb")
        if handle.read(2) == _GZIP_MAGIC:
            handle.close()
            return gzip.open(path, "rb")  # type: ignore[return-value]
        handle.seek(0)
        return handle
    except OSError as exc:
        raise PatientDataError(f"{path}: cannot read: {exc}") from exc


def _load_file(path: Path, *, as_of: date | None, version: FhirVersion, resources: Resources | None) -> Patient:
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise PatientDataError(f"{path}: cannot read: {exc}") from exc
    with _open(path) as handle:
        try:
            head = handle.read(_CHUNK)
            if size > _STREAM_ABOVE and _starts_bundle(head):
                stream = stream_bundle(_chunks(head, handle, path), str(path))
                return patient_from_fhir(stream, as_of=as_of, version=version, lexicon=resources)
            raw = head + handle.read()
        except (OSError, EOFError, gzip.BadGzipFile) as exc:
            raise PatientDataError(f"{path}: cannot read: {exc}") from exc
    text = _decode(raw, str(path))
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PatientDataError(f"{path}: not JSON: {exc}") from exc
    return _from_data(data, as_of=as_of, version=version, resources=resources)


def _starts_bundle(head: bytes) -> bool:
    text = head[:200].decode("utf-8", "ignore").lstrip("\ufeff \t\r\n")
    compact = "".join(text.split())
    return compact.startswith('{"resourceType":"Bundle"')


def _chunks(head: bytes, handle: IO[bytes], path: Path) -> Iterator[str]:
    """The file as text chunks; invalid UTF-8 is a PatientDataError naming the file."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    block = head
    try:
        while block:
            yield decoder.decode(block)
            block = handle.read(_CHUNK)
        yield decoder.decode(b"", final=True)
    except UnicodeDecodeError as exc:
        raise PatientDataError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise PatientDataError(f"{path}: cannot read: {exc}") from exc


class _Buffer:
    """Text from a chunk iterator, decoded with `raw_decode` one JSON value at a time."""

    def __init__(self, chunks: Iterator[str], where: str) -> None:
        self.chunks, self.where = chunks, where
        self.text, self.pos, self.done = "", 0, False
        self.decoder = json.JSONDecoder()

    def _more(self) -> bool:
        if self.done:
            return False
        chunk = next(self.chunks, None)
        if chunk is None:
            self.done = True
            return False
        self.text = self.text[self.pos:] + chunk
        self.pos = 0
        return True

    def peek(self) -> str:
        """The next character that is not white space ('' at the end)."""
        while True:
            while self.pos < len(self.text) and self.text[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.text) or not self._more():
                return self.text[self.pos:self.pos + 1]

    def expect(self, char: str) -> None:
        if self.peek() != char:
            raise PatientDataError(f"{self.where}: not JSON: expected {char!r} at a Bundle's top level")
        self.pos += 1

    def value(self) -> Any:
        """The next JSON value; reads more text while the value is incomplete."""
        self.peek()
        while True:
            try:
                value, end = self.decoder.raw_decode(self.text, self.pos)
            except json.JSONDecodeError as exc:
                if self._more():
                    continue
                raise PatientDataError(f"{self.where}: not JSON: {exc}") from None
            number = not isinstance(value, (dict, list, str))
            if end == len(self.text) and not self.done and number and self._more():
                continue  # a number may go on in the next chunk
            self.pos = end
            return value


def stream_bundle(chunks: Iterator[str], where: str) -> Iterator[Any]:
    """The resources of a Bundle read from text chunks, one entry at a time.

    Top-level keys other than `entry` are read and checked for a Bundle; entries that are
    Bundles themselves are expanded by `iter_resources` as usual.
    """
    buf = _Buffer(chunks, where)
    buf.expect("{")
    envelope: dict[str, Any] = {}
    while buf.peek() not in ("}", ""):
        key = buf.value()
        buf.expect(":")
        if key == "entry":
            yield from _entries(buf)
        else:
            envelope[str(key)] = buf.value()
        if buf.peek() == ",":
            buf.pos += 1
    buf.expect("}")
    if envelope.get("resourceType") != "Bundle":
        raise PatientDataError(f"{where}: not a FHIR Bundle")


def _entries(buf: _Buffer) -> Iterator[Any]:
    buf.expect("[")
    while buf.peek() not in ("]", ""):
        entry = buf.value()
        yield {"resourceType": "Bundle", "entry": [entry]}
        if buf.peek() == ",":
            buf.pos += 1
    buf.expect("]")


__all__ = [
    "ClinicalRecord",
    "Measurement",
    "Patient",
    "age_in_years",
    "load_patient",
    "measurement_from_value",
    "patient_from_fhir",
    "patient_from_mapping",
    "resolve_analyte",
    "resolve_code",
    "stream_bundle",
]
