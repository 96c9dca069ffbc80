"""Speed of the concept matcher: loading the bundled vocabulary, and `find` on criterion bullets.

    python benchmarks/concept_matcher.py [--repeat N]

Loading is timed in fresh interpreters (the first load is what a process pays); `find` is timed on
every bullet of the gold corpus (`corpus/*.jsonl`), and on the bullets cut or padded to 100
characters, the size the speed target is stated for.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOAD = (
    "import time; t = time.perf_counter(); "
    "from critparse.lexicon.concepts import load_concept_lexicon; "
    "t1 = time.perf_counter(); lex = load_concept_lexicon(); t2 = time.perf_counter(); "
    "print(t1 - t, t2 - t1, len(lex))"
)


def bullets() -> list[str]:
    texts = []
    for path in sorted((ROOT / "corpus").glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    return texts


def time_loads(runs: int) -> list[float]:
    """Seconds to load the vocabulary, each in a fresh interpreter (import time excluded)."""
    seconds = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", LOAD], capture_output=True, text=True, check=True, cwd=ROOT
        )
        seconds.append(float(out.stdout.split()[1]))
    return seconds


def time_find(lexicon, texts: list[str], repeat: int) -> float:
    """Mean microseconds per `find` call over `texts`, best of `repeat` passes."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for text in texts:
            lexicon.find(text)
        best = min(best, time.perf_counter() - start)
    return best / len(texts) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()
    from critparse.lexicon.concepts import load_concept_lexicon

    loads = time_loads(args.loads)
    lexicon = load_concept_lexicon()
    texts = bullets()
    sized = [(t * (100 // max(len(t), 1) + 1))[:100] for t in texts]
    matches = sum(len(lexicon.find(t)) for t in texts)
    print(
        f"concepts: {len(lexicon)}; bullets: {len(texts)} (mean {statistics.mean(map(len, texts)):.0f} chars), {matches} matches"
    )
    print(
        f"load: median {statistics.median(loads) * 1000:.0f} ms, best {min(loads) * 1000:.0f} ms over {len(loads)} fresh processes"
    )
    print(f"find, corpus bullets: {time_find(lexicon, texts, args.repeat):.1f} us per bullet")
    print(
        f"find, 100-character bullets: {time_find(lexicon, sized, args.repeat):.1f} us per bullet"
    )


if __name__ == "__main__":
    main()
