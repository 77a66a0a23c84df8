"""Self-other agreement: Atwater & Yammarino groups, stated cut-offs, recovery of the truth."""

import numpy as np
import pandas as pd
import pytest

from workbench.calibration.calibrate import calibrate_ratings
from workbench.calibration.reliability.agreement import (
    GROUPS4,
    GROUPS6,
    AgreementResult,
    self_other_agreement,
)
from workbench.errors import ConfigError, InputError, WorkbenchError
from workbench.synth.generator import generate_organisation
from workbench.tables.scores import raw_scores

# ratee: (self, other, other_se, expected group6) with c = 0.5 and good from 3.0
CASES = {
    "A": (4.5, 3.5, 0.1, "over-estimator/good"),
    "B": (3.0, 2.0, 0.1, "over-estimator/poor"),
    "C": (3.2, 3.4, 0.1, "in agreement/good"),
    "D": (2.0, 2.3, 0.1, "in agreement/poor"),
    "E": (2.5, 3.5, 0.1, "under-estimator/good"),
    "F": (1.0, 2.5, 0.1, "under-estimator/poor"),
    "G": (3.5, 3.0, 0.1, "in agreement/good"),  # on both boundaries: |d| = c, other = cut
    "H": (4.0, 3.2, 0.5, "over-estimator/good"),  # agreement only when the SE is used
}


def _hand_built():
    ratings = pd.DataFrame({
        "ratee": list(CASES) + list(CASES),
        "rater": list(CASES) + [f"X{r}" for r in CASES],
        "source": ["self"] * len(CASES) + ["peer"] * len(CASES),
        "skill": "Coaching",
        "score": [v[0] for v in CASES.values()] + [3.0] * len(CASES),
    })
    scores = pd.DataFrame({
        "ratee": list(CASES), "skill": "Coaching",
        "score": [v[1] for v in CASES.values()], "se": [v[2] for v in CASES.values()],
    })
    return ratings, scores


def test_hand_built_cases_fall_in_their_groups():
    ratings, scores = _hand_built()
    result = self_other_agreement(scores, ratings, cutoff=0.5, good=3.0)
    assert isinstance(result, AgreementResult)
    table = result.table.set_index("ratee")
    for ratee, (own, other, _, group6) in CASES.items():
        assert table.loc[ratee, "self"] == own
        assert table.loc[ratee, "difference"] == pytest.approx(own - other)
        assert table.loc[ratee, "group6"] == group6, ratee
        four = group6 if group6.startswith("in agreement") else group6.split("/")[0]
        assert table.loc[ratee, "group4"] == four, ratee
    assert (table["cutoff"] == 0.5).all() and (table["good_cut"] == 3.0).all()
    assert list(table["group4"].cat.categories) == list(GROUPS4)
    assert list(table["group6"].cat.categories) == list(GROUPS6)
    counts = result.by_skill[(result.by_skill["skill"] == "all")
                             & (result.by_skill["grouping"] == "group4")].set_index("group")
    assert counts.loc["over-estimator", "n"] == 3
    assert counts["share"].sum() == pytest.approx(1.0)
    assert "c = 0.5 scale points" in result.summary()
    assert "good = others' score >= 3" in result.summary()
    # With the SE, H's difference of 0.8 is within 1.96 * 0.5 of the others' score.
    with_se = self_other_agreement(scores, ratings, cutoff=0.5, good=3.0, use_se=True)
    row = with_se.table.set_index("ratee").loc["H"]
    assert row["band"] == pytest.approx(1.959964 * 0.5, rel=1e-5)
    assert row["group6"] == "in agreement/good"
    assert with_se.table.set_index("ratee").loc["A", "group4"] == "over-estimator"


def test_default_cutoffs_are_half_the_sd_of_the_difference_and_the_mean():
    ratings, scores = _hand_built()
    result = self_other_agreement(scores, ratings)
    diff = np.array([v[0] - v[1] for v in CASES.values()])
    others = np.array([v[1] for v in CASES.values()])
    assert result.cutoffs["cutoff"].iloc[0] == pytest.approx(0.5 * diff.std(ddof=1))
    assert result.cutoffs["good_cut"].iloc[0] == pytest.approx(others.mean())
    median = self_other_agreement(scores, ratings, good="median")
    assert median.table["good_cut"].iloc[0] == pytest.approx(np.median(others))
    assert result.table.attrs["cutoff"] == "half_sd"
    assert "half the SD of self - other" in result.summary()


def _truth_scores(org):
    truth = org.truth["true_scores"].rename(columns={"person": "ratee", "true_score": "score"})
    return truth[["ratee", "skill", "wave", "score"]]


def test_over_estimators_outnumber_under_estimators_on_synthetic_data():
    org = generate_organisation(300, seed=11)
    shares = self_other_agreement(org.ratings).shares
    assert (shares["over-estimator"] > 2 * shares["under-estimator"]).all()
    shares_truth = self_other_agreement(_truth_scores(org), org.ratings).shares
    assert (shares_truth["over-estimator"] > 2 * shares_truth["under-estimator"]).all()


