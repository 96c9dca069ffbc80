"""Opening the input of a run: a path or stdin, as bytes, with errors that name the file."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from critparse.errors import InputFormatError


def open_source(source: str | Path) -> IO[bytes]:
    """The file as a binary stream; `InputFormatError` when it cannot be opened."""
    path = Path(source)
    try:
        return path.open("rb")
    except OSError as exc:
        raise InputFormatError(f"cannot open: {exc.strerror}", source=str(path)) from exc


__all__ = ["open_source"]
