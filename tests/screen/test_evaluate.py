"""Evaluation of the seed trial's rules (NCT02186860) against patients who meet, fail or lack each."""

from __future__ import annotations

import math
from datetime import date

import pytest
from pydantic import ValidationError
from rule_builder import make_rule

import critparse
from critparse.errors import ResourceError
from critparse.lexicon.resources import Resources
from critparse.model import Criterion, ParseResult
from critparse.screen.evaluate import (
    ScreeningResult,
    evaluate,
    evaluate_rule,
    load_uln_table,
)
from critparse.screen.patient import patient_from_mapping

rule = make_rule


SEED_RULES = {
    "age_min": rule("age", ">=", 18, "a"),
    "age_max": rule("age", "<=", 65, "a"),
    "stage_min": rule("stage", ">=", 3),
    "stage_max": rule("stage", "<=", 4),
    "creatinine": rule("creatinine", "<", 2.5, "mg/dL"),
    "ast": rule("ast", "<", 3, "x ULN"),
    "alt": rule("alt", "<", 3, "x ULN"),
    "bilirubin": rule("bilirubin", "<", 2.0, "mg/dL"),
    "karnofsky": rule("karnofsky", ">=", 60),
    "life_expectancy": rule("life expectancy", ">", 3, "mo"),
}

ELIGIBLE = {
    "age": 42,
    "stage": 3,
    "creatinine": "1.1 mg/dL",
    "ast": {"value": 60, "unit": "U/L", "uln": 40},
    "alt": "50 U/L",
    "bilirubin": "1.1 mg/dL",
    "karnofsky": 70,
    "life expectancy": "6 months",
}

# rule key -> (patient key, value that meets, value that fails)
CASES = {
    "age_min": ("age", 18, 17),
    "age_max": ("age", 65, 66),
    "stage_min": ("stage", 3, 2),
    "stage_max": ("stage", 4, 5),
    "creatinine": ("creatinine", "220 umol/L", "2.5 mg/dL"),
    "ast": ("ast", {"value": 119, "unit": "U/L", "uln": 40}, {"value": 120, "unit": "U/L", "uln": 40}),
    "alt": ("alt", "92 U/L", "154 U/L"),  # default ULN 41 U/L, give or take a laboratory's 25%
    "bilirubin": ("bilirubin", "34 umol/L", "34.3 umol/L"),
    "karnofsky": ("karnofsky", 60, 50),
    "life_expectancy": ("life expectancy", "14 wk", "3 mo"),
}


def criteria() -> list[Criterion]:
    """The seed trial's threshold criteria, one per rule, all inclusion."""
    return [
        Criterion(section="inclusion", path=f"inclusion/{key}", text=r.text, rules=(r,))
        for key, r in SEED_RULES.items()
    ]


def by_path(result: ScreeningResult) -> dict[str, object]:
    return {c.id: c for c in result.criteria}


def test_screen_seed_trial_eligible_patient():
    result = evaluate(criteria(), ELIGIBLE)
    assert result.verdict == "eligible", result.reason
    assert result.met == len(SEED_RULES) and result.not_met == 0 and result.unknown == 0


@pytest.mark.parametrize("key", list(CASES), ids=list(CASES))
def test_screen_seed_rule_met(key):
    patient_key, good, _bad = CASES[key]
    patient = patient_from_mapping({**ELIGIBLE, patient_key: good})
    result = evaluate_rule(SEED_RULES[key], patient)
    assert result.outcome == "met", result.reason
    assert result.converted_value is not None
    assert evaluate(criteria(), {**ELIGIBLE, patient_key: good}).verdict == "eligible"


