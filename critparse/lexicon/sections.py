"""Section headings and bullet symbols of eligibility text (`resources/sections.json`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from critparse.errors import ResourceError, format_validation_error
from critparse.resources import read_resource_json

HeaderSection = Literal["inclusion", "exclusion", "unknown", "keep"]

_FROZEN = ConfigDict(frozen=True, extra="forbid")



class HeaderPattern(BaseModel):
    """One way of writing a section heading."""

    model_config = _FROZEN

    pattern: str
    section: HeaderSection
    needs_colon: bool = False

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value.replace("{q}", ""))
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
        return value


class SectionsFile(BaseModel):
    """Shape of `resources/sections.json` (its `description` explains each key)."""

    model_config = _FROZEN

    description: str = ""
    qualifiers: tuple[str, ...] = ()
    header_words: tuple[str, ...] = Field(min_length=1)
    headers: tuple[HeaderPattern, ...]
    note_words: tuple[str, ...] = Field(min_length=1)
    bullet_symbols: tuple[str, ...] = Field(min_length=1)

    @field_validator("note_words")
    @classmethod
    def _notes_compile(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for word in value:
            try:
                re.compile(word)
            except re.error as exc:
                raise ValueError(f"note word {word!r} is not a valid regular expression: {exc}") from exc
        return value

    @field_validator("bullet_symbols")
    @classmethod
    def _single_chars(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [s for s in value if len(s) != 1]
        if bad:
            raise ValueError(f"bullet symbols must be single characters, got {bad!r}")
        return value


class SectionVocabulary(NamedTuple):
    """The compiled form of a sections file: what `classify_line` matches."""

    header_words: tuple[str, ...]
    headers: tuple[tuple[re.Pattern[str], HeaderSection, bool], ...]
    ascii_bullets: str
    unicode_bullets: str
    note: re.Pattern[str]
    """A line that opens a note ('Note:', '**N.B.**')."""


def load_sections(path: str | Path | None = None) -> SectionsFile:
    """Read and validate a sections file (the bundled one by default); all problems at once.

    Not `load_resource`: the message names dotted locations and what a header needs.
    """
    data = read_resource_json("sections.json", path)
    source = str(path) if path is not None else "critparse/resources/sections.json"
    try:
        return SectionsFile.model_validate(data)
    except ValidationError as exc:
        raise ResourceError(
            f"{source} is malformed: {format_validation_error(exc)}. "
            f"Valid keys: {', '.join(SectionsFile.model_fields)}; each header needs "
            f"'pattern' and 'section' (inclusion|exclusion|unknown|keep)."
        ) from exc


_GENERIC_QUALIFIER = re.compile(r"\d+[a-z]?|[a-z]")
_SEPARATORS = "-:,"


def _unambiguous(qualifiers: tuple[str, ...]) -> list[str]:
    """The listed qualifiers, longest first, minus those another alternative already reads."""
    listed = {q.lower() for q in qualifiers}
    keep = [
        q for q in listed
        if not _GENERIC_QUALIFIER.fullmatch(q)
        and not (q[-1:] in _SEPARATORS and q[:-1].rstrip() in listed)
    ]
    return sorted(keep, key=lambda q: (-len(q), q))


def compile_sections(spec: SectionsFile) -> SectionVocabulary:
    """The header patterns compiled, with `{q}` replaced by the qualifier prefix."""
    # A qualifier is a listed word, a number or a single letter ("Part A", "Cohort 2"), then a
    # separator. Each run of qualifiers must split into them in one way only: with two ways per
    # word ("a" listed and a single letter, "key-" listed and "key" + "-") a failing heading
    # line of n short words costs 2^n steps (a 60-character line took minutes).
    words = "|".join(re.escape(q) for q in _unambiguous(spec.qualifiers))
    qual = rf"(?:(?:{words}|\d+[a-z]?|[a-z])(?:\s*[-:,]\s+|\s+))*" if words else ""
    headers = tuple(
        (re.compile(h.pattern.replace("{q}", qual)), h.section, h.needs_colon)
        for h in spec.headers
    )
    ascii_b = "".join(s for s in spec.bullet_symbols if s.isascii())
    uni_b = "".join(s for s in spec.bullet_symbols if not s.isascii())
    note = re.compile(rf"(?:\*\*|__)?(?:{'|'.join(spec.note_words)})\b\s*(?:\*\*|__)?\s*[:.\-–]", re.IGNORECASE)
    return SectionVocabulary(tuple(w.lower() for w in spec.header_words), headers, ascii_b, uni_b, note)
