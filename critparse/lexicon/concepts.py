"""The concept vocabulary (`critparse/resources/concepts/`) and its dictionary matcher.

Conditions, drugs, procedures, observations, allergens, organisms, immunizations and devices are
one list of concepts, each with its surface forms and codes (`terms.jsonl.gz`). `ConceptLexicon.find`
marks every surface form in a text with one compiled Aho-Corasick automaton (pyahocorasick), so a
search costs time in proportion to the text, not to the ~75,000 surface forms.

The automaton runs over words, not letters: a text is lower-cased and cut into words and
punctuation marks (hyphens and dashes separate words and are dropped, so "non-small cell" and
"non small cell" are the same words); each word becomes the fixed-width code of its singular form
(plural -s/-ies folded, curly quotes as straight ones), and a word that no surface form contains
becomes a code no key contains. Keys are the code strings of the surface forms, so every match is
a whole run of words, and its offsets come from the word positions in the original text.

Loading reads `index.json.gz`, the compact form of `terms.jsonl.gz` that the build script writes;
a terms file given by path is validated in full and indexed in memory instead.
"""

from __future__ import annotations

import gzip
import hashlib
import itertools
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import ahocorasick
from pydantic import TypeAdapter, ValidationError

from critparse import resources as bundled_resources
from critparse.errors import ResourceError
from critparse.lexicon.concept_files import ConceptCode, ConceptEntry, ConceptIndex
from critparse.model.concept import ConceptType

CONCEPT_TYPES: tuple[str, ...] = ConceptType.__args__  # type: ignore[attr-defined]

BUNDLED = Path(bundled_resources.__file__).resolve().parent / "concepts"  # not this file's: compiled, it has none
TERM_FILES = ("terms.jsonl.gz", "terms.jsonl")
INDEX_FILE = "index.json.gz"
Code = tuple[str, str, str | None]


@dataclass(slots=True, unsafe_hash=True, init=False)  # __init__ written out: see COMPILED in setup.py
class TermMatch:
    """A concept found in a text; `start`/`end` index the original text. Never changed once
    made, and hashed by its fields; not declared frozen, because under mypyc a frozen
    dataclass costs twenty times as much to build as one with a written `__init__`."""

    start: int
    end: int
    text: str
    type: str
    name: str
    concept_id: str
    codes: tuple[Code, ...]

    def __init__(self, start: int, end: int, text: str, type: str, name: str, concept_id: str,
                 codes: tuple[Code, ...]) -> None:
        self.start, self.end, self.text, self.type, self.name = start, end, text, type, name
        self.concept_id, self.codes = concept_id, codes


# --------------------------------------------------------------------------- words

_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
# A word (letters and digits) or one punctuation mark; dashes only separate words.
_WORD = re.compile(rf"([^\W_]+|[^\w\s{_DASHES}])")
_QUOTES = {
    "'": "\u2018\u2019\u201a\u201b\u2032\u02bc\uff07",
    '"': "\u201c\u201d\u201e\u201f\u2033\uff02",
}
_STRAIGHT = str.maketrans({c: q for q, curly in _QUOTES.items() for c in curly})
# Words are fixed-width codes: a few hundred thousand trie nodes rather than a million letters,
# so the automaton compiles in a fraction of the time. A code's first character comes from one
# 64-letter alphabet and its other characters from another, so a key (which starts with a first
# character) can only be found starting at a word: the automaton reports no match that begins
# inside a word's code, and no node has more than 64 children.
_FIRST = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz+/"
_REST = "".join(chr(0xC0 + n) for n in range(64))  # Latin-1 letters, one byte each in memory
UNKNOWN = "~"
"""Repeated to a code's width: the code of a word no surface form contains; no key runs through it."""
_MAX_KEY_WORDS = 64
_SEEN_LIMIT = 500_000
"""Distinct text words whose codes a lexicon remembers (beyond it, they are folded every time)."""
_NAMED_LIMIT = 100_000
"""Distinct names whose look-up a lexicon remembers (beyond it, it starts again)."""
_UNNAMED = object()


def code_width(count: int) -> int:
    """Characters per word code for a vocabulary of `count` words (3 up to 262,144 words)."""
    width = 3
    while len(_FIRST) * len(_REST) ** (width - 1) < count:
        width += 1
    return width


