"""The logic pass: every wording of issue 9 read into the tree it means, written out with
`show_logic` (a list is `list(...)`, a condition `<its words>`, a concept `"its words"`)."""

from __future__ import annotations

import json

import pytest

import critparse
from critparse.extract.logic import (
    build_logic,
    combine_children,
    flat_logic,
    link_children,
    show_logic,
)
from critparse.model import Criterion, ParseResult
from critparse.model.concept import Concept
from critparse.model.logic import (
    ConditionLeaf,
    CriterionLeaf,
    Op,
    RuleLeaf,
    ValueSetLeaf,
    iter_leaves,
)
from critparse.model.span import Span


@pytest.fixture(scope="module")
def rules_nlp():
    """The pipeline without concepts, so each tree shows the logic of the rules alone."""
    import spacy

    import critparse.nlp.pipeline  # noqa: F401 - registers the factories
    from critparse.text.tokenizer import make_tokenizer

    nlp = spacy.blank("en")
    nlp.tokenizer = make_tokenizer(nlp)
    nlp.add_pipe("critparse_abbreviations")
    nlp.add_pipe("critparse_rules", config={"analytes": None, "concepts": False})
    return nlp


WORDINGS = {
    # or / and / and/or / either ... or
    "or": ("Serum creatinine ≤ 1.5 mg/dL or creatinine clearance ≥ 60 mL/min",
           "or(creatinine <= 1.5 mg/dL, creatinine clearance >= 60 mL/min)"),
    "and": ("Platelets ≥ 100 × 10^9/L and hemoglobin ≥ 9 g/dL",
            "list(platelets >= 100 10*9/L, hemoglobin >= 9 g/dL)"),
    "and-or": ("Systolic blood pressure > 150 mmHg and/or diastolic blood pressure > 90 mmHg",
               "or(systolic blood pressure > 150 mm[Hg], diastolic blood pressure > 90 mm[Hg])"),
    "either-or": ("Either ANC ≥ 1500/µL or platelets ≥ 100,000/µL",
                  "or(anc >= 1500 /uL, platelets >= 100000 /uL)"),
    "comma-list": ("Absolute neutrophil count (ANC) ≥1,500/mm3, platelet count ≥100,000/mm3, hemoglobin ≥9.0 g/dL",
                   "list(anc >= 1500 /mm3, platelets >= 100000 /mm3, hemoglobin >= 9 g/dL)"),
    "comma-or-list": ("SBP ≥ 160 mmHg or DBP ≥ 100 mmHg, resting pulse > 100 bpm, or temperature ≥ 38,0 °C",
                      "or(systolic blood pressure >= 160 mm[Hg], diastolic blood pressure >= 100 mm[Hg], "
                      "heart rate > 100 /min, body temperature >= 38 Cel)"),
    "same-analyte-or": ("Serum potassium < 3.5 or > 5.5 mmol/L",
                        "or(potassium < 3.5 mmol/L, potassium > 5.5 mmol/L)"),
    "shared-comparator-analytes": ("AST and ALT ≤ 2.5 × ULN", "list(ast <= 2.5 x ULN, alt <= 2.5 x ULN)"),
    # conditions
    "if": ("Platelets ≥ 75 × 10^9/L (≥ 50 × 10^9/L if bone marrow involvement)",
           "if(<bone marrow involvement>, platelets >= 50 10*9/L, platelets >= 75 10*9/L)"),
    "when": ("Hemoglobin ≥ 9 g/dL, or ≥ 8 g/dL when transfusion independent",
             "if(<transfusion independent>, hemoglobin >= 8 g/dL, hemoglobin >= 9 g/dL)"),
    "in-case-of": ("ALT ≤ 3 × ULN or ≤ 5 × ULN in case of liver metastases",
                   "if(<liver metastases>, alt <= 5 x ULN, alt <= 3 x ULN)"),
    "for-patients-with": ("Total bilirubin ≤ 1.5 × ULN (≤ 3 × ULN for patients with Gilbert's syndrome)",
                          "if(<Gilbert's syndrome>, bilirubin <= 3 x ULN, bilirubin <= 1.5 x ULN)"),
    "in-patients-with": ("AST ≤ 2.5 × ULN (≤ 5 × ULN in patients with liver metastases)",
                         "if(<liver metastases>, ast <= 5 x ULN, ast <= 2.5 x ULN)"),
    "hepatic-metastases": ("ALT ≤ 3 × ULN (≤ 5 × ULN for patients with hepatic metastases)",
                           "if(<hepatic metastases>, alt <= 5 x ULN, alt <= 3 x ULN)"),
    "unless": ("INR ≤ 1.5 unless receiving anticoagulant therapy",
               "if(not(<receiving anticoagulant therapy>), inr <= 1.5)"),
    "unless-scope": ("INR ≤ 1.5 and aPTT ≤ 1.5 × ULN unless receiving therapeutic anticoagulation",
                     "if(not(<receiving therapeutic anticoagulation>), list(inr <= 1.5, aptt <= 1.5 x ULN))"),
    "unless-rule": ("Proteinuria ≥ 2+ on dipstick unless 24-hour urine protein < 1 g",
                    "if(not(urine protein < 1 g), urine protein >= 2)"),
    "except": ("Serum bilirubin < 1.5 times the upper limit of normal, except patients with documented "
               "Gilbert's disease (< 3 times ULN)",
               "if(<documented Gilbert's disease>, bilirubin < 3 x ULN, bilirubin < 1.5 x ULN)"),
    "except-who-must": ("TOTAL BILIRUBIN < 1.5 X ULN EXCEPT SUBJECTS WITH GILBERT SYNDROME, WHO MUST HAVE "
                        "TOTAL BILIRUBIN < 3.0 MG/DL",
                        "if(<GILBERT SYNDROME>, bilirubin < 3 mg/dL, bilirubin < 1.5 x ULN)"),
    "provided-that": ("ANC ≥ 1000/µL provided that no growth factor was given within 7 days",
                      "and(anc >= 1000 /uL, not(<growth factor was given>))"),
    "in-which-case": ("Bilirubin ≤ 1.5 × ULN unless Gilbert's syndrome, in which case ≤ 3 × ULN",
                      "if(<Gilbert's syndrome>, bilirubin <= 3 x ULN, bilirubin <= 1.5 x ULN)"),
    "respectively": ("Hemoglobin ≥ 13 g/dL and ≥ 12 g/dL for men and women, respectively",
                     "if(<men>, hemoglobin >= 13 g/dL, if(<women>, hemoglobin >= 12 g/dL))"),
    "men-women-parenthesised": ("Hemoglobin ≥ 9 g/dL (men) or ≥ 8 g/dL (women)",
                                "if(<men>, hemoglobin >= 9 g/dL, if(<women>, hemoglobin >= 8 g/dL))"),
    "in-men-in-women": ("QTcF > 450 ms in men or > 470 ms in women",
                        "if(<men>, qtc > 450 ms, if(<women>, qtc > 470 ms))"),
    "males-females-slash": ("QTcF ≤ 470 ms (females) / ≤ 450 ms (males)",
                            "if(<females>, qtc <= 470 ms, if(<males>, qtc <= 450 ms))"),
    "male-female-prefix": ("Patients with QTc interval prolongation (male >450 ms, female >470 ms)",
                           "if(<male>, qtc > 450 ms, if(<female>, qtc > 470 ms))"),
    "with-requirement": ("65 years or older, or 50 years or older with diabetes",
                         "if(<diabetes>, age >= 50 a, age >= 65 a)"),
    "with-and-without": ("BMI ≥ 35 kg/m2 with at least one obesity-related comorbidity, or ≥ 40 kg/m2 without",
                         "if(<at least one obesity-related comorbidity>, bmi >= 35 kg/m2, bmi >= 40 kg/m2)"),
    "without": ("Platelets ≥ 100 × 10⁹/L without transfusion within 7 days before screening labs",
                "and(platelets >= 100 10*9/L, not(<transfusion>))"),
    "with-a-limit": ("Serum ferritin < 100 ng/mL, or 100-300 ng/mL with transferrin saturation < 20%",
                     "or(ferritin < 100 ng/mL, and(ferritin >= 100 ng/mL, ferritin <= 300 ng/mL, "
                     "transferrin saturation < 20 %))"),
    "region": ("Age ≥ 18 years (≥ 20 years in Japan)", "if(<Japan>, age >= 20 a, age >= 18 a)"),
    "clinical-state-pair": ("NT-proBNP > 400 pg/mL in sinus rhythm or > 1200 pg/mL in atrial fibrillation",
                            "if(<sinus rhythm>, nt-probnp > 400 pg/mL, if(<atrial fibrillation>, nt-probnp > 1200 pg/mL))"),
    "age-picks-the-scale": ("Karnofsky ≥ 50 for patients > 16 years of age or Lansky ≥ 50 for patients ≤ 16 years of age",
                            "if(<> 16 years of age>, karnofsky >= 50, if(<≤ 16 years of age>, lansky >= 50))"),
    "age-aside": ("Lansky ≥ 60 (age ≤ 16) or Karnofsky ≥ 60 (age > 16)",
                  "if(<age ≤ 16>, lansky >= 60, if(<age > 16>, karnofsky >= 60))"),
    "age-band-table": ("Serum creatinine based on age: ≤ 0.8 mg/dL (1 to < 2 years), ≤ 1.0 mg/dL (2 to < 6 years)",
                       "if(<1 to < 2 years>, creatinine <= 0.8 mg/dL, if(<2 to < 6 years>, creatinine <= 1 mg/dL))"),
    "subject-must": ("Patients with known cardiac disease must have LVEF ≥ 45%",
                     "if(<known cardiac disease>, lvef >= 45 %)"),
    "sole-sex": ("Women aged 45 to 70 years", "and(age >= 45 a, age <= 70 a, <Women>)"),
    # parenthesised alternatives, restatements, shared comparators
    "parenthesised-or": ("ECOG performance status ≤ 2 (or Karnofsky ≥ 60%)", "or(ecog <= 2, karnofsky >= 60 %)"),
    "parenthesised-other-scale": ("ECOG performance status <=2 (Karnofsky >=60%)", "or(ecog <= 2, karnofsky >= 60 %)"),
    "restated-unit": ("Hemoglobin ≥ 8 g/dL (5.0 mmol/L)", "same(hemoglobin >= 8 g/dL, hemoglobin >= 5 mmol/L)"),
    "restated-with-or": ("ANC ≥ 1.5 × 10^9/L or ≥ 1500/mm3", "same(anc >= 1.5 10*9/L, anc >= 1500 /mm3)"),
    "limit-of-normal-or-absolute": ("Bilirubin ≤ 2 mg/dL or ≤ 1.5 × ULN", "or(bilirubin <= 2 mg/dL, bilirubin <= 1.5 x ULN)"),
    "shared-comparator-values": ("Creatinine ≤ 1.5 or 1.4 mg/dL for men and women respectively",
                                 "if(<men>, creatinine <= 1.5 mg/dL, if(<women>, creatinine <= 1.4 mg/dL))"),
    # ranges and value sets
    "range": ("Age 18-65 years", "and(age >= 18 a, age <= 65 a)"),
    "range-written-with-and": ("HbA1c ≥ 7.5% and ≤ 11.0%", "and(hba1c >= 7.5 %, hba1c <= 11 %)"),
    "ages-after-for-patients": ("Lansky ≥ 50% for patients ≤ 16 years; Karnofsky ≥ 50% for patients > 16 years",
                                "list(if(<≤ 16 years>, lansky >= 50 %), if(<> 16 years>, karnofsky >= 50 %))"),
    "stage-set": ("Stage IIIA, IIIB or IV non-small cell lung cancer", "stage in {IIIA, IIIB, IV}"),
    "stage-set-repeated-word": ("Stage IIIB/IIIC or Stage IV NSCLC", "stage in {IIIB, IIIC, IV}"),
    "nyha-set": ("NYHA class III or IV heart failure", "nyha class in {III, IV}"),
    "ecog-set": ("ECOG 0, 1 or 2", "ecog in {0, 1, 2}"),
    "child-pugh-set": ("Child-Pugh A or B", "child-pugh in {A, B}"),
    "child-pugh-one": ("Child-Pugh class A", "child-pugh in {A}"),
    # criterion-level quantifiers and negation
    "at-least-two": ("At least two of the following: age ≥ 65 years, BMI ≥ 30 kg/m2, HbA1c ≥ 6.5%",
                     "at_least(2: age >= 65 a, bmi >= 30 kg/m2, hba1c >= 6.5 %)"),
    "none-of": ("None of the following: ANC < 1000/µL, platelets < 50,000/µL",
                "not(or(anc < 1000 /uL, platelets < 50000 /uL))"),
    "do-not-meet-any": ("Do not meet any of the following: ALT > 3 × ULN, bilirubin > 2 × ULN",
                        "not(or(alt > 3 x ULN, bilirubin > 2 x ULN))"),
    "must-not": ("Must not have ALT > 3 × ULN", "not(alt > 3 x ULN)"),
    "no-evidence-of": ("No evidence of QTc > 480 ms", "not(qtc > 480 ms)"),
    "not-more-than-is-a-comparator": ("Not more than 3 prior regimens", "prior regimens <= 3"),
    # precedence
    "or-before-and": ("Febrile neutropenia: ANC < 0.5 x 10^9/L and a single oral temperature ≥ 38.3°C or ≥ 38.0°C",
                      "list(anc < 0.5 10*9/L, or(body temperature >= 38.3 Cel, body temperature >= 38 Cel))"),
    "clauses": ("Total bilirubin ≤ 1.5 x ULN; AST and ALT ≤ 3 x ULN (≤ 5 x ULN if liver metastases are present)",
                "list(bilirubin <= 1.5 x ULN, if(<liver metastases>, list(ast <= 5 x ULN, alt <= 5 x ULN), "
                "list(ast <= 3 x ULN, alt <= 3 x ULN)))"),
    # a later limit outside an earlier one says whom the limits after it are for
    "outside-the-limit": ("Creatinine ≤ 1.5 mg/dL; subjects with creatinine > 1.5 mg/dL require a creatinine "
                          "clearance ≥ 50 mL/min",
                          "if(creatinine > 1.5 mg/dL, creatinine clearance >= 50 mL/min, creatinine <= 1.5 mg/dL)"),
    # a condition that opens the bullet or a sentence is for the limit after it
    "leading-except": ("Except in subjects with hepatic metastases, AST ≤ 2.5 × ULN",
                       "if(not(<hepatic metastases>), ast <= 2.5 x ULN)"),
    "leading-except-second-sentence": ("ANC ≥ 1.5 × 10^9/L. Except for documented Gilbert's syndrome, total bilirubin "
                                       "≤ 1.5 mg/dL", "list(anc >= 1.5 10*9/L, if(not(<documented Gilbert's syndrome>), "
                                       "bilirubin <= 1.5 mg/dL))"),
    "leading-if-with-a-verb": ("If bone metastases are present, alkaline phosphatase ≤ 5 × ULN",
                               "if(<bone metastases>, alp <= 5 x ULN)"),
    # a limit, and later the same analyte's limit for a group: the group's, otherwise the first
    "group-limit-later-sentence": ("Serum creatinine ≤ 1.5 mg/dL; for subjects older than 75 years, serum creatinine "
                                   "≤ 1.2 mg/dL", "if(<older than 75 years>, creatinine <= 1.2 mg/dL, creatinine <= 1.5 mg/dL)"),
    "group-may-enrol-with": ("AST ≤ 3 × ULN. Subjects with hepatic involvement may be enrolled with AST ≤ 5 × ULN",
                             "if(<hepatic involvement>, ast <= 5 x ULN, ast <= 3 x ULN)"),
    "group-must-have": ("Hemoglobin ≥ 9 g/dL; participants on anticoagulants must have platelets ≥ 75 × 10^9/L",
                        "list(hemoglobin >= 9 g/dL, if(<anticoagulants>, platelets >= 75 10*9/L))"),
    # a range whose ends name sub-stages is the set of categories between them
    "sub-stage-range": ("AJCC stage IIB to IIIC melanoma", "stage in {IIB, IIC, IIIA, IIIB, IIIC}"),
    "outside-the-bounds": ("Fasting glucose outside 70 to 125 mg/dL", "or(glucose < 70 mg/dL, glucose > 125 mg/dL)"),
    "outside-a-range": ("Age 18 to 70 years; participants older than 70 years must have an MMSE of 24 or more",
                        "if(age > 70 a, mmse >= 24, and(age >= 18 a, age <= 70 a))"),
}


