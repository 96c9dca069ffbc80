"""What screening a patient returns: per rule, per criterion and for the trial."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from critparse.model.rule import Rule
from critparse.model.span import FROZEN as _FROZEN

Outcome = Literal["met", "not_met", "unknown"]
Verdict = Literal["eligible", "ineligible", "unknown"]


class RuleResult(BaseModel):
    """One rule checked against one patient."""

    model_config = _FROZEN

    rule: Rule
    outcome: Outcome
    observed_value: float | None = None
    observed_unit: str | None = None
    converted_value: float | None = Field(
        default=None, description="The observed value in the rule's unit (a ratio for x ULN)."
    )
    converted_unit: str | None = None
    limit_value: float | None = Field(default=None, description="The ULN/LLN used, if any.")
    limit_unit: str | None = None
    limit_source: str | None = None
    source: str | None = Field(default=None, description="Where the observed value came from.")
    reason: str


class CriterionResult(BaseModel):
    """One criterion (or bare rule) checked, and what that means for eligibility.

    Inclusion: every rule must be met. Exclusion: any met rule excludes (a range's two bounds
    together).
    """

    model_config = _FROZEN

    index: int
    id: str | None = Field(default=None, description="ParseResult.id or Criterion.path.")
    text: str
    section: Literal["inclusion", "exclusion"]
    section_assumed: bool = Field(
        default=False, description="True when the section was unknown and inclusion was assumed."
    )
    checked: bool = Field(description="False when the criterion has no threshold rule.")
    outcome: Outcome
    verdict: Verdict = Field(description="What this criterion alone says about eligibility.")
    rules: tuple[RuleResult, ...] = ()
    reason: str


class ScreeningResult(BaseModel):
    """A whole trial's rules checked against one patient."""

    model_config = _FROZEN

    patient_id: str | None = None
    verdict: Verdict
    reason: str
    criteria: tuple[CriterionResult, ...]
    met: int = 0
    not_met: int = 0
    unknown: int = 0
    unchecked: int = Field(default=0, description="Criteria without a threshold rule.")
    notes: tuple[str, ...] = Field(default=(), description="Patient input that was not used.")
