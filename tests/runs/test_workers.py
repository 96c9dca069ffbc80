"""A worker process that dies is noticed: its chunk is run again once, or the run stops loudly
naming it; never a hang, never a silent gap (`parse-trials --workers`, `parse --workers`)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import critparse.nlp.pipeline as pipeline
from critparse.cli import app
from critparse.errors import WorkerLostError
from critparse.runs.batch import run

pytestmark = pytest.mark.slow

GOLDEN = Path(__file__).resolve().parents[1] / "trials"
SEED = json.loads((GOLDEN / "NCT02186860.json").read_text(encoding="utf-8"))
MAIN = os.getpid()


def _killer(flag: Path | None) -> Any:
    """`_restore` that kills its (worker) process on a 'KILL ME' bullet: once when `flag` is
    given (the retry then succeeds), every time otherwise."""
    real = pipeline._restore

    def restore(result: Any, original: str, diagnostics: Any) -> Any:
        if "KILL ME" in original and os.getpid() != MAIN and (flag is None or not flag.exists()):
            if flag is not None:
                flag.write_text("killed once")
            os.kill(os.getpid(), signal.SIGKILL)
        return real(result, original, diagnostics)

    return restore


def _studies(tmp_path: Path, n: int = 150, kill_at: int = 100) -> Path:
    lines = []
    for i in range(n):
        study = json.loads(json.dumps(SEED))
        study["protocolSection"]["identificationModule"]["nctId"] = f"NCT{i:08d}"
        if i == kill_at:
            module = study["protocolSection"]["eligibilityModule"]
            module["eligibilityCriteria"] += "\n* KILL ME"
        lines.append(json.dumps(study))
    source = tmp_path / "studies.jsonl"
    source.write_text("\n".join(lines) + "\n")
    return source


def test_workers_trials_lost_chunk_is_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _studies(tmp_path)
    serial = run(source, tmp_path / "one.jsonl")
    monkeypatch.setattr(pipeline, "_restore", _killer(tmp_path / "flag"))
    two = run(source, tmp_path / "two.jsonl", workers=2)
    assert (tmp_path / "flag").exists(), "a worker was killed"
    assert two.model_copy(update={"seconds": 0}) == serial.model_copy(update={"seconds": 0})
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "two.jsonl").read_bytes()


def test_workers_trials_chunk_lost_twice_fails_naming_it(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    source = _studies(tmp_path)
    monkeypatch.setattr(pipeline, "_restore", _killer(None))
    with pytest.raises(WorkerLostError, match=r"chunk 2 \(records 65-128, lines 65-128\)"):
        run(source, tmp_path / "out.jsonl", workers=2)
    assert not (tmp_path / "out.jsonl").exists()
    cli = CliRunner().invoke(app, ["parse-trials", str(source), "-o", str(tmp_path / "out.jsonl"),
                                   "--workers", "2", "--no-progress"])
    assert cli.exit_code == 1, cli.output
    assert "records 65-128" in cli.output and "Traceback" not in cli.output
    assert not (tmp_path / "out.jsonl").exists()


def _bullets(tmp_path: Path) -> Path:
    source = tmp_path / "bullets.txt"
    source.write_text("\n".join(["Creatinine < 2.5 mg/dl"] * 600 + ["KILL ME"] + ["ECOG 0-1"] * 99) + "\n")
    return source


def test_workers_parse_lost_batch_is_retried(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = _bullets(tmp_path)
    monkeypatch.setattr(pipeline, "_restore", _killer(tmp_path / "flag"))
    result = CliRunner().invoke(app, ["parse", "--format", "jsonl", "--workers", "2", str(source)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "flag").exists()
    lines = [json.loads(x) for x in result.stdout.splitlines()]
    assert [x["id"] for x in lines] == list(range(1, 701))


def test_workers_parse_batch_lost_twice_fails_naming_it(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    source = _bullets(tmp_path)
    monkeypatch.setattr(pipeline, "_restore", _killer(None))
    result = CliRunner().invoke(app, ["parse", "--format", "jsonl", "--workers", "2", str(source)])
    assert result.exit_code == 1
    assert "bullets 513-700" in result.stderr and "Traceback" not in result.output
