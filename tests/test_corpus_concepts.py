"""Shape checks for the hand-labelled concept gold in corpus/concepts_*.jsonl.

The concept files are the yardstick for concept extraction, so a span that does not match its
text, an unknown type or a malformed time window silently skews every score. Every line is
validated against a strict pydantic model (each line is its own test, with the line's id as the
test id). These tests never import the parser: the gold must not depend on it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from itertools import pairwise
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SEED_CONCEPTS = CORPUS / "concepts_NCT02186860.jsonl"
MIX_CONCEPTS = CORPUS / "concepts_mix.jsonl"
CONCEPT_FILES = [SEED_CONCEPTS, MIX_CONCEPTS]

# The threshold gold files whose bullets the concept files reuse (same id, section and text).
SOURCE_FILES = [
    CORPUS / name
    for name in (
        "NCT02186860.jsonl",
        "registry_mix.jsonl",
        "heldout_registry.jsonl",
        "heldout_b.jsonl",
        "heldout_c.jsonl",
    )
]
# Reused bullets keep their id; bullets written for the concept corpus are cx-001, cx-002, ...
REUSED_ID = re.compile(r"^(mix|ho|hb|hc)-\d{3}$")
NEW_ID = re.compile(r"^cx-\d{3}$")

MIN_MIX_LINES = 320
MIN_NEW_LINES = 100
MIN_EMPTY_LINES = 30

_STRICT = ConfigDict(frozen=True, extra="forbid")


class GoldTemporal(BaseModel):
    """The time window governing a concept; `unit` is a UCUM time code."""

    model_config = _STRICT

    text: str = Field(min_length=1)
    comparator: Literal["<=", ">=", "<", ">"] | None
    value: float | None = Field(ge=0, allow_inf_nan=False)
    unit: Literal["min", "h", "d", "wk", "mo", "a"] | None
    anchor: str | None

    @model_validator(mode="after")
    def _consistent(self) -> GoldTemporal:
        if (self.value is None) != (self.unit is None):
            raise ValueError("temporal value and unit must both be set or both be null")
        if self.comparator is not None and self.value is None:
            raise ValueError("a temporal comparator needs a value")
        if self.anchor is not None and (
            not self.anchor or self.anchor != self.anchor.strip().lower()
        ):
            raise ValueError(f"anchor {self.anchor!r} must be lower-case, trimmed and non-empty")
        return self


class GoldConcept(BaseModel):
    """One expected concept mention with its character span in the bullet."""

    model_config = _STRICT

    type: Literal[
        "condition",
        "drug",
        "procedure",
        "observation",
        "allergy",
        "organism",
        "immunization",
        "device",
        "other",
    ]
    text: str = Field(min_length=1)
    start: int = Field(ge=0)
    end: int = Field(gt=0)
    name: str = Field(min_length=1)
    negated: bool
    modality: Literal["history", "suspected", "planned", "hypothetical"] | None
    subject: Literal["family"] | None
    qualifiers: list[str]
    temporal: GoldTemporal | None

    @model_validator(mode="after")
    def _own_fields(self) -> GoldConcept:
        if self.text != self.text.strip():
            raise ValueError(f"concept text {self.text!r} has leading or trailing whitespace")
        if self.name != " ".join(self.name.lower().split()):
            raise ValueError(f"name {self.name!r} must be lower-case and single-spaced")
        # An elided item's name expands its own words; it never drops them.
        missing = [w for w in self.text.lower().split() if w not in self.name]
        if missing:
            raise ValueError(f"name {self.name!r} lacks words of its text: {missing}")
        for q in self.qualifiers:
            if not q or q != q.strip().lower():
                raise ValueError(f"qualifier {q!r} must be lower-case and trimmed")
        if len(set(self.qualifiers)) != len(self.qualifiers):
            raise ValueError("duplicate qualifiers")
        return self


class GoldConceptLine(BaseModel):
    """One labelled criterion bullet with every concept it names."""

    model_config = _STRICT

    id: str = Field(min_length=1)
    section: Literal["inclusion", "exclusion"]
    text: str = Field(min_length=1)
    concepts: list[GoldConcept]
    notes: str | None = None

    @model_validator(mode="after")
    def _spans(self) -> GoldConceptLine:
        if self.text != self.text.strip():
            raise ValueError("text has leading or trailing whitespace")
        lowered = self.text.lower()
        for i, c in enumerate(self.concepts):
            where = f"concepts[{i}] {c.text!r}"
            if c.end > len(self.text) or c.start >= c.end:
                raise ValueError(f"{where}: span {c.start}:{c.end} outside the text")
            if self.text[c.start : c.end] != c.text:
                raise ValueError(
                    f"{where}: text[{c.start}:{c.end}] is {self.text[c.start : c.end]!r}"
                )
            for q in c.qualifiers:
                if q not in lowered:
                    raise ValueError(f"{where}: qualifier {q!r} is not in the text")
            if c.temporal is not None and c.temporal.text not in self.text:
                raise ValueError(f"{where}: temporal text {c.temporal.text!r} is not in the text")
        spans = [(c.start, c.end) for c in self.concepts]
        if spans != sorted(spans):
            raise ValueError("concepts must be ordered by start offset")
        for (s1, e1), (s2, e2) in pairwise(spans):
            if s2 < e1:
                raise ValueError(f"spans {s1}:{e1} and {s2}:{e2} overlap (or repeat)")
        return self


def _raw_lines(path: Path) -> list[tuple[int, str]]:
    """Every line of a file with its line number (blank lines included, to be reported)."""
    return list(enumerate(path.read_text(encoding="utf-8").split("\n")[:-1], start=1))


def _line_params() -> list[object]:
    params: list[object] = []
    for path in CONCEPT_FILES:
        for lineno, raw in _raw_lines(path):
            try:
                line_id = json.loads(raw).get("id") or f"{path.name}:{lineno}"
            except (json.JSONDecodeError, AttributeError):
                line_id = f"{path.name}:{lineno}"
            params.append(pytest.param(raw, id=str(line_id)))
    return params


def _lines(path: Path) -> list[GoldConceptLine]:
    return [GoldConceptLine.model_validate_json(raw) for _, raw in _raw_lines(path)]


def _sources() -> dict[str, dict[str, object]]:
    out: dict[str, dict[str, object]] = {}
    for path in SOURCE_FILES:
        for _, raw in _raw_lines(path):
            row = json.loads(raw)
            out[row["id"]] = row
    return out


@pytest.mark.parametrize("raw", _line_params())
def test_corpus_concepts_line_valid(raw: str) -> None:
    assert raw.strip(), "blank line"
    try:
        GoldConceptLine.model_validate(json.loads(raw))
    except ValidationError as exc:
        pytest.fail(
            "; ".join(
                f"{'.'.join(map(str, e['loc'])) or '<line>'}: {e['msg']}" for e in exc.errors()
            )
        )


@pytest.mark.parametrize("path", CONCEPT_FILES, ids=lambda p: p.name)
def test_corpus_concepts_file_utf8_unique_ids(path: Path) -> None:
    raw = path.read_bytes()
    raw.decode("utf-8")  # raises on bad bytes
    assert raw.endswith(b"\n") and not raw.startswith(b"\xef\xbb\xbf")
    ids = Counter(json.loads(line)["id"] for _, line in _raw_lines(path))
    assert not [i for i, n in ids.items() if n > 1], "duplicate ids"


def test_corpus_concepts_ids_unique_across_files() -> None:
    seed = {line.id for line in _lines(SEED_CONCEPTS)}
    mix = {line.id for line in _lines(MIX_CONCEPTS)}
    assert not seed & mix


def test_corpus_concepts_seed_copies_every_bullet() -> None:
    src = [json.loads(raw) for _, raw in _raw_lines(SOURCE_FILES[0])]
    got = [(line.id, line.section, line.text) for line in _lines(SEED_CONCEPTS)]
    assert got == [(row["id"], row["section"], row["text"]) for row in src]


def test_corpus_concepts_mix_reuses_gold_text_exactly() -> None:
    sources = _sources()
    texts = {row["text"] for row in sources.values()}
    bad = []
    for line in _lines(MIX_CONCEPTS):
        if REUSED_ID.match(line.id):
            row = sources.get(line.id)
            if row is None or (row["section"], row["text"]) != (line.section, line.text):
                bad.append(f"{line.id}: section or text differs from its source")
        elif NEW_ID.match(line.id):
            if line.text in texts:
                bad.append(f"{line.id}: new bullet copies an existing gold text")
        else:
            bad.append(f"{line.id}: id is neither reused nor cx-NNN")
    assert not bad, "\n".join(bad)


def test_corpus_concepts_mix_size_and_balance() -> None:
    lines = _lines(MIX_CONCEPTS)
    assert len(lines) >= MIN_MIX_LINES
    assert sum(1 for line in lines if NEW_ID.match(line.id)) >= MIN_NEW_LINES
    assert sum(1 for line in lines if not line.concepts) >= MIN_EMPTY_LINES
    types = Counter(c.type for line in lines for c in line.concepts)
    assert set(types) == set(GoldConcept.model_fields["type"].annotation.__args__)  # type: ignore[union-attr]
    sections = Counter(line.section for line in lines)
    assert sections["inclusion"] > 0 and sections["exclusion"] > 0


_GOOD = {
    "id": "x-1",
    "section": "exclusion",
    "text": "Known hepatitis B or C infection within 6 months",
    "concepts": [
        {
            "type": "condition",
            "text": "hepatitis B",
            "start": 6,
            "end": 17,
            "name": "hepatitis b",
            "negated": False,
            "modality": None,
            "subject": None,
            "qualifiers": ["known"],
            "temporal": {
                "text": "within 6 months",
                "comparator": "<=",
                "value": 6,
                "unit": "mo",
                "anchor": None,
            },
        },
        {
            "type": "condition",
            "text": "C infection",
            "start": 21,
            "end": 32,
            "name": "hepatitis c infection",
            "negated": False,
            "modality": None,
            "subject": None,
            "qualifiers": ["known"],
            "temporal": None,
        },
    ],
}


def _bad(concept: int = 0, **changes: object) -> dict[str, object]:
    line = json.loads(json.dumps(_GOOD))
    target = line["concepts"][concept]
    for key, value in changes.items():
        if key.startswith("t_"):
            target["temporal"][key[2:]] = value
        elif key in target:
            target[key] = value
        else:
            line[key] = value
    return line


def test_corpus_concepts_validator_accepts_good_line() -> None:
    GoldConceptLine.model_validate(_GOOD)


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        (_bad(type="disease"), "type"),
        (_bad(start=5), "text[5:17]"),
        (_bad(end=99), "outside the text"),
        (_bad(name="Hepatitis B"), "lower-case"),
        (_bad(name="hbv"), "lacks words"),
        (_bad(modality="past"), "modality"),
        (_bad(subject="patient"), "subject"),
        (_bad(qualifiers=["Known"]), "lower-case"),
        (_bad(qualifiers=["severe"]), "not in the text"),
        (_bad(t_unit="months"), "unit"),
        (_bad(t_value=None), "both be set"),
        (_bad(t_comparator="=="), "comparator"),
        (_bad(t_text="within 4 weeks"), "temporal text"),
        (_bad(1, start=6, end=17, text="hepatitis B", name="hepatitis b"), "overlap"),
        (_bad(section="both"), "section"),
        (_bad(extra=1), "extra"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_corpus_concepts_validator_rejects(line: dict[str, object], fragment: str) -> None:
    with pytest.raises(ValidationError) as exc:
        GoldConceptLine.model_validate(line)
    assert fragment in str(exc.value)
