"""Unit conversion: a table of known pairs, the pitfalls pint alone would fall into, rule.to()."""

from __future__ import annotations

import math

import pytest
from rule_builder import make_rule

from critparse.errors import ResourceError, UnitConversionError
from critparse.lexicon.resources import Resources
from critparse.screen.units import (
    can_convert,
    compare,
    convert_rule,
    convert_value,
    load_conversions,
    normalize_unit,
)

# (value, from, to, analyte, expected, rel_tol, source)
CONVERSIONS = [
    # mass <-> molar, analyte-specific
    (1, "mg/dL", "umol/L", "creatinine", 88.42, 5e-4, "creatinine 1 mg/dL = 88.4 umol/L (SI tables)"),
    (88.4, "umol/L", "mg/dL", "creatinine", 1.0, 5e-4, "inverse of the above"),
    (2.5, "mg/dL", "umol/L", "creatinine", 221.0, 5e-4, "2.5 x 88.4"),
    (1, "mg/dL", "umol/L", "bilirubin", 17.1, 1e-3, "bilirubin 1 mg/dL = 17.1 umol/L"),
    (34.2, "umol/L", "mg/dL", "bilirubin", 2.0, 1e-3, "2 x 17.1"),
    (1, "mg/dL", "umol/L", "direct bilirubin", 17.1, 1e-3, "same molecule as total bilirubin"),
    (100, "mg/dL", "mmol/L", "glucose", 5.551, 1e-3, "glucose 18.0 mg/dL per mmol/L"),
    (7, "mmol/L", "mg/dL", "glucose", 126.1, 1e-3, "diabetes cut-off 126 mg/dL = 7.0 mmol/L (ADA)"),
    (10, "mg/dL", "mmol/L", "calcium", 2.495, 1e-3, "calcium 1 mg/dL = 0.2495 mmol/L"),
    (2.5, "mmol/L", "meq/L", "calcium", 5.0, 1e-9, "Ca2+ divalent: 1 mmol = 2 meq"),
    (10, "mg/dL", "meq/L", "calcium", 4.99, 1e-3, "mass -> molar -> equivalents"),
    (1, "g/dL", "mmol/L", "hemoglobin", 0.6206, 1e-3, "ICSH monomer basis: 1 g/dL = 0.6206 mmol/L"),
    (9, "g/dL", "mmol/L", "hemoglobin", 5.585, 1e-3, "9 x 0.6206"),
    (1, "mg/dL", "umol/L", "uric acid", 59.48, 1e-3, "uric acid 1 mg/dL = 59.48 umol/L"),
    (1, "mg/dL", "mmol/L", "bun", 0.357, 1e-3, "BUN 1 mg/dL = 0.357 mmol/L urea"),
    (2, "mg/dL", "mmol/L", "magnesium", 0.8229, 1e-3, "magnesium 1 mg/dL = 0.4114 mmol/L"),
    (1, "mmol/L", "meq/L", "magnesium", 2.0, 1e-9, "Mg2+ divalent"),
    (3, "mg/dL", "mmol/L", "phosphate", 0.9686, 1e-3, "phosphorus 1 mg/dL = 0.3229 mmol/L"),
    (140, "meq/L", "mmol/L", "sodium", 140.0, 1e-9, "Na+ monovalent"),
    (4.5, "mmol/L", "meq/L", "potassium", 4.5, 1e-9, "K+ monovalent"),
    (200, "mg/dL", "mmol/L", "total cholesterol", 5.172, 1e-3, "cholesterol 38.67 mg/dL per mmol/L"),
    (150, "mg/dL", "mmol/L", "triglycerides", 1.694, 1e-3, "triglycerides 88.57 mg/dL per mmol/L"),
    (300, "ng/dL", "nmol/L", "testosterone", 10.40, 1e-3, "testosterone 1 ng/dL = 0.0347 nmol/L"),
    (50, "ng/dL", "nmol/L", "testosterone", 1.734, 1e-3, "castrate level 50 ng/dL = 1.7 nmol/L"),
    (1, "ng/dL", "pmol/L", "free t4", 12.87, 1e-3, "thyroxine 1 ng/dL = 12.87 pmol/L"),
    (10, "ug/dL", "nmol/L", "cortisol", 275.9, 1e-3, "cortisol 1 ug/dL = 27.59 nmol/L"),
    (20, "ng/mL", "nmol/L", "vitamin d", 49.92, 1e-3, "25-OH vitamin D 1 ng/mL = 2.496 nmol/L"),
    (9, "mg/dL", "mmol/L", "lactate", 1.0104, 1e-3, "lactate 9.01 mg/dL per mmol/L"),
    # equivalences from the data file
    (7, "%", "mmol/mol", "hba1c", 53.0, 2e-3, "IFCC-NGSP master equation: 7.0 % = 53 mmol/mol"),
    (48, "mmol/mol", "%", "hba1c", 6.543, 1e-3, "0.09148 x 48 + 2.152 = 6.54 %, the ADA 6.5 % cut-off"),
    (40, "U/L", "[IU]/L", "ast", 40.0, 1e-9, "enzyme IU = U"),
    (3, "mg/mmol", "mg/g", "urine albumin creatinine ratio", 26.52, 1e-3, "KDIGO: 3 mg/mmol ~ 30 mg/g"),
    (1000, "[IU]/mL", "{copies}/mL", "hbv dna", 5820.0, 1e-9, "1 IU/mL = 5.82 copies/mL (COBAS)"),
    (70, None, "%", "karnofsky", 70.0, 1e-9, "Karnofsky with or without %"),
    # pure unit arithmetic (pint)
    (1500, "/mm3", "10*9/L", None, 1.5, 1e-12, "1 mm3 = 1 uL = 1e-6 L"),
    (1500, "/uL", "10*9/L", None, 1.5, 1e-12, "same as /mm3"),
    (1.5, "10*9/L", "/mm3", None, 1500.0, 1e-12, "inverse"),
    (100, "10*3/uL", "10*9/L", None, 100.0, 1e-12, "10^3/uL = 10^9/L"),
    (100, "10*3/mm3", "10*9/L", None, 100.0, 1e-12, "10^3/mm3 = 10^9/L"),
    (4.5, "10*12/L", "10*6/uL", None, 4.5, 1e-12, "red cells: 10^12/L = 10^6/uL"),
    (9, "g/dL", "g/L", None, 90.0, 1e-12, "1 dL = 0.1 L"),
    (1.5, "mg/dL", "mg/L", None, 15.0, 1e-12, "1 dL = 0.1 L"),
    (30, "ng/mL", "ug/L", None, 30.0, 1e-12, "ng/mL = ug/L"),
    (500, "pg/mL", "ng/L", None, 500.0, 1e-12, "pg/mL = ng/L"),
    (2.5, "m[IU]/L", "u[IU]/mL", None, 2.5, 1e-12, "TSH mIU/L = uIU/mL"),
    (1000, "{copies}/mL", "/L", None, 1e6, 1e-12, "annotations are unity in UCUM"),
    (60, "mL/min/{1.73_m2}", "L/h/{1.73_m2}", None, 3.6, 1e-12, "eGFR units with the BSA annotation"),
    (60, "mL/min", "L/h", None, 3.6, 1e-12, "clearance"),
    (1, "a", "mo", None, 12.0, 1e-12, "UCUM Julian year = 12 months"),
    (6, "mo", "wk", None, 26.089, 1e-3, "Julian month 30.4375 d / 7"),
    (12, "wk", "d", None, 84.0, 1e-12, "7 days a week"),
    (1, "a", "d", None, 365.25, 1e-12, "UCUM a = a_j = 365.25 d"),
    (37, "Cel", "[degF]", None, 98.6, 1e-9, "Celsius to Fahrenheit (affine)"),
    (100, "mm[Hg]", "kPa", None, 13.332, 1e-3, "1 mmHg = 133.322 Pa"),
    (70, "kg", "[lb_av]", None, 154.32, 1e-4, "1 lb = 0.45359237 kg"),
    (180, "cm", "m", None, 1.8, 1e-12, "metric"),
    (450, "ms", "s", None, 0.45, 1e-12, "QTc"),
    (55, "%", "%", None, 55.0, 1e-12, "identity"),
]