@pytest.mark.parametrize("text, expected", list(WORDINGS.values()), ids=list(WORDINGS))
def test_logic_wording_gives_its_tree(rules_nlp, text, expected):
    result = critparse.parse(text, nlp=rules_nlp)
    assert show_logic(result.logic, result.rules, result.concepts) == expected


@pytest.mark.parametrize(
    "text, kind, sex, thresholds",
    [
        ("QTcF > 450 ms in men or > 470 ms in women", "sex", "male", ()),
        ("Karnofsky ≥ 50 for patients > 16 years of age or Lansky ≥ 50 for patients ≤ 16 years of age",
         "age", None, ((">", 16.0, "a"),)),
        ("Serum creatinine based on age: ≤ 0.8 mg/dL (1 to < 2 years), ≤ 1.0 mg/dL (2 to < 6 years)",
         "age", None, ((">=", 1.0, "a"), ("<", 2.0, "a"))),
        ("Age ≥ 18 years (≥ 20 years in Japan)", "region", None, ()),
        ("INR ≤ 1.5 unless receiving anticoagulant therapy", "treatment", None, ()),
        ("ALT ≤ 3 × ULN (≤ 5 × ULN for patients with hepatic metastases)", "clinical", None, ()),
        ("Creatinine clearance ≥ 60 mL/min (≥ 45 mL/min if over 75 years)", "age", None, ((">", 75.0, "a"),)),
        ("ECOG 0-1 (ECOG ≤ 2 for participants older than 75)", "age", None, ((">", 75.0, "a"),)),
    ],
    ids=["sex", "age-words", "age-band", "region", "treatment", "clinical", "if-years", "people-no-unit"],
)
def test_logic_condition_kind(rules_nlp, text, kind, sex, thresholds):
    result = critparse.parse(text, nlp=rules_nlp)
    first = next(leaf for leaf in iter_leaves(result.logic) if isinstance(leaf, ConditionLeaf)).condition
    assert (first.kind, first.sex) == (kind, sex)
    assert tuple((t.comparator, t.value, t.unit) for t in first.thresholds) == thresholds
    assert text[first.span.start : first.span.end] == first.text


