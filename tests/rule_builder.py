"""Build a Rule by hand for tests that start from rules rather than text."""

from __future__ import annotations

from critparse.model import Analyte, Comparator, Rule, Span


def make_rule(name: str, comparator: Comparator, value: float, unit: str | None = None) -> Rule:
    text = f"{name} {comparator} {value:g} {unit or ''}".strip()
    return Rule(
        analyte=Analyte(text=name, name=name, in_lexicon=True),
        comparator=comparator,
        value=value,
        unit=unit,
        unit_text=unit,
        span=Span(start=0, end=len(text)),
        text=text,
    )
