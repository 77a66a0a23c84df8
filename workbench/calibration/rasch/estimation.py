"""Many-facet Rasch estimation: the design, the likelihood and joint maximum likelihood (JMLE).

The model (Linacre's many-facet Rasch model, adjacent-category form) for rating ``n`` of
ratee ``i`` in skill ``s`` by rater ``r`` from source ``q`` in category ``k`` of ``0..M``:

    log(P(x = k) / P(x = k - 1)) = theta[i] - delta[s] - alpha[r] - gamma[q] - tau[g, k]

``theta`` is the ratee's ability, ``delta`` the skill's difficulty, ``alpha`` the rater's
severity (positive = severe), ``gamma`` the source's offset, and ``tau[g, k]`` the Andrich
threshold into category ``k`` of the threshold group ``g``: one group (rating-scale model,
``thresholds="common"``), one per skill or one per rater (partial-credit models). Every facet
except the ratees is centred (its measures sum to zero), and within each group the thresholds
sum to zero, as in FACETS. A group uses only the categories observed in it (from its lowest
to its highest observed category): a rater who never gives a 1 or a 5 has no thresholds for
them, which is how the partial-credit model by rater shows raters who avoid the extremes.

Estimation (why JMLE): every element of every facet gets its own measure, as FACETS users
expect, and JMLE needs no distribution for the ratees, so it works with 360 designs in which
raters and ratees are the same people and no facet is a sample from a normal population. The
joint likelihood is maximised by Newton's method on all measures and thresholds at once: the
information matrix is ``A' diag(Cov) A`` for the sparse facet indicators ``A``, and each Newton
step is solved by conjugate gradients with a diagonal preconditioner using only
matrix-vector products (vectorised numpy, ``np.bincount``), with step halving. The centring
constraints enter as quadratic penalties along the directions the likelihood cannot see, so
the optimum is the constrained maximum exactly.

Known biases of JMLE: the estimates are inconsistent when the number of observations per
element stays fixed; the measures of the non-ratee facets (and the thresholds) are spread
out by about ``L / (L - 1)`` with ``L`` ratings per ratee. ``bias_correction=True`` applies
Wright's correction, multiplying them by ``(L - 1) / L`` (``L`` = mean ratings per
non-extreme ratee), and re-estimates the ratees given the corrected values. With ~50 ratings
per ratee in a 360 survey the correction is about 2 %; against conditional ML (R's eRm) on a
16-ratings-per-ratee fixture the corrected difficulties agree within 0.1 logits (see
docs/rasch.md). FACETS' model SEs (one over the root of the element's own information) are
too narrow in 360 designs; :mod:`workbench.calibration.rasch.uncertainty` propagates the other
facets' and the thresholds' uncertainty (what :func:`calibrate_rasch` reports).

Extreme scores are handled as FACETS does: an element whose ratings are all in its groups'
top (or all in the bottom) category is set aside (repeatedly, since removing one can make
another extreme), the others are estimated, and the extreme element's measure is then
estimated from its score moved 0.3 score points towards the centre, all else fixed.

Examples
--------
>>> import pandas as pd
>>> data = pd.DataFrame({"ratee": list("aabbccdd"), "skill": list("XYXYXYXY"),
...                      "score": [1, 2, 2, 3, 3, 2, 2, 1]})
>>> design = rasch_design(data, facets=("ratee", "skill"))
>>> fit = fit_jmle(design)
>>> bool(fit.converged)
True
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
import scipy.sparse as sp
from threadpoolctl import threadpool_limits

from workbench.errors import ModelError

__all__ = ["THRESHOLDS", "EXTREME_ADJUSTMENT", "RaschDesign", "RaschFit", "rasch_design",
           "rasch_loglik", "conditional_loglik", "category_moments", "fit_jmle",
           "gapped_groups"]

#: Threshold structures: one set (rating scale), per skill or per rater (partial credit).
THRESHOLDS = ("common", "skill", "rater")
#: Score points an extreme score is moved towards the centre (FACETS' default).
EXTREME_ADJUSTMENT = 0.3
#: Measures never leave +-MAX_MEASURE logits (an element whose data cannot bound it).
MAX_MEASURE = 15.0


@dataclass(frozen=True)
class RaschDesign:
    """Ratings coded for estimation.

    Attributes
    ----------
    x : int array
        Category index (0..M) of every rating.
    values : float array
        The score of each category (``values[x]`` is the rating).
    facets : tuple of str
        Facet names; the first is the ratees (positive sign, not centred), the others enter
        with a negative sign and are centred.
    codes : tuple of int arrays
        Element index of every rating in each facet.
    labels : tuple of Index
        Element labels of each facet.
    group : int array
        Threshold group of every rating.
    group_labels : Index
    lo, hi : int arrays
        Lowest and highest category used in each group.
    nests : tuple or None
        Per facet, None or the block (parent element) of each element: a nested facet (items
        within their skill) is centred within each block instead of as a whole, and its
        elements are ordered by block.
    """

    x: np.ndarray
    values: np.ndarray
    facets: tuple
    codes: tuple
    labels: tuple
    group: np.ndarray
    group_labels: pd.Index
    lo: np.ndarray
    hi: np.ndarray
    nests: tuple = None

    def blocks(self, k: int) -> np.ndarray:
        """Centring block of each element of facet ``k`` (all zeros unless nested)."""
        if self.nests is None or self.nests[k] is None:
            return np.zeros(self.sizes[k], dtype=np.int64)
        return self.nests[k]

    @property
    def n_categories(self) -> int:
        return len(self.values)

    @property
    def sizes(self) -> tuple:
        return tuple(len(lab) for lab in self.labels)

    @property
    def signs(self) -> np.ndarray:
        return np.array([1.0] + [-1.0] * (len(self.facets) - 1))

    @cached_property
    def indicators(self):
        """Sparse signed facet indicators ``X`` (ratings x all elements, CSR):
        ``X @ concat(betas)`` is every rating's linear predictor."""
        n = len(self.x)
        offsets = np.cumsum([0, *self.sizes[:-1]])
        cols = np.column_stack([c + o for c, o in zip(self.codes, offsets, strict=True)])
        vals = np.broadcast_to(self.signs, cols.shape)
        X = sp.csr_matrix((vals.ravel(), cols.ravel(), np.arange(0, n * len(self.sizes) + 1,
                                                                 len(self.sizes))),
                          shape=(n, int(sum(self.sizes))))
        return X

    @cached_property
    def transposes(self):
        """``X'`` and ``|X'|`` (CSR): sums of per-rating values over each element."""
        XT = self.indicators.T.tocsr()
        return XT, abs(XT)

    def mask(self) -> np.ndarray:
        """(groups, M + 1): 0 for a group's categories, -inf outside them."""
        m = np.arange(self.n_categories)
        inside = (m >= self.lo[:, None]) & (m <= self.hi[:, None])
        return np.where(inside, 0.0, -np.inf)

    def free_steps(self) -> np.ndarray:
        """(groups, M) bool: threshold into category j (1..M) is estimated in that group."""
        j = np.arange(1, self.n_categories)
        return (j > self.lo[:, None]) & (j <= self.hi[:, None])

    def subset(self, keep: np.ndarray) -> RaschDesign:
        """The same design on the ratings ``keep`` (elements and groups keep their codes)."""
        return RaschDesign(self.x[keep], self.values, self.facets,
                           tuple(c[keep] for c in self.codes), self.labels, self.group[keep],
                           self.group_labels, self.lo, self.hi, self.nests)


