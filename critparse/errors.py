"""One error base class; each subclass also inherits the matching builtin so callers can catch either."""

from __future__ import annotations


class CritparseError(Exception):
    """Base of every error critparse raises on purpose."""


class ResourceError(CritparseError, ValueError):
    """A bundled or user-supplied resource file (lexicon, rules) is malformed."""


class InputFormatError(CritparseError, ValueError):
    """An input file is malformed; the message names the file and line."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None) -> None:
        where = ":".join(str(p) for p in (source, line) if p is not None)
        super().__init__(f"{where}: {message}" if where else message)
        self.source = source
        self.line = line


class UnitConversionError(CritparseError, ValueError):
    """No conversion exists between two units (for this analyte)."""


class PatientDataError(CritparseError, ValueError):
    """Patient data could not be read (invalid FHIR, malformed mapping)."""


__all__ = [
    "CritparseError",
    "InputFormatError",
    "PatientDataError",
    "ResourceError",
    "UnitConversionError",
]
