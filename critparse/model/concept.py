"""The concept contract: a coded mention (condition, drug, procedure, ...) with the context that
changes its meaning in a criterion (negation, modality, whose it is, when it happened).

A criterion such as "No history of hepatitis B or C infection within 6 months" is, for a
screener, two coded concepts that are negated, historical and bound to a time window; these
models carry exactly that, each keeping the character span it came from.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from critparse.model.span import FROZEN, Comparator, Span

ConceptType = Literal[
    "condition",
    "drug",
    "procedure",
    "observation",
    "allergy",
    "organism",
    "immunization",
    "device",
    "other",
]
"""The kinds of concept a lexicon entry or a head-word pattern can name."""

Modality = Literal["history", "suspected", "planned", "hypothetical"]
"""How a concept is asserted when it is not simply present now."""

Subject = Literal["patient", "family"]
"""Whose concept it is: the patient's own, or a relative's (family history)."""

TimeUnit = Literal["min", "h", "d", "wk", "mo", "a"]
"""UCUM codes of the durations a time window is written in."""

Relation = Literal["before", "after"]
"""Where the concept's event lies relative to the window's anchor (or to now)."""

__all__ = [
    "Code",
    "Concept",
    "ConceptType",
    "Modality",
    "Relation",
    "Subject",
    "TimeUnit",
    "TimeWindow",
]


def _check_span_text(span: Span, text: str, what: str) -> None:
    """A span and its text must describe the same characters, so a reviewer can highlight it."""
    if span.end - span.start != len(text):
        raise ValueError(
            f"{what} text {text!r} has {len(text)} characters but its span "
            f"[{span.start}, {span.end}) covers {span.end - span.start}"
        )


class Code(BaseModel):
    """One code of a concept in a terminology (a MONDO, MeSH, RxNorm, LOINC ... identifier)."""

    model_config = FROZEN

    system: str = Field(min_length=1, description="The code system, as a URI or short name (e.g. 'http://purl.obolibrary.org/obo/mondo.owl', 'MeSH').")
    code: str = Field(min_length=1, description="The code within its system (e.g. 'MONDO:0005109').")
    display: str | None = Field(default=None, description="The system's own label for the code, when it may be shipped.")


class TimeWindow(BaseModel):
    """A time window that bounds a concept: 'within 4 weeks before enrolment', 'in the past 6 months'."""

    model_config = FROZEN

    text: str = Field(description="The window exactly as written.")
    span: Span = Field(description="Character offsets of the window in the parsed text.")
    comparator: Comparator | None = Field(description="How the event's distance from the anchor compares with `value`: 'within 4 weeks' is '<=', 'at least 28 days since' is '>='; null when no duration is given ('prior to day 1').")
    value: float | None = Field(allow_inf_nan=False, description="The duration as written (number words read as numbers: 'six' -> 6); null when no duration is given.")
    unit: TimeUnit | None = Field(description="UCUM code of the duration's unit: min, h, d, wk, mo or a; null when no duration is given.")
    anchor: str | None = Field(description="The event the window is measured from, normalised ('enrolment', 'randomization', 'day 1', 'first dose'); null means now (the time of screening).")
    relation: Relation | None = Field(description="Whether the concept's event lies before or after the anchor; null when the text does not say ('within 2 weeks of the first dose', 'during the study').")

    @model_validator(mode="after")
    def _consistent(self) -> TimeWindow:
        _check_span_text(self.span, self.text, "time window")
        if self.value is not None and not math.isfinite(self.value):
            raise ValueError("a time window's value must be finite")
        if self.value is not None and self.unit is None:
            raise ValueError("a time window with a value needs its unit")
        if self.comparator is not None and self.value is None:
            raise ValueError("a time window's comparator needs a value to compare with")
        return self


class Concept(BaseModel):
    """A concept mentioned in a criterion, with the context cues that qualify it."""

    model_config = FROZEN

    type: ConceptType = Field(description="What kind of concept it is: condition, drug, procedure, observation, allergy, organism, immunization, device or other.")
    text: str = Field(min_length=1, description="The mention exactly as written (without qualifiers such as 'active', and without words carried over from a coordinated sibling).")
    span: Span = Field(description="Character offsets of `text` in the parsed text.")
    name: str = Field(min_length=1, description="Normalised lower-case name, with an elided head carried over from a coordinated sibling: 'C infection' in 'hepatitis B or C infection' is 'hepatitis c infection'.")
    head: str | None = Field(default=None, description="Words carried over from a coordinated sibling to complete the name ('hepatitis' for 'C infection', 'cancer' for 'breast' in 'breast or ovarian cancer'); null when the mention is complete as written.")
    negated: bool = Field(default=False, description="True when the text asserts the concept's absence ('no', 'without', 'negative for', 'must not have').")
    modality: Modality | None = Field(default=None, description="How the concept is asserted when not simply present now: 'history' (history of, prior), 'suspected' (possible, probable), 'planned' (scheduled, expected to require) or 'hypothetical' (risk of, if, unless); null when it is asserted as present.")
    subject: Subject = Field(default="patient", description="Whose concept it is: 'family' for a relative's (family history of), otherwise 'patient'.")
    qualifiers: tuple[str, ...] = Field(default=(), description="Lower-case qualifier words written before the mention and kept out of its span and name ('active', 'uncontrolled', 'refractory', 'relapsed', 'severe', 'chronic', 'known').")
    temporal: TimeWindow | None = Field(default=None, description="The time window that governs the concept in its clause, if any.")
    codes: tuple[Code, ...] = Field(default=(), description="Codes of the concept in terminologies, best first as the lexicon gives them; empty for concepts found by a head-word pattern.")
    source: Literal["lexicon", "pattern"] = Field(default="lexicon", description="'lexicon' when the concept was matched (or looked up) in the concept lexicon, 'pattern' when it was found by its head word alone.")

    @field_validator("name")
    @classmethod
    def _lower_name(cls, name: str) -> str:
        if name != name.lower() or name != name.strip():
            raise ValueError(f"a concept name is lower case and trimmed, not {name!r}")
        return name

    @field_validator("qualifiers")
    @classmethod
    def _lower_qualifiers(cls, qualifiers: tuple[str, ...]) -> tuple[str, ...]:
        for word in qualifiers:
            if not word or word != word.lower():
                raise ValueError(f"a qualifier is a non-empty lower-case word, not {word!r}")
        return qualifiers

    @model_validator(mode="after")
    def _span_matches_text(self) -> Concept:
        _check_span_text(self.span, self.text, "concept")
        return self
