"""Concept extraction against the hand-labelled concept gold (`corpus/concepts_*.jsonl`).

Two kinds of test, as quantulum3 does for its golden files:

* floors: each gold file is parsed once and scored at every concept level of
  `critparse.scoring` (span, exact, span+type, span+negation, window recall); a score may rise but
  never fall below its floor. Floors are the score when they were set minus a small margin, and
  only ever go up.
* exact cases: every non-numeric bullet of the seed trial NCT02186860 yields exactly its gold
  concepts (text, span, type, negation, modality, qualifiers), with the codes the vocabularies have.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from critparse.scoring import EvaluationReport, evaluate_file

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SEED = CORPUS / "concepts_NCT02186860.jsonl"
MIX = CORPUS / "concepts_mix.jsonl"

# Per file and level: the F1 it must reach (recall for 'window', which has no precision).
FLOORS: dict[str, dict[str, float]] = {
    SEED.name: {"span": 0.97, "exact": 0.97, "span+type": 0.97, "span+negation": 0.97, "window": 0.97},
    MIX.name: {"span": 0.90, "exact": 0.80, "span+type": 0.85, "span+negation": 0.90, "window": 0.83},
}

# Codes each seed concept must carry (one of its codes, best first or not), where the shipped
# vocabularies have one; concepts not listed here are uncoded in every shipped vocabulary.
SEED_CODES: dict[tuple[str, str], str] = {
    ("NCT02186860-inc-03", "B cell-acute lymphoblastic leukemia"): "DOID:0080638",
    ("NCT02186860-inc-04", "hematopoietic stem cell transplantation"): "D018380",
    ("NCT02186860-inc-12", "informed consent"): "D007181",
    ("NCT02186860-exc-01", "Pregnant"): "77386006",
    ("NCT02186860-exc-01", "lactating"): "D007774",
    ("NCT02186860-exc-03", "central nervous system leukemia"): "DOID:12969",
    ("NCT02186860-exc-04", "malignancies"): "DOID:162",
    ("NCT02186860-exc-05", "seizure disorder"): "DOID:1826",
    ("NCT02186860-exc-05", "cardiac disorder"): "DOID:114",
    ("NCT02186860-exc-06", "human immunodeficiency virus"): "DOID:526",
    ("NCT02186860-exc-06", "hepatitis B"): "DOID:2043",
    ("NCT02186860-exc-06", "C infection"): "DOID:1883",
    ("NCT02186860-exc-07", "infection"): "DOID:0050117",
}

# The shared head of a coordination ellipsis, carried over into the name (see the README).
SEED_HEADS: dict[tuple[str, str], tuple[str, str]] = {
    ("NCT02186860-exc-06", "human immunodeficiency virus"): ("infection", "human immunodeficiency virus infection"),
    ("NCT02186860-exc-06", "hepatitis B"): ("infection", "hepatitis b infection"),
    ("NCT02186860-exc-06", "C infection"): ("hepatitis", "hepatitis c infection"),
}


def _seed_lines() -> list[dict[str, Any]]:
    lines = [json.loads(line) for line in SEED.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [line for line in lines if line["concepts"]]


SEED_LINES = _seed_lines()


@pytest.fixture(scope="module")
def reports() -> dict[str, EvaluationReport]:
    return {path.name: evaluate_file(path) for path in (SEED, MIX)}


@pytest.fixture(scope="module")
def seed_results() -> dict[str, Any]:
    from critparse import parse_many

    return dict(zip((line["id"] for line in SEED_LINES), parse_many(line["text"] for line in SEED_LINES), strict=True))


@pytest.mark.parametrize(
    ("file", "level"),
    [(file, level) for file, levels in FLOORS.items() for level in levels],
    ids=[f"{file}:{level}" for file, levels in FLOORS.items() for level in levels],
)
def test_golden_concepts_floor(reports: dict[str, EvaluationReport], file: str, level: str) -> None:
    score = reports[file].levels[level]
    got = score.recall if level == "window" else score.f1
    assert got >= FLOORS[file][level], f"{file} {level}: {got:.3f} fell below its floor {FLOORS[file][level]}"


def test_golden_concepts_seed_has_twelve_bullets_with_concepts() -> None:
    assert len(SEED_LINES) == 12


@pytest.mark.parametrize("line", SEED_LINES, ids=[line["id"] for line in SEED_LINES])
def test_golden_concepts_seed_exact(seed_results: dict[str, Any], line: dict[str, Any]) -> None:
    result = seed_results[line["id"]]
    got = [
        (c.type, c.text, c.span.start, c.span.end, c.negated, c.modality, list(c.qualifiers))
        for c in result.concepts
    ]
    want = [
        (g["type"], g["text"], g["start"], g["end"], g["negated"], g["modality"], g["qualifiers"])
        for g in line["concepts"]
    ]
    assert got == want


@pytest.mark.parametrize(
    ("bullet", "text", "code"),
    [(b, t, c) for (b, t), c in SEED_CODES.items()],
    ids=[f"{b}:{t}" for b, t in SEED_CODES],
)
def test_golden_concepts_seed_coded(seed_results: dict[str, Any], bullet: str, text: str, code: str) -> None:
    (concept,) = [c for c in seed_results[bullet].concepts if c.text == text]
    assert code in [c.code for c in concept.codes]
    assert all(c.system for c in concept.codes)


@pytest.mark.parametrize(
    ("bullet", "text", "head", "name"),
    [(b, t, h, n) for (b, t), (h, n) in SEED_HEADS.items()],
    ids=[f"{b}:{t}" for b, t in SEED_HEADS],
)
def test_golden_concepts_seed_ellipsis_head(seed_results: dict[str, Any], bullet: str, text: str, head: str, name: str) -> None:
    (concept,) = [c for c in seed_results[bullet].concepts if c.text == text]
    assert (concept.head, concept.name) == (head, name)