def test_calibrated_others_classify_closer_to_the_truth_than_raw_means():
    org = generate_organisation(300, seed=12, n_waves=1)
    options = {"cutoff": 0.5, "good": 3.0}  # the same fixed cut-offs for every view
    truth = self_other_agreement(_truth_scores(org), org.ratings, **options).table
    raw = self_other_agreement(org.ratings, **options).table
    without_self = calibrate_ratings(org.ratings[org.ratings["source"] != "self"])
    views = {
        # seeds 12-14: +0.024 to +0.044 over raw means (group4 and group6)
        "without_self": (self_other_agreement(without_self, org.ratings, **options), 0.015),
        # seeds 12-14: +0.042 to +0.061; the self rating informs the ratee's level too
        "with_self": (self_other_agreement(calibrate_ratings(org.ratings), **options), 0.03),
    }
    keys = ["ratee", "skill", "wave"]
    for name, (result, margin) in views.items():
        assert result.settings["other"] == "calibrated score"
        merged = truth.merge(raw, on=keys, suffixes=("", "_raw")).merge(
            result.table, on=keys, suffixes=("", "_cal"))
        for grouping in ("group4", "group6"):
            hit_raw = (merged[grouping] == merged[f"{grouping}_raw"]).mean()
            hit_cal = (merged[grouping] == merged[f"{grouping}_cal"]).mean()
            assert hit_cal > hit_raw + margin, (name, grouping, hit_cal, hit_raw)
        err_raw = (merged["other_raw"] - merged["other"]).abs().mean()
        err_cal = (merged["other_cal"] - merged["other"]).abs().mean()
        assert err_cal < err_raw, name
        # the calibrated others' score comes with its standard error
        assert merged["other_se_cal"].notna().all()


def test_raw_other_scores_are_the_means_of_non_self_ratings():
    ratings, _ = _hand_built()
    extra = pd.DataFrame({"ratee": ["A"], "rater": ["Y"], "source": ["manager"],
                          "skill": ["Coaching"], "score": [5.0]})
    raw = raw_scores(pd.concat([ratings, extra])).set_index("person")
    assert raw.loc["A", "score"] == 4.0 and raw.loc["A", "n_ratings"] == 2
    assert raw.loc["A", "se"] == pytest.approx(np.std([3.0, 5.0], ddof=1) / np.sqrt(2))
    assert np.isnan(raw.loc["B", "se"])


def test_clear_errors():
    ratings, scores = _hand_built()
    no_self = ratings[ratings["source"] != "self"]
    with pytest.raises(InputError, match="no self ratings"):
        self_other_agreement(scores, no_self)
    with pytest.raises(WorkbenchError, match="no self ratings"):
        self_other_agreement(no_self)
    with pytest.raises(InputError, match="ratings: needed with a scores frame"):
        self_other_agreement(scores)
    with pytest.raises(ConfigError, match="cutoff='sd'"):
        self_other_agreement(scores, ratings, cutoff="sd")
    with pytest.raises(ConfigError, match="cutoff=-0.5"):
        self_other_agreement(scores, ratings, cutoff=-0.5)
    with pytest.raises(ConfigError, match="good='mode'"):
        self_other_agreement(scores, ratings, good="mode")
    with pytest.raises(ConfigError, match="within='team'"):
        self_other_agreement(scores, ratings, within="team")
    two_waves = pd.concat([ratings.assign(wave=1), ratings.assign(wave=2)])
    with pytest.raises(InputError, match="no 'wave' column"):
        self_other_agreement(scores, two_waves)
    elsewhere = scores.assign(ratee=scores["ratee"] + "x")
    with pytest.raises(InputError, match="no ratee has both"):
        self_other_agreement(elsewhere, ratings)


def test_ratee_level_compares_the_means_over_skills():
    ratings, scores = _hand_built()
    second = scores.assign(skill="Planning", score=scores["score"] + 1.0, se=0.2)
    ratings2 = pd.concat([ratings, ratings.assign(skill="Planning")])
    result = self_other_agreement(pd.concat([scores, second]), ratings2, level="ratee",
                                  cutoff=0.5, good=3.0)
    table = result.table.set_index("ratee")
    assert set(table["skill"]) == {"all skills"}
    own, other, se, _ = CASES["A"]
    assert table.loc["A", "self"] == own
    assert table.loc["A", "other"] == pytest.approx(other + 0.5)
    assert table.loc["A", "other_se"] == pytest.approx(np.sqrt(se**2 + 0.2**2) / 2)
    assert table.loc["A", "group6"] == "in agreement/good"  # 4.5 - 4.0 is not above c
    assert table.loc["C", "group6"] == "under-estimator/good"  # 3.2 - 3.9 < -0.5
    assert result.shares.sum(axis=1).iloc[0] == pytest.approx(1.0)
    with pytest.raises(ConfigError, match="level='team'"):
        self_other_agreement(scores, ratings, level="team")
