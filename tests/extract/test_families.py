"""One general rule per family of threshold errors, each on fresh lines written for these tests
(not gold-corpus strings). Each expected rule is (analyte name, comparator, value, unit)."""

from __future__ import annotations

import pytest

import critparse

COMPOUND_UNITS = [
    ("Urine output ≥ 0.5 ml/kg/hour over 12 hours", [("urine output", ">=", 0.5, "mL/kg/h")]),
    ("Protein excretion < 150 mg/24 hrs", [("urine protein", "<", 150, "mg/(24.h)")]),
    ("Albuminuria > 3.5 g/24h", [("albuminuria", ">", 3.5, "g/(24.h)")]),
    ("Dopamine ≤ 10 mcg/kg/min", [("dopamine", "<=", 10, "ug/kg/min")]),
    ("Prednisone ≥ 1 mg/kg/d for 2 weeks", [("prednisone", ">=", 1, "mg/kg/d")]),
    ("Carboplatin exposure ≥ 400 mg/m^2/day", [("carboplatin exposure", ">=", 400, "mg/m2/d")]),
    ("eGFR > 45 ml/min per 1.73 m2", [("egfr", ">", 45, "mL/min/{1.73_m2}")]),
    ("Positive end-expiratory pressure of at least 8 cm H2O", [("positive end-expiratory pressure", ">=", 8, "cm[H2O]")]),
    ("Body mass index 20–28 kg·m-2", [("bmi", ">=", 20, "kg/m2"), ("bmi", "<=", 28, "kg/m2")]),
    ("Left ventricular mass index ≥ 100 g/m2", [("left ventricular mass index", ">=", 100, "g/m2")]),
    ("Factor VIII dose < 50 IU/kg per week", [("factor viii dose", "<", 50, "[IU]/kg/wk")]),
    ("Transfer factor (DLCO) < 8 mL/min/mmHg", [("dlco", "<", 8, "mL/min/mm[Hg]")]),
]

RARE_UNITS = [
    ("Curve magnitude of at least 35° on standing radiographs", [("curve magnitude", ">=", 35, "deg")]),
    ("Knee flexion contracture < 10 degrees", [("knee flexion contracture", "<", 10, "deg")]),
    ("Exhaled nitric oxide > 50 ppb", [("exhaled nitric oxide", ">", 50, None)]),
    ("Breath carbon monoxide below 6 ppm", [("breath carbon monoxide", "<", 6, "[ppm]")]),
    ("Macular thickness > 300 microns", [("macular thickness", ">", 300, "um")]),
    ("Foveal thickness ≥ 250 µm", [("foveal thickness", ">=", 250, "um")]),
    ("At least 25 pack-years of smoking history", [("smoking history", ">=", 25, "{pack-years}")]),
    ("Smoking more than 15 cigarettes a day", [("smoking", ">", 15, "{cigarettes}/d")]),
    ("Alcohol use ≤ 10 standard drinks per week", [("alcohol use", "<=", 10, "{drinks}/wk")]),
    ("Resting pulse > 100 beats/minute", [("heart rate", ">", 100, "/min")]),
    ("Mitotic count ≥ 10 per 10 HPF", [("mitotic count", ">=", 10, "/{10_HPF}")]),
    ("Arterial PaO2 ≥ 9 kPa", [("pao2", ">=", 9, "kPa")]),
    ("Hearing loss of at least 30 dB", [("hearing loss", ">=", 30, "dB")]),
    ("Refractive error between -6.00 D and +1.00 D", [("refractive error", ">=", -6, "[diop]"), ("refractive error", "<=", 1, "[diop]")]),
    ("Weight below the 5th percentile", [("body weight", "<", 5, "{percentile}")]),
    ("ADAS-Cog score ≥ 12 points", [("adas-cog score", ">=", 12, "{points}")]),
    ("Z-score < -2 SD", [("z-score", "<", -2, "{SD}")]),
    ("Anti-tetanus antibody ≥ 0.1 EU/mL", [("anti-tetanus antibody", ">=", 0.1, "[EU]/mL")]),
    ("Platelets ≥ 150 bil/L", [("platelets", ">=", 150, "10*9/L")]),
]

NUMBER_FORMS = [
    ("Leucocytes ≥ 3 x 10x9/L", [("wbc", ">=", 3, "10*9/L")]),
    ("Platelets > 50 × 1,000,000,000/L", [("platelets", ">", 50, "10*9/L")]),
    ("ALT ≤ 3. 0 x ULN", [("alt", "<=", 3.0, "x ULN")]),
    ("Bilirubin =/< 1.5 mg/dL", [("bilirubin", "<=", 1.5, "mg/dL")]),
    ("Créatinine ≤ 1,5 N", [("creatinine", "<=", 1.5, "x ULN")]),
    ("AST ≤ 2,5 × LSN", [("ast", "<=", 2.5, "x ULN")]),
    ("Lipase > 2½ times ULN", [("lipase", ">", 2.5, "x ULN")]),
    ("Alkaline phosphatase ≤ 5-fold ULN", [("alp", "<=", 5, "x ULN")]),
    ("PT < 1,2 and INR ≤ 1,5", [("pt", "<", 1.2, None), ("inr", "<=", 1.5, None)]),
    ("Neutrophils ≥ 1,0.10⁹/L", [("anc", ">=", 1.0, "10*9/L")]),
    ("Hemoglobin ≥ 90.000/mm3", [("hemoglobin", ">=", 90000, "/mm3")]),
]

