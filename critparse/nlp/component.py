"""The spaCy component: match analytes, run the pure extractor, store the result on the Doc.

`nlp.add_pipe("critparse_rules")` works once critparse is installed (entry point
`spacy_factories`). The result lives in `doc.user_data` as a `ParseResult`, which survives
`Doc.to_bytes`, `DocBin` and `nlp.pipe(n_process=2)` thanks to the msgpack encoder below;
`doc._.rules`, `doc._.no_threshold_reason` and `doc._.critparse` read it.
"""

from __future__ import annotations

import re
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from itertools import pairwise
from typing import Any

import srsly
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokenizer import Tokenizer
from spacy.tokens import Doc

from critparse.extract.concepts import (
    MAX_CONCEPT_TERMS,
    ConceptResources,
    load_concept_resources,
    no_structure_reason,
    read_concepts,
)
from critparse.extract.logic import build_logic
from critparse.extract.quantities import MAX_QUANTITIES
from critparse.extract.rules import Mention, RuleDraft, extract_rules, may_hold_threshold
from critparse.lexicon.analytes import AnalyteLexicon
from critparse.lexicon.resources import Resources, default_resources
from critparse.lexicon.vocabulary import Vocabulary
from critparse.model import Diagnostic, ParseResult, Rule
from critparse.model.concept import Concept
from critparse.model.unchecked import analyte, diagnostic, parse_result, rule, span
from critparse.nlp.abbreviations import ParenthesisAbbreviationDetector
from critparse.nlp.doc_keys import CONTEXT_KEY, RESULT_KEY, TEXT_KEY, doc_text
from critparse.text.phrase_scan import PhraseScan
from critparse.text.tokenizer import SuffixSearch, letter_splits

MAX_ANALYSED_CHARS = 20_000
"""Longer texts are analysed up to this many characters (a criterion bullet is rarely > 2,000)."""

_EMPTY = ParseResult(text="", no_threshold_reason="empty text")
_UNSEEN: Any = object()
_CONTEXTS_KEPT = 256
"""Parent bullets whose analytes `_context_mentions` keeps (a list's children share one)."""


def _result(doc: Doc) -> ParseResult:
    result = doc.user_data.get(RESULT_KEY)
    return result if isinstance(result, ParseResult) else _EMPTY.model_copy(update={"text": doc.text})


for _name, _getter in (
    ("critparse", _result),
    ("rules", lambda doc: list(_result(doc).rules)),
    ("no_threshold_reason", lambda doc: _result(doc).no_threshold_reason),
):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, getter=_getter)


@srsly.msgpack_encoders("critparse.parse_result")
def _encode(obj: Any, chain: Any = None) -> Any:
    if isinstance(obj, ParseResult):
        return {"__critparse_result__": obj.model_dump_json()}
    return obj if chain is None else chain(obj)


@srsly.msgpack_decoders("critparse.parse_result")
def _decode(obj: Any, chain: Any = None) -> Any:
    if isinstance(obj, dict) and "__critparse_result__" in obj:
        return ParseResult.model_validate_json(obj["__critparse_result__"])
    return obj if chain is None else chain(obj)


@Language.factory(
    "critparse_rules",
    assigns=["doc._.rules", "doc._.no_threshold_reason", "doc._.critparse"],
    default_config={"analytes": None, "concepts": True},
)
def make_rule_extractor(
    nlp: Language, name: str, analytes: str | None = None, concepts: bool = True
) -> RuleExtractor:
    """`analytes`: path to an analyte lexicon JSON, or None for the bundled one."""
    return RuleExtractor(nlp, name, analytes=analytes, concepts=concepts)


