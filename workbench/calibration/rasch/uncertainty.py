"""Standard errors of the Rasch measures with the other facets' uncertainty propagated.

FACETS' model SE of an element is one over the root of its own information: it treats every
other measure as known. In a 360 design a ratee's measure rests on a handful of raters whose
severities are themselves estimated from a few dozen ratings, so the model SEs are too small:
on simulated rating-scale data (400 ratees, 6 raters each) the 95 % intervals of ratee measures
covered the true abilities 0.92 of the time and those of rater severities 0.92, the errors
spreading 1.1 times the model SE.

:func:`joint_standard_errors` inverts the whole information matrix of the measures instead
and the thresholds: with ``I = X' diag(V) X`` for the signed facet
indicators ``X`` and the rating variances ``V`` (the thresholds' rows: see
:func:`_threshold_blocks`), the non-ratee facets (a nested facet, items, within each parent)
and each group's thresholds centred (their
measures written as ``Q gamma`` with ``Q`` a basis of each facet's sum-zero space), and the
ratee block ``D`` diagonal, the Schur complement ``S = Q'(C - B' D^-1 B)Q`` of the ratees
gives the covariance ``Q S^-1 Q'`` of the other facets and

    var(theta_i) = 1 / d_i + (D^-1 B Q S^-1 Q' B' D^-1)_ii

for the ratees (computed without forming ``Q``: see :class:`OtherCovariance`). The cost is one
dense inverse of the non-ratee facets' block (raters + skills + sources + thresholds), done
in place by LAPACK's Cholesky inverse (the block is sparse until it is factorised): at 3,000
raters about 1.5 s and 70 MB, at 5,000 about 8 s and 200 MB (one thread). The thresholds join
the block while it stays within :data:`MAX_JOINT` (partial credit per rater adds three or
four per rater); otherwise they are held. Above :data:`MAX_JOINT` non-ratee
elements a diagonal approximation is used: each other element's variance ``1 / S_ee`` on its
own (covariances and the centring dropped, thresholds held), propagated the same way; it is
sparse and cheap, and narrower (measured in docs/rasch.md).
Checked against a brute-force inverse of the full information matrix in
tests/calibration/test_rasch_uncertainty.py, and by coverage of the known truth there.

Examples
--------
>>> import numpy as np
>>> from workbench.calibration.rasch.estimation import fit_jmle, rasch_design
>>> from workbench.synth.generator import generate_organisation
>>> ratings = generate_organisation(60, seed=4, n_waves=1).ratings
>>> fit = fit_jmle(rasch_design(ratings))
>>> joint, model, _ = joint_standard_errors(fit.design, fit.betas, fit.tau)
>>> ok = np.isfinite(joint[0])
>>> bool((joint[0][ok] >= model[0][ok] - 1e-12).all())
True
"""

from __future__ import annotations

import numpy as np
import scipy.linalg as la
import scipy.sparse as sp

from workbench.calibration.rasch.estimation import (
    MAX_MEASURE,
    RaschDesign,
    category_moments,
    linear_predictor,
)

__all__ = ["joint_standard_errors", "OtherCovariance", "MAX_JOINT"]

#: Largest number of non-ratee elements whose block is factorised densely.
MAX_JOINT = 6000


def _sum_zero_basis(size: int) -> np.ndarray:
    """(size, size - 1): orthonormal columns spanning the vectors that sum to zero."""
    if size <= 1:
        return np.zeros((size, 0))
    q, _ = np.linalg.qr(np.eye(size) - 1.0 / size)
    return q[:, : size - 1]


def _threshold_blocks(work: RaschDesign, P: np.ndarray, X):
    """Information of the free thresholds (sum-zero within each group) with each other and
    with the measures: ``(C_tau, B_tau, Q_tau)``.

    The score of the threshold into category j is ``-(1[x >= j] - P(x >= j))``, that of a
    measure ``sign (x - E x)``: so ``I(beta, tau_j) = -sign Cov(x, 1[x >= j])`` and
    ``I(tau_j, tau_l) = P(x >= max(j, l)) - P(x >= j) P(x >= l)``, summed over the ratings of
    the threshold's group."""
    m = np.arange(P.shape[1], dtype=float)
    surv = np.cumsum(P[:, ::-1], axis=1)[:, ::-1][:, 1:]  # P(x >= j), j = 1..M
    tail = np.cumsum((P * m)[:, ::-1], axis=1)[:, ::-1][:, 1:]  # E[x 1[x >= j]]
    cov_x = tail - (P @ m)[:, None] * surv
    free = work.free_steps()
    blocks_c, cols_b, bases = [], [], []
    for g in range(len(free)):
        steps = np.flatnonzero(free[g])
        if len(steps) < 2:
            continue
        rows = work.group == g
        sg = surv[rows][:, steps]
        joint = surv[rows][:, np.maximum.outer(steps, steps)]
        blocks_c.append(joint.sum(axis=0) - sg.T @ sg)
        part = sp.csr_matrix(-cov_x[rows][:, steps])
        cols_b.append(X[rows].T @ part)  # elements x steps (X carries the signs)
        bases.append(len(steps))
    if not blocks_c:
        return None
    return sp.block_diag(blocks_c, format="csr"), sp.hstack(cols_b).tocsr(), bases


