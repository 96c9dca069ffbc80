"""Build hook: compile the parsing passes with mypyc when a C compiler is at hand.

Everything else about the package is in `pyproject.toml`. The compiled modules give the same
output as their sources (`tests/nlp/test_compiled.py` checks it), only faster; `critparse.compiled`
runs the sources instead when asked to or when one was edited after the build.

    CRITPARSE_PURE_PYTHON=1 pip install -e .    # no compiling: the sources only
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import sysconfig
from pathlib import Path

from setuptools import setup

ROOT = Path(__file__).resolve().parent
MANIFEST = ROOT / "critparse" / "compiled.json"

COMPILED = [
    "critparse/extract/analytes.py",
    "critparse/extract/atoms.py",
    "critparse/extract/concepts.py",
    "critparse/extract/conditions.py",
    "critparse/extract/context.py",
    "critparse/extract/durations.py",
    "critparse/extract/expressions.py",
    "critparse/extract/logic.py",
    "critparse/extract/logic_cues.py",
    "critparse/extract/logic_tree.py",
    "critparse/extract/mentions.py",
    "critparse/extract/numbers.py",
    "critparse/extract/quantities.py",
    "critparse/extract/rules.py",
    "critparse/extract/temporal.py",
    "critparse/lexicon/concepts.py",
    "critparse/lexicon/phrases.py",
    "critparse/lexicon/unit_grammar.py",
    "critparse/lexicon/vocabulary.py",
    "critparse/model/unchecked.py",
    "critparse/text/phrase_scan.py",
    "critparse/text/segment.py",
    "critparse/text/tokenizer.py",
    "critparse/nlp/component.py",
    "critparse/nlp/inputs.py",
]
"""The passes every bullet goes through: the segmenter, the tokenizer's searches, the unit and concept matchers,
the extraction passes, the component that wires them and what every text goes through on the way in and out.
Pydantic models cannot be compiled (`model/unchecked.py`, which builds them, can): the schemas of the files they read live in
`critparse/extract/schemas.py`, `critparse/lexicon/concept_files.py` and
`critparse/lexicon/vocabulary_files.py`, which stay Python. The dataclasses built for every bullet
write their `__init__` out (`@dataclass(init=False)`): mypyc compiles a dataclass but leaves the
`__init__` that `dataclasses` generates interpreted, about ten times slower to call."""


def _why_not_compile() -> str | None:
    if os.environ.get("CRITPARSE_PURE_PYTHON"):
        return "CRITPARSE_PURE_PYTHON is set"
    if sys.implementation.name != "cpython":
        return f"mypyc needs CPython, not {sys.implementation.name}"
    compiler = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        return f"no C compiler ({compiler}) on PATH"
    if not (Path(sysconfig.get_paths()["include"]) / "Python.h").exists():
        return "no Python headers (Python.h)"
    try:
        import mypyc.build  # noqa: F401
    except ImportError:
        return "mypyc is not installed"
    return None


def _write_manifest(paths: list[str], failed: str | None = None) -> None:
    """Record what was compiled from which source, or why compiling failed, for `critparse.compiled`."""
    modules = {p.removesuffix(".py").replace("/", "."): hashlib.sha256((ROOT / p).read_bytes()).hexdigest()
               for p in paths}
    record: dict[str, object] = {"compiler": "mypyc", "modules": modules}
    if failed is not None:
        record["failed"] = failed
    MANIFEST.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def _remove_old_build() -> None:
    """An earlier build's extensions in the source tree (editable installs put them there)."""
    MANIFEST.unlink(missing_ok=True)
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    for stem in [*(path.removesuffix(".py") for path in COMPILED), "critparse/_native__mypyc"]:
        (ROOT / stem).with_suffix(suffix).unlink(missing_ok=True)


_BUILDING = {"build", "build_ext", "bdist_wheel", "editable_wheel", "develop", "install"}
"""The commands that build extensions; pip also runs this file for metadata (egg_info, dist_info)."""


def ext_modules() -> list:
    if not _BUILDING.intersection(sys.argv[1:]):
        return []
    _remove_old_build()
    reason = _why_not_compile()
    if reason is not None:
        print(f"critparse: not compiling ({reason}); the Python sources will run", file=sys.stderr)
        return []
    from mypyc.build import mypycify

    os.chdir(ROOT)  # mypyc names modules by their paths from here
    try:
        extensions = mypycify(COMPILED, group_name="critparse._native", multi_file=True)
    except (Exception, SystemExit) as error:  # mypyc reports type errors by exiting
        detail = f"exit status {error.code}, errors printed above" if isinstance(error, SystemExit) else repr(error)
        print(f"critparse: not compiling (mypyc failed: {detail}); the Python sources will run", file=sys.stderr)
        _write_manifest([], failed=f"mypyc failed: {detail}")  # a fault in the code, which the tests report
        return []
    for extension in extensions:  # the group's headers are written under its package
        extension.include_dirs.append(os.path.join("build", "critparse"))
    _write_manifest(COMPILED)
    return extensions


setup(ext_modules=ext_modules())
