"""Patient keys and codes resolved to the canonical analyte names that rules use."""

from __future__ import annotations

from enum import Enum, auto

from critparse.lexicon.resources import Resources, default_resources

LOINC = "http://loinc.org"


def _codes_from_conversions(resources: Resources) -> dict[str, str]:
    """Extra LOINC codes (e.g. an analyte's moles/volume form) listed in conversions.json."""
    return resources.memo(
        "loinc_from_conversions",
        lambda: {code: a.analyte for a in resources.conversions.analytes for code in a.codes},
    )


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


def default_unit(analyte: str, resources: Resources | None = None) -> str | Missing | None:
    """The unit a bare number for `analyte` is taken to be in; `MISSING` when not known."""
    entry = (resources or default_resources()).analytes.by_name(analyte)
    if entry is not None:
        if entry.unitless:
            return None
        return entry.default_unit or MISSING
    if analyte == "age":  # ages are in years everywhere, lexicon or not
        return "a"
    return MISSING
