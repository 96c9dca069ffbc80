"""What one bullet yields (`ParseResult`) and one item of a whole trial (`Criterion`)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, model_validator

from critparse.model.concept import Concept
from critparse.model.diagnostic import Diagnostic
from critparse.model.logic import Logic, check_indices
from critparse.model.rule import Rule
from critparse.model.span import FROZEN as _FROZEN
from critparse.model.span import Section, Span

_LOGIC_HELP = (
    "How the rules, concepts and conditions combine (critparse.model.logic); None when there is"
    " nothing to combine. `rules` stays the flat list of every threshold."
)


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
    concepts: tuple[Concept, ...] = ()
    logic: Logic | None = Field(default=None, description=_LOGIC_HELP)

    @model_validator(mode="after")
    def _logic_fits(self) -> ParseResult:
        check_indices(self.logic, len(self.rules), len(self.concepts))
        return self

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
    concepts: tuple[Concept, ...] = ()
    logic: Logic | None = Field(default=None, description=_LOGIC_HELP)

    @model_validator(mode="after")
    def _logic_fits(self) -> Criterion:
        check_indices(self.logic, len(self.rules), len(self.concepts))
        return self


def output_json_schema() -> dict[str, Any]:
    """JSON Schema of one output line of `critparse parse --format jsonl`."""
    return ParseResult.model_json_schema()
