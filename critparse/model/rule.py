"""A threshold rule `(analyte, comparator, value, unit)` and the analyte it measures."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from critparse.model.span import FROZEN as _FROZEN
from critparse.model.span import Comparator, Span


class Analyte(BaseModel):
    """What a rule measures: the words as written and the canonical concept they name."""

    model_config = _FROZEN

    text: str = Field(description="The analyte as written in the criterion.")
    name: str = Field(description="Canonical lower-case name (from the lexicon, else the text).")
    code: str | None = Field(default=None, description="A code for the concept, e.g. a LOINC code.")
    system: str | None = Field(default=None, description="The code system, e.g. 'http://loinc.org'.")
    in_lexicon: bool = Field(default=False, description="True when the name came from the lexicon.")


class Rule(BaseModel):
    """A threshold rule `(analyte, comparator, value, unit)` read from one criterion.

    `value` is the number as written (never converted); `unit` is a normalised code (UCUM where
    UCUM has one; `x ULN` / `x LLN` for multiples of the limits of normal; None for unitless
    scores). A range in the text becomes two rules, one per bound.
    """

    model_config = _FROZEN

    kind: Literal["threshold"] = "threshold"
    analyte: Analyte
    comparator: Comparator
    value: float
    unit: str | None = None
    unit_text: str | None = Field(default=None, description="The unit as written.")
    span: Span = Field(description="Offsets of the whole expression (analyte to unit).")
    text: str = Field(description="The surface text of the expression, for display.")

    def to(self, unit: str) -> Rule:
        """The same rule expressed in another unit (see `critparse.screen.units`)."""
        from critparse.screen.units import convert_rule

        return convert_rule(self, unit)
