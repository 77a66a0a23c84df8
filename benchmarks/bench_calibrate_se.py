"""Accuracy of the approximate SE path and REML criterion against the exact path (issue #12).

Fits one generated organisation twice at the same variance components: the exact path (one
dense factorisation, equal to a brute-force inverse to 1e-8 in tests/calibration) and the
approximate path used above 10,000 raters (forced), and prints, per random term, the worst,
99th-percentile and median relative error of the conditional SDs, and the two REML criteria
with the approximate one's Monte Carlo SE. docs/calibration.md quotes its output.

    .venv/bin/python benchmarks/bench_calibrate_se.py --people 3000
    .venv/bin/python benchmarks/bench_calibrate_se.py --people 3000 --no-halo
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

from workbench.calibration.mixed.model import fit_mixed
from workbench.synth.generator import generate_organisation


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--no-halo", action="store_true", help="leave out rater:ratee")
    args = parser.parse_args(argv)
    terms = ["ratee", "ratee:skill", "rater"] + ([] if args.no_halo else ["rater:ratee"])
    org = generate_organisation(args.people, seed=args.seed, n_waves=1)
    kwargs = {"response": "score", "fixed": ["source", "skill"], "random": terms}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        started = time.perf_counter()
        exact = fit_mixed(org.ratings, se_method="exact", **kwargs)
        t_exact = time.perf_counter() - started
        started = time.perf_counter()
        approx = fit_mixed(org.ratings, se_method="approximate", solver=exact.settings["solver"],
                           theta_start=exact.theta.to_numpy(), **kwargs)
        t_approx = time.perf_counter() - started
    print(f"{args.people} people, terms {' + '.join(terms)} ({len(org.ratings)} ratings)")
    for term in terms:
        error = np.abs(approx.blups[term]["se"] / exact.blups[term]["se"] - 1)
        print(f"  {term:12s} SE relative error: worst {error.max():.4f}  p99 "
              f"{np.quantile(error, 0.99):.4f}  median {np.median(error):.4f}")
    se = approx.settings["reml_criterion_se"]
    print(f"  REML criterion: exact {exact.reml_criterion:.4f}, approximate "
          f"{approx.reml_criterion:.4f} (Monte Carlo SE {se:.4f}; difference "
          f"{(approx.reml_criterion - exact.reml_criterion) / se:+.2f} SE)")
    print(f"  seconds: exact fit {t_exact:.1f}, approximate fit {t_approx:.1f}")


if __name__ == "__main__":
    main()
