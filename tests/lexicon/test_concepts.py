"""The concept vocabulary and its matcher (`critparse.lexicon.concepts`), on the shipped resources."""

from __future__ import annotations

import gzip
import json
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from critparse.errors import ResourceError
from critparse.lexicon.concepts import (
    BUNDLED,
    INDEX_FILE,
    ConceptLexicon,
    TermMatch,
    build_index,
    file_sha256,
    load_concept_lexicon,
    read_concept_file,
    read_index,
)

SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
UMLS = "http://www.nlm.nih.gov/research/umls"
DOID = "http://purl.obolibrary.org/obo/doid.owl"
MONDO = "http://purl.obolibrary.org/obo/mondo.owl"


@pytest.fixture(scope="module")
def lexicon() -> ConceptLexicon:
    return load_concept_lexicon()


def _found(lexicon: ConceptLexicon, text: str) -> dict[str, TermMatch]:
    return {m.text: m for m in lexicon.find(text)}


@pytest.mark.parametrize(
    ("text", "surface", "concept_id", "concept_type"),
    [
        (
            "Patients with human immunodeficiency virus, hepatitis B or C infection",
            "human immunodeficiency virus",
            "DOID:526",
            "condition",
        ),
        (
            "Patients with human immunodeficiency virus, hepatitis B or C infection",
            "hepatitis B",
            "DOID:2043",
            "condition",
        ),
        ("Pregnant or lactating women", "Pregnant", "CP:pregnancy", "condition"),
        ("Pregnant or lactating women", "lactating", "CP:lactation", "condition"),
        (
            "Active central nervous system leukemia",
            "central nervous system leukemia",
            "DOID:12969",
            "condition",
        ),
        ("History of seizure disorder", "seizure disorder", "DOID:1826", "condition"),
        (
            "Patients receiving T cell immunosuppressive therapy",
            "T cell immunosuppressive therapy",
            "CP:t_cell_immunosuppressive_therapy",
            "drug",
        ),
        (
            "No prior allogeneic stem cell transplantation",
            "allogeneic stem cell transplantation",
            "CP:allogeneic_hsct",
            "procedure",
        ),
        ("Relapsed ALL after two lines of therapy", "ALL", "DOID:9952", "condition"),
        (
            "non-small cell lung cancer, stage IV",
            "non-small cell lung cancer",
            "DOID:3908",
            "condition",
        ),
        (
            "non small cell lung cancer, stage IV",
            "non small cell lung cancer",
            "DOID:3908",
            "condition",
        ),
        ("Known brain metastases", "brain metastases", "CP:brain_metastases", "condition"),
        (
            "Prior radiation therapy to the pelvis",
            "radiation therapy",
            "CP:radiotherapy",
            "procedure",
        ),
        (
            "Systemic corticosteroids within 14 days",
            "Systemic corticosteroids",
            "CP:corticosteroids",
            "drug",
        ),
        (
            "Measurable disease per RECIST 1.1",
            "Measurable disease per RECIST 1.1",
            "CP:measurable_disease",
            "observation",
        ),
        ("CD19 positive B-cell malignancy", "CD19 positive", "CP:cd19_positive", "observation"),
        (
            "Negative serum pregnancy test at screening",
            "Negative serum pregnancy test",
            "CP:negative_pregnancy_test",
            "observation",
        ),
        ("Patients with a pacemaker or metal implants", "pacemaker", "CP:pacemaker", "device"),
        (
            "Patients with a pacemaker or metal implants",
            "metal implants",
            "CP:metal_implants",
            "device",
        ),
        (
            "Receipt of a live vaccine within 30 days",
            "live vaccine",
            "CP:live_vaccine",
            "immunization",
        ),
        ("Colonisation with MRSA", "MRSA", "CP:mrsa", "organism"),
        (
            "Able to give written informed consent",
            "written informed consent",
            "CP:informed_consent",
            "other",
        ),
        ("Ongoing warfarin or Coumadin use", "Coumadin", "DrugBank:DB00682", "drug"),
        ("Type 2 diabetes mellitus", "Type 2 diabetes mellitus", "DOID:9352", "condition"),
        ("Able to read and write English", "English", "CP:english", "other"),
        ("Has a smartphone with internet access", "internet access", "CP:internet_access", "other"),
        ("Women of childbearing potential", "Women of childbearing potential", "CP:childbearing_potential", "observation"),
        ("Hemoglobin < 9 g/dL or transfusion dependence", "transfusion dependence", "CP:transfusion_dependence", "condition"),
        ("Obstructive sleep apnoea requiring CPAP", "CPAP", "CP:cpap", "device"),
        ("Prior platinum-based chemotherapy", "platinum-based chemotherapy", "CP:platinum", "procedure"),
        ("Prior anticancer agents", "anticancer agents", "CP:anticancer_agents", "drug"),
    ],
)
def test_find_concept(lexicon, text, surface, concept_id, concept_type):
    found = _found(lexicon, text)
    assert surface in found, [m.text for m in lexicon.find(text)]
    assert (found[surface].concept_id, found[surface].type) == (concept_id, concept_type)


