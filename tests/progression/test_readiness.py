"""Readiness probabilities against brute force and against the generator's true skills.

Truth: ``workbench.synth`` organisations with known true scores. The requirements are set in
the test (each role asks for four or five skills at 2.5 to 3.25) so that readiness spans the
whole range; the organisation's own framework asks for 3.5-4.5 in every skill, where almost
nobody is ready and a calibration check would only see p near 0.

Claims:

* the closed form with the shared error equals Monte Carlo integration (brute force);
* over 8 seeds, in each probability bin (with at least 40 cases) the share of people truly
  meeting every requirement lies within the 99.5% binomial interval of the bin's mean
  probability (plus 0.02 for the bin's spread of p), both with organisations whose truth
  follows the calibration model (``profile_scale=0``) and with the generator's skill profiles
  (a mixture the calibration model does not know: data not from the fitted model; the
  default ``skill_prior="mixture"`` learns the profiles, docs/progression.md);
* the Brier score beats the rule "every point estimate is above its requirement" (both kinds
  of organisation), and with the generator's profiles the mixture prior's Brier score beats
  the calibration model's normal prior (``skill_prior="normal"``, too confident there);
* bench intervals (95%) cover the true ready-now counts in at least 0.83 of the
  (organisation, role) pairs: the 1% binomial quantile of 0.95 over the 24 intervals;
* the error correlation between skills from the variance components is near the empirical
  correlation of the standardised errors.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binom

from workbench.calibration import calibrate_ratings
from workbench.progression import (
    assess_readiness,
    poisson_binomial_interval,
    readiness_probability,
    skill_error_correlation,
)
from workbench.synth import generate_organisation

PATHS = pd.DataFrame({"role": ["Specialist", "Senior Specialist", "Senior Specialist",
                               "Team Lead"],
                      "next_role": ["Senior Specialist", "Team Lead", "Manager", "Manager"]})
LEVELS = {"Specialist": 2.5, "Senior Specialist": 2.5, "Team Lead": 2.75, "Manager": 3.0}


def _framework(skills):
    skills = sorted(skills)
    rows = [(role, skill, level + 0.25 * (k % 2), 1.0 + (k % 3))
            for role, level in LEVELS.items()
            for k, skill in enumerate(skills[:4 if role != "Manager" else 5])]
    return pd.DataFrame(rows, columns=["role", "skill", "required_level", "weight"])


def _truly_ready(readiness, framework, truth):
    need = readiness[["person", "role"]].merge(framework, on="role").merge(
        truth[["person", "skill", "true_score"]], on=["person", "skill"])
    met = (need["true_score"] >= need["required_level"]).groupby(
        [need["person"], need["role"]]).all().rename("truly").reset_index()
    return readiness.merge(met, on=["person", "role"])


def _organisations(seeds, skill_prior="mixture", **options):
    out = []
    for seed in seeds:
        org = generate_organisation(300, seed=seed, n_waves=1, **options)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            cal = calibrate_ratings(org.ratings)
        fw = _framework(org.framework["skill"].unique())
        res = assess_readiness(cal, org.people, fw, PATHS, skill_prior=skill_prior)
        out.append((org, cal, fw, res))
    return out


@pytest.fixture(scope="module")
def model_orgs():
    return _organisations(range(8), profile_scale=0.0)


@pytest.fixture(scope="module")
def profile_orgs():
    return _organisations(range(100, 108))


def test_probability_equals_monte_carlo():
    rng = np.random.default_rng(5)
    n, k = 6, 4
    m = rng.normal(3, 0.4, (n, k))
    s = rng.uniform(0.1, 0.4, (n, k))
    r = rng.choice([2.5, 3.0, 3.5], (n, k))
    r[0, 3] = np.nan  # a skill the role does not need
    rho = rng.uniform(0, 0.6, n)
    g, h = rng.uniform(0, 0.3, (n, k)), rng.uniform(0, 0.2, (n, k))
    draws = 400_000
    z = rng.standard_normal((draws, 1))
    for i in range(n):
        u = rng.standard_normal((draws, k))
        gain = g[i] + h[i] * rng.standard_normal((draws, k))
        true = m[i] + s[i] * (np.sqrt(rho[i]) * z + np.sqrt(1 - rho[i]) * u)
        ok = np.where(np.isnan(r[i]), True, true >= r[i]).all(axis=1).mean()
        ok_h = np.where(np.isnan(r[i]), True, true + gain >= r[i]).all(axis=1).mean()
        p = readiness_probability(m[i:i + 1], s[i:i + 1], r[i:i + 1], rho=rho[i])[0]
        ph = readiness_probability(m[i:i + 1], s[i:i + 1], r[i:i + 1], rho=rho[i],
                                   gain=g[i:i + 1], gain_se=h[i:i + 1])[0]
        assert abs(p - ok) < 0.004, (i, p, ok)
        assert abs(ph - ok_h) < 0.004, (i, ph, ok_h)


def test_probability_is_nan_without_a_score():
    p = readiness_probability(np.array([[3.0, np.nan]]), np.array([[0.2, np.nan]]),
                              np.array([[2.5, 2.5]]))
    assert np.isnan(p[0])


def test_poisson_binomial_interval_equals_enumeration():
    p = np.array([0.1, 0.5, 0.7, 0.9, 0.3])
    outcomes = np.array(np.meshgrid(*[[0, 1]] * len(p))).reshape(len(p), -1).T
    probs = np.prod(np.where(outcomes == 1, p, 1 - p), axis=1)
    pmf = np.bincount(outcomes.sum(axis=1), weights=probs)
    cdf = np.cumsum(pmf)
    low = int(np.argmax(cdf > 0.025))
    high = int(np.argmax(cdf >= 0.975))
    assert poisson_binomial_interval(p) == (low, high)


@pytest.mark.parametrize("kind", ["model_orgs", "profile_orgs"])
def test_readiness_is_calibrated_over_seeds(kind, request):
    frames = [_truly_ready(res.readiness, fw, org.truth["true_scores"])
              for org, _, fw, res in request.getfixturevalue(kind)]
    data = pd.concat(frames, ignore_index=True)
    data["bin"] = pd.cut(data["p_ready"], [0, 0.05, 0.2, 0.4, 0.6, 0.8, 0.95, 1],
                         include_lowest=True)
    checked = 0
    for _, group in data.groupby("bin", observed=True):
        n = len(group)
        if n < 40:
            continue
        p = group["p_ready"].mean()
        low, high = binom.interval(0.995, n, p)
        observed = group["truly"].sum()
        assert low - 0.02 * n <= observed <= high + 0.02 * n, (p, observed / n, n)
        checked += 1
    assert checked >= 5


def test_brier_beats_the_point_rule(model_orgs, profile_orgs):
    for orgs in (model_orgs, profile_orgs):
        data = pd.concat([_truly_ready(res.readiness, fw, org.truth["true_scores"])
                          for org, _, fw, res in orgs], ignore_index=True)
        truly = data["truly"].astype(float)
        brier = ((data["p_ready"] - truly) ** 2).mean()
        point = ((data["point_ready"].astype(float) - truly) ** 2).mean()
        assert brier < 0.8 * point, (brier, point)


def _brier(org, fw, readiness):
    data = _truly_ready(readiness, fw, org.truth["true_scores"])
    return ((data["p_ready"] - data["truly"].astype(float)) ** 2).sum(), len(data)


def test_mixture_prior_beats_the_normal_prior_with_profiles(profile_orgs):
    mixture = normal = count = 0.0
    for org, cal, fw, res in profile_orgs:
        plain = assess_readiness(cal, org.people, fw, PATHS, skill_prior="normal")
        assert "mixture" in res.settings["skill_prior"]
        assert plain.settings["skill_prior"].startswith("normal")
        (m, n), (b, _) = _brier(org, fw, res.readiness), _brier(org, fw, plain.readiness)
        mixture, normal, count = mixture + m, normal + b, count + n
    assert mixture / count < 0.95 * normal / count, (mixture / count, normal / count)


def test_bench_intervals_cover_true_counts(model_orgs):
    covered = []
    for org, _, fw, res in model_orgs:
        truth = _truly_ready(res.readiness, fw, org.truth["true_scores"])
        counts = truth.groupby("role")["truly"].sum()
        bench = res.bench[res.bench["measure"] == "ready_now"].set_index("role")
        for role, count in counts.items():
            covered.append(bench.at[role, "ci_low"] <= count <= bench.at[role, "ci_high"])
    n = len(covered)
    assert n == 24
    assert np.mean(covered) >= binom.ppf(0.01, n, 0.95) / n, np.mean(covered)


def test_skill_error_correlation_near_empirical(model_orgs):
    for org, cal, _, _ in model_orgs[:4]:
        scores = cal.scores.merge(org.truth["true_scores"], on=["person", "skill"])
        z = ((scores["score"] - scores["true_score"]) / scores["se"]).to_numpy()
        wide = scores.assign(z=z).pivot(index="person", columns="skill", values="z")
        corr = wide.corr().to_numpy()
        empirical = corr[np.triu_indices(len(corr), 1)].mean()
        model = skill_error_correlation(cal)["skill_error_corr"].mean()
        assert abs(model - empirical) < 0.08, (model, empirical)


def test_error_correlation_from_the_saved_files_equals_the_calibration(model_orgs, tmp_path):
    _, cal, _, _ = model_orgs[0]
    folder = cal.save(tmp_path / "cal")
    direct = skill_error_correlation(cal).set_index("person")["skill_error_corr"]
    saved = skill_error_correlation(scores=folder / "calibrated_scores.csv",
                                    variance_components=folder / "variance_components.csv")
    saved = saved.set_index("person")["skill_error_corr"]
    pd.testing.assert_series_equal(direct, saved.reindex(direct.index), atol=1e-9)
