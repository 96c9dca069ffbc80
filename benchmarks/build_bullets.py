"""Build `benchmarks/data/bullets.jsonl`: distinct registry-style bullets for throughput runs.

    python benchmarks/build_bullets.py --vocab ../shared/vocab

Two sources, every line distinct:
- the bullets of the gold files in `corpus/` (written in the styles of ClinicalTrials.gov);
- the 4,482 eligibility lines of Clinical-Trial-Parser's `test_processed_medical_ner.tsv`
  (Apache-2.0; lower-cased and tokenized there): spaces around punctuation are closed again,
  the first letter is capitalised and every `@NUMBER` gets a plausible number drawn from a
  seeded generator, so the file is the same on every build.
Credit: benchmarks/data/NOTICE.
"""

from __future__ import annotations

import argparse
import json
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "data" / "bullets.jsonl"
_CLOSE_BEFORE = re.compile(r"\s+([,.;:)\]%]|'s\b)")
_CLOSE_AFTER = re.compile(r"([(\[])\s+")
_SLASH = re.compile(r"\s*/\s*")
_NUMBERS = ("1", "2", "3", "5", "6", "12", "18", "28", "1.5", "2.5", "3", "60", "100", "1,500", "100,000", "9", "0.5", "65", "75")


def _detokenize(line: str, rng: random.Random) -> str:
    text = re.sub(r"@NUMBER", lambda _m: rng.choice(_NUMBERS), line)
    text = _CLOSE_BEFORE.sub(r"\1", text)
    text = _CLOSE_AFTER.sub(r"\1", text)
    text = _SLASH.sub("/", text)
    text = re.sub(r"\s+-\s+(?=\d)", "-", text)
    return text[:1].upper() + text[1:]


def corpus_bullets() -> list[str]:
    texts = []
    for path in sorted((ROOT / "corpus").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    return texts


def ctp_bullets(vocab: Path) -> list[str]:
    rng = random.Random(20261201)
    rows = (vocab / "ctp" / "test_processed_medical_ner.tsv").read_text(encoding="utf-8").splitlines()
    return [_detokenize(row.split("\t", 1)[1], rng) for row in rows if "\t" in row]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vocab", type=Path, required=True, help="the shared vocabulary folder")
    args = parser.parse_args()
    seen: set[str] = set()
    lines = []
    for source, texts in (("corpus", corpus_bullets()), ("ctp", ctp_bullets(args.vocab))):
        for text in texts:
            if text.strip() and text not in seen:
                seen.add(text)
                lines.append(json.dumps({"id": f"{source}-{len(lines) + 1}", "text": text}, ensure_ascii=False))
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(lines)} distinct bullets to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
