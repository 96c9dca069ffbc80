"""Whether a patient has a concept as a criterion describes it: met, not met or unknown.

`evaluate_leaf(concept, patient)` looks for the concept in the patient's records
(`critparse.model.patient.ClinicalRecord`) of the kinds its type can be found in, and matches
each record
- by code: any pair of equal codes (systems compared by URI, `MESH:`-style prefixes dropped);
  an ICD-10(-CM) code of the record under a category code of the concept is narrower
  ('B18.2' under 'B18'); `narrower_codes` of `patient_records.json` add the categories of common
  trial concepts (hepatitis B: B16, B18.0, B18.1, B19.1, ...);
- by the concept lexicon (`critparse.lexicon.concepts`): the record's words coded to the same
  concept ('Chronic hepatitis C' and 'hepatitis C infection' are both DOID:1883);
- by normalised text (lower case, punctuation folded, plurals folded, synonyms): equal names, a
  name listed as narrower, or the concept's name inside the record's words with only
  modifier words around it ('chronic', 'type 2').

The record's statuses and dates then decide. Present (active, relapse, taking, done) meets the
concept; resolved or stopped is 'not current' (not met) unless the concept says 'history of';
refuted, not-taken or not-done is not met, but only from a record of the concept itself (a
refuted 'chronic hepatitis C' says nothing of hepatitis C); entered-in-error is ignored. A time
window is checked against onset / effective / performed dates at the screening date, with
partial dates kept as ranges so the answer is never more certain than the data. A concept no
record mentions is `unknown`, never `not met`: a negated concept ('no prior chemotherapy') is met
only when a record refutes it.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from critparse.errors import ResourceError
from critparse.lexicon.resources import Resources, default_resources
from critparse.model.concept import Code, TimeWindow
from critparse.model.patient import ClinicalRecord, Patient, RecordKind
from critparse.model.screening import Outcome
from critparse.screen.analytes import RecordVocabulary, record_vocabulary
from critparse.screen.values import Interval, category_outcome, date_range, interval_outcome

__all__ = ["evaluate_leaf", "record_codes", "words"]

Words = tuple[str, ...]
Spec = Literal["exact", "narrower", "possible"]
State = Literal["present", "past", "recorded", "planned", "refuted", "uncertain", "void", "unknown"]
"""What a record says of its concept; `recorded` is had, now or before (a condition without a
clinical status: an encounter diagnosis says it was there, not that it still is)."""

_KINDS: dict[str | None, tuple[RecordKind, ...]] = {
    "condition": ("condition", "pregnancy", "observation"),
    "drug": ("medication", "procedure", "immunization"),
    "procedure": ("procedure", "medication"),
    "observation": ("observation", "condition", "pregnancy"),
    "allergy": ("allergy", "condition"),
    "organism": ("condition", "observation"),
    "immunization": ("immunization", "medication"),
    "device": ("procedure", "condition", "observation"),
    "clinical": ("condition", "observation", "pregnancy", "allergy"),
    "treatment": ("medication", "procedure", "immunization"),
}
_ALL_KINDS: tuple[RecordKind, ...] = (
    "condition", "medication", "procedure", "allergy", "immunization", "pregnancy", "observation",
)
_EVENTS = frozenset({"procedure", "immunization"})
"""Kinds whose record is an event that happened: done once, it stays 'had'."""
_CURRENT_SENSE = frozenset({"condition", "allergy", "pregnancy", "observation", "family"})
"""Kinds where a concept without 'history of' means 'now' (resolved is not met)."""
_WORD = re.compile(r"[a-z0-9]+")
_POSSESSIVE = re.compile(r"(?<=[a-z])['’]s\b")
_TEXT_CACHE_LIMIT = 50_000


# --- text --------------------------------------------------------------------------------------


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


_BRITISH = re.compile(r"ae|^oe|(?<=^[fc])oe|oe(?=a)|(?<=.{3})our$|(?<=.{3})is(?=e$|ed$|ing$|ation)")
_AMERICAN = {"ae": "e", "oe": "e", "our": "or", "is": "iz"}


def _american(word: str) -> str:
    """One spelling for both ('ischaemic' and 'ischemic', 'oedema', 'diarrhoea', 'tumour',
    'randomised'): a record and a criterion written on either side of the Atlantic match."""
    return _BRITISH.sub(lambda m: _AMERICAN[m.group()], word)


def words(text: str) -> Words:
    """A name as matching sees it: lower case, punctuation and possessives folded, plurals
    folded, British spellings made American."""
    return tuple(_american(_singular(w)) for w in _WORD.findall(_POSSESSIVE.sub("", text.lower())))


def _find(needle: Words, hay: Words) -> int:
    """Where `needle` starts inside `hay` as whole words, or -1."""
    size = len(needle)
    if not size or size > len(hay):
        return -1
    return next((i for i in range(len(hay) - size + 1) if hay[i:i + size] == needle), -1)


def _has_phrase(phrases: Iterable[Words], hay: Words) -> bool:
    return any(_find(p, hay) >= 0 for p in phrases)


# --- the tables derived from the vocabulary ----------------------------------------------------


@dataclass(frozen=True)
class _Tables:
    """The record vocabulary as word tuples, built once per Resources."""

    vocab: RecordVocabulary
    synonyms: dict[Words, frozenset[Words]]
    narrower: dict[Words, frozenset[Words]]
    narrower_codes: dict[Words, tuple[tuple[str, str], ...]]
    generic_heads: tuple[Words, ...]
    modifiers: frozenset[str]
    history: tuple[Words, ...]
    uncertain: tuple[Words, ...]
    blocking: tuple[Words, ...]
    specifier: re.Pattern[str]
    allergy_words: tuple[Words, ...]
    female_only: tuple[Words, ...]
    sex_words: dict[str, frozenset[str]]
    population: frozenset[str]
    qualifier_words: tuple[Words, ...]
    pregnancy: frozenset[Words]


def _tables(resources: Resources | None) -> _Tables:
    res = resources or default_resources()
    return res.memo("record_match_tables", lambda: _build_tables(record_vocabulary(res)))


def _build_tables(vocab: RecordVocabulary) -> _Tables:
    synonyms: dict[Words, frozenset[Words]] = {}
    for group in vocab.synonyms:
        members = frozenset(words(t) for t in group)
        for member in members:
            synonyms[member] = synonyms.get(member, frozenset()) | members
    narrower: dict[Words, set[Words]] = {}
    for item in vocab.narrower:
        for broad in item.broader:
            for key in synonyms.get(words(broad), frozenset({words(broad)})):
                narrower.setdefault(key, set()).add(words(item.term))
    codes: dict[Words, tuple[tuple[str, str], ...]] = {}
    for entry in vocab.narrower_codes:
        for term in entry.terms:
            for key in synonyms.get(words(term), frozenset({words(term)})):
                codes[key] = codes.get(key, ()) + tuple(entry.codes)
    rw, q = vocab.record_words, vocab.qualifiers
    return _Tables(
        vocab=vocab, synonyms=synonyms, narrower={k: frozenset(v) for k, v in narrower.items()},
        narrower_codes=codes, generic_heads=tuple(words(h) for h in vocab.generic_heads),
        modifiers=frozenset(w for m in rw.modifiers for w in words(m)),
        history=tuple(words(h) for h in rw.history), uncertain=tuple(words(u) for u in rw.uncertain),
        blocking=tuple(words(b) for b in rw.blocking), specifier=re.compile(rw.specifier_pattern),
        allergy_words=tuple(sorted((words(a) for a in vocab.allergy_words), key=len, reverse=True)),
        female_only=tuple(words(f) for f in vocab.female_only),
        sex_words={k: frozenset(words(" ".join(v))) for k, v in vocab.sex_words.items()},
        population=frozenset(words(" ".join(vocab.population_words))),
        qualifier_words=tuple(sorted((words(w) for w in q.current | q.history | q.neutral), key=len, reverse=True)),
        pregnancy=synonyms.get(words(vocab.pregnancy.term), frozenset({words(vocab.pregnancy.term)})),
    )


def _lexicon(resources: Resources | None) -> Any:
    """The concept lexicon, loaded once per Resources; None when it is not installed."""
    res = resources or default_resources()
    own = getattr(res, "concepts", None)
    if own is not None:
        return own

    def load() -> Any:
        try:
            from critparse.lexicon.concepts import load_concept_lexicon
        except ImportError:  # the matcher's dependency is missing: match by code and text only
            return None
        return load_concept_lexicon()

    return res.memo("concept_lexicon", load)


# --- codes -------------------------------------------------------------------------------------


def _code_key(system: str, code: str, vocab: RecordVocabulary) -> tuple[str, str, bool]:
    """(system URI, normalised code, is the system hierarchical by prefix)."""
    known = vocab.system(system)
    uri = known.uri if known is not None else system.strip()
    text = code.strip().upper()
    for prefix in known.code_prefixes if known is not None else ():
        if text.startswith(prefix.upper()):
            text = text[len(prefix):]
    hierarchical = known is not None and known.prefix_hierarchy
    return uri, text.replace(".", "") if hierarchical else text, hierarchical


def _in_category(code: str, category: str) -> bool:
    """An ICD-10 code under a category: 'B182' under 'B18'; a block 'B20-B24' holds 'B21'."""
    if "-" in category:
        low, _, high = category.partition("-")
        return low[:3] <= code[:3] <= high[:3]
    return code.startswith(category)


def _code_match(
    query: Iterable[tuple[str, str]], narrower: Iterable[tuple[str, str]], record: tuple[Code, ...],
    vocab: RecordVocabulary,
) -> tuple[Spec, Code] | None:
    """`exact` when a code pair is equal, `narrower` when the record's code is under a category."""
    mine = [(_code_key(s, c, vocab), (s, c)) for s, c in query]
    wider = [_code_key(s, c, vocab) for s, c in narrower]
    for code in record:
        uri, value, hierarchical = _code_key(code.system, code.code, vocab)
        if any((uri, value) == (k[0], k[1]) for k, _ in mine):
            return "exact", code
        under = [k for k, _ in mine if k[2]] + [k for k in wider if k[2]]
        if hierarchical and any(uri == k[0] and _in_category(value, k[1]) and value != k[1] for k in under):
            return "narrower", code
        if any((uri, value) == (k[0], k[1]) for k in wider):
            return "narrower", code
    return None