def _group_ranges(x, group, n_groups):
    lo = np.full(n_groups, np.iinfo(np.int64).max)
    hi = np.full(n_groups, -1)
    np.minimum.at(lo, group, x)
    np.maximum.at(hi, group, x)
    return lo, hi


def rasch_design(data: pd.DataFrame, *, facets=("ratee", "skill", "rater", "source"),
                 thresholds: str = "common", score: str = "score",
                 nested: dict | None = None) -> RaschDesign:
    """Code ratings for estimation: categories, facet elements, threshold groups.

    Categories are the distinct observed scores in order (a score nobody used is not a
    category, as in FACETS' ordinal recount). ``thresholds`` is ``"common"`` or the name of a
    facet whose elements get their own thresholds (``"skill"``, ``"rater"``). ``nested`` maps
    a facet to the facet it is nested in (``{"item": "skill"}``): its elements are ordered by
    their parent and centred within it (each element must have one parent, and the parent
    facet must come first in ``facets``).

    Examples
    --------
    >>> d = rasch_design(pd.DataFrame({"ratee": ["a", "b"], "skill": ["X", "X"],
    ...                                "score": [4, 5]}), facets=("ratee", "skill"))
    >>> d.values.tolist(), d.x.tolist()
    ([4.0, 5.0], [0, 1])
    """
    values, x = np.unique(data[score].to_numpy(dtype=float), return_inverse=True)
    if len(values) < 2:
        raise ModelError(f"every score is {values[0] if len(values) else 'missing'}: a Rasch "
                         "model needs at least two categories in use")
    codes, labels, nests = [], [], []
    nested = nested or {}
    for facet in facets:
        if facet in nested:
            parent = codes[list(facets).index(nested[facet])]
            keys = pd.DataFrame({"parent": parent, "element": data[facet].to_numpy()})
            pairs = keys.drop_duplicates().sort_values(["parent", "element"])
            if pairs["element"].duplicated().any():
                raise ModelError(f"a {facet} is in more than one {nested[facet]}")
            lab = pd.Index(pairs["element"].to_numpy(), name=facet)
            codes.append(lab.get_indexer(keys["element"]).astype(np.int64))
            labels.append(lab)
            nests.append(pairs["parent"].to_numpy(dtype=np.int64))
            continue
        c, lab = pd.factorize(data[facet], sort=True)
        codes.append(c.astype(np.int64))
        labels.append(pd.Index(lab, name=facet))
        nests.append(None)
    if thresholds == "common":
        group = np.zeros(len(data), dtype=np.int64)
        group_labels = pd.Index(["all"], name="group")
    else:
        if thresholds not in facets:
            raise ModelError(f"thresholds={thresholds!r}: not one of the facets {facets}")
        k = list(facets).index(thresholds)
        group, group_labels = codes[k], labels[k]
    x = x.astype(np.int64)
    lo, hi = _group_ranges(x, group, len(group_labels))
    return RaschDesign(x, values, tuple(facets), tuple(codes), tuple(labels), group,
                       group_labels, lo, hi, tuple(nests) if nested else None)


