"""The README's 'Concepts' example runs as written and prints what its comments say."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def concepts_section() -> str:
    text = README.read_text("utf-8")
    start = text.index("### Concepts")
    end = text.find("\n### ", start + 1)
    return text[start : end if end != -1 else len(text)]


def test_readme_concepts_has_one_python_example() -> None:
    blocks = re.findall(r"```python\n(.*?)```", concepts_section(), re.DOTALL)
    assert len(blocks) == 1


def test_readme_concepts_example_prints_its_comments(capsys) -> None:
    (block,) = re.findall(r"```python\n(.*?)```", concepts_section(), re.DOTALL)
    exec(compile(block, str(README), "exec"), {"__name__": "readme_concepts"})
    printed = capsys.readouterr().out.splitlines()
    expected = [line[2:] for line in block.splitlines() if line.startswith("# ")]
    assert printed == expected
