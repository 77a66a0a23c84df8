"""Training effects per skill: paired change, ANCOVA, difference-in-differences, reliable
change, regression to the mean, and the rule that recommends a design.

Designs and what each assumes
-----------------------------
* **ANCOVA** (``post ~ pre + trained + role + level``, cluster-robust SEs by team): right when
  people were picked for training by their pre scores (selection on the observed pre score).
  The pre score carries measurement error, which attenuates its slope and biases the training
  coefficient when the groups differ at baseline; with standard errors available the pre score
  is replaced by its regression-calibration value E[true pre | observed pre, trained, role,
  level] (Carroll et al., 2006, ch. 4), which removes that bias.
* **Difference-in-differences** (``score ~ wave * trained + (1 | person)``, REML, closed form for two waves): right
  when the groups differed before training for other reasons (pre-existing groups) and would
  have changed alike without training (parallel trends). With selection on pre scores it is
  still unbiased if pre scores are not regressing to the mean beyond measurement error
  (Lord's paradox: the two designs answer different questions when groups differ at baseline).
* **Paired change** within the trained and the untrained: descriptive; the trained group's
  change mixes the training effect with drift and regression to the mean.

The recommendation rule (per skill, :func:`recommend_design`): if the pre score predicts who
was trained within teams (linear probability model with role, level and team, HC1,
p < alpha), assignment depended on individual pre scores and ANCOVA is recommended;
otherwise, if the groups still differed at baseline (Welch t test, p < alpha) they differed
for other reasons and difference-in-differences is recommended; otherwise ANCOVA (no baseline
difference: it is the more precise of the two).

Every function takes the panel of :func:`workbench.impact.panel.prepare_panel`.

Examples
--------
>>> from workbench.synth import generate_organisation, truth_scores
>>> from workbench.impact.panel import prepare_panel
>>> org = generate_organisation(120, seed=4)
>>> panel = prepare_panel(truth_scores(org, se=.2, random_state=1), org.enrollments,
...                       people=org.people, catalog=org.catalog)
>>> ancova_effects(panel)["method"].unique().tolist()
['ancova']
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from workbench.checks import check_alpha, check_interval
from workbench.impact.regression import (
    COVARIATES,
    calibrated_pre,
    check_error_correlation,
    check_panel,
    design_matrix,
    fit_ols,
    pre_adjust_for,
    usable_covariates,
)
from workbench.impact.sample_size import paired_effect_sizes

__all__ = ["ASSUMPTIONS", "paired_change", "ancova_effects", "did_effects", "did_reml",
           "reliable_change",
           "regression_to_mean", "recommend_design"]

ASSUMPTIONS = {
    "ancova": "assignment depends only on the (true) pre score and the covariates; linear "
              "relation post ~ pre, same slope in both groups",
    "did": "parallel trends: without training both groups would have changed alike "
           "(groups may differ at baseline for reasons other than the pre score)",
    "change_trained": "none beyond the paired design; mixes the training effect with drift "
                      "and regression to the mean",
    "change_untrained": "none beyond the paired design; estimates drift plus regression to "
                        "the mean without training",
}


def paired_change(panel: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """Mean pre-to-post change per skill among the trained and the untrained, with effect sizes.

    Parameters
    ----------
    panel : DataFrame
        From :func:`prepare_panel`.
    alpha : float

    Returns
    -------
    DataFrame
        skill, group ("trained"/"untrained"), estimate (mean change), se, ci_low, ci_high,
        t, p_value (paired t test), n, d_z and its noncentral-t interval (d_z_ci_low,
        d_z_ci_high), g_av (Hedges-corrected d_av) and its Bonett normal-approximation interval
        (g_av_ci_low, g_av_ci_high), r (pre/post correlation). See
        :func:`workbench.impact.sample_size.paired_effect_sizes`.
    """
    check_alpha(alpha)
    check_panel(panel)
    rows = []
    for skill, d in panel[panel["included"]].groupby("skill", sort=True):
        for group, g in (("trained", d[d["trained"]]), ("untrained", d[~d["trained"]])):
            res = paired_effect_sizes(g["pre"], g["post"], alpha=alpha)
            rows.append({"skill": skill, "group": group, **res})
    cols = ["skill", "group", "estimate", "se", "ci_low", "ci_high", "t", "p_value", "n", "d_z",
            "d_z_ci_low", "d_z_ci_high", "g_av", "g_av_ci_low", "g_av_ci_high", "r"]
    return pd.DataFrame(rows, columns=cols)


def ancova_effects(panel: pd.DataFrame, *, alpha: float = 0.05, covariates=COVARIATES,
                   cluster: str | None = "team", pre_adjust: str = "auto",
                   cov_type: str = "cluster",
                   error_correlation: float | None = None) -> pd.DataFrame:
    """Training effect per skill by ANCOVA: post ~ pre + trained (+ role + level).

    Parameters
    ----------
    panel : DataFrame
        From :func:`prepare_panel`.
    alpha : float
    covariates : sequence of str
        Panel columns entered as categorical covariates (skipped when constant or missing).
    cluster : str or None
        Column whose groups get cluster-robust SEs (statsmodels ``cov_type="cluster"``,
        t reference with G - 1 df); None or missing -> HC1.
    pre_adjust : {"auto", "regression_calibration", "none"}
        "regression_calibration" replaces the observed pre score by E[true pre | observed pre,
        trained, covariates] using the scores' SEs (corrects the attenuation that otherwise
        biases the trained coefficient when groups differ at baseline); "auto" does so when
        SEs are available.
    error_correlation : float or None
        Correlation of the pre and post scores' errors (with regression calibration; see
        :func:`workbench.impact.regression.calibrated_pre`). None (default): each row's
        ``error_corr`` from the calibrated scores (0 where absent); a number overrides it.

    Returns
    -------
    DataFrame
        skill, method ("ancova"), estimate (coefficient of trained), se, ci_low, ci_high,
        p_value, n, n_trained, n_untrained, n_clusters, resid_sd, pre_slope, reliability (mean
        shrinkage factor of the pre score; 1 without adjustment), se_type, pre_adjust.

    Notes
    -----
    With ``pre_adjust="none"`` the numbers equal ``smf.ols("post ~ pre + trained + C(role) +
    C(level)", d).fit(cov_type="cluster", cov_kwds={"groups": team codes}, use_t=True)``
    (checked in tests/impact/test_effects.py). The regression-calibration SEs do not carry the
    uncertainty of the reliability estimate (small with hundreds of people).
    """
    check_alpha(alpha)
    check_panel(panel)
    check_error_correlation(error_correlation)
    adjust = pre_adjust_for(panel, pre_adjust)
    rows = []
    for skill, d in panel[panel["included"]].groupby("skill", sort=True):
        d = d.dropna(subset=["pre", "post"]).copy()
        d["trained"] = d["trained"].astype(int)
        n1, n0 = int(d["trained"].sum()), int((1 - d["trained"]).sum())
        row = {"skill": skill, "method": "ancova", "n": len(d), "n_trained": n1,
               "n_untrained": n0, "pre_adjust": adjust}
        if n1 < 2 or n0 < 2:
            rows.append(row)
            continue
        covs = usable_covariates(d, covariates)
        lam, shift = 1.0, 0.0
        if adjust == "regression_calibration":
            d["pre_x"], lam, shift = calibrated_pre(d, covs,
                                                    error_correlation=error_correlation)
        else:
            d["pre_x"] = d["pre"]
        X = design_matrix(d, ["pre_x", "trained"], covs)
        fit, se_type = fit_ols(d["post"] - shift, X, d, cluster, cov_type=cov_type)
        ci = fit.conf_int(alpha).loc["trained"]
        row.update(estimate=fit.params["trained"], se=fit.bse["trained"], ci_low=ci.iloc[0],
                   ci_high=ci.iloc[1], p_value=fit.pvalues["trained"],
                   n_clusters=d[cluster].nunique() if se_type == "cluster" else np.nan,
                   resid_sd=np.sqrt(fit.mse_resid), pre_slope=fit.params["pre_x"],
                   reliability=lam, se_type=se_type)
        rows.append(row)
    cols = ["skill", "method", "estimate", "se", "ci_low", "ci_high", "p_value", "n",
            "n_trained", "n_untrained", "n_clusters", "resid_sd", "pre_slope", "reliability",
            "se_type", "pre_adjust"]
    return pd.DataFrame(rows, columns=cols)


def did_effects(panel: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """Difference-in-differences per skill as a mixed model: score ~ wave * trained + (1|person).

    The effect is the wave-by-trained interaction of the random-intercept model fitted by
    REML, on the people with both scores. With two waves and complete pairs the REML fit has
    a closed form (:func:`did_reml`), equal to statsmodels' ``MixedLM`` (tested) and about a
    thousand times quicker at 5,000 people. Assumes parallel trends: without training both
    groups would have changed alike.

    Returns
    -------
    DataFrame
        skill, method ("did"), estimate, se, ci_low, ci_high, p_value (Wald z), n (people),
        n_trained, n_untrained, converged (always true: the solution is exact).
    """
    check_alpha(alpha)
    check_panel(panel)
    z = stats.norm.ppf(1 - alpha / 2)
    rows = []
    for skill, d in panel[panel["included"]].groupby("skill", sort=True):
        d = d.dropna(subset=["pre", "post"])
        n1, n0 = int(d["trained"].sum()), int((~d["trained"]).sum())
        row = {"skill": skill, "method": "did", "n": len(d), "n_trained": n1, "n_untrained": n0}
        if n1 < 2 or n0 < 2:
            rows.append(row)
            continue
        fit = did_reml(d["pre"], d["post"], d["trained"])
        est, se = fit["estimate"], fit["se"]
        row.update(estimate=est, se=se, ci_low=est - z * se, ci_high=est + z * se,
                   p_value=2 * stats.norm.sf(abs(est / se)) if se > 0 else np.nan,
                   converged=True)
        rows.append(row)
    cols = ["skill", "method", "estimate", "se", "ci_low", "ci_high", "p_value", "n",
            "n_trained", "n_untrained", "converged"]
    return pd.DataFrame(rows, columns=cols)


def did_reml(pre, post, trained) -> dict:
    """REML fit of ``score ~ post * trained + (1 | person)`` on complete pre/post pairs.

    With two waves per person the model splits into two independent regressions on the
    group indicator: the changes ``post - pre`` (variance ``v_d = 2 s2_e``) and the sums
    ``post + pre`` (variance ``v_s = 4 s2_u + 2 s2_e``), each with its own two fixed effects.
    So the REML criterion is the sum of two ordinary REML criteria and the estimates are the
    residual mean squares ``v_d = RSS_d / (n - 2)``, ``v_s = RSS_s / (n - 2)``, unless that
    makes ``s2_u`` negative: then ``s2_u = 0`` and both share ``v = (RSS_d + RSS_s) / (2n - 4)``.
    The interaction is the difference of the groups' mean changes, with SE
    ``sqrt(v_d (1/n1 + 1/n0))``.

    Returns
    -------
    dict
        estimate, se, var_person (s2_u), var_residual (s2_e).

    Examples
    --------
    >>> fit = did_reml([1.0, 2.0, 2.0, 3.0], [1.5, 2.1, 2.9, 3.4], [True, True, False, False])
    >>> round(fit["estimate"], 3)  # trained change 0.3 minus untrained change 0.65
    -0.35
    """
    pre, post = np.asarray(pre, dtype=float), np.asarray(post, dtype=float)
    trained = np.asarray(trained, dtype=bool)
    n1, n0 = int(trained.sum()), int((~trained).sum())
    n = n1 + n0

    def group_rss(values):
        return sum(float(((values[g] - values[g].mean()) ** 2).sum())
                   for g in (trained, ~trained))

    change = post - pre
    rss_d, rss_s = group_rss(change), group_rss(post + pre)
    v_d, v_s = rss_d / (n - 2), rss_s / (n - 2)
    if v_s < v_d:  # the person variance would be negative: it sits at zero
        v_d = v_s = (rss_d + rss_s) / (2 * n - 4)
    estimate = change[trained].mean() - change[~trained].mean()
    return {"estimate": float(estimate), "se": float(np.sqrt(v_d * (1 / n1 + 1 / n0))),
            "var_person": (v_s - v_d) / 4, "var_residual": v_d / 2}


def reliable_change(panel: pd.DataFrame, *, alpha: float = 0.05) -> pd.DataFrame:
    """Jacobson-Truax reliable change index per person and skill.

    ``RCI = (post - pre) / sqrt(se_pre^2 + se_post^2)`` with the scores' own SEs (Jacobson &
    Truax, 1991, with person-specific SEs in place of SEM from a reliability coefficient).
    |RCI| beyond the normal 1 - alpha/2 quantile (1.96) is reliable.

    Returns
    -------
    DataFrame
        person, skill, status, trained, team (if known), pre, post, change, se (of the change),
        rci, category ("improved", "no reliable change", "declined"; missing without SEs),
        training (what counted as training: "targeted" or "any").
    """
    check_alpha(alpha)
    check_panel(panel)
    z = stats.norm.ppf(1 - alpha / 2)
    cols = [c for c in ("person", "skill", "status", "trained", "team") if c in panel.columns]
    out = panel[cols + ["pre", "post"]].copy()
    out["change"] = out["post"] - out["pre"]
    se_pre = panel["se_pre"] if "se_pre" in panel else np.nan
    se_post = panel["se_post"] if "se_post" in panel else np.nan
    out["se"] = np.sqrt(np.asarray(se_pre, dtype=float) ** 2
                        + np.asarray(se_post, dtype=float) ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["rci"] = out["change"] / out["se"]
    cat = np.where(out["rci"] > z, "improved",
                   np.where(out["rci"] < -z, "declined", "no reliable change"))
    out["category"] = pd.Series(cat, index=out.index).where(out["rci"].notna())
    out["training"] = panel.attrs.get("training", "targeted")
    return out.reset_index(drop=True)


def regression_to_mean(panel: pd.DataFrame, *, ancova: pd.DataFrame | None = None,
                       quantile: float = 0.5, alpha: float = 0.05, **ancova_options):
    """The naive pre/post gain of trained low scorers beside the ANCOVA estimate.

    Low scorers are trained people whose pre score lies below the ``quantile`` of everyone's
    pre score on the skill. Their naive gain (mean post - pre, t interval) contains the
    training effect plus drift plus regression to the mean: their low observed pre scores are
    partly bad luck that does not repeat. ``expected_rtm`` estimates that last part from the
    untrained, ``(1 - b) (mean pre - mean pre of the low scorers)``, where ``b`` is the slope of
    post on pre among the untrained (Barnett et al., 2005); ``drift`` is the untrained mean
    change.

    Returns
    -------
    DataFrame
        skill, method ("naive_low_scorer_gain" or "ancova"), estimate, se, ci_low, ci_high,
        p_value, n, expected_rtm, drift (the last two on the naive rows).
    """
    check_alpha(alpha)
    check_panel(panel)
    check_interval("quantile", quantile, low=0, high=1, inclusive="neither")
    if ancova is None:
        ancova = ancova_effects(panel, alpha=alpha, **ancova_options)
    rows = []
    for skill, d in panel[panel["included"]].groupby("skill", sort=True):
        cut = d["pre"].quantile(quantile)
        low = d[d["trained"] & (d["pre"] < cut)]
        res = paired_effect_sizes(low["pre"], low["post"], alpha=alpha)
        ctrl = d[~d["trained"]]
        rtm = drift = np.nan
        if len(ctrl) > 2 and ctrl["pre"].var() > 0:
            slope = np.polyfit(ctrl["pre"], ctrl["post"], 1)[0]
            rtm = (1 - slope) * (d["pre"].mean() - low["pre"].mean())
            drift = (ctrl["post"] - ctrl["pre"]).mean()
        rows.append({"skill": skill, "method": "naive_low_scorer_gain",
                     **{k: res[k] for k in ("estimate", "se", "ci_low", "ci_high", "p_value",
                                            "n")},
                     "expected_rtm": rtm, "drift": drift})
    naive = pd.DataFrame(rows)
    anc = ancova[["skill", "method", "estimate", "se", "ci_low", "ci_high", "p_value", "n"]]
    out = pd.concat([naive, anc], ignore_index=True)
    cols = ["skill", "method", "estimate", "se", "ci_low", "ci_high", "p_value", "n",
            "expected_rtm", "drift"]
    return out.reindex(columns=cols).sort_values(["skill", "method"], ascending=[True, False]) \
        .reset_index(drop=True)


def recommend_design(panel: pd.DataFrame, *, alpha: float = 0.05,
                     covariates=COVARIATES, within: str | None = "team") -> pd.DataFrame:
    """Which design fits how people were picked for training, per skill.

    The data cannot fully tell selection on pre scores from pre-existing group differences
    (Lord's paradox), but one trace differs: when individuals are picked by their own pre
    scores, the pre score predicts who is trained *within* teams; when whole groups were
    trained (or groups differ for other reasons), it does not. Rule, per skill:

    1. the pre score predicts being trained within teams (linear probability model with role,
       level and team fixed effects, HC1, p < alpha) -> "ancova" (selection on pre scores);
    2. otherwise, the trained and untrained differ at baseline (Welch t test, p < alpha) ->
       "did" (pre-existing group differences; parallel trends assumed);
    3. otherwise -> "ancova" (no baseline difference: the more precise design).

    When the people who were picked is known, pass ``design=`` to :func:`estimate_impact`
    instead of relying on the rule.

    Returns
    -------
    DataFrame
        skill, baseline_diff (mean pre of trained - untrained), baseline_p (Welch t),
        pre_predicts_p (p of the pre score in the linear probability model), recommended
        ("ancova" or "did"), reason.
    """
    check_alpha(alpha)
    check_panel(panel)
    rows = []
    for skill, d in panel[panel["included"]].groupby("skill", sort=True):
        d = d.dropna(subset=["pre"]).copy()
        t1, t0 = d.loc[d["trained"], "pre"], d.loc[~d["trained"], "pre"]
        row = {"skill": skill, "baseline_diff": np.nan, "baseline_p": np.nan,
               "pre_predicts_p": np.nan, "recommended": "ancova",
               "reason": "too few people in a group to tell; ANCOVA by default"}
        if len(t1) >= 2 and len(t0) >= 2:
            base_p = stats.ttest_ind(t1, t0, equal_var=False).pvalue
            covs = usable_covariates(d, list(covariates))
            absorb = usable_covariates(d, [within] if within else [])
            y = d["trained"].to_numpy(dtype=float)
            X = design_matrix(d, ["pre"], covs)
            p_pre, resid_ss = _hc1_p_value(y, X, "pre", d[absorb[0]] if absorb else None)
            # groups trained as a whole leave no within-group variation: pre cannot predict
            pre_p = p_pre if resid_ss > 1e-9 * len(y) else 1.0
            pre_p = 1.0 if not np.isfinite(pre_p) else pre_p
            row.update(baseline_diff=t1.mean() - t0.mean(), baseline_p=base_p,
                       pre_predicts_p=pre_p)
            if pre_p < alpha:
                row.update(recommended="ancova", reason="the pre score predicts who was "
                           "trained within teams: selection on pre scores, condition on them "
                           "(ANCOVA)")
            elif base_p < alpha:
                row.update(recommended="did", reason="groups differed at baseline but not "
                           "through individual pre scores: difference-in-differences")
            else:
                row.update(recommended="ancova", reason="no baseline difference: ANCOVA is "
                           "the more precise design")
        rows.append(row)
    return pd.DataFrame(rows)




def _hc1_p_value(y, X: pd.DataFrame, name: str, groups=None) -> tuple[float, float]:
    """HC1 (normal) p-value of one OLS coefficient and the residual sum of squares.

    With ``groups`` the group fixed effects are absorbed by demeaning within groups
    (Frisch-Waugh-Lovell): the coefficient, the residuals and so the HC1 sandwich are those of
    the regression with one dummy per group (statsmodels ``OLS(...).fit(cov_type="HC1")``,
    tested), without a design matrix of thousands of team columns. Rank-deficient designs
    (teams nested in roles) are fine: a pseudo-inverse, and the residual degrees of freedom use
    the rank.
    """
    y = np.asarray(y, dtype=float)
    Xv = X.to_numpy(dtype=float)
    absorbed = 0
    if groups is not None:
        codes, levels = pd.factorize(groups)
        absorbed = len(levels)

        def demean(a):
            a = a.reshape(len(a), -1)
            sums = np.zeros((absorbed, a.shape[1]))
            np.add.at(sums, codes, a)
            return a - (sums / np.bincount(codes, minlength=absorbed)[:, None])[codes]

        keep = [c != "Intercept" for c in X.columns]
        Xv, y = demean(Xv[:, keep]), demean(y)[:, 0]
        names = [c for c, k in zip(X.columns, keep, strict=True) if k]
    else:
        names = list(X.columns)
    gram_inv = np.linalg.pinv(Xv.T @ Xv)
    beta = gram_inv @ (Xv.T @ y)
    resid = y - Xv @ beta
    rank = np.linalg.matrix_rank(Xv)
    meat = (Xv * resid[:, None] ** 2).T @ Xv
    cov = gram_inv @ meat @ gram_inv * len(y) / (len(y) - rank - absorbed)
    j = names.index(name)
    se = np.sqrt(cov[j, j])
    p_value = 2 * stats.norm.sf(abs(beta[j] / se)) if se > 0 else np.nan
    return float(p_value), float(resid @ resid)
