"""Results, trial criteria and segments built without validating again (`critparse.model.unchecked`)
are what validating builds, field for field, and a value the hand checks do not accept is still
rejected by validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

import critparse
from critparse.model import Analyte, Criterion, Diagnostic, ParseResult, Rule, Span
from critparse.model.logic import RuleLeaf
from critparse.model.segment import Segment
from critparse.model.unchecked import (
    analyte,
    criterion,
    diagnostic,
    parse_result,
    rule,
    segment,
    span,
)
from critparse.runs.trials import criterion_from
from critparse.text.segment import iter_segments

ROOT = Path(__file__).resolve().parents[2]


def _bullets() -> list[str]:
    """Every distinct bullet of the gold files (every shape of rule, diagnostic and logic they
    hold), and two that draw warnings."""
    texts = {json.loads(line)["text"] for path in sorted((ROOT / "corpus").glob("*.jsonl"))
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()}
    too_many_numbers = "Platelets > " + ", ".join(str(n) for n in range(50)) + " /L"
    return [*sorted(t for t in texts if isinstance(t, str)), too_many_numbers, "x " * 10_001 + "ANC > 1500/mm3"]


RESULTS = list(critparse.parse_many(_bullets()))


def _same(built: BaseModel, checked: BaseModel) -> None:
    assert type(built) is type(checked)
    assert built == checked and built.model_dump_json() == checked.model_dump_json()
    assert built.model_fields_set == checked.model_fields_set
    assert list(vars(built)) == list(vars(checked))


def _validated_rule(r: Rule) -> Rule:
    """The rule as the component built it before (keyword arguments, every part validated)."""
    a = r.analyte
    return Rule(analyte=Analyte(text=a.text, name=a.name, code=a.code, system=a.system, in_lexicon=a.in_lexicon),
                comparator=r.comparator, value=r.value, unit=r.unit, unit_text=r.unit_text,
                span=Span(start=r.span.start, end=r.span.end), text=r.text)


def test_the_gold_bullets_give_every_part_the_builders_make() -> None:
    assert sum(len(r.rules) for r in RESULTS) > 500
    assert {d.level for r in RESULTS for d in r.diagnostics} >= {"info", "warning"}
    assert sum(r.logic is not None for r in RESULTS) > 500


@pytest.mark.parametrize("index", range(0, len(RESULTS), max(1, len(RESULTS) // 400)))
def test_a_result_built_unchecked_is_what_validation_builds(index: int) -> None:
    result = RESULTS[index]
    for r in result.rules:
        _same(r, _validated_rule(r))
        _same(r.analyte, _validated_rule(r).analyte)
        _same(r.span, _validated_rule(r).span)
    for d in result.diagnostics:
        _same(d, Diagnostic(level=d.level, code=d.code, message=d.message))
    _same(result, ParseResult(text=result.text, rules=result.rules, no_threshold_reason=result.no_threshold_reason,
                              diagnostics=result.diagnostics, concepts=result.concepts, logic=result.logic))
    assert ParseResult.model_validate_json(result.model_dump_json()) == result


def test_every_gold_result_survives_validation() -> None:
    """What the hand checks let through, validation accepts too."""
    for result in RESULTS:
        assert ParseResult.model_validate(result.model_dump()) == result


def test_wrong_values_are_rejected_as_validation_rejects_them() -> None:
    with pytest.raises(ValidationError):
        span(5, 2)
    with pytest.raises(ValidationError):
        span(-1, 2)
    with pytest.raises(ValidationError):
        diagnostic("fatal", "x", "y")
    measured = analyte("ANC", "anc", None, None, False)
    with pytest.raises(ValidationError):
        rule(measured, "≤", 1.5, None, None, span(0, 3), "ANC")
    with pytest.raises(ValidationError):
        parse_result("x", (), None, (), (), RuleLeaf(rule=0))  # a leaf naming a rule the result lacks


def test_values_validation_would_convert_are_left_to_it() -> None:
    """An int value becomes a float and a list becomes a tuple, as the models make them."""
    measured = analyte("ANC", "anc", None, None, False)
    made = rule(measured, "<", 2, None, None, span(0, 3), "ANC")  # type: ignore[arg-type]
    assert type(made.value) is float and made == Rule(analyte=measured, comparator="<", value=2.0,
                                                      span=Span(start=0, end=3), text="ANC")
    result = parse_result("ANC < 2", [made], None, [], [], None)
    assert result.rules == (made,) and result.diagnostics == ()


def _trial_texts() -> list[str]:
    texts = []
    for path in sorted((ROOT / "tests" / "trials").glob("*")):
        if path.name.endswith(".expected.jsonl"):
            continue
        if path.suffix == ".json":
            study = json.loads(path.read_text(encoding="utf-8"))
            texts.append(study["protocolSection"]["eligibilityModule"]["eligibilityCriteria"])
        else:
            texts.append(path.read_text(encoding="utf-8"))
    return texts


@pytest.mark.parametrize("text", _trial_texts())
def test_a_criterion_built_unchecked_is_what_validation_builds(text: str) -> None:
    segments = list(iter_segments(text))
    parsed = [s for s in segments if s.needs_parse]
    results = dict(zip((id(s) for s in parsed), critparse.parse_many([s.text for s in parsed],
                                                                       contexts=[s.parent_text for s in parsed]),
                       strict=True))
    note = (Diagnostic(level="info", code="note", message="from the record"),)
    for item in segments:
        made = criterion_from(item, results.get(id(item)), trial_id="NCT0", diagnostics=note)
        _same(made, Criterion(**{name: getattr(made, name) for name in made.model_fields_set}))
    assert any(s.kind == "header" for s in segments) or parsed


@pytest.mark.parametrize("text", _trial_texts())
def test_a_segment_built_unchecked_is_what_validation_builds(text: str) -> None:
    for made in iter_segments(text):
        _same(made, Segment(**{name: getattr(made, name) for name in made.model_fields_set}))
        _same(made.span, Span(start=made.span.start, end=made.span.end))
    with pytest.raises(ValidationError):
        segment("bullet", "inclusion", "inclusion/1", span(0, 1), "x", None, None, 1, "-")


def test_a_wrong_criterion_is_rejected_as_validation_rejects_it() -> None:
    with pytest.raises(ValidationError):
        criterion({"path": "inclusion/1", "text": "x", "kind": "bullet"})
    with pytest.raises(ValidationError):
        criterion({"path": "inclusion/1", "text": "x", "logic": RuleLeaf(rule=0)})
    with pytest.raises(ValidationError):
        criterion({"text": "x"})  # no path
    with pytest.raises(ValidationError):
        criterion({"path": "inclusion/1", "text": "x", "colour": "red"})
