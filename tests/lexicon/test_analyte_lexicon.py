"""Tests for the analyte lexicon (critparse/resources/analytes.json + critparse/lexicon/analytes.py)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from critparse.errors import CritparseError, ResourceError
from critparse.lexicon.analytes import (
    AnalyteEntry,
    AnalyteLexicon,
    load_analytes,
    loinc_check_digit_ok,
    loose_key,
    normalize_surface,
    parse_analytes,
)

CANONICAL = {
    "lab": """bilirubin; direct bilirubin; indirect bilirubin; creatinine; creatinine clearance; egfr;
        bun; uric acid; ast; alt; alp; ggt; ldh; albumin; total protein; hemoglobin; hematocrit;
        platelets; anc; wbc; lymphocytes; eosinophils; monocytes; reticulocytes; blasts; inr; pt;
        aptt; fibrinogen; d-dimer; hba1c; glucose; insulin; c-peptide; potassium; sodium; calcium;
        ionized calcium; magnesium; phosphate; chloride; bicarbonate; lipase; amylase; troponin; bnp;
        nt-probnp; ldl; hdl; total cholesterol; triglycerides; urine protein;
        urine protein creatinine ratio; urine albumin creatinine ratio; tsh; free t4; free t3;
        testosterone; estradiol; psa; cd4 count; hiv viral load; hbv dna; hcv rna; ferritin;
        transferrin saturation; vitamin d; crp; esr; lactate; cortisol; beta-2 microglobulin;
        serum m-protein; ige; beta-hcg; ca-125; cea; afp""",
    "vital": """systolic blood pressure; diastolic blood pressure; heart rate; respiratory rate;
        body temperature; spo2; body weight; height; bmi; body surface area""",
    "cardiac": "lvef; qtc",
    "pulmonary": "fev1; fvc; dlco",
    "scale": """ecog; karnofsky; lansky; nyha class; child-pugh score; meld score; mmse; moca;
        glasgow coma scale; edss; nihss; modified rankin scale; gleason score; stage; charlson index;
        hamd; madrs; pain score (nrs/vas)""",
    "demographic": "age; life expectancy",
}
CANONICAL_KINDS = {
    name.strip(): kind for kind, names in CANONICAL.items() for name in names.split(";")
}

# Unit codes the parser normalises to (the data contract), plus UCUM codes the lexicon's
# default units legitimately need for what the LOINC code measures.
CONTRACT_UNITS = {
    "mg/dL", "g/dL", "g/L", "mg/L", "ug/L", "ng/mL", "pg/mL", "ug/dL", "umol/L", "mmol/L",
    "nmol/L", "pmol/L", "meq/L", "U/L", "[IU]/L", "m[IU]/L", "u[IU]/mL", "%", "10*9/L", "10*3/uL",
    "10*12/L", "10*3/mm3", "/uL", "/mm3", "/L", "{copies}/mL", "[iU]/mL", "mL/min",
    "mL/min/{1.73_m2}", "kg", "g", "kg/m2", "m2", "cm", "m", "mm[Hg]", "/min", "ms", "Cel", "a",
    "mo", "wk", "d", "h", "min",
}
EXTRA_UNITS = {"s", "ng/dL", "U/mL", "mm/h", "mg/mg", "mg/g", "fL", "L", "mL/min/mm[Hg]",
               "m[IU]/mL", "[IU]/mL", "mosm/kg", "mg/(24.h)", "ng/L", "kPa"}


@pytest.fixture(scope="module")
def lexicon() -> AnalyteLexicon:
    from critparse.lexicon.resources import default_resources

    return default_resources().analytes


def _raw() -> dict[str, Any]:
    path = Path(__file__).parents[2] / "critparse" / "resources" / "analytes.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "analytes.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _entry(name: str, **over: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"name": name, "kind": "lab", "synonyms": [name]}
    base.update(over)
    return base


# --- the bundled file ---------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["canonical"])
def test_analytes_canonical_flag_marks_exactly_the_list(lexicon: AnalyteLexicon, flag: str) -> None:
    assert lexicon.canonical_names == set(CANONICAL_KINDS)
    assert all(getattr(e, flag) is (e.name in CANONICAL_KINDS) for e in lexicon.entries)


@pytest.mark.parametrize("minimum", [100])
def test_analytes_bundled_size(lexicon: AnalyteLexicon, minimum: int) -> None:
    assert len(lexicon) >= minimum
    assert len(lexicon.entries) == len(lexicon)


@pytest.mark.parametrize("name", sorted(CANONICAL_KINDS))
def test_analytes_canonical_name_present(lexicon: AnalyteLexicon, name: str) -> None:
    entry = lexicon.by_name(name)
    assert entry is not None, f"missing canonical analyte {name!r}"
    assert entry.kind == CANONICAL_KINDS[name]
    assert name in lexicon


@pytest.mark.parametrize("cached", [True])
def test_analytes_default_resources_hold_one_lexicon(cached: bool) -> None:
    from critparse.lexicon.resources import default_resources

    assert (default_resources().analytes is default_resources().analytes) is cached


@pytest.mark.parametrize(
    ("surface", "name"),
    [
        ("creatinine", "creatinine"),
        ("Serum Creatinine", "creatinine"),
        ("serum creatinine level", "creatinine"),
        ("SCr", "creatinine"),
        ("Cr", "creatinine"),
        ("total bilirubin", "bilirubin"),
        ("Total Bilirubin", "bilirubin"),
        ("serum bilirubin", "bilirubin"),
        ("direct bilirubin", "direct bilirubin"),
        ("conjugated bilirubin", "direct bilirubin"),
        ("creatinine clearance", "creatinine clearance"),
        ("calculated creatinine clearance", "creatinine clearance"),
        ("Cockcroft-Gault creatinine clearance", "creatinine clearance"),
        ("CrCl", "creatinine clearance"),
        ("glomerular filtration rate", "egfr"),
        ("estimated glomerular filtration rate", "egfr"),
        ("eGFR", "egfr"),
        ("AST", "ast"),
        ("SGOT", "ast"),
        ("aspartate aminotransferase", "ast"),
        ("aspartate transaminase", "ast"),
        ("serum glutamic oxaloacetic transaminase", "ast"),
        ("ALT", "alt"),
        ("SGPT", "alt"),
        ("alanine aminotransferase", "alt"),
        ("serum glutamic pyruvic transaminase", "alt"),
        ("alkaline phosphatase", "alp"),
        ("ANC", "anc"),
        ("absolute neutrophil count", "anc"),
        ("neutrophil count", "anc"),
        ("neutrophils", "anc"),
        ("absolute granulocyte count", "anc"),
        ("AGC", "anc"),
        ("Hgb", "hemoglobin"),
        ("Hb", "hemoglobin"),
        ("haemoglobin", "hemoglobin"),
        ("hemoglobin level", "hemoglobin"),
        ("haematocrit", "hematocrit"),
        ("platelets", "platelets"),
        ("platelet count", "platelets"),
        ("Platelet counts", "platelets"),
        ("PLT", "platelets"),
        ("WBC", "wbc"),
        ("white blood cell count", "wbc"),
        ("leucocytes", "wbc"),
        ("absolute lymphocyte count", "lymphocytes"),
        ("INR", "inr"),
        ("PT", "pt"),
        ("prothrombin time", "pt"),
        ("aPTT", "aptt"),
        ("PTT", "aptt"),
        ("activated partial thromboplastin time", "aptt"),
        ("HbA1c", "hba1c"),
        ("A1c", "hba1c"),
        ("glycated haemoglobin", "hba1c"),
        ("K", "potassium"),
        ("Na", "sodium"),
        ("Ca", "calcium"),
        ("corrected calcium", "calcium"),
        ("Mg", "magnesium"),
        ("P", "phosphate"),
        ("phosphorus", "phosphate"),
        ("NT-proBNP", "nt-probnp"),
        ("nt pro bnp", "nt-probnp"),
        ("NT - proBNP", "nt-probnp"),
        ("NT\u2011proBNP", "nt-probnp"),
        ("BNP", "bnp"),
        ("LDL cholesterol", "ldl"),
        ("LDL-C", "ldl"),
        ("proteinuria", "urine protein"),
        ("24-hour urine protein", "urine protein"),
        ("UPCR", "urine protein creatinine ratio"),
        ("urine protein/creatinine ratio", "urine protein creatinine ratio"),
        ("urine protein creatinine ratio", "urine protein creatinine ratio"),
        ("UACR", "urine albumin creatinine ratio"),
        ("free T4", "free t4"),
        ("FT4", "free t4"),
        ("oestradiol", "estradiol"),
        ("prostate-specific antigen", "psa"),
        ("CD4+ T-cell count", "cd4 count"),
        ("HIV-1 RNA", "hiv viral load"),
        ("HBV DNA", "hbv dna"),
        ("HCV RNA", "hcv rna"),
        ("25-hydroxyvitamin D", "vitamin d"),
        ("C-reactive protein", "crp"),
        ("beta-2 microglobulin", "beta-2 microglobulin"),
        ("beta 2 microglobulin", "beta-2 microglobulin"),
        ("M-protein", "serum m-protein"),
        ("serum M-protein", "serum m-protein"),
        ("beta-hCG", "beta-hcg"),
        ("CA-125", "ca-125"),
        ("CA 125", "ca-125"),
        ("CA125", "ca-125"),
        ("CEA", "cea"),
        ("alpha-fetoprotein", "afp"),
        ("systolic blood pressure", "systolic blood pressure"),
        ("SBP", "systolic blood pressure"),
        ("systolic BP", "systolic blood pressure"),
        ("diastolic BP", "diastolic blood pressure"),
        ("BP", "blood pressure"),
        ("HR", "heart rate"),
        ("pulse rate", "heart rate"),
        ("SpO2", "spo2"),
        ("oxygen saturation", "spo2"),
        ("weight", "body weight"),
        ("body weight", "body weight"),
        ("BMI", "bmi"),
        ("body mass index", "bmi"),
        ("BSA", "body surface area"),
        ("LVEF", "lvef"),
        ("left ventricular ejection fraction", "lvef"),
        ("ejection fraction", "lvef"),
        ("QTc", "qtc"),
        ("QTcF", "qtc"),
        ("corrected QT interval", "qtc"),
        ("FEV1", "fev1"),
        ("DLCO", "dlco"),
        ("ECOG", "ecog"),
        ("ECOG PS", "ecog"),
        ("ECOG performance status", "ecog"),
        ("WHO performance status", "ecog"),
        ("performance status", "ecog"),
        ("PS", "ecog"),
        ("Karnofsky performance status", "karnofsky"),
        ("KPS", "karnofsky"),
        ("Lansky", "lansky"),
        ("NYHA class", "nyha class"),
        ("New York Heart Association", "nyha class"),
        ("Child-Pugh", "child-pugh score"),
        ("Child Pugh class", "child-pugh score"),
        ("MELD score", "meld score"),
        ("MMSE", "mmse"),
        ("MoCA", "moca"),
        ("Glasgow Coma Scale", "glasgow coma scale"),
        ("GCS", "glasgow coma scale"),
        ("EDSS", "edss"),
        ("NIHSS", "nihss"),
        ("mRS", "modified rankin scale"),
        ("modified Rankin scale", "modified rankin scale"),
        ("Gleason score", "gleason score"),
        ("stage", "stage"),
        ("Charlson comorbidity index", "charlson index"),
        ("HAM-D", "hamd"),
        ("MADRS", "madrs"),
        ("NRS", "pain score (nrs/vas)"),
        ("visual analogue scale", "pain score (nrs/vas)"),
        ("average pain intensity", "pain score (nrs/vas)"),
        ("FPG", "glucose"),
        ("fasting plasma glucose", "glucose"),
        ("AST(SGOT)", "ast"),
        ("ALT (SGPT)", "alt"),
        ("weighing", "body weight"),
        ("birth weight", "birth weight"),
        ("gestational age", "gestational age"),
        ("slow vital capacity", "slow vital capacity"),
        ("Hoehn and Yahr stage", "hoehn and yahr stage"),
        ("non-HDL cholesterol", "non-hdl cholesterol"),
        ("Lp(a)", "lipoprotein(a)"),
        ("age", "age"),
        ("aged", "age"),
        ("Age", "age"),
        ("life expectancy", "life expectancy"),
        ("expected survival", "life expectancy"),
        ("expected survival time", "life expectancy"),
        ("estimated life expectancy", "life expectancy"),
        ("  serum   creatinine  ", "creatinine"),
    ],
)
def test_analytes_lookup_surface(lexicon: AnalyteLexicon, surface: str, name: str) -> None:
    entry = lexicon.lookup(surface)
    assert entry is not None, f"{surface!r} not found"
    assert entry.name == name


@pytest.mark.parametrize(
    "surface",
    # Abbreviations are case-sensitive: in lower case these are ordinary words or ambiguous.
    ["pt", "k", "na", "ca", "p", "ps", "hr", "bp", "", "   ", "patient", "the", "tuberculosis",
     "xyzzy"],
)
def test_analytes_lookup_miss(lexicon: AnalyteLexicon, surface: str) -> None:
    assert lexicon.lookup(surface) is None


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("2160-0", "creatinine"),
        ("1975-2", "bilirubin"),
        ("1920-8", "ast"),
        ("1742-6", "alt"),
        ("751-8", "anc"),
        ("718-7", "hemoglobin"),
        ("777-3", "platelets"),
        ("6690-2", "wbc"),
        ("6301-6", "inr"),
        ("4548-4", "hba1c"),
        ("2823-3", "potassium"),
        ("33762-6", "nt-probnp"),
        ("2857-1", "psa"),
        ("8480-6", "systolic blood pressure"),
        ("8462-4", "diastolic blood pressure"),
        ("8867-4", "heart rate"),
        ("29463-7", "body weight"),
        ("39156-5", "bmi"),
        ("10230-1", "lvef"),
        ("89247-1", "ecog"),
        ("89243-0", "karnofsky"),
        ("30525-0", "age"),
        (" 2160-0 ", "creatinine"),
    ],
)
def test_analytes_by_code(lexicon: AnalyteLexicon, code: str, name: str) -> None:
    entry = lexicon.by_code(code)
    assert entry is not None and entry.name == name
    assert entry.system == "http://loinc.org"


@pytest.mark.parametrize("code", ["0000-0", "2160-1", "not-a-code"])
def test_analytes_by_code_miss(lexicon: AnalyteLexicon, code: str) -> None:
    assert lexicon.by_code(code) is None


@pytest.mark.parametrize("name", ["blasts", "lansky", "stage", "life expectancy", "troponin"])
def test_analytes_uncoded_entries_are_null(lexicon: AnalyteLexicon, name: str) -> None:
    entry = lexicon.by_name(name)
    assert entry is not None
    assert entry.code is None and entry.system is None and entry.display is None


@pytest.mark.parametrize(
    "name", ["ecog", "karnofsky", "stage", "gleason score", "nyha class", "mmse", "pain score (nrs/vas)", "inr"]
)
def test_analytes_scores_are_unitless(lexicon: AnalyteLexicon, name: str) -> None:
    entry = lexicon.by_name(name)
    assert entry is not None and entry.unitless and entry.default_unit is None


@pytest.mark.parametrize("field", ["default_unit"])
def test_analytes_default_units_are_known_codes(lexicon: AnalyteLexicon, field: str) -> None:
    units = {getattr(e, field) for e in lexicon.entries} - {None}
    assert units <= CONTRACT_UNITS | EXTRA_UNITS, units - CONTRACT_UNITS - EXTRA_UNITS


@pytest.mark.parametrize("field", ["default_unit"])
def test_analytes_default_units_are_ucum(lexicon: AnalyteLexicon, field: str) -> None:
    from critparse.screen.units import is_ucum

    bad = sorted({u for e in lexicon.entries if (u := getattr(e, field)) and not is_ucum(u)})
    assert not bad


@pytest.mark.parametrize("kind", ["scale"])
def test_analytes_every_scale_is_unitless(lexicon: AnalyteLexicon, kind: str) -> None:
    assert all(e.unitless for e in lexicon.entries if e.kind == kind)


@pytest.mark.parametrize("check", ["surfaces_unique"])
def test_analytes_no_surface_names_two_analytes(lexicon: AnalyteLexicon, check: str) -> None:
    seen: dict[str, str] = {}
    for surface, name, _ in lexicon.phrase_patterns():
        key = loose_key(surface).lower()
        assert seen.setdefault(key, name) == name, (check, surface, seen[key], name)


@pytest.mark.parametrize("check", ["round_trip"])
def test_analytes_every_surface_looks_up_its_entry(lexicon: AnalyteLexicon, check: str) -> None:
    for surface, name, case_sensitive in lexicon.phrase_patterns():
        found = lexicon.lookup(surface)
        assert found is not None and found.name == name, (check, surface)
        if not case_sensitive:
            assert lexicon.lookup(surface.upper()) is found


@pytest.mark.parametrize("raw_check", ["about"])
def test_analytes_file_documents_its_shape(raw_check: str) -> None:
    raw = _raw()
    assert set(raw) == {"_about", "analytes"}
    assert "synonyms" in raw["_about"] and "LOINC" in raw["_about"]


# --- helpers ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "ok"),
    [("2160-0", True), ("718-7", True), ("89247-1", True), ("30525-0", True), ("2160-1", False),
     ("718-2", False), ("1975-3", False)],
)
def test_analytes_loinc_check_digit(code: str, ok: bool) -> None:
    assert loinc_check_digit_ok(code) is ok


@pytest.mark.parametrize(
    ("text", "normal", "loose"),
    [
        ("NT - proBNP", "NT-proBNP", "NT proBNP"),
        ("ca-125", "ca-125", "ca 125"),
        ("AST / ALT", "AST/ALT", "AST ALT"),
        ("  a \t b  ", "a b", "a b"),
        ("protein:creatinine ratio", "protein:creatinine ratio", "protein creatinine ratio"),
        ("NT\u2013proBNP", "NT-proBNP", "NT proBNP"),
    ],
)
def test_analytes_surface_normalisation(text: str, normal: str, loose: str) -> None:
    assert normalize_surface(text) == normal
    assert loose_key(text) == loose


# --- rejection of bad files -----------------------------------------------------------------------


@pytest.mark.parametrize("case", ["many_problems"])
def test_analytes_bad_file_reports_every_problem(tmp_path: Path, case: str) -> None:
    data = {
        "_about": "test",
        "analytes": [
            _entry("creatinine", code="2160-0", system="http://loinc.org", display="Creatinine",
                   source="LOINC"),
            _entry("glucose", colour="blue"),  # unknown key
            _entry("Sodium"),  # not lower-case
            _entry("potassium", code="2823-4", system="http://loinc.org", display="K",
                   source="LOINC"),  # bad check digit
            _entry("ecog", kind="scale", unitless=True, default_unit="%"),
            _entry("serum creat", synonyms=["serum creat", "creatinine"]),  # collides with [0]
            _entry("magnesium", kind="mineral"),  # bad kind
            _entry("calcium", abbreviations=["ca"]),  # lower-case abbreviation
            _entry("creatinine"),  # duplicate name
        ],
    }
    with pytest.raises(ResourceError) as info:
        load_analytes(_write(tmp_path, data))
    message = str(info.value)
    for expected in [
        "[1] 'glucose'", "unknown key 'colour'", "valid keys:", "'synonyms'",
        "[2] 'Sodium'", "lower-case",
        "[3] 'potassium'", "check digit",
        "[4] 'ecog'", "unitless",
        "'creatinine' maps to more than one analyte", "[5] 'serum creat'",
        "[6] 'magnesium'", "kind",
        "[7] 'calcium'", "abbreviations",
        "[8] 'creatinine': name 'creatinine' already used by [0]",
    ]:
        assert expected in message, (expected, message)
    assert "9 problem(s)" in message or message.count("\n") >= 9


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"analytes": [], "extra": 1}, "unknown top-level keys ['extra']"),
        ({"analytes": {}}, "'analytes' must be a list"),
        ([1, 2], "expected an object"),
        ({"analytes": [42]}, "[0]: expected an object"),
        ({"analytes": [_entry("x", code="2160-0")]}, "code and system"),
        ({"analytes": [_entry("x", code="2160-0", system="http://loinc.org")]}, "display"),
        ({"analytes": [_entry("x", synonyms=[])]}, "at least one synonym"),
        ({"analytes": [_entry("x", synonyms=["x", "x"])]}, "listed twice"),
        ({"analytes": [_entry("x", synonyms=["y"])]}, "name must itself be"),
        ({"analytes": [_entry("x", synonyms=["x", "Big X"])]}, "lower-case"),
        ({"analytes": [_entry("x", display="X")]}, "null it when code is null"),
        ({"analytes": [_entry("x"), _entry("y", synonyms=["y", "x"])]}, "more than one analyte"),
        ({"analytes": [_entry("x", abbreviations=["XA"]), _entry("y", synonyms=["y", "xa"])]},
         "more than one analyte"),
        ({"analytes": [_entry("x-y"), _entry("z", synonyms=["z", "x y"])]}, "more than one analyte"),
        ({"analytes": [
            _entry("x", code="2160-0", system="http://loinc.org", display="X", source="L"),
            _entry("y", code="2160-0", system="http://loinc.org", display="Y", source="L"),
        ]}, "code '2160-0' already used by [0]"),
        ({"analytes": [_entry("x", members=["y"])]}, "member 'y' is not an entry"),
        ({"analytes": [_entry("x", members=["y"]), _entry("y", members=["z"]), _entry("z")]},
         "member 'y' is a group"),
    ],
)
def test_analytes_bad_file_rejected(tmp_path: Path, data: Any, expected: str) -> None:
    with pytest.raises(ResourceError) as info:
        load_analytes(_write(tmp_path, data))
    assert expected in str(info.value)


@pytest.mark.parametrize("content", ["{not json", ""])
def test_analytes_invalid_json(tmp_path: Path, content: str) -> None:
    path = tmp_path / "analytes.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ResourceError, match="not valid JSON"):
        load_analytes(path)


@pytest.mark.parametrize("name", ["missing.json"])
def test_analytes_missing_file(tmp_path: Path, name: str) -> None:
    with pytest.raises(ResourceError, match="cannot read"):
        load_analytes(tmp_path / name)


@pytest.mark.parametrize("exc_type", [ValueError, CritparseError])
def test_analytes_error_is_catchable_as(tmp_path: Path, exc_type: type[Exception]) -> None:
    with pytest.raises(exc_type):
        load_analytes(_write(tmp_path, {"analytes": [{"name": "x"}]}))


@pytest.mark.parametrize("as_str", [True, False])
def test_analytes_load_user_file(tmp_path: Path, as_str: bool) -> None:
    data = {"_about": "mine", "analytes": [_entry("foo", synonyms=["foo", "foo level"],
                                                  abbreviations=["FOO"])]}
    path = _write(tmp_path, data)
    lex = load_analytes(str(path) if as_str else path)
    assert lex.about == "mine"
    assert lex.lookup("Foo Level") is lex.by_name("foo")
    assert lex.lookup("FOO") is lex.by_name("foo")


@pytest.mark.parametrize("change", ["collision"])
def test_analytes_bundled_file_with_injected_collision_fails(tmp_path: Path, change: str) -> None:
    data = _raw()
    broken = copy.deepcopy(data)
    broken["analytes"][1]["synonyms"].append(broken["analytes"][0]["synonyms"][0])
    with pytest.raises(ResourceError, match="more than one analyte"):
        load_analytes(_write(tmp_path, broken))
    assert len(load_analytes(_write(tmp_path, data))) == len(data["analytes"])


@pytest.mark.parametrize("field", ["name"])
def test_analytes_entries_are_frozen(lexicon: AnalyteLexicon, field: str) -> None:
    entry = lexicon.by_name("creatinine")
    assert isinstance(entry, AnalyteEntry)
    with pytest.raises(ValidationError, match="frozen"):
        setattr(entry, field, "other")


@pytest.mark.parametrize("direct", [True])
def test_analytes_model_rejects_collisions_when_built_directly(direct: bool) -> None:
    a = AnalyteEntry(name="x", kind="lab", synonyms=("x",))
    b = AnalyteEntry(name="y", kind="lab", synonyms=("y", "x"))
    with pytest.raises(ValueError, match="more than one analyte"):
        AnalyteLexicon(analytes=(a, b))


@pytest.mark.parametrize("text", ['{"analytes": []}'])
def test_analytes_parse_string(text: str) -> None:
    assert len(parse_analytes(text)) == 0
