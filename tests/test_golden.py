"""Golden tests driven by the hand-labelled corpus files.

The seed trial must parse exactly (every bullet is its own test, id = the line's id). The larger
registry mix is scored as a whole against F1 floors that only go up.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import critparse
from critparse.scoring import evaluate_file, read_gold

CORPUS = Path(__file__).resolve().parent.parent / "corpus"

SEED = CORPUS / "NCT02186860.jsonl"
MIX = CORPUS / "registry_mix.jsonl"
HELDOUT = CORPUS / "heldout_registry.jsonl"
HELDOUT_B = CORPUS / "heldout_b.jsonl"
HELDOUT_C = CORPUS / "heldout_c.jsonl"
HELDOUT_D = CORPUS / "heldout_d.jsonl"
HELDOUT_E = CORPUS / "heldout_e.jsonl"
HELDOUT_F = CORPUS / "heldout_f.jsonl"
HELDOUT_G = CORPUS / "heldout_g.jsonl"  # blind: scored, never used to develop the parser
HELDOUT_H = CORPUS / "heldout_h.jsonl"
HELDOUT_I = CORPUS / "heldout_i.jsonl"
HELDOUT_J = CORPUS / "heldout_j.jsonl"
FAMILIES = CORPUS / "families.jsonl"  # by error family; fixed by general rules, never its strings
# Floors only go up. The held-out files were written after the parser; rules they exposed were
# made general (see corpus/README.md), so their floors are lower than the mix's. heldout_b is
# the hardest (long protocol sentences, flattened tables) and is held to its floors only.
FLOORS = {
    MIX: {"value": 0.99, "unit": 0.99, "analyte": 0.99},
    HELDOUT: {"value": 0.99, "unit": 0.985, "analyte": 0.975},
    HELDOUT_B: {"value": 0.95, "unit": 0.935, "analyte": 0.915},
    HELDOUT_C: {"value": 0.98, "unit": 0.975, "analyte": 0.96},
    HELDOUT_D: {"value": 0.985, "unit": 0.98, "analyte": 0.94},
    HELDOUT_E: {"value": 0.975, "unit": 0.975, "analyte": 0.945},
    HELDOUT_F: {"value": 0.97, "unit": 0.96, "analyte": 0.925},
    HELDOUT_G: {"value": 0.95, "unit": 0.94, "analyte": 0.875},
    HELDOUT_H: {"value": 0.95, "unit": 0.93, "analyte": 0.86},
    HELDOUT_I: {"value": 0.97, "unit": 0.955, "analyte": 0.91},
    HELDOUT_J: {"value": 0.95, "unit": 0.925, "analyte": 0.895},
    FAMILIES: {"value": 0.99, "unit": 0.97, "analyte": 0.93},
}
# Rules invented on bullets that have none, as a share of those bullets.
NEGATIVE_CEILINGS = {HELDOUT: 0.01, HELDOUT_B: 0.03, HELDOUT_C: 0.02, HELDOUT_D: 0.03, HELDOUT_E: 0.02, HELDOUT_F: 0.05, HELDOUT_G: 0.06, HELDOUT_H: 0.02, HELDOUT_I: 0.02, HELDOUT_J: 0.02, FAMILIES: 0.01}


def _key(rule) -> tuple:
    return (rule.analyte.name, rule.comparator, float(rule.value), rule.unit)


@pytest.mark.parametrize("item", list(read_gold(SEED)), ids=lambda item: str(item.id))
def test_golden_seed_bullet(nlp, item):
    result = critparse.parse(item.text, nlp=nlp)
    assert sorted(map(_key, result.rules)) == sorted(map(_key, item.rules))
    assert bool(result.no_threshold_reason) == (not item.rules)


def test_golden_seed_scores_one(nlp):
    report = evaluate_file(SEED, nlp=nlp)
    assert {level: s.f1 for level, s in report.levels.items()} == {"value": 1.0, "unit": 1.0, "analyte": 1.0}


@pytest.mark.parametrize("path", list(FLOORS), ids=lambda p: p.stem)
def test_golden_f1_floors(nlp, path):
    report = evaluate_file(path, nlp=nlp)
    scores = {level: s.f1 for level, s in report.levels.items()}
    assert all(scores[level] >= floor for level, floor in FLOORS[path].items()), (scores, report.misses[:10])


@pytest.mark.parametrize(
    "item",
    [i for path in (SEED, MIX, HELDOUT, FAMILIES) for i in read_gold(path) if not i.rules],
    ids=lambda item: str(item.id),
)
def test_golden_no_threshold_bullets_stay_empty(nlp, item):
    assert critparse.parse(item.text, nlp=nlp).rules == ()


@pytest.mark.parametrize("path", list(NEGATIVE_CEILINGS), ids=lambda p: p.stem)
def test_golden_few_rules_on_negative_bullets(nlp, path):
    negatives = [item for item in read_gold(path) if not item.rules]
    hits = [item.id for item in negatives if critparse.parse(item.text, nlp=nlp).rules]
    assert len(hits) / len(negatives) <= NEGATIVE_CEILINGS[path], hits


@pytest.mark.parametrize("check", ["ucumvert"])
def test_golden_every_emitted_unit_is_ucum(nlp, check):
    """Every unit code the parser gives on every gold bullet is one ucumvert reads."""
    from critparse.lexicon.resources import default_resources

    ucum = default_resources().ucum
    texts = [item.text for path in [SEED, *FLOORS] for item in read_gold(path)]
    codes = {r.unit for result in critparse.parse_many(texts, nlp=nlp) for r in result.rules if r.unit}
    bad = sorted(c for c in codes - {"x ULN", "x LLN"} if not ucum.is_ucum(c))
    assert not bad
