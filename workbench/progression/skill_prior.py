"""Where a person's true skills lie given their calibrated scores, with the skills' profiles.

The linear calibration's BLUPs shrink each person's ratings towards a normal prior that is the
same for every skill pair (compound symmetry: a general level plus independent skill
deviations). Real skill profiles are not like that: people come in profiles (a strategist
strong in planning and weak in coaching, a newcomer low everywhere), a mixture the calibration
model does not know. Each BLUP is still right on average (``E[true | BLUP] = BLUP`` per skill),
but the joint distribution of a person's skills given all their BLUPs is not
``Normal(BLUP, SE^2)`` with compound-symmetric errors, and the probability of meeting several
requirements at once comes out too confident (measured in docs/progression.md).

The fix here learns the profiles from the scores themselves:

1. **Undo the shrinkage.** Under the calibration model with ``n`` raters each rating every
   skill (leniency treated as known), the BLUP is ``mu + A (ybar - mu)`` with
   ``A = T (T + N)^-1``, ``T = a J + b I`` (ratee, ratee:skill variances), the raters' mean
   error covariance ``N = (h J + e I) / n`` (halo, residual). ``A`` is compound symmetric
   and invertible, so ``y = mu + A^-1 (BLUP - mu)`` recovers the person's leniency-corrected
   mean ratings, with known error covariance ``N``.
2. **Deconvolve a mixture.** The true skill vectors are modelled as a mixture of normals with
   one shared covariance (the profiles differ in their means), fitted to ``y`` with each
   person's known error covariance by the EM algorithm of extreme deconvolution (Bovy, Hogg
   and Roweis 2011); 1 to ``max_components`` components, the number chosen by BIC; fitted on
   at most 5,000 people (a seeded sample), applied to everyone.
3. **Posterior.** Each person's true skills are then a mixture of normals: component ``c``
   with weight ``w_c`` (the posterior probability of the profile), mean ``m_c`` and the
   covariance ``P = V - V (V + N)^-1 V``.

Assumptions: the calibration's balanced-design error model (as for the error correlation in
:mod:`workbench.progression.readiness`); normal profiles with a common spread.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> truth = np.where(rng.random(400)[:, None] < 0.5, -1.0, 1.0) + rng.normal(0, 0.2, (400, 2))
>>> y = truth + rng.normal(0, 0.3, (400, 2))
>>> fit = fit_skill_mixture(y, np.zeros(400, int), np.eye(2)[None] * 0.09)
>>> len(fit["weights"]), sorted(np.round(fit["means"][:, 0]).tolist())
(2, [-1.0, 1.0])
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["rating_error_model", "fit_skill_mixture", "skill_posterior"]

_MAX_FIT = 5_000


def _component(table, name):
    hit = table.loc[table["component"] == name, "variance"]
    return float(hit.iloc[0]) if len(hit) else 0.0


def rating_error_model(variance_components, scores) -> dict:
    """The calibration model's variances: ratee ``a``, ratee:skill ``b``, halo ``h`` and the
    residual ``e`` of a rater's skill score (item-level: the residual over the mean number of
    items plus the rater's view of the person in the skill).

    Parameters
    ----------
    variance_components : DataFrame
        component, variance[, subset] (the first subset is used).
    scores : DataFrame
        The scores contract (``n_items`` is used when present).

    Examples
    --------
    >>> vc = pd.DataFrame({"component": ["ratee", "ratee:skill", "rater:ratee", "residual"],
    ...                    "variance": [0.06, 0.07, 0.06, 0.2]})
    >>> rating_error_model(vc, pd.DataFrame({"person": ["p"]}))
    {'a': 0.06, 'b': 0.07, 'h': 0.06, 'e': 0.2}
    """
    vc = variance_components
    if "subset" in vc.columns:
        vc = vc[vc["subset"] == vc["subset"].iloc[0]]
    n_items = (pd.to_numeric(scores["n_items"], errors="coerce") if "n_items" in scores
               else pd.Series(dtype=float))
    items = float(n_items.mean()) if n_items.notna().any() else 1.0
    e = _component(vc, "residual") / max(items, 1.0) + _component(vc, "rater:ratee:skill")
    return {"a": _component(vc, "ratee"), "b": _component(vc, "ratee:skill"),
            "h": _component(vc, "rater:ratee"), "e": e}


def _psd(matrix, floor=1e-4):
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2)
    return (vectors * np.clip(values, floor, None)) @ vectors.T


def _e_step(y, groups, noise, weights, means, cov):
    """Per person and component: log(w_c N(y; mu_c, V + N_i)) and the posterior means; the
    posterior covariance per noise group."""
    total = cov[None] + noise
    inverse = np.linalg.inv(total)
    _, logdet = np.linalg.slogdet(total)
    n, k = y.shape
    loglik = np.empty((n, len(weights)))
    post = np.empty((n, len(weights), k))
    for c in range(len(weights)):
        d = y - means[c]
        solved = np.einsum("nij,nj->ni", inverse[groups], d)
        loglik[:, c] = (np.log(weights[c]) - 0.5 * (np.einsum("ni,ni->n", d, solved)
                                                    + logdet[groups] + k * np.log(2 * np.pi)))
        post[:, c] = means[c] + solved @ cov
    post_cov = cov[None] - cov[None] @ inverse @ cov[None]
    return loglik, post, post_cov


def _fit(y, groups, noise, n_components, seed, max_iter, tol):
    n, k = y.shape
    rng = np.random.default_rng(seed)
    means = (y[rng.choice(n, n_components, replace=False)] if n_components > 1
             else y.mean(axis=0, keepdims=True))
    cov = _psd(np.cov(y.T) - noise[groups].mean(axis=0))
    weights = np.full(n_components, 1.0 / n_components)
    counts = np.bincount(groups, minlength=len(noise))
    last = -np.inf
    for _ in range(max_iter):
        loglik, post, post_cov = _e_step(y, groups, noise, weights, means, cov)
        top = loglik.max(axis=1, keepdims=True)
        resp = np.exp(loglik - top)
        norm = resp.sum(axis=1, keepdims=True)
        total = float((top[:, 0] + np.log(norm[:, 0])).sum())
        resp /= norm
        weights = np.clip(resp.mean(axis=0), 1e-8, None)
        weights /= weights.sum()
        means = (resp[:, :, None] * post).sum(axis=0) / np.clip(resp.sum(axis=0), 1e-12,
                                                                  None)[:, None]
        diff = post - means[None]
        cov = (np.einsum("nc,nci,ncj->ij", resp, diff, diff)
               + np.tensordot(counts, post_cov, axes=1)) / n
        cov = _psd(cov)
        if total - last <= tol * abs(total):
            break
        last = total
    n_par = n_components * k + k * (k + 1) / 2 + n_components - 1
    return {"weights": weights, "means": means, "cov": cov, "loglik": total,
            "bic": -2 * total + n_par * np.log(n)}


def fit_skill_mixture(y, groups, noise, *, max_components=5, seed=0, max_iter=300,
                      tol=1e-7) -> dict:
    """Fit a normal mixture with a shared covariance to data observed with known errors.

    Parameters
    ----------
    y : array (n, k)
        Observations (complete rows).
    groups : array (n,) of int
        Each row's index into ``noise``.
    noise : array (g, k, k)
        Error covariance of each group's observations.
    max_components : int
        1 to this many components are fitted; the lowest BIC wins.
    seed : int
        Seed of the starting means (people drawn at random).

    Returns
    -------
    dict
        weights (c,), means (c, k), cov (k, k) of the true values, loglik, bic.
    """
    y = np.asarray(y, dtype=float)
    groups = np.asarray(groups, dtype=int)
    noise = np.asarray(noise, dtype=float)
    best = None
    for n_components in range(1, max(1, min(max_components, len(y) // 20)) + 1):
        fit = _fit(y, groups, noise, n_components, seed, max_iter, tol)
        if best is None or fit["bic"] < best["bic"]:
            best = fit
    return best


def skill_posterior(scores, error_model, *, max_components=5, seed=0) -> dict | None:
    """Each person's true skills given their BLUPs, as a mixture of normals (module docstring).

    Parameters
    ----------
    scores : DataFrame
        The scores contract of one wave (person, skill, score, n_raters), BLUPs of the linear
        calibration.
    error_model : dict
        :func:`rating_error_model`.

    Returns
    -------
    dict or None
        persons (index), skills (list), weights (n, c), means (n, c, k), cov (n, k, k) of each
        person's components, n_components; None when fewer than 30 people have every skill
        scored or the variances do not allow the shrinkage to be undone.
    """
    a, b, h, e = (error_model[name] for name in ("a", "b", "h", "e"))
    wide = scores.pivot_table(index="person", columns="skill", values="score", aggfunc="mean")
    wide = wide.dropna()
    k = wide.shape[1]
    if len(wide) < 30 or k < 2 or b <= 0 or e <= 0 or "n_raters" not in scores:
        return None
    raters = (pd.to_numeric(scores["n_raters"], errors="coerce").groupby(scores["person"])
              .mean().reindex(wide.index).fillna(1.0).clip(lower=1.0).round().to_numpy())
    levels, groups = np.unique(raters, return_inverse=True)
    eye, mean_j = np.eye(k), np.ones((k, k)) / k
    noise = np.array([(h * k * mean_j + e * eye) / n for n in levels])
    # A^-1 on the two eigenspaces of the compound-symmetric T and N
    t1, t0 = b + k * a, b
    unshrink = np.array([mean_j * (t1 + (e + k * h) / n) / t1 + (eye - mean_j) * (t0 + e / n) / t0
                         for n in levels])
    blup = wide.to_numpy(float)
    centre = blup.mean(axis=0)
    y = centre + np.einsum("nij,nj->ni", unshrink[groups], blup - centre)
    rng = np.random.default_rng(seed)
    fit_rows = (np.sort(rng.choice(len(y), _MAX_FIT, replace=False)) if len(y) > _MAX_FIT
                else np.arange(len(y)))
    fit = fit_skill_mixture(y[fit_rows], groups[fit_rows], noise,
                            max_components=max_components, seed=seed)
    loglik, post, post_cov = _e_step(y, groups, noise, fit["weights"], fit["means"],
                                     fit["cov"])
    weights = np.exp(loglik - loglik.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    return {"persons": wide.index.astype(str), "skills": list(wide.columns),
            "weights": weights, "means": post, "cov": post_cov[groups],
            "n_components": len(fit["weights"])}
