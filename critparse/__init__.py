"""critparse: clinical-trial eligibility criteria in, validated structured criteria out.

>>> import critparse
>>> rule = critparse.parse("Creatinine < 2.5 mg/dl").rules[0]
>>> (rule.analyte.name, rule.comparator, rule.value, rule.unit)
('creatinine', '<', 2.5, 'mg/dL')

Importing critparse is cheap: spaCy loads on the first `parse`, never for `evaluate`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

from critparse import compiled  # first: it picks compiled modules or their sources
from critparse.errors import (
    CritparseError,
    InputFormatError,
    PatientDataError,
    ResourceError,
    UnitConversionError,
)
from critparse.lexicon.resources import Resources, default_resources
from critparse.model import (
    Analyte,
    Criterion,
    CriterionResult,
    Diagnostic,
    Measurement,
    ParseResult,
    Patient,
    Rule,
    RuleResult,
    ScreeningResult,
    Span,
)
from critparse.screen.evaluate import evaluate
from critparse.screen.patient import load_patient, patient_from_fhir, patient_from_mapping

if TYPE_CHECKING:
    from spacy.language import Language

try:
    __version__ = version("critparse")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"


def parse(text: Any, *, context: str | None = None, nlp: Language | None = None) -> ParseResult:
    """Everything read from one criterion (see `critparse.nlp.pipeline.parse`)."""
    from critparse.nlp import pipeline

    return pipeline.parse(text, context=context, nlp=nlp)


def parse_many(texts: Iterable[Any], **options: Any) -> Iterator[ParseResult]:
    """One result per input, in order (see `critparse.nlp.pipeline.parse_many`)."""
    from critparse.nlp import pipeline

    return pipeline.parse_many(texts, **options)


def load(path: str | Path | None = None) -> Language:
    """The spaCy pipeline: `doc = critparse.load()("ECOG 0-1"); doc._.rules`."""
    from critparse.nlp import pipeline

    return pipeline.load(path)


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
    "Resources",
    "Rule",
    "RuleResult",
    "ScreeningResult",
    "Span",
    "UnitConversionError",
    "__version__",
    "compiled",
    "default_resources",
    "evaluate",
    "load",
    "load_patient",
    "parse",
    "parse_many",
    "patient_from_fhir",
    "patient_from_mapping",
]
