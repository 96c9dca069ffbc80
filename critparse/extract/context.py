"""A small generic ConText: which cues (negation, history, possibility, plans, hypotheses, family)
reach which target spans.

The algorithm follows ConText (Harkema, Dowling, Thornblade & Chapman, "ConText: an algorithm
for determining negation, experiencer, and temporal status from clinical reports", J Biomed
Inform 42(5), 2009) as medspaCy implements it: cues are literals in a data file
(`critparse/resources/context_rules.json`), each with a category and a direction; a cue's scope
runs forward, backward or both from it and ends at a terminating cue, at a sentence end or after
`max_scope` word tokens. All cue literals are one compiled regular expression, run once over the
text; nothing loops per rule.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from critparse.errors import ResourceError
from critparse.extract.schemas import SCOPED as _SCOPED
from critparse.extract.schemas import ContextRule, ContextRuleFile, Direction
from critparse.extract.schemas import CueCategory as Category
from critparse.model.concept import Modality, Subject

MODALITY_OF: Mapping[str, Modality] = {
    "HISTORICAL": "history",
    "POSSIBLE": "suspected",
    "PLANNED": "planned",
    "HYPOTHETICAL": "hypothetical",
}
"""The cue categories that set a concept's modality, and the modality each sets."""

# A sentence ends at . ! ? before white space or the end, or at a line break; abbreviations
# with periods ('e.g.', 'vs.') are pseudo cues in the rule file, which the alternation tries first.
_SENTENCE_END = r"[.!?](?=\s|$)|[\r\n]+"
_WORD = re.compile(r"\w+")

Model = TypeVar("Model", bound=BaseModel)

__all__ = [
    "Category",
    "ContextCue",
    "ContextFlags",
    "ContextRule",
    "ContextRuleFile",
    "ContextRules",
    "CueMatch",
    "Direction",
    "Folding",
    "apply_context",
    "clause_breaks",
    "compile_context_rules",
    "find_cues",
    "folding",
    "literal_alternation",
    "load_context_rules",
    "read_json_resource",
    "validate_resource",
]


# ---------------------------------------------------------------------------------------------
# Resource files: read and validate, every problem at once


def read_json_resource(name: str, path: str | Path | None = None) -> tuple[Any, str]:
    """The parsed JSON of bundled `critparse/resources/<name>` (or of `path`) and where it came from."""
    where = str(path) if path is not None else f"critparse/resources/{name}"
    try:
        if path is None:
            raw = resources.files("critparse.resources").joinpath(name).read_text("utf-8")
        else:
            raw = Path(path).read_text("utf-8")
        return json.loads(raw), where
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResourceError(f"{where}: cannot read: {exc}") from exc


def _keys(model: type[BaseModel]) -> str:
    return ", ".join(sorted(f.alias or name for name, f in model.model_fields.items()))


def _problem(loc: tuple[Any, ...], msg: str, lists: Mapping[str, tuple[str, type[BaseModel]]]) -> str:
    """One validation error as a person reads it: 'rule 3: diretion: Extra inputs are not permitted'."""
    parts = [str(p) for p in loc]
    if len(loc) >= 2 and loc[0] in lists and isinstance(loc[1], int):
        label = f"{lists[str(loc[0])][0]} {loc[1]}"
        parts = [label, *[str(p) for p in loc[2:]]]
    return f"{': '.join(parts)}: {msg}" if parts else msg


def validate_resource(
    model: type[Model],
    data: Any,
    where: str,
    lists: Mapping[str, tuple[str, type[BaseModel]]],
    extra_problems: Sequence[str] = (),
) -> Model:
    """Validate `data` against `model`; on any problem raise one ResourceError listing them all.

    `lists` names the file's lists of items ({'context_rules': ('rule', ContextRule)}) so that a
    problem is reported by item index with the item's valid keys.
    """
    problems = list(extra_problems)
    parsed: Model | None = None
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        problems[:0] = [_problem(tuple(e["loc"]), e["msg"], lists) for e in exc.errors()]
    if problems or parsed is None:
        valid = "; ".join(
            [f"valid file keys: {_keys(model)}"]
            + [f"valid {label} keys: {_keys(item)}" for label, item in lists.values()]
        )
        raise ResourceError(f"{where}: {len(problems)} problem(s): " + "; ".join(problems) + f" ({valid})")
    return parsed


# ---------------------------------------------------------------------------------------------
# The rule file


