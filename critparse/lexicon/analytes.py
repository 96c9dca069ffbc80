"""The analyte lexicon: canonical names, LOINC codes and the surfaces that name them.

The vocabulary is data (`critparse/resources/analytes.json`, shape described in its `_about`);
this module only validates and indexes it. Two kinds of surface exist because criteria are
written by people: `synonyms` are lower-case and matched case-insensitively ("serum creatinine",
"anc"), `abbreviations` are matched case-sensitively because in lower case they are ordinary
words or ambiguous ("PT" is prothrombin time, "pt" is a patient; "K", "Na", "PS").

A bad file fails at load time with every problem listed (entry index, name, what is wrong), in
the spirit of spaCy's pattern validation: fixing one error per run wastes a curator's afternoon.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from critparse.errors import ResourceError

AnalyteKind = Literal["lab", "vital", "cardiac", "pulmonary", "scale", "demographic"]

LOINC_SYSTEM = "http://loinc.org"
_BUNDLED = "analytes.json"
_LOINC_CODE = re.compile(r"^\d{1,7}-\d$")
_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2212"})
_SPACED_JOINERS = re.compile(r"\s*([-/])\s*")
_LOOSE_JOINERS = re.compile(r"[-/:]")


def normalize_surface(text: str) -> str:
    """Case-preserving key: NFKC, one space between words, no spaces around `-` or `/`.

    So "NT - proBNP", "NT-proBNP" and "NT‑proBNP" (non-breaking hyphen) share one key, which
    is what a tokenizer that splits or keeps hyphens hands back either way.
    """
    if not text.isascii():  # NFKC and the dash table leave ASCII as it is
        text = unicodedata.normalize("NFKC", text).translate(_DASHES)
    text = " ".join(text.split())  # `\s+` to one space, then strip: both read Unicode white space
    if "-" not in text and "/" not in text:  # the lexicon keys every surface seven times at load
        return text
    return _SPACED_JOINERS.sub(r"\1", text)


def loose_key(text: str) -> str:
    """Key that also ignores hyphens, slashes and colons ("ca-125" == "ca 125").

    Used as a second chance in `lookup` and to detect surfaces of two entries that differ
    only in punctuation, which would make that second chance ambiguous.
    """
    text = normalize_surface(text)
    if "-" not in text and "/" not in text and ":" not in text:
        return text
    return " ".join(_LOOSE_JOINERS.sub(" ", text).split())


def loinc_check_digit_ok(code: str) -> bool:
    """True when the last digit of `code` is its LOINC mod-10 check digit.

    LOINC uses the Luhn algorithm (LOINC Users' Guide, appendix "Calculating Mod 10 check
    digits"); checking it catches most mistyped codes, e.g. 2160-1 for creatinine's 2160-0.
    """
    digits = [int(c) for c in code.replace("-", "")]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return total % 10 == 0


class AnalyteEntry(BaseModel):
    """One canonical analyte with its code and every surface that names it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(description="Canonical lower-case name, e.g. 'creatinine', 'anc', 'ecog'.")
    kind: AnalyteKind
    code: str | None = Field(default=None, description="LOINC code, or None when none is used.")
    system: str | None = Field(default=None, description="Code system URI; set iff `code` is.")
    display: str | None = Field(default=None, description="LOINC long common name of `code`.")
    synonyms: tuple[str, ...] = Field(description="Lower-case surfaces, matched case-insensitively.")
    abbreviations: tuple[str, ...] = Field(
        default=(), description="Surfaces matched case-sensitively (ambiguous in lower case)."
    )
    unitless: bool = Field(default=False, description="True for scores, classes and stages.")
    default_unit: str | None = Field(
        default=None, description="Unit code the coded measurement is usually reported in."
    )
    source: str | None = Field(default=None, description="Where the code comes from.")
    members: tuple[str, ...] = Field(
        default=(),
        description=(
            "Names of the analytes a group word stands for together ('transaminases': ast and "
            "alt): a rule on the group is a rule on each member, with the group's words as text."
        ),
    )
    canonical: bool = Field(
        default=True,
        description=(
            "False for analytes outside the canonical list: they are in the lexicon so a longer "
            "name wins over a partial match ('birth weight' is not 'body weight') and screening "
            "gets a code, but a rule names them by the mention's own text (corpus convention)."
        ),
    )

    @field_validator("name")
    @classmethod
    def _name_canonical(cls, v: str) -> str:
        if not v or v != v.strip() or v != v.lower() or "  " in v:
            raise ValueError(f"name {v!r} must be lower-case, trimmed and non-empty")
        return v

    @field_validator("synonyms")
    @classmethod
    def _synonyms_lower(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError("at least one synonym is needed")
        bad = [s for s in v if not s.strip() or s != s.lower() or s != normalize_surface(s)]
        if bad:
            raise ValueError(f"synonyms must be lower-case with single inner spaces: {bad}")
        dup = sorted({s for s in v if v.count(s) > 1})
        if dup:
            raise ValueError(f"synonyms listed twice: {dup}")
        return v

    @field_validator("abbreviations")
    @classmethod
    def _abbreviations_cased(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        # An all-lower-case "abbreviation" would be matched exactly as a synonym would, but
        # case-sensitively: almost certainly a synonym filed in the wrong list.
        bad = [a for a in v if a != normalize_surface(a) or a == a.lower()]
        if bad:
            raise ValueError(
                f"abbreviations must be trimmed and contain an upper-case letter "
                f"(lower-case forms belong in synonyms): {bad}"
            )
        dup = sorted({a for a in v if v.count(a) > 1})
        if dup:
            raise ValueError(f"abbreviations listed twice: {dup}")
        return v

    @field_validator("code")
    @classmethod
    def _code_is_loinc(cls, v: str | None) -> str | None:
        if v is None:
            return v
        if not _LOINC_CODE.match(v):
            raise ValueError(f"code {v!r} is not a LOINC code (digits, '-', check digit)")
        if not loinc_check_digit_ok(v):
            raise ValueError(f"code {v!r} fails the LOINC mod-10 check digit")
        return v

    @model_validator(mode="after")
    def _consistent(self) -> AnalyteEntry:
        problems: list[str] = []
        if (self.code is None) != (self.system is None):
            problems.append("code and system must both be set or both be null")
        if self.code is not None and self.system != LOINC_SYSTEM:
            problems.append(f"system must be {LOINC_SYSTEM!r} for a LOINC code")
        if self.code is not None and not (self.display and self.source):
            problems.append("a coded entry needs its LOINC `display` name and a `source`")
        if self.code is None and self.display is not None:
            problems.append("display is the LOINC name of `code`; null it when code is null")
        if self.unitless and self.default_unit is not None:
            problems.append("a unitless entry cannot have a default_unit")
        if self.default_unit is not None and self.default_unit != self.default_unit.strip():
            problems.append("default_unit must be trimmed")
        keys = {loose_key(s).lower() for s in (*self.synonyms, *self.abbreviations)}
        if loose_key(self.name) not in keys:
            problems.append("the name must itself be a synonym or an abbreviation (any case)")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @property
    def surfaces(self) -> tuple[str, ...]:
        """Synonyms then abbreviations."""
        return (*self.synonyms, *self.abbreviations)


def surface_collisions(
    entries: Sequence[AnalyteEntry], indices: Sequence[int] | None = None
) -> list[str]:
    """Every surface that would name two different analytes, one message each.

    Keys ignore case and punctuation on purpose: "Ca" (calcium) and a synonym "ca" for another
    analyte cannot both be right, and a lookup falling back to the loose key must be unique.
    `indices` are the entries' positions in the file, for the messages.
    """
    owners: dict[str, dict[str, tuple[int, str]]] = {}
    for i, entry in zip(indices or range(len(entries)), entries, strict=True):
        for surface in entry.surfaces:
            owners.setdefault(loose_key(surface).lower(), {}).setdefault(entry.name, (i, surface))
    problems = []
    for key, by_name in sorted(owners.items()):
        if len(by_name) > 1:
            where = ", ".join(f"[{i}] {name!r} (as {s!r})" for name, (i, s) in by_name.items())
            problems.append(f"surface {key!r} maps to more than one analyte: {where}")
    return problems


def _bad_members(entries: Sequence[AnalyteEntry]) -> list[str]:
    """A group's members must be entries of their own, none of them a group."""
    groups = {e.name for e in entries if e.members}
    names = {e.name for e in entries}
    return [
        f"{e.name}: member {m!r} is {'a group' if m in groups else 'not an entry'}"
        for e in entries for m in e.members if m in groups or m not in names
    ]


def _duplicates(entries: Sequence[AnalyteEntry], indices: Sequence[int] | None = None) -> list[str]:
    """Names and codes must be unique so `by_name` and `by_code` are functions."""
    problems = []
    for field in ("name", "code"):
        seen: dict[str, int] = {}
        for i, entry in zip(indices or range(len(entries)), entries, strict=True):
            value = getattr(entry, field)
            if value is None:
                continue
            if value in seen:
                problems.append(f"[{i}] {entry.name!r}: {field} {value!r} already used by [{seen[value]}]")
            else:
                seen[value] = i
    return problems


class AnalyteLexicon(BaseModel):
    """The validated lexicon with its look-up indexes."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    about: str = Field(default="", alias="_about", description="Shape and sources of the file.")
    analytes: tuple[AnalyteEntry, ...]

    _by_name: dict[str, AnalyteEntry] = PrivateAttr(default_factory=dict)
    _by_code: dict[str, AnalyteEntry] = PrivateAttr(default_factory=dict)
    _synonyms: dict[str, AnalyteEntry] = PrivateAttr(default_factory=dict)
    _abbreviations: dict[str, AnalyteEntry] = PrivateAttr(default_factory=dict)
    _loose: dict[str, AnalyteEntry] = PrivateAttr(default_factory=dict)
    _loose_abbreviations: dict[str, AnalyteEntry] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _unambiguous(self, info: ValidationInfo) -> AnalyteLexicon:
        checked = info.context.get(_CHECKED) if isinstance(info.context, Mapping) else None
        if checked is not None and len(checked) == len(self.analytes) and all(
            a is b for a, b in zip(checked, self.analytes, strict=True)
        ):
            return self  # `parse_analytes` has run these checks on exactly these entries
        problems = _duplicates(self.analytes) + surface_collisions(self.analytes) + _bad_members(self.analytes)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def model_post_init(self, context: Any, /) -> None:
        # each index read once: a private attribute is reached through pydantic's __getattr__
        by_name, by_code, synonyms, loose = self._by_name, self._by_code, self._synonyms, self._loose
        abbreviations, loose_abbreviations = self._abbreviations, self._loose_abbreviations
        for entry in self.analytes:
            by_name[entry.name] = entry
            if entry.code is not None:
                by_code[entry.code] = entry
            for s in entry.synonyms:
                synonyms[normalize_surface(s)] = entry
                loose[loose_key(s)] = entry
            for a in entry.abbreviations:
                abbreviations[normalize_surface(a)] = entry
                loose_abbreviations[loose_key(a)] = entry

    @property
    def entries(self) -> tuple[AnalyteEntry, ...]:
        return self.analytes

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(e.name for e in self.analytes)

    @property
    def canonical_names(self) -> frozenset[str]:
        """Names a rule may carry as such; other entries keep the mention's own text."""
        return frozenset(e.name for e in self.analytes if e.canonical)

    def __len__(self) -> int:
        return len(self.analytes)

    def __iter__(self) -> Iterator[AnalyteEntry]:  # type: ignore[override]
        return iter(self.analytes)

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def by_name(self, name: str) -> AnalyteEntry | None:
        """The entry whose canonical name is `name` (exact, lower-case)."""
        return self._by_name.get(name)

    def by_code(self, code: str) -> AnalyteEntry | None:
        """The entry carrying LOINC `code`."""
        return self._by_code.get(code.strip())

    def lookup(self, surface: str) -> AnalyteEntry | None:
        """The entry a written mention names, or None.

        Abbreviations first and case-sensitively ("PT", "K"), then synonyms ignoring case, then
        both again ignoring hyphens and slashes ("CA 125" finds "ca-125").
        """
        key = normalize_surface(surface)
        if not key:
            return None
        found = self._abbreviations.get(key) or self._synonyms.get(key.lower())
        if found is not None:
            return found
        loose = loose_key(key)
        return self._loose_abbreviations.get(loose) or self._loose.get(loose.lower())

    def phrase_patterns(self) -> Iterator[tuple[str, str, bool]]:
        """`(surface, name, case_sensitive)` for every surface, for a spaCy PhraseMatcher.

        Synonyms belong in a matcher on `LOWER`, abbreviations in one on `ORTH`.
        """
        for entry in self.analytes:
            for s in entry.synonyms:
                yield s, entry.name, False
            for a in entry.abbreviations:
                yield a, entry.name, True


def load_analytes(path: str | Path | None = None) -> AnalyteLexicon:
    """Load and validate an analyte lexicon; None means the bundled one.

    Raises ResourceError listing every bad entry when the file is malformed.
    """
    if path is None:
        text = resources.files("critparse").joinpath("resources", _BUNDLED).read_text(encoding="utf-8")
        return parse_analytes(text, source=f"critparse/resources/{_BUNDLED}")
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ResourceError(f"{path}: cannot read analyte lexicon: {exc}") from exc
    return parse_analytes(text, source=str(path))


_TOP_KEYS = ("_about", "analytes")


def parse_analytes(text: str, *, source: str = "<string>") -> AnalyteLexicon:
    """Validate the JSON text of a lexicon, collecting every problem before raising."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ResourceError(f"{source}: not valid JSON: {exc}") from exc
    if not isinstance(data, Mapping):
        raise ResourceError(f"{source}: expected an object with keys {list(_TOP_KEYS)}")

    problems: list[str] = []
    unknown = sorted(set(data) - set(_TOP_KEYS))
    if unknown:
        problems.append(f"unknown top-level keys {unknown}; valid keys: {list(_TOP_KEYS)}")
    if "_about" in data and not isinstance(data["_about"], str):
        problems.append("'_about' must be a string")
    raw = data.get("analytes")
    if not isinstance(raw, list):
        problems.append("'analytes' must be a list of entries")
        raw = []

    valid: list[AnalyteEntry] = []
    positions: list[int] = []
    for i, item in enumerate(raw):
        label = f"[{i}] {item.get('name')!r}" if isinstance(item, Mapping) else f"[{i}]"
        try:
            valid.append(AnalyteEntry.model_validate(item))
            positions.append(i)
        except ValidationError as exc:
            problems.extend(f"{label}: {msg}" for msg in _messages(exc))
    # Cross-entry checks run on the valid entries even when others failed, so one run shows
    # every problem in the file.
    problems += _duplicates(valid, positions) + surface_collisions(valid, positions) + _bad_members(valid)
    if problems:
        listing = "\n  ".join(problems)
        raise ResourceError(f"{source}: {len(problems)} problem(s) in analyte lexicon:\n  {listing}")
    entries = tuple(valid)
    return AnalyteLexicon.model_validate({"_about": data.get("_about", ""), "analytes": entries},
                                         context={_CHECKED: entries})


_CHECKED = "critparse.checked_entries"
"""Validation context key: the entries whose cross-entry checks have passed (run them once)."""


_ENTRY_KEYS = list(AnalyteEntry.model_fields)


def _messages(exc: ValidationError) -> list[str]:
    """One readable line per pydantic error, naming the valid keys for unknown ones."""
    out = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        if err["type"] == "extra_forbidden":
            out.append(f"unknown key {loc!r}; valid keys: {_ENTRY_KEYS}")
        elif err["type"] == "model_type":
            out.append(f"expected an object with keys {_ENTRY_KEYS}")
        else:
            msg = err["msg"].removeprefix("Value error, ")
            out.append(f"{loc}: {msg}" if loc else msg)
    return out


__all__ = [
    "LOINC_SYSTEM",
    "AnalyteEntry",
    "AnalyteKind",
    "AnalyteLexicon",
    "load_analytes",
    "loinc_check_digit_ok",
    "loose_key",
    "normalize_surface",
    "parse_analytes",
    "surface_collisions",
]
