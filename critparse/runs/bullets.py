"""Reading batch input: JSONL of `{"id", "text"}` objects or plain text lines, never crashing."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO


@dataclass(frozen=True)
class InputLine:
    """One bullet read from a batch file; `error` names what was wrong with the line."""

    line: int
    id: str | int | None
    text: str
    error: str | None = None


def _open(source: str) -> IO[bytes]:
    return sys.stdin.buffer if source == "-" else Path(source).open("rb")


def read_bullets(source: str) -> Iterator[InputLine]:
    """Bullets of a file ('-' is stdin), one per non-blank line, in order.

    A line that starts with '{' must be a JSON object with a string `text`; a bad one still
    yields an `InputLine` (empty text) carrying the error, so every line gets its record.
    """
    handle = _open(source)
    try:
        for number, raw in enumerate(handle, start=1):
            text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if not text.strip():
                continue
            if not text.lstrip().startswith("{"):
                yield InputLine(number, number, text)
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                yield InputLine(number, None, "", f"line {number}: invalid JSON: {exc.msg} (column {exc.colno})")
                continue
            if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
                yield InputLine(number, obj.get("id") if isinstance(obj, dict) else None, "",
                                f"line {number}: expected an object with a string 'text' field")
                continue
            ident = obj.get("id", number)
            yield InputLine(number, ident if isinstance(ident, (str, int)) else str(ident), obj["text"])
    finally:
        if handle is not sys.stdin.buffer:
            handle.close()