def record_codes(text: str, resources: Resources | None = None) -> list[tuple[str, tuple[tuple[str, str], ...], Spec, str | None]]:
    """The concept lexicon's reading of a record's words: (concept id, codes, how closely,
    hint) per concept, where hint is 'past' or 'uncertain' when words such as 'history of' were
    set aside. Whole text first; else without modifier words; never across blocking words."""
    res = resources or default_resources()
    cache: dict[str, Any] = res.memo("record_text_codes", dict)
    if text in cache:
        return cache[text]  # type: ignore[no-any-return]
    if len(cache) > _TEXT_CACHE_LIMIT:
        cache.clear()
    found = _code_text(text, res)
    cache[text] = found
    return found


def _code_text(text: str, res: Resources) -> list[tuple[str, tuple[tuple[str, str], ...], Spec, str | None]]:
    lexicon = _lexicon(res)
    if lexicon is None:
        return []
    tables = _tables(res)
    whole = lexicon.lookup(text)
    if whole is not None:
        return [(whole.concept_id, tuple((s, c) for s, c, _ in whole.codes), "exact", None)]
    tokens = words(text)
    if _has_phrase(tables.blocking, _set_aside(tokens, tables)[0]):
        return []
    rest, hint = _strip(tokens, tables)
    if not rest or rest == tokens:
        return []
    inner = lexicon.lookup(" ".join(rest))
    if inner is None:
        return []
    return [(inner.concept_id, tuple((s, c) for s, c, _ in inner.codes), "narrower", hint)]


