"""Readiness and bench strength at scale: N people, each with 3 roles on their path.

Scores are drawn directly (8 skills, SE 0.15-0.35, a person-level error correlation 0.2, plan
gains for a third of the people), so the timing is the readiness stage alone (the calibration
of 50,000 people is benchmarked in bench_calibrate.py). Target (issue 23): 50,000 people x 3
roles within 30 s. ``--prior mixture`` (the default of assess_readiness with a calibration)
adds variance components and raters per person, so the skill profiles are learnt
(workbench.progression.skill_prior); ``--prior normal`` times the stated error correlation only.

    .venv/bin/python benchmarks/bench_progression.py --people 50000 --prior mixture
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from workbench.progression import assess_readiness

SKILLS = [f"S{k}" for k in range(8)]
ROLES = ["Analyst", "Senior", "Lead", "Manager"]
VARIANCES = pd.DataFrame({"component": ["ratee", "ratee:skill", "rater:ratee", "residual"],
                          "variance": [0.06, 0.07, 0.06, 0.2]})


def organisation(n, seed=0):
    rng = np.random.default_rng(seed)
    people = pd.DataFrame({"person": [f"P{i:06d}" for i in range(n)], "role": "Analyst"})
    framework = pd.DataFrame([(r, s, 2.5 + 0.25 * k + 0.1 * (j % 3), 1.0 + (j % 2))
                              for k, r in enumerate(ROLES) for j, s in enumerate(SKILLS)],
                             columns=["role", "skill", "required_level", "weight"])
    paths = pd.DataFrame({"role": "Analyst", "next_role": ROLES[1:]})
    scores = pd.DataFrame({"person": np.repeat(people["person"], len(SKILLS)),
                           "skill": np.tile(SKILLS, n),
                           "score": rng.normal(3.2, 0.5, n * len(SKILLS)),
                           "se": rng.uniform(0.15, 0.35, n * len(SKILLS)),
                           "n_raters": np.repeat(rng.integers(4, 12, n), len(SKILLS))})
    planned = scores.sample(frac=0.1, random_state=seed)
    plans = planned[["person", "skill"]].assign(activity="X", gain=0.3, gain_se=0.1)
    return people, framework, paths, scores, plans


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, nargs="+", default=[5000, 50000])
    parser.add_argument("--prior", choices=["mixture", "normal"], default="mixture")
    args = parser.parse_args()
    print(f"{'people':>8} {'cases':>8} {'seconds':>8}")
    for n in args.people:
        people, framework, paths, scores, plans = organisation(n)
        start = time.perf_counter()
        if args.prior == "mixture":
            result = assess_readiness(scores, people, framework, paths, plans=plans,
                                      variance_components=VARIANCES)
        else:
            result = assess_readiness(scores, people, framework, paths, plans=plans,
                                      skill_error_corr=0.2, skill_prior="normal")
        seconds = time.perf_counter() - start
        print(f"{n:>8} {len(result.readiness):>8} {seconds:>8.2f}")


if __name__ == "__main__":
    main()
