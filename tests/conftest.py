"""Shared fixtures: one pipeline per test session (loading it is the slow part)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"

warnings.filterwarnings("ignore", message=r".*W036.*")


@pytest.fixture(scope="session")
def nlp():
    import critparse

    return critparse.load()


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
