"""Compiled kernels (numba) for the loops of the profiles stage that numpy cannot vectorise
well, or where numpy's overhead per call outweighs the arithmetic (small matrices, thousands of
EM iterations):

* :func:`hc_merges`: mclust's model-based hierarchical agglomeration (VVV criterion), a
  sequential loop of n merges, each comparing the new group with every other;
  :func:`ward_merges`: Ward's agglomeration by the nearest-neighbour chain; :func:`cut_merges`:
  a tree cut at k groups (union-find);
* :func:`factor_covariances`, :func:`estep_full_t` (:func:`estep_full`), :func:`estep_diag`:
  the E-step. ``L_k^-1 x_i`` for every component and person is one matrix product (BLAS); the
  squared distances, the log-sum-exp and the posteriors are loops over people, which
  vectorise; :func:`exp_negligible` gives the exponentials within one rounding unit of
  ``math.exp`` and skips those below ``exp(-40)`` (:data:`NEGLIGIBLE`);
* :func:`moments_full`, :func:`moments_diag`: the M-step's sizes, means and scatters from one
  matrix product of the posteriors with the products of the rows;
* :func:`common_orientation` (:func:`common_orientation_mstep`), :func:`volumes_common_shape`,
  :func:`volumes_common_matrix`: the inner iterations of the EVE/VVE, VEI/VEV and VEE M-steps.

What they buy is measured in ``benchmarks/README.md`` (bench_profiles). numba installs from a
wheel with the package (``pyproject.toml``); the kernels are compiled on first use and cached
next to this module (``cache=True``), so later processes load them; each is called with one
set of argument types (writable C-contiguous float arrays), so that it is compiled once.
Every kernel releases the GIL (``nogil=True``), so threads can run them side by side.
The statistics are documented where they are used: :mod:`workbench.profiles.initialisation`,
:mod:`workbench.profiles.gaussian_mixture` and :mod:`workbench.profiles.structures`.

(A little over 600 lines: every compiled loop of the stage in one module, with the one rule
about argument types and the one cache.)

Examples
--------
>>> import numpy as np
>>> z = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.0, 5.1]])
>>> hc_merges(z, 1.0, 1.0).tolist()
[[2, 3], [0, 1], [0, 2]]
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["hc_merges", "ward_merges", "cut_merges", "common_orientation", "factor_covariances", "common_orientation_mstep",
           "volumes_common_shape",
           "volumes_common_matrix", "moments_full", "moments_diag",
           "estep_full", "estep_full_t",
           "estep_diag"]


@njit(cache=True, nogil=True)
def _criterion(w, trace, size, alpha, beta, low):
    """Regularised VVV cost of one group (see workbench.profiles.initialisation); ``low`` is
    a (d, d) work matrix for the Cholesky factor (called for every pair at every merge: no
    allocation here)."""
    d = w.shape[0]
    base = math.log(beta * (trace + alpha) / size)
    if size <= d:
        return size * base
    logdet = 0.0
    for col in range(d):  # Cholesky factor of w / size, column by column
        s = w[col, col] / size
        for m in range(col):
            s -= low[col, m] * low[col, m]
        if s <= 0.0:
            return size * base
        low[col, col] = math.sqrt(s)
        logdet += 2.0 * math.log(low[col, col])
        for row in range(col + 1, d):
            s = w[row, col] / size
            for m in range(col):
                s -= low[row, m] * low[col, m]
            low[row, col] = s / low[col, col]
    top = max(logdet, base)
    return size * (top + math.log(math.exp(logdet - top) + math.exp(base - top)))


@njit(cache=True, nogil=True)
def _pair(i, j, mean, scatter, trace, size, term, alpha, beta, w, low):
    """Increase of the criterion when groups i and j merge (w, low: work matrices)."""
    d = mean.shape[1]
    c = math.sqrt(size[i] * size[j] / (size[i] + size[j]))
    t = trace[i] + trace[j]
    small = size[i] + size[j] <= d  # the criterion of a small group needs only the trace
    for a in range(d):
        va = c * (mean[i, a] - mean[j, a])
        t += va * va
        if small:
            continue
        for b in range(d):
            w[a, b] = scatter[i, a, b] + scatter[j, a, b] + va * c * (mean[i, b] - mean[j, b])
    return _criterion(w, t, size[i] + size[j], alpha, beta, low) - term[i] - term[j]


@njit(cache=True, nogil=True)
def _row_min(cost, r, active):
    best, where = np.inf, -1
    for c in range(cost.shape[0]):
        if active[c] and c != r and cost[r, c] < best:
            best, where = cost[r, c], c
    return best, where


@njit(cache=True, nogil=True)
def ward_merges(x):
    """Ward's agglomeration of the rows of ``x``: merges ``(kept, absorbed)`` (row ids) in
    order of height, and the heights (squared Lance-Williams distances).

    The nearest-neighbour chain (Murtagh 1983; what scipy's ``linkage(method="ward")`` runs)
    on the dense matrix of squared distances, updated by Lance and Williams' formula
    ``D(i+j, k) = ((n_i + n_k) D(i, k) + (n_j + n_k) D(j, k) - n_k D(i, j)) / (n_i + n_j +
    n_k)``; Ward's criterion is reducible, so sorting the chain's merges by height gives the
    tree."""
    n, d = x.shape
    dist = np.empty((n, n))
    for i in range(n):
        dist[i, i] = np.inf
        for j in range(i + 1, n):
            acc = 0.0
            for a in range(d):
                diff = x[i, a] - x[j, a]
                acc += diff * diff
            dist[i, j] = dist[j, i] = acc
    size = np.ones(n)
    active = np.ones(n, dtype=np.bool_)
    chain = np.empty(n, dtype=np.int64)
    merges = np.empty((max(n - 1, 0), 2), dtype=np.int64)
    heights = np.empty(max(n - 1, 0))
    top = 0
    for step in range(n - 1):
        if top == 0:
            for i in range(n):
                if active[i]:
                    chain[0] = i
                    break
            top = 1
        while True:
            a = chain[top - 1]
            b, best = -1, np.inf
            if top > 1:  # the previous element wins ties: the chain ends in a reciprocal pair
                b = chain[top - 2]
                best = dist[a, b]
            for j in range(n):
                if active[j] and j != a and dist[a, j] < best:
                    b, best = j, dist[a, j]
            if top > 1 and b == chain[top - 2]:
                break
            chain[top] = b
            top += 1
        top -= 2
        i, j = min(a, b), max(a, b)
        merges[step, 0], merges[step, 1], heights[step] = i, j, best
        ni, nj = size[i], size[j]
        for k in range(n):
            if active[k] and k != i and k != j:
                nk = size[k]
                value = ((ni + nk) * dist[i, k] + (nj + nk) * dist[j, k] - nk * best) / (
                    ni + nj + nk)
                dist[i, k] = dist[k, i] = value
        active[j] = False
        size[i] = ni + nj
        for k in range(n):
            dist[j, k] = dist[k, j] = np.inf
    order = np.argsort(heights, kind="mergesort")
    return merges[order], heights[order]


@njit(cache=True, nogil=True)
def cut_merges(merges, g, k):
    """Labels 0..k-1 of ``g`` groups after the first ``g - k`` merges ``(kept, absorbed)``
    (union-find); labels are numbered in the order of the kept ids."""
    parent = np.arange(g)
    for step in range(max(g - k, 0)):
        a, b = merges[step, 0], merges[step, 1]
        while parent[a] != a:
            a = parent[a]
        while parent[b] != b:
            b = parent[b]
        if a != b:
            parent[b] = a
    root = np.empty(g, dtype=np.int64)
    for i in range(g):
        r = i
        while parent[r] != r:
            r = parent[r]
        root[i] = r
    number = np.full(g, -1)
    count = 0
    for i in range(g):
        if root[i] == i:
            number[i] = count
            count += 1
    labels = np.empty(g, dtype=np.int64)
    for i in range(g):
        labels[i] = number[root[i]]
    return labels


@njit(cache=True, nogil=True)
def hc_merges(z, alpha, beta):
    """Merges ``(kept, absorbed)`` (row ids) of the agglomeration of the rows of ``z``.

    Every row starts alone; each step merges the cheapest pair; exact ties go to the last
    pair in mclust's order (groups in numbered slots; the merged group keeps the lower slot,
    the group in the last slot moves into the freed one)."""
    g, d = z.shape
    size = np.ones(g)
    mean = z.copy()
    scatter = np.zeros((g, d, d))
    trace = np.zeros(g)
    term = np.full(g, math.log(beta * alpha))
    active = np.ones(g, dtype=np.bool_)
    slot = np.arange(g)
    in_slot = np.arange(g)
    last = g - 1
    w = np.zeros((d, d))
    factor = np.zeros((d, d))
    cost = np.full((g, g), np.inf)
    for i in range(g):
        for j in range(i + 1, g):
            cost[i, j] = cost[j, i] = _pair(i, j, mean, scatter, trace, size, term, alpha,
                                            beta, w, factor)
    best = np.empty(g, dtype=np.int64)
    best_cost = np.empty(g)
    for r in range(g):
        best_cost[r], best[r] = _row_min(cost, r, active)
    merges = np.empty((max(g - 1, 0), 2), dtype=np.int64)
    for step in range(g - 1):
        low = np.inf
        for r in range(g):
            if active[r] and best_cost[r] < low:
                low = best_cost[r]
        i, j, hi_key, lo_key = -1, -1, -1, -1
        for r in range(g):
            if not active[r] or best_cost[r] != low:
                continue
            for c in range(g):
                if c != r and active[c] and cost[r, c] == low:
                    hi, lo = max(slot[r], slot[c]), min(slot[r], slot[c])
                    if hi > hi_key or (hi == hi_key and lo > lo_key):
                        hi_key, lo_key = hi, lo
                        i, j = (r, c) if slot[r] < slot[c] else (c, r)
        merges[step, 0], merges[step, 1] = i, j
        freed = slot[j]
        if freed != last:
            moved = in_slot[last]
            slot[moved] = freed
            in_slot[freed] = moved
        last -= 1
        # merge j into i
        total = size[i] + size[j]
        c = math.sqrt(size[i] * size[j] / total)
        new_trace = trace[i] + trace[j]
        for a in range(d):
            va = c * (mean[i, a] - mean[j, a])
            new_trace += va * va
            for b in range(d):
                scatter[i, a, b] += scatter[j, a, b] + va * c * (mean[i, b] - mean[j, b])
        for a in range(d):
            mean[i, a] = (size[i] * mean[i, a] + size[j] * mean[j, a]) / total
        trace[i], size[i] = new_trace, total
        term[i] = _criterion(scatter[i], trace[i], size[i], alpha, beta, factor)
        active[j] = False
        best_cost[j] = np.inf
        row_best, row_where = np.inf, -1
        for r in range(g):
            if not active[r] or r == i:
                continue
            value = _pair(i, r, mean, scatter, trace, size, term, alpha, beta, w, factor)
            cost[i, r] = cost[r, i] = value
            if value < row_best:
                row_best, row_where = value, r
        best_cost[i], best[i] = row_best, row_where
        for r in range(g):
            if not active[r] or r == i:
                continue
            if best[r] == i or best[r] == j:
                best_cost[r], best[r] = _row_min(cost, r, active)
            elif cost[r, i] < best_cost[r]:
                best_cost[r], best[r] = cost[r, i], i
    return merges


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


#: Below this (log scale) against a row's largest term, a component's exponential is taken as
#: 0: exp(-40) = 4e-18 is under half the rounding unit of the row's total (at least 1), so
#: the log-likelihood is unchanged and the posterior differs by less than 4e-18. It saves
#: most of the exponentials, the E-step's largest cost, once the profiles separate.
NEGLIGIBLE = -40.0


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