# --------------------------------------------------------------------------------------------
# Probabilities and the likelihood
# --------------------------------------------------------------------------------------------


def _cumulative(tau: np.ndarray) -> np.ndarray:
    """(groups, M + 1) sums of thresholds up to each category (0 for category 0)."""
    return np.hstack([np.zeros((tau.shape[0], 1)), np.cumsum(tau, axis=1)])


def linear_predictor(design: RaschDesign, betas) -> np.ndarray:
    X = design.indicators
    return X @ np.concatenate([np.asarray(b, float) for b in betas])


def _log_probs(eta, group, cum, mask) -> np.ndarray:
    m = np.arange(cum.shape[1], dtype=float)
    psi = eta[:, None] * m
    if len(cum) == 1:  # one threshold group: broadcast instead of gathering rows
        psi -= cum[0] - mask[0]
    else:
        psi -= cum[group] - mask[group]
    psi -= psi.max(axis=1, keepdims=True)
    psi -= np.log(np.exp(psi).sum(axis=1, keepdims=True))
    return psi


def category_moments(eta, group, tau, mask):
    """Category probabilities, expected category and its variance for linear predictors.

    Returns ``(P, E, V)`` with ``P`` of shape (n, M + 1).
    """
    P = np.exp(_log_probs(np.asarray(eta, float), group, _cumulative(tau), mask))
    m = np.arange(P.shape[1], dtype=float)
    E = P @ m
    V = np.maximum(P @ (m * m) - E * E, 0.0)
    return P, E, V


