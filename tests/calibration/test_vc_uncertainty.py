"""The variance components' uncertainty in the SEs (issue #12): checked against a brute force.

The package computes the delta-method term ``g' 2 H^-1 g`` from its own engine: the Hessian of
the *profiled* REML criterion in ``log theta`` (relative SDs) from finite differences of the
analytic gradient, and the BLUPs' derivatives from refactorisations. The test writes the
marginal model out densely (``V = sum sd_k^2 Z_k Z_k' + sigma^2 I``), maximises the *full*
REML likelihood in a different parametrisation (``log sd_k`` and ``log sigma``) with a generic
optimiser, takes the Hessian from second differences of that likelihood alone, computes the
calibrated scores and rater effects as GLS + BLUP from ``V``, and differentiates them
numerically. The two must agree (the delta term is invariant under reparametrisation at the
optimum); the total variance must equal Henderson's prediction-error variance (dense inverse of
the mixed-model equations) plus twice that term (Prasad & Rao's estimator of the mean squared
error, as documented).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from workbench.calibration.calibrate import calibrate_ratings
from workbench.calibration.mixed.vc_uncertainty import (
    AUTO_MAX_RATEES,
    resolve_vc_uncertainty,
    vc_summary,
)
from workbench.errors import ConfigError

TERMS = ["ratee", "ratee:skill", "rater", "rater:ratee"]


def tiny_ratings(seed=3, n_ratees=8, n_raters=7, per_ratee=4, n_skills=3):
    """A small single-source design with all four components well inside their range."""
    rng = np.random.default_rng(seed)
    sd = {"ratee": 0.5, "ratee:skill": 0.35, "rater": 0.45, "rater:ratee": 0.3}
    gen = rng.normal(0, sd["ratee"], n_ratees)
    spec = rng.normal(0, sd["ratee:skill"], (n_ratees, n_skills))
    len_ = rng.normal(0, sd["rater"], n_raters)
    skill_mean = np.array([3.0, 3.4, 2.8, 3.2, 3.1][:n_skills])
    rows = []
    for i in range(n_ratees):
        for r in rng.choice(n_raters, per_ratee, replace=False):
            halo = rng.normal(0, sd["rater:ratee"])
            for s in range(n_skills):
                y = skill_mean[s] + gen[i] + spec[i, s] + len_[r] + halo + rng.normal(0, 0.4)
                rows.append((f"p{i}", f"r{r}", "peer", f"s{s}", y))
    return pd.DataFrame(rows, columns=["ratee", "rater", "source", "skill", "score"])


class Dense:
    """The marginal model written out densely: no code from the package."""

    def __init__(self, ratings):
        self.y = ratings["score"].to_numpy(float)
        n = len(self.y)
        skills = sorted(ratings["skill"].unique())
        self.X = np.column_stack([np.ones(n)] + [(ratings["skill"] == s).to_numpy(float)
                                                 for s in skills[1:]])
        self.skills = skills
        self.Z, self.levels = [], []
        for term in TERMS:
            key = ratings[term.split(":")].astype(str).agg("|".join, axis=1)
            levels = sorted(key.unique())
            self.levels.append(levels)
            self.Z.append((key.to_numpy()[:, None] == np.array(levels)[None, :]).astype(float))

    def V(self, phi):
        sd, sigma = np.exp(phi[:-1]), np.exp(phi[-1])
        V = sigma**2 * np.eye(len(self.y))
        for s, Z in zip(sd, self.Z, strict=True):
            V += s**2 * Z @ Z.T
        return V

    def deviance(self, phi):
        """-2 REML log-likelihood (the restricted likelihood of Patterson & Thompson)."""
        V = self.V(phi)
        Vi = np.linalg.inv(V)
        XtViX = self.X.T @ Vi @ self.X
        beta = np.linalg.solve(XtViX, self.X.T @ Vi @ self.y)
        r = self.y - self.X @ beta
        n, p = self.X.shape
        return (np.linalg.slogdet(V)[1] + np.linalg.slogdet(XtViX)[1] + r @ Vi @ r
                + (n - p) * np.log(2 * np.pi))

    def predictions(self, phi, cells):
        """GLS fixed part + BLUPs: calibrated scores of ``cells`` (ratee, skill) and raters."""
        V = self.V(phi)
        Vi = np.linalg.inv(V)
        beta = np.linalg.solve(self.X.T @ Vi @ self.X, self.X.T @ Vi @ self.y)
        resid = Vi @ (self.y - self.X @ beta)
        b = [np.exp(2 * phi[k]) * self.Z[k].T @ resid for k in range(len(TERMS))]
        out = []
        for ratee, skill in cells:
            f = np.zeros(len(beta))
            f[0] = 1.0
            if skill != self.skills[0]:
                f[self.skills.index(skill)] = 1.0
            out.append(f @ beta + b[0][self.levels[0].index(ratee)]
                       + b[1][self.levels[1].index(f"{ratee}|{skill}")])
        return np.array(out), b[2]

    def pev(self, phi, cells):
        """Henderson: sigma^2 [c; l]' C^-1 [c; l] from the dense mixed-model equations (scores),
        and the rater effects' conditional variances."""
        sd, sigma2 = np.exp(phi[:-1]), np.exp(2 * phi[-1])
        Z = np.hstack(self.Z)
        ginv = np.concatenate([np.full(Zk.shape[1], sigma2 / s**2)
                               for s, Zk in zip(sd, self.Z, strict=True)])
        C = np.block([[self.X.T @ self.X, self.X.T @ Z], [Z.T @ self.X, Z.T @ Z + np.diag(ginv)]])
        Ci = np.linalg.inv(C)
        p = self.X.shape[1]
        offsets = np.cumsum([0] + [Zk.shape[1] for Zk in self.Z])
        scores = []
        for ratee, skill in cells:
            v = np.zeros(C.shape[0])
            v[0] = 1.0
            if skill != self.skills[0]:
                v[self.skills.index(skill)] = 1.0
            v[p + offsets[0] + self.levels[0].index(ratee)] = 1.0
            v[p + offsets[1] + self.levels[1].index(f"{ratee}|{skill}")] = 1.0
            scores.append(sigma2 * v @ Ci @ v)
        # Rater effects: lme4's condVar (fixed effects held at their estimate), the random
        # block of the equations alone.
        Cu = np.linalg.inv(Z.T @ Z + np.diag(ginv))
        rater_idx = offsets[2] + np.arange(len(self.levels[2]))
        return np.array(scores), sigma2 * np.diag(Cu)[rater_idx]


