"""Where the linear calibration's intervals fall short on rounded, clipped ratings (issue #25,
section 2): coverage of the 95 % score intervals split by the true score, the calibrated score,
self-only cells and the share of a cell's non-self ratings at the scale's top.

Organisations from :func:`workbench.synth.generate_organisation` (one wave, unrounded), rated
as :func:`workbench.simulation.coverage.misspecified_ratings` does with ``"correct"``: rounded
to whole points and clipped to 1-5; the truth is the unclipped true score.

    .venv/bin/python benchmarks/bench_bounded_coverage.py --people 3000 --seeds 1 2 3
    .venv/bin/python benchmarks/bench_bounded_coverage.py --people 3000 --seeds 1 2 3 --no-rounding
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import pandas as pd

from workbench.calibration.calibrate import calibrate_ratings
from workbench.simulation.coverage import misspecified_ratings
from workbench.synth.generator import generate_organisation

EDGES = [-np.inf, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, np.inf]


def one_run(n_people: int, seed: int, rounding: bool = True) -> pd.DataFrame:
    org = generate_organisation(n_people, seed=seed, n_waves=1, rounding=None)
    ratings, truth = misspecified_ratings(org, "correct", seed=seed + 7919)
    if not rounding:  # the control: the same organisation's unrounded, unclipped ratings
        ratings["score"] = org.ratings["score"].to_numpy(dtype=float)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cal = calibrate_ratings(ratings)
    m = cal.scores.merge(truth, on=["person", "skill"])
    others = ratings[ratings["source"] != "self"].assign(top=lambda d: d["score"] == 5)
    top = others.groupby(["ratee", "skill"])["top"].mean()
    m = m.join(top, on=["person", "skill"])
    m["covered"] = (m["ci_low"] <= m["true_score"]) & (m["true_score"] <= m["ci_high"])
    m["z"] = (m["score"] - m["true_score"]) / m["se"]
    return m.assign(seed=seed)


def table(m: pd.DataFrame, by) -> pd.DataFrame:
    return m.groupby(by, observed=True).agg(n=("covered", "size"), coverage=("covered", "mean"),
                                            z_mean=("z", "mean"), z_sd=("z", "std"))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-rounding", action="store_true",
                        help="control: the same organisations' unrounded, unclipped ratings")
    args = parser.parse_args(argv)
    runs = []
    for seed in args.seeds:
        started = time.perf_counter()
        runs.append(one_run(args.people, seed, rounding=not args.no_rounding))
        print(f"  seed {seed}: coverage {runs[-1]['covered'].mean():.4f} "
              f"({time.perf_counter() - started:.0f} s)", flush=True)
    m = pd.concat(runs, ignore_index=True)
    print(f"overall coverage {m['covered'].mean():.4f} over {len(m)} scores")
    for name, by in (("true score", pd.cut(m["true_score"], EDGES)),
                     ("calibrated score", pd.cut(m["score"], EDGES)),
                     ("self-only cell", m["self_only"]),
                     ("share of non-self ratings at 5", pd.cut(m["top"], [-0.01, 0, 0.25, 0.5,
                                                                         0.75, 1.0]))):
        print(f"\nby {name}")
        print(table(m, by).round(3).to_string())


if __name__ == "__main__":
    main()
