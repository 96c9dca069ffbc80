"""Concept assembly: dictionary term matches become validated `Concept`s with their context.

The steps, each a plain function over offsets:

1. term matches from the lexicon, minus those that are the analyte of a numeric threshold
   ('Platelets >= 100,000/mm3' is a rule, extracted elsewhere) or the anchor of a time window;
2. noun-phrase segments between stop words (data: `critparse/resources/concept_heads.json`),
   with a head-word fallback ('... disorder', '-ectomy', '-mab') for phrases no entry covers;
3. coordination ellipsis: 'HIV, hepatitis B or C infection' carries 'infection' back to HIV and
   hepatitis B and 'hepatitis' forward to C; 'breast or ovarian cancer' carries 'cancer' back;
   completed names are looked up in the lexicon for their codes;
4. qualifiers written before a concept ('active', 'uncontrolled') move into `qualifiers`;
5. context cues (`critparse.extract.context`) set negation, modality and subject, and the
   nearest time window of the clause (`critparse.extract.temporal`) is attached.

Everything is linear in the text (bounded look-ups per phrase), deterministic, and never raises:
a text that cannot be read gives `()`.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from operator import itemgetter
from pathlib import Path
from typing import Literal, NamedTuple, Protocol, get_args

from pydantic import BaseModel

from critparse.extract.context import (
    MODALITY_OF,
    ContextCue,
    ContextFlags,
    ContextRules,
    CueMatch,
    Folding,
    apply_context,
    clause_breaks,
    find_cues,
    folding,
    literal_alternation,
    load_context_rules,
    read_json_resource,
    validate_resource,
)
from critparse.extract.schemas import ConceptHeadsFile, HeadSuffix, HeadWord, NoStructureReason
from critparse.extract.temporal import (
    TimeWindowRules,
    find_windows_and_durations,
    load_time_windows,
)
from critparse.model.concept import Code, Concept, ConceptType, TimeWindow
from critparse.model.span import Span
from critparse.model.unchecked import unchecked_model

__all__ = [
    "ConceptHeads",
    "ConceptHeadsFile",
    "ConceptLexicon",
    "ConceptResources",
    "LexiconEntry",
    "TermMatchLike",
    "compile_concept_heads",
    "extract_concepts",
    "load_concept_heads",
    "load_concept_resources",
    "no_structure_reason",
    "read_concepts",
]

_TYPES: frozenset[str] = frozenset(get_args(ConceptType))
# Words, with hyphens, apostrophes and slashes inside ('non-Hodgkin', "Crohn's", 'and/or'), or one
# other character.
# Possessive repeats: the pattern never backtracks.
_TOKEN = re.compile(r"\w++(?:['’\-/]\w++)*+(?:-(?=[ \t]++(?:or|and|to|nor)\b))?|[^\w\s]")
# ... and a hyphen left hanging before a coordinator ('Second- or third-degree block') stays on its word.
# Letters, numbers and numerals that label a member of a series: 'hepatitis B or C', 'type 1 or 2'.
_LABEL = re.compile(r"(?:[A-Za-z]|\d{1,3}[a-z]?|[IVX]{1,4}[a-cA-C]?)")
_LABELS = re.compile(rf"{_LABEL.pattern}(?:-{_LABEL.pattern})*")  # labels joined by hyphens (no label holds one)
_MAX_SCALE = 8  # most tokens a scale's labels run on ('grade 3 or higher', 'class II to IV')
_MAX_CARRY = 4  # most words a coordinated head carries ('non-small cell lung cancer' is four)
_MAX_OF = 6  # most words a head's 'of ...' phrase runs on ('carcinoma of the uterine cervix')
_MAX_GAP = 6  # most tokens between two coordinated phrases (', or any other')


# ---------------------------------------------------------------------------------------------
# The lexicon, as this module needs it


class LexiconEntry(Protocol):
    """What a lexicon look-up gives: a type, a normalised name and codes, best first."""

    @property
    def type(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def codes(self) -> tuple[tuple[str, str, str | None], ...]: ...


class TermMatchLike(LexiconEntry, Protocol):
    """A lexicon entry found in a text, with its offsets."""

    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def text(self) -> str: ...


class ConceptLexicon(Protocol):
    """The dictionary matcher: `find` marks entries in a text, `lookup` names one exactly."""

    def find(self, text: str) -> Sequence[TermMatchLike]: ...
    def lookup(self, name: str) -> LexiconEntry | None: ...


# ---------------------------------------------------------------------------------------------
# Head words, qualifiers and stop words (data)


@dataclass(frozen=True, slots=True)
class ConceptHeads:
    """The head-word data compiled for matching (build with `compile_concept_heads`)."""

    head_words: Mapping[str, ConceptType]
    suffixes: tuple[HeadSuffix, ...]
    suffix_pattern: re.Pattern[str]
    not_heads: frozenset[str]
    qualifier_pattern: re.Pattern[str]
    determiners: frozenset[str]
    stop_words: frozenset[str]
    coordinators: frozenset[str]
    scale_words: frozenset[str]
    scale_connectors: frozenset[str]
    carry_types: frozenset[str]
    term_splitters: frozenset[str]
    generic_heads: frozenset[str]
    generic_modifiers: frozenset[str]
    allergy_pattern: re.Pattern[str]
    allergy_tail: re.Pattern[str]
    method_tail: re.Pattern[str]
    allergy_any: Folding
    """Any allergy cue anywhere, as a plain substring: without one, `allergy_tail` finds nothing."""
    method_any: Folding
    qualifier_scan: Folding
    """`qualifier_pattern` and `allergy_pattern` with their lower-case twins, to scan whole texts."""
    allergy_scan: Folding
    result_words: frozenset[str]
    drug_modifiers: frozenset[str]
    not_markers: frozenset[str]
    threshold: re.Pattern[str]
    window_link: re.Pattern[str]
    drug_therapy_heads: frozenset[str]
    of_containers: frozenset[str]
    label_words: frozenset[str]
    non_name_modifiers: frozenset[str]
    separate_heads: frozenset[str]
    carrier_words: frozenset[str]
    pathogen_link: re.Pattern[str]
    population_lead: re.Pattern[str]
    no_structure: tuple[tuple[str, re.Pattern[str]], ...]
    no_structure_default: str
    memo: dict[str, ConceptType | None] = field(default_factory=dict, compare=False, repr=False)
    """Head types already worked out, per word: a bullet asks about most of its words."""
    code_memo: dict[object, tuple[Code, ...]] = field(default_factory=dict, compare=False, repr=False)
    """Code models already built, per lexicon code tuple."""
    role_memo: dict[str, Role] = field(default_factory=dict, compare=False, repr=False)
    """The role of each lower-case word by the word alone (`_role_of_word`)."""

    def head_type(self, word: str) -> ConceptType | None:
        """The concept type a head word names ('disorders' -> condition), or None."""
        found = self.memo.get(word, _UNSEEN)
        if found is _UNSEEN:
            if len(self.memo) >= _MEMO_SIZE:
                self.memo.clear()
            found = self.memo[word] = self._head_type(word)
        return found  # type: ignore[return-value]

    def is_marker_result(self, word: str) -> bool:
        """'HER2-positive', 'IDH-mutant': a marker and its result in one hyphenated word ('gram-negative' is none)."""
        marker, _, result = word.lower().rpartition("-")
        return bool(marker) and result in self.result_words and marker not in self.not_markers

    def head_word(self, word: str) -> ConceptType | None:
        """The type a word names as one of the listed head words (not by its ending), or None."""
        last = _WORD_PART.split(word.lower())[-1]
        return next((self.head_words[f] for f in _singulars(last) if f in self.head_words), None)

    def _head_type(self, word: str) -> ConceptType | None:
        last = _WORD_PART.split(word.lower())[-1]
        for form in _singulars(last):
            if form in self.not_heads:
                return None
            if form in self.head_words:
                return self.head_words[form]
            if self.suffix_pattern.search(form):  # one regex for the endings, then the length rule
                for s in self.suffixes:
                    if form.endswith(s.suffix) and len(form) >= s.min_length:
                        return s.type
        return None


_UNSEEN = object()
_MEMO_SIZE = 200_000  # distinct words remembered before the memo starts again
_WORD_PART = re.compile(r"[-'’/]")


def _singulars(word: str) -> tuple[str, ...]:
    """A word and the singulars it may be the plural of ('malignancies' -> 'malignancy')."""
    forms = [word]
    if word.endswith("ies") and len(word) > 4:
        forms.append(word[:-3] + "y")
    if word.endswith("es") and len(word) > 3:
        forms.append(word[:-2])
    if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
        forms.append(word[:-1])
    return tuple(forms)


def _alternation(phrases: Sequence[str]) -> str:
    """Phrases as one regex (a trie, see `literal_alternation`), or '' for none."""
    return literal_alternation(p for p in phrases if p.strip()) if any(p.strip() for p in phrases) else ""


def _tail(cues: Sequence[str], determiners: Sequence[str]) -> re.Pattern[str]:
    """A cue at the very end of a text, maybe followed by up to three determiners ('to any of its')."""
    cue = _alternation(cues) or "(?!)"
    det = _alternation([*determiners, "of"])
    return re.compile(rf"(?<!\w)(?:{cue})(?:\s++(?:{det})){{0,3}}[ \t]*+$", re.IGNORECASE)


def _anywhere(cues: Sequence[str]) -> Folding:
    """The cues as plain substrings (no word boundaries): a cheap test that `_tail` can match at all."""
    keys = [" ".join(c.lower().split()) for c in cues if c.strip()]
    return folding(re.compile("|".join(re.escape(k).replace(r"\ ", r"\s++") for k in keys) or "(?!)", re.IGNORECASE))


def compile_concept_heads(heads: ConceptHeadsFile) -> ConceptHeads:
    """Word sets for the stop tests, one qualifier regex and one threshold regex."""
    fill = _alternation(heads.threshold_fillers)
    fillers = rf"(?:(?:{fill})\s++){{0,2}}" if fill else ""
    threshold = (
        r"[ \t]*+:?[ \t]*+(?:\([^()\n]{0,40}\)[ \t]*+)?" + fillers
        + rf"(?:(?:{_alternation(heads.threshold_comparators)})"
        + rf"|\d[\d,.]{{0,12}}[ \t]*+(?:{_alternation(heads.threshold_units)}))"
    )
    stops = [*heads.population, *heads.prepositions, *heads.conjunctions, *heads.verbs]
    qualifier = re.compile(rf"(?<!\w)(?:{_alternation(heads.qualifiers) or '(?!)'})", re.IGNORECASE)
    allergy = re.compile(rf"(?<!\w)(?:{_alternation(heads.allergy_cues) or '(?!)'})", re.IGNORECASE)
    return ConceptHeads(
        head_words={h.word.lower(): h.type for h in heads.heads},
        suffixes=tuple(heads.suffixes),
        suffix_pattern=re.compile(f"(?:{'|'.join(re.escape(x.suffix.lower()) for x in heads.suffixes) or '(?!)'})$"),
        not_heads=frozenset(w.lower() for w in heads.not_heads),
        qualifier_pattern=qualifier,
        qualifier_scan=folding(qualifier),
        determiners=frozenset(w.lower() for w in heads.determiners),
        stop_words=frozenset(w.lower() for w in stops) - {w.lower() for w in heads.coordinators},
        coordinators=frozenset(w.lower() for w in heads.coordinators),
        scale_words=frozenset(w.lower() for w in heads.scale_words),
        scale_connectors=frozenset(w.lower() for w in heads.scale_connectors),
        carry_types=frozenset(heads.carry_types),
        term_splitters=frozenset(w.lower() for w in heads.term_splitters),
        generic_heads=frozenset(w.lower() for w in heads.generic_heads),
        generic_modifiers=frozenset(w.lower() for w in heads.generic_modifiers),
        allergy_pattern=allergy,
        allergy_scan=folding(allergy),
        allergy_tail=_tail(heads.allergy_cues, heads.determiners),
        method_tail=_tail(heads.method_cues, heads.determiners),
        allergy_any=_anywhere(heads.allergy_cues),
        method_any=_anywhere(heads.method_cues),
        result_words=frozenset(w.lower() for w in heads.result_words),
        drug_modifiers=frozenset(w.lower() for w in heads.drug_modifiers),
        not_markers=frozenset(w.lower() for w in heads.not_markers),
        threshold=re.compile(threshold, re.IGNORECASE),
        no_structure=tuple((r.reason, re.compile(rf"(?<!\w){_alternation(r.cues)}", re.IGNORECASE)) for r in heads.no_structure),
        no_structure_default=heads.no_structure_default,
        drug_therapy_heads=frozenset(w.lower() for w in heads.drug_therapy_heads),
        separate_heads=frozenset(w.lower() for w in heads.separate_heads),
        non_name_modifiers=frozenset(w.lower() for w in heads.non_name_modifiers),
        of_containers=frozenset(w.lower() for w in heads.of_containers),
        label_words=frozenset(w.lower() for w in [*heads.label_words, *heads.scale_words]),
        carrier_words=frozenset(w.lower() for w in heads.carrier_words),
        pathogen_link=re.compile(rf"[ \t]*+(?:{_alternation(heads.pathogen_links) or '(?!)'})", re.IGNORECASE),
        population_lead=re.compile(rf"(?:{_alternation(heads.population) or '(?!)'})\s++(?:of|with)\s++", re.IGNORECASE),
        window_link=re.compile(
            rf"\s*+(?:{_alternation(heads.window_links) or '(?!)'})(?:\s++(?:{_alternation(heads.determiners)}))?\s*+",
            re.IGNORECASE,
        ),
    )


def load_concept_heads(path: str | Path | None = None) -> ConceptHeads:
    """The bundled head words and stop lists, or those of `path`; ResourceError listing every problem."""
    data, where = read_json_resource("concept_heads.json", path)
    lists: dict[str, tuple[str, type[BaseModel]]] = {
        "heads": ("head", HeadWord), "suffixes": ("suffix", HeadSuffix), "no_structure": ("reason", NoStructureReason),
    }
    return compile_concept_heads(validate_resource(ConceptHeadsFile, data, where, lists))


@dataclass(frozen=True, slots=True)
class ConceptResources:
    """Everything concept assembly reads besides the lexicon, passed explicitly."""

    context: ContextRules
    windows: TimeWindowRules
    heads: ConceptHeads


def load_concept_resources(
    context: str | Path | None = None,
    windows: str | Path | None = None,
    heads: str | Path | None = None,
) -> ConceptResources:
    """The bundled cue rules, time-window vocabulary and head words (or the files given)."""
    return ConceptResources(load_context_rules(context), load_time_windows(windows), load_concept_heads(heads))


# ---------------------------------------------------------------------------------------------
# Tokens and what each one is


class Role(IntEnum):
    CONTENT = 0  # may be part of a name
    TERM = 1  # inside a lexicon match
    QUAL = 2  # a qualifier word
    SEP = 3  # a coordinator: and, or, ',' ...
    DET = 4  # a determiner
    STOP = 5  # anything else that ends a noun phrase


# The members as plain names: reading `Role.X` goes through the enum's class machinery, ten
# times a global look-up, and the steps below read roles a few times per token.
_CONTENT, _TERM, _QUAL, _SEP, _DET, _STOP = Role.CONTENT, Role.TERM, Role.QUAL, Role.SEP, Role.DET, Role.STOP


class _Token(NamedTuple):
    """A word or sign of the text; a named tuple, built in C (`_tokenize`): a text has dozens."""

    start: int
    end: int
    text: str
    low: str


# A field of every token at once, read in C: `list(map(_START, tokens))`.
_START, _END, _TEXT, _LOW = (itemgetter(i) for i in range(4))


@dataclass(slots=True, init=False)  # __init__ written out: see COMPILED in setup.py
class _Term:
    start: int
    end: int
    type: ConceptType
    name: str
    codes: tuple[Code, ...]

    def __init__(self, start: int, end: int, type: ConceptType, name: str, codes: tuple[Code, ...]) -> None:
        self.start, self.end, self.type, self.name, self.codes = start, end, type, name, codes


@dataclass(slots=True, init=False)  # __init__ written out: see COMPILED in setup.py
class _Mention:
    """A concept being assembled: where it is, what it is, and the tokens it spans."""

    start: int
    end: int
    first: int
    last: int
    type: ConceptType
    name: str
    codes: tuple[Code, ...]
    source: Literal["lexicon", "pattern"]
    head: str | None

    def __init__(self, start: int, end: int, first: int, last: int, type: ConceptType, name: str,
                 codes: tuple[Code, ...] = (), source: Literal["lexicon", "pattern"] = "lexicon",
                 head: str | None = None) -> None:
        self.start, self.end, self.first, self.last, self.type, self.name = start, end, first, last, type, name
        self.codes, self.source, self.head = codes, source, head


@dataclass(slots=True, init=False)  # __init__ written out: see COMPILED in setup.py
class _Segment:
    """A run of name tokens between stops, and the mentions in it."""

    first: int
    last: int
    mentions: list[_Mention]
    result: bool
    """Ends in a result word after a marker: 'HER2-positive', 'CD19 positive'."""

    def __init__(self, first: int, last: int, mentions: list[_Mention] | None = None, result: bool = False) -> None:
        self.first, self.last, self.result = first, last, result
        self.mentions = [] if mentions is None else mentions


@dataclass(slots=True, init=False)  # __init__ written out: see COMPILED in setup.py
class _Doc:
    """The text with everything the assembly steps share (`_document` builds it)."""

    text: str
    tokens: list[_Token]
    roles: list[Role]
    term_of: list[int]  # per token: index into terms, or -1
    qual_of: list[int]  # per token: index into qualifiers, or -1
    terms: list[_Term]
    qualifiers: list[str]
    lexicon: ConceptLexicon
    heads: ConceptHeads
    token_starts: list[int]
    token_ends: list[int]
    term_starts: list[int]
    window_mask: bytearray
    """1 where a time window is written."""
    head_at: list[ConceptType | None]
    """Per token: the type its word names as a head word (`ConceptHeads.head_type`), or None."""
    result_at: bytearray
    """Per token: 1 for a result word, or a marker and its result ('HER2-positive'), that is a name token."""
    role_runs: str
    """The roles as one string of digits, so that runs of name tokens are one regex scan."""
    allergy_cue: bool
    """Some allergy cue is written in the text (else no phrase follows one)."""
    method_cue: bool
    """Some method cue is written in the text."""

    def __init__(self, text: str, tokens: list[_Token], roles: list[Role], term_of: list[int], qual_of: list[int],
                 terms: list[_Term], qualifiers: list[str], lexicon: ConceptLexicon, heads: ConceptHeads, *,
                 token_starts: list[int], token_ends: list[int], term_starts: list[int], window_mask: bytearray,
                 head_at: list[ConceptType | None], result_at: bytearray, role_runs: str, allergy_cue: bool,
                 method_cue: bool) -> None:
        self.text, self.tokens, self.roles, self.term_of, self.qual_of = text, tokens, roles, term_of, qual_of
        self.terms, self.qualifiers, self.lexicon, self.heads = terms, qualifiers, lexicon, heads
        self.token_starts, self.token_ends, self.term_starts = token_starts, token_ends, term_starts
        self.window_mask, self.head_at, self.result_at, self.role_runs = window_mask, head_at, result_at, role_runs
        self.allergy_cue, self.method_cue = allergy_cue, method_cue

    def span_text(self, first: int, last: int) -> str:
        return self.text[self.tokens[first].start : self.tokens[last].end]


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _codes(raw: object, memo: dict[object, tuple[Code, ...]] | None = None) -> tuple[Code, ...]:
    """Codes from the lexicon's (system, code, display) triples; malformed ones are left out.

    `memo` keeps the codes of each triple tuple already seen: a batch names the same concepts
    again and again, and building the models is most of a concept's cost."""
    if memo is not None and isinstance(raw, tuple):
        found = memo.get(raw)
        if found is None:
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            found = memo[raw] = _codes(raw)
        return found
    out = []
    for item in raw if isinstance(raw, (tuple, list)) else ():
        if not (isinstance(item, (tuple, list)) and len(item) == 3):
            continue
        system, code, display = item
        # The checks `Code` makes, done here: a lexicon gives thousands of codes per batch, and
        # validating each again costs more than the rest of its concept.
        if isinstance(system, str) and system and isinstance(code, str) and code and (display is None or isinstance(display, str)):
            out.append(Code.model_construct(system=system, code=code, display=display))
    return tuple(out)


