"""OLS building blocks shared by the impact estimators: design matrices, fits, regression
calibration of the pre score, multiplicity adjustment.

The estimators in :mod:`workbench.impact.effects` and :mod:`workbench.impact.pooling` fit many
small regressions (one per skill); they build design matrices directly with the coding of a
statsmodels formula (``C(covariate)``, first sorted level as reference) because formulas cost
about 50 ms per fit.

Examples
--------
>>> import pandas as pd
>>> d = pd.DataFrame({"pre": [1.0, 2.0, 3.0, 4.0], "role": ["a", "b", "a", "b"]})
>>> design_matrix(d, ["pre"], ["role"]).columns.tolist()
['Intercept', 'pre', 'C(role)[T.b]']
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.stats.multitest import multipletests

from workbench.checks import check_choice, check_interval
from workbench.errors import ConfigError

__all__ = ["COVARIATES", "PRE_ADJUST", "CORRECTIONS", "design_matrix", "fit_ols",
           "usable_covariates", "calibrated_pre", "pair_correlation", "check_error_correlation",
           "pre_adjust_for", "adjust_p_values", "check_panel"]

#: Panel columns entered as categorical covariates by default.
COVARIATES = ("role", "level")
#: How the pre score enters the regressions.
PRE_ADJUST = ("auto", "regression_calibration", "none")
#: Multiplicity adjustments (statsmodels ``multipletests`` methods).
CORRECTIONS = ("holm", "fdr_bh")


def check_panel(panel) -> None:
    """A panel from :func:`workbench.impact.panel.prepare_panel` (ConfigError otherwise)."""
    if not isinstance(panel, pd.DataFrame):
        raise ConfigError(f"panel: expected a DataFrame, got {type(panel).__name__}")
    need = {"person", "skill", "pre", "post", "trained", "included"}
    missing = need - set(panel.columns)
    if missing:
        raise ConfigError(f"panel: missing column(s) {sorted(missing)}; build it with "
                          "prepare_panel()")


def usable_covariates(d: pd.DataFrame, covariates) -> list:
    """Covariates present with at least two levels (and no gaps) in these rows."""
    return [c for c in covariates
            if c in d.columns and d[c].notna().all() and d[c].nunique() > 1]


def design_matrix(d: pd.DataFrame, columns, covariates) -> pd.DataFrame:
    """Constant, numeric ``columns``, treatment-coded ``covariates`` (first sorted level is the
    reference, as ``C(covariate)`` in a statsmodels formula)."""
    names = ["Intercept", *columns]
    blocks = [np.ones((len(d), 1)), d[list(columns)].to_numpy(dtype=float).reshape(len(d), -1)]
    for c in covariates:
        codes, levels = pd.factorize(d[c], sort=True)
        blocks.append(np.eye(len(levels))[codes][:, 1:])
        names += [f"C({c})[T.{v}]" for v in levels[1:]]
    return pd.DataFrame(np.hstack(blocks), columns=names, index=d.index)


def fit_ols(y, X, d, cluster, cov_type="cluster"):
    """OLS with team-clustered SEs (t with G-1 df), or HC1 / classical when asked or no teams.

    Returns the statsmodels results and the SE type used ("cluster", "HC1", "nonrobust").
    """
    model = sm.OLS(np.asarray(y, dtype=float), X)
    if cov_type == "nonrobust":
        return model.fit(), "nonrobust"
    if cluster is not None and cluster in d and d[cluster].notna().all() \
            and d[cluster].nunique() >= 2:
        groups = pd.factorize(d[cluster])[0]
        return model.fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True), "cluster"
    return model.fit(cov_type="HC1", use_t=True), "HC1"


def calibrated_pre(d: pd.DataFrame, covariates, *, group="trained", numeric=(),
                   error_correlation: float | None = None):
    """Regression calibration of the pre score: E[true pre | observed pre, group, covariates].

    ``pre = fitted + r`` from OLS of the observed pre score on the group (a categorical column
    of ``d``), the ``numeric`` columns (e.g. activity indicators) and the covariates; the
    residual is shrunk by ``v / (v + se_i^2)`` where ``v`` = residual variance minus the mean
    squared SE (the true within-group variance, floored at 5% of the residual variance). Rows
    without SE keep their pre score (Carroll et al., 2006, ch. 4).

    When the errors of the pre and the post score are correlated (rho: the same raters'
    lasting impressions enter both waves), the post score's error is partly predictable from
    the pre residual: ``E[e_post | r] = c_i / (v + se_i^2) r`` with ``c_i = rho_i se_pre
    se_post``. Left in, it inflates the pre slope and, when the trained started lower, the
    training effect; the returned ``post_shift`` is that part, to subtract from the post score
    before the regression. ``error_correlation=None`` takes each row's ``rho_i`` from the
    panel's ``error_corr`` column (computed by the calibration,
    :func:`workbench.calibration.wave_covariance.wave_error_correlation`; 0 where it is
    missing); a number applies that correlation to every row.

    Returns
    -------
    (ndarray, float, ndarray)
        The calibrated pre scores, the mean shrinkage factor (reliability within groups), and
        the post shift (zeros when rho = 0 or without SEs).
    """
    covs = list(covariates) + ([group] if group else [])
    X = design_matrix(d, list(numeric), covs).to_numpy()
    y = d["pre"].to_numpy(dtype=float)
    beta, *_ = np.linalg.lstsq(X, y, rcond=None)
    fitted = X @ beta
    resid = y - fitted
    se2 = d["se_pre"].to_numpy(dtype=float) ** 2 if "se_pre" in d else np.full(len(d), np.nan)
    if not np.isfinite(se2).any():
        return y, 1.0, np.zeros(len(d))
    var_r = resid @ resid / max(len(y) - np.linalg.matrix_rank(X), 1)
    v = max(var_r - np.nanmean(se2), 0.05 * var_r)
    lam = np.where(np.isfinite(se2), v / (v + np.nan_to_num(se2)), 1.0)
    shift = np.zeros(len(d))
    rho = pair_correlation(d, error_correlation)
    if np.any(rho != 0) and "se_post" in d:
        cov = rho * np.sqrt(se2) * d["se_post"].to_numpy(dtype=float)
        shift = np.nan_to_num(cov / (v + se2) * resid)
    return fitted + lam * resid, float(np.mean(lam)), shift


def check_error_correlation(error_correlation):
    """None (from the scores) or a correlation strictly between -1 and 1."""
    if error_correlation is None:
        return None
    return check_interval("error_correlation", error_correlation, low=-1, high=1,
                          inclusive="neither")


def pair_correlation(d: pd.DataFrame, error_correlation: float | None = None) -> np.ndarray:
    """Each row's correlation between its pre and post score errors.

    A number applies to every row; None takes the panel's ``error_corr`` column (0 where it is
    missing or absent).

    Examples
    --------
    >>> d = pd.DataFrame({"error_corr": [0.2, float("nan")]})
    >>> pair_correlation(d).tolist(), pair_correlation(d, 0.1).tolist()
    ([0.2, 0.0], [0.1, 0.1])
    """
    if error_correlation is not None:
        return np.full(len(d), float(error_correlation))
    if "error_corr" not in d:
        return np.zeros(len(d))
    return np.nan_to_num(d["error_corr"].to_numpy(dtype=float))


def pre_adjust_for(panel: pd.DataFrame, pre_adjust: str) -> str:
    """The pre-score adjustment that runs: "auto" means regression calibration with SEs."""
    check_choice("pre_adjust", pre_adjust, PRE_ADJUST)
    if pre_adjust == "auto":
        has_se = "se_pre" in panel and panel["se_pre"].notna().any()
        return "regression_calibration" if has_se else "none"
    return pre_adjust


def adjust_p_values(p, correction: str) -> np.ndarray:
    """Adjusted p values (``multipletests``) of the finite entries; NaN stays NaN.

    Examples
    --------
    >>> adjust_p_values([0.01, float("nan"), 0.04], "holm").tolist()
    [0.02, nan, 0.04]
    """
    check_choice("correction", correction, CORRECTIONS)
    p = np.asarray(p, dtype=float)
    out = np.full_like(p, np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method=correction)[1]
    return out
