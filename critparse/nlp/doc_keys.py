"""Keys critparse keeps in `Doc.user_data` (they travel with DocBin, to_bytes and n_process)."""

from __future__ import annotations

from spacy.tokens import Doc

RESULT_KEY = "critparse.result"
CONTEXT_KEY = "critparse.context"
TEXT_KEY = "critparse.text"
"""`parse_many` leaves the text here when it makes the Doc: `doc.text` rebuilds it token by token."""
ABBREVIATIONS_DONE_KEY = "critparse.abbreviations_done"


def doc_text(doc: Doc) -> str:
    text = doc.user_data.get(TEXT_KEY)
    return text if isinstance(text, str) else doc.text