class OtherCovariance:
    """The covariance of the non-ratee measures (and thresholds): quadratic forms
    ``diag(G Cov G')`` of linear combinations ``G`` (rows x all elements, sparse) of them.

    With ``P`` the projection on the centred space (each block of coordinates, a facet or a
    threshold group, summing to zero) and ``S`` the information after eliminating the ratees,
    ``Cov = (P S P + I - P)^-1 - (I - P)``: the constrained inverse without a basis of the
    centred space (``P S P + I - P`` is ``S`` on the centred space and the identity off it).
    """

    def __init__(self, cols, cov, n_all):
        self.cols, self.cov, self.n_all = cols, cov, n_all

    def quad_rows(self, G, chunk: int = 2000) -> np.ndarray:
        """diag(G Cov G') for G (rows x the blocks' coordinates), sparse."""
        G = sp.csr_matrix(G)
        if self.cov.ndim == 1:  # the diagonal approximation of large designs
            return np.asarray(G.multiply(G) @ self.cov).ravel()
        out = np.empty(G.shape[0])
        for start in range(0, G.shape[0], chunk):
            part = G[start:start + chunk]
            out[start:start + chunk] = np.asarray(part.multiply(part @ self.cov).sum(axis=1)
                                                  ).ravel()
        return out

    def quad(self, G) -> np.ndarray:
        """diag(G Cov G') for G over all elements (the ratees' columns are ignored)."""
        G = sp.csr_matrix(G)[:, self.cols]
        pad = self.cov.shape[0] - len(self.cols)
        if pad:
            G = sp.hstack([G, sp.csr_matrix((G.shape[0], pad))]).tocsr()
        return self.quad_rows(G)


def _centred_covariance(S: np.ndarray, sizes) -> np.ndarray:
    """``(P S P + I - P)^-1 - (I - P)`` for the blocks of ``sizes`` (see OtherCovariance).

    In place on ``S`` (overwritten by the result) and by LAPACK's Cholesky inverse, so the
    only n x n array is ``S`` itself: at 5,000 raters 200 MB and about 8 s on one thread.
    """
    starts = np.cumsum([0, *sizes])
    size = np.asarray(sizes, float)
    blocks = [slice(a, b) for a, b in zip(starts[:-1], starts[1:], strict=True)]
    for b, mean in zip(blocks, np.add.reduceat(S, starts[:-1], axis=0) / size[:, None],
                       strict=True):
        S[b] -= mean  # P S: each block's rows centred
    for b, mean in zip(blocks, (np.add.reduceat(S, starts[:-1], axis=1) / size[None, :]).T,
                       strict=True):
        S[:, b] -= mean[:, None]  # ... and its columns
    for b, n in zip(blocks, size, strict=True):
        S[b, b] += 1.0 / n  # + (I - P): the block means
    factor, info = la.lapack.dpotrf(S, lower=1, overwrite_a=1)
    if info != 0:
        raise np.linalg.LinAlgError("the information is not positive definite")
    cov, info = la.lapack.dpotri(factor, lower=1, overwrite_c=1)
    if info != 0:
        raise np.linalg.LinAlgError("the information could not be inverted")
    n_all, chunk = len(cov), 1024
    for a in range(0, n_all, chunk):  # the upper triangle from the lower, a band at a time
        e = min(a + chunk, n_all)
        cov[a:e, e:] = cov[e:, a:e].T
        band = cov[a:e, a:e]
        band[np.triu_indices(e - a, 1)] = band.T[np.triu_indices(e - a, 1)]
    for b, n in zip(blocks, size, strict=True):
        cov[b, b] -= 1.0 / n
    return cov


def joint_standard_errors(work: RaschDesign, betas, tau):
    """Joint and model SEs of every element's measure (lists of arrays, one per facet).

    Elements without a finite measure (extreme or absent) get NaN in both. Returns
    ``(joint, model, covariance)``; above :data:`MAX_JOINT` non-ratee elements ``covariance``
    holds the diagonal approximation (``covariance.cov`` 1-D); ``joint`` and ``covariance``
    are None when the information is not positive definite on the centred space even
    without the thresholds (a design the data barely identify).
    """
    for with_thresholds in (True, False):
        try:
            return _joint(work, betas, tau, with_thresholds)
        except (np.linalg.LinAlgError, ValueError):
            continue
    return None, _joint(work, betas, tau, False, model_only=True)[1], None


