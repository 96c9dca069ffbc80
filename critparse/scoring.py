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

Block gold (lines with `items`: whole eligibility texts, corpus/README.md "Whole blocks") scores the
segmenter, not the parser: `split` (an item is found when its span equals the gold span once both
are trimmed of what a segmenter may keep or drop at the ends), then `section` and `parent`
accuracy over the found items (precision = recall = F1 = accuracy).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from critparse.errors import InputFormatError, format_validation_error
from critparse.model import Comparator, ParseResult, Rule
from critparse.model.concept import Concept
from critparse.model.span import Section

if TYPE_CHECKING:
    from critparse.lexicon.sections import SectionVocabulary
    from critparse.text.segment import Segment

LEVELS = ("value", "unit", "analyte")
CONCEPT_LEVELS = ("span", "exact", "span+type", "span+negation", "window")
BLOCK_LEVELS = ("split", "section", "parent")


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


_Line = TypeVar("_Line", bound=BaseModel)


def _read_lines(path: str | Path, model: type[_Line]) -> Iterator[_Line]:
    """One `model` per non-blank JSONL line; a malformed line raises InputFormatError naming it."""
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield model.model_validate(json.loads(line))
            except (json.JSONDecodeError, ValidationError) as exc:
                raise InputFormatError(_short(exc), source=str(path), line=number) from exc


def read_gold(path: str | Path) -> Iterator[GoldItem]:
    """Gold items of a JSONL file; a malformed line raises InputFormatError naming it."""
    return _read_lines(path, GoldItem)


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
    """Parse every bullet of a gold file and score the parses (concepts when the file has them);
    a file of whole blocks scores the segmenter instead (`evaluate_blocks_file`)."""
    from critparse.nlp.pipeline import parse_many

    if is_block_file(path):
        return evaluate_blocks_file(path)
    items = list(read_gold(path))
    results = parse_many((i.text for i in items), **parse_options)
    if items and all(i.concepts is not None for i in items):
        return score_concepts(items, results, source=str(path))
    return score(items, results, source=str(path))


class GoldBlockItem(BaseModel):
    """One hand-labelled item of a block: its span, section and parent (an index into the block)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str
    section: Section
    parent: int | None = Field(default=None, ge=0)


class GoldBlock(BaseModel):
    """One whole eligibility text with every item it holds, in reading order."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    id: str
    layout: str = ""
    text: str
    items: list[GoldBlockItem]
    notes: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> GoldBlock:
        for k, item in enumerate(self.items):
            if self.text[item.start:item.end] != item.text:
                raise ValueError(f"item {k}: text is not text[{item.start}:{item.end}]")
            if item.parent is not None and item.parent >= k:
                raise ValueError(f"item {k}: parent {item.parent} does not come before it")
        return self


class BlockReport(EvaluationReport):
    """An `EvaluationReport` over whole blocks: `bullets` counts blocks, `items` the gold items."""

    items: int


def is_block_file(path: str | Path) -> bool:
    """Whether a gold file holds whole blocks (its first line has `items`), not bullets."""
    with Path(path).open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                try:
                    first = json.loads(line)
                except json.JSONDecodeError:
                    return False
                return isinstance(first, dict) and "items" in first
    return False


def read_blocks(path: str | Path) -> Iterator[GoldBlock]:
    """Gold blocks of a JSONL file; a malformed line raises InputFormatError naming it."""
    return _read_lines(path, GoldBlock)


_EDGE_CHARS = " \t\r\n\u00a0\u3000*_|"
_LEAD_WORD = re.compile(r"(?:and/or|and|or)\s+", re.IGNORECASE)
_TAIL_WORD = re.compile(r"(?:^|(?<=\s))(?:and/or|and|or)$", re.IGNORECASE)


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """`[start, end)` without what a segmenter may keep or drop at the ends of an item: white
    space, emphasis and table pipes, trailing `; , . :` and a leading or trailing and / or."""
    while True:
        before = (start, end)
        while start < end and text[start] in _EDGE_CHARS:
            start += 1
        while start < end and text[end - 1] in _EDGE_CHARS + ";,.:；，。：":
            end -= 1
        lead = _LEAD_WORD.match(text, start, end)
        if lead:
            start = lead.end()
        tail = _TAIL_WORD.search(text, start, end)
        if tail:
            end = tail.start()
        if (start, end) == before:
            return start, end


