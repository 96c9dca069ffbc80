"""The data carried between the extraction steps (plain dataclasses: the hot path builds many)."""

from __future__ import annotations

from dataclasses import dataclass, field

TIME_UNITS = frozenset({"a", "mo", "wk", "d", "h", "min"})
"""Unit codes of durations: ages and life expectancies take these, laboratory values never do."""

@dataclass(unsafe_hash=True)
class Mention:
    """An analyte named in the text: `name` is canonical when `code`/`in_lexicon` say so.

    Never changed once made (`dataclasses.replace` makes a new one), and hashed by its fields as
    a frozen dataclass is. It is not declared frozen: a frozen `__init__` costs four times as
    much in pure Python, and a bullet of many analytes builds hundreds of mentions."""

    start: int
    end: int
    text: str
    name: str
    code: str | None = None
    system: str | None = None
    in_lexicon: bool = True
    unitless: bool = False
    own: bool = True  # False: inferred (age from 'years') or from the parent bullet; no span here
    default_unit: str | None = None  # the lexicon's usual unit, to reject impossible pairings
    members: tuple[Mention, ...] = ()  # a group word's analytes ('transaminases': AST and ALT)


@dataclass
class Quantity:
    value: float
    start: int  # start of the number
    end: int  # end of the number and its unit
    unit: str | None = None
    unit_text: str | None = None


@dataclass
class Expression:
    """One or two bounds read from the text, with the span from comparator to unit."""

    start: int
    end: int
    bounds: list[tuple[str, Quantity]]
    kind: str = "single"  # single | range | list | bare
    analytes: list[Mention] = field(default_factory=list)
    pinned: bool = False  # analytes fixed by the pattern itself (blood pressure pairs)
    anchor_end: int = -1  # end of the last analyte mention before the expression


@dataclass(frozen=True)
class RuleDraft:
    analyte: Mention
    comparator: str
    value: float
    unit: str | None
    unit_text: str | None
    start: int
    end: int