def rasch_loglik(design: RaschDesign, betas, tau) -> float:
    """Joint log-likelihood of the ratings at the given measures and thresholds.

    Parameters
    ----------
    design : RaschDesign
    betas : sequence of arrays
        Measures of each facet's elements, in the design's facet order (logits; difficulty,
        severity and offset are subtracted).
    tau : array (groups, M)
        Andrich thresholds; column ``j - 1`` is the threshold into category ``j``.

    Examples
    --------
    >>> d = rasch_design(pd.DataFrame({"ratee": ["a", "a"], "skill": ["X", "Y"],
    ...                                "score": [1, 2]}), facets=("ratee", "skill"))
    >>> round(rasch_loglik(d, [np.zeros(1), np.zeros(2)], np.zeros((1, 1))), 6)
    -1.386294
    """
    logp = _log_probs(linear_predictor(design, betas), design.group, _cumulative(np.asarray(tau, float)),
                      design.mask())
    return float(logp[np.arange(len(design.x)), design.x].sum())


def conditional_loglik(design: RaschDesign, betas, tau) -> float:
    """Log-likelihood conditional on each ratee's total score (what CML maximises).

    The ratees' measures drop out (``betas[0]`` is ignored): for ratee ``v`` with ratings
    ``n`` and total ``r_v``, ``log P(x | r_v) = sum_n psi[n, x_n] - log gamma(r_v)`` with
    ``psi[n, h] = -h (delta + alpha + ...) - sum_{j <= h} tau_j`` and ``gamma`` the
    coefficients of ``prod_n sum_h exp(psi[n, h]) z^h`` (the elementary symmetric functions).
    This is the log-likelihood R's eRm reports for its conditional ML fits; it is a check of
    the model's parametrisation, not used to estimate (loops over ratees).

    Examples
    --------
    >>> d = rasch_design(pd.DataFrame({"ratee": ["a", "a"], "skill": ["X", "Y"],
    ...                                "score": [1, 2]}), facets=("ratee", "skill"))
    >>> round(conditional_loglik(d, [None, np.zeros(2)], np.zeros((1, 1))), 6)
    -0.693147
    """
    sizes = design.sizes
    eta = linear_predictor(design, [np.zeros(sizes[0])] + [np.asarray(b, float) for b in betas[1:]])
    m = np.arange(design.n_categories, dtype=float)
    psi = eta[:, None] * m - _cumulative(np.asarray(tau, float))[design.group] \
        + design.mask()[design.group]
    order = np.argsort(design.codes[0], kind="stable")
    bounds = np.searchsorted(design.codes[0][order], np.arange(sizes[0] + 1))
    total = 0.0
    for v in range(sizes[0]):
        rows = order[bounds[v]:bounds[v + 1]]
        if len(rows) == 0:
            continue
        poly, scale = np.ones(1), 0.0
        for n in rows:
            top = psi[n].max()
            poly = np.convolve(poly, np.exp(psi[n] - top))
            scale += top
            peak = poly.max()
            poly /= peak
            scale += np.log(peak)
        r = int(design.x[rows].sum())
        total += psi[rows, design.x[rows]].sum() - (np.log(poly[r]) + scale)
    return float(total)


# --------------------------------------------------------------------------------------------
# Newton-CG on the joint likelihood
# --------------------------------------------------------------------------------------------


