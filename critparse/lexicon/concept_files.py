"""The shapes of the concept vocabulary's files: `terms.jsonl(.gz)` lines and `index.json.gz`.

Apart from the matcher in `critparse.lexicon.concepts` so that it can be compiled (mypyc compiles
plain classes and functions, not pydantic models; see `setup.py`).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from critparse.model.concept import ConceptType

_STRICT = ConfigDict(frozen=True, extra="forbid")


class ConceptCode(BaseModel):
    """One code of a concept in a FHIR code system; `display` only where the source allows it."""

    model_config = _STRICT

    system: str = Field(min_length=1)
    code: str = Field(min_length=1, pattern=r"^[^\t\n|^]+$")
    display: str | None = Field(default=None, pattern=r"^[^\t\n|^]*$")


class ConceptEntry(BaseModel):
    """One line of `terms.jsonl(.gz)` or `curated.jsonl`: a concept and its surface forms.

    `synonyms` match in any case; `case_sensitive` holds the short acronyms ("ALL", "CLL") that
    only count when written exactly so, because in lower case they are ordinary words.
    """

    model_config = _STRICT

    id: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*:[^\s\t]+$")
    type: ConceptType
    name: str = Field(min_length=1, pattern=r"^[^\t\n]+$")
    synonyms: list[str] = []
    case_sensitive: list[str] = []
    codes: list[ConceptCode] = []


_TARGET = r"\d+(?:=[^,\n]+)?"
_TARGETS = re.compile(rf"{_TARGET}(?:,{_TARGET})*(?:\n{_TARGET}(?:,{_TARGET})*)*")


class ConceptIndex(BaseModel):
    """`index.json.gz`: what the matcher needs, derived from a terms file by `build_index`.

    Every table is one string of lines, so loading is a few splits rather than 200,000 objects:
    `words` (the folded words; line n is written as the n-th `word_codes` code), `keys` (the code
    string of a surface form), `targets` (per key, its concepts best first: indices into
    `concepts`, `i=SURFACE` where the surface must match case-sensitively), `concepts` (id TAB type
    TAB name TAB codes; codes as `system number|code|display` joined by `^`, an empty display for
    none and `~` for the concept's own name).
    """

    model_config = _STRICT

    format: Literal[5]
    terms_sha256: str
    systems: list[str]
    words: str
    keys: str
    targets: str
    concepts: str

    @model_validator(mode="after")
    def _tables_agree(self) -> ConceptIndex:
        if self.keys.count("\n") != self.targets.count("\n"):
            raise ValueError("keys and targets differ in length")
        if self.targets and not _TARGETS.fullmatch(self.targets):
            raise ValueError("targets must be lines of comma-separated concept numbers")
        return self
