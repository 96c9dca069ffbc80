"""Unit normalisation and conversion: pint (through ucumvert's UCUM front end) plus analyte data.

Everything that depends only on the units is pint's job; what depends on the analyte (molar
masses, valences, assay equivalences such as IU vs copies) is data in
`critparse/resources/conversions.json`, each number with its source. Conversions are affine
(`to = slope * from + offset`) so temperatures and the HbA1c master equation fit the same path.

Pint would happily convert units that only look alike: `%` to `mmol/mol` (both dimensionless),
`meq/L` to `mmol/L` (UCUM defines eq as mol, ignoring valence), `[IU]/mL` to `{copies}/mL` (both
"per volume" once IU and annotations are dropped). Each unit therefore gets a *signature* that
keeps those distinctions, and pint may only convert between units with equal signatures.
"""

from __future__ import annotations

import math
import re
from collections import deque
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from critparse.errors import UnitConversionError
from critparse.lexicon.conversions import ConversionTable, load_conversions
from critparse.lexicon.resources import Resources, default_resources
from critparse.lexicon.ucum import UcumUnits
from critparse.lexicon.vocabulary import Vocabulary

if TYPE_CHECKING:
    from critparse.model import Comparator, Rule

ULN = "x ULN"
LLN = "x LLN"
RELATIVE_UNITS = frozenset({ULN, LLN})
"""Multiples of a patient's limits of normal: not UCUM, converted only against a patient."""

REL_TOL = 1e-9
"""Relative tolerance of comparisons: 1500/mm3 vs 1.5 10*9/L must be equal, not 1e-13 apart."""



_ANNOTATION = re.compile(r"\{([^}]*)\}")

Affine = tuple[float, float]
"""(slope, offset): `to = slope * from + offset`."""

_IDENTITY: Affine = (1.0, 0.0)


def _compose(first: Affine, then: Affine) -> Affine:
    return (then[0] * first[0], then[0] * first[1] + then[1])


def _invert(f: Affine) -> Affine:
    return (1.0 / f[0], -f[1] / f[0])


