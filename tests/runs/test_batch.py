"""Whole-trial batch runs with the real parser: order, counts, writers, bad input, the CLI."""

from __future__ import annotations

import gzip
import io
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from critparse.cli import app
from critparse.errors import InputFormatError
from critparse.model import ParseResult
from critparse.nlp.pipeline import parse_many
from critparse.runs.batch import TrialResult, iter_trials, run
from critparse.runs.registry import RecordError, StudyRecord, read_studies, study_record
from critparse.text.segment import split_eligibility

GOLDEN = Path(__file__).resolve().parents[1] / "trials"
SEED = json.loads((GOLDEN / "NCT02186860.json").read_text(encoding="utf-8"))


def _study(nct: str, criteria: str, **fields: Any) -> dict[str, Any]:
    return {"protocolSection": {"identificationModule": {"nctId": nct},
                                "eligibilityModule": {"eligibilityCriteria": criteria, **fields}}}


def _generated(n: int, seed: int = 7) -> list[str]:
    """JSONL lines of studies in varied layouts, with a bad line every 50."""
    rng = random.Random(seed)
    bullets = ["Age >= 18 years", "Creatinine < 1.5 mg/dL", "ECOG performance status 0-1",
               "Hemoglobin >= 9 g/dL", "Pregnant or breastfeeding", "Platelets > 100,000/mm3",
               "Signed informed consent", "Adequate organ function defined as:"]
    lines = []
    for i in range(n):
        if i % 50 == 49:
            lines.append("{broken json" if i % 100 == 49 else json.dumps({"protocolSection": {}}))
            continue
        marker = rng.choice(["* ", "- ", "1. ", "• "])
        inc = "\n".join(marker + rng.choice(bullets) for _ in range(rng.randint(0, 6)))
        exc = "\n".join("  - " + rng.choice(bullets) for _ in range(rng.randint(1, 4)))
        text = f"Inclusion Criteria:\n\n{inc}\n\nExclusion Criteria:\n\n{exc}"
        lines.append(json.dumps(_study(f"NCT{i:08d}", text, minimumAge="18 Years", sex="ALL")))
    return lines


def test_batch_seed_trial_every_bullet_out() -> None:
    (result,) = list(iter_trials([study_record(SEED, position=1)]))
    assert isinstance(result, TrialResult) and result.trial_id == "NCT02186860"
    bullets = [c for c in result.criteria if c.kind == "criterion"]
    assert len(bullets) == 19
    assert [c.path for c in bullets][:2] == ["inclusion/1", "inclusion/2"]
    assert {c.path for c in result.criteria if c.kind == "structured"} >= {
        "structured/minimumAge", "structured/maximumAge"}
    creatinine = next(c for c in bullets if c.text == "Creatinine < 2.5 mg/dl")
    (rule,) = creatinine.rules
    assert (rule.analyte.name, rule.comparator, rule.value, rule.unit) == ("creatinine", "<", 2.5,
                                                                          "mg/dL")
    for criterion in result.criteria:
        assert criterion.trial_id == "NCT02186860"
        for r in criterion.rules:
            assert criterion.text[r.span.start : r.span.end] == r.text
        if criterion.kind != "structured":
            assert criterion.rules or criterion.no_threshold_reason


def test_batch_children_get_parent_context() -> None:
    seen: list[tuple[str, str | None]] = []

    def spy(texts: Any, *, contexts: Any, **kwargs: Any) -> Iterator[Any]:
        pairs = list(zip(texts, contexts, strict=True))
        seen.extend(pairs)
        return parse_many([t for t, _ in pairs], contexts=[c for _, c in pairs], **kwargs)

    text = "Inclusion Criteria:\n* Adequate organ function defined as:\n  * ANC >= 1500/mm3"
    (result,) = list(iter_trials([study_record(_study("NCT1", text), position=1)],
                                 parse_many=spy))
    assert seen[1] == ("ANC >= 1500/mm3", "Adequate organ function defined as:")
    child = result.criteria[-1]
    assert child.path == "inclusion/1/a" and child.parent_text == seen[1][1]