def _set_aside(tokens: Words, tables: _Tables) -> tuple[Words, str | None]:
    """The words left once 'history of' and 'suspected'-like phrases are taken out, and a hint
    ('past' or 'uncertain') of what they said."""
    hint: str | None = None
    rest = list(tokens)
    for phrases, label in ((tables.history, "past"), (tables.uncertain, "uncertain")):
        for phrase in phrases:
            at = _find(phrase, tuple(rest))
            while at >= 0:
                del rest[at:at + len(phrase)]
                hint = hint or label
                at = _find(phrase, tuple(rest))
    return tuple(rest), hint


def _strip(tokens: Words, tables: _Tables) -> tuple[Words, str | None]:
    """`_set_aside`, and modifier words ('chronic', 'type 2') dropped too."""
    rest, hint = _set_aside(tokens, tables)
    return tuple(w for w in rest if w not in tables.modifiers and not tables.specifier.match(w)), hint


# --- the query: what the leaf asks for ---------------------------------------------------------


@dataclass
class _Query:
    text: str
    display: str
    names: set[Words]
    codes: set[tuple[str, str]] = field(default_factory=set)
    narrower_codes: set[tuple[str, str]] = field(default_factory=set)
    concept_ids: set[str] = field(default_factory=set)
    type: str | None = None
    negated: bool = False
    modality: str | None = None
    subject: str = "patient"
    qualifiers: tuple[str, ...] = ()
    window: TimeWindow | None = None
    sex: str | None = None
    kind: str | None = None
    substances: set[Words] = field(default_factory=set)


def _attr(leaf: Any, name: str, default: Any = None) -> Any:
    if isinstance(leaf, Mapping):
        return leaf.get(name, default)
    return getattr(leaf, name, default)


def _query(leaf: Any, resources: Resources | None) -> _Query:
    """What a Concept, a logic Condition (or its leaf) or any object with `.text` asks for."""
    inner = _attr(leaf, "condition")
    if inner is not None and not isinstance(inner, str):
        leaf = inner
    text = str(_attr(leaf, "text", "") or "")
    name = str(_attr(leaf, "name", "") or "")
    is_concept = bool(name) and _attr(leaf, "span") is not None and _attr(leaf, "kind") is None
    query = _Query(
        text=text, display=name or text, names=set(), type=_attr(leaf, "type"),
        negated=bool(_attr(leaf, "negated", False)), modality=_attr(leaf, "modality"),
        subject=_attr(leaf, "subject") or "patient", qualifiers=tuple(_attr(leaf, "qualifiers") or ()),
        window=_attr(leaf, "temporal"), sex=_attr(leaf, "sex"), kind=_attr(leaf, "kind"),
    )
    for code in _attr(leaf, "codes") or ():
        system, value = _attr(code, "system"), _attr(code, "code")
        if isinstance(system, str) and isinstance(value, str):
            query.codes.add((system, value))
    base = words(name) if name else _read_condition_text(text, query, resources)
    _expand(query, base, resources)
    if not is_concept and query.window is None:
        query.window = _window_in(text, resources)
    return query


