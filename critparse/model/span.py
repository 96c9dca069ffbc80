"""The smallest pieces of the contract: character spans and the closed vocabularies of comparators
and sections that every other model refers to."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Comparator = Literal["<", "<=", ">", ">=", "=", "!="]
"""The six comparators a threshold rule can carry; word forms are normalised to these."""

Section = Literal["inclusion", "exclusion", "unknown"]

FROZEN = ConfigDict(frozen=True, extra="forbid")
"""Every model of the contract is immutable and rejects unknown fields."""


class Span(BaseModel):
    """Character offsets `[start, end)` into the text that was parsed."""

    model_config = FROZEN

    start: int = Field(ge=0)
    end: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Span:
        if self.end < self.start:
            raise ValueError(f"span end {self.end} is before its start {self.start}")
        return self