def _joint(work: RaschDesign, betas, tau, with_thresholds: bool, model_only: bool = False):
    """Standard errors of every element's measure: model SEs and joint SEs.

    Model SEs are ``1 / sqrt(information)`` of each element alone. Joint SEs also carry the
    uncertainty of the other facets' measures (and the thresholds when ``with_thresholds``): the
    ratees are eliminated analytically and the rest comes from the inverse of the remaining
    information. Returns ``(joint, model, covariance)``; ``model_only`` skips the joint part.
    """
    current = [np.nan_to_num(b) for b in betas]
    P, _, V = category_moments(linear_predictor(work, current), work.group, tau, work.mask())
    X = work.indicators.tocsc()
    sizes = work.sizes
    offsets = np.cumsum([0, *sizes])
    info = np.asarray(X.multiply(X).T @ V).ravel()
    # an element the data barely bound (a measure at or beyond MAX_MEASURE: separation in a
    # sparse design) would make the whole block near singular; it keeps its model SE
    finite = np.concatenate([np.isfinite(b) for b in betas]) & (info > 0)
    alive = finite & (np.abs(np.concatenate(current)) < MAX_MEASURE)
    with np.errstate(divide="ignore"):
        model_all = np.where(finite, 1 / np.sqrt(np.where(info > 0, info, 1.0)), np.nan)
    model = [model_all[offsets[k]:offsets[k + 1]] for k in range(len(sizes))]
    n_other = int(alive[offsets[1]:].sum())
    if model_only:
        return None, model, None
    approximate = n_other > MAX_JOINT
    ratees = np.flatnonzero(alive[: offsets[1]])
    others = [np.flatnonzero(alive[offsets[k]:offsets[k + 1]]) + offsets[k]
              for k in range(1, len(sizes))]
    cols = np.concatenate(others)
    Xr, Xo = X[:, ratees], X[:, cols]
    d = info[ratees]
    B = (Xr.multiply(V[:, None]).T @ Xo).tocsr()  # ratees x others
    C = (Xo.multiply(V[:, None]).T @ Xo).tocsr()
    if approximate:  # each other element's variance on its own (covariances dropped)
        s_diag = C.diagonal() - np.asarray(B.multiply(B).T @ (1.0 / d)).ravel()
        if not (s_diag > 0).all():
            raise ValueError("non-positive information after eliminating the ratees")
        cov = OtherCovariance(cols, 1.0 / s_diag, offsets[-1])
        joint_all = np.full(offsets[-1], np.nan)
        joint_all[cols] = np.sqrt(cov.cov)
        joint_all[ratees] = np.sqrt(1.0 / d + cov.quad_rows(sp.diags(1.0 / d) @ B))
        return [joint_all[offsets[k]:offsets[k + 1]] for k in range(len(sizes))], model, cov
    sizes_blocks = []  # centring blocks: a facet, or each parent's elements of a nested facet
    for k, o in enumerate(others, start=1):
        counts = np.bincount(work.blocks(k)[o - offsets[k]])
        sizes_blocks += [int(n) for n in counts if n > 0]
    free = work.free_steps().sum(axis=1)
    n_steps = int(free[free >= 2].sum())
    if with_thresholds and n_other + n_steps > MAX_JOINT:
        raise ValueError("too many thresholds to join the dense block; held instead")
    steps = _threshold_blocks(work, P, X) if with_thresholds else None
    if steps is not None:  # the thresholds join the other facets
        C_tau, B_tau, step_sizes = steps
        cross = B_tau[cols].T  # steps x others
        C = sp.bmat([[C, cross.T], [cross, C_tau]]).tocsr()
        B = sp.hstack([B, B_tau[ratees]]).tocsr()
        sizes_blocks += step_sizes
    DB = sp.diags(1.0 / d) @ B
    S = (C - B.T @ DB).toarray()  # the one dense array (sparse until here)
    cov = OtherCovariance(cols, _centred_covariance(S, sizes_blocks), offsets[-1])
    joint_all = np.full(offsets[-1], np.nan)
    joint_all[cols] = np.sqrt(np.maximum(np.diag(cov.cov)[: len(cols)], 0.0))
    joint_all[ratees] = np.sqrt(1.0 / d + np.maximum(cov.quad_rows(DB), 0.0))
    if not np.isfinite(joint_all[alive]).all():
        raise ValueError("non-finite joint standard errors")
    joint = [joint_all[offsets[k]:offsets[k + 1]] for k in range(len(sizes))]
    return joint, model, cov