def _read_condition_text(text: str, query: _Query, resources: Resources | None) -> Words:
    """The name in a condition's words: population words, 'history of', qualifiers and the
    time window set aside ('patients with active hepatitis B within 6 months')."""
    tables = _tables(resources)
    tokens = list(words(text))
    window = _window_in(text, resources)
    if window is not None:
        cut = _find(words(window.text), tuple(tokens))
        if cut >= 0:
            del tokens[cut:cut + len(words(window.text))]
    changed = True
    while tokens and changed:
        changed = False
        if tokens[0] in tables.population or tokens[0] in ("with", "having", "who", "have", "ha"):
            tokens.pop(0)
            changed = True
            continue
        for phrase in tables.qualifier_words + tables.history:
            if tuple(tokens[:len(phrase)]) == phrase:
                label = " ".join(phrase)
                if phrase in tables.history or label in tables.vocab.qualifiers.history:
                    query.modality = query.modality or "history"
                else:
                    query.qualifiers += (label,)
                del tokens[:len(phrase)]
                changed = True
                break
    return tuple(tokens)


def _window_in(text: str, resources: Resources | None) -> TimeWindow | None:
    res = resources or default_resources()
    try:
        from critparse.extract.temporal import find_time_windows, load_time_windows

        rules = res.memo("time_windows", load_time_windows)
        found = find_time_windows(text, rules)
    except (ImportError, ResourceError):
        return None
    return found[0] if found else None


def _expand(query: _Query, base: Words, resources: Resources | None) -> None:
    """All names the concept goes by (generic heads dropped, synonyms) and their codes."""
    tables = _tables(resources)
    names = {base} if base else set()
    for head in tables.generic_heads:
        if len(base) > len(head) and base[-len(head):] == head:
            names.add(base[:-len(head)])
    for name in list(names):
        names |= tables.synonyms.get(name, frozenset())
    query.names = names
    lexicon = _lexicon(resources)
    for label in [query.display, *(" ".join(n) for n in names)]:
        match = lexicon.lookup(label) if lexicon is not None and label else None
        if match is not None:
            query.concept_ids.add(match.concept_id)
            query.codes |= {(s, c) for s, c, _ in match.codes}
    for name in names:
        query.narrower_codes |= set(tables.narrower_codes.get(name, ()))
    if lexicon is not None:
        _own_codes(query, lexicon.code_owners())
    if query.type == "allergy" or _has_phrase(tables.allergy_words[:6], base):
        query.substances = {_substance(n, tables) for n in names} - {()}


def _own_codes(query: _Query, owners: dict[tuple[str, str], str | None]) -> None:
    """A code several concepts carry names the query only when the query owns it, and then what
    carries it is narrower ('antibiotics' holds azithromycin); otherwise it names nothing, so
    metformin is never insulin glargine by their shared class code."""
    for pair in [p for p in query.codes if p in owners]:
        query.codes.discard(pair)
        if owners[pair] in query.concept_ids:
            query.narrower_codes.add(pair)


def _substance(name: Words, tables: _Tables) -> Words:
    """'penicillin' from 'penicillin allergy' or 'allergy to penicillin'."""
    rest = list(name)
    for phrase in tables.allergy_words:
        at = _find(phrase, tuple(rest))
        while at >= 0:
            del rest[at:at + len(phrase)]
            at = _find(phrase, tuple(rest))
    return tuple(rest)


# --- matching one record -----------------------------------------------------------------------


@dataclass(frozen=True)
class _Match:
    spec: Spec
    how: str
    hint: str | None = None
    code: Code | None = None


_TRAILING = frozenset({"with", "without", "due", "associated", "secondary", "in", "of", "on"})
"""Words that open a trailing phrase which only narrows a name ('hepatitis C with cirrhosis')."""


def _text_match(names: set[Words], record_words: Words, narrower: set[Words], tables: _Tables) -> _Match | None:
    """Equal names, a name listed as narrower, or a name inside the record's words.

    English names put their head last, so words before the name narrow it ('type 2 diabetes
    mellitus', 'metastatic breast cancer'); words after it narrow it only when they are
    modifiers or open a trailing phrase ('with cirrhosis'); otherwise the match is possible only.
    A blocking word anywhere ('family history of', 'screening', 'vaccine') means no match.
    """
    if record_words in names:
        return _Match("exact", "same name")
    if record_words in narrower:
        return _Match("narrower", "a narrower name")
    if any(_with_words_inside(name, record_words) for name in names):
        return _Match("narrower", "its name with words inside")  # 'major abdominal surgery' is major surgery
    best: _Match | None = None
    for name in sorted(names, key=len, reverse=True):
        at = _find(name, record_words)
        if at < 0:
            continue
        before, hint = _set_aside(record_words[:at], tables)
        after, later = _set_aside(record_words[at + len(name):], tables)
        if _has_phrase(tables.blocking, before) or _has_phrase(tables.blocking, after):
            return None
        hint = hint or later
        rest, _ = _strip(after, tables)
        narrows = not rest or after[0] in _TRAILING
        found = _Match("narrower" if narrows else "possible", "a narrower name" if narrows else "its name among other words", hint)
        if best is None or (best.spec == "possible" and found.spec != "possible"):
            best = found
    return best


_NOT_INSIDE = frozenset({"and", "or", "with", "without", "of", "no", "not", "non", "history", "family", "free", "other"})


