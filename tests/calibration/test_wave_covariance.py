"""The between-wave error covariance of calibrated scores (workbench.calibration.wave_covariance).

Claims (docs/impact.md, "The between-wave error correlation"):

* the rater weights and the noise covariance equal a brute-force computation with the dense
  covariance matrix of each person's ratings (1e-9);
* the lasting part of the halo is recovered on synthetic organisations of 300 people with
  continuous ratings: the persistent variance (leniency + lasting impression) within 12% of
  the generator's 0.35^2 + 0.25^2 = 0.185 (clipping to the 1-5 scale attenuates it by about
  5%; the estimate's SE is about 0.007, so 12% is more than 3 SE), a lasting share of at least
  0.7 when the halo lasts (truth 1), and a lasting part within 3 SE of 0 when every wave draws
  a fresh halo (truth 0).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from workbench.calibration import calibrate_ratings
from workbench.calibration.wave_covariance import lasting_impression, wave_error_correlation
from workbench.errors import ConfigError
from workbench.synth import generate_organisation
from workbench.tables.scores import as_scores


def _calibrate(ratings):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return calibrate_ratings(ratings, waves="joint")


@pytest.fixture(scope="module")
def small():
    org = generate_organisation(60, seed=5)
    return org, _calibrate(org.ratings)


def _brute_force(cal):
    """Per person, skill: the noise covariance between waves 1 and 2 and the noise variances,
    from the dense covariance matrix of the person's ratings in each wave."""
    model = cal.model
    var = model.variances
    sa, sb = var["ratee:wave"], var["ratee:skill:wave"]
    sh, se2 = var["rater:ratee:wave"], var["residual"]
    lasting = float(lasting_impression(cal)["estimate"].iloc[0])
    pev = model.blups["rater"]["se"] ** 2
    pev.index = pev.index.astype(str)
    skills = sorted(cal.ratings["skill"].unique())
    weights = {}
    for (person, wave), d in cal.ratings.groupby(["ratee", "wave"]):
        same_skill = (d["skill"].to_numpy()[:, None] == d["skill"].to_numpy()[None, :])
        same_rater = (d["rater"].to_numpy()[:, None] == d["rater"].to_numpy()[None, :])
        V = sa + sb * same_skill + sh * same_rater + se2 * np.eye(len(d))
        for skill in skills:
            k = np.linalg.solve(V, sa + sb * (d["skill"].to_numpy() == skill))
            g = pd.Series(k, index=d["rater"].to_numpy()).groupby(level=0).sum()
            noise = float((g**2 * (sh + pev.reindex(g.index))).sum() + se2 * k @ k)
            weights[person, wave, skill] = (g, noise)
    rows = []
    for (person, wave, skill), (g2, noise2) in weights.items():
        if wave != 2 or (person, 1, skill) not in weights:
            continue
        g1, noise1 = weights[person, 1, skill]
        shared = g1.index.intersection(g2.index)
        cov = float((g1[shared] * g2[shared] * (lasting + pev.reindex(shared))).sum())
        rows.append({"person": person, "skill": skill, "covariance": cov, "variance": noise2,
                     "previous_variance": noise1})
    return pd.DataFrame(rows)


def test_noise_covariance_equals_a_brute_force_computation(small):
    _, cal = small
    fast = wave_error_correlation(cal)
    slow = _brute_force(cal)
    both = fast.merge(slow, on=["person", "skill"], suffixes=("", "_brute"))
    assert len(both) == len(fast) == len(slow) > 400
    for column in ("covariance", "variance", "previous_variance"):
        np.testing.assert_allclose(both[column], both[f"{column}_brute"], rtol=1e-9, atol=1e-12)
    assert (both["wave"] == 2).all() and (both["previous_wave"] == 1).all()
    assert both["error_corr"].between(0, 1).all()


def test_scores_carry_the_error_correlation(small, tmp_path):
    _, cal = small
    scores = as_scores(cal)
    first = scores[scores["wave"] == 1]
    later = scores[scores["wave"] == 2]
    assert first["error_corr"].isna().all()
    assert later["error_corr"].notna().all() and later["error_corr"].between(0, 1).all()
    cal.save(tmp_path / "cal")
    again = as_scores(tmp_path / "cal" / "calibrated_scores.csv")
    np.testing.assert_allclose(again["error_corr"], scores["error_corr"], rtol=1e-12)


def test_one_wave_has_no_between_wave_covariance():
    org = generate_organisation(40, seed=2, n_waves=1)
    cal = _calibrate(org.ratings)
    assert "error_corr" not in cal.to_scores().columns
    with pytest.raises(ConfigError, match="waves='joint'"):
        wave_error_correlation(cal)


def _fresh_halo_in_wave_two(org, seed):
    """The same ratings, but wave 2's halo drawn anew for every rater-ratee pair."""
    halo = org.truth["halo"]
    fresh = halo.assign(new=np.random.default_rng(seed).normal(0, 0.25, len(halo)))
    r = org.ratings.merge(fresh, on=["rater", "ratee"], how="left")
    two = r["wave"] == 2
    r.loc[two, "score"] = np.clip(r.loc[two, "score"] - r.loc[two, "halo"]
                                  + r.loc[two, "new"], 1, 5)
    return r[org.ratings.columns]


@pytest.mark.slow
def test_lasting_impressions_are_told_apart_from_occasion_halo():
    org = generate_organisation(300, seed=1, rounding=None)
    lasting = lasting_impression(_calibrate(org.ratings)).iloc[0]
    assert abs(lasting["persistent"] / 0.185 - 1) < 0.12, lasting
    assert lasting["share"] >= 0.7, lasting
    occasion = lasting_impression(_calibrate(_fresh_halo_in_wave_two(org, 1))).iloc[0]
    assert occasion["persistent"] - occasion["rater"] < 3 * occasion["se"], occasion
    assert occasion["estimate"] < 3 * occasion["se"], occasion
