"""Assemble, save and load the pipeline; `parse` and `parse_many` for callers.

The pipeline is `spacy.blank("en")` with the adjusted scispaCy tokenizer, scispaCy's abbreviation
detector (behind a parenthesis check) and the `critparse_rules` component. `models/critparse-pipeline` holds it as built by
`python -m critparse.build`; `load()` reads it when present and otherwise assembles the same
pipeline from package data, so an installed wheel needs nothing else.
"""

from __future__ import annotations

import gc
import multiprocessing
import warnings
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import lru_cache
from itertools import islice, repeat
from pathlib import Path
from typing import Any, TypeVar

import spacy
import srsly
from spacy.language import Language
from spacy.tokenizer import Tokenizer

from critparse.errors import WorkerLostError
from critparse.model import Diagnostic, ParseResult
from critparse.nlp.abbreviations import ParenthesisAbbreviationDetector  # registers its factory
from critparse.nlp.component import MAX_ANALYSED_CHARS, RuleExtractor  # registers critparse_rules
from critparse.nlp.doc_keys import CONTEXT_KEY, RESULT_KEY, TEXT_KEY
from critparse.nlp.inputs import clean_text, finite_only, prepare
from critparse.text.tokenizer import harden, make_tokenizer

MODEL_DIR = Path(__file__).resolve().parents[2] / "models" / "critparse-pipeline"
"""Where the built pipeline lives in a source checkout."""


def build_pipeline(analytes: str | None = None) -> Language:
    """Assemble the pipeline from the package's own files (no download)."""
    nlp = spacy.blank("en")
    nlp.tokenizer = make_tokenizer(nlp)
    nlp.add_pipe("critparse_abbreviations")
    nlp.add_pipe("critparse_rules", config={"analytes": analytes})
    nlp.meta["name"] = "critparse_pipeline"
    nlp.meta["description"] = "blank English + adjusted scispaCy tokenizer + abbreviations + rules"
    return nlp


def load(path: str | Path | None = None) -> Language:
    """The critparse spaCy pipeline: `doc = load()("ECOG 0-1"); doc._.rules`.

    `path` None reads `models/critparse-pipeline` in a source checkout, else builds the same
    pipeline from package data.
    """
    with warnings.catch_warnings():
        # scispaCy's tokenizer patterns trip a FutureWarning of `re` ("possible set union").
        warnings.simplefilter("ignore", FutureWarning)
        if path is None and not MODEL_DIR.is_dir():
            return build_pipeline()
        return _load_saved(MODEL_DIR if path is None else Path(path))


def _load_saved(path: Path) -> Language:
    """`spacy.load(path)` with the tokenizer's special cases compiled once, not three times.

    A spaCy tokenizer re-tokenizes all its special cases (1,300 here) whenever an affix rule is
    set: once in `from_disk` and twice more in `harden`, which swaps the affix callbacks that
    `from_disk` compiles as plain `search`. Reading the rules without the special cases,
    hardening, then setting the special cases last does that work once (0.3 s of start-up).
    The components are built before the saved tokenizer is read, as in `spacy.load`; the analyte
    matcher tokenizes its phrases on first use, so with the tokenizer read here.
    """
    file = path / "tokenizer"
    if not file.is_file():
        nlp = spacy.load(path)
        if isinstance(nlp.tokenizer, Tokenizer):
            harden(nlp.tokenizer)
        return nlp
    nlp = spacy.load(path, exclude=["tokenizer"])
    tokenizer = nlp.tokenizer
    if not isinstance(tokenizer, Tokenizer):
        tokenizer.from_disk(file, exclude=["vocab"])  # type: ignore[union-attr]  # as Language.from_disk
        return nlp
    tokenizer.from_disk(file, exclude=["vocab", "exceptions"])
    harden(tokenizer)
    exceptions = srsly.msgpack_loads(file.read_bytes()).get("exceptions")
    tokenizer.rules = exceptions if isinstance(exceptions, dict) else {}
    return nlp