@dataclass(frozen=True, slots=True)
class CueKind:
    """Every rule of one literal, with what the walk needs to know about them worked out once."""

    rules: tuple[ContextRule, ...]
    is_break: bool
    """A sentence end (no rules) or a TERMINATE cue: no scope crosses it."""
    is_pseudo: bool
    """Matched only to keep shorter cues inside it from firing."""
    terminates: frozenset[Category]
    """Categories whose scopes this cue ends (direction TERMINATE)."""
    scoped: bool = False
    """Some rule of it reaches targets (forward, backward or both)."""

    @classmethod
    def of(cls, rules: Sequence[ContextRule]) -> CueKind:
        return cls(
            rules=tuple(rules),
            is_break=not rules or any(r.category == "TERMINATE" for r in rules),
            is_pseudo=bool(rules) and all(r.direction == "PSEUDO" for r in rules),
            terminates=frozenset(r.category for r in rules if r.direction == "TERMINATE"),
            scoped=any(r.direction in _SCOPED for r in rules),
        )


SENTENCE_END = CueKind.of(())
"""The kind of a sentence end: a break with no rules."""


@dataclass(frozen=True, slots=True)
class ContextRules:
    """Validated rules with their one compiled regular expression (build with `compile_context_rules`)."""

    rules: tuple[ContextRule, ...]
    default_max_scope: int
    scope_cap: int
    pattern: re.Pattern[str]
    by_key: Mapping[str, CueKind]
    scan: Folding | None = None
    """`pattern` with its lower-case twin (set by `compile_context_rules`)."""


def _duplicates(data: Any) -> list[str]:
    """Rules repeated with the same literal, category and direction (raw data, so it runs even on a bad file)."""
    items = data.get("context_rules") if isinstance(data, dict) else None
    seen: dict[tuple[str, str, str], int] = {}
    problems = []
    for index, item in enumerate(items if isinstance(items, list) else []):
        if not isinstance(item, dict) or not isinstance(item.get("literal"), str):
            continue
        key = (" ".join(item["literal"].lower().split()), str(item.get("category")), str(item.get("direction")))
        if key in seen:
            problems.append(f"rule {index}: repeats rule {seen[key]} ({key[0]!r} {key[1]} {key[2]})")
        else:
            seen[key] = index
    return problems


def literal_alternation(phrases: Iterable[str]) -> str:
    """Phrases as one regex that tries each text position once: a trie of their characters.

    A plain alternation of thousands of literals tries every literal at every position; the trie
    shares common prefixes, so a position costs one walk down a path. Phrases are lower-cased with
    single spaces (a space matches any run of white space); a phrase ending in a word character
    must not be followed by one. All phrases that match at a position lie on one path of the
    trie, and children are tried before a phrase ends, so the longest phrase wins, as it does in
    an alternation sorted longest first.
    """
    trie: dict[str, Any] = {}
    for phrase in phrases:
        key = " ".join(phrase.lower().split())
        if not key:
            continue
        node = trie
        for ch in key:
            node = node.setdefault(ch, {})
        node[""] = True
    return _trie_regex(trie, "") if trie else "(?!)"


def _trie_regex(node: Mapping[str, Any], last: str) -> str:
    """The regex of one trie node; `last` is the character that led to it."""
    branches = [(r"\s++" if ch == " " else re.escape(ch)) + _trie_regex(child, ch) for ch, child in sorted(node.items()) if ch]
    if "" in node:
        branches.append(r"(?!\w)" if re.match(r"\w", last) else "")
    if len(branches) == 1:
        return branches[0]
    return "(?:" + "|".join(branches) + ")"


# Escapes and group syntax whose capitals are no letters to match.
_NOT_LETTERS = re.compile(r"\\[AbBdDsSwWZ]|\(\?P<\w+>|\(\?P=\w+\)")
# Characters outside ASCII that match an ASCII letter when case is ignored (U+0130, U+0131, U+017F, U+212A).
_ASCII_FOLDS = frozenset("\u0130\u0131\u017f\u212a")


@dataclass(frozen=True, slots=True)
class Folding:
    """A case-insensitive pattern and, where it is safe, its case-sensitive twin for ASCII text
    in lower case: a case-insensitive trie compares every case at every position, the twin
    plain characters, which costs about half as much (build with `folding`)."""

    pattern: re.Pattern[str]
    twin: re.Pattern[str] | None

    def on(self, text: str) -> tuple[re.Pattern[str], str]:
        """The pattern to run and the text to run it on; offsets are the same as in `text`."""
        if self.twin is not None and text.isascii():
            return self.twin, text.lower()
        return self.pattern, text

    def search(self, text: str) -> re.Match[str] | None:
        pattern, target = self.on(text)
        return pattern.search(target)


