"""The unit grammar: written units composed from atoms, prefixes, exponents and denominators,
mapped to UCUM; every code it can emit is one ucumvert reads."""

from __future__ import annotations

import json

import pytest

from critparse.errors import ResourceError
from critparse.lexicon.resources import default_resources
from critparse.lexicon.ucum import UcumUnits
from critparse.lexicon.unit_grammar import UnitGrammar, UnitReader
from critparse.resources import read_resource_json


@pytest.fixture(scope="module")
def vocab():
    return default_resources().vocabulary


@pytest.fixture(scope="module")
def ucum():
    return UcumUnits()


@pytest.mark.parametrize(
    ("written", "code"),
    [
        # compound units: numerator / denominator / per / product / exponents
        ("mL/kg/hr", "mL/kg/h"), ("ml/kg/hour", "mL/kg/h"), ("mg/kg/d", "mg/kg/d"), ("mg/kg per day", "mg/kg/d"),
        ("µg/kg/min", "ug/kg/min"), ("mcg/kg/minute", "ug/kg/min"), ("ng/kg/min", "ng/kg/min"),
        ("mg/m²/day", "mg/m2/d"), ("g/m^2", "g/m2"), ("kg·m⁻²", "kg/m2"), ("kg.m-2", "kg/m2"),
        ("mL/mmHg/min", "mL/mm[Hg]/min"), ("ml/min/mmHg", "mL/min/mm[Hg]"), ("U/kg", "U/kg"), ("IU/kg", "[IU]/kg"),
        ("units/kg/h", "U/kg/h"), ("mmol/mol", "mmol/mol"), ("mosm/kg", "mosm/kg"), ("L/min", "L/min"),
        # numbers in a denominator
        ("g/24 h", "g/(24.h)"), ("mg/24hrs", "mg/(24.h)"), ("mL/12 hours", "mL/(12.h)"),
        ("mL/min per 1.73 m2", "mL/min/{1.73_m2}"), ("ml/min/1,73 m²", "mL/min/{1.73_m2}"),
        ("/10 HPF", "/{10_HPF}"), ("per 50 high power fields", "/{50_HPF}"),
        # annotations for counts UCUM has no unit for; counted things UCUM leaves out
        ("cigarettes a day", "{cigarettes}/d"), ("cigs/day", "{cigarettes}/d"), ("alcoholic drinks per week", "{drinks}/wk"),
        ("pack years", "{pack-years}"), ("points", "{points}"), ("copies/mL", "{copies}/mL"),
        ("beats per minute", "/min"), ("breaths/minute", "/min"), ("cells/mm³", "/mm3"), ("/µL", "/uL"),
        # rare atoms
        ("°", "deg"), ("degrees", "deg"), ("°C", "Cel"), ("°F", "[degF]"), ("ppm", "[ppm]"), ("µm", "um"),
        ("microns", "um"), ("nm", "nm"), ("kPa", "kPa"), ("hPa", "hPa"), ("dB", "dB"), ("D", "[diop]"),
        ("dioptres", "[diop]"), ("SD", "{SD}"), ("EU/mL", "[EU]/mL"), ("cm H₂O", "cm[H2O]"), ("cmH2O", "cm[H2O]"),
        ("mm Hg", "mm[Hg]"), ("Gy", "Gy"), ("cGy", "cGy"), ("msec", "ms"), ("ans", "a"),
        # spelled-out prefixes, capitals
        ("milligrams per deciliter", "mg/dL"), ("micromoles per litre", "umol/L"), ("nanograms/millilitre", "ng/mL"),
        ("MG/DL", "mg/dL"), ("/MM3", "/mm3"),
        # whole forms from units.json win a tie
        ("G/L", "10*9/L"), ("mg/day", "mg/(24.h)"), ("mg%", "mg/dL"), ("bpm", "/min"), ("K/µL", "10*3/uL"),
    ],
)
def test_unit_grammar_reads(vocab, written, code):
    assert vocab.unit_code(written) == code


@pytest.mark.parametrize(
    ("text", "read"),
    [
        ("3 months/12 weeks", "months"),  # two durations, not a rate
        ("140/90 mmHg", None),  # a number before a pressure is no denominator
        ("14 units of alcohol", None),  # 'units' alone is a count
        ("5 mg a patient", "mg"),  # 'a' joins only a time
        ("10 mg2", None),  # glued to a number
        ("4 days per month", "days"),
        ("2 x ULN", None),
    ],
)
def test_unit_grammar_stops_where_a_unit_ends(vocab, text, read):
    found = vocab.match_unit(text, len(text.split("/")[0].split(" ")[0]))  # right after the first number
    assert (found[1] if found else None) == read


@pytest.mark.parametrize("kind", ["atoms with every prefix"])
def test_unit_grammar_every_code_is_ucum(vocab, ucum, kind):
    grammar = vocab.unit_reader.grammar
    codes = {a.code for a in grammar.atoms if a.code} | {
        p + a.code for a in grammar.atoms if a.code for p in a.prefixes
    }
    bad = sorted(c for c in codes if not ucum.is_ucum(c))
    assert not bad


@pytest.mark.parametrize("file", ["units.json"])
def test_unit_grammar_aliases_are_ucum(ucum, file):
    data = read_resource_json(file)
    bad = sorted({e["code"] for e in data["units"]} - {c for c in {e["code"] for e in data["units"]} if ucum.is_ucum(c)})
    assert not bad


@pytest.mark.parametrize("problem", ["unknown prefix"])
def test_unit_grammar_bad_file_lists_every_problem(problem):
    data = read_resource_json("unit_grammar.json")
    data["atoms"][0]["prefixes"].append("Q")
    data["atoms"][1]["prefixes"].append("Z")
    with pytest.raises(ValueError) as err:
        UnitGrammar.model_validate(data)
    assert "'Q'" in str(err.value) and "'Z'" in str(err.value)


@pytest.mark.parametrize("clash", [("g", "kg")])
def test_unit_grammar_ambiguous_forms_fail_at_load(clash):
    data = read_resource_json("unit_grammar.json")
    data["atoms"].append({"code": "[lb_av]", "dimension": "mass", "written": [clash[1]]})
    with pytest.raises(ResourceError, match="reads as"):
        UnitReader(UnitGrammar.model_validate(json.loads(json.dumps(data))))