def word_codes(count: int, width: int) -> list[str]:
    """The codes of the first `count` words of a vocabulary, in order."""
    if count > len(_FIRST) * len(_REST) ** (width - 1):
        raise ResourceError(f"{count} words do not fit {width}-character codes")
    letters = itertools.product(_FIRST, *([_REST] * (width - 1)))
    return list(itertools.islice(map("".join, letters), count))


def fold_word(word: str) -> str:
    """The singular a plural folds to ("therapies" -> "therapy", "seizures" -> "seizure").

    Only -ies and a final -s (not -ss, -us, -is) on words of four letters or more; keys and texts
    fold alike, so a word that is not really a plural ("diabetes") still matches itself.
    """
    if len(word) < 4 or not (word.isascii() and word.isalpha()):
        return word
    if word.endswith("ies") and len(word) >= 5:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def plain_word(word: str) -> str:
    """A word without its accents ("barré" -> "barre"), so either spelling matches the other."""
    if word.isascii():
        return word
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def term_words(term: str) -> list[str]:
    """The folded words of a surface form, as the matcher compares them."""
    return [fold_word(plain_word(w)) for w in _WORD.findall(term.lower().translate(_STRAIGHT))]


def normalise_term(term: str) -> str:
    """A surface form's matching key as text: its folded words joined by spaces."""
    return " ".join(term_words(term))


