"""A patient's data as a screener holds it, in one shape whatever it came from.

Numbers (labs, vitals, scores, age) are `Measurement`s, one per canonical analyte. Everything a
concept can be checked against (conditions, medications, procedures, allergies, immunizations,
pregnancy, coded findings, family history) is a `ClinicalRecord`, kept as the source stated it:
its codes, its statuses and its dates, so the screener can say which record it used and why.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr

from critparse.model.concept import Code
from critparse.model.span import FROZEN as _FROZEN

Sex = Literal["female", "male"]

Censor = Literal["<", "<=", ">", ">="]
"""How a censored value relates to its bound: `<0.2 mg/dL` is the bound 0.2 with `<`."""

RecordKind = Literal[
    "condition",
    "medication",
    "procedure",
    "allergy",
    "immunization",
    "pregnancy",
    "observation",
    "family",
]
"""What a record describes: `pregnancy` is a pregnancy status or test, `observation` a coded
finding without a number (`EGFR mutation: detected`), `family` a relative's condition."""

__all__ = ["Censor", "ClinicalRecord", "Measurement", "Patient", "RecordKind", "Sex"]


class Measurement(BaseModel):
    """One observed value of one analyte, or why there is no usable value."""

    model_config = _FROZEN

    analyte: str = Field(description="Canonical analyte name (lexicon name, else the key).")
    value: float | None = Field(default=None, description="The number; for a censored value, its bound.")
    comparator: Censor | None = Field(
        default=None,
        description="Set for a censored value (`<0.2`): the true value is `comparator value`, so "
        "it decides a rule only where every value on that side would.",
    )
    category: str | None = Field(
        default=None,
        description="An ordinal value as written, normalised ('IIIB', 'A', 'III'); `value` holds "
        "its number only when it has exactly one ('III' is 3, 'IIIB' has none).",
    )
    unit: str | None = Field(default=None, description="UCUM code; None for a bare score.")
    unit_text: str | None = Field(default=None, description="The unit as given.")
    uln: float | None = Field(default=None, description="The patient's own upper limit of normal.")
    lln: float | None = Field(default=None, description="The patient's own lower limit of normal.")
    range_unit: str | None = Field(default=None, description="Unit of uln/lln (UCUM).")
    source: str = Field(description="Where it came from, e.g. 'creatinine' or 'Observation/abc'.")
    when: str | None = Field(default=None, description="Effective date/time (ISO), if given.")
    born: str | None = Field(
        default=None,
        description="For an age computed from a birth date: that date as given (ISO; year-month "
        "precision allowed), so limits in months or days can be checked exactly.",
    )
    problem: str | None = Field(default=None, description="Why `value` is missing or unusable.")


class ClinicalRecord(BaseModel):
    """One condition, medication, procedure, allergy, immunization or finding of the patient."""

    model_config = _FROZEN

    kind: RecordKind
    source: str = Field(description="Where it came from: 'Condition/abc' or 'conditions[2]'.")
    text: str | None = Field(default=None, description="The record's own words (code text, else a display, else the name given); for an allergy, the substance.")
    codes: tuple[Code, ...] = Field(default=(), description="The record's codings, systems as URIs.")
    clinical_status: str | None = Field(default=None, description="FHIR clinicalStatus code (condition, allergy): active, recurrence, relapse, inactive, remission, resolved.")
    status_assumed: bool = Field(default=False, description="True when no status was written and `clinical_status` is the default a listed condition gets (active).")
    verification_status: str | None = Field(default=None, description="FHIR verificationStatus code: confirmed, unconfirmed, provisional, differential, refuted, entered-in-error.")
    status: str | None = Field(default=None, description="The resource's own status code (medication, procedure, immunization, observation).")
    start: str | None = Field(default=None, description="Onset, start of use, performed or occurrence date (ISO, partial dates kept).")
    end: str | None = Field(default=None, description="Abatement or end date (ISO, partial dates kept).")
    recorded: str | None = Field(default=None, description="When the record was written (ISO).")
    value: str | None = Field(default=None, description="A finding's or test's value as text ('positive', 'not pregnant').")
    present: bool | None = Field(default=None, description="What the value asserts: True for a positive or detected finding, False for a negative one; None when the value does not say.")


class Patient(BaseModel):
    """What `critparse.evaluate` checks rules and concepts against."""

    model_config = _FROZEN

    id: str | None = None
    sex: Sex | None = None
    birth_date: str | None = Field(default=None, description="As given (ISO; year-month precision allowed).")
    as_of: str | None = Field(default=None, description="The date ages were computed at (ISO).")
    measurements: tuple[Measurement, ...] = ()
    records: tuple[ClinicalRecord, ...] = ()
    notes: tuple[str, ...] = Field(default=(), description="Input that was read but not used, summarised by kind.")

    _by_name: dict[str, Measurement] = PrivateAttr(default_factory=dict)

    def model_post_init(self, __context: Any) -> None:
        self._by_name = {m.analyte: m for m in self.measurements}

    def get(self, analyte: str) -> Measurement | None:
        """The measurement of `analyte` (canonical name), if any."""
        return self._by_name.get(analyte)

    def records_of(self, *kinds: RecordKind) -> tuple[ClinicalRecord, ...]:
        """The records of the given kinds (all records when none is given), in input order."""
        if not kinds:
            return self.records
        return tuple(r for r in self.records if r.kind in kinds)
