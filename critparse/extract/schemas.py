"""The shapes of the extraction passes' resource files, checked when a file loads.

They live apart from the passes that read them so that those passes can be compiled: mypyc
compiles plain classes and functions, not pydantic models (see `setup.py`).
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from critparse.model.concept import ConceptType, Relation, TimeUnit
from critparse.model.span import Comparator

_STRICT = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


# ---------------------------------------------------------------------------------------------
# context_rules.json: ConText cues (critparse.extract.context)


CueCategory = Literal[
    "NEGATED_EXISTENCE",
    "HISTORICAL",
    "HYPOTHETICAL",
    "POSSIBLE",
    "FAMILY",
    "PLANNED",
    "PSEUDO",
    "TERMINATE",
]
Direction = Literal["FORWARD", "BACKWARD", "BIDIRECTIONAL", "TERMINATE", "PSEUDO"]
SCOPED = ("FORWARD", "BACKWARD", "BIDIRECTIONAL")
"""The directions with a scope (`max_scope` means something only for these)."""


class ContextRule(BaseModel):
    """One cue: a literal, what it signals and which way its scope runs."""

    model_config = _STRICT

    literal: str = Field(min_length=1, description="The cue as written; a space matches any white space.")
    category: CueCategory
    direction: Direction
    max_scope: int | None = Field(default=None, ge=1, description="Most word tokens between cue and target.")

    @model_validator(mode="after")
    def _consistent(self) -> ContextRule:
        if self.literal != self.literal.strip():
            raise ValueError(f"literal {self.literal!r} has leading or trailing white space")
        if self.category == "TERMINATE" and self.direction != "TERMINATE":
            raise ValueError("a TERMINATE cue needs direction TERMINATE")
        if self.category == "PSEUDO" and self.direction != "PSEUDO":
            raise ValueError("a PSEUDO cue needs direction PSEUDO")
        if self.max_scope is not None and self.direction not in SCOPED:
            raise ValueError(f"max_scope means nothing for direction {self.direction}")
        return self

    @property
    def key(self) -> str:
        """The literal as matched: lower case, single spaces."""
        return " ".join(self.literal.lower().split())


class ContextRuleFile(BaseModel):
    """`context_rules.json`: the cue rules and the scope every rule without max_scope gets."""

    model_config = _STRICT

    about: str = Field(default="", alias="_about")
    default_max_scope: int = Field(ge=1)
    context_rules: list[ContextRule]


# ---------------------------------------------------------------------------------------------
# logic_cues.json: connectives, conditions, quantifiers (critparse.extract.logic_cues)


Role = Literal["if", "unless", "with", "without", "in_which_case", "respectively", "otherwise", "pseudo"]
"""What a condition cue does to the limit next to it (see the file's `_about`)."""

QuantifierOp = Literal["and", "or", "at_least", "none", "not_all"]
ScaleCategory = Literal["roman", "letter", "number", "prefixed"]


class ConditionCue(BaseModel):
    model_config = _STRICT

    literal: str = Field(min_length=1)
    role: Role
    weak: bool = False


class Quantifier(BaseModel):
    model_config = _STRICT

    literal: str = Field(min_length=1)
    op: QuantifierOp


class Scale(BaseModel):
    model_config = _STRICT

    literal: str = Field(min_length=1)
    category: ScaleCategory


class LogicCueFile(BaseModel):
    """The shape of `logic_cues.json`."""

    model_config = _STRICT

    about: str = Field(alias="_about")
    connectives: dict[Literal["or", "and"], list[str]]
    list_leads: list[str]
    conditions: list[ConditionCue]
    sex_words: dict[Literal["male", "female"], list[str]]
    population_words: list[str]
    region_words: list[str]
    treatment_words: list[str]
    age_words: list[str]
    age_comparators: dict[Literal[">=", "<=", ">", "<"], list[str]]
    quantifiers: list[Quantifier]
    negations: list[str]
    number_words: dict[str, int]
    scales: list[Scale]
    subject_leads: list[str]
    subject_musts: list[str]
    subject_mays: list[str]
    header_cues: list[str]


# ---------------------------------------------------------------------------------------------
# time_windows.json: the time-window grammar (critparse.extract.temporal)


class Lead(BaseModel):
    """A phrase opening a window with a comparator ('within', 'at least', 'in the past')."""

    model_config = _STRICT

    phrase: str = Field(min_length=1)
    comparator: Comparator
    relation: Relation | None = None
    period: bool = False
    needs_relation: bool = False
    after_comparator: Comparator | None = None
    """The comparator when the relation word says 'after' ('for 90 days after the last dose' is <=)."""


class RelationWord(BaseModel):
    """A word placing the event before or after the anchor ('before', 'prior to', 'since', 'of')."""

    model_config = _STRICT

    phrase: str = Field(min_length=1)
    relation: Relation | None
    needs_anchor: bool = False
    anchored_relation: Relation | None = None
    opens: Comparator | None = None
    """Before a duration the word opens a window with this comparator ('in the 14 days before')."""
    bare_comparator: Comparator | None = None
    """The comparator of a duration with no lead before this word ('4 weeks prior to randomization')."""
    needs_duration: bool = False
    """The word forms a window only after a duration ('within 2 weeks of the first dose'; 'quality of life' is none)."""


class Anchor(BaseModel):
    """A written reference event and its normalised name ('enrollment' -> 'enrolment')."""

    model_config = _STRICT

    phrase: str = Field(min_length=1)
    anchor: str = Field(min_length=1)


class UnitForms(BaseModel):
    """The written forms of one duration unit."""

    model_config = _STRICT

    unit: TimeUnit
    singular: list[str] = Field(min_length=1)
    plural: list[str] = []


class TimeWindowFile(BaseModel):
    """`time_windows.json`; see its `_about` for the grammar the lists feed."""

    model_config = _STRICT

    about: str = Field(default="", alias="_about")
    leads: list[Lead]
    relations: list[RelationWord]
    anchors: list[Anchor]
    fillers: list[str]
    units: list[UnitForms]
    numbers: dict[str, float]
    articles: list[str] = []
    duration_words: list[str] = []
    period_words: list[str] = []
    range_joiners: list[str] = []
    alternative_units: list[str] = []
    alternative_joiners: list[str] = []

    @model_validator(mode="after")
    def _numbers_finite(self) -> TimeWindowFile:
        bad = [w for w, v in self.numbers.items() if not math.isfinite(v) or v < 0]
        if bad:
            raise ValueError(f"number words need finite, non-negative values: {bad}")
        return self


# ---------------------------------------------------------------------------------------------
# concept_heads.json: head words, qualifiers and stop words (critparse.extract.concepts)


class HeadWord(BaseModel):
    model_config = _STRICT

    word: str = Field(min_length=1)
    type: ConceptType


class HeadSuffix(BaseModel):
    model_config = _STRICT

    suffix: str = Field(min_length=2)
    type: ConceptType
    min_length: int = Field(ge=3)


class NoStructureReason(BaseModel):
    """Why a criterion holds neither a rule nor a concept, and the words that tell."""

    model_config = _STRICT

    reason: str = Field(min_length=1)
    cues: list[str] = Field(min_length=1)


class ConceptHeadsFile(BaseModel):
    """`concept_heads.json`; its `_about` says what each list does."""

    model_config = _STRICT

    about: str = Field(default="", alias="_about")
    heads: list[HeadWord]
    suffixes: list[HeadSuffix]
    not_heads: list[str]
    qualifiers: list[str]
    determiners: list[str]
    population: list[str]
    prepositions: list[str]
    conjunctions: list[str]
    coordinators: list[str] = Field(min_length=1)
    scale_words: list[str]
    scale_connectors: list[str]
    verbs: list[str]
    carry_types: list[ConceptType]
    term_splitters: list[str]
    generic_heads: list[str]
    generic_modifiers: list[str]
    allergy_cues: list[str]
    method_cues: list[str]
    result_words: list[str]
    drug_modifiers: list[str]
    threshold_comparators: list[str] = Field(min_length=1)
    threshold_fillers: list[str]
    threshold_units: list[str] = Field(min_length=1)
    window_links: list[str] = []
    drug_therapy_heads: list[str] = []
    of_containers: list[str] = []
    label_words: list[str] = []
    non_name_modifiers: list[str] = []
    not_markers: list[str] = []
    separate_heads: list[str] = []
    carrier_words: list[str] = []
    pathogen_links: list[str] = []
    no_structure: list[NoStructureReason] = []
    no_structure_default: str = "no condition, treatment, procedure, test or threshold was recognised"

    @model_validator(mode="after")
    def _words_fit(self) -> ConceptHeadsFile:
        stops = {"prepositions": self.prepositions, "verbs": self.verbs, "conjunctions": self.conjunctions,
                 "determiners": self.determiners, "qualifiers": self.qualifiers}
        problems = [f"{name}: 'of' joins a noun phrase ('carcinoma of the cervix') and cannot stop one"
                    for name, words in stops.items() if "of" in (w.lower() for w in words)]
        blank = [name for name, words in stops.items() if any(not w.strip() for w in words)]
        problems += [f"{name}: blank word" for name in blank]
        if problems:
            raise ValueError("; ".join(problems))
        return self