def _with_words_inside(name: Words, record_words: Words) -> bool:
    """The record is the name with adjectives between its words ('major abdominal surgery' for
    'major surgery'): same first and last word, the name's words in order, nothing that joins
    or denies in between."""
    if len(name) < 2 or len(record_words) <= len(name) or len(record_words) > len(name) + 2:
        return False
    if record_words[0] != name[0] or record_words[-1] != name[-1] or _NOT_INSIDE.intersection(record_words):
        return False
    rest = iter(record_words)
    return all(word in rest for word in name)


_RANK: dict[Spec, int] = {"exact": 0, "narrower": 1, "possible": 2}


def _match(query: _Query, record: ClinicalRecord, tables: _Tables, resources: Resources | None) -> _Match | None:
    """How closely the record is the concept, by the best of its codes, the lexicon's reading of
    its words and the words themselves (a narrower code with the concept's own name is exact)."""
    found: list[_Match] = []
    by_code = _code_match(query.codes, query.narrower_codes, record.codes, tables.vocab)
    if by_code is not None:
        found.append(_Match(by_code[0], "code", code=by_code[1]))
    if record.text and (not found or found[0].spec != "exact"):
        by_text = _words_match(query, record, tables, resources)
        if by_text is not None:
            found.append(_Match(by_text.spec, by_text.how, by_text.hint, by_code[1] if by_code else None))
    return min(found, key=lambda m: _RANK[m.spec]) if found else None


def _words_match(query: _Query, record: ClinicalRecord, tables: _Tables, resources: Resources | None) -> _Match | None:
    assert record.text is not None
    names = query.names | (query.substances if record.kind == "allergy" else set())
    narrower = set().union(*(tables.narrower.get(n, frozenset()) for n in query.names))
    record_words = words(record.text)
    if record.kind in ("medication", "immunization"):
        lexicon = _lexicon(resources)
        for hit in lexicon.find(record.text) if lexicon is not None else ():
            if hit.concept_id in query.concept_ids or words(hit.text) in names:
                spec: Spec = "exact" if words(hit.text) == record_words else "narrower"
                return _Match(spec, f"lexicon: {hit.name}")
    for concept_id, codes, coded_spec, hint in record_codes(record.text, resources):
        if concept_id in query.concept_ids or set(codes) & query.codes:
            return _Match(coded_spec, f"lexicon: {concept_id}", hint)
        if set(codes) & query.narrower_codes:
            return _Match("narrower", f"lexicon: {concept_id}", hint)
    return _text_match(names, record_words, narrower, tables)


# --- what the record says ----------------------------------------------------------------------


def _state(record: ClinicalRecord, match: _Match, day: date, tables: _Tables) -> State:
    """Present, past, planned, refuted, uncertain, void or unknown, from statuses and dates."""
    vocab = tables.vocab
    verification = vocab.verification_status.get(record.verification_status or "")
    if verification in ("refuted", "void", "uncertain"):
        return verification
    if record.kind in ("pregnancy", "observation"):
        state = _finding_state(record, day, tables)
    elif record.kind in ("condition", "allergy"):
        default: State = "recorded" if record.kind == "condition" else "present"
        state = vocab.clinical_status.get(record.clinical_status, "unknown") if record.clinical_status else default
    else:
        state = vocab.resource_status.get(record.kind, {}).get(record.status or "", "present" if not record.status else "unknown")
    if state in ("present", "past", "recorded") and match.hint is not None:
        return "uncertain" if match.hint == "uncertain" else "past"
    start = _range(record.start)
    if state == "present" and start is not None and start[0] > day:
        return "planned"
    end = _range(record.end)
    if state == "present" and record.kind not in _EVENTS and end is not None and end[1] < day:
        return "past"
    return state


def _finding_state(record: ClinicalRecord, day: date, tables: _Tables) -> State:
    status = tables.vocab.resource_status["observation"].get(record.status or "", "present")
    if status in ("void", "unknown") or record.present is None:
        return "void" if status == "void" else "unknown"
    if record.kind == "pregnancy":
        preg = tables.vocab.pregnancy
        valid = preg.positive_valid_days if record.present else preg.negative_valid_days
        when = _range(record.start)
        if when is not None and (day - when[1]).days > valid:
            return "unknown"
    return "present" if record.present else "refuted"


def _range(written: str | None) -> tuple[date, date] | None:
    return date_range(written.strip()[:10]) if written else None


def _describe(record: ClinicalRecord, match: _Match, tables: _Tables) -> str:
    """'Condition/abc: hepatitis B (ICD-10-CM B18.1), active, onset 2019-03'."""
    code = match.code or (record.codes[0] if record.codes else None)
    label = None
    if code is not None:
        system = tables.vocab.system(code.system)
        label = f"{system.label if system else code.system} {code.code}"
    head = record.text or (code.display if code and code.display else "") or ""
    parts = [f"{record.source}: {head}".rstrip() + (f" ({label})" if label else "")]
    for value in (record.clinical_status, record.verification_status, record.status):
        if value:
            parts.append(value)
    if record.value and record.kind in ("pregnancy", "observation", "family"):
        parts.append(record.value)
    if record.start:
        parts.append(("onset " if record.kind == "condition" else "from ") + record.start[:10])
    if record.end and record.end != record.start:
        parts.append(("abated " if record.kind == "condition" else "to ") + record.end[:10])
    return ", ".join(parts)