@dataclass
class _Problem:
    """The JMLE problem on a design: parameters packed in one vector, and the Newton pieces.

    ``mask`` marks the categories each threshold group uses and ``free`` the thresholds that are
    estimated; ``weights`` and ``tau_weights`` are the penalties that centre each facet and each
    group's thresholds, ``ridge`` a N(0, 1) prior on the thresholds of gapped groups. ``unpack``
    splits a vector into facet measures and thresholds; the other methods give the
    log-likelihood's gradient and the products with its information matrix that the Newton
    steps of :func:`_fit_jmle` solve with.
    """

    design: RaschDesign
    mask: np.ndarray
    free: np.ndarray
    weights: list = field(default=None)  # penalty weight per centring block of each facet
    tau_weights: np.ndarray = field(default=None)  # penalty weight per threshold group
    ridge: np.ndarray = field(default=None)  # N(0, 1) prior on thresholds of gapped groups

    def unpack(self, vec):
        betas, start = [], 0
        for size in self.design.sizes:
            betas.append(vec[start:start + size])
            start += size
        tau = np.zeros(self.free.shape)
        tau[self.free] = vec[start:]
        return betas, tau

    def pack(self, betas, tau):
        return np.concatenate([*betas, tau[self.free]])

    def evaluate(self, vec):
        """Penalised log-likelihood, gradient, diagonal of the information, and the
        per-rating moments :meth:`info_product` needs (all from one pass over the data)."""
        d = self.design
        betas, tau = self.unpack(vec)
        eta = linear_predictor(d, betas)
        logp = _log_probs(eta, d.group, _cumulative(tau), self.mask)
        sums = [self._block_sums(k, betas[k]) for k in range(1, len(betas))]
        penalty = sum(float(w @ t ** 2) for w, t in zip(self.weights, sums, strict=True))
        tau_sums = (tau * self.free).sum(axis=1)
        penalty += float((self.tau_weights * tau_sums ** 2).sum())
        penalty += float((self.ridge[:, None] * tau ** 2).sum())
        value = float(np.take_along_axis(logp, d.x[:, None], axis=1).sum()) - 0.5 * penalty
        P = np.exp(logp, out=logp)
        m = np.arange(P.shape[1], dtype=float)
        E = P @ m
        V = np.maximum(P @ (m * m) - E * E, 0.0)
        # S[:, j] = P(X >= j + 1); K[:, j] = Cov(X, 1[X >= j + 1]) for the thresholds.
        S = np.cumsum(P[:, :0:-1], axis=1)[:, ::-1]
        R1 = np.cumsum((P * m)[:, :0:-1], axis=1)[:, ::-1]
        K = R1 - E[:, None] * S
        XT, absXT = d.transposes
        grads = self._split(XT @ (d.x - E))
        diags = self._split(absXT @ V)
        for k in range(1, len(grads)):
            blocks = d.blocks(k)
            grads[k] -= (self.weights[k - 1] * sums[k - 1])[blocks]
            diags[k] += self.weights[k - 1][blocks]
        G, M = self.free.shape
        steps = np.arange(1, M + 1)
        ST = np.ascontiguousarray(S.T)
        tau_g = self._by_group(ST - (d.x[None, :] >= steps[:, None]))
        tau_g -= self.tau_weights[:, None] * tau_sums[:, None] + self.ridge[:, None] * tau
        info = np.empty((G, M, M))
        for j in range(M):
            for k in range(j, M):
                info[:, j, k] = info[:, k, j] = self._by_group((ST[k] - ST[j] * ST[k])[None])[:, 0]
        info += self.tau_weights[:, None, None] * (self.free[:, :, None] & self.free[:, None, :])
        info += self.ridge[:, None, None] * np.eye(M)[None]
        tau_h = np.diagonal(info, axis1=1, axis2=2)
        grad = np.concatenate([*grads, tau_g[self.free]])
        diag = np.concatenate([*diags, tau_h[self.free]])
        return value, grad, diag, (V, np.ascontiguousarray(K.T), info)

    def _block_sums(self, k, values):
        """Sums of facet ``k``'s ``values`` within each centring block."""
        if len(self.weights[k - 1]) == 1:  # not nested: the facet's sum, as numpy sums it
            return np.array([values.sum()])
        return np.bincount(self.design.blocks(k), values, len(self.weights[k - 1]))

    def _split(self, flat):
        return np.split(flat, np.cumsum(self.design.sizes)[:-1])

    def _by_group(self, rows):
        """Sums of each row of ``rows`` (k, n) within each threshold group -> (groups, k)."""
        G = self.free.shape[0]
        if G == 1:
            return rows.sum(axis=1)[None, :]
        return np.column_stack([np.bincount(self.design.group, r, G) for r in rows])

    def info_product(self, cache, vec):
        """Information matrix (plus penalties) times ``vec``: ``A' Cov A vec`` through the
        per-rating variance ``V``, covariances ``K`` with the threshold indicators and the
        groups' threshold information."""
        V, KT, info = cache
        d = self.design
        vb, vt = self.unpack(vec)
        X, (XT, _) = d.indicators, d.transposes
        a = X @ np.concatenate(vb)
        if vt.shape[0] == 1:
            kt = vt[0] @ KT
        else:
            kt = np.einsum("jn,nj->n", KT, vt[d.group])
        out = self._split(XT @ (V * a - kt))
        for k in range(1, len(out)):
            out[k] += (self.weights[k - 1] * self._block_sums(k, vb[k]))[d.blocks(k)]
        ot = -self._by_group(KT * a) + np.einsum("gjk,gk->gj", info, vt)
        return np.concatenate([*out, ot[self.free]])