@pytest.mark.parametrize("key", list(CASES), ids=list(CASES))
def test_screen_seed_rule_not_met(key):
    patient_key, _good, bad = CASES[key]
    patient = patient_from_mapping({**ELIGIBLE, patient_key: bad})
    result = evaluate_rule(SEED_RULES[key], patient)
    assert result.outcome == "not_met", result.reason
    screened = evaluate(criteria(), {**ELIGIBLE, patient_key: bad})
    assert screened.verdict == "ineligible"
    assert by_path(screened)[f"inclusion/{key}"].verdict == "ineligible"


@pytest.mark.parametrize("key", list(CASES), ids=list(CASES))
def test_screen_seed_rule_missing_value_is_unknown(key):
    patient_key = CASES[key][0]
    data = {k: v for k, v in ELIGIBLE.items() if k != patient_key}
    result = evaluate_rule(SEED_RULES[key], patient_from_mapping(data))
    assert result.outcome == "unknown"
    assert patient_key in result.reason
    screened = evaluate(criteria(), data)
    assert screened.verdict == "unknown"
    assert screened.unknown >= 1


def test_screen_cell_count_tolerance():
    anc = rule("anc", ">=", 1.5, "10*9/L")
    for written in ("1,500/mm3", "1500 /uL", "1.5 x 10^9/L", {"value": 1.5, "unit": "10*9/L"}):
        result = evaluate_rule(anc, patient_from_mapping({"anc": written}))
        assert result.outcome == "met", (written, result.reason)
        assert math.isclose(result.converted_value, 1.5)
    strict = rule("anc", ">", 1.5, "10*9/L")
    assert evaluate_rule(strict, patient_from_mapping({"anc": "1,500/mm3"})).outcome == "not_met"


def test_screen_result_carries_observed_and_converted_values():
    result = evaluate_rule(SEED_RULES["creatinine"], patient_from_mapping({"creatinine": "150 umol/L"}))
    assert result.outcome == "met"
    assert (result.observed_value, result.observed_unit) == (150.0, "umol/L")
    assert result.converted_unit == "mg/dL"
    assert math.isclose(result.converted_value, 150 / 88.4, rel_tol=1e-3)
    assert "umol/L" in result.reason and "mg/dL" in result.reason
    with pytest.raises(ValidationError):
        result.outcome = "not_met"  # results are frozen


def test_screen_uln_from_patient_range_beats_default():
    ast = SEED_RULES["ast"]
    own = evaluate_rule(ast, patient_from_mapping({"ast": {"value": 100, "unit": "U/L", "uln": 30}}))
    assert own.outcome == "not_met" and own.limit_value == 30 and "patient" in own.reason
    default = evaluate_rule(ast, patient_from_mapping({"ast": "80 U/L"}))
    assert default.outcome == "met" and default.limit_value == 38  # uln.json: AST 38 U/L
    assert default.limit_source.startswith("default")


def test_screen_uln_unknown_when_no_limit_known():
    result = evaluate_rule(rule("ferritin", "<", 2, "x ULN"), patient_from_mapping({"ferritin": "300 ng/mL"}))
    assert result.outcome == "unknown" and "ULN" in result.reason


def test_screen_lln_rule_uses_lower_limit():
    hb = rule("hemoglobin", ">=", 1, "x LLN")
    female = patient_from_mapping({"sex": "female", "hemoglobin": "15.2 g/dL"})
    male = patient_from_mapping({"sex": "male", "hemoglobin": "15.2 g/dL"})
    assert evaluate_rule(hb, female).outcome == "met"  # female LLN 12.0, give or take 25%
    assert evaluate_rule(hb, male).outcome == "unknown"  # male LLN 13.3: 15.2 fails at 1.25 x 13.3
    assert evaluate_rule(hb, patient_from_mapping({"sex": "male", "hemoglobin": "9.5 g/dL"})).outcome == "not_met"