class UnitConverter:
    """Unit arithmetic (pint) joined with one conversion table's analyte chemistry.

    Every lookup is cached on the instance, so a converter built from a custom table never
    answers from the default one.
    """

    def __init__(self, table: ConversionTable, ucum: UcumUnits, vocabulary: Vocabulary | None = None) -> None:
        self.table = table
        self.ucum = ucum
        self.vocabulary = vocabulary
        self._distinct = {d.annotation: d.reason for d in table.distinct_annotations}
        self.signature = lru_cache(maxsize=2048)(self._signature)
        self._pint_affine = lru_cache(maxsize=4096)(self._pint_affine_uncached)
        self.conversion = lru_cache(maxsize=8192)(self._conversion)
        self.normalize_unit = lru_cache(maxsize=4096)(self._normalize_unit)

    def _signature(self, code: str | None) -> tuple[Any, ...]:
        """What must agree for pint to convert between two units.

        The net dimensionality, the dimensions that cancel (mg/g is a mass ratio, % is not),
        international units and equivalents as dimensions of their own, and any annotation that
        changes meaning (mL/min/{1.73_m2}). `None` (a bare score) is its own kind.
        """
        if code is None:
            return ("no unit",)
        quantity = self.ucum.quantity(code)
        ureg = quantity._REGISTRY  # ucumvert builds units in pint's application registry
        net: dict[str, float] = {}
        up: set[str] = set()
        down: set[str] = set()
        for name, exp in quantity.units._units.items():
            if "international_unit" in name:
                dims: dict[str, float] = {"[international unit]": 1}
            elif "equivalent" in name:
                dims = {"[equivalent]": 1}
            else:
                dims = dict(ureg.get_dimensionality(name))
            for dim, power in dims.items():
                p = power * exp
                net[dim] = net.get(dim, 0) + p
                (up if p > 0 else down).add(dim)
        notes = tuple(sorted(n for n in _ANNOTATION.findall(code) if n in self._distinct))
        return (
            tuple(sorted((d, p) for d, p in net.items() if p)),
            tuple(sorted(up & down)),
            notes,
        )

    def _ratio_difference(self, a: str | None, b: str | None) -> str:
        """Why two units cannot be converted by unit arithmetic alone, for error messages."""
        if a is None or b is None:
            return "a bare score has no unit"
        for note in set(_ANNOTATION.findall(a)) ^ set(_ANNOTATION.findall(b)):
            if note in self._distinct:
                return self._distinct[note]
        return "they measure different kinds of quantity"

    def _pint_affine_uncached(self, from_unit: str | None, to_unit: str | None) -> Affine | None:
        """The pure-unit conversion, or None when the signatures differ."""
        if from_unit == to_unit:
            return _IDENTITY
        if from_unit is None or to_unit is None or self.signature(from_unit) != self.signature(to_unit):
            return None
        src = self.ucum.quantity(from_unit)
        dst = self.ucum.quantity(to_unit)
        ureg = src._REGISTRY
        # Through two points, so offset units (Cel, [degF]) come out right too.
        y0 = ureg.Quantity(0.0 * src.magnitude, src.units).to(dst.units).magnitude / dst.magnitude
        y1 = ureg.Quantity(1.0 * src.magnitude, src.units).to(dst.units).magnitude / dst.magnitude
        return (float(y1 - y0), float(y0))

    def _bridges(self, analyte: str | None) -> list[tuple[str | None, str | None, Affine, str]]:
        """The analyte's own conversions, as directed edges in both directions."""
        if analyte is None:
            return []
        edges: list[tuple[str | None, str | None, Affine, str]] = []

        def both(a: str | None, b: str | None, f: Affine, why: str) -> None:
            edges.append((a, b, f, why))
            edges.append((b, a, _invert(f), why))

        for entry in self.table.analytes:
            if entry.analyte != analyte:
                continue
            if entry.molar_mass is not None:
                # 1 g/L = 1/M mol/L
                both("g/L", "mol/L", (1.0 / entry.molar_mass, 0.0), f"molar mass {entry.molar_mass} g/mol")
            if entry.valence is not None:
                both("mol/L", "eq/L", (float(entry.valence), 0.0), f"valence {entry.valence}")
        for eq in self.table.equivalences:
            if analyte in eq.analytes:
                both(eq.from_unit, eq.to_unit, (eq.factor, eq.offset), eq.source)
        return edges

    def _conversion(self, from_unit: str | None, to_unit: str | None, analyte: str | None = None) -> Affine:
        """The affine map from `from_unit` to `to_unit` for `analyte`.

        Tries pint alone, then paths through at most three of the analyte's own conversions.
        Raises UnitConversionError naming both units and the analyte when there is none.
        """
        for unit in (from_unit, to_unit):
            if unit in RELATIVE_UNITS:
                raise UnitConversionError(
                    f"cannot convert {_show(from_unit)} to {_show(to_unit)}"
                    f"{_for(analyte)}: {unit} is relative to a patient's limit of normal"
                )
            if unit is not None:
                self.ucum.quantity(unit)  # raises for an unknown code
        direct = self._pint_affine(from_unit, to_unit)
        if direct is not None:
            return direct
        edges = self._bridges(analyte)
        # Breadth-first: fewest analyte-specific steps first.
        queue: deque[tuple[str | None, Affine, int]] = deque([(from_unit, _IDENTITY, 0)])
        while queue:
            unit, acc, depth = queue.popleft()
            if depth >= 3:
                continue
            for src, dst, f, _why in edges:
                into = self._pint_affine(unit, src)
                if into is None:
                    continue
                step = _compose(_compose(acc, into), f)
                out = self._pint_affine(dst, to_unit)
                if out is not None:
                    return _compose(step, out)
                queue.append((dst, step, depth + 1))
        hint = "" if edges else " (no analyte-specific conversion is known)"
        raise UnitConversionError(
            f"cannot convert {_show(from_unit)} to {_show(to_unit)}{_for(analyte)}: "
            f"{self._ratio_difference(from_unit, to_unit)}{hint}"
        )

    def convert_value(
        self, value: float, from_unit: str | None, to_unit: str | None, analyte: str | None = None
    ) -> float:
        """`value` in `from_unit` expressed in `to_unit` (analyte-specific when needed)."""
        slope, offset = self.conversion(from_unit, to_unit, analyte)
        return _tidy(slope * value + offset)

    def _normalize_unit(self, text: str | None) -> str | None:
        """A UCUM code for a unit as written ('mg/dl', 'x10^9/L', 'years'), or None for no unit.

        UCUM codes pass through; other spellings go through the parser's unit vocabulary
        (`resources/units.json`). Raises UnitConversionError when the unit is not recognised.
        """
        if text is None:
            return None
        raw = " ".join(text.split())
        if not raw:
            return None
        if raw.lower() in {"x uln", "xuln", "× uln", "uln"}:
            return ULN
        if raw.lower() in {"x lln", "xlln", "× lln", "lln"}:
            return LLN
        code = self.vocabulary.unit_code(raw) if self.vocabulary is not None else None
        if code is not None and (code in RELATIVE_UNITS or self.ucum.is_ucum(code)):
            return code
        folded = raw.replace("µ", "u").replace("μ", "u").replace("^", "*").replace(" ", "")
        folded = re.sub(r"^(?:x|×|\*)\s*(?=10)", "", folded)
        folded = folded.replace("⁹", "9").replace("¹²", "12").replace("³", "3")
        for candidate in (folded, raw):
            if candidate and self.ucum.is_ucum(candidate):
                return candidate
        raise UnitConversionError(f"unknown unit {text!r}")


