"""Default limits of normal (`resources/uln.json`), for `x ULN` rules when a lab gives none."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

from critparse.resources import load_resource

_FROZEN = ConfigDict(frozen=True, extra="forbid")


class NormalLimit(BaseModel):
    """One default reference interval (or one of its ends) for one analyte."""

    model_config = _FROZEN

    analyte: str = Field(min_length=1)
    unit: str = Field(min_length=1)
    uln: float | None = Field(default=None, gt=0)
    lln: float | None = Field(default=None, gt=0)
    sex: Literal["female", "male"] | None = None
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _has_a_limit(self, info: ValidationInfo) -> NormalLimit:
        if self.uln is None and self.lln is None:
            raise ValueError(f"{self.analyte}: give uln, lln or both")
        is_ucum = (info.context or {}).get("is_ucum")
        if is_ucum is not None and not is_ucum(self.unit):
            raise ValueError(f"{self.analyte}: unit {self.unit!r} is not a UCUM code")
        return self


class NormalLimitTable(BaseModel):
    """`uln.json`."""

    model_config = _FROZEN

    about: str = Field(default="", alias="_about")
    limits: tuple[NormalLimit, ...]
    lab_spread: float = Field(default=0.0, ge=0.0, lt=1.0)
    """How far a laboratory's own limit may lie from the table's, as a share of it (0.25: from
    0.75 to 1.25 times): a verdict made with the table holds only if it holds over that span."""

    @model_validator(mode="after")
    def _unique(self) -> NormalLimitTable:
        seen: set[tuple[str, str | None]] = set()
        dupes = []
        for limit in self.limits:
            key = (limit.analyte, limit.sex)
            if key in seen:
                dupes.append(f"{limit.analyte} ({limit.sex or 'any sex'})")
            seen.add(key)
        if dupes:
            raise ValueError(f"listed twice: {', '.join(dupes)}")
        return self

    def find(self, analyte: str, sex: str | None) -> NormalLimit | None:
        """The interval for this sex, else the one for everyone."""
        fallback = None
        for limit in self.limits:
            if limit.analyte != analyte:
                continue
            if limit.sex is not None and limit.sex == sex:
                return limit
            if limit.sex is None:
                fallback = limit
        return fallback


def load_uln_table(
    path: str | Path | None = None, *, is_ucum: Callable[[str], bool] | None = None
) -> NormalLimitTable:
    """Read and validate a limits-of-normal table (the bundled one when `path` is None).

    Every problem is reported at once; with `is_ucum` (as `Resources` gives it) every unit must
    pass it too.
    """
    return load_resource(NormalLimitTable, "uln.json", path, context={"is_ucum": is_ucum})