@pytest.mark.parametrize(("value", "expected"), [("60 U/L", "met"), ("95 U/L", "unknown"), ("130 U/L", "not_met")])
def test_screen_default_uln_decides_only_for_every_laboratory(value, expected):
    """A default limit of normal is one laboratory's: AST 95 U/L is 2.5 x the table's 38 U/L,
    under the limit for a laboratory at 40 U/L and over it at 30 U/L, so it is unknown."""
    result = evaluate_rule(rule("ast", "<=", 2.5, "x ULN"), patient_from_mapping({"ast": value}))
    assert result.outcome == expected, result.reason
    if expected == "unknown":
        assert "may differ" in result.reason


def test_screen_custom_uln_table(tmp_path):
    path = tmp_path / "uln.json"
    path.write_text('{"limits": [{"analyte": "ast", "unit": "U/L", "uln": 50, "source": "our lab"}]}')
    table = load_uln_table(path)
    result = evaluate_rule(SEED_RULES["ast"], patient_from_mapping({"ast": "140 U/L"}), uln_table=table)
    assert result.outcome == "met" and result.limit_value == 50


def test_screen_uln_table_reports_every_problem(tmp_path):
    path = tmp_path / "uln.json"
    path.write_text(
        '{"limits": [{"analyte": "ast", "unit": "U/L", "source": "s"},'
        ' {"analyte": "alt", "unit": "furlong", "uln": 4, "source": "s"},'
        ' {"analyte": "ggt", "unit": "U/L", "uln": 4, "source": "s", "colour": 1}]}'
    )
    with pytest.raises(ResourceError) as info:
        Resources(normal_limits=path).normal_limits  # noqa: B018 - the load is the test
    message = str(info.value)
    assert "3 problem" in message and "furlong" in message and "colour" in message


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({"creatinine": float("nan")}, ["NaN"]),
        ({"creatinine": "nan mg/dL"}, ["NaN"]),
        ({"creatinine": "1.1 bogons"}, ["bogons"]),
        ({"creatinine": "1.1 kg"}, ["'kg'", "'mg/dL'"]),
        ({"creatinine": "-1 mg/dL"}, ["negative"]),
        ({"creatinine": "high"}, ["high"]),
        ({"creatinine": True}, ["boolean"]),
        ({"creatinine": None}, ["no value"]),
        ({"creatinine": {"value": 1.1, "units": "mg/dL"}}, ["units"]),
        ({"creatinine": "1.1 x ULN"}, ["x ULN"]),
    ],
)
def test_screen_bad_values_are_unknown_never_met(data, words):
    result = evaluate_rule(SEED_RULES["creatinine"], patient_from_mapping(data))
    assert result.outcome == "unknown"
    for word in words:
        assert word in result.reason


def test_screen_negative_counts_are_unknown():
    result = evaluate_rule(rule("platelets", "<", 100, "10*9/L"), patient_from_mapping({"platelets": "-5 x10^9/L"}))
    assert result.outcome == "unknown" and "negative" in result.reason


def test_screen_unitless_score_against_unit_rule_is_unknown():
    result = evaluate_rule(SEED_RULES["creatinine"], patient_from_mapping({"creatinine": {"value": 1.1, "unit": None}}))
    assert result.outcome == "unknown"


def test_screen_karnofsky_percent_and_bare_agree():
    with_percent = rule("karnofsky", ">=", 60, "%")
    assert evaluate_rule(with_percent, patient_from_mapping({"karnofsky": 70})).outcome == "met"
    assert evaluate_rule(SEED_RULES["karnofsky"], patient_from_mapping({"karnofsky": "70 %"})).outcome == "met"
    ecog = rule("ecog", "<=", 1)
    assert evaluate_rule(ecog, patient_from_mapping({"ecog": "1 %"})).outcome == "unknown"


