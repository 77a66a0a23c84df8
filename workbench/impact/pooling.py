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
    check_panel,
    design_matrix,
    fit_ols,
    pre_adjust_for,
    usable_covariates,
)

__all__ = ["pool_effects", "activity_effects"]


def pool_effects(estimates, ses, groups=None) -> dict:
    """Empirical-Bayes normal-normal pooling of raw estimates (REML tau^2).

    Model: ``y_i ~ N(theta_i, se_i^2)``, ``theta_i ~ N(mu_g(i), tau^2)`` with one prior mean per
    group (e.g. activity kind; one common mean without groups). ``tau^2`` by REML (Fisher
    scoring, Viechtbauer 2005), the means by weighted least squares; posterior mean
    ``mu_i + (1 - B_i)(y_i - mu_i)`` with ``B_i = se_i^2 / (se_i^2 + tau^2)``; posterior
    variance ``(1 - B_i) se_i^2 + B_i^2 var(mu_i) + 2 / (k - q - 2) B_i^2 (y_i - mu_i)^2``
    (Morris, 1983: the last two terms count the uncertainty of the means and of tau^2, so
    estimates far from their mean, which shrink most, get wider intervals).

    Returns
    -------
    dict
        mu (prior mean per estimate), tau2, posterior, posterior_sd, shrinkage (B_i), q (number
        of prior means).
    """
    y = np.asarray(estimates, dtype=float)
    s2 = np.asarray(ses, dtype=float) ** 2
    k = len(y)
    if groups is None:
        X = np.ones((k, 1))
    else:
        codes, levels = pd.factorize(pd.Series(groups).astype(str), sort=True)
        X = np.eye(len(levels))[codes] if k else np.ones((0, 1))
    q = X.shape[1]
    none = {"mu": np.full(k, np.nan), "tau2": np.nan, "posterior": y,
            "posterior_sd": np.sqrt(s2), "shrinkage": np.zeros(k), "q": q}
    if k - q < 3:
        return none  # too few estimates beyond the prior means: no pooling

    def gls(tau2):
        w = 1 / (s2 + tau2)
        xtwx_inv = np.linalg.pinv(X.T @ (w[:, None] * X))
        gamma = xtwx_inv @ X.T @ (w * y)
        return w, xtwx_inv, gamma

    tau2 = max(0.0, np.var(y, ddof=1) - s2.mean())
    for _ in range(200):
        w, xtwx_inv, _ = gls(tau2)
        P = np.diag(w) - (w[:, None] * X) @ xtwx_inv @ (X.T * w)
        Py = P @ y
        step = (Py @ Py - np.trace(P)) / np.sum(P * P)
        new = max(0.0, tau2 + step)
        if abs(new - tau2) < 1e-10:
            tau2 = new
            break
        tau2 = new
    w, xtwx_inv, gamma = gls(tau2)
    mu = X @ gamma
    var_mu = np.einsum("ij,jk,ik->i", X, xtwx_inv, X)
    b = s2 / (s2 + tau2) if tau2 > 0 else np.ones(k)
    post = mu + (1 - b) * (y - mu)
    extra = 2 / (k - q - 2) * b**2 * (y - mu) ** 2 if k - q > 2 else 0.0
    post_sd = np.sqrt((1 - b) * s2 + b**2 * var_mu + extra)
    return {"mu": mu, "tau2": tau2, "posterior": post, "posterior_sd": post_sd,
            "shrinkage": b, "q": q}


def activity_effects(panel: pd.DataFrame, catalog: pd.DataFrame, *, alpha: float = 0.05,
                     covariates=COVARIATES, cluster: str | None = "team",
                     pre_adjust: str = "auto", correction: str = "holm",
                     cov_type: str = "nonrobust", prior: str = "auto") -> pd.DataFrame:
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
    alpha, covariates, cluster, pre_adjust
        As in :func:`workbench.impact.effects.ancova_effects`.
    correction : {"holm", "fdr_bh"}
        Adjustment of the raw p values across all (activity, skill) rows.
    cov_type : {"nonrobust", "cluster"}
        SEs of the raw estimates. Classical OLS by default: cluster-robust SEs of an indicator
        that only a handful of people share are biased low (MacKinnon & Webb, 2017).
    prior : {"auto", "kind", "common"}
        Prior mean of the pooling: one per activity kind ("auto" when the catalog has a
        ``kind`` column) or one common mean.

    Returns
    -------
    DataFrame
        activity, skill, title, n (people in the comparison who completed the activity between
        the assessments; also as ``n_completed``), raw_estimate, raw_se, estimate (posterior
        mean), se (posterior SD), ci_low, ci_high (normal posterior interval), p_value (raw
        estimate, t test), p_adjusted (``correction`` across all rows), prior_mean, shrinkage,
        rank (1 = largest posterior mean).
    """
    check_alpha(alpha)
    check_panel(panel)
    check_choice("correction", correction, CORRECTIONS)
    check_choice("cov_type", cov_type, ("nonrobust", "cluster"))
    check_choice("prior", prior, ("auto", "kind", "common"))
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
        if adjust == "regression_calibration":
            d["pre_x"], _ = calibrated_pre(d, covs, group=None,
                                           numeric=[names[a] for a in used])
        else:
            d["pre_x"] = d["pre"]
        X = design_matrix(d, ["pre_x"] + [names[a] for a in used], covs)
        fit, _ = fit_ols(d["post"], X, d, cluster, cov_type=cov_type)
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
    pooled = pool_effects(out.loc[ok, "raw_estimate"], out.loc[ok, "raw_se"], groups)
    z = stats.norm.ppf(1 - alpha / 2)
    out["estimate"], out["se"], out["shrinkage"] = np.nan, np.nan, np.nan
    out.loc[ok, "estimate"] = pooled["posterior"]
    out.loc[ok, "se"] = pooled["posterior_sd"]
    out.loc[ok, "shrinkage"] = pooled["shrinkage"]
    out["ci_low"] = out["estimate"] - z * out["se"]
    out["ci_high"] = out["estimate"] + z * out["se"]
    out["p_adjusted"] = adjust_p_values(out["p_value"], correction)
    out["rank"] = out["estimate"].rank(ascending=False, method="min")
    titles = (catalog.drop_duplicates("activity").set_index("activity")["title"]
              if "title" in catalog.columns else None)
    out["title"] = out["activity"].map(titles) if titles is not None else out["activity"]
    out["n_completed"] = out["n"]
    out["prior_mean"] = np.nan
    out.loc[ok, "prior_mean"] = pooled["mu"]
    out.attrs.update(tau2=pooled["tau2"], prior=prior)
    cols = ["activity", "skill", "title", "estimate", "se", "ci_low", "ci_high", "n",
            "n_completed", "raw_estimate", "raw_se", "p_value", "p_adjusted", "prior_mean",
            "shrinkage", "rank"]
    return out[cols].sort_values(["rank", "activity"], na_position="last").reset_index(drop=True)