@pytest.mark.parametrize(
    "text, rules",
    [
        ("Karnofsky ≥ 50 for patients > 16 years of age or Lansky ≥ 50 for patients ≤ 16 years of age",
         [("karnofsky", ">=", 50.0), ("lansky", ">=", 50.0)]),
        ("ALT ≤ 3 × ULN (if liver metastases ≤ 5 × ULN)", [("alt", "<=", 3.0), ("alt", "<=", 5.0)]),
        ("Creatinine ≤ 1.5 or 1.4 mg/dL for men and women respectively",
         [("creatinine", "<=", 1.5), ("creatinine", "<=", 1.4)]),
    ],
    ids=["age-words-are-no-rule", "condition-words-are-no-analyte", "unit-written-once"],
)
def test_logic_mends_the_rules(rules_nlp, text, rules):
    result = critparse.parse(text, nlp=rules_nlp)
    assert [(r.analyte.name, r.comparator, r.value) for r in result.rules] == rules
    if "mg/dL" in text:
        assert {r.unit for r in result.rules} == {"mg/dL"}


@pytest.mark.parametrize(
    "text, values, covered",
    [("Stage IIIA, IIIB or IV", ("IIIA", "IIIB", "IV"), True), ("Child-Pugh A or B", ("A", "B"), False)],
    ids=["stage", "child-pugh"],
)
def test_logic_value_set_keeps_the_flat_bounds(rules_nlp, text, values, covered):
    result = critparse.parse(text, nlp=rules_nlp)
    assert isinstance(result.logic, ValueSetLeaf)
    vs = result.logic.value_set
    assert vs.values == values and text[vs.span.start : vs.span.end] == vs.text
    assert bool(vs.rules) == covered and all(i < len(result.rules) for i in vs.rules)


