"""Starting partitions for EM: mclust's model-based hierarchical agglomeration, k-means++,
random centres, Ward trees and splits of the k - 1 solution.

**Model-based hierarchical agglomeration** (Banfield & Raftery 1993; Fraley 1998) is mclust's
default start and one start of every (structure, k) here, so that no cell ends with a worse
likelihood than mclust's single start. As mclust 6.0 does by default (``hcUse = "SVD"``,
``hcModelName = "VVV"``), the data are standardised, rotated to their principal axes and
scaled by the inverse square roots of the singular values, then agglomerated from the
singletons.
Each step merges the pair of groups with the smallest increase of the regularised VVV
classification criterion: a group of ``l`` rows with scatter ``W`` (trace ``t``) costs

* ``l log(beta (t + alpha) / l)`` when ``l <= d``, and
* ``l log(|W / l| + beta (t + alpha) / l)`` otherwise,

with ``beta = 1`` and ``alpha`` the trace of the scatter of the transformed data divided by
``n d`` (Fraley 1998; mclust's ``hcVVV`` defaults). The implementation keeps every pair's cost
and each group's cheapest partner, so one merge costs one pass over the groups.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = np.vstack([rng.normal(0, 1, (20, 2)), rng.normal(6, 1, (20, 2))])
>>> tree = agglomerate(x)
>>> labels = tree.partition(2)
>>> sorted(np.bincount(labels).tolist())
[20, 20]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage

__all__ = ["HierarchicalTree", "agglomerate", "svd_transform", "kmeanspp_labels",
           "random_labels", "ward_trees", "ward_labels", "one_hot"]


def svd_transform(x) -> np.ndarray:
    """mclust's ``hcUse = "SVD"``: standardise, rotate, scale by ``1 / sqrt(singular value)``."""
    x = np.asarray(x, float)
    sd = x.std(axis=0, ddof=1)
    keep = np.isfinite(sd) & (sd > 0)
    z = (x[:, keep] - x[:, keep].mean(axis=0)) / sd[keep]
    _, sv, vt = np.linalg.svd(z, full_matrices=False)
    ok = sv > 1e-12 * sv[0]
    return z @ vt[ok].T / np.sqrt(sv[ok])


@dataclass
class HierarchicalTree:
    """The merges of an agglomeration: ``groups`` (row -> initial group) and ``merges``
    (pairs ``(kept, absorbed)`` of group ids, in order)."""

    groups: np.ndarray
    merges: np.ndarray

    @property
    def n_groups(self) -> int:
        return len(self.merges) + 1 if len(self.merges) else int(self.groups.max()) + 1

    def partitions(self, ks) -> dict:
        """``{k: labels 0..k-1 of the rows}`` for each reachable k (one pass over merges)."""
        g = int(self.groups.max()) + 1
        label = np.arange(g)
        wanted = {int(k) for k in ks if 1 <= k <= g}
        out = {}
        current = g
        if current in wanted:
            out[current] = label.copy()
        for kept, absorbed in self.merges:
            label[label == absorbed] = kept
            current -= 1
            if current in wanted:
                out[current] = label.copy()
            if current <= min(wanted, default=1):
                break
        result = {}
        for k, lab in out.items():
            _, dense = np.unique(lab, return_inverse=True)
            result[k] = dense[self.groups]
        return result

    def partition(self, k: int) -> np.ndarray:
        """Row labels 0..k-1 at k groups."""
        return self.partitions([k])[k]


def _criterion(scatter, trace, size, alpha, beta, d):
    """The regularised VVV cost of groups (vectorised over the first axis)."""
    base = np.log(beta * (trace + alpha) / size)
    out = size * base
    big = size > d
    if np.any(big):
        sign, logdet = np.linalg.slogdet(scatter[big] / size[big, None, None])
        with np.errstate(invalid="ignore"):
            combined = np.where(sign > 0, np.logaddexp(logdet, base[big]), base[big])
        out[big] = size[big] * combined
    return out


def _merged(mean, scatter, trace, size, i, others):
    """Scatter, trace and size of group ``i`` merged with each group in ``others``."""
    c = size[i] * size[others] / (size[i] + size[others])
    # sqrt(c) (m_i - m_j), squared and summed: the trace as mclust accumulates it, so that
    # pairs tied in exact arithmetic (duplicate rows, data on a grid) tie here too.
    v = np.sqrt(c)[:, None] * (mean[i] - mean[others])
    w = scatter[others] + scatter[i] + np.einsum("ai,aj->aij", v, v)
    t = trace[others] + trace[i] + np.einsum("ai,ai->a", v, v)
    return w, t, size[i] + size[others]


def _pick(cost, best_cost, slot):
    """The pair to merge: the smallest cost; among exact ties, mclust's choice (the last pair
    in the order (slot j, slot i), i < j, of its packed cost array)."""
    low = best_cost.min()
    rows = np.flatnonzero(best_cost == low)
    pairs = [(r, int(c)) for r in rows for c in np.flatnonzero(cost[r] == low)]
    if len(pairs) == 1:
        return pairs[0]

    def key(pair):
        a, b = slot[pair[0]], slot[pair[1]]
        return (max(a, b), min(a, b))

    return max(pairs, key=key)