def test_batch_count_in_equals_count_out_on_a_large_input() -> None:
    lines = _generated(1500)
    records = list(read_studies(io.BufferedReader(io.BytesIO("\n".join(lines).encode())),
                                name="gen.jsonl"))  # type: ignore[arg-type]
    assert len(records) == 1500
    out = list(iter_trials(iter(records), batch_size=64))
    assert len(out) == len(records)
    assert [r.position for r in out] == list(range(1, 1501))
    errors = [r for r in out if isinstance(r, RecordError)]
    assert len(errors) == 30
    for record, result in zip(records, out, strict=True):
        if isinstance(record, StudyRecord):
            assert isinstance(result, TrialResult) and result.trial_id == record.trial_id
            segments = split_eligibility(record.eligibility_text)
            texts = [c for c in result.criteria if c.kind != "structured"]
            assert [(c.path, c.text) for c in texts] == [(s.path, s.text) for s in segments]


def _write_inputs(tmp_path: Path) -> Path:
    lines = [
        json.dumps(SEED),
        "{not json",
        json.dumps({"protocolSection": {"identificationModule": {"nctId": "NCT00000002"}}}),
        json.dumps(_study("NCT00000003", "")),
        json.dumps(_study("NCT00000004", "Inclusion Criteria:\n* Hémoglobine ≥ 9 g/dL"),
                   ensure_ascii=False),
    ]
    data = "\n".join(lines[:4]).encode() + b"\n"
    data += json.dumps(_study("NCT00000005", "* Bilirubin \u2264 1.5 mg/dL"),
                       ensure_ascii=False).replace("\u2264", "<").replace("é", "é").encode("utf-8")
    data += b"\n" + lines[4].replace("é", "\xe9").encode("cp1252", errors="replace") + b"\n"
    path = tmp_path / "studies.jsonl"
    path.write_bytes(data)
    return path


def test_batch_run_jsonl_with_bad_records(tmp_path: Path) -> None:
    source = _write_inputs(tmp_path)
    out, errs = tmp_path / "rules.jsonl", tmp_path / "errors.jsonl"
    summary = run(source, out, errors=errs)
    assert (summary.trials, summary.errors) == (4, 2)
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert summary.criteria == len(rows)
    assert summary.bullets == sum(r["kind"] == "criterion" for r in rows)
    assert summary.rules == sum(len(r["rules"]) for r in rows)
    assert {r["trial_id"] for r in rows} == {"NCT02186860", "NCT00000003", "NCT00000004",
                                             "NCT00000005"}
    errors = [json.loads(line) for line in errs.read_text().splitlines()]
    assert [(e["position"], e["line"], e["code"]) for e in errors] == [
        (2, 2, "invalid_json"), (3, 3, "no_eligibility_module")]
    empty = [r for r in rows if r["trial_id"] == "NCT00000003"]
    assert empty and empty[0]["diagnostics"][0]["code"] == "empty_criteria"
    fallback = [r for r in rows if r["trial_id"] == "NCT00000004"]
    assert any(d["code"] == "encoding_fallback" for d in fallback[-1]["diagnostics"])
    assert "Hémoglobine" in fallback[-1]["text"]
    assert summary.warnings == 2


