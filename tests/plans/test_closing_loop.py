"""Plans close the loop with impact: predicted gains against a simulated second wave.

Known truth: the generator's per-activity effects (``org.truth["training_effects"]``). The
impact stage measures them from two waves; plans built with that measurement predict each
focus skill's gain; a simulated next wave realises the true effects of the planned activities
plus the generator's change noise (SD 0.10). The realised average must lie within the stated
uncertainty of the predicted average (95% interval), in at least the share of seeds the
binomial error allows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom, norm

from workbench.impact.panel import prepare_panel
from workbench.impact.pooling import activity_effects
from workbench.plans import build_plans
from workbench.synth import truth_scores
from workbench.synth.generator import generate_organisation

START = "2027-01-04"
CHANGE_SD = 0.10  # the generator's change noise between waves
SEEDS = range(10)


def _realised(plans, org, rng):
    truth = org.truth["training_effects"].set_index(["activity", "skill"])["effect"]
    effect = [truth[(a, s)] for a, s in zip(plans["activity"], plans["skill"], strict=True)]
    per_skill = plans.assign(effect=effect).groupby(["person", "skill"])["effect"].sum()
    return per_skill + rng.normal(0, CHANGE_SD, len(per_skill))


def _one_seed(seed):
    org = generate_organisation(300, seed=seed, n_waves=2)
    scores = truth_scores(org, se=0.15, random_state=seed)
    panel = prepare_panel(scores, org.enrollments, people=org.people, catalog=org.catalog,
                          dates=org.ratings)
    effects = activity_effects(panel, org.catalog)
    measured = build_plans(scores, org.people, org.framework, org.catalog, impact=effects,
                           start=START, config={"mentors": False})
    default = build_plans(scores, org.people, org.framework, org.catalog, start=START,
                          config={"mentors": False})
    rng = np.random.default_rng(1000 + seed)
    return org, measured, default, _realised(measured.plans, org, rng), \
        _realised(default.plans, org, rng)


@pytest.fixture(scope="module")
def runs():
    return [_one_seed(seed) for seed in SEEDS]


def test_predicted_average_gain_matches_the_simulated_second_wave(runs):
    z = norm.ppf(0.975)
    misses = 0
    for _org, measured, _default, realised, _ in runs:
        pred = measured.predicted_gain().iloc[0]
        assert pred["n"] == len(realised)
        se = np.sqrt(pred["se"] ** 2 + CHANGE_SD ** 2 / len(realised))
        misses += abs(pred["estimate"] - realised.mean()) > z * se
        # the measured effects are the source of (nearly) every gain
        share = (measured.plans["gain_source"] == "measured").mean()
        assert share > 0.9
    # a 95% interval misses in 5% of seeds; allow what Binomial(10, 0.05) gives with 99%
    assert misses <= binom.ppf(0.99, len(SEEDS), 0.05)


def test_no_target_exceeds_current_level_plus_upper_predicted_gain(runs):
    for _org, measured, default, _, _ in runs:
        for ps in (measured, default):
            f = ps.focus
            assert (f["target_level"] <= f["score"] + f["gain_ci_high"] + 1e-9).all()
            assert (f["target_level"] <= f["destination_level"] + 1e-9).all()
            assert (f["gain_ci_low"] <= f["expected_gain"]).all()


def test_person_predictions_track_realised_gains(runs):
    # per focus skill, the predicted gain explains the realised gain (not just on average)
    for _org, measured, _default, realised, _ in runs:
        f = measured.focus.set_index(["person", "skill"]).reindex(realised.index)
        r = np.corrcoef(f["expected_gain"], realised)[0, 1]
        assert r > 0.25  # measured 0.43 at the lowest seed


def test_default_gain_is_conservative(runs):
    # without evidence the plans promise less than the activities deliver in this organisation
    for _org, _measured, default, _, realised_default in runs:
        pred = default.predicted_gain().iloc[0]
        assert set(default.plans["gain_source"]) == {"default"}
        assert pred["estimate"] < realised_default.mean()


def test_measured_plans_choose_activities_with_larger_gains(runs):
    # maximising the measured gain picks activities whose true effect is larger
    for org, measured, default, _, _ in runs:
        truth = org.truth["training_effects"].set_index(["activity", "skill"])["effect"]

        chosen = [np.mean([truth[k] for k in zip(ps.plans["activity"], ps.plans["skill"],
                                                 strict=True)]) for ps in (measured, default)]
        assert chosen[0] > chosen[1]


def test_impact_file_gives_the_same_plans(runs, tmp_path):
    org, measured, _default, _, _ = runs[0]
    scores = truth_scores(org, se=0.15, random_state=0)
    panel = prepare_panel(scores, org.enrollments, people=org.people, catalog=org.catalog,
                          dates=org.ratings)
    effects = activity_effects(panel, org.catalog)
    path = tmp_path / "effects_by_activity.csv"
    effects[["activity", "skill", "estimate", "se", "ci_low", "ci_high", "n"]].to_csv(
        path, index=False)
    again = build_plans(scores, org.people, org.framework, org.catalog, impact=str(path),
                        start=START, config={"mentors": False})
    pd.testing.assert_frame_equal(again.plans, measured.plans)
    page = again.page(again.plans["person"].iloc[0])
    assert "measured effects of these activities in this organisation" in page
