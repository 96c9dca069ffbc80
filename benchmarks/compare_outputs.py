"""Do two revisions of critparse give byte-identical output? (The layout change must not change any.)

    python benchmarks/compare_outputs.py f29b9be            # that revision against the work tree
    python benchmarks/compare_outputs.py f29b9be HEAD       # two revisions

For each revision it runs `critparse parse --format jsonl` on every gold file in `corpus/` and
`critparse parse-trials` on every input in `tests/trials/`, with the inputs of the work tree, and
compares the outputs byte for byte. A revision is checked out with `git worktree` into a temporary
folder and run with its own package first on PYTHONPATH. Exit code 1 when anything differs.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOLD = ["NCT02186860", "registry_mix", "heldout_registry", "heldout_b", "heldout_c"]


def _inputs() -> list[tuple[str, list[str]]]:
    jobs = [(f"parse {name}", ["parse", "--format", "jsonl", str(ROOT / "corpus" / f"{name}.jsonl")]) for name in GOLD]
    for path in sorted((ROOT / "tests" / "trials").iterdir()):
        if path.suffix in (".json", ".txt") and ".expected" not in path.name:
            jobs.append((f"parse-trials {path.name}", ["parse-trials", str(path), "--no-progress"]))
    return jobs


def _outputs(tree: Path | None) -> dict[str, bytes]:
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = str(tree)
    out = {}
    for label, args in _inputs():
        done = subprocess.run([sys.executable, "-m", "critparse", *args], capture_output=True, env=env, cwd=tree or ROOT)
        out[label] = done.stdout
    return out


def _at(revision: str | None, workdir: Path) -> dict[str, bytes]:
    if revision is None:
        return _outputs(None)
    tree = workdir / revision.replace("/", "_")
    subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-f", str(tree), revision],
                   check=True, capture_output=True)
    try:
        return _outputs(tree)
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], capture_output=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before")
    parser.add_argument("after", nargs="?", default=None, help="default: the work tree")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        before = _at(args.before, Path(tmp))
        after = _at(args.after, Path(tmp))
    differ = [label for label in before if before[label] != after.get(label)]
    for label in before:
        print(f"{'DIFFERS' if label in differ else 'same   '} {label} ({len(before[label])} bytes)")
    print(f"{len(before) - len(differ)} of {len(before)} outputs byte-identical")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
