"""The README's Dask recipe, run as written on a LocalCluster: Parquet out, same rows as a local run."""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

import pytest

from critparse.runs.batch import run

pq = pytest.importorskip("pyarrow.parquet")
distributed = pytest.importorskip("distributed")
pytest.importorskip("dask.dataframe")

ROOT = Path(__file__).resolve().parents[2]
SEED = json.loads((ROOT / "tests" / "trials" / "NCT02186860.json").read_text(encoding="utf-8"))


def _recipe() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("**Beyond one machine (Dask).**"):]
    return re.search(r"```python\n(.*?)```", section, re.DOTALL).group(1)  # type: ignore[union-attr]


def _studies(folder: Path) -> None:
    """Two files matching the recipe's glob: 40 seed trials, a bad line, a study with no text."""
    for part in (1, 2):
        lines = []
        for i in range(20):
            study = json.loads(json.dumps(SEED))
            study["protocolSection"]["identificationModule"]["nctId"] = f"NCT{part:02d}{i:06d}"
            lines.append(json.dumps(study))
        lines.insert(5, "{broken" if part == 1 else json.dumps({"protocolSection": {
            "identificationModule": {"nctId": "NCT99999999"}, "eligibilityModule": {}}}))
        (folder / f"studies-{part}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.mark.slow
def test_dask_readme_recipe_writes_parquet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    _studies(tmp_path)
    monkeypatch.chdir(tmp_path)
    # The recipe's own LocalCluster, made quiet and small enough for a test machine.
    monkeypatch.setattr(distributed, "LocalCluster", functools.partial(
        distributed.LocalCluster, threads_per_worker=1, processes=True, dashboard_address=None,
        silence_logs=40))
    namespace: dict[str, object] = {}
    try:
        exec(compile(_recipe(), "README.md", "exec"), namespace)  # noqa: S102 - the README's own code
    finally:
        client = namespace.get("client")
        if client is not None:
            cluster = client.cluster  # type: ignore[attr-defined]
            client.close()  # type: ignore[attr-defined]
            cluster.close()
    printed = capsys.readouterr().out
    assert "41 trials" in printed and "1 error" in printed
    assert "invalid_json" in printed
    seconds = float(re.search(r"in ([0-9.]+) s", printed).group(1))  # type: ignore[union-attr]
    assert seconds > 0, "summarize reports the real time"

    table = pq.read_table(tmp_path / "rules")
    columns = {f.name: str(f.type) for f in table.schema}
    assert columns["span_start"] == "int64" and columns["rules"] in ("string", "large_string")
    rows = table.to_pylist()
    local = tmp_path / "local.jsonl"
    run(tmp_path / "studies-1.jsonl", local)
    run(tmp_path / "studies-2.jsonl", tmp_path / "local2.jsonl")
    expected = [json.loads(x) for path in (local, tmp_path / "local2.jsonl")
                for x in path.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == len(expected)
    key = sorted((r["trial_id"], r["path"], r["text"], len(json.loads(r["rules"]))) for r in rows)
    assert key == sorted((e["trial_id"], e["path"], e["text"], len(e["rules"])) for e in expected)
    spans = {(r["trial_id"], r["path"]): r["span_start"] for r in rows}
    assert spans[("NCT01000000", "structured/minimumAge")] is None
    assert spans[("NCT01000000", "inclusion/1")] == 23
