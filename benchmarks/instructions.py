"""Instructions executed to parse the first N benchmark bullets, start-up left out (callgrind).

Wall-clock figures on a shared machine move by a factor of two from hour to hour; an instruction
count does not, so two builds or two commits compare exactly:

    python benchmarks/instructions.py -n 1500                       # the installed build
    CRITPARSE_PURE_PYTHON=1 python benchmarks/instructions.py -n 1500   # its Python sources

Needs valgrind (`apt-get install valgrind`). The script runs itself under callgrind with
instrumentation off, loads the pipeline and parses a warm-up bullet, switches instrumentation on
(`callgrind_control -i on`), parses the bullets and prints the total.
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

_CHILD = "CRITPARSE_INSTRUCTIONS_CHILD"


def _count(texts: list[str]) -> None:
    """Runs under callgrind: parse with instrumentation on only around the bullets."""
    import critparse
    from critparse.nlp.pipeline import default_nlp

    default_nlp()
    critparse.parse(WARM_UP)
    switch = ["callgrind_control", "-i"]
    subprocess.run([*switch, "on", str(os.getpid())], check=True, stdout=subprocess.DEVNULL)
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
    args = parser.parse_args()
    texts = read_bullets(args.data)[: args.n]
    if os.environ.get(_CHILD):
        _count(texts)
        return
    if shutil.which("valgrind") is None or shutil.which("callgrind_control") is None:
        raise SystemExit("needs valgrind and callgrind_control (apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        command = ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
                   sys.executable, __file__, "-n", str(args.n), "--data", str(args.data)]
        subprocess.run(command, check=True, env={**os.environ, _CHILD: "1"},
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        total = _totals(out)
    mode = "Python sources" if os.environ.get("CRITPARSE_PURE_PYTHON") else "installed build"
    print(f"{len(texts):,} bullets of {args.data.name} ({mode}): {total:,} instructions, "
          f"{total / len(texts):,.0f} per bullet")


if __name__ == "__main__":
    main()
