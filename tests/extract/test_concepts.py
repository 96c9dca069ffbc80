"""Concept assembly (`critparse.extract.concepts`) with a small fake lexicon.

The fake lexicon stands in for `critparse.lexicon.concepts.ConceptLexicon`: `find` marks its
surface forms (hyphens and spaces alike, longest first) and `lookup` names one exactly, both
returning `TermMatch`-shaped objects.
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from critparse.errors import ResourceError
from critparse.extract.concepts import (
    MAX_CONCEPT_TERMS,
    ConceptResources,
    extract_concepts,
    load_concept_heads,
    load_concept_resources,
    read_concepts,
)
from critparse.model.concept import Concept, TimeWindow
from critparse.model.span import Span

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class TermMatch:
    start: int
    end: int
    text: str
    type: str
    name: str
    concept_id: str
    codes: tuple[tuple[str, str, str | None], ...]


def _key(text: str) -> str:
    return " ".join(text.lower().replace("-", " ").split())


class FakeLexicon:
    """Surface form -> (type, name); each entry's code is 'T:' + its name."""

    def __init__(self, entries: Mapping[str, tuple[str, str]]) -> None:
        self.entries = {_key(k): v for k, v in entries.items()}
        keys = sorted(self.entries, key=len, reverse=True)
        alternatives = "|".join(re.escape(k).replace(r"\ ", r"[\s\-]+") for k in keys)
        self.pattern = re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)

    def _match(self, key: str, start: int, end: int, text: str) -> TermMatch:
        kind, name = self.entries[key]
        return TermMatch(start, end, text, kind, name, f"T:{name}", (("test", f"T:{name}", name),))

    def find(self, text: str) -> list[TermMatch]:
        return [self._match(_key(m.group()), m.start(), m.end(), m.group()) for m in self.pattern.finditer(text)]

    def lookup(self, name: str) -> TermMatch | None:
        key = _key(name)
        return self._match(key, 0, len(name), name) if key in self.entries else None


C, D, P, OBS, OTHER = "condition", "drug", "procedure", "observation", "other"
LEXICON = FakeLexicon({
    "pregnant": (C, "pregnant"), "pregnancy": (C, "pregnancy"), "lactating": (C, "lactating"),
    "breastfeeding": (C, "breastfeeding"), "pregnancy test": (OBS, "pregnancy test"),
    "b cell malignancies": (C, "b cell malignancies"), "flow cytometry": (P, "flow cytometry"),
    "b cell acute lymphoblastic leukemia": (C, "b-cell acute lymphoblastic leukemia"),
    "hematopoietic stem cell transplantation": (P, "hematopoietic stem cell transplantation"),
    "venous access": (OBS, "venous access"), "apheresis": (P, "apheresis"), "informed consent": (OTHER, "informed consent"),
    "central nervous system leukemia": (C, "central nervous system leukemia"), "malignancies": (C, "malignancy"),
    "malignancy": (C, "malignancy"), "seizure disorder": (C, "seizure disorder"), "infection": (C, "infection"),
    "human immunodeficiency virus": (C, "human immunodeficiency virus"), "hiv": (C, "hiv"),
    "human immunodeficiency virus infection": (C, "hiv infection"), "hiv infection": (C, "hiv infection"),
    "hepatitis b": (C, "hepatitis b"), "hepatitis b infection": (C, "hepatitis b"), "hepatitis c infection": (C, "hepatitis c"),
    "hepatitis c": (C, "hepatitis c"), "ovarian cancer": (C, "ovarian cancer"), "breast cancer": (C, "breast cancer"),
    "type 2 diabetes": (C, "type 2 diabetes mellitus"), "type 1 diabetes": (C, "type 1 diabetes mellitus"),
    "diabetes": (C, "diabetes mellitus"), "hypertension": (C, "hypertension"), "stroke": (C, "stroke"),
    "heart failure": (C, "heart failure"), "chemotherapy": (P, "chemotherapy"), "radiotherapy": (P, "radiotherapy"),
    "surgery": (P, "surgery"), "dialysis": (P, "dialysis"), "smoker": (OBS, "smoker"),
    "platelets": (OBS, "platelet count"), "creatinine clearance": (OBS, "creatinine clearance"), "creatinine": (OBS, "creatinine"),
    "bilirubin": (OBS, "bilirubin"), "karnofsky performance status": (OBS, "karnofsky performance status"),
    "ast": (OBS, "ast"), "alt": (OBS, "alt"), "aspartate transaminase": (OBS, "ast"), "alanine transaminase": (OBS, "alt"),
    "hepatitis b surface antigen": (OBS, "hbsag"), "hbsag": (OBS, "hbsag"), "pembrolizumab": (D, "pembrolizumab"),
    "tuberculosis": (C, "tuberculosis"), "history of epilepsy": (C, "history of epilepsy"), "epilepsy": (C, "epilepsy"),
    "prior systemic therapy": (P, "prior systemic therapy"), "systemic therapy": (P, "systemic therapy"),
    "visceral metastases": (C, "visceral metastases"),
})


