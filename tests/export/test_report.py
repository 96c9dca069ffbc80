"""The review page without a browser: the views, the highlighting and the HTML they make."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from critparse.export.report import (
    Mark,
    Node,
    build_page,
    highlight,
    load_labels,
    render_page,
    render_report,
    rule_marks,
    write_report,
)
from critparse.model import Analyte, Diagnostic, Rule, Span
from critparse.model.concept import Code, Concept, TimeWindow


@dataclass
class FutureCriterion:
    """A criterion as it looks once concepts and logic are on it (duck-typed like Criterion)."""

    text: str
    rules: tuple[Rule, ...] = ()
    concepts: tuple[Any, ...] = ()
    logic: Any = None
    path: str = "inclusion/1"
    kind: str = "criterion"
    section: str = "inclusion"
    no_threshold_reason: str | None = None
    diagnostics: tuple[Diagnostic, ...] = ()
    trial_id: str | None = "NCT00000001"


@dataclass
class FakeTrial:
    trial_id: str | None
    criteria: list[Any]
    diagnostics: tuple[Diagnostic, ...] = field(default_factory=tuple)


def _rule(text: str, expr: str, analyte: str, name: str, comparator: str, value: float,
          unit: str | None, unit_text: str | None, code: str | None = None) -> Rule:
    start = text.index(expr)
    return Rule(analyte=Analyte(text=analyte, name=name, code=code,
                                system="http://loinc.org" if code else None, in_lexicon=True),
                comparator=comparator, value=value, unit=unit, unit_text=unit_text,  # type: ignore[arg-type]
                span=Span(start=start, end=start + len(expr)), text=expr)


def _span(text: str, part: str) -> Span:
    start = text.index(part)
    return Span(start=start, end=start + len(part))


def _marks(pieces: tuple[str | Node, ...]) -> list[Node]:
    out = []
    for p in pieces:
        if isinstance(p, Node):
            out.append(p)
            out += _marks(p.children)
    return out


def _flat(pieces: tuple[str | Node, ...]) -> str:
    return "".join(p if isinstance(p, str) else _flat(p.children) for p in pieces)


# --- highlighting ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["Aspartate transaminase-alanine transaminase ratio < 3x normal"])
def test_report_highlight_nests_and_keeps_text(text: str) -> None:
    marks = [Mark("rule", 0, 61), Mark("rule", 23, 61), Mark("analyte", 0, 22),
             Mark("analyte", 23, 43), Mark("comparator", 50, 51)]
    pieces = highlight(text, marks)
    assert _flat(pieces) == text
    outer = [p for p in pieces if isinstance(p, Node)]
    assert [n.mark.kind for n in outer] == ["rule"]
    inner_rule = [n for n in _marks(outer[0].children) if n.mark.kind == "rule"]
    assert _flat(inner_rule[0].children) == text[23:61]


@pytest.mark.parametrize("text", ["abcdefgh"])
def test_report_highlight_cuts_crossing_marks(text: str) -> None:
    pieces = highlight(text, [Mark("concept", 0, 5), Mark("time", 3, 8), Mark("value", 9, 12)])
    assert _flat(pieces) == text  # the out-of-range mark is dropped, the text kept
    times = [n for n in _marks(pieces) if n.mark.kind == "time"]
    assert ["".join(_flat(n.children)) for n in times] == ["de", "fgh"]
    assert all(n.mark.cont for n in times)


@pytest.mark.parametrize("text", ["Age: 18-65 years"])
def test_report_highlight_merges_a_range_into_one_mark(text: str) -> None:
    labels = load_labels()
    rules = [_rule(text, text, "Age", "age", ">=", 18, "a", "years"),
             _rule(text, text, "Age", "age", "<=", 65, "a", "years")]
    marks = [m for i, r in enumerate(rules) for m in rule_marks(text, r, i, labels=labels)]
    nodes = _marks(highlight(text, marks))
    rule_nodes = [n for n in nodes if n.mark.kind == "rule"]
    assert len(rule_nodes) == 1 and dict(rule_nodes[0].mark.data)["rule"] == "0 1"
    values = sorted(_flat(n.children) for n in nodes if n.mark.kind == "value")
    assert values == ["18", "65"]


@pytest.mark.parametrize(("text", "parts"), [
    ("Creatinine < 2.5 mg/dl", {"analyte": "Creatinine", "comparator": "<", "value": "2.5", "unit": "mg/dl"}),
    ("Platelets >= 100,000/mm3", {"analyte": "Platelets", "comparator": ">=", "value": "100,000", "unit": "/mm3"}),
    ("Stage III-IV disease", {"analyte": "Stage", "value": "III"}),
])
def test_report_rule_marks_find_the_parts(text: str, parts: dict[str, str], report_tools) -> None:
    analyte = parts["analyte"]
    value = {"2.5": 2.5, "100,000": 100000.0, "III": 3.0}[parts["value"]]
    expr = text.split(" disease")[0]
    rule = _rule(text, expr, analyte, analyte.lower(), parts.get("comparator", ">="), value,
                 None, parts.get("unit"))
    marks = rule_marks(text, rule, 0, labels=report_tools.labels, vocabulary=report_tools.vocabulary)
    found = {m.kind: text[m.start:m.end] for m in marks if m.kind != "rule"}
    assert found == parts


# --- the seed trial --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def seed_page(seed_trials, report_tools, dom):
    html = render_page(build_page(seed_trials, tools=report_tools))
    return html, dom.parse(html)


def test_report_seed_every_criterion_present(seed_trials, seed_page) -> None:
    _, doc = seed_page
    wanted = [c for c in seed_trials[0].criteria if c.kind != "header"]
    crits = doc.select("li", cls="crit")
    assert [c.attrs["data-path"] for c in crits] == [c.path for c in wanted]
    for crit, criterion in zip(crits, wanted, strict=True):
        text = crit.by_id(crit.attrs["id"] + "-t")
        assert text is not None and text.text() == criterion.text


def test_report_seed_every_rule_highlighted(seed_trials, seed_page, dom) -> None:
    _, doc = seed_page
    wanted = [c for c in seed_trials[0].criteria if c.kind != "header"]
    crits = doc.select("li", cls="crit")
    assert sum(len(c.rules) for c in wanted) == 12
    for crit, criterion in zip(crits, wanted, strict=True):
        for i, rule in enumerate(criterion.rules):
            assert dom.rule_text(crit, i) == criterion.text[rule.span.start:rule.span.end], criterion.path
            items = crit.select("li", cls="rule-item", data_ref=f"rule {i}")
            assert items and rule.analyte.name in items[0].text()


def test_report_seed_header_counts(seed_trials, seed_page) -> None:
    _, doc = seed_page
    stats = {d.select("dt")[0].text(): d.select("dd")[0].text().split()[-1]
             for d in doc.select("dl", cls="stats")[0].select("div")}
    items = [c for c in seed_trials[0].criteria if c.kind != "header"]
    concepts = [len(getattr(c, "concepts", ()) or ()) for c in items]
    bare = sum(not c.rules and not n for c, n in zip(items, concepts, strict=True))
    assert stats == {"criteria": str(len(items)), "rules": str(sum(len(c.rules) for c in items)),
                     "concepts": str(sum(concepts)), "without structure": str(bare),
                     "coverage": f"{(len(items) - bare) / len(items):.0%}"}
    assert (len(items), sum(len(c.rules) for c in items)) == (24, 12)


def test_report_seed_is_self_contained(seed_page, dom) -> None:
    html, doc = seed_page
    assert dom.external(html) == []
    assert not doc.select("link") and all("src" not in s.attrs for s in doc.select("script"))
    assert doc.select("a", cls="skip")[0].attrs["href"] == "#main" and doc.by_id("main")


def test_report_seed_sections_in_reading_order(seed_page) -> None:
    _, doc = seed_page
    headings = [h.text().split(" ")[0] for h in doc.select("h3")]
    assert headings == ["Registry", "Inclusion", "Exclusion"]


# --- a patient -------------------------------------------------------------------------------


def test_report_patient_colours_and_verdict(seed_trials, report_tools, dom) -> None:
    html = render_page(build_page(seed_trials, tools=report_tools, patient=dom.patient))
    doc = dom.parse(html)
    verdict = doc.select("p", cls="verdict")[0]
    assert "s-fail" in verdict.classes and "✗" in verdict.text() and "ineligible" in verdict.text()
    by_path = {c.attrs["data-path"]: c for c in doc.select("li", cls="crit")}
    assert "s-fail" in by_path["inclusion/7"].classes  # AST 3.3 x the lab's ULN
    assert "s-pass" in by_path["inclusion/6"].classes  # creatinine 150 umol/L = 1.70 mg/dL
    assert "s-unknown" in by_path["inclusion/5"].classes  # no stage
    from critparse import evaluate

    screening = evaluate(list(seed_trials[0].criteria), dom.patient)
    states = {"eligible": "s-pass", "ineligible": "s-fail", "unknown": "s-unknown"}
    for criterion, result in zip(seed_trials[0].criteria, screening.criteria, strict=True):
        if criterion.kind != "header":
            want = states[result.verdict] if result.checked else "s-unchecked"
            assert want in by_path[criterion.path].classes, criterion.path
    creatinine = by_path["inclusion/6"].select(cls="r-screen")[0].text()
    assert "observed 150 umol/L" in creatinine and "converted 1.6968 mg/dL" in creatinine
    for crit in by_path.values():  # never colour alone: every badge has its symbol and its word
        badge = crit.select("span", cls="badge")[0].text()
        assert badge.split()[0] in "✓✗?–" and len(badge.split()) >= 2


# --- concepts and logic (read with getattr, so they show as soon as they land) ---------------

TEXT = "No hepatitis B infection within 6 months, creatinine < 1.6 mg/dL unless hepatic metastases"


def _future_criterion() -> FutureCriterion:
    window = TimeWindow(text="within 6 months", span=_span(TEXT, "within 6 months"), comparator="<=",
                        value=6, unit="mo", anchor=None, relation="before")
    concept = Concept(type="condition", text="hepatitis B infection",
                      span=_span(TEXT, "hepatitis B infection"), name="hepatitis b infection",
                      negated=True, temporal=window,
                      codes=(Code(system="http://purl.obolibrary.org/obo/mondo.owl", code="MONDO:0005344"),))
    rule = _rule(TEXT, "creatinine < 1.6 mg/dL", "creatinine", "creatinine", "<", 1.6, "mg/dL", "mg/dL",
                 code="2160-0")
    cond = {"text": "hepatic metastases", "span": _span(TEXT, "hepatic metastases").model_dump(),
            "kind": "clinical"}
    logic = {"op": "and", "args": [{"concept": 0}, {"op": "if", "args": [
        {"op": "not", "args": [{"condition": cond}]}, {"rule": 0}]}]}
    return FutureCriterion(text=TEXT, rules=(rule,), concepts=(concept,), logic=logic)


@pytest.fixture(scope="module")
def future_doc(report_tools, dom):
    trial = FakeTrial("NCT00000001", [_future_criterion()])
    return dom.parse(render_page(build_page([trial], tools=report_tools)))


@pytest.mark.parametrize(("cls", "text"), [
    ("m-concept", "hepatitis B infection"),
    ("m-time", "within 6 months"),
    ("m-negation", "No"),
    ("m-condition", "hepatic metastases"),
    ("m-rule", "creatinine < 1.6 mg/dL"),
])
def test_report_concepts_and_conditions_highlighted(future_doc, cls: str, text: str) -> None:
    assert text in [m.text() for m in future_doc.select("article")[0].select("span", cls=cls)]


def test_report_concept_listed_with_code_and_window(future_doc) -> None:
    item = future_doc.select("li", cls="concept-item")[0].text()
    assert "condition" in item and "MONDO MONDO:0005344" in item and "negated" in item
    assert "<= 6 mo before now" in item
    concept = future_doc.select("article")[0].select("span", cls="m-concept")[0]
    assert "concept-condition" in concept.classes and "negated" in concept.classes


def test_report_logic_drawn_as_nested_blocks(future_doc) -> None:
    outer = future_doc.select("div", cls="lg-and")[0]
    assert outer.select("span", cls="lg-label")[0].text() == "all of"
    inner = outer.select("div", cls="lg-if")[0]
    assert [r.text() for r in inner.select("span", cls="lg-role")] == ["if", "then"]
    assert inner.select("div", cls="lg-not")
    assert "rule 1: creatinine < 1.6 mg/dL" in [leaf.text() for leaf in inner.select(cls="lg-rule")]


def test_report_logic_from_models() -> None:
    logic = pytest.importorskip("critparse.model.logic")
    from critparse.export.report import logic_view

    rule = _rule(TEXT, "creatinine < 1.6 mg/dL", "creatinine", "creatinine", "<", 1.6, "mg/dL", "mg/dL")
    tree = logic.Op(op="at_least", n=1, args=(logic.RuleLeaf(rule=0), logic.CriterionLeaf(criterion="inclusion/2")))
    view = logic_view(tree, (rule,), (), load_labels())
    assert view.label == "at least 1 of"
    assert [c.kind for c in view.children] == ["rule", "criterion"]


# --- diagnostics, bad records, escaping, many trials -----------------------------------------


def test_report_diagnostics_where_they_apply(report_tools, dom) -> None:
    record = Diagnostic(level="warning", code="encoding_fallback", message="decoded as cp1252")
    own = Diagnostic(level="warning", code="unknown_unit", message="unit 'foo' not known")
    crit = FutureCriterion(text="Sodium > 3 foo", diagnostics=(record, own))
    doc = dom.parse(render_report([FakeTrial("NCT1", [crit], (record,))], tools=report_tools))
    head = doc.select("header", cls="trial-head")[0].text()
    item = doc.select("li", cls="crit")[0].select("ul", cls="diags")[0].text()
    assert "encoding_fallback" in head and "encoding_fallback" not in item
    assert "unknown_unit" in item and "⚠" in item


def test_report_bad_records_listed(report_tools, dom) -> None:
    from critparse.runs.registry import RecordError

    bad = RecordError(position=2, line=2, code="invalid_json", message="Expecting value (column 1)")
    doc = dom.parse(render_report([FakeTrial("NCT1", [FutureCriterion(text="x")]), bad],
                                  tools=report_tools, source="in.jsonl"))
    listed = doc.select("section", cls="bad-records")[0].text()
    assert "in.jsonl:2 #2: invalid_json" in listed


@pytest.mark.parametrize("evil", ['<script>alert("x")</script> & <b>bold</b> " \' `'])
def test_report_escapes_everything(report_tools, dom, evil: str) -> None:
    crit = FutureCriterion(text=evil, path='inclusion/1"><script>x</script>',
                           no_threshold_reason=evil)
    html = render_report([FakeTrial(evil, [crit])], tools=report_tools)
    assert "<script>alert" not in html and "<b>bold" not in html
    assert len(re.findall(r"<script>", html)) == 1  # the page's own
    assert dom.parse(html).select("li", cls="crit")[0].by_id("t1-c1-t").text() == evil


def test_report_fifty_trials_one_page_with_index(fifty_trials_file, fifty_trials, report_tools,
                                                 dom) -> None:
    path, ids = fifty_trials_file
    trials = fifty_trials
    html = render_page(build_page(trials, tools=report_tools, source=str(path)))
    doc = dom.parse(html)
    assert [a.attrs["data-trial-id"] for a in doc.select("article")] == ids
    links = [a.attrs["href"] for a in doc.select("nav")[0].select("a")]
    assert len(links) == 50 and all(doc.by_id(h[1:]) is not None for h in links)
    all_ids = [e.attrs["id"] for e in doc.iter() if "id" in e.attrs]
    assert len(all_ids) == len(set(all_ids))
    assert len(doc.select("li", cls="crit")) == sum(
        c.kind != "header" for t in trials for c in t.criteria)
    assert dom.external(html) == []


def test_report_write_is_atomic_and_counted(seed_trials, report_tools, tmp_path) -> None:
    out = tmp_path / "report.html"
    stats = write_report(seed_trials, out, tools=report_tools)
    assert out.read_text("utf-8").startswith("<!doctype html>")
    assert stats.bytes == len(out.read_bytes()) and stats.trials == 1 and stats.rules == 12
    assert stats.describe().startswith(f"1 trial, 24 criteria, 12 rules, {stats.concepts} concepts, 0 bad records")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]
    assert oct(out.stat().st_mode & 0o777) == "0o644"


@pytest.mark.parametrize("section", ["inclusion", "exclusion", "unknown", "structured"])
def test_report_labels_cover_every_section(section: str) -> None:
    assert load_labels().sections[section]