def agglomerate(x, *, transform: bool = True, alpha: float = 1.0,
                beta: float = 1.0) -> HierarchicalTree:
    """Model-based hierarchical agglomeration (VVV criterion) of the rows of ``x``.

    Every row starts as its own group (duplicate rows merge first, at the smallest cost).
    Ties are broken as mclust breaks them: groups sit in numbered slots, the merged group
    keeps the lower slot and the group in the last slot moves into the freed one.

    Parameters
    ----------
    x : array (n, d)
    transform : bool
        Apply :func:`svd_transform` first (mclust's default ``hcUse = "SVD"``).
    alpha, beta : float
        mclust's ``hcVVV`` regularisation (``alpha`` is multiplied by the trace of the
        scatter of the data divided by ``n d``).

    Returns
    -------
    HierarchicalTree
    """
    z = svd_transform(x) if transform else np.asarray(x, float)
    g, d = z.shape
    alpha = max(alpha * float(np.sum((z - z.mean(axis=0)) ** 2)) / (g * d),
                np.finfo(float).eps)
    size = np.ones(g)
    mean = z.copy()
    scatter = np.zeros((g, d, d))
    trace = np.zeros(g)
    term = _criterion(scatter, trace, size, alpha, beta, d)
    active = np.ones(g, dtype=bool)
    slot = np.arange(g)  # group -> mclust's slot
    in_slot = np.arange(g)  # slot -> group
    last = g - 1
    cost = np.full((g, g), np.inf)
    for i in range(g - 1):
        others = np.arange(i + 1, g)
        w, t, s = _merged(mean, scatter, trace, size, i, others)
        cost[i, others] = _criterion(w, t, s, alpha, beta, d) - term[i] - term[others]
    cost = np.minimum(cost, cost.T)
    best = np.argmin(cost, axis=1)
    best_cost = cost[np.arange(g), best]
    merges = []
    for _ in range(g - 1):
        i, j = _pick(cost, best_cost, slot)
        if slot[i] > slot[j]:
            i, j = j, i
        merges.append((i, j))
        freed = slot[j]
        if freed != last:  # the group in the last slot moves into the freed slot
            moved = in_slot[last]
            slot[moved], in_slot[freed] = freed, moved
        last -= 1
        w, t, s = _merged(mean, scatter, trace, size, i, np.array([j]))
        mean[i] = (size[i] * mean[i] + size[j] * mean[j]) / s[0]
        scatter[i], trace[i], size[i] = w[0], t[0], s[0]
        term[i] = _criterion(w, t, s, alpha, beta, d)[0]
        active[j] = False
        cost[j, :] = np.inf
        cost[:, j] = np.inf
        best_cost[j] = np.inf
        others = np.flatnonzero(active)
        others = others[others != i]
        if len(others) == 0:
            break
        w, t, s = _merged(mean, scatter, trace, size, i, others)
        row = _criterion(w, t, s, alpha, beta, d) - term[i] - term[others]
        cost[i, others] = row
        cost[others, i] = row
        m = int(np.argmin(row))
        best[i], best_cost[i] = others[m], row[m]
        # Groups whose cheapest partner was i or j look again; the others only compare with i.
        stale = others[(best[others] == i) | (best[others] == j)]
        for r in stale:
            best[r] = int(np.argmin(cost[r]))
            best_cost[r] = cost[r, best[r]]
        cheaper = others[row < best_cost[others]]
        best[cheaper] = i
        best_cost[cheaper] = row[np.searchsorted(others, cheaper)]
    return HierarchicalTree(groups=np.arange(g), merges=np.array(merges, dtype=int).reshape(-1, 2))


def one_hot(labels, k, *, floor: float = 0.0) -> np.ndarray:
    """Responsibilities (n, k) of a hard partition (``floor`` on the other components)."""
    resp = np.full((len(labels), k), floor)
    resp[np.arange(len(labels)), labels] = 1.0
    return resp / resp.sum(axis=1, keepdims=True)


def kmeanspp_labels(x, k, rng, *, lloyd_steps: int = 2) -> np.ndarray:
    """k-means++ seeding followed by a few Lloyd steps: a hard partition."""
    n = len(x)
    centres = [x[rng.integers(n)]]
    dist = np.sum((x - centres[0]) ** 2, axis=1)
    for _ in range(1, k):
        total = dist.sum()
        idx = rng.integers(n) if total <= 0 else rng.choice(n, p=dist / total)
        centres.append(x[idx])
        dist = np.minimum(dist, np.sum((x - x[idx]) ** 2, axis=1))
    centres = np.array(centres)
    for _ in range(lloyd_steps):
        labels = _nearest(x, centres)
        for j in range(k):
            if np.any(labels == j):
                centres[j] = x[labels == j].mean(axis=0)
    return _nearest(x, centres)


def _nearest(x, centres):
    d2 = (x * x).sum(1)[:, None] - 2 * x @ centres.T + (centres * centres).sum(1)
    return np.argmin(d2, axis=1)


def random_labels(x, k, rng) -> np.ndarray:
    """Nearest of k random rows (no Lloyd steps: other basins than k-means++)."""
    return _nearest(x, x[rng.choice(len(x), k, replace=False)])


def ward_trees(x) -> list:
    """Ward trees of the data and of its whitened principal components.

    Cut at k they give deterministic starts besides the model-based agglomeration.
    """
    xc = np.asarray(x, float) - np.mean(x, axis=0)
    trees = [linkage(xc, method="ward")]
    u, sv, _ = np.linalg.svd(xc, full_matrices=False)
    keep = sv > 1e-8 * sv[0]
    if keep.sum() > 1:
        trees.append(linkage(u[:, keep] * np.sqrt(sv[keep]), method="ward"))
    return trees


def ward_labels(trees, k) -> list:
    """The partitions of each Ward tree cut at k groups (those that reach k groups)."""
    out = []
    if k == 1 or not trees:
        return out
    for tree in trees:
        labels = fcluster(tree, k, criterion="maxclust") - 1
        if labels.max() + 1 == k:
            out.append(labels)
    return out
