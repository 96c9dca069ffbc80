"""Speed of the concept matcher: loading the bundled vocabulary, and `find` on criterion bullets.

    python benchmarks/concept_matcher.py [--repeat N] [--loads N]

Loading is timed in fresh interpreters (the first load is what a process pays; imports are not
counted); `find` is timed on every bullet of the gold corpus (`corpus/*.jsonl`), and on the same
bullets cut or repeated to 100 characters, the size the speed target is stated for. Wall and CPU
time are both shown: on a shared machine the CPU time is the steadier figure.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
import timeit
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOAD = (
    "import time; from critparse.lexicon.concepts import load_concept_lexicon; "
    "t, c = time.perf_counter(), time.process_time(); lex = load_concept_lexicon(); "
    "print(time.perf_counter() - t, time.process_time() - c, len(lex))"
)


def bullets() -> list[str]:
    texts = []
    for path in sorted((ROOT / "corpus").glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    return texts


def time_loads(runs: int) -> tuple[list[float], list[float]]:
    """Wall and CPU seconds to load the vocabulary, each in a fresh interpreter."""
    wall, cpu = [], []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", LOAD], capture_output=True, text=True, check=True, cwd=ROOT
        )
        fields = out.stdout.split()
        wall.append(float(fields[0]))
        cpu.append(float(fields[1]))
    return wall, cpu


def time_find(lexicon, texts: list[str], repeat: int) -> tuple[float, float]:
    """Mean wall and CPU microseconds per `find` call over `texts`, best of `repeat` passes."""
    best_wall = best_cpu = float("inf")
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        for text in texts:
            lexicon.find(text)
        best_wall = min(best_wall, time.perf_counter() - wall)
        best_cpu = min(best_cpu, time.process_time() - cpu)
    return best_wall / len(texts) * 1e6, best_cpu / len(texts) * 1e6


def calibrate() -> float:
    """Milliseconds for `sum(range(10**6))`: how busy the machine is (about 18 ms when idle here)."""
    return min(timeit.repeat("sum(range(10**6))", number=1, repeat=7)) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--loads", type=int, default=5)
    args = parser.parse_args()
    from critparse.lexicon.concepts import load_concept_lexicon

    print(f"calibration: sum(range(10**6)) = {calibrate():.1f} ms")
    wall, cpu = time_loads(args.loads)
    lexicon = load_concept_lexicon()
    texts = bullets()
    sized = [(t * (100 // max(len(t), 1) + 1))[:100] for t in texts]
    matches = sum(len(lexicon.find(t)) for t in texts)
    mean_chars = statistics.mean(map(len, texts))
    print(
        f"concepts: {len(lexicon)}; bullets: {len(texts)} (mean {mean_chars:.0f} chars); {matches} matches"
    )
    print(
        f"load: median {statistics.median(wall) * 1000:.0f} ms wall, "
        f"{statistics.median(cpu) * 1000:.0f} ms CPU over {len(wall)} fresh processes"
    )
    for label, sample in (("corpus bullets", texts), ("100-character bullets", sized)):
        us_wall, us_cpu = time_find(lexicon, sample, args.repeat)
        print(f"find, {label}: {us_wall:.1f} us wall, {us_cpu:.1f} us CPU per bullet")


if __name__ == "__main__":
    main()
