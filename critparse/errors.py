"""One error base class; each subclass also inherits the matching builtin so callers can catch either."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from pydantic import ValidationError


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


class WorkerLostError(CritparseError, RuntimeError):
    """A worker process died (killed, out of memory) twice on the same piece of work."""


def format_validation_error(exc: ValidationError) -> str:
    """Every problem of a pydantic error on one line: "2 problem(s): a/0/b: msg; c: msg".

    One wording everywhere, so a bad resource file, gold line or FHIR resource reads the same;
    "(top)" locates a problem with the whole object.
    """
    problems = "; ".join(
        f"{'/'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()
    )
    return f"{exc.error_count()} problem(s): {problems}"


__all__ = [
    "CritparseError",
    "InputFormatError",
    "PatientDataError",
    "ResourceError",
    "UnitConversionError",
    "WorkerLostError",
    "format_validation_error",
]
