"""Coverage and bias of calibrated scores over many synthetic organisations (issue #12).

Prints one row per generator: pooled coverage of the 95 % score intervals and of the rater-effect
intervals, the margin (2 binomial SEs from the between-seed spread), bias, RMSE and the SD of the
z-scores; docs/calibration.md quotes its output.

    .venv/bin/python benchmarks/bench_coverage.py --people 1000 --seeds 20 \
        --generators correct ceiling skill_leniency missing_low
    .venv/bin/python benchmarks/bench_coverage.py --people 10000 --seeds 5 \
        --generators correct --se-method approximate

Small organisations, with and without the variance components' uncertainty in the SEs
(``vc_uncertainty``; one row per generator and setting, the same organisations for each):

    .venv/bin/python benchmarks/bench_coverage.py --people 30 --ratees 8 --seeds 400 \
        --generators correct --vc-uncertainty none delta
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from workbench.simulation.coverage import GENERATORS, coverage_run


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    out = []
    for (gen, vc), part in rows.groupby(["generator", "vc_uncertainty"], sort=False):
        k = len(part)
        out.append({
            "generator": gen, "vc_uncertainty": vc, "n_people": int(part["n_people"].iloc[0]),
            "ratees": part["ratees"].iloc[0], "seeds": k,
            "coverage": part["coverage"].mean(),
            "margin": 2 * part["coverage"].std(ddof=1) / np.sqrt(k) if k > 1 else np.nan,
            "unwidened": np.average(part["coverage_unwidened"], weights=part["n"]),
            "near_bound": part["near_bound_n"].sum() / part["n"].sum(),
            "near_bound_cov": np.average(part["near_bound_coverage"].fillna(0),
                                         weights=part["near_bound_n"])
            if part["near_bound_n"].sum() else np.nan,
            "rater_coverage": part["rater_coverage"].mean(),
            "rater_margin": 2 * part["rater_coverage"].std(ddof=1) / np.sqrt(k)
            if k > 1 else np.nan,
            "bias": part["bias"].mean(), "rmse": part["rmse"].mean(),
            "z_sd": part["z_sd"].mean(), "rater_z_sd": part["rater_z_sd"].mean(),
            "se_increase": part["vc_se_increase"].mean(),
            "se_method": part["se_method"].iloc[0], "seconds_per_fit": part["seconds"].mean(),
        })
    return pd.DataFrame(out)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--generators", nargs="+", default=list(GENERATORS), choices=GENERATORS)
    parser.add_argument("--se-method", choices=["auto", "approximate"], default="auto",
                        help="approximate: force the SE path used above 10,000 raters")
    parser.add_argument("--ratees", type=int, default=None,
                        help="keep the first N people as ratees (a small organisation)")
    parser.add_argument("--vc-uncertainty", nargs="+", default=["auto"],
                        choices=["auto", "none", "delta"],
                        help="one or more settings, each run on the same organisations")
    args = parser.parse_args(argv)
    if args.se_method == "approximate":
        # The calibration passes no se_method: force it where the subset fit calls the
        # engine (as tests/calibration/test_standard_errors.py does).
        from functools import partial

        from workbench.calibration import subset_fit as module

        module.fit_mixed = partial(module.fit_mixed, se_method="approximate")
    rows = []
    for gen in args.generators:
        for seed in range(args.first_seed, args.first_seed + args.seeds):
            for vc in args.vc_uncertainty:
                started = time.perf_counter()
                row = coverage_run(args.people, seed=seed, generator=gen, n_ratees=args.ratees,
                                   vc_uncertainty=vc)
                row.update(seconds=time.perf_counter() - started, vc_uncertainty=vc,
                           ratees=args.ratees or args.people)
                rows.append(row)
                print(f"  {gen} seed {seed} vc_uncertainty={vc}: coverage "
                      f"{row['coverage']:.4f} rater {row['rater_coverage']:.4f} "
                      f"({row['seconds']:.1f} s)", flush=True)
    table = summarise(pd.DataFrame(rows))
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.round(4).to_string(index=False))


if __name__ == "__main__":
    main()
