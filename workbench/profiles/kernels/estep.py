"""Compiled E-step (numba): the covariances' inverse Cholesky factors
(:func:`factor_covariances`), the posteriors and log-likelihood with full (:func:`estep_full_t`,
:func:`estep_full`) or diagonal (:func:`estep_diag`) covariances, and the vectorisable
exponential :func:`exp_negligible` that skips terms below :data:`NEGLIGIBLE`. Used by
:mod:`workbench.profiles.gaussian_mixture` and :mod:`workbench.profiles.likelihood_ratio`; the
rules all kernels follow are in :mod:`workbench.profiles.kernels`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["NEGLIGIBLE", "exp_negligible", "factor_covariances", "estep_full", "estep_full_t",
           "estep_diag"]



#: Below this (log scale) against a row's largest term, a component's exponential is taken as
#: 0: exp(-40) = 4e-18 is under half the rounding unit of the row's total (at least 1), so
#: the log-likelihood is unchanged and the posterior differs by less than 4e-18. It saves
#: most of the exponentials, the E-step's largest cost, once the profiles separate.
NEGLIGIBLE = -40.0


@njit(cache=True, nogil=True)
def _finish_row(logp, resp, i):
    """Posterior row i from its log-densities; returns the row's log-likelihood."""
    k = logp.shape[0]
    top = logp[0]
    for m in range(1, k):
        if logp[m] > top:
            top = logp[m]
    total = 0.0
    for m in range(k):
        t = logp[m] - top
        e = math.exp(t) if t > NEGLIGIBLE else 0.0
        resp[i, m] = e
        total += e
    for m in range(k):
        resp[i, m] /= total
    return top + math.log(total)


@njit(cache=True, nogil=True)
def factor_covariances(cov, scale, inv_chols, logdets):
    """Inverse Cholesky factors (into ``inv_chols``, k x d x d) and log-determinants (into
    ``logdets``) of the covariances; False when one is singular or ill-conditioned: not
    positive definite, a squared diagonal of its factor below ``1e-10 scale``, or that
    diagonal's smallest over largest square below 1e-12 (the checks of the numpy path)."""
    k, d, _ = cov.shape
    low = np.zeros((d, d))
    for m in range(k):
        logdet, small, large = 0.0, np.inf, 0.0
        for col in range(d):
            s = cov[m, col, col]
            for j in range(col):
                s -= low[col, j] * low[col, j]
            if not s > 0.0 or not math.isfinite(s):
                return False
            low[col, col] = math.sqrt(s)
            small, large = min(small, s), max(large, s)
            logdet += math.log(s)
            for row in range(col + 1, d):
                s = cov[m, row, col]
                for j in range(col):
                    s -= low[row, j] * low[col, j]
                low[row, col] = s / low[col, col]
        if small <= 1e-10 * scale or small / large < 1e-12:
            return False
        logdets[m] = logdet
        for col in range(d):  # L^-1 by forward substitution, column by column
            for row in range(d):
                inv_chols[m, row, col] = 0.0
            inv_chols[m, col, col] = 1.0 / low[col, col]
            for row in range(col + 1, d):
                s = 0.0
                for j in range(col, row):
                    s -= low[row, j] * inv_chols[m, j, col]
                inv_chols[m, row, col] = s / low[row, row]
    return True


_LOG2E = 1.4426950408889634
_LN2_HI, _LN2_LO = 6.93147180369123816490e-01, 1.90821492927058770002e-10
_INV_FACTORIAL = tuple(1.0 / math.factorial(j) for j in range(14))