def _concept(text: str, whole: str, **extra) -> Concept:
    start = whole.index(text)
    fields = {"type": "condition", **extra}
    return Concept(text=text, span=Span(start=start, end=start + len(text)), name=text.lower(), **fields)


@pytest.mark.parametrize(
    "text, names, expected",
    [
        ("Patients with human immunodeficiency virus, hepatitis B or C infection",
         ["human immunodeficiency virus", "hepatitis B", "C infection"],
         'or("human immunodeficiency virus", "hepatitis B", "C infection")'),
        ("Pregnant or lactating women", ["Pregnant", "lactating"], 'or("Pregnant", "lactating")'),
        ("Heart failure and diabetes", ["Heart failure", "diabetes"], 'list("Heart failure", "diabetes")'),
    ],
    ids=["three-infections", "pregnant-or-lactating", "two-conditions"],
)
def test_logic_concepts_are_leaves(text, names, expected):
    concepts = [_concept(n, text) for n in names]
    drafted = build_logic(text, [], concepts=concepts)
    assert show_logic(drafted.logic, drafted.rules, concepts) == expected


@pytest.mark.parametrize(
    "text, names, expected",
    [
        ("No history of myocardial infarction or unstable angina", ["myocardial infarction", "unstable angina"],
         'and("myocardial infarction", "unstable angina")'),
        ("Free of asthma, eczema or hay fever", ["asthma", "eczema", "hay fever"], 'and("asthma", "eczema", "hay fever")'),
        ("No asthma or no eczema", ["asthma", "eczema"], 'or("asthma", "eczema")'),
    ],
    ids=["one-negation", "list", "a-negation-each"],
)
def test_logic_one_negation_over_alternatives_is_none_of_them(text, names, expected):
    concepts = [_concept(n, text, negated=True) for n in names]
    drafted = build_logic(text, [], concepts=concepts)
    assert show_logic(drafted.logic, drafted.rules, concepts) == expected
    assert drafted.problem is None


