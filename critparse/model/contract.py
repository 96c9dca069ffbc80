"""The data contract: one frozen pydantic model per concept.

`model_dump_json()` is the wire format other screeners rely on; `output_json_schema()` is what
`critparse schema` prints and what the tests check.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

from critparse.model.span import FROZEN as _FROZEN
from critparse.model.span import Comparator, Section, Span

__all__ = ["Analyte", "Comparator", "Criterion", "Diagnostic", "ParseResult", "Rule", "Section", "Span"]


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


class Diagnostic(BaseModel):
    """Something worth telling a person about a parse: never an exception for free text."""

    model_config = _FROZEN

    level: Literal["info", "warning", "error"]
    code: str = Field(description="Stable machine-readable code, e.g. 'no_threshold'.")
    message: str


class ParseResult(BaseModel):
    """Everything read from one criterion bullet.

    A bullet with no threshold is still a result: `rules` is empty and `no_threshold_reason`
    says why, so nothing is silently dropped.
    """

    model_config = _FROZEN

    id: str | int | None = None
    text: str
    rules: tuple[Rule, ...] = ()
    no_threshold_reason: str | None = Field(
        default=None, description="Why no threshold rule was read; None when rules were found."
    )
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def has_threshold(self) -> bool:
        return bool(self.rules)


class Criterion(BaseModel):
    """One item of a whole trial's eligibility text, with its place in that text."""

    model_config = _FROZEN

    trial_id: str | None = None
    kind: Literal["criterion", "header", "paragraph", "structured"] = "criterion"
    section: Section = "unknown"
    path: str = Field(description="Where it sits, e.g. 'inclusion/3/b'.")
    span: Span | None = Field(default=None, description="Offsets into the eligibility text.")
    text: str
    parent_text: str | None = Field(default=None, description="The text of the parent bullet.")
    rules: tuple[Rule, ...] = ()
    no_threshold_reason: str | None = None
    diagnostics: tuple[Diagnostic, ...] = ()


def output_json_schema() -> dict[str, Any]:
    """JSON Schema of one output line of `critparse parse --format jsonl`."""
    return ParseResult.model_json_schema()
