"""Bullets per second and peak memory of `critparse.parse_many`, optionally beside a peer.

Data: `benchmarks/data/bullets.jsonl` (6,150 distinct registry-style bullets, see
`build_bullets.py`), or any JSONL/plain-text file of bullets with `--data`. Each bullet is parsed
once by default (`--repeat N` parses the set N times, for longer runs; repeated text hits the
parse cache, so say so when quoting such figures).

    python benchmarks/throughput.py                          # critparse alone, one core
    python benchmarks/throughput.py --cpu 0 --compare 'peer-parser --input {input}'

`--compare CMD` runs CMD as a separate process on the same bullets, written one per line to a
temporary file whose path replaces `{input}`, and reports its process wall time beside
critparse's (also measured as a whole process, pipeline load included, so both pay start-up).
`--cpu N` pins both to one core. The parsing figure leaves out start-up, reported beside it:
the import, the pipeline load, and a first parse of a bullet not in the data (it loads the
concept tables lazily).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "benchmarks" / "data" / "bullets.jsonl"
WARM_UP = "Bilirubin <= 1.5 x ULN (ALT (SGPT) < 3 x ULN) unless no history of hepatitis B within 6 months"
"""Parsed once before timing (not one of the data's bullets, so it leaves no cache hit)."""


def read_bullets(path: Path) -> list[str]:
    texts = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        texts.append(json.loads(line)["text"] if line.lstrip().startswith("{") else line)
    return texts


def run_critparse(texts: list[str], batch_size: int, workers: int) -> dict[str, float]:
    """Parse in this process; figures for the parse alone and with the pipeline load."""
    started = time.perf_counter()
    import critparse
    from critparse.nlp.pipeline import default_nlp

    imported = time.perf_counter()
    default_nlp()
    built = time.perf_counter()
    critparse.parse(WARM_UP)  # its first parse loads the concept tables: start-up too
    loaded = time.perf_counter()
    rules = concepts = 0
    for result in critparse.parse_many(texts, batch_size=batch_size, n_process=workers):
        rules += len(result.rules)
        concepts += len(getattr(result, "concepts", ()))
    done = time.perf_counter()
    return {"load_s": loaded - started, "import_s": imported - started, "pipeline_s": built - imported,
            "first_parse_s": loaded - built, "parse_s": done - loaded, "rules": rules, "concepts": concepts,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_peer(command: str, texts: list[str]) -> float:
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as handle:
        handle.write("\n".join(t.replace("\n", " ") for t in texts) + "\n")
    try:
        args = [a.replace("{input}", handle.name) for a in shlex.split(command)]
        started = time.perf_counter()
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL)
        return time.perf_counter() - started
    finally:
        os.unlink(handle.name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--cpu", type=int, default=None, help="pin to this core")
    parser.add_argument("--compare", default=None, help="a peer command; {input} is the bullets file")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    texts = read_bullets(args.data) * args.repeat
    if args.child:
        print(json.dumps(run_critparse(texts, args.batch_size, args.workers)))
        return
    child = [sys.executable, __file__, "--child", "--data", str(args.data), "--repeat", str(args.repeat),
             "--batch-size", str(args.batch_size), "--workers", str(args.workers)]
    started = time.perf_counter()
    done = subprocess.run(child, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"critparse run failed:\n{done.stderr[-3000:]}")
    out = done.stdout
    figures = json.loads(out.strip().splitlines()[-1])
    n = len(texts)
    print(f"data: {args.data.name}, {n:,} bullets ({len(set(texts)):,} distinct); workers {args.workers}")
    print(f"critparse: {n / figures['parse_s']:,.0f} bullets/s parsing ({figures['parse_s']:.2f} s), "
          f"{n / wall:,.0f} bullets/s as a process ({wall:.2f} s, start-up {figures['load_s']:.2f} s: "
          f"import {figures['import_s']:.2f}, pipeline {figures['pipeline_s']:.2f}, "
          f"first parse {figures['first_parse_s']:.2f}); "
          f"rules {figures['rules']:,}, concepts {figures['concepts']:,}; peak RSS {figures['peak_rss_mb']:.0f} MB")
    if args.compare:
        peer = run_peer(args.compare, texts)
        print(f"peer: {n / peer:,.0f} bullets/s as a process ({peer:.2f} s); "
              f"critparse / peer = {peer / wall:.2f}x")


if __name__ == "__main__":
    main()