def _type(raw: object) -> ConceptType:
    return raw if isinstance(raw, str) and raw in _TYPES else "other"  # type: ignore[return-value]


def _lookup(lexicon: ConceptLexicon, *names: str) -> tuple[str, LexiconEntry] | None:
    """The first name the lexicon knows, with its entry."""
    for name in dict.fromkeys(n for n in names if n):
        entry = lexicon.lookup(name)
        if entry is not None:
            return name, entry
    return None


# ---------------------------------------------------------------------------------------------
# Step 1: term matches worth keeping


@dataclass(slots=True, init=False)  # __init__ written out: see COMPILED in setup.py
class _Part:
    """A match found in a part of a coordinated match, with offsets into the whole text."""

    start: int
    end: int
    text: str
    type: str
    name: str
    codes: tuple[tuple[str, str, str | None], ...]

    def __init__(self, start: int, end: int, text: str, type: str, name: str,
                 codes: tuple[tuple[str, str, str | None], ...]) -> None:
        self.start, self.end, self.text, self.type, self.name, self.codes = start, end, text, type, name, codes


def _split_coordinated(text: str, found: Sequence[TermMatchLike], lexicon: ConceptLexicon, heads: ConceptHeads) -> list[TermMatchLike]:
    """A match with 'or' inside ('hepatitis B or C infection') is a list: match its parts again."""
    out: list[TermMatchLike] = []
    for m in found:
        ok = isinstance(m.start, int) and isinstance(m.end, int) and 0 <= m.start < m.end <= len(text)
        if ok:  # a splitter token is written in the match, so first look for its letters at all
            low = text[m.start : m.end].lower()
            ok = any(w in low for w in heads.term_splitters)
        inner = [t for t in _TOKEN.finditer(text, m.start, m.end) if t.group().lower() in heads.term_splitters] if ok else []
        if not inner:
            out.append(m)
            continue
        cuts = [m.start, *(x for t in inner for x in (t.start(), t.end())), m.end]
        for a, b in zip(cuts[::2], cuts[1::2], strict=True):
            out.extend(_find_in(text, a, b, lexicon))
    return out


