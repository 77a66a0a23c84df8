"""The between-wave error covariance with items (issue #22): the rater's view of the ratee's
competency (``rater:ratee:skill:wave``, shared by its items) and the items' fixed effects.

Truth: a brute force with each person-wave's dense rating covariance written from the fitted
variances (``V = sa J + sb SS' + sh RR' + sv (R*S)(R*S)' + se2 I``), not from the batched
Woodbury solve the module uses."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from workbench.calibration import calibrate_ratings
from workbench.calibration.wave_covariance import lasting_impression, wave_error_correlation
from workbench.synth import generate_organisation


@pytest.fixture(scope="module")
def cal():
    org = generate_organisation(50, seed=14, n_skills=6, items_per_skill=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return calibrate_ratings(org.ratings, waves="joint")


def _brute_force(cal):
    model = cal.model
    var = model.variances
    sa, sb = var["ratee:wave"], var["ratee:skill:wave"]
    sh, sv, se2 = var["rater:ratee:wave"], var["rater:ratee:skill:wave"], var["residual"]
    lasting = float(lasting_impression(cal)["estimate"].iloc[0])
    pev = model.blups["rater"]["se"] ** 2
    pev.index = pev.index.astype(str)
    weights = {}
    for (person, wave), d in cal.ratings.groupby(["ratee", "wave"]):
        skill, rater = d["skill"].to_numpy(), d["rater"].to_numpy()
        same_skill = skill[:, None] == skill[None, :]
        same_rater = rater[:, None] == rater[None, :]
        V = (sa + sb * same_skill + sh * same_rater + sv * (same_rater & same_skill)
             + se2 * np.eye(len(d)))
        for s in np.unique(skill):
            k = np.linalg.solve(V, sa + sb * (skill == s))
            g = pd.Series(k, index=rater).groupby(level=0).sum()
            view = pd.Series(k).groupby([rater, skill]).sum()
            noise = float((g**2 * (sh + pev.reindex(g.index))).sum() + sv * (view**2).sum()
                          + se2 * k @ k)
            weights[person, wave, s] = (g, noise)
    rows = []
    for (person, wave, s), (g2, noise2) in weights.items():
        if wave != 2 or (person, 1, s) not in weights:
            continue
        g1, noise1 = weights[person, 1, s]
        shared = g1.index.intersection(g2.index)
        cov = float((g1[shared] * g2[shared] * (lasting + pev.reindex(shared))).sum())
        rows.append({"person": person, "skill": s, "covariance": cov, "variance": noise2,
                     "previous_variance": noise1})
    return pd.DataFrame(rows)


def test_item_noise_covariance_equals_a_brute_force_computation(cal):
    assert cal.model.variances["rater:ratee:skill:wave"] > 0.01
    fast = wave_error_correlation(cal)
    slow = _brute_force(cal)
    both = fast.merge(slow, on=["person", "skill"], suffixes=("", "_brute"))
    assert len(both) == len(fast) == len(slow) > 200
    for column in ("covariance", "variance", "previous_variance"):
        np.testing.assert_allclose(both[column], both[f"{column}_brute"], rtol=1e-9,
                                   atol=1e-12)
    assert both["error_corr"].between(0, 1).all()