def test_screen_exclusion_met_makes_patient_ineligible():
    excl = Criterion(
        section="exclusion",
        path="exclusion/1",
        text="Creatinine > 2.0 mg/dL",
        rules=(rule("creatinine", ">", 2.0, "mg/dL"),),
    )
    high = evaluate([excl], {"creatinine": "2.1 mg/dL"})
    assert high.verdict == "ineligible" and high.criteria[0].outcome == "met"
    assert "excluded" in high.criteria[0].reason
    low = evaluate([excl], {"creatinine": "1.9 mg/dL"})
    assert low.verdict == "eligible" and low.criteria[0].outcome == "not_met"
    missing = evaluate([excl], {})
    assert missing.verdict == "unknown"


def test_screen_rules_within_a_criterion_are_anded():
    both = Criterion(
        section="inclusion",
        path="inclusion/7",
        text="AST/ALT < 3x normal",
        rules=(SEED_RULES["ast"], SEED_RULES["alt"]),
    )
    ok = evaluate([both], {"ast": "50 U/L", "alt": "50 U/L"})
    assert ok.criteria[0].outcome == "met"
    one_bad = evaluate([both], {"ast": "50 U/L", "alt": "500 U/L"})
    assert one_bad.criteria[0].outcome == "not_met" and one_bad.verdict == "ineligible"
    one_unknown = evaluate([both], {"ast": "50 U/L"})
    assert one_unknown.criteria[0].outcome == "unknown"
    # a known failure decides even when the other rule is unknown
    decided = evaluate([both], {"ast": "500 U/L"})
    assert decided.criteria[0].outcome == "not_met"


def test_screen_parse_results_are_treated_as_inclusion_and_say_so():
    parsed = ParseResult(id=7, text="Creatinine < 2.5 mg/dl", rules=(SEED_RULES["creatinine"],))
    result = evaluate([parsed], {"creatinine": "3 mg/dL"})
    crit = result.criteria[0]
    assert crit.section == "inclusion" and crit.section_assumed and crit.id == "7"
    assert "treated as inclusion" in crit.reason
    assert result.verdict == "ineligible"


def test_screen_bare_rules_accepted_one_per_criterion():
    result = evaluate(list(SEED_RULES.values()), ELIGIBLE)
    assert len(result.criteria) == len(SEED_RULES)
    assert result.verdict == "eligible"
    single = evaluate(SEED_RULES["age_min"], {"age": 17})
    assert single.verdict == "ineligible"


def test_screen_criteria_without_rules_are_listed_and_block_eligible():
    free_text = Criterion(
        section="inclusion", path="inclusion/2", text="Ability to consent", no_threshold_reason="no number"
    )
    result = evaluate([free_text, *criteria()], ELIGIBLE)
    assert result.verdict == "unknown"  # an unchecked inclusion criterion: never eligible
    assert result.unchecked == 1 and not result.criteria[0].checked
    assert result.criteria[0].outcome == "unknown" and "not checked" in result.reason
    assert "inclusion/2" in result.reason
    unchecked_exclusion = free_text.model_copy(update={"section": "exclusion", "path": "exclusion/1"})
    listed = evaluate([unchecked_exclusion, *criteria()], ELIGIBLE)
    assert listed.verdict == "eligible" and "not checked" in listed.reason
    nothing = evaluate([free_text], ELIGIBLE)
    assert nothing.verdict == "unknown"


def test_screen_patient_key_resolution_through_lexicon():
    # synonyms, abbreviations and LOINC codes all reach the canonical names
    data = {"Age": 42, "2160-0": "1.1 mg/dL", "Aspartate aminotransferase": "40 U/L", "ALT": "40 U/L"}
    patient = patient_from_mapping(data)
    assert patient.get("creatinine") is not None
    assert evaluate_rule(SEED_RULES["creatinine"], patient).outcome == "met"
    assert evaluate_rule(SEED_RULES["age_min"], patient).outcome == "met"
    assert evaluate_rule(SEED_RULES["ast"], patient).outcome == "met"
    assert evaluate_rule(SEED_RULES["alt"], patient).outcome == "met"


