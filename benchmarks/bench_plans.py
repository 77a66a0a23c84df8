"""Benchmark: learning plans, mentors included, for a large organisation (not a test).

Usage::

    .venv/bin/python benchmarks/bench_plans.py [n_people] [--pages]

Scores are the synthetic truth plus Normal(0, 0.2) noise with a known standard error of 0.2 (what
a calibration would give), so the benchmark does not depend on the calibration's speed. The
target is under 60 s for 50,000 people on the project's 2-core machine; the time to generate the
organisation is printed separately and not counted.
"""

from __future__ import annotations

import sys
import time

from workbench.plans.build import build_plans
from workbench.synth import truth_scores
from workbench.synth.generator import generate_organisation


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    n_people = int(argv[0]) if argv and argv[0].isdigit() else 50_000
    t0 = time.perf_counter()
    org = generate_organisation(n_people, seed=7, n_waves=1)
    scores = truth_scores(org, se=0.2, wave=1, random_state=7)
    t1 = time.perf_counter()
    print(f"generated {n_people} people, {len(scores)} scores in {t1 - t0:.1f} s (not counted)")
    plans = build_plans(
        scores, org.people, org.framework, org.catalog, ratings=org.ratings,
        start="2027-01-04", random_state=7,
        config={"rules": [{"when": {"level": "new", "role": "Team Lead"},
                           "prefer_kinds": ["coaching"]}]},
    )
    t2 = time.perf_counter()
    print(plans.summary())
    print(f"mentor assignment exact (no eligible mentor pruned): {plans.mentor_exact}")
    print(f"build_plans for {n_people} people: {t2 - t1:.1f} s (target < 60 s at 50,000)")
    if "--pages" in argv:
        import tempfile

        from workbench.plans.build import write_plans

        with tempfile.TemporaryDirectory() as tmp:
            t3 = time.perf_counter()
            write_plans(plans, f"{tmp}/plans", pages=True)
            print(f"write_plans (pages, Excel, figures): {time.perf_counter() - t3:.1f} s")


if __name__ == "__main__":
    main()
