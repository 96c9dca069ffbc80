"""Splitting eligibility blocks: the line classifier, the stack, and golden blocks in registry
layouts (tests/trials); the whole-block scores are in tests/test_golden_blocks.py."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from critparse.errors import ResourceError
from critparse.lexicon.resources import default_resources
from critparse.text.segment import (
    classify_line,
    iter_segments,
    load_sections,
    match_header,
    split_eligibility,
    table_cells,
)

GOLDEN = Path(__file__).resolve().parents[1] / "trials"
CASES = sorted(p for p in GOLDEN.iterdir() if p.suffix in (".json", ".txt"))


def _eligibility_text(path: Path) -> str:
    if path.suffix == ".json":
        study = json.loads(path.read_text(encoding="utf-8"))
        return study["protocolSection"]["eligibilityModule"]["eligibilityCriteria"]
    return path.read_bytes().decode("utf-8")


def _expected(path: Path) -> list[dict[str, str | None]]:
    lines = (GOLDEN / f"{path.stem}.expected.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def test_trials_golden_has_enough_layouts() -> None:
    assert len(CASES) >= 18
    assert (GOLDEN / "NCT02186860.json").exists()


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_trials_golden_split(path: Path) -> None:
    text = _eligibility_text(path)
    got = [
        {"kind": s.kind, "section": s.section, "path": s.path, "text": s.text,
         "parent_path": s.parent_path}
        for s in split_eligibility(text)
    ]
    assert got == _expected(path)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_trials_golden_spans_point_into_the_text(path: Path) -> None:
    text = _eligibility_text(path)
    segments = split_eligibility(text)
    paths = [s.path for s in segments]
    assert len(paths) == len(set(paths)), "paths are unique within a trial"
    last = -1
    for seg in segments:
        source = text[seg.span.start : seg.span.end]
        assert seg.span.start >= last
        last = seg.span.end
        if seg.marker == "|":  # a table row: its cells, joined
            assert table_cells(source).replace("\\", "") == seg.text.replace("\\", "")
            continue
        # The item's text is its source with line breaks (and indentation) made single spaces.
        assert " ".join(source.replace("\\", "").split()) == " ".join(
            seg.text.replace("\\", "").split()
        ) or ("\n" not in source and source.strip() == seg.text)
        if "\n" not in source and "\\" not in source and seg.marker != "|":
            assert source == seg.text


def test_trials_seed_has_19_bullets() -> None:
    segments = split_eligibility(_eligibility_text(GOLDEN / "NCT02186860.json"))
    bullets = [s for s in segments if s.kind == "criterion"]
    assert len(bullets) == 19
    assert [s.section for s in bullets].count("inclusion") == 12
    assert bullets[5].text == "Creatinine < 2.5 mg/dl" and bullets[5].path == "inclusion/6"


@pytest.mark.parametrize(
    ("line", "kind", "style", "content"),
    [
        ("* Age >= 18", "bullet", "symbol*", "Age >= 18"),
        ("  - ANC > 1500", "bullet", "symbol-", "ANC > 1500"),
        ("• Platelets", "bullet", "symbol•", "Platelets"),
        ("•Platelets", "bullet", "symbol•", "Platelets"),
        ("1. Age", "bullet", "num.", "Age"),
        ("12) Age", "bullet", "num)", "Age"),
        ("(3) Age", "bullet", "(num)", "Age"),
        ("a. ANC", "bullet", "alpha.", "ANC"),
        ("b) ANC", "bullet", "alpha)", "ANC"),
        ("ii. stroke", "bullet", "roman.", "stroke"),
        ("(iv) stroke", "bullet", "(roman)", "stroke"),
        ("A) Cohort", "bullet", "ALPHA)", "Cohort"),
        ("1.2 Serum potassium", "bullet", "decimal1", "Serum potassium"),
        ("1.5 mg/dL or less", "text", None, "1.5 mg/dL or less"),
        ("-1.5 SD", "text", None, "-1.5 SD"),
        ("e.g. aspirin", "text", None, "e.g. aspirin"),
        ("U.S. residents", "text", None, "U.S. residents"),
        ("A. Smith or delegate", "bullet", "ALPHA.", "Smith or delegate"),
        ("Creatinine < 2", "text", None, "Creatinine < 2"),
        ("   ", "blank", None, ""),
        ("-----", "blank", None, "-----"),
        ("Inclusion Criteria:", "header", None, "Inclusion Criteria:"),
        ("* Exclusion Criteria", "header", None, "Exclusion Criteria"),
    ],
)
def test_trials_classify_line(line: str, kind: str, style: str | None, content: str) -> None:
    (info,) = classify_line(line, 10)
    assert info.kind == kind
    assert info.style == style
    assert line[info.content_start - 10 : info.end - 10] == content


def test_trials_classify_line_header_then_text() -> None:
    header, rest = classify_line("Inclusion criteria: age 18 to 65")
    assert (header.kind, header.section, header.end) == ("header", "inclusion", 19)
    assert rest.kind == "text" and rest.start == 20


@pytest.mark.parametrize(
    ("text", "section"),
    [
        ("Inclusion Criteria:", "inclusion"),
        ("INCLUSION CRITERIA", "inclusion"),
        ("Key Inclusion Criteria", "inclusion"),
        ("Main inclusion criteria:", "inclusion"),
        ("Inclusion criteria for Part 2 (expansion):", "inclusion"),
        ("## Inclusion criteria", "inclusion"),
        ("**Exclusion Criteria:**", "exclusion"),
        ("Exclusion criteria", "exclusion"),
        ("Key exclusion criteria:", "exclusion"),
        ("Non-inclusion criteria:", "exclusion"),
        ("Criteria for exclusion:", "exclusion"),
        ("Exclusions:", "exclusion"),
        ("Patients must not have any of the following:", "exclusion"),
        ("Subjects will be excluded if they meet any of the following:", "exclusion"),
        ("Patients must meet all of the following criteria:", "inclusion"),
        ("To be eligible, participants must:", "inclusion"),
        ("Inclusion and exclusion criteria:", "unknown"),
        ("Eligibility criteria", "unknown"),
        ("DISEASE CHARACTERISTICS:", "inclusion"),
        ("Patients must have adequate organ function", None),
        ("Patients must have adequate organ function defined as:", None),
        ("Meets all other inclusion criteria", None),
        ("Creatinine < 1.5 mg/dL", None),
        ("Prior therapy", None),
    ],
)
def test_trials_match_header(text: str, section: str | None) -> None:
    assert match_header(text) == section


def test_trials_a_heading_kept_for_one_vocabulary_is_read_again_for_another() -> None:
    """`match_header` keeps what it found per line, with the patterns it used: another
    vocabulary's patterns never see the first one's answers."""
    default = default_resources().sections
    swapped = default._replace(headers=tuple(
        (regex, "exclusion" if section == "inclusion" else section, colon) for regex, section, colon in default.headers
    ))
    assert match_header("Inclusion Criteria:", default) == "inclusion"
    assert match_header("Inclusion Criteria:", swapped) == "exclusion"
    assert match_header("Inclusion Criteria:", default) == "inclusion"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Exclusion:\n1. Known HIV:\n   a. CD4 < 200\n   b. on therapy\n2. Hepatitis",
            [("header", "exclusion"), ("criterion", "exclusion/1"), ("criterion", "exclusion/1/a"),
             ("criterion", "exclusion/1/b"), ("criterion", "exclusion/2")],
        ),
        (
            # Letters under numbers at the same indentation still nest, and "2." returns.
            "1. Organ function:\na. ANC >= 1500\nb. Platelets >= 100\n2. Age >= 18",
            [("criterion", "unknown/1"), ("criterion", "unknown/1/a"),
             ("criterion", "unknown/1/b"), ("criterion", "unknown/2")],
        ),
        (
            # "h." then "i." is a lettered list, not a roman numeral.
            "\n".join(f"{c}. item {c}" for c in "abcdefghij"),
            [("criterion", f"unknown/{i}") for i in range(1, 11)],
        ),
        (
            # Three levels deep: numbers, letters, roman labels in the path.
            "* A:\n  * B:\n    * C\n* D",
            [("criterion", "unknown/1"), ("criterion", "unknown/1/a"),
             ("criterion", "unknown/1/a/i"), ("criterion", "unknown/2")],
        ),
        (
            # An in-between dedent joins the closer level instead of opening a new one.
            "* A:\n    * B\n   * C\n* D",
            [("criterion", "unknown/1"), ("criterion", "unknown/1/a"),
             ("criterion", "unknown/1/b"), ("criterion", "unknown/2")],
        ),
        (
            # Wrapped without indentation: lower-case start joins; a capital after a period
            # starts a new paragraph.
            ("Inclusion Criteria\nAdults with asthma diagnosed at least\n"
             "one year ago.\nNon-smokers."),
            [("header", "inclusion"), ("paragraph", "inclusion/1"),
             ("paragraph", "inclusion/2")],
        ),
        ("", []),
        ("\n\n   \n", []),
    ],
)
def test_trials_split_structure(text: str, expected: list[tuple[str, str]]) -> None:
    assert [(s.kind, s.path) for s in split_eligibility(text)] == expected


def test_trials_parent_text_is_given_to_children() -> None:
    segs = split_eligibility("* Adequate organ function defined as:\n  * ANC >= 1500/mm3")
    assert segs[1].parent_text == "Adequate organ function defined as:"
    assert segs[1].parent_path == "unknown/1"
    assert segs[0].parent_text is None


def test_trials_markdown_escapes_removed() -> None:
    (seg,) = split_eligibility("* QTcF \\> 470 ms")
    assert seg.text == "QTcF > 470 ms"
    assert seg.span.end - seg.span.start == len("QTcF \\> 470 ms")


def test_trials_iter_segments_streams() -> None:
    it = iter_segments("* a\n* b\n* c")
    assert next(it).text == "a"


def _calls(work: Callable[[], object]) -> int:
    """Python and C function calls made by `work`: a measure of work that a busy machine does
    not change (time belongs in benchmarks/)."""
    count = 0

    def profile(frame: object, event: str, arg: object) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        work()
    finally:
        sys.setprofile(None)
    return count


def _block(lines: int) -> str:
    layouts = ["* Creatinine < {i} mg/dL", "  - ANC >= {i}", "{i}. Age >= 18",
               "    a. Platelets > {i}", "continued text {i}", "", "| ANC | >= {i} |",
               "Hepatic", "  - AST < {i} x ULN"]
    return "\n".join(layouts[i % len(layouts)].format(i=i) for i in range(lines))


def test_trials_100000_line_block_is_linear() -> None:
    segments = split_eligibility(_block(100_000))
    assert len(segments) > 60_000
    assert len({s.path for s in segments}) == len(segments)
    # Linear: ten times the lines cost ten times the calls (a little more for longer numbers).
    small, large = (_calls(lambda n=n: split_eligibility(_block(n))) for n in (2_000, 20_000))
    assert large < 11 * small, (small, large)


@pytest.mark.parametrize("repeat", [1, 3, 10, 30])
def test_trials_heading_qualifiers_do_not_backtrack(repeat: int) -> None:
    # Short words, digits and letters that each used to read as a qualifier in two ways: a
    # failing 60-character line took minutes (2^n), now microseconds.
    words = ["1", "2", "3", "a", "b", "c", "i", "ii", "key-", "key", "part"] * repeat
    line = " ".join(words)[:140].strip() + " criteria x"
    started = time.perf_counter()
    assert match_header(line) is None
    assert match_header(line.replace(" x", ":")) == "unknown"
    assert time.perf_counter() - started < 0.5


def test_trials_markdown_table_one_item_per_row() -> None:
    text = ("* Organ function as defined below:\n\n| Test | Limit |\n|---|:---:|\n"
            "| ANC | ≥ 1500/mm3 |\n| AST \\| ALT | < 3 x ULN |\n")
    segments = split_eligibility(text)
    assert [(s.kind, s.path, s.text) for s in segments] == [
        ("criterion", "unknown/1", "Organ function as defined below:"),
        ("header", "unknown/1/a", "Test Limit"),
        ("criterion", "unknown/1/b", "ANC ≥ 1500/mm3"),
        ("criterion", "unknown/1/c", "AST | ALT < 3 x ULN"),
    ]
    assert all("---" not in s.text for s in segments)
    assert segments[2].parent_text == "Organ function as defined below:"


@pytest.mark.parametrize("label", ["Hepatic", "Renal", "Age", "Performance status"])
def test_trials_older_layout_sub_headings_head_their_bullets(label: str) -> None:
    text = f"PATIENT CHARACTERISTICS:\n\n{label}\n\n  - First item\n\n  - Second item\n"
    _, head, first, second = split_eligibility(text)
    assert (head.kind, head.text) == ("header", label)
    assert first.parent_text == second.parent_text == label
    assert first.path == f"{head.path}/a" and second.path == f"{head.path}/b"


@pytest.mark.parametrize("text", ["Patients with cancer.\n* Age > 18", "Hepatic function normal\n"])
def test_trials_sentences_are_not_sub_headings(text: str) -> None:
    assert split_eligibility(text)[0].kind == "paragraph"


def test_trials_bad_sections_file_reports_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "sections.json"
    bad.write_text(json.dumps({
        "header_words": ["x"],
        "headers": [{"pattern": "(", "section": "inclusion"},
                    {"pattern": "ok", "section": "sideways"},
                    {"pattern": "ok", "section": "exclusion", "colour": "red"}],
        "note_words": ["note", "("],
        "bullet_symbols": ["**"],
    }))
    with pytest.raises(ResourceError) as info:
        load_sections(str(bad))
    message = str(info.value)
    assert "5 problem(s)" in message and "note_words" in message
    assert "headers/0/pattern" in message and "headers/1/section" in message
    assert "headers/2/colour" in message and "bullet_symbols" in message


def test_trials_bundled_sections_file_loads() -> None:
    spec = load_sections()
    assert spec.headers and "*" in spec.bullet_symbols


_PIECES = ["* ", "- ", "1. ", "a) ", "(ii) ", "• ", "  ", "\t", "\n", "\r\n", "\n\n",
           "Inclusion Criteria:", "EXCLUSION CRITERIA", "Patients must not have:", "Age:",
           "Creatinine < 1.5 mg/dL", "and", ":", "\\>", "**", "ANC ≥ 1500", "i. ", "h. ",
           "Note: ", "; ", "2.1 ", "1 - ", "1.", "(2)", "| a | |", "|---|---|", "E.3 ", "--", "OR", "at least"]


@given(st.lists(st.one_of(st.sampled_from(_PIECES), st.text(max_size=12)), max_size=40))
@settings(max_examples=300, deadline=None)
def test_trials_split_never_raises(pieces: list[str]) -> None:
    text = "".join(pieces)
    segments = split_eligibility(text)
    assert len({s.path for s in segments}) == len(segments)
    for seg in segments:
        assert 0 <= seg.span.start <= seg.span.end <= len(text)
        assert seg.text == seg.text.strip()
        if seg.parent_path is not None:
            assert seg.path.startswith(seg.parent_path + "/")


@pytest.mark.parametrize(
    "label",
    ["**Cohort 2 (food effect)**", "__Healthy volunteers__", "### Arm B", "**Pulmonary:**",
     "Stage 1 (open label)"],
)
def test_trials_emphasised_and_titled_lines_are_sub_headings(label: str) -> None:
    text = f"Exclusion Criteria:\n\n{label}\n\n* Asthma requiring oral steroids\n* Smoker\n"
    _, head, *items = split_eligibility(text)
    assert head.kind == "header" and head.section == "exclusion"
    assert [s.kind for s in items] == ["criterion", "criterion"]


@pytest.mark.parametrize("text", ["**Serum sodium ≥ 130 mmol/L**\n* Adults", "**Adults with a stable dose of insulin for 3 months or longer, with no change planned**\n* Adults"])
def test_trials_bold_criteria_stay_criteria(text: str) -> None:
    assert split_eligibility(text)[0].kind == "paragraph"


def test_trials_table_group_rows_are_sub_headings() -> None:
    text = ("* Laboratory limits:\n\n| Test | Limit |\n|---|---|\n| *Coagulation* | |\n"
            "| INR | ≤ 1.5 |\n| | **Liver** |\n| ALT | ≤ 3 × ULN |\n")
    kinds = [(s.kind, s.text) for s in split_eligibility(text)]
    assert kinds == [("criterion", "Laboratory limits:"), ("header", "Test Limit"),
                     ("header", "*Coagulation*"), ("criterion", "INR ≤ 1.5"),
                     ("header", "**Liver**"), ("criterion", "ALT ≤ 3 × ULN")]


@pytest.mark.parametrize("word", ["OR", "and", "AND/OR", "(or)"])
def test_trials_connective_lines_are_not_items(word: str) -> None:
    text = f"Inclusion:\nPrior lobectomy\n\n{word}\n\nPrior pneumonectomy\n"
    assert [s.kind for s in split_eligibility(text)] == ["header", "paragraph", "header", "paragraph"]


@pytest.mark.parametrize("note", ["Note: trough levels are used", "NOTE - fasting sample", "N.B. either eye",
                                  "**Note:** local laboratory values"])
def test_trials_note_lines_are_items_of_their_own(note: str) -> None:
    text = f"Inclusion Criteria:\n  -  Vitamin D below 20 ng/mL\n     {note}\n  -  Age 50 or older\n"
    _, first, remark, second = split_eligibility(text)
    assert first.text == "Vitamin D below 20 ng/mL"
    assert remark.text == note and remark.parent_path == first.path
    assert second.parent_path is None


def test_trials_note_at_the_margin_is_a_sibling() -> None:
    text = "1. Renal transplant recipient\nNote: living donors included\n2. Stable graft function"
    segs = split_eligibility(text)
    assert [(s.text, s.parent_path) for s in segs] == [
        ("Renal transplant recipient", None), ("Note: living donors included", None),
        ("Stable graft function", None)]


def test_trials_text_back_at_a_bullets_column_after_its_sub_bullets_is_its_child() -> None:
    text = ("  -  One of these rhythms:\n\n       -  atrial flutter\n\n       -  atrial fibrillation\n\n"
            "     Paroxysmal episodes count when documented twice\n\n  -  No pacemaker\n")
    segs = split_eligibility(text)
    assert [s.path for s in segs] == ["unknown/1", "unknown/1/a", "unknown/1/b", "unknown/1/c", "unknown/2"]
    assert segs[3].parent_text == "One of these rhythms:"


@pytest.mark.parametrize(
    ("text", "section"),
    [
        ("E.3 Principal inclusion criteria", "inclusion"),
        ("E.4  Principal exclusion criteria:", "exclusion"),
        ("6.2 Exclusion Criteria", "exclusion"),
        ("3.1.1. Inclusion criteria", "inclusion"),
        ("Current participant exclusion criteria as of 02/11/2019:", "exclusion"),
        ("Original inclusion criteria:", "inclusion"),
        ("Revised Exclusion Criteria (amendment 3)", "exclusion"),
        ("Ineligibility criteria", "exclusion"),
        ("Selection criteria - exclusion:", "exclusion"),
        ("Eligibility criteria: inclusion", None),  # a heading plus text, split by classify_line
        ("Subjects must have:", "inclusion"),
        ("The following participants will be excluded:", "exclusion"),
        ("Subjects must have a negative pregnancy test:", None),
        ("Current smokers", None),
        ("E.3 Platelets", None),
    ],
)
def test_trials_match_header_numbered_versioned_and_sentence_headings(text: str, section: str | None) -> None:
    assert match_header(text) == section


def test_trials_numbered_registry_headings_open_sections() -> None:
    text = "E.3 Principal inclusion criteria\n1. Adults\nE.4 Principal exclusion criteria\n1. Pregnancy"
    assert [(s.kind, s.section, s.text) for s in split_eligibility(text)] == [
        ("header", "inclusion", "E.3 Principal inclusion criteria"), ("criterion", "inclusion", "Adults"),
        ("header", "exclusion", "E.4 Principal exclusion criteria"), ("criterion", "exclusion", "Pregnancy")]


def test_trials_decimal_children_in_sequence_whatever_their_first_word() -> None:
    text = ("1. Consent\n2. Renal function:\n2.1 eGFR ≥ 45\n2.2 ≤ 1+ proteinuria on dipstick\n"
            "3. Potassium not more than\n5.5 mmol/L\n4. Sodium at most\n4.1 mmol above 130")
    assert [(s.path, s.text) for s in split_eligibility(text)] == [
        ("unknown/1", "Consent"), ("unknown/2", "Renal function:"), ("unknown/2/a", "eGFR ≥ 45"),
        ("unknown/2/b", "≤ 1+ proteinuria on dipstick"),
        ("unknown/3", "Potassium not more than 5.5 mmol/L"),
        ("unknown/4", "Sodium at most 4.1 mmol above 130")]


def test_trials_numbers_with_dashes_are_a_list_when_they_count_up() -> None:
    text = "Exclusion criteria:\n1 - Anaemia\n2 - Prior stroke\n3 - Dementia\nFever for\n2 - 3 days"
    segs = split_eligibility(text)[1:]
    assert [(s.text, s.marker) for s in segs] == [
        ("Anaemia", "1"), ("Prior stroke", "2"), ("Dementia", "3"), ("Fever for 2 - 3 days", None)]


@pytest.mark.parametrize(("line", "kind"), [("-Smoker", "bullet"), ("-1.5 SD below the mean", "text"),
                                            ("-HIV", "text"), ("-or-", "text")])
def test_trials_dash_glued_to_a_word(line: str, kind: str) -> None:
    (info,) = classify_line(line)
    assert info.kind == kind


@pytest.mark.parametrize("word", ["at least", "no more than", "a minimum of", "measuring", "exceeding", "≥"])
def test_trials_a_line_that_wants_its_number_wraps_onto_the_next(word: str) -> None:
    text = f"* Forced vital capacity {word}\n70% of predicted\n* Non-smoker"
    assert [s.text for s in split_eligibility(text)] == [f"Forced vital capacity {word} 70% of predicted", "Non-smoker"]


def test_trials_a_number_after_a_finished_line_starts_an_item() -> None:
    text = "Adults aged 40 years and over\n2 or more exacerbations in the past year"
    assert len(split_eligibility(text)) == 2


def test_trials_semicolon_paragraph_is_a_list() -> None:
    text = ("Key exclusion criteria: Prior myocarditis; current use of clozapine (or any\n"
            "drug; see appendix); and epilepsy.")
    _, *parts = split_eligibility(text)
    assert [(p.kind, p.text) for p in parts] == [
        ("criterion", "Prior myocarditis"),
        ("criterion", "current use of clozapine (or any drug; see appendix)"),
        ("criterion", "epilepsy.")]
    assert [p.path for p in parts] == ["exclusion/1", "exclusion/2", "exclusion/3"]
    assert all(text[p.span.start : p.span.end].replace("\n", " ") == p.text for p in parts)


@pytest.mark.parametrize("text", ["Inclusion criteria:\n* ANC ≥ 1000; platelets ≥ 50,000; Hb ≥ 8",
                                  "Stable dose of insulin; no hypoglycaemia"])
def test_trials_semicolons_in_a_bullet_or_a_pair_do_not_split(text: str) -> None:
    assert len([s for s in split_eligibility(text) if s.kind != "header"]) == 1


def test_trials_numbering_run_on_one_line_is_one_item_per_number() -> None:
    text = "Exclusion criteria\n1) Sepsis 2) Burns over 20% of body surface 3) Pregnancy\n4) Prisoners"
    _, *items = split_eligibility(text)
    assert [(s.text, s.marker, s.path) for s in items] == [
        ("Sepsis", "1", "exclusion/1"), ("Burns over 20% of body surface", "2", "exclusion/2"),
        ("Pregnancy", "3", "exclusion/3"), ("Prisoners", "4", "exclusion/4")]


@pytest.mark.parametrize("text", ["1. ECOG 0, 1 or 2. Patients on dialysis are eligible",
                                  "1. Age 18 to 65 3. Signed consent 4. Able to swallow"])
def test_trials_numbers_out_of_order_do_not_split(text: str) -> None:
    assert len(split_eligibility(text)) == 1


def test_trials_list_above_the_only_exclusion_heading_is_inclusion() -> None:
    text = "- Adults\n  - with a carer\n- Signed consent\nExclusion criteria:\n- Dementia"
    segs = split_eligibility(text)
    assert [(s.section, s.path, s.parent_path) for s in segs] == [
        ("inclusion", "inclusion/1", None), ("inclusion", "inclusion/1/a", "inclusion/1"),
        ("inclusion", "inclusion/2", None), ("exclusion", "exclusion", None),
        ("exclusion", "exclusion/1", None)]


@pytest.mark.parametrize("text", ["- Adults\nInclusion criteria:\n- Consent\nExclusion criteria:\n- Dementia",
                                  "- Adults\n- Signed consent"])
def test_trials_list_without_a_heading_stays_unknown(text: str) -> None:
    assert split_eligibility(text)[0].section == "unknown"


def test_trials_moved_list_numbers_on_when_an_inclusion_heading_follows() -> None:
    text = "* Adults\nExclusion criteria:\n* Dementia\nInclusion criteria:\n* Consent"
    paths = [s.path for s in split_eligibility(text)]
    assert paths == ["inclusion/1", "exclusion", "exclusion/1", "inclusion", "inclusion/2"]


def test_trials_items_before_any_heading_are_held_a_bounded_number() -> None:
    it = iter_segments("\n".join(f"* item {i}" for i in range(5000)) + "\nExclusion criteria:\n* x")
    first = next(it)
    assert first.section == "unknown" and first.text == "item 0"


def test_trials_a_sentence_that_would_have_fitted_above_is_not_a_wrap() -> None:
    text = ("Exclusion criteria: Any malignancy in the past five years except skin cancers\n"
            "1. Uncontrolled hypertension despite three antihypertensive drugs\n"
            "Dialysis patients can join the renal sub-study instead.")
    assert [s.text for s in split_eligibility(text)][-2:] == [
        "Uncontrolled hypertension despite three antihypertensive drugs",
        "Dialysis patients can join the renal sub-study instead."]


def test_trials_hard_wrapped_text_still_joins_capitalised_words() -> None:
    text = ("  -  Prior treatment with any antibody against programmed death receptor\n"
            "     Ligand 1 or CTLA-4 in the metastatic setting\n  -  Age 18 or over")
    assert split_eligibility(text)[0].text.endswith("receptor Ligand 1 or CTLA-4 in the metastatic setting")


@pytest.mark.parametrize("header", ["**Exclusion criteria:**", "__Exclusion criteria:__", "*Exclusion criteria:*"])
def test_trials_emphasised_inline_heading_then_text(header: str) -> None:
    text = f"{header} Known cirrhosis\n* Alcohol use disorder"
    head, first, second = split_eligibility(text)
    assert (head.kind, head.section) == ("header", "exclusion")
    assert (first.kind, first.text) == ("paragraph", "Known cirrhosis")
    assert text[first.span.start : first.span.end] == "Known cirrhosis"
    assert second.parent_path is None


def test_trials_numbers_glued_to_their_text_are_markers_in_sequence() -> None:
    text = ("Inclusion criteria:\n1.Aged 20-70 years;\n2.Child-Pugh A;\n3、Signed consent.\n"
            "Exclusion criteria:\n(1)Portal vein thrombus;\n(2)Prior TACE\nPlatelets at least\n5.0 x 10^10/L")
    segs = [s for s in split_eligibility(text) if s.kind != "header"]
    assert [(s.text, s.marker) for s in segs] == [
        ("Aged 20-70 years;", "1"), ("Child-Pugh A;", "2"), ("Signed consent.", "3"),
        ("Portal vein thrombus;", "1"), ("Prior TACE", "2"), ("Platelets at least 5.0 x 10^10/L", None)]


def test_trials_semicolon_parts_lose_their_letters() -> None:
    text = "Prior cancers: a) melanoma; b) sarcoma; (c) glioma"
    assert [(s.text, s.marker) for s in split_eligibility(text)] == [
        ("Prior cancers: a) melanoma", None), ("sarcoma", "b"), ("glioma", "c")]


@pytest.mark.parametrize(
    ("text", "section"),
    [("--Disease Characteristics--", "inclusion"), ("--Prior/Concurrent Therapy--", "inclusion"),
     ("== Exclusion criteria ==", "exclusion"), ("[Inclusion criteria]", "inclusion"),
     ("-- Creatinine < 2 --", None), ("Prior & concomitant therapies:", "inclusion")],
)
def test_trials_framed_headings(text: str, section: str | None) -> None:
    assert match_header(text) == section


def test_trials_therapy_heading_inside_exclusions_is_a_sub_heading() -> None:
    text = "Exclusion criteria:\nPrior therapy:\n- Radiotherapy to the pelvis\nInclusion:\n- Adults"
    assert [(s.kind, s.section) for s in split_eligibility(text)] == [
        ("header", "exclusion"), ("header", "exclusion"), ("criterion", "exclusion"),
        ("header", "inclusion"), ("criterion", "inclusion")]


@pytest.mark.parametrize(
    ("text", "section"),
    [
        ("Volunteers are eligible if they:", "inclusion"),
        ("Children will be enrolled in the trial only if", "inclusion"),
        ("Subjects are considered eligible provided that", "inclusion"),
        ("Women are excluded from the study if they", "exclusion"),
        ("Candidates will not be randomised when any of the following conditions are present", "exclusion"),
        ("People cannot take part if", "exclusion"),
        ("Subjects will not be included in the study for the following reasons:", "exclusion"),
        ("Volunteers are excluded if they smoke", None),  # a criterion, not a lead-in
        ("Children are eligible if they weigh over 10 kg", None),
    ],
)
def test_trials_sentence_heading_that_stops_at_if_needs_no_colon(text: str, section: str | None) -> None:
    assert match_header(text) == section


def test_trials_sentence_headings_without_colon_open_their_sections() -> None:
    text = ("Individuals are eligible if they\n- live alone\n- are 70 or older\n"
            "Individuals will not be recruited if\n- they are in residential care")
    assert [(s.kind, s.section) for s in split_eligibility(text)] == [
        ("header", "inclusion"), ("criterion", "inclusion"), ("criterion", "inclusion"),
        ("header", "exclusion"), ("criterion", "exclusion")]


def test_trials_table_without_outer_pipes_is_a_table() -> None:
    text = ("Exclusion criteria:\n- Abnormal values at baseline:\n\nTest | Limit\n:--- | ---:\n"
            "Lipase | > 3 x ULN\nINR | > 1.5\n\n- Prior pancreatitis")
    segs = [s for s in split_eligibility(text) if s.kind != "header"]
    assert [(s.text, s.parent_text) for s in segs] == [
        ("Abnormal values at baseline:", None), ("Lipase > 3 x ULN", "Abnormal values at baseline:"),
        ("INR > 1.5", "Abnormal values at baseline:"), ("Prior pancreatitis", None)]
    assert text[segs[1].span.start : segs[1].span.end] == "Lipase | > 3 x ULN"


@pytest.mark.parametrize("text", ["- Weight | height ratio under 0.5\n- Adults",
                                  "Either | or\nAdults over 18 | with consent"])
def test_trials_pipes_without_a_rule_line_are_text(text: str) -> None:
    assert all(s.marker != "|" for s in split_eligibility(text))


@pytest.mark.parametrize("heading", ["Volunteers must satisfy all of the following criteria to be enrolled:",
                                     "To be eligible for the trial, candidates must:"])
def test_trials_sentence_heading_after_exclusions_reopens_inclusion(heading: str) -> None:
    text = f"Candidates will be excluded if:\n- they smoke\n{heading}\n- be 40 to 60 years old"
    assert [(s.kind, s.section) for s in split_eligibility(text)] == [
        ("header", "exclusion"), ("criterion", "exclusion"), ("header", "inclusion"), ("criterion", "inclusion")]
