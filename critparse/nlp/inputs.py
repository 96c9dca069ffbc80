"""What every text goes through on its way to the extractor, and every result on its way out.

In: anything given is made text (bytes decoded, lone surrogates replaced, `None` reported),
cleaned one-for-one so offsets hold (`clean_text`), capped at `MAX_ANALYSED_CHARS`, and glued
runs are broken for the tokenizer. Out: no infinity or NaN reaches a result (`finite_only`).
Compiled with the passes (see `setup.py`); `critparse.nlp.pipeline` does the rest.
"""

from __future__ import annotations

import math
import re
from typing import Any

from critparse.model import Diagnostic, ParseResult
from critparse.model.logic import ConditionLeaf, Logic, iter_leaves
from critparse.nlp.component import MAX_ANALYSED_CHARS

__all__ = ["LONG_RUN", "break_long_runs", "clean_text", "coerce", "finite_only", "prepare"]


# Same-length replacements, so character offsets into the cleaned text are offsets into the
# original: unusual spaces become spaces, dash variants '-', control characters spaces.
_SAME_LENGTH = {
    **{c: " " for c in "\u00a0\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u202f\u205f\u3000\ufeff\u200b"},
    **{c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe63\uff0d"},
    "\uff1c": "<", "\uff1e": ">", "\uff1d": "=", "\u2264": "≤", "\u2265": "≥",
    "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u00d7": "×",
}
_TABLE = str.maketrans({**_SAME_LENGTH, **{chr(i): " " for i in range(32) if chr(i) not in "\n\t"}, "\x7f": " "})


_SURROGATES = chr(0xD800) + "-" + chr(0xDFFF)  # a range, written with chr: mypyc takes no surrogate literals
_SURROGATE = re.compile(f"[{_SURROGATES}]")
_CHANGED = re.compile("[" + re.escape("".join(chr(c) for c, to in _TABLE.items() if to != chr(c)))
                      + _SURROGATES + "]")
"""Any character `clean_text` replaces: most texts have none, and a search is cheaper than
`translate`, which builds a new string character by character."""


def clean_text(text: str) -> str:
    """Replace odd spaces, dashes and control characters one-for-one (offsets are kept)."""
    if _CHANGED.search(text) is None:
        return text
    return _SURROGATE.sub("\ufffd", text.translate(_TABLE))  # lone surrogates break encoders


LONG_RUN = 1000
"""Characters without a space after which the analysed copy gets one (spaCy peels the affixes
of a token one at a time, each step costing the token's length: quadratic in a glued run)."""
_LONG_RUN = re.compile(rf"\S{{{LONG_RUN},}}")


def break_long_runs(text: str) -> tuple[str, list[Diagnostic]]:
    """Every `LONG_RUN`-th character of a run without spaces made a space (same length)."""
    runs = list(_LONG_RUN.finditer(text)) if len(text) >= LONG_RUN else []
    if not runs:
        return text, []
    chars = list(text)
    for run in runs:
        for i in range(run.start() + LONG_RUN - 1, run.end(), LONG_RUN):
            chars[i] = " "
    return "".join(chars), [Diagnostic(
        level="warning", code="long_token",
        message=f"a run of more than {LONG_RUN} characters without a space was cut for analysis")]


def coerce(item: Any) -> tuple[str, list[Diagnostic]]:
    if isinstance(item, str):
        if _SURROGATE.search(item) is None:
            return item, []
        return _SURROGATE.sub("\ufffd", item), [Diagnostic(
            level="warning", code="replaced_surrogates",
            message="lone surrogates (not Unicode characters) were replaced with U+FFFD")]
    if isinstance(item, (bytes, bytearray)):
        text = bytes(item).decode("utf-8", errors="replace")
        return text, [Diagnostic(level="warning", code="decoded_bytes", message="input was bytes; decoded as UTF-8 with replacement")]
    if item is None:
        return "", [Diagnostic(level="error", code="not_text", message="input is None, not text")]
    return "", [Diagnostic(level="error", code="not_text", message=f"input is {type(item).__name__}, not text")]


def prepare(item: Any) -> tuple[str, str, list[Diagnostic]]:
    """The text as given, the text analysed (cleaned, capped) and what was said about it."""
    text, diagnostics = coerce(item)
    if len(text) > MAX_ANALYSED_CHARS:
        diagnostics.append(Diagnostic(
            level="warning", code="text_truncated",
            message=f"text has {len(text)} characters; only the first {MAX_ANALYSED_CHARS} were analysed",
        ))
    analysed, notes = break_long_runs(clean_text(text[:MAX_ANALYSED_CHARS]))
    diagnostics.extend(notes)
    return text, analysed, diagnostics


def _non_finite_thresholds(logic: Logic | None) -> bool:
    """Whether a condition's limits (an age band) hold inf or NaN.

    In a result, floats live only in rule values (the flat rules and a condition's thresholds)
    and time windows (which refuse inf themselves); `tests/nlp/test_speedups.py` fails when a
    model gains another float field, so this walk cannot silently miss one.
    """
    if logic is None:
        return False
    return any(
        isinstance(leaf, ConditionLeaf) and any(not math.isfinite(r.value) for r in leaf.condition.thresholds)
        for leaf in iter_leaves(logic)
    )


def _non_finite_window(concept: Any) -> bool:
    """A concept's only number is its time window's (TimeWindow checks it; this is belt and braces)."""
    value = concept.temporal.value if concept.temporal is not None else None
    return value is not None and not math.isfinite(value)


def finite_only(result: ParseResult) -> dict[str, Any]:
    """The fields to replace so that no inf or NaN reaches the output ({} when there is none).

    JSON has no infinity (pydantic writes null, which the schema forbids), and a bound of
    `10^400` is not a threshold anyone meant. Rules go as a whole, since the logic tree points
    at them by index; concepts that carry such a number go too.
    """
    bad_rules = any(not math.isfinite(r.value) for r in result.rules) or _non_finite_thresholds(result.logic)
    if not bad_rules and not any(_non_finite_window(c) for c in result.concepts):
        return {}
    concepts = tuple(c for c in result.concepts if not _non_finite_window(c))
    update: dict[str, Any] = {"concepts": concepts, "logic": None}
    if bad_rules:
        update.update(rules=(), no_threshold_reason="a number in the text is too large to use")
    return update