def _find_in(text: str, a: int, b: int, lexicon: ConceptLexicon) -> list[TermMatchLike]:
    """Lexicon matches in text[a:b], with offsets into the whole text."""
    return [_Part(sub.start + a, sub.end + a, sub.text, sub.type, sub.name, sub.codes) for sub in lexicon.find(text[a:b])]


def _past_cues(text: str, found: Sequence[TermMatchLike], mask: bytearray, lexicon: ConceptLexicon) -> list[TermMatchLike]:
    """A match that starts with cue words ('History of epilepsy', 'No prior systemic therapy' read as
    'prior systemic therapy') is matched again after them, so the cue applies to what follows."""
    out: list[TermMatchLike] = []
    for m in found:
        ok = isinstance(m.start, int) and isinstance(m.end, int) and 0 <= m.start < m.end <= len(text)
        if not ok or not mask[m.start] or all(mask[m.start : m.end]):
            out.append(m)
            continue
        k = m.start
        while k < m.end and (mask[k] or text[k].isspace()):
            k += 1
        out.extend(_find_in(text, k, m.end, lexicon))
    return out


def _past_population(text: str, found: Sequence[TermMatchLike], lexicon: ConceptLexicon, heads: ConceptHeads) -> list[TermMatchLike]:
    """A match that starts with the people it is about ('Women of childbearing potential') is
    matched again after them: the concept is 'childbearing potential', the women are the subject."""
    out: list[TermMatchLike] = []
    for m in found:
        lead = heads.population_lead.match(text, m.start) if isinstance(m.start, int) and isinstance(m.end, int) else None
        if lead is None or lead.end() >= m.end:
            out.append(m)
            continue
        out.extend(_find_in(text, lead.end(), m.end, lexicon))
    return out


def _split_markers(text: str, found: Sequence[TermMatchLike], lexicon: ConceptLexicon, heads: ConceptHeads) -> list[TermMatchLike]:
    """A match that starts with a marker result ('HER2-negative breast cancer') is the observation
    and the disease after it, each matched again on its own."""
    out: list[TermMatchLike] = []
    for m in found:
        ok = isinstance(m.start, int) and isinstance(m.end, int)
        # a marker result is hyphenated ('HER2-negative'): a match without a hyphen starts with none
        plain = ok and 0 <= m.start <= m.end <= len(text) and "-" not in text[m.start : m.end]
        first = _TOKEN.match(text, m.start) if ok and not plain else None
        if first is None or first.end() >= m.end or not heads.is_marker_result(first.group()):
            out.append(m)
            continue
        out.extend(_find_in(text, m.start, first.end(), lexicon))
        rest = first.end()
        while rest < m.end and text[rest].isspace():
            rest += 1
        out.extend(_find_in(text, rest, m.end, lexicon))
    return out


def _mask(text: str, spans: Sequence[tuple[int, int]]) -> bytearray:
    mask = bytearray(len(text))
    for start, end in spans:
        mask[start:end] = b"\x01" * (end - start)
    return mask


def _cue_spans(text: str, cues: Sequence[CueMatch]) -> list[tuple[int, int]]:
    """Cues that end a name: not pseudo cues, nor prefixes fused to the next word ('non-smoker')."""
    out = []
    for cue in cues:
        fused = cue.end < len(text) and not cue.text[-1].isspace() and text[cue.end].isalnum()
        if cue.rules and not cue.kind.is_pseudo and not fused:
            out.append((cue.start, cue.end))
    return out


def _kept_terms(
    text: str, found: Sequence[TermMatchLike], mask: bytearray, windows: bytearray, heads: ConceptHeads
) -> list[_Term]:
    """Valid, non-overlapping matches that are not threshold analytes, cue words or window words.

    A threshold analyte's characters join `mask`, so no head-word phrase names it either.
    """
    valid: list[_Term] = []
    last_end = -1
    for m in sorted(found, key=lambda m: (m.start, -(m.end - m.start))):
        start, end = m.start, m.end
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            continue
        span = text[start:end]
        # the masks hold only 0 and 1: no 0 in a range is `all`, a 1 in it is `any`
        if start < last_end or not span.strip() or mask.find(0, start, end) < 0 or windows.find(1, start, end) >= 0:
            continue
        words = span.lower().split()
        if _generic_words(words, heads):  # 'disease', 'study drug' name nothing
            continue
        if heads.qualifier_pattern.fullmatch(text, start, end):  # 'metastatic' alone qualifies
            continue
        name = _norm(m.name) if isinstance(m.name, str) and m.name.strip() else " ".join(words)
        valid.append(_Term(start, end, _type(m.type), name, _codes(m.codes, heads.code_memo)))
        last_end = end
    analyte = [False] * len(valid)
    for i in range(len(valid) - 1, -1, -1):  # right to left: 'AST and ALT <= 2.5 x ULN' marks ALT, then AST
        t = valid[i]
        joined = (
            i + 1 < len(valid) and analyte[i + 1] and valid[i + 1].type == t.type
            and _only_coordinators(text[t.end : valid[i + 1].start], heads)
        )
        analyte[i] = joined or _threshold_after(text, t.end, heads, windows)
        if analyte[i]:
            mask[t.start : t.end] = b"\x01" * (t.end - t.start)
    return [t for t, a in zip(valid, analyte, strict=True) if not a]


