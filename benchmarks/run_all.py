"""Run every benchmark script in this folder (``bench_*.py``), one after another.

Each script runs in its own process with the same Python, from the repository root, with the
arguments given here passed on to none of them (each has its own defaults; run a script
directly to change them). A failing script is reported and the others still run; the exit code
is 1 if any failed.

Usage::

    .venv/bin/python benchmarks/run_all.py            # all of them (make bench)
    .venv/bin/python benchmarks/run_all.py calibrate  # only those whose name contains a word
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

__all__ = ["main", "scripts"]

HERE = Path(__file__).resolve().parent


def scripts(words=()) -> list[Path]:
    """The benchmark scripts, sorted by name, filtered to those containing any of ``words``."""
    found = sorted(HERE.glob("bench_*.py"))
    if words:
        found = [p for p in found if any(w in p.stem for w in words)]
    return found


def main(argv=None) -> int:
    words = sys.argv[1:] if argv is None else argv
    todo = scripts(words)
    if not todo:
        print(f"no benchmark scripts matching {words} in {HERE}")
        return 1
    failed = []
    for path in todo:
        print(f"\n=== {path.name} ===", flush=True)
        started = time.perf_counter()
        code = subprocess.call([sys.executable, str(path)], cwd=HERE.parent)
        print(f"=== {path.name}: exit {code} after {time.perf_counter() - started:.0f} s ===",
              flush=True)
        if code != 0:
            failed.append(path.name)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
