"""Benchmark: reading and checking an organisation against reading it with pandas alone.

Usage::

    .venv/bin/python benchmarks/bench_tables.py [n_people ...] [--format csv|xlsx|parquet]
                                                [--repeat 3]

For each size, generates an organisation with ``workbench demo-data`` (not counted), then
times, each in its own process (interpreter start and imports included, as a user waits for
them):

* ``ours``: ``workbench.tables.load_organisation(folder)``: every table read (encodings,
  header row, row numbers, ids as text), typed, checked and cross-checked;
* ``pandas``: ``pandas.read_csv`` / ``read_excel`` / ``read_parquet`` of the same files with
  ``dtype=str``: reading only, no checks (the floor any loader pays).

Prints the median wall time of ``--repeat`` runs and the ratio ours / pandas (below 2 means the
checks cost less than the reading itself).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["main"]

OURS = "from workbench.tables import load_organisation; load_organisation({folder!r})"
PANDAS = (
    "import pathlib, pandas as pd\n"
    "for p in sorted(pathlib.Path({folder!r}).glob('*.*')):\n"
    "    if p.suffix == '.csv': pd.read_csv(p, dtype=str, keep_default_na=False)\n"
    "    elif p.suffix == '.xlsx': pd.read_excel(p, dtype=str, keep_default_na=False)\n"
    "    elif p.suffix == '.parquet': pd.read_parquet(p)\n"
)


def _seconds(code: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True)
    return time.perf_counter() - started


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("sizes", nargs="*", type=int, default=[1000, 5000])
    parser.add_argument("--format", choices=["csv", "xlsx", "parquet"], default="csv")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"{'people':>7} {'ratings':>8} {'format':>7} {'ours s':>8} {'pandas s':>9} {'ratio':>6}")
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            folder = str(Path(tmp) / "org")
            made = subprocess.run([sys.executable, "-m", "workbench", "demo-data", "--out",
                                   folder, "--people", str(n), "--format", args.format],
                                  check=True, capture_output=True, text=True)
            # "wrote 1000 people, 101850 ratings to ..."
            rows = int(made.stdout.split(" ratings")[0].rsplit(" ", 1)[-1])
            ours = [_seconds(OURS.format(folder=folder)) for _ in range(args.repeat)]
            peer = [_seconds(PANDAS.format(folder=folder)) for _ in range(args.repeat)]
            a, b = statistics.median(ours), statistics.median(peer)
            print(f"{n:>7} {rows:>8} {args.format:>7} {a:>8.2f} {b:>9.2f} {a / b:>6.2f}",
                  flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