def folding(pattern: re.Pattern[str]) -> Folding:
    """`pattern` with a twin when every letter it names is lower case (so lower-cased ASCII text
    matches as the text does with case ignored) and no character of it folds to an ASCII letter."""
    source = pattern.pattern
    rest = _NOT_LETTERS.sub("", source)
    safe = bool(pattern.flags & re.IGNORECASE) and not re.search("[A-Z]", rest) and not _ASCII_FOLDS.intersection(source)
    return Folding(pattern, re.compile(source, pattern.flags & ~re.IGNORECASE) if safe else None)


def compile_context_rules(rule_file: ContextRuleFile) -> ContextRules:
    """Group rules by literal and build the one alternation of every literal, longest first."""
    by_key: dict[str, list[ContextRule]] = {}
    for rule in rule_file.context_rules:
        by_key.setdefault(rule.key, []).append(rule)
    wordy = [k for k in by_key if re.match(r"\w", k)]
    other = [k for k in by_key if not re.match(r"\w", k)]
    cue = "|".join(filter(None, [
        rf"(?<!\w){literal_alternation(wordy)}" if wordy else "",
        literal_alternation(other) if other else "",
    ]))
    pattern = re.compile(f"(?P<cue>{cue})|(?P<brk>{_SENTENCE_END})" if cue else f"(?P<brk>{_SENTENCE_END})", re.IGNORECASE)
    scopes = [r.max_scope for r in rule_file.context_rules if r.max_scope is not None]
    return ContextRules(
        rules=tuple(rule_file.context_rules),
        default_max_scope=rule_file.default_max_scope,
        scope_cap=max([rule_file.default_max_scope, *scopes]),
        pattern=pattern,
        by_key={k: CueKind.of(v) for k, v in by_key.items()},
        scan=folding(pattern),
    )


def load_context_rules(path: str | Path | None = None) -> ContextRules:
    """The bundled cue rules, or those of `path`; ResourceError listing every bad rule."""
    data, where = read_json_resource("context_rules.json", path)
    rule_file = validate_resource(
        ContextRuleFile, data, where, {"context_rules": ("rule", ContextRule)}, _duplicates(data)
    )
    return compile_context_rules(rule_file)


# ---------------------------------------------------------------------------------------------
# Matching cues and applying their scopes


@dataclass(slots=True, unsafe_hash=True, init=False)  # __init__ written out: see COMPILED in setup.py
class CueMatch:
    """A cue literal found in the text, with every rule of that literal, or a sentence end.
    Never changed once made (not declared frozen, as `Mention` is not)."""

    start: int
    end: int
    text: str
    kind: CueKind

    def __init__(self, start: int, end: int, text: str, kind: CueKind) -> None:
        self.start, self.end, self.text, self.kind = start, end, text, kind

    @property
    def rules(self) -> tuple[ContextRule, ...]:
        return self.kind.rules


@dataclass(slots=True, unsafe_hash=True, init=False)  # __init__ written out: see COMPILED in setup.py
class ContextCue:
    """A cue that reaches a target: where it is and what it signals. Never changed once made
    (not declared frozen, as `Mention` is not)."""

    start: int
    end: int
    text: str
    category: Category

    def __init__(self, start: int, end: int, text: str, category: Category) -> None:
        self.start, self.end, self.text, self.category = start, end, text, category


@dataclass(slots=True, unsafe_hash=True, init=False)  # __init__ written out: see COMPILED in setup.py
class ContextFlags:
    """What the cues say about one target span. Never changed once made (not declared frozen,
    as `Mention` is not): `_UNQUALIFIED` is shared."""

    negated: bool
    modality: Modality | None
    subject: Subject
    cues: tuple[ContextCue, ...]

    def __init__(self, negated: bool = False, modality: Modality | None = None, subject: Subject = "patient",
                 cues: tuple[ContextCue, ...] = ()) -> None:
        self.negated, self.modality, self.subject, self.cues = negated, modality, subject, cues


