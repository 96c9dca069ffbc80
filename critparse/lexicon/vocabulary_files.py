"""The shapes of the extractor's vocabulary files: `comparators.json`, `units.json`,
`words.json` and `unit_grammar.json`, checked when a file loads.

Apart from the matchers built from them (`critparse.lexicon.vocabulary`, `unit_grammar`) so that
those can be compiled (mypyc compiles plain classes and functions, not pydantic models; see
`setup.py`).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from critparse.lexicon.phrases import Phrases
from critparse.model.span import Comparator

_STRICT = ConfigDict(frozen=True, extra="forbid")


class UnitAtom(BaseModel):
    """One atom of the unit grammar: its UCUM code (null: a counted thing UCUM leaves out)."""

    model_config = _STRICT

    code: str | None
    dimension: str = Field(min_length=1)
    written: list[str] = Field(min_length=1)
    prefixes: list[str] = []
    case_sensitive: bool = False
    alone: bool = True


class UnitGrammar(BaseModel):
    """`unit_grammar.json`: prefixes, atoms and joiners of written units (see its `_about`)."""

    model_config = _STRICT

    about: str = Field(default="", alias="_about")
    prefixes: dict[str, list[str]] = Field(min_length=1)
    per: Phrases
    per_time: Phrases
    times: Phrases
    bracketed_denominators: list[str] = []
    atoms: list[UnitAtom] = Field(min_length=1)

    @model_validator(mode="after")
    def _prefixes_known(self) -> UnitGrammar:
        problems = [
            f"atoms[{i}] {atom.written[0]!r}: prefix {p!r} is not one of {sorted(self.prefixes)}"
            for i, atom in enumerate(self.atoms) for p in atom.prefixes if p not in self.prefixes
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self


class ComparatorVocabulary(BaseModel):
    """`comparators.json`: phrases before a number and after a number+unit."""

    model_config = _STRICT

    about: str = Field(default="", alias="_about")
    before: dict[Comparator, list[str]]
    after: dict[Comparator, list[str]]


class UnitEntry(BaseModel):
    model_config = _STRICT

    code: str = Field(min_length=1)
    surfaces: list[str] = Field(min_length=1)


class UnitVocabulary(BaseModel):
    """`units.json`: written unit forms -> normalised codes."""

    model_config = _STRICT

    about: str = Field(default="", alias="_about")
    case_sensitive: list[str] = []
    units: list[UnitEntry]


class PatternAnalytes(BaseModel):
    """Lexicon names of the analytes that patterns supply themselves."""

    model_config = _STRICT

    age: str
    systolic: str
    diastolic: str
    stage: str


class CountUnits(BaseModel):
    """What a count may be per: unit codes after a power of ten, denominator dimensions (of
    `unit_grammar.json`) after a counted noun. The units themselves are read as any other."""

    model_config = _STRICT

    about: str = Field(default="", alias="_about")
    after_power: list[str] = Field(min_length=1)
    after_noun: list[str] = Field(min_length=1)

    @field_validator("after_power")
    @classmethod
    def _per_codes(cls, codes: list[str]) -> list[str]:
        bad = [c for c in codes if not c.startswith("/") or len(c) < 2]
        if bad:
            raise ValueError(f"codes after a power of ten are denominators ('/L', '/uL'): {bad}")
        return codes


class LimitOfNormalWords(BaseModel):
    """How a multiple of the limits of normal is written ('2.5 x institutional ULN')."""

    model_config = _STRICT

    times: Phrases
    whose: Phrases
    upper: Phrases
    upper_case_sensitive: list[str] = Field(default=[], description="Matched as written ('N' in French).")
    lower: Phrases
    normal: Phrases
    at_most: Phrases = Field(
        default=[], description="Words before a multiple of the upper limit that mean at most it ('within 1.5 x ULN')."
    )
    multiples: dict[str, int] = Field(
        default={}, description="Words that are a multiple of a limit of normal by themselves ('twice the ULN')."
    )


class DurationWords(BaseModel):
    """How durations that are not ages are named (`critparse.extract.durations`)."""

    model_config = _STRICT

    about: str = Field(default="", alias="_about")
    since: Phrases
    post: Phrases
    lasting: Phrases
    tails: Phrases
    dropped: Phrases
    age_events: Phrases


class FrequencyWords(BaseModel):
    """`words.json` frequencies: how often something is done ('3 times per week', 'twice daily')."""

    model_config = _STRICT

    counts: Phrases
    times: Phrases
    periods: Phrases


class WordLists(BaseModel):
    """`words.json`: the word lists of the extraction grammar (see its `_about`)."""

    model_config = _STRICT

    about: str = Field(default="", alias="_about")
    pattern_analytes: PatternAnalytes
    number_words: dict[str, int] = Field(min_length=1)
    count_units: CountUnits
    limit_of_normal: LimitOfNormalWords
    stop_words: Phrases
    qualifiers: Phrases
    not_staging_systems: Phrases
    clause_words: Phrases
    new_clause: Phrases
    connectors: Phrases
    measured_after: Phrases
    instrument_heads: Phrases
    trailing_filler: Phrases
    leading_filler: Phrases
    derived_heads: Phrases
    name_nouns: Phrases
    version_nouns: Phrases
    named_alone: Phrases
    clock_words: Phrases
    age_words: Phrases
    people_words: Phrases
    age_subjects: Phrases
    duration_adjectives: Phrases
    comparator_gap: Phrases
    durations: DurationWords
    heads_needing_complement: Phrases
    frequencies: FrequencyWords
    measured_subjects: Phrases
    count_nouns: Phrases
    count_modifiers: Phrases
    immunoglobulins: Phrases
    measurement_counts: Phrases = []