def test_logic_concept_in_a_condition_is_the_conditions_concept(rules_nlp):
    text = "ALT ≤ 3 × ULN (≤ 5 × ULN for patients with hepatic metastases)"
    rules = critparse.parse(text, nlp=rules_nlp).rules
    concepts = [_concept("hepatic metastases", text)]
    drafted = build_logic(text, rules, concepts=concepts)
    assert show_logic(drafted.logic, drafted.rules, concepts) == "if(<hepatic metastases>, alt <= 5 x ULN, alt <= 3 x ULN)"
    condition = drafted.logic.args[0].condition
    assert condition.concept == 0


def test_logic_examples_of_a_condition_are_no_leaves(rules_nlp):
    text = "BMI ≥ 30 kg/m² or ≥ 27 kg/m² with a weight-related comorbidity (hypertension, dyslipidemia)"
    rules = critparse.parse(text, nlp=rules_nlp).rules
    concepts = [_concept("comorbidity", text), _concept("hypertension", text), _concept("dyslipidemia", text)]
    drafted = build_logic(text, rules, concepts=concepts)
    assert show_logic(drafted.logic, drafted.rules, concepts) == \
        "if(<weight-related comorbidity>, bmi >= 27 kg/m2, bmi >= 30 kg/m2)"


def test_logic_measurement_methods_are_no_leaves(rules_nlp):
    text = "Most recent LVEF ≥ 50% by echocardiogram or MUGA"
    rules = critparse.parse(text, nlp=rules_nlp).rules
    concepts = [_concept("echocardiogram", text, type="procedure"), _concept("MUGA", text, type="procedure")]
    drafted = build_logic(text, rules, concepts=concepts)
    assert show_logic(drafted.logic, drafted.rules, concepts) == "lvef >= 50 %"


