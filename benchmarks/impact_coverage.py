"""Coverage of the per-activity intervals of ``workbench impact`` on demo organisations.

For each seed: ``workbench demo-data --people N --seed S`` writes an organisation with its
truth (each activity's true effect per skill in ``truth/training_effects.csv``); ``workbench
impact`` (calibrating both waves jointly, as a user would run it) estimates the effects; the
script counts the 95% intervals that hold the true effect, for the pooled estimates and for
the raw (unpooled) ones, and the mean z-score of the raw estimates (raw - truth) / raw_se,
which shows bias. Whole processes, as a user runs them.

Run::

    .venv/bin/python benchmarks/impact_coverage.py --people 5000 --seeds 11 12
    .venv/bin/python benchmarks/impact_coverage.py --people 5000 --seeds 11 12 \
        --error-correlation 0     # the old default: errors taken as independent

(about a minute per seed on an idle 2-core machine; most of it the calibration).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

BIN = Path(sys.executable).parent / "workbench"


def one(seed: int, people: int, root: Path, extra: list[str]) -> pd.DataFrame:
    org = root / f"org{seed}"
    out = root / f"impact{seed}"
    subprocess.run([str(BIN), "demo-data", "--out", str(org), "--people", str(people),
                    "--seed", str(seed)], check=True, capture_output=True)
    subprocess.run([str(BIN), "impact", "--ratings", str(org / "ratings.csv"),
                    "--enrollments", str(org / "enrollments.csv"),
                    "--people", str(org / "people.csv"), "--catalog", str(org / "catalog.csv"),
                    "--out", str(out), *extra], check=True, capture_output=True)
    used = json.loads((out / "settings.json").read_text())["error_correlation_used"]
    print(f"seed {seed}: {used}", flush=True)
    table = pd.read_csv(out / "effects_by_activity.csv")
    truth = pd.read_csv(org / "truth" / "training_effects.csv")
    table = table.merge(truth, on=["activity", "skill"]).dropna(subset=["estimate"])
    table["covered"] = (table["ci_low"] <= table["effect"]) & (table["effect"] <= table["ci_high"])
    table["raw_covered"] = ((table["raw_estimate"] - 1.96 * table["raw_se"] <= table["effect"])
                            & (table["effect"] <= table["raw_estimate"] + 1.96 * table["raw_se"]))
    table["raw_z"] = (table["raw_estimate"] - table["effect"]) / table["raw_se"]
    return table.assign(seed=seed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[11, 12])
    parser.add_argument("--raw-means", action="store_true")
    parser.add_argument("--keep", type=Path, default=None,
                        help="keep each seed's organisation and impact output under this folder "
                        "(default: a temporary folder, removed)")
    parser.add_argument("--error-correlation", type=float, default=None,
                        help="override the correlation the calibration computes (default: "
                        "as workbench impact runs by default)")
    args = parser.parse_args()
    extra = (["--raw-means"] if args.raw_means else []) + (
        [] if args.error_correlation is None else
        ["--error-correlation", str(args.error_correlation)])
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        tables = [one(s, args.people, args.keep, extra) for s in args.seeds]
    else:
        with tempfile.TemporaryDirectory() as tmp:
            tables = [one(s, args.people, Path(tmp), extra) for s in args.seeds]
    table = pd.concat(tables, ignore_index=True)
    for seed, d in table.groupby("seed"):
        print(f"seed {seed}: pooled {d['covered'].sum()}/{len(d)}, raw "
              f"{d['raw_covered'].sum()}/{len(d)}, raw z mean {d['raw_z'].mean():.2f}")
    n = len(table)
    print(f"all: pooled {table['covered'].sum()}/{n} ({table['covered'].mean():.3f}), raw "
          f"{table['raw_covered'].sum()}/{n} ({table['raw_covered'].mean():.3f}), raw z mean "
          f"{table['raw_z'].mean():.2f} (SE {table['raw_z'].std() / np.sqrt(n):.2f})")


if __name__ == "__main__":
    main()
