"""Where the linear calibration's intervals fall short on rounded, clipped ratings (issue #25,
section 2): coverage of the 95 % score intervals (``coverage``: as reported, widened at the
scale's ends; ``plain``: score +- z se) split by the true score, the calibrated score,
self-only cells, the share of a cell's non-self ratings at the scale's top, the distance of
its non-self mean from the nearer end and the number of raters.

Organisations from :func:`workbench.synth.generate_organisation` (one wave, unrounded), rated
as :func:`workbench.simulation.coverage.misspecified_ratings` does with ``"correct"``: rounded
to whole points and clipped to 1-5; the truth is the unclipped true score.

    .venv/bin/python benchmarks/bench_bounded_coverage.py --people 3000 --seeds 1 2 3
    .venv/bin/python benchmarks/bench_bounded_coverage.py --people 3000 --seeds 1 2 3 --no-rounding
    .venv/bin/python benchmarks/bench_bounded_coverage.py --people 3000 --seeds 1 2 3 --shift 0.8

The organisations' ratings are generated unclipped (``clip=False``), so a lenient organisation
(``--shift``) piles its ratings up at the top only, as a real one does.
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


def one_run(n_people: int, seed: int, rounding: bool = True, shift: float = 0.0,
            self_only: float = 0.0) -> pd.DataFrame:
    org = generate_organisation(n_people, seed=seed, n_waves=1, rounding=None, clip=False)
    ratings, truth = misspecified_ratings(org, "correct", seed=seed + 7919)
    unrounded = org.ratings["score"].to_numpy(dtype=float) + shift
    truth["true_score"] += shift
    if rounding:  # a lenient organisation: everyone rated `shift` higher, then rounded, clipped
        ratings["score"] = np.clip(np.round(unrounded), 1, 5)
    else:  # the control: the same organisation's unrounded, unclipped ratings
        ratings["score"] = unrounded
    if self_only:  # a share of cells keep only the person's own rating
        rng = np.random.default_rng(seed + 104729)
        cells = ratings[["ratee", "skill"]].drop_duplicates()
        cells = cells[rng.random(len(cells)) < self_only]
        hit = ratings.merge(cells.assign(hit=True), on=["ratee", "skill"], how="left")["hit"]
        ratings = ratings[~(hit.notna().to_numpy()
                            & (ratings["source"] != "self").to_numpy())]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cal = calibrate_ratings(ratings)
    m = cal.bounded_scores().merge(truth, on=["person", "skill"])
    others = ratings[ratings["source"] != "self"].assign(top=lambda d: d["score"] == 5)
    top = others.groupby(["ratee", "skill"])["top"].mean()
    m = m.join(top, on=["person", "skill"])
    m["covered"] = (m["ci_low"] <= m["true_score"]) & (m["true_score"] <= m["ci_high"])
    m["z"] = (m["score"] - m["true_score"]) / m["se"]
    m["plain"] = m["z"].abs() <= 1.959964  # score +- z se: before the widening at the ends
    mean = m["raw_mean"].fillna(m["score"])
    m["distance"] = np.minimum(mean - 1, 5 - mean)  # of the non-self mean from the nearer bound
    r = cal.rater_effects.merge(org.truth["rater_effects"], on="rater")
    r_err = (r["effect"] - r["effect"].mean()) - (r["leniency"] - r["leniency"].mean())
    m.attrs["rater_coverage"] = float((r_err.abs() <= 1.959964 * r["se"]).mean())
    return m.assign(seed=seed, shift=shift)


def table(m: pd.DataFrame, by) -> pd.DataFrame:
    return m.groupby(by, observed=True).agg(n=("covered", "size"), coverage=("covered", "mean"),
                                            plain=("plain", "mean"), z_mean=("z", "mean"),
                                            z_sd=("z", "std"))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--no-rounding", action="store_true",
                        help="control: the same organisations' unrounded, unclipped ratings")
    parser.add_argument("--shift", type=float, default=0.0,
                        help="a lenient organisation: every rating (and the truth) this much "
                             "higher before rounding and clipping (0.8: many 5s)")
    parser.add_argument("--self-only", type=float, default=0.0,
                        help="share of person-skill cells left with the self rating only")
    parser.add_argument("--save", help="write every score with its truth to this CSV")
    args = parser.parse_args(argv)
    runs = []
    for seed in args.seeds:
        started = time.perf_counter()
        runs.append(one_run(args.people, seed, rounding=not args.no_rounding, shift=args.shift,
                            self_only=args.self_only))
        print(f"  seed {seed}: coverage {runs[-1]['covered'].mean():.4f} (plain "
              f"{runs[-1]['plain'].mean():.4f}, near_bound {runs[-1]['near_bound'].mean():.3f} "
              f"covered {runs[-1].loc[runs[-1]['near_bound'], 'covered'].mean():.3f}), rater effects "
              f"{runs[-1].attrs['rater_coverage']:.4f}, ratings at 5 "
              f"{(runs[-1]['top'].mean()):.3f} (cell mean) "
              f"({time.perf_counter() - started:.0f} s)", flush=True)
    m = pd.concat(runs, ignore_index=True)
    if args.save:
        m.to_csv(args.save, index=False)
    print(f"overall coverage {m['covered'].mean():.4f} over {len(m)} scores")
    for name, by in (("true score", pd.cut(m["true_score"], EDGES)),
                     ("calibrated score", pd.cut(m["score"], EDGES)),
                     ("self-only cell", m["self_only"]),
                     ("share of non-self ratings at 5", pd.cut(m["top"], [-0.01, 0, 0.25, 0.5,
                                                                         0.75, 1.0])),
                     ("distance of the non-self mean from the nearer bound",
                      pd.cut(m["distance"], [-0.01, 0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0])),
                     ("raters", pd.cut(m["n_raters"], [0, 1, 2, 3, 4, 5, 6, 8, 100]))):
        print(f"\nby {name}")
        print(table(m, by).round(3).to_string())


if __name__ == "__main__":
    main()