# --- judging one record ------------------------------------------------------------------------


def _elapsed(since: date, day: date, unit: str) -> float:
    """Time from `since` to `day` in a window's unit, counted on the calendar (6 months before
    June 15 is December 15)."""
    days = (day - since).days
    if unit in ("mo", "a"):
        months: float = (day.year - since.year) * 12 + day.month - since.month
        months += (day.day - since.day) / calendar.monthrange(since.year, since.month)[1]
        return months if unit == "mo" else months / 12
    return {"wk": days / 7, "d": float(days), "h": days * 24.0, "min": days * 1440.0}[unit]


def _elapsed_range(times: tuple[date, date], day: date, unit: str) -> Interval:
    low, high = _elapsed(times[1], day, unit), _elapsed(times[0], day, unit)
    if unit in ("h", "min"):  # dates carry no time of day: a day either way
        slack = 24.0 if unit == "h" else 1440.0
        low, high = max(low - slack, 0.0), high + slack
    return Interval(low, high)


def _last_time(record: ClinicalRecord, state: State, day: date) -> tuple[date, date] | None:
    """When the record's event last happened: its end, its date, or now while it goes on."""
    end, start = _range(record.end), _range(record.start)
    if end is not None:
        return end
    if record.kind in _EVENTS:
        return start
    if state == "present":
        return day, day
    return (start[0], day) if start is not None else None  # ended between its start and now


_SINCE_WHAT = re.compile(
    r"^(?:the\s+)?(?:(?:last|latest|final|most\s+recent|completion\s+of(?:\s+the)?|end\s+of(?:\s+the)?)\s+)?"
    r"(?:(?:dose|doses|administration|treatment|course|cycle|session|fraction)\s+(?:of|with)\s+)?(?:the\s+|any\s+)?"
    r"(?:(?:prior|previous|last)\s+)?",
    re.IGNORECASE,
)
_TIME_UNITS = frozenset({"a", "mo", "wk", "d", "h", "min"})


def time_since(
    what: str, patient: Patient, unit: str, *, resources: Resources | None = None
) -> tuple[Interval, ClinicalRecord, str] | None:
    """How long ago the patient's record of `what` ('last dose of chemotherapy', 'prior
    radiotherapy') last happened, in `unit`, that record and its description; None when no dated record of a
    treatment, procedure or condition is that thing (a record that may only name it is no answer)."""
    if unit not in _TIME_UNITS:
        return None
    day = date.fromisoformat(patient.as_of[:10]) if patient.as_of else date.today()
    tables = _tables(resources)
    name = _SINCE_WHAT.sub("", what.strip()) or what
    query = _query({"text": name, "name": name}, resources)
    latest: tuple[Interval, ClinicalRecord, str] | None = None
    for record in patient.records_of("medication", "procedure", "immunization", "condition"):
        match = _match(query, record, tables, resources)
        if match is None or match.spec == "possible":
            continue
        state = _state(record, match, day, tables)
        if state in ("refuted", "void", "planned"):
            continue
        times = _last_time(record, state, day) if state in ("present", "past", "recorded") else None
        if times is None:
            return None  # a record of it without a date may be the latest one
        elapsed = _elapsed_range(times, day, unit)
        if latest is None or elapsed.high < latest[0].high:
            latest = elapsed, record, _describe(record, match, tables)
    return latest


def _window_check(window: TimeWindow, tables: _Tables) -> tuple[Outcome, str] | None:
    """Why the window cannot be checked against a record's dates, if it cannot."""
    if window.anchor is not None and window.anchor not in tables.vocab.study_anchors:
        return "unknown", f"the window is measured from {window.anchor!r}, which no record dates"
    if window.relation == "after":
        return "unknown", f"the window lies after {window.anchor or 'screening'}"
    return None


def _judge_window(query: _Query, record: ClinicalRecord, state: State, day: date, tables: _Tables) -> tuple[Outcome, str]:
    """The record's dates against the window, counted back from the screening date (a study
    anchor such as enrolment or day 1 is taken as the screening date)."""
    window = query.window
    assert window is not None
    if window.comparator is None or window.value is None or window.unit is None:
        return "met", "recorded before the screening date"
    cannot = _window_check(window, tables)
    if cannot is not None:
        return cannot
    within = window.comparator in ("<", "<=")
    times = _range(record.start) if record.kind == "condition" and within else _last_time(record, state, day)
    if times is None:
        return "unknown", "the record has no date to check the window against"
    elapsed = _elapsed_range(times, day, window.unit)
    outcome = interval_outcome(elapsed, window.comparator, window.value)
    if outcome == "not_met" and within and record.kind == "condition":
        ended = _range(record.end)
        if ended is not None and interval_outcome(_elapsed_range(ended, day, window.unit), window.comparator, window.value) != "not_met":
            return "unknown", f"onset {record.start} is before the window, but it ended within it"
        if ended is None and record.clinical_status in ("active", "recurrence", "relapse"):
            return "unknown", f"onset {record.start} is before the window, and it is still {record.clinical_status}"
    low, high = elapsed.low, elapsed.high
    shown = f"{low:.3g}" if math.isclose(low, high) else f"{low:.3g} to {high:.3g}"
    return outcome, f"{shown} {window.unit} before {day}; needs {window.text!r}"


