"""Linear mixed models with crossed random intercepts, fitted by REML or ML.

The model is ``y = X beta + sum_k Z_k b_k + e`` with ``b_k ~ N(0, sigma^2 theta_k^2 I)`` and
``e ~ N(0, sigma^2 I)``: one random intercept per level of each term (a column, or an interaction
``"a:b"`` whose levels are the combinations present). It is the model of lme4's
``lmer(y ~ x + (1|a) + (1|b) + (1|a:b))``.

How it is fitted
----------------
As in lme4 (Bates, Maechler, Bolker & Walker 2015, J Stat Softw 67(1), section 3), the
criterion is profiled over the relative standard deviations ``theta``. For a given ``theta``
the penalised least-squares system

    [ L'Z'Z L + I   L'Z'X ] [u   ]   [L'Z'y]
    [ X'Z L         X'X   ] [beta] = [X'y  ]

is factored; with ``y`` appended as a last column, one Cholesky factorisation gives
``log|L_theta|^2``, ``log|R_X|^2`` and the penalised residual sum of squares ``r^2``, and

    REML deviance = log|L|^2 + log|R_X|^2 + (n - p) (1 + log(2 pi r^2 / (n - p)))
    ML deviance   = log|L|^2 + n (1 + log(2 pi r^2 / n))

(``reml_criterion`` is lme4's ``REMLcrit``; ``-2 loglik`` for ML). The factorisation exploits
nesting: one term ``g`` (e.g. the ratee) and every term nested in it (ratee:skill,
rater:ratee) form a block-diagonal matrix with one small block per level of ``g``; these blocks
are factored all at once with batched dense algebra, and only the Schur complement on the
remaining (crossed) terms and the fixed effects is factored as one dense matrix. The term ``g``
is chosen to make that complement as small as possible. ``theta`` is optimised with L-BFGS-B
(``theta >= 0``) using the analytic gradient of the profiled criterion,

    d dev / d theta_k = 2 (q_k - tr[(M^-1)_kk]) / theta_k - 2 df theta_k |Z_k' r|^2 / r^2

(``M`` the system matrix above, ``df = n - p`` for REML, and for ML ``M`` without the fixed
block and ``df = n``); a term whose ``theta`` ends at 0 is probed away from the bound once.

Large crossed terms (``solver="iterative"``, chosen automatically above 1,500 crossed levels):
the dense Schur complement costs O(levels^3) per evaluation, and for 360 data its sparse
factor fills in (raters from other teams link everything), so instead the Schur complement is
kept sparse and solved by Jacobi-preconditioned block conjugate gradients (it is >= I, so CG
converges in about 20 steps). ``theta`` then solves the score equations above, whose trace
terms are an exact diagonal part plus a Hutchinson estimate of the rest with 24 fixed
Rademacher probes, by a quasi-Newton (Broyden) iteration in ``log theta^2`` started from an
exact fit to a connected pilot cluster of about 400 crossed levels. Given ``theta``, the fixed
effects, their covariance and the BLUPs are exact to the CG tolerance; the variance components
agree with the exact optimum to about 1e-3 (relative), conditional SDs use the estimated
diagonal of the inverse (a few per cent). The criterion is evaluated exactly at the estimate
by one dense factorisation up to 6,000 crossed levels, and reported as NaN beyond.

Fixed-effect confidence intervals are Wald intervals on the normal distribution (as
``confint(fit, method="Wald")`` in lme4).

Checked against lme4 (fixtures in ``tests/fixtures/lme4``), statsmodels' MixedLM (one grouping
factor) and the ``mixedlm`` package (crossed designs): see ``tests/test_mixed.py``.

Examples
--------
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> df = pd.DataFrame({"a": rng.integers(0, 20, 400), "b": rng.integers(0, 15, 400)})
>>> df["y"] = rng.normal(size=20)[df["a"]] + rng.normal(size=15)[df["b"]] + rng.normal(size=400)
>>> res = fit_mixed(df, response="y", fixed=[], random=["a", "b"])
>>> res.variance_components.index.tolist()
['a', 'b', 'residual']
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.linalg as sla
import scipy.sparse as sp
from scipy import optimize, stats
from threadpoolctl import threadpool_limits

from workbench.errors import ModelError

__all__ = ["fit_mixed", "MixedResult", "design_matrix"]

METHODS = ("REML", "ML")
SOLVERS = ("auto", "dense", "iterative")
MAX_DENSE = 16000
DENSE_AUTO = 1500
EXACT_CRITERION = 6000  # crossed levels up to which the iterative fit reports the exact criterion
PILOT = 400  # crossed levels in the exact pilot fit that starts the iterative solver


# --------------------------------------------------------------------------------------------
# Design
# --------------------------------------------------------------------------------------------


def _is_categorical(values: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)


def design_matrix(data: pd.DataFrame, fixed) -> pd.DataFrame:
    """Fixed-effects design: intercept, treatment-coded categoricals, numeric columns as-is.

    Categorical (object, string, category, bool) columns use treatment coding with the first
    level in sorted order as reference (R's default); columns are named patsy-style
    ``"source[T.peer]"``.

    Examples
    --------
    >>> design_matrix(pd.DataFrame({"g": ["b", "a", "b"], "x": [1.0, 2.0, 3.0]}), ["g", "x"])
       Intercept  g[T.b]    x
    0        1.0     1.0  1.0
    1        1.0     0.0  2.0
    2        1.0     1.0  3.0
    """
    columns = {"Intercept": np.ones(len(data))}
    for name in fixed:
        if name not in data:
            raise ModelError(f"fixed effect column {name!r} not found in the data")
        values = data[name]
        if _is_categorical(values):
            if isinstance(values.dtype, pd.CategoricalDtype):
                present = set(values.dropna().unique())
                levels = [lev for lev in values.cat.categories if lev in present]
            else:
                levels = sorted(values.dropna().unique().tolist(), key=lambda v: (str(type(v)), v))
            text = values.astype(object)
            for level in levels[1:]:
                columns[f"{name}[T.{level}]"] = (text == level).to_numpy(dtype=float)
        else:
            columns[name] = values.to_numpy(dtype=float)
    return pd.DataFrame(columns, index=data.index)


def _term_codes(data: pd.DataFrame, term: str):
    parts = term.split(":")
    for part in parts:
        if part not in data:
            raise ModelError(f"random term {term!r}: column {part!r} not found in the data")
    if data[parts].isna().any().any():
        raise ModelError(f"random term {term!r} has missing values")
    if len(parts) == 1:
        codes, uniques = pd.factorize(data[parts[0]], sort=True)
        return codes.astype(np.int64), pd.Index(uniques, name=term)
    # Combine the parts' integer codes: much faster than factorising tuples.
    part_codes, part_levels = [], []
    for part in parts:
        c, u = pd.factorize(data[part], sort=True)
        part_codes.append(c.astype(np.int64))
        part_levels.append(u)
    key = np.zeros(len(data), dtype=np.int64)
    for c, u in zip(part_codes, part_levels, strict=True):
        key = key * len(u) + c
    uniq, codes = np.unique(key, return_inverse=True)
    arrays = []
    for u in reversed(part_levels):
        arrays.append(np.asarray(u)[uniq % len(u)])
        uniq = uniq // len(u)
    labels = pd.MultiIndex.from_arrays(arrays[::-1], names=parts)
    return codes.astype(np.int64), labels


# --------------------------------------------------------------------------------------------
# The structured penalised least-squares engine
# --------------------------------------------------------------------------------------------


def _levels_by_term(s, values):
    """Per-level arrays of the eliminated (nested) terms from their per-block ``values``.

    ``values`` is laid out like the eliminated blocks (group x position); each eliminated term
    gets an array over its levels. The crossed terms are filled in by the callers.
    """
    out = {}
    for term in s.e_terms:
        sel = s.pos_term == term
        vals = np.zeros(int(s.nlev[term]))
        vals[s.pos_level[sel]] = values[sel]
        out[term] = vals
    return out


def _random_effects(s, st, x, d):
    """Spherical random effects per term, given the crossed-and-fixed solution ``x``.

    The eliminated (nested) terms are back-substituted block by block through ``st.Linv``;
    the crossed terms are read off ``x``. Shared by the dense and the iterative engine.
    """
    xpad = np.concatenate([x, [0.0, 0.0]])  # y slot and dummy
    xl = xpad[np.minimum(s.cidx, d)]
    xl[:, -1] = 0.0
    rhs = st.B[:, :, -1] - (st.B[:, :, :-1] @ xl[:, :-1, None])[:, :, 0]
    ue = (st.Linv.transpose(0, 2, 1) @ (st.Linv @ rhs[:, :, None]))[:, :, 0]
    u = _levels_by_term(s, ue)
    for c in s.c_terms:
        u[c] = x[np.flatnonzero(s.c_term_of == c)]
    return u


@dataclass
class _Structure:
    """Everything that does not depend on theta: cross-products arranged in blocks."""

    n: int
    p: int
    terms: list
    nlev: np.ndarray
    block_term: int  # index of the blocking term g
    e_terms: list  # indices of terms eliminated block-wise (g first)
    c_terms: list  # indices of crossed terms (in the dense Schur complement)
    G: int
    m: int
    kr: int
    pos_term: np.ndarray  # (G, m) term index per local position, -1 padding
    pos_level: np.ndarray  # (G, m) level of that term, -1 padding
    Gee: np.ndarray  # (G, m, m)
    Gec: np.ndarray  # (G, m, kc) crossed slots, X, y
    cidx: np.ndarray  # (G, kc) global index into the Schur matrix (dummy = d)
    slot_term: np.ndarray  # (G, kc) term index of slot, -1 for X/y/padding
    Gcc: sp.csr_matrix  # (d, d) [Z_c X y]'[Z_c X y]
    c_term_of: np.ndarray  # (d,) term index per Schur row, -1 for X/y
    qc: int
    scatter: sp.csr_matrix  # maps (G*kr*kr) local products onto Schur entries
    scatter_rows: np.ndarray
    scatter_cols: np.ndarray
    level_pos: dict = field(default_factory=dict)  # term -> (block, pos) arrays per level


def _nested_in(codes_u, nu, codes_t):
    parent = np.full(nu, -1, dtype=np.int64)
    parent[codes_u] = codes_t
    return bool((parent[codes_u] == codes_t).all()), parent


def _choose_blocking(codes, nlev, p):
    """Pick the term whose nested family, eliminated block-wise, leaves the cheapest rest."""
    best = None
    k = len(codes)
    for t in range(k):
        family, parents = [t], {}
        for u in range(k):
            if u != t and nlev[u] >= nlev[t]:
                ok, parent = _nested_in(codes[u], nlev[u], codes[t])
                if ok:
                    family.append(u)
                    parents[u] = parent
        m = 1 + sum(int(np.bincount(parents[u], minlength=nlev[t]).max()) for u in family[1:])
        d = sum(int(nlev[c]) for c in range(k) if c not in family) + p + 1
        cost = nlev[t] * (m**3 + m * m * d / max(nlev[t], 1)) + d**3 / 3.0
        if best is None or cost < best[0]:
            best = (cost, t, family, parents, m)
    return best[1:]


def _build_structure(y, X, codes, nlev, terms) -> _Structure:
    n, p = X.shape
    k = len(codes)
    t, family, parents, m = _choose_blocking(codes, nlev, p)
    G = int(nlev[t])
    c_terms = [c for c in range(k) if c not in family]

    # Local positions of every level of the family within its block.
    pos_term = np.full((G, m), -1, dtype=np.int64)
    pos_level = np.full((G, m), -1, dtype=np.int64)
    pos_term[:, 0] = t
    pos_level[:, 0] = np.arange(G)
    offset = np.ones(G, dtype=np.int64)
    level_pos = {t: (np.arange(G), np.zeros(G, dtype=np.int64))}
    for u in family[1:]:
        parent = parents[u]
        order = np.argsort(parent, kind="stable")
        counts = np.bincount(parent, minlength=G)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        rank = np.empty(nlev[u], dtype=np.int64)
        rank[order] = np.arange(nlev[u]) - starts[parent[order]]
        loc = offset[parent] + rank
        pos_term[parent, loc] = u
        pos_level[parent, loc] = np.arange(nlev[u])
        level_pos[u] = (parent, loc)
        offset += counts

    block = codes[t]
    # Observation-level indicator of family positions: Z_e (n x G*m), one column per slot.
    rows = np.repeat(np.arange(n), len(family))
    cols = np.column_stack([block * m + level_pos[u][1][codes[u]] for u in family]).ravel()
    Ze = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, G * m))
    ZeT = Ze.T.tocsr()
    ee = (ZeT @ Ze).tocoo()
    Gee = np.zeros((G, m, m))
    Gee[ee.row // m, ee.row % m, ee.col % m] = ee.data

    # Crossed random terms: global Schur index per level.
    c_off = {}
    qc = 0
    for c in c_terms:
        c_off[c] = qc
        qc += int(nlev[c])
    d = qc + p + 1
    c_term_of = np.full(d, -1, dtype=np.int64)
    for c in c_terms:
        c_term_of[c_off[c]:c_off[c] + nlev[c]] = c

    # Slots: distinct crossed levels touching each block.
    if c_terms:
        gc = np.concatenate([c_off[c] + codes[c] for c in c_terms])
        gb = np.tile(block, len(c_terms))
        keys = np.unique(gb * (qc + 1) + gc)
        kb, kg = keys // (qc + 1), keys % (qc + 1)
        counts = np.bincount(kb, minlength=G)
        kr = int(counts.max())
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        slot = np.arange(len(keys)) - starts[kb]
    else:
        keys = kb = kg = slot = np.zeros(0, dtype=np.int64)
        kr = 0
    kc = kr + p + 1
    cidx = np.full((G, kc), d, dtype=np.int64)
    slot_term = np.full((G, kc), -1, dtype=np.int64)
    cidx[kb, slot] = kg
    slot_term[kb, slot] = c_term_of[kg]
    cidx[:, kr:] = np.arange(qc, d)

    # Gec: random crossed part via Z_e' Z_c, X and y part via Z_e' [X y].
    Gec = np.zeros((G, m, kc))
    if c_terms:
        rows = np.repeat(np.arange(n), len(c_terms))
        cols = np.column_stack([c_off[c] + codes[c] for c in c_terms]).ravel()
        Zc = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, qc))
        ec = (ZeT @ Zc).tocoo()
        eb = (ec.row // m).astype(np.int64)  # int32 from scipy: the key below overflows it
        where = np.searchsorted(keys, eb * (qc + 1) + ec.col)
        Gec[eb, ec.row % m, slot[where]] = ec.data
    else:
        Zc = sp.csr_matrix((n, 0))
    Xy = np.column_stack([X, y])
    Gec[:, :, kr:] = (ZeT @ Xy).reshape(G, m, p + 1)

    W = sp.hstack([Zc, sp.csr_matrix(Xy)]).tocsc()
    Gcc = (W.T @ W).tocsr() if qc else sp.csr_matrix(Xy.T @ Xy)

    # Scatter map for the crossed-by-crossed part of sum_i W_i'W_i onto the Schur matrix
    # (d+1 square, dummy row d); the parts involving X and y are dense and summed directly.
    li = np.broadcast_to(cidx[:, :kr, None], (G, kr, kr)).ravel()
    lj = np.broadcast_to(cidx[:, None, :kr], (G, kr, kr)).ravel()
    flat = li * (d + 1) + lj
    uniq, inverse = np.unique(flat, return_inverse=True)
    scatter = sp.csr_matrix(
        (np.ones(len(flat)), (inverse, np.arange(len(flat)))), shape=(len(uniq), len(flat))
    )
    return _Structure(
        n=n, p=p, terms=terms, nlev=np.asarray(nlev), block_term=t, e_terms=family,
        c_terms=c_terms, G=G, m=m, kr=kr, pos_term=pos_term, pos_level=pos_level, Gee=Gee,
        Gec=Gec, cidx=cidx, slot_term=slot_term, Gcc=Gcc, c_term_of=c_term_of, qc=qc,
        scatter=scatter, scatter_rows=uniq // (d + 1), scatter_cols=uniq % (d + 1),
        level_pos=level_pos,
    )


def _schur_products(s, W):
    """sum_i W_i'W_i split into crossed x crossed (for the scatter map), crossed x [X y] and
    [X y] x [X y] parts."""
    kr, q = s.kr, s.qc
    Wr, Wx = W[:, :, :kr], W[:, :, kr:]
    Wrt = Wr.transpose(0, 2, 1)
    rr = (Wrt @ Wr).ravel()
    rx = Wrt @ Wx
    width = Wx.shape[2]
    rows = np.minimum(s.cidx[:, :kr], q)
    idx = (rows[:, :, None] * width + np.arange(width)).ravel()
    RX = np.bincount(idx, weights=rx.ravel(), minlength=(q + 1) * width)
    RX = RX.reshape(q + 1, width)[:q]
    XX = np.einsum("gmi,gmj->ij", Wx, Wx)
    return s.scatter @ rr, RX, XX


def _size_buckets(s, n_buckets: int = 4):
    """Groups of blocks by used size (at most ``n_buckets``), each with its size bound."""
    used = (s.pos_term >= 0).sum(axis=1)
    if s.G < 2000 or used.max() == used.min():
        return [(np.arange(s.G), s.m)]
    edges = np.unique(np.quantile(used, np.linspace(0, 1, n_buckets + 1)[1:]).astype(int))
    edges[-1] = s.m
    out, lower = [], 0
    for edge in edges:
        idx = np.flatnonzero((used > lower) & (used <= edge))
        if len(idx):
            out.append((idx, int(edge)))
        lower = edge
    return out


@dataclass
class _State:
    """Factorisation at one theta."""

    theta: np.ndarray
    Linv: np.ndarray  # (G, m, m) inverse Cholesky factors of the diagonal blocks
    W: np.ndarray  # (G, m, kc)
    B: np.ndarray  # (G, m, kc)
    LS: np.ndarray  # (d, d) lower Cholesky factor of the Schur complement
    ld_e: float
    diagLS: np.ndarray


class _Engine:
    iterative = False
    progress = None

    def __init__(self, y, X, codes, nlev, terms, structure=None):
        self.y, self.X, self.codes, self.nlev = y, X, codes, np.asarray(nlev)
        self.s = structure or _build_structure(y, X, codes, nlev, terms)
        s = self.s
        self.d = s.qc + s.p + 1
        self.n_eval = 0
        if not self.iterative:
            self._dense_init()

    def _dense_init(self):
        s = self.s
        if self.d > MAX_DENSE:
            raise ModelError(
                f"the crossed random terms have {s.qc} levels in all; the exact engine factors "
                f"a dense {self.d} x {self.d} matrix and supports at most {MAX_DENSE} (use "
                "solver='iterative')"
            )
        self.Gcc = s.Gcc.toarray()

    def blocks(self, theta):
        """Batched factorisation of the block-diagonal part and its coupling to the rest."""
        s = self.s
        th = np.append(theta, 0.0)  # index -1 -> 0 (padding)
        lam_e = th[s.pos_term]  # (G, m)
        lam_c = th[s.slot_term]
        lam_c[:, s.kr:] = 1.0
        A = lam_e[:, :, None] * s.Gee * lam_e[:, None, :]
        A[:, np.arange(s.m), np.arange(s.m)] += 1.0
        B = lam_e[:, :, None] * s.Gec * lam_c[:, None, :]
        if not hasattr(self, "_buckets"):
            self._buckets = _size_buckets(s)
        if len(self._buckets) == 1:
            L = np.linalg.cholesky(A)
            ld_e = 2.0 * np.log(np.diagonal(L, axis1=1, axis2=2)).sum()
            Linv = np.linalg.inv(L)
            W = Linv @ B
        else:
            # Blocks padded to the largest size waste cubic work: factor each size class on
            # its own (padding sits at the end of a block, where A is the identity).
            Linv = np.broadcast_to(np.eye(s.m), A.shape).copy()
            W = np.zeros_like(B)
            ld_e = 0.0
            for idx, mg in self._buckets:
                Lg = np.linalg.cholesky(A[idx, :mg, :mg])
                ld_e += 2.0 * np.log(np.diagonal(Lg, axis1=1, axis2=2)).sum()
                Lg = np.linalg.inv(Lg)
                Linv[idx, :mg, :mg] = Lg
                W[idx, :mg, :] = Lg @ B[idx, :mg, :]
        lam_C = np.where(s.c_term_of >= 0, th[s.c_term_of], 1.0)
        return Linv, B, W, ld_e, lam_C

    def factor(self, theta) -> _State:
        s = self.s
        theta = np.asarray(theta, dtype=float)
        self.n_eval += 1
        Linv, B, W, ld_e, lam_C = self.blocks(theta)
        rr, RX, XX = _schur_products(s, W)
        S = lam_C[:, None] * self.Gcc * lam_C[None, :]
        S[np.arange(s.qc), np.arange(s.qc)] += 1.0
        Spad = np.zeros((self.d + 1, self.d + 1))
        Spad[: self.d, : self.d] = S
        Spad[s.scatter_rows, s.scatter_cols] -= rr
        q, d = s.qc, self.d
        Spad[:q, q:d] -= RX
        Spad[q:d, :q] -= RX.T
        Spad[q:d, q:d] -= XX
        S = Spad[: self.d, : self.d]
        try:
            LS = sla.cholesky(S, lower=True, overwrite_a=True, check_finite=False)
        except np.linalg.LinAlgError:
            raise ModelError(
                "the fixed effects are not identifiable at this point (collinear design or a "
                "perfect fit); drop a fixed effect or a term"
            ) from None
        return _State(theta, Linv, W, B, LS, ld_e, np.diagonal(LS).copy())

    def deviance(self, st: _State, reml: bool) -> float:
        s = self.s
        dl = st.diagLS
        r2 = dl[-1] ** 2
        ld = st.ld_e + 2.0 * np.log(dl[: s.qc]).sum()
        if reml:
            df = s.n - s.p
            ld += 2.0 * np.log(dl[s.qc: s.qc + s.p]).sum()
        else:
            df = s.n
        if not r2 > 0:
            return np.inf
        return float(ld + df * (1.0 + np.log(2.0 * np.pi * r2 / df)))

    def solve(self, st: _State):
        """u (spherical random effects, per term) and beta."""
        s = self.s
        LS = st.LS
        x = sla.solve_triangular(LS[:-1, :-1], LS[-1, :-1], lower=True, trans="T",
                                 check_finite=False)
        u = _random_effects(s, st, x, self.d)
        beta = x[s.qc: s.qc + s.p]
        return u, beta

    def inverse_parts(self, st: _State, with_fixed: bool):
        """Inverse of the Schur block (crossed random [+ fixed]) and V_i = A_i^-1 B_i."""
        s = self.s
        k = s.qc + (s.p if with_fixed else 0)
        if k:
            inv, info = sla.lapack.dpotri(st.LS[:k, :k], lower=1)
            if info != 0:
                raise ModelError("could not invert the fitted system (singular fit)")
            lower = np.tril_indices(k, -1)
            inv[lower[1], lower[0]] = inv[lower]
        else:
            inv = np.zeros((0, 0))
        Sinv = np.zeros((k + 1, k + 1))
        Sinv[:k, :k] = inv
        V = st.Linv.transpose(0, 2, 1) @ st.W[:, :, :-1]
        cols = np.minimum(s.cidx[:, :-1], k)
        cols = np.where(cols >= k, k, cols)
        if not with_fixed:
            V = V.copy()
            V[:, :, s.kr:] = 0.0
        return Sinv, V, cols

    def combination_pieces(self, st):
        """V (G, m, kc-1), local Schur columns, and a function giving S'^-1 sub-blocks."""
        Sinv, V, cols = self.inverse_parts(st, with_fixed=True)
        return V, cols, (lambda cb: Sinv[cb[:, :, None], cb[:, None, :]]), Sinv.shape[0] - 1

    def traces(self, st: _State, with_fixed: bool):
        """diag of (M^-1) for every random level, as a per-term dict, plus raw pieces."""
        s = self.s
        Sinv, V, cols = self.inverse_parts(st, with_fixed)
        diag_e = (st.Linv * st.Linv).sum(axis=1)
        Q = Sinv[cols[:, :, None], cols[:, None, :]]
        VQ = V @ Q
        diag_e = diag_e + (VQ * V).sum(axis=2)
        out = _levels_by_term(s, diag_e)
        dS = np.diagonal(Sinv)
        for c in s.c_terms:
            out[c] = dS[np.flatnonzero(s.c_term_of == c)]
        return out

    def residuals(self, u, beta, theta):
        fitted = self.X @ beta
        for term, uk in u.items():
            fitted = fitted + theta[term] * uk[self.codes[term]]
        return self.y - fitted, fitted

    def gradient(self, st: _State, reml: bool) -> np.ndarray:
        s = self.s
        u, beta = self.solve(st)
        res, _ = self.residuals(u, beta, st.theta)
        r2 = st.diagLS[-1] ** 2
        df = s.n - s.p if reml else s.n
        tr = self.traces(st, with_fixed=reml)
        grad = np.zeros(len(st.theta))
        for k, th in enumerate(st.theta):
            zr = np.bincount(self.codes[k], weights=res, minlength=int(s.nlev[k]))
            g = -2.0 * df * th * (zr @ zr) / r2
            if th > 1e-6:
                g += 2.0 * (s.nlev[k] - tr[k].sum()) / th
            grad[k] = g
        return grad


def _block_pcg(matvec, rhs, dinv, tol=1e-8, maxiter=1000):
    """Jacobi-preconditioned conjugate gradients on every column of ``rhs`` at once."""
    X = np.zeros_like(rhs)
    R = rhs.copy()
    bnorm = np.linalg.norm(rhs, axis=0)
    bnorm[bnorm == 0] = 1.0
    Z = dinv[:, None] * R
    P = Z.copy()
    rz = (R * Z).sum(axis=0)
    for it in range(maxiter):
        AP = matvec(P)
        pap = (P * AP).sum(axis=0)
        alpha = np.divide(rz, pap, out=np.zeros_like(rz), where=pap > 0)
        X += alpha * P
        R -= alpha * AP
        if (np.linalg.norm(R, axis=0) <= tol * bnorm).all():
            return X, it + 1
        Z = dinv[:, None] * R
        rz_new = (R * Z).sum(axis=0)
        beta = np.divide(rz_new, rz, out=np.zeros_like(rz), where=rz > 0)
        rz = rz_new
        P = Z + beta * P
    return X, maxiter


@dataclass
class _IterState:
    theta: np.ndarray
    Linv: np.ndarray
    W: np.ndarray
    B: np.ndarray
    x: np.ndarray  # [u_c, beta]
    r2: float
    Cinv: np.ndarray  # (R_X'R_X)^-1
    Yx: np.ndarray  # S_rr^-1 S_rx
    dhat: np.ndarray  # estimated diag of S_rr^-1
    Xt: np.ndarray  # S_rr^-1 Z - D^-1 Z for the probes
    Dinv: np.ndarray
    cg_iter: int


class _IterEngine(_Engine):
    """Large crossed terms: conjugate gradients on the sparse Schur complement.

    ``theta`` solves the REML (ML) score equations, whose trace terms
    ``tr(S^-1 H)`` are split into an exact diagonal part and a Hutchinson estimate of the rest
    with fixed Rademacher probes (so the equations are a smooth deterministic function of
    theta). Given theta, fixed effects, their covariance and the BLUPs are exact (to the CG
    tolerance); conditional SDs use the estimated diagonal of the inverse.
    """

    iterative = True
    n_probes = 24

    def __init__(self, y, X, codes, nlev, terms, structure=None, seed=20260101):
        super().__init__(y, X, codes, nlev, terms, structure)
        s = self.s
        rng = np.random.default_rng(seed)
        self.Z = rng.choice([-1.0, 1.0], size=(s.qc, self.n_probes))
        self.cg_total = 0

    def _pattern(self):
        """Fixed sparsity pattern of the Schur complement: contributions -> CSR slots."""
        s, d = self.s, self.d
        g = s.Gcc.tocoo()
        q = s.qc
        rx_r = np.repeat(np.arange(q), d - q)
        rx_c = np.tile(np.arange(q, d), q)
        xx_r = np.repeat(np.arange(q, d), d - q)
        xx_c = np.tile(np.arange(q, d), d - q)
        rows = np.concatenate([g.row, np.arange(q), s.scatter_rows, rx_r, rx_c, xx_r])
        cols = np.concatenate([g.col, np.arange(q), s.scatter_cols, rx_c, rx_r, xx_c])
        keep = (rows < d) & (cols < d)
        key = rows[keep].astype(np.int64) * d + cols[keep]
        uniq, slot = np.unique(key, return_inverse=True)
        indptr = np.searchsorted(uniq // d, np.arange(d + 1)).astype(np.int64)
        self._pat = (g.row, g.col, g.data, keep, slot, len(uniq), uniq % d, indptr)

    def schur(self, theta):
        s = self.s
        if not hasattr(self, "_pat"):
            self._pattern()
        grow, gcol, gdata, keep, slot, nnz, indices, indptr = self._pat
        Linv, B, W, ld_e, lam_C = self.blocks(theta)
        rr, RX, XX = _schur_products(s, W)
        vals = np.concatenate([gdata * lam_C[grow] * lam_C[gcol], np.ones(s.qc), -rr,
                               -RX.ravel(), -RX.ravel(), -XX.ravel()])
        data = np.bincount(slot, weights=vals[keep], minlength=nnz)
        S = sp.csr_matrix((data, indices, indptr), shape=(self.d, self.d))
        return Linv, B, W, S

    def evaluate(self, theta, with_fixed=True):
        s = self.s
        theta = np.asarray(theta, dtype=float)
        self.n_eval += 1
        Linv, B, W, S = self.schur(theta)
        q, p = s.qc, s.p
        Srr = S[:q, :q].tocsr()
        Srx = S[:q, q:q + p].toarray()
        sry = S[:q, q + p].toarray().ravel()
        Sxx = S[q:q + p, q:q + p].toarray()
        sxy = S[q:q + p, q + p].toarray().ravel()
        syy = float(S[q + p, q + p])
        Dinv = 1.0 / Srr.diagonal()
        rhs = np.column_stack([Srx, sry, self.Z])
        Y, its = _block_pcg(lambda v: Srr @ v, rhs, Dinv)
        self.cg_total += its
        Yx, Yy, Xp = Y[:, :p], Y[:, p], Y[:, p + 1:]
        C = Sxx - Srx.T @ Yx
        try:
            Cinv = np.linalg.inv(C)
            beta = np.linalg.solve(C, sxy - Srx.T @ Yy)
        except np.linalg.LinAlgError:
            raise ModelError("the fixed effects are not identifiable (collinear design)") from None
        uc = Yy - Yx @ beta
        r2 = syy - sry @ uc - sxy @ beta
        Xt = Xp - Dinv[:, None] * self.Z
        dhat = Dinv + (Xt * self.Z).mean(axis=1)
        dhat = np.maximum(dhat, Dinv)
        return _IterState(theta, Linv, W, B, np.concatenate([uc, beta]), float(r2), Cinv, Yx,
                          dhat, Xt, Dinv, its)

    def solve(self, st):
        s = self.s
        x = st.x
        return _random_effects(s, st, x, self.d), x[s.qc:]

    def _phi(self, st, with_fixed):
        """Rows of Phi (S'^-1 = blockdiag(S_rr^-1, 0) + Phi C^-1 Phi') padded with a zero row."""
        s = self.s
        if not with_fixed:
            return np.zeros((s.qc + s.p + 1, s.p))
        return np.vstack([st.Yx, -np.eye(s.p), np.zeros((1, s.p))])

    def traces(self, st, with_fixed):
        """tr((M^-1)_kk) per term (REML: with the fixed block; ML: A^-1)."""
        s = self.s
        k = s.qc + s.p
        V = st.Linv.transpose(0, 2, 1) @ st.W[:, :, :-1]  # (G, m, kc-1)
        cols = np.where(s.cidx[:, :-1] >= k, k, s.cidx[:, :-1])
        Vr = V[:, :, :s.kr]
        cr = cols[:, :s.kr]
        Dpad = np.append(st.Dinv, 0.0)
        diag_e = (st.Linv * st.Linv).sum(axis=1)
        diag_e += (Vr * Vr * Dpad[np.minimum(cr, s.qc)][:, None, :]).sum(axis=2)
        Xt = np.vstack([st.Xt, np.zeros((1, st.Xt.shape[1]))])
        Zp = np.vstack([self.Z, np.zeros((1, self.Z.shape[1]))])
        crr = np.minimum(cr, s.qc)
        VX = Vr @ Xt[crr]
        VZ = Vr @ Zp[crr]
        diag_e += (VX * VZ).mean(axis=2)
        phi = self._phi(st, with_fixed)
        U = V @ phi[cols]  # (G, m, p)
        diag_e += ((U @ st.Cinv) * U).sum(axis=2) if with_fixed else 0.0
        out = _levels_by_term(s, diag_e)
        low = ((st.Yx @ st.Cinv) * st.Yx).sum(axis=1) if with_fixed else 0.0
        dS = st.dhat + low
        for c in s.c_terms:
            out[c] = dS[np.flatnonzero(s.c_term_of == c)]
        return out

    def score(self, st, reml):
        """Derivatives of the deviance with respect to psi = theta^2."""
        s = self.s
        u, beta = self.solve(st)
        res, _ = self.residuals(u, beta, st.theta)
        df = s.n - s.p if reml else s.n
        tr = self.traces(st, with_fixed=reml)
        h = np.zeros(len(st.theta))
        for k, th in enumerate(st.theta):
            zr = np.bincount(self.codes[k], weights=res, minlength=int(s.nlev[k]))
            h[k] = (s.nlev[k] - tr[k].sum()) / th**2 - df * (zr @ zr) / st.r2
        return h

    def combination_pieces(self, st):
        s = self.s
        k = s.qc + s.p
        V = st.Linv.transpose(0, 2, 1) @ st.W[:, :, :-1]
        cols = np.where(s.cidx[:, :-1] >= k, k, s.cidx[:, :-1])
        phi = self._phi(st, True)
        dpad = np.concatenate([st.dhat, np.zeros(s.p + 1)])

        def local_q(cb):
            F = phi[cb]
            Q = (F @ st.Cinv) @ F.transpose(0, 2, 1)
            idx = np.arange(cb.shape[1])
            Q[:, idx, idx] += dpad[cb]
            return Q

        return V, cols, local_q, k


def _pilot_subset(eng: _Engine, max_crossed: int, seed: int = 7) -> np.ndarray:
    """Observations of a connected cluster: blocks and crossed levels grown breadth-first.

    The exact dense fit on this cluster gives the iterative solver a starting point close to
    the optimum (raters who rate several ratees of the cluster keep all terms identified).
    """
    s = eng.s
    block = eng.codes[s.block_term]
    c0 = eng.codes[s.c_terms[0]]
    n_c = int(s.nlev[s.c_terms[0]])
    rng = np.random.default_rng(seed)
    graph = sp.csr_matrix((np.ones(len(block)), (block, c0)), shape=(s.G, n_c))
    graph.data[:] = 1.0
    graph_t = graph.T.tocsr()
    in_c = np.zeros(n_c, dtype=bool)
    in_b = np.zeros(s.G, dtype=bool)
    frontier = np.array([rng.integers(s.G)])
    in_b[frontier] = True
    while in_c.sum() < max_crossed and len(frontier):
        new_c = np.unique(graph[frontier].indices)
        new_c = new_c[~in_c[new_c]]
        room = max_crossed - int(in_c.sum())
        new_c = new_c[:room]
        in_c[new_c] = True
        new_b = np.unique(graph_t[new_c].indices)
        new_b = new_b[~in_b[new_b]]
        in_b[new_b] = True
        frontier = new_b
    return in_b[block] & in_c[c0]


def _optimise_iterative(eng: _IterEngine, reml: bool, k: int, theta_start, tol=2e-4):
    """Quasi-Newton root of the score equations in eta = log(theta^2), from a pilot fit."""
    floor = np.log(1e-4)  # theta = 0.01: below it the score equations lose precision
    if theta_start is None:
        mask = _pilot_subset(eng, PILOT)
        pilot = None
        if _pilot_ok(eng, mask):
            sub = [np.unique(c[mask], return_inverse=True)[1] for c in eng.codes]
            pilot = _Engine(eng.y[mask], eng.X[mask], sub, [int(c.max()) + 1 for c in sub],
                            eng.s.terms)
        if pilot is not None:
            theta0, _, _ = _optimise(pilot, reml, k, None, ftol=1e-7)
        else:
            theta0 = np.ones(k)
    else:
        theta0 = np.asarray(theta_start, float)
    eta = np.log(np.maximum(theta0, 0.05) ** 2)

    def score(e):
        psi = np.exp(e)
        st = eng.evaluate(np.sqrt(psi), with_fixed=reml)
        if eng.progress is not None:
            eng.progress(eng.n_eval, np.sqrt(psi), "iterative")
        return eng.score(st, reml) * psi, st  # derivative with respect to eta

    h, st = score(eta)
    # A forward-difference Jacobian on the full data (a pilot-based one scaled up by the
    # number of observations proved unreliable on large organisations).
    J = np.zeros((k, k))
    for j in range(k):
        trial = eta.copy()
        trial[j] += 1e-3
        J[:, j] = (score(trial)[0] - h) / 1e-3
    free = np.ones(k, dtype=bool)
    converged = False
    for _ in range(40):
        idx = np.flatnonzero(free)
        delta = np.zeros(k)
        try:
            delta[idx] = -np.linalg.solve(J[np.ix_(idx, idx)], h[idx])
        except np.linalg.LinAlgError:
            break
        delta = np.clip(delta, -1.5, 1.5)
        new = np.maximum(eta + delta, floor)
        h_new, st_new = score(new)
        step, dh = new - eta, h_new - h
        if step @ step > 0:
            J += np.outer(dh - J @ step, step) / (step @ step)
        eta, h, st = new, h_new, st_new
        free = ~((eta <= floor + 1e-9) & (h > 0))
        if np.all(np.abs(step) <= tol):
            converged = True
            break
    theta = np.sqrt(np.exp(eta))
    theta[eta <= floor + 1e-9] = 0.0
    if (theta == 0).any():
        st = eng.evaluate(theta, with_fixed=reml)
    return theta, converged, st


def _pilot_ok(eng, mask) -> bool:
    if mask.sum() < 10 * (eng.s.p + len(eng.codes)):
        return False
    if _rank_deficient(eng.X[mask]):
        return False
    return all(len(np.unique(c[mask])) >= 2 for c in eng.codes)


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MixedResult:
    """A fitted linear mixed model with crossed random intercepts.

    Attributes
    ----------
    fe_params, fe_se : Series
        Fixed-effect estimates and standard errors (``sigma^2 (R_X'R_X)^-1``, as lme4's vcov).
    fe_cov : DataFrame
        Covariance matrix of the fixed effects.
    variance_components : Series
        Variance of each random term (in the given order) and ``"residual"``.
    theta : Series
        Relative standard deviations (random SD / residual SD), the optimised parameters.
    reml_criterion : float
        ``-2 *`` REML log-likelihood at the estimate when ``method="REML"`` (lme4's REMLcrit),
        otherwise ``-2 *`` log-likelihood.
    loglik : float
        Log-likelihood (restricted for REML).
    nobs : int
    n_levels : dict
        Term -> number of levels.
    blups : dict of DataFrame
        Term -> DataFrame indexed by level with ``estimate`` (conditional mode) and ``se``
        (conditional SD, as lme4's ``ranef(condVar=TRUE)``: fixed effects held at their
        estimates).
    fitted, resid : ndarray
    converged : bool
    n_iter : int
        Number of criterion evaluations.
    method : {"REML", "ML"}
    """

    fe_params: pd.Series
    fe_se: pd.Series
    fe_cov: pd.DataFrame
    variance_components: pd.Series
    theta: pd.Series
    reml_criterion: float
    loglik: float
    nobs: int
    n_levels: dict
    blups: dict
    fitted: np.ndarray
    resid: np.ndarray
    converged: bool
    n_iter: int
    method: str
    response: str
    seconds: float
    _engine: object = field(repr=False, compare=False, default=None)
    _state: object = field(repr=False, compare=False, default=None)

    @property
    def params(self) -> pd.Series:
        """Fixed effects followed by the variance components (``var(term)``)."""
        vc = self.variance_components.rename(lambda k: f"var({k})")
        return pd.concat([self.fe_params, vc])

    @property
    def scale(self) -> float:
        """Residual variance."""
        return float(self.variance_components["residual"])

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald confidence intervals of the fixed effects (normal quantiles, as lme4's Wald)."""
        if not 0 < alpha < 1:
            raise ValueError(f"alpha={alpha}: must be between 0 and 1")
        z = stats.norm.ppf(1 - alpha / 2)
        return pd.DataFrame({"ci_low": self.fe_params - z * self.fe_se,
                             "ci_high": self.fe_params + z * self.fe_se})

    def to_frame(self, alpha: float = 0.05) -> pd.DataFrame:
        """Fixed effects as a tidy table: term, estimate, se, ci_low, ci_high, p_value."""
        ci = self.conf_int(alpha)
        z = self.fe_params / self.fe_se
        return pd.DataFrame({
            "term": self.fe_params.index,
            "estimate": self.fe_params.to_numpy(),
            "se": self.fe_se.to_numpy(),
            "ci_low": ci["ci_low"].to_numpy(),
            "ci_high": ci["ci_high"].to_numpy(),
            "p_value": 2 * stats.norm.sf(np.abs(z.to_numpy())),
        })

    def variance_frame(self) -> pd.DataFrame:
        vc = self.variance_components
        return pd.DataFrame({"component": vc.index, "variance": vc.to_numpy(),
                             "sd": np.sqrt(vc.to_numpy()),
                             "n_levels": [self.n_levels.get(k, self.nobs) for k in vc.index]})

    def summary(self) -> str:
        crit = "REML criterion" if self.method == "REML" else "-2 log-likelihood"
        lines = [
            f"Linear mixed model fit by {self.method}: {self.response}",
            f"Observations: {self.nobs}   {crit}: {self.reml_criterion:.4f}   "
            f"converged: {self.converged} ({self.n_iter} evaluations, {self.seconds:.2f} s)",
            "",
            "Random effects:",
            self.variance_frame().to_string(index=False),
            "",
            "Fixed effects:",
            self.to_frame().to_string(index=False),
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        head = (f"<p><b>Linear mixed model ({self.method})</b>: {self.response}, "
                f"{self.nobs} observations, criterion {self.reml_criterion:.4f}</p>")
        return (head + "<p>Random effects</p>" + self.variance_frame().to_html(index=False)
                + "<p>Fixed effects</p>" + self.to_frame().to_html(index=False))

    # -- prediction error variance of linear combinations ----------------------------------
    def _combination_variance(self, fixed_rows: np.ndarray, random: list) -> np.ndarray:
        """Conditional variance of ``c'beta + sum of BLUPs`` minus the true random effects.

        ``fixed_rows`` is (n_combo, p); ``random`` is a list of (term name, level codes array).
        Levels of block-eliminated terms must sit in the same block within a combination.
        Includes the uncertainty of the fixed effects (full inverse of the REML system), in
        units of the response squared.
        """
        eng, st = self._engine, self._state
        s = eng.s
        V, cols, local_q, _ = eng.combination_pieces(st)
        fixed_rows = np.asarray(fixed_rows, dtype=float)
        n_combo = fixed_rows.shape[0]
        blocks = None
        le = np.zeros((n_combo, s.m))
        extra_idx, extra_coef = [], []
        for name, levels in random:
            term = s.terms.index(name)
            levels = np.asarray(levels, dtype=np.int64)
            if term in s.c_terms:
                rows = np.flatnonzero(s.c_term_of == term)
                extra_idx.append(rows[levels])
                extra_coef.append(np.full(n_combo, st.theta[term]))
                continue
            blk, loc = s.level_pos[term]
            b, pos = blk[levels], loc[levels]
            if blocks is None:
                blocks = b
            elif not np.array_equal(blocks, b):
                raise ModelError("combined random levels must belong to the same block")
            le[np.arange(n_combo), pos] += st.theta[term]
        if blocks is None:
            blocks = np.zeros(n_combo, dtype=np.int64)
        Linv = st.Linv[blocks]
        t1 = np.einsum("cjm,cm->cj", Linv, le)
        var = (t1**2).sum(axis=1)
        w = -np.einsum("cmk,cm->ck", V[blocks], le)
        w[:, s.kr:s.kr + s.p] += fixed_rows
        cb = cols[blocks]
        if extra_idx:
            cb = np.column_stack([cb, *extra_idx])
            w = np.column_stack([w, *extra_coef])
        Q = local_q(cb)
        var += np.einsum("ck,ckl,cl->c", w, Q, w)
        return var * self.scale


def _rank_deficient(X: np.ndarray) -> bool:
    """Collinear columns, judged on the scaled cross-product (cheap for tall designs)."""
    xtx = X.T @ X
    scale = np.sqrt(np.maximum(np.diagonal(xtx), 1e-300))
    if (np.diagonal(xtx) == 0).any():
        return True
    eig = np.linalg.eigvalsh(xtx / np.outer(scale, scale))
    return bool(eig.min() < 1e-10 * eig.max())


def _check_inputs(data, response, fixed, random, method, solver):
    if not isinstance(data, pd.DataFrame):
        raise ModelError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    if method not in METHODS:
        raise ModelError(f"method={method!r}: expected one of {', '.join(METHODS)}")
    if solver not in SOLVERS:
        raise ModelError(f"solver={solver!r}: expected one of {', '.join(SOLVERS)}")
    if response not in data:
        raise ModelError(f"response column {response!r} not found in the data")
    if isinstance(fixed, str) or isinstance(random, str):
        raise ModelError("fixed and random must be lists of column names or terms")
    if not random:
        raise ModelError("at least one random term is needed")
    if len(set(random)) != len(random):
        raise ModelError(f"random terms repeat: {list(random)}")


def fit_mixed(
    data: pd.DataFrame,
    *,
    response: str = "y",
    fixed=(),
    random=(),
    method: str = "REML",
    fixed_design: pd.DataFrame | None = None,
    theta_start=None,
    n_threads: int | None = 1,
    solver: str = "auto",
    progress=None,
) -> MixedResult:
    """Fit a linear mixed model with crossed random intercepts by REML (default) or ML.

    Parameters
    ----------
    data : DataFrame
        One row per observation.
    response : str
        Column with the outcome.
    fixed : list of str
        Fixed-effect columns (intercept always included); see :func:`design_matrix`.
    random : list of str
        Random-intercept terms: a column, or an interaction ``"a:b"``.
    method : {"REML", "ML"}
    fixed_design : DataFrame, optional
        A ready fixed-effects design (rows aligned with ``data``) used instead of ``fixed``.
    theta_start : sequence of float, optional
        Starting relative SDs (default 1 per term, as lme4).
    solver : {"auto", "dense", "iterative"}
        ``"dense"``: exact profiled REML with a dense Schur complement (crossed terms up to
        about 10,000 levels). ``"iterative"``: conjugate gradients with stochastic traces for
        large crossed terms (conditional SDs approximate; criterion NaN above 6,000 crossed
        levels). ``"auto"``
        (default) picks dense when the crossed terms (those not eliminated block-wise) have
        at most 1,500 levels.
    progress : callable, optional
        Called after every evaluation as ``progress(n_evaluations, theta, solver)`` (the CLI
        prints it for long fits).
    n_threads : int or None
        BLAS threads during the fit (default 1: multithreaded BLAS slows down badly on a
        shared machine; None leaves the library default).

    Returns
    -------
    MixedResult

    Raises
    ------
    ModelError
        Missing or non-finite values, a term with one level or as many levels as observations,
        constant response, collinear fixed effects, too few observations.

    Notes
    -----
    See the module docstring for the criterion, the algorithm and the references. Agreement with
    lme4 on committed fixtures is 1e-4 (relative) in fixed effects and variances.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> df = pd.DataFrame({"g": rng.integers(0, 30, 300), "x": rng.normal(size=300)})
    >>> df["y"] = 1 + 0.5 * df["x"] + rng.normal(size=30)[df["g"]] + rng.normal(size=300)
    >>> res = fit_mixed(df, response="y", fixed=["x"], random=["g"])
    >>> bool(abs(res.fe_params["x"] - 0.5) < 3 * res.fe_se["x"])
    True
    """
    started = time.perf_counter()
    random = list(random)
    fixed = list(fixed)
    _check_inputs(data, response, fixed, random, method, solver)
    yv = pd.to_numeric(data[response], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(yv).all():
        bad = int((~np.isfinite(yv)).sum())
        raise ModelError(f"response {response!r} has {bad} missing or non-finite value(s)")
    if fixed_design is not None:
        Xf = fixed_design.astype(float)
    else:
        Xf = design_matrix(data, fixed)
    X = Xf.to_numpy(dtype=float)
    if not np.isfinite(X).all():
        raise ModelError("the fixed effects have missing or non-finite values")
    n, p = X.shape
    if np.ptp(yv) == 0:
        raise ModelError(f"response {response!r} is constant ({yv[0]}); nothing to model")
    codes, labels, nlev = [], [], []
    for term in random:
        c, lab = _term_codes(data, term)
        if len(lab) < 2:
            raise ModelError(f"random term {term!r} has a single level; it cannot be separated "
                             "from the intercept")
        if len(lab) >= n:
            raise ModelError(f"random term {term!r} has {len(lab)} levels for {n} observations; "
                             "it cannot be separated from the residual")
        codes.append(c)
        labels.append(lab)
        nlev.append(len(lab))
    if n <= p + len(random):
        raise ModelError(f"{n} observations are too few for {p} fixed effects and "
                         f"{len(random)} variance components")
    if _rank_deficient(X):
        raise ModelError(f"the fixed-effects design ({', '.join(Xf.columns)}) is rank deficient: "
                         "some columns are collinear or a level never occurs")
    reml = method == "REML"
    # Multithreaded BLAS spins badly on a busy machine; the work is mostly batched small blocks.
    with threadpool_limits(limits=n_threads, user_api="blas"):
        structure = _build_structure(yv, X, codes, nlev, random)
        if solver == "auto":
            solver = "iterative" if structure.qc > DENSE_AUTO else "dense"
        if solver == "dense":
            eng = _Engine(yv, X, codes, nlev, random, structure)
            eng.progress = progress
            theta, converged, st = _optimise(eng, reml, len(random), theta_start)
        else:
            eng = _IterEngine(yv, X, codes, nlev, random, structure)
            eng.progress = progress
            theta, converged, st = _optimise_iterative(eng, reml, len(random), theta_start)
        return _results(eng, st, theta, reml, converged, data, response, Xf, random, labels,
                        time.perf_counter() - started)


def _optimise(eng: _Engine, reml: bool, k: int, theta_start, ftol: float = 1e-12):
    cache = {}

    def evaluate(theta):
        key = tuple(np.round(theta, 14))
        if key not in cache:
            st = eng.factor(np.maximum(theta, 0.0))
            dev = eng.deviance(st, reml)
            if eng.progress is not None:
                eng.progress(eng.n_eval, np.maximum(theta, 0.0), "dense")
            grad = eng.gradient(st, reml) if np.isfinite(dev) else np.zeros(k)
            cache.clear()
            cache[key] = (dev, grad, st)
        return cache[key]

    x0 = np.ones(k) if theta_start is None else np.asarray(theta_start, dtype=float)
    if x0.shape != (k,) or not np.isfinite(x0).all() or (x0 < 0).any():
        raise ModelError(f"theta_start must be {k} non-negative numbers")
    bounds = [(0.0, None)] * k
    opts = {"maxiter": 500, "ftol": ftol, "gtol": 1e-6}
    fun = lambda t: evaluate(t)[0]  # noqa: E731
    jac = lambda t: evaluate(t)[1]  # noqa: E731
    res = optimize.minimize(fun, x0, jac=jac, method="L-BFGS-B", bounds=bounds, options=opts)
    theta, dev = np.maximum(res.x, 0.0), res.fun
    converged = bool(res.success)
    # A component stuck exactly on the bound: the gradient there is 0 by symmetry, so probe.
    for _ in range(2):
        moved = False
        for j in np.flatnonzero(theta < 1e-6):
            trial = theta.copy()
            trial[j] = 0.05
            if fun(trial) < dev - 1e-8:
                res = optimize.minimize(fun, trial, jac=jac, method="L-BFGS-B", bounds=bounds,
                                        options=opts)
                if res.fun < dev:
                    theta, dev, converged = np.maximum(res.x, 0.0), res.fun, bool(res.success)
                    moved = True
        if not moved:
            break
    st = evaluate(theta)[2]
    if not converged:
        # L-BFGS-B reports ABNORMAL when it cannot improve further at machine precision.
        grad = evaluate(theta)[1]
        free = theta > 1e-6
        converged = bool(np.all(np.abs(grad[free]) < 1e-3 * max(1.0, abs(dev))))
    return theta, converged, st


def _results(eng, st, theta, reml, converged, data, response, Xf, random, labels, seconds):
    s = eng.s
    u, beta = eng.solve(st)
    resid, fitted = eng.residuals(u, beta, theta)
    df = s.n - s.p if reml else s.n
    if eng.iterative:
        sigma2 = st.r2 / df
        dev = np.nan
        if s.qc <= EXACT_CRITERION:
            # One dense factorisation gives the exact criterion at the estimate (comparable
            # with lme4's REMLcrit); beyond this size it would cost more than the fit.
            dense = _Engine(eng.y, eng.X, eng.codes, eng.nlev, s.terms, s)
            dev = dense.deviance(dense.factor(theta), reml)
        fe_block = st.Cinv * sigma2
    else:
        sigma2 = st.diagLS[-1] ** 2 / df
        dev = eng.deviance(st, reml)
        Sinv, _, _ = eng.inverse_parts(st, with_fixed=True)
        fe_block = Sinv[s.qc:s.qc + s.p, s.qc:s.qc + s.p] * sigma2
    names = list(Xf.columns)
    fe_cov = pd.DataFrame(fe_block, index=names, columns=names)
    fe = pd.Series(beta, index=names, name="estimate")
    fe_se = pd.Series(np.sqrt(np.diagonal(fe_block)), index=names, name="se")
    cond = eng.traces(st, with_fixed=False)
    blups, n_levels = {}, {}
    for k, term in enumerate(random):
        est = theta[k] * u[k]
        se = np.sqrt(np.maximum(cond[k], 0.0) * sigma2) * theta[k]
        blups[term] = pd.DataFrame({"estimate": est, "se": se}, index=labels[k])
        n_levels[term] = len(labels[k])
    vc = pd.Series(np.append(sigma2 * theta**2, sigma2), index=[*random, "residual"],
                   name="variance")
    return MixedResult(
        fe_params=fe, fe_se=fe_se, fe_cov=fe_cov, variance_components=vc,
        theta=pd.Series(theta, index=random, name="theta"), reml_criterion=float(dev),
        loglik=float(-dev / 2), nobs=s.n, n_levels=n_levels, blups=blups,
        fitted=fitted, resid=resid, converged=converged, n_iter=eng.n_eval, method=
        "REML" if reml else "ML", response=response, seconds=seconds, _engine=eng, _state=st,
    )
