"""Item-level calibration (#22 part 3): items nested in their competency join the model.

Truth comes from the generator (``items_per_skill``: item difficulties that sum to zero within a
skill, a rater-by-ratee-by-skill part shared by the items of one answer, an item residual, some
items not observed); the lme4 agreement is in test_lme4_reference.py.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from workbench.calibration.calibrate import calibrate_ratings
from workbench.errors import InputError
from workbench.synth.generator import generate_organisation

SEEDS = range(1, 5)


def _quiet(ratings, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return calibrate_ratings(ratings, **options)


def test_one_item_per_competency_gives_exactly_the_competency_level_results():
    ratings = generate_organisation(80, seed=4, n_waves=1).ratings
    plain = _quiet(ratings)
    one_item = _quiet(ratings.assign(item="Q " + ratings["skill"]))
    shared = [c for c in plain.scores.columns]
    pd.testing.assert_frame_equal(one_item.scores[shared], plain.scores, check_exact=True)
    assert (one_item.scores["n_items"] == 1).all()
    pd.testing.assert_frame_equal(one_item.variance_components, plain.variance_components,
                                  check_exact=True)
    pd.testing.assert_frame_equal(one_item.rater_effects, plain.rater_effects,
                                  check_exact=True)
    assert one_item.settings["terms_fitted"] == plain.settings["terms_fitted"]
    assert list(one_item.model.fe_params.index) == list(plain.model.fe_params.index)


def test_joint_waves_with_one_item_per_competency_are_unchanged():
    ratings = generate_organisation(60, seed=2, n_waves=2).ratings
    plain = _quiet(ratings, waves="joint")
    one_item = _quiet(ratings.assign(item=ratings["skill"]), waves="joint")
    pd.testing.assert_frame_equal(one_item.scores[plain.scores.columns], plain.scores,
                                  check_exact=True)


def _fit_pair(seed):
    org = generate_organisation(120, seed=seed, n_waves=1, items_per_skill=3, missing_rate=0.3)
    truth = org.truth["true_scores"].query("wave == 1")[["person", "skill", "true_score"]]
    items = _quiet(org.ratings)
    averaged = (org.ratings.groupby(["ratee", "rater", "source", "skill", "wave"],
                                    as_index=False)["score"].mean())
    first = _quiet(averaged)
    out = {}
    for name, cal in (("items", items), ("averaged", first)):
        m = cal.scores.merge(truth, on=["person", "skill"], validate="one_to_one")
        out[name] = m
    return items, out


@pytest.fixture(scope="module")
def item_fits():
    return [_fit_pair(seed) for seed in SEEDS]


def test_item_level_scores_stay_at_the_competency_level(item_fits):
    cal, merged = item_fits[0]
    assert cal.scores.columns[:6].tolist() == ["person", "skill", "score", "se", "ci_low",
                                               "ci_high"]
    assert not cal.scores.duplicated(["person", "skill"]).any()
    # n_items counts the distinct items answered for the person and competency (3 asked,
    # 30 % not observed per rating, several raters: mostly all 3)
    assert cal.scores["n_items"].between(1, 3).all()
    assert cal.scores["n_items"].median() == 3
    assert "rater:ratee:skill" in cal.settings["terms_fitted"]
    assert len(merged["items"]) == len(cal.scores)


def test_item_effects_recover_the_generated_difficulties():
    org = generate_organisation(120, seed=7, n_waves=1, items_per_skill=3)
    cal = _quiet(org.ratings)
    fe = cal.model.fe_params
    truth = org.truth["items"].set_index("item")["difficulty"]
    named = {name[len("item["):-1]: value for name, value in fe.items()
             if name.startswith("item[")}
    assert len(named) == 2 * org.ratings["skill"].nunique()  # k - 1 per competency
    estimated = pd.Series(named)
    # sum-to-zero within a skill: the coefficient is the item's difficulty (truth also sums to
    # zero); the SEs are about 0.012 here, so 0.05 is about 4 of them
    np.testing.assert_allclose(estimated, truth[estimated.index], atol=0.05)


def test_item_level_recovery_at_least_as_good_as_averaging_items_first(item_fits):
    # Items differ in difficulty and 30 % of answers are "not observed": averaging first lets
    # the items a rater happened to answer move the competency; the item term removes that.
    for _, merged in item_fits:
        rmse = {name: float(np.sqrt(((m["score"] - m["true_score"]) ** 2).mean()))
                for name, m in merged.items()}
        assert rmse["items"] <= rmse["averaged"], rmse


def test_item_level_intervals_cover_the_truth(item_fits):
    # 4 organisations x 120 people x 8 competencies = 3,840 scores: binomial SE 0.0035 if
    # independent (scores of one person share raters; measured spread across seeds about
    # 0.008); the band 0.935-0.965 is the project's claim.
    covered = n = 0
    for _, merged in item_fits:
        m = merged["items"]
        covered += int(((m["ci_low"] <= m["true_score"]) & (m["true_score"] <= m["ci_high"]))
                       .sum())
        n += len(m)
    assert 0.935 <= covered / n <= 0.965, covered / n


def test_items_bad_input_is_listed_at_once():
    ratings = generate_organisation(40, seed=3, n_waves=1, items_per_skill=2).ratings.copy()
    first_skill, other = sorted(ratings["skill"].unique())[:2]
    item = ratings.loc[ratings["skill"] == first_skill, "item"].iloc[0]
    ratings.loc[ratings.index[ratings["skill"] == other][:1], "item"] = item
    ratings.loc[ratings.index[5], "item"] = None
    with pytest.raises(InputError, match=rf"(?s)row 7.*item.*{item}.*more than one skill"):
        calibrate_ratings(ratings)


def test_reliability_report_takes_an_item_level_calibration():
    # the item-level model's rater:ratee:skill component is error of one rater's skill score,
    # like the halo: the D-study needs more raters with it than without it
    from workbench.calibration.reliability import d_study, reliability_report

    org = generate_organisation(60, seed=5, n_waves=1, items_per_skill=3)
    cal = _quiet(org.ratings)
    report = reliability_report(cal)
    assert len(str(report.summary())) > 0
    vc = pd.DataFrame({"component": ["ratee", "ratee:skill", "rater", "rater:ratee",
                                     "residual"], "variance": [0.1, 0.1, 0.1, 0.05, 0.2]})
    with_view = pd.concat([vc, pd.DataFrame({"component": ["rater:ratee:skill"],
                                             "variance": [0.15]})], ignore_index=True)
    need = [int(d_study(v, sources=["peer"], targets=[0.8]).required["n_relative"].iloc[0])
            for v in (vc, with_view)]
    # Spearman-Brown by hand: 0.8 * error / (0.2 * 0.2) with error 0.25 and 0.40
    assert need == [5, 8]