def _threshold_after(text: str, end: int, heads: ConceptHeads, windows: bytearray) -> bool:
    """Whether a comparison follows `end` ('Platelets >= 100'), and not a time window that starts
    with a comparator ('Vasectomy at least 6 months prior to ...', 'Chemotherapy < 4 weeks before')."""
    m = heads.threshold.match(text, end)
    return m is not None and not windows[m.end() - 1]


def _generic_words(words: Sequence[str], heads: ConceptHeads) -> bool:
    """A generic head alone or after generic modifiers only ('therapy', 'study drug', 'any other treatment')."""
    return bool(words) and words[-1] in heads.generic_heads and all(w in heads.generic_modifiers for w in words[:-1])


def _only_coordinators(gap: str, heads: ConceptHeads) -> bool:
    if len(gap) > 20:
        return False
    return all(m.group().lower() in heads.coordinators or m.group() in "-–" for m in _TOKEN.finditer(gap))


# ---------------------------------------------------------------------------------------------
# Step 2: tokens, roles, segments and their mentions


def _roles(
    doc_text: str, tokens: list[_Token], terms: list[_Term], mask: bytearray, heads: ConceptHeads,
    bounds: tuple[list[int], list[int]],
) -> tuple[list[Role], list[int], list[int], list[str]]:
    """What each token is, which term it belongs to and which qualifier phrase (each -1 for none);
    `bounds` are the tokens' starts and ends."""
    pattern, target = heads.qualifier_scan.on(doc_text)
    quals = [m.span() for m in pattern.finditer(target)]
    phrases = [_norm(doc_text[a:b]) for a, b in quals]
    term_of = _owners(*bounds, [(t.start, t.end) for t in terms], inside=False)
    qual_of = _owners(*bounds, quals, inside=True)
    roles = _word_roles(tokens, term_of, qual_of, mask, heads, bounds)
    for k in range(1, len(tokens) - 1) if _DET in roles else ():  # 'carcinoma of the cervix': an article after 'of' is part of the name
        if roles[k] is _DET and tokens[k - 1].low == "of" and roles[k + 1] in _NAME_ROLES:
            roles[k] = _CONTENT
    if "(" in doc_text:
        _inner_abbreviations(tokens, roles)
    if not heads.scale_words.isdisjoint(map(_LOW, tokens)):  # else no token begins a scale
        _stop_scales(tokens, roles, heads)
    return roles, term_of, qual_of, phrases


def _owners(starts: list[int], ends: list[int], spans: Sequence[tuple[int, int]], *, inside: bool) -> list[int]:
    """Per token (by its start and end), the index of the first of the sorted, disjoint spans it
    overlaps (`inside`: lies within), or -1.

    Each span looks up its first token and walks the tokens it reaches: a text has far fewer
    terms and qualifiers than tokens."""
    out = [-1] * len(starts)
    n = len(starts)
    for i, (a, b) in enumerate(spans):
        k = bisect_right(ends, a)  # the first token that ends after the span starts
        while k < n and starts[k] < b:
            if out[k] < 0 and (not inside or (a <= starts[k] and ends[k] <= b)):
                out[k] = i
            k += 1
    return out


def _word_roles(
    tokens: list[_Token], term_of: list[int], qual_of: list[int], mask: bytearray, heads: ConceptHeads,
    bounds: tuple[list[int], list[int]],
) -> list[Role]:
    """Each token's role: a term's, a stop under a cue or window, a qualifier, else by its word.

    Laid on in layers, the weakest first: every token by its word (one memo look-up each, in C),
    then the qualifiers, the stops and the terms over it; an 'A' after a name is read last, left
    to right, as the token before it ends up."""
    n = len(tokens)
    memo = heads.role_memo
    try:
        roles = list(map(memo.__getitem__, map(_LOW, tokens)))
    except KeyError:
        roles = [_role_of_word(t.low, heads) for t in tokens]
    if qual_of.count(-1) < n:
        for k, qual in enumerate(qual_of):
            if qual >= 0:
                roles[k] = _QUAL
    starts, ends = bounds
    run = mask.find(1)
    while run >= 0:  # each run of masked characters: the tokens it overlaps are stops
        stop = mask.find(0, run)
        stop = len(mask) if stop < 0 else stop
        k = bisect_right(ends, run)
        while k < n and starts[k] < stop:
            roles[k] = _STOP
            k += 1
        run = mask.find(1, stop) if stop < len(mask) else -1
    if term_of.count(-1) < n:
        for k, owner in enumerate(term_of):
            if owner >= 0:
                roles[k] = _TERM
    if "A" in map(_TEXT, tokens):  # 'hepatitis A' and 'vitamin A' keep their letter
        for k in range(1, n):
            if roles[k] is _DET and tokens[k].text == "A" and roles[k - 1] in _NAME_ROLES:
                roles[k] = _STOP if tokens[k].low in heads.stop_words else _CONTENT
    return roles


def _role_of_word(low: str, heads: ConceptHeads) -> Role:
    """A token's role by its (lower-case) word alone, remembered per word.

    `low[0].isalnum()` is `text[0].isalnum()`: no character's lower case changes whether it is a
    letter or digit (every code point checked)."""
    role = heads.role_memo.get(low)
    if role is None:
        if low in heads.coordinators:
            role = _SEP
        elif low in heads.determiners:
            role = _DET
        elif not low[0].isalnum() or low in heads.stop_words:
            role = _STOP
        else:
            role = _CONTENT
        if len(heads.role_memo) >= _MEMO_SIZE:
            heads.role_memo.clear()
        heads.role_memo[low] = role
    return role


_NAME_ROLES = (_CONTENT, _TERM)


def _inner_abbreviations(tokens: list[_Token], roles: list[Role]) -> None:
    """'central nervous system (CNS) metastases': an abbreviation in parentheses inside a noun
    phrase is part of it, so the phrase runs on to its head."""
    for k in range(1, len(tokens) - 3):
        if tokens[k].text != "(" or roles[k - 1] not in _NAME_ROLES:
            continue
        inner = tokens[k + 1]
        if tokens[k + 2].text != ")" or k + 3 >= len(tokens) or roles[k + 3] not in _NAME_ROLES:
            continue
        if len(inner.text) <= 8 and any(ch.isupper() for ch in inner.text) and inner.text[0].isalpha():
            roles[k] = roles[k + 2] = _CONTENT
            if roles[k + 1] not in _NAME_ROLES:
                roles[k + 1] = _CONTENT


def _is_label(text: str) -> bool:
    """A series label or a range of them: 'C', '2', 'IV', 'III-IV'."""
    return _LABELS.fullmatch(text) is not None


def _stop_scales(tokens: list[_Token], roles: list[Role], heads: ConceptHeads) -> None:
    """'stage III-IV', 'grade 3 or higher': a scale and its labels are a threshold's, not a name's words."""
    scale_words = heads.scale_words
    for k, tok in enumerate(tokens):
        if tok.low not in scale_words or roles[k] is _TERM:
            continue
        end = None
        for j in range(k + 1, min(k + 1 + _MAX_SCALE, len(tokens))):
            if roles[j] is _TERM:
                break
            if _is_label(tokens[j].text) or (tokens[j].low in heads.scale_connectors and roles[j] is not _SEP and tokens[j].low.isalpha()):
                end = j
            elif tokens[j].low not in heads.scale_connectors:
                break
        if end is not None and _is_label(tokens[k + 1].text):
            for j in range(k, end + 1):
                roles[j] = _STOP


_ROLE_DIGIT = {r: str(int(r)) for r in Role}
_NAME_RUN = re.compile(f"[{int(_CONTENT)}{int(_TERM)}]+")


def _segments(doc: _Doc) -> list[_Segment]:
    """Maximal runs of name tokens, trimmed of a leading or trailing 'of', split after a marker's result."""
    out: list[_Segment] = []
    result_at, tokens = doc.result_at, doc.tokens
    for run in _NAME_RUN.finditer(doc.role_runs):
        k, j = run.start(), run.end() - 1
        if result_at.find(1, k, j + 1) < 0:  # no result word: one segment (what the two steps below give)
            if tokens[k].low != "of" and tokens[j].low != "of":  # nothing to trim: what `_trim_of` gives
                out.append(_Segment(k, j))
                continue
            seg = _trim_of(doc, k, j, False)
            if seg is not None:
                out.append(seg)
            continue
        joined = _parenthesised_result(doc, out, k)
        if joined is not None:
            out.append(joined)
            k += 1
            if k > j:
                continue
        out.extend(_split_results(doc, k, j))
    return out


def _parenthesised_result(doc: _Doc, out: list[_Segment], k: int) -> _Segment | None:
    """'Cluster of Differentiation 19 (CD19) positive': a result word right after a parenthesised
    abbreviation ends one observation with the phrase before the parenthesis (taken off `out`)."""
    if not doc.result_at[k] or k < 3 or doc.tokens[k - 1].text != ")":
        return None
    opening = next((j for j in range(k - 2, max(k - 2 - _MAX_PAREN, 0), -1) if doc.tokens[j].text == "("), None)
    if opening is None or opening == k - 2:
        return None
    i = len(out)
    while i and out[i - 1].first > opening:  # the abbreviation's own segment
        i -= 1
    if not i or out[i - 1].last != opening - 1 or out[i - 1].result:
        return None
    first = out[i - 1].first
    del out[i - 1 :]
    return _Segment(first, k, result=True)


def _is_result(doc: _Doc, k: int) -> bool:
    return bool(doc.result_at[k])


