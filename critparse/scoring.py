"""Score parses against a gold JSONL file.

Threshold gold (lines with `rules`), at three levels of strictness:
* `value`: comparator and value agree;
* `unit`: and the normalised unit agrees;
* `analyte`: and the analyte agrees (same canonical name, or the same words as written).

Concept gold (lines with `concepts`, see corpus/README.md), at five levels:
* `span`: the predicted span overlaps the gold span (where a name starts is not something people
  agree on to the character); `exact`: the spans are equal;
* `span+type`, `span+negation`: and the type, or the negation flag, agrees;
* `window`: recall only, over gold concepts whose time window has a number: the matched concept
  has a window with the same comparator, value and unit.

Items are matched one-to-one within each bullet, then precision, recall and F1 are micro-averaged
over the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from critparse.errors import InputFormatError, format_validation_error
from critparse.model import Comparator, ParseResult, Rule
from critparse.model.concept import Concept

LEVELS = ("value", "unit", "analyte")
CONCEPT_LEVELS = ("span", "exact", "span+type", "span+negation", "window")


class GoldAnalyte(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    text: str = ""
    name: str


class GoldRule(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    analyte: GoldAnalyte
    comparator: Comparator
    value: float
    unit: str | None = None


class GoldWindow(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    comparator: Comparator | None = None
    value: float | None = None
    unit: str | None = None


class GoldConcept(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")
    type: str
    text: str
    start: int
    end: int
    negated: bool = False
    temporal: GoldWindow | None = None


class GoldItem(BaseModel):
    """One labelled bullet; extra keys (section, notes, spans) are allowed and ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    id: str | int | None = None
    text: str
    rules: list[GoldRule] = []
    concepts: list[GoldConcept] | None = None


