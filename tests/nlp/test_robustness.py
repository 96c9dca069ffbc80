"""`parse_many` survives what registries and users feed it: lone surrogates, numbers too large to
represent, glued runs of thousands of characters, worst-case bullets of every regex family."""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

import pytest

import critparse
from critparse.model import Analyte, ParseResult, Rule, Span
from critparse.nlp.pipeline import LONG_RUN, _break_long_runs, _finite_only, parse_many

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from worst_case import FAMILIES


@pytest.mark.parametrize("text", ["Hb > 9 g/dL \ud800", "\udfff", "ANC \ud83d 1500"])
def test_robustness_lone_surrogates_are_replaced_with_a_diagnostic(text: str) -> None:
    result = critparse.parse(text)
    assert "replaced_surrogates" in {d.code for d in result.diagnostics}
    assert "\ufffd" in result.text
    json.loads(result.model_dump_json())  # writable


@pytest.mark.parametrize(
    "text",
    ["Platelets > " + "9" * 400 + "/mm3", "ANC >= " + "1" * 500, "HBV DNA < 10^400 IU/mL",
     "ANC > 1.5 x 10^400 /L", "ECOG " + "1" * 5000],
)
def test_robustness_infinite_numbers_never_reach_the_output(text: str) -> None:
    result = critparse.parse(text)
    assert all(math.isfinite(r.value) for r in result.rules)
    assert '"value":null' not in result.model_dump_json()
    codes = {d.code for d in result.diagnostics}
    assert "non_finite_value" in codes and "internal_error" not in codes  # said so, and no crash


def test_robustness_finite_only_drops_rules_and_logic_together() -> None:
    rule = Rule(analyte=Analyte(text="ANC", name="anc"), comparator=">", value=math.inf,
                span=Span(start=0, end=3), text="ANC")
    result = ParseResult(text="ANC > inf", rules=(rule,))
    update = _finite_only(result)
    assert update["rules"] == () and update["logic"] is None
    assert _finite_only(ParseResult(text="ok")) == {}


def test_robustness_long_runs_are_cut_for_analysis_only() -> None:
    text = "x" * (3 * LONG_RUN + 5) + " Creatinine < 2 mg/dL"
    analysed, notes = _break_long_runs(text)
    assert len(analysed) == len(text) and analysed.count(" ") == 3 + text.count(" ")
    assert [n.code for n in notes] == ["long_token"]
    assert _break_long_runs("Creatinine < 2 mg/dL") == ("Creatinine < 2 mg/dL", [])
    (result,) = parse_many([text])
    assert result.text == text  # the caller's text comes back unchanged


@pytest.mark.slow
@pytest.mark.parametrize("family", list(FAMILIES))
def test_robustness_worst_case_bullet_is_bounded(family: str) -> None:
    text = FAMILIES[family](2000)
    critparse.parse(text[:50])
    started = time.perf_counter()
    critparse.parse(text)
    # Generous: the target is 10 ms on an idle machine; a quadratic or exponential blow-up on
    # 2,000 characters costs seconds to minutes.
    assert time.perf_counter() - started < 1.0
