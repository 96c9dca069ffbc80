"""Whole trials in, every criterion out: one streaming pass over registry records.

`iter_trial_items` splits each record's eligibility text as a stream of segments, sends every
bullet and paragraph through one long `parse_many` stream (so spaCy's `n_process` workers start
once, not once per trial), and hands back each criterion as soon as its result is in, then a
`TrialEnd`. Nothing waits for a whole trial, so memory stays flat however many bullets a study
has; `iter_trials` groups the same stream into one `TrialResult` per trial for callers that want
that. A bad record becomes a `RecordError` in the stream and the run goes on.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict

from critparse.extract.logic import link_children
from critparse.model import Criterion, Diagnostic, ParseResult, unchecked
from critparse.runs.registry import RecordError, StudyRecord, structured_criteria
from critparse.text.segment import Segment, iter_segments

_FROZEN = ConfigDict(frozen=True, extra="forbid")

ParseMany = Callable[..., Iterator[ParseResult]]


class TrialResult(BaseModel):
    """Every criterion of one trial: structured fields first, then the text in reading order."""

    model_config = _FROZEN

    position: int
    line: int | None = None
    trial_id: str | None = None
    criteria: tuple[Criterion, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()  # about the record (encoding, empty text)


class TrialItem(NamedTuple):
    """One criterion of a trial, in output order."""

    record: StudyRecord
    criterion: Criterion


class TrialEnd(NamedTuple):
    """Every criterion of `record` has been handed out."""

    record: StudyRecord


Item = TrialItem | TrialEnd | RecordError


def criterion_from(segment: Segment, result: ParseResult | None, *, trial_id: str | None,
                   diagnostics: tuple[Diagnostic, ...] = ()) -> Criterion:
    """One output record: the segment's place plus what the parser read from its text."""
    common: dict[str, Any] = {
        "trial_id": trial_id, "kind": segment.kind, "section": segment.section,
        "path": segment.path, "span": segment.span, "text": segment.text,
        "parent_text": segment.parent_text,
    }
    if result is None:
        reason = "header" if segment.kind == "header" else "not parsed"
        return unchecked.criterion({**common, "no_threshold_reason": reason, "diagnostics": diagnostics})
    return unchecked.criterion({**common, "rules": result.rules, "no_threshold_reason": result.no_threshold_reason,
                                "diagnostics": diagnostics + result.diagnostics, "concepts": result.concepts,
                                "logic": result.logic})


# Entries waiting for their turn in the output, oldest first.
_ERROR, _READY, _PARSE, _FLUSH, _END = range(5)
_FLUSH_EVERY = 1024
"""Entries that need no parse (headers, errors) between two bullets before an empty flush text
is sent through the parser, so a long run of them is handed out instead of piling up."""


def _record_entries(record: StudyRecord | RecordError) -> Iterator[tuple[int, Any, Any]]:
    if isinstance(record, RecordError):
        yield _ERROR, record, None
        return
    emitted = False
    for criterion in structured_criteria(record):
        emitted = True
        yield _READY, record, criterion
    try:
        for segment in iter_segments(record.eligibility_text):
            emitted = True
            if segment.needs_parse:
                yield _PARSE, record, segment
            else:
                yield _READY, record, criterion_from(segment, None, trial_id=record.trial_id,
                                                     diagnostics=record.diagnostics)
    except Exception as exc:  # a splitter bug must not end a registry-wide run
        emitted = True
        yield _READY, record, _trace(record, "splitting failed", Diagnostic(
            level="error", code="parse_failed", message=f"splitting failed: {exc!r}"))
    if not emitted and record.diagnostics:
        # An empty trial still leaves a trace, so "count in = count out" holds for trials.
        yield _READY, record, _trace(record, "empty criteria")
    yield _END, record, None


def _trace(record: StudyRecord, reason: str, *extra: Diagnostic) -> Criterion:
    return Criterion(trial_id=record.trial_id, kind="paragraph", section="unknown",
                     path="unknown", text="", no_threshold_reason=reason,
                     diagnostics=record.diagnostics + extra)


def _emit(entry: tuple[int, Any, Any], result: ParseResult | None = None) -> Item:
    kind, record, payload = entry
    if kind == _ERROR:
        return record  # type: ignore[no-any-return]
    if kind == _END:
        return TrialEnd(record)
    if kind == _READY:
        return TrialItem(record, payload)
    diagnostics = record.diagnostics
    if result is None:  # the parser returned fewer results than it was given
        diagnostics += (Diagnostic(level="error", code="parse_failed",
                                   message="the parser returned no result for this bullet"),)
    return TrialItem(record, criterion_from(payload, result, trial_id=record.trial_id,
                                            diagnostics=diagnostics))