def test_logic_heading_and_defined_concepts_are_no_leaves(rules_nlp):
    text = "Adequate renal function defined as creatinine ≤ 1.5 mg/dL; obesity (BMI ≥ 30 kg/m²)"
    rules = critparse.parse(text, nlp=rules_nlp).rules
    concepts = [_concept("renal function", text), _concept("obesity", text)]
    drafted = build_logic(text, rules, concepts=concepts)
    assert show_logic(drafted.logic, drafted.rules, concepts) == "list(creatinine <= 1.5 mg/dL, bmi >= 30 kg/m2)"


@pytest.mark.parametrize(
    "parent, expected",
    [
        ("Adequate organ function, defined as:", "list(#inclusion/3/a, #inclusion/3/b, #inclusion/3/c)"),
        ("All of the following:", "and(#inclusion/3/a, #inclusion/3/b, #inclusion/3/c)"),
        ("One of the following:", "or(#inclusion/3/a, #inclusion/3/b, #inclusion/3/c)"),
        ("Prior treatment with any of the following:", "or(#inclusion/3/a, #inclusion/3/b, #inclusion/3/c)"),
        ("At least two of the following criteria:", "at_least(2: #inclusion/3/a, #inclusion/3/b, #inclusion/3/c)"),
        ("Patients who do not meet all of the following:", "not(and(#inclusion/3/a, #inclusion/3/b, #inclusion/3/c))"),
        ("None of the following:", "not(or(#inclusion/3/a, #inclusion/3/b, #inclusion/3/c))"),
    ],
    ids=["list", "all-of", "one-of", "any-of", "at-least-two", "do-not-meet-all", "none-of"],
)
def test_logic_children_combine_as_the_parent_says(parent, expected):
    paths = ["inclusion/3/a", "inclusion/3/b", "inclusion/3/c"]
    assert show_logic(combine_children(parent, paths)) == expected


