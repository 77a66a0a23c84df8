"""Tests of k against k - 1 profiles: the Vuong-Lo-Mendell-Rubin test and the parametric
bootstrap likelihood-ratio test (BLRT).

* VLMR (Lo, Mendell & Rubin 2001): ``LR = 2 (L_alt - L_null)`` referred to the weighted sum
  of chi-squares of Vuong (1989, theorem 3.3), weights from the per-person scores and the
  Hessians of both models (numerical differences; the mean Hessian from at most 1,000
  people), tail probability by Imhof (1961).
* BLRT (McLachlan 1987; Nylund et al. 2007): the LR of data simulated from the k - 1 fit,
  each refitted with k - 1 and k components; ``p = (1 + #{LR_b >= LR}) / (B + 1)``.

Examples
--------
>>> import numpy as np
>>> from workbench.profiles.gaussian_mixture import fit_mixture
>>> rng = np.random.default_rng(4)
>>> x = np.vstack([rng.normal(0, 1, (60, 2)), rng.normal(4, 1, (60, 2))])
>>> one, two = (fit_mixture(x, k, "EII", random_state=0) for k in (1, 2))
>>> lr, p = vlmr_test(x, one, two)
>>> bool(p < 0.01)
True
"""

from __future__ import annotations

import functools
import warnings

import numpy as np

from workbench.profiles.gaussian_mixture import (
    MixtureFit,
    fit_mixture,
    log_density_diag,
    log_density_full,
    logsumexp,
    sample_mixture,
)
from workbench.profiles.initialisation import one_hot
from workbench.profiles.parallel import one_blas_thread, parallel_map, spawn_seeds

__all__ = ["vlmr_test", "vlmr_table", "blrt_table", "split_starts", "VLMR_STRUCTURES",
           "VLMR_MAX_PARAMETERS"]

VLMR_STRUCTURES = ("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VVV")
VLMR_MAX_PARAMETERS = 150
#: People used for the numerical Hessian of the VLMR test (a fixed random part when more).
HESSIAN_ROWS = 1000


@functools.cache
def _tri(d):
    """Lower-triangle indices (kept: the Hessian unpacks the parameters thousands of times)."""
    return np.tril_indices(d)


def _pack(fit: MixtureFit) -> np.ndarray:
    """The fit's free parameters as an unconstrained vector (mclust's count)."""
    s, d = fit.structure, fit.means.shape[1]
    w = np.log(fit.weights[1:] / fit.weights[0])
    var = np.diagonal(fit.covariances, axis1=1, axis2=2)
    lam = np.exp(np.mean(np.log(var), axis=1))  # |diag|^(1/d)
    if s == "EII":
        cov = [np.log(var[0, 0])]
    elif s == "VII":
        cov = np.log(var[:, 0])
    elif s == "EEI":
        cov = np.log(var[0])
    elif s == "VVI":
        cov = np.log(var).ravel()
    elif s == "VEI":
        cov = np.concatenate([np.log(lam), np.log(var[0] / lam[0])[:-1]])
    elif s == "EVI":
        cov = np.concatenate([[np.log(lam[0])], np.log(var / lam[:, None])[:, :-1].ravel()])
    else:  # EEE, VVV: Cholesky factors with log diagonals
        chols = np.linalg.cholesky(fit.covariances[:1] if s == "EEE" else fit.covariances)
        parts = []
        for c in chols:
            c = c.copy()
            c[np.diag_indices(d)] = np.log(np.diag(c))
            parts.append(c[_tri(d)])
        cov = np.concatenate(parts)
    return np.concatenate([w, fit.means.ravel(), np.asarray(cov, float)])


def _unpack(theta, s, k, d):
    a = np.concatenate([[0.0], theta[: k - 1]])
    weights = np.exp(a - a.max())
    weights /= weights.sum()
    means = theta[k - 1: k - 1 + k * d].reshape(k, d)
    c = theta[k - 1 + k * d:]
    if s == "EII":
        var = np.full((k, d), np.exp(c[0]))
    elif s == "VII":
        var = np.repeat(np.exp(c)[:, None], d, axis=1)
    elif s == "EEI":
        var = np.repeat(np.exp(c)[None], k, axis=0)
    elif s == "VVI":
        var = np.exp(c.reshape(k, d))
    elif s == "VEI":
        shape = np.append(c[k:], -np.sum(c[k:]))
        var = np.exp(c[:k][:, None] + shape[None])
    elif s == "EVI":
        shapes = c[1:].reshape(k, d - 1)
        shapes = np.hstack([shapes, -shapes.sum(axis=1, keepdims=True)])
        var = np.exp(c[0] + shapes)
    else:
        m = d * (d + 1) // 2
        blocks = c.reshape(-1, m)
        rows, cols = _tri(d)
        chols = np.zeros((len(blocks), d, d))
        chols[:, rows, cols] = blocks
        diag = np.arange(d)
        chols[:, diag, diag] = np.exp(chols[:, diag, diag])
        if s == "EEE":
            chols = np.repeat(chols, k, axis=0)
        return weights, means, None, chols
    return weights, means, var, None


