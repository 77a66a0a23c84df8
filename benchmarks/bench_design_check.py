"""Time the design check (``workbench.calibration.design_check``) on a large engagement.

Generates one organisation (one wave), calibrates it, then runs ``check_design`` with its
defaults (200 simulated organisations at the fitted variance components, ``refits="auto"``)
and reports the seconds of each part: the calibration itself, the fast path (factor once,
one solve per organisation) and the refits (whole calibrations with REML re-estimation).

    .venv/bin/python benchmarks/bench_design_check.py --people 5000
"""

from __future__ import annotations

import argparse
import time
import warnings

from workbench.calibration.calibrate import calibrate_ratings
from workbench.calibration.design_check import check_design
from workbench.synth.generator import generate_organisation


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=5000)
    parser.add_argument("--sims", type=int, default=200)
    parser.add_argument("--refits", default="auto")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    refits = args.refits if args.refits == "auto" else int(args.refits)
    org = generate_organisation(args.people, seed=args.seed, n_waves=1)
    print(f"{len(org.ratings)} ratings of {org.ratings['ratee'].nunique()} ratees by "
          f"{org.ratings['rater'].nunique()} raters", flush=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0, c0 = time.perf_counter(), time.process_time()
        cal = calibrate_ratings(org.ratings)
        t1, c1 = time.perf_counter(), time.process_time()
        print(f"calibration: {t1 - t0:.1f} s wall, {c1 - c0:.1f} s CPU", flush=True)
        fast = check_design(cal, n_sims=args.sims, refits=0, people=org.people,
                            framework=org.framework, random_state=args.seed)
        t2, c2 = time.perf_counter(), time.process_time()
        print(f"fast path ({args.sims} organisations): {t2 - t1:.1f} s wall, "
              f"{c2 - c1:.1f} s CPU", flush=True)
        full = check_design(cal, n_sims=args.sims, refits=refits, people=org.people,
                            framework=org.framework, random_state=args.seed)
        t3, c3 = time.perf_counter(), time.process_time()
    print(f"default check_design (refits={full.settings['refits']}): {t3 - t2:.1f} s wall, "
          f"{c3 - c2:.1f} s CPU")
    print(fast.table.drop(columns="what").to_string(index=False))
    print(full.table.drop(columns="what").to_string(index=False))


if __name__ == "__main__":
    main()