@pytest.mark.parametrize(
    "text", ["Patients with human immunodeficiency virus, hepatitis B or C infection"]
)
def test_find_codes_ontology_concepts(lexicon, text):
    found = _found(lexicon, text)
    codes = found["hepatitis B"].codes
    assert codes[0][:2] == (DOID, "DOID:2043")
    assert any(system == SNOMED for system, _, _ in codes)
    assert all(display is None for system, _, display in codes if system in (SNOMED, ICD10CM, UMLS))
    assert found["human immunodeficiency virus"].name == "HIV infection"


@pytest.mark.parametrize(
    ("text", "surface"),
    [
        ("Patients with small cell lung cancer", "ALL"),
        ("All patients must be adults", "All"),
        ("ALL PATIENTS MUST BE ADULTS", "ALL"),
        ("Men and women over 18", "Men"),
        ("Men and women over 18", "men"),
        ("Patients who can swallow tablets", "can"),
        ("ICD-10 code C91.0", "ICD"),
    ],
)
def test_find_never_matches_common_words(lexicon, text, surface):
    assert surface not in _found(lexicon, text)


@pytest.mark.parametrize(
    ("text", "surface", "concept_id"),
    [
        ("History of seizures", "seizures", "CP:seizure"),
        ("Prior anticancer therapies", "anticancer therapies", "CP:anticancer_therapy"),
        ("Crohn’s disease", "Crohn’s disease", "DOID:8778"),
        ("non‑small cell lung cancer", "non‑small cell lung cancer", "DOID:3908"),
        ("İİ HIV infection", "HIV infection", "DOID:526"),
    ],
)
def test_find_folds_plurals_quotes_and_dashes(lexicon, text, surface, concept_id):
    found = _found(lexicon, text)
    assert surface in found, [m.text for m in lexicon.find(text)]
    assert found[surface].concept_id == concept_id


@pytest.mark.parametrize(
    "text",
    [
        "Uncontrolled intercurrent illness including active infection, symptomatic congestive heart failure, unstable angina pectoris, cardiac arrhythmia, or psychiatric illness/social situations",
        "Women of childbearing potential must use highly effective contraception",
    ],
)
def test_find_is_ordered_non_overlapping_and_deterministic(lexicon, text):
    matches = lexicon.find(text)
    assert matches == lexicon.find(text)
    assert all(text[m.start : m.end] == m.text for m in matches)
    assert all(a.end <= b.start for a, b in pairwise(matches))
    assert len(matches) >= 2


@pytest.mark.parametrize(
    ("name", "concept_id"),
    [
        ("hepatitis c infection", "DOID:1883"),
        ("Hepatitis B", "DOID:2043"),
        ("ALL", "DOID:9952"),
        ("brain metastasis", "CP:brain_metastases"),
    ],
)
def test_lookup_names_exactly(lexicon, name, concept_id):
    found = lexicon.lookup(name)
    assert found is not None and found.concept_id == concept_id
    assert (found.start, found.end, found.text) == (0, len(name), name)


@pytest.mark.parametrize("name", ["all", "hepatitis c infection of the liver", "", "   "])
def test_lookup_misses(lexicon, name):
    assert lexicon.lookup(name) is None


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text())
def test_find_never_raises_and_offsets_are_valid(lexicon, text):
    matches = lexicon.find(text)
    for m in matches:
        assert 0 <= m.start < m.end <= len(text)
        assert text[m.start : m.end] == m.text
    assert all(a.end <= b.start for a, b in pairwise(matches))


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.sampled_from(
            [
                "HIV",
                "hepatitis",
                "B",
                "-",
                "non",
                "small",
                "cell",
                "ALL",
                "İ",
                "’s",
                " ",
                "  ",
                "\n",
                ",",
                "lung",
                "cancer",
                "s",
            ]
        ),
        max_size=30,
    )
)
def test_find_offsets_on_vocabulary_soup(lexicon, pieces):
    text = "".join(pieces)
    assert all(text[m.start : m.end] == m.text for m in lexicon.find(text))


@pytest.fixture(scope="module")
def shipped_entries():
    return read_concept_file(BUNDLED / "terms.jsonl.gz")


