"""The data carried between the extraction steps (plain dataclasses: the hot path builds many)."""

from __future__ import annotations

from dataclasses import dataclass

TIME_UNITS = frozenset({"a", "mo", "wk", "d", "h", "min"})
"""Unit codes of durations: ages and life expectancies take these, laboratory values never do."""

@dataclass(unsafe_hash=True, init=False)  # __init__ written out: see COMPILED in setup.py
class Mention:
    """An analyte named in the text: `name` is canonical when `code`/`in_lexicon` say so.

    Never changed once made (`dataclasses.replace` makes a new one), and hashed by its fields as
    a frozen dataclass is. It is not declared frozen: a frozen `__init__` costs four times as
    much in pure Python, and a bullet of many analytes builds hundreds of mentions."""

    start: int
    end: int
    text: str
    name: str
    code: str | None
    system: str | None
    in_lexicon: bool
    unitless: bool
    own: bool  # False: inferred (age from 'years') or from the parent bullet; no span here
    default_unit: str | None  # the lexicon's usual unit, to reject impossible pairings
    members: tuple[Mention, ...]  # a group word's analytes ('transaminases': AST and ALT)

    def __init__(self, start: int, end: int, text: str, name: str, code: str | None = None,
                 system: str | None = None, in_lexicon: bool = True, unitless: bool = False, own: bool = True,
                 default_unit: str | None = None, members: tuple[Mention, ...] = ()) -> None:
        self.start, self.end, self.text, self.name, self.code, self.system = start, end, text, name, code, system
        self.in_lexicon, self.unitless, self.own = in_lexicon, unitless, own
        self.default_unit, self.members = default_unit, members


@dataclass(init=False)  # __init__ written out: see COMPILED in setup.py
class Quantity:
    value: float
    start: int  # start of the number
    end: int  # end of the number and its unit
    unit: str | None
    unit_text: str | None

    def __init__(self, value: float, start: int, end: int, unit: str | None = None, unit_text: str | None = None) -> None:
        self.value, self.start, self.end, self.unit, self.unit_text = value, start, end, unit, unit_text


@dataclass(init=False)  # __init__ written out: see COMPILED in setup.py
class Expression:
    """One or two bounds read from the text, with the span from comparator to unit."""

    start: int
    end: int
    bounds: list[tuple[str, Quantity]]
    kind: str  # single | range | list | bare
    analytes: list[Mention]
    pinned: bool  # analytes fixed by the pattern itself (blood pressure pairs)
    anchor_end: int  # end of the last analyte mention before the expression

    def __init__(self, start: int, end: int, bounds: list[tuple[str, Quantity]], kind: str = "single",
                 analytes: list[Mention] | None = None, pinned: bool = False, anchor_end: int = -1) -> None:
        self.start, self.end, self.bounds, self.kind = start, end, bounds, kind
        self.analytes = [] if analytes is None else analytes
        self.pinned, self.anchor_end = pinned, anchor_end


@dataclass(unsafe_hash=True, init=False)  # __init__ written out: see COMPILED in setup.py
class RuleDraft:
    """A threshold as read, before it becomes a `Rule`; never changed once made (not declared
    frozen, as `Mention` is not)."""

    analyte: Mention
    comparator: str
    value: float
    unit: str | None
    unit_text: str | None
    start: int
    end: int

    def __init__(self, analyte: Mention, comparator: str, value: float, unit: str | None, unit_text: str | None,
                 start: int, end: int) -> None:
        self.analyte, self.comparator, self.value, self.unit, self.unit_text = analyte, comparator, value, unit, unit_text
        self.start, self.end = start, end


