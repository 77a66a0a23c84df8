"""The exact (dense Schur complement) engine of the mixed model and its optimisers.

For a given ``theta`` the nested family of the blocking term is factored block by block
(batched dense Cholesky) and the Schur complement on the crossed terms and the fixed effects
is factored as one dense matrix; this gives the profiled REML/ML criterion, its analytic
gradient, the solution and the full inverse needed for conditional variances. See
:mod:`workbench.calibration.mixed.model` for the model and the criterion.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla

from workbench.calibration.mixed.design import (
    build_structure,
    even_shares,
    levels_by_term,
    random_effects,
    schur_products,
    size_buckets,
    slot_buckets,
    thread_map,
)
from workbench.errors import ModelError

__all__: list[str] = []

MAX_DENSE = 16000
#: Schur rows up to which a state keeps its inverse: every size the exact engine takes. The
#: fixed effects' covariance, the BLUPs' conditional variances and the scores' variances all
#: read it; at 10,000 raters not keeping it (800 MB) meant three inversions of 1e12 flops each.
CACHE_INVERSE = MAX_DENSE
NEWTON_STEPS = 25  # Newton steps at most before L-BFGS-B takes over
NEWTON_TOL = 1e-6  # Newton step in log(theta^2) below which the fit has converged


@dataclass
class _State:
    """Factorisation at one theta."""

    theta: np.ndarray
    Linv: np.ndarray  # (G, m, m) inverse Cholesky factors of the diagonal blocks
    W: np.ndarray  # (G, m, kc)
    B: None  # not kept (as large as W; formed on the fly where needed)
    LS: np.ndarray  # (d, d) lower Cholesky factor of the Schur complement
    ld_e: float
    diagLS: np.ndarray
    # inverse_parts(with_fixed=True), kept (see CACHE_INVERSE): the last evaluation's
    # gradient, the fixed effects' covariance and the scores' variances all need it.
    inverse: tuple | None = field(default=None, repr=False)
    V: np.ndarray | None = field(default=None, repr=False)  # (G, m, kc-1) A_i^-1 B_i, once


class DenseEngine:
    """The exact REML engine: factor, criterion and gradient at each relative-SD vector ``theta``.

    Holds the response ``y``, the fixed design ``X``, each random term's level ``codes`` and the
    blocked structure of :func:`~workbench.calibration.mixed.design.build_structure`. ``factor``
    forms and Cholesky-factors the penalised system for one ``theta`` (one Schur complement per
    block of the blocking term, then the crossed part), ``deviance`` is the REML (or ML) criterion
    from that factor, ``gradient`` its analytic derivative and the conditional means and variances
    of the random effects come from the same factor. The iterative engine
    (:mod:`workbench.calibration.mixed.iterative`) shares this interface for problems too large
    to factor.
    """

    iterative = False
    progress = None

    def __init__(self, y, X, codes, nlev, terms, structure=None):
        self.y, self.X, self.codes, self.nlev = y, X, codes, np.asarray(nlev)
        self.s = structure or build_structure(y, X, codes, nlev, terms)
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
        # [Z_c X y]'[Z_c X y] as coordinates: scaled into the Schur matrix at each theta
        # without a dense copy (d x d) kept on the engine.
        gcc = s.Gcc.tocoo()
        self._gcc = (gcc.row.astype(np.int64), gcc.col.astype(np.int64), gcc.data)

    def blocks(self, theta):
        """Batched factorisation of the block-diagonal part and its coupling to the rest.

        Returns ``Linv`` (inverse Cholesky factors of the blocks ``A``; identity on padded
        positions), ``None`` (``B`` is not kept), ``W = Linv B``, ``log|A|`` and the scale
        of every Schur row. ``A`` and ``B`` are formed one size class of blocks at a time
        (padding every block to the largest size wastes cubic work, and whole ``A`` and
        ``B`` would double the peak memory at large sizes).
        """
        s = self.s
        th = np.append(theta, 0.0)  # index -1 -> 0 (padding)
        lam_e = th[s.pos_term]  # (G, m)
        lam_c = th[s.slot_term]
        lam_c[:, s.kr:] = 1.0
        if not hasattr(self, "_buckets"):
            self._buckets = size_buckets(s)
        Linv = np.empty((s.G, s.m, s.m))
        Linv[:] = np.eye(s.m)
        W = np.zeros((s.G, s.m, s.Gec.shape[2]))

        def factor_part(part):
            sel, mg = part
            le = lam_e[sel, :mg]
            A = s.Gee[sel, :mg, :mg] * le[:, :, None]  # float64 from the float32 counts
            A *= le[:, None, :]
            A[:, np.arange(mg), np.arange(mg)] += 1.0
            Lg = np.linalg.cholesky(A)
            del A
            ld = 2.0 * np.log(np.diagonal(Lg, axis1=1, axis2=2)).sum()
            Lg = np.linalg.inv(Lg)
            B = s.Gec[sel, :mg, :] * le[:, :, None]
            B *= lam_c[sel, None, :]
            Linv[sel, :mg, :mg] = Lg
            W[sel, :mg, :] = Lg @ B
            return ld

        # Each size class split among the threads (each part writes its own blocks).
        parts = [(part, mg) for idx, mg in self._buckets for part in even_shares(idx)]
        ld_e = float(sum(thread_map(factor_part, parts)))
        lam_C = np.where(s.c_term_of >= 0, th[s.c_term_of], 1.0)
        return Linv, None, W, ld_e, lam_C

    def factor(self, theta, blocks=None) -> _State:
        """The factorisation at ``theta``: the blocks' inverse factors and the Cholesky factor
        of the Schur complement (with ``y`` as its last row, see the model's docstring).

        ``blocks`` (``Linv, W, log|A|``) are the blocks of another engine's state at this same
        ``theta`` (the iterative solver's last one), reused instead of factored again.
        """
        s = self.s
        theta = np.asarray(theta, dtype=float)
        self.n_eval += 1
        if blocks is None:
            Linv, _, W, ld_e, _ = self.blocks(theta)
        else:
            Linv, W, ld_e = blocks
        th = np.append(theta, 0.0)
        lam_C = np.where(s.c_term_of >= 0, th[s.c_term_of], 1.0)
        rr, RX, XX = schur_products(s, W)
        q, d = s.qc, self.d
        # Filled in Fortran order (S is symmetric, so its transpose is the same matrix): the
        # Cholesky factorisation then works in place instead of on a copy.
        S = np.zeros((d, d), order="F")
        rows, cols, vals = self._gcc
        S[rows, cols] = vals * lam_C[rows] * lam_C[cols]
        S[np.arange(q), np.arange(q)] += 1.0
        S[s.scatter_rows, s.scatter_cols] -= rr
        S[:q, q:d] -= RX
        S[q:d, :q] -= RX.T
        S[q:d, q:d] -= XX
        try:
            LS = sla.cholesky(S, lower=True, overwrite_a=True, check_finite=False)
        except np.linalg.LinAlgError:
            raise ModelError(
                "the fixed effects are not identifiable at this point (collinear design or a "
                "perfect fit); drop a fixed effect or a term"
            ) from None
        return _State(theta, Linv, W, None, LS, ld_e, np.diagonal(LS).copy())

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
        # L11' x = l on the whole factor with a zero last entry (no copy of the L11 slice):
        # the last unknown is then 0 and the others solve L11' x = l.
        rhs = st.LS[-1].copy()
        rhs[-1] = 0.0
        x = sla.solve_triangular(st.LS, rhs, lower=True, trans="T", check_finite=False)[:-1]
        u = random_effects(s, st, x, self.d)
        beta = x[s.qc: s.qc + s.p]
        return u, beta

    def inverse_parts(self, st: _State, with_fixed: bool):
        """Inverse of the Schur block (crossed random [+ fixed]) and V_i = A_i^-1 B_i.

        Returns ``(Sinv, V, cols)``: ``cols`` gives each block's slots as rows of ``Sinv``.
        Slots without a row (padding; without the fixed block, the fixed effects' slots)
        point at row 0: their columns of ``V`` are zero (padding) or to be left out (the fixed
        slots when ``with_fixed`` is false), so the inverse needs no padded zero row and is
        LAPACK's own array, symmetrised in place.
        """
        if with_fixed and st.inverse is not None:
            return st.inverse
        s = self.s
        k = s.qc + (s.p if with_fixed else 0)
        if not k:
            Sinv = np.zeros((1, 1))
        else:
            Sinv, info = sla.lapack.dpotri(st.LS[:k, :k], lower=1)
            if info != 0:
                raise ModelError("could not invert the fitted system (singular fit)")
            _symmetric_from_lower(Sinv)
        if st.V is None:
            st.V = st.Linv.transpose(0, 2, 1) @ st.W[:, :, :-1]
        cols = np.where(s.cidx[:, :-1] < k, s.cidx[:, :-1], 0)
        if with_fixed and k <= CACHE_INVERSE:
            st.inverse = (Sinv, st.V, cols)
        return Sinv, st.V, cols

    def combination_pieces(self, st):
        """Local Schur columns (G, kc-1) and a function giving S'^-1 sub-blocks."""
        Sinv, _, cols = self.inverse_parts(st, with_fixed=True)
        return cols, (lambda cb: Sinv[cb[:, :, None], cb[:, None, :]]), Sinv.shape[0]

    def traces(self, st: _State, with_fixed: bool):
        """diag of (M^-1) for every random level, as a per-term dict, plus raw pieces.

        Without the fixed block (conditional variances with the fixed effects held) and with
        the whole inverse kept on the state, they are its diagonal less the fixed effects'
        share (:meth:`_held_fixed_traces`) instead of a second inversion.
        """
        if not with_fixed and st.inverse is not None:
            return self._held_fixed_traces(st)
        s = self.s
        Sinv, V, cols = self.inverse_parts(st, with_fixed)
        diag_e = (st.Linv * st.Linv).sum(axis=1)
        if not hasattr(self, "slot_buckets"):
            self.slot_buckets = slot_buckets(s)
        # The fixed slots (held fixed: left out without the fixed block).
        extra = np.arange(s.kr, cols.shape[1]) if with_fixed else np.arange(0)
        for idx, k in self.slot_buckets:
            # Blocks touch few crossed levels each: skip the padded slots of larger blocks.
            sel = np.concatenate([np.arange(k), extra])
            cb, Vb = cols[idx][:, sel], V[idx][:, :, sel]
            Q = Sinv[cb[:, :, None], cb[:, None, :]]
            diag_e[idx] += ((Vb @ Q) * Vb).sum(axis=2)
        out = levels_by_term(s, diag_e)
        dS = np.diagonal(Sinv)
        for c in s.c_terms:
            out[c] = dS[np.flatnonzero(s.c_term_of == c)]
        return out

    def _held_fixed_traces(self, st: _State):
        """diag of ``(M_rr)^-1`` (random block of the system alone) from the whole inverse.

        By the partitioned inverse, ``(M_rr)^-1 = (M^-1)_rr - T F^-1 T'`` with ``T =
        (M^-1)_rf`` the random levels' rows of its fixed columns and ``F = (M^-1)_ff``. A
        crossed level's row of ``T`` is a row of ``S'^-1``; a blocked level's is ``-V_i
        S'^-1[slots_i, fixed]`` (``V_i = A_i^-1 B_i``). So each level's variance loses
        ``t' F^-1 t``: a few products per block instead of a second ``O(q^3)`` inversion.
        """
        s = self.s
        q, p = s.qc, s.p
        out = self.traces(st, with_fixed=True)
        if not p:
            return out
        Sinv, V, cols = st.inverse
        fixed = Sinv[:, q:q + p]
        half = sla.cholesky(fixed[q:q + p], lower=True, check_finite=False)
        # t' F^-1 t = |L^-1 t|^2 with F = L L'
        t_e = -(V @ fixed[cols])  # (G, m, p)
        z_e = sla.solve_triangular(half, t_e.reshape(-1, p).T, lower=True, check_finite=False)
        share_e = (z_e**2).sum(axis=0).reshape(s.G, s.m)
        z_c = sla.solve_triangular(half, fixed[:q].T, lower=True, check_finite=False)
        share_c = (z_c**2).sum(axis=0)
        for term, share in levels_by_term(s, share_e).items():
            out[term] = out[term] - share
        for c in s.c_terms:
            out[c] = out[c] - share_c[np.flatnonzero(s.c_term_of[:q] == c)]
        return out

    def trace_sums(self, st: _State, with_fixed: bool) -> np.ndarray:
        """``tr[(M^-1)_kk]`` of every term: what the gradient needs, not the per-level values.

        With a single eliminated term (students rating lecturers: one level per block), the
        blocks' part ``sum_i V_i S'^-1 V_i'`` is ``<S'^-1, sum_i V_i'V_i>``: the Schur
        products of ``V`` on the scatter pattern (one pass, as in :meth:`factor`) against
        ``S'^-1`` gathered once on that pattern, instead of every block's sub-inverse
        gathered (:meth:`traces`; three times the time on InstEval). Nested families keep
        :meth:`traces` (one pass per term would cost more than the gathers).
        """
        s = self.s
        if len(s.e_terms) > 1:
            tr = self.traces(st, with_fixed)
            return np.array([tr[k].sum() for k in range(len(st.theta))])
        Sinv, V, _ = self.inverse_parts(st, with_fixed)
        q, p = s.qc, s.p
        Vy = np.zeros(V.shape[:2] + (V.shape[2] + 1,))  # an empty y column, as W has
        Vy[:, :, :-1] = V
        rr, RX, XX = schur_products(s, Vy)
        del Vy
        total = (st.Linv * st.Linv).sum() + rr @ Sinv[s.scatter_rows, s.scatter_cols]
        if with_fixed:
            total += (2.0 * (RX[:, :p] * Sinv[:q, q:q + p]).sum()
                      + (XX[:p, :p] * Sinv[q:q + p, q:q + p]).sum())
        out = np.zeros(len(st.theta))
        out[s.e_terms[0]] = total
        dS = np.diagonal(Sinv)
        for c in s.c_terms:
            out[c] = dS[np.flatnonzero(s.c_term_of == c)].sum()
        return out

    def ai_hessian(self, st, res, r2, with_fixed):
        """Average-information matrix of the profiled deviance in ``psi = theta^2``.

        With ``V = I + sum_k psi_k Z_k Z_k'`` (residual variance profiled out), ``P`` the
        REML projection (``V^-1`` for ML), ``r^2 = y'Py`` and ``w_k = Z_k Z_k' P y``, the
        second derivatives of the deviance are replaced by their average of observed and
        expected information (Gilmour, Thompson & Cullis 1995, Biometrics 51(4)):

            H_kl = df w_k'P w_l / r^2 - df (y'P Z_k Z_k' P y)(y'P Z_l Z_l' P y) / r^4

        (the second term from profiling the residual variance). ``w_k'P w_l`` is
        ``w_k'w_l - g_k' M^-1 g_l`` with ``g = [Lambda Z'w; X'w]`` and ``M`` the penalised
        system: the blocks' factors of this ``theta`` and one solve with the Schur complement
        (:meth:`_schur_quad`: triangular here, conjugate gradients in the iterative engine),
        no new factorisation. Each Newton step in ``log theta^2`` then costs no evaluations
        beyond the score itself, where a finite-difference Jacobian costs one per term.
        ``res`` is ``P y`` (the residuals) and ``r2`` is ``y'P y``.
        """
        s, codes, theta = self.s, self.codes, st.theta
        K = len(theta)
        z = [np.bincount(codes[k], weights=res, minlength=int(s.nlev[k])) for k in range(K)]
        a = np.array([zk @ zk for zk in z])
        d = self.d
        g_e = np.zeros((s.G, s.m, K))
        g_c = np.zeros((s.qc, K))
        g_x = np.zeros((s.p, K))
        ww = np.zeros((K, K))
        w = [z[k][codes[k]] for k in range(K)]
        for j in range(K):
            for k in range(j + 1):
                ww[k, j] = ww[j, k] = w[k] @ w[j]
            for m in range(K):
                zw = theta[m] * np.bincount(codes[m], weights=w[j], minlength=int(s.nlev[m]))
                if m in s.c_terms:
                    g_c[s.c_term_of[:s.qc] == m, j] = zw
                else:
                    blk, loc = s.level_pos[m]
                    g_e[blk, loc, j] = zw
            g_x[:, j] = self.X.T @ w[j]
        del w
        # Eliminate the blocks: t_i = L_i^-1 g_i, and the Schur right-hand sides.
        t = st.Linv @ g_e
        tt = np.einsum("gmk,gml->kl", t, t)
        wt = st.W[:, :, :-1].transpose(0, 2, 1) @ t  # (G, kc - 1, K)
        cols = np.minimum(s.cidx[:, :-1], d - 1).ravel()
        r = np.zeros((d, K))
        for j in range(K):
            r[:, j] = np.bincount(cols, weights=wt[:, :, j].ravel(), minlength=d)
        r = np.vstack([g_c, g_x]) - r[:d - 1]
        rc, rx = r[:s.qc], r[s.qc:]
        quad = self._schur_quad(st, rc, rx, with_fixed)
        df = s.n - s.p if with_fixed else s.n
        wpw = ww - tt - quad
        return df * wpw / r2 - df * np.outer(a, a) / r2**2

    def _schur_quad(self, st, rc, rx, with_fixed):
        """``r' S'^-1 r`` for the columns of ``r = [rc; rx]`` from the dense factor."""
        r = np.vstack([rc, rx]) if with_fixed else rc
        # Forward substitution on the whole factor: the leading rows do not see the zero rows
        # below them (no copy of the leading block).
        padded = np.zeros((self.d, r.shape[1]))
        padded[:len(r)] = r
        half = sla.solve_triangular(st.LS, padded, lower=True, check_finite=False)[:len(r)]
        return half.T @ half

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
        tr = self.trace_sums(st, with_fixed=reml)
        grad = np.zeros(len(st.theta))
        for k, th in enumerate(st.theta):
            zr = np.bincount(self.codes[k], weights=res, minlength=int(s.nlev[k]))
            g = -2.0 * df * th * (zr @ zr) / r2
            if th > 1e-6:
                g += 2.0 * (s.nlev[k] - tr[k]) / th
            grad[k] = g
        return grad




def _symmetric_from_lower(a: np.ndarray, panel: int = 128) -> np.ndarray:
    """``a`` made symmetric in place from its lower triangle (LAPACK's ``potri`` fills one
    triangle only).

    Panel by panel: each diagonal block is symmetrised and the panel below it copied across
    (ten times faster than forming the two triangles as whole new arrays at 3,000 rows).
    """
    k = a.shape[0]
    for lo in range(0, k, panel):
        hi = min(lo + panel, k)
        block = a[lo:hi, lo:hi]
        block[...] = np.tril(block) + np.tril(block, -1).T
        a[lo:hi, hi:] = a[hi:, lo:hi].T
    return a




def _newton(eng: DenseEngine, reml: bool, evaluate, x0, tol: float = NEWTON_TOL):
    """Newton steps in ``eta = log(theta^2)`` with the average-information Jacobian.

    Each step costs one evaluation (:meth:`DenseEngine.ai_hessian` reuses its factors) and
    steps are halved until the criterion does not rise. Returns ``theta`` once the next step
    is below ``tol`` in every coordinate (the gradient is then about zero: the same point
    L-BFGS-B reaches, in fewer evaluations), or None when a component heads for zero (the
    optimum may be on the bound) or a step fails: L-BFGS-B then fits from the start.
    """
    if (x0 < 1e-3).any():
        return None
    eta = np.log(x0**2)
    dev, grad, st = evaluate(x0)
    floor = np.log(1e-6)  # theta below 1e-3: left to L-BFGS-B, which handles the bound
    for _ in range(NEWTON_STEPS):
        if not np.isfinite(dev):
            return None
        theta = np.exp(eta / 2)
        psi = theta**2
        h = grad * theta / 2  # d dev / d eta
        u, beta = eng.solve(st)
        res = eng.residuals(u, beta, theta)[0]
        H = np.outer(psi, psi) * eng.ai_hessian(st, res, st.diagLS[-1] ** 2, reml)
        J = H + np.diag(h)
        try:
            if np.linalg.eigvalsh(J).min() <= 0:  # far from the optimum: scoring step
                J = H
            delta = np.clip(-np.linalg.solve(J, h), -1.5, 1.5)
        except np.linalg.LinAlgError:
            return None
        if np.abs(delta).max() <= tol:
            return theta
        for _ in range(6):
            new = eta + delta
            if new.min() < floor:
                return None
            dev_new, grad_new, st_new = evaluate(np.exp(new / 2))
            if dev_new <= dev + 1e-10 * abs(dev):
                break
            delta = delta / 2
        else:
            return None
        eta, dev, grad, st = new, dev_new, grad_new, st_new
    return None


def _moment_start(eng: DenseEngine) -> np.ndarray:
    """Start values from one-way ANOVAs of the fixed effects' residuals, term by term.

    A term's one-way estimate ``(MSB - MSW) / n0`` holds its own variance plus that of every
    term whose columns are a subset of its own (``ratee:skill`` holds ``ratee``'s,
    ``rater:ratee`` both ``rater``'s and ``ratee``'s), so those are subtracted, smallest terms
    first; crossed terms bias it only by their variance divided by the ratings per level. The
    residual variance is what the terms leave of the total. Newton then starts near the
    optimum instead of at ``theta = 1`` (4 evaluations instead of 8 on InstEval); the optimum
    itself does not depend on the start.
    """
    y, X, codes, s = eng.y, eng.X, eng.codes, eng.s
    n, p = X.shape
    beta = np.linalg.lstsq(X, y, rcond=None)[0]
    r = y - X @ beta
    rr = float(r @ r)
    total = rr / max(n - p, 1)
    oneway = np.zeros(len(codes))
    for k, c in enumerate(codes):
        J = int(s.nlev[k])
        counts = np.bincount(c, minlength=J).astype(float)
        sums = np.bincount(c, weights=r, minlength=J)
        ssb = float((sums**2 / np.maximum(counts, 1.0)).sum())
        msb = ssb / (J - 1)
        msw = (rr - ssb) / max(n - J, 1)
        n0 = (n - (counts**2).sum() / n) / (J - 1)
        oneway[k] = (msb - msw) / n0
    parts = [frozenset(term.split(":")) for term in s.terms]
    var = np.zeros(len(codes))
    for k in sorted(range(len(codes)), key=lambda k: len(parts[k])):
        inside = sum(var[u] for u in range(len(codes)) if parts[u] < parts[k])
        var[k] = max(oneway[k] - inside, 0.0)
    resid = max(total - var.sum(), 0.05 * total)
    # Floored at 0.25: a one-way estimate near 0 is often a biased small one (halo on 360
    # data), and from 0.25 Newton reaches either the optimum or the bound in a step or two.
    return np.clip(np.sqrt(var / resid), 0.25, 10.0)


def optimise_dense(eng: DenseEngine, reml: bool, k: int, theta_start, ftol: float = 1e-12,
                   tol: float = NEWTON_TOL):
    """Minimise the REML (or ML) criterion over ``theta >= 0``: Newton steps with the average
    information (:func:`_newton`, until a step is below ``tol`` in ``log theta^2``), else
    L-BFGS-B with exact gradients.

    Each ``theta`` is factored once (the criterion, the gradient and the factor are cached
    together); returns ``(theta, converged, factor at theta)``. When L-BFGS-B stops without
    improving at machine precision, the fit counts as converged if the gradient of every free
    component is negligible against the criterion.
    """
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

    if theta_start is None:
        x0 = _moment_start(eng)
    else:
        x0 = np.asarray(theta_start, dtype=float)
    if x0.shape != (k,) or not np.isfinite(x0).all() or (x0 < 0).any():
        raise ModelError(f"theta_start must be {k} non-negative numbers")
    theta = _newton(eng, reml, evaluate, x0, tol)
    if theta is not None:
        return theta, True, evaluate(theta)[2]
    from scipy import optimize  # only for this fallback (its import costs 0.2 s per process)

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


