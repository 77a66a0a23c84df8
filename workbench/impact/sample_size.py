"""Effect sizes for paired designs and power planning for training evaluations.

Two small statistical areas that the impact estimators build on:

* standardised mean changes for a pre/post design (Lakens, 2013): ``d_z`` with an exact
  confidence interval from the noncentral t distribution, and Hedges-corrected ``g_av`` with
  Bonett's (2008) normal-approximation interval;
* the minimum detectable effect and the sample size for 80% power in a two-group comparison
  of ANCOVA-adjusted outcomes (``statsmodels.stats.power.TTestIndPower`` with the residual SD
  after adjusting for the pre score as the standardiser).

Examples
--------
>>> import numpy as np
>>> from workbench.impact.sample_size import paired_effect_sizes, minimum_detectable_effect
>>> rng = np.random.default_rng(0)
>>> pre = rng.normal(3, .5, 40)
>>> post = pre + .3 + rng.normal(0, .3, 40)
>>> round(float(paired_effect_sizes(pre, post)["d_z"]), 1)
1.2
>>> round(minimum_detectable_effect(40, 40, resid_sd=.4), 2)
0.25
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import optimize, stats
from statsmodels.stats.power import TTestIndPower

from workbench.checks import check_alpha, check_interval
from workbench.errors import ConfigError

__all__ = [
    "power_analysis",
    "hedges_correction",
    "paired_effect_sizes",
    "minimum_detectable_effect",
    "required_sample_size",
]


def hedges_correction(df: float) -> float:
    """Small-sample bias correction J = 1 - 3 / (4 df - 1) (Hedges & Olkin, 1985)."""
    return 1.0 - 3.0 / (4.0 * df - 1.0)


def _nct_ci(t_obs: float, df: float, alpha: float) -> tuple[float, float]:
    """Noncentrality parameters whose t distributions put t_obs at the 1-alpha/2, alpha/2 points.

    Falls back to the normal approximation ``t +- z sqrt(1 + t^2 / (2 df))`` where scipy's
    noncentral t cannot be evaluated (very large t or df).
    """

    def gap(ncp, q):
        return stats.nct.cdf(t_obs, df, ncp) - q

    spread = np.sqrt(1 + t_obs**2 / (2 * df))
    width = 8 * spread + 1
    try:
        lo = optimize.brentq(gap, t_obs - width, t_obs + width, args=(1 - alpha / 2,))
        hi = optimize.brentq(gap, t_obs - width, t_obs + width, args=(alpha / 2,))
    except ValueError:
        z = stats.norm.ppf(1 - alpha / 2)
        lo, hi = t_obs - z * spread, t_obs + z * spread
    return lo, hi


def paired_effect_sizes(pre, post, *, alpha: float = 0.05) -> dict:
    """Mean change and standardised effect sizes of a pre/post (paired) design.

    Parameters
    ----------
    pre, post : array-like
        Scores of the same people before and after (equal length, no missing values).
    alpha : float
        1 - confidence level of the intervals.

    Returns
    -------
    dict
        ``estimate`` (mean of post - pre), ``se``, ``ci_low``, ``ci_high`` (t interval),
        ``t``, ``p_value`` (paired t test, as ``scipy.stats.ttest_rel``), ``n``, ``d_z``,
        ``d_z_ci_low``, ``d_z_ci_high``, ``g_av``, ``g_av_ci_low``, ``g_av_ci_high``, ``r``
        (pre/post correlation).

    Notes
    -----
    ``d_z = mean(D) / sd(D)`` with ``D = post - pre``; its interval inverts the noncentral t
    distribution of ``t = d_z sqrt(n)`` (exact under normality; a normal approximation where
    scipy cannot evaluate the noncentral t). ``d_av = mean(D) /
    ((sd_pre + sd_post) / 2)`` (Lakens, 2013, eq. 10) is corrected by Hedges' J with
    ``df = n - 1`` to ``g_av``. Its interval is Bonett's (2008) normal approximation with
    variance ``d^2 (s1^4 + s2^4 + 2 r^2 s1^2 s2^2) / (8 (n-1) s^4) + s_D^2 / ((n-1) s^2)``,
    ``s^2 = (s1^2 + s2^2) / 2``, computed around d_av and then multiplied by J. (Bonett uses
    the root-mean-square standardiser; we keep Lakens' arithmetic mean of the SDs for the point
    estimate, which differs from it by less than 1% unless the SDs differ greatly.)
    The t test, d_z and d_av were checked against ``scipy.stats.ttest_rel`` and direct
    computation in tests/test_impact.py.
    """
    pre = np.asarray(pre, dtype=float)
    post = np.asarray(post, dtype=float)
    if pre.shape != post.shape:
        raise ConfigError(f"pre and post differ in length ({len(pre)} vs {len(post)})")
    n = len(pre)
    out = dict.fromkeys(["estimate", "se", "ci_low", "ci_high", "t", "p_value", "d_z",
                         "d_z_ci_low", "d_z_ci_high", "g_av", "g_av_ci_low", "g_av_ci_high",
                         "r"], np.nan)
    out["n"] = n
    if n < 2:
        return out
    diff = post - pre
    mean, sd_d = diff.mean(), diff.std(ddof=1)
    s1, s2 = pre.std(ddof=1), post.std(ddof=1)
    df = n - 1
    se = sd_d / np.sqrt(n)
    q = stats.t.ppf(1 - alpha / 2, df)
    out.update(estimate=mean, se=se, ci_low=mean - q * se, ci_high=mean + q * se)
    if sd_d <= 0 or n < 3:
        return out
    t = mean / se
    out.update(t=t, p_value=2 * stats.t.sf(abs(t), df))
    d_z = mean / sd_d
    lo, hi = _nct_ci(t, df, alpha)
    out.update(d_z=d_z, d_z_ci_low=lo / np.sqrt(n), d_z_ci_high=hi / np.sqrt(n))
    if s1 > 0 and s2 > 0:
        r = float(np.corrcoef(pre, post)[0, 1])
        d_av = mean / ((s1 + s2) / 2)
        s_sq = (s1**2 + s2**2) / 2
        var = (d_av**2 * (s1**4 + s2**4 + 2 * r**2 * s1**2 * s2**2) / (8 * df * s_sq**2)
               + sd_d**2 / (df * s_sq))
        j = hedges_correction(df)
        z = stats.norm.ppf(1 - alpha / 2)
        out.update(r=r, g_av=j * d_av, g_av_ci_low=j * (d_av - z * np.sqrt(var)),
                   g_av_ci_high=j * (d_av + z * np.sqrt(var)))
    return out


def _check_power_args(alpha, power):
    check_alpha(alpha)
    check_interval("power", power, low=0, high=1, inclusive="neither")


def minimum_detectable_effect(n_trained: int, n_untrained: int, *, resid_sd: float,
                              alpha: float = 0.05, power: float = 0.8) -> float:
    """Smallest training effect (in score points) detected with the given power.

    Two-sided two-sample t test on ANCOVA-adjusted outcomes: the standardised effect solved by
    ``TTestIndPower().solve_power`` for ``nobs1 = n_trained``, ``ratio = n_untrained /
    n_trained``, times ``resid_sd`` (the residual SD after adjusting for the pre score, which
    already holds the variance reduction ``1 - r^2`` that ANCOVA brings). Clustering by team is
    not part of this planning formula (design effect 1).

    Examples
    --------
    >>> round(minimum_detectable_effect(30, 90, resid_sd=.35), 2)
    0.21
    """
    _check_power_args(alpha, power)
    if n_trained < 2 or n_untrained < 2 or not np.isfinite(resid_sd) or resid_sd <= 0:
        return np.nan
    d = TTestIndPower().solve_power(effect_size=None, nobs1=n_trained, alpha=alpha,
                                    power=power, ratio=n_untrained / n_trained,
                                    alternative="two-sided")
    return float(d) * resid_sd


def required_sample_size(effect: float, *, resid_sd: float, ratio: float = 1.0,
                         alpha: float = 0.05, power: float = 0.8) -> tuple[float, float]:
    """People needed (trained, untrained) to detect ``effect`` score points with ``power``.

    ``ratio`` is untrained per trained person. Returns ``(n_trained, n_untrained)`` (not
    rounded; round up when planning).

    Examples
    --------
    >>> n1, n0 = required_sample_size(.2, resid_sd=.4)
    >>> round(n1)
    64
    """
    _check_power_args(alpha, power)
    if effect <= 0:
        raise ConfigError(f"effect={effect!r}: must be positive (score points)")
    if not np.isfinite(resid_sd) or resid_sd <= 0 or not ratio > 0:
        return np.nan, np.nan
    n1 = TTestIndPower().solve_power(effect_size=effect / resid_sd, nobs1=None, alpha=alpha,
                                     power=power, ratio=ratio, alternative="two-sided")
    n1 = float(np.atleast_1d(n1)[0])
    return n1, n1 * ratio


def power_analysis(ancova: pd.DataFrame, *, target_effect: float = 0.2, alpha: float = 0.05,
                   power: float = 0.8) -> pd.DataFrame:
    """Minimum detectable effect of the current design and the sample size for a target effect.

    Parameters
    ----------
    ancova : DataFrame
        From :func:`ancova_effects` (uses n_trained, n_untrained, resid_sd).
    target_effect : float
        Effect in score points to plan for.

    Returns
    -------
    DataFrame
        skill, n_trained, n_untrained, resid_sd, mde (score points, at ``alpha`` two-sided and
        ``power``), target_effect, n_trained_needed, n_untrained_needed (same untrained per
        trained ratio as now), alpha, power. See :mod:`workbench.impact.sample_size`.
    """
    _check_power_args(alpha, power)
    check_interval("target_effect", target_effect, low=0, inclusive="neither")
    rows = []
    for r in ancova.itertuples(index=False):
        n1, n0, sd = r.n_trained, r.n_untrained, r.resid_sd
        mde = minimum_detectable_effect(n1, n0, resid_sd=sd, alpha=alpha, power=power)
        ratio = n0 / n1 if n1 > 0 and n0 > 0 else 1.0
        need1, need0 = required_sample_size(target_effect, resid_sd=sd, ratio=ratio,
                                            alpha=alpha, power=power)
        rows.append({"skill": r.skill, "n_trained": n1, "n_untrained": n0, "resid_sd": sd,
                     "mde": mde, "target_effect": target_effect,
                     "n_trained_needed": need1, "n_untrained_needed": need0,
                     "alpha": alpha, "power": power})
    return pd.DataFrame(rows)


