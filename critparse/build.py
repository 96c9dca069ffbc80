"""Build the shipped pipeline artefact: `python -m critparse.build [OUTPUT_DIR]`.

Everything it needs is in the repository (tokenizer rules in code, vocabularies and the analyte
lexicon in `critparse/resources/`), so the artefact is rebuilt byte-for-byte from a clean clone.
"""

from __future__ import annotations

import sys
from pathlib import Path

from critparse.nlp.pipeline import MODEL_DIR, build_pipeline


def build(output: Path = MODEL_DIR) -> Path:
    nlp = build_pipeline()
    output.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output)
    return output


if __name__ == "__main__":  # pragma: no cover
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else MODEL_DIR
    print(f"wrote {build(target)}")
