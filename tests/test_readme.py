"""The README's examples run as written (doctest for the intro, exec for code blocks)."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(f"## {title}")
    end = README.find("\n## ", start + 1)
    return README[start : end if end > 0 else None]


def test_readme_intro_doctest():
    parser = doctest.DocTestParser()
    test = parser.get_doctest(README[: README.index("## Quick start")], {}, "README intro", "README.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
    assert test.examples, "the intro has doctest examples"


def test_readme_library_example_runs(capsys):
    block = re.search(r"### As a library\s+```python\n(.*?)```", _section("Parse criteria"), re.DOTALL).group(1)
    exec(compile(block, "README.md", "exec"), {})
    printed = capsys.readouterr().out.splitlines()
    expected = [line[2:] for line in block.splitlines() if line.startswith("# ") and "start=" in line]
    assert printed[: len(expected)] == expected


def test_readme_quick_start_matches_ci():
    ci = (Path(__file__).resolve().parent.parent / ".ci" / "run").read_text(encoding="utf-8")
    commands = re.search(r"## Quick start.*?```bash\n(.*?)```", README, re.DOTALL).group(1).strip().splitlines()
    assert all(command in ci for command in commands)