def key_variants(words: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Other word runs a surface form also matches: without its possessive ("crohn's")."""
    out = []
    for i in range(len(words) - 2):
        if words[i + 1] == "'" and words[i + 2] == "s":
            out.append(words[: i + 1] + words[i + 3 :])
    return out


def _lower_with_offsets(text: str) -> tuple[str, list[int] | None]:
    """Lower case and, when that changes the length ("İ"), the original index of each character."""
    low = text.lower()
    if len(low) == len(text):
        return low, None
    offsets = [i for i, ch in enumerate(text) for _ in ch.lower()]
    return low, offsets


# --------------------------------------------------------------------------- files

_ENTRIES = TypeAdapter(list[ConceptEntry])


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
        return gzip.decompress(raw) if path.suffix == ".gz" else raw
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise ResourceError(f"{path}: cannot read: {exc}") from exc


def _problems(exc: ValidationError, line_of: list[int] | None = None) -> str:
    """Every validation error, each with its line (JSONL) or field (JSON)."""
    found = []
    for err in exc.errors():
        loc = list(err["loc"])
        if line_of is not None and loc and isinstance(loc[0], int):
            loc[0] = f"line {line_of[loc[0]]}"
        found.append(f"{'/'.join(str(p) for p in loc) or 'file'}: {err['msg']}")
    return f"{exc.error_count()} problem(s): {'; '.join(found)}"


def read_concept_file(path: Path) -> list[ConceptEntry]:
    """Validate a concept JSONL file (optionally gzip) and report every bad line at once."""
    try:
        text = _read_bytes(path).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ResourceError(f"{path}: cannot read: {exc}") from exc
    lines = [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    try:
        return _ENTRIES.validate_json("[" + ",".join(line for _, line in lines) + "]")
    except ValidationError as exc:
        valid = ", ".join(ConceptEntry.model_fields)
        detail = _problems(exc, [n for n, _ in lines])
        raise ResourceError(f"{path}: {detail} (valid keys: {valid})") from exc


def read_index(path: Path, terms: Path | None = None) -> ConceptIndex:
    """Validate `index.json.gz`; with `terms`, also check that it was built from that file."""
    try:
        index = ConceptIndex.model_validate_json(_read_bytes(path))
    except ValidationError as exc:
        valid = ", ".join(ConceptIndex.model_fields)
        raise ResourceError(f"{path}: {_problems(exc)} (valid keys: {valid})") from exc
    if terms is not None and index.terms_sha256 != file_sha256(terms):
        raise ResourceError(
            f"{path} was not built from {terms}; rebuild both with "
            "`python -m critparse.lexicon.build_concepts --vocab DIR`"
        )
    return index


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- indexing

_ID_RANK = {"CP": 0, "DOID": 1, "MONDO": 2, "DrugBank": 3, "MESH": 4}
Ranked = list[tuple[tuple[int, int, int, int], str]]
"""(hand-curated first, own name before synonym, source, concept number) and the target."""


def _surfaces(entries: Iterable[ConceptEntry]) -> dict[tuple[str, ...], Ranked]:
    """Each key (its words) -> (rank, target) for every concept it names."""
    table: dict[tuple[str, ...], Ranked] = {}
    for i, entry in enumerate(entries):
        source = _ID_RANK.get(entry.id.partition(":")[0], 5)
        not_curated = int(source != 0)
        for j, surface in enumerate((entry.name, *entry.synonyms)):
            words = tuple(term_words(surface))
            for key in (words, *key_variants(words)):
                table.setdefault(key, []).append(((not_curated, int(j > 0), source, i), str(i)))
        for surface in entry.case_sensitive:
            key = tuple(term_words(surface))
            table.setdefault(key, []).append(((not_curated, 0, source, i), f"{i}={surface}"))
    table.pop((), None)
    return table


def _pack_concept(entry: ConceptEntry, system_number: dict[str, int]) -> str:
    shown = {None: "", entry.name: "~"}
    codes = "^".join(
        f"{system_number[c.system]}|{c.code}|{shown.get(c.display, c.display)}" for c in entry.codes
    )
    return f"{entry.id}\t{entry.type}\t{entry.name}\t{codes}"


def build_index(entries: list[ConceptEntry], terms_sha256: str = "") -> ConceptIndex:
    """The matcher's compact index of a list of concepts (the same list gives the same index)."""
    systems = sorted({c.system for e in entries for c in e.codes})
    system_number = {s: i for i, s in enumerate(systems)}
    table = _surfaces(entries)
    words = sorted({w for key in table for w in key})
    width = code_width(len(words))
    code = dict(zip(words, word_codes(len(words), width), strict=True))
    keys, targets = [], []
    for key, ranked in sorted(table.items()):
        if len(key) >= _MAX_KEY_WORDS:
            raise ResourceError(f"{' '.join(key)!r} is longer than {_MAX_KEY_WORDS - 1} words")
        keys.append("".join(code[w] for w in key))
        targets.append(",".join(dict.fromkeys(t for _, t in sorted(ranked))))
    return ConceptIndex(
        format=5,
        terms_sha256=terms_sha256,
        systems=systems,
        words="\n".join(words),
        keys="\n".join(keys),
        targets="\n".join(targets),
        concepts="\n".join(_pack_concept(e, system_number) for e in entries),
    )


def write_index(index: ConceptIndex, path: Path) -> None:
    """gzip-compressed JSON with a fixed timestamp, so the same index gives the same bytes."""
    data = index.model_dump_json().encode("utf-8")
    with path.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as f:
        f.write(data)


# --------------------------------------------------------------------------- matching


class ConceptLexicon:
    """Concepts and the automaton over their surface forms; built once, then read-only."""

    def __init__(self, index: ConceptIndex) -> None:
        self._systems = tuple(index.systems)
        self._concepts = index.concepts.split("\n") if index.concepts else []
        words = index.words.split("\n") if index.words else []
        self._width = width = code_width(len(words))
        self._unknown = UNKNOWN * width
        self._code = dict(zip(words, word_codes(len(words), width), strict=True))
        # Text words seen so far -> their codes (plural folded); bounded, per lexicon.
        self._seen: dict[str, str] = {}
        # Names looked up so far -> their match (a list names the same completed name again and
        # again: 'hepatitis B or C, ...'); bounded, per lexicon. Matches are frozen, so shared.
        self._named: dict[str, TermMatch | None] = {}
        keys = index.keys.split("\n") if index.keys else []
        self._targets_raw = index.targets.split("\n")
        self._targets: dict[int, tuple[tuple[int, str | None], ...]] = {}
        self._plain: dict[int, int] = {}  # keys whose best concept needs no case check
        self._matches: dict[int, tuple[str, str, str, tuple[Code, ...]]] = {}
        self._owners: dict[tuple[str, str], str | None] | None = None
        self._automaton = ahocorasick.Automaton(ahocorasick.STORE_INTS)
        add = self._automaton.add_word
        for number, key in enumerate(keys):
            add(key, number * _MAX_KEY_WORDS + len(key) // width)
        self._empty = not keys
        if not self._empty:
            self._automaton.make_automaton()

    def __len__(self) -> int:
        return len(self._concepts)

    def _targets_of(self, key_number: int) -> tuple[tuple[int, str | None], ...]:
        found = self._targets.get(key_number)
        if found is None:
            parts = (t.partition("=") for t in self._targets_raw[key_number].split(","))
            known = len(self._concepts)
            found = tuple((int(i), s or None) for i, _, s in parts if int(i) < known)
            self._targets[key_number] = found
            if found and found[0][1] is None:
                self._plain[key_number] = found[0][0]
        return found

    def _pick(self, key_number: int, text: str, start: int, end: int) -> int | None:
        """The best concept the original text allows (a case-sensitive form must match exactly)."""
        for index, surface in self._targets_of(key_number):
            if surface is None:
                return index
            if (
                text[start:end] == surface
                and not _shouting(text, start, end)
                and not _glued(text, start, end)
            ):
                return index
        return None

    def _concept(self, index: int) -> tuple[str, str, str, tuple[Code, ...]]:
        found = self._matches.get(index)
        if found is None:
            concept_id, concept_type, name, packed = self._concepts[index].split("\t")
            rows = (row.split("|") for row in packed.split("^") if row)
            shown = {"": None, "~": name}
            codes = tuple((self._systems[int(s)], c, shown.get(d, d)) for s, c, d in rows)
            found = self._matches[index] = (concept_id, concept_type, name, codes)
        return found

    def _match(self, index: int, text: str, start: int, end: int) -> TermMatch:
        concept_id, concept_type, name, codes = self._concept(index)
        return TermMatch(start, end, text[start:end], concept_type, name, concept_id, codes)

    def _hits(self, text: str) -> list[tuple[int, int, int, int]]:
        """Every run of words that is a key, as (-length, original start, original end, concept)."""
        if self._empty:
            return []
        low, offsets = _lower_with_offsets(text)
        parts = _WORD.split(low)  # gap, word, gap, word, ..., gap
        words = parts[1::2]
        try:  # every word seen before: one C-level pass
            encoded = "".join(map(self._seen.__getitem__, words))
        except KeyError:
            encoded = "".join([self._code_of(w) for w in words])
        width, plain = self._width, self._plain.get
        ends: list[int] | None = None
        hits = []
        for last, value in self._automaton.iter(encoded):
            if ends is None:
                ends = list(itertools.accumulate(map(len, parts)))
            number, length = divmod(value, _MAX_KEY_WORDS)  # the key and its number of words
            after = (last + 1) // width
            start, end = ends[2 * (after - length)], ends[2 * after - 1]
            if offsets is not None:
                start, end = offsets[start], offsets[end - 1] + 1
            index = plain(number)
            if index is None:
                index = self._pick(number, text, start, end)
            if index is not None:
                hits.append((start - end, start, end, index))
        return hits

    def find(self, text: str) -> list[TermMatch]:
        """Non-overlapping concept mentions, longest first, reported left to right."""
        hits = self._hits(text)
        if len(hits) > 1:
            hits = _longest_first(hits)
        return [self._match(index, text, start, end) for _, start, end, index in hits]

    def _code_of(self, word: str) -> str:
        """The code of a lower-case text word: itself, or the singular it folds to, or UNKNOWN."""
        code = self._seen.get(word)
        if code is None:
            folded = fold_word(plain_word(word.translate(_STRAIGHT)))
            code = self._code.get(word) or self._code.get(folded, self._unknown)
            if len(self._seen) < _SEEN_LIMIT:
                self._seen[word] = code
        return code

    def lookup(self, name: str) -> TermMatch | None:
        """The concept whose surface form is exactly `name` once normalised, spanning all of it."""
        found = self._named.get(name, _UNNAMED)
        if found is _UNNAMED:
            if len(self._named) >= _NAMED_LIMIT:
                self._named.clear()
            found = self._named[name] = self._lookup(name)
        return found  # type: ignore[return-value]

    def code_owners(self) -> dict[tuple[str, str], str | None]:
        """Every (system, code) that several concepts carry, with the concept it names, or None.

        Such a code is a class or a parent, not an identity: the drug list gives one
        pharmacological class as the MeSH code of many drugs (metformin and insulin glargine are
        both 'Hypoglycemic Agents'), and disease cross-references give subtypes their parent's
        code. Its owner is the concept the code is the id of, a curated concept that carries it,
        or the one whose name every other holder's name holds ('meningioma' of 'spinal
        meningioma'); built on first use."""
        if self._owners is None:
            self._owners = _code_owners(self._concepts, self._systems)
        return self._owners

    def _lookup(self, name: str) -> TermMatch | None:
        encoded = "".join(self._code_of(w) for w in _WORD.findall(name.lower()))
        value = None if self._empty or not encoded else self._automaton.get(encoded, None)
        if value is None:
            return None
        number = value // _MAX_KEY_WORDS
        index = self._pick(number, name, 0, len(name))
        return None if index is None else self._match(index, name, 0, len(name))


def _code_owners(concepts: list[str], systems: tuple[str, ...]) -> dict[tuple[str, str], str | None]:
    holders: dict[tuple[str, str], dict[str, str]] = {}
    for row in concepts:
        concept_id, _, name, packed = row.split("\t")
        for part in packed.split("^"):
            if part:
                system, code, _ = part.split("|")
                holders.setdefault((systems[int(system)], code), {})[concept_id] = name
    return {code: _owner(code[1], held) for code, held in holders.items() if len(held) > 1}


def _owner(code: str, held: dict[str, str]) -> str | None:
    """See `ConceptLexicon.code_owners`."""
    for concept_id in held:
        if concept_id.partition(":")[2] == code or concept_id.startswith("CP:"):
            return concept_id
    names = {concept_id: set(_WORD.findall(name.lower())) for concept_id, name in held.items()}
    for concept_id, mine in names.items():
        if all(mine <= theirs for other, theirs in names.items() if other != concept_id):
            return concept_id
    return None


def _longest_first(hits: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """The hits that no longer (or as long and further left) hit overlaps, left to right.

    The hits kept are disjoint, so they are kept sorted by start and a new one is tested against
    its two neighbours only: a bullet of thousands of terms costs a few look-ups per term, not one
    per term already kept.
    """
    hits.sort()  # longest first, then leftmost
    starts: list[int] = []
    taken: list[tuple[int, int, int, int]] = []
    for hit in hits:
        start, end = hit[1], hit[2]
        i = bisect_right(starts, start)
        if (i and taken[i - 1][2] > start) or (i < len(taken) and taken[i][1] < end):
            continue
        starts.insert(i, start)
        taken.insert(i, hit)
    return taken


def _shouting(text: str, start: int, end: int) -> bool:
    """True when the acronym sits in a text written all in capitals, where case says nothing."""
    return text.isupper() and (start > 0 or end < len(text))


def _glued(text: str, start: int, end: int) -> bool:
    """True when a short acronym is hyphenated to a one- or two-character token ("PD-L1")."""
    if start >= 2 and text[start - 1] == "-":
        first = start - 1
        while first > 0 and text[first - 1].isalnum():
            first -= 1
        if 1 <= start - 1 - first <= 2:
            return True
    if end + 1 < len(text) and text[end] == "-":
        last = end + 1
        while last < len(text) and text[last].isalnum():
            last += 1
        if 1 <= last - end - 1 <= 2:
            return True
    return False


def _terms_in(folder: Path) -> Path | None:
    return next((folder / n for n in TERM_FILES if (folder / n).is_file()), None)


def load_concept_lexicon(path: Path | None = None) -> ConceptLexicon:
    """The bundled concept vocabulary, or the folder or terms file at `path`; the caller caches it.

    A folder with an `index.json.gz` loads that index (checked against its terms file); a terms
    file, or a folder with only a terms file, is validated in full and indexed in memory.
    """
    where = BUNDLED if path is None else Path(path)
    if where.is_file():
        return ConceptLexicon(build_index(read_concept_file(where)))
    terms = _terms_in(where)
    if (where / INDEX_FILE).is_file():
        return ConceptLexicon(read_index(where / INDEX_FILE, terms))
    if terms is not None:
        return ConceptLexicon(build_index(read_concept_file(terms)))
    raise ResourceError(
        f"{where}: no concept file ({INDEX_FILE}, {' or '.join(TERM_FILES)}); "
        "build it with `python -m critparse.lexicon.build_concepts --vocab DIR`"
    )


__all__ = [
    "CONCEPT_TYPES",
    "ConceptCode",
    "ConceptEntry",
    "ConceptIndex",
    "ConceptLexicon",
    "ConceptType",
    "TermMatch",
    "build_index",
    "file_sha256",
    "fold_word",
    "load_concept_lexicon",
    "normalise_term",
    "read_concept_file",
    "read_index",
    "term_words",
    "write_index",
]
