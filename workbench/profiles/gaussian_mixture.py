"""Gaussian mixtures fitted by EM: the fitted-model structure, E-step, EM loop and starts.

The engine behind :func:`workbench.profiles.select.find_profiles`; the covariance structures
(mclust's fourteen) and their M-steps live in :mod:`workbench.profiles.structures`, the
starting partitions in :mod:`workbench.profiles.initialisation`.

The E- and M-steps are compiled (:mod:`workbench.profiles.kernels`): the E-step factors the k
covariances in one call, gets ``L_k^-1 x_i`` for every component and person from one matrix
product and runs its other loops over people (they vectorise); the M-step gets the sizes, sums
and second moments of every component from one matrix product with the products of the rows
(``1, x, x_i x_j``, computed once per data set and kept for the last few data sets, as every
structure is fitted to the same rows). :func:`fit_mixture` runs every (structure, k) from

* mclust's start, the model-based hierarchical agglomeration cut at k (``hc_labels``), always
  run to convergence so that no cell is worse than mclust's own single start (on large
  samples it converges on the subset first, then on all rows);
* Ward partitions, splits of the k - 1 solution (``init_resp``), k-means++ and random-centre
  partitions: each runs ``n_init_iter`` EM iterations, and the best ``n_final`` distinct
  partitions run to convergence (two stages, as Mplus's ``STARTS = n m``).

For large samples the starts run on a subset of rows (as mclust initialises on a subset of
2000) and the best, with mclust's start, is refined on all rows; the agglomerations of further
subsets (``other_anchors``) start each cell too, since which subset mclust draws decides which
optimum some cells reach.

(A little over 600 lines: the fitted model, the products of the rows, the EM loop and the
starts of one EM problem are read together.)

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

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from workbench.checks import check_choice, check_random_state
from workbench.profiles.initialisation import (
    kmeanspp_labels,
    one_hot,
    random_labels,
    ward_labels,
    ward_trees,
)
from workbench.profiles.parallel import one_blas_thread
from workbench.profiles.structures import (
    DIAGONAL,
    STRUCTURES,
    Degenerate,
    mstep_diagonal,
    mstep_full,
    n_parameters,
)

__all__ = ["MixtureFit", "fit_mixture", "refine_mixture", "load_kernels", "log_density", "sample_mixture"]

_LOG_2PI = np.log(2 * np.pi)
_FAILED = (Degenerate, np.linalg.LinAlgError, FloatingPointError)


def logsumexp(a, axis=1, keepdims=False):
    """Row-wise log-sum-exp (scipy's version carries array-API overhead in the EM loop)."""
    top = np.max(a, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(a - top), axis=axis, keepdims=True)) + top
    return out if keepdims else np.squeeze(out, axis=axis)


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
    converged : bool
    start_logliks : ndarray
        Converged log-likelihood of every final run (distinct partitions after the short runs).
    start_counts : ndarray
        How many starts each final run stands for (short runs that reached its partition).
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
        top = ll.max()
        return int(np.sum(counts[ll >= top - tol * max(1.0, abs(top))]))

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Posterior membership probabilities (n, k) of the rows of ``x``."""
        return self.posteriors(x)[0]

    def posteriors(self, x: np.ndarray) -> tuple[np.ndarray, float]:
        """Posteriors (n, k) and the log-likelihood of ``x``, by the compiled E-step (the
        bootstrap and the shared starts call this often)."""
        from workbench.profiles.kernels.estep import estep_full

        x = np.array(x, dtype=float, order="C")  # a writable copy: one compiled signature
        chols = np.linalg.cholesky(self.covariances)
        logdets = 2.0 * np.sum(np.log(np.diagonal(chols, axis1=1, axis2=2)), axis=1)
        resp = np.empty((len(x), self.k))
        loglik = estep_full(x, np.log(self.weights), self.means, np.linalg.inv(chols),
                            logdets, resp)
        return resp, float(loglik)

    def score_samples(self, x: np.ndarray) -> np.ndarray:
        """Log-density of each row of ``x`` under the mixture."""
        return logsumexp(log_density(x, self.weights, self.means, self.covariances), axis=1)


# ----------------------------------------------------------------------------------- E-step


def log_density_diag(x, weights, means, var, x2=None):
    """``log(pi_k) + log N(x_i; mu_k, diag(var_k))`` (n, k), by three matrix products."""
    prec = 1.0 / var
    maha = ((x * x if x2 is None else x2) @ prec.T - 2.0 * x @ (means * prec).T
            + np.sum(means * means * prec, axis=1))
    logdet = np.sum(np.log(var), axis=1)
    return np.log(weights) - 0.5 * (x.shape[1] * _LOG_2PI + logdet + maha)


def outer_tri(x):
    """Products x_i x_j (i <= j) of every row: (n, d (d + 1) / 2), computed once per EM run."""
    rows, cols = np.triu_indices(x.shape[1])
    return x[:, rows] * x[:, cols]


def log_density_full(x, weights, means, chols, xx=None):
    """``log(pi_k) + log N(x_i; mu_k, L_k L_k')`` (n, k) from the Cholesky factors ``L_k``.

    With ``xx`` (from :func:`outer_tri`) the quadratic forms are two matrix products:
    ``x' P x = xx @ c`` (c: upper triangle of P, off-diagonal doubled)."""
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
    z = (x @ inv.reshape(k * d, d).T).reshape(n, k, d)
    z -= np.einsum("kij,kj->ki", inv, means)[None]
    maha = np.einsum("nki,nki->nk", z, z)
    return np.log(weights) - 0.5 * (d * _LOG_2PI + logdet + maha)


def log_density(x, weights, means, covariances) -> np.ndarray:
    """``log(pi_k) + log N(x_i; mu_k, Sigma_k)`` for every row and component (n, k)."""
    chols = np.linalg.cholesky(np.asarray(covariances, float))
    return log_density_full(np.asarray(x, float), weights, means, chols)


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
    pruned: bool = False


_PRODUCTS: OrderedDict = OrderedDict()
#: Where fork is unavailable the workers of ``n_jobs`` are threads
#: (:func:`~workbench.profiles.parallel.parallel_map`), which share this cache.
_PRODUCTS_LOCK = threading.Lock()
#: Data sets whose products are kept (the grid fits every structure on the same rows, its
#: subsets and its resamples: at 20,000 people rebuilding them was a tenth of the time).
PRODUCTS_KEPT = 4
#: Only data sets of at least this many numbers are kept (smaller ones are cheap to redo).
PRODUCTS_FROM = 20_000


def _products(x, diag):
    """The products of the rows the E- and M-steps reuse, kept for the last few data sets
    (keyed by their bytes, so equal data share them whatever array holds them):

    * ``x2`` (diagonal) or ``xx`` (full, :func:`outer_tri`);
    * ``xt``: the data transposed (the compiled full E-step runs over rows in its inner
      loops);
    * ``moment_rows``: rows 1, x and x2 or xx, so that one matrix product with the posteriors
      gives n_k, the sums and the second moments of every component.
    """
    x = np.ascontiguousarray(x, dtype=float)
    key = None
    if x.size >= PRODUCTS_FROM:
        key = (x.shape, diag, hashlib.blake2b(x.data, digest_size=16).digest())
        with _PRODUCTS_LOCK:
            if key in _PRODUCTS:
                _PRODUCTS.move_to_end(key)
                return _PRODUCTS[key]
    x2 = x * x if diag else None
    xx = None if diag else outer_tri(x)
    xt = None if diag else np.ascontiguousarray(x.T)
    rows = np.ascontiguousarray(np.hstack([np.ones((len(x), 1)), x, x2 if diag else xx]).T)
    if key is not None:  # shared between fits, never written
        with _PRODUCTS_LOCK:
            _PRODUCTS[key] = (x2, xx, xt, rows)
            while len(_PRODUCTS) > PRODUCTS_KEPT:
                _PRODUCTS.popitem(last=False)
    return x2, xx, xt, rows


class _Data:
    """The rows of one EM problem with the products the E- and M-steps reuse."""

    def __init__(self, x, structure, scale):
        self.x = x
        self.structure = structure
        self.diag = structure in DIAGONAL
        self.x2, self.xx, self.xt, self.moment_rows = _products(x, self.diag)
        self.tri = np.triu_indices(x.shape[1])
        self.scale = scale

    def mstep(self, resp, state):
        from workbench.profiles.kernels.mstep import moments_diag, moments_full

        d = self.x.shape[1]
        moments = moments_diag if self.diag else moments_full
        stats = self.moment_rows @ resp
        # checked before the kernel divides by n_k: a component that lost every row (one
        # person far from the rest, a handful of people) is a failed start, not a crash
        if not np.min(stats[0]) >= 1e-8 * len(self.x):
            raise Degenerate("empty component")
        nk, means, second = moments(stats, d)
        weights = nk / nk.sum()
        if self.diag:
            # diag(W_k): sum_i r_ik (x_ij - mu_kj)^2
            return weights, means, mstep_diagonal(second, nk, self.structure, self.scale, state)
        return weights, means, mstep_full(second, nk, self.structure, self.scale, state)

    def logp(self, weights, means, cov):
        if self.diag:
            return log_density_diag(self.x, weights, means, cov, self.x2)
        return log_density_full(self.x, weights, means, _chols(cov, self.scale), self.xx)

    def estep(self, weights, means, cov):
        """Posteriors (n, k) and the log-likelihood, in one compiled pass over the rows."""
        from workbench.profiles.kernels.estep import estep_diag, estep_full_t, factor_covariances

        k = len(weights)
        resp = np.empty((len(self.x), k))
        if self.diag:
            loglik = estep_diag(self.x, np.log(weights), means, cov, resp)
        else:
            # One compiled call factors, checks and inverts the k covariances (the numpy
            # route took eight calls, about a third of an iteration at 3,000 rows).
            d = means.shape[1]
            inv, logdets = np.empty((k, d, d)), np.empty(k)
            if not factor_covariances(np.ascontiguousarray(cov), self.scale, inv, logdets):
                raise Degenerate("singular covariance")
            loglik = estep_full_t(self.xt, np.log(weights), means, inv, logdets, resp)
        if not np.isfinite(loglik):
            raise Degenerate("non-finite log-likelihood")
        return resp, loglik


def _estep(logp):
    """Posteriors (in place of ``logp``) and the log-likelihood."""
    # numpy reduces a short trailing axis slowly: max over a transposed copy, sums by
    # matrix-vector products; the exponentials double as the unnormalised posteriors.
    top = np.ascontiguousarray(logp.T).max(axis=0)[:, None]
    np.subtract(logp, top, out=logp)
    np.exp(logp, out=logp)
    total = (logp @ np.ones(logp.shape[1]))[:, None]
    loglik = float(np.sum(np.log(total)) + np.sum(top))
    if not np.isfinite(loglik):
        raise Degenerate("non-finite log-likelihood")
    return np.divide(logp, total, out=logp), loglik


def _em(data: _Data, resp, *, tol, max_iter, stop_below=-np.inf, check_at=5):
    """EM from an initial responsibility matrix; raises Degenerate.

    ``stop_below``: after ``check_at`` iterations, a start is abandoned (``pruned``) when
    even twice the gain still ahead of it under linear convergence (``change r / (1 - r)``,
    ``r`` the ratio of the last two changes) leaves it below ``stop_below``, the best
    converged start so far: it cannot win.
    """
    state: dict = {}
    previous = loglik = -np.inf
    last_change = np.inf
    converged = pruned = False
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - it is the iteration count returned
        weights, means, cov = data.mstep(resp, state)
        resp, loglik = data.estep(weights, means, cov)
        change = loglik - previous
        if abs(change) <= tol * abs(loglik):
            converged = True
            break
        if it >= check_at and loglik < stop_below and 0 < change < last_change:
            ratio = change / last_change
            if loglik + 2 * change * ratio / (1 - ratio) < stop_below:
                pruned = True
                break
        previous, last_change = loglik, change
    return _Run(loglik, weights, means, cov, resp, it, converged, pruned)


def _as_full(cov):
    if cov.ndim == 2:
        return np.einsum("kj,ij->kij", cov, np.eye(cov.shape[1]))
    return cov


def _scale(xc):
    return float(np.mean(np.var(xc, axis=0))) or 1.0


def refine_mixture(x, resp, structure: str, *, tol: float = 1e-8, max_iter: int = 1000,
                   floor: float = -np.inf) -> MixtureFit | None:
    """EM from given responsibilities (n, k) to convergence; None if it degenerates, or if it
    is abandoned because it cannot reach ``floor`` (a log-likelihood to beat).

    Used to start from a known classification (e.g. mclust's, in the tests) and to warm-start
    the bootstrap refits from the fitted solution.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> x = np.vstack([rng.normal(0, 1, (50, 2)), rng.normal(5, 1, (50, 2))])
    >>> labels = np.repeat([0, 1], 50)
    >>> fit = refine_mixture(x, np.eye(2)[labels], "VVV")
    >>> bool(fit.converged)
    True
    """
    check_choice("structure", structure, STRUCTURES)
    x = np.asarray(x, float)
    centre = x.mean(axis=0)
    xc = x - centre
    data = _Data(xc, structure, _scale(xc))
    try:
        with one_blas_thread():
            run = _em(data, np.asarray(resp, float), tol=tol, max_iter=max_iter,
                      stop_below=floor)
    except _FAILED:
        return None
    if run.pruned:
        return None
    return _to_fit(run, structure, centre, [run.loglik], [1])


def load_kernels(structures) -> None:
    """Compile or load from the cache every compiled kernel the EM of ``structures`` calls
    (one small fit each), so that forked workers inherit them loaded."""
    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal(0, 1, (20, 3)), rng.normal(3, 1, (20, 3))])
    resp = one_hot(np.repeat([0, 1], 20), 2, floor=1e-6)
    for structure in structures:
        fit = refine_mixture(x, resp, structure, max_iter=3)
    if structures and fit is not None:
        fit.posteriors(x)  # the bootstrap's and the donors' E-step


