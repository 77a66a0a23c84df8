"""Stability of a profile solution under bootstrap resampling (Hennig 2007), with its
Monte Carlo error.

Each resample draws n people with replacement and refits the chosen structure and k. For
latent profile analysis the refit is warm-started: EM starts from the fitted solution's
posterior probabilities on the resample (a few iterations reach the resample's maximum
nearby), and competes with two fresh k-means++ starts, so that a solution that only exists
for this sample can still dissolve. k-means and Ward are refitted from scratch. The
resamples run in parallel (``n_jobs``) with seeds spawned from one root, so the numbers do not
depend on the number of workers.

Per profile, the Jaccard similarity of its members with the most similar refitted profile
among the people drawn; over resamples: the mean (``>= 0.75`` stable, Hennig's rule),
2.5% and 97.5% quantiles, the share below 0.5 (dissolved) and ``jaccard_mc_se``, the Monte
Carlo standard error of the mean (``sd / sqrt(B)``: what another set of B resamples would
change). The adjusted Rand index of the refit's assignment of everyone against the solution
summarises the whole partition, with its Monte Carlo error too.

Examples
--------
>>> import numpy as np
>>> from workbench.profiles.gaussian_mixture import fit_mixture
>>> rng = np.random.default_rng(0)
>>> x = np.vstack([rng.normal(0, 1, (60, 2)), rng.normal(6, 1, (60, 2))])
>>> fit = fit_mixture(x, 2, "EII", random_state=0)
>>> labels = np.argmax(fit.resp, axis=1)
>>> ari, jac = bootstrap_stability(x, labels, fit=fit, n_bootstrap=5, random_state=1)
>>> bool(jac.min() > 0.9)
True
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.profiles.gaussian_mixture import MixtureFit, fit_mixture
from workbench.profiles.parallel import parallel_map, spawn_seeds

__all__ = ["bootstrap_stability", "stability_table", "adjusted_rand", "STABLE_JACCARD", "DISSOLVED_JACCARD"]

STABLE_JACCARD, DISSOLVED_JACCARD = 0.75, 0.5
#: Fresh k-means++ starts that compete with the warm start in each refit.
FRESH_STARTS = 2


def adjusted_rand(a, b) -> float:
    """Adjusted Rand index of two labelings (Hubert & Arabie 1985), from their contingency
    table: ``(sum_ij C(n_ij, 2) - E) / ((sum_i C(a_i, 2) + sum_j C(b_j, 2)) / 2 - E)`` with
    ``E = sum_i C(a_i, 2) sum_j C(b_j, 2) / C(n, 2)``; 1 when both put everyone together or
    everyone apart. (scikit-learn's, whose import cost each bootstrap worker about 2 s of
    CPU; the tests check the two agree.)

    Examples
    --------
    >>> adjusted_rand([0, 0, 1, 1], [1, 1, 0, 0])
    1.0
    >>> round(adjusted_rand([0, 0, 1, 1], [0, 1, 0, 1]), 3)
    -0.5
    """
    _, a = np.unique(np.asarray(a), return_inverse=True)
    _, b = np.unique(np.asarray(b), return_inverse=True)
    n = len(a)
    table = np.bincount(a * (b.max() + 1) + b).astype(float)
    rows = np.bincount(a).astype(float)
    cols = np.bincount(b).astype(float)
    pairs = float(np.sum(table * (table - 1)) / 2)
    row_pairs = float(np.sum(rows * (rows - 1)) / 2)
    col_pairs = float(np.sum(cols * (cols - 1)) / 2)
    expected = row_pairs * col_pairs / (n * (n - 1) / 2) if n > 1 else 0.0
    top = (row_pairs + col_pairs) / 2 - expected
    if top == 0:
        return 1.0
    return (pairs - expected) / top


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    union = np.sum(a | b)
    return float(np.sum(a & b) / union) if union else np.nan


def _refit_lpa(fit: MixtureFit, x, xb, rng):
    warm = fit.predict_proba(xb)
    refit = fit_mixture(xb, fit.k, fit.structure, n_starts=1 + FRESH_STARTS, n_final=1,
                        init_resp=[warm], random_state=rng, tol=1e-5, subset=len(xb))
    if refit is None:
        return None
    return np.argmax(refit.predict_proba(x), axis=1)


def _refit_hard(method, x, xb, k, rng):
    from workbench.profiles.clustering import cluster_labels

    lab = cluster_labels(method, xb, k, n_starts=4, seed=int(rng.integers(2**31)))
    means = np.array([xb[lab == j].mean(axis=0) if np.any(lab == j) else
                      np.full(x.shape[1], np.inf) for j in range(k)])
    return np.argmin(((x[:, None, :] - means[None]) ** 2).sum(axis=2), axis=1)


def _one(x, labels, k, fit, method, seed):
    rng = np.random.default_rng(seed)
    n = len(x)
    idx = rng.integers(0, n, n)
    xb = x[idx]
    pred = _refit_lpa(fit, x, xb, rng) if fit is not None else _refit_hard(method, x, xb, k,
                                                                           rng)
    if pred is None:
        return None
    inside = np.unique(idx)  # Hennig (2007): compare on the people drawn into the resample
    jac = []
    for j in range(k):
        orig = labels[inside] == j
        if not orig.any():
            jac.append(np.nan)
            continue
        jac.append(max(_jaccard(orig, pred[inside] == m) for m in range(k)))
    return adjusted_rand(labels, pred), np.array(jac)


def bootstrap_stability(x, labels, *, fit: MixtureFit | None = None, method: str = "lpa",
                        n_bootstrap: int = 100, random_state=None, n_jobs=None,
                        progress: bool = False):
    """Adjusted Rand index (B,) and Jaccard per profile (B, k) over the bootstrap refits.

    Parameters
    ----------
    x : array (n, d)
    labels : array of int (n,)
        The solution's profiles 0..k-1.
    fit : MixtureFit, optional
        The fitted mixture (latent profile analysis): refits are warm-started from it.
    method : {"lpa", "kmeans", "ward"}
        How to refit when ``fit`` is None.
    n_bootstrap, random_state, n_jobs, progress
        Resamples, root seed (None: DEFAULT_SEED), workers (:mod:`workbench.parallel`: None is one unless inside
        ``parallel_config``, -1 every core), tqdm bar.

    Returns
    -------
    (ndarray, ndarray) or (None, None)
        None when every refit failed.
    """
    x = np.asarray(x, float)
    k = int(labels.max()) + 1
    seeds = spawn_seeds(random_state, n_bootstrap)
    done = [r for r in parallel_map(_one, [(x, labels, k, fit, method, s) for s in seeds],
                                    n_jobs, "bootstrap stability", progress) if r is not None]
    if not done:
        return None, None
    return np.array([r[0] for r in done]), np.array([r[1] for r in done])


def stability_table(ari, jac, sizes, n, small_share):
    """The per-profile table and the adjusted Rand summary (see the module notes)."""
    b = np.sum(np.isfinite(jac), axis=0)
    table = pd.DataFrame({
        "profile": np.arange(1, jac.shape[1] + 1),
        "jaccard": np.nanmean(jac, axis=0),
        "jaccard_mc_se": np.nanstd(jac, axis=0, ddof=1) / np.sqrt(b) if len(jac) > 1
        else np.nan,
        "jaccard_ci_low": np.nanquantile(jac, 0.025, axis=0),
        "jaccard_ci_high": np.nanquantile(jac, 0.975, axis=0),
        "dissolved": np.nanmean(jac < DISSOLVED_JACCARD, axis=0),
        "small": sizes / n < small_share,
        "n": b,
    })
    table.insert(6, "stable", table["jaccard"] >= STABLE_JACCARD)
    ari_summary = pd.Series({
        "estimate": ari.mean(),
        "mc_se": ari.std(ddof=1) / np.sqrt(len(ari)) if len(ari) > 1 else np.nan,
        "ci_low": np.quantile(ari, 0.025), "ci_high": np.quantile(ari, 0.975),
        "n": len(ari)})
    return table, ari_summary