@njit(cache=True, nogil=True)
def exp_negligible(t, out, bits):
    """``exp(t)`` of ``t <= 0`` into ``out``, 0 below :data:`NEGLIGIBLE`, within one rounding
    unit of ``math.exp`` (2^j exp(r) with |r| <= log(2) / 2 and exp(r) by its Taylor series to
    r^13 / 13!, whose remainder is below 2e-16). Written so that the loops vectorise: three
    times faster than ``math.exp`` on a row of exponentials, the E-step's largest cost;
    ``bits`` is an int64 work array of the same length. ``out`` and ``t`` are different arrays.

    Examples
    --------
    >>> import numpy as np
    >>> t = np.array([0.0, -1.0, -30.0, -41.0])
    >>> out = np.empty(4)
    >>> exp_negligible(t, out, np.empty(4, dtype=np.int64))
    >>> bool(np.allclose(out, [1.0, np.exp(-1.0), np.exp(-30.0), 0.0], rtol=1e-15, atol=0))
    True
    """
    n = t.shape[0]
    for i in range(n):
        v = max(t[i], NEGLIGIBLE)
        j = math.floor(v * _LOG2E + 0.5)
        r = (v - j * _LN2_HI) - j * _LN2_LO
        p = _INV_FACTORIAL[13]
        p = p * r + _INV_FACTORIAL[12]
        p = p * r + _INV_FACTORIAL[11]
        p = p * r + _INV_FACTORIAL[10]
        p = p * r + _INV_FACTORIAL[9]
        p = p * r + _INV_FACTORIAL[8]
        p = p * r + _INV_FACTORIAL[7]
        p = p * r + _INV_FACTORIAL[6]
        p = p * r + _INV_FACTORIAL[5]
        p = p * r + _INV_FACTORIAL[4]
        p = p * r + _INV_FACTORIAL[3]
        p = p * r + _INV_FACTORIAL[2]
        p = p * r + 1.0
        p = p * r + 1.0
        keep = t[i] > NEGLIGIBLE
        out[i] = p if keep else 0.0
        bits[i] = (np.int64(j) + 1023) << 52  # 2^j, j in [-58, 0]: a normal number
    scale = bits.view(np.float64)
    for i in range(n):
        out[i] *= scale[i]


@njit(cache=True, nogil=True)
def _posteriors_t(logp, resp):
    """Posteriors into ``resp`` (n, k) from log-densities ``logp`` (k, n, overwritten);
    returns the log-likelihood. Every loop but the last runs over rows (vectorised)."""
    k, n = logp.shape
    top = logp[0].copy()
    for m in range(1, k):
        for i in range(n):
            top[i] = max(top[i], logp[m, i])
    total = np.zeros(n)
    bits = np.empty(n, dtype=np.int64)
    t, e = np.empty(n), np.empty(n)  # separate buffers: in place, the loops do not vectorise
    for m in range(k):
        for i in range(n):
            t[i] = logp[m, i] - top[i]
        exp_negligible(t, e, bits)
        for i in range(n):
            logp[m, i] = e[i]
            total[i] += e[i]
    loglik = 0.0
    for i in range(n):
        loglik += top[i] + math.log(total[i])
        total[i] = 1.0 / total[i]
    for i in range(n):
        for m in range(k):
            resp[i, m] = logp[m, i] * total[i]
    return loglik


@njit(cache=True, nogil=True)
def estep_full_t(xt, log_weights, means, inv_chols, logdets, resp):
    """:func:`estep_full` on the transposed data ``xt`` (d, n), as the EM loop keeps it.

    ``L_m^-1 x_i`` for every component and row is one matrix product (BLAS); the squared
    distances and the posteriors are then loops over rows, which vectorise."""
    d, n = xt.shape
    k = means.shape[0]
    const = d * math.log(2 * math.pi)
    z = np.dot(inv_chols.reshape((k * d, d)), xt)
    logp = np.zeros((k, n))
    for m in range(k):
        for a in range(d):
            off = 0.0
            for b in range(a + 1):
                off += inv_chols[m, a, b] * means[m, b]
            row = m * d + a
            for i in range(n):
                v = z[row, i] - off
                logp[m, i] += v * v
        c = log_weights[m] - 0.5 * (const + logdets[m])
        for i in range(n):
            logp[m, i] = c - 0.5 * logp[m, i]
    return _posteriors_t(logp, resp)




@njit(cache=True, nogil=True)
def estep_full(x, log_weights, means, inv_chols, logdets, resp):
    """E-step with full covariances ``L_k L_k'`` (given ``L_k^-1`` and ``log|Sigma_k|``):
    posteriors into ``resp`` (n, k); returns the log-likelihood."""
    return estep_full_t(x.T.copy(), log_weights, means, inv_chols, logdets, resp)


@njit(cache=True, nogil=True)
def estep_diag(x, log_weights, means, var, resp):
    """E-step with diagonal covariances ``diag(var_k)``: posteriors into ``resp``; returns
    the log-likelihood."""
    n, d = x.shape
    k = means.shape[0]
    const = d * math.log(2 * math.pi)
    logp = np.empty(k)
    prec = 1.0 / var
    logdets = np.zeros(k)
    for m in range(k):
        for a in range(d):
            logdets[m] += math.log(var[m, a])
    loglik = 0.0
    for i in range(n):
        for m in range(k):
            maha = 0.0
            for a in range(d):
                t = x[i, a] - means[m, a]
                maha += t * t * prec[m, a]
            logp[m] = log_weights[m] - 0.5 * (const + logdets[m] + maha)
        loglik += _finish_row(logp, resp, i)
    return loglik
