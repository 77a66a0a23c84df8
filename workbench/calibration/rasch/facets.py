"""Rasch facet summaries: separation, strata and reliability per facet, fair averages, and the
threshold table with its standard errors.

Separation (FACETS' "Model" and "Real" rows): over the non-extreme elements of a facet with
measures ``D`` and standard errors ``se``,

    observed variance  S^2 = var(D)            (population variance)
    error variance     RMSE^2 = mean(se^2)
    true SD            T = sqrt(max(S^2 - RMSE^2, 0))
    separation         G = T / RMSE;  strata H = (4 G + 1) / 3;  reliability R = T^2 / S^2
    fixed chi-square   sum(w (D - sum(w D) / sum(w))^2), w = 1 / se^2, df = n - 1

"Real" SEs inflate model SEs by ``sqrt(max(infit, 1))`` (misfit adds uncertainty).

A *fair average* is the expected rating (on the survey's scale) at an element's measure with
every other facet at its average: centred facets at 0, the ratees at their mean measure, the
source at the reference (``"others"``: the mean of the non-self sources' offsets). Where the
thresholds belong to another facet the expected rating is averaged over that facet's threshold
structures (per skill), or taken at the average rater's structure (per rater: the mean
thresholds of the raters who use the full scale).

Examples
--------
>>> import numpy as np
>>> frame = separation_statistics(np.array([-1.0, 0.0, 1.0]), np.array([0.25, 0.25, 0.25]))
>>> round(float(frame["reliability"].iloc[0]), 3)
0.906
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from workbench.calibration.rasch.estimation import category_moments

__all__ = ["separation_statistics", "Structures", "threshold_table"]


def separation_statistics(measure, se) -> pd.DataFrame:
    """Separation, strata, reliability and the fixed (all same) chi-square of one facet.

    Returns
    -------
    DataFrame
        One row: ``n``, ``mean``, ``sd``, ``rmse``, ``true_sd``, ``separation``, ``strata``,
        ``reliability``, ``chi_square``, ``df``, ``p_value``.
    """
    measure = np.asarray(measure, float)
    se = np.asarray(se, float)
    ok = np.isfinite(measure) & np.isfinite(se) & (se > 0)
    D, s = measure[ok], se[ok]
    n = len(D)
    if n < 2:
        return pd.DataFrame([{"n": n, "mean": D.mean() if n else np.nan, "sd": np.nan,
                              "rmse": np.nan, "true_sd": np.nan, "separation": np.nan,
                              "strata": np.nan, "reliability": np.nan, "chi_square": np.nan,
                              "df": max(n - 1, 0), "p_value": np.nan}])
    var = D.var()
    rmse = np.sqrt(np.mean(s ** 2))
    true_sd = np.sqrt(max(var - rmse ** 2, 0.0))
    sep = true_sd / rmse
    w = 1 / s ** 2
    chi = float((w * (D - (w * D).sum() / w.sum()) ** 2).sum())
    return pd.DataFrame([{"n": n, "mean": D.mean(), "sd": np.sqrt(var), "rmse": rmse,
                          "true_sd": true_sd, "separation": sep, "strata": (4 * sep + 1) / 3,
                          "reliability": true_sd ** 2 / var if var > 0 else np.nan,
                          "chi_square": chi, "df": n - 1,
                          "p_value": float(special.chdtrc(n - 1, chi))}])


class Structures:
    """The threshold structures a fair average is taken over.

    Parameters
    ----------
    tau : array (groups, M)
    mask : array (groups, M + 1)
    values : array (M + 1)
        Scores of the categories.
    free : bool array (groups, M)
        Steps each group uses.
    by : {"common", "skill", "rater"}
    """

    def __init__(self, tau, mask, values, free, by):
        self.tau, self.mask, self.values, self.by = tau, mask, np.asarray(values, float), by
        full = free.all(axis=1)
        if by == "rater":
            pool = full if full.any() else free.sum(axis=1) == free.sum(axis=1).max()
            self.average_tau = tau[pool].mean(axis=0)[None, :]
            self.average_mask = np.where(np.isfinite(mask[pool]).any(axis=0), 0.0,
                                         -np.inf)[None, :]

    def _moments(self, eta, group, tau, mask):
        P, _, _ = category_moments(eta, group, tau, mask)
        E = P @ self.values
        V = np.maximum(P @ self.values ** 2 - E ** 2, 0.0)
        return E, V

    def expected(self, eta, group=None):
        """Expected score and its derivative in ``eta`` (= the score variance).

        ``group``: each row's own threshold group; None averages over the reference
        structures (see the module docstring).
        """
        eta = np.asarray(eta, float)
        if group is not None:
            return self._moments(eta, np.asarray(group), self.tau, self.mask)
        if self.by == "rater":
            return self._moments(eta, np.zeros(len(eta), int), self.average_tau,
                                 self.average_mask)
        G = len(self.tau)
        E, V = np.zeros(len(eta)), np.zeros(len(eta))
        for g in range(G):
            e, v = self._moments(eta, np.full(len(eta), g), self.tau, self.mask)
            E += e / G
            V += v / G
        return E, V


def threshold_table(design, tau, P, keep_groups=None) -> pd.DataFrame:
    """Andrich thresholds with SEs, one row per group and used category above the lowest.

    The SE comes from the inverse of the group's threshold information (the covariance of
    the indicators ``x >= j`` summed over its ratings) under the sum-to-zero constraint.

    Returns
    -------
    DataFrame
        ``group``, ``category`` (score), ``threshold``, ``threshold_se``, ``disordered``
        (below the previous threshold of the group).
    """
    free = design.free_steps()
    S = np.cumsum(P[:, ::-1], axis=1)[:, ::-1][:, 1:]
    G, M = free.shape
    rows = []
    order = np.argsort(design.group, kind="stable")
    bounds = np.searchsorted(design.group[order], np.arange(G + 1))
    for g in range(G):
        steps = np.flatnonzero(free[g])
        if len(steps) == 0:
            continue
        idx = order[bounds[g]:bounds[g + 1]]
        Sg = S[idx][:, steps]
        cov = np.minimum(Sg[:, :, None], Sg[:, None, :]) - Sg[:, :, None] * Sg[:, None, :]
        info = cov.sum(axis=0)
        k = len(steps)
        if k == 1:
            se = np.array([np.nan])  # one threshold: fixed at 0 by the constraint
        else:
            Q = np.linalg.qr(np.vstack([np.ones(k), np.eye(k)[:-1]]).T)[0][:, 1:]
            inv = Q @ np.linalg.pinv(Q.T @ info @ Q) @ Q.T
            se = np.sqrt(np.maximum(np.diag(inv), 0.0))
        thr = tau[g, steps]
        dis = np.r_[False, np.diff(thr) < 0]
        for j, t, s, d in zip(steps, thr, se, dis, strict=True):
            rows.append({"group": design.group_labels[g], "category": design.values[j + 1],
                         "threshold": t, "threshold_se": s, "disordered": bool(d)})
    return pd.DataFrame(rows, columns=["group", "category", "threshold", "threshold_se",
                                       "disordered"])
