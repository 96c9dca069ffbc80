"""Whole-trial throughput: trials/s, bullets/s and peak memory, on one core and with 2 workers.

Builds N realistic registry v2 study records (default 20,000) from the gold bullets in
corpus/*.jsonl (a small built-in list when the corpus is absent), laid out in the forms real
records use (markdown bullets with nested sub-bullets, the legacy "  -  " layout with wrapped
lines, numbered lists with lettered children, PDQ sub-headings, bare paragraphs, Word bullets),
plus a bad line every 1,000 records. Each configuration runs `critparse.runs.batch.run` in its
own process so its peak RSS is its own.

    python benchmarks/throughput_trials.py               # 20,000 trials, workers 1 and 2
    python benchmarks/throughput_trials.py -n 2000 --workers 1
    python benchmarks/throughput_trials.py --big-study 200000 --workers 1   # one study of 200,000 lines
    python benchmarks/throughput_trials.py -n 340 --workers 1 --cpu 0 --compare 'peer --input {input}'

Bullets come from benchmarks/data/bullets.jsonl (6,150 distinct) dealt without replacement, so
about 340 trials use each bullet once; larger runs repeat bullets (the parse cache then helps,
as it does on real registries, where about 20% of bullets repeat verbatim).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGISTRY_TRIALS = 550_000  # studies on ClinicalTrials.gov, order of magnitude (2025)
WARM_UP = "Bilirubin <= 1.5 x ULN (ALT (SGPT) < 3 x ULN) unless no history of hepatitis B within 6 months"
"""Parsed once before timing, so the lazily loaded tables are start-up; in no generated trial."""

_FALLBACK = [
    ("inclusion", "Age >= 18 years"), ("inclusion", "ECOG performance status 0-1"),
    ("inclusion", "Creatinine < 1.5 mg/dL"), ("inclusion", "Hemoglobin >= 9 g/dL"),
    ("inclusion", "Signed informed consent"), ("exclusion", "Pregnant or breastfeeding"),
    ("exclusion", "Active hepatitis B or C infection"), ("exclusion", "QTcF > 470 ms"),
]


def load_bullets() -> list[tuple[str, str]]:
    """The distinct bullets of benchmarks/data/bullets.jsonl, else the gold bullets of corpus/."""
    data = ROOT / "benchmarks" / "data" / "bullets.jsonl"
    if data.is_file():
        rows = [json.loads(line) for line in data.read_text(encoding="utf-8").splitlines() if line.strip()]
        exclusion = ("no ", "not ", "pregnan", "history of", "known ", "active ", "prior ", "any ")
        return [("exclusion" if r["text"].lower().startswith(exclusion) else "inclusion", r["text"]) for r in rows]
    bullets = []
    for path in sorted((ROOT / "corpus").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                obj = json.loads(line)
                bullets.append((obj.get("section", "inclusion"), obj["text"]))
            except (ValueError, KeyError, TypeError):
                continue
    return bullets or _FALLBACK


def _wrap(text: str, width: int, indent: str) -> str:
    words, lines, cur = text.split(), [], ""
    for word in words:
        if cur and len(cur) + 1 + len(word) > width:
            lines.append(cur)
            cur = word
        else:
            cur = f"{cur} {word}".strip()
    lines.append(cur)
    return ("\n" + indent).join(lines)


def _block(rng: random.Random, inc: list[str], exc: list[str]) -> str:
    layout = rng.randrange(6)
    if layout == 0:  # current registry markdown, one nested group
        inc_lines = [f"* {b}" for b in inc]
        if len(inc) > 3:
            inc_lines.insert(2, "* Adequate organ function defined as:")
            inc_lines[3:5] = [f"  * {b[2:]}" for b in inc_lines[3:5]]
        return ("Inclusion Criteria:\n\n" + "\n".join(inc_lines) + "\n\nExclusion Criteria:\n\n"
                + "\n".join(f"* {b}" for b in exc))
    if layout == 1:  # legacy layout, wrapped at 70 columns
        def legacy(items: list[str]) -> str:
            return "\n\n".join("  -  " + _wrap(b, 70, "     ") for b in items)
        return (f"Inclusion Criteria:\n\n{legacy(inc)}\n\nExclusion Criteria:\n\n{legacy(exc)}")
    if layout == 2:  # numbered with lettered children
        lines = ["INCLUSION CRITERIA"]
        for i, b in enumerate(inc, 1):
            lines.append(f"{i}. {b}")
            if i == 2:
                lines += ["   a. confirmed at screening", "   b. within 28 days"]
        lines.append("EXCLUSION CRITERIA")
        lines += [f"{i}) {b}" for i, b in enumerate(exc, 1)]
        return "\n".join(lines)
    if layout == 3:  # PDQ sub-headings
        return ("DISEASE CHARACTERISTICS:\n  - " + "\n  - ".join(inc[:2])
                + "\n\nPATIENT CHARACTERISTICS:\n\nHematopoietic:\n  - "
                + "\n  - ".join(inc[2:] or ["Not specified"])
                + "\n\nPRIOR CONCURRENT THERAPY:\n  - " + "\n  - ".join(exc))
    if layout == 4:  # bare paragraphs
        return ("Inclusion Criteria\n\n" + "\n".join(inc) + "\n\nExclusion Criteria\n\n"
                + "\n".join(exc))
    return ("Key Inclusion Criteria:\n" + "\n".join(f"• {b}" for b in inc)
            + "\nKey Exclusion Criteria:\n" + "\n".join(f"• {b}" for b in exc))


class _Deck:
    """Bullets dealt without replacement (reshuffled when spent), so trials repeat bullets only
    once the distinct pool has been used up, not by sampling the same few over and over."""

    def __init__(self, items: list[str], rng: random.Random) -> None:
        self.items, self.rng, self.left = items, rng, []  # type: list[str]

    def deal(self, k: int) -> list[str]:
        out = []
        while len(out) < k:
            if not self.left:
                self.left = self.items[:]
                self.rng.shuffle(self.left)
            out.append(self.left.pop())
        return out


def generate(n: int, path: Path, seed: int = 2186860) -> None:
    rng = random.Random(seed)
    bullets = load_bullets()
    inc_deck = _Deck([t for s, t in bullets if s != "exclusion"] or [t for _, t in bullets], rng)
    exc_deck = _Deck([t for s, t in bullets if s == "exclusion"] or [t for _, t in bullets], rng)
    with path.open("w", encoding="utf-8") as out:
        for i in range(n):
            if i % 1000 == 999:
                out.write("{truncated record\n")
                continue
            inc = inc_deck.deal(rng.randint(4, 14))
            exc = exc_deck.deal(rng.randint(3, 10))
            module = {
                "eligibilityCriteria": _block(rng, inc, exc),
                "healthyVolunteers": rng.random() < 0.1,
                "sex": rng.choice(["ALL", "ALL", "ALL", "FEMALE", "MALE"]),
                "minimumAge": rng.choice(["18 Years", "12 Years", "6 Months", "65 Years"]),
                "stdAges": ["ADULT", "OLDER_ADULT"],
            }
            if rng.random() < 0.6:
                module["maximumAge"] = rng.choice(["75 Years", "65 Years", "17 Years"])
            study = {"protocolSection": {
                "identificationModule": {"nctId": f"NCT{i:08d}"},
                "eligibilityModule": module}}
            out.write(json.dumps(study, ensure_ascii=False) + "\n")


def generate_big_study(lines: int, path: Path) -> None:
    """One study whose eligibility text has `lines` lines (bullets, wrapped lines, sub-bullets):
    the memory of a run must not grow with it beyond the text itself."""
    bullets = [text for _, text in load_bullets()]
    rows = []
    for i in range(lines):
        kind = i % 5
        text = bullets[i % len(bullets)]
        rows.append(f"* {text}" if kind in (0, 1) else f"  - {text}" if kind == 2
                    else f"  continued {i}" if kind == 3 else "")
    study = {"protocolSection": {"identificationModule": {"nctId": "NCT99999999"},
                                 "eligibilityModule": {"eligibilityCriteria": "\n".join(rows)}}}
    path.write_text(json.dumps(study, ensure_ascii=False) + "\n", encoding="utf-8")


def run_one(source: str, workers: int, fmt: str) -> dict[str, float]:
    """One measured run (called in a child process)."""
    sys.path.insert(0, str(ROOT))
    loading = time.perf_counter()
    from critparse.nlp.pipeline import default_nlp, parse
    from critparse.runs.batch import run

    # Start-up is not throughput: the pipeline `run` uses, and the tables its first parse loads.
    default_nlp()
    parse(WARM_UP)
    startup = time.perf_counter() - loading
    suffix = "parquet" if fmt == "parquet" else "jsonl"
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        summary = run(source, Path(tmp) / f"out.{suffix}", fmt=fmt, workers=workers,  # type: ignore[arg-type]
                      batch_size=256)
        seconds = time.perf_counter() - started
    peak_self = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {"workers": workers, "startup_s": round(startup, 2), "trials": summary.trials,
            "errors": summary.errors,
            "bullets": summary.bullets, "records": summary.criteria, "rules": summary.rules,
            "seconds": round(seconds, 2), "trials_per_s": round(summary.trials / seconds, 1),
            "bullets_per_s": round(summary.bullets / seconds, 1),
            "peak_rss_mb": round(peak_self, 1), "peak_worker_rss_mb": round(peak_children, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", "--trials", type=int, default=20_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--format", default="jsonl", choices=["jsonl", "parquet"])
    parser.add_argument("--input", help="Use this JSONL instead of generating one.")
    parser.add_argument("--cpu", type=int, default=None, help="pin every run to this core")
    parser.add_argument("--compare", default=None,
                        help="a peer command run on the same studies file ({input}), timed as a process")
    parser.add_argument("--big-study", type=int, default=None, metavar="LINES",
                        help="instead: one study of this many lines (peak memory per study)")
    parser.add_argument("--run-one", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    if args.run_one:
        print(json.dumps(run_one(args.run_one, args.workers[0], args.format)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(args.input) if args.input else Path(tmp) / "studies.jsonl"
        if args.big_study:
            generate_big_study(args.big_study, source)
        elif not args.input:
            generate(args.trials, source)
        records = 1 if args.big_study else args.trials
        print(f"input: {source.stat().st_size / 1e6:.1f} MB, {records} records", flush=True)
        for workers in args.workers:
            proc = subprocess.run(
                [sys.executable, __file__, "--run-one", str(source), "--workers", str(workers),
                 "--format", args.format],
                capture_output=True, text=True, check=True)
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            if result["trials_per_s"] and not args.big_study:
                result["registry_hours"] = round(REGISTRY_TRIALS / result["trials_per_s"] / 3600, 2)
            print(json.dumps(result), flush=True)
        if args.compare:
            command = [a.replace("{input}", str(source)) for a in shlex.split(args.compare)]
            started = time.perf_counter()
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
            seconds = time.perf_counter() - started
            print(json.dumps({"peer": args.compare, "seconds": round(seconds, 2),
                              "trials_per_s": round(args.trials / seconds, 1)}), flush=True)


if __name__ == "__main__":
    main()
