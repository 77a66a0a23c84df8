"""Designs at the front door: the largest identifiable model is fitted and the rest is named.

InstEval cast as ratings (one item per student-lecturer pair, one skill, one source) through
the CLI with no --terms must equal lme4's ``score ~ 1 + (1|ratee) + (1|rater)`` (fixture made
by benchmarks/R/insteval_ratings_fixture.R, lme4 1.1-31) to 1e-4.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.calibration.calibrate import CalibrationWarning, calibrate_ratings
from workbench.calibration.mixed.identifiability import identifiable_terms
from workbench.cli import main
from workbench.errors import ModelError
from workbench.synth.generator import generate_organisation

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "lme4"


def _quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return func(*args, **kwargs)


def _single_item(n=60, seed=3):
    """Each rater rates each ratee once on one item (a pulse survey)."""
    org = generate_organisation(n, seed=seed, n_waves=1)
    r = org.ratings
    first = r["skill"].iloc[0]
    return r[r["skill"] == first].drop_duplicates(["ratee", "rater"]).reset_index(drop=True)


def test_single_item_one_rating_per_pair_drops_halo_and_skill_terms():
    ratings = _single_item()
    with pytest.warns(CalibrationWarning, match="rater:ratee not fitted"):
        cal = calibrate_ratings(ratings)
    assert list(cal.model.theta.index) == ["ratee", "rater"]
    assert set(cal.dropped["term"]) == {"ratee:skill", "rater:ratee"}
    reason = cal.dropped.set_index("term")["reason"]
    assert "single rating" in reason["rater:ratee"]
    assert "groups the ratings exactly as 'ratee'" in reason["ratee:skill"]
    assert cal.settings["terms_fitted"] == ["ratee", "rater"]
    assert "Terms not fitted" in cal.summary()
    # The same fit as asking for the two terms directly.
    direct = _quiet(calibrate_ratings, ratings, terms=("ratee", "rater"), terms_policy="exact")
    np.testing.assert_allclose(cal.scores["score"], direct.scores["score"], rtol=1e-10)
    # Forcing the unidentifiable terms fails with the engine's reason.
    with pytest.raises(ModelError, match="cannot be separated"):
        _quiet(calibrate_ratings, ratings, terms_policy="exact")


def test_one_skill_with_two_items_keeps_halo():
    org = generate_organisation(60, seed=4, n_waves=1)
    r = org.ratings
    two = r[r["skill"].isin(r["skill"].unique()[:2])].assign(skill="Leadership")
    kept, dropped = identifiable_terms(two, ("ratee", "ratee:skill", "rater", "rater:ratee"))
    assert kept == ("ratee", "rater", "rater:ratee")
    assert dropped["term"].tolist() == ["ratee:skill"]
    cal = _quiet(calibrate_ratings, two)
    assert cal.scores["skill"].unique().tolist() == ["Leadership"]
    assert np.isfinite(cal.scores["se"]).all()


def test_a_bridge_of_one_rater_connects_two_teams():
    rng = np.random.default_rng(5)
    rows = []
    for people in ([f"A{i}" for i in range(8)], [f"B{i}" for i in range(8)]):
        for ratee in people:
            for rater in people:
                if rater != ratee:
                    for skill in ("S1", "S2"):
                        rows.append((ratee, rater, "peer", skill, rng.integers(1, 6)))
    rows += [("B0", "A0", "peer", s, 3) for s in ("S1", "S2")]  # the only link
    ratings = pd.DataFrame(rows, columns=["ratee", "rater", "source", "skill", "score"])
    cal = _quiet(calibrate_ratings, ratings)
    assert len(cal.connectivity) == 1
    assert cal.scores["person"].nunique() == 16
    assert np.isfinite(cal.scores["se"]).all()


def test_a_ratee_rated_only_by_themselves_is_flagged():
    org = generate_organisation(60, seed=6, n_waves=1)
    r = org.ratings
    lonely = r["ratee"].iloc[0]
    r = r[(r["ratee"] != lonely) | (r["source"] == "self")]
    with pytest.warns(CalibrationWarning, match="own ratings only"):
        cal = calibrate_ratings(r)
    flagged = cal.scores[cal.scores["self_only"]]
    assert set(flagged["person"]) == {lonely}
    assert "own ratings only" in cal.summary()


def test_too_few_ratings_per_skill_warn_and_flag_wide_intervals():
    rng = np.random.default_rng(7)
    n = 600
    ratings = pd.DataFrame({
        "ratee": rng.integers(0, 40, n).astype(str),
        "rater": rng.integers(0, 40, n).astype(str),
        "source": "peer",
        "skill": [f"S{i}" for i in rng.integers(0, 200, n)],
        "score": rng.integers(1, 6, n),
    })
    with pytest.warns(CalibrationWarning, match="skills have fewer than 5 ratings"):
        cal = calibrate_ratings(ratings, scale=(1, 5))
    width = cal.scores["ci_high"] - cal.scores["ci_low"]
    assert (cal.scores["wide_interval"] == (width > 4)).all()


def test_a_five_person_organisation_is_fitted_or_refused_clearly():
    people = [f"P{i}" for i in range(5)]
    rng = np.random.default_rng(8)
    rows = [(e, r, "self" if e == r else "peer", s, rng.integers(1, 6))
            for e in people for r in people for s in ("S1", "S2", "S3")]
    ratings = pd.DataFrame(rows, columns=["ratee", "rater", "source", "skill", "score"])
    cal = _quiet(calibrate_ratings, ratings)
    assert cal.scores.shape[0] == 15
    assert np.isfinite(cal.scores["se"]).all()
    one = ratings[ratings["ratee"] == "P0"].assign(ratee="P0")
    with pytest.raises(ModelError, match="only one ratee"):
        calibrate_ratings(one)


def test_nothing_identifiable_is_refused_with_what_to_change():
    ratings = pd.DataFrame({"ratee": ["a", "b", "c"], "rater": ["x", "y", "z"],
                            "source": "peer", "skill": "S", "score": [1, 2, 3]})
    with pytest.raises(ModelError, match="rating"):
        calibrate_ratings(ratings)


def test_insteval_through_the_cli_equals_lme4(tmp_path, capsys):
    data = pd.read_csv(FIXTURE / "insteval.csv.gz", dtype=str)
    ratings = pd.DataFrame({"ratee": "L" + data["d"], "rater": "S" + data["s"],
                            "source": "other", "skill": "Teaching",
                            "score": data["y"].astype(float)})
    path = tmp_path / "ratings.csv"
    ratings.to_csv(path, index=False)
    assert main(["calibrate", str(path), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "rater:ratee not fitted" in err and "ratee:skill not fitted" in err
    ref = FIXTURE / "insteval_ratings"
    meta = json.loads((ref / "meta.json").read_text())
    ours = pd.read_csv(tmp_path / "out" / "variance_components.csv").set_index("component")
    theirs = pd.read_csv(ref / "varcomp.csv").set_index("term")["variance"]
    np.testing.assert_allclose(ours.loc[theirs.index, "variance"], theirs, rtol=1e-4)
    settings = json.loads((tmp_path / "out" / "settings.json").read_text())
    assert settings["terms_fitted"] == ["ratee", "rater"]
    dropped = pd.read_csv(tmp_path / "out" / "dropped_terms.csv")
    assert set(dropped["term"]) == {"ratee:skill", "rater:ratee"}
    # Scores: intercept + ratee BLUP, against lme4's fixed effect and BLUPs.
    fixed = pd.read_csv(ref / "fixed.csv").set_index("name")
    blups = pd.read_csv(ref / "blups_ratee.csv.gz", dtype={"level": str}).set_index("level")
    scores = pd.read_csv(tmp_path / "out" / "calibrated_scores.csv", dtype={"person": str})
    scores = scores.set_index(scores["person"].str[1:])
    expected = fixed.loc["(Intercept)", "estimate"] + blups["estimate"]
    np.testing.assert_allclose(scores.loc[blups.index, "score"], expected, atol=1e-4)
    assert meta["n_obs"] == len(ratings)