def iter_trial_items(
    records: Iterable[StudyRecord | RecordError],
    *,
    parse_many: ParseMany | None = None,
    n_process: int = 1,
    batch_size: int = 256,
) -> Iterator[Item]:
    """Every criterion of every record, in input order, each followed trial by a `TrialEnd`."""
    if parse_many is None:
        from critparse.nlp.pipeline import parse_many as default_parse_many

        parse_many = default_parse_many
    pending: deque[tuple[int, Any, Any]] = deque()

    def requests() -> Iterator[tuple[str, str | None]]:
        idle = 0
        for record in records:
            for entry in _record_entries(record):
                pending.append(entry)
                if entry[0] == _PARSE:
                    idle = 0
                    yield entry[2].text, entry[2].parent_text
                elif (idle := idle + 1) >= _FLUSH_EVERY:
                    idle = 0
                    pending.append((_FLUSH, None, None))
                    yield "", None

    texts, contexts = itertools.tee(requests())
    results = parse_many((t for t, _ in texts), contexts=(c for _, c in contexts),
                         n_process=n_process, batch_size=batch_size)
    for result in results:
        while pending and pending[0][0] not in (_PARSE, _FLUSH):
            yield _emit(pending.popleft())
        if not pending:
            break
        entry = pending.popleft()
        if entry[0] == _PARSE:
            yield _emit(entry, result)
    for _ in texts:  # the parser stopped early: read the rest of the input all the same
        pass
    while pending:
        entry = pending.popleft()
        if entry[0] != _FLUSH:
            yield _emit(entry)


def iter_trials(
    records: Iterable[StudyRecord | RecordError],
    *,
    parse_many: ParseMany | None = None,
    n_process: int = 1,
    batch_size: int = 256,
) -> Iterator[TrialResult | RecordError]:
    """One `TrialResult` (or the `RecordError`) per input record, in input order, streaming."""
    criteria: list[Criterion] = []
    for item in iter_trial_items(records, parse_many=parse_many, n_process=n_process,
                                 batch_size=batch_size):
        if isinstance(item, TrialItem):
            criteria.append(item.criterion)
        elif isinstance(item, TrialEnd):
            record = item.record
            # A parent's tree names its children ('one of the following:'), now that all are in.
            yield TrialResult(position=record.position, line=record.line,
                              trial_id=record.trial_id, criteria=tuple(link_children(criteria)),
                              diagnostics=record.diagnostics)
            criteria = []
        else:
            yield item


class Tally:
    """Running counts of a run, kept item by item (and added up across worker chunks)."""

    __slots__ = ("bullets", "criteria", "errors", "rules", "trials", "warnings")
    FIELDS = ("trials", "criteria", "bullets", "rules", "errors", "warnings")

    def __init__(self) -> None:
        self.trials = self.criteria = self.bullets = self.rules = self.errors = self.warnings = 0

    def add(self, item: Item) -> None:
        if isinstance(item, TrialItem):
            criterion = item.criterion
            self.criteria += 1
            self.bullets += criterion.kind == "criterion"
            self.rules += len(criterion.rules)
        elif isinstance(item, TrialEnd):
            self.trials += 1
            self.warnings += sum(d.level == "warning" for d in item.record.diagnostics)
        else:
            self.errors += 1

    def merge(self, counts: tuple[int, ...]) -> None:
        for name, value in zip(self.FIELDS, counts, strict=True):
            setattr(self, name, getattr(self, name) + value)

    def counts(self) -> tuple[int, ...]:
        return tuple(getattr(self, name) for name in self.FIELDS)


class Summary(BaseModel):
    """What a run did; printed at its end."""

    model_config = _FROZEN

    trials: int = 0
    criteria: int = 0
    bullets: int = 0
    rules: int = 0
    errors: int = 0
    warnings: int = 0
    seconds: float = 0.0

    @classmethod
    def of(cls, tally: Tally, seconds: float) -> Summary:
        return cls(seconds=seconds, **dict(zip(Tally.FIELDS, tally.counts(), strict=True)))

    def describe(self) -> str:
        rate = self.trials / self.seconds if self.seconds else 0.0
        return (f"{self.trials} trials, {self.bullets} bullets ({self.criteria} records), "
                f"{self.rules} rules, {self.errors} errors, {self.warnings} warnings "
                f"in {self.seconds:.{1 if self.seconds >= 1 else 3}f} s ({rate:.1f} trials/s)")


__all__ = [
    "Item",
    "Summary",
    "Tally",
    "TrialEnd",
    "TrialItem",
    "TrialResult",
    "criterion_from",
    "iter_trial_items",
    "iter_trials",
]
