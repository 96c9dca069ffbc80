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


LeafKind = Literal["condition", "concept", "value_set", "criterion"]


class LeafResult(BaseModel):
    """One leaf of a criterion's logic that is not a rule, checked against one patient: a
    condition ('hepatic metastases', 'men'), a concept, a value set or a child criterion."""

    model_config = _FROZEN

    kind: LeafKind
    text: str = Field(description="The leaf as written (the condition's words, the categories, the child's path).")
    outcome: Outcome
    observed: str | None = Field(default=None, description="What the patient's data showed, when anything did.")
    reason: str


class CriterionResult(BaseModel):
    """One criterion (or bare rule) checked, and what that means for eligibility.

    The criterion's logic tree is evaluated in three values (met, not met, unknown): an
    inclusion criterion is satisfied when its tree is met; an exclusion criterion excludes when
    its tree is met. Without a tree, an inclusion ANDs its rules and any met rule of an
    exclusion excludes (a range's two bounds together).
    """

    model_config = _FROZEN

    index: int
    id: str | None = Field(default=None, description="ParseResult.id or Criterion.path.")
    text: str
    section: Literal["inclusion", "exclusion"]
    section_assumed: bool = Field(
        default=False, description="True when the section was unknown and inclusion was assumed."
    )
    checked: bool = Field(description="False when the criterion has nothing to check (no rule, concept or condition).")
    outcome: Outcome
    verdict: Verdict = Field(description="What this criterion alone says about eligibility.")
    rules: tuple[RuleResult, ...] = ()
    leaves: tuple[LeafResult, ...] = Field(default=(), description="The tree's other leaves, checked.")
    part_of: str | None = Field(default=None, description="The parent criterion whose logic combines this one; it decides, this one is shown.")
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
    unchecked: int = Field(default=0, description="Criteria with nothing to check (headings aside).")
    notes: tuple[str, ...] = Field(default=(), description="Patient input that was not used.")
