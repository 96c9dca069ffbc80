"""Golden floors for the eligibility segmenter on whole blocks (corpus/blocks.jsonl).

The blocks were labelled by hand (corpus/README.md, "Whole blocks"); `critparse.scoring` splits
each with `critparse.text.segment` and scores the split (P/R/F1), then section and parent accuracy
over the matched items. Floors only go up.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from critparse.scoring import (
    BlockReport,
    evaluate_blocks_file,
    evaluate_file,
    is_block_file,
    predicted_items,
    read_blocks,
    score_blocks,
    trim_span,
)
from critparse.text.segment import split_eligibility

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
BLOCKS = CORPUS / "blocks.jsonl"
HELDOUT = CORPUS / "blocks_heldout.jsonl"  # written after the segmenter's fixes, scored blind first
HELDOUT_B = CORPUS / "blocks_heldout_b.jsonl"  # a second blind set, new layout mixtures
# First scores: blocks 0.930 split F1, 0.982 section, 0.989 parent; held-out 0.997 / 1.0 / 1.0;
# second held-out 0.997 / 0.968 / 0.991.
FLOORS = {
    BLOCKS: {"split": 0.998, "section": 0.998, "parent": 0.995},
    HELDOUT: {"split": 0.995, "section": 0.995, "parent": 0.995},
    HELDOUT_B: {"split": 0.995, "section": 0.995, "parent": 0.995},
}
SIZES = {BLOCKS: 80, HELDOUT: 25, HELDOUT_B: 40}


@pytest.fixture(scope="module")
def reports() -> dict[Path, BlockReport]:
    return {path: evaluate_blocks_file(path) for path in FLOORS}


@pytest.mark.parametrize("path", list(FLOORS), ids=lambda p: p.stem)
def test_golden_blocks_file_shape(path: Path) -> None:
    blocks = list(read_blocks(path))
    assert len(blocks) >= SIZES[path]
    assert len({b.id for b in blocks}) == len(blocks)
    assert all(b.items for b in blocks)
    assert path.read_bytes().endswith(b"\n")


def test_golden_blocks_ids_unique_across_files() -> None:
    ids = [b.id for path in FLOORS for b in read_blocks(path)]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("level", ["split", "section", "parent"])
@pytest.mark.parametrize("path", list(FLOORS), ids=lambda p: p.stem)
def test_golden_blocks_floor(reports: dict[Path, BlockReport], path: Path, level: str) -> None:
    report = reports[path]
    score = report.levels[level].f1
    assert score >= FLOORS[path][level], (level, score, report.misses[:10])


def test_golden_blocks_evaluate_file_dispatches_on_shape() -> None:
    assert is_block_file(BLOCKS)
    assert isinstance(evaluate_file(BLOCKS), BlockReport)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Age 18 or over;", "Age 18 or over"),
        ("Pregnant; and", "Pregnant"),
        ("and renal failure.", "renal failure"),
        ("IHC 3+ or", "IHC 3+"),
        ("**Hepatic** ", "Hepatic"),
        ("ANC | ≥ 1.5 |", "ANC | ≥ 1.5"),
        ("Orthopnoea", "Orthopnoea"),
        ("Signed consent, and/or", "Signed consent"),
        ("体重≥45kg；", "体重≥45kg"),
    ],
)
def test_golden_blocks_trim_span(text: str, expected: str) -> None:
    start, end = trim_span(text, 0, len(text))
    assert text[start:end] == expected


def test_golden_blocks_score_counts_split_section_parent(tmp_path: Path) -> None:
    text = "Inclusion Criteria:\n- Fit for surgery:\n  - Hb 10 or more;\n- Adult\nExclusion Criteria:\n- Smoker"
    items = []
    for fragment, section, parent in [("Fit for surgery:", "inclusion", None), ("Hb 10 or more;", "inclusion", 0),
                                      ("Adult", "inclusion", None), ("Smoker", "inclusion", None)]:
        start = text.index(fragment)
        items.append({"start": start, "end": start + len(fragment), "text": fragment,
                      "section": section, "parent": parent})
    path = tmp_path / "b.jsonl"
    path.write_text(json.dumps({"id": "t-1", "text": text, "items": items}) + "\n", encoding="utf-8")
    gold = list(read_blocks(path))
    result = score_blocks(gold, [predicted_items(text, split_eligibility(text))])
    assert result.levels["split"].f1 == 1.0
    assert result.levels["parent"].f1 == 1.0
    assert result.levels["section"].true_positives == 3  # the gold 'Smoker' is wrong on purpose
    assert result.misses and "section exclusion, not inclusion" in result.misses[0].missing[0]
