"""The fair averages' likelihood-ratio intervals (issue 25, section 1), against a brute force.

:func:`~workbench.calibration.rasch.fair.likelihood_bounds` is checked against the deviance of
each cell written out from the model's category probabilities (adjacent-category logits) and
solved by scipy's ``brentq``; an all-top cell's lower bound against the probability of all-top
ratings. Coverage of the truth is in test_rasch_uncertainty.py.
"""

from __future__ import annotations

import numpy as np
from scipy import optimize

from workbench.calibration.rasch.fair import OPEN, likelihood_bounds

TAU = np.array([[-1.5, -0.4, 0.5, 1.4]])
MASK = np.zeros((1, 5))


def _probs(eta):
    """P(x = k), k = 0..4, written out: exp(k eta - sum_{j <= k} tau_j) normalised."""
    logits = np.outer(eta, np.arange(5)) - np.r_[0.0, np.cumsum(TAU[0])]
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def _loglik(b, eta, x):
    return float(np.log(_probs(eta + b)[np.arange(len(x)), x]).sum())


def test_bounds_are_where_the_deviance_reaches_the_critical_value():
    rng = np.random.default_rng(3)
    eta = rng.normal(0.5, 0.7, 9)
    x = np.array([1, 2, 3, 3, 2, 4, 3, 2, 4])  # cells 0-2: mixed; cell 3: all top
    cells = np.array([0, 0, 0, 1, 1, 1, 2, 2, 3])
    side = np.array([0, 0, 0, 1])
    critical = np.array([3.84, 5.0, 3.84, 2 * np.log(40)])
    b = np.zeros(4)
    for c in range(3):  # each mixed cell's maximum, by a generic optimiser
        rows = cells == c
        b[c] = optimize.minimize_scalar(lambda v, r=rows: -_loglik(v, eta[r], x[r]),
                                        bounds=(-10, 10), method="bounded",
                                        options={"xatol": 1e-10}).x
    b[3] = 1.0  # an adjusted estimate; the bound does not depend on it
    low, high = likelihood_bounds(eta, np.zeros(9, int), TAU, MASK, x, cells, 4, b, side,
                                  critical)
    for c in range(3):
        rows = cells == c
        peak = _loglik(b[c], eta[rows], x[rows])

        def excess(v, r=rows, p=peak, k=critical[c]):
            return 2 * (p - _loglik(v, eta[r], x[r])) - k

        np.testing.assert_allclose(low[c], optimize.brentq(excess, b[c] - 20, b[c]), atol=1e-6)
        np.testing.assert_allclose(high[c], optimize.brentq(excess, b[c], b[c] + 20), atol=1e-6)
    # all top: the probability of all-top ratings is alpha / 2 = 0.025 at the lower bound
    top_prob = _probs(eta[cells == 3] + low[3])[:, 4].prod()
    np.testing.assert_allclose(top_prob, 0.025, rtol=1e-5)
    assert high[3] == b[3] + OPEN
