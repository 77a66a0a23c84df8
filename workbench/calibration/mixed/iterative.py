"""The iterative engine of the mixed model for large crossed terms.

The Schur complement on the crossed terms is kept sparse and solved by Jacobi-preconditioned
block conjugate gradients; ``theta`` solves the REML (ML) score equations, whose trace terms
are an exact diagonal part plus a Hutchinson estimate of the rest with fixed Rademacher probes,
by Newton steps in ``log theta^2`` with the average-information Jacobian, started from an exact
fit to a connected pilot cluster. Given ``theta``, conditional variances are computed at the estimate: exactly by the
dense engine up to 10,000 crossed levels, above that by :meth:`IterativeEngine.refine` (probes
coloured by the coupling graph) with the criterion's log-determinant from
:mod:`workbench.calibration.mixed.logdet` (see :mod:`workbench.calibration.mixed.model`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from workbench.calibration.mixed.dense import DenseEngine, optimise_dense
from workbench.calibration.mixed.design import (
    levels_by_term,
    random_effects,
    rank_deficient,
    schur_products,
    thread_map,
    threads,
)
from workbench.calibration.mixed.logdet import logdet_slq
from workbench.errors import ModelError

try:  # scipy's kernel behind ``A @ V`` for CSR matrices, to write into a reused buffer
    from scipy.sparse._sparsetools import csr_matvecs as _csr_matvecs
except ImportError:  # pragma: no cover - another scipy layout: plain products
    _csr_matvecs = None

__all__: list[str] = []

PILOT = 400  # crossed levels in the exact pilot fit that starts the iterative solver
#: Newton step (in log theta^2) at which the pilot fit stops: its optimum differs from the whole
#: data's by the pilot's sampling error (percents), which the iterative solver's steps remove,
#: so converging it further only costs evaluations (2 of 7 at 3,000 raters).
PILOT_TOL = 1e-3
FINAL_PROBES = 256  # probes for the conditional variances at the estimate (approximate path)
CHUNK = 4e6  # floats per temporary array when working through the blocks in chunks
# Tiers of the most coupled crossed levels given their own probes: (top share by number of
# coupled levels, probes); the second tier is the levels between the two shares.
HUB_TIERS = ((0.15, 192), (0.4, 128))
REFINE_TOL = 1e-6  # relative residual of the probe solves for the conditional variances
LOGDET_PROBES = 64  # probes for log|S_rr| in the criterion (approximate path)


def _block_pcg(A, rhs, dinv, tol=1e-8, maxiter=1000):
    """Jacobi-preconditioned conjugate gradients on every column of ``rhs`` at once.

    ``A`` is a sparse CSR matrix. The columns are independent systems: with several threads
    (:func:`~workbench.calibration.mixed.design.threads`) they are split among them, each
    running its share to its own convergence. Returns the solutions and the largest number of iterations.
    """
    n_cols = rhs.shape[1]
    X = np.zeros_like(rhs)
    n_threads = threads()
    if n_cols < 2 * n_threads or rhs.size < 200_000:
        return X, _pcg_columns(A, rhs, dinv, tol, maxiter, X)
    # Contiguous column ranges: views of rhs and X, so no copies of the (large) probe sets.
    edges = np.linspace(0, n_cols, n_threads + 1).astype(int)
    parts = [slice(a, b) for a, b in zip(edges[:-1], edges[1:], strict=True) if b > a]
    its = thread_map(lambda p: _pcg_columns(A, rhs[:, p], dinv, tol, maxiter, X[:, p]),
                      parts)
    return X, max(its)


def _matmul_into(A, V, out):
    """``out[:] = A @ V`` for a CSR ``A`` and C-contiguous ``V`` and ``out``.

    scipy's ``A @ V`` returns a new zeroed array, and at 50,000 raters x 236 probes every such
    array is fresh memory the kernel must fault in (a quarter of the solver's time was system
    time); the products of a solve reuse one buffer through scipy's own kernel instead.
    """
    if _csr_matvecs is None or not (V.flags.c_contiguous and out.flags.c_contiguous):
        out[...] = A @ V
        return out
    out.fill(0.0)
    _csr_matvecs(A.shape[0], A.shape[1], V.shape[1], A.indptr, A.indices, A.data,
                 V.ravel(), out.ravel())
    return out


def _pcg_columns(A, rhs, dinv, tol, maxiter, X):
    """Conjugate gradients for the columns of ``rhs``, accumulated into ``X`` (zeros, or a
    view of the caller's solution array); returns the number of iterations."""
    R = rhs.copy()
    bnorm = np.linalg.norm(rhs, axis=0)
    bnorm[bnorm == 0] = 1.0
    limit = (tol * bnorm) ** 2
    Z = dinv[:, None] * R
    P = Z.copy()
    rz = np.einsum("ij,ij->j", R, Z)
    tmp = np.empty_like(R)
    AP = np.empty_like(R)
    for it in range(maxiter):
        _matmul_into(A, P, AP)
        pap = np.einsum("ij,ij->j", P, AP)
        alpha = np.divide(rz, pap, out=np.zeros_like(rz), where=pap > 0)
        np.multiply(P, alpha, out=tmp)
        X += tmp
        np.multiply(AP, alpha, out=tmp)
        R -= tmp
        if (np.einsum("ij,ij->j", R, R) <= limit).all():
            return it + 1
        np.multiply(R, dinv[:, None], out=Z)
        rz_new = np.einsum("ij,ij->j", R, Z)
        beta = np.divide(rz_new, rz, out=np.zeros_like(rz), where=rz > 0)
        rz = rz_new
        P *= beta
        P += Z
    return maxiter


@dataclass
class _IterState:
    theta: np.ndarray
    Linv: np.ndarray
    W: np.ndarray
    B: None  # not kept (formed on the fly where needed)
    x: np.ndarray  # [u_c, beta]
    r2: float
    Cinv: np.ndarray  # (R_X'R_X)^-1
    Yx: np.ndarray  # S_rr^-1 S_rx
    dhat: np.ndarray  # estimated diag of S_rr^-1
    Xt: np.ndarray  # S_rr^-1 Z - D^-1 Z for the probes
    Dinv: np.ndarray
    cg_iter: int
    Z: np.ndarray | None = None  # the probes behind Xt (None: the engine's fitting probes)
    ld_e: float = np.nan  # log-determinant of the block-diagonal (nested) part
    logdet_rr: float = np.nan  # estimated log|S_rr| (set by refine) and its Monte Carlo SE
    logdet_se: float = np.nan
    reps: int | None = None  # divisor of the probe sums (None: the number of probes)
    res: np.ndarray | None = None  # residuals (P y), kept when the Jacobian was computed
    jacobian: np.ndarray | None = None  # average-information matrix (in psi = theta^2)
    Srr: object = None  # the sparse S_rr, kept only while the Jacobian is formed


class IterativeEngine(DenseEngine):
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
        Linv, B, W, ld_e, lam_C = self.blocks(theta)
        del B
        self._ld_e = ld_e
        return Linv, None, W, self._schur_matrix(W, lam_C)

    def _schur_matrix(self, W, lam_C):
        """The sparse Schur complement from the blocks' ``W = L^-1 B``."""
        s = self.s
        if not hasattr(self, "_pat"):
            self._pattern()
        grow, gcol, gdata, keep, slot, nnz, indices, indptr = self._pat
        rr, RX, XX = schur_products(s, W)
        vals = np.concatenate([gdata * lam_C[grow] * lam_C[gcol], np.ones(s.qc), -rr,
                               -RX.ravel(), -RX.ravel(), -XX.ravel()])
        data = np.bincount(slot, weights=vals[keep], minlength=nnz)
        return sp.csr_matrix((data, indices, indptr), shape=(self.d, self.d))

    def evaluate(self, theta, with_fixed=True, jacobian=False):
        """The state at ``theta``; with ``jacobian=True`` also the residuals and the
        average-information Jacobian of the score (:meth:`ai_hessian`)."""
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
        Y, its = _block_pcg(Srr, rhs, Dinv)
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
        st = _IterState(theta, Linv, W, B, np.concatenate([uc, beta]), float(r2), Cinv, Yx,
                        dhat, Xt, Dinv, its, ld_e=self._ld_e)
        if jacobian:
            u, beta = self.solve(st)
            st.res = self.residuals(u, beta, theta)[0]
            st.Srr = Srr
            st.jacobian = self.ai_hessian(st, st.res, st.r2, with_fixed)
            st.Srr = None
        return st

    def solve(self, st):
        s = self.s
        x = st.x
        return random_effects(s, st, x, self.d), x[s.qc:]

    def _phi(self, st, with_fixed):
        """Rows of Phi (S'^-1 = blockdiag(S_rr^-1, 0) + Phi C^-1 Phi') padded with a zero row."""
        s = self.s
        if not with_fixed:
            return np.zeros((s.qc + s.p + 1, s.p))
        return np.vstack([st.Yx, -np.eye(s.p), np.zeros((1, s.p))])

    def traces(self, st, with_fixed):
        """tr((M^-1)_kk) per term (REML: with the fixed block; ML: A^-1).

        Worked through in chunks of blocks: the per-block products with the probes are
        (blocks x m x probes) and would otherwise dominate the peak memory at large sizes.
        """
        s = self.s
        k = s.qc + s.p
        probes = self.Z if st.Z is None else st.Z
        n_probes = probes.shape[1]
        reps = st.reps or n_probes
        Xt = np.vstack([st.Xt, np.zeros((1, n_probes))])
        Zp = np.vstack([probes, np.zeros((1, n_probes))])
        Dpad = np.append(st.Dinv, 0.0)
        phi = self._phi(st, with_fixed)
        diag_e = np.empty((s.G, s.m))
        width = max(n_probes, s.m, s.kr + s.p + 1)
        step = max(1, int(CHUNK // (s.m * width)))

        def chunk(lo):
            sl = slice(lo, lo + step)
            Linv = st.Linv[sl]
            V = Linv.transpose(0, 2, 1) @ st.W[sl, :, :-1]  # (g, m, kc-1)
            cols = s.cidx[sl, :-1]
            cols = np.where(cols >= k, k, cols)
            Vr = V[:, :, :s.kr]
            crr = np.minimum(cols[:, :s.kr], s.qc)
            de = (Linv * Linv).sum(axis=1)
            de += (Vr * Vr * Dpad[crr][:, None, :]).sum(axis=2)
            de += ((Vr @ Xt[crr]) * (Vr @ Zp[crr])).sum(axis=2) / reps
            if with_fixed:
                U = V @ phi[cols]  # (g, m, p)
                de += ((U @ st.Cinv) * U).sum(axis=2)
            diag_e[sl] = de

        thread_map(chunk, range(0, s.G, step))
        out = levels_by_term(s, diag_e)
        low = ((st.Yx @ st.Cinv) * st.Yx).sum(axis=1) if with_fixed else 0.0
        dS = st.dhat + low
        for c in s.c_terms:
            out[c] = dS[np.flatnonzero(s.c_term_of == c)]
        return out

    def _schur_quad(self, st, rc, rx, with_fixed):
        """``r' S'^-1 r`` for the columns of ``r = [rc; rx]`` (crossed; fixed) by one
        conjugate-gradient solve with ``S_rr`` (kept on the state while the Jacobian is formed)
        and the fixed effects' Schur complement."""
        sol, its = _block_pcg(st.Srr, rc, st.Dinv, tol=1e-6)
        self.cg_total += its
        quad = rc.T @ sol
        if with_fixed:
            e = rx - st.Yx.T @ rc
            quad += e.T @ st.Cinv @ e
        return quad

    def score(self, st, reml):
        """Derivatives of the deviance with respect to psi = theta^2."""
        s = self.s
        if st.res is not None:
            res = st.res
        else:
            u, beta = self.solve(st)
            res, _ = self.residuals(u, beta, st.theta)
        df = s.n - s.p if reml else s.n
        tr = self.traces(st, with_fixed=reml)
        h = np.zeros(len(st.theta))
        for k, th in enumerate(st.theta):
            zr = np.bincount(self.codes[k], weights=res, minlength=int(s.nlev[k]))
            h[k] = (s.nlev[k] - tr[k].sum()) / th**2 - df * (zr @ zr) / st.r2
        return h

    def refine(self, st, n_probes: int = FINAL_PROBES, seed: int = 20260102):
        """The state at the estimate with about ``n_probes`` fresh probes for the variances.

        Probing by colours (Tang & Saad 2012, Numer Linear Algebra Appl 19(3), with random
        signs): the crossed levels are coloured so that no two levels within two steps of
        each other in the graph of ``S_rr`` share a colour (two raters of one ratee are one
        step apart), and each probe holds random signs on the levels of one colour and zeros
        elsewhere. Then ``diag(S_rr^-1) = sum over probes of (S_rr^-1 z) * z / reps`` is
        unbiased and its error comes only from pairs of one colour at least three steps
        apart, whose entries of the inverse are small (Hutchinson's estimator with dense
        probes sums the large entries of every coupled pair); the off-diagonal entries
        between coupled levels are estimated the same way. ``reps = max(1, n_probes //
        colours)`` rounds of all colours are used (152 colours, 1 round at 50,000 raters).
        """
        s = self.s
        q = s.qc
        # The blocks of the state are at this theta already: only the sparse matrix is formed.
        th = np.append(st.theta, 0.0)
        S = self._schur_matrix(st.W, np.where(s.c_term_of >= 0, th[s.c_term_of], 1.0))
        Srr = S[:q, :q].tocsr()
        del S
        rng = np.random.default_rng(seed)
        Z, reps = _colour_probes(_greedy_colouring(Srr), n_probes, rng)
        # Each probe set is solved on its own: together they would hold several q x 472
        # conjugate-gradient arrays at once (the peak memory at 50,000 raters).
        # Tolerance: S_rr >= I, so each solution is within REFINE_TOL |z| of the exact one,
        # far below the probes' own error in the estimated entries.
        Y, its = _block_pcg(Srr, Z, st.Dinv, tol=REFINE_TOL)
        Xt = Y - st.Dinv[:, None] * Z
        del Y
        # diag(S^-1) >= 1 / S_jj for a positive definite S: the floor only removes noise.
        dhat = np.maximum(st.Dinv + (Xt * Z).sum(axis=1) / reps, st.Dinv)
        # The most coupled levels (raters of many ratees) have the largest errors: each tier
        # of them gets a second probe set coloured among the tier alone (members within two
        # steps differ), which leaves a member only the far members of its colour as error
        # terms; its estimate replaces the first one for the tier.
        degree = np.diff(Srr.indptr)
        pattern = abs(Srr)
        upper = np.inf
        for share, probes in HUB_TIERS:
            lower = np.quantile(degree, 1.0 - share)
            tier = (degree >= lower) & (degree < upper)
            upper = lower
            if not tier.any():
                continue
            colour = np.full(q, -1, dtype=np.int64)
            colour[tier] = _greedy_colouring((pattern[tier] @ pattern)[:, tier], distance=1)
            Zt, reps_t = _colour_probes(colour, probes, rng)
            Yt, its_t = _block_pcg(Srr, Zt, st.Dinv, tol=REFINE_TOL)
            its += its_t
            est = (Yt[tier] * Zt[tier]).sum(axis=1) / reps_t
            dhat[tier] = np.maximum(est, st.Dinv[tier])
            del Yt, Zt
        self.cg_total += its
        logdet, logdet_se = logdet_slq(Srr, n_probes=LOGDET_PROBES, seed=seed + 1)
        return _IterState(st.theta, st.Linv, st.W, st.B, st.x, st.r2, st.Cinv, st.Yx, dhat,
                          Xt, st.Dinv, st.cg_iter + its, Z, ld_e=st.ld_e, logdet_rr=logdet,
                          logdet_se=logdet_se, reps=reps)

    def deviance(self, st, reml: bool) -> tuple[float, float]:
        """The REML (ML) criterion at a refined state and its Monte Carlo SE.

        Everything is exact but ``log|S_rr|`` (stochastic Lanczos quadrature,
        :func:`workbench.calibration.mixed.logdet.logdet_slq`).
        """
        s = self.s
        ld = st.ld_e + st.logdet_rr
        if reml:
            df = s.n - s.p
            ld -= np.linalg.slogdet(st.Cinv)[1]
        else:
            df = s.n
        if not st.r2 > 0:
            return np.inf, 0.0
        return float(ld + df * (1.0 + np.log(2.0 * np.pi * st.r2 / df))), st.logdet_se

    def combination_pieces(self, st):
        s = self.s
        k = s.qc + s.p
        cols = np.where(s.cidx[:, :-1] >= k, k, s.cidx[:, :-1])
        phi = self._phi(st, True)
        dpad = np.concatenate([st.dhat, np.zeros(s.p + 1)])
        probes = self.Z if st.Z is None else st.Z
        n_probes = probes.shape[1]
        reps = st.reps or n_probes
        # Probe rows padded with zeros for the fixed-effect and dummy slots.
        Xt = np.vstack([st.Xt, np.zeros((s.p + 1, n_probes))])
        Zp = np.vstack([probes, np.zeros((s.p + 1, n_probes))])

        def local_q(cb):
            F = phi[cb]
            Q = (F @ st.Cinv) @ F.transpose(0, 2, 1)
            idx = np.arange(cb.shape[1])
            # Off-diagonal entries of S_rr^-1 among the crossed levels of a combination (a
            # ratee's raters): the unbiased probe estimate, symmetrised, in chunks.
            step = max(1, int(2e7 // (cb.shape[1] * n_probes)))
            for lo in range(0, len(cb), step):
                part = cb[lo:lo + step]
                off = Xt[part] @ Zp[part].transpose(0, 2, 1) / reps
                off = 0.5 * (off + off.transpose(0, 2, 1))
                off[:, idx, idx] = 0.0
                Q[lo:lo + step] += off
            Q[:, idx, idx] += dpad[cb]
            return Q

        return cols, local_q, k


def _colour_probes(colour: np.ndarray, n_probes: int, rng) -> tuple[np.ndarray, int]:
    """Probes with random signs on the levels of one colour each (about ``n_probes``).

    ``colour`` gives each level's colour, -1 for levels left out (zero in every probe).
    ``reps = max(1, n_probes // colours)`` rounds of all colours; returns (probes, reps).
    """
    q = len(colour)
    members = colour >= 0
    n_colours = int(colour.max()) + 1 if members.any() else 0
    if n_colours == 0:
        return np.zeros((q, 0)), 1
    reps = max(1, n_probes // n_colours)
    Z = np.zeros((q, n_colours * reps))
    signs = rng.choice([-1.0, 1.0], size=(int(members.sum()), reps))
    rows = np.flatnonzero(members)
    cols = colour[rows][:, None] + n_colours * np.arange(reps)[None, :]
    Z[rows[:, None], cols] = signs
    return Z, reps


def _greedy_colouring(S: sp.csr_matrix, distance: int = 2) -> np.ndarray:
    """Colours of the rows of ``S`` such that rows within ``distance`` steps in the graph of
    ``S`` (``S_ij != 0``) differ.

    Greedy, highest degree first (Welsh & Powell 1967). With ``distance=2`` the rows are
    visited in chunks whose two-step neighbourhoods (the pattern of ``S S``) are formed one
    chunk at a time, so the square is never held whole.
    """
    P = sp.csr_matrix(S, dtype=np.float32, copy=True)
    P.data[:] = 1.0
    n = P.shape[0]
    order = np.argsort(-np.diff(P.indptr), kind="stable")
    colours = np.full(n, -1, dtype=np.int64)
    step = max(1, int(2e6 // max(1.0, P.nnz / n) ** 2))
    for lo in range(0, n, step):
        rows = order[lo:lo + step]
        N = P[rows] @ P if distance == 2 else P[rows]
        N = sp.csr_matrix(N)
        indptr, indices = N.indptr, N.indices
        for k, i in enumerate(rows):
            taken = colours[indices[indptr[k]:indptr[k + 1]]]
            free = np.ones(len(taken) + 1, dtype=bool)
            free[taken[(taken >= 0) & (taken < len(free))]] = False
            colours[i] = int(np.argmax(free))
    return colours


def _pilot_subset(eng: DenseEngine, max_crossed: int, seed: int = 7) -> np.ndarray:
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


def optimise_iterative(eng: IterativeEngine, reml: bool, k: int, theta_start, tol=2e-4):
    """Newton root of the score equations in eta = log(theta^2), from a pilot fit.

    The Jacobian of each step is the average-information matrix at the current point
    (:meth:`IterativeEngine.ai_hessian`): on large data it is within O(n^-1/2) of the exact
    one, so the steps converge about quadratically from the pilot's start. The iteration
    stops when the next Newton step is below ``tol`` in every coordinate (the current point
    is then within about ``tol`` of the root), without evaluating that step.
    """
    floor = np.log(1e-4)  # theta = 0.01: below it the score equations lose precision
    if theta_start is None:
        mask = _pilot_subset(eng, PILOT)
        pilot = None
        if _pilot_ok(eng, mask):
            sub = [np.unique(c[mask], return_inverse=True)[1] for c in eng.codes]
            pilot = DenseEngine(eng.y[mask], eng.X[mask], sub, [int(c.max()) + 1 for c in sub],
                            eng.s.terms)
        if pilot is not None:
            theta0, _, _ = optimise_dense(pilot, reml, k, None, ftol=1e-7, tol=PILOT_TOL)
        else:
            theta0 = np.ones(k)
    else:
        theta0 = np.asarray(theta_start, float)
    eta = np.log(np.maximum(theta0, 0.05) ** 2)

    def score(e):
        psi = np.exp(e)
        st = eng.evaluate(np.sqrt(psi), with_fixed=reml, jacobian=True)
        if eng.progress is not None:
            eng.progress(eng.n_eval, np.sqrt(psi), "iterative")
        h = eng.score(st, reml) * psi  # derivative with respect to eta
        J = np.outer(psi, psi) * st.jacobian + np.diag(h)
        st.res = st.jacobian = None
        return h, J, st

    h, J, st = score(eta)
    converged = False
    for _ in range(40):
        free = ~((eta <= floor + 1e-9) & (h > 0))
        idx = np.flatnonzero(free)
        delta = np.zeros(k)
        try:
            delta[idx] = -np.linalg.solve(J[np.ix_(idx, idx)], h[idx])
        except np.linalg.LinAlgError:
            break
        new = np.maximum(eta + np.clip(delta, -1.5, 1.5), floor)
        if np.all(np.abs(new - eta) <= tol):
            converged = True
            break
        st = None  # the old state's block arrays are large: free them first
        h, J, st = score(new)
        eta = new
    theta = np.sqrt(np.exp(eta))
    theta[eta <= floor + 1e-9] = 0.0
    if (theta == 0).any():
        st = eng.evaluate(theta, with_fixed=reml)
    return theta, converged, st


def _pilot_ok(eng, mask) -> bool:
    if mask.sum() < 10 * (eng.s.p + len(eng.codes)):
        return False
    if rank_deficient(eng.X[mask]):
        return False
    return all(len(np.unique(c[mask])) >= 2 for c in eng.codes)