class RuleExtractor:
    """Wires the lexicon matchers and `extract_rules` to a Doc."""

    def __init__(
        self, nlp: Language, name: str = "critparse_rules", *, analytes: str | None = None,
        concepts: bool = True, cache_size: int = 4096,
    ) -> None:
        self.name = name
        self.with_concepts = concepts
        self.cache_size = cache_size
        """Results kept for repeated text (20% of registry bullets repeat verbatim); 0: none."""
        self._cache: OrderedDict[tuple[str, str | None], ParseResult] = OrderedDict()
        self._contexts: dict[str, tuple[Mention, ...] | None] = {}
        self._make_doc = nlp.make_doc
        self._abbreviation_detector = ParenthesisAbbreviationDetector(nlp)
        self.resources: Resources = (
            default_resources() if analytes is None else Resources(analytes=analytes)
        )
        """What the component reads; pass it to `critparse.evaluate(..., resources=)` too."""
        self.lexicon: AnalyteLexicon = self.resources.analytes
        self.vocab: Vocabulary = self.resources.vocabulary
        self._vocab = nlp.vocab
        self._matchers: tuple[PhraseMatcher, PhraseMatcher] | None = None
        self._scan: PhraseScan | None = None
        """What rules out a text the matchers would find nothing in (None: no text is ruled out)."""
        self._entries: dict[str, Any] = {entry.name: entry for entry in self.lexicon.entries}
        # Analytes that patterns name themselves (ages from 'years', blood pressure pairs).
        self._known: dict[str, Mention] = {}
        for name in self.vocab.words.pattern_analytes.model_dump().values():
            known = self.lexicon.by_name(name)
            if known is not None:
                self._known[name] = replace(self._mention_for(known, 0, 0, ""), own=False)

    def _phrase_matchers(self) -> tuple[PhraseMatcher, PhraseMatcher]:
        """The analyte phrase matchers (names by lower case, abbreviations by exact form).

        Built on first use, with the tokenizer the pipeline has then: `spacy.load` builds the
        components before it reads the saved tokenizer, and phrases tokenized by spaCy's default
        English tokenizer would not match the bullets' tokens ('24-hour urine protein', 'γ-gt')."""
        if self._matchers is None:
            loose = PhraseMatcher(self._vocab, attr="LOWER")
            exact = PhraseMatcher(self._vocab, attr="ORTH")
            lowered: list[list[str]] = []
            written: list[list[str]] = []
            for entry in self.lexicon.entries:
                if entry.synonyms:
                    docs = [self._make_doc(s) for s in entry.synonyms]
                    loose.add(entry.name, docs)
                    lowered += [[t.lower_ for t in d] for d in docs]
                if entry.abbreviations:
                    docs = [self._make_doc(s) for s in entry.abbreviations]
                    exact.add(entry.name, docs)
                    written += [[t.text for t in d] for d in docs]
            self._matchers = (loose, exact)
            tokenizer = getattr(getattr(self._make_doc, "__self__", None), "tokenizer", None)
            if isinstance(tokenizer, Tokenizer) and isinstance(tokenizer.suffix_search, SuffixSearch):
                self._scan = PhraseScan(lowered, written, letter_splits(tokenizer))
        return self._matchers

    def may_name_analyte(self, text: str) -> bool:
        """False only when the analyte matchers cannot find anything in `text`, read without
        tokens (see `critparse.text.phrase_scan`); only critparse's own tokenizer (hardened)
        keeps the word boundaries the scan relies on, so with another every text may."""
        self._phrase_matchers()
        return self._scan is None or self._scan.may_match(text)

    def _mention_for(self, entry: Any, start: int, end: int, text: str) -> Mention:
        members = tuple(self._mention_for(self._entries[m], start, end, text) for m in entry.members)
        return Mention(start, end, text, entry.name, entry.code, entry.system if entry.code else None,
                       True, bool(entry.unitless), default_unit=entry.default_unit, members=members)

    def mentions(self, doc: Doc, text: str | None = None) -> list[Mention]:
        """Longest non-overlapping lexicon matches, in text order (see `_longest_first`)."""
        loose, exact = self._phrase_matchers()
        matches = loose(doc) + exact(doc)
        if not matches:
            return []
        spans: dict[tuple[int, int], int] = {}  # the first match of each span wins a tie
        for key, start, end in matches:
            spans.setdefault((start, end), key)
        kept = sorted((start, end, key) for (start, end), key in spans.items())
        if any(a[1] > b[0] for a, b in pairwise(kept)):  # spans overlap (else each one is kept)
            kept = _longest_first(matches)
        text = doc_text(doc) if text is None else text
        out = []
        strings = doc.vocab.strings
        for start, end, key in kept:
            first, last = doc[start], doc[end - 1]
            s, e = first.idx, last.idx + len(last)
            out.append(self._mention_for(self._entries[strings[key]], s, e, text[s:e]))
        return out

    def abbreviations(self, doc: Doc, mentions: list[Mention]) -> dict[str, Mention]:
        """Short form -> the analyte its long form names (scispaCy's abbreviation detector).

        Runs the detector first if the pipeline has not (`parse_many` leaves it to this lazy
        call, since most criteria never need it)."""
        self._abbreviation_detector(doc)
        out: dict[str, Mention] = {}
        for found in doc._.abbreviations:
            if isinstance(found, dict):  # make_serializable=True: token offsets and texts
                long_span = doc[found["long_start"] : found["long_end"]]
                short_text = found["short_text"]
            else:
                long_span, short_text = found._.long_form, found.text
            start, end = long_span.start_char, long_span.end_char
            hit = next((m for m in mentions if m.start <= start < m.end), None)
            if hit is None:
                name = " ".join(long_span.text.lower().split())
                hit = Mention(start, end, long_span.text, name, in_lexicon=False)
            out[short_text] = hit
        return out

    def _abbreviations_of(self, text: str, doc: Doc | None, mentions: list[Mention]) -> dict[str, Mention]:
        """`abbreviations`, making tokens only when they may define one: the detector starts at a
        '(' token, so a text without '(' defines none (most texts asked about have no tokens yet)."""
        if not doc:
            if "(" not in text:
                return {}
            doc = self._doc_for(text)
        return self.abbreviations(doc, mentions)

    def __call__(self, doc: Doc) -> Doc:
        doc.user_data[RESULT_KEY] = self.safe_parse(doc_text(doc), doc.user_data.get(CONTEXT_KEY), doc=doc)
        return doc

    def safe_parse(self, text: str, context_text: str | None = None, *, doc: Doc | None = None) -> ParseResult:
        """`parse_text`, with an internal error turned into a diagnosed result (never raises)."""
        key = (text, context_text)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        try:
            result = self.parse_text(text, context_text, doc=doc)
        except Exception as exc:
            warnings.warn(f"critparse: could not parse {text[:80]!r}: {exc!r}", RuntimeWarning, stacklevel=2)
            return ParseResult(
                text=text,
                no_threshold_reason="internal error while parsing; see diagnostics",
                diagnostics=(Diagnostic(level="error", code="internal_error", message=f"{type(exc).__name__}: {exc}"),),
            )
        if self.cache_size:
            self._cache[key] = result
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)
        return result

    def parse_doc(self, doc: Doc) -> ParseResult:
        return self.parse_text(doc_text(doc), doc.user_data.get(CONTEXT_KEY), doc=doc)

    def _doc_for(self, text: str) -> Doc:
        doc = self._make_doc(text)
        doc.user_data[TEXT_KEY] = text
        return doc

    def parse_text(self, text: str, context_text: str | None = None, *, doc: Doc | None = None) -> ParseResult:
        """Everything read from one bullet. Tokens are made only when the bullet holds an
        expression (the analyte matcher works on them); concepts and logic read the text."""
        diagnostics: list[Diagnostic] = []
        if len(text) > MAX_ANALYSED_CHARS:
            diagnostics.append(diagnostic(
                "warning", "text_truncated",
                f"text has {len(text)} characters; only the first {MAX_ANALYSED_CHARS} were analysed",
            ))
        worth_matching = may_hold_threshold(text, self.vocab)  # most bullets without a number stop here
        matched = _Matched(self, text, doc, worth_matching)
        context = self._context_mentions(context_text) if worth_matching and context_text else None
        drafts, reason, numbers_read_to = extract_rules(
            text[:MAX_ANALYSED_CHARS],
            matched.within_reach,
            self.vocab,
            known=self._known,
            context=context,
            abbreviations=_LazyAbbreviations(matched.abbreviations, text),
            may_hold=worth_matching if len(text) <= MAX_ANALYSED_CHARS else None,  # asked of the whole text
        )
        rules = tuple(_to_rule(text, d) for d in drafts)
        if numbers_read_to is not None:
            diagnostics.append(diagnostic(
                "warning", "thresholds_truncated",
                f"more than {MAX_QUANTITIES} numbers; thresholds were read in the first {numbers_read_to} characters",
            ))
        if reason is not None:
            diagnostics.append(diagnostic("info", "no_threshold", reason))
        concepts, read_to = self._concepts_read(text[:MAX_ANALYSED_CHARS]) if self.with_concepts else ((), None)
        if read_to is not None:
            diagnostics.append(diagnostic(
                "warning", "concepts_truncated",
                f"more than {MAX_CONCEPT_TERMS} concept terms; concepts were read in the first {read_to} characters",
            ))
        logic = build_logic(text, rules, concepts=concepts, resources=self.resources)
        if logic.problem is not None:
            diagnostics.append(diagnostic("warning", "logic_unread", logic.problem))
        if rules and not logic.rules and reason is None:  # every number was a condition (an age band)
            reason = "the numbers state conditions, not thresholds"
            diagnostics.append(diagnostic("info", "no_threshold", reason))
        if self.with_concepts and not logic.rules and not concepts:
            why = no_structure_reason(text, self.resources.memo("concept_rules", load_concept_resources))
            diagnostics.append(diagnostic("info", "no_structure", why))
        return parse_result(text, logic.rules, reason, tuple(diagnostics), concepts, logic.logic)

    def concepts(self, text: str) -> tuple[Concept, ...]:
        """The conditions, drugs, procedures, ... the text names (pure extraction, no Doc)."""
        return self._concepts_read(text)[0]

    def _concepts_read(self, text: str) -> tuple[tuple[Concept, ...], int | None]:
        """The concepts and where their reading stopped (None: the whole text was read)."""
        rules: ConceptResources = self.resources.memo("concept_rules", load_concept_resources)
        return read_concepts(text, self.resources.concepts, rules)

    def _context_mentions(self, context_text: str) -> list[Mention] | None:
        """Analytes named last in the parent bullet; they have no span in the child's text.

        Every child of a list asks for the same parent, so the answer is kept for the last
        `_CONTEXTS_KEPT` parents unless `cache_size` is 0 (mentions are frozen; each caller gets
        its own list).
        """
        kept = self._contexts.get(context_text, _UNSEEN)
        if kept is _UNSEEN:
            found = self.mentions(self._make_doc(context_text[:MAX_ANALYSED_CHARS]))
            last = found[-1] if found else None
            kept = tuple(replace(m, start=0, end=0, own=False) for m in found
                         if last is not None and m.end >= last.start - 40) or None
            if len(self._contexts) >= _CONTEXTS_KEPT:
                self._contexts.clear()
            if self.cache_size:  # 0 keeps nothing, as for results
                self._contexts[context_text] = kept
        return list(kept) if kept is not None else None


