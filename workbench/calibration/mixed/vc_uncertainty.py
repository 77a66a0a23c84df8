"""Uncertainty of the estimated variance components in the calibrated scores' standard errors.

A calibrated score (and a rater effect) is a BLUP: a linear function of the ratings whose
weights depend on the variance components. Its standard error from the fit is the root of the
conditional (prediction-error) variance *at the estimated components*, as if they were known.
With few ratees and raters the components are poorly determined and that variance is too
small. This module owns the correction (issue #12): the delta method of Kackar & Harville and
Prasad & Rao,

    mse[c] = pev[c](theta_hat) + 2 g[c]' Cov(psi_hat) g[c],    psi = log theta,

where ``theta`` are the random terms' relative standard deviations (random SD / residual SD;
the BLUPs depend on the components only through them), ``g[c] = d estimate[c] / d psi`` (central
finite differences of the BLUPs, each from one factorisation of the mixed-model equations) and
``Cov(psi_hat) = 2 H^-1`` with ``H`` the Hessian of the profiled REML criterion
(``-2 log L_R``) in ``psi`` (central finite differences of its analytic gradient). The profiled
criterion's Hessian gives the same covariance of ``theta`` as the full information matrix of
``(theta, sigma)`` (the residual variance is profiled out, and the BLUPs do not depend on it),
and the log parametrisation keeps the quadratic approximation good for small components.

Why twice the delta term: ``pev + g' Cov g`` is Kackar & Harville's approximation of the true
mean squared error, but ``pev`` evaluated at the *estimated* components underestimates
``pev`` at the true ones by about ``g' Cov g`` again (Prasad & Rao 1990; for REML estimates
Datta & Lahiri 2000, Statistica Sinica 10, 613-627), so the estimator that is unbiased to
second order adds the term twice (as Kenward & Roger's adjusted covariance does for fixed
effects). Measured on small organisations (``docs/calibration.md``): adding the term once moves
the coverage of 95 % score intervals about half-way to 0.95, twice to within the margin.

Components at (or within 1e-3 of) zero are held fixed: the REML optimum is on the boundary
there, where the criterion has no curvature to invert (their uncertainty is not included; the
summary names them). Directions of non-positive curvature (a flat criterion) are dropped the
same way.

Intervals stay normal (``score +/- z se``). Checked against a brute-force computation with the
dense mixed-model equations (``tests/calibration/test_vc_uncertainty.py``); coverage on small
organisations in ``docs/calibration.md`` ("Uncertainty of the variance components").

Examples
--------
>>> import warnings
>>> from workbench.calibration.calibrate import calibrate_ratings
>>> from workbench.synth.generator import generate_organisation
>>> org = generate_organisation(30, seed=2, n_waves=1)
>>> small = org.ratings[org.ratings["ratee"].isin(org.people["person"][:10])]
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     cal = calibrate_ratings(small, vc_uncertainty="delta")
>>> cal.settings["vc_uncertainty_method"]
'delta'
>>> cal.settings["vc_se_increase"] > 0
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from workbench.checks import check_choice, check_integer
from workbench.errors import ConfigError

__all__ = ["VC_UNCERTAINTY", "AUTO_MAX_RATEES", "VcCorrection", "resolve_vc_uncertainty",
           "vc_correction", "delta_correction", "vc_summary"]

VC_UNCERTAINTY = ("auto", "none", "delta")
#: ``vc_uncertainty="auto"`` applies the delta method up to this many ratees (per connected
#: subset): see docs/calibration.md for the cost and the benefit measured by size.
AUTO_MAX_RATEES = 200
#: How many times the delta term is added (Prasad-Rao: once for the variability of the BLUP,
#: once for the bias of the plugged-in conditional variance; module docstring).
DELTA_TERMS = 2
THETA_FLOOR = 1e-3  # relative SD below which a component is taken to be on the boundary
STEP = 1e-4  # finite-difference step in log theta


@dataclass(frozen=True)
class VcCorrection:
    """Extra variance of each combination and each rater effect from the components' estimate.

    Attributes
    ----------
    scores : ndarray
        Added variance per combination (calibrated score), response units squared.
    raters : ndarray or None
        Added variance per level of the ``rater`` term (None without one).
    cov_log_theta : ndarray
        Covariance of the free components' ``log theta`` (``2 H^-1``).
    method : {"delta", "none"}
        What ran.
    free, held : list of str
        Terms whose uncertainty is included, and the others (on the boundary, or all terms
        when ``method="none"``).
    """

    scores: np.ndarray
    raters: np.ndarray | None
    cov_log_theta: np.ndarray
    method: str
    free: list
    held: list

    def settings(self, pev: np.ndarray) -> dict:
        """What the summary and ``settings.json`` report, given the uncorrected variances."""
        pev = np.asarray(pev, dtype=float)
        ok = pev > 0
        ratio = np.sqrt((pev[ok] + self.scores[ok]) / pev[ok]) - 1.0
        return {"vc_uncertainty_method": self.method,
                "vc_se_increase": float(ratio.mean()) if ratio.size else 0.0,
                "vc_terms_held": list(self.held) if self.method == "delta" else []}


def resolve_vc_uncertainty(vc_uncertainty: str, n_ratees: int, *, dense: bool = True) -> str:
    """The method that runs: ``"delta"`` or ``"none"``.

    ``"auto"``: delta up to :data:`AUTO_MAX_RATEES` ratees when the variance components were
    found by the exact (dense) solver (``dense``; at most 1,500 crossed levels: beyond, each of
    the correction's factorisations costs seconds and the components are well determined).

    Examples
    --------
    >>> resolve_vc_uncertainty("auto", 12), resolve_vc_uncertainty("auto", 5000)
    ('delta', 'none')
    >>> resolve_vc_uncertainty("auto", 12, dense=False)
    'none'
    """
    check_choice("vc_uncertainty", vc_uncertainty, VC_UNCERTAINTY)
    n_ratees = check_integer("n_ratees", n_ratees, low=0)
    if vc_uncertainty == "auto":
        return "delta" if n_ratees <= AUTO_MAX_RATEES and dense else "none"
    return vc_uncertainty


def _estimates(eng, theta, fixed_rows, random_idx, rater_idx):
    """Combinations ``fixed_rows beta + sum theta_k u_k[codes]`` and the rater BLUPs at theta,
    with the profiled REML gradient in ``log theta`` (one factorisation)."""
    st = eng.factor(theta)
    u, beta = eng.solve(st)
    est = fixed_rows @ beta
    for k, codes in random_idx:
        est = est + theta[k] * u[k][codes]
    raters = theta[rater_idx] * u[rater_idx] if rater_idx is not None else None
    grad = eng.gradient(st, True) * theta
    return est, raters, grad


def delta_correction(model, fixed_rows, random, *, step: float = STEP) -> VcCorrection:
    """Delta-method variance of the BLUP combinations due to the estimated components.

    Parameters
    ----------
    model : MixedResult
        A REML fit whose engine has not been released (dense engine: at most
        :data:`workbench.calibration.mixed.model.EXACT_SE` crossed levels).
    fixed_rows : ndarray (n_combo, p)
        Fixed-effect coefficients of each combination.
    random : list of (term, level codes)
        The random terms in each combination (as for ``MixedResult._combination_variance``).
    step : float
        Central finite-difference step in ``log theta``.

    Returns
    -------
    VcCorrection
        ``scores`` and ``raters`` hold :data:`DELTA_TERMS` times the delta term.

    Notes
    -----
    The delta term is ``g' 2 H^-1 g`` with ``g`` the derivative of each combination with respect to
    ``log theta`` and ``H`` the Hessian of the profiled REML criterion (module docstring;
    Kackar & Harville 1984, JASA 79, 853-862; Prasad & Rao 1990, JASA 85, 163-171).
    """
    eng = model._engine
    if eng is None or getattr(eng, "iterative", False) or model.method != "REML":
        raise ConfigError("vc_uncertainty='delta' needs an exact REML fit (at most 10,000 "
                          "crossed levels); use vc_uncertainty='none' for this design")
    terms = list(eng.s.terms)
    theta = np.asarray(model.theta.to_numpy(), dtype=float)
    fixed_rows = np.asarray(fixed_rows, dtype=float)
    random_idx = [(terms.index(name), np.asarray(codes)) for name, codes in random]
    rater_idx = terms.index("rater") if "rater" in terms else None
    free = np.flatnonzero(theta > THETA_FLOOR)
    n_combo = fixed_rows.shape[0]
    n_rater = int(eng.s.nlev[rater_idx]) if rater_idx is not None else 0
    grads = np.zeros((len(free), n_combo))
    grads_r = np.zeros((len(free), n_rater))
    hess = np.zeros((len(free), len(free)))
    for j, k in enumerate(free):
        pieces = []
        for sign in (1.0, -1.0):
            trial = theta.copy()
            trial[k] = theta[k] * np.exp(sign * step)
            # One BLAS thread, as in the fit: the blocks are small and threads spin.
            with threadpool_limits(limits=1, user_api="blas"):
                pieces.append(_estimates(eng, trial, fixed_rows, random_idx, rater_idx))
        (ep, rp, gp), (em, rm, gm) = pieces
        grads[j] = (ep - em) / (2 * step)
        if rater_idx is not None:
            grads_r[j] = (rp - rm) / (2 * step)
        hess[j] = (gp[free] - gm[free]) / (2 * step)
    hess = (hess + hess.T) / 2
    cov, kept = _inverse_information(hess)
    held = [terms[k] for k in range(len(terms)) if k not in set(free[kept])]
    g = grads[kept]
    extra = DELTA_TERMS * np.einsum("jc,jk,kc->c", g, cov, g)
    extra_r = None
    if rater_idx is not None:
        gr = grads_r[kept]
        extra_r = DELTA_TERMS * np.einsum("jc,jk,kc->c", gr, cov, gr)
    return VcCorrection(scores=extra, raters=extra_r, cov_log_theta=cov, method="delta",
                        free=[terms[k] for k in free[kept]], held=held)


def vc_correction(model, fixed_rows, random, *, vc_uncertainty: str,
                  n_ratees: int) -> VcCorrection:
    """The correction ``vc_uncertainty`` asks for (``"none"``: zeros), as
    :func:`delta_correction`; ``"auto"`` is resolved by :func:`resolve_vc_uncertainty` for
    ``n_ratees`` and the solver that fitted ``model``.
    """
    exact = model.settings.get("solver") == "dense" and model.settings.get("se_method") == "exact"
    method = resolve_vc_uncertainty(vc_uncertainty, n_ratees, dense=exact)
    if method == "delta":
        return delta_correction(model, fixed_rows, random)
    terms = list(model.theta.index)
    n_rater = int(model.n_levels["rater"]) if "rater" in terms else None
    return VcCorrection(scores=np.zeros(np.shape(fixed_rows)[0]),
                        raters=np.zeros(n_rater) if n_rater is not None else None,
                        cov_log_theta=np.zeros((0, 0)), method="none", free=[], held=terms)


def _inverse_information(hess):
    """``2 H^-1`` on the directions of positive curvature; returns (cov, kept indices)."""
    if hess.size == 0:
        return np.zeros((0, 0)), np.zeros(0, dtype=int)
    kept = np.arange(hess.shape[0])
    # A component whose curvature is not positive (a flat criterion) cannot be inverted: drop
    # it and try the rest (rare: it happens only next to the boundary).
    while len(kept):
        sub = hess[np.ix_(kept, kept)]
        eigval = np.linalg.eigvalsh(sub)
        if eigval.min() > 1e-8 * max(1.0, eigval.max()):
            return 2.0 * np.linalg.inv(sub), kept
        kept = np.delete(kept, int(np.argmin(np.diag(sub))))
    return np.zeros((0, 0)), kept


def vc_summary(settings: dict) -> str:
    """The summary line saying whether and how the components' uncertainty is included.

    Examples
    --------
    >>> vc_summary({"vc_uncertainty": "auto", "vc_uncertainty_method": "delta",
    ...             "vc_se_increase": 0.031, "vc_terms_held": []})
    'variance-component uncertainty: delta method (added 3.1 % to SEs on average)'
    >>> vc_summary({"vc_uncertainty": "auto", "vc_uncertainty_method": "none"})
    "variance-component uncertainty: not included (above 200 ratees; use vc_uncertainty='delta')"
    """
    method = settings.get("vc_uncertainty_method", "none")
    if method == "delta":
        line = (f"variance-component uncertainty: delta method (added "
                f"{100 * settings['vc_se_increase']:.1f} % to SEs on average)")
        held = settings.get("vc_terms_held") or []
        if held:
            line += f"; held at their estimate (on the boundary): {', '.join(held)}"
        return line
    if settings.get("se_method", "exact") != "exact":
        return ("variance-component uncertainty: not included (approximate SEs above 10,000 "
                "raters)")
    if settings.get("vc_uncertainty") == "auto" and settings.get("solver") == "iterative":
        return ("variance-component uncertainty: not included (over 1,500 raters: the "
                "iterative solver; use vc_uncertainty='delta')")
    if settings.get("vc_uncertainty") == "auto":
        return (f"variance-component uncertainty: not included (above {AUTO_MAX_RATEES} "
                "ratees; use vc_uncertainty='delta')")
    return "variance-component uncertainty: not included (vc_uncertainty='none')"