def find_cues(text: str, rules: ContextRules) -> list[CueMatch]:
    """Every cue and sentence end in `text`, left to right, never overlapping (one regex pass)."""
    found = []
    pattern, target = rules.scan.on(text) if rules.scan is not None else (rules.pattern, text)
    for m in pattern.finditer(target):
        start, end = m.span()
        if m.lastgroup == "brk":
            found.append(CueMatch(start, end, text[start:end], SENTENCE_END))
            continue
        matched = rules.by_key.get(" ".join(m.group().lower().split()))
        if matched:  # a case-folding oddity can miss its key: then it is no cue at all
            found.append(CueMatch(start, end, text[start:end], matched))
    return found


def clause_breaks(cues: Sequence[CueMatch]) -> list[int]:
    """Positions (cue starts) where every scope ends: sentence ends and TERMINATE cues."""
    return [c.start for c in cues if c.kind.is_break]


@dataclass(frozen=True, slots=True)
class _Tokens:
    """Word-token offsets, to count a scope in tokens."""

    starts: list[int]
    ends: list[int]

    def first(self, pos: int) -> int:
        """Index of the token containing `pos`, or of the next one."""
        return bisect_right(self.ends, pos)

    def last(self, end: int) -> int:
        """Index of the last token that starts before `end`."""
        return bisect_left(self.starts, end) - 1


def _tokens(text: str) -> _Tokens:
    words = list(_WORD.finditer(text))
    return _Tokens(list(map(re.Match.start, words)), list(map(re.Match.end, words)))


_Found = dict[Category, tuple[int, CueMatch]]


def _reach(
    cues: Sequence[CueMatch],
    order: Iterable[int],
    distance: Callable[[CueMatch], int],
    directions: tuple[Direction, ...],
    rules: ContextRules,
) -> _Found:
    """Walk the cues in `order` (nearest first) until a break; the nearest cue per category that reaches."""
    found: _Found = {}
    terminated: set[Category] = set()
    for index in order:
        cue = cues[index]
        d = distance(cue)
        if d > rules.scope_cap:
            break
        kind = cue.kind
        for rule in kind.rules:
            scope = rule.max_scope or rules.default_max_scope
            if rule.direction in directions and rule.category not in terminated and d <= scope:
                found.setdefault(rule.category, (d, cue))
        if kind.is_break:
            break
        if kind.terminates:
            terminated |= kind.terminates
    return found


_UNQUALIFIED = ContextFlags()
"""The flags of a target no cue reaches (shared: flags are frozen)."""


def _flags(found: _Found) -> ContextFlags:
    """Combine the reaching cues: any negation negates, the nearest modality cue wins."""
    if not found:
        return _UNQUALIFIED
    modal = sorted((d, cat) for cat, (d, _) in found.items() if cat in MODALITY_OF)
    cues = sorted(
        (ContextCue(c.start, c.end, c.text, cat) for cat, (_, c) in found.items()),
        key=lambda c: (c.start, c.category),
    )
    return ContextFlags(
        negated="NEGATED_EXISTENCE" in found,
        modality=MODALITY_OF[modal[0][1]] if modal else None,
        subject="family" if "FAMILY" in found else "patient",
        cues=tuple(cues),
    )


def apply_context(
    text: str,
    targets: Sequence[tuple[int, int]],
    rules: ContextRules,
    *,
    cues: Sequence[CueMatch] | None = None,
) -> list[ContextFlags]:
    """The context flags of each `(start, end)` target, in the order given.

    A cue reaches a target when the target lies in the cue's direction, no sentence end or
    terminating cue stands between them, and at most `max_scope` word tokens separate them. A cue
    overlapping the target is part of its words ('non-Hodgkin lymphoma') and does not apply.
    """
    cues = find_cues(text, rules) if cues is None else cues
    if not any(c.kind.scoped for c in cues):
        return [ContextFlags() for _ in targets]
    tokens = _tokens(text)
    cue_starts = [c.start for c in cues]
    cue_ends = [c.end for c in cues]
    out = []
    for start, end in targets:
        first, last = tokens.first(start), tokens.last(end)

        def ahead(cue: CueMatch, first: int = first) -> int:
            return first - tokens.last(cue.end)

        def behind(cue: CueMatch, last: int = last) -> int:
            return tokens.first(cue.start) - last

        before = range(bisect_right(cue_ends, start) - 1, -1, -1)
        after = range(bisect_left(cue_starts, end), len(cues))
        found = _reach(cues, before, ahead, ("FORWARD", "BIDIRECTIONAL"), rules)
        for category, hit in _reach(cues, after, behind, ("BACKWARD", "BIDIRECTIONAL"), rules).items():
            if category not in found or hit[0] < found[category][0]:
                found[category] = hit
        out.append(_flags(found))
    return out
