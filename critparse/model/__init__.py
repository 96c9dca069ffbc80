"""The pydantic contract: every object critparse returns, frozen and validated.

`model_dump_json()` is the wire format; `output_json_schema()` is what `critparse schema` prints.
"""

from __future__ import annotations

from critparse.model.criterion import Criterion, ParseResult, output_json_schema
from critparse.model.diagnostic import Diagnostic
from critparse.model.patient import Measurement, Patient, Sex
from critparse.model.rule import Analyte, Rule
from critparse.model.screening import CriterionResult, Outcome, RuleResult, ScreeningResult, Verdict
from critparse.model.span import Comparator, Section, Span

__all__ = [
    "Analyte",
    "Comparator",
    "Criterion",
    "CriterionResult",
    "Diagnostic",
    "Measurement",
    "Outcome",
    "ParseResult",
    "Patient",
    "Rule",
    "RuleResult",
    "ScreeningResult",
    "Section",
    "Sex",
    "Span",
    "Verdict",
    "output_json_schema",
]