def test_batch_run_parquet_matches_jsonl(tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    source = _write_inputs(tmp_path)
    summary_json = run(source, tmp_path / "rules.jsonl")
    summary_pq = run(source, tmp_path / "rules.parquet", fmt="parquet")
    table = pq.read_table(tmp_path / "rules.parquet")
    assert table.num_rows == summary_json.criteria == summary_pq.criteria
    rows = table.to_pylist()
    lines = [json.loads(x) for x in (tmp_path / "rules.jsonl").read_text().splitlines()]
    for row, line in zip(rows, lines, strict=True):
        assert (row["trial_id"], row["path"], row["text"]) == (line["trial_id"], line["path"],
                                                               line["text"])
        assert [r["value"] for r in row["rules"]] == [r["value"] for r in line["rules"]]
        assert row["span_start"] == (line["span"] or {}).get("start")


def test_batch_run_plain_text_and_page(tmp_path: Path) -> None:
    summary = run(GOLDEN / "numbered_letters.txt", tmp_path / "a.jsonl")
    rows = [json.loads(x) for x in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert summary.trials == 1 and rows[0]["trial_id"] == "numbered_letters"
    assert [r["path"] for r in rows][:3] == ["inclusion", "inclusion/1", "inclusion/2"]
    page = tmp_path / "page.json"
    page.write_text(json.dumps({"studies": [SEED, SEED]}, indent=1))
    assert run(page, tmp_path / "b.jsonl").trials == 2


def test_batch_huge_block_is_one_trial_nothing_lost(tmp_path: Path) -> None:
    # 100,000 lines: 10,000 bullets, each wrapped over ten short lines.
    block = "\n".join(
        f"* Platelets > {i % 9 + 1}00 x10^9/L" if i % 10 == 0 else f"  and note {i}"
        for i in range(100_000)
    )
    source = tmp_path / "big.jsonl"
    source.write_text(json.dumps(_study("NCT00000100", block)) + "\n" + json.dumps(SEED) + "\n")
    summary = run(source, tmp_path / "big.out.jsonl", batch_size=1024)
    assert summary.trials == 2
    assert summary.bullets == 10_000 + 19
    rows = (tmp_path / "big.out.jsonl").read_text().splitlines()
    last = json.loads(rows[9_999])  # no heading, no structured fields: bullets come first
    assert last["path"] == "unknown/10000" and last["text"].endswith("and note 99999")


def test_batch_cli_parse_trials(tmp_path: Path) -> None:
    source = _write_inputs(tmp_path)
    out = tmp_path / "rules.jsonl"
    result = CliRunner().invoke(app, ["parse-trials", str(source), "-o", str(out),
                                      "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "4 trials" in result.output and "2 errors" in result.output
    assert "studies.jsonl:2 #2: invalid_json" in result.output
    assert "Traceback" not in result.output
    strict = CliRunner().invoke(app, ["parse-trials", str(source), "-o", str(out), "--strict",
                                      "--no-progress"])
    assert strict.exit_code == 1
    missing = CliRunner().invoke(app, ["parse-trials", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 1
    usage = CliRunner().invoke(app, ["parse-trials", str(source), "--format", "xml"])
    assert usage.exit_code == 2
    no_out = CliRunner().invoke(app, ["parse-trials", str(source), "--format", "parquet"])
    assert no_out.exit_code == 2


def test_batch_cli_stdout_jsonl(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["parse-trials", str(GOLDEN / "NCT02186860.json")])
    assert result.exit_code == 0
    rows = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    assert sum(r["kind"] == "criterion" for r in rows) == 19


@pytest.mark.slow
def test_batch_two_workers_same_output(tmp_path: Path) -> None:
    source = tmp_path / "gen.jsonl"
    source.write_text("\n".join(_generated(300)) + "\n")
    one = run(source, tmp_path / "one.jsonl")
    two = run(source, tmp_path / "two.jsonl", workers=2)
    assert one.model_copy(update={"seconds": 0}) == two.model_copy(update={"seconds": 0})
    assert (tmp_path / "one.jsonl").read_text() == (tmp_path / "two.jsonl").read_text()


def test_batch_spacy_n_process_gives_the_same_rows(tmp_path: Path) -> None:
    source = tmp_path / "gen.jsonl"
    source.write_text("\n".join(_generated(12)) + "\n")
    one = run(source, tmp_path / "one.jsonl")
    two = run(source, tmp_path / "two.jsonl", workers=2, parallel="spacy")
    assert one.model_copy(update={"seconds": 0}) == two.model_copy(update={"seconds": 0})
    assert (tmp_path / "one.jsonl").read_text() == (tmp_path / "two.jsonl").read_text()


# --- safe files -------------------------------------------------------------------------------


def test_batch_output_equal_to_input_is_refused(tmp_path: Path) -> None:
    source = _write_inputs(tmp_path)
    before = source.read_bytes()
    with pytest.raises(InputFormatError, match="is the input"):
        run(source, source)
    with pytest.raises(InputFormatError, match="is the input"):
        run(source, tmp_path / "out.jsonl", errors=tmp_path / "." / source.name)
    cli = CliRunner().invoke(app, ["parse-trials", str(source), "-o", str(source), "--no-progress"])
    assert cli.exit_code == 1 and "is the input" in cli.output
    assert source.read_bytes() == before


@pytest.mark.parametrize(("name", "fmt"), [("rules.jsonl", "jsonl"), ("rules.parquet", "parquet")])
def test_batch_failed_run_leaves_the_old_output(tmp_path: Path, name: str, fmt: str) -> None:
    pytest.importorskip("pyarrow")
    source = _write_inputs(tmp_path)
    out = tmp_path / name
    out.write_text("the previous good output")

    def failing(texts: Any, **kwargs: Any) -> Iterator[Any]:
        for i, result in enumerate(parse_many(texts, **kwargs)):
            if i == 5:
                raise RuntimeError("the parser broke")
            yield result

    with pytest.raises(RuntimeError):
        run(source, out, fmt=fmt, parse_many=failing)  # type: ignore[arg-type]
    assert out.read_text() == "the previous good output"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["studies.jsonl", name])


def test_batch_gzip_input_is_read_and_binary_refused(tmp_path: Path) -> None:
    source = _write_inputs(tmp_path)
    packed = tmp_path / "studies.jsonl.gz"
    packed.write_bytes(gzip.compress(source.read_bytes()))
    plain = run(source, tmp_path / "a.jsonl")
    zipped = run(packed, tmp_path / "b.jsonl")
    assert plain.model_copy(update={"seconds": 0}) == zipped.model_copy(update={"seconds": 0})
    assert (tmp_path / "a.jsonl").read_bytes() == (tmp_path / "b.jsonl").read_bytes()
    damaged = tmp_path / "damaged.jsonl.gz"
    damaged.write_bytes(gzip.compress(source.read_bytes() * 50)[:-200])
    with pytest.raises(InputFormatError, match="damaged gzip"):
        run(damaged, tmp_path / "c.jsonl")
    assert not (tmp_path / "c.jsonl").exists()
    for data, kind in [(b"PK\x03\x04" + bytes(64), "zip archive"), (b"PAR1" + bytes(64), "Parquet"),
                       (b"abc\x00def" * 10, "NUL bytes")]:
        binary = tmp_path / "input.jsonl"
        binary.write_bytes(data)
        with pytest.raises(InputFormatError, match=kind):
            run(binary, tmp_path / "d.jsonl")
        cli = CliRunner().invoke(app, ["parse-trials", str(binary), "-o", str(tmp_path / "d.jsonl")])
        assert cli.exit_code == 1 and kind in cli.output and "Traceback" not in cli.output


def test_batch_surrogates_and_huge_numbers_never_break_output(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    odd = _study("NCT0000\\ud800", "* Platelets > " + "9" * 400 + "/mm3\n* Hb > 9 g/dL \\udfff",
                 minimumAge="9" * 400 + " Years", sex="ALL\\ud800")
    line = json.dumps(odd).replace("\\\\u", "\\u")  # real JSON escapes of lone surrogates
    source = tmp_path / "odd.jsonl"
    source.write_text(line + "\n" + json.dumps(SEED) + "\n", encoding="utf-8")
    summary = run(source, tmp_path / "odd.out.jsonl")
    assert (summary.trials, summary.errors) == (2, 0)
    rows = [json.loads(x) for x in (tmp_path / "odd.out.jsonl").read_text("utf-8").splitlines()]
    first = [r for r in rows if r["trial_id"] == "NCT0000\ufffd"]
    assert first and all("replaced_surrogates" in {d["code"] for d in r["diagnostics"]} for r in first)
    platelets = next(r for r in first if r["text"].startswith("Platelets"))
    assert platelets["rules"] == [] and "non_finite_value" in {d["code"] for d in platelets["diagnostics"]}
    age = next(r for r in first if r["path"] == "structured/minimumAge")
    assert age["rules"] == [] and "unreadable" in age["no_threshold_reason"]
    assert '"value":null' not in (tmp_path / "odd.out.jsonl").read_text("utf-8")
    run(source, tmp_path / "odd.parquet", fmt="parquet")
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "odd.parquet").num_rows == summary.criteria


def test_batch_memory_flat_in_bullets_of_one_study(tmp_path: Path) -> None:
    """Criteria are written as they come: a study's results are never all held at once."""
    import tracemalloc

    def quick(texts: Any, *, contexts: Any = None, **kwargs: Any) -> Iterator[ParseResult]:
        for text in texts:
            yield ParseResult(text=text, no_threshold_reason="stub")

    def peak(bullets: int) -> tuple[int, int]:
        block = "\n".join(f"* Platelets > {i} /mm3" for i in range(bullets))
        source = tmp_path / f"big{bullets}.jsonl"
        source.write_text(json.dumps(_study("NCT00000100", block)) + "\n")
        tracemalloc.start()
        try:
            summary = run(source, tmp_path / "big.out.jsonl", parse_many=quick)
            return tracemalloc.get_traced_memory()[1], summary.bullets
        finally:
            tracemalloc.stop()

    small, n_small = peak(10_000)
    large, n_large = peak(100_000)
    assert (n_small, n_large) == (10_000, 100_000)
    # The study's own text (about 2 MB here) is held a few times over; 90,000 more criteria
    # held as objects would add hundreds of megabytes.
    assert large - small < 40_000_000, (small, large)


@pytest.mark.slow
def test_batch_sigterm_leaves_no_output_behind(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    source = tmp_path / "studies.jsonl"
    source.write_text("\n".join(json.dumps(SEED) for _ in range(400)) + "\n")
    out = tmp_path / "rules.parquet"
    proc = subprocess.Popen([sys.executable, "-m", "critparse", "parse-trials", str(source), "-o",
                             str(out), "--format", "parquet", "--no-progress"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".rules.parquet.*.tmp")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(tmp_path.glob(".rules.parquet.*.tmp")), "the run writes to a temporary file"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=120) == 128 + signal.SIGTERM
    assert sorted(p.name for p in tmp_path.iterdir()) == ["studies.jsonl"]


def test_batch_csv_output_equal_to_input_is_refused(tmp_path: Path) -> None:
    source = tmp_path / "studies.csv"
    source.write_text(json.dumps(SEED) + "\n")
    before = source.read_bytes()
    cli = CliRunner().invoke(app, ["parse-trials", str(source), "-o", str(source), "--format", "csv"])
    assert cli.exit_code == 1 and "is the input" in cli.output
    assert source.read_bytes() == before


def test_batch_cli_criterion_lines_are_not_studies() -> None:
    gold = Path(__file__).resolve().parents[2] / "corpus" / "NCT02186860.jsonl"
    result = CliRunner().invoke(app, ["parse-trials", str(gold), "--format", "jsonl"])
    assert result.exit_code == 1
    assert "0 trials" in result.output and "`critparse parse` reads those" in result.output
    seed = Path(__file__).resolve().parents[2] / "corpus" / "NCT02186860.json"
    shipped = CliRunner().invoke(app, ["parse-trials", str(seed), "--format", "jsonl"])
    assert shipped.exit_code == 0
    rows = [json.loads(x) for x in shipped.stdout.splitlines() if x.startswith("{")]
    gold_texts = [json.loads(x)["text"] for x in gold.read_text(encoding="utf-8").splitlines()]
    assert [r["text"] for r in rows if r["kind"] == "criterion"] == gold_texts
