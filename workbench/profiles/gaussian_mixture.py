"""Gaussian mixture models fitted by EM, with mclust's parsimonious covariance structures.

The engine behind :func:`workbench.profiles.select.find_profiles`. Each structure constrains the
component covariances ``Sigma_k = lambda_k D_k A_k D_k'`` (volume, orientation, shape), named as
mclust names them (Fraley & Raftery 2002; Celeux & Govaert 1995):

====== ============================ ==========================================
name   covariance                   M-step
====== ============================ ==========================================
EII    ``lambda I``                 closed form
VII    ``lambda_k I``               closed form
EEI    ``lambda A`` (diagonal)      closed form
VEI    ``lambda_k A``               iterated (Celeux & Govaert 1995, sec. 4)
EVI    ``lambda A_k``               closed form
VVI    ``lambda_k A_k``             closed form
EEE    ``Sigma``                    closed form
EEV    ``lambda D_k A D_k'``        closed form (eigen-decompositions)
VEV    ``lambda_k D_k A D_k'``      iterated
EVV    ``lambda D_k A_k D_k'``      closed form
VVV    ``Sigma_k``                  closed form
====== ============================ ==========================================

The E-step is vectorised over people (Cholesky factors, log-sum-exp). Starts are k-means++
seeded partitions, random partitions and one Ward partition (close to mclust's hierarchical
agglomeration); every start is run to convergence so that the number of starts reaching the
best log-likelihood can be reported. For large samples the starts run on a random subset (as
mclust initialises on a subset of 2000) and the best few are refined on all the data.

Examples
--------
>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> x = np.vstack([rng.normal(0, 1, (100, 2)), rng.normal(4, 1, (100, 2))])
>>> fit = fit_mixture(x, 2, "EII", random_state=0)
>>> fit.n_parameters
6
>>> bool(abs(fit.means[:, 0].min()) < 0.5)
True
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.cluster.hierarchy import fcluster, linkage
from threadpoolctl import threadpool_limits

from workbench.errors import ConfigError

__all__ = [
    "STRUCTURES",
    "MixtureFit",
    "fit_mixture",
    "n_parameters",
    "log_density",
    "sample_mixture",
    "ward_trees",
    "vlmr_test",
]

STRUCTURES = ("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "EEV", "VEV", "EVV", "VVV")
DIAGONAL = {"EII", "VII", "EEI", "VEI", "EVI", "VVI"}
_LOG_2PI = np.log(2 * np.pi)


def logsumexp(a, axis=1, keepdims=False):
    """Row-wise log-sum-exp (scipy's version carries array-API overhead in the EM loop)."""
    top = np.max(a, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(a - top), axis=axis, keepdims=True)) + top
    return out if keepdims else np.squeeze(out, axis=axis)


class Degenerate(Exception):
    """EM reached a singular covariance or an empty component (mclust reports NA)."""


