"""The worst single bullets we can build, and how long one parse of each takes.

Each family aims at one weak spot of a regex-and-tokenizer parser: glued runs that make spaCy
peel one affix at a time (digits and quotes, comparators), long runs of spaces inside the
`\\s*...\\s*` patterns around limits of normal and powers of ten, many numbers, spelled counts,
stages, bare limits and mentions for the expression and analyte passes (runs of mentions joined
or set in brackets, each looked back over by every expression after it), long lists of value
sets and scale words for the logic pass, heading-like words. Every family is grown from 250
characters to the 20,000-character cap; the report gives the worst time under 2,000 characters
(target: 10 ms), the time at the cap, and the growth exponent between 2,000 and 20,000
characters (1.0 is linear, 2.0 quadratic). The tokenizer's share, the threshold pass's
(`extract_rules`, given the analyte mentions) and the logic pass's (`build_logic`, given the
rules and concepts) are measured on their own, so a slow family says where the time goes; the
rest is the analyte matcher and the concept pass. Times are CPU time of this process
(`process_time`), so that other work on the machine disturbs them less, best of `--repeat` runs
(of two past 2,000 characters): a full garbage collection, which costs about 0.1 s on the loaded
pipeline's heap whichever bullet it falls on, is left out that way. Every cache is emptied before each run (`forget`):
what is measured is a bullet parsed for the first time.

    python benchmarks/worst_case.py                  # every family (a few minutes)
    python benchmarks/worst_case.py --quick          # sizes up to 2,000 only
    python benchmarks/worst_case.py --family space_x --family digits_quotes

A family whose parse passes `--budget` seconds (default 5) is not grown further, and its
exponent is then measured on the sizes it reached.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
warnings.simplefilter("ignore", FutureWarning)


def _rep(unit: str, n: int) -> str:
    return (unit * (n // len(unit) + 1))[:n]


FAMILIES: dict[str, Callable[[int], str]] = {
    # tokenizer: affixes peeled one at a time from a glued run
    "digits_quotes": lambda n: _rep('1"', n),
    "digits_apostrophes": lambda n: _rep("1'", n),
    "comparators": lambda n: _rep("<", n),
    "number_comparator": lambda n: _rep("1<2", n),
    "punctuation": lambda n: _rep(".,;:!?)]}", n),
    "digits": lambda n: _rep("9", n),
    "letters": lambda n: "a" * n,
    "times_ten": lambda n: _rep("x10^9", n),
    # spaces inside the patterns around limits of normal and powers of ten
    "space_uln": lambda n: "AST < 3" + " " * max(0, n - 12) + "x ULN",
    "space_power": lambda n: "ANC 1.5" + " " * max(0, n - 14) + "x 10^9",
    "space_x": lambda n: "1.5" + " " * max(0, n - 4) + "x",
    # many mentions for the analyte and expression passes
    "many_numbers": lambda n: "Hemoglobin " + _rep("1 ", max(0, n - 11)),
    "numbers_with_units": lambda n: "Hemoglobin " + _rep("1 g/dL, ", max(0, n - 11)),
    "analyte_number": lambda n: _rep("ANC 1500 ", n),
    "bracketed": lambda n: _rep("(ANC 1500) ", n),
    "uln_multiples": lambda n: _rep("3 x ULN ", n),
    "ranges": lambda n: _rep("1-2 ", n),
    "windows": lambda n: _rep("within 2 days ", n),
    "parentheses": lambda n: _rep("(a)", n),
    "thousands": lambda n: "1" + _rep(",000", max(0, n - 1)),
    "mixed": lambda n: _rep("1.5x10^9/L<=", n),
    # spelled counts, stages, limits without a number, pairs, identifiers
    "spelled_numbers": lambda n: _rep("two ", n),
    "spelled_counts": lambda n: _rep("at least two ", n),
    "stages": lambda n: _rep("stage II ", n),
    "grade_lists": lambda n: _rep("grade 1 or 2 ", n),
    "class_lists": lambda n: _rep("Child-Pugh class A or B, ", n),
    "bare_limits": lambda n: _rep("≤ ULN ", n),
    "blood_pressure": lambda n: _rep("140/90 mmHg ", n),
    "restated": lambda n: _rep("eighteen (18) ", n),
    "identifiers": lambda n: _rep("1-2-3 ", n),
    # many concept terms for the concept pass (read up to the 40th term, then cut)
    "concept_list": lambda n: _rep("diabetes, ", n),
    "concept_labels": lambda n: _rep("hepatitis B or C, ", n),
    "concept_cues": lambda n: _rep("no history of heart failure ", n),
    # ordinary text of the same length, for scale
    "prose": lambda n: _rep("Patients with a history of severe allergic reactions to any "
                            "component of the study drug ", n),
}
SMALL = (250, 500, 1000, 2000)
LARGE = (5000, 10_000, 20_000)


def forget(nlp: object) -> None:
    """Empty every cache (parse results, spaCy's token cache, suffix lookups), so each run parses
    a bullet it has never seen: the worst case, not the cached one."""
    tokenizer = getattr(nlp, "tokenizer", None)
    if tokenizer is not None:
        tokenizer._flush_cache()
        getattr(getattr(tokenizer, "suffix_search", None), "_cache", {}).clear()
    for _, proc in getattr(nlp, "pipeline", []):
        getattr(proc, "_cache", {}).clear()


def best_cpu(work: Callable[[], object], repeat: int, nlp: object) -> float:
    """The least CPU time of `repeat` runs of `work`, each after `forget`."""
    best = math.inf
    for _ in range(repeat):
        forget(nlp)
        started = time.process_time()
        work()
        best = min(best, time.process_time() - started)
    return best


def threshold_pass(text: str) -> Callable[[], object]:
    """The threshold pass on `text` as the pipeline runs it (cleaned, long runs cut), with the
    analyte mentions and abbreviations found beforehand."""
    from critparse.extract.rules import extract_rules
    from critparse.nlp.component import MAX_ANALYSED_CHARS
    from critparse.nlp.inputs import prepare
    from critparse.nlp.pipeline import _own_extractor, default_nlp

    extractor = _own_extractor(default_nlp())
    assert extractor is not None
    _, analysed, _ = prepare(text)
    doc = extractor._doc_for(analysed)
    mentions = extractor.mentions(doc, analysed)
    abbreviations = extractor.abbreviations(doc, mentions)
    analysed = analysed[:MAX_ANALYSED_CHARS]
    return lambda: extract_rules(analysed, mentions, extractor.vocab, known=extractor._known,
                                 abbreviations=abbreviations)


def logic_pass(text: str) -> Callable[[], object]:
    """The logic pass on `text` as the pipeline runs it, given the rules and concepts read from it."""
    import critparse
    from critparse.extract.logic import build_logic
    from critparse.nlp.inputs import prepare

    result = critparse.parse(text)
    analysed = prepare(text)[1]
    return lambda: build_logic(analysed, result.rules, concepts=result.concepts)


Point = tuple[int, float, float, float, float]
"""(size, parse seconds, tokenizer seconds, threshold pass seconds, logic pass seconds)."""


def measure(name: str, sizes: tuple[int, ...], budget: float, repeat: int) -> list[Point]:
    """A point for each size, best of `repeat` (of two past 2,000 characters: one run alone may
    hold a full garbage collection, a tenth of a second, and read as a super-linear growth)."""
    import critparse
    from critparse.nlp.inputs import prepare
    from critparse.nlp.pipeline import default_nlp

    nlp = default_nlp()
    out = []
    for n in sizes:
        text = FAMILIES[name](n)
        times = min(2, repeat) if n > 2000 else repeat
        parse = best_cpu(lambda t=text: critparse.parse(t), times, nlp)
        analysed = prepare(text)[1]  # long runs cut, as parsed
        tokens = best_cpu(lambda t=analysed: nlp.make_doc(t), times, nlp)
        thresholds = best_cpu(threshold_pass(text), times, nlp)
        logic = best_cpu(logic_pass(text), times, nlp)
        out.append((n, parse, tokens, thresholds, logic))
        if parse > budget:
            break
    return out


def _exponent(points: list[Point]) -> float | None:
    """Growth exponent between the 2,000-character point (or nearest) and the largest one."""
    base = [p for p in points if p[0] >= 2000] or points
    first, last = base[0], points[-1]
    if last[0] <= first[0] or first[1] <= 0:
        return None
    return math.log(last[1] / first[1]) / math.log(last[0] / first[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--family", action="append", choices=sorted(FAMILIES))
    parser.add_argument("--quick", action="store_true", help="sizes up to 2,000 characters only")
    parser.add_argument("--budget", type=float, default=5.0, help="seconds before a family stops growing")
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs (small sizes)")
    args = parser.parse_args()
    import critparse

    critparse.parse("warm up: Creatinine < 2.5 mg/dl")
    sizes = SMALL if args.quick else SMALL + LARGE
    print(f"{'family':20} {'worst <=2000':>13} {'tokenizer':>10} {'thresholds':>11} {'logic':>8} {'at largest':>16} {'exponent':>9}")
    worst: tuple[float, str] = (0.0, "")
    for name in args.family or list(FAMILIES):
        points = measure(name, sizes, args.budget, args.repeat)
        small = [p for p in points if p[0] <= 2000]
        top = max(small, key=lambda p: p[1])
        worst = max(worst, (top[1], name))
        n, parse = points[-1][:2]
        exponent = _exponent(points) if not args.quick else None
        exp = f"{exponent:9.2f}" if exponent is not None else f"{'-':>9}"
        print(f"{name:20} {top[1] * 1000:10.1f} ms {top[2] * 1000:7.1f} ms {top[3] * 1000:8.1f} ms "
              f"{top[4] * 1000:5.1f} ms {parse * 1000:9.0f} ms @{n:<6}{exp}", flush=True)
    print(f"worst single bullet under 2,000 characters: {worst[0] * 1000:.1f} ms ({worst[1]})")


if __name__ == "__main__":
    main()
