"""Impact on calibrated scores of a multi-item, two-wave organisation (issue #22): with the
item-aware between-wave error correlation (workbench.calibration.wave_covariance, "With
items"), the per-activity 95% intervals cover the generator's true training effects.

Organisations: 6 competencies x 3 items (two reverse-keyed), strong lasting impressions (halo
SD 0.4, as tests/impact/test_calibrated_coverage.py), calibrated jointly at item level. CI
profile: one organisation of 300 people (about 20 effects, about 40 s; the band is
2.5 binomial SE wide: coverage at least 0.83). Nightly (HYPOTHESIS_PROFILE=nightly): five
organisations of 1,000 people, measured in docs/impact.md ("With items").
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from tests.fuzzing import PROFILE
from tests.impact.activity_coverage import activity_coverage
from workbench.calibration import calibrate_ratings
from workbench.synth import generate_organisation

RUNS = ([(1000, seed) for seed in range(1, 6)] if PROFILE == "nightly" else [(300, 1)])


def _one(n_people, seed):
    org = generate_organisation(n_people, seed=seed, sd_halo=0.4, n_skills=6,
                                items_per_skill=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cal = calibrate_ratings(org.ratings, waves="joint")
        scores = cal.to_scores()
    assert cal.model.variances["rater:ratee:skill:wave"] > 0
    return activity_coverage(scores, org)


@pytest.mark.slow
def test_item_level_impact_intervals_cover_with_the_computed_correlation():
    table = pd.concat([_one(n, seed) for n, seed in RUNS])
    by = table.groupby("how")
    n = int(by.size()["computed"])
    assert n >= 15
    band = 2.5 * np.sqrt(0.95 * 0.05 / n)
    coverage = by["covered"].mean()
    assert abs(coverage["computed"] - 0.95) <= band, coverage
    z = by["z"].mean()
    # the shared error biases the effects upward when ignored; the correlation takes it off
    assert z["computed"] < z["ignored"], z