def _to_fit(run, structure, centre, start_ll, counts):
    return MixtureFit(
        structure=structure, weights=run.weights, means=run.means + centre,
        covariances=_as_full(run.cov), loglik=run.loglik, resp=run.resp, n_iter=run.n_iter,
        converged=run.converged, start_logliks=np.array(start_ll, dtype=float),
        start_counts=np.array(counts, dtype=int))


# ----------------------------------------------------------------------------------- starts


def _generated_starts(x, k, n_starts, rng):
    """k-means++ partitions and random-centre partitions (one in three)."""
    if k == 1:
        return [np.ones((len(x), 1))]
    out = []
    while len(out) < n_starts:
        labels = random_labels(x, k, rng) if len(out) % 3 == 2 else kmeanspp_labels(x, k, rng)
        out.append(one_hot(labels, k, floor=1e-6))
    return out[:n_starts]


def fit_mixture(
    x,
    k: int,
    structure: str = "VVV",
    *,
    n_starts: int = 10,
    n_final: int | None = None,
    n_init_iter: int = 5,
    tol: float = 1e-5,
    tol_start: float = 1e-5,
    max_iter: int = 1000,
    subset: int = 2000,
    screen: int = 500,
    init_resp: list | None = None,
    hc_labels=None,
    random_state=None,
    ward_tree=None,
    subset_rows=None,
    other_anchors=(),
) -> MixtureFit | None:
    """Fit one Gaussian mixture by EM from several starts; None when every start degenerates.

    Parameters
    ----------
    x : array (n, d)
        Data (people by skills).
    k : int
        Number of components.
    structure : str
        One of :data:`~workbench.profiles.structures.STRUCTURES`.
    n_starts : int
        Generated starts (Ward partitions when ``ward_tree`` is given, k-means++ and random
        partitions), each run for ``n_init_iter`` EM iterations.
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
        (mclust likewise initialises on 2000 rows) and the best goes on all rows;
        ``start_logliks`` are then the subset's.
    screen : int
        The short runs use a random ``screen`` of the rows of the starts when there are
        more (they only rank the starts).
    init_resp : list of arrays, optional
        Extra initial responsibility matrices (n, k), tried before the generated starts.
    hc_labels : array of int, optional
        mclust's start: the hierarchical agglomeration cut at k, labels of the rows of the
        starts (the subset when there is one). Always run to convergence on all rows.
    random_state : int, Generator or None
        None means :data:`workbench.checks.DEFAULT_SEED`.
    ward_tree : list of linkage matrices, optional
        Trees from :func:`~workbench.profiles.initialisation.ward_trees` of the rows of the
        starts; each gives one start.
    subset_rows : array of int, optional
        The rows of the starts (to share one subset and its trees across fits).
    other_anchors : sequence of (rows, labels)
        More hierarchical starts of large samples: the agglomeration of another subset of
        ``rows`` cut at k (``labels`` of those rows); each runs like mclust's start.

    Returns
    -------
    MixtureFit or None
    """
    check_choice("structure", structure, STRUCTURES)
    rng = check_random_state(random_state)
    if n_final is None:
        n_final = max(2, n_starts // 4)
    x = np.asarray(x, dtype=float)
    centre = x.mean(axis=0)
    xc = x - centre
    n = len(xc)
    scale = _scale(xc)
    sub = subset_rows
    if sub is None and n > subset:
        sub = np.sort(rng.choice(n, subset, replace=False))
        ward_tree = ward_trees(xc[sub]) if ward_tree is not None else None
    xs = xc if sub is None else xc[sub]
    data_s = _Data(xs, structure, scale)
    data = data_s if sub is None else _Data(xc, structure, scale)
    # The short runs only rank the starts: a random part of the rows is enough.
    short_rows = np.sort(rng.permutation(len(xs))[:screen]) if len(xs) > screen else None
    data_short = data_s if short_rows is None else _Data(xs[short_rows], structure, scale)
    inits = [r if sub is None else r[sub] for r in (init_resp or [])]
    inits += [one_hot(lab, k, floor=1e-6) for lab in ward_labels(ward_tree, k)]
    if short_rows is not None:
        inits = [r[short_rows] for r in inits]
    inits += _generated_starts(data_short.x, k, max(n_starts - len(inits), 0), rng)
    with one_blas_thread():
        # Small matrices: BLAS threads only contend with each other (and with the workers).
        runs = _run_starts(data_short, inits, tol_start, n_init_iter)[0]
        runs.sort(key=lambda r: -r.loglik)
        runs, counts = _distinct(runs, n_final)
        resps = [r.resp if short_rows is None else _full_resp(data_s, r) for r in runs]
        runs, start_ll = _run_starts(data_s, resps, tol_start, max_iter, prune=True)
        counts = [c for c, ll in zip(counts, start_ll, strict=True) if np.isfinite(ll)]
        start_ll = [ll for ll in start_ll if np.isfinite(ll)]
        runs = [r for r in runs if not r.pruned]
        anchor = _anchored_run(data, data_s, hc_labels, k, tol_start, max_iter)
        for rows, labels in other_anchors:
            # Another subset's tree: skipped when it gives the partition already run.
            if anchor is not None and same_partition(
                    labels, np.argmax(anchor.resp[rows], axis=1), k):
                continue
            other = _anchored_run(data, _Data(xc[rows], structure, scale), labels, k,
                                  tol_start, max_iter)
            if other is not None and (anchor is None or other.loglik > anchor.loglik):
                anchor = other
        if sub is not None and runs:
            # Large samples: the runs converged on the subset; the best goes on all rows,
            # unless it is mclust's start's partition again, and it stops once it cannot
            # beat that start.
            top = max(runs, key=lambda r: r.loglik)
            same = anchor is not None and k > 1 and same_partition(
                np.argmax(top.resp, axis=1), np.argmax(anchor.resp[sub], axis=1), k)
            floor = -np.inf if anchor is None else anchor.loglik
            runs = [] if same else _run_starts(data, [_full_resp(data, top)], tol_start,
                                               max_iter, prune=True, floor=floor)[0]
            runs = [r for r in runs if not r.pruned]
        candidates = runs + ([anchor] if anchor is not None else [])
        if not candidates:
            return None
        best = max(candidates, key=lambda r: r.loglik)
        if tol < tol_start:
            try:
                polished = _em(data, best.resp, tol=tol, max_iter=max_iter)
                best = polished if polished.loglik >= best.loglik else best
            except _FAILED:
                pass
    return _to_fit(best, structure, centre, start_ll, counts)


def _anchored_run(data, data_s, labels, k, tol, max_iter):
    """mclust's start: EM from the start rows' partition; on large samples it converges on
    the start rows first and is then refined on all rows (a few iterations there)."""
    if labels is None or k == 1 or len(np.unique(labels)) < k:
        return None
    try:
        run = _em(data_s, one_hot(labels, k), tol=tol, max_iter=max_iter)
        if data is data_s:
            return run
        return _em(data, _full_resp(data, run), tol=tol, max_iter=max_iter)
    except _FAILED:
        return None


def _full_resp(data, run):
    """Posteriors of the rows of ``data`` under a run's parameters: the compiled E-step, or
    numpy where that refuses (a non-finite log-likelihood on these rows)."""
    try:
        return data.estep(run.weights, run.means, run.cov)[0]
    except Degenerate:
        logp = data.logp(run.weights, run.means, run.cov)
        return np.exp(logp - logsumexp(logp, axis=1, keepdims=True))


def same_partition(a, b, k):
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
        same = [j for j, other in enumerate(labels) if same_partition(lab, other, k)]
        if same:
            counts[same[0]] += 1
        elif len(chosen) < n_final:
            chosen.append(run)
            counts.append(1)
            labels.append(lab)
    return chosen, counts


def _run_starts(data, inits, tol, max_iter, *, prune=False, floor=-np.inf):
    """EM from each start; with ``prune``, starts that cannot reach the best so far (or
    ``floor``) stop."""
    runs, start_ll = [], []
    best = floor
    for resp in inits:
        try:
            run = _em(data, resp, tol=tol, max_iter=max_iter,
                      stop_below=best if prune else -np.inf)
        except _FAILED:
            start_ll.append(np.nan)
            continue
        runs.append(run)
        start_ll.append(run.loglik)
        if run.converged:
            best = max(best, run.loglik)
    return runs, start_ll


def sample_mixture(fit: MixtureFit, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n`` rows from a fitted mixture; returns (data, component labels)."""
    rng = check_random_state(rng)
    labels = rng.choice(fit.k, size=n, p=fit.weights)
    chols = np.linalg.cholesky(fit.covariances)
    z = rng.standard_normal((n, fit.means.shape[1]))
    x = fit.means[labels] + np.einsum("nij,nj->ni", chols[labels], z)
    return x, labels
