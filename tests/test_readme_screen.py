"""The 'Use inside a screener' README example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def screen_section() -> str:
    text = README.read_text("utf-8")
    start = text.index("## Use inside a screener")
    end = text.find("\n## ", start)
    return text[start : end if end != -1 else len(text)]


def test_readme_screen_has_python_example():
    blocks = re.findall(r"```python\n(.*?)```", screen_section(), re.DOTALL)
    assert len(blocks) == 1
    assert "critparse.evaluate" in blocks[0]


def test_readme_screen_example_runs(capsys):
    (block,) = re.findall(r"```python\n(.*?)```", screen_section(), re.DOTALL)
    exec(compile(block, str(README), "exec"), {"__name__": "readme_screen"})
    printed = capsys.readouterr().out
    assert "ineligible" in printed
    assert "221" in printed
