"""What a patient's data names, resolved to what criteria use: analyte keys and codes to the
canonical analyte names of rules, and the record vocabulary (code systems, statuses, record
words, pregnancy codes) and plausibility ranges that patient reading and matching share.

Both tables are data (`resources/patient_records.json`, `resources/plausibility.json`), validated
on first use and kept on the `Resources` object they were loaded for.
"""

from __future__ import annotations

import re
from enum import Enum, auto
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator

from critparse.lexicon.resources import Resources, default_resources
from critparse.resources import load_resource

LOINC = "http://loinc.org"

_STRICT = ConfigDict(frozen=True, extra="forbid")

__all__ = [
    "LOINC",
    "MISSING",
    "Missing",
    "PlausibilityTable",
    "RecordVocabulary",
    "default_unit",
    "plausibility",
    "record_vocabulary",
    "resolve_analyte",
    "resolve_code",
]


# --- record vocabulary -------------------------------------------------------------------------

State = Literal["present", "past", "planned", "refuted", "void", "unknown"]
Verification = Literal["confirmed", "uncertain", "refuted", "void"]
SystemCode = tuple[str, str]


class CodeSystem(BaseModel):
    """A code system: its FHIR URI, a label for reasons and the names people write for it."""

    model_config = _STRICT

    uri: str = Field(min_length=1)
    label: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    prefix_hierarchy: bool = False
    code_prefixes: tuple[str, ...] = ()


