"""Shape checks for the hand-labelled gold corpus in corpus/.

The gold files are what the parser is measured against, so a typo in them (an unknown unit code,
an analyte text that is not in the bullet, a range with one bound) silently skews every score.
These tests validate every line against a strict pydantic model and report all bad lines at once,
with their line numbers. They never import the parser: the gold must not depend on it.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

CORPUS = Path(__file__).resolve().parent.parent / "corpus"
SEED = CORPUS / "NCT02186860.jsonl"
MIX = CORPUS / "registry_mix.jsonl"
HELDOUT = [
    CORPUS / "heldout_registry.jsonl",
    CORPUS / "heldout_b.jsonl",
    CORPUS / "heldout_c.jsonl",
    CORPUS / "heldout_d.jsonl",
    CORPUS / "heldout_e.jsonl",
    CORPUS / "heldout_f.jsonl",
    CORPUS / "heldout_g.jsonl",
    CORPUS / "heldout_h.jsonl",
    CORPUS / "heldout_i.jsonl",
    CORPUS / "heldout_j.jsonl",
]
HELDOUT_E = HELDOUT[-6]
HELDOUT_F = HELDOUT[-5]
HELDOUT_G = HELDOUT[-4]
HELDOUT_H = HELDOUT[-3]
HELDOUT_I = HELDOUT[-2]
HELDOUT_J = HELDOUT[-1]
FAMILIES = CORPUS / "families.jsonl"
GOLD_FILES = [SEED, MIX, *HELDOUT, FAMILIES]

# The normalised unit codes of corpus/README.md (UCUM where UCUM has one; x ULN / x LLN for
# multiples of the limits of normal). None is allowed separately for unitless scores.
ALLOWED_UNITS: frozenset[str] = frozenset(
    {
        "mg/dL", "g/dL", "g/L", "mg/L", "ug/L", "ng/mL", "pg/mL", "ug/dL", "umol/L", "mmol/L",
        "nmol/L", "pmol/L", "meq/L", "U/L", "[IU]/L", "m[IU]/L", "u[IU]/mL", "%", "10*9/L",
        "10*3/uL", "10*12/L", "10*3/mm3", "/uL", "/mm3", "/L", "{copies}/mL", "[IU]/mL", "mL/min",
        "mL/min/{1.73_m2}", "kg", "g", "kg/m2", "m2", "cm", "m", "mm[Hg]", "/min", "ms", "Cel",
        "a", "mo", "wk", "d", "h", "min",
        "x ULN", "x LLN",
    }
)

# families.jsonl departs from the older files on purpose (corpus/README.md, "Family lines"): it
# codes units they leave null or write otherwise, so its lines are checked against these too.
FAMILY_UNITS: frozenset[str] = frozenset(
    {
        "mL/kg/h", "mg/kg/d", "g/(24.h)", "mg/(24.h)", "mL/mm[Hg]/min", "cm[H2O]", "g/m2", "mmol/mol",
        "[iU]/kg", "ug/kg/min", "mg/m2/d", "{cells}/uL", "deg", "[ppm]", "um", "{points}", "{pack-years}",
        "{cigarettes}/d", "{drinks}/wk", "/{50_HPF}", "[EU]/mL", "kPa", "dB", "mm", "[diop]", "{percentile}",
        "{SD}", "mg/g", "10*5/uL",
    }
)
FAMILIES_KINDS = ("compound_unit", "rare_unit", "number_form", "analyte_boundary", "age_without_age",
                  "duration_not_age", "negative", "mixed")
MAX_FAMILY_DURATION_RULES = 18  # durations are one of the families there

# Canonical analyte names (corpus/README.md). A name outside this list must be the analyte's own
# text, lower-cased, unless the line's "notes" explain the judgement.
CANONICAL_NAMES: frozenset[str] = frozenset(
    [
        # labs
        "bilirubin", "direct bilirubin", "indirect bilirubin", "creatinine",
        "creatinine clearance", "egfr", "bun", "uric acid", "ast", "alt", "alp", "ggt", "ldh",
        "albumin", "total protein", "hemoglobin", "hematocrit", "platelets", "anc", "wbc",
        "lymphocytes", "eosinophils", "monocytes", "reticulocytes", "blasts", "inr", "pt",
        "aptt", "fibrinogen", "d-dimer", "hba1c", "glucose", "insulin", "c-peptide",
        "potassium", "sodium", "calcium", "ionized calcium", "magnesium", "phosphate",
        "chloride", "bicarbonate", "lipase", "amylase", "troponin", "bnp", "nt-probnp", "ldl",
        "hdl", "total cholesterol", "triglycerides", "urine protein",
        "urine protein creatinine ratio", "urine albumin creatinine ratio", "tsh", "free t4",
        "free t3", "testosterone", "estradiol", "psa", "cd4 count", "hiv viral load",
        "hbv dna", "hcv rna", "ferritin", "transferrin saturation", "vitamin d", "crp", "esr",
        "lactate", "cortisol", "beta-2 microglobulin", "serum m-protein", "ige", "beta-hcg",
        "ca-125", "cea", "afp",
        # vitals / body
        "systolic blood pressure", "diastolic blood pressure", "heart rate",
        "respiratory rate", "body temperature", "spo2", "body weight", "height", "bmi",
        "body surface area",
        # cardiac / pulmonary
        "lvef", "qtc", "fev1", "fvc", "dlco",
        # scales
        "ecog", "karnofsky", "lansky", "nyha class", "child-pugh score", "meld score", "mmse",
        "moca", "glasgow coma scale", "edss", "nihss", "modified rankin scale",
        "gleason score", "stage", "charlson index", "hamd", "madrs", "pain score (nrs/vas)",
        # demographics
        "age", "life expectancy",
    ]
)

# Names given to durations since an event are a judgement call; the conventions cap them.
DURATION_NAME = re.compile(r"^(time since|time from|duration of) ")
MAX_DURATION_RULES = 5

SEED_ID = re.compile(r"^NCT02186860-(inc|exc)-\d{2}$")
MIX_ID = re.compile(r"^mix-\d{3}$")

_STRICT = ConfigDict(frozen=True, extra="forbid")


class GoldAnalyte(BaseModel):
    """The analyte as written and its canonical (or own, lower-cased) name."""

    model_config = _STRICT

    text: str = Field(min_length=1)
    name: str = Field(min_length=1)

    @model_validator(mode="after")
    def _name_is_normalised(self) -> GoldAnalyte:
        if self.name != self.name.strip().lower():
            raise ValueError(f"analyte name {self.name!r} must be lower-case and trimmed")
        return self


class GoldRule(BaseModel):
    """One expected threshold rule; `unit` is a normalised code, `unit_text` as written."""

    model_config = _STRICT

    analyte: GoldAnalyte
    comparator: Literal["<", "<=", ">", ">=", "=", "!="]
    value: float = Field(allow_inf_nan=False)
    unit: str | None
    unit_text: str | None

    @model_validator(mode="after")
    def _unit_known(self) -> GoldRule:
        if self.unit is not None and self.unit not in ALLOWED_UNITS:
            raise ValueError(f"unit {self.unit!r} is not an allowed code")
        if (self.unit is None) != (self.unit_text is None):
            raise ValueError("unit and unit_text must both be set or both be null")
        return self


class FamilyRule(GoldRule):
    """A rule of families.jsonl: its new unit codes, and ages in years with no unit written
    (`Men and women 18 and over`: unit `a`, unit_text null; the line's notes say so)."""

    @model_validator(mode="after")
    def _unit_known(self) -> FamilyRule:
        if self.unit is not None and self.unit not in ALLOWED_UNITS | FAMILY_UNITS:
            raise ValueError(f"unit {self.unit!r} is not an allowed code")
        if self.unit is None and self.unit_text is not None:
            raise ValueError("unit_text without a unit")
        if self.unit_text is None and self.unit not in (None, "a"):
            raise ValueError("only an implied age (unit 'a') may have no unit_text")
        return self


class HeldoutERule(GoldRule):
    """A rule of heldout_e.jsonl to heldout_j.jsonl: the older codes plus the families codes for
    units that have no older code (`mg/kg/day`, `g/24 h`, `cm H2O`, `ppm`, `µm`, `EU/mL`, `kPa`);
    no implied ages."""

    @model_validator(mode="after")
    def _unit_known(self) -> HeldoutERule:
        if self.unit is not None and self.unit not in ALLOWED_UNITS | FAMILY_UNITS:
            raise ValueError(f"unit {self.unit!r} is not an allowed code")
        if (self.unit is None) != (self.unit_text is None):
            raise ValueError("unit and unit_text must both be set or both be null")
        return self


class GoldLine(BaseModel):
    """One labelled criterion bullet."""

    model_config = _STRICT

    id: str = Field(min_length=1)
    section: Literal["inclusion", "exclusion"]
    text: str = Field(min_length=1)
    rules: list[GoldRule]
    no_threshold_reason: str | None
    notes: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> GoldLine:
        implied = [i for i, r in enumerate(self.rules) if r.unit is not None and r.unit_text is None]
        if implied and not self.notes:
            raise ValueError(f"rules{implied}: an age with no unit written needs notes")
        if bool(self.rules) == (self.no_threshold_reason is not None):
            raise ValueError("exactly one of rules / no_threshold_reason must be given")
        if self.no_threshold_reason is not None and not self.no_threshold_reason.strip():
            raise ValueError("no_threshold_reason is blank")
        if self.text != self.text.strip():
            raise ValueError("text has leading or trailing whitespace")
        for i, rule in enumerate(self.rules):
            if rule.analyte.text not in self.text:
                raise ValueError(f"rules[{i}].analyte.text {rule.analyte.text!r} not in text")
            if rule.unit_text is not None and rule.unit_text not in self.text:
                raise ValueError(f"rules[{i}].unit_text {rule.unit_text!r} not in text")
            name, own = rule.analyte.name, rule.analyte.text.lower()
            if name not in CANONICAL_NAMES and name != own and not self.notes:
                raise ValueError(
                    f"rules[{i}]: non-canonical name {name!r} differs from its text {own!r} "
                    "and no notes explain why"
                )
        return self


class FamilyLine(GoldLine):
    """A line of families.jsonl: the family it probes, and the rules of `FamilyRule`."""

    rules: list[FamilyRule]  # type: ignore[assignment]
    family: Literal[FAMILIES_KINDS]  # type: ignore[valid-type]


class HeldoutELine(GoldLine):
    """A line of heldout_e.jsonl to heldout_j.jsonl: the rules of `HeldoutERule`."""

    rules: list[HeldoutERule]  # type: ignore[assignment]


def _model(path: Path) -> type[GoldLine]:
    if path.name in (HELDOUT_E.name, HELDOUT_F.name, HELDOUT_G.name, HELDOUT_H.name, HELDOUT_I.name, HELDOUT_J.name):
        return HeldoutELine
    return FamilyLine if path.name == FAMILIES.name else GoldLine


def load_gold(path: Path) -> tuple[list[GoldLine], list[str]]:
    """Every valid line of a gold file, and one message per bad line (`file:line: reason`)."""
    lines: list[GoldLine] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    with path.open(encoding="utf-8") as f:
        for lineno, raw in enumerate(f, start=1):
            where = f"{path.name}:{lineno}"
            if not raw.strip():
                errors.append(f"{where}: blank line")
                continue
            try:
                gold = _model(path).model_validate(json.loads(raw))
            except json.JSONDecodeError as exc:
                errors.append(f"{where}: not JSON ({exc.msg})")
                continue
            except ValidationError as exc:
                details = "; ".join(
                    f"{'.'.join(str(p) for p in e['loc']) or '<line>'}: {e['msg']}"
                    for e in exc.errors()
                )
                errors.append(f"{where}: {details}")
                continue
            if gold.id in seen:
                errors.append(f"{where}: duplicate id {gold.id!r} (first on line {seen[gold.id]})")
            else:
                seen[gold.id] = lineno
            lines.append(gold)
    return lines, errors


def _lines(path: Path) -> list[GoldLine]:
    lines, errors = load_gold(path)
    assert not errors, "bad gold lines:\n" + "\n".join(errors)
    return lines


@pytest.mark.parametrize("path", GOLD_FILES, ids=lambda p: p.name)
def test_corpus_files_every_line_valid(path: Path) -> None:
    lines, errors = load_gold(path)
    assert not errors, "bad gold lines:\n" + "\n".join(errors)
    assert lines


@pytest.mark.parametrize("path", GOLD_FILES, ids=lambda p: p.name)
def test_corpus_files_utf8_one_object_per_line(path: Path) -> None:
    raw = path.read_bytes()
    raw.decode("utf-8")  # raises on bad bytes
    assert raw.endswith(b"\n")
    assert not raw.startswith(b"\xef\xbb\xbf"), "no BOM"


def test_corpus_files_seed_has_12_inclusion_and_7_exclusion() -> None:
    lines = _lines(SEED)
    counts = Counter(line.section for line in lines)
    assert counts == {"inclusion": 12, "exclusion": 7}
    assert all(SEED_ID.match(line.id) for line in lines)
    expected = [f"NCT02186860-inc-{i:02d}" for i in range(1, 13)]
    expected += [f"NCT02186860-exc-{i:02d}" for i in range(1, 8)]
    assert [line.id for line in lines] == expected
    for line in lines:
        assert line.id.split("-")[1] == line.section[:3]


@pytest.mark.parametrize(
    ("gold_id", "expected"),
    [
        ("NCT02186860-inc-01", {("age", ">=", 18.0, "a"), ("age", "<=", 65.0, "a")}),
        ("NCT02186860-inc-05", {("stage", ">=", 3.0, None), ("stage", "<=", 4.0, None)}),
        ("NCT02186860-inc-06", {("creatinine", "<", 2.5, "mg/dL")}),
        ("NCT02186860-inc-07", {("ast", "<", 3.0, "x ULN"), ("alt", "<", 3.0, "x ULN")}),
        ("NCT02186860-inc-08", {("bilirubin", "<", 2.0, "mg/dL")}),
        ("NCT02186860-inc-09", {("karnofsky", ">=", 60.0, None)}),
        ("NCT02186860-inc-10", {("life expectancy", ">", 3.0, "mo")}),
    ],
)
def test_corpus_files_seed_decisions(gold_id: str, expected: set[tuple[object, ...]]) -> None:
    by_id = {line.id: line for line in _lines(SEED)}
    got = {(r.analyte.name, r.comparator, r.value, r.unit) for r in by_id[gold_id].rules}
    assert got == expected


def test_corpus_files_seed_other_bullets_have_no_threshold() -> None:
    with_rules = {line.id for line in _lines(SEED) if line.rules}
    assert with_rules == {f"NCT02186860-inc-{i:02d}" for i in (1, 5, 6, 7, 8, 9, 10)}


def test_corpus_files_mix_size_and_balance() -> None:
    lines = _lines(MIX)
    assert len(lines) >= 170
    assert all(MIX_ID.match(line.id) for line in lines)
    assert sum(1 for line in lines if not line.rules) >= 50
    sections = Counter(line.section for line in lines)
    assert sections["inclusion"] > 0 and sections["exclusion"] > 0
    off_list = {
        line.id for line in lines for r in line.rules if r.analyte.name not in CANONICAL_NAMES
    }
    assert len(off_list) >= 15


@pytest.mark.parametrize(
    ("paths", "cap"),
    [((SEED, MIX), MAX_DURATION_RULES), *[((p,), MAX_DURATION_RULES) for p in HELDOUT], ((FAMILIES,), MAX_FAMILY_DURATION_RULES)],
    ids=["seed+mix", "heldout", "heldout_b", "heldout_c", "heldout_d", "heldout_e", "heldout_f", "heldout_g", "heldout_h",
         "heldout_i", "heldout_j", "families"],
)
def test_corpus_files_duration_rules_are_few_and_explained(paths: tuple[Path, ...], cap: int) -> None:
    durations = [
        (line, rule)
        for path in paths
        for line in _lines(path)
        for rule in line.rules
        if DURATION_NAME.match(rule.analyte.name)
    ]
    assert len(durations) <= cap
    for line, rule in durations:
        assert line.notes, f"{line.id}: duration rule {rule.analyte.name!r} needs a note"
        assert rule.unit in {"a", "mo", "wk", "d", "h", "min"}


@pytest.mark.parametrize("path", GOLD_FILES, ids=lambda p: p.name)
def test_corpus_files_ranges_are_ordered(path: Path) -> None:
    """A lower and an upper bound read from one range must not cross (same analyte and unit)."""
    bad = []
    for line in _lines(path):
        lows: dict[tuple[str, str | None], float] = {}
        highs: dict[tuple[str, str | None], float] = {}
        for r in line.rules:
            key = (r.analyte.name, r.unit)
            if r.comparator in (">", ">="):
                lows[key] = max(lows.get(key, r.value), r.value)
            elif r.comparator in ("<", "<="):
                highs[key] = min(highs.get(key, r.value), r.value)
        for key in lows.keys() & highs.keys():
            # Alternatives such as "ferritin < 100, or 100-300" may touch but never cross.
            if lows[key] > highs[key] and not line.notes:
                bad.append(f"{line.id}: {key} low {lows[key]} > high {highs[key]}")
    assert not bad, "\n".join(bad)


_GOOD = {
    "id": "x-1",
    "section": "inclusion",
    "text": "Creatinine < 2.5 mg/dl",
    "rules": [
        {
            "analyte": {"text": "Creatinine", "name": "creatinine"},
            "comparator": "<",
            "value": 2.5,
            "unit": "mg/dL",
            "unit_text": "mg/dl",
        }
    ],
    "no_threshold_reason": None,
}


def _bad(**changes: object) -> dict[str, object]:
    line = json.loads(json.dumps(_GOOD))
    rule = line["rules"][0]
    for key, value in changes.items():
        if key in ("analyte_text", "analyte_name"):
            rule["analyte"][key.split("_")[1]] = value
        elif key in rule:
            rule[key] = value
        else:
            line[key] = value
    return line


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        (_bad(comparator="=>"), "comparator"),
        (_bad(unit="mg/dl"), "not an allowed code"),
        (_bad(unit=None), "both be set"),
        (_bad(analyte_text="Serum creatinine"), "not in text"),
        (_bad(analyte_name="Creatinine"), "lower-case"),
        (_bad(analyte_name="kidney marker"), "non-canonical"),
        (_bad(unit_text="mg/L"), "unit_text"),
        (_bad(no_threshold_reason="no number"), "exactly one"),
        (_bad(rules=[]), "exactly one"),
        (_bad(section="both"), "section"),
        (_bad(extra_field=1), "extra_field"),
        (_bad(value="high"), "value"),
    ],
    ids=lambda v: v if isinstance(v, str) else "",
)
def test_corpus_files_validator_rejects(
    tmp_path: Path, line: dict[str, object], fragment: str
) -> None:
    path = tmp_path / "gold.jsonl"
    rows = [_GOOD, line, _GOOD | {"id": "x-2"}]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    lines, errors = load_gold(path)
    assert len(lines) == 2
    assert len(errors) == 1
    assert errors[0].startswith("gold.jsonl:2: ")
    assert fragment in errors[0]


