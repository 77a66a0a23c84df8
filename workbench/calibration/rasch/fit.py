"""Rasch fit statistics: infit and outfit mean squares (and their standardised forms) per
element, and the category statistics of the rating scale.

For rating ``n`` with observed category ``x``, expected ``E``, model variance ``W`` and fourth
central moment ``C`` (all under the fitted model), the residual is ``y = x - E`` and the
standardised residual ``z = y / sqrt(W)``. Per element (Wright & Masters, 1982; Linacre's
FACETS manual):

    outfit = mean(z^2)                     q_out^2 = sum(C / W^2) / N^2 - 1 / N
    infit  = sum(y^2) / sum(W)             q_in^2  = sum(C - W^2) / (sum W)^2
    zstd   = (MS^(1/3) - 1) (3 / q) + q / 3        (Wilson-Hilferty)

Mean squares near 1 fit; above ~1.5 is noise (a random responder); well below 1 is too
predictable (e.g. a central-tendency rater, whose ratings vary less than the model expects).

Examples
--------
>>> import numpy as np
>>> P = np.array([[0.25, 0.5, 0.25]])
>>> y, W, C = residual_moments(np.array([1]), P)
>>> float(W[0]), float(C[0])
(0.5, 0.5)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["residual_moments", "element_fit", "category_statistics"]


def residual_moments(x, P):
    """Residual ``x - E``, variance ``W`` and fourth central moment ``C`` of every rating."""
    m = np.arange(P.shape[1], dtype=float)
    E = P @ m
    dev = m[None, :] - E[:, None]
    W = (P * dev ** 2).sum(axis=1)
    C = (P * dev ** 4).sum(axis=1)
    return x - E, W, C


def _zstd(ms, q):
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(q > 0, (np.cbrt(ms) - 1.0) * (3.0 / q) + q / 3.0, np.nan)


def element_fit(codes, size, y, W, C) -> pd.DataFrame:
    """Infit / outfit mean squares and standardised fit of every element of one facet.

    Returns
    -------
    DataFrame
        ``infit``, ``infit_z``, ``outfit``, ``outfit_z``, ``n`` (ratings), one row per element
        in code order; NaN for elements without ratings.

    Examples
    --------
    >>> import numpy as np
    >>> fit = element_fit(np.array([0, 0]), 1, np.array([0.5, -0.5]), np.array([0.5, 0.5]),
    ...                   np.array([0.5, 0.5]))
    >>> float(fit["infit"].iloc[0]), float(fit["outfit"].iloc[0])
    (0.5, 0.5)
    """
    n = np.bincount(codes, minlength=size).astype(float)
    safe_w = np.maximum(W, 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        outfit = np.bincount(codes, y ** 2 / safe_w, size) / n
        sum_w = np.bincount(codes, W, size)
        infit = np.bincount(codes, y ** 2, size) / sum_w
        q_out = np.sqrt(np.maximum(np.bincount(codes, C / safe_w ** 2, size) / n ** 2 - 1 / n,
                                   0.0))
        q_in = np.sqrt(np.maximum(np.bincount(codes, C - W ** 2, size) / sum_w ** 2, 0.0))
    return pd.DataFrame({"infit": infit, "infit_z": _zstd(infit, q_in), "outfit": outfit,
                         "outfit_z": _zstd(outfit, q_out), "n": n.astype(int)})


def category_statistics(x, values, P, eta, tau_table: pd.DataFrame) -> pd.DataFrame:
    """FACETS' category table for one threshold group.

    Parameters
    ----------
    x : int array
        Observed categories of the group's ratings.
    values : array
        Score of each category.
    P : array (n, M + 1)
        Model probabilities of those ratings.
    eta : array
        Their linear predictors (ability minus the other facets' measures).
    tau_table : DataFrame
        ``category``, ``threshold``, ``threshold_se`` for the group's categories.

    Returns
    -------
    DataFrame
        ``category`` (score), ``count``, ``percent``, ``average_measure`` (mean linear
        predictor of the ratings in the category), ``expected_measure`` (its model
        expectation), ``outfit`` (mean squared standardised residual of those ratings),
        ``threshold`` (Andrich threshold into the category), ``threshold_se``,
        ``disordered_threshold`` (below the previous threshold), ``disordered_measure``
        (average measure not above the previous category's).
    """
    M1 = len(values)
    count = np.bincount(x, minlength=M1).astype(float)
    avg = np.bincount(x, eta, M1) / np.where(count > 0, count, np.nan)
    expected = (P * eta[:, None]).sum(axis=0) / P.sum(axis=0)
    y, W, _ = residual_moments(x, P)
    outfit = np.bincount(x, y ** 2 / np.maximum(W, 1e-12), M1) / np.where(count > 0, count,
                                                                          np.nan)
    frame = pd.DataFrame({"category": values, "count": count.astype(int),
                          "percent": 100 * count / max(count.sum(), 1),
                          "average_measure": avg, "expected_measure": expected,
                          "outfit": outfit})
    frame = frame.merge(tau_table, on="category", how="left")
    used = frame[frame["count"] > 0]
    thr = used["threshold"].to_numpy()
    dis_t = np.zeros(len(used), bool)
    dis_t[1:] = np.diff(thr) < 0
    am = used["average_measure"].to_numpy()
    dis_m = np.zeros(len(used), bool)
    dis_m[1:] = np.diff(am) <= 0
    frame["disordered_threshold"] = False
    frame["disordered_measure"] = False
    frame.loc[used.index, "disordered_threshold"] = dis_t & ~np.isnan(thr)
    frame.loc[used.index, "disordered_measure"] = dis_m
    return frame
