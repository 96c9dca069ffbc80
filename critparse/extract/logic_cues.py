"""The wording of criterion logic as data (`resources/logic_cues.json`), validated and compiled.

The file's `_about` describes its shape. Each group of literals becomes one compiled regular
expression (longest literal first), so finding every cue in a bullet is one pass per group, never
a loop over literals.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

from critparse.extract.schemas import (
    ConditionCue,
    LogicCueFile,
    QuantifierOp,
    Role,
)
from critparse.extract.schemas import ScaleCategory as Category
from critparse.lexicon.phrases import FoldedPattern, folded
from critparse.lexicon.resources import Resources, default_resources
from critparse.resources import load_resource

__all__ = [
    "Category",
    "ConditionCue",
    "CueMatch",
    "LogicCueFile",
    "LogicCues",
    "QuantifierOp",
    "Role",
    "load_logic_cues",
    "logic_cues",
]


class CueMatch(NamedTuple):
    """One cue found in a text: where, which literal and what it means (a named tuple: a
    bullet makes several, and a tuple is the cheapest immutable record)."""

    start: int
    end: int
    literal: str
    meaning: str
    weak: bool = False


def _token(token: str) -> str:
    """One word of a literal: `{n}` is a number (digits or a word), a word ends on a boundary."""
    if token == "{n}":
        return r"(?:\d+|[A-Za-z]+)(?!\w)"
    return re.escape(token) + (r"(?!\w)" if token[-1].isalnum() else "")


def _trie(literals: list[list[str]]) -> str:
    """The literals (as word lists) as one regular expression that shares their common first
    words: the matcher tries each word once per position instead of each literal, and the
    longest literal wins. Words are tried in order of length; those that begin with the same
    letter share it (`w(?:ithout|ithin|ith)`), so a position is tried once per first letter,
    not once per word: the order among words of one letter is kept, and words of different
    first letters (plain letters or digits) never match at the same place."""
    root: dict[str, Any] = {}
    for words in literals:
        node = root
        for word in words:
            node = node.setdefault(word.lower(), {})
        node[""] = {}

    def emit(node: dict[str, Any]) -> str:
        parts = []
        for word in sorted((w for w in node if w), key=len, reverse=True):
            child = node[word]
            piece = _token(word)
            if any(child_word for child_word in child):
                piece += rf"(?:\s+{emit(child)})" + ("?" if "" in child else "")
            parts.append((word, piece))
        if not all(word[0].isascii() and word[0].isalnum() for word, _ in parts):
            return "(?:" + "|".join(piece for _, piece in parts) + ")"
        by_letter: dict[str, list[str]] = {}
        for word, piece in parts:  # a plain first letter is written as itself by re.escape
            by_letter.setdefault(word[0], []).append(piece)
        shared = [p[0] if len(p) == 1 else f"{letter}(?:{'|'.join(x[1:] for x in p)})" for letter, p in by_letter.items()]
        return "(?:" + "|".join(shared) + ")"

    return emit(root)


def _compile(literals: Mapping[str, str]) -> re.Pattern[str]:
    """Every literal in one compiled expression: spaces match white space, words end on word
    boundaries, and a lone sign ('/') counts only with a space beside it ('≤ 470 ms / ≤ 450
    ms', not 'mg/kg')."""
    words = [lit.split() for lit in literals if any(ch.isalnum() for ch in lit) or " " in lit]
    signs = [re.escape(lit) for lit in literals if not (any(ch.isalnum() for ch in lit) or " " in lit)]
    alternatives = []
    if words:
        alternatives.append(r"(?<!\w)" + _trie(words))
    alternatives += [rf"(?:(?<=\s){sign}|{sign}(?=\s))" for sign in signs]
    return re.compile("|".join(alternatives), re.IGNORECASE)


_UNREAD = object()
_KEPT_GAPS = 4096
"""How many gaps between atoms `LogicCues.conjunction` remembers: the same few (' and ', ' or ',
', and ') come back in most bullets."""


class LogicCues:
    """The cue file compiled into matchers."""

    def __init__(self, data: LogicCueFile) -> None:
        self.data = data
        self._meaning: dict[str, str] = {}
        self._weak: set[str] = set()
        connectives = {w.lower(): op for op, words in data.connectives.items() for w in words}
        self.connective_re = _compile(connectives)
        self._connective = connectives
        self._connective_signs = frozenset(w[0] for w in connectives if not w[0].isalnum())
        self._conjunctions: dict[str, str | None] = {}  # what each gap read so far says (bounded)
        conditions = {c.literal.lower(): c.role for c in data.conditions}
        self._weak = {c.literal.lower() for c in data.conditions if c.weak}
        self.condition_re = _compile(conditions)
        self._condition = conditions
        self.unless_re = _compile({c: role for c, role in conditions.items() if role == "unless"})
        self._unless_words = _required_words(c for c, role in conditions.items() if role == "unless")
        self.sex_re = _compile({w.lower(): s for s, words in data.sex_words.items() for w in words})
        self._sex = {w.lower(): s for s, words in data.sex_words.items() for w in words}
        self.population_re = _compile({w.lower(): "population" for w in data.population_words})
        self.region_re = _compile({w.lower(): "region" for w in data.region_words})
        self.treatment_re = _compile({w.lower(): "treatment" for w in data.treatment_words})
        self.age_re = _compile({w.lower(): "age" for w in data.age_words})
        self.list_lead_re = _compile({w.lower(): "lead" for w in data.list_leads})
        quantifiers = {q.literal.lower(): q.op for q in data.quantifiers}
        self._quantifier = quantifiers
        self.quantifier_re = _compile(quantifiers)
        self._scale = {s.literal.lower(): s.category for s in data.scales}
        self.scale_re = _compile(self._scale)
        self._scale_words = _required_words(self._scale)
        self.header_re = _compile({w.lower(): "header" for w in data.header_cues})
        self.negation_re = _compile({w.lower(): "not" for w in data.negations})
        self.subject_lead_re = _compile({w.lower(): "subject" for w in data.subject_leads})
        self.subject_must_re = _compile({w.lower(): "must" for w in data.subject_musts})
        self.subject_may_re = _compile({w.lower(): "may" for w in data.subject_mays})
        self.age_comparator = {w.lower(): c for c, words in data.age_comparators.items() for w in words}
        # the whole-text scans, run on lower-cased text where that finds the same
        self._condition_fold = _folding(self.condition_re)
        self._sex_fold = _folding(self.sex_re)
        self._scale_fold = _folding(self.scale_re)

    @staticmethod
    def _find(pattern: re.Pattern[str], text: str, meaning: Mapping[str, str], weak: set[str] | None = None,
              lo: int = 0, hi: int | None = None, fold: FoldedPattern | None = None) -> list[CueMatch]:
        """Every match of `pattern` in `text[lo:hi]`; a whole text is scanned lower-cased with
        `fold` when that finds the same (`FoldedPattern`)."""
        lowered = folded(text) if fold is not None and lo == 0 and hi is None else None
        found = (
            fold.lowered.finditer(lowered) if fold is not None and lowered is not None
            else pattern.finditer(text, lo, len(text) if hi is None else hi)
        )
        out = []
        read: dict[str, tuple[str, str, bool]] = {}  # a cue written the same way again reads the same
        new = tuple.__new__  # `CueMatch(...)` without its Python-level `__new__`: a list of scales makes hundreds
        for m in found:
            written = m.group(0)
            known = read.get(written)
            if known is None:
                key = " ".join(written.lower().split())
                known = read[written] = (key, meaning.get(key, ""), bool(weak) and key in (weak or ()))
            out.append(new(CueMatch, (*m.span(), *known)))
        return out

    def connectives(self, text: str, lo: int = 0, hi: int | None = None) -> list[CueMatch]:
        return self._find(self.connective_re, text, self._connective, lo=lo, hi=hi)

    def conjunction(self, text: str) -> str | None:
        """What the connectives of `text` say: 'or' when one means or, 'and' when some other is
        there, None when there is none (a text without a letter, digit or sign holds none)."""
        known = self._conjunctions.get(text, _UNREAD)  # a list repeats its gaps (', ', ' or ')
        if known is not _UNREAD:
            return known  # type: ignore[return-value]
        if not any(ch.isalnum() or ch in self._connective_signs for ch in text):
            return None
        found = None
        for m in self.connective_re.finditer(text):
            meaning = self._connective.get(" ".join(m.group(0).lower().split()), "")
            if meaning == "or":
                found = "or"
                break
            found = "and"
        if len(self._conjunctions) >= _KEPT_GAPS:
            self._conjunctions.clear()
        self._conjunctions[text] = found
        return found

    def conditions(self, text: str) -> list[CueMatch]:
        """Condition cues, pseudo cues kept (their role is 'pseudo') so callers can skip them."""
        return self._find(self.condition_re, text, self._condition, self._weak, fold=self._condition_fold)

    def sex(self, text: str) -> list[CueMatch]:
        return self._find(self.sex_re, text, self._sex, fold=self._sex_fold)

    def quantifier(self, text: str) -> tuple[str, int | None, CueMatch] | None:
        """The first quantifier of `text`: (op, n, match); n only for 'at_least'."""
        m = self.quantifier_re.search(text)
        if m is None:
            return None
        key = " ".join(m.group(0).lower().split())
        op = self._quantifier.get(self._key(key))
        if op is None:
            return None  # '{n}' stood for a word that is no number
        n = None
        if op == "at_least":
            word = next(w for w in key.split() if w.isdigit() or w in self.data.number_words)
            n = int(word) if word.isdigit() else self.data.number_words[word]
        return op, n, CueMatch(m.start(), m.end(), key, op)

    def _key(self, literal: str) -> str:
        """A quantifier as written with its number replaced by `{n}`, to look up its operator;
        the literal itself when it is listed as written ('one of')."""
        if literal in self._quantifier:
            return literal
        numbers = self.data.number_words
        return " ".join("{n}" if (w.isdigit() or w in numbers) else w for w in literal.split())

    def scales(self, text: str) -> list[CueMatch]:
        if not _may_hold(text, self._scale_words):
            return []
        return self._find(self.scale_re, text, self._scale, fold=self._scale_fold)

    def has_unless(self, text: str) -> bool:
        """Whether an `unless` cue ('unless', 'except for patients with') is in `text`."""
        return _may_hold(text, self._unless_words) and self.unless_re.search(text) is not None


def _folding(pattern: re.Pattern[str]) -> FoldedPattern | None:
    """`pattern` to run on lower-cased text, or None when that could match otherwise."""
    try:
        return FoldedPattern(pattern)
    except ValueError:
        return None


def _required_words(literals: Iterable[str]) -> re.Pattern[str] | None:
    """One word of each literal, which every match of the literal contains as written but for
    case (its first, or its longest when the first is short and so common: 'with the exception
    of'); None when a literal has no such word (only a number slot or a word outside ASCII,
    whose case forms the matcher may read more widely)."""
    out = set()
    for literal in literals:
        words = [w for w in literal.lower().split() if w != "{n}" and w.isascii()]
        if not words:
            return None
        out.add(words[0] if len(words[0]) > 4 else max(words, key=len))
    return re.compile(_any_of(out))


def _any_of(words: Iterable[str]) -> str:
    """A regex that finds where any of `words` starts, as a trie of their letters: a position
    costs one walk down a path, not a try of each word (four times faster on twenty words). A
    word that continues another ('stages' after 'stage') adds nothing: the shorter one is found."""
    trie: dict[str, dict[str, Any]] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _trie_source(trie)


def _trie_source(node: dict[str, Any]) -> str:
    if "" in node:
        return ""  # a word ends here: whatever follows, the text holds it
    branches = [re.escape(ch) + _trie_source(child) for ch, child in sorted(node.items())]
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


def _may_hold(text: str, words: re.Pattern[str] | None) -> bool:
    """False only when a text in ASCII holds none of `words` (see `_required_words`), so a
    pattern of those literals cannot match it: a search for plain words instead of a scan."""
    if words is None or not text.isascii():
        return True
    return words.search(text.lower()) is not None


def load_logic_cues(path: str | Path | None = None) -> LogicCues:
    """The bundled cue file (or `path`), validated; ResourceError lists every problem."""
    return LogicCues(load_resource(LogicCueFile, "logic_cues.json", path))


def logic_cues(resources: Resources | None = None) -> LogicCues:
    """The cues of `resources`, compiled once per Resources object."""
    res = resources or default_resources()
    return res.memo("logic_cues", load_logic_cues)
