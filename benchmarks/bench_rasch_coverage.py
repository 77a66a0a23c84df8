"""Coverage of the Rasch intervals over many simulated organisations (issue 25, section 1).

Ratings are simulated from the many-facet rating-scale model itself by the numpy simulator of
``tests/calibration/test_rasch_recovery.py`` (8 skills, 3 sources, a ceiling: abilities
centred at +1.3 logits), optionally with a planted random responder and a planted
central-tendency rater. Per design, pooled over the seeds: the share of 95 % intervals that
cover the true ratee abilities, rater severities and fair averages, with the joint SEs
(``se``; ``se_real`` for the measures when raters are planted) and with FACETS' model SEs
(``se_model``), and the binomial SE of a 0.95 coverage for that many intervals.

    .venv/bin/python benchmarks/bench_rasch_coverage.py --ratees 1200 --raters 600 \
        --per-ratee 6 3 --seeds 5
    .venv/bin/python benchmarks/bench_rasch_coverage.py --ratees 1200 --raters 600 \
        --per-ratee 6 4 --seeds 5 --plant
    .venv/bin/python benchmarks/bench_rasch_coverage.py --ratees 4000 --raters 3500 \
        --per-ratee 6 3 --seeds 2 [--max-joint 3000]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.calibration.test_rasch_recovery import TAU, simulate  # noqa: E402
from workbench.calibration.rasch import uncertainty  # noqa: E402
from workbench.calibration.rasch.calibrate import calibrate_rasch  # noqa: E402


def expected_rating(eta):
    cum = np.r_[0.0, np.cumsum(TAU)]
    logits = eta[:, None] * np.arange(5) - cum
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    return P @ np.arange(1, 6)


def one_run(n_ratees, n_raters, per_ratee, seed, plant):
    ratings, truth = simulate(seed, n_ratees=n_ratees, n_raters=n_raters, per_ratee=per_ratee,
                              plant=plant)
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = calibrate_rasch(ratings)
    seconds = time.perf_counter() - started
    hits = {}
    m = res.measures
    for facet, true in (("ratee", truth["theta"]), ("rater", truth["alpha"])):
        part = m[(m["facet"] == facet) & (m["status"] == "")].set_index("element")
        if plant and facet == "rater":
            part = part.drop(index=["R000", "R001"])
        err = (part["measure"] - true.reindex(part.index)).abs()
        hits[facet] = (err <= 1.959964 * part["se_real" if plant else "se"]).to_numpy()
        hits[facet + "_model"] = (err <= 1.959964 * part["se_model"]).to_numpy()
    sc = res.scores
    fair = expected_rating(truth["theta"].reindex(sc["ratee"]).to_numpy()
                           - truth["delta"].reindex(sc["skill"]).to_numpy())
    hits["fair"] = ((fair >= sc["ci_low"]) & (fair <= sc["ci_high"])).to_numpy()
    return hits, seconds, res.settings["se_method"]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ratees", type=int, default=1200)
    parser.add_argument("--raters", type=int, default=600)
    parser.add_argument("--per-ratee", type=int, nargs="+", default=[6, 3])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--plant", action="store_true",
                        help="plant a random responder and a central-tendency rater")
    parser.add_argument("--max-joint", type=int, default=None,
                        help="non-ratee elements above which the diagonal approximation is "
                             "used (default: the package's MAX_JOINT)")
    args = parser.parse_args(argv)
    if args.max_joint is not None:
        uncertainty.MAX_JOINT = args.max_joint
    rows = []
    for per in args.per_ratee:
        pooled: dict = {}
        seconds = []
        for seed in range(1, args.seeds + 1):
            hits, sec, method = one_run(args.ratees, args.raters, per, seed, args.plant)
            seconds.append(sec)
            for key, value in hits.items():
                pooled.setdefault(key, []).append(value)
            print(f"  {per} raters per ratee, seed {seed}: ratees "
                  f"{hits['ratee'].mean():.3f} raters {hits['rater'].mean():.3f} fair "
                  f"{hits['fair'].mean():.3f} ({sec:.1f} s, {method.split(':')[0]})",
                  flush=True)
        row = {"per_ratee": per, "plant": args.plant, "seconds": np.mean(seconds)}
        for key, parts in pooled.items():
            allhits = np.concatenate(parts)
            row[key] = allhits.mean()
            if "_model" not in key:
                row[key + "_n"] = len(allhits)
                row[key + "_binom_se"] = np.sqrt(0.95 * 0.05 / len(allhits))
        rows.append(row)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(pd.DataFrame(rows).round(4).to_string(index=False))


if __name__ == "__main__":
    main()
