"""Throughput and peak memory of `critparse.parse_many` on one core.

Data: every bullet of the gold files in corpus/ (seed + registry mix), cycled to N bullets
(default 100,000), in file order. Usage:

    python benchmarks/throughput.py [--bullets 100000] [--batch-size 512] [--workers 1]

Prints bullets/s, rules found, and peak resident memory (ru_maxrss) before and after.
"""

from __future__ import annotations

import argparse
import itertools
import json
import resource
import time
import warnings
from pathlib import Path

warnings.filterwarnings("ignore")

ROOT = Path(__file__).resolve().parent.parent


def corpus_texts() -> list[str]:
    texts = []
    for path in sorted((ROOT / "corpus").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.append(json.loads(line)["text"])
    return texts


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bullets", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()

    import critparse

    nlp = critparse.load()
    base = corpus_texts()
    stream = itertools.islice(itertools.cycle(base), args.bullets)
    rss_before = peak_rss_mb()
    started = time.perf_counter()
    count = rules = 0
    for result in critparse.parse_many(stream, nlp=nlp, batch_size=args.batch_size, n_process=args.workers):
        count += 1
        rules += len(result.rules)
    elapsed = time.perf_counter() - started
    print(f"data: {len(base)} distinct corpus bullets cycled to {count:,}")
    print(f"workers: {args.workers}  batch size: {args.batch_size}")
    print(f"elapsed: {elapsed:.1f} s  throughput: {count / elapsed:,.0f} bullets/s  rules: {rules:,}")
    print(f"peak RSS: {rss_before:.0f} MB after loading, {peak_rss_mb():.0f} MB at the end")


if __name__ == "__main__":
    main()