def _split_results(doc: _Doc, first: int, last: int) -> list[_Segment]:
    """'HER2-positive breast cancer' is the observation 'HER2-positive' and the condition after it."""
    if doc.result_at.find(1, first, last + 1) < 0:  # no result word: one segment
        seg = _trim_of(doc, first, last, False)
        return [] if seg is None else [seg]
    out = []
    start = first
    for k in range(first, last + 1):
        marker = k > start or "-" in doc.tokens[k].low
        if doc.result_at[k] and marker:
            out.append((start, k, True))
            start = k + 1
    if start <= last:
        out.append((start, last, False))
    return [seg for seg in (_trim_of(doc, *s) for s in out) if seg is not None]


def _trim_of(doc: _Doc, first: int, last: int, result: bool) -> _Segment | None:
    roles, tokens = doc.roles, doc.tokens
    while first <= last and roles[first] is _CONTENT and tokens[first].low == "of":
        first += 1
    while last >= first and roles[last] is _CONTENT and tokens[last].low == "of":
        last -= 1
    return _Segment(first, last, result=result) if first <= last else None


def _terms_in(doc: _Doc, first: int, last: int) -> list[int]:
    """Indices of the terms lying wholly within tokens first..last."""
    if not doc.terms:
        return []
    start, end = doc.tokens[first].start, doc.tokens[last].end
    i = bisect_left(doc.term_starts, start)
    out = []
    while i < len(doc.terms) and doc.terms[i].start < end:
        if doc.terms[i].end <= end:
            out.append(i)
        i += 1
    return out


def _term_mention(doc: _Doc, index: int) -> _Mention:
    t = doc.terms[index]
    first = bisect_right(doc.token_ends, t.start)
    last = bisect_left(doc.token_starts, t.end) - 1
    return _Mention(t.start, t.end, first, max(first, last), t.type, t.name, t.codes, "lexicon")


def _widened_term(doc: _Doc, seg: _Segment, m: _Mention) -> _Mention:
    """A term that ends its phrase takes the name words written before it: 'epithelial ovarian
    cancer', 'Type 1 diabetes', 'strong CYP2C8 inhibitors' (not 'written', 'two', nor across 'of');
    a term that starts with such words leaves them out ('written informed consent')."""
    k = m.first
    if m.last == seg.last:
        while k > seg.first and doc.roles[k - 1] is _CONTENT and doc.tokens[k - 1].low != "of":
            if _is_number(doc.tokens[k - 1].low) and not (k - 2 >= seg.first and doc.tokens[k - 2].low in doc.heads.label_words):
                break  # 'at least one platinum-containing regimen', but 'Type 1 diabetes'
            k -= 1
    k = _name_start(doc, _past_container(doc, k, m.last), m.last)
    if k != m.first:
        m.start, m.first = doc.tokens[k].start, k
    return m


def _name_start(doc: _Doc, first: int, limit: int) -> int:
    """The first token from `first` on that may begin a name: not a determiner, a number, a
    qualifier pair ('Relapsed/refractory') or a word of `non_name_modifiers` ('written informed
    consent', 'two antidepressants')."""
    while first < limit and _not_name(doc, doc.tokens[first].low):
        first += 1
    return first


def _not_name(doc: _Doc, word: str) -> bool:
    heads = doc.heads
    if word in heads.non_name_modifiers or word in heads.determiners or _is_number(word):
        return True
    parts = word.split("/")
    return len(parts) > 1 and all(heads.qualifier_pattern.fullmatch(p) for p in parts)


def _past_container(doc: _Doc, first: int, head: int) -> int:
    """After 'method of', 'implantation of' ...: the concept is what follows ('implantation of a
    dual-chamber pacemaker' is the pacemaker)."""
    for k in range(head - 1, first, -1):
        if doc.tokens[k].low == "of" and doc.tokens[k - 1].low in doc.heads.of_containers:
            return k + 1
    return first if first > head or doc.tokens[first].low not in doc.heads.of_containers or first + 1 > head else (
        first + 2 if doc.tokens[first + 1].low == "of" and first + 2 <= head else first
    )


def _is_number(word: str) -> bool:
    return word[:1].isdigit() or word in _NUMBER_WORDS


_NUMBER_WORDS = frozenset("one two three four five six seven eight nine ten".split())


def _is_head(doc: _Doc, k: int, seg: _Segment) -> bool:
    """A head word no term covers, or a term that is a bare head word after other words ('RSV infection')."""
    if not doc.head_at[k]:
        return False
    if doc.roles[k] is _CONTENT:
        return True
    index = doc.term_of[k]
    return (  # a head by its word ('infection'), not by its ending: 'prednisone' is no head
        doc.roles[k] is _TERM and k > seg.first and index >= 0
        and (doc.terms[index].start, doc.terms[index].end) == (doc.tokens[k].start, doc.tokens[k].end)
        and doc.heads.head_word(doc.tokens[k].text) is not None
    )


def _head_phrase(doc: _Doc, seg: _Segment) -> tuple[int, int, int] | None:
    """Token range and head of the segment's head-word phrase: its start to the last head ('... of ...')."""
    if not any(doc.head_at[seg.first : seg.last + 1]):
        return None
    head = next((k for k in range(seg.last, seg.first - 1, -1) if _is_head(doc, k, seg)), None)
    if head is None:
        return None
    start = _name_start(doc, _past_container(doc, seg.first, head), head)
    end = head
    if end + 2 <= seg.last and doc.tokens[end + 1].low == "type" and _is_label(doc.tokens[end + 2].text):
        end += 2  # 'multiple endocrine neoplasia syndrome type 2'
    while end < seg.last and _is_label(doc.tokens[end + 1].text):  # 'hepatitis A', 'leukemia type B'
        end += 1
    if end < seg.last and doc.tokens[end + 1].low == "of" and seg.last - end <= _MAX_OF:
        end = seg.last
    return start, end, head


def _generic(doc: _Doc, first: int, head: int) -> bool:
    """'disease', 'study procedures', 'optimal medical therapy': words that name no concept."""
    if doc.tokens[head].low not in doc.heads.generic_heads:
        return False
    return all(doc.tokens[k].low in doc.heads.generic_modifiers for k in range(first, head))


def _after_drug_term(doc: _Doc, head: int) -> bool:
    """A therapy word right after a whole drug the lexicon names ('insulin injections'), not after
    part of a word ('platinum-based chemotherapy')."""
    if doc.tokens[head].low not in doc.heads.drug_therapy_heads:
        return False
    index = doc.term_of[head - 1]
    return index >= 0 and doc.terms[index].type == "drug" and doc.terms[index].end == doc.tokens[head - 1].end and (
        doc.terms[index].start <= doc.tokens[head - 1].start
    )


def _phrase_mention(doc: _Doc, first: int, last: int, head: int) -> _Mention | None:
    """The mention a head-word phrase names: its lexicon entry if it has one, else a pattern."""
    start, end = doc.tokens[first].start, doc.tokens[last].end
    lead = first
    while lead < head and doc.tokens[lead].low in doc.heads.determiners:
        lead += 1
    if _generic(doc, first, head) or (
        doc.tokens[lead].low in doc.heads.generic_heads and lead + 1 < head and doc.tokens[lead + 1].low == "of"
    ):  # 'any component of the vaccine', 'the excipients of the study intervention'
        return None
    text = doc.text[start:end]
    kind = "observation" if _is_result(doc, head) else (doc.head_at[head] or "other")
    if kind == "procedure" and head > first and (
        doc.tokens[head - 1].low in doc.heads.drug_modifiers or _after_drug_term(doc, head)
    ):
        kind = "drug"  # 'immunosuppressive therapy', 'metformin monotherapy': treatment with a drug
    hit = _lookup(doc.lexicon, text)
    if hit is not None:
        entry = hit[1]
        return _Mention(start, end, first, last, _type(entry.type), _norm(entry.name) or _norm(text), _codes(entry.codes, doc.heads.code_memo))
    head_term = doc.term_of[head]
    if doc.tokens[head].low in doc.heads.separate_heads and head > first:
        return _Mention(doc.tokens[head].start, end, head, last, kind, _norm(doc.text[doc.tokens[head].start : end]), (), "pattern")
    same = [doc.terms[i] for i in _terms_in(doc, first, last) if i != head_term and doc.terms[i].type == kind]
    if len(same) == 1:  # 'hepatitis B' + 'infection': the fuller wording of the same coded concept
        return _Mention(start, end, first, last, kind, _norm(text), same[0].codes, "lexicon")
    return _Mention(start, end, first, last, kind, _norm(text), (), "pattern")


def _fill_segment(doc: _Doc, seg: _Segment) -> None:
    """The segment's mentions: its head-word phrase (absorbing the terms inside it) and its other terms."""
    phrase = (seg.first, seg.last, seg.last) if seg.result else _head_phrase(doc, seg)
    absorbed: set[int] = set()
    if phrase is not None:
        first, last, head = phrase
        mention = _phrase_mention(doc, first, last, head)
        absorbed = set(_terms_in(doc, mention.first if mention is not None else first, last))
        if mention is not None:
            seg.mentions.append(mention)
    for index in _terms_in(doc, seg.first, seg.last):
        if index not in absorbed:
            seg.mentions.append(_widened_term(doc, seg, _term_mention(doc, index)))
    if len(seg.mentions) > 1:
        seg.mentions.sort(key=lambda m: m.start)


