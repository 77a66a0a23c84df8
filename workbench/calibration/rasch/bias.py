"""Rasch bias/interaction analysis: a measure for each pair of elements (rater x skill,
rater x ratee, ratee x skill) with every main-effect measure anchored, and the anchored
one-dimensional solver it rests on (also used for extreme elements and re-estimated ratees).

For the ratings ``n`` of a cell ``c`` (e.g. one rater rating one skill) the interaction
``b_c`` solves

    sum_{n in c} x_n = sum_{n in c} E[x_n | eta_n + b_c]

where ``eta_n`` is the fitted main-effects predictor (as FACETS' bias analysis, Linacre's
Table 13/14). ``b_c > 0``: the cell's ratings are *higher* than the main effects predict (a
rater more lenient than usual with that skill or person). Its model SE is
``1 / sqrt(sum V_n)`` at ``b_c``, ``t = b_c / se`` with ``df = n - 1`` and a two-sided
p-value. A cell whose ratings are all in the top (bottom) category gets the FACETS
adjustment: its score moved 0.3 points towards the centre (``extreme`` is True).

Examples
--------
>>> import numpy as np
>>> frame = interaction_table(np.zeros(4), np.zeros(4, int), np.zeros((1, 2)),
...                           np.zeros((1, 3)), np.array([2, 2, 0, 0]),
...                           np.array([0, 0, 1, 1]), 2, np.array([1.0, 2.0, 3.0]))
>>> frame["estimate"].round(2).tolist()
[1.99, -1.99]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from workbench.calibration.rasch.estimation import (
    EXTREME_ADJUSTMENT,
    MAX_MEASURE,
    category_moments,
)

__all__ = ["interaction_table", "cell_targets", "solve_cells"]


def cell_targets(x, group, lo, hi, cell, n_cells):
    """Observed score of every cell (categories clipped to their group's range), moved
    ``EXTREME_ADJUSTMENT`` towards the centre where it is extreme; and the extreme flags."""
    xc = np.clip(x, lo[group], hi[group])
    total = np.bincount(cell, xc, n_cells)
    top = np.bincount(cell, hi[group], n_cells)
    bottom = np.bincount(cell, lo[group], n_cells)
    at_top = np.isclose(total, top)
    at_bottom = np.isclose(total, bottom)
    target = total - EXTREME_ADJUSTMENT * at_top + EXTREME_ADJUSTMENT * at_bottom
    return target, at_top | at_bottom


def interaction_table(eta, group, tau, mask, x, cell, n_cells, values) -> pd.DataFrame:
    """Interaction measure, SE, t and p of every cell (in cell-code order).

    Parameters
    ----------
    eta : array
        Main-effects linear predictor of every rating.
    group, tau, mask :
        Threshold group of each rating, thresholds (groups, M) and category mask
        (groups, M + 1).
    x : int array
        Observed categories.
    cell : int array
        Cell code of every rating; ``n_cells`` cells.
    values : array
        Score of each category.

    Returns
    -------
    DataFrame
        ``n``, ``observed`` (mean rating), ``expected`` (mean expected rating under the main
        effects), ``estimate`` (logits), ``se``, ``t``, ``df``, ``p_value``, ``extreme``.
    """
    M1 = mask.shape[1]
    lo = np.argmax(np.isfinite(mask), axis=1)
    hi = M1 - 1 - np.argmax(np.isfinite(mask[:, ::-1]), axis=1)
    target, extreme = cell_targets(x, group, lo, hi, cell, n_cells)
    b, se = solve_cells(eta, group, tau, mask, cell, n_cells, target)
    n = np.bincount(cell, minlength=n_cells)
    values = np.asarray(values, float)
    P, _, _ = category_moments(eta, group, tau, mask)
    with np.errstate(divide="ignore", invalid="ignore"):
        observed = np.bincount(cell, values[x], n_cells) / n
        expected = np.bincount(cell, P @ values, n_cells) / n
        t = b / se
    df = n - 1
    p = np.where(df > 0, 2 * special.stdtr(np.maximum(df, 1), -np.abs(t)), np.nan)
    return pd.DataFrame({"n": n, "observed": observed, "expected": expected, "estimate": b,
                         "se": se, "t": t, "df": df, "p_value": p, "extreme": extreme})


def solve_cells(eta0, group, tau, mask, cell, n_cells, target, *, sign=1.0, max_iter=200,
                tol=1e-7):
    """Solve ``sum_{n in c} E[x_n | eta0_n + sign * b_c] = target_c`` for every cell ``c``.

    The one-dimensional Newton step used for extreme elements (with adjusted targets),
    re-estimation of ratees, and bias/interaction terms: all other measures are anchored.

    Returns
    -------
    b, se : arrays (n_cells,)
        The cell measures (clipped to +-MAX_MEASURE) and their model SEs
        ``1 / sqrt(sum V)``; NaN for cells without ratings or without information.
    """
    b = np.zeros(n_cells)
    count = np.bincount(cell, minlength=n_cells)
    active = np.flatnonzero(count > 0)
    rows = np.arange(len(cell))
    for _ in range(max_iter):
        # Only the cells still moving are recomputed: most converge in a few steps.
        _, E, V = category_moments(eta0[rows] + sign * b[cell[rows]], group[rows], tau, mask)
        sE = np.bincount(cell[rows], E, n_cells)[active]
        sV = np.bincount(cell[rows], V, n_cells)[active]
        step = np.clip(sign * (target[active] - sE) / np.maximum(sV, 1e-10), -1.0, 1.0)
        new = np.clip(b[active] + step, -MAX_MEASURE, MAX_MEASURE)
        change = np.abs(new - b[active])
        b[active] = new
        moving = change >= tol
        if not moving.any():
            break
        active = active[moving]
        still = np.zeros(n_cells, dtype=bool)
        still[active] = True
        rows = rows[still[cell[rows]]]
    _, E, V = category_moments(eta0 + sign * b[cell], group, tau, mask)
    sV = np.bincount(cell, V, n_cells)
    with np.errstate(divide="ignore"):
        se = 1.0 / np.sqrt(sV)
    # A cell whose ratings all fall in one-category groups carries no information.
    ok = (count > 0) & (sV > 0)
    return np.where(ok, b, np.nan), np.where(ok, se, np.nan)