@pytest.mark.parametrize(
    ("value", "src", "dst", "analyte", "expected", "rel_tol", "source"),
    CONVERSIONS,
    ids=[f"{c[3] or 'unit'}:{c[0]} {c[1]}->{c[2]}" for c in CONVERSIONS],
)
def test_units_conversion_table(value, src, dst, analyte, expected, rel_tol, source):
    got = convert_value(value, src, dst, analyte)
    assert math.isclose(got, expected, rel_tol=rel_tol), f"{got} != {expected} ({source})"


def test_units_table_has_forty_pairs():
    assert len(CONVERSIONS) >= 40


@pytest.mark.parametrize(
    ("src", "dst", "analyte", "words"),
    [
        ("%", "mmol/mol", None, ["'%'", "'mmol/mol'"]),  # only HbA1c has a master equation
        ("meq/L", "mmol/L", None, ["'meq/L'"]),  # UCUM eq = mol ignores valence
        ("meq/L", "mmol/L", "phosphate", ["phosphate"]),  # no valence given for phosphate
        ("[IU]/mL", "{copies}/mL", "hiv viral load", ["hiv viral load"]),
        ("[IU]/L", "10*9/L", None, ["'[IU]/L'"]),
        ("mg/dL", "umol/L", "ast", ["ast", "'mg/dL'", "'umol/L'"]),
        ("mg/dL", "umol/L", "albumin", ["albumin"]),  # no molar mass in the table
        ("mL/min", "mL/min/{1.73_m2}", "egfr", ["body surface area"]),
        ("mg/dL", None, "creatinine", ["unitless"]),
        (None, "%", "ecog", ["unitless"]),
        ("mg/dL", "x ULN", "bilirubin", ["x ULN", "limit of normal"]),
        ("furlongs", "mg/dL", None, ["'furlongs'"]),
        ("mo", "kg", None, ["'mo'", "'kg'"]),
    ],
)
def test_units_conversion_refused(src, dst, analyte, words):
    with pytest.raises(UnitConversionError) as info:
        convert_value(1.0, src, dst, analyte)
    for word in words:
        assert word in str(info.value)
    assert not can_convert(src, dst, analyte)