def numerical_hessian(f, x, h=1e-3):
    k = len(x)
    H = np.zeros((k, k))
    for i in range(k):
        for j in range(i, k):
            ei, ej = np.eye(k)[i] * h, np.eye(k)[j] * h
            H[i, j] = H[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej)
                                 + f(x - ei - ej)) / (4 * h * h)
    return H


def numerical_jacobian(f, x, h=1e-4):
    cols = []
    for i in range(len(x)):
        e = np.eye(len(x))[i] * h
        cols.append((f(x + e) - f(x - e)) / (2 * h))
    return np.array(cols)  # (params, outputs)


@pytest.fixture(scope="module")
def brute_force():
    ratings = tiny_ratings()
    dense = Dense(ratings)
    start = np.full(len(TERMS) + 1, np.log(ratings["score"].std() / 2))
    fit = optimize.minimize(dense.deviance, start, method="BFGS", options={"gtol": 1e-9})
    assert np.abs(fit.jac).max() < 1e-4  # at the optimum (BFGS stops on precision loss)
    phi = fit.x
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        on = calibrate_ratings(ratings, terms=TERMS, terms_policy="exact",
                               vc_uncertainty="delta")
        off = calibrate_ratings(ratings, terms=TERMS, terms_policy="exact",
                                vc_uncertainty="none")
    cells = list(zip(on.scores["person"], on.scores["skill"], strict=True))
    cov = 2 * np.linalg.inv(numerical_hessian(dense.deviance, phi))

    def scores(x):
        return dense.predictions(x, cells)[0]

    def raters(x):
        return dense.predictions(x, cells)[1]

    g, gr = numerical_jacobian(scores, phi), numerical_jacobian(raters, phi)
    return {"ratings": ratings, "dense": dense, "phi": phi, "on": on, "off": off,
            "cells": cells, "delta": np.einsum("jc,jk,kc->c", g, cov, g),
            "delta_raters": np.einsum("jc,jk,kc->c", gr, cov, gr)}