def _thresholds(doc: _Doc, group: list[_Segment]) -> list[_Segment]:
    """The group without its threshold analytes: the phrase a comparison follows ('resting heart
    rate >= 70') and the observations listed just before it ('AST and ALT <= 2.5 x ULN')."""
    if not _threshold_after(doc.text, doc.tokens[group[-1].last].end, doc.heads, doc.window_mask):
        return group
    keep = len(group) - 1
    while keep and _observations_only(doc, group[keep - 1]):
        keep -= 1
    return group[:keep]


def _observations_only(doc: _Doc, seg: _Segment) -> bool:
    terms = _terms_in(doc, seg.first, seg.last)
    return bool(terms) and all(doc.terms[i].type == "observation" for i in terms)


def _after_method(doc: _Doc, seg: _Segment) -> bool:
    """Whether the phrase only says how something is assessed ('as confirmed by flow cytometry')."""
    start = doc.tokens[seg.first].start
    return doc.method_cue and doc.heads.method_tail.search(doc.text, max(0, start - 60), start) is not None


def _after_allergy(doc: _Doc, seg: _Segment) -> bool:
    """Whether the phrase names what the patient is allergic to ('hypersensitivity to pembrolizumab')."""
    start = doc.tokens[seg.first].start
    return doc.allergy_cue and doc.heads.allergy_tail.search(doc.text, max(0, start - 60), start) is not None


# ---------------------------------------------------------------------------------------------
# Step 3: coordination ellipsis


def _groups(doc: _Doc, segments: Sequence[_Segment]) -> list[list[_Segment]]:
    """Consecutive segments joined only by coordinators (with qualifiers or determiners between)."""
    groups: list[list[_Segment]] = []
    for seg in segments:
        if groups and _coordinated(doc, groups[-1][-1], seg):
            groups[-1].append(seg)
        else:
            groups.append([seg])
    return groups


def _coordinated(doc: _Doc, left: _Segment, right: _Segment) -> bool:
    gap = doc.role_runs[left.last + 1 : right.first]
    return 0 < len(gap) <= _MAX_GAP and _ROLE_DIGIT[_SEP] in gap and not gap.strip(_GAP_DIGITS)


_GAP_DIGITS = "".join(str(int(r)) for r in (_SEP, _QUAL, _DET))


def _whole(seg: _Segment) -> _Mention | None:
    """The one mention covering the whole segment, if there is one."""
    if len(seg.mentions) == 1 and (seg.mentions[0].first, seg.mentions[0].last) == (seg.first, seg.last):
        return seg.mentions[0]
    return None


def _type_at(doc: _Doc, seg: _Segment, k: int) -> ConceptType | None:
    """The type of the mention covering token k, else of the head word there."""
    for m in seg.mentions:
        if m.first <= k <= m.last:
            return m.type
    return doc.head_at[k]


def _suffix_carry(
    doc: _Doc, seg: _Segment, last: _Segment, last_read: tuple[bool, ConceptType | None]
) -> tuple[int, tuple[str, LexiconEntry] | None]:
    """How many trailing words of the list's last phrase complete `seg`, and the entry found for it.

    'breast' in 'breast or ovarian cancer' takes 'cancer'. A phrase that is a concept of its own
    ('diabetes' in 'diabetes, hypertension or heart failure') takes words only when the lexicon
    knows the result; one that ends in a head word takes none. `last_read`: whether the last
    phrase holds 'of', and the type at its end (read once per list, not once per member).
    """
    n_last = last.last - last.first + 1
    last_has_of, last_type = last_read
    if last_has_of:
        return 0, None  # 'egg proteins or any component of the vaccine': 'vaccine' is no shared head
    if doc.tokens[seg.last].text.endswith("-") and "-" in doc.tokens[last.first].text and not seg.mentions:
        return n_last, None
    own_head = doc.head_at[seg.last]
    if n_last < 2 or (own_head is not None and own_head not in doc.heads.carry_types):
        return 0, None  # 'HIV virus, hepatitis B or C infection': an organism still takes 'infection'
    whole = _whole(seg)
    own = _norm(doc.span_text(seg.first, seg.last))
    for s in range(1, min(n_last - 1, _MAX_CARRY) + 1):
        words = _norm(doc.span_text(last.last - s + 1, last.last))
        hit = _lookup(doc.lexicon, f"{own} {words}", f"{whole.name} {words}" if whole else "")
        if hit is not None:
            return s, hit
    free = not seg.mentions or (whole is not None and whole.type in doc.heads.carry_types)
    if not free or (whole is not None and last_type == whole.type):
        return 0, None  # 'Pseudomonas aeruginosa or other ... bacteria': an organism needs no 'bacteria'
    if doc.head_at[last.last]:
        return 1, None
    n = seg.last - seg.first + 1
    parallel = doc.tokens[seg.first].low == doc.tokens[last.first].low
    if not seg.mentions and parallel and n_last > n:  # 'type 1 or type 2 diabetes': past the parallel part
        return min(n_last - n, _MAX_CARRY), None
    return 0, None


def _prefix(doc: _Doc, seg: _Segment, prev: _Segment, prev_prefix: str | None) -> str | None:
    """The words a series label takes from the phrase before it: 'C' after 'hepatitis B' takes 'hepatitis'."""
    if not _is_label(doc.tokens[seg.first].text) or doc.term_of[seg.first] >= 0:
        return None
    if not _is_label(doc.tokens[prev.last].text):
        return None
    if prev_prefix:
        return prev_prefix
    k = prev.last
    while k >= prev.first and _is_label(doc.tokens[k].text):
        k -= 1
    return _norm(doc.span_text(prev.first, k)) if k >= prev.first else None


def _merged(
    doc: _Doc, seg: _Segment, prefix: str | None, suffix: str, hit: tuple[str, LexiconEntry] | None, donor: ConceptType | None
) -> _Mention | None:
    """One mention for a segment completed by carried words, coded when the lexicon knows its name."""
    own = _norm(doc.span_text(seg.first, seg.last))
    name = " ".join(p for p in (prefix, own, suffix) if p).replace("- ", "-")
    if prefix or hit is None:
        hit = _lookup(doc.lexicon, name)
    start, end = doc.tokens[seg.first].start, doc.tokens[seg.last].end
    if doc.tokens[seg.first].text[0].isdigit() and hit is None:  # '< 9 g/dL or transfusion dependence'
        return None
    head = " ".join(p for p in (prefix, suffix) if p)
    if hit is not None:
        entry = hit[1]
        return _Mention(start, end, seg.first, seg.last, _type(entry.type), hit[0], _codes(entry.codes, doc.heads.code_memo), "lexicon", head)
    own_type = _type_at(doc, seg, seg.last) or (seg.mentions[0].type if seg.mentions else None)
    kind = (donor or own_type) if suffix else (own_type or donor)
    if kind is None:
        return None
    return _Mention(start, end, seg.first, seg.last, kind, name, (), "pattern", head)


def _observed(seg: _Segment) -> bool:
    """A marker result or a named observation ('ER-positive' in 'ER-positive or PR-positive breast
    cancer'): it is its own concept and takes no head from the list."""
    whole = _whole(seg)
    return seg.result or (whole is not None and whole.type == "observation")


def _resolve_group(doc: _Doc, group: Sequence[_Segment]) -> list[_Mention]:
    """The mentions of a coordination, with elided heads carried back and series prefixes forward."""
    if len(group) == 1:
        return list(group[0].mentions)
    last = group[-1]
    last_type = _type_at(doc, last, last.last)
    last_read = any(doc.tokens[k].low == "of" for k in range(last.first, last.last + 1)), last_type
    out: list[_Mention] = []
    prev_prefix: str | None = None
    prev_type: ConceptType | None = None
    for j, seg in enumerate(group):
        prefix = _prefix(doc, seg, group[j - 1], prev_prefix) if j else None
        s, hit = _suffix_carry(doc, seg, last, last_read) if j < len(group) - 1 and not _observed(seg) else (0, None)
        merged = None
        if prefix or s:
            suffix = _norm(doc.span_text(last.last - s + 1, last.last)) if s else ""
            if doc.tokens[seg.last].text.endswith("-"):  # 'Second-' takes 'degree atrioventricular block'
                suffix = _norm(doc.span_text(last.first, last.last)).split("-", 1)[-1]
            donor = last_type if s else prev_type
            merged = _merged(doc, seg, prefix, suffix, hit, donor)
        out.extend([merged] if merged is not None else seg.mentions)
        prev_prefix = prefix
        prev_type = merged.type if merged is not None else _type_at(doc, seg, seg.last)
    return out


# ---------------------------------------------------------------------------------------------
# Step 4: qualifiers; step 5: context and time windows


_LEAD_ROLES = frozenset((_QUAL, _DET, _SEP))
"""Roles of the words that may stand between a concept and its qualifiers."""


def _qualifiers(doc: _Doc, first: int) -> list[str]:
    """Qualifier phrases written just before token `first` ('refractory or relapsed', 'any concurrent active')."""
    ids: dict[int, None] = {}
    roles, qual_of = doc.roles, doc.qual_of
    k = first - 1
    while k >= 0 and roles[k] in _LEAD_ROLES:
        if roles[k] is _QUAL and qual_of[k] >= 0:
            ids.setdefault(qual_of[k])
        k -= 1
    return [doc.qualifiers[q] for q in reversed(ids)]


