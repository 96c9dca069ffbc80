"""Reading registry v2 studies and plain blocks: formats, structured fields, bad records."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from critparse.errors import InputFormatError
from critparse.runs.registry import (
    RecordError,
    StudyRecord,
    decode_bytes,
    parse_age,
    read_studies,
    structured_criteria,
    study_record,
)

GOLDEN = Path(__file__).resolve().parents[1] / "trials"
SEED = json.loads((GOLDEN / "NCT02186860.json").read_text(encoding="utf-8"))


def _study(nct: str = "NCT00000001", criteria: str | None = "* Age >= 18", **fields: object) -> dict:
    module: dict[str, object] = {} if criteria is None else {"eligibilityCriteria": criteria}
    module.update(fields)
    return {"protocolSection": {"identificationModule": {"nctId": nct},
                                "eligibilityModule": module}}


def _records(data: bytes, name: str | None = None) -> list[StudyRecord | RecordError]:
    return list(read_studies(io.BufferedReader(io.BytesIO(data)), name=name))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("18 Years", (18.0, "a", "Years")),
        ("1 Year", (1.0, "a", "Year")),
        ("6 Months", (6.0, "mo", "Months")),
        ("2 Weeks", (2.0, "wk", "Weeks")),
        ("28 Days", (28.0, "d", "Days")),
        ("N/A", None),
        ("eighteen", None),
    ],
)
def test_registry_parse_age(value: str, expected: tuple[float, str, str] | None) -> None:
    assert parse_age(value) == expected


def test_registry_seed_structured_fields() -> None:
    record = study_record(SEED, position=1)
    assert isinstance(record, StudyRecord)
    assert record.trial_id == "NCT02186860"
    by_path = {c.path: c for c in structured_criteria(record)}
    assert set(by_path) == {"structured/minimumAge", "structured/maximumAge", "structured/sex",
                            "structured/healthyVolunteers", "structured/stdAges"}
    (low,) = by_path["structured/minimumAge"].rules
    (high,) = by_path["structured/maximumAge"].rules
    assert (low.analyte.name, low.comparator, low.value, low.unit) == ("age", ">=", 18, "a")
    assert (high.analyte.name, high.comparator, high.value, high.unit) == ("age", "<=", 65, "a")
    for criterion in by_path.values():
        assert criterion.kind == "structured" and criterion.section == "inclusion"
        assert criterion.trial_id == "NCT02186860"
        for rule in criterion.rules:
            assert criterion.text[rule.span.start : rule.span.end] == rule.text
    assert by_path["structured/sex"].no_threshold_reason == "sex: ALL"
    assert by_path["structured/healthyVolunteers"].no_threshold_reason == "healthyVolunteers: false"


@pytest.mark.parametrize(
    ("fields", "path", "reason", "unit"),
    [
        ({"sex": "FEMALE"}, "structured/sex", "sex: FEMALE", None),
        ({"healthyVolunteers": True}, "structured/healthyVolunteers", "healthyVolunteers: true", None),
        ({"minimumAge": "6 Months"}, "structured/minimumAge", None, "mo"),
        ({"maximumAge": "N/A"}, "structured/maximumAge", "maximumAge: N/A (no limit)", None),
    ],
)
def test_registry_structured_field(fields: dict[str, object], path: str, reason: str | None,
                                   unit: str | None) -> None:
    record = study_record(_study(**fields), position=1)
    assert isinstance(record, StudyRecord)
    (criterion,) = structured_criteria(record)
    assert criterion.path == path and criterion.no_threshold_reason == reason
    assert [r.unit for r in criterion.rules] == ([unit] if unit else [])


def test_registry_unreadable_age_is_a_diagnostic() -> None:
    record = study_record(_study(minimumAge="sometime"), position=1)
    (criterion,) = structured_criteria(record)  # type: ignore[arg-type]
    assert not criterion.rules and criterion.diagnostics[0].code == "bad_age"


@pytest.mark.parametrize(
    ("obj", "code"),
    [
        ([1, 2], "not_a_study"),
        ({"studies": "x"}, "not_a_study"),
        ({"protocolSection": {"identificationModule": {"nctId": "NCT1"}}}, "no_eligibility_module"),
    ],
)
def test_registry_bad_study(obj: object, code: str) -> None:
    error = study_record(obj, position=7, line=9)
    assert isinstance(error, RecordError)
    assert (error.code, error.position, error.line) == (code, 7, 9)


def test_registry_empty_criteria_and_missing_id_are_warnings() -> None:
    study = _study(criteria="   ", sex="ALL")
    del study["protocolSection"]["identificationModule"]["nctId"]
    record = study_record(study, position=1)
    assert isinstance(record, StudyRecord)
    assert {d.code for d in record.diagnostics} == {"no_trial_id", "empty_criteria"}


def test_registry_jsonl_with_bad_lines_keeps_the_rest() -> None:
    lines = [
        json.dumps(_study("NCT00000001")),
        "{not json",
        "",
        json.dumps({"studies": [_study("NCT00000002"), _study("NCT00000003")]}),
        json.dumps({"protocolSection": {"identificationModule": {"nctId": "NCT00000004"}}}),
        "42",
        json.dumps(_study("NCT00000005")),
    ]
    records = _records("\n".join(lines).encode("utf-8"), name="studies.jsonl")
    kinds = [(type(r).__name__, r.position, r.line, r.trial_id) for r in records]
    assert kinds == [
        ("StudyRecord", 1, 1, "NCT00000001"),
        ("RecordError", 2, 2, None),
        ("StudyRecord", 3, 4, "NCT00000002"),
        ("StudyRecord", 4, 4, "NCT00000003"),
        ("RecordError", 5, 5, "NCT00000004"),
        ("RecordError", 6, 6, None),
        ("StudyRecord", 7, 7, "NCT00000005"),
    ]
    assert "line 2" not in records[1].describe("x.jsonl") and "x.jsonl:2" in records[1].describe(
        "x.jsonl")


def test_registry_mixed_encodings_decode_with_a_diagnostic() -> None:
    good = json.dumps(_study("NCT00000001", "* Hémoglobine ≥ 9 g/dL"), ensure_ascii=False)
    latin = json.dumps(_study("NCT00000002", "* Hémoglobine > 9 g/dL"), ensure_ascii=False)
    data = good.encode("utf-8") + b"\n" + latin.encode("cp1252") + b"\n"
    first, second = _records(data, name="mixed.jsonl")
    assert isinstance(first, StudyRecord) and isinstance(second, StudyRecord)
    assert first.diagnostics == ()
    assert second.eligibility_text == "* Hémoglobine > 9 g/dL"
    assert [d.code for d in second.diagnostics] == ["encoding_fallback"]


def test_registry_decode_bytes_never_fails() -> None:
    assert decode_bytes(b"\xef\xbb\xbfok") == ("ok", None)
    text, diag = decode_bytes(bytes(range(256)))
    assert len(text) == 256 and diag is not None and "latin-1" in diag.message


@pytest.mark.parametrize("name", ["page.json", "page.data", None])
def test_registry_page_document(name: str | None) -> None:
    page = {"studies": [SEED, _study("NCT00000002")], "nextPageToken": "abc"}
    records = _records(json.dumps(page, indent=2).encode("utf-8"), name=name)
    assert [r.trial_id for r in records] == ["NCT02186860", "NCT00000002"]
    assert [r.position for r in records] == [1, 2]


def test_registry_single_study_file() -> None:
    (record,) = list(read_studies(GOLDEN / "NCT02186860.json"))
    assert isinstance(record, StudyRecord)
    assert record.eligibility_text.count("\n* ") == 19


def test_registry_invalid_json_document_is_one_error() -> None:
    (error,) = _records(b'{\n  "studies": [\n', name="page.json")
    assert isinstance(error, RecordError) and error.code == "invalid_json"


def test_registry_plain_text_block(tmp_path: Path) -> None:
    path = tmp_path / "NCT01234567.txt"
    path.write_bytes("Inclusion Criteria:\n* Age – 18+\n".encode("cp1252"))
    (record,) = list(read_studies(path))
    assert isinstance(record, StudyRecord)
    assert record.trial_id == "NCT01234567"
    assert "–" in record.eligibility_text
    assert record.diagnostics[0].code == "encoding_fallback"


def test_registry_sniffs_jsonl_without_suffix() -> None:
    data = (json.dumps(_study("NCT1")) + "\n" + json.dumps(_study("NCT2")) + "\n").encode()
    assert [r.trial_id for r in _records(data, name="dump.data")] == ["NCT1", "NCT2"]


def test_registry_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputFormatError, match="cannot open"):
        list(read_studies(tmp_path / "nope.jsonl"))


def test_registry_huge_criteria_block_streams() -> None:
    block = "\n".join(f"* Creatinine < {i % 9 + 1} mg/dL" for i in range(100_000))
    data = (json.dumps(_study("NCT00000009", block)) + "\n").encode("utf-8")
    (record,) = _records(data, name="big.jsonl")
    assert isinstance(record, StudyRecord)
    assert record.eligibility_text.count("\n") == 99_999
