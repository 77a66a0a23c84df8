"""mclust's fourteen covariance structures: parameter counts and the M-step of each.

Each structure constrains the component covariances ``Sigma_k = lambda_k D_k A_k D_k'``
(volume ``lambda_k``, orientation ``D_k``, shape ``A_k`` with ``|A_k| = 1``), named as mclust
names them (Fraley & Raftery 2002; Celeux & Govaert 1995; Browne & McNicholas 2014). A letter
says whether volume, shape and orientation are Equal across components, Variable, or the
Identity:

====== ============================ ================================================
name   covariance                   M-step
====== ============================ ================================================
EII    ``lambda I``                 closed form
VII    ``lambda_k I``               closed form
EEI    ``lambda A`` (diagonal)      closed form
VEI    ``lambda_k A``               iterated (Celeux & Govaert 1995, sec. 4)
EVI    ``lambda A_k``               closed form
VVI    ``lambda_k A_k``             closed form
EEE    ``Sigma``                    closed form
VEE    ``lambda_k C`` (``|C| = 1``) iterated (Celeux & Govaert 1995)
EVE    ``lambda D A_k D'``          iterated: Jacobi plane rotations for ``D``,
VVE    ``lambda_k D A_k D'``        closed form for the rest (Browne & McNicholas 2014)
EEV    ``lambda D_k A D_k'``        closed form (eigen-decompositions)
VEV    ``lambda_k D_k A D_k'``      iterated
EVV    ``lambda D_k A_k D_k'``      closed form
VVV    ``Sigma_k``                  closed form
====== ============================ ================================================

The M-steps take the weighted scatter of every component at once (``W_k = sum_i z_ik (x_i -
mu_k)(x_i - mu_k)'``, or its diagonal for the diagonal structures) and the component sizes
``n_k``, and return the covariances maximising the expected complete-data log-likelihood
under the constraint. Iterated M-steps keep their state (the common shape or orientation)
between EM iterations in ``state``, so that each M-step starts where the previous one ended.
A covariance that is singular raises :class:`Degenerate` (mclust reports NA).

Examples
--------
>>> n_parameters("VVV", 3, 2)
17
>>> len(STRUCTURES)
14
"""

from __future__ import annotations

import numpy as np

__all__ = ["STRUCTURES", "DIAGONAL", "Degenerate", "n_parameters", "mstep_diagonal",
           "mstep_full"]

STRUCTURES = ("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VEE", "EVE", "VVE", "EEV",
              "VEV", "EVV", "VVV")
DIAGONAL = ("EII", "VII", "EEI", "VEI", "EVI", "VVI")
#: Inner iterations of the iterated M-steps (volumes/shape, orientation) and their tolerance.
INNER_MAX, INNER_TOL = 100, 1e-10


class Degenerate(Exception):
    """EM reached a singular covariance or an empty component (mclust reports NA)."""


