"""A patient's data as a screener holds it, in one shape whatever it came from."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr

from critparse.model.span import FROZEN as _FROZEN

Sex = Literal["female", "male"]


class Measurement(BaseModel):
    """One observed value of one analyte, or why there is no usable value."""

    model_config = _FROZEN

    analyte: str = Field(description="Canonical analyte name (lexicon name, else the key).")
    value: float | None = None
    unit: str | None = Field(default=None, description="UCUM code; None for a bare score.")
    unit_text: str | None = Field(default=None, description="The unit as given.")
    uln: float | None = Field(default=None, description="The patient's own upper limit of normal.")
    lln: float | None = Field(default=None, description="The patient's own lower limit of normal.")
    range_unit: str | None = Field(default=None, description="Unit of uln/lln (UCUM).")
    source: str = Field(description="Where it came from, e.g. 'creatinine' or 'Observation/abc'.")
    when: str | None = Field(default=None, description="Effective date/time (ISO), if given.")
    problem: str | None = Field(default=None, description="Why `value` is missing or unusable.")


class Patient(BaseModel):
    """What `critparse.evaluate` checks rules against."""

    model_config = _FROZEN

    id: str | None = None
    sex: Sex | None = None
    measurements: tuple[Measurement, ...] = ()
    notes: tuple[str, ...] = Field(default=(), description="Input that was read but not used.")

    _by_name: dict[str, Measurement] = PrivateAttr(default_factory=dict)

    def model_post_init(self, __context: Any) -> None:
        self._by_name = {m.analyte: m for m in self.measurements}

    def get(self, analyte: str) -> Measurement | None:
        """The measurement of `analyte` (canonical name), if any."""
        return self._by_name.get(analyte)
