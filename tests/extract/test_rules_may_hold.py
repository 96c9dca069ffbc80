"""`extract_rules` told what `may_hold_threshold` says (the component asks it first) reads what
it reads when it asks itself."""

from __future__ import annotations

import json
from pathlib import Path

from critparse.extract.rules import extract_rules, may_hold_threshold
from critparse.lexicon.resources import default_resources

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def test_rules_may_hold_given_reads_as_asked() -> None:
    vocab = default_resources().vocabulary
    texts = sorted({json.loads(line)["text"] for path in sorted(CORPUS.glob("*.jsonl"))
                    for line in path.read_text(encoding="utf-8").splitlines() if line.strip()})[::4]
    held = 0
    for text in [*texts, "", "   ", "ULN", "one or more", "++"]:
        may = may_hold_threshold(text, vocab)
        held += may
        assert extract_rules(text, [], vocab, may_hold=may) == extract_rules(text, [], vocab), text
    assert 100 < held < len(texts)


def test_rules_mentions_asked_only_for_an_expression() -> None:
    """Mentions given as a function read as the list does; the function is called only for a
    text with an expression."""
    vocab = default_resources().vocabulary
    for text, asked in [("Creatinine <= 1.5 mg/dL", True), ("COVID-19 vaccination within a year", False),
                        ("Written informed consent", False), ("ANC ≥ 1500/mm3 and platelets ≥ 100,000", True)]:
        calls: list[str] = []

        def mentions(text: str = text, calls: list[str] = calls) -> list:
            calls.append(text)
            return []

        assert extract_rules(text, mentions, vocab) == extract_rules(text, [], vocab)
        assert bool(calls) == asked, text
