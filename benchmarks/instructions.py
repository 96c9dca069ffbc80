"""Instructions executed to parse the first N benchmark bullets, or N generated trials, start-up
left out (callgrind).

Wall-clock figures on a shared machine move by a factor of two from hour to hour; an instruction
count does not, so two builds or two commits compare exactly:

    python benchmarks/instructions.py -n 1500                       # the installed build
    CRITPARSE_PURE_PYTHON=1 python benchmarks/instructions.py -n 1500   # its Python sources
    python benchmarks/instructions.py --trials 100                  # whole trials, as `parse-trials`

Needs valgrind (`apt-get install valgrind`). The script runs itself under callgrind with
instrumentation off, loads the pipeline and parses a warm-up bullet, switches instrumentation on
(`callgrind_control -i on`), parses the bullets and prints the total. `--trials N` instead runs
`critparse.runs.batch.run` over the first N trials that `throughput_trials.py` generates (registry
JSON, nested bullets, one core), segmenting, parsing and writing included.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import DATA, WARM_UP, read_bullets
from throughput_trials import generate

_CHILD = "CRITPARSE_INSTRUCTIONS_CHILD"


def _count(texts: list[str], trials: Path | None) -> None:
    """Runs under callgrind: parse with instrumentation on only around the bullets or trials."""
    import critparse
    from critparse.nlp.pipeline import default_nlp
    from critparse.runs.batch import run

    default_nlp()
    critparse.parse(WARM_UP)
    switch = ["callgrind_control", "-i"]
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([*switch, "on", str(os.getpid())], check=True, stdout=subprocess.DEVNULL)
        if trials is not None:
            run(trials, Path(tmp) / "criteria.jsonl")
        else:
            for _ in critparse.parse_many(texts):
                pass
        subprocess.run([*switch, "off", str(os.getpid())], check=True, stdout=subprocess.DEVNULL)


def _totals(out: Path) -> int:
    for line in out.read_text(encoding="utf-8", errors="replace").splitlines():
        if line.startswith("totals:"):
            return int(line.split()[1])
    raise SystemExit(f"no totals in {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-n", type=int, default=1500, help="bullets, from the start of the data")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--trials", type=int, default=None, metavar="N",
                        help="count N generated whole trials instead of bullets")
    parser.add_argument("--trial-file", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    texts = read_bullets(args.data)[: args.n]
    if os.environ.get(_CHILD):
        _count(texts, args.trial_file)
        return
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("needs valgrind and callgrind_control (apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
                   sys.executable, __file__, "-n", str(args.n), "--data", str(args.data)]
        if args.trials is not None:
            trial_file = Path(tmp) / "trials.jsonl"
            generate(args.trials, trial_file)
            command += ["--trial-file", str(trial_file)]
        subprocess.run(command, check=True, env={**os.environ, _CHILD: "1"},
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        total = _totals(out)
    mode = "Python sources" if os.environ.get("CRITPARSE_PURE_PYTHON") else "installed build"
    if args.trials is not None:
        print(f"{args.trials:,} generated trials ({mode}): {total:,} instructions, "
              f"{total / args.trials:,.0f} per trial")
    else:
        print(f"{len(texts):,} bullets of {args.data.name} ({mode}): {total:,} instructions, "
              f"{total / len(texts):,.0f} per bullet")


if __name__ == "__main__":
    main()