class LevelScore(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    true_positives: int
    predicted: int
    gold: int
    precision: float
    recall: float
    f1: float


class Miss(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str | int | None
    text: str
    missing: list[str] = Field(description="Gold rules not found (analyte level).")
    spurious: list[str] = Field(description="Predicted rules not in the gold (analyte level).")


class EvaluationReport(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    source: str
    bullets: int
    levels: dict[str, LevelScore]
    misses: list[Miss]


def read_gold(path: str | Path) -> Iterator[GoldItem]:
    """Gold items of a JSONL file; a malformed line raises InputFormatError naming it."""
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield GoldItem.model_validate(json.loads(line))
            except (json.JSONDecodeError, ValidationError) as exc:
                raise InputFormatError(_short(exc), source=str(path), line=number) from exc


def _short(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return format_validation_error(exc)
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", name.lower()).strip()


def _matches(pred: Rule, gold: GoldRule, level: str) -> bool:
    if pred.comparator != gold.comparator or abs(pred.value - gold.value) > 1e-9 * max(1.0, abs(gold.value)):
        return False
    if level == "value":
        return True
    if pred.unit != gold.unit:
        return False
    if level == "unit":
        return True
    p, g = pred.analyte, gold.analyte
    return _norm(p.name) == _norm(g.name) or (bool(g.text) and _norm(p.text) == _norm(g.text))


def _match_count(pred: Iterable[Rule], gold: Iterable[GoldRule], level: str) -> tuple[int, list[Rule], list[GoldRule]]:
    left = list(gold)
    unmatched_pred = []
    hits = 0
    for rule in pred:
        k = next((i for i, g in enumerate(left) if _matches(rule, g, level)), None)
        if k is None:
            unmatched_pred.append(rule)
        else:
            hits += 1
            left.pop(k)
    return hits, unmatched_pred, left


def _describe(rule: Rule | GoldRule) -> str:
    unit = f" {rule.unit}" if rule.unit else ""
    return f"{rule.analyte.name} {rule.comparator} {rule.value:g}{unit}"


def score(gold: Iterable[GoldItem], predicted: Iterable[ParseResult], source: str = "") -> EvaluationReport:
    """Compare parses with gold items, pairwise in order."""
    counts = {level: [0, 0, 0] for level in LEVELS}
    misses: list[Miss] = []
    bullets = 0
    for item, result in zip(gold, predicted, strict=True):
        bullets += 1
        for level in LEVELS:
            hits, _, _ = _match_count(result.rules, item.rules, level)
            counts[level][0] += hits
            counts[level][1] += len(result.rules)
            counts[level][2] += len(item.rules)
        _, spurious, missing = _match_count(result.rules, item.rules, "analyte")
        if spurious or missing:
            misses.append(Miss(id=item.id, text=item.text, missing=[_describe(g) for g in missing],
                               spurious=[_describe(p) for p in spurious]))
    levels = {level: _level(*counts[level]) for level in LEVELS}
    return EvaluationReport(source=source, bullets=bullets, levels=levels, misses=misses)


def _level(tp: int, predicted: int, gold: int) -> LevelScore:
    precision = tp / predicted if predicted else 1.0
    recall = tp / gold if gold else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return LevelScore(true_positives=tp, predicted=predicted, gold=gold,
                      precision=round(precision, 4), recall=round(recall, 4), f1=round(f1, 4))


def _concept_hit(pred: Concept, gold: GoldConcept, level: str) -> bool:
    if level == "exact":
        return pred.span.start == gold.start and pred.span.end == gold.end
    if not (pred.span.start < gold.end and gold.start < pred.span.end):
        return False
    if level == "span+type":
        return pred.type == gold.type
    if level == "span+negation":
        return pred.negated == gold.negated
    return True


def _pair_concepts(pred: Iterable[Concept], gold: Iterable[GoldConcept], level: str) -> list[tuple[Concept, GoldConcept]]:
    """One-to-one pairs, each gold concept taking the first unused prediction that fits."""
    left = list(pred)
    pairs = []
    for g in gold:
        k = next((i for i, p in enumerate(left) if _concept_hit(p, g, level)), None)
        if k is not None:
            pairs.append((left.pop(k), g))
    return pairs


def _window_right(pred: Concept, gold: GoldConcept) -> bool:
    w, g = pred.temporal, gold.temporal
    return (w is not None and g is not None and w.comparator == g.comparator and w.unit == g.unit
            and w.value is not None and g.value is not None and abs(w.value - g.value) < 1e-9)


def score_concepts(gold: Iterable[GoldItem], predicted: Iterable[ParseResult], source: str = "") -> EvaluationReport:
    """Compare predicted concepts with the gold concepts, pairwise in order."""
    counts = {level: [0, 0, 0] for level in CONCEPT_LEVELS}
    misses: list[Miss] = []
    bullets = 0
    for item, result in zip(gold, predicted, strict=True):
        bullets += 1
        gold_concepts = item.concepts or []
        for level in CONCEPT_LEVELS[:-1]:
            pairs = _pair_concepts(result.concepts, gold_concepts, level)
            counts[level][0] += len(pairs)
            counts[level][1] += len(result.concepts)
            counts[level][2] += len(gold_concepts)
        timed = [g for g in gold_concepts if g.temporal is not None and g.temporal.value is not None]
        pairs = _pair_concepts(result.concepts, timed, "span")
        right = sum(_window_right(p, g) for p, g in pairs)
        counts["window"][0] += right
        counts["window"][1] += right  # recall only: precision is not defined for windows
        counts["window"][2] += len(timed)
        matched = _pair_concepts(result.concepts, gold_concepts, "span+type")
        missing = [f"{g.type} {g.text!r}" for g in gold_concepts if all(g is not m for _, m in matched)]
        spurious = [f"{p.type} {p.text!r}" for p in result.concepts if all(p is not q for q, _ in matched)]
        if missing or spurious:
            misses.append(Miss(id=item.id, text=item.text, missing=missing, spurious=spurious))
    levels = {level: _level(*counts[level]) for level in CONCEPT_LEVELS}
    return EvaluationReport(source=source, bullets=bullets, levels=levels, misses=misses)


def evaluate_file(path: str | Path, **parse_options: Any) -> EvaluationReport:
    """Parse every bullet of a gold file and score the parses (concepts when the file has them)."""
    from critparse.nlp.pipeline import parse_many

    items = list(read_gold(path))
    results = parse_many((i.text for i in items), **parse_options)
    if items and all(i.concepts is not None for i in items):
        return score_concepts(items, results, source=str(path))
    return score(items, results, source=str(path))