def _obs_loglik(theta, x, s, k, d):
    weights, means, var, chols = _unpack(theta, s, k, d)
    if var is not None:
        logp = log_density_diag(x, weights, means, var)
    else:
        logp = log_density_full(x, weights, means, chols)
    return logsumexp(logp, axis=1)


def _mean_loglik(theta, x, s, k, d, buffer):
    """Mean log-likelihood of the rows at ``theta`` by the compiled E-step (the Hessian's
    p^2 / 2 evaluations were 40% of a default run when done with numpy)."""
    from workbench.profiles.kernels.estep import estep_diag, estep_full

    weights, means, var, chols = _unpack(theta, s, k, d)
    if var is not None:
        return estep_diag(x, np.log(weights), means, var, buffer) / len(x)
    inv = np.linalg.inv(chols)
    logdets = 2.0 * np.sum(np.log(np.diagonal(chols, axis1=1, axis2=2)), axis=1)
    return estep_full(x, np.log(weights), means, inv, logdets, buffer) / len(x)


def _scores_hessian(x, fit):
    """Per-person scores (n, p) and the mean Hessian (p, p), by central differences."""
    s, k, d = fit.structure, fit.k, x.shape[1]
    theta = _pack(fit)
    p = len(theta)
    h = 1e-5 * np.maximum(1.0, np.abs(theta))
    scores = np.empty((len(x), p))
    for j in range(p):
        e = np.zeros(p)
        e[j] = h[j]
        scores[:, j] = (_obs_loglik(theta + e, x, s, k, d)
                        - _obs_loglik(theta - e, x, s, k, d)) / (2 * h[j])
    # Hessian of the mean log-likelihood by forward second differences: p^2 / 2 evaluations,
    # on at most HESSIAN_ROWS people (a fixed random part): a mean estimated from 1,000 people
    # is precise enough, and the cost no longer grows with n.
    g = 1e-4 * np.maximum(1.0, np.abs(theta))
    step = np.diag(g)
    rows = x
    if len(x) > HESSIAN_ROWS:
        rows = x[np.sort(np.random.default_rng(0).permutation(len(x))[:HESSIAN_ROWS])]

    buffer = np.empty((len(rows), k))

    def total(t):
        return _mean_loglik(t, rows, s, k, d, buffer)

    f0 = total(theta)
    fj = np.array([total(theta + step[j]) for j in range(p)])
    hess = np.empty((p, p))
    for j in range(p):
        for m in range(j, p):
            value = (total(theta + step[j] + step[m]) - fj[j] - fj[m] + f0) / (g[j] * g[m])
            hess[j, m] = hess[m, j] = value
    return scores, hess


def _imhof_sf(q, lam):
    """P(sum lam_j Z_j^2 > q) for standard normal Z (Imhof 1961)."""
    from scipy.integrate import IntegrationWarning, quad

    lam = lam[np.abs(lam) > 1e-8 * np.max(np.abs(lam))]

    def integrand(u):
        theta = 0.5 * np.sum(np.arctan(lam * u)) - 0.5 * q * u
        rho = np.exp(0.25 * np.sum(np.log1p((lam * u) ** 2)))
        return np.sin(theta) / (u * rho)

    with warnings.catch_warnings():
        # A far-out LR makes the integrand oscillate; the tail probability is then ~0 anyway.
        warnings.simplefilter("ignore", IntegrationWarning)
        value, _ = quad(integrand, 0, np.inf, limit=500)
    return float(np.clip(0.5 + value / np.pi, 0.0, 1.0))


def vlmr_test(x, null: MixtureFit, alt: MixtureFit) -> tuple[float, float]:
    """Vuong-Lo-Mendell-Rubin test of ``alt`` (k profiles) against ``null`` (k - 1).

    ``LR = 2 (L_alt - L_null)`` is referred to ``sum_j lambda_j chi2_1``, with ``lambda`` the
    eigenvalues of Vuong's (1989, theorem 3.3) matrix
    ``[[-B_f A_f^-1, -B_fg A_g^-1], [B_gf A_f^-1, B_g A_g^-1]]`` from the per-person scores
    (``B``: their cross-products) and the Hessians (``A``) of both models (Lo, Mendell & Rubin
    2001), computed by numerical differences; the tail probability by Imhof's (1961) formula.

    Returns ``(LR, p_value)``; ``p_value`` is NaN for the structures with rotations (EEV, VEV,
    EVV) and when the larger model has more than 150 parameters (the numerical Hessian would
    be slow).
    """
    return _vlmr(np.asarray(x, float), null, alt, {})