class RecordWords(BaseModel):
    """Words a record adds to a concept's name, sorted by what they do to the match."""

    model_config = _STRICT

    modifiers: frozenset[str]
    history: tuple[str, ...]
    uncertain: tuple[str, ...]
    blocking: tuple[str, ...]
    specifier_pattern: str

    @field_validator("specifier_pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        re.compile(pattern)
        return pattern


class Qualifiers(BaseModel):
    model_config = _STRICT

    current: frozenset[str]
    history: frozenset[str]
    neutral: frozenset[str]
    said_of: dict[str, frozenset[str]] = {}
    """Current qualifiers that, before a name ending in one of the words, say more than that it
    is present, so the record must say them too ('active brain metastases': untreated or growing)."""


class Narrower(BaseModel):
    model_config = _STRICT

    term: str
    broader: tuple[str, ...]


class NarrowerCodes(BaseModel):
    model_config = _STRICT

    terms: tuple[str, ...]
    codes: tuple[SystemCode, ...]


class NoKnown(BaseModel):
    model_config = _STRICT

    system: str
    code: str
    covers: Literal["any", "drug", "food", "environment"]


class PregnancyCodes(BaseModel):
    model_config = _STRICT

    observation_codes: frozenset[SystemCode]
    observation_words: tuple[str, ...]
    positive: frozenset[SystemCode]
    negative: frozenset[SystemCode]
    positive_words: frozenset[str]
    negative_words: frozenset[str]
    positive_valid_days: int = Field(gt=0)
    negative_valid_days: int = Field(gt=0)
    term: str


class FindingValues(BaseModel):
    model_config = _STRICT

    positive: frozenset[SystemCode]
    negative: frozenset[SystemCode]
    positive_words: frozenset[str]
    negative_words: frozenset[str]


class OrdinalCode(BaseModel):
    model_config = _STRICT

    analyte: str
    system: str
    code: str


class RecordVocabulary(BaseModel):
    """`patient_records.json`: how records are read and matched (see the file's `_about`)."""

    model_config = _STRICT

    about: str = Field(default="", alias="_about")
    systems: tuple[CodeSystem, ...]
    clinical_status: dict[str, Literal["present", "past", "unknown"]]
    verification_status: dict[str, Verification]
    resource_status: dict[str, dict[str, State]]
    status_words: dict[str, str]
    record_words: RecordWords
    generic_heads: tuple[str, ...]
    qualifiers: Qualifiers
    study_anchors: frozenset[str]
    sex_words: dict[Literal["female", "male"], frozenset[str]]
    population_words: frozenset[str]
    female_only: frozenset[str]
    allergy_words: tuple[str, ...]
    synonyms: tuple[tuple[str, ...], ...]
    narrower: tuple[Narrower, ...]
    narrower_codes: tuple[NarrowerCodes, ...]
    no_known: tuple[NoKnown, ...]
    pregnancy: PregnancyCodes
    finding_values: FindingValues
    ordinal_words: frozenset[str]
    ordinal_codes: tuple[OrdinalCode, ...]
    fhir_r4_only_types: frozenset[str]

    def system(self, written: str | None) -> CodeSystem | None:
        """The code system a URI or a name such as 'ICD-10-CM' or 'snomed' stands for."""
        if not written:
            return None
        key = written.strip().lower()
        for system in self.systems:
            if key == system.uri.lower() or key in system.aliases or key == system.label.lower():
                return system
        return None


def record_vocabulary(resources: Resources | None = None) -> RecordVocabulary:
    """The bundled record vocabulary, loaded once per `Resources`."""
    res = resources or default_resources()
    return res.memo(
        "patient_records", lambda: load_resource(RecordVocabulary, "patient_records.json")
    )


# --- plausibility ------------------------------------------------------------------------------


class PlausibleRange(BaseModel):
    model_config = _STRICT

    analyte: str
    unit: str | None
    low: float
    high: float
    why: str


class KindBounds(BaseModel):
    model_config = _STRICT

    max: float = Field(gt=0)
    max_any_unit: float = Field(gt=0)
    min_limit: float = Field(gt=0)


class PlausibilityTable(BaseModel):
    """`plausibility.json`: ranges no living person's value leaves (see the file's `_about`)."""

    model_config = _STRICT
    _by_analyte: dict[str, PlausibleRange] = PrivateAttr(default_factory=dict)

    about: str = Field(default="", alias="_about")
    analytes: tuple[PlausibleRange, ...]
    kinds: dict[str, KindBounds]
    max_ratio: float = Field(gt=1)

    def range_of(self, analyte: str) -> PlausibleRange | None:
        return self._by_analyte.get(analyte)

    def model_post_init(self, context: Any, /) -> None:
        self._by_analyte = {r.analyte: r for r in self.analytes}


def plausibility(resources: Resources | None = None) -> PlausibilityTable:
    """The bundled plausibility table, loaded once per `Resources`."""
    res = resources or default_resources()
    return res.memo("plausibility", lambda: load_resource(PlausibilityTable, "plausibility.json"))


# --- analytes ----------------------------------------------------------------------------------


def _codes_from_conversions(resources: Resources) -> dict[str, str]:
    """Extra LOINC codes: an analyte's moles/volume form (conversions.json) and ordinal codes."""

    def build() -> dict[str, str]:
        codes = {code: a.analyte for a in resources.conversions.analytes for code in a.codes}
        for extra in record_vocabulary(resources).ordinal_codes:
            if extra.system == LOINC:
                codes.setdefault(extra.code, extra.analyte)
        return codes

    return resources.memo("loinc_from_conversions", build)


def resolve_analyte(key: str, resources: Resources | None = None) -> str:
    """Canonical name for a key written by a person: name, synonym, abbreviation or LOINC code."""
    text = " ".join(str(key).split())
    res = resources or default_resources()
    lexicon = res.analytes
    entry = lexicon.by_name(text.lower()) or lexicon.by_code(text) or lexicon.lookup(text)
    if entry is not None:
        return entry.name
    extra = _codes_from_conversions(res).get(text)
    return extra if extra is not None else text.lower()


def resolve_code(code: str, system: str | None = LOINC, resources: Resources | None = None) -> str | None:
    """Canonical name for a LOINC code, or None when no analyte has it."""
    if system not in (None, LOINC):
        return None
    res = resources or default_resources()
    entry = res.analytes.by_code(code)
    if entry is not None:
        return entry.name
    return _codes_from_conversions(res).get(code)


class Missing(Enum):
    """Sentinel type: "no unit given", distinct from None ("no unit, a bare score")."""

    MISSING = auto()


MISSING = Missing.MISSING


def _facts(analyte: str, resources: Resources | None) -> tuple[str | Missing | None, bool, str]:
    """(default unit, unitless, kind) of an analyte, looked up once per Resources."""
    res = resources or default_resources()
    table: dict[str, tuple[str | Missing | None, bool, str]] = res.memo("analyte_facts", dict)
    found = table.get(analyte)
    if found is None:
        entry = res.analytes.by_name(analyte)
        if entry is None:  # ages are in years everywhere, lexicon or not
            found = ("a" if analyte == "age" else MISSING, False, "other")
        else:
            unit = None if entry.unitless else (entry.default_unit or MISSING)
            found = (unit, entry.unitless, entry.kind)
        table[analyte] = found
    return found


def default_unit(analyte: str, resources: Resources | None = None) -> str | Missing | None:
    """The unit a bare number for `analyte` is taken to be in; `MISSING` when not known."""
    return _facts(analyte, resources)[0]


def is_unitless(analyte: str, resources: Resources | None = None) -> bool:
    """True for scores, classes and stages: their values are bare numbers or categories."""
    return _facts(analyte, resources)[1]


def analyte_kind(analyte: str, resources: Resources | None = None) -> str:
    """The lexicon kind of an analyte (lab, vital, ...); 'other' when it is not in the lexicon."""
    return _facts(analyte, resources)[2]
