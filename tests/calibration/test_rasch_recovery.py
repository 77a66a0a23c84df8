"""Recovery of known truth: ratings simulated from the many-facet Rasch model itself.

The simulator below is written out with numpy (no package code): a 360-like design in which
each of 400 ratees is rated in 8 skills by 6 of 200 raters, each pair under one of three
sources, on a 5-point scale with a ceiling (abilities centred at +1.3 logits, so over a quarter of the
ratings are 5s). Claims (docs/rasch.md):

* correlation of estimated with true abilities and severities >= 0.95, thresholds within
  0.2 logits, skills and sources within 0.1 logits; median infit and outfit of raters and
  ratees within 0.9 to 1.1 on fitting data, and at most 5 % of fitting raters outside the
  0.5-1.5 band and at most 5 % listed by ``misfit()`` (5 seeds);
* a planted random responder (uniform categories) has outfit and infit > 1.5; a planted
  central-tendency rater (1s become 2s and 5s become 4s) has infit < 0.7, and the
  partial-credit model by rater shows they never use the extreme categories, with their two
  thresholds more than 3 logits apart (3 seeds).
"""

import numpy as np
import pandas as pd
import pytest

from workbench.calibration.rasch.calibrate import calibrate_rasch

SEEDS = [1, 2, 3, 4, 5]
TAU = np.array([-1.8, -0.7, 0.6, 1.9])
SOURCES = {"manager": 0.3, "peer": 0.0, "direct_report": -0.3}


def simulate(seed, n_ratees=400, n_raters=200, n_skills=8, per_ratee=6, plant=False):
    rng = np.random.default_rng(seed)
    theta = rng.normal(1.3, 1.0, n_ratees)
    delta = rng.normal(0, 0.4, n_skills)
    delta -= delta.mean()
    alpha = rng.normal(0, 0.6, n_raters)
    alpha -= alpha.mean()
    rows = []
    for i in range(n_ratees):
        for r in rng.choice(n_raters, per_ratee, replace=False):
            source = rng.choice(list(SOURCES))
            rows += [(i, s, r, source) for s in range(n_skills)]
    i, s, r, q = (np.array(c) for c in zip(*rows, strict=True))
    gamma = np.array([SOURCES[x] for x in q])
    eta = theta[i] - delta[s] - alpha[r] - gamma
    cum = np.r_[0.0, np.cumsum(TAU)]
    logits = eta[:, None] * np.arange(5) - cum
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    x = (P.cumsum(axis=1) > rng.random(len(eta))[:, None]).argmax(axis=1)
    if plant:
        random_rater, central_rater = 0, 1
        on = r == random_rater
        x[on] = rng.integers(0, 5, on.sum())
        on = r == central_rater
        # Only the two most extreme answers move one step in: 1 -> 2 and 5 -> 4.
        x[on] = 2 + np.sign(x[on] - 2) * (np.abs(x[on] - 2) >= 2)
    ratings = pd.DataFrame({"ratee": [f"P{k:03d}" for k in i], "rater": [f"R{k:03d}" for k in r],
                            "source": q, "skill": [f"S{k}" for k in s], "score": x + 1})
    truth = {"theta": pd.Series(theta, index=[f"P{k:03d}" for k in range(n_ratees)]),
             "delta": pd.Series(delta, index=[f"S{k}" for k in range(n_skills)]),
             "alpha": pd.Series(alpha, index=[f"R{k:03d}" for k in range(n_raters)])}
    return ratings, truth


def _measures(res, facet):
    m = res.measures[res.measures["facet"] == facet]
    return m.set_index("element")


@pytest.mark.parametrize("seed", SEEDS)
def test_recovers_truth_and_fits_fitting_data(seed):
    ratings, truth = simulate(seed)
    assert (ratings["score"] == 5).mean() > 0.25  # the ceiling is there
    res = calibrate_rasch(ratings, interactions=())
    theta = _measures(res, "ratee")["measure"]
    alpha = _measures(res, "rater")["measure"]
    delta = _measures(res, "skill")["measure"]
    assert np.corrcoef(theta, truth["theta"].reindex(theta.index))[0, 1] >= 0.95
    assert np.corrcoef(alpha, truth["alpha"].reindex(alpha.index))[0, 1] >= 0.95
    assert (delta - truth["delta"].reindex(delta.index)).abs().max() < 0.1
    assert np.abs(res.thresholds["threshold"].to_numpy() - TAU).max() < 0.2
    source = _measures(res, "source")["measure"]
    expected = pd.Series(SOURCES) - np.mean(list(SOURCES.values()))
    assert (source - expected.reindex(source.index)).abs().max() < 0.1
    # Fit statistics near 1 on data that fit.
    for facet in ("ratee", "rater"):
        m = _measures(res, facet)
        m = m[m["status"] == ""]
        for column in ("infit", "outfit"):
            assert 0.9 <= m[column].median() <= 1.1, (facet, column)
    raters = _measures(res, "rater")
    outside = ((raters["infit"] > 1.5) | (raters["infit"] < 0.5)).mean()
    assert outside <= 0.05
    assert (res.misfit()["facet"] == "rater").sum() <= 0.05 * len(raters)


@pytest.mark.parametrize("seed", SEEDS[:3])
def test_flags_planted_random_and_central_tendency_raters(seed):
    ratings, _ = simulate(seed, plant=True)
    res = calibrate_rasch(ratings, interactions=())
    raters = _measures(res, "rater")
    assert raters.loc["R000", "outfit"] > 1.5 and raters.loc["R000", "infit"] > 1.5
    assert raters.loc["R001", "infit"] < 0.7
    flagged = set(res.misfit().query("facet == 'rater'")["element"])
    assert {"R000", "R001"} <= flagged
    # Partial credit by rater: the central rater has no thresholds into 1 or 5, and the two
    # it has lie far apart (the middle category dominates).
    pcm = calibrate_rasch(ratings, thresholds="rater", interactions=())
    central = pcm.thresholds[pcm.thresholds["group"] == "R001"]
    assert set(central["category"]) == {3.0, 4.0}
    assert np.ptp(central["threshold"]) > 3.0