def _vlmr(x, null, alt, derivatives: dict):
    """:func:`vlmr_test` with the scores and Hessians of each fit kept in ``derivatives``
    (``vlmr_table`` tests k against k - 1 and k + 1 against k: each fit's numerical
    Hessian, the test's cost, is computed once)."""
    lr = max(0.0, 2 * (alt.loglik - null.loglik))
    if alt.structure not in VLMR_STRUCTURES or alt.n_parameters > VLMR_MAX_PARAMETERS:
        return lr, np.nan
    # One BLAS thread also for the eigenvalues: threaded LAPACK on a busy machine took 0.6 s
    # for one 160 x 160 matrix.
    with one_blas_thread():
        for fit in (alt, null):
            if id(fit) not in derivatives:
                derivatives[id(fit)] = _scores_hessian(x, fit)
        sf, af = derivatives[id(alt)]
        sg, ag = derivatives[id(null)]
        n = len(x)
        try:
            af_inv, ag_inv = np.linalg.inv(af), np.linalg.inv(ag)
        except np.linalg.LinAlgError:
            return lr, np.nan
        bf, bg, bfg = sf.T @ sf / n, sg.T @ sg / n, sf.T @ sg / n
        w = np.block([[-bf @ af_inv, -bfg @ ag_inv], [bfg.T @ af_inv, bg @ ag_inv]])
        lam = np.real(np.linalg.eigvals(w))
    if not np.all(np.isfinite(lam)):
        return lr, np.nan
    return lr, _imhof_sf(lr, lam)


def vlmr_table(x, fits, structure, k_max) -> dict:
    """``{k: (LR, p_value)}`` of k against k - 1, k = 2..k_max, for one structure."""
    out, derivatives = {}, {}
    x = np.asarray(x, float)
    for k in range(2, k_max + 1):
        null, alt = fits.get((structure, k - 1)), fits.get((structure, k))
        if null is not None and alt is not None:
            out[k] = _vlmr(x, null, alt, derivatives)
    return out


def split_starts(fit: MixtureFit, x: np.ndarray) -> list:
    """Starts for k + 1 components: each component of ``fit`` split along its main axis."""
    out = []
    for j in range(fit.k):
        _, vecs = np.linalg.eigh(fit.covariances[j])
        side = (x - fit.means[j]) @ vecs[:, -1] > 0
        resp = np.zeros((len(x), fit.k + 1))
        resp[:, : fit.k] = fit.resp
        resp[:, fit.k] = fit.resp[:, j] * side
        resp[:, j] = fit.resp[:, j] * ~side
        out.append(resp + 1e-10)
    return out


def _blrt_one(null: MixtureFit, structure, n, k, n_starts, seed):
    rng = np.random.default_rng(seed)
    x, labels = sample_mixture(null, n, rng)
    fit0 = fit_mixture(x, k - 1, structure, n_starts=n_starts,
                       init_resp=[one_hot(labels, k - 1, floor=1e-8)],
                       random_state=rng)
    if fit0 is None:
        return np.nan
    fit1 = fit_mixture(x, k, structure, n_starts=max(n_starts, k + 1),
                       init_resp=split_starts(fit0, x), random_state=rng)
    if fit1 is None:
        return np.nan
    return max(0.0, 2 * (fit1.loglik - fit0.loglik))


def blrt_table(x, fits, structure, k_hi, n_blrt, n_starts, seed, n_jobs, progress):
    """Bootstrap LR test of k vs k - 1, k = 2..k_hi: (lr, p_value) by k."""
    out = {}
    seeds = spawn_seeds(seed, k_hi + 1)
    for k in range(2, k_hi + 1):
        null, alt = fits.get((structure, k - 1)), fits.get((structure, k))
        if null is None or alt is None:
            continue
        lr = max(0.0, 2 * (alt.loglik - null.loglik))
        rep_seeds = spawn_seeds(seeds[k], n_blrt)
        boot = np.array(parallel_map(_blrt_one, [(null, structure, len(x), k, n_starts, s)
                                                 for s in rep_seeds],
                                     n_jobs, f"BLRT {k} vs {k - 1}", progress))
        boot = boot[np.isfinite(boot)]
        p = (1 + np.sum(boot >= lr)) / (len(boot) + 1)
        out[k] = (lr, p, len(boot))
    return out
