"""The compiled E- and M-step kernels against direct numpy computations of the same formulas.

(The EM they make up is checked against mclust in test_mclust_fixture.py.)
"""

from __future__ import annotations

import math

import numpy as np

from workbench.profiles.gaussian_mixture import _Data, _products, log_density, logsumexp
from workbench.profiles.kernels.estep import NEGLIGIBLE, estep_diag, estep_full, exp_negligible
from workbench.profiles.kernels.mstep import moments_diag, moments_full


def _mixture(rng, k, d):
    a = rng.normal(size=(k, d, d)) * 0.4 + np.eye(d)
    cov = a @ a.transpose(0, 2, 1)
    return rng.dirichlet(np.ones(k)), rng.normal(0, 2, (k, d)), cov


def test_exp_negligible_within_a_rounding_unit_of_math_exp():
    t = np.concatenate([-np.linspace(0, 45, 200_001), [-0.0, -1e-300, NEGLIGIBLE]])
    out = np.empty_like(t)
    exp_negligible(t, out, np.empty(len(t), dtype=np.int64))
    ref = np.array([math.exp(v) if v > NEGLIGIBLE else 0.0 for v in t])
    keep = ref > 0
    assert np.all(out[~keep] == 0.0)
    assert np.max(np.abs(out[keep] - ref[keep]) / ref[keep]) <= 2.3e-16  # one rounding unit


def test_compiled_estep_matches_numpy_log_sum_exp():
    rng = np.random.default_rng(3)
    for k, d, n in ((1, 2, 50), (3, 8, 700), (8, 5, 400)):
        weights, means, cov = _mixture(rng, k, d)
        x = rng.normal(0, 3, (n, d))
        logp = log_density(x, weights, means, cov)
        ref_ll = float(np.sum(logsumexp(logp, axis=1)))
        ref_resp = np.exp(logp - logsumexp(logp, axis=1, keepdims=True))
        chols = np.linalg.cholesky(cov)
        logdets = 2 * np.sum(np.log(np.diagonal(chols, axis1=1, axis2=2)), axis=1)
        resp = np.empty((n, k))
        ll = estep_full(x, np.log(weights), means, np.linalg.inv(chols), logdets, resp)
        assert abs(ll - ref_ll) <= 1e-12 * abs(ref_ll)
        assert np.max(np.abs(resp - ref_resp)) <= 1e-12
        var = np.abs(rng.normal(1, 0.3, (k, d))) + 0.1
        diag_cov = np.einsum("kj,ij->kij", var, np.eye(d))
        logp = log_density(x, weights, means, diag_cov)
        ll = estep_diag(x, np.log(weights), means, var, resp)
        assert abs(ll - np.sum(logsumexp(logp, axis=1))) <= 1e-12 * abs(ll)
        assert np.max(np.abs(resp - np.exp(logp - logsumexp(logp, axis=1, keepdims=True)))) \
            <= 1e-12


def test_moments_match_the_weighted_scatters():
    rng = np.random.default_rng(4)
    n, d, k = 600, 6, 4
    x = rng.normal(0, 2, (n, d))
    resp = rng.dirichlet(np.ones(k), n)
    nk = resp.sum(axis=0)
    means = resp.T @ x / nk[:, None]
    centred = x[:, None, :] - means[None]
    scatter = np.einsum("nk,nki,nkj->kij", resp, centred, centred)
    for structure, ref in (("VVV", scatter), ("VVI", np.einsum("kii->ki", scatter))):
        data = _Data(x, structure, 1.0)
        got = (moments_diag if data.diag else moments_full)(data.moment_rows @ resp, d)
        assert np.allclose(got[0], nk, rtol=1e-12)
        assert np.allclose(got[1], means, rtol=1e-10, atol=1e-12)
        assert np.allclose(got[2], ref, rtol=1e-9, atol=1e-9)


def test_products_are_shared_by_equal_data_only():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(4000, 8))
    first = _products(x, False)
    assert _products(x.copy(), False)[3] is first[3]  # equal data in another array
    other = x.copy()
    other[17, 3] += 1e-12
    assert _products(other, False)[3] is not first[3]
    assert _products(x, True)[3] is not first[3]
    assert np.array_equal(_products(other, False)[2], other.T)


def same_partition(a, b):
    """Equal up to relabelling: every cell of the contingency table pairs one label of each."""
    k = int(max(a.max(), b.max())) + 1
    table = np.bincount(a * k + b, minlength=k * k).reshape(k, k) > 0
    return table.sum(axis=0).max() == 1 and table.sum(axis=1).max() == 1


def test_ward_trees_cut_like_scipys_ward_linkage():
    """The compiled nearest-neighbour chain gives scipy's Ward partitions at every k, on the
    data and on its whitened components (the two trees ``ward_trees`` returns)."""
    from scipy.cluster.hierarchy import fcluster, linkage

    from workbench.profiles.initialisation import ward_trees

    rng = np.random.default_rng(8)
    for n, d in ((60, 2), (400, 5), (900, 8)):
        x = rng.normal(size=(n, d)) + 3.0 * rng.integers(0, 4, (n, 1))
        xc = x - x.mean(axis=0)
        u, sv, _ = np.linalg.svd(xc, full_matrices=False)
        for tree, points in zip(ward_trees(x), (xc, u * np.sqrt(sv)), strict=True):
            reference = linkage(points, method="ward")
            for k in range(2, 9):
                ours = tree.partition(k)
                assert ours.max() + 1 == k
                assert same_partition(ours, fcluster(reference, k, "maxclust") - 1), (n, k)


def test_tree_cuts_match_relabelling_merge_by_merge():
    """Cutting a tree by union-find gives the labels of replaying its merges one by one
    (each absorbed group takes the kept group's id; labels in the order of the ids)."""
    from workbench.profiles.initialisation import agglomerate

    rng = np.random.default_rng(2)
    x = rng.normal(size=(300, 4)) + rng.integers(0, 3, (300, 1))
    x[:10] = x[10:20]  # duplicate rows merge first
    tree = agglomerate(x)
    label = np.arange(int(tree.groups.max()) + 1)
    cuts = tree.partitions(range(2, 9))
    for step, (kept, absorbed) in enumerate(tree.merges):
        label[label == absorbed] = kept
        k = len(label) - step - 1
        if k in cuts:
            assert np.array_equal(cuts[k], np.unique(label, return_inverse=True)[1][tree.groups])
        if k <= 2:
            break
