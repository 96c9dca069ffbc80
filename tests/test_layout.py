"""The package keeps the shape ARCHITECTURE.md describes: few top-level modules, short functions,
no import cycles, and a light `import critparse`."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "critparse"
MAX_FUNCTION_LINES = 80
MAX_TOP_LEVEL_MODULES = 8


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out[name] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """Modules of the package imported at module level (imports inside functions are lazy)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If):  # `if TYPE_CHECKING:` blocks do not run
            continue
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        found.update(t for t in targets if t in known and t != name)
    return found


@pytest.mark.parametrize("limit", [MAX_TOP_LEVEL_MODULES])
def test_layout_few_modules_at_the_top(limit: int) -> None:
    top = sorted(p.name for p in PACKAGE.glob("*.py"))
    assert len(top) <= limit, top


@pytest.mark.parametrize("limit", [MAX_FUNCTION_LINES])
def test_layout_no_long_functions(limit: int) -> None:
    long = []
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > limit:
                    long.append(f"{name}.{node.name}: {length} lines")
    assert not long, long


def test_layout_no_import_cycles() -> None:
    modules = _modules()
    known = set(modules)
    graph = {name: _imports(name, path, known) for name, path in modules.items()}
    # A package's __init__ importing its own submodules is how re-exports work, not a cycle.
    for name in graph:
        graph[name] = {t for t in graph[name] if not t.startswith(name + ".")}
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycles.append([*trail[trail.index(nxt):], nxt] if nxt in trail else [node, nxt])
            elif nxt not in state:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    assert not cycles, cycles


@pytest.mark.parametrize("heavy", ["spacy", "scispacy"])
def test_layout_evaluate_without_spacy(heavy: str) -> None:
    code = (
        "import sys, critparse\n"
        "rule = critparse.Rule(analyte=critparse.Analyte(text='Age', name='age'), comparator='>=',"
        " value=18, unit='a', span=critparse.Span(start=0, end=6), text='Age 18')\n"
        "result = critparse.evaluate([rule], {'age': 42})\n"
        "assert result.verdict == 'eligible', result.reason\n"
        f"print({heavy!r} in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
