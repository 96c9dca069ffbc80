"""Which extraction modules run compiled, and the switch back to their Python sources.

`pip install` compiles the parsing passes with mypyc when it can (see `setup.py`); the compiled
modules give the same output as the sources, faster. The sources run instead when

- `CRITPARSE_PURE_PYTHON=1` is set (to compare the two, or to debug with a Python debugger), or
- a source was edited after it was compiled (an editable install), so a stale `.so` never hides
  an edit; a warning says which file and how to rebuild.

`compiled.json`, written by the build, records each compiled module and its source's SHA-256,
or why mypyc failed on the code (`build_failure`; the tests fail on it, so a type the compiler
rejects cannot quietly cost the speed).
"""

from __future__ import annotations

import hashlib
import importlib.abc
import importlib.machinery
import importlib.util
import json
import os
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

PACKAGE_DIR = Path(__file__).resolve().parent
MANIFEST = PACKAGE_DIR / "compiled.json"
PURE_PYTHON_VARIABLE = "CRITPARSE_PURE_PYTHON"

__all__ = ["MANIFEST", "PURE_PYTHON_VARIABLE", "build_failure", "compiled_modules", "is_compiled", "use_sources_if_needed"]


def _manifest() -> dict[str, Any]:
    """What the build wrote to `compiled.json` ({} when it wrote nothing readable)."""
    try:
        found = json.loads(MANIFEST.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def _recorded() -> dict[str, str]:
    """Module name -> SHA-256 of the source it was compiled from ({} for a pure-Python install)."""
    modules = _manifest().get("modules")
    return dict(modules) if isinstance(modules, dict) else {}


def _source(module: str) -> Path:
    return PACKAGE_DIR.parent.joinpath(*module.split(".")).with_suffix(".py")


def _stale(recorded: dict[str, str]) -> str | None:
    """The first compiled module whose source no longer matches the build, if any."""
    for module, digest in sorted(recorded.items()):
        try:
            current = hashlib.sha256(_source(module).read_bytes()).hexdigest()
        except OSError:
            continue  # a wheel may ship the extension without its source
        if current != digest:
            return module
    return None


class _SourcesFirst(importlib.abc.MetaPathFinder):
    """Loads the listed modules from their `.py` files, ahead of any compiled extension."""

    def __init__(self, modules: Sequence[str]) -> None:
        self.modules = frozenset(modules)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in self.modules or not _source(fullname).exists():
            return None
        return importlib.util.spec_from_file_location(fullname, _source(fullname))


_active: list[str] = []


def use_sources_if_needed() -> None:
    """Run the Python sources of every compiled module when asked to, or when one is stale.

    All or none: compiled modules call each other directly, so a mix would run stale code.
    Called when this module loads, which `critparse/__init__.py` makes happen first."""
    recorded = _recorded()
    if not recorded or _active:
        return
    asked = bool(os.environ.get(PURE_PYTHON_VARIABLE))
    stale = None if asked else _stale(recorded)
    if not asked and stale is None:
        return
    if stale is not None:
        warnings.warn(
            f"critparse: {_source(stale).name} changed after it was compiled; running the Python "
            f"sources of the compiled modules (rebuild with `pip install -e .` to compile again)",
            RuntimeWarning, stacklevel=2,
        )
    sys.meta_path.insert(0, _SourcesFirst(list(recorded)))
    _active.extend(recorded)


def compiled_modules() -> list[str]:
    """The modules the build compiled (empty for a pure-Python install)."""
    return sorted(_recorded())


def build_failure() -> str | None:
    """Why the last build could not compile, when mypyc itself failed on the code (None when it
    compiled, or when compiling was not tried: no C compiler, `CRITPARSE_PURE_PYTHON` set)."""
    failed = _manifest().get("failed")
    return failed if isinstance(failed, str) else None


def is_compiled(module: ModuleType) -> bool:
    """Whether `module` was loaded from a compiled extension."""
    origin = getattr(module.__spec__, "origin", None) or ""
    return origin.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES))


use_sources_if_needed()
