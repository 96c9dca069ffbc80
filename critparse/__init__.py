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
from critparse.screen.patient import (
    Measurement,
    Patient,
    load_patient,
    patient_from_fhir,
    patient_from_mapping,
)
from critparse.nlp.pipeline import load, parse, parse_many
from critparse.model.contract import Analyte, Criterion, Diagnostic, ParseResult, Rule, Span
from critparse.screen.evaluate import CriterionResult, RuleResult, ScreeningResult, evaluate

try:
    __version__ = version("critparse")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = [
    "Analyte",
    "Criterion",
    "CriterionResult",
    "CritparseError",
    "Diagnostic",
    "InputFormatError",
    "Measurement",
    "ParseResult",
    "Patient",
    "PatientDataError",
    "ResourceError",
    "Rule",
    "RuleResult",
    "ScreeningResult",
    "Span",
    "UnitConversionError",
    "__version__",
    "evaluate",
    "load",
    "load_patient",
    "parse",
    "parse_many",
    "patient_from_fhir",
    "patient_from_mapping",
]