def test_screen_bare_numbers_use_default_unit():
    patient = patient_from_mapping({"creatinine": 1.1, "anc": 1.2})
    assert patient.get("creatinine").unit == "mg/dL"
    assert evaluate_rule(rule("anc", ">=", 1500, "/uL"), patient).outcome == "not_met"


def test_screen_unsupported_rule_is_unknown():
    weird = rule("creatinine", "<", float("inf"), "mg/dL")
    assert evaluate_rule(weird, patient_from_mapping({"creatinine": "1 mg/dL"})).outcome == "unknown"
    bad_unit = rule("creatinine", "<", 2, "mg/zz")
    assert evaluate_rule(bad_unit, patient_from_mapping({"creatinine": "1 mg/dL"})).outcome == "unknown"


def test_screen_rejects_other_items():
    with pytest.raises(TypeError, match="item 0"):
        evaluate(["creatinine < 2"], {})


def test_screen_result_round_trips_as_json():
    result = evaluate(criteria(), ELIGIBLE)
    assert ScreeningResult.model_validate_json(result.model_dump_json()) == result


def _cli_files(tmp_path, patient: dict, extra_line: str | None = None):
    import json

    rules_path = tmp_path / "trial_rules.jsonl"
    lines = [c.model_dump_json() for c in criteria()]
    lines.append(ParseResult(id="free", text="Informed consent", no_threshold_reason="no number").model_dump_json())
    if extra_line is not None:
        lines.append(extra_line)
    rules_path.write_text("\n".join(lines) + "\n")
    patient_path = tmp_path / "patient.json"
    patient_path.write_text(json.dumps(patient))
    return rules_path, patient_path


def test_screen_cli_json(tmp_path):
    import json

    from typer.testing import CliRunner

    from critparse.cli import app

    rules_path, patient_path = _cli_files(tmp_path, {**ELIGIBLE, "creatinine": "300 umol/L"})
    run = CliRunner().invoke(app, ["screen", str(rules_path), str(patient_path), "--format", "json"])
    assert run.exit_code == 0, run.output
    data = json.loads(run.stdout)
    assert data["verdict"] == "ineligible"
    outcomes = {c["id"]: c["outcome"] for c in data["criteria"]}
    assert outcomes["inclusion/creatinine"] == "not_met" and outcomes["inclusion/age_min"] == "met"
    assert data["unchecked"] == 1


def test_screen_cli_table(tmp_path):
    from typer.testing import CliRunner

    from critparse.cli import app

    rules_path, patient_path = _cli_files(tmp_path, ELIGIBLE)
    run = CliRunner().invoke(app, ["screen", str(rules_path), str(patient_path)])
    assert run.exit_code == 0, run.output
    # the unchecked free-text line (an assumed inclusion) keeps the verdict from 'eligible'
    assert "unknown" in run.stdout and "not checked" in run.stdout and "free" in run.stdout


def test_screen_cli_bad_line_names_it(tmp_path):
    from typer.testing import CliRunner

    from critparse.cli import app

    rules_path, patient_path = _cli_files(tmp_path, ELIGIBLE, extra_line='{"text": 3}')
    run = CliRunner().invoke(app, ["screen", str(rules_path), str(patient_path)])
    assert run.exit_code == 1
    assert f"{rules_path}:12" in run.output
    assert "Traceback" not in run.output


def test_screen_exclusion_any_met_rule_excludes():
    from critparse.model import Criterion

    parsed = critparse.parse("Systolic blood pressure > 160 mmHg or diastolic blood pressure > 100 mmHg")
    criterion = Criterion(section="exclusion", path="exclusion/1", text=parsed.text, rules=parsed.rules)
    only_systolic_high = {"systolic blood pressure": "180 mm[Hg]", "diastolic blood pressure": "80 mm[Hg]"}
    both_normal = {"systolic blood pressure": "120 mm[Hg]", "diastolic blood pressure": "80 mm[Hg]"}
    one_missing = {"systolic blood pressure": "120 mm[Hg]"}
    assert critparse.evaluate([criterion], only_systolic_high).verdict == "ineligible"
    assert critparse.evaluate([criterion], both_normal).verdict == "eligible"
    assert critparse.evaluate([criterion], one_missing).verdict == "unknown"