def _longest_first(matches: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """(start, end, key) of the longest matches that overlap no longer one, in text order.

    Of two crossing matches of one length the later wins: the head of an English compound is its
    last word, so `serum creatinine clearance` is a clearance, not a creatinine."""
    matches = sorted(matches, key=lambda m: (m[1] - m[2], -m[2]))
    taken: set[int] = set()
    kept = []
    for key, start, end in matches:
        if not taken.intersection(range(start, end)):
            kept.append((start, end, key))
            taken.update(range(start, end))
    return sorted(kept)


_A_LETTER = re.compile(r"[^\W\d_]")


class _Matched:
    """The analytes one bullet names, matched when the extractor first asks for them: it asks
    only when the bullet holds an expression, so the others need no tokens."""

    def __init__(self, extractor: RuleExtractor, text: str, doc: Doc | None, worth_matching: bool) -> None:
        self._extractor, self._text, self._doc, self._worth_matching = extractor, text, doc, worth_matching
        self._mentions: list[Mention] | None = None

    def mentions(self) -> list[Mention]:
        if self._mentions is None:
            extractor, text = self._extractor, self._text
            if self._worth_matching and self._doc is None and _A_LETTER.search(text) is not None \
                    and extractor.may_name_analyte(text):
                self._doc = extractor._doc_for(text)  # every analyte surface has a letter: '1<2<1<2...' needs no tokens
            doc = self._doc
            self._mentions = extractor.mentions(doc, text) if self._worth_matching and doc is not None else []
        return self._mentions

    def within_reach(self) -> list[Mention]:
        """The mentions within the analysed characters (what `extract_rules` reads)."""
        return [m for m in self.mentions() if m.end <= MAX_ANALYSED_CHARS]

    def abbreviations(self) -> dict[str, Mention]:
        mentions = self.mentions()
        return self._extractor._abbreviations_of(self._text, self._doc, mentions)


class _LazyAbbreviations(Mapping[str, Mention]):
    """The abbreviations of a doc, detected on first look-up only, and not at all for a short form
    that no definition in the text can have (see `_may_define`)."""

    def __init__(self, compute: Callable[[], dict[str, Mention]], text: str) -> None:
        self._compute = compute
        self._found: dict[str, Mention] | None = None
        self._text = text
        self._squeezed: str | None = None

    def _table(self) -> dict[str, Mention]:
        if self._found is None:
            self._found = self._compute()
        return self._found

    def _may_define(self, key: str) -> bool:
        if self._found is not None:
            return True
        if self._squeezed is None:
            self._squeezed = "".join(self._text.split())
        return _may_define(self._squeezed, key)

    def __getitem__(self, key: str) -> Mention:
        if not isinstance(key, str) or not self._may_define(key):
            raise KeyError(key)
        return self._table()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table())

    def __len__(self) -> int:
        return len(self._table())


def _may_define(squeezed: str, short: str) -> bool:
    """Whether a text (`squeezed`: without its white space) may define the short form `short`.

    scispaCy's detector finds a definition between a '(' token and a ')' token: the short form is
    what the brackets hold ('long form (SF)') or the one token before the '(' ('SF (long form)'),
    and every other occurrence of it is one with the same tokens. Without white space (a token
    holds none, or only white space), a short form it reports stands right after or before a '('."""
    short = "".join(short.split())
    return f"({short}" in squeezed or f"{short}(" in squeezed


def _to_rule(text: str, draft: RuleDraft) -> Rule:
    a = draft.analyte
    measured = analyte(a.text, a.name, a.code, a.system, a.in_lexicon)
    return rule(measured, draft.comparator, draft.value, draft.unit, draft.unit_text, span(draft.start, draft.end),
                text[draft.start : draft.end])