def test_the_fit_matches_the_brute_force_optimum_with_every_component_inside(brute_force):
    b = brute_force
    sd = np.exp(b["phi"])
    variances = b["on"].variance_components.set_index("component")["variance"]
    np.testing.assert_allclose(variances[TERMS + ["residual"]].to_numpy(), sd**2, rtol=1e-4)
    assert (sd[:-1] / sd[-1] > 0.1).all()  # no component near the boundary: all corrected
    assert b["on"].settings["vc_terms_held"] == []


def test_delta_term_of_scores_and_raters_equals_the_brute_force(brute_force):
    b = brute_force
    extra = b["on"].scores["se"].to_numpy() ** 2 - b["off"].scores["se"].to_numpy() ** 2
    assert b["delta"].min() > 1e-5  # the term is not negligible here
    np.testing.assert_allclose(extra, 2 * b["delta"], rtol=2e-3, atol=1e-7)
    r_on = b["on"].rater_effects.set_index("rater")["se"]
    r_off = b["off"].rater_effects.set_index("rater")["se"]
    levels = b["dense"].levels[2]
    extra_r = (r_on[levels] ** 2 - r_off[levels] ** 2).to_numpy()
    np.testing.assert_allclose(extra_r, 2 * b["delta_raters"], rtol=2e-3, atol=1e-7)


def test_total_variance_is_henderson_pev_plus_twice_the_delta_term(brute_force):
    b = brute_force
    pev, pev_r = b["dense"].pev(b["phi"], b["cells"])
    np.testing.assert_allclose(b["on"].scores["se"].to_numpy() ** 2, pev + 2 * b["delta"],
                               rtol=2e-4)
    r_on = b["on"].rater_effects.set_index("rater")["se"][b["dense"].levels[2]].to_numpy()
    np.testing.assert_allclose(r_on**2, pev_r + 2 * b["delta_raters"], rtol=2e-4)
    # The point estimates do not move; only the se (and the interval) widen.
    cols = ["person", "skill", "score", "raw_mean", "n_ratings", "n_raters"]
    pd.testing.assert_frame_equal(b["on"].scores[cols], b["off"].scores[cols])
    assert (b["on"].scores["se"] > b["off"].scores["se"]).all()
    assert list(b["on"].to_scores().columns) == list(b["off"].to_scores().columns)


def test_summary_and_settings_say_which_method_ran(brute_force):
    on, off = brute_force["on"], brute_force["off"]
    assert on.settings["vc_uncertainty"] == "delta"
    assert on.settings["vc_uncertainty_method"] == "delta"
    assert 0 < on.settings["vc_se_increase"] < 1
    assert "Variance-component uncertainty: delta method (added" in on.summary()
    assert off.settings["vc_uncertainty_method"] == "none"
    assert "not included (vc_uncertainty='none')" in off.summary()


def test_auto_applies_the_correction_up_to_the_threshold_only():
    assert resolve_vc_uncertainty("auto", AUTO_MAX_RATEES) == "delta"
    assert resolve_vc_uncertainty("auto", AUTO_MAX_RATEES + 1) == "none"
    assert resolve_vc_uncertainty("none", 5) == "none"
    line = vc_summary({"vc_uncertainty": "auto", "vc_uncertainty_method": "none"})
    assert f"above {AUTO_MAX_RATEES} ratees" in line


def test_unknown_option_is_refused_up_front():
    with pytest.raises(ConfigError, match="vc_uncertainty='bootstrp': must be one of"):
        calibrate_ratings(tiny_ratings(), vc_uncertainty="bootstrp")


def test_cli_flag_reaches_the_summary_and_settings(tmp_path, capsys):
    import json

    from workbench.cli import main
    from workbench.synth.generator import generate_organisation

    org = generate_organisation(30, seed=2, n_waves=1)
    small = org.ratings[org.ratings["ratee"].isin(org.people["person"][:10])]
    small.to_csv(tmp_path / "ratings.csv", index=False)
    for flag, method in (("delta", "delta"), ("none", "none")):
        out = tmp_path / f"out-{flag}"
        code = main(["calibrate", str(tmp_path / "ratings.csv"), "--vc-uncertainty", flag,
                     "--out", str(out)])
        assert code == 0
        settings = json.loads((out / "settings.json").read_text())
        assert settings["vc_uncertainty"] == flag
        assert settings["vc_uncertainty_method"] == method
        assert f"Variance-component uncertainty: {'delta method' if flag == 'delta' else 'not'}" \
            in capsys.readouterr().out
