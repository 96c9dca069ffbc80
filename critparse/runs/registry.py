"""Read trial records: ClinicalTrials.gov API v2 study JSON (one study, a page, or JSONL) or a
plain eligibility text block, streaming and never stopping at a bad record.

The reader works on bytes (gzip read transparently): each record is decoded as UTF-8, and when
that fails as Windows-1252 (then Latin-1, which never fails) with a diagnostic, so one
mis-encoded record costs nothing else. Lone surrogates from JSON escapes ("\ud800"), which no
encoder accepts, are replaced with U+FFFD, also with a diagnostic.
The structured eligibility fields (minimumAge, maximumAge, sex, healthyVolunteers, stdAges)
become `Criterion` records of kind "structured" next to the ones read from the text.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from critparse.model import Analyte, Comparator, Criterion, Diagnostic, unchecked
from critparse.runs.inputs import open_input, replace_surrogates

_FROZEN = ConfigDict(frozen=True, extra="forbid")

ErrorCode = Literal[
    "invalid_json", "not_a_study", "no_eligibility_module", "unreadable", "parse_failed"
]


class StudyRecord(BaseModel):
    """One trial as read from the input: its id, eligibility text and structured fields."""

    model_config = _FROZEN

    position: int = Field(description="1-based number of the record in the input.")
    line: int | None = Field(default=None, description="Line of the input it started on.")
    trial_id: str | None = None
    eligibility_text: str = ""
    minimum_age: str | None = None
    maximum_age: str | None = None
    sex: str | None = None
    healthy_volunteers: bool | None = None
    std_ages: tuple[str, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = Field(
        default=(), description="Problems with the record that did not stop it (encoding, ...)."
    )


class RecordError(BaseModel):
    """A record that could not be used; the run reports it and goes on with the next one."""

    model_config = _FROZEN

    position: int
    line: int | None = None
    trial_id: str | None = None
    code: ErrorCode
    message: str

    def describe(self, source: str | None = None) -> str:
        where = ":".join(str(p) for p in (source, self.line) if p is not None)
        who = f" ({self.trial_id})" if self.trial_id else ""
        return f"{where or 'record'} #{self.position}{who}: {self.code}: {self.message}"


# --- decoding --------------------------------------------------------------------------------


def decode_bytes(data: bytes) -> tuple[str, Diagnostic | None]:
    """UTF-8 (a byte-order mark dropped), else Windows-1252, else Latin-1, with a diagnostic."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        bad_at = exc.start
    for encoding in ("cp1252", "latin-1"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text, Diagnostic(
            level="warning",
            code="encoding_fallback",
            message=f"not valid UTF-8 (byte {bad_at}); decoded as {encoding}",
        )
    raise AssertionError("latin-1 decodes every byte string")  # pragma: no cover


# --- one study -------------------------------------------------------------------------------

_NCT = re.compile(r"NCT\d{8}")


def study_record(
    obj: Any,
    *,
    position: int,
    line: int | None = None,
    diagnostics: Iterable[Diagnostic] = (),
) -> StudyRecord | RecordError:
    """A `StudyRecord` from one API v2 study object, or the reason it cannot be one."""
    result = _study_record(obj, position=position, line=line, diagnostics=diagnostics)
    return _without_surrogates(result)


def _without_surrogates(item: StudyRecord | RecordError) -> StudyRecord | RecordError:
    """The record with every lone surrogate replaced, and a diagnostic saying so."""
    changed = False

    def clean(value: Any) -> Any:
        nonlocal changed
        if isinstance(value, str):
            value, hit = replace_surrogates(value)
            changed |= hit
        elif isinstance(value, tuple):
            value = tuple(clean(v) for v in value)
        return value

    fields = {k: clean(getattr(item, k)) for k in type(item).model_fields if k != "diagnostics"}
    if not changed:
        return item
    if isinstance(item, RecordError):
        return item.model_copy(update=fields)
    note = Diagnostic(level="warning", code="replaced_surrogates",
                      message="lone surrogates (not Unicode characters) were replaced with U+FFFD")
    return item.model_copy(update={**fields, "diagnostics": (*item.diagnostics, note)})


def _study_record(
    obj: Any,
    *,
    position: int,
    line: int | None = None,
    diagnostics: Iterable[Diagnostic] = (),
) -> StudyRecord | RecordError:
    if not isinstance(obj, dict):
        return RecordError(position=position, line=line, code="not_a_study",
                           message=f"expected a JSON object, got {type(obj).__name__}")
    protocol = obj.get("protocolSection")
    if not isinstance(protocol, dict):
        keys = ", ".join(sorted(obj)[:8]) or "none"
        return RecordError(position=position, line=line, code="not_a_study",
                           message=f"no 'protocolSection' object (keys: {keys})" + (
                               "; a criterion line: `critparse parse` reads those"
                               if "text" in obj and "protocolSection" not in obj else ""))
    ident = protocol.get("identificationModule")
    nct = ident.get("nctId") if isinstance(ident, dict) else None
    trial_id = str(nct) if nct is not None else None
    diags = list(diagnostics)
    if trial_id is None:
        diags.append(Diagnostic(level="warning", code="no_trial_id",
                                message="identificationModule.nctId is missing"))
    module = protocol.get("eligibilityModule")
    if not isinstance(module, dict):
        return RecordError(position=position, line=line, trial_id=trial_id,
                           code="no_eligibility_module",
                           message="protocolSection has no eligibilityModule")
    text = module.get("eligibilityCriteria")
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    if not text.strip():
        diags.append(Diagnostic(level="warning", code="empty_criteria",
                                message="eligibilityCriteria is missing or empty"))
    hv = module.get("healthyVolunteers")
    std = module.get("stdAges")
    return StudyRecord(
        position=position,
        line=line,
        trial_id=trial_id,
        eligibility_text=text,
        minimum_age=_str_or_none(module.get("minimumAge")),
        maximum_age=_str_or_none(module.get("maximumAge")),
        sex=_str_or_none(module.get("sex")),
        healthy_volunteers=hv if isinstance(hv, bool) else None,
        std_ages=tuple(str(s) for s in std) if isinstance(std, list) else (),
        diagnostics=tuple(diags),
    )


def _str_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def text_record(text: str, *, trial_id: str | None = None, position: int = 1,
                diagnostics: Iterable[Diagnostic] = ()) -> StudyRecord:
    """A record for a plain eligibility block (no structured fields)."""
    diags = list(diagnostics)
    if not text.strip():
        diags.append(Diagnostic(level="warning", code="empty_criteria",
                                message="the eligibility text is empty"))
    record = StudyRecord(position=position, line=1, trial_id=trial_id, eligibility_text=text,
                         diagnostics=tuple(diags))
    return _without_surrogates(record)  # type: ignore[return-value]


# --- files -----------------------------------------------------------------------------------

InputFormat = Literal["auto", "jsonl", "json", "text"]


def read_studies(source: str | Path | IO[bytes], *, fmt: InputFormat = "auto",
                 trial_id: str | None = None,
                 name: str | None = None) -> Iterator[StudyRecord | RecordError]:
    """Every record of an input, in order: studies as `StudyRecord`, bad ones as `RecordError`.

    `fmt="auto"` picks by suffix (.jsonl/.ndjson, .json, .txt) and otherwise by content: a first
    line that is a whole JSON object means JSONL, a lone `{` or `[` one JSON document, anything
    else a plain eligibility block. JSONL is streamed line by line, so memory stays flat; a JSON
    document (one study or an API page) is read whole. A page line inside JSONL is expanded.
    `name` is the file name of an already open binary `source` (for the suffix and the id of a
    plain text block).
    """
    opened = open_input(source) if isinstance(source, (str, Path)) else None
    if opened is not None:
        handle: IO[bytes] = opened.stream
        name = opened.name
    else:
        handle = source  # type: ignore[assignment]
    stem = Path(name).stem if name else None
    try:
        if fmt == "auto":
            fmt = _sniff(handle, name)
        if fmt == "text":
            text, diag = decode_bytes(handle.read())
            found = _NCT.search(stem) if stem else None
            tid = trial_id or (found.group(0) if found else stem)
            yield text_record(text, trial_id=tid, diagnostics=[diag] if diag else [])
        elif fmt == "json":
            yield from _read_document(handle.read())
        else:
            yield from _read_jsonl(handle)
    finally:
        if opened is not None:
            opened.close()


def _sniff(handle: IO[bytes], name: str | None) -> InputFormat:
    suffix = name.lower().rsplit(".", 1)[-1] if name and "." in name else ""
    if suffix in ("jsonl", "ndjson"):
        return "jsonl"
    if suffix == "txt":
        return "text"
    first_line = _first_line(handle)
    first = first_line[:1]
    if first == b"{" and _is_json_object(first_line):
        return "jsonl"
    if first in (b"{", b"[") or suffix == "json":
        return "json"
    return "text"


def _first_line(handle: IO[bytes]) -> bytes:
    """The first non-blank line, left-stripped, without consuming the stream."""
    if handle.seekable():
        pos = handle.tell()
        line = b""
        while not line.strip():
            line = handle.readline()
            if not line:
                break
        handle.seek(pos)
        return line.lstrip()
    peek = getattr(handle, "peek", None)
    head: bytes = peek(1 << 16) if peek is not None else b""
    return head.lstrip().split(b"\n", 1)[0]


def _is_json_object(line: bytes) -> bool:
    try:
        return isinstance(json.loads(decode_bytes(line)[0]), dict)
    except ValueError:
        return False


def _studies_of(obj: Any) -> list[Any] | None:
    """The studies of an API page (`{"studies": [...]}`) or a bare list, else None."""
    if isinstance(obj, dict) and isinstance(obj.get("studies"), list):
        return obj["studies"]
    if isinstance(obj, list):
        return obj
    return None


def _read_document(data: bytes) -> Iterator[StudyRecord | RecordError]:
    text, diag = decode_bytes(data)
    diags = [diag] if diag else []
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        yield RecordError(position=1, line=exc.lineno, code="invalid_json",
                          message=f"{exc.msg} (column {exc.colno})")
        return
    studies = _studies_of(obj)
    if studies is None:
        yield study_record(obj, position=1, line=1, diagnostics=diags)
        return
    for i, study in enumerate(studies, start=1):
        yield study_record(study, position=i, line=None, diagnostics=diags)


def _read_jsonl(handle: IO[bytes]) -> Iterator[StudyRecord | RecordError]:
    position = 0
    for number, raw in enumerate(handle, start=1):
        if not raw.strip():
            continue
        text, diag = decode_bytes(raw)
        diags = [diag] if diag else []
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as exc:
            position += 1
            yield RecordError(position=position, line=number, code="invalid_json",
                              message=f"{exc.msg} (column {exc.colno})")
            continue
        studies = _studies_of(obj)
        for study in studies if studies is not None else [obj]:
            position += 1
            yield study_record(study, position=position, line=number, diagnostics=diags)


# --- structured fields -----------------------------------------------------------------------

# UCUM codes for the time units the registry writes ages in.
_AGE_UNITS = {"year": "a", "month": "mo", "week": "wk", "day": "d", "hour": "h", "minute": "min"}
_AGE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(year|month|week|day|hour|minute)s?\s*", re.IGNORECASE)
# LOINC 30525-0 "Age", the code the analyte lexicon gives age.
_AGE_ANALYTE = Analyte(text="age", name="age", code="30525-0", system="http://loinc.org",
                       in_lexicon=True)


def parse_age(value: str) -> tuple[float, str, str] | None:
    """("18 Years") -> (18.0, "a", "Years"); None for "N/A" or anything unreadable."""
    m = _AGE.fullmatch(value)
    if m is None or not math.isfinite(float(m.group(1))):
        return None  # '9' * 400 years is not an age
    unit_text = value.strip()[len(m.group(1)) :].strip()
    return float(m.group(1)), _AGE_UNITS[m.group(2).lower()], unit_text


def structured_criteria(record: StudyRecord) -> list[Criterion]:
    """The structured eligibility fields as criteria (section inclusion, path structured/...)."""
    out: list[Criterion] = []
    diags = record.diagnostics
    bounds: tuple[tuple[str, str | None, Comparator], ...] = (
        ("minimumAge", record.minimum_age, ">="),
        ("maximumAge", record.maximum_age, "<="),
    )
    for field, raw, comparator in bounds:
        if raw is None:
            continue
        text = f"{field}: {raw}"
        age = parse_age(raw)
        if age is None:
            no_limit = raw.strip().upper() in ("N/A", "NA", "NONE", "")
            reason = f"{field}: {raw} (no limit)" if no_limit else f"{field}: {raw} (unreadable age)"
            extra = () if no_limit else (Diagnostic(
                level="warning", code="bad_age", message=f"cannot read {field} {raw!r}"),)
            out.append(Criterion(trial_id=record.trial_id, kind="structured", section="inclusion",
                                 path=f"structured/{field}", text=text, no_threshold_reason=reason,
                                 diagnostics=diags + extra))
            continue
        value, unit, unit_text = age
        rule = unchecked.rule(_AGE_ANALYTE.model_copy(update={"text": field}), comparator, value, unit, unit_text,
                              unchecked.span(0, len(text)), text)
        out.append(unchecked.criterion({"trial_id": record.trial_id, "kind": "structured", "section": "inclusion",
                                        "path": f"structured/{field}", "text": text, "rules": (rule,),
                                        "diagnostics": diags}))
    # Not numeric thresholds: kept as criteria so nothing is dropped, the value in the reason.
    if record.sex is not None:
        out.append(_no_threshold(record, "sex", record.sex))
    if record.healthy_volunteers is not None:
        out.append(_no_threshold(record, "healthyVolunteers",
                                 "true" if record.healthy_volunteers else "false"))
    if record.std_ages:
        out.append(_no_threshold(record, "stdAges", ", ".join(record.std_ages)))
    return out


def _no_threshold(record: StudyRecord, field: str, value: str) -> Criterion:
    text = f"{field}: {value}"
    return unchecked.criterion({"trial_id": record.trial_id, "kind": "structured", "section": "inclusion",
                                "path": f"structured/{field}", "text": text, "no_threshold_reason": text,
                                "diagnostics": record.diagnostics})


__all__ = [
    "RecordError",
    "StudyRecord",
    "decode_bytes",
    "parse_age",
    "read_studies",
    "structured_criteria",
    "study_record",
    "text_record",
]