class _Predicted(NamedTuple):
    """A segment that is an item, with its parent as an index among the items (None if none)."""

    span: tuple[int, int]
    text: str
    section: str
    parent: int | None


def predicted_items(text: str, segments: Iterable[Segment]) -> list[_Predicted]:
    """The items (criteria and paragraphs) of a split block; a parent that is a header is none."""
    segments = list(segments)
    index: dict[str, int] = {}
    items: list[_Predicted] = []
    for segment in segments:
        if segment.kind == "header":
            continue
        parent = index.get(segment.parent_path) if segment.parent_path else None
        index[segment.path] = len(items)
        span = trim_span(text, segment.span.start, segment.span.end)
        items.append(_Predicted(span, segment.text, segment.section, parent))
    return items


def score_blocks(gold: Iterable[GoldBlock], predicted: Iterable[list[_Predicted]], source: str = "") -> BlockReport:
    """Compare the items of each split block with its gold items, pairwise in order."""
    counts = {level: [0, 0, 0] for level in BLOCK_LEVELS}
    misses: list[Miss] = []
    blocks = items = 0
    for block, pred in zip(gold, predicted, strict=True):
        blocks += 1
        items += len(block.items)
        miss = _score_block(block, pred, counts)
        if miss is not None:
            misses.append(miss)
    levels = {level: _level(*counts[level]) for level in BLOCK_LEVELS}
    return BlockReport(source=source, bullets=blocks, items=items, levels=levels, misses=misses)


def _score_block(block: GoldBlock, pred: list[_Predicted], counts: dict[str, list[int]]) -> Miss | None:
    """Add one block's counts; the block's misses, or None when every item is right."""
    spans = [trim_span(block.text, g.start, g.end) for g in block.items]
    by_span = {p.span: k for k, p in enumerate(pred)}
    match = {g: by_span[span] for g, span in enumerate(spans) if span in by_span}  # gold -> pred
    found = set(match.values())
    problems = [f"{g.section} {g.text!r}" for k, g in enumerate(block.items) if k not in match]
    spurious = [f"{p.section} {p.text!r}" for k, p in enumerate(pred) if k not in found]
    right_section = right_parent = 0
    for g, k in match.items():
        gold, guess = block.items[g], pred[k]
        if gold.section == guess.section:
            right_section += 1
        else:
            problems.append(f"section {guess.section}, not {gold.section}: {gold.text!r}")
        expected = None if gold.parent is None else match.get(gold.parent, -1)
        if guess.parent == expected:
            right_parent += 1
        else:
            under = "none" if guess.parent is None else repr(pred[guess.parent].text)
            problems.append(f"parent {under}, not {_parent_text(block, gold)}: {gold.text!r}")
    for level, hits, total in (("split", len(match), len(pred)), ("section", right_section, len(match)),
                               ("parent", right_parent, len(match))):
        counts[level][0] += hits
        counts[level][1] += total
        counts[level][2] += len(block.items) if level == "split" else len(match)
    if not problems and not spurious:
        return None
    return Miss(id=block.id, text=block.layout or block.text[:60], missing=problems, spurious=spurious)


def _parent_text(block: GoldBlock, item: GoldBlockItem) -> str:
    return "none" if item.parent is None else repr(block.items[item.parent].text)


def evaluate_blocks_file(path: str | Path, vocab: SectionVocabulary | None = None) -> BlockReport:
    """Split every block of a gold file with the segmenter and score the items."""
    from critparse.text.segment import split_eligibility

    blocks = list(read_blocks(path))
    predicted = (predicted_items(b.text, split_eligibility(b.text, vocab)) for b in blocks)
    return score_blocks(blocks, predicted, source=str(path))