def converter_for(resources: Resources | None = None) -> UnitConverter:
    """The converter of `resources` (the default ones when None), built once per Resources."""
    res = resources or default_resources()
    return res.memo("unit_converter", lambda: UnitConverter(res.conversions, res.ucum, res.vocabulary))


def _show(unit: str | None) -> str:
    return "a unitless value" if unit is None else repr(unit)


def _for(analyte: str | None) -> str:
    return f" for {analyte}" if analyte else ""


def _tidy(x: float) -> float:
    """Drop float noise (1500.0000000000002 -> 1500.0) by keeping 12 significant digits."""
    if x == 0 or not math.isfinite(x):
        return x
    return round(x, 11 - math.floor(math.log10(abs(x))))


def is_ucum(code: str, resources: Resources | None = None) -> bool:
    """True when ucumvert parses `code`."""
    return (resources or default_resources()).ucum.is_ucum(code)


def conversion(
    from_unit: str | None, to_unit: str | None, analyte: str | None = None,
    *, converter: UnitConverter | None = None,
) -> Affine:
    """The affine map between two units for `analyte` (see `UnitConverter`)."""
    return (converter or converter_for()).conversion(from_unit, to_unit, analyte)


def normalize_unit(text: str | None, *, converter: UnitConverter | None = None) -> str | None:
    """A UCUM code for a unit as written (see `UnitConverter.normalize_unit`)."""
    return (converter or converter_for()).normalize_unit(text)


def convert_value(
    value: float, from_unit: str | None, to_unit: str | None, analyte: str | None = None,
    *, converter: UnitConverter | None = None,
) -> float:
    """`value` in `from_unit` expressed in `to_unit` (analyte-specific when needed)."""
    return (converter or converter_for()).convert_value(value, from_unit, to_unit, analyte)


def can_convert(
    from_unit: str | None, to_unit: str | None, analyte: str | None = None,
    *, converter: UnitConverter | None = None,
) -> bool:
    try:
        conversion(from_unit, to_unit, analyte, converter=converter)
    except UnitConversionError:
        return False
    return True


_FLIPPED: dict[Comparator, Comparator] = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}


def convert_rule(rule: Rule, unit: str | None, *, converter: UnitConverter | None = None) -> Rule:
    """The same rule with its value expressed in `unit` (behind `Rule.to`).

    `text`, `span` and `unit_text` keep pointing at what was written. A decreasing map (none is
    known today) would flip the comparator, so that is handled rather than assumed away.
    """
    if unit == rule.unit:
        return rule
    try:
        slope, offset = conversion(rule.unit, unit, rule.analyte.name, converter=converter)
    except UnitConversionError as exc:
        raise UnitConversionError(f"{rule.text!r}: {exc}") from exc
    comparator = _FLIPPED.get(rule.comparator, rule.comparator) if slope < 0 else rule.comparator
    return rule.model_copy(
        update={"value": _tidy(slope * rule.value + offset), "unit": unit, "comparator": comparator}
    )


def compare(observed: float, comparator: str, threshold: float, rel_tol: float = REL_TOL) -> bool:
    """`observed <comparator> threshold`, with values within `rel_tol` counted as equal."""
    equal = math.isclose(observed, threshold, rel_tol=rel_tol, abs_tol=1e-12)
    if comparator == "<":
        return observed < threshold and not equal
    if comparator == "<=":
        return observed < threshold or equal
    if comparator == ">":
        return observed > threshold and not equal
    if comparator == ">=":
        return observed > threshold or equal
    if comparator == "=":
        return equal
    if comparator == "!=":
        return not equal
    raise ValueError(f"unknown comparator {comparator!r}")


__all__ = [
    "LLN",
    "REL_TOL",
    "ULN",
    "ConversionTable",
    "UnitConverter",
    "can_convert",
    "compare",
    "conversion",
    "convert_rule",
    "convert_value",
    "converter_for",
    "is_ucum",
    "load_conversions",
    "normalize_unit",
]