@pytest.fixture(scope="module")
def resources() -> ConceptResources:
    return load_concept_resources()


def concepts(text: str, resources: ConceptResources, lexicon: FakeLexicon = LEXICON) -> tuple[Concept, ...]:
    found = extract_concepts(text, lexicon, resources)
    for c in found:
        assert text[c.span.start : c.span.end] == c.text
    return found


def summary(c: Concept) -> tuple:
    return (c.text, c.name, c.type, c.negated, c.modality, c.qualifiers, c.head)


# ---------------------------------------------------------------------------------------------
# The seed trial's bullets (corpus/NCT02186860.jsonl) as acceptance cases

SEED = {
    "NCT02186860-inc-01": [],
    "NCT02186860-inc-02": [
        ("Cluster of Differentiation 19 (CD19) positive", "cluster of differentiation 19 (cd19) positive", "observation", False, None, (), None),
        ("B cell malignancies", "b cell malignancies", C, False, None, (), None),
    ],
    "NCT02186860-inc-03": [("B cell-acute lymphoblastic leukemia", "b-cell acute lymphoblastic leukemia", C, False, None, ("refractory", "relapsed"), None)],
    "NCT02186860-inc-04": [("hematopoietic stem cell transplantation", "hematopoietic stem cell transplantation", P, True, None, (), None)],
    "NCT02186860-inc-05": [],
    "NCT02186860-inc-06": [],
    "NCT02186860-inc-07": [],
    "NCT02186860-inc-08": [],
    "NCT02186860-inc-09": [],
    "NCT02186860-inc-10": [],
    "NCT02186860-inc-11": [("venous access", "venous access", OBS, False, None, ("adequate",), None), ("apheresis", "apheresis", P, False, None, (), None)],
    "NCT02186860-inc-12": [("informed consent", "informed consent", OTHER, False, None, (), None)],
    "NCT02186860-exc-01": [("Pregnant", "pregnant", C, False, None, (), None), ("lactating", "lactating", C, False, None, (), None)],
    "NCT02186860-exc-02": [("T cell immunosuppressive therapy", "t cell immunosuppressive therapy", D, False, None, (), None)],
    "NCT02186860-exc-03": [("central nervous system leukemia", "central nervous system leukemia", C, False, None, ("active",), None)],
    "NCT02186860-exc-04": [("malignancies", "malignancy", C, False, None, ("concurrent", "active"), None)],
    "NCT02186860-exc-05": [("seizure disorder", "seizure disorder", C, False, "history", (), None), ("cardiac disorder", "cardiac disorder", C, False, "history", (), None)],
    "NCT02186860-exc-06": [
        ("human immunodeficiency virus", "human immunodeficiency virus infection", C, False, None, (), "infection"),
        ("hepatitis B", "hepatitis b infection", C, False, None, (), "infection"),
        ("C infection", "hepatitis c infection", C, False, None, (), "hepatitis"),
    ],
    "NCT02186860-exc-07": [("infection", "infection", C, False, None, ("uncontrolled", "active"), None)],
}
SEED_LINES = [json.loads(line) for line in (ROOT / "corpus" / "NCT02186860.jsonl").read_text("utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("line", SEED_LINES, ids=[d["id"] for d in SEED_LINES])
def test_concepts_seed_trial_bullet(resources: ConceptResources, line: dict) -> None:
    assert [summary(c) for c in concepts(line["text"], resources)] == SEED[line["id"]]


@pytest.mark.parametrize("line", SEED_LINES, ids=[d["id"] for d in SEED_LINES])
def test_concepts_seed_trial_threshold_analytes_are_no_concepts(resources: ConceptResources, line: dict) -> None:
    analytes = {r["analyte"]["text"].lower() for r in line["rules"]}
    assert not {c.text.lower() for c in concepts(line["text"], resources)} & analytes


BRIEF_WORDINGS = [
    ("Patients with seizure disorder", [("seizure disorder", "seizure disorder", C, "lexicon")]),
    ("Patients with cardiac disorder", [("cardiac disorder", "cardiac disorder", C, "pattern")]),
    ("Concurrent malignancy", [("malignancy", "malignancy", C, "lexicon")]),
    ("Patients receiving T cell immunosuppressive therapy", [("T cell immunosuppressive therapy", "t cell immunosuppressive therapy", D, "pattern")]),
    ("Pregnant or lactating women", [("Pregnant", "pregnant", C, "lexicon"), ("lactating", "lactating", C, "lexicon")]),
]


@pytest.mark.parametrize(("text", "expected"), BRIEF_WORDINGS, ids=[t for t, _ in BRIEF_WORDINGS])
def test_concepts_seed_trial_wording(resources: ConceptResources, text: str, expected: list) -> None:
    assert [(c.text, c.name, c.type, c.source) for c in concepts(text, resources)] == expected


# ---------------------------------------------------------------------------------------------
# Coordination ellipsis

ELLIPSIS = [
    ("Patients with HIV, hepatitis B or C infection", [
        ("HIV", "hiv infection", "infection"), ("hepatitis B", "hepatitis b infection", "infection"), ("C infection", "hepatitis c infection", "hepatitis")]),
    ("breast or ovarian cancer", [("breast", "breast cancer", "cancer"), ("ovarian cancer", "ovarian cancer", None)]),
    ("type 1 or type 2 diabetes", [("type 1", "type 1 diabetes", "diabetes"), ("type 2 diabetes", "type 2 diabetes mellitus", None)]),
    ("Type 1 or 2 diabetes", [("Type 1", "type 1 diabetes", "diabetes"), ("2 diabetes", "type 2 diabetes", "type")]),
    ("pregnant or breastfeeding", [("pregnant", "pregnant", None), ("breastfeeding", "breastfeeding", None)]),
    ("hepatitis A, B or C", [("hepatitis A", "hepatitis a", None), ("B", "hepatitis b", "hepatitis"), ("C", "hepatitis c", "hepatitis")]),
    ("Diabetes, hypertension or heart failure", [("Diabetes", "diabetes mellitus", None), ("hypertension", "hypertension", None), ("heart failure", "heart failure", None)]),
    ("lung or liver metastases", [("lung", "lung metastases", "metastases"), ("liver metastases", "liver metastases", None)]),
]


@pytest.mark.parametrize(("text", "expected"), ELLIPSIS, ids=[t for t, _ in ELLIPSIS])
def test_concepts_coordination_ellipsis(resources: ConceptResources, text: str, expected: list) -> None:
    assert [(c.text, c.name, c.head) for c in concepts(text, resources)] == expected


@pytest.mark.parametrize("text", ["Patients with HIV, hepatitis B or C infection"])
def test_concepts_completed_names_are_coded_by_lookup(resources: ConceptResources, text: str) -> None:
    codes = [c.codes[0].code for c in concepts(text, resources)]
    assert codes == ["T:hiv infection", "T:hepatitis b", "T:hepatitis c"]


@pytest.mark.parametrize("text", ["Patients with hepatitis B or C infection"])
def test_concepts_list_matched_as_one_term_is_split(resources: ConceptResources, text: str) -> None:
    lexicon = FakeLexicon({**{k: v for k, v in LEXICON.entries.items()}, "hepatitis b or c infection": (C, "hepatitis b or c")})
    assert [(c.text, c.name) for c in concepts(text, resources, lexicon)] == [
        ("hepatitis B", "hepatitis b infection"), ("C infection", "hepatitis c infection")]


@pytest.mark.parametrize("text", ["breast or ovarian cancer"])
def test_concepts_carried_head_without_entry_is_a_pattern(resources: ConceptResources, text: str) -> None:
    lexicon = FakeLexicon({"ovarian cancer": (C, "ovarian cancer")})
    breast, ovarian = concepts(text, resources, lexicon)
    assert (breast.name, breast.type, breast.source, breast.codes) == ("breast cancer", C, "pattern", ())
    assert ovarian.source == "lexicon"


# ---------------------------------------------------------------------------------------------
# Context: negation, modality, subject, lists

CONTEXT = [
    ("No history of diabetes, hypertension or stroke", [("diabetes", True, "history"), ("hypertension", True, "history"), ("stroke", True, "history")]),
    ("No HIV, hepatitis B or C infection", [("HIV", True, None), ("hepatitis B", True, None), ("C infection", True, None)]),
    ("Diabetes or hypertension ruled out", [("Diabetes", True, None), ("hypertension", True, None)]),
    ("Suspected tuberculosis", [("tuberculosis", False, "suspected")]),
    ("Planned surgery", [("surgery", False, "planned")]),
    ("Must have a negative pregnancy test", [("negative pregnancy test", False, None)]),
    ("non-smoker", [("smoker", True, None)]),
    ("No prior chemotherapy", [("chemotherapy", True, None)]),
    ("No malignancy other than breast cancer", [("malignancy", True, None), ("breast cancer", False, "hypothetical")]),
    ("History of epilepsy", [("epilepsy", False, "history")]),
    ("No prior systemic therapy", [("systemic therapy", True, None)]),
    ("Patients with visceral metastases are not eligible", [("visceral metastases", True, None)]),
    ("Patients with treated tuberculosis are eligible", [("tuberculosis", False, "hypothetical")]),
]


@pytest.mark.parametrize(("text", "expected"), CONTEXT, ids=[t for t, _ in CONTEXT])
def test_concepts_context_flags(resources: ConceptResources, text: str, expected: list) -> None:
    assert [(c.text, c.negated, c.modality) for c in concepts(text, resources)] == expected


@pytest.mark.parametrize("text", ["Family history of breast cancer"])
def test_concepts_family_history(resources: ConceptResources, text: str) -> None:
    (c,) = concepts(text, resources)
    assert (c.text, c.subject, c.modality, c.negated) == ("breast cancer", "family", "history", False)


# ---------------------------------------------------------------------------------------------
# Time windows

WINDOWED = [
    ("Chemotherapy, radiotherapy or surgery within 4 weeks before enrolment", ["within 4 weeks before enrolment"] * 3),
    ("Within 4 weeks before enrolment: chemotherapy or radiotherapy", ["Within 4 weeks before enrolment"] * 2),
    ("At least 28 days since prior chemotherapy", ["At least 28 days since"]),
    ("Chemotherapy within 4 weeks, or radiotherapy within 2 weeks", ["within 4 weeks", "within 2 weeks"]),
    ("Surgery within 2 weeks of the first dose; diabetes", ["within 2 weeks of the first dose", None]),
    ("Stroke in the past 6 months", ["in the past 6 months"]),
    ("Dialysis prior to day 1", ["prior to day 1"]),
]


@pytest.mark.parametrize(("text", "expected"), WINDOWED, ids=[t for t, _ in WINDOWED])
def test_concepts_time_window_attached(resources: ConceptResources, text: str, expected: list) -> None:
    assert [c.temporal.text if c.temporal else None for c in concepts(text, resources)] == expected


@pytest.mark.parametrize("text", ["Chemotherapy within 4 weeks before enrolment"])
def test_concepts_time_window_content(resources: ConceptResources, text: str) -> None:
    (c,) = concepts(text, resources)
    w = c.temporal
    assert w is not None and (w.comparator, w.value, w.unit, w.anchor, w.relation) == ("<=", 4, "wk", "enrolment", "before")
    assert c.text == "Chemotherapy"


# ---------------------------------------------------------------------------------------------
# Thresholds are rules, not concepts

THRESHOLDS = [
    ("Platelets ≥ 100,000/mm3", []),
    ("creatinine clearance ≥ 60 mL/min", []),
    ("Creatinine clearance ≥ 60 mL/min or dialysis", ["dialysis"]),
    ("AST and ALT ≤ 2.5 × ULN", []),
    ("Aspartate transaminase-alanine transaminase ratio < 3x normal", []),
    ("Bilirubin: < 2.0 mg/dl", []),
    ("Diabetes and creatinine < 2 mg/dL", ["Diabetes"]),
    ("Karnofsky performance status >= 60", []),
]


@pytest.mark.parametrize(("text", "expected"), THRESHOLDS, ids=[t for t, _ in THRESHOLDS])
def test_concepts_threshold_analyte_is_no_concept(resources: ConceptResources, text: str, expected: list) -> None:
    assert [c.text for c in concepts(text, resources)] == expected


# ---------------------------------------------------------------------------------------------
# Head-word fallback (no lexicon entry)

EMPTY = FakeLexicon({"zzzz": (OTHER, "zzzz")})
HEADS = [
    ("Patients with cardiac disorder who are receiving therapy", "cardiac disorder", C),
    ("Renal insufficiency", "Renal insufficiency", C),
    ("Known autoimmune hepatitis", "autoimmune hepatitis", C),
    ("Low-grade glioma", "Low-grade glioma", C),
    ("Persistent bacteremia", "Persistent bacteremia", C),
    ("Prior mastectomy", "mastectomy", P),
    ("Previous craniotomy", "craniotomy", P),
    ("Prior coronary angioplasty", "coronary angioplasty", P),
    ("Liver transplantation", "Liver transplantation", P),
    ("Prior treatment with PD-1 inhibitors", "PD-1 inhibitors", D),
    ("Received rituximab", "rituximab", D),
    ("Taking imatinib", "imatinib", D),
    ("Prior cisplatin", "cisplatin", D),
    ("Beta agonist use", "Beta agonist", D),
    ("Live attenuated vaccine", "Live attenuated vaccine", "immunization"),
    ("Carcinoma of the cervix", "Carcinoma of the cervix", C),
    ("Antiretroviral therapy", "Antiretroviral therapy", D),
]


@pytest.mark.parametrize(("text", "span", "kind"), HEADS, ids=[t for t, _, _ in HEADS])
def test_concepts_head_word_fallback(resources: ConceptResources, text: str, span: str, kind: str) -> None:
    (c,) = concepts(text, resources, EMPTY)
    assert (c.text, c.type, c.source, c.codes, c.name) == (span, kind, "pattern", (), span.lower())


@pytest.mark.parametrize("text", ["Stage III-IV disease", "Prior therapy", "Able to comply with study procedures", "Diploma"])
def test_concepts_generic_words_are_no_concepts(resources: ConceptResources, text: str) -> None:
    assert concepts(text, resources, EMPTY) == ()


@pytest.mark.parametrize(("text", "span"), [("Grade 3 or higher neuropathy", "neuropathy"), ("NYHA class III or IV heart failure", "heart failure")])
def test_concepts_scale_labels_stay_out(resources: ConceptResources, text: str, span: str) -> None:
    assert [c.text for c in concepts(text, resources)] == [span]


# ---------------------------------------------------------------------------------------------
# Qualifiers, results, abbreviations, allergies, methods

QUALIFIED = [
    ("Uncontrolled active infection", "infection", ("uncontrolled", "active")),
    ("Refractory or relapsed B cell-acute lymphoblastic leukemia", "B cell-acute lymphoblastic leukemia", ("refractory", "relapsed")),
    ("Any concurrent active malignancies", "malignancies", ("concurrent", "active")),
    ("Clinically significant heart failure", "heart failure", ("clinically significant",)),
    ("Known or suspected tuberculosis", "tuberculosis", ()),
]


@pytest.mark.parametrize(("text", "span", "qualifiers"), QUALIFIED, ids=[t for t, _, _ in QUALIFIED])
def test_concepts_qualifiers_leave_the_span(resources: ConceptResources, text: str, span: str, qualifiers: tuple) -> None:
    (c,) = concepts(text, resources)
    assert (c.text, c.qualifiers) == (span, qualifiers)


@pytest.mark.parametrize("text", ["Active hepatitis B or C infection"])
def test_concepts_qualifier_before_a_list_covers_it(resources: ConceptResources, text: str) -> None:
    assert [c.qualifiers for c in concepts(text, resources)] == [("active",), ("active",)]


@pytest.mark.parametrize("text", ["HER2-positive breast cancer"])
def test_concepts_marker_result_is_an_observation(resources: ConceptResources, text: str) -> None:
    assert [(c.text, c.type, c.negated) for c in concepts(text, resources)] == [("HER2-positive", OBS, False), ("breast cancer", C, False)]


@pytest.mark.parametrize("text", ["Positive hepatitis B surface antigen (HBsAg)"])
def test_concepts_parenthesised_abbreviation_joins_the_name(resources: ConceptResources, text: str) -> None:
    assert [c.text for c in concepts(text, resources)] == ["Positive hepatitis B surface antigen (HBsAg)"]


@pytest.mark.parametrize("text", ["Known hypersensitivity to pembrolizumab or any of its excipients"])
def test_concepts_allergy_substance(resources: ConceptResources, text: str) -> None:
    assert [(c.text, c.type) for c in concepts(text, resources)] == [("pembrolizumab", "allergy")]


@pytest.mark.parametrize("text", ["B cell malignancies as confirmed by flow cytometry"])
def test_concepts_method_of_assessment_is_no_concept(resources: ConceptResources, text: str) -> None:
    assert [c.text for c in concepts(text, resources)] == ["B cell malignancies"]


# ---------------------------------------------------------------------------------------------
# Robustness


class RaisingLexicon(FakeLexicon):
    def find(self, text: str) -> list[TermMatch]:
        raise RuntimeError("broken lexicon")


class OddLexicon(FakeLexicon):
    """Returns matches with offsets outside the text and of unknown types."""

    def find(self, text: str) -> list[TermMatch]:
        return [TermMatch(-3, 2, "x", "weird", "", "x", ()), TermMatch(0, 10_000, "x", C, "x", "x", ((1, 2),)),  # type: ignore[arg-type]
                TermMatch(0, min(3, len(text)), text[:3], "weird", "Odd Name", "x", (("s", "", None),))]


@pytest.mark.parametrize("lexicon", [RaisingLexicon({"a": (C, "a")})])
def test_concepts_never_raise_on_a_broken_lexicon(resources: ConceptResources, lexicon: FakeLexicon) -> None:
    assert extract_concepts("No diabetes", lexicon, resources) == ()


@pytest.mark.parametrize("text", ["abc disease", "", "   ", None])
def test_concepts_never_raise_on_odd_input(resources: ConceptResources, text: str) -> None:
    found = extract_concepts(text, OddLexicon({"a": (C, "a")}), resources)  # type: ignore[arg-type]
    for c in found:
        assert c.type in {C, OTHER} and c.name == c.name.lower()


@pytest.mark.parametrize("text", ["No history of diabetes, hypertension or stroke within 6 months"])
def test_concepts_deterministic(resources: ConceptResources, text: str) -> None:
    assert concepts(text, resources) == concepts(text, resources)


@pytest.mark.parametrize("text", [
    "No history of diabetes, hypertension or stroke within 6 months",
    "Active hepatitis B or C infection", "Known hypersensitivity to pembrolizumab or any of its excipients",
])
def test_concepts_built_unvalidated_equal_validated(resources: ConceptResources, text: str) -> None:
    """Concepts are built without validating again: they must be what validating gives, field for field."""
    found = concepts(text, resources)
    assert found
    for c in found:
        again = Concept.model_validate(dict(c))
        assert again == c and again.model_dump_json() == c.model_dump_json()
        assert again.model_fields_set == c.model_fields_set and list(vars(again)) == list(vars(c))


WORDS = ["no", "history of", "diabetes", "hepatitis B", "or", "C", "infection", ",", "within", "4", "weeks", "before",
         "enrolment", "non-", "disorder", "active", "(", ")", ";", "≥", "100", "platelets", "type", "1", "2", "of", "the"]


@given(st.lists(st.sampled_from(WORDS), max_size=40).map(" ".join) | st.text(max_size=200))
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_concepts_any_text_never_raises(resources: ConceptResources, text: str) -> None:
    for c in extract_concepts(text, LEXICON, resources):
        assert text[c.span.start : c.span.end] == c.text
        if c.temporal is not None:
            assert text[c.temporal.span.start : c.temporal.span.end] == c.temporal.text


FRAGMENTS = [
    "no history of ", "hepatitis B or C infection, ", "type 1 or type 2 diabetes ", "breast or ", "active uncontrolled ",
    "within 4 weeks before enrolment ", "non-", "Platelets ≥ 100 ", "stage III-IV ", "(HBsAg) ", "A, B or C ", "; but ",
    "carcinoma of the ", "HER2-positive ", "disease ", "hypersensitivity to ", "as confirmed by ",
]


@pytest.mark.parametrize("seconds", [20.0])
def test_concepts_worst_case_is_fast(resources: ConceptResources, seconds: float) -> None:
    for fragment in [*FRAGMENTS, "".join(FRAGMENTS)]:
        text = (fragment * (20_000 // len(fragment) + 1))[:20_000]
        started = time.perf_counter()
        found = extract_concepts(text, LEXICON, resources)
        assert time.perf_counter() - started < seconds, fragment
        assert all(text[c.span.start : c.span.end] == c.text for c in found)


def _calls(work: object) -> int:
    """Python calls (generator steps included) made by `work()`: a measure of work that load does not change."""
    import sys

    count = 0

    def counter(frame: object, event: str, arg: object) -> None:
        nonlocal count
        if event == "call":
            count += 1

    sys.setprofile(counter)
    try:
        work()  # type: ignore[operator]
    finally:
        sys.setprofile(None)
    return count


GROWING = [  # (lead repeated, tail repeated): long lists whose last phrase is long too
    ("tumor, ", "breast "), ("hepatitis B or ", "C "), ("type 1, ", "diabetes "), ("Second- or ", "degree "),
    ("AST and ", "ALT "), ("no ", "disease "), ("active, ", "carcinoma of the "),
]


@pytest.mark.parametrize(("lead", "tail"), GROWING)
def test_concepts_work_grows_linearly(resources: ConceptResources, lead: str, tail: str) -> None:
    """Ten times the text, at most about ten times the calls: nothing is done per pair of list members."""
    def text(n: int) -> str:
        return lead * (n // len(lead)) + tail * (n // len(tail)) + "cancer"

    small, large = (_calls(lambda n=n: extract_concepts(text(n), LEXICON, resources)) for n in (1_000, 10_000))
    assert large < 13 * small, (small, large)


def _owners_plainly(tokens: list[tuple[int, int]], spans: list[tuple[int, int]], *, inside: bool) -> list[int]:
    """Per token, the first span it overlaps (or lies within), by testing every span."""
    out = []
    for start, end in tokens:
        found = [i for i, (a, b) in enumerate(spans) if (a <= start and end <= b if inside else a < end and start < b)]
        out.append(found[0] if found else -1)
    return out


def _disjoint(cuts: list[int]) -> list[tuple[int, int]]:
    """Sorted, disjoint, non-empty intervals from a list of cut points (every other gap)."""
    points = sorted(set(cuts))
    return [(a, b) for a, b in zip(points[::2], points[1::2], strict=False)]


@given(st.lists(st.integers(0, 80), max_size=40), st.lists(st.integers(0, 80), max_size=16), st.booleans())
@settings(max_examples=400, deadline=None)
def test_concepts_owners_walk_from_each_span_as_from_each_token(token_cuts: list[int], span_cuts: list[int], inside: bool) -> None:
    """`_owners` starts from each span and walks its tokens; each token gets the span the plain test gives it."""
    from critparse.extract.concepts import _owners

    points = sorted(set(token_cuts))
    tokens, spans = list(pairwise(points))[::1 + len(points) % 2], _disjoint(span_cuts)
    starts, ends = [a for a, _ in tokens], [b for _, b in tokens]
    assert _owners(starts, ends, spans, inside=inside) == _owners_plainly(tokens, spans, inside=inside)


# ---------------------------------------------------------------------------------------------
# The contract and the head-word file


@pytest.mark.parametrize("model", [Concept, TimeWindow])
def test_concepts_model_fields_are_described(model: type) -> None:
    schema = model.model_json_schema()
    missing = [name for name, prop in schema["properties"].items() if "description" not in prop]
    assert not missing


@pytest.mark.parametrize("value", [math.inf, -math.inf, math.nan])
def test_concepts_time_window_value_is_finite(value: float) -> None:
    with pytest.raises(ValidationError):
        TimeWindow(text="x", span=Span(start=0, end=1), comparator=None, value=value, unit="d", anchor=None, relation=None)


@pytest.mark.parametrize(("text", "name"), [("Diabetes", "Diabetes"), ("Diabetes", "diabetes "), ("Diabetes mellitus", "diabetes")])
def test_concepts_model_rejects_bad_name_or_span(text: str, name: str) -> None:
    with pytest.raises(ValidationError):
        Concept(type=C, text=text, span=Span(start=0, end=8), name=name)


def _heads_data() -> dict:
    return json.loads((ROOT / "critparse" / "resources" / "concept_heads.json").read_text("utf-8"))


@pytest.mark.parametrize("word", ["of", "Of"])
def test_concepts_heads_file_of_cannot_stop_a_phrase(tmp_path: Path, word: str) -> None:
    data = _heads_data()
    data["prepositions"].append(word)
    data["heads"].append({"word": "x", "type": "thing"})
    path = tmp_path / "heads.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ResourceError) as info:
        load_concept_heads(path)
    message = str(info.value)
    assert str(path) in message and "head " in message and "valid head keys: type, word" in message
    data["heads"].pop()
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ResourceError, match="'of' joins a noun phrase"):
        load_concept_heads(path)


@pytest.mark.parametrize("unit", ["diabetes, ", "no history of heart failure, ", "hepatitis B or C, "])
def test_concepts_reading_stops_past_the_term_limit(resources: ConceptResources, unit: str) -> None:
    """A text naming more terms than any criterion does is read up to the first term past the
    limit, so that its time stays bounded; a criterion is read whole."""
    text = unit * (MAX_CONCEPT_TERMS + 20)
    found, read_to = read_concepts(text, LEXICON, resources)
    assert read_to is not None and read_to == LEXICON.find(text)[MAX_CONCEPT_TERMS].start
    assert found and all(c.span.end <= read_to for c in found)
    assert found == extract_concepts(text[:read_to], LEXICON, resources)
    short = unit * 5
    assert read_concepts(short, LEXICON, resources) == (extract_concepts(short, LEXICON, resources), None)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([*'1"<>=.,;:()[]-+/x é', "ab", "HIV", "ＡＢ", "no", "positive"]), max_size=30).map("".join))
def test_concepts_texts_without_two_letters_skip_to_the_same_answer(text: str) -> None:
    """The shortcut for texts without two letters in a row gives what the full reading gives."""
    from critparse.extract import concepts as module
    from critparse.lexicon.resources import default_resources

    res = default_resources()
    rules = res.memo("concept_rules", load_concept_resources)
    fast = (extract_concepts(text, res.concepts, rules), module.no_structure_reason(text, rules))
    plain = module._TWO_LETTERS
    try:
        module._TWO_LETTERS = re.compile(r"|")  # always finds something: the shortcut never fires
        slow = (extract_concepts(text, res.concepts, rules), module.no_structure_reason(text, rules))
    finally:
        module._TWO_LETTERS = plain
    assert fast == slow
