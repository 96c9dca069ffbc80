"""Durations that are not ages: time since an event, how long a condition has lasted, age at an event.

A number of months or years is an age only when nothing else claims it. These functions name the
other readings (word lists in `words.json`, `durations`):

* an event right after the duration: `≥ 4 weeks since prior chemotherapy`, `> 6 months
  post-transplant`, `≥ 5 years after completion of therapy` -> `time since ...`;
* a condition that lasts: `type 2 diabetes for ≥ 5 years`, `back pain lasting ≥ 3 months`, `colitis
  diagnosed ≥ 3 months before screening`, `an episode of ≥ 8 weeks' duration` -> `duration of ...`;
* an age at an event: `Age at diagnosis < 40 years`, `age at onset of psoriasis ≤ 40` -> its own
  analyte, not today's age.
"""

from __future__ import annotations

import re

from critparse.extract.mentions import Mention
from critparse.lexicon.phrases import phrase_pattern
from critparse.lexicon.vocabulary import Vocabulary

_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
_STOP = r"(?=\s*(?:[,;.()<>≤≥=:]|$|\b(?:and|or|to|before|at|in|with|who|which|that|must|is|are|was)\b))"


class DurationPatterns:
    """The duration patterns, compiled once per vocabulary from `words.json` durations."""

    def __init__(self, vocab: Vocabulary) -> None:
        d = vocab.words.durations
        event = r"[A-Za-z][A-Za-z0-9'\- ]{1,50}?"
        self.event = re.compile(
            rf"\s*(?:(?:{phrase_pattern(d.since)})\s+|(?:{phrase_pattern(d.post)})[- ])({event}){_STOP}",
            re.IGNORECASE,
        )
        self.lead = re.compile(rf"(?<![A-Za-z])(?:{phrase_pattern(d.lasting)})\s*$", re.IGNORECASE)
        self.tail = re.compile(rf"['’]?\s*(?:{phrase_pattern(d.tails)})(?![A-Za-z])", re.IGNORECASE)
        self.dropped = re.compile(rf"^(?:{phrase_pattern(d.dropped)})\s+", re.IGNORECASE)
        self.age_event = re.compile(
            rf"\s+at\s+(?:the\s+time\s+of\s+)?(?:{phrase_pattern(d.age_events)})(?:\s+of\s+[A-Za-z'\- ]{{1,40}}?)?"
            r"(?=\s*(?:[<>≤≥=(:]|\d|\b(?:below|above|under|over|less|more|greater|younger|older|between|"
            r"was|is|must|no|not)\b))",  # the age at an event is the subject: a limit follows
            re.IGNORECASE,
        )


def duration_patterns(vocab: Vocabulary) -> DurationPatterns:
    return vocab.derived("extract.durations", DurationPatterns)


def event_after(text: str, pos: int, vocab: Vocabulary) -> Mention | None:
    """'time since X' for 'since (the) X', 'post-X' or 'after X' right after a duration at `pos`."""
    m = duration_patterns(vocab).event.match(text, pos)
    if m is None:
        return None
    words = m.group(1).split()[:7]
    start = m.start(1)
    end = start + len(" ".join(words)) if words else m.end(1)
    surface = text[start:end]
    name = "time since " + " ".join(_ARTICLE.sub("", surface).lower().split())
    return Mention(start, end, surface, name, in_lexicon=False)


def lasting(text: str, analyte: Mention, lo: int, expr_start: int, expr_end: int, vocab: Vocabulary) -> Mention:
    """'duration of X' when the words before the duration say X lasts ('X for', 'X lasting', 'X
    diagnosed') or the words after it do ('of 8 weeks' duration', 'more than 10 years ago')."""
    pats = duration_patterns(vocab)
    between = text[max(lo, analyte.end) : expr_start]
    if not (pats.lead.search(between) or pats.tail.match(text, expr_end)):
        return analyte
    name = pats.dropped.sub("", analyte.name)
    return Mention(analyte.start, analyte.end, analyte.text, "duration of " + name, in_lexicon=False)


def age_at_event(text: str, age: Mention, vocab: Vocabulary) -> Mention | None:
    """'Age at diagnosis', 'age at onset of psoriasis': another analyte than today's age."""
    m = duration_patterns(vocab).age_event.match(text, age.end)
    if m is None:
        return None
    phrase = text[age.start : m.end()]
    return Mention(age.start, m.end(), phrase, " ".join(phrase.lower().split()), in_lexicon=False,
                   default_unit=age.default_unit)


__all__ = ["DurationPatterns", "age_at_event", "duration_patterns", "event_after", "lasting"]
