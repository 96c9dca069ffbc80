"""Reading batch input: JSONL of `{"id", "text"}` objects or plain text lines, never crashing.

Input is bytes (gzip read transparently, other binary refused by `open_input`); a line that is
not valid UTF-8 is decoded with replacement characters and a lone surrogate from a JSON escape
is replaced, each with a diagnostic, so every line still gets its record and every record can be
written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field

from critparse.model import Diagnostic
from critparse.runs.inputs import open_input, replace_surrogates

_NOT_UTF8 = Diagnostic(level="warning", code="invalid_utf8",
                       message="the line is not valid UTF-8; bad bytes were replaced with U+FFFD")
_SURROGATES = Diagnostic(level="warning", code="replaced_surrogates",
                         message="lone surrogates (not Unicode characters) were replaced with U+FFFD")


@dataclass(frozen=True)
class InputLine:
    """One bullet read from a batch file; `error` names what was wrong with the line."""

    line: int
    id: str | int | None
    text: str
    error: str | None = None
    diagnostics: tuple[Diagnostic, ...] = field(default=())


def _decode(raw: bytes) -> tuple[str, list[Diagnostic]]:
    try:
        return raw.decode("utf-8").rstrip("\r\n"), []
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace").rstrip("\r\n"), [_NOT_UTF8]


def _clean(value: object, notes: list[Diagnostic]) -> object:
    if isinstance(value, str):
        value, hit = replace_surrogates(value)
        if hit and _SURROGATES not in notes:
            notes.append(_SURROGATES)
    return value


def _from_json(number: int, text: str, notes: list[Diagnostic]) -> InputLine:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        return InputLine(number, None, "", f"line {number}: invalid JSON: {exc.msg} (column {exc.colno})")
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        ident = _clean(obj.get("id"), notes) if isinstance(obj, dict) else None
        return InputLine(number, ident if isinstance(ident, (str, int)) else None, "",
                         f"line {number}: expected an object with a string 'text' field")
    ident = _clean(obj.get("id", number), notes)
    body = _clean(obj["text"], notes)
    return InputLine(number, ident if isinstance(ident, (str, int)) else str(ident), str(body),
                     diagnostics=tuple(notes))


def read_bullets(source: str) -> Iterator[InputLine]:
    """Bullets of a file ('-' is stdin), one per non-blank line, in order.

    A line that starts with '{' must be a JSON object with a string `text`; a bad one still
    yields an `InputLine` (empty text) carrying the error, so every line gets its record.
    Raises `InputFormatError` when the file cannot be opened or is not text.
    """
    with open_input(source) as opened:
        for number, raw in enumerate(opened.stream, start=1):
            text, notes = _decode(raw)
            if not text.strip():
                continue
            if text.lstrip().startswith("{"):
                yield _from_json(number, text, notes)
            else:
                yield InputLine(number, number, text, diagnostics=tuple(notes))
