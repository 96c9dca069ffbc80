"""The speed-ups change nothing: text-first parsing (tokens only where needed) and the result
cache give exactly what the Doc-first path gives."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from critparse.nlp.doc_keys import TEXT_KEY

CORPUS = Path(__file__).resolve().parents[2] / "corpus"


def _texts() -> list[str]:
    texts: list[str] = []
    for path in sorted(CORPUS.glob("*.jsonl")):
        texts += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return sorted(set(texts))[::7]  # a spread of every file, a few hundred bullets


@pytest.mark.parametrize("path", ["text-first", "cached"])
def test_fast_path_matches_doc_path(nlp, path: str) -> None:
    extractor = nlp.get_pipe("critparse_rules")
    texts = _texts()
    assert len(texts) > 200
    for text in texts:
        doc = nlp.make_doc(text)
        doc.user_data[TEXT_KEY] = text
        expected = extractor.parse_doc(doc)
        if path == "text-first":
            got = extractor.parse_text(text)
        else:
            extractor.safe_parse(text)
            got = extractor.safe_parse(text)  # the second call is answered from the cache
        assert got.model_dump_json() == expected.model_dump_json(), text
