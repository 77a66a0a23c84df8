"""The one-factor model of a scale's items, fitted by maximum likelihood, and omega total.

A competency's items are taken to measure one common factor: ``x_j = mu_j + lambda_j f + e_j``
with ``var(f) = 1`` and ``var(e_j) = psi_j``, so the model covariance is
``Sigma = lambda lambda' + diag(psi)``. The loadings and residual variances minimise the
normal-theory discrepancy

    F_ML = log|Sigma| + tr(S Sigma^-1) - log|S| - p

with ``S`` the item covariance matrix with divisor N (the fit of lavaan's
``cfa("f =~ x1 + ... + xp", std.lv = TRUE)``, whose ``fmin`` is ``F_ML / 2``). Omega total is
the share of the sum score's variance that the common factor explains (McDonald, 1999,
*Test Theory*, ch. 6):

    omega = (sum_j lambda_j)^2 / ((sum_j lambda_j)^2 + sum_j psi_j)

Checked against lavaan 0.6-14 (loadings, residual variances and omega to 1e-6) on the fixtures
in ``tests/fixtures/psych`` (``make_fixtures.R``, with its ``sessionInfo.txt``).

Examples
--------
>>> import numpy as np
>>> loadings = np.array([0.8, 0.7, 0.6, 0.5])
>>> cov = np.outer(loadings, loadings) + np.diag([0.36, 0.51, 0.64, 0.75])
>>> fit = fit_one_factor(cov, n_obs=200)
>>> np.round(fit.loadings * np.sqrt(200 / 199), 6).tolist()
[0.8, 0.7, 0.6, 0.5]
>>> round(omega_total(fit.loadings, fit.residuals), 4)
0.7494
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg, optimize

__all__ = ["OneFactorFit", "fit_one_factor", "fit_one_factor_batch", "omega_total",
           "pairwise_covariance", "weighted_pairwise_covariance"]


@dataclass(frozen=True)
class OneFactorFit:
    """Maximum-likelihood estimates of a one-factor model.

    Attributes
    ----------
    loadings : ndarray
        ``lambda_j`` (factor variance 1; signs chosen so that the loadings sum to >= 0).
    residuals : ndarray
        Residual variances ``psi_j`` (not bounded: a value <= 0 is a Heywood case).
    fmin : float
        ``F_ML / 2`` at the estimate (lavaan's ``fmin``).
    converged : bool
        The gradient vanished (max |gradient| < 1e-8).
    """

    loadings: np.ndarray
    residuals: np.ndarray
    fmin: float
    converged: bool

    @property
    def heywood(self) -> bool:
        """A residual variance at or below zero (an improper solution)."""
        return bool(np.any(self.residuals <= 0))


def pairwise_covariance(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Covariances over the pairs of answers present (R's ``cov(x, use = "pairwise")``).

    Parameters
    ----------
    values : ndarray (n, p)
        Answers, NaN where missing.

    Returns
    -------
    cov : ndarray (p, p)
        Each entry from the rows where both items were answered (divisor n_jk - 1; NaN below
        two such rows).
    n_pairs : ndarray (p, p)
        The number of such rows.

    Examples
    --------
    >>> x = np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 5.0], [4.0, 3.0]])
    >>> cov, n = pairwise_covariance(x)
    >>> round(float(cov[0, 1]), 6), int(n[0, 1])
    (1.166667, 3)
    """
    values = np.asarray(values, dtype=float)
    present = np.isfinite(values).astype(float)
    filled = np.where(present > 0, values, 0.0)
    n_pairs = present.T @ present
    sums = filled.T @ present  # sums[j, k]: item j's answers on the rows where k is present
    cross = filled.T @ filled
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (cross - sums * sums.T / n_pairs) / (n_pairs - 1.0)
    cov[n_pairs < 2] = np.nan
    return cov, n_pairs


def weighted_pairwise_covariance(values: np.ndarray, weights: np.ndarray) -> tuple:
    """Pairwise covariances of many resamples at once, a resample given by how often each row
    is drawn (bootstrap counts): the same numbers as :func:`pairwise_covariance` of the rows
    repeated.

    Parameters
    ----------
    values : ndarray (n, p)
    weights : ndarray (B, n)
        Non-negative whole counts.

    Returns
    -------
    cov, n_pairs : ndarray (B, p, p)

    Examples
    --------
    >>> x = np.array([[1.0, 2.0], [2.0, np.nan], [3.0, 5.0], [4.0, 3.0]])
    >>> cov, n = weighted_pairwise_covariance(x, np.array([[2, 1, 0, 1]]))
    >>> bool(np.allclose(cov[0], pairwise_covariance(x[[0, 0, 1, 3]])[0]))
    True
    """
    values = np.asarray(values, dtype=float)
    weights = np.asarray(weights, dtype=float)
    n, p = values.shape
    present = np.isfinite(values).astype(float)
    filled = np.where(present > 0, values, 0.0)

    def outer(a, b):
        return (a[:, :, None] * b[:, None, :]).reshape(n, p * p)

    n_pairs = (weights @ outer(present, present)).reshape(-1, p, p)
    sums = (weights @ outer(filled, present)).reshape(-1, p, p)
    cross = (weights @ outer(filled, filled)).reshape(-1, p, p)
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (cross - sums * np.swapaxes(sums, 1, 2) / n_pairs) / (n_pairs - 1.0)
    cov[n_pairs < 2] = np.nan
    return cov, n_pairs


def fit_one_factor_batch(covs: np.ndarray, *, n_obs: int, start: np.ndarray,
                         steps: int = 50, tol: float = 1e-9) -> tuple:
    """One-factor ML fits of many covariance matrices at once (bootstrap resamples), by
    Fisher scoring from a common start; those that do not converge are fitted one by one
    (:func:`fit_one_factor`).

    Returns
    -------
    loadings, residuals : ndarray (B, p)
    converged : ndarray of bool (B,)
    """
    samples = np.asarray(covs, dtype=float) * (n_obs - 1.0) / n_obs
    b, p = samples.shape[0], samples.shape[1]
    params = np.tile(np.asarray(start, dtype=float), (b, 1))
    eye = np.eye(p)
    done = np.zeros(b, dtype=bool)
    with np.errstate(all="ignore"):
        for _ in range(steps):
            lam, psi = params[:, :p], params[:, p:]
            sigma = lam[:, :, None] * lam[:, None, :] + psi[:, None, :] * eye
            try:
                w = np.linalg.inv(sigma)
            except np.linalg.LinAlgError:
                break
            g = w - w @ samples @ w
            grad = np.concatenate([2.0 * np.einsum("bjk,bk->bj", g, lam),
                                   np.diagonal(g, axis1=1, axis2=2)], axis=1)
            done = np.all(np.abs(grad) < tol, axis=1)
            if done.all():
                break
            u = np.einsum("bjk,bk->bj", w, lam)
            c = np.einsum("bj,bj->b", lam, u)
            top = np.concatenate([2.0 * (u[:, :, None] * u[:, None, :] + c[:, None, None] * w),
                                  2.0 * w * u[:, None, :]], axis=2)
            bottom = np.concatenate([np.swapaxes(2.0 * w * u[:, None, :], 1, 2), w**2],
                                    axis=2)
            info = np.concatenate([top, bottom], axis=1)
            try:
                move = np.linalg.solve(info, grad[:, :, None])[:, :, 0]
            except np.linalg.LinAlgError:
                break
            params = np.where(done[:, None], params, params - move)
    converged = done & np.all(np.isfinite(params), axis=1)
    for k in np.flatnonzero(~converged):
        if not np.all(np.isfinite(covs[k])):
            continue
        fit = fit_one_factor(covs[k], n_obs=n_obs, start=start, polish=False)
        params[k] = np.concatenate([fit.loadings, fit.residuals])
        converged[k] = fit.converged
    lam = params[:, :p] * np.where(params[:, :p].sum(axis=1) < 0, -1.0, 1.0)[:, None]
    return lam, params[:, p:], converged


def _objective(params: np.ndarray, sample: np.ndarray) -> tuple[float, np.ndarray]:
    """``log|Sigma| + tr(S Sigma^-1)`` and its gradient in (lambda, psi)."""
    p = sample.shape[0]
    lam, psi = params[:p], params[p:]
    sigma = np.outer(lam, lam) + np.diag(psi)
    try:
        factor = linalg.cho_factor(sigma, lower=True)
    except linalg.LinAlgError:
        return np.inf, np.zeros_like(params)
    inverse = linalg.cho_solve(factor, np.eye(p))
    value = 2.0 * np.sum(np.log(np.diag(factor[0]))) + np.sum(sample * inverse)
    g = inverse - inverse @ sample @ inverse  # dF / dSigma
    return value, np.concatenate([2.0 * g @ lam, np.diag(g)])


def _start(sample: np.ndarray) -> np.ndarray:
    """Residual variances from the squared multiple correlations, loadings from the first
    principal axis."""
    diag = np.diag(sample)
    try:
        psi = np.clip(1.0 / np.diag(np.linalg.inv(sample)), 0.05 * diag, 0.95 * diag)
    except np.linalg.LinAlgError:
        psi = 0.5 * diag
    vectors = np.linalg.eigh(sample)[1][:, -1]
    sign = np.where(vectors >= 0, 1.0, -1.0)
    return np.concatenate([sign * np.sqrt(diag - psi), psi])


def _information(params: np.ndarray) -> np.ndarray:
    """Expected Hessian of ``F`` (Fisher scoring): ``tr(W dSigma_a W dSigma_b)``, W = Sigma^-1.

    With ``u = W lambda`` and ``c = lambda' W lambda``: lambda-lambda ``2 (u_j u_k + c W_jk)``,
    lambda_j-psi_k ``2 W_jk u_k``, psi-psi ``W_jk^2``.
    """
    p = params.size // 2
    lam, psi = params[:p], params[p:]
    w = np.linalg.inv(np.outer(lam, lam) + np.diag(psi))
    u = w @ lam
    c = lam @ u
    top = np.hstack([2.0 * (np.outer(u, u) + c * w), 2.0 * w * u[None, :]])
    bottom = np.hstack([2.0 * (w * u[None, :]).T, w**2])
    return np.vstack([top, bottom])


def _scoring(params: np.ndarray, sample: np.ndarray, steps: int = 100,
             tol: float = 1e-9) -> tuple[np.ndarray, bool]:
    """Fisher scoring from a nearby start (a bootstrap sample's fit from the full sample's),
    step-halving when the criterion would rise."""
    value, grad = _objective(params, sample)
    for _ in range(steps):
        if not np.isfinite(value):
            return params, False
        if np.max(np.abs(grad)) < tol:
            return params, True
        try:
            move = np.linalg.solve(_information(params), grad)
        except np.linalg.LinAlgError:
            return params, False
        for _ in range(30):
            trial = params - move
            t_value, t_grad = _objective(trial, sample)
            if t_value <= value + 1e-12:
                break
            move = move / 2.0
        else:
            return params, False
        params, value, grad = trial, t_value, t_grad
    return params, bool(np.max(np.abs(grad)) < tol)


def _newton(params: np.ndarray, sample: np.ndarray, steps: int = 20) -> np.ndarray:
    """Newton steps with a central-difference Hessian of the analytic gradient: the
    quasi-Newton estimate polished until the gradient is at rounding level."""
    h = 1e-6
    for _ in range(steps):
        value, grad = _objective(params, sample)
        if np.max(np.abs(grad)) < 1e-13:
            break
        hess = np.empty((params.size, params.size))
        for k in range(params.size):
            step = np.zeros_like(params)
            step[k] = h
            hess[:, k] = (_objective(params + step, sample)[1]
                          - _objective(params - step, sample)[1]) / (2 * h)
        try:
            move = np.linalg.solve((hess + hess.T) / 2, grad)
        except np.linalg.LinAlgError:
            break
        trial = params - move
        if not np.isfinite(_objective(trial, sample)[0]) or _objective(trial, sample)[0] > value:
            break
        params = trial
    return params


def fit_one_factor(cov: np.ndarray, *, n_obs: int, start: np.ndarray | None = None,
                   polish: bool = True) -> OneFactorFit:
    """Fit ``Sigma = lambda lambda' + diag(psi)`` to a covariance matrix by maximum likelihood.

    Parameters
    ----------
    cov : ndarray (p, p)
        Item covariance matrix with divisor N - 1 (as ``cov`` in R or pandas); it is rescaled
        by ``(N - 1) / N`` first, as lavaan rescales a ``sample.cov``.
    n_obs : int
        N, the number of respondents.
    start : ndarray, optional
        Starting ``(lambda, psi)``, e.g. the full-sample estimate for a bootstrap sample
        (default: residual variances from the squared multiple correlations).
    polish : bool
        Finish with Newton steps (default), which brings the estimates to the optimum within
        rounding error.

    Returns
    -------
    OneFactorFit

    Notes
    -----
    Fisher scoring (the expected Hessian, step-halving) on the analytic gradient
    ``dF/dlambda = 2 G lambda``, ``dF/dpsi = diag(G)`` with ``G = Sigma^-1 - Sigma^-1 S
    Sigma^-1`` to a gradient below 1e-9 (L-BFGS when it fails), then Newton steps. The residual variances are not
    bounded (as in lavaan); ``OneFactorFit.heywood`` says when one is <= 0.
    """
    cov = np.asarray(cov, dtype=float)
    sample = cov * (n_obs - 1.0) / n_obs
    p = sample.shape[0]
    x0 = _start(sample) if start is None else np.asarray(start, dtype=float)
    params, done = _scoring(x0, sample)
    if not done:
        opt = optimize.minimize(_objective, _start(sample), args=(sample,), jac=True,
                                method="L-BFGS-B",
                                options={"maxiter": 5000, "gtol": 1e-10, "ftol": 1e-15})
        params = opt.x
    if polish:
        params = _newton(params, sample)
    value, grad = _objective(params, sample)
    lam, psi = params[:p].copy(), params[p:].copy()
    if lam.sum() < 0:
        lam = -lam
    _, logdet = np.linalg.slogdet(sample)
    return OneFactorFit(loadings=lam, residuals=psi, fmin=(value - logdet - p) / 2.0,
                        converged=bool(np.isfinite(value) and np.max(np.abs(grad)) < 1e-8))


def omega_total(loadings: np.ndarray, residuals: np.ndarray) -> float:
    """McDonald's omega total of the sum score: ``(sum lambda)^2 / ((sum lambda)^2 + sum psi)``.

    Examples
    --------
    >>> omega_total(np.array([1.0, 1.0]), np.array([1.0, 1.0]))
    0.6666666666666666
    """
    common = float(np.sum(loadings)) ** 2
    return common / (common + float(np.sum(residuals)))
