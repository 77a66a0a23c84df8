"""Per-activity training effects, partially pooled across activities (empirical Bayes).

Each activity's raw effect on each skill it targets comes from one regression per skill
(:func:`activity_effects`); :func:`pool_effects` then pools the raw estimates with a
normal-normal model whose between-activity variance is estimated by REML, so activities with
few learners borrow strength from the others of their kind.

Examples
--------
>>> pooled = pool_effects([0.1, 0.3, 0.2, 0.5, 0.25], [0.1, 0.1, 0.2, 0.3, 0.1])
>>> bool(pooled["tau2"] >= 0)
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from workbench.checks import check_alpha, check_choice
from workbench.errors import ConfigError
from workbench.impact.regression import (
    CORRECTIONS,
    COVARIATES,
    adjust_p_values,
    calibrated_pre,
    check_error_correlation,
    check_panel,
    design_matrix,
    fit_ols,
    pre_adjust_for,
    usable_covariates,
)

__all__ = ["POOLING", "pool_effects", "activity_effects"]


POOLING = ("hierarchical", "morris")
_GRID = 400


def _design_of(groups, k):
    if groups is None:
        return np.ones((k, 1))
    codes, levels = pd.factorize(pd.Series(groups).astype(str), sort=True)
    return np.eye(len(levels))[codes] if k else np.ones((0, 1))


def _given_tau2(y, s2, X, tau2):
    """Means, GLS covariance and the REML log-likelihood at one tau^2."""
    w = 1 / (s2 + tau2)
    xtwx = X.T @ (w[:, None] * X)
    xtwx_inv = np.linalg.pinv(xtwx)
    gamma = xtwx_inv @ X.T @ (w * y)
    resid = y - X @ gamma
    loglik = -0.5 * (-np.sum(np.log(w)) + np.linalg.slogdet(xtwx)[1] + np.sum(w * resid**2))
    return X @ gamma, np.einsum("ij,jk,ik->i", X, xtwx_inv, X), loglik


def _reml_tau2(y, s2, X):
    """REML tau^2 by Fisher scoring (Viechtbauer, 2005)."""
    tau2 = max(0.0, np.var(y, ddof=1) - s2.mean())
    for _ in range(200):
        w = 1 / (s2 + tau2)
        xtwx_inv = np.linalg.pinv(X.T @ (w[:, None] * X))
        P = np.diag(w) - (w[:, None] * X) @ xtwx_inv @ (X.T * w)
        Py = P @ y
        new = max(0.0, tau2 + (Py @ Py - np.trace(P)) / np.sum(P * P))
        if abs(new - tau2) < 1e-10:
            return new
        tau2 = new
    return tau2


def _mixture_quantile(prob, weights, means, sds):
    """Quantile of a mixture of normals (one per tau grid point) by bisection."""
    lo = np.min(means - 10 * sds)
    hi = np.max(means + 10 * sds)
    for _ in range(100):
        mid = (lo + hi) / 2
        if np.sum(weights * stats.norm.cdf((mid - means) / sds)) < prob:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


def pool_effects(estimates, ses, groups=None, *, alpha: float = 0.05,
                 method: str = "hierarchical") -> dict:
    """Pool raw estimates with a normal-normal model: each borrows strength from the others.

    Model: ``y_i ~ N(theta_i, se_i^2)``, ``theta_i ~ N(mu_g(i), tau^2)`` with one prior mean per
    group (e.g. activity kind; one common mean without groups). Given ``tau^2`` and flat priors
    on the means, ``theta_i`` is normal with mean ``mu_i + (1 - B_i)(y_i - mu_i)`` and variance
    ``(1 - B_i) se_i^2 + B_i^2 var(mu_i)``, ``B_i = se_i^2 / (se_i^2 + tau^2)``, ``mu`` by
    weighted least squares.

    ``method="hierarchical"`` (default) also integrates over ``tau`` (uniform prior on tau,
    Gelman 2006; its posterior is proportional to the REML likelihood) on a grid of 400
    points: the posterior of ``theta_i`` is a mixture of normals, whose mean, SD and
    ``alpha/2``, ``1 - alpha/2`` quantiles are returned. With a few dozen estimates and several
    prior means, tau^2 is poorly determined; plugging in its estimate makes intervals too
    narrow exactly where shrinkage is strongest (this lost 8 of 54 intervals on two
    5,000-person demo organisations; see docs/impact.md). ``method="morris"`` is the plug-in
    REML estimate with Morris's (1983) variance correction ``+ 2 / (k - q - 2) B_i^2
    (y_i - mu_i)^2`` and normal intervals, kept for comparison.

    Parameters
    ----------
    estimates, ses : array-like
        Raw estimates and their standard errors.
    groups : array-like, optional
        Group of each estimate (one prior mean per group).
    alpha : float
        1 - level of the intervals.
    method : {"hierarchical", "morris"}

    Returns
    -------
    dict
        mu (prior mean per estimate at the REML tau^2), tau2 (REML), posterior (mean),
        posterior_sd, ci_low, ci_high, shrinkage (B_i at the REML tau^2), q (number of prior
        means). Fewer than three estimates beyond the prior means: no pooling (the raw
        estimates, normal intervals).
    """
    check_alpha(alpha)
    check_choice("method", method, POOLING)
    y = np.asarray(estimates, dtype=float)
    s2 = np.asarray(ses, dtype=float) ** 2
    k = len(y)
    X = _design_of(groups, k)
    q = X.shape[1]
    z = stats.norm.ppf(1 - alpha / 2)
    if k - q < 3:  # too few estimates beyond the prior means: no pooling
        return {"mu": np.full(k, np.nan), "tau2": np.nan, "posterior": y,
                "posterior_sd": np.sqrt(s2), "ci_low": y - z * np.sqrt(s2),
                "ci_high": y + z * np.sqrt(s2), "shrinkage": np.zeros(k), "q": q}
    tau2 = _reml_tau2(y, s2, X)
    mu, var_mu, _ = _given_tau2(y, s2, X, tau2)
    b = s2 / (s2 + tau2) if tau2 > 0 else np.ones(k)
    out = {"mu": mu, "tau2": tau2, "shrinkage": b, "q": q}
    if method == "morris":
        post = mu + (1 - b) * (y - mu)
        extra = 2 / (k - q - 2) * b**2 * (y - mu) ** 2
        sd = np.sqrt((1 - b) * s2 + b**2 * var_mu + extra)
        return {**out, "posterior": post, "posterior_sd": sd, "ci_low": post - z * sd,
                "ci_high": post + z * sd}
    # The likelihood of tau falls like tau^-(k - q) far out; the grid reaches well past where
    # it is negligible.
    top = 4 * np.sqrt(max(np.var(y, ddof=1), tau2, s2.max()))
    taus = np.linspace(0, top, _GRID + 1)[1:]
    means, variances, logliks = [], [], []
    for tau in taus:
        m, v_mu, loglik = _given_tau2(y, s2, X, tau**2)
        bb = s2 / (s2 + tau**2)
        means.append(m + (1 - bb) * (y - m))
        variances.append((1 - bb) * s2 + bb**2 * v_mu)
        logliks.append(loglik)
    means, sds = np.array(means), np.sqrt(np.array(variances))
    weights = np.exp(np.array(logliks) - np.max(logliks))
    weights /= weights.sum()
    post = weights @ means
    sd = np.sqrt(weights @ (sds**2 + means**2) - post**2)
    low = [_mixture_quantile(alpha / 2, weights, means[:, i], sds[:, i]) for i in range(k)]
    high = [_mixture_quantile(1 - alpha / 2, weights, means[:, i], sds[:, i]) for i in range(k)]
    return {**out, "posterior": post, "posterior_sd": sd, "ci_low": np.array(low),
            "ci_high": np.array(high)}


def activity_effects(panel: pd.DataFrame, catalog: pd.DataFrame, *, alpha: float = 0.05,
                     covariates=COVARIATES, cluster: str | None = "team",
                     pre_adjust: str = "auto", correction: str = "holm",
                     cov_type: str = "nonrobust", prior: str = "auto",
                     pooling: str = "hierarchical",
                     error_correlation: float | None = None) -> pd.DataFrame:
    """Effect of each activity on each skill it targets, partially pooled across activities.

    Per skill, ``post ~ pre + sum_a completed_a (+ role + level)`` with one indicator per
    activity targeting the skill (people may complete several; effects add up) gives raw
    estimates; these are pooled by :func:`pool_effects` over all (activity, skill) pairs, so
    activities with few learners borrow strength from the others. The pre score is
    regression-calibrated as in :func:`workbench.impact.effects.ancova_effects` (conditioning on
    the activity indicators).

    Parameters
    ----------
    panel : DataFrame
        From :func:`workbench.impact.panel.prepare_panel` with the catalog: its
        ``completed_activities`` (completed between the assessments) define the indicators.
    catalog : DataFrame
        activity, skill[, kind, title]: which skills an activity targets, its kind (the prior
        mean of the pooling) and title.
    alpha, covariates, cluster, pre_adjust, error_correlation
        As in :func:`workbench.impact.effects.ancova_effects`.
    correction : {"holm", "fdr_bh"}
        Adjustment of the raw p values across all (activity, skill) rows.
    cov_type : {"nonrobust", "cluster"}
        SEs of the raw estimates. Classical OLS by default: cluster-robust SEs of an indicator
        that only a handful of people share are biased low (MacKinnon & Webb, 2017).
    prior : {"auto", "kind", "common"}
        Prior mean of the pooling: one per activity kind ("auto" when the catalog has a
        ``kind`` column) or one common mean.
    pooling : {"hierarchical", "morris"}
        How the uncertainty of the between-activity variance enters the intervals (see
        :func:`pool_effects`).

    Returns
    -------
    DataFrame
        activity, skill, title, n (people in the comparison who completed the activity between
        the assessments; also as ``n_completed``), raw_estimate, raw_se, estimate (posterior
        mean), se (posterior SD), ci_low, ci_high (posterior interval), p_value (raw
        estimate, t test), p_adjusted (``correction`` across all rows), prior_mean, shrinkage,
        rank (1 = largest posterior mean).
    """
    check_alpha(alpha)
    check_panel(panel)
    check_choice("correction", correction, CORRECTIONS)
    check_choice("cov_type", cov_type, ("nonrobust", "cluster"))
    check_choice("prior", prior, ("auto", "kind", "common"))
    check_choice("pooling", pooling, POOLING)
    check_error_correlation(error_correlation)
    if "completed_activities" not in panel.columns:
        raise ConfigError("panel: no column completed_activities; build it with prepare_panel()")
    if prior == "auto":
        prior = "kind" if "kind" in catalog.columns else "common"
    adjust = pre_adjust_for(panel, pre_adjust)
    targets = catalog[["activity", "skill"]].drop_duplicates()
    rows = []
    for skill, d in panel[panel["included"]].groupby("skill", sort=True):
        d = d.dropna(subset=["pre", "post"]).copy()
        acts = sorted(targets.loc[targets["skill"] == skill, "activity"], key=str)
        names = {a: f"act_{k}" for k, a in enumerate(acts)}
        done = d["completed_activities"]
        for a in acts:
            d[names[a]] = done.apply(lambda ids, a=str(a): a in ids).astype(int)
        counts = {a: int(d[names[a]].sum()) for a in acts}
        used = [a for a in acts if counts[a] > 0]
        first = len(rows)
        rows += [{"activity": a, "skill": skill, "n": counts[a]} for a in acts]
        if not used or (~d["trained"]).sum() < 2:
            continue
        covs = usable_covariates(d, covariates)
        shift = 0.0
        if adjust == "regression_calibration":
            d["pre_x"], _, shift = calibrated_pre(d, covs, group=None,
                                                  numeric=[names[a] for a in used],
                                                  error_correlation=error_correlation)
        else:
            d["pre_x"] = d["pre"]
        X = design_matrix(d, ["pre_x"] + [names[a] for a in used], covs)
        fit, _ = fit_ols(d["post"] - shift, X, d, cluster, cov_type=cov_type)
        for row in rows[first:]:
            if row["activity"] in used:
                term = names[row["activity"]]
                row.update(raw_estimate=fit.params[term], raw_se=fit.bse[term],
                           p_value=fit.pvalues[term])
    out = pd.DataFrame(rows, columns=["activity", "skill", "n", "raw_estimate", "raw_se",
                                      "p_value"])
    ok = out["raw_se"].notna() & out["raw_se"].gt(0) & np.isfinite(out["raw_se"])
    groups = None
    if prior == "kind":
        kinds = catalog.drop_duplicates(["activity", "skill"]).set_index(
            ["activity", "skill"])["kind"]
        groups = [kinds.get((a, sk)) for a, sk in zip(out.loc[ok, "activity"],
                                                       out.loc[ok, "skill"], strict=True)]
    pooled = pool_effects(out.loc[ok, "raw_estimate"], out.loc[ok, "raw_se"], groups,
                          alpha=alpha, method=pooling)
    for column, key in (("estimate", "posterior"), ("se", "posterior_sd"),
                        ("ci_low", "ci_low"), ("ci_high", "ci_high"), ("shrinkage", "shrinkage")):
        out[column] = np.nan
        out.loc[ok, column] = pooled[key]
    out["p_adjusted"] = adjust_p_values(out["p_value"], correction)
    out["rank"] = out["estimate"].rank(ascending=False, method="min")
    titles = (catalog.drop_duplicates("activity").set_index("activity")["title"]
              if "title" in catalog.columns else None)
    out["title"] = out["activity"].map(titles) if titles is not None else out["activity"]
    out["n_completed"] = out["n"]
    out["prior_mean"] = np.nan
    out.loc[ok, "prior_mean"] = pooled["mu"]
    out.attrs.update(tau2=pooled["tau2"], prior=prior, pooling=pooling)
    cols = ["activity", "skill", "title", "estimate", "se", "ci_low", "ci_high", "n",
            "n_completed", "raw_estimate", "raw_se", "p_value", "p_adjusted", "prior_mean",
            "shrinkage", "rank"]
    return out[cols].sort_values(["rank", "activity"], na_position="last").reset_index(drop=True)