def _pcg(matvec, b, diag, rtol, maxiter):
    x = np.zeros_like(b)
    r = b.copy()
    z = r / diag
    p = z.copy()
    rz = r @ z
    limit = rtol * np.linalg.norm(b)
    for _ in range(maxiter):
        Ap = matvec(p)
        curvature = p @ Ap
        if curvature <= 0:
            break
        step = rz / curvature
        x += step * p
        r -= step * Ap
        if np.linalg.norm(r) <= limit:
            break
        z = r / diag
        rz_new = r @ z
        p = z + (rz_new / rz) * p
        rz = rz_new
    return x


@dataclass(frozen=True)
class RaschFit:
    """Joint ML estimates on the non-extreme ratings (before any bias correction).

    Attributes
    ----------
    betas : list of arrays
        Measures per facet (NaN for elements without non-extreme ratings).
    tau : array (groups, M)
        Thresholds (0 where a group does not use the step).
    loglik : float
        Joint log-likelihood at the estimates.
    n_iter : int
    converged : bool
    keep : bool array
        Ratings used (those of no extreme element).
    extreme : list of bool arrays
        Extreme elements per facet.
    gapped : bool array
        Threshold groups with an unused middle category (thresholds shrunk, see
        :func:`gapped_groups`).
    """

    betas: list
    tau: np.ndarray
    loglik: float
    n_iter: int
    converged: bool
    keep: np.ndarray
    extreme: list
    design: RaschDesign
    gapped: np.ndarray = None


def _extremes(design: RaschDesign):
    """Set aside extreme elements until none is left; returns (keep, extreme per facet)."""
    keep = np.ones(len(design.x), dtype=bool)
    extreme = [np.zeros(s, dtype=bool) for s in design.sizes]
    G = len(design.group_labels)
    while True:
        lo, hi = _group_ranges(design.x[keep], design.group[keep], G)
        at_top = design.x == hi[design.group]
        at_bottom = design.x == lo[design.group]
        changed = False
        for k, (codes, size) in enumerate(zip(design.codes, design.sizes, strict=True)):
            n = np.bincount(codes[keep], minlength=size)
            top = np.bincount(codes[keep], at_top[keep], size)
            bottom = np.bincount(codes[keep], at_bottom[keep], size)
            new = (n > 0) & ((top == n) | (bottom == n))
            if new.any():
                extreme[k] |= new
                keep &= ~new[codes]
                changed = True
        if not changed:
            return keep, extreme


def gapped_groups(design: RaschDesign) -> np.ndarray:
    """Threshold groups that leave a category between their lowest and highest unused.

    Their thresholds around the gap would be infinite; :func:`fit_jmle` gives those groups'
    thresholds a N(0, 1) prior (a ridge penalty) so they stay finite.
    """
    G = len(design.group_labels)
    counts = np.zeros((G, design.n_categories))
    np.add.at(counts, (design.group, design.x), 1)
    m = np.arange(design.n_categories)
    inside = (m >= design.lo[:, None]) & (m <= design.hi[:, None])
    return (inside & (counts == 0)).any(axis=1)


def fit_jmle(design: RaschDesign, *, max_iter: int = 100, tol: float = 1e-6) -> RaschFit:
    """Maximise the joint likelihood over all measures and thresholds (see the module docs).

    Extreme elements are set aside first; their measures are NaN here (see
    :func:`workbench.calibration.rasch.bias.solve_cells` for their adjusted estimates).
    Convergence: the largest Newton step is below ``tol`` logits. BLAS runs on one thread: the products are small and memory-bound,
    and extra threads only contend on a shared machine (as in the mixed model).
    """
    with threadpool_limits(limits=1, user_api="blas"):
        return _fit_jmle(design, max_iter=max_iter, tol=tol)


