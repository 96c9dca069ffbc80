from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.tokens import Doc, DocBin

import critparse
from critparse.nlp.pipeline import clean_text

BAD_INPUTS = [
    "",
    "   \n\t ",
    "x" * 1_000_000,
    "Creatinine < 2.5 mg/dl " * 50_000,
    "\x00\x01\x02 bilirubin \x7f < 2 mg/dL",
    "<p>Bilirubin &lt; 2.0 mg/dl</p><br/><li>AST &le; 3 x ULN</li>",
    "ｂｉｌｉｒｕｂｉｎ ＜ ２ mg/dL",
    "Creatinine\u00a0<\u20092.5\u202fmg/dl",
    "\ud800 lone surrogate",
    "😀" * 100,
    "≤≤≤ ≥≥ <<<>>> === 10^^9 x x ULN ULN",
]


@pytest.mark.parametrize("text", BAD_INPUTS, ids=range(len(BAD_INPUTS)))
def test_pipeline_bad_input_never_raises(nlp, text):
    result = critparse.parse(text, nlp=nlp)
    # Lone surrogates cannot be written as UTF-8: each becomes U+FFFD (offsets kept), said so.
    assert result.text == re.sub("[\ud800-\udfff]", "\ufffd", text)
    assert result.rules or result.no_threshold_reason
    for rule in result.rules:
        assert text[rule.span.start : rule.span.end] == rule.text


def test_pipeline_html_entities_are_comparators(nlp):
    result = critparse.parse("<p>Bilirubin &lt; 2.0 mg/dl</p>", nlp=nlp)
    assert [(r.analyte.name, r.comparator, r.value) for r in result.rules] == [("bilirubin", "<", 2.0)]


def test_pipeline_huge_text_is_truncated_with_a_diagnostic(nlp):
    result = critparse.parse("Creatinine < 2.5 mg/dl " * 50_000, nlp=nlp)
    assert any(d.code == "text_truncated" for d in result.diagnostics)


def test_pipeline_parse_many_keeps_count_and_order(nlp):
    texts = ["Creatinine < 2.5 mg/dl", "", "Known HIV", None, b"Bilirubin < 2 mg/dL", 42, "ECOG 0-1"] * 50
    results = list(critparse.parse_many(texts, nlp=nlp, batch_size=7))
    assert len(results) == len(texts)
    assert results[0].rules[0].analyte.name == "creatinine"
    assert results[3].diagnostics[0].code == "not_text"
    assert results[4].rules[0].analyte.name == "bilirubin"
    assert results[5].diagnostics[0].code == "not_text"
    assert [r.text for r in results[:3]] == texts[:3]


def test_pipeline_is_deterministic(nlp):
    texts = ["AST/ALT < 3x ULN", "Age: 18-65 years", "Hemoglobin ≥ 9 g/dL, platelets ≥ 100,000/mm3"]
    first = [r.model_dump_json() for r in critparse.parse_many(texts, nlp=nlp)]
    second = [r.model_dump_json() for r in critparse.parse_many(reversed(texts), nlp=nlp)]
    assert first == list(reversed(second))


def test_pipeline_doc_extensions(nlp):
    doc = nlp("ECOG 0-1")
    assert [(r.comparator, r.value) for r in doc._.rules] == [(">=", 0), ("<=", 1)]
    assert doc._.no_threshold_reason is None


def test_pipeline_result_survives_docbin(nlp):
    doc = nlp("Creatinine < 2.5 mg/dl")
    bin_ = DocBin(store_user_data=True, docs=[doc])
    restored = next(iter(DocBin().from_bytes(bin_.to_bytes()).get_docs(nlp.vocab)))
    assert restored._.rules == doc._.rules
    again = Doc(nlp.vocab).from_bytes(doc.to_bytes())
    assert again._.critparse == doc._.critparse


@pytest.mark.slow
def test_pipeline_two_processes_match_one(nlp):
    texts = ["Creatinine < 2.5 mg/dl", "AST/ALT < 3x ULN", "Known HIV"] * 20
    one = [r.model_dump_json() for r in critparse.parse_many(texts, nlp=nlp)]
    two = [r.model_dump_json() for r in critparse.parse_many(texts, nlp=nlp, n_process=2, batch_size=8)]
    assert one == two


def test_pipeline_clean_text_keeps_offsets():
    text = "A\u00a0<\u20132\x00"
    assert len(clean_text(text)) == len(text)


def test_pipeline_add_pipe_by_name():
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("critparse_rules")
    assert nlp("Creatinine < 2.5 mg/dl")._.rules[0].value == 2.5


def test_pipeline_every_analyte_surface_matches_as_a_whole(nlp):
    """Each lexicon surface, alone, is one mention of its own length: the matcher's phrases are
    tokenized by the pipeline's own tokenizer, also when it is loaded from `models/`."""
    from critparse.nlp.pipeline import _own_extractor

    extractor = _own_extractor(nlp)
    assert extractor is not None
    missed = []
    for entry in extractor.lexicon.entries:
        for surface in (*entry.synonyms, *entry.abbreviations):
            found = extractor.mentions(nlp.make_doc(surface), surface)
            if not any(m.start == 0 and m.end == len(surface) for m in found):
                missed.append(surface)
    assert missed == []


def test_pipeline_too_many_numbers_say_where_reading_stopped(nlp):
    text = "; ".join(f"Marker {i} level ≥ {i} mg/dL" for i in range(1, 80))
    result = critparse.parse(text, nlp=nlp)
    (note,) = [d for d in result.diagnostics if d.code == "thresholds_truncated"]
    read_to = int(note.message.rsplit("first ", 1)[1].split()[0])
    assert result.rules and all(r.span.end <= read_to for r in result.rules) and read_to < len(text)
    few = critparse.parse("Marker level ≥ 5 mg/dL; other marker ≤ 3 mg/dL", nlp=nlp)
    assert "thresholds_truncated" not in {d.code for d in few.diagnostics}


def test_pipeline_too_many_concept_terms_say_where_reading_stopped(nlp):
    result = critparse.parse("Diabetes, hypertension, asthma, " * 40, nlp=nlp)
    (note,) = [d for d in result.diagnostics if d.code == "concepts_truncated"]
    assert "first" in note.message and result.concepts
    assert "concepts_truncated" not in {d.code for d in critparse.parse("Diabetes or asthma", nlp=nlp).diagnostics}


def test_pipeline_default_is_settled_and_leaves_no_cached_result():
    """The default pipeline freezes the objects alive after its warm-up (a full collection no
    longer walks them) and keeps no result of the warm-up text."""
    import gc

    from critparse.nlp.pipeline import _WARM_TEXT, _own_extractor, default_nlp

    nlp = default_nlp()
    assert gc.get_freeze_count() > 0
    extractor = _own_extractor(nlp)
    assert extractor is not None and (_WARM_TEXT, None) not in extractor._cache


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from([*"0123456789<>=≤≥.,;:()%/-+x ", "10^9/L", "1,500", " 2.5 ", "ANC ", "Hb "]), max_size=40).map("".join))
def test_pipeline_texts_without_letters_skip_the_tokens_to_the_same_answer(nlp, text: str) -> None:
    """No analyte surface lacks a letter, so a text without one is parsed without tokens; the
    answer is what the full reading (the spaCy pipeline, which always tokenizes) gives."""
    from critparse.nlp.pipeline import _own_extractor

    extractor = _own_extractor(nlp)
    assert extractor is not None
    fast = extractor.parse_text(text)
    slow = extractor.parse_text(text, doc=nlp.make_doc(text))
    assert fast == slow