def _judge(query: _Query, record: ClinicalRecord, match: _Match, state: State, day: date, tables: _Tables) -> tuple[Outcome, str] | None:
    """The outcome one matching record gives (None when it says nothing about the concept)."""
    if state == "void":
        return None
    if state == "refuted":
        return ("not_met", "ruled out") if match.spec == "exact" else None
    if match.spec == "possible":
        return "unknown", "the record may name it, with other words"
    if state == "uncertain":
        return ("met", "suspected") if query.modality == "suspected" else ("unknown", "not confirmed")
    if query.modality == "planned":
        return ("met", "planned") if state == "planned" else ("unknown", "not recorded as planned")
    if query.modality == "hypothetical":
        return "unknown", "the criterion speaks of a possibility"
    if state in ("planned", "unknown"):
        said = record.status or record.clinical_status or "unknown"
        return "unknown", "planned, not done" if state == "planned" else f"status {said} says neither"
    if query.window is not None:
        return _judge_window(query, record, state, day, tables)
    return _judge_status(query, record, state, tables)


def _judge_status(query: _Query, record: ClinicalRecord, state: State, tables: _Tables) -> tuple[Outcome, str]:
    """Present or past against what the concept asks: now, ever, or (for a drug) unsaid."""
    q = tables.vocab.qualifiers
    wants_history = query.modality == "history" or any(x in q.history for x in query.qualifiers)
    wants_current = any(x in q.current for x in query.qualifiers) or (
        not wants_history and record.kind in _CURRENT_SENSE
    )
    if state == "past" and not wants_history and record.kind not in _EVENTS:
        if wants_current:
            return "not_met", "not current"
        return "unknown", "past use; the criterion does not say whether past use counts"
    if state == "past" and record.kind in _EVENTS and any(x in q.current for x in query.qualifiers):
        return "unknown", "done; the record does not say whether it goes on"  # 'currently receiving chemotherapy'
    if state == "recorded" and not wants_history:
        return "unknown", "the record does not say whether it is current"
    missing = _unmet_qualifiers(query, record, tables)
    if missing:
        return "unknown", f"the record does not say it is {' or '.join(missing)}"
    return "met", "current" if state == "present" and record.kind not in _EVENTS | {"family"} else "recorded"


def _unmet_qualifiers(query: _Query, record: ClinicalRecord, tables: _Tables) -> list[str]:
    q = tables.vocab.qualifiers
    said = set(words(record.text or ""))
    if record.clinical_status in ("relapse", "recurrence"):
        said |= {"relapsed", "relapsing", "recurrent"}
    if record.clinical_status == "active" and not record.status_assumed:
        said.add("active")  # written so, not the default of a listed condition
    return [x for x in query.qualifiers
            if (x not in q.current or _says_more(x, query, q)) and x not in q.history and x not in q.neutral
            and not set(words(x)) <= said]


def _says_more(qualifier: str, query: _Query, q: Any) -> bool:
    """A current qualifier that says more than 'present' of this name (`said_of`)."""
    heads = [words(h) for h in q.said_of.get(qualifier, ())]
    return any(name[-len(h):] == h for name in query.names for h in heads if h and len(name) >= len(h))


# --- the leaf ----------------------------------------------------------------------------------


def _kinds(query: _Query) -> tuple[RecordKind, ...]:
    if query.subject == "family":
        return ("family",)
    return _KINDS.get(query.type) or _KINDS.get(query.kind) or _ALL_KINDS


def _sex_answer(query: _Query, patient: Patient, tables: _Tables) -> tuple[Outcome, str] | None:
    """'men', 'female patients', a sex condition, or a concept only a woman can have."""
    names = query.names or {()}
    named: str | None = query.sex
    for name in names:
        for sex, vocab_words in tables.sex_words.items():
            if name and set(name) & vocab_words:
                named = named or sex
    female_only = any(_has_phrase(tables.female_only, n) for n in names if n)
    if named is None and not female_only:
        return None
    if patient.sex is None:
        return ("unknown", "the patient's sex is not given") if named and _only_sex(names, tables) else None
    wanted = named or "female"
    if patient.sex != wanted:
        return "not_met", f"the patient is {patient.sex}"
    if named and _only_sex(names, tables):
        return "met", f"the patient is {patient.sex}"
    return None


def _only_sex(names: set[Words], tables: _Tables) -> bool:
    every = tables.population.union(*tables.sex_words.values())
    return any(n and set(n) <= every for n in names)