@lru_cache(maxsize=1)
def default_nlp() -> Language:
    """The cached default pipeline, loaded and settled (see `settle`)."""
    return settle(load())


_WARM_TEXT = "History of heart failure within 6 months; bilirubin < 1.5 x ULN or ANC >= 1,500/mm3"


def settle(nlp: Language) -> Language:
    """Read every resource once, then move the objects alive to the collector's permanent
    generation (`gc.freeze`): the pipeline's hundred thousand long-lived objects made each full
    collection cost about 0.1 s, landing on whichever bullet was being parsed."""
    for _ in parse_many([_WARM_TEXT], nlp=nlp):
        pass
    own = _own_extractor(nlp)
    if own is not None:
        own._cache.clear()  # the warm-up text leaves no trace in results
    gc.collect()
    gc.freeze()
    return nlp


def parse(text: str, *, context: str | None = None, nlp: Language | None = None) -> ParseResult:
    """Read the threshold rules of one criterion bullet.

    >>> parse("Bilirubin < 2.0 mg/dl").rules[0].unit
    'mg/dL'

    `context` is the parent bullet's text, used when the bullet names no analyte itself.
    Free text never raises: a result with a reason or diagnostics comes back instead.
    """
    return next(parse_many([text], contexts=[context], nlp=nlp))


def parse_many(
    texts: Iterable[Any],
    *,
    contexts: Iterable[str | None] | None = None,
    nlp: Language | None = None,
    n_process: int = 1,
    batch_size: int = 256,
) -> Iterator[ParseResult]:
    """Parse a stream of bullets: one result per input, in order, never raising on text.

    `n_process > 1` parses batches of `batch_size` bullets in that many forked worker processes,
    each with its own copy of the pipeline; at most two batches per worker are in flight, so
    memory stays flat however long the stream. (Batches of text travel between processes, not
    spaCy Docs: for short bullets shipping Docs costs more than parsing them.)
    """
    nlp = nlp if nlp is not None else default_nlp()
    items = zip(texts, contexts if contexts is not None else repeat(None), strict=False)
    if n_process <= 1:
        yield from _parse_serial(items, nlp, batch_size)
        return
    yield from _parse_parallel(items, nlp, n_process, batch_size)


def _parse_serial(items: Iterable[tuple[Any, str | None]], nlp: Language, batch_size: int) -> Iterator[ParseResult]:
    extractor = _own_extractor(nlp)
    if extractor is None:
        yield from _parse_serial_docs(items, nlp, batch_size)
        return
    # critparse's own pipeline: the extractor reads text and makes tokens only where it needs them.
    for item, context in items:
        original, analysed, diagnostics = prepare(item)
        result = extractor.safe_parse(analysed, clean_text(context[:MAX_ANALYSED_CHARS]) if context else None)
        yield _restore(result, original, diagnostics)


def _own_extractor(nlp: Language) -> RuleExtractor | None:
    """The rule extractor when the pipeline is critparse's own components only, else None."""
    if not all(isinstance(proc, (RuleExtractor, ParenthesisAbbreviationDetector)) for _, proc in nlp.pipeline):
        return None
    return next((proc for _, proc in nlp.pipeline if isinstance(proc, RuleExtractor)), None)


def _parse_serial_docs(items: Iterable[tuple[Any, str | None]], nlp: Language, batch_size: int) -> Iterator[ParseResult]:
    """Pipelines with other components: Docs through `nlp.pipe`."""
    pending: deque[tuple[str, list[Diagnostic]]] = deque()

    def docs() -> Iterator[Any]:
        for item, context in items:
            text, analysed, diagnostics = prepare(item)
            pending.append((text, diagnostics))
            doc = nlp.make_doc(analysed)
            doc.user_data[TEXT_KEY] = analysed
            if context:
                doc.user_data[CONTEXT_KEY] = clean_text(context[:MAX_ANALYSED_CHARS])
            yield doc

    for doc in nlp.pipe(docs(), batch_size=batch_size):
        original, diagnostics = pending.popleft()
        result: ParseResult = doc.user_data.get(RESULT_KEY) or ParseResult(text=original)
        yield _restore(result, original, diagnostics)