def test_screen_exclusion_range_bounds_are_read_together():
    from critparse.model import Criterion

    parsed = critparse.parse("QTc between 450 and 500 ms")
    criterion = Criterion(section="exclusion", path="exclusion/1", text=parsed.text, rules=parsed.rules)
    assert critparse.evaluate([criterion], {"qtc": "520 ms"}).verdict == "eligible"
    assert critparse.evaluate([criterion], {"qtc": "470 ms"}).verdict == "ineligible"


def test_screen_a_limit_then_what_those_outside_it_need():
    """'X ≤ a; those with X > a need Y': within the first limit, or outside it and meeting Y."""
    from critparse.model import Criterion

    parsed = critparse.parse(
        "Creatinine ≤ 1.5 mg/dL; participants with creatinine > 1.5 mg/dL need a creatinine clearance ≥ 60 mL/min"
    )
    criterion = Criterion(section="inclusion", path="inclusion/1", text=parsed.text, rules=parsed.rules,
                          logic=parsed.logic)
    within = {"creatinine": "1.2 mg/dL"}
    outside_but_clears = {"creatinine": "1.9 mg/dL", "creatinine clearance": "72 mL/min"}
    outside_and_low = {"creatinine": "1.9 mg/dL", "creatinine clearance": "41 mL/min"}
    assert critparse.evaluate([criterion], within).verdict == "eligible"
    assert critparse.evaluate([criterion], outside_but_clears).verdict == "eligible"
    assert critparse.evaluate([criterion], outside_and_low).verdict == "ineligible"


def test_screen_default_limit_of_unknown_sex_holds_for_women_and_men():
    """Creatinine 1.3 mg/dL is 1.08 x the men's 1.2 but 1.44 x the women's 0.9 default ULN."""
    rule_ = rule("creatinine", "<=", 1.5, "x ULN")
    unknown = evaluate_rule(rule_, patient_from_mapping({"creatinine": "1.3 mg/dL"}))
    assert unknown.outcome == "unknown" and "sex is not known" in unknown.reason
    assert evaluate_rule(rule_, patient_from_mapping({"creatinine": "1.3 mg/dL", "sex": "male"})).outcome == "met"
    assert evaluate_rule(rule_, patient_from_mapping({"creatinine": "0.8 mg/dL"})).outcome == "met"


@pytest.mark.parametrize(
    ("records", "expected"),
    [
        ({"medications": [{"name": "chemotherapy", "status": "completed", "end": "2024-05-29"}]}, "not_met"),
        ({"medications": [{"name": "chemotherapy", "status": "completed", "end": "2024-04-01"}]}, "met"),
        ({"medications": [{"name": "chemotherapy", "status": "active", "start": "2024-04-01"}]}, "not_met"),
        ({"medications": [{"name": "chemotherapy", "status": "completed", "end": "2024-04-01"},
                          {"name": "chemotherapy", "status": "completed"}]}, "unknown"),
        ({"medications": [{"name": "insulin", "status": "completed", "end": "2024-04-01"}]}, "unknown"),
    ],
    ids=["17-days", "75-days", "still-taking", "an-undated-record", "another-drug"],
)
def test_screen_time_since_a_treatment_from_its_dated_records(records, expected):
    """'≥ 28 days since the last dose of chemotherapy', screened on 2024-06-15."""
    time_rule = rule("time since last dose of chemotherapy", ">=", 28, "d")
    patient = patient_from_mapping(records, as_of=date(2024, 6, 15))
    result = evaluate_rule(time_rule, patient)
    assert result.outcome == expected, result.reason
