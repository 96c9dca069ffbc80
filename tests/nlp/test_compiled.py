"""The compiled parsing passes (mypyc, `setup.py`) give the same output as their Python sources,
and the sources run whenever a compiled module may be stale."""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import critparse
from critparse import compiled

ROOT = Path(__file__).resolve().parents[2]
BULLETS = ROOT / "benchmarks" / "data" / "bullets.jsonl"
COMPILED = compiled.compiled_modules()
TRIALS = [*sorted((ROOT / "tests" / "trials").glob("*.json")), ROOT / "corpus" / "NCT02186860.json"]
needs_build = pytest.mark.skipif(not COMPILED, reason="a pure-Python install: nothing was compiled")

_PARSE = """
import json, sys
import critparse
texts = json.loads(sys.stdin.read())
for result in critparse.parse_many(texts):
    print(result.model_dump_json())
"""


def _texts() -> list[str]:
    """Every third distinct bullet of the corpus and the benchmark data, with odd inputs."""
    texts: list[str] = []
    for path in [*sorted((ROOT / "corpus").glob("*.jsonl")), BULLETS]:
        for line in path.read_text(encoding="utf-8").splitlines():
            text = json.loads(line).get("text") if line.strip() else None
            if isinstance(text, str):
                texts.append(text)
    unique = sorted(set(texts))
    odd = ["", "ANC > 1.5 x 10^400 /L", "Hb > 9 g/dL \ud800", "x" * 3000 + " Creatinine < 2 mg/dL"]
    return [*unique[::3], *odd]


def _run(code: str, *, pure: bool, stdin: str = "") -> str:
    env = {k: v for k, v in os.environ.items() if k != compiled.PURE_PYTHON_VARIABLE}
    if pure:
        env[compiled.PURE_PYTHON_VARIABLE] = "1"
    done = subprocess.run([sys.executable, "-c", code], input=stdin, capture_output=True, text=True,
                          env=env, cwd=ROOT, check=True)
    return done.stdout


def test_the_build_did_not_fail_on_the_code() -> None:
    """mypyc rejecting a module leaves a working pure-Python install, so only this says so."""
    assert compiled.build_failure() is None, f"the last `pip install` could not compile: {compiled.build_failure()}"


@needs_build
def test_every_compiled_module_loads_compiled() -> None:
    if os.environ.get(compiled.PURE_PYTHON_VARIABLE):
        pytest.skip(f"{compiled.PURE_PYTHON_VARIABLE} is set")
    loaded = {name: compiled.is_compiled(importlib.import_module(name)) for name in COMPILED}
    assert all(loaded.values()), [name for name, yes in loaded.items() if not yes]


@needs_build
def test_the_switch_runs_every_compiled_module_from_its_source() -> None:
    code = ("import importlib, json, critparse; from critparse import compiled; "
            "print(json.dumps([compiled.is_compiled(importlib.import_module(m)) for m in compiled.compiled_modules()]))")
    assert json.loads(_run(code, pure=True)) == [False] * len(COMPILED)


@needs_build
def test_compiled_and_python_sources_give_identical_bullets() -> None:
    texts = _texts()
    stdin = json.dumps(texts)
    compiled_lines = _run(_PARSE, pure=False, stdin=stdin).splitlines()
    source_lines = _run(_PARSE, pure=True, stdin=stdin).splitlines()
    assert len(compiled_lines) == len(texts)
    different = [t for t, a, b in zip(texts, compiled_lines, source_lines, strict=True) if a != b]
    assert not different, different[:5]


@needs_build
def test_compiled_and_python_sources_give_identical_trials(tmp_path: Path) -> None:
    runs = {}
    for pure in (False, True):
        outs = [tmp_path / f"{'sources' if pure else 'compiled'}_{i}.jsonl" for i in range(len(TRIALS))]
        code = ("from critparse.cli import app\n"
                f"for trial, out in zip({[str(t) for t in TRIALS]!r}, {[str(o) for o in outs]!r}):\n"
                "    app(['parse-trials', trial, '-f', 'jsonl', '--no-progress', '-o', out], standalone_mode=False)\n")
        _run(code, pure=pure)
        runs[pure] = [out.read_bytes() for out in outs]
    assert all(runs[False]) and runs[False] == runs[True]


def test_a_source_that_changed_after_the_build_is_named() -> None:
    source = ROOT / "critparse" / "extract" / "numbers.py"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    assert compiled._stale({"critparse.extract.numbers": digest}) is None
    assert compiled._stale({"critparse.extract.numbers": "0" * 64}) == "critparse.extract.numbers"


def test_a_pure_python_install_runs_the_sources() -> None:
    if COMPILED:
        pytest.skip("this install is compiled")
    assert not compiled.is_compiled(importlib.import_module("critparse.extract.rules"))
    assert critparse.parse("Creatinine < 2.5 mg/dl").rules