def _value_set(leaf: Any, patient: Patient) -> tuple[Outcome, str]:
    vs = _attr(leaf, "value_set", leaf)
    analyte = _attr(_attr(vs, "analyte"), "name", "")
    m = patient.get(analyte)
    if m is None:
        return "unknown", f"no {analyte} value for the patient"
    seen = m.category or (f"{m.value:g}" if m.value is not None and m.value == int(m.value) else None)
    if seen is None:
        return "unknown", f"{analyte}: {m.problem or 'no category'}"
    outcome = category_outcome(seen, tuple(_attr(vs, "values", ())))
    return outcome, f"{m.source}: {analyte} {seen}; needs {' or '.join(_attr(vs, 'values', ()))}: {outcome.replace('_', ' ')}"


def _combine(results: list[tuple[Outcome, str, State]], searched: int, query: _Query) -> tuple[Outcome, str]:
    """Any record that shows it decides met, unless another one refutes it (then unknown);
    any unsure record makes unknown; otherwise the records that speak say not met."""
    met = [r for r in results if r[0] == "met"]
    refuted = [r for r in results if r[0] == "not_met" and r[2] == "refuted"]
    unsure = [r for r in results if r[0] == "unknown"]
    if met and refuted:
        return "unknown", f"records disagree: {met[0][1]}; {refuted[0][1]}"
    if met:
        return "met", met[0][1]
    if unsure:
        return "unknown", unsure[0][1]
    if results:
        return "not_met", results[0][1]
    where = ", ".join(sorted(set(_kinds(query))))
    return "unknown", f"no record mentions {query.display or query.text!r} ({searched} {where} record(s) searched)"


def _no_known(record: ClinicalRecord, tables: _Tables) -> str | None:
    """What a 'no known allergy' record rules out ('any', 'drug', ...), or None."""
    vocab = tables.vocab
    mine = {_code_key(c.system, c.code, vocab)[:2] for c in record.codes}
    return next((rule.covers for rule in vocab.no_known if _code_key(rule.system, rule.code, vocab)[:2] in mine), None)


def _no_known_allergy(
    query: _Query, patient: Patient, day: date, tables: _Tables, resources: Resources | None
) -> list[tuple[Outcome, str, State]]:
    """'No known (drug) allergy' statements refute an allergy to a drug, or any allergy."""
    if "allergy" not in _kinds(query) or not (query.type == "allergy" or query.substances):
        return []
    lexicon = _lexicon(resources)
    hits = [lexicon.lookup(" ".join(s)) for s in query.substances if s] if lexicon is not None else []
    is_drug = any(hit is not None and hit.type == "drug" for hit in hits)
    out: list[tuple[Outcome, str, State]] = []
    as_code = _Match("exact", "code")
    for record in patient.records_of("allergy"):
        covers = _no_known(record, tables)
        applies = covers == "any" or (covers == "drug" and is_drug)
        if applies and _state(record, as_code, day, tables) not in ("void", "refuted"):
            out.append(("not_met", f"{_describe(record, as_code, tables)}: no known allergy", "refuted"))
    return out


def evaluate_leaf(
    leaf: Any, patient: Patient, *, as_of: date | None = None, resources: Resources | None = None
) -> tuple[Outcome, str]:
    """Whether the patient has the concept as the leaf describes it, with the record used.

    `leaf`: a `Concept`, a logic `Condition` or `ConditionLeaf` (or anything with `.text` and
    optionally `.name`, `.codes`, `.type`, `.negated`, `.modality`, `.qualifiers`,
    `.temporal`), or a `ValueSet` leaf (an ordinal category checked against the patient's).
    `as_of` is the screening date (default: the patient's `as_of`, else today); time windows
    without an anchor, or anchored at enrolment, day 1 and the like, end there.
    """
    if _attr(leaf, "value_set") is not None or _attr(leaf, "values") is not None:
        return _value_set(leaf, patient)
    day = as_of or (date.fromisoformat(patient.as_of[:10]) if patient.as_of else date.today())
    tables = _tables(resources)
    query = _query(leaf, resources)
    if query.kind == "age":
        return "unknown", "an age condition is checked by its thresholds"
    by_sex = _sex_answer(query, patient, tables)
    outcome, reason = by_sex if by_sex is not None else _search(query, patient, day, tables, resources)
    if query.negated:
        flipped: Outcome = {"met": "not_met", "not_met": "met", "unknown": "unknown"}[outcome]  # type: ignore[assignment]
        return flipped, f"negated ({reason})"
    return outcome, reason


def _search(query: _Query, patient: Patient, day: date, tables: _Tables, resources: Resources | None) -> tuple[Outcome, str]:
    if not query.names and not query.codes:
        return "unknown", f"nothing to look for in {query.text!r}"
    kinds = _kinds(query)
    records = patient.records_of(*kinds)
    results = _no_known_allergy(query, patient, day, tables, resources)
    for record in records:
        match = _match(query, record, tables, resources)
        if match is None:
            continue
        state = _state(record, match, day, tables)
        judged = _judge(query, record, match, state, day, tables)
        if judged is not None:
            results.append((judged[0], f"{_describe(record, match, tables)}: {judged[1]}", state))
    return _combine(results, len(records), query)
