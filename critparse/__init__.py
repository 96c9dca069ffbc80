"""critparse: clinical-trial eligibility criteria in, validated threshold rules out.

>>> import critparse
>>> rule = critparse.parse("Creatinine < 2.5 mg/dl").rules[0]
>>> (rule.analyte.name, rule.comparator, rule.value, rule.unit)
('creatinine', '<', 2.5, 'mg/dL')
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from critparse.errors import (
    CritparseError,
    InputFormatError,
    PatientDataError,
    ResourceError,
    UnitConversionError,
)
from critparse.pipeline import load, parse, parse_many
from critparse.schema import Analyte, Criterion, Diagnostic, ParseResult, Rule, Span

try:
    __version__ = version("critparse")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "Analyte",
    "CritparseError",
    "Criterion",
    "Diagnostic",
    "InputFormatError",
    "ParseResult",
    "PatientDataError",
    "ResourceError",
    "Rule",
    "Span",
    "UnitConversionError",
    "__version__",
    "load",
    "parse",
    "parse_many",
]