def test_logic_link_children_sets_the_parents_tree():
    items = [
        Criterion(section="inclusion", path="inclusion/1", text="One of the following:"),
        Criterion(section="inclusion", path="inclusion/1/a", text="a"),
        Criterion(section="inclusion", path="inclusion/1/b", text="b"),
        Criterion(section="inclusion", path="inclusion/2", text="alone"),
    ]
    linked = link_children(items)
    assert show_logic(linked[0].logic) == "or(#inclusion/1/a, #inclusion/1/b)"
    assert [c.logic for c in linked[1:]] == [None, None, None]
    assert link_children(linked) == linked  # linking twice changes nothing


def test_logic_flat_logic_reads_ranges_together(rules_nlp):
    result = critparse.parse("Age 18-65 years, creatinine < 2 mg/dL", nlp=rules_nlp)
    assert show_logic(flat_logic(result.rules), result.rules) == "list(and(age >= 18 a, age <= 65 a), creatinine < 2 mg/dL)"


def test_logic_is_in_the_json_and_the_schema(rules_nlp):
    result = critparse.parse("ALT ≤ 3 × ULN (≤ 5 × ULN for patients with hepatic metastases)", nlp=rules_nlp)
    data = json.loads(result.model_dump_json())
    assert data["logic"]["op"] == "if" and data["logic"]["args"][1] == {"rule": 1}
    assert ParseResult.model_validate_json(result.model_dump_json()) == result
    schema = critparse.model.output_json_schema()
    assert "logic" in schema["properties"] and {"Op", "RuleLeaf", "ConditionLeaf", "ValueSet"} <= set(schema["$defs"])


def test_logic_leaf_outside_the_rules_is_rejected():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="rule 3"):
        ParseResult(text="x", logic=RuleLeaf(rule=3))
    with pytest.raises(ValidationError, match="'if' takes"):
        Op(op="if", args=(RuleLeaf(rule=0),))


@pytest.mark.parametrize(
    "text",
    ["", "(((", "or or or", "unless", "for patients with", "respectively, respectively", ") ≤ 3 (", "≥ ≥ 5 or",
     "ALT ≤ 3 × ULN (≤ 5 × ULN for patients with", "Stage I, II, III, IV, V, IIIA, IIIB or IIIC" * 5],
    ids=lambda t: t[:20] or "empty",
)
def test_logic_nasty_text_never_raises(rules_nlp, text):
    result = critparse.parse(text, nlp=rules_nlp)
    assert all(d.code != "logic_unread" for d in result.diagnostics)
    if result.logic is not None:
        assert all(leaf.rule < len(result.rules) for leaf in iter_leaves(result.logic) if isinstance(leaf, RuleLeaf))


