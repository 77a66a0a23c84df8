"""The design check (workbench.calibration.design_check) against a brute force.

The brute force builds the design's indicator matrices from the ratings with pandas dummies,
writes the marginal covariance V = sum_k sigma_k^2 Z_k Z_k' + sigma^2 I out densely and computes
each simulated organisation's calibrated scores as GLS + BLUP, one organisation at a time, with
its own random numbers: the same simulation done naively.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import special

from workbench.calibration.calibrate import calibrate_ratings
from workbench.calibration.design_check import DesignCheck, check_design
from workbench.calibration.design_model import design_model
from workbench.errors import ConfigError
from workbench.synth.generator import generate_organisation


def _calibrate(org, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return calibrate_ratings(org.ratings, **options)


@pytest.fixture(scope="module")
def small():
    org = generate_organisation(30, seed=5, n_waves=1)
    return org, _calibrate(org, vc_uncertainty="none")


class BruteForce:
    """The fitted model written out densely, from the ratings alone."""

    def __init__(self, cal):
        data = cal.ratings.reset_index(drop=True)
        self.data = data
        var = cal.model.variances
        self.sigma2 = float(var["residual"])
        self.Z, self.var, self.levels = {}, {}, {}
        for term in cal.model.settings["random"]:
            key = data[term.split(":")].astype(str).agg("|".join, axis=1)
            dummies = pd.get_dummies(key, dtype=float)
            self.Z[term], self.var[term] = dummies.to_numpy(), float(var[term])
            self.levels[term] = list(dummies.columns)
        X = pd.get_dummies(data[["source", "skill"]], drop_first=True, dtype=float)
        self.X = np.column_stack([np.ones(len(data)), X.to_numpy()])
        self.xnames = ["Intercept"] + list(X.columns)
        # the fitted fixed effects in this column order
        beta = cal.model.fe_params
        self.beta = np.array([beta["Intercept"]] + [
            beta[f"{c.split('_', 1)[0]}[T.{c.split('_', 1)[1]}]"] for c in X.columns])
        V = self.sigma2 * np.eye(len(data))
        for term, Z in self.Z.items():
            V += self.var[term] * Z @ Z.T
        self.Vinv = np.linalg.inv(V)
        Vi, X = self.Vinv, self.X
        self.M = np.linalg.solve(X.T @ Vi @ X, X.T @ Vi)  # GLS: beta = M y
        self.P = Vi - Vi @ X @ self.M  # V^-1 (y - X beta) = P y
        cells = cal.scores[["person", "skill"]]
        others = sorted(s for s in data["source"].unique() if s != "self")
        self.F = np.zeros((len(cells), len(self.xnames)))
        self.F[:, 0] = 1
        for s in others:
            if f"source_{s}" in self.xnames:
                self.F[:, self.xnames.index(f"source_{s}")] += 1 / len(others)
        for i, sk in enumerate(cells["skill"]):
            if f"skill_{sk}" in self.xnames:
                self.F[i, self.xnames.index(f"skill_{sk}")] = 1
        self.cell_index = {
            "ratee": [self.levels["ratee"].index(p) for p in cells["person"].astype(str)],
            "ratee:skill": [self.levels["ratee:skill"].index(f"{p}|{s}") for p, s in
                            zip(cells["person"].astype(str), cells["skill"], strict=True)],
        }
        lo, hi = cal.settings["scale"]
        self.scale = (lo, hi)

    def scores(self, y):
        beta = self.M @ y
        r = self.P @ y
        out = self.F @ beta
        for term in ("ratee", "ratee:skill"):
            u = self.var[term] * self.Z[term].T @ r
            out = out + u[self.cell_index[term]]
        return out

    def simulate(self, rng, whole):
        # rounded: the fitted residual variance already holds the rounding (Sheppard's 1/12)
        resid = self.sigma2 - 1 / 12 if whole else self.sigma2
        y = self.X @ self.beta + rng.normal(0, np.sqrt(resid), len(self.data))
        truth = self.F @ self.beta
        for term, Z in self.Z.items():
            u = rng.normal(0, np.sqrt(self.var[term]), Z.shape[1])
            y = y + Z @ u
            if term in self.cell_index:
                truth = truth + u[self.cell_index[term]]
        if whole:
            y = np.clip(np.round(y), *self.scale)
        return y, truth


def test_fast_path_equals_dense_gls_blup(small):
    org, cal = small
    dm = design_model(cal, rounding="none")
    bf = BruteForce(cal)
    # the client's own ratings give the client's own scores
    observed = dm.estimate(dm.ratings["score"].to_numpy(dtype=float)[:, None])[:, 0]
    np.testing.assert_allclose(observed, cal.scores["score"], atol=1e-6)
    np.testing.assert_allclose(bf.scores(dm.ratings["score"].to_numpy(float)),
                               cal.scores["score"], atol=1e-6)
    # simulated organisations: the factored solve equals the dense brute force
    y, truth = dm.draw(np.random.default_rng(3), 4)
    fast = dm.estimate(y)
    for j in range(4):
        np.testing.assert_allclose(fast[:, j], bf.scores(y[:, j]), atol=1e-8)
    assert truth.shape == fast.shape


def test_simulated_ratings_have_the_fitted_covariance(small):
    # the draws' covariance equals V of the brute force (sum of Z_k Z_k' sigma_k^2 + sigma^2 I)
    org, cal = small
    dm = design_model(cal, rounding="none")
    bf = BruteForce(cal)
    y, _ = dm.draw(np.random.default_rng(11), 4000)
    V = np.linalg.inv(bf.Vinv)
    emp = np.cov(y)
    idx = np.random.default_rng(0).choice(len(y), 40, replace=False)
    sub = (V[np.ix_(idx, idx)] - emp[np.ix_(idx, idx)])
    # sampling SD of a covariance is about sqrt((V_ii V_jj + V_ij^2) / n)
    d = np.sqrt(np.diag(V)[idx])
    tol = 4.5 * np.sqrt((np.outer(d, d) ** 2 + V[np.ix_(idx, idx)] ** 2) / 4000)
    assert (np.abs(sub) < tol).mean() > 0.99
    np.testing.assert_allclose(y.mean(axis=1), bf.X @ bf.beta, atol=6 * d.max() / 60)


@pytest.mark.parametrize("whole", [False, True])
def test_coverage_within_monte_carlo_error_of_a_naive_simulation(small, whole):
    org, cal = small
    res = check_design(cal, n_sims=300, refits=0, people=org.people,
                       framework=org.framework, rounding="whole" if whole else "none",
                       random_state=7)
    bf = BruteForce(cal)
    rng = np.random.default_rng(12345)  # independent random numbers
    half = (cal.scores["ci_high"] - cal.scores["ci_low"]).to_numpy() / 2
    se = cal.scores["se"].to_numpy()
    gaps = res.settings["gap_probability"]
    req = (org.people[["person", "role"]]
           .merge(org.framework[["role", "skill", "required_level"]], on="role")
           .set_index(["person", "skill"])["required_level"])
    r = req.reindex(pd.MultiIndex.from_frame(cal.scores[["person", "skill"]])).to_numpy()
    cov, calls, right = [], [], []
    for _ in range(300):
        y, truth = bf.simulate(rng, whole)
        s = bf.scores(y)
        cov.append(np.mean(np.abs(s - truth) <= half))
        called = special.ndtr((r - s) / se) >= gaps
        calls.append(np.sum(called))
        right.append(np.sum(called & (truth < r)))
    naive, naive_se = np.mean(cov), np.std(cov, ddof=1) / np.sqrt(len(cov))
    row = res.table.set_index("quantity")
    fast, fast_se = row.loc["coverage", "estimate"], row.loc["coverage", "se"]
    assert abs(fast - naive) < 3.5 * np.hypot(fast_se, naive_se), (fast, naive)
    assert 0.5 * naive_se < fast_se < 2 * naive_se
    naive_right = np.sum(right) / np.sum(calls)
    got = row.loc["gap_calls_right"]
    assert abs(got["estimate"] - naive_right) < 4 * got["se"] * np.sqrt(2), (got, naive_right)
    if not whole:
        # known variance components, normal data: the intervals are exact, coverage 0.95
        assert abs(fast - 0.95) < 3.5 * fast_se


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_exact_coverage_and_calibrated_gap_calls_over_seeds(seed):
    org = generate_organisation(40, seed=seed, n_waves=1)
    cal = _calibrate(org, vc_uncertainty="none")
    res = check_design(cal, n_sims=200, refits=0, people=org.people, framework=org.framework,
                       rounding="none", random_state=seed)
    row = res.table.set_index("quantity")
    assert abs(row.loc["coverage", "estimate"] - 0.95) < 3.5 * row.loc["coverage", "se"]
    assert abs(row.loc["bias", "estimate"]) < 3.5 * row.loc["bias", "se"]
    # p_below is the posterior probability at known components: calls at 0.7 are right >= 0.7
    assert row.loc["gap_calls_right", "estimate"] > 0.7 - 3 * row.loc["gap_calls_right", "se"]
    assert 0 < row.loc["reliability", "estimate"] < 1


def test_refits_reestimate_and_save(small, tmp_path):
    org, cal = small
    res = check_design(cal, n_sims=6, refits=3, random_state=2)
    assert isinstance(res, DesignCheck)
    reps = res.replicates
    assert reps["coverage_refit"].notna().sum() == 3
    assert reps["coverage_refit"].between(0.5, 1).all() or reps["coverage_refit"].isna().any()
    assert "coverage_refit" in set(res.table["quantity"])
    assert "gap_calls_right" not in set(res.table["quantity"])  # no roles given
    res.save(tmp_path / "check")
    assert {"design_check.csv", "design_check_by_skill.csv", "design_check_replicates.csv",
            "settings.json"} <= {p.name for p in (tmp_path / "check").iterdir()}
    assert "Design check" in res.summary()
    # the same seed gives the same result
    again = check_design(cal, n_sims=6, refits=3, random_state=2)
    pd.testing.assert_frame_equal(again.replicates, res.replicates)


def test_auto_refits_rule(small, monkeypatch):
    from workbench.calibration import design_check

    # as many as refit the budget of ratings, 2 to 20, up to REFIT_MAX_RATEES ratees
    budget, most = design_check.REFIT_BUDGET, design_check.REFIT_MAX_RATEES
    assert design_check.auto_refits(budget // 20, most) == 20
    assert design_check.auto_refits(budget // 8, most) == 8
    assert design_check.auto_refits(budget, most) == 2
    assert design_check.auto_refits(10 * budget, most) == 2
    assert design_check.auto_refits(1000, most + 1) == 0  # none above, whatever the ratings
    org, cal = small
    res = check_design(cal, n_sims=4, random_state=3)
    assert res.settings["refits"] == 4  # 30 people: the budget allows 20, capped at n_sims
    # the same design counted as a large organisation: no refits, and the summary says why
    monkeypatch.setattr(design_check, "REFIT_MAX_RATEES", 10)
    res = check_design(cal, n_sims=4, random_state=3)
    assert res.settings["refits"] == 0 and "coverage_refit" not in set(res.table["quantity"])
    assert "no refits by default above 10 ratees" in res.summary()
    # asked for, they run
    res = check_design(cal, n_sims=4, refits=1, random_state=3)
    assert res.replicates["coverage_refit"].notna().sum() == 1


def test_bad_options(small):
    org, cal = small
    with pytest.raises(ConfigError, match="linear Calibration"):
        check_design(cal.scores)
    # a people table without a framework: no gap calls, and the summary says so
    res = check_design(cal, n_sims=4, refits=0, people=org.people)
    assert not res.settings["gap_calls"] and "gap calls not checked" in res.summary()
    with pytest.raises(ConfigError, match="n_sims"):
        check_design(cal, n_sims=1)
    with pytest.raises(ConfigError, match="refits"):
        check_design(cal, n_sims=5, refits=6)
    with pytest.raises(ConfigError, match="rounding"):
        check_design(cal, rounding="half")


def test_item_level_design_is_rebuilt_exactly():
    # several items per skill: item contrasts and rater:ratee:skill join the model; the
    # rebuilt design reproduces the client's scores from the client's ratings
    org = generate_organisation(30, seed=8, n_waves=1, items_per_skill=2)
    cal = _calibrate(org, vc_uncertainty="none")
    assert "rater:ratee:skill" in cal.model.settings["random"]
    dm = design_model(cal)
    observed = dm.estimate(dm.ratings["score"].to_numpy(dtype=float)[:, None])[:, 0]
    np.testing.assert_allclose(observed, cal.scores["score"], atol=1e-6)
    res = check_design(cal, n_sims=10, refits=1, random_state=4)
    assert res.replicates["coverage_refit"].notna().sum() == 1