@pytest.mark.slow
def test_shipped_index_is_built_from_shipped_terms(shipped_entries):
    terms = BUNDLED / "terms.jsonl.gz"
    assert read_index(BUNDLED / INDEX_FILE, terms) == build_index(
        shipped_entries, file_sha256(terms)
    )
    assert len({e.id for e in shipped_entries}) == len(shipped_entries)


def test_shipped_codes_are_ordered_and_licence_clean(shipped_entries):
    order = [DOID, MONDO, SNOMED, ICD10CM]
    for entry in shipped_entries:
        ranks = [order.index(c.system) for c in entry.codes if c.system in order]
        assert ranks == sorted(ranks), entry.id
        assert all(c.display is None for c in entry.codes if c.system in (SNOMED, ICD10CM, UMLS)), (
            entry.id
        )


def test_shipped_folder_is_small():
    assert sum(p.stat().st_size for p in BUNDLED.iterdir()) < 15_000_000


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


ROWS = [
    {
        "id": "X:1",
        "type": "condition",
        "name": "widget fever",
        "synonyms": ["widget fevers"],
        "codes": [],
    },
    {
        "id": "X:2",
        "type": "device",
        "name": "gizmo",
        "case_sensitive": ["GZM"],
        "codes": [{"system": "urn:x", "code": "1", "display": None}],
    },
]


@pytest.mark.parametrize("compress", [False, True])
def test_load_terms_file_by_path(tmp_path, compress):
    path = _write_jsonl(tmp_path / "terms.jsonl", ROWS)
    if compress:
        gz = tmp_path / "terms.jsonl.gz"
        gz.write_bytes(gzip.compress(path.read_bytes()))
        path.unlink()
        path = gz
    lexicon = load_concept_lexicon(path)
    assert [m.concept_id for m in lexicon.find("Widget fevers and a GZM, not gzm")] == [
        "X:1",
        "X:2",
    ]
    assert load_concept_lexicon(tmp_path).lookup("gizmo").codes == (("urn:x", "1", None),)


def test_load_reports_every_bad_line(tmp_path):
    bad = [
        *ROWS,
        {"id": "no colon", "type": "gadget", "name": "x"},
        {"id": "X:3", "type": "drug", "name": "y", "colour": "red"},
    ]
    with pytest.raises(ResourceError) as info:
        load_concept_lexicon(_write_jsonl(tmp_path / "terms.jsonl", bad))
    message = str(info.value)
    assert "line 3" in message and "line 4" in message and "colour" in message and "type" in message


def test_load_rejects_a_stale_index(tmp_path):
    path = _write_jsonl(tmp_path / "terms.jsonl", ROWS)
    from critparse.lexicon.concepts import write_index

    write_index(build_index(read_concept_file(path), "0" * 64), tmp_path / INDEX_FILE)
    with pytest.raises(ResourceError, match="rebuild"):
        load_concept_lexicon(tmp_path)


def test_load_an_empty_folder_fails(tmp_path):
    with pytest.raises(ResourceError, match="build_concepts"):
        load_concept_lexicon(tmp_path)


def _longest_first_plainly(hits: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """The overlap rule as first written: each hit against every hit kept before it."""
    taken: list[tuple[int, int, int, int]] = []
    for hit in sorted(hits):
        if all(hit[2] <= t[1] or hit[1] >= t[2] for t in taken):
            taken.append(hit)
    return sorted(taken, key=lambda t: t[1])


_SPANS = st.tuples(st.integers(0, 60), st.integers(1, 12), st.integers(0, 5)).map(lambda s: (-s[1], s[0], s[0] + s[1], s[2]))


@given(st.lists(_SPANS, max_size=40))
@settings(max_examples=400, deadline=None)
def test_concepts_longest_first_keeps_what_the_plain_rule_keeps(hits: list[tuple[int, int, int, int]]) -> None:
    """`_longest_first` tests a hit against its neighbours only; it keeps exactly what testing every kept hit keeps."""
    from critparse.lexicon.concepts import _longest_first

    assert _longest_first(list(hits)) == _longest_first_plainly(hits)


@pytest.mark.parametrize("text", ["heart failure, type 2 diabetes mellitus; breast or ovarian cancer. " * 300])
def test_concepts_find_keeps_what_the_plain_rule_keeps(lexicon: ConceptLexicon, text: str) -> None:
    """A text of hundreds of overlapping terms: the same matches as testing each hit against every kept one."""
    expected = [(start, end) for _, start, end, _ in _longest_first_plainly(lexicon._hits(text))]
    assert [(m.start, m.end) for m in lexicon.find(text)] == expected