def test_logic_of_the_default_pipeline(nlp):
    """The default pipeline (with concepts) gives trees too."""
    result = critparse.parse("Serum creatinine ≤ 1.6 mg/dL or creatinine clearance ≥ 55 mL/min", nlp=nlp)
    assert isinstance(result.logic, Op) and result.logic.op == "or"
    parent = combine_children("Any of the following:", ["exclusion/2/a", "exclusion/2/b"])
    assert all(isinstance(leaf, CriterionLeaf) for leaf in iter_leaves(parent))


@pytest.mark.parametrize(
    "text",
    [
        "Stage IIIA, IIIB or IV",
        "NYHA FUNCTIONAL CLASS III or IV",
        "Child-Pugh class A",
        "ECOG performance status 0-1",
        "\u017ftage II",  # a long s: read by the matcher's case rules, so never skipped
        "no scale word at all",
        "ALT ≤ 3 × ULN unless liver metastases",
        "EXCEPT for patients with Gilbert's syndrome",
        "with the exception of alopecia",
        "other than in the bone marrow",
    ],
)
def test_logic_cue_shortcuts_find_what_the_patterns_find(text):
    """The word checks that skip a scan never skip a cue the full pattern finds."""
    from critparse.extract.logic_cues import logic_cues

    cues = logic_cues()
    assert [(m.start, m.end) for m in cues.scales(text)] == [m.span() for m in cues.scale_re.finditer(text)]
    assert cues.has_unless(text) == (cues.unless_re.search(text) is not None)


def _revalidated(node):
    """The tree built again through `Op`'s own validation, node by node."""
    if not isinstance(node, Op):
        return node
    given = {name: getattr(node, name) for name in node.model_fields_set if name != "args"}
    return Op(args=tuple(_revalidated(a) for a in node.args), **given)


@pytest.mark.parametrize("text", [
    *(text for text, _ in WORDINGS.values()),
    "hepatitis B or C, hepatitis B or C, HIV",
    "ALT ≤ 3 × ULN unless liver metastases",
    "Hemoglobin ≥ 8 g/dL (5.0 mmol/L) and bilirubin ≤ 1.5 × ULN (≤ 3 × ULN for patients with Gilbert's syndrome)",
])
def test_logic_nodes_built_unvalidated_equal_validated(nlp, text):
    """Operator nodes are built without validating again: each must be what validating gives."""
    logic = critparse.parse(text, nlp=nlp).logic
    if logic is None:
        return
    again = _revalidated(logic)
    assert again == logic and again.model_dump_json() == logic.model_dump_json()
    stack = [(logic, again)]
    while stack:
        a, b = stack.pop()
        if isinstance(a, Op):
            assert a.model_fields_set == b.model_fields_set and list(vars(a)) == list(vars(b))
            stack.extend(zip(a.args, b.args, strict=True))


def test_logic_a_heading_with_a_remark_is_no_leaf(nlp):
    text = "Adequate hepatic function (see section 5.3): total bilirubin ≤ 1.5 × ULN"
    result = critparse.parse(text, nlp=nlp)
    assert show_logic(result.logic, result.rules, result.concepts) == "bilirubin <= 1.5 x ULN"


def test_logic_a_may_before_concepts_grants_and_requires_nothing(nlp):
    result = critparse.parse("Participants with prior surgery may have received adjuvant chemotherapy", nlp=nlp)
    assert result.concepts and "if(" not in show_logic(result.logic, result.rules, result.concepts)


def test_logic_unless_a_limit_spares_the_condition(nlp):
    result = critparse.parse("Previous malignancy unless disease free for at least 5 years", nlp=nlp)
    assert show_logic(result.logic, result.rules, result.concepts) == 'if(not(duration of disease free >= 5 a), "malignancy")'
