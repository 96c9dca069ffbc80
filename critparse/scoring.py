"""Score parses against a gold JSONL file at three levels of strictness.

* `value`: comparator and value agree;
* `unit`: and the normalised unit agrees;
* `analyte`: and the analyte agrees (same canonical name, or the same words as written).

Rules are matched one-to-one within each bullet (a multiset match), then precision, recall and F1
are micro-averaged over the file.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from critparse.errors import InputFormatError, format_validation_error
from critparse.model.contract import Comparator, ParseResult, Rule

LEVELS = ("value", "unit", "analyte")


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


class GoldItem(BaseModel):
    """One labelled bullet; extra keys (section, notes, spans) are allowed and ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore")
    id: str | int | None = None
    text: str
    rules: list[GoldRule] = []


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


def evaluate_file(path: str | Path, **parse_options: Any) -> EvaluationReport:
    """Parse every bullet of a gold file and score the parses."""
    from critparse.nlp.pipeline import parse_many

    items = list(read_gold(path))
    results = parse_many((i.text for i in items), **parse_options)
    return score(items, results, source=str(path))
