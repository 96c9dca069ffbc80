"""Whole-trial parsing on a 2-worker `distributed.LocalCluster`: same rows as a local run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from critparse.runs.batch import run
from critparse.runs.dask import (
    CRITERION_META,
    criteria_frame,
    criteria_rows,
    error_rows,
    read_jsonl,
    summarize,
    trial_results,
)

db = pytest.importorskip("dask.bag")
dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

GOLDEN = Path(__file__).resolve().parents[1] / "trials"
SEED = json.loads((GOLDEN / "NCT02186860.json").read_text(encoding="utf-8"))


def _lines(n: int) -> list[str]:
    out = []
    for i in range(n):
        if i % 20 == 7:
            out.append("{broken")
            continue
        study = json.loads(json.dumps(SEED))
        study["protocolSection"]["identificationModule"]["nctId"] = f"NCT{i:08d}"
        out.append(json.dumps(study))
    return out


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=40)
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def test_dask_bag_matches_local_run(client: distributed.Client, tmp_path: Path) -> None:
    source = tmp_path / "studies.jsonl"
    source.write_text("\n".join(_lines(60)) + "\n")
    local = run(source, tmp_path / "local.jsonl")

    results = trial_results(read_jsonl(str(source), blocksize=20_000))
    assert results.npartitions >= 2
    summary = summarize(results)
    assert summary.model_copy(update={"seconds": 0}) == local.model_copy(update={"seconds": 0})

    rows = criteria_rows(results).compute()
    expected = [json.loads(x) for x in (tmp_path / "local.jsonl").read_text().splitlines()]
    assert [(r["trial_id"], r["path"], r["text"]) for r in rows] == [
        (e["trial_id"], e["path"], e["text"]) for e in expected]
    assert [len(json.loads(r["rules"])) for r in rows] == [len(e["rules"]) for e in expected]

    errors = error_rows(results).compute()
    assert len(errors) == 3 and {e["code"] for e in errors} == {"invalid_json"}


def test_dask_bag_of_study_dicts(client: distributed.Client) -> None:
    bag = db.from_sequence([SEED, {"protocolSection": {}}, SEED], npartitions=2)
    results = trial_results(bag).compute()
    assert [r["error"] is None for r in results] == [True, False, True]
    assert sum(row["kind"] == "criterion" for row in results[0]["criteria"]) == 19


def test_dask_dataframe_of_texts(client: distributed.Client) -> None:
    import pandas as pd

    text = SEED["protocolSection"]["eligibilityModule"]["eligibilityCriteria"]
    frame = dd.from_pandas(pd.DataFrame({"nct_id": ["NCT1", "NCT2", "NCT3"],
                                         "eligibility_criteria": [text, "", "* Age >= 18"]}),
                           npartitions=2)
    out = criteria_frame(frame).compute()
    assert list(out.columns) == list(CRITERION_META)
    assert (out[out.trial_id == "NCT1"].kind == "criterion").sum() == 19
    assert out[out.trial_id == "NCT3"].path.tolist() == ["unknown/1"]
    assert "NCT2" in set(out.trial_id)  # an empty text still leaves a record