def test_corpus_files_validator_reports_every_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "gold.jsonl"
    rows = [json.dumps(_GOOD), "{not json", json.dumps(_bad(unit="furlongs")), json.dumps(_GOOD)]
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    _, errors = load_gold(path)
    assert [e.split(": ")[0] for e in errors] == ["gold.jsonl:2", "gold.jsonl:3", "gold.jsonl:4"]
    assert "duplicate id 'x-1' (first on line 1)" in errors[2]


@pytest.mark.parametrize(
    ("family", "lines"),
    [("compound_unit", 46), ("rare_unit", 71), ("number_form", 51), ("analyte_boundary", 55),
     ("age_without_age", 31), ("duration_not_age", 23), ("negative", 95), ("mixed", 17)],
)
def test_corpus_files_families_counts(family: str, lines: int) -> None:
    got = Counter(line.family for line in _lines(FAMILIES))  # type: ignore[attr-defined]
    assert got[family] == lines
    assert all(not line.rules for line in _lines(FAMILIES) if line.family == "negative")  # type: ignore[attr-defined]


@pytest.mark.parametrize("check", ["implied_ages_explained"])
def test_corpus_files_families_departures_are_explicit(check: str) -> None:
    """The documented departures: implied ages have unit 'a' and no unit_text, with notes."""
    implied = [(line, r) for line in _lines(FAMILIES) for r in line.rules if r.unit is not None and r.unit_text is None]
    assert implied and all(r.unit == "a" and r.analyte.name == "age" and line.notes for line, r in implied)
    older_files = [
        path for path in GOLD_FILES if path not in (FAMILIES, HELDOUT_E, HELDOUT_F, HELDOUT_G, HELDOUT_H, HELDOUT_I, HELDOUT_J)
    ]
    older = {r.unit for path in older_files for line in _lines(path) for r in line.rules}
    assert not older & (FAMILY_UNITS - ALLOWED_UNITS), "the older files keep the older codes"


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [({"family": "typo"}, "family"), ({"unit": "furlongs", "unit_text": "mg/dl"}, "not an allowed code"),
     ({"unit": "mg/dL", "unit_text": None}, "implied age"), ({}, "family")],
    ids=["family", "unit", "implied", "missing"],
)
def test_corpus_files_families_validator_rejects(tmp_path: Path, changes: dict[str, object], fragment: str) -> None:
    line = json.loads(json.dumps(_GOOD)) | {"family": "compound_unit"}
    if not changes:
        del line["family"]
    for key, value in changes.items():
        (line if key == "family" else line["rules"][0])[key] = value
    path = tmp_path / FAMILIES.name
    path.write_text(json.dumps(line) + "\n", encoding="utf-8")
    _, errors = load_gold(path)
    assert len(errors) == 1 and fragment in errors[0]
