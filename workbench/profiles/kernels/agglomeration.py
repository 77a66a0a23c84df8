"""Compiled agglomerations (numba): mclust's model-based hierarchical agglomeration
(:func:`hc_merges`, VVV criterion), Ward's by the nearest-neighbour chain
(:func:`ward_merges`) and a tree cut at k groups (:func:`cut_merges`). Used by
:mod:`workbench.profiles.initialisation`; the rules all kernels follow are in
:mod:`workbench.profiles.kernels`.

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

__all__ = ["hc_merges", "ward_merges", "cut_merges"]


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