def n_parameters(structure: str, k: int, d: int) -> int:
    """Number of free parameters, as mclust's ``nMclustParams`` counts them."""
    cov = {
        "EII": 1,
        "VII": k,
        "EEI": d,
        "VEI": k + d - 1,
        "EVI": 1 + k * (d - 1),
        "VVI": k * d,
        "EEE": d * (d + 1) // 2,
        "EEV": 1 + (d - 1) + k * d * (d - 1) // 2,
        "VEV": k + (d - 1) + k * d * (d - 1) // 2,
        "EVV": 1 + k * (d * (d + 1) // 2 - 1),
        "VVV": k * d * (d + 1) // 2,
    }[structure]
    return (k - 1) + k * d + cov


@dataclass
class MixtureFit:
    """A fitted Gaussian mixture (means and covariances on the data's own scale).

    Attributes
    ----------
    structure : str
        mclust name of the covariance structure.
    weights : ndarray (k,)
    means : ndarray (k, d)
    covariances : ndarray (k, d, d)
    loglik : float
        Maximised log-likelihood.
    resp : ndarray (n, k)
        Posterior membership probabilities of the fitted data.
    n_iter : int
        EM iterations of the best start.
    start_logliks : ndarray
        Converged log-likelihood of every final run (distinct partitions after the short runs).
    start_counts : ndarray
        How many starts each final run stands for (short runs that reached its partition).
    converged : bool
    """

    structure: str
    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    loglik: float
    resp: np.ndarray
    n_iter: int
    converged: bool
    start_logliks: np.ndarray = field(default_factory=lambda: np.array([]))
    start_counts: np.ndarray = field(default_factory=lambda: np.array([], dtype=int))

    @property
    def k(self) -> int:
        return len(self.weights)

    @property
    def n_parameters(self) -> int:
        return n_parameters(self.structure, self.k, self.means.shape[1])

    def n_at_best(self, tol: float = 1e-4) -> int:
        """Starts that reached a log-likelihood within ``tol`` (relative) of the best.

        A final run stands for every short run that had reached the same partition."""
        ll = self.start_logliks
        if len(ll) == 0:
            return 0
        counts = self.start_counts if len(self.start_counts) == len(ll) else np.ones(len(ll))
        # Against the best start (before the final polish to the tighter tolerance).
        top = ll.max()
        return int(np.sum(counts[ll >= top - tol * max(1.0, abs(top))]))

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        logp = log_density(x, self.weights, self.means, self.covariances)
        return np.exp(logp - logsumexp(logp, axis=1, keepdims=True))

    def score_samples(self, x: np.ndarray) -> np.ndarray:
        """Log-density of each row of ``x`` under the mixture."""
        return logsumexp(log_density(x, self.weights, self.means, self.covariances), axis=1)


# ----------------------------------------------------------------------------------- E-step


def _log_density_diag(x, weights, means, var, x2=None):
    # sum_j (x_j - mu_kj)^2 / v_kj expanded into three matrix products: no (n, k, d) tensor.
    prec = 1.0 / var
    maha = (x * x if x2 is None else x2) @ prec.T - 2.0 * x @ (means * prec).T + np.sum(means * means * prec, axis=1)
    logdet = np.sum(np.log(var), axis=1)
    return np.log(weights) - 0.5 * (x.shape[1] * _LOG_2PI + logdet + maha)


def _outer_tri(x):
    """Products x_i x_j (i <= j) of every row: (n, d (d + 1) / 2), computed once per EM run."""
    rows, cols = np.triu_indices(x.shape[1])
    return x[:, rows] * x[:, cols]


def _log_density_full(x, weights, means, chols, xx=None):
    """With ``xx`` (from :func:`_outer_tri`) the quadratic forms are two matrix products:
    ``x' P x = xx @ c`` (c: upper triangle of P, off-diagonal doubled), no (n, k, d) tensor."""
    n, d = x.shape
    k = len(weights)
    inv = np.linalg.inv(chols)
    logdet = 2.0 * np.sum(np.log(np.diagonal(chols, axis1=1, axis2=2)), axis=1)
    if xx is not None:
        prec = np.einsum("kji,kjl->kil", inv, inv)  # P_k = L^-T L^-1
        rows, cols = np.triu_indices(d)
        coef = prec[:, rows, cols] * np.where(rows == cols, 1.0, 2.0)
        pm = np.einsum("kij,kj->ki", prec, means)
        maha = xx @ coef.T - 2.0 * (x @ pm.T) + np.einsum("ki,ki->k", pm, means)
        return np.log(weights) - 0.5 * (d * _LOG_2PI + logdet + maha)
    # One matrix product for all components: rows of L_k^{-1} stacked into a (k*d, d) matrix.
    z = (x @ inv.reshape(k * d, d).T).reshape(n, k, d)
    z -= np.einsum("kij,kj->ki", inv, means)[None]
    maha = np.einsum("nki,nki->nk", z, z)
    return np.log(weights) - 0.5 * (d * _LOG_2PI + logdet + maha)


def log_density(x, weights, means, covariances) -> np.ndarray:
    """``log(pi_k) + log N(x_i; mu_k, Sigma_k)`` for every row and component (n, k)."""
    chols = np.array([np.linalg.cholesky(c) for c in covariances])
    return _log_density_full(np.asarray(x, float), weights, means, chols)


# ----------------------------------------------------------------------------------- M-step


def _check_var(var, scale):
    if not np.all(np.isfinite(var)) or np.min(var) <= 1e-10 * scale:
        raise Degenerate("singular covariance")


def _volumes_and_common_shape(w, nk, shape, *, check=None, check_volumes=None):
    """Per-component volumes and one shared shape (VEI, VEV; Celeux & Govaert 1995, sec. 3).

    ``w`` holds each component's scatter on the shape axes (k x d). Volumes and shape are
    updated in turn until the shape moves by less than 1e-10 (at most 100 rounds). ``check``
    guards volumes and shape, ``check_volumes`` only the volumes.
    """
    d = w.shape[1]
    check_volumes = check_volumes or check
    for _ in range(100):
        lam = (w / shape).sum(axis=1) / (d * nk)
        if check_volumes is not None:
            check_volumes(lam)
        new = (w / lam[:, None]).sum(axis=0)
        if check is not None:
            check(new)
        new = new / np.exp(np.mean(np.log(new)))
        done = np.max(np.abs(new - shape)) < 1e-10
        shape = new
        if done:
            break
    lam = (w / shape).sum(axis=1) / (d * nk)
    return lam, shape


def _mstep_diag(x, x2, resp, structure, scale, state):
    nk = np.ones(len(resp)) @ resp
    if np.min(nk) < 1e-8 * len(x):
        raise Degenerate("empty component")
    weights = nk / nk.sum()
    means = (resp.T @ x) / nk[:, None]
    # diag(W_k): sum_i r_ik (x_ij - mu_kj)^2
    wdiag = np.maximum(resp.T @ x2 - nk[:, None] * means**2, 0.0)
    k, d = means.shape
    if structure == "EII":
        var = np.full((k, d), wdiag.sum() / (nk.sum() * d))
    elif structure == "VII":
        var = np.repeat((wdiag.sum(axis=1) / (nk * d))[:, None], d, axis=1)
    elif structure == "EEI":
        var = np.repeat((wdiag.sum(axis=0) / nk.sum())[None, :], k, axis=0)
    elif structure == "VVI":
        var = wdiag / nk[:, None]
    elif structure == "EVI":
        _check_var(wdiag, scale * nk.min())
        det = np.exp(np.mean(np.log(wdiag), axis=1))  # |diag W_k|^(1/d)
        var = wdiag / det[:, None] * (det.sum() / nk.sum())
    elif structure == "VEI":
        lam, shape = _volumes_and_common_shape(
            wdiag, nk, state.get("shape", np.ones(d)), check=lambda v: _check_var(v, scale)
        )
        state["shape"] = shape
        var = lam[:, None] * shape[None, :]
    else:  # pragma: no cover - guarded by the caller
        raise ValueError(structure)
    _check_var(var, scale)
    return weights, means, var


def _eig_desc(w):
    vals, vecs = np.linalg.eigh(w)
    return vals[::-1], vecs[:, ::-1]


def _mstep_full(x, resp, structure, scale, state, xx=None):
    nk = np.ones(len(resp)) @ resp
    n, d = x.shape
    if np.min(nk) < 1e-8 * n:
        raise Degenerate("empty component")
    weights = nk / nk.sum()
    means = (resp.T @ x) / nk[:, None]
    k = len(nk)
    # W_k = sum_i r_ik x_i x_i' - n_k mu_k mu_k', all components in one matrix product.
    if xx is None:
        xx = _outer_tri(x)
    rows, cols = np.triu_indices(d)
    second = np.empty((k, d, d))
    upper = resp.T @ xx
    second[:, rows, cols] = upper
    second[:, cols, rows] = upper
    scatter = second - nk[:, None, None] * np.einsum("ki,kj->kij", means, means)
    if structure == "EEE":
        cov = np.repeat((scatter.sum(axis=0) / nk.sum())[None], k, axis=0)
    elif structure == "VVV":
        cov = scatter / nk[:, None, None]
    elif structure == "EVV":
        logdet = np.array([np.linalg.slogdet(s)[1] for s in scatter]) / d
        shapes = scatter / np.exp(logdet)[:, None, None]
        cov = shapes * (np.exp(logdet).sum() / nk.sum())
    else:  # EEV, VEV: W_k = D_k Omega_k D_k'
        eig = [_eig_desc(s) for s in scatter]
        omega = np.array([e[0] for e in eig])
        if np.min(omega) <= 1e-10 * scale * nk.min():
            raise Degenerate("singular covariance")
        if structure == "EEV":
            total = omega.sum(axis=0)
            det = np.exp(np.mean(np.log(total)))
            shape, lam = total / det, np.full(k, det / nk.sum())
        else:
            lam, shape = _volumes_and_common_shape(
                omega, nk, state.get("shape", np.ones(d)), check_volumes=lambda v: _check_var(v, scale)
            )
            state["shape"] = shape
        cov = np.array([lam[j] * (eig[j][1] * shape) @ eig[j][1].T for j in range(k)])
    return weights, means, cov


def _chols(cov, scale):
    try:
        chols = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:
        raise Degenerate("singular covariance") from None
    diag = np.diagonal(chols, axis1=1, axis2=2)
    if not np.all(np.isfinite(diag)) or np.min(diag) ** 2 <= 1e-10 * scale:
        raise Degenerate("singular covariance")
    ratio = (np.min(diag, axis=1) / np.max(diag, axis=1)) ** 2
    if np.min(ratio) < 1e-12:
        raise Degenerate("ill-conditioned covariance")
    return chols


# ----------------------------------------------------------------------------------- EM loop


@dataclass
class _Run:
    loglik: float
    weights: np.ndarray
    means: np.ndarray
    cov: np.ndarray  # (k, d) variances for diagonal structures, (k, d, d) otherwise
    resp: np.ndarray
    n_iter: int
    converged: bool


def _em(x, resp, structure, *, tol, max_iter, scale):
    """EM from an initial responsibility matrix; raises Degenerate."""
    diag = structure in DIAGONAL
    x2 = x * x if diag else None
    xx = None if diag else _outer_tri(x)
    state: dict = {}
    previous = -np.inf
    loglik = -np.inf
    converged = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - it is the iteration count returned
        if diag:
            weights, means, cov = _mstep_diag(x, x2, resp, structure, scale, state)
            logp = _log_density_diag(x, weights, means, cov, x2)
        else:
            weights, means, cov = _mstep_full(x, resp, structure, scale, state, xx)
            logp = _log_density_full(x, weights, means, _chols(cov, scale), xx)
        # log-sum-exp in place: the exponentials double as the unnormalised posteriors.
        # (numpy reduces a short trailing axis slowly: max over a transposed copy, sums by
        # matrix-vector products.)
        top = np.ascontiguousarray(logp.T).max(axis=0)[:, None]
        np.subtract(logp, top, out=logp)
        np.exp(logp, out=logp)
        total = (logp @ np.ones(logp.shape[1]))[:, None]
        loglik = float(np.sum(np.log(total)) + np.sum(top))
        if not np.isfinite(loglik):
            raise Degenerate("non-finite log-likelihood")
        resp = np.divide(logp, total, out=logp)
        if abs(loglik - previous) <= tol * abs(loglik):
            converged = True
            break
        previous = loglik
    return _Run(loglik, weights, means, cov, resp, it, converged)


def _as_full(cov, d):
    if cov.ndim == 2:
        return np.array([np.diag(v) for v in cov])
    return cov


# ----------------------------------------------------------------------------------- starts


def _kmeanspp(x, k, rng):
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
    for _ in range(2):
        d2 = (x * x).sum(1)[:, None] - 2 * x @ centres.T + (centres * centres).sum(1)
        labels = np.argmin(d2, axis=1)
        for j in range(k):
            if np.any(labels == j):
                centres[j] = x[labels == j].mean(axis=0)
    return labels


def ward_trees(x) -> list:
    """Ward trees of the data and of its whitened principal components (mclust's "SVD" idea).

    Cut at k they give deterministic starts close to mclust's hierarchical initialisation.
    """
    xc = np.asarray(x, float) - np.mean(x, axis=0)
    trees = [linkage(xc, method="ward")]
    u, sv, _ = np.linalg.svd(xc, full_matrices=False)
    keep = sv > 1e-8 * sv[0]
    if keep.sum() > 1:
        trees.append(linkage(u[:, keep] * np.sqrt(sv[keep]), method="ward"))
    return trees


def _one_hot(labels, k):
    resp = np.full((len(labels), k), 1e-6)
    resp[np.arange(len(labels)), labels] = 1.0
    return resp / resp.sum(axis=1, keepdims=True)


def _ward_starts(trees, k):
    out = []
    if k == 1 or not trees:
        return out
    for tree in trees:
        labels = fcluster(tree, k, criterion="maxclust") - 1
        if labels.max() + 1 == k:
            out.append(_one_hot(labels, k))
    return out


def _initial_resps(x, k, n_starts, rng):
    """Initial responsibilities: k-means++ partitions and random-centre partitions."""
    if k == 1:
        return [np.ones((len(x), 1))]
    inits = []
    while len(inits) < n_starts:
        if len(inits) % 3 == 2:
            # Random centres without Lloyd steps explore other basins than k-means++.
            centres = x[rng.choice(len(x), k, replace=False)]
            d2 = (x * x).sum(1)[:, None] - 2 * x @ centres.T + (centres * centres).sum(1)
            inits.append(_one_hot(np.argmin(d2, axis=1), k))
        else:
            inits.append(_one_hot(_kmeanspp(x, k, rng), k))
    return inits[:n_starts]


def fit_mixture(
    x,
    k: int,
    structure: str = "VVV",
    *,
    n_starts: int = 20,
    n_final: int | None = None,
    n_init_iter: int = 10,
    tol: float = 1e-7,
    tol_start: float = 1e-5,
    max_iter: int = 1000,
    subset: int = 2000,
    init_resp: list | None = None,
    random_state=None,
    ward_tree=None,
    subset_rows=None,
) -> MixtureFit | None:
    """Fit one Gaussian mixture by EM from several starts; None when every start degenerates.

    Parameters
    ----------
    x : array (n, d)
        Data (people by skills).
    k : int
        Number of components.
    structure : str
        One of :data:`STRUCTURES`.
    n_starts : int
        Starts (one Ward partition when ``ward_tree`` is given, k-means++ and random partitions),
        each run for ``n_init_iter`` EM iterations.
    n_final : int, optional
        The best starts with distinct partitions after the short runs, run to convergence
        (default ``max(2, n_starts // 4)``); their log-likelihoods are ``start_logliks``.
    n_init_iter : int
        EM iterations of the short runs.
    tol, tol_start : float
        Convergence: relative change of the log-likelihood below ``tol_start`` for every start;
        the best start is then iterated on until the change is below ``tol``.
    max_iter : int
        EM iterations per start.
    subset : int
        When ``n > subset`` the starts run to convergence on a random subset of this size
        (mclust likewise initialises on 2000 rows) and the best two are run on all rows;
        ``start_logliks`` are then the subset's.
    init_resp : list of arrays, optional
        Extra initial responsibility matrices (n, k), tried before the generated starts.
    random_state : int, Generator or None
    ward_tree : list of linkage matrices, optional
        Trees from :func:`ward_trees` of the rows used for the short runs (the subset when
        ``n > subset``); each gives one start. When the subset is drawn here, the trees are
        recomputed on it.
    subset_rows : array of int, optional
        The rows of the short runs (to share one subset and its Ward trees across fits).

    Returns
    -------
    MixtureFit or None
    """
    if structure not in STRUCTURES:
        raise ConfigError(f"structure={structure!r}: must be one of {', '.join(STRUCTURES)}")
    rng = np.random.default_rng(random_state)
    if n_final is None:
        n_final = max(2, n_starts // 4)
    x = np.asarray(x, dtype=float)
    centre = x.mean(axis=0)
    xc = x - centre
    n, d = xc.shape
    scale = float(np.mean(np.var(xc, axis=0))) or 1.0
    sub = subset_rows
    if sub is None and n > subset:
        sub = np.sort(rng.choice(n, subset, replace=False))
        ward_tree = ward_trees(xc[sub]) if ward_tree is not None else None
    xs = xc if sub is None else xc[sub]
    inits = list(init_resp or [])
    if sub is not None:
        inits = [r[sub] for r in inits]
    ward = _ward_starts(ward_tree, k)
    inits += _initial_resps(xs, k, max(n_starts - len(inits) - len(ward), 0), rng)
    with threadpool_limits(1):
        # Small matrices: BLAS threads only contend with each other (and with joblib workers).
        # Two stages as in Mplus (STARTS = n m): short runs from every start, then the best
        # few to convergence on all rows.
        runs, _ = _run_starts(xs, ward + inits, structure, tol_start, n_init_iter, scale)
        runs.sort(key=lambda r: -r.loglik)
        runs, counts = _distinct(runs, n_final)
        resps = [run.resp for run in runs]
        runs, start_ll = _run_starts(xs, resps, structure, tol_start, max_iter, scale)
        if not runs:
            return None
        counts = [c for c, ll in zip(counts, start_ll, strict=True) if np.isfinite(ll)]
        start_ll = [ll for ll in start_ll if np.isfinite(ll)]
        if sub is not None:
            # Large samples: the runs converged on the subset; the best two go on all rows.
            top = np.argsort(start_ll)[::-1][:2]
            resps = []
            for j in top:
                logp = _full_logp(xc, runs[j], structure)
                resps.append(np.exp(logp - logsumexp(logp, axis=1, keepdims=True)))
            runs, _ = _run_starts(xc, resps, structure, tol_start, max_iter, scale)
            if not runs:
                return None
        best = max(runs, key=lambda r: r.loglik)
        if tol < tol_start:
            try:
                best = _em(xc, best.resp, structure, tol=tol, max_iter=max_iter, scale=scale)
            except (Degenerate, np.linalg.LinAlgError, FloatingPointError):
                pass
    return MixtureFit(
        structure=structure,
        weights=best.weights,
        means=best.means + centre,
        covariances=_as_full(best.cov, d),
        loglik=best.loglik,
        resp=best.resp,
        n_iter=best.n_iter,
        converged=best.converged,
        start_logliks=np.array(start_ll, dtype=float),
        start_counts=np.array(counts, dtype=int),
    )


def _same_partition(a, b, k):
    """Two labelings agree up to relabelling on at least 99% of the rows."""
    table = np.bincount(a * k + b, minlength=k * k).reshape(k, k)
    return table.max(axis=1).sum() >= 0.99 * len(a)


def _distinct(runs, n_final):
    """The best ``n_final`` short runs with different partitions, and how many runs each
    stands for (short runs that had reached the same partition)."""
    chosen, counts, labels = [], [], []
    for run in runs:
        lab = np.argmax(run.resp, axis=1)
        k = run.resp.shape[1]
        same = [j for j, other in enumerate(labels) if _same_partition(lab, other, k)]
        if same:
            counts[same[0]] += 1
        elif len(chosen) < n_final:
            chosen.append(run)
            counts.append(1)
            labels.append(lab)
    return chosen, counts


def _run_starts(x, inits, structure, tol, max_iter, scale):
    runs, start_ll = [], []
    for resp in inits:
        try:
            run = _em(x, resp, structure, tol=tol, max_iter=max_iter, scale=scale)
        except (Degenerate, np.linalg.LinAlgError, FloatingPointError):
            start_ll.append(np.nan)
            continue
        runs.append(run)
        start_ll.append(run.loglik)
    return runs, start_ll


def _full_logp(x, run, structure):
    if structure in DIAGONAL:
        return _log_density_diag(x, run.weights, run.means, run.cov)
    return _log_density_full(x, run.weights, run.means, np.linalg.cholesky(run.cov))


def sample_mixture(fit: MixtureFit, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` rows from a fitted mixture; returns (data, component labels)."""
    labels = rng.choice(fit.k, size=n, p=fit.weights)
    chols = np.linalg.cholesky(fit.covariances)
    z = rng.standard_normal((n, fit.means.shape[1]))
    x = fit.means[labels] + np.einsum("nij,nj->ni", chols[labels], z)
    return x, labels


# ----------------------------------------------------------------------------------- VLMR

VLMR_STRUCTURES = ("EII", "VII", "EEI", "VEI", "EVI", "VVI", "EEE", "VVV")
VLMR_MAX_PARAMETERS = 150


def _tri(d):
    return np.tril_indices(d)


def _pack(fit: MixtureFit) -> np.ndarray:
    """The fit's free parameters as an unconstrained vector (mclust's count)."""
    s, d = fit.structure, fit.means.shape[1]
    w = np.log(fit.weights[1:] / fit.weights[0])
    var = np.diagonal(fit.covariances, axis1=1, axis2=2)
    lam = np.exp(np.mean(np.log(var), axis=1))  # |diag|^(1/d)
    if s == "EII":
        cov = [np.log(var[0, 0])]
    elif s == "VII":
        cov = np.log(var[:, 0])
    elif s == "EEI":
        cov = np.log(var[0])
    elif s == "VVI":
        cov = np.log(var).ravel()
    elif s == "VEI":
        cov = np.concatenate([np.log(lam), np.log(var[0] / lam[0])[:-1]])
    elif s == "EVI":
        cov = np.concatenate([[np.log(lam[0])], np.log(var / lam[:, None])[:, :-1].ravel()])
    else:  # EEE, VVV: Cholesky factors with log diagonals
        chols = np.linalg.cholesky(fit.covariances[:1] if s == "EEE" else fit.covariances)
        parts = []
        for c in chols:
            c = c.copy()
            c[np.diag_indices(d)] = np.log(np.diag(c))
            parts.append(c[_tri(d)])
        cov = np.concatenate(parts)
    return np.concatenate([w, fit.means.ravel(), np.asarray(cov, float)])


def _unpack(theta, s, k, d):
    a = np.concatenate([[0.0], theta[: k - 1]])
    weights = np.exp(a - a.max())
    weights /= weights.sum()
    means = theta[k - 1: k - 1 + k * d].reshape(k, d)
    c = theta[k - 1 + k * d:]
    if s == "EII":
        var = np.full((k, d), np.exp(c[0]))
    elif s == "VII":
        var = np.repeat(np.exp(c)[:, None], d, axis=1)
    elif s == "EEI":
        var = np.repeat(np.exp(c)[None], k, axis=0)
    elif s == "VVI":
        var = np.exp(c.reshape(k, d))
    elif s == "VEI":
        shape = np.append(c[k:], -np.sum(c[k:]))
        var = np.exp(c[:k][:, None] + shape[None])
    elif s == "EVI":
        shapes = c[1:].reshape(k, d - 1)
        shapes = np.hstack([shapes, -shapes.sum(axis=1, keepdims=True)])
        var = np.exp(c[0] + shapes)
    else:
        m = d * (d + 1) // 2
        blocks = c.reshape(-1, m)
        chols = np.zeros((len(blocks), d, d))
        for j, b in enumerate(blocks):
            chols[j][_tri(d)] = b
            chols[j][np.diag_indices(d)] = np.exp(np.diag(chols[j]))
        if s == "EEE":
            chols = np.repeat(chols, k, axis=0)
        return weights, means, None, chols
    return weights, means, var, None


def _obs_loglik(theta, x, s, k, d):
    weights, means, var, chols = _unpack(theta, s, k, d)
    if var is not None:
        logp = _log_density_diag(x, weights, means, var)
    else:
        logp = _log_density_full(x, weights, means, chols)
    return logsumexp(logp, axis=1)


def _scores_hessian(x, fit):
    """Per-person scores (n, p) and the mean Hessian (p, p), by central differences."""
    s, k, d = fit.structure, fit.k, x.shape[1]
    theta = _pack(fit)
    p = len(theta)
    h = 1e-5 * np.maximum(1.0, np.abs(theta))
    scores = np.empty((len(x), p))
    for j in range(p):
        e = np.zeros(p)
        e[j] = h[j]
        scores[:, j] = (_obs_loglik(theta + e, x, s, k, d)
                        - _obs_loglik(theta - e, x, s, k, d)) / (2 * h[j])
    # Hessian of the mean log-likelihood by forward second differences: p^2 / 2 evaluations.
    g = 1e-4 * np.maximum(1.0, np.abs(theta))
    step = np.diag(g)

    def total(t):
        return float(np.mean(_obs_loglik(t, x, s, k, d)))

    f0 = total(theta)
    fj = np.array([total(theta + step[j]) for j in range(p)])
    hess = np.empty((p, p))
    for j in range(p):
        for m in range(j, p):
            value = (total(theta + step[j] + step[m]) - fj[j] - fj[m] + f0) / (g[j] * g[m])
            hess[j, m] = hess[m, j] = value
    return scores, hess


def _imhof_sf(q, lam):
    """P(sum lam_j Z_j^2 > q) for standard normal Z (Imhof 1961)."""
    from scipy.integrate import IntegrationWarning, quad

    lam = lam[np.abs(lam) > 1e-8 * np.max(np.abs(lam))]

    def integrand(u):
        theta = 0.5 * np.sum(np.arctan(lam * u)) - 0.5 * q * u
        rho = np.exp(0.25 * np.sum(np.log1p((lam * u) ** 2)))
        return np.sin(theta) / (u * rho)

    with warnings.catch_warnings():
        # A far-out LR makes the integrand oscillate; the tail probability is then ~0 anyway.
        warnings.simplefilter("ignore", IntegrationWarning)
        value, _ = quad(integrand, 0, np.inf, limit=500)
    return float(np.clip(0.5 + value / np.pi, 0.0, 1.0))


def vlmr_test(x, null: MixtureFit, alt: MixtureFit) -> tuple[float, float]:
    """Vuong-Lo-Mendell-Rubin test of ``alt`` (k profiles) against ``null`` (k - 1).

    ``LR = 2 (L_alt - L_null)`` is referred to ``sum_j lambda_j chi2_1``, with ``lambda`` the
    eigenvalues of Vuong's (1989, theorem 3.3) matrix
    ``[[-B_f A_f^-1, -B_fg A_g^-1], [B_gf A_f^-1, B_g A_g^-1]]`` from the per-person scores
    (``B``: their cross-products) and the Hessians (``A``) of both models (Lo, Mendell & Rubin
    2001), computed by numerical differences; the tail probability by Imhof's (1961) formula.

    Returns ``(LR, p_value)``; ``p_value`` is NaN for the structures with rotations (EEV, VEV,
    EVV) and when the larger model has more than 150 parameters (the numerical Hessian would
    be slow).
    """
    x = np.asarray(x, float)
    lr = max(0.0, 2 * (alt.loglik - null.loglik))
    if alt.structure not in VLMR_STRUCTURES or alt.n_parameters > VLMR_MAX_PARAMETERS:
        return lr, np.nan
    with threadpool_limits(1):
        sf, af = _scores_hessian(x, alt)
        sg, ag = _scores_hessian(x, null)
    n = len(x)
    try:
        af_inv, ag_inv = np.linalg.inv(af), np.linalg.inv(ag)
    except np.linalg.LinAlgError:
        return lr, np.nan
    bf, bg, bfg = sf.T @ sf / n, sg.T @ sg / n, sf.T @ sg / n
    w = np.block([[-bf @ af_inv, -bfg @ ag_inv], [bfg.T @ af_inv, bg @ ag_inv]])
    lam = np.real(np.linalg.eigvals(w))
    if not np.all(np.isfinite(lam)):
        return lr, np.nan
    return lr, _imhof_sf(lr, lam)