def n_parameters(structure: str, k: int, d: int) -> int:
    """Number of free parameters, as mclust's ``nMclustParams`` counts them.

    Examples
    --------
    >>> n_parameters("EVE", 2, 3)
    15
    """
    rot = d * (d - 1) // 2
    cov = {
        "EII": 1,
        "VII": k,
        "EEI": d,
        "VEI": k + d - 1,
        "EVI": 1 + k * (d - 1),
        "VVI": k * d,
        "EEE": d * (d + 1) // 2,
        "VEE": k + (d - 1) + rot,
        "EVE": 1 + k * (d - 1) + rot,
        "VVE": k * d + rot,
        "EEV": 1 + (d - 1) + k * rot,
        "VEV": k + (d - 1) + k * rot,
        "EVV": 1 + k * (d * (d + 1) // 2 - 1),
        "VVV": k * d * (d + 1) // 2,
    }[structure]
    return (k - 1) + k * d + cov


def check_var(var, scale):
    """Variances must be finite and not vanishing against the data's scale."""
    if not np.all(np.isfinite(var)) or np.min(var) <= 1e-10 * scale:
        raise Degenerate("singular covariance")


def _geometric_mean(values, axis=-1):
    return np.exp(np.mean(np.log(values), axis=axis))


def _volumes_and_common_shape(w, nk, shape, scale, *, check_shape):
    """Per-component volumes and one shared shape (VEI, VEV; Celeux & Govaert 1995, sec. 3).

    ``w`` holds each component's scatter on the shape axes (k x d). Volumes and shape are
    updated in turn until the shape moves by less than ``INNER_TOL`` (compiled:
    :func:`workbench.profiles.kernels.mstep.volumes_common_shape`). Vanishing volumes (and, with
    ``check_shape``, a vanishing shape) raise :class:`Degenerate`.
    """
    from workbench.profiles.kernels.mstep import volumes_common_shape

    lam, shape, ok = volumes_common_shape(np.ascontiguousarray(w, dtype=float),
                                          nk.astype(float), np.asarray(shape, dtype=float),
                                          1e-10 * scale, check_shape, INNER_MAX, INNER_TOL)
    if not ok:
        raise Degenerate("singular covariance")
    return lam, shape


def mstep_diagonal(wdiag, nk, structure, scale, state):
    """Variances (k, d) of a diagonal structure from the diagonal scatter ``wdiag`` (k, d)."""
    k, d = wdiag.shape
    if structure == "EII":
        var = np.full((k, d), wdiag.sum() / (nk.sum() * d))
    elif structure == "VII":
        var = np.repeat((wdiag.sum(axis=1) / (nk * d))[:, None], d, axis=1)
    elif structure == "EEI":
        var = np.repeat((wdiag.sum(axis=0) / nk.sum())[None, :], k, axis=0)
    elif structure == "VVI":
        var = wdiag / nk[:, None]
    elif structure == "EVI":
        check_var(wdiag, scale * nk.min())
        det = _geometric_mean(wdiag)  # |diag W_k|^(1/d)
        var = wdiag / det[:, None] * (det.sum() / nk.sum())
    elif structure == "VEI":
        lam, shape = _volumes_and_common_shape(wdiag, nk, state.get("shape", np.ones(d)),
                                               scale, check_shape=True)
        state["shape"] = shape
        var = lam[:, None] * shape[None, :]
    else:  # pragma: no cover - guarded by the caller
        raise ValueError(structure)
    check_var(var, scale)
    return var


def _eig_desc(scatter):
    """Eigenvalues (descending) and eigenvectors of every matrix of a (k, d, d) stack."""
    vals, vecs = np.linalg.eigh(scatter)
    return vals[:, ::-1], vecs[:, :, ::-1]


def _common_orientation(scatter, nk, structure, state, scale):
    """EVE and VVE: one orientation ``D`` with variable shapes (and volumes for VVE).

    Block-coordinate descent of ``Q = sum_k tr(W_k Sigma_k^-1) + n_k log|Sigma_k|``: for a
    fixed ``D`` the shapes and volumes have closed forms (those of EVI and VVI on the rotated
    scatter ``S_k = D' W_k D``); for fixed shapes and volumes (``B_k = A_k^-1 / lambda_k``),
    ``D`` minimises ``sum_k tr(S_k B_k)`` by Jacobi sweeps: rotating columns i and j of ``D``
    by ``theta`` changes the criterion by ``a cos 2 theta + b sin 2 theta`` with
    ``a = sum_k (B_ki - B_kj) (S_kii - S_kjj) / 2`` and ``b = sum_k (B_ki - B_kj) S_kij``,
    minimised exactly at ``2 theta = atan2(-b, -a)`` (the plane rotations of Flury's common
    principal components). Each step lowers ``Q``; sweeps stop when ``Q`` changes by less
    than ``INNER_TOL`` (relative). The orientation is kept in ``state`` for the next M-step.
    """
    from workbench.profiles.kernels.mstep import common_orientation_mstep

    D = state.get("orientation")
    if D is None:
        _, vecs = _eig_desc(scatter.sum(axis=0)[None])
        D = vecs[0].copy()
    # Compiled: S_k = D' W_k D, the sweeps, and D diag(lambda_k A_k) D'.
    cov, ok = common_orientation_mstep(np.ascontiguousarray(scatter), D, nk.astype(float),
                                       structure == "EVE", 1e-10 * scale, INNER_MAX,
                                       INNER_TOL)
    if not ok:
        raise Degenerate("singular covariance")
    state["orientation"] = D
    return cov


def _volumes_common_matrix(scatter, nk, state, scale):
    """VEE: ``Sigma_k = lambda_k C`` with ``|C| = 1``; ``C`` and the volumes in turn.

    Given the volumes, ``C`` is ``S / |S|^(1/d)`` with ``S = sum_k W_k / lambda_k``; given
    ``C``, ``lambda_k = tr(W_k C^-1) / (d n_k)`` (Celeux & Govaert 1995); compiled:
    :func:`workbench.profiles.kernels.mstep.volumes_common_matrix`.
    """
    from workbench.profiles.kernels.mstep import volumes_common_matrix

    k = len(nk)
    lam = state.get("volumes")
    if lam is None or len(lam) != k:
        lam = np.ones(k)
    lam, c, ok = volumes_common_matrix(np.ascontiguousarray(scatter), nk.astype(float), lam,
                                       1e-10 * scale, INNER_MAX, INNER_TOL)
    if not ok:
        raise Degenerate("singular covariance")
    state["volumes"] = lam
    return lam[:, None, None] * c[None]


def mstep_full(scatter, nk, structure, scale, state):
    """Covariances (k, d, d) of a structure with rotations from the scatters ``W_k``."""
    k, d, _ = scatter.shape
    if structure == "EEE":
        return np.repeat((scatter.sum(axis=0) / nk.sum())[None], k, axis=0)
    if structure == "VVV":
        return scatter / nk[:, None, None]
    if structure == "EVV":
        sign, logdet = np.linalg.slogdet(scatter)
        if np.any(sign <= 0):
            raise Degenerate("singular covariance")
        det = np.exp(logdet / d)
        return scatter / det[:, None, None] * (det.sum() / nk.sum())
    if structure == "VEE":
        return _volumes_common_matrix(scatter, nk, state, scale)
    if structure in ("EVE", "VVE"):
        return _common_orientation(scatter, nk, structure, state, scale)
    # EEV, VEV: W_k = D_k Omega_k D_k'
    omega, vecs = _eig_desc(scatter)
    if structure == "EEV":
        # only the orientations D_k of the W_k enter, with a common shape and volume: a
        # profile with fewer people than skills (a singular W_k) keeps a positive definite
        # covariance, as in mclust; only the pooled eigenvalues must be positive
        total = omega.sum(axis=0)
        if np.min(total) <= 1e-10 * scale * nk.sum():
            raise Degenerate("singular covariance")
        det = _geometric_mean(total)
        shape, lam = total / det, np.full(k, det / nk.sum())
    elif structure == "VEV":
        if np.min(omega) <= 1e-10 * scale * nk.min():
            raise Degenerate("singular covariance")
        lam, shape = _volumes_and_common_shape(omega, nk, state.get("shape", np.ones(d)),
                                               scale, check_shape=False)
        state["shape"] = shape
    else:  # pragma: no cover - guarded by the caller
        raise ValueError(structure)
    # D_k diag(lambda_k A) D_k' (a three-operand einsum was a third of this M-step's time)
    return (vecs * (lam[:, None] * shape[None])[:, None, :]) @ vecs.transpose(0, 2, 1)
