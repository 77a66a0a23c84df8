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

__all__ = ["HierarchicalTree", "agglomerate", "svd_transform", "kmeanspp_labels",
           "random_labels", "ward_trees", "ward_labels", "one_hot", "merge_starts"]


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
        """``{k: labels 0..k-1 of the rows}`` for each reachable k (numbered in the order
        of the ids that survive each merge)."""
        from workbench.profiles.kernels.agglomeration import cut_merges

        g = int(self.groups.max()) + 1
        merges = np.ascontiguousarray(self.merges, dtype=np.int64).reshape(-1, 2)
        return {int(k): cut_merges(merges, g, int(k))[self.groups]
                for k in ks if 1 <= k <= g}

    def partition(self, k: int) -> np.ndarray:
        """Row labels 0..k-1 at k groups."""
        return self.partitions([k])[k]


def agglomerate(x, *, transform: bool = True, alpha: float = 1.0,
                beta: float = 1.0) -> HierarchicalTree:
    """Model-based hierarchical agglomeration (VVV criterion) of the rows of ``x``.

    Every row starts as its own group (duplicate rows merge first, at the smallest cost).
    Ties are broken as mclust breaks them: groups sit in numbered slots, the merged group
    keeps the lower slot and the group in the last slot moves into the freed one. The loop is
    compiled (:func:`workbench.profiles.kernels.agglomeration.hc_merges`).

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
    from workbench.profiles.kernels.agglomeration import hc_merges

    z = np.ascontiguousarray(svd_transform(x) if transform else np.asarray(x, float))
    g, d = z.shape
    alpha = max(alpha * float(np.sum((z - z.mean(axis=0)) ** 2)) / (g * d),
                np.finfo(float).eps)
    merges = hc_merges(z, float(alpha), float(beta))
    return HierarchicalTree(groups=np.arange(g), merges=merges)


def one_hot(labels, k, *, floor: float = 0.0) -> np.ndarray:
    """Responsibilities (n, k) of a hard partition (``floor`` on the other components)."""
    resp = np.full((len(labels), k), floor)
    resp[np.arange(len(labels)), labels] = 1.0
    return resp / resp.sum(axis=1, keepdims=True)


def merge_starts(resp, n_merges: int) -> list:
    """Starts for k - 1 components: two components of a k-component fit merged.

    The ``n_merges`` pairs whose posteriors overlap most (Ueda et al., 2000, split-and-merge
    EM: ``J(i, j) = p_i . p_j / (|p_i| |p_j|)`` over the columns of ``resp``), each merged by
    adding its two posterior columns.

    Examples
    --------
    >>> resp = np.array([[.5, .5, 0], [.4, .6, 0], [0, .1, .9]])
    >>> [r.round(1).tolist() for r in merge_starts(resp, 1)]
    [[[1.0, 0.0], [1.0, 0.0], [0.1, 0.9]]]
    """
    resp = np.asarray(resp, dtype=float)
    k = resp.shape[1]
    norms = np.maximum(np.linalg.norm(resp, axis=0), 1e-300)
    overlap = (resp.T @ resp) / np.outer(norms, norms)
    pairs = sorted(((i, j) for i in range(k) for j in range(i + 1, k)),
                   key=lambda ij: -overlap[ij])
    out = []
    for i, j in pairs[:n_merges]:
        merged = np.delete(resp, j, axis=1)
        merged[:, i] += resp[:, j]
        out.append(merged)
    return out


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
    """Ward trees (:class:`HierarchicalTree`) of the data and of its whitened principal
    components.

    Cut at k they give deterministic starts besides the model-based agglomeration. The
    agglomeration is compiled (:func:`workbench.profiles.kernels.agglomeration.ward_merges`;
    the tests check its partitions against scipy's ``linkage(method="ward")``, whose import alone cost most
    of a second of every run).
    """
    from workbench.profiles.kernels.agglomeration import ward_merges

    xc = np.asarray(x, float) - np.mean(x, axis=0)
    points = [xc]
    u, sv, _ = np.linalg.svd(xc, full_matrices=False)
    keep = sv > 1e-8 * sv[0]
    if keep.sum() > 1:
        points.append(u[:, keep] * np.sqrt(sv[keep]))
    return [HierarchicalTree(groups=np.arange(len(xc)),
                             merges=ward_merges(np.ascontiguousarray(p))[0]) for p in points]


def ward_labels(trees, k) -> list:
    """The partitions of each Ward tree cut at k groups (those that reach k groups)."""
    out = []
    if k == 1 or not trees:
        return out
    for tree in trees:
        labels = tree.partition(k)
        if labels.max() + 1 == k:
            out.append(labels)
    return out