ANALYTE_BOUNDARIES = [
    ("Right atrial pressure > 15 mmHg", [("right atrial pressure", ">", 15, "mm[Hg]")]),
    ("Fetal heart rate below 100 bpm", [("fetal heart rate", "<", 100, "/min")]),
    ("Ongoing methotrexate ≤ 25 mg/week", [("methotrexate", "<=", 25, "mg/wk")]),
    ("Average systolic blood pressure ≥ 130 mmHg", [("systolic blood pressure", ">=", 130, "mm[Hg]")]),
    ("Scores 18 or higher on the MoCA", [("moca", ">=", 18, None)]),
    ("Range of motion of the shoulder ≥ 90°", [("range of motion", ">=", 90, "deg")]),
    ("Knee pain (≥ 4 on a 0-10 scale for the past week)", [("pain score (nrs/vas)", ">=", 4, None)]),
    ("Osteoarthritis with Kellgren-Lawrence grade 2 disease", []),
]

AGES = [
    ("Adults 21 and over", [("age", ">=", 21, "a")]),
    ("Volunteers 50 or older", [("age", ">=", 50, "a")]),
    ("Boys 8 and younger", [("age", "<=", 8, "a")]),
    ("Participants aged 30+", [("age", ">=", 30, "a")]),
    ("Between the ages of 20 and 40 years", [("age", ">=", 20, "a"), ("age", "<=", 40, "a")]),
    ("Age (18-75)", [("age", ">=", 18, "a"), ("age", "<=", 75, "a")]),
    ("Aged 5yrs-11yrs", [("age", ">=", 5, "a"), ("age", "<=", 11, "a")]),
    ("Children younger than the age of 12", [("age", "<", 12, "a")]),
    ("Age ≥ twenty-one (21) years", [("age", ">=", 21, "a")]),
    ("Elderly volunteers over 70", [("age", ">", 70, "a")]),
]

DURATIONS = [
    ("Asthma for at least 12 months", [("duration of asthma", ">=", 12, "mo")]),
    ("Migraine lasting ≥ 6 months", [("duration of migraine", ">=", 6, "mo")]),
    ("More than 3 months since the last infusion", [("time since last infusion", ">", 3, "mo")]),
    ("At least 2 years after completion of chemotherapy", [("time since completion of chemotherapy", ">=", 2, "a")]),
    ("Liver transplant recipients ≥ 12 months post-transplant", [("time since transplant", ">=", 12, "mo")]),
    ("Age at first diagnosis ≥ 50 years", [("age at first diagnosis", ">=", 50, "a")]),
    ("Pregnancy of 20-24 weeks' gestation", [("gestational age", ">=", 20, "wk"), ("gestational age", "<=", 24, "wk")]),
    ("Episode of at least 4 weeks' duration", [("duration of episode", ">=", 4, "wk")]),
]

NEGATIVES = [
    "Enrolled in 2019 or later",
    "Consent form version 2.1 or later",
    "Unresolved grade 2 alopecia",
    "Stage IIB melanoma",
    "Received 2 doses of vaccine",
    "Part 2 of the study",
    "Item 9 of the PHQ-9",
    "BRCA1 or BRCA2 mutation",
]


def _tuples(result):
    return [(r.analyte.name, r.comparator, r.value, r.unit) for r in result.rules]


@pytest.mark.parametrize(
    ("text", "expected"),
    COMPOUND_UNITS + RARE_UNITS + NUMBER_FORMS + ANALYTE_BOUNDARIES + AGES + DURATIONS,
    ids=lambda v: v[:40] if isinstance(v, str) else "",
)
def test_families_reads_the_whole_rule(nlp, text, expected):
    assert _tuples(critparse.parse(text, nlp=nlp)) == expected


@pytest.mark.parametrize("text", NEGATIVES)
def test_families_numbers_that_are_not_thresholds(nlp, text):
    assert critparse.parse(text, nlp=nlp).rules == ()


@pytest.mark.parametrize(("text", "unit", "unit_text"), [("Men 40 and over", "a", None), ("Healthy volunteers, 20-50", None, None)])
def test_families_implied_ages_keep_no_written_unit(nlp, text, unit, unit_text):
    rules = critparse.parse(text, nlp=nlp).rules
    assert rules and all((r.analyte.name, r.unit, r.unit_text) == ("age", unit, unit_text) for r in rules)
