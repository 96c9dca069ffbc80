"""Screening by the logic tree: Kleene's three values on hand-built trees, and the hand-checked
patient cases of `logic_cases.jsonl` (alternatives, conditions, restatements, stages, ages,
sex-specific limits, parents and children) run from the criterion's text to the verdict."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from rule_builder import make_rule

import critparse
from critparse.model import Criterion
from critparse.model.logic import Condition, ConditionLeaf, Op, RuleLeaf, ValueSet, ValueSetLeaf
from critparse.model.rule import Analyte
from critparse.model.span import Span

CASES = [json.loads(line) for line in (Path(__file__).parent / "logic_cases.jsonl").read_text("utf-8").splitlines()
         if line.strip()]


def _criteria(case: dict, nlp) -> list[Criterion]:
    if case.get("criteria"):
        items = case["criteria"]
    else:
        items = [{"section": case["section"], "path": f"{case['section']}/1", "text": case["text"]}]
    out = []
    for item in items:
        parsed = critparse.parse(item["text"], nlp=nlp)
        out.append(Criterion(section=item["section"], path=item["path"], text=item["text"], rules=parsed.rules,
                             concepts=parsed.concepts, logic=parsed.logic,
                             no_threshold_reason=parsed.no_threshold_reason))
    return out


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_logic_screening_case(nlp, case):
    as_of = date.fromisoformat(case["as_of"]) if case.get("as_of") else None
    result = critparse.evaluate(_criteria(case, nlp), case["patient"], as_of=as_of)
    assert result.verdict == case["verdict"], f"{case['why']} | {result.reason}"


def test_logic_screening_has_enough_cases():
    assert len(CASES) >= 60
    assert len({c["id"] for c in CASES}) == len(CASES)


# --- the three values on hand-built trees -------------------------------------------------------

ALT3 = make_rule("alt", "<=", 3, "x ULN")
ALT5 = make_rule("alt", "<=", 5, "x ULN")
HEPATIC = ConditionLeaf(condition=Condition(text="men", span=Span(start=0, end=3), kind="sex", sex="male"))


def _one(logic, rules, patient, section="inclusion"):
    criterion = Criterion(section=section, path=f"{section}/1", text="t", rules=rules, logic=logic)
    return critparse.evaluate([criterion], patient).criteria[0]


@pytest.mark.parametrize(
    "sex, alt, outcome",
    [("male", 160, "met"), ("female", 160, "not_met"), (None, 160, "unknown"), (None, 80, "met"), (None, 240, "not_met")],
    ids=["condition-met", "condition-not-met", "unknown-branches-differ", "unknown-both-met", "unknown-both-fail"],
)
def test_logic_if_takes_the_branch_its_condition_picks(sex, alt, outcome):
    tree = Op(op="if", args=(HEPATIC, RuleLeaf(rule=1), RuleLeaf(rule=0)))
    patient = {"alt": {"value": alt, "unit": "U/L", "uln": 40}, **({"sex": sex} if sex else {})}
    result = _one(tree, (ALT3, ALT5), patient)
    assert result.outcome == outcome
    if sex == "male":
        assert "condition met" in result.reason
    assert result.leaves and result.leaves[0].kind == "condition"


@pytest.mark.parametrize("section, outcome, verdict", [("inclusion", "met", "eligible"), ("exclusion", "not_met", "eligible")],
                         ids=["inclusion-applies-not", "exclusion-excludes-no-one"])
def test_logic_if_without_otherwise_when_the_condition_fails(section, outcome, verdict):
    tree = Op(op="if", args=(HEPATIC, RuleLeaf(rule=0)))
    result = _one(tree, (make_rule("qtc", ">", 450, "ms"),), {"qtc": "500 ms", "sex": "female"}, section)
    assert (result.outcome, result.verdict) == (outcome, verdict)


@pytest.mark.parametrize(
    "op, a, b, outcome",
    [("and", "met", "unknown", "unknown"), ("and", "not_met", "unknown", "not_met"),
     ("or", "met", "unknown", "met"), ("or", "not_met", "unknown", "unknown"), ("or", "not_met", "not_met", "not_met")],
    ids=["and-unknown", "and-not-met-decides", "or-met-decides", "or-unknown", "or-both-fail"],
)
def test_logic_kleene_and_or(op, a, b, outcome):
    values = {"met": "1 mg/dL", "not_met": "3 mg/dL"}
    rules = (make_rule("creatinine", "<", 2, "mg/dL"), make_rule("bilirubin", "<", 2, "mg/dL"))
    patient = {"creatinine": values[a], **({"bilirubin": values[b]} if b != "unknown" else {})}
    tree = Op(op=op, args=(RuleLeaf(rule=0), RuleLeaf(rule=1)))
    assert _one(tree, rules, patient).outcome == outcome


def test_logic_not_and_at_least():
    rules = tuple(make_rule(n, "<", 2, "mg/dL") for n in ("creatinine", "bilirubin", "glucose"))
    patient = {"creatinine": "1 mg/dL", "bilirubin": "1 mg/dL"}
    two = Op(op="at_least", n=2, args=tuple(RuleLeaf(rule=i) for i in range(3)))
    assert _one(two, rules, patient).outcome == "met"
    three = Op(op="at_least", n=3, args=tuple(RuleLeaf(rule=i) for i in range(3)))
    assert _one(three, rules, patient).outcome == "unknown"
    assert _one(Op(op="not", args=(RuleLeaf(rule=0),)), rules, patient).outcome == "not_met"


def test_logic_list_excludes_on_any_item_and_includes_on_all():
    rules = (make_rule("alt", ">", 3, "x ULN"), make_rule("ast", ">", 3, "x ULN"))
    tree = Op(op="and", enumeration=True, args=(RuleLeaf(rule=0), RuleLeaf(rule=1)))
    patient = {"alt": {"value": 200, "unit": "U/L", "uln": 40}, "ast": {"value": 20, "unit": "U/L", "uln": 40}}
    assert _one(tree, rules, patient, "exclusion").verdict == "ineligible"
    assert _one(tree, rules, patient, "inclusion").outcome == "not_met"


def test_logic_same_judges_the_form_in_the_patients_unit():
    rules = (make_rule("hemoglobin", ">=", 8, "g/dL"), make_rule("hemoglobin", ">=", 5.0, "mmol/L"))
    tree = Op(op="same", args=(RuleLeaf(rule=0), RuleLeaf(rule=1)))
    assert _one(tree, rules, {"hemoglobin": "8 g/dL"}).outcome == "met"  # 8 g/dL is 4.97 mmol/L
    assert _one(tree, rules, {"hemoglobin": "4.98 mmol/L"}).outcome == "not_met"
    assert _one(tree, rules, {}).outcome == "unknown"


@pytest.mark.parametrize("category, outcome", [("IIIB", "met"), ("IIIC", "not_met"), ("III", "unknown"), ("IV", "met")])
def test_logic_value_set(category, outcome):
    vs = ValueSet(analyte=Analyte(text="Stage", name="stage", in_lexicon=True), values=("IIIA", "IIIB", "IV"),
                  text="IIIA, IIIB or IV", span=Span(start=6, end=22))
    assert _one(ValueSetLeaf(value_set=vs), (), {"stage": category}).outcome == outcome


def test_logic_records_reader_missing_is_unknown(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_records(name, *args, **kwargs):
        if name == "critparse.screen.records":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_records)
    leaf = ConditionLeaf(condition=Condition(text="hepatic metastases", span=Span(start=0, end=18), kind="clinical"))
    result = _one(Op(op="if", args=(leaf, RuleLeaf(rule=1), RuleLeaf(rule=0))), (ALT3, ALT5),
                  {"alt": {"value": 160, "unit": "U/L", "uln": 40}, "conditions": ["hepatic metastases"]})
    assert result.outcome == "unknown"


def test_logic_verdict_names_the_inclusion_that_stands_in_the_way():
    met = Criterion(section="inclusion", path="inclusion/1", text="Age ≥ 18", rules=(make_rule("age", ">=", 18, "a"),))
    open_ = Criterion(section="inclusion", path="inclusion/2", text="ALT", rules=(ALT3,))
    result = critparse.evaluate([met, open_], {"age": 40})
    assert result.verdict == "unknown" and "inclusion/2" in result.reason


@pytest.mark.parametrize("field, sex, verdict", [("sex: FEMALE", "male", "ineligible"), ("sex: FEMALE", "female", "eligible"),
                                                  ("sex: ALL", "male", "eligible"), ("healthyVolunteers: false", "male", "eligible")],
                         ids=["female-only-man", "female-only-woman", "all", "volunteers"])
def test_logic_registry_fields(field, sex, verdict):
    structured = Criterion(kind="structured", section="inclusion", path=f"structured/{field.split(':')[0]}", text=field)
    age = Criterion(section="inclusion", path="inclusion/1", text="Age ≥ 18", rules=(make_rule("age", ">=", 18, "a"),))
    assert critparse.evaluate([structured, age], {"age": 40, "sex": sex}).verdict == verdict