def _same_clause(breaks: Sequence[int], a: int, b: int) -> bool:
    """No sentence end or terminating cue in [a, b)."""
    i = bisect_left(breaks, a)
    return i == len(breaks) or breaks[i] >= b


def _windows_for(spans: Sequence[tuple[int, int]], windows: Sequence[TimeWindow], breaks: Sequence[int]) -> list[TimeWindow | None]:
    """Each group's window: the next one in its clause before any other group, else an unclaimed one before it."""
    starts = [w.span.start for w in windows]
    ends = [w.span.end for w in windows]
    out: list[TimeWindow | None] = [None] * len(spans)
    claimed: set[int] = set()
    for g, (_, ge) in enumerate(spans):
        i = bisect_left(starts, ge)
        limit = spans[g + 1][0] if g + 1 < len(spans) else (ends[-1] if ends else ge) + 1
        if i < len(windows) and starts[i] < limit and _same_clause(breaks, ge, starts[i]):
            out[g] = windows[i]
            claimed.add(i)
    for g, (gs, _) in enumerate(spans):
        i = bisect_right(ends, gs) - 1
        if out[g] is None and i >= 0 and i not in claimed and _same_clause(breaks, ends[i], gs):
            out[g] = windows[i]
    return out


_DURATION_GAP = re.compile(r"[ \t]*+[:(,]?[ \t]*+")


def _duration_windows(text: str, spans: Sequence[tuple[int, int]], windows: list[TimeWindow | None], durations: Sequence[TimeWindow]) -> list[TimeWindow | None]:
    """A bounded duration right after a concept is its window: 'prior autologous stem cell
    transplantation < 12 months', 'stable disease (at least 3 months)'."""
    if not durations:
        return windows
    out = list(windows)
    starts = {d.span.start: d for d in durations}
    for g, (_, end) in enumerate(spans):
        gap = _DURATION_GAP.match(text, end)
        if out[g] is None and gap is not None and gap.end() in starts:
            out[g] = starts[gap.end()]
    return out


def _linked_windows(text: str, spans: Sequence[tuple[int, int]], windows: list[TimeWindow | None], heads: ConceptHeads) -> list[TimeWindow | None]:
    """An event that required the next one shares its window: 'Asthma exacerbation requiring
    systemic corticosteroids in the past 4 weeks' dates the exacerbation too."""
    out = list(windows)
    for g in range(len(spans) - 2, -1, -1):
        if out[g] is None and out[g + 1] is not None and heads.window_link.fullmatch(text, spans[g][1], spans[g + 1][0]):
            out[g] = out[g + 1]
    return out


def _concept(doc: _Doc, m: _Mention, flags: ContextFlags, qualifiers: Sequence[str], window: TimeWindow | None) -> Concept | None:
    """The mention as a `Concept`, or None for one the contract rejects (an odd case-folding).

    The checks `Concept` makes are done here and the model is built without validating again:
    every other field comes from validated data or a closed set, and validating costs three
    times the rest of building it (`tests/extract/test_concepts.py` checks both agree).
    """
    start, end = m.start, m.end
    text = doc.text[start:end]
    name = m.name
    quals = tuple(dict.fromkeys(qualifiers)) if qualifiers else ()
    if not (
        isinstance(m.type, str) and m.type in _TYPES and text and len(text) == end - start
        and isinstance(name, str) and name and name == name.lower() and name == name.strip()
        and (not quals or all(isinstance(q, str) and q and q == q.lower() for q in quals))
    ):
        return None
    return unchecked_model(Concept, {
        "type": m.type,
        "text": text,
        "span": unchecked_model(Span, {"start": start, "end": end}),  # 0 <= start < end: from a token range
        "name": name,
        "head": m.head or None,
        "negated": flags.negated,
        "modality": flags.modality,
        "subject": flags.subject,
        "qualifiers": quals,
        "temporal": window,
        "codes": m.codes if isinstance(m.codes, tuple) else tuple(m.codes),
        "source": m.source,
    })


def _widened(own: ContextFlags, shared: Sequence[ContextCue]) -> ContextFlags:
    """A list member's flags with the cues that reach the list as a whole (nearest first)."""
    cues = [*own.cues, *(c for c in shared if c not in own.cues)]
    categories = {c.category for c in cues}
    modal = next((MODALITY_OF[c.category] for c in shared if c.category in MODALITY_OF), None)
    return ContextFlags(
        negated=own.negated or "NEGATED_EXISTENCE" in categories,
        modality=own.modality or modal,
        subject="family" if "FAMILY" in categories else own.subject,
        cues=tuple(sorted(cues, key=lambda c: (c.start, c.category))),
    )


def _list_context(groups: Sequence[list[_Mention]], flags: list[ContextFlags]) -> list[ContextFlags]:
    """A cue before a list (or after it) covers every member: 'no history of A, B or C'."""
    out: list[ContextFlags] = []
    k = 0
    for group in groups:
        own = flags[k : k + len(group)]
        k += len(group)
        if len(group) > 1:
            start, end = group[0].start, group[-1].end
            lead = sorted((c for c in own[0].cues if c.end <= start), key=lambda c: -c.end)
            trail = sorted((c for c in own[-1].cues if c.start >= end), key=lambda c: c.start)
            own = [_widened(f, [*lead, *trail]) for f in own]
        out.extend(own)
    return out


_PLAIN = ContextFlags()


def _build(
    doc: _Doc,
    groups: Sequence[list[_Mention]],
    cues: Sequence[CueMatch],
    timing: tuple[Sequence[TimeWindow], Sequence[TimeWindow]],
    rules: ContextRules,
) -> tuple[Concept, ...]:
    """Concepts with their context flags, qualifiers (a list's leading ones shared) and time windows."""
    mentions = [m for g in groups for m in g]
    if any(c.kind.scoped for c in cues):
        flags = _list_context(groups, apply_context(doc.text, [(m.start, m.end) for m in mentions], rules, cues=cues))
    else:  # no cue that reaches anything: every mention is plainly present
        flags = [_PLAIN] * len(mentions)
    spans = [(g[0].start, g[-1].end) for g in groups]
    windows, durations = timing
    group_windows: list[TimeWindow | None] = [None] * len(groups)
    if windows or durations:
        group_windows = _windows_for(spans, windows, clause_breaks(cues))
        group_windows = _linked_windows(doc.text, spans, _duration_windows(doc.text, spans, group_windows, durations), doc.heads)
    out: list[Concept] = []
    k = 0
    for g, group in enumerate(groups):
        shared = _qualifiers(doc, group[0].first)
        if _CURRENT_USE.search(doc.text, max(0, group[0].start - 48), group[0].start) and "current" not in shared:
            shared = [*shared, "current"]  # 'Currently taking metformin', 'Concomitant use of warfarin'
        for j, m in enumerate(group):
            own = shared if j == 0 else [*shared, *_qualifiers(doc, m.first)]
            concept = _concept(doc, m, flags[k], own, group_windows[g])
            k += 1
            if concept is not None:
                out.append(concept)
    return tuple(out)


_CURRENT_USE = re.compile(
    r"(?<!\w)(?:current(?:ly)?|concurrent(?:ly)?|concomitant(?:ly)?|ongoing|presently)\s+"
    r"(?:(?:use|usage|intake|administration|treatment|therapy)\s+(?:of|with)|taking|receiving|using|treated\s+with|on|undergoing)"
    r"\s+(?:(?:a|an|the|any)\s+)?$",
    re.IGNORECASE,
)
"""Words right before a concept that say it is now ('current use of', 'currently receiving')."""
_PAREN = re.compile(r"[ \t]*+\(([^()\n]{1,40})\)")
_MAX_PAREN = 6  # most tokens of a parenthesised abbreviation or synonym


def _with_abbreviations(doc: _Doc, groups: list[list[_Mention]]) -> list[list[_Mention]]:
    """A parenthesised name right after a mention is part of it: 'hepatitis B surface antigen
    (HBsAg)', 'Down syndrome (trisomy 21)'. Lists and examples ('(PCI or CABG)', '(such as ...)') are not."""
    if "(" not in doc.text:
        return groups
    flat = sorted((m for g in groups for m in g), key=lambda m: m.start)
    starts = [m.start for m in flat]
    absorbed: set[int] = set()
    for m in flat:
        paren = _PAREN.match(doc.text, m.end)
        if paren is None or id(m) in absorbed:
            continue
        first = bisect_left(doc.token_starts, paren.start(1))
        last = bisect_left(doc.token_starts, paren.end(1)) - 1
        if not 0 <= last - first < _MAX_PAREN or any(doc.roles[k] not in _NAME_ROLES for k in range(first, last + 1)):
            continue
        i = bisect_left(starts, paren.start(1))
        while i < len(flat) and flat[i].end <= paren.end(1):
            absorbed.add(id(flat[i]))
            i += 1
        m.end, m.last = paren.end(), last + 1
    kept = [[m for m in g if id(m) not in absorbed] for g in groups]
    return [g for g in kept if g]


def _tokenize(text: str) -> list[_Token]:
    low = text.lower()
    new = tuple.__new__  # `_Token(...)` without its Python-level `__new__`
    if len(low) == len(text):
        return [new(_Token, (a, b, text[a:b], low[a:b])) for a, b in map(re.Match.span, _TOKEN.finditer(text))]
    # a character whose lower case is longer ('İ'): lower each token on its own
    return [new(_Token, (m.start(), m.end(), m.group(), m.group().lower())) for m in _TOKEN.finditer(text)]