@pytest.mark.parametrize(
    ("observed", "comparator", "threshold", "expected"),
    [
        (convert_value(1500, "/mm3", "10*9/L"), ">=", 1.5, True),
        (convert_value(1500, "/mm3", "10*9/L"), "<", 1.5, False),
        (0.1 + 0.2, "<=", 0.3, True),
        (0.1 + 0.2, "=", 0.3, True),
        (0.1 + 0.2, "!=", 0.3, False),
        (0.1 + 0.2, ">", 0.3, False),
        (1.49, ">=", 1.5, False),
        (2.6, "<", 2.5, False),
        (2.4, "<", 2.5, True),
        (0.0, "=", 0.0, True),
    ],
)
def test_units_compare_tolerance(observed, comparator, threshold, expected):
    assert compare(observed, comparator, threshold) is expected


_rule = make_rule


@pytest.mark.parametrize(
    ("rule", "unit", "value"),
    [
        (_rule("creatinine", "<", 2.5, "mg/dL"), "umol/L", 221.0),
        (_rule("anc", ">=", 1.5, "10*9/L"), "/uL", 1500.0),
        (_rule("hemoglobin", ">=", 9, "g/dL"), "g/L", 90.0),
        (_rule("age", ">=", 18, "a"), "mo", 216.0),
    ],
)
def test_units_rule_to(rule, unit, value):
    converted = rule.to(unit)
    assert converted.unit == unit
    assert converted.comparator == rule.comparator
    assert math.isclose(converted.value, value, rel_tol=1e-3)
    assert converted.span == rule.span and converted.text == rule.text
    assert convert_rule(rule, rule.unit) is rule


def test_units_rule_to_names_both_units_and_analyte():
    rule = _rule("ast", "<", 3, "x ULN")
    with pytest.raises(UnitConversionError) as info:
        rule.to("U/L")
    assert "x ULN" in str(info.value) and "'U/L'" in str(info.value) and "ast" in str(info.value)
    rule = _rule("platelets", ">=", 100, "10*9/L")
    with pytest.raises(UnitConversionError) as info:
        rule.to("mg/dL")
    message = str(info.value)
    assert "'10*9/L'" in message and "'mg/dL'" in message and "platelets" in message


def test_units_error_is_also_value_error():
    with pytest.raises(ValueError):
        convert_value(1, "mg/dL", "kg", None)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("mg/dL", "mg/dL"),
        ("mg/dl", "mg/dL"),
        ("x10^9/L", "10*9/L"),
        ("10^9/L", "10*9/L"),
        ("× 10^9/L", "10*9/L"),
        ("µmol/L", "umol/L"),
        ("{copies}/mL", "{copies}/mL"),
        ("[IU]/L", "[IU]/L"),
        ("mL/min/{1.73_m2}", "mL/min/{1.73_m2}"),
        ("10*9/L", "10*9/L"),
        ("%", "%"),
        ("a", "a"),
        ("x ULN", "x ULN"),
        ("", None),
        (None, None),
    ],
)
def test_units_normalize(text, code):
    assert normalize_unit(text) == code


@pytest.mark.parametrize("text", ["furlongs per fortnight", "mg/dL/zz", "10**/L"])
def test_units_normalize_unknown(text):
    with pytest.raises(UnitConversionError):
        normalize_unit(text)


def test_units_conversion_file_reports_every_problem(tmp_path):
    bad = tmp_path / "conversions.json"
    bad.write_text(
        '{"analytes": [{"analyte": "x", "molar_mass": -1, "source": "s"},'
        ' {"analyte": "y", "source": "s", "colour": "red"}],'
        ' "equivalences": [{"analytes": [], "from_unit": "mg/dL", "to_unit": "%", "factor": 0, "source": "s"}]}'
    )
    with pytest.raises(ResourceError) as info:
        load_conversions(bad)
    message = str(info.value)
    assert "analytes/0/molar_mass" in message
    assert "colour" in message
    assert "equivalences/0" in message


def test_units_conversion_file_rejects_unknown_unit(tmp_path):
    bad = tmp_path / "conversions.json"
    bad.write_text(
        '{"equivalences": [{"analytes": ["a"], "from_unit": "mg/zz", "to_unit": "%",'
        ' "factor": 1, "source": "s"}]}'
    )
    with pytest.raises(ResourceError, match="mg/zz"):
        Resources(conversions=bad).conversions  # noqa: B018 - the load is the test


def test_units_bundled_table_loads_with_sources():
    table = load_conversions()
    assert all(a.source for a in table.analytes)
    assert all(e.source for e in table.equivalences)
    assert {"creatinine", "bilirubin", "glucose", "calcium", "hemoglobin"} <= {
        a.analyte for a in table.analytes
    }
