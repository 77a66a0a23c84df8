"""Benchmark: a survey export with many items against the same organisation in long form.

Usage::

    .venv/bin/python benchmarks/bench_survey.py [n_people] [--items 6] [--shape qualtrics]
        [--run]       # also time two whole ``workbench run`` processes (minutes each)

Generates one organisation (8 competencies, ``--items`` items each: 48 by default) with
``workbench demo-data --items K --export SHAPE`` and the same organisation without items
(``demo-data`` with the same seed: people, raters and truth are identical, one score per
competency), not counted. Then it times, each in a fresh process:

* reading: ``load_organisation`` of the long file with 8 competencies, of the long file with
  the items, and of the platform's wide export with the instrument (every check included);
* with ``--run``: ``workbench run`` of an engagement reading the wide export and of one
  reading the long 8-competency file (the issue's target: the export within 1.5 times the
  long form's time).

The item-level run fits the calibration on one row per answered item (K times the rows of the
long form), so its time grows with K whatever the reader does; the reading lines show what the
export itself costs.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

__all__ = ["main"]

NOTEBOOKS = ("01_calibrate_raters", "02_skill_profiles", "03_learning_impact",
             "04_learning_plans")
_READ = """
import sys, time
from workbench.tables import load_organisation
started = time.perf_counter()
org = load_organisation(sys.argv[1], ratings=sys.argv[2] or None, mapping=sys.argv[3] or None)
print(time.perf_counter() - started, len(org.ratings))
"""


def _workbench() -> list[str]:
    return [sys.executable, "-m", "workbench"]


def _read(folder: Path, ratings: str = "", mapping: str = "") -> tuple[float, int]:
    out = subprocess.run([sys.executable, "-c", _READ, str(folder), ratings, mapping],
                         check=True, capture_output=True, text=True).stdout.split()
    return float(out[0]), int(out[1])


def _run(root: Path, name: str, data: Path, ratings: Path | None, mapping: Path | None):
    engagement = root / f"{name}.yaml"
    text = f"engagement: {name}\nclient: Benchmark Ltd\nrandom_state: 7\ndata:\n  folder: {data}\n"
    if ratings is not None:
        text += f"  ratings: {ratings}\n"
    if mapping is not None:
        text += "mapping:\n" + "".join(f"  {line}\n" for line in mapping.read_text().splitlines())
    text += "notebooks:\n" + "".join(f"  {n}: {{}}\n" for n in NOTEBOOKS)
    engagement.write_text(text, encoding="utf-8")
    started = time.perf_counter()
    subprocess.run(_workbench() + ["run", str(engagement), "--reports", str(root / "reports")],
                   check=True, stdout=subprocess.DEVNULL)
    total = time.perf_counter() - started
    manifest = next((root / "reports" / name).glob("*/analyst/manifest.json"))
    manifest = json.loads(manifest.read_text())
    return total, manifest


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n_people", nargs="?", type=int, default=5000)
    parser.add_argument("--items", type=int, default=6)
    parser.add_argument("--shape", default="qualtrics")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--run", action="store_true", help="also time two workbench runs")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-survey-") as tmp:
        root = Path(tmp)
        items, plain = root / "items", root / "plain"
        started = time.perf_counter()
        common = ["--people", str(args.n_people), "--seed", str(args.seed), "--skills", "8"]
        subprocess.run(_workbench() + ["demo-data", "--out", str(items), "--items",
                                       str(args.items), "--export", args.shape] + common,
                       check=True, stdout=subprocess.DEVNULL)
        subprocess.run(_workbench() + ["demo-data", "--out", str(plain)] + common, check=True,
                       stdout=subprocess.DEVNULL)
        print(f"generated {args.n_people} people, 8 competencies x {args.items} items "
              f"({args.shape}) in {time.perf_counter() - started:.1f} s (not counted)",
              flush=True)
        export, mapping = items / "survey_export.csv", items / "survey_mapping.yaml"
        long8, n8 = _read(plain)
        long_items, n_items = _read(items)
        wide, n_wide = _read(items, str(export), str(mapping))
        print(f"read long, 8 competencies:        {long8:6.1f} s  ({n8:,} ratings)")
        print(f"read long, {8 * args.items} items:              {long_items:6.1f} s  "
              f"({n_items:,} ratings)")
        print(f"read {args.shape} export, {8 * args.items} items:  {wide:6.1f} s  "
              f"({n_wide:,} ratings; {wide / long8:.2f}x the long 8-competency file, "
              f"{wide / long_items:.2f}x the long item file)", flush=True)
        if args.run:
            t_long, _ = _run(root, "long8", plain, None, None)
            t_wide, manifest = _run(root, "wide", items, export, mapping)
            print(f"workbench run, long 8 competencies: {t_long:6.1f} s")
            print(f"workbench run, {args.shape} export:     {t_wide:6.1f} s "
                  f"({t_wide / t_long:.2f}x)")
            for step in manifest.get("notebooks", []):
                if isinstance(step, dict):
                    print(f"  {step.get('name')}: {step.get('seconds', step.get('duration'))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
