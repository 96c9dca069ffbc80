"""The analyte chemistry that joins units of different kinds (`resources/conversions.json`).

Pure unit arithmetic is pint's; what depends on the analyte (molar masses, valences, assay
equivalences such as IU vs copies) is data here, each number with its source.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from critparse.errors import ResourceError
from critparse.resources import load_resource

_STRICT = ConfigDict(frozen=True, extra="forbid")



class AnalyteConversion(BaseModel):
    """Chemistry of one analyte that joins units of different kinds."""

    model_config = _STRICT

    analyte: str = Field(min_length=1)
    molar_mass: float | None = Field(default=None, gt=0, description="g/mol")
    valence: int | None = Field(default=None, ge=1)
    codes: list[str] = []
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _says_something(self) -> AnalyteConversion:
        if self.molar_mass is None and self.valence is None and not self.codes:
            raise ValueError(f"{self.analyte}: give molar_mass, valence or codes")
        return self


class Equivalence(BaseModel):
    """`to = factor * from + offset` for the listed analytes, used both ways."""

    model_config = _STRICT

    analytes: list[str] = Field(min_length=1)
    from_unit: str | None
    to_unit: str | None
    factor: float
    offset: float = 0.0
    source: str = Field(min_length=1)

    @model_validator(mode="after")
    def _invertible(self) -> Equivalence:
        if self.factor == 0 or not math.isfinite(self.factor) or not math.isfinite(self.offset):
            raise ValueError(f"{self.from_unit} -> {self.to_unit}: factor must be finite, non-zero")
        return self


class DistinctAnnotation(BaseModel):
    model_config = _STRICT

    annotation: str = Field(min_length=1)
    reason: str = Field(min_length=1)


class ConversionTable(BaseModel):
    """`conversions.json`."""

    model_config = _STRICT

    about: str = Field(default="", alias="_about")
    distinct_annotations: list[DistinctAnnotation] = []
    analytes: list[AnalyteConversion] = []
    equivalences: list[Equivalence] = []

    @model_validator(mode="after")
    def _unique(self) -> ConversionTable:
        seen: set[str] = set()
        dupes: list[str] = []
        for a in self.analytes:
            if a.analyte in seen:
                dupes.append(a.analyte)
            seen.add(a.analyte)
        if dupes:
            raise ValueError(f"analytes listed twice: {', '.join(dupes)}")
        return self


def load_conversions(
    path: str | Path | None = None, *, is_ucum: Callable[[str], bool] | None = None
) -> ConversionTable:
    """Read and validate a conversion table (the bundled one when `path` is None).

    Every problem is reported at once; with `is_ucum`, every unit code must pass it.
    """
    table = load_resource(ConversionTable, "conversions.json", path)
    if is_ucum is None:
        return table
    where = str(path) if path is not None else "critparse/resources/conversions.json"
    bad = [
        f"equivalences/{i}: unknown unit {unit!r}"
        for i, eq in enumerate(table.equivalences)
        for unit in (eq.from_unit, eq.to_unit)
        if unit is not None and not is_ucum(unit)
    ]
    if bad:
        raise ResourceError(f"{where}: {len(bad)} problem(s): {'; '.join(bad)}")
    return table
