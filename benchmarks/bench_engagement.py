"""Benchmark: a whole client engagement through ``workbench run`` (not a test).

Usage::

    .venv/bin/python benchmarks/bench_engagement.py [n_people] [--format xlsx] [--seed 7]
        [--data FOLDER]   # reuse an organisation made by demo-data

Generates an organisation with ``workbench demo-data`` (not counted), writes an engagement file
that runs the four client notebooks with their defaults, then times one whole ``workbench run``
process (papermill, kernels, every analysis, the HTML report) and prints one table: each
notebook's wall and CPU seconds (user + system of the kernel and the run process, from the
run's manifest), the rest of the run (reading, the inputs' snapshot, the report) and the whole
process, with the load average before and after. Notebook 01's calibrated scores are handed to
02, 03 and 04 (and 02's profiles and 03's activity effects to 04), so each model is fitted once
per run. The target for 5,000 people in xlsx on the project's 2-core machine is under 60 s in
total (issue #24).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["main"]

NOTEBOOKS = ("01_calibrate_raters", "02_skill_profiles", "03_learning_impact",
             "04_learning_plans")


def _workbench() -> list[str]:
    return [sys.executable, "-m", "workbench"]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n_people", nargs="?", type=int, default=5000)
    parser.add_argument("--format", default="xlsx", choices=["csv", "xlsx", "parquet"])
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--progression", action="store_true",
                        help="also paths and outcomes, and notebook 05 in the run")
    parser.add_argument("--data", type=Path, default=None,
                        help="an organisation made earlier by demo-data (not generated again)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-engagement-") as tmp:
        root = Path(tmp)
        data = args.data.resolve() if args.data else root / "data"
        if args.data is None:
            started = time.perf_counter()
            subprocess.run(_workbench() + ["demo-data", "--out", str(data), "--people",
                                           str(args.n_people), "--seed", str(args.seed),
                                           "--format", args.format]
                           + (["--progression"] if args.progression else []), check=True,
                           stdout=subprocess.DEVNULL)
            print(f"generated {args.n_people} people ({args.format}) in "
                  f"{time.perf_counter() - started:.1f} s (not counted)", flush=True)
        engagement = root / "bench.yaml"
        engagement.write_text(
            "engagement: bench\nclient: Benchmark Ltd\nrandom_state: 7\n"
            f"data:\n  folder: {data}\nnotebooks:\n"
            + "".join(f"  {name}: {{}}\n" for name in NOTEBOOKS
                      + (("05_progression_and_outcomes",) if args.progression else ())),
            encoding="utf-8")
        load_before = os.getloadavg()
        started, children = time.perf_counter(), _children_cpu()
        code = subprocess.call(_workbench() + ["run", str(engagement), "--reports",
                                               str(root / "reports")])
        total = time.perf_counter() - started
        total_cpu = _children_cpu() - children
        load_after = os.getloadavg()
        runs = sorted((root / "reports" / "bench").glob("*/analyst/manifest.json"))
        if code != 0 or not runs:
            print(f"workbench run failed (exit {code})")
            return 1
        manifest = json.loads(runs[-1].read_text())
        print(f"\n{'notebook':<30}{'wall s':>9}{'CPU s':>9}")
        for entry in manifest["notebooks"]:
            cpu = entry.get("cpu_seconds")
            print(f"{entry['name']:<30}{entry['seconds']:>9.1f}"
                  f"{'' if cpu is None else f'{cpu:.1f}':>9}")
        rest = total - sum(e["seconds"] for e in manifest["notebooks"])
        print(f"{'(reading, snapshot, report)':<30}{rest:>9.1f}")
        print(f"{'whole process':<30}{total:>9.1f}{total_cpu:>9.1f}   (target < 60 s at 5,000 "
              "people, xlsx)")
        print("load average (1, 5, 15 min) before: "
              + ", ".join(f"{v:.2f}" for v in load_before) + "; after: "
              + ", ".join(f"{v:.2f}" for v in load_after))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
