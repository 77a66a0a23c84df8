"""Compiled M-step pieces (numba): the sizes, means and scatters of the components
(:func:`moments_full`, :func:`moments_diag`) and the inner iterations of the EVE/VVE
(:func:`common_orientation`, :func:`common_orientation_mstep`), VEI/VEV
(:func:`volumes_common_shape`) and VEE (:func:`volumes_common_matrix`) M-steps. Used by
:mod:`workbench.profiles.gaussian_mixture` and :mod:`workbench.profiles.structures`; the rules
all kernels follow are in :mod:`workbench.profiles.kernels`.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["common_orientation", "common_orientation_mstep", "volumes_common_shape",
           "volumes_common_matrix", "moments_full", "moments_diag"]


@njit(cache=True, nogil=True)
def common_orientation(rot, orientation, nk, equal_volume, max_sweeps, tol):
    """Jacobi sweeps for the common orientation of EVE (``equal_volume``) and VVE.

    ``rot`` (k, d, d) holds ``D' W_k D`` for the starting ``orientation`` D; both are updated
    in place. Returns the volumes (k,), the shapes (k, d) and whether every variance stayed
    positive."""
    k, d, _ = rot.shape
    lam = np.empty(k)
    shapes = np.empty((k, d))
    b = np.empty((k, d))
    previous = np.inf
    for _ in range(max_sweeps):
        total_det = 0.0
        for m in range(k):
            s = 0.0
            for a in range(d):
                if not rot[m, a, a] > 0.0:
                    return lam, shapes, False
                s += math.log(rot[m, a, a])
            det = math.exp(s / d)
            total_det += det
            lam[m] = det
            for a in range(d):
                shapes[m, a] = rot[m, a, a] / det
        nsum = 0.0
        for m in range(k):
            nsum += nk[m]
        for m in range(k):
            lam[m] = total_det / nsum if equal_volume else lam[m] / nk[m]
        crit = 0.0
        for m in range(k):
            crit += d * nk[m] * math.log(lam[m])
            for a in range(d):
                b[m, a] = 1.0 / (shapes[m, a] * lam[m])
                crit += rot[m, a, a] * b[m, a]
        if abs(previous - crit) <= tol * abs(crit):
            break
        previous = crit
        for i in range(d):
            for j in range(i + 1, d):
                a_, b_ = 0.0, 0.0
                for m in range(k):
                    diff = b[m, i] - b[m, j]
                    a_ += diff * (rot[m, i, i] - rot[m, j, j])
                    b_ += diff * rot[m, i, j]
                a_ *= 0.5
                if math.hypot(a_, b_) <= 1e-14 * abs(crit):
                    continue
                theta = 0.5 * math.atan2(-b_, -a_)
                c, s_ = math.cos(theta), math.sin(theta)
                for r in range(d):
                    di, dj = orientation[r, i], orientation[r, j]
                    orientation[r, i], orientation[r, j] = c * di + s_ * dj, c * dj - s_ * di
                for m in range(k):
                    for col in range(d):
                        ri, rj = rot[m, i, col], rot[m, j, col]
                        rot[m, i, col], rot[m, j, col] = c * ri + s_ * rj, c * rj - s_ * ri
                    for row in range(d):
                        ci, cj = rot[m, row, i], rot[m, row, j]
                        rot[m, row, i], rot[m, row, j] = c * ci + s_ * cj, c * cj - s_ * ci
    return lam, shapes, True


@njit(cache=True, nogil=True)
def common_orientation_mstep(scatter, orientation, nk, equal_volume, limit, max_sweeps, tol):
    """The EVE / VVE M-step around :func:`common_orientation`: rotates the scatters to
    ``D' W_k D``, runs the sweeps (``orientation`` updated in place) and returns the
    covariances ``D diag(lambda_k A_k) D'`` (k, d, d) and False when a variance is not
    positive or vanishes below ``limit``."""
    k, d, _ = scatter.shape
    rot = np.empty((k, d, d))
    tmp = np.empty((d, d))
    for m in range(k):  # D' W_m D
        for a in range(d):
            for b in range(d):
                t = 0.0
                for j in range(d):
                    t += scatter[m, a, j] * orientation[j, b]
                tmp[a, b] = t
        for a in range(d):
            for b in range(d):
                t = 0.0
                for j in range(d):
                    t += orientation[j, a] * tmp[j, b]
                rot[m, a, b] = t
    lam, shapes, ok = common_orientation(rot, orientation, nk, equal_volume, max_sweeps, tol)
    cov = np.zeros((k, d, d))
    if not ok:
        return cov, False
    for m in range(k):
        for a in range(d):
            var = lam[m] * shapes[m, a]
            if not math.isfinite(var) or var <= limit:
                return cov, False
            for i in range(d):
                for j in range(d):
                    cov[m, i, j] += orientation[i, a] * var * orientation[j, a]
    return cov, True


@njit(cache=True, nogil=True)
def _vanishing(values, limit):
    """Some value not finite or at most ``limit`` (a singular covariance)."""
    for v in values.ravel():
        if not math.isfinite(v) or v <= limit:
            return True
    return False


@njit(cache=True, nogil=True)
def volumes_common_shape(w, nk, shape, limit, check_shape, max_iter, tol):
    """Volumes (k,) and one shape (d,) of VEI and VEV from the scatters on the shape axes
    ``w`` (k, d), alternating their closed forms from ``shape`` until the shape moves by less
    than ``tol`` (see :mod:`workbench.profiles.structures`). False when the volumes (or, with
    ``check_shape``, the shape) vanish below ``limit``."""
    k, d = w.shape
    lam = np.empty(k)
    new = np.empty(d)
    shape = shape.copy()
    for _ in range(max_iter):
        for m in range(k):
            t = 0.0
            for a in range(d):
                t += w[m, a] / shape[a]
            lam[m] = t / (d * nk[m])
        if _vanishing(lam, limit):
            return lam, shape, False
        for a in range(d):
            t = 0.0
            for m in range(k):
                t += w[m, a] / lam[m]
            new[a] = t
        if check_shape and _vanishing(new, limit):
            return lam, shape, False
        logs = 0.0
        for a in range(d):
            logs += math.log(new[a])
        geometric = math.exp(logs / d)
        moved = 0.0
        for a in range(d):
            new[a] /= geometric
            moved = max(moved, abs(new[a] - shape[a]))
            shape[a] = new[a]
        if moved < tol:
            break
    for m in range(k):
        t = 0.0
        for a in range(d):
            t += w[m, a] / shape[a]
        lam[m] = t / (d * nk[m])
    return lam, shape, True


@njit(cache=True, nogil=True)
def volumes_common_matrix(scatter, nk, lam, limit, max_iter, tol):
    """VEE: volumes (k,) and the common matrix ``C`` (|C| = 1) from the scatters, alternating
    ``C = S / |S|^(1/d)`` (``S = sum_k W_k / lambda_k``) and ``lambda_k = tr(W_k C^-1) /
    (d n_k)`` from the volumes ``lam`` until they move by less than ``tol`` (relative). False
    when ``S`` is not positive definite or a volume vanishes below ``limit``."""
    k, d, _ = scatter.shape
    lam = lam.copy()
    new = np.empty(k)
    s = np.empty((d, d))
    low = np.zeros((d, d))
    inv_low = np.zeros((d, d))
    c = np.empty((d, d))
    inv_c = np.empty((d, d))
    for _ in range(max_iter):
        for a in range(d):
            for b in range(d):
                t = 0.0
                for m in range(k):
                    t += scatter[m, a, b] / lam[m]
                s[a, b] = t
        logdet = 0.0
        for col in range(d):  # Cholesky factor of S
            t = s[col, col]
            for j in range(col):
                t -= low[col, j] * low[col, j]
            if not t > 0.0 or not math.isfinite(t):
                return lam, c, False
            low[col, col] = math.sqrt(t)
            logdet += math.log(t)
            for row in range(col + 1, d):
                t = s[row, col]
                for j in range(col):
                    t -= low[row, j] * low[col, j]
                low[row, col] = t / low[col, col]
        for col in range(d):  # L^-1
            for row in range(d):
                inv_low[row, col] = 0.0
            inv_low[col, col] = 1.0 / low[col, col]
            for row in range(col + 1, d):
                t = 0.0
                for j in range(col, row):
                    t -= low[row, j] * inv_low[j, col]
                inv_low[row, col] = t / low[row, row]
        root = math.exp(logdet / d)
        for a in range(d):
            for b in range(d):
                c[a, b] = s[a, b] / root
                t = 0.0
                for j in range(max(a, b), d):
                    t += inv_low[j, a] * inv_low[j, b]
                inv_c[a, b] = t * root  # C^-1 = |S|^(1/d) S^-1, S^-1 = L^-T L^-1
        top = 0.0
        for m in range(k):
            t = 0.0
            for a in range(d):
                for b in range(d):
                    t += scatter[m, a, b] * inv_c[b, a]
            new[m] = t / (d * nk[m])
            top = max(top, new[m])
        if _vanishing(new, limit):
            return lam, c, False
        moved = 0.0
        for m in range(k):
            moved = max(moved, abs(new[m] - lam[m]))
            lam[m] = new[m]
        if moved <= tol * top:
            break
    return lam, c, True



@njit(cache=True, nogil=True)
def _sizes_means(stats, d):
    k = stats.shape[1]
    nk = stats[0].copy()
    means = np.empty((k, d))
    for m in range(k):
        for a in range(d):
            means[m, a] = stats[1 + a, m] / nk[m]
    return nk, means


@njit(cache=True, nogil=True)
def moments_full(stats, d):
    """Sizes ``n_k``, means (k, d) and scatters ``W_k = sum_i z_ik x_i x_i' - n_k mu_k mu_k'``
    (k, d, d) of the components from ``stats``: rows 1, x_j and x_i x_j (i <= j) of the data
    times the posteriors (n, k), one matrix product."""
    nk, means = _sizes_means(stats, d)
    k = len(nk)
    scatter = np.empty((k, d, d))
    for m in range(k):
        row = 1 + d
        for a in range(d):
            for b in range(a, d):
                v = stats[row, m] - nk[m] * means[m, a] * means[m, b]
                scatter[m, a, b] = v
                scatter[m, b, a] = v
                row += 1
    return nk, means, scatter


@njit(cache=True, nogil=True)
def moments_diag(stats, d):
    """As :func:`moments_full` with rows 1, x_j and x_j^2: the scatters' diagonals (k, d),
    floored at 0."""
    nk, means = _sizes_means(stats, d)
    k = len(nk)
    wdiag = np.empty((k, d))
    for m in range(k):
        for a in range(d):
            wdiag[m, a] = max(stats[1 + d + a, m] - nk[m] * means[m, a] ** 2, 0.0)
    return nk, means, wdiag