def _fit_jmle(design: RaschDesign, *, max_iter: int, tol: float) -> RaschFit:
    """Joint maximum likelihood of every facet's measures and the thresholds.

    Elements with extreme scores (all ratings in the top or bottom category) are set aside and
    the rest fitted by damped Newton steps (:class:`_Problem`) until the largest step is below
    ``tol`` or ``max_iter`` is reached. Returns a :class:`RaschFit` with NaN measures for elements
    without ratings or with extreme scores.
    """
    keep, extreme = _extremes(design)
    if not keep.any():
        raise ModelError("every element has an extreme score (all ratings in the top or the "
                         "bottom category): nothing to estimate")
    G = len(design.group_labels)
    lo, hi = _group_ranges(design.x[keep], design.group[keep], G)
    used = hi >= 0
    lo = np.where(used, lo, 0)
    hi = np.where(used, hi, 0)
    work = RaschDesign(design.x[keep], design.values, design.facets,
                       tuple(c[keep] for c in design.codes), design.labels, design.group[keep],
                       design.group_labels, lo, hi, design.nests)
    problem = _Problem(work, work.mask(), work.free_steps())
    counts = [np.bincount(c, minlength=s) for c, s in zip(work.codes, work.sizes, strict=True)]
    # Penalty weights: the curvature they add along a facet's (or a group's) constant shift
    # is about the information of one of its elements, which keeps the CG system well scaled.
    # (per centring block: a nested facet's elements are centred within their parent)
    problem.weights = []
    for k in range(1, len(counts)):
        blocks = work.blocks(k)
        n_blocks = int(blocks.max()) + 1 if len(blocks) else 1
        ratings = np.bincount(blocks, counts[k], n_blocks)
        present = np.maximum(np.bincount(blocks, counts[k] > 0, n_blocks), 1)
        problem.weights.append(0.5 * ratings / present ** 2)
    steps = problem.free.sum(axis=1)
    group_n = np.bincount(work.group, minlength=G)
    problem.tau_weights = np.where(steps > 0, 0.2 * group_n / np.maximum(steps, 1) ** 2, 0.0)
    problem.ridge = gapped_groups(work).astype(float)

    betas = [np.zeros(s) for s in work.sizes]
    share = (np.bincount(work.codes[0], work.x - lo[work.group], work.sizes[0]) + 0.5) / (
        np.bincount(work.codes[0], hi[work.group] - lo[work.group], work.sizes[0]) + 1.0)
    betas[0] = np.log(share / (1 - share))
    vec = problem.pack(betas, np.zeros(problem.free.shape))
    # Elements without ratings carry no information: hold them at zero.
    present = np.concatenate([*(n > 0 for n in counts), np.ones(int(problem.free.sum()), bool)])
    value, grad, diag, cache = problem.evaluate(vec)
    converged, n_iter = False, 0
    while n_iter < max_iter:
        n_iter += 1
        grad = np.where(present, grad, 0.0)
        diag = np.where(present, diag, 1.0)
        gnorm = float(np.abs(grad).max())
        direction = _pcg(lambda v, c=cache: np.where(present, problem.info_product(c, v), 0.0),
                         grad, diag, rtol=min(0.1, np.sqrt(gnorm) / 10), maxiter=500)
        largest = float(np.abs(direction).max())
        if largest > 2.0:
            direction *= 2.0 / largest
        step = 1.0
        while True:  # step halving; the full Newton step is almost always accepted
            trial = problem.evaluate(vec + step * direction)
            if trial[0] >= value - 1e-12 * abs(value) or step < 1e-6:
                break
            step /= 2
        vec = vec + step * direction
        value, grad, diag, cache = trial
        if largest * step < tol:
            converged = True
            break
    betas, tau = problem.unpack(vec)
    betas = [np.where(n > 0, b, np.nan) for b, n in zip(betas, counts, strict=True)]
    for k in range(1, len(betas)):
        betas[k] = np.where(extreme[k], np.nan, betas[k])
    loglik = rasch_loglik(work, [np.nan_to_num(b) for b in betas], tau)
    return RaschFit(betas, tau, loglik, n_iter, converged, keep, extreme, work,
                    problem.ridge > 0)