_WORKER_NLP: Language | None = None


def _init_worker(nlp: Language) -> None:
    global _WORKER_NLP
    _WORKER_NLP = settle(nlp)


def _parse_batch(batch: list[tuple[Any, str | None]]) -> list[ParseResult]:
    assert _WORKER_NLP is not None
    return list(_parse_serial(batch, _WORKER_NLP, len(batch) or 1))


def _parse_parallel(
    items: Iterable[tuple[Any, str | None]], nlp: Language, n_process: int, batch_size: int
) -> Iterator[ParseResult]:
    iterator = iter(items)
    batches = iter(lambda: list(islice(iterator, batch_size)), [])

    def describe(index: int, batch: list[Any]) -> str:
        start = index * batch_size + 1
        return f"bullets {start}-{start + len(batch) - 1}"

    for results in map_ordered(_parse_batch, batches, workers=n_process,
                               in_flight=2 * n_process, initializer=_init_worker,
                               initargs=(nlp,), describe=describe):
        yield from results


_Item = TypeVar("_Item")
_Result = TypeVar("_Result")


def map_ordered(
    func: Callable[[_Item], _Result],
    items: Iterable[_Item],
    *,
    workers: int,
    in_flight: int,
    describe: Callable[[int, _Item], str],
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
) -> Iterator[_Result]:
    """`func(item)` in forked worker processes, results in input order, never hanging.

    At most `in_flight` items are submitted ahead, so memory stays flat. A worker that dies
    (killed, out of memory) breaks the pool: the items it took down are run again one at a time
    in a fresh pool, and an item that loses its worker a second time raises `WorkerLostError`
    naming it (`describe(index, item)`). Fork: workers inherit a loaded pipeline for free.
    """
    context = multiprocessing.get_context("fork")

    def new_pool() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(workers, mp_context=context, initializer=initializer,
                                   initargs=initargs)

    pool = new_pool()
    pending: deque[tuple[int, _Item, Future[_Result]]] = deque()
    numbered = enumerate(items)
    try:
        while True:
            for index, item in islice(numbered, max(0, in_flight - len(pending))):
                pending.append((index, item, pool.submit(func, item)))
            if not pending:
                return
            try:
                result = pending[0][2].result()
            except BrokenProcessPool:
                pool.shutdown(wait=True, cancel_futures=True)
                pool = new_pool()
                lost, pending = list(pending), deque()
                for index, item, future in lost:
                    yield _result_or_retry(pool, func, index, item, future, describe)
                continue
            pending.popleft()
            yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _result_or_retry(pool: ProcessPoolExecutor, func: Callable[[_Item], _Result], index: int,
                     item: _Item, future: Future[_Result],
                     describe: Callable[[int, _Item], str]) -> _Result:
    """A result that survived the pool's break, else `func(item)` run once more on its own."""
    if future.done() and not future.cancelled() and future.exception() is None:
        return future.result()
    try:
        return pool.submit(func, item).result()
    except BrokenProcessPool:
        raise WorkerLostError(
            f"a worker process died twice while working on {describe(index, item)}; "
            "the run stopped so that nothing is silently lost"
        ) from None


def _restore(result: ParseResult, original: str, diagnostics: list[Diagnostic]) -> ParseResult:
    """Put the caller's exact text back (the pipeline saw the cleaned copy)."""
    update: dict[str, Any] = finite_only(result)
    if update:
        diagnostics = [*diagnostics, Diagnostic(
            level="error", code="non_finite_value",
            message="a number too large to represent (infinite) was read; its rules were dropped")]
    if result.text != original:  # cleaned or truncated
        update["text"] = original
        update["rules"] = tuple(
            r.model_copy(update={"text": original[r.span.start : r.span.end]})
            for r in update.get("rules", result.rules)
        )
    if diagnostics:
        update["diagnostics"] = tuple(diagnostics) + result.diagnostics
    return result.model_copy(update=update) if update else result