def _head_types(tokens: Sequence[_Token], heads: ConceptHeads) -> list[ConceptType | None]:
    """`heads.head_type` of each token, read from its memo where the word is known."""
    memo, head_type = heads.memo, heads.head_type
    words = list(map(_TEXT, tokens))
    try:  # every word known: one pass in C
        return list(map(memo.__getitem__, words))
    except KeyError:
        return [memo[w] if w in memo else head_type(w) for w in words]


def _document(
    text: str, tokens: list[_Token], head_at: list[ConceptType | None], terms: list[_Term],
    masks: tuple[bytearray, bytearray], lexicon: ConceptLexicon, heads: ConceptHeads, allergy_cue: bool,
) -> _Doc:
    """`allergy_cue`: what `heads.allergy_any` finds in the text (read once by the caller)."""
    mask, window_mask = masks
    starts, ends = list(map(_START, tokens)), list(map(_END, tokens))
    roles, term_of, qual_of, qualifiers = _roles(text, tokens, terms, mask, heads, (starts, ends))
    result_words, is_marker_result = heads.result_words, heads.is_marker_result
    if "-" not in text and result_words.isdisjoint(map(_LOW, tokens)):  # no result word, nor a hyphen to join one
        result_at = bytearray(len(tokens))
    else:
        result_at = bytearray([
            r is _CONTENT and (t.low in result_words or ("-" in t.low and is_marker_result(t.low))) for t, r in zip(tokens, roles, strict=True)
        ])
    return _Doc(
        text, tokens, roles, term_of, qual_of, terms, qualifiers, lexicon, heads,
        token_starts=starts, token_ends=ends, term_starts=[t.start for t in terms],
        window_mask=window_mask, head_at=head_at, result_at=result_at, role_runs="".join(map(_ROLE_DIGIT.__getitem__, roles)),
        allergy_cue=allergy_cue, method_cue=heads.method_any.search(text) is not None,
    )


def _allergens(doc: _Doc, group: Sequence[_Segment]) -> list[_Mention]:
    """The phrases of a list after 'allergy to' that no entry or head word names ('sulfonamides')."""
    out = []
    for seg in group:
        if (
            seg.mentions or _generic(doc, seg.first, seg.last) or doc.tokens[seg.first].low in doc.heads.generic_heads
            or not any(ch.isalpha() for ch in doc.span_text(seg.first, seg.last))
        ):  # 'any of the excipients of ...', '3' of '3,4-diaminopyridine'
            continue
        start, end = doc.tokens[seg.first].start, doc.tokens[seg.last].end
        out.append(_Mention(start, end, seg.first, seg.last, "allergy", _norm(doc.text[start:end]), (), "pattern"))
    return out


def _pathogen_carrier(doc: _Doc, m: _Mention) -> bool:
    """A bare 'infection' or 'colonization' before 'with' / 'caused by' a pathogen: only the
    pathogen is a concept ('Infection caused by Pseudomonas aeruginosa')."""
    if doc.heads.pathogen_link.match(doc.text, m.end) is None:
        return False
    return _norm(doc.text[m.start : m.end]).rsplit("-", 1)[-1] in doc.heads.carrier_words


def _filled_segments(doc: _Doc) -> list[_Segment]:
    """The segments with their mentions. One without a result, a head word or a token of a term
    holds no phrase and no term, so it is left empty without asking `_fill_segment`."""
    segments = _segments(doc)
    head_at, term_of, no_terms = doc.head_at, doc.term_of, not doc.terms
    for seg in segments:
        a, b = seg.first, seg.last + 1
        if seg.result or any(head_at[a:b]) or not (no_terms or term_of[a:b].count(-1) == b - a):
            _fill_segment(doc, seg)
    return segments


def _mentions(doc: _Doc) -> list[list[_Mention]]:
    """Segments, their mentions and coordinations, resolved: one list of mentions per coordination."""
    out: list[list[_Mention]] = []
    for group in _groups(doc, _filled_segments(doc)):
        if len(group) == 1 and not group[0].mentions and not doc.allergy_cue:
            continue  # a lone phrase that names nothing: no step below can find a mention in it
        group = _thresholds(doc, group)
        if not group or _after_method(doc, group[0]):
            continue
        mentions = _resolve_group(doc, group)
        if _after_allergy(doc, group[0]):
            mentions = mentions or _allergens(doc, group)
            for m in mentions:
                m.type = "allergy"
        mentions = [m for m in mentions if not _pathogen_carrier(doc, m)]
        if mentions:
            out.append(mentions)
    return _with_abbreviations(doc, out)


def _allergy_spans(text: str, heads: ConceptHeads) -> list[tuple[int, int]]:
    """The allergy cues of the text ('allergy to', 'hypersensitivity to'), as spans.

    Only for a text `heads.allergy_any` finds something in: each cue is one of its substrings,
    so a text without one has none (`tests/extract/test_concept_shortcuts.py`)."""
    pattern, target = heads.allergy_scan.on(text)
    return [m.span() for m in pattern.finditer(target)]


def _nothing_to_name(text: str, found: Sequence[TermMatchLike], tokens: Sequence[_Token], head_at: Sequence[ConceptType | None], heads: ConceptHeads) -> bool:
    """No lexicon match, allergy cue, head word or marker result ('HER2-positive'): no concept can
    come of the text, so the cue and window passes are skipped."""
    if found or any(head_at) or heads.allergy_scan.search(text):
        return False
    for tok in tokens:
        low = tok.text.lower()
        if low in heads.result_words or low.rsplit("-", 1)[-1] in heads.result_words:
            return False
    return True


_TWO_LETTERS = re.compile(r"[^\W\d_]{2}")

MAX_CONCEPT_TERMS = 40
"""Most lexicon terms a text is read for (criteria name at most about 25: 22 in the most
term-laden of 17,000 bullets of the corpus, registry trials included): a text that names more is
read up to the start of the first one past this, so that its time stays bounded (each term read
costs about 0.1 ms with its logic)."""


def _assemble(text: str, lexicon: ConceptLexicon, resources: ConceptResources) -> tuple[tuple[Concept, ...], int | None]:
    matched = lexicon.find(text)
    cut = None
    if len(matched) > MAX_CONCEPT_TERMS:
        cut = matched[MAX_CONCEPT_TERMS].start
        text, matched = text[:cut], matched[:MAX_CONCEPT_TERMS]
    return _assemble_matched(text, matched, lexicon, resources), cut


def _assemble_matched(
    text: str, matched: Sequence[TermMatchLike], lexicon: ConceptLexicon, resources: ConceptResources
) -> tuple[Concept, ...]:
    heads = resources.heads
    if not matched and _TWO_LETTERS.search(text) is None:
        return ()  # every head word, cue and result word has two letters in a row ('1"1"1"...')
    tokens = _tokenize(text)
    head_at = _head_types(tokens, heads)
    if _nothing_to_name(text, matched, tokens, head_at, heads):
        return ()
    cues = find_cues(text, resources.context)
    windows, durations = find_windows_and_durations(text, resources.windows)
    allergy_cue = heads.allergy_any.search(text) is not None
    allergy = _allergy_spans(text, heads) if allergy_cue else []
    mask = _mask(text, [*_cue_spans(text, cues), *allergy])
    window_mask = _mask(text, [(w.span.start, w.span.end) for w in (*windows, *durations)])
    found = _past_population(text, _split_coordinated(text, matched, lexicon, heads), lexicon, heads)
    found = _split_markers(text, found, lexicon, heads)
    found = _past_cues(text, found, mask, lexicon)
    terms = _kept_terms(text, found, mask, window_mask, heads)
    for w in (*windows, *durations):
        mask[w.span.start : w.span.end] = window_mask[w.span.start : w.span.end]
    doc = _document(text, tokens, head_at, terms, (mask, window_mask), lexicon, heads, allergy_cue)
    return _build(doc, _mentions(doc), cues, (windows, durations), resources.context)


def no_structure_reason(text: str | None, resources: ConceptResources) -> str:
    """Why a criterion holds neither a rule nor a concept ('informed consent ...', 'language or
    literacy', ...): the first reason of `concept_heads.json` whose cue words the text has, else
    that nothing was recognised. Never raises."""
    heads = resources.heads
    if isinstance(text, str) and _TWO_LETTERS.search(text) is not None:  # every cue is a word
        for reason, pattern in heads.no_structure:
            if pattern.search(text):
                return reason
    return heads.no_structure_default


def extract_concepts(text: str | None, lexicon: ConceptLexicon, resources: ConceptResources) -> tuple[Concept, ...]:
    """The concepts of one criterion text, left to right; `()` when the text cannot be read.

    Never raises: free text is never an error, and the caller adds a diagnostic for an empty
    result where it expected concepts.
    """
    return read_concepts(text, lexicon, resources)[0]


def read_concepts(
    text: str | None, lexicon: ConceptLexicon, resources: ConceptResources
) -> tuple[tuple[Concept, ...], int | None]:
    """`extract_concepts`, and where the reading stopped: None when the whole text was read, else
    the offset of the first term past `MAX_CONCEPT_TERMS` (the caller says so in a diagnostic)."""
    if not isinstance(text, str) or not text.strip():
        return (), None
    try:
        return _assemble(text, lexicon, resources)
    except Exception:  # whatever a lexicon or an odd text does, a batch goes on
        return (), None
