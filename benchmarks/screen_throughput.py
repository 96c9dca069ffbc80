"""Screening throughput: rules evaluated per second, 10,000 patients x the seed trial's rules.

Run from the repository root:

    python benchmarks/screen_throughput.py [--patients 10000] [--seed 0]

Patients are synthetic plain mappings with mixed units (mg/dL and umol/L creatinine, cell counts
in /mm3 and 10*9/L, own reference ranges or none, some values missing), so the unit cache, the
ULN lookup and every outcome are exercised. Loading the patients is timed separately from
evaluation. Peak memory is tracemalloc's peak over a second, untimed pass that keeps every
result (Python allocations), and the process's maximum resident set size.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from critparse.model import Analyte, Comparator, Criterion, Rule, Span
from critparse.screen.evaluate import evaluate
from critparse.screen.patient import patient_from_mapping


def _rule(name: str, comparator: Comparator, value: float, unit: str | None = None) -> Rule:
    text = f"{name} {comparator} {value:g} {unit or ''}".strip()
    return Rule(
        analyte=Analyte(text=name, name=name, in_lexicon=True),
        comparator=comparator,
        value=value,
        unit=unit,
        span=Span(start=0, end=len(text)),
        text=text,
    )


def seed_trial() -> list[Criterion]:
    """NCT02186860's threshold criteria as the gold corpus labels them."""
    groups = [
        ("Age: 18-65 years", [_rule("age", ">=", 18, "a"), _rule("age", "<=", 65, "a")]),
        ("Stage III-IV disease", [_rule("stage", ">=", 3), _rule("stage", "<=", 4)]),
        ("Creatinine < 2.5 mg/dl", [_rule("creatinine", "<", 2.5, "mg/dL")]),
        ("AST/ALT < 3x normal", [_rule("ast", "<", 3, "x ULN"), _rule("alt", "<", 3, "x ULN")]),
        ("Bilirubin < 2.0 mg/dl", [_rule("bilirubin", "<", 2.0, "mg/dL")]),
        ("Karnofsky performance status >= 60", [_rule("karnofsky", ">=", 60)]),
        ("Expected survival time > 3 months", [_rule("life expectancy", ">", 3, "mo")]),
    ]
    return [
        Criterion(section="inclusion", path=f"inclusion/{i}", text=text, rules=tuple(rules))
        for i, (text, rules) in enumerate(groups, start=1)
    ]


def synthetic_patient(rng: random.Random, i: int) -> dict[str, Any]:
    data: dict[str, Any] = {"id": f"p{i}", "sex": rng.choice(["female", "male", None])}
    data["age"] = rng.randint(10, 90)
    data["stage"] = rng.randint(1, 4)
    creat = rng.uniform(0.4, 4.0)
    data["creatinine"] = (
        f"{creat:.2f} mg/dL" if rng.random() < 0.5 else f"{creat * 88.4:.0f} umol/L"
    )
    ast = rng.uniform(10, 200)
    data["ast"] = (
        {"value": round(ast), "unit": "U/L", "uln": rng.choice([35, 40, 45])}
        if rng.random() < 0.5
        else f"{ast:.0f} U/L"
    )
    data["alt"] = f"{rng.uniform(5, 200):.0f} [IU]/L"
    data["bilirubin"] = f"{rng.uniform(0.2, 3.0):.1f} mg/dL"
    data["karnofsky"] = rng.choice([40, 50, 60, 70, 80, 90, 100])
    data["life expectancy"] = f"{rng.randint(1, 24)} mo"
    data["anc"] = f"{rng.randint(500, 5000):,}/mm3"
    for key in ("stage", "bilirubin", "life expectancy"):  # some charts are incomplete
        if rng.random() < 0.05:
            del data[key]
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    trial = seed_trial()
    n_rules = sum(len(c.rules) for c in trial)
    rng = random.Random(args.seed)
    raw = [synthetic_patient(rng, i) for i in range(args.patients)]

    # Warm the caches (pint registry, UCUM parses, lexicon) so the timing is steady state.
    evaluate(trial, patient_from_mapping(raw[0]))

    t0 = time.perf_counter()
    patients = [patient_from_mapping(p) for p in raw]
    load_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    verdicts: dict[str, int] = {}
    for patient in patients:
        result = evaluate(trial, patient)
        verdicts[result.verdict] = verdicts.get(result.verdict, 0) + 1
    eval_s = time.perf_counter() - t0

    # Memory in a second pass: tracemalloc slows Python several-fold, so it is not timed.
    tracemalloc.start()
    results = [evaluate(trial, patient) for patient in patients]
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del results
    max_rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    evaluated = n_rules * len(patients)
    print(f"patients: {len(patients)}  rules per patient: {n_rules}  rules evaluated: {evaluated}")
    print(f"patient loading: {load_s:.2f} s ({len(patients) / load_s:,.0f} patients/s)")
    print(f"evaluation: {eval_s:.2f} s -> {evaluated / eval_s:,.0f} rules/s "
          f"({len(patients) / eval_s:,.0f} patients/s)")
    print(f"peak traced memory keeping all {len(patients)} results: {peak / 2**20:.1f} MiB; "
          f"max RSS: {max_rss_kib / 1024:.0f} MiB")
    print(f"verdicts: {dict(sorted(verdicts.items()))}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
