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
is chosen to make that complement as small as possible. ``theta`` is optimised by Newton steps
in ``log theta^2`` (started from one-way ANOVA estimates when no term is nested in another,
else from 1 as in lme4) using the analytic gradient of the profiled criterion,

    d dev / d theta_k = 2 (q_k - tr[(M^-1)_kk]) / theta_k - 2 df theta_k |Z_k' r|^2 / r^2

(``M`` the system matrix above, ``df = n - p`` for REML, and for ML ``M`` without the fixed
block and ``df = n``) and the average-information matrix (Gilmour, Thompson & Cullis 1995)
from the same factors; when a component heads for zero, L-BFGS-B (``theta >= 0``) fits
instead, and a term whose ``theta`` ends at 0 is probed away from the bound once.

Large crossed terms (``solver="iterative"``, chosen automatically above 1,500 crossed levels;
:mod:`workbench.calibration.mixed.iterative`): the dense Schur complement costs O(levels^3) per
evaluation, so instead it is kept sparse and solved by Jacobi-preconditioned block conjugate
gradients (it is >= I, so CG converges in about 20 steps). ``theta`` then solves the score
equations above, whose trace terms are an exact diagonal part plus a Hutchinson estimate of the
rest with 24 fixed Rademacher probes, by Newton steps in ``log theta^2`` with the
average-information Jacobian (one extra conjugate-gradient solve with one column per term),
started from an exact fit to a connected pilot cluster of about 400 crossed levels. The variance
components are those of the exact optimum up to the Monte Carlo error of the 24 probes: within
6e-3 (relative) on the real fixtures, the large components within 1e-4 and small ones (a term
holding under 1 % of the variance) the least accurate (measured against lme4 in
``docs/calibration.md``, tested in tests/calibration/test_lme4_reference.py). Independent pieces of work
(the blocks' factorisations, the columns of the conjugate-gradient solves, the probes) run on
the ``n_jobs`` threads asked for (:mod:`workbench.parallel`; one by default, at most
:data:`workbench.calibration.mixed.design.MAX_THREADS`).

Conditional variances (standard errors of BLUPs and of any combination such as a calibrated
score) and the criterion are computed *once, at the estimate*, by one exact factorisation
whenever the crossed terms have at most :data:`EXACT_SE` (10,000) levels, whatever solver found
``theta`` (``se_method="exact"``): they then include every covariance, between the fixed
effects and the random effects and between the crossed levels (a ratee's raters' effects),
exactly as the dense solver. The sparse factor is no cheaper here: on 360 data the raters
shared across teams fill the factor in (measured with SuperLU and a minimum-degree ordering:
25 % of the dense factor at 3,000 and 10,000 raters, slower than dense LAPACK; see
``docs/calibration.md``). Above that size (``se_method="approximate"``) the inverse of the
Schur complement is estimated on the entries the variances need (the diagonal and every pair
of crossed levels that share a block) by probing with colours of the levels' coupling graph
(random signs; extra probe sets for the most coupled levels; see
:meth:`workbench.calibration.mixed.iterative.IterativeEngine.refine`): SEs within 2 % worst case of
the exact ones on the tested designs (``docs/calibration.md``); the criterion is then exact but for ``log|S_rr|``, estimated by stochastic
Lanczos quadrature with control variates (:mod:`workbench.calibration.mixed.logdet`), whose
Monte Carlo SE is ``settings["reml_criterion_se"]`` (0 on the exact path).
``MixedResult.settings["se_method"]`` says which path ran.

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
>>> res.variance_components["component"].tolist()
['a', 'b', 'residual']
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special
from threadpoolctl import threadpool_limits

from workbench.calibration.mixed.dense import MAX_DENSE, DenseEngine, optimise_dense
from workbench.calibration.mixed.design import (
    build_structure,
    design_matrix,
    rank_deficient,
    term_codes,
    thread_map,
)
from workbench.calibration.mixed.iterative import IterativeEngine, optimise_iterative
from workbench.checks import check_alpha, check_choice
from workbench.errors import ConfigError, ModelError
from workbench.parallel import parallel_config, resolve_n_jobs
from workbench.results import Result

__all__ = ["fit_mixed", "MixedResult", "variance_table"]

METHODS = ("REML", "ML")
SOLVERS = ("auto", "dense", "iterative")
SE_METHODS = ("auto", "exact", "approximate")
DENSE_AUTO = 1500  # crossed levels above which solver="auto" fits iteratively
#: Crossed levels up to which conditional variances and the criterion are exact at the estimate.
EXACT_SE = 10000
CHUNK = 4e6  # floats per temporary array when working through combinations in chunks


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


def variance_table(variances: dict, n_levels: dict) -> pd.DataFrame:
    """The one variance-components table: component, variance, sd, share, n_levels.

    ``variances`` maps component -> variance (``"residual"`` last); ``share`` is of the total.

    Examples
    --------
    >>> variance_table({"ratee": 0.3, "residual": 0.7}, {"ratee": 40, "residual": 400})
      component  variance        sd  share  n_levels
    0     ratee       0.3  0.547723    0.3        40
    1  residual       0.7  0.836660    0.7       400
    """
    names = list(variances)
    values = np.array([float(variances[k]) for k in names])
    total = values.sum()
    return pd.DataFrame({
        "component": names,
        "variance": values,
        "sd": np.sqrt(values),
        "share": values / total if total > 0 else np.full(len(values), np.nan),
        "n_levels": [int(n_levels[k]) for k in names],
    })


@dataclass(frozen=True)
class MixedResult(Result):
    """A fitted linear mixed model with crossed random intercepts.

    Attributes
    ----------
    fe_params, fe_se : Series
        Fixed-effect estimates and standard errors (``sigma^2 (R_X'R_X)^-1``, as lme4's vcov).
    fe_cov : DataFrame
        Covariance matrix of the fixed effects.
    variance_components : DataFrame
        ``component`` (each random term in the given order, then ``"residual"``),
        ``variance``, ``sd``, ``share`` (of the total), ``n_levels`` (observations for the
        residual); see :func:`variance_table`.
    theta : Series
        Relative standard deviations (random SD / residual SD), the optimised parameters.
    reml_criterion : float
        ``-2 *`` REML log-likelihood at the estimate when ``method="REML"`` (lme4's REMLcrit),
        otherwise ``-2 *`` log-likelihood. Exact up to :data:`EXACT_SE` crossed levels;
        above, estimated with the Monte Carlo SE ``settings["reml_criterion_se"]``.
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
    settings : dict
        ``method``, ``solver`` (the one that found theta), ``se_method`` ("exact" or
        "approximate": how conditional variances were computed), ``reml_criterion_se``
        (Monte Carlo SE of the criterion, 0 when exact), ``response``, ``random``.
    """

    title = "Linear mixed model"

    fe_params: pd.Series
    fe_se: pd.Series
    fe_cov: pd.DataFrame
    variance_components: pd.DataFrame
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
    settings: dict = field(default_factory=dict)
    _engine: object = field(repr=False, compare=False, default=None)
    _state: object = field(repr=False, compare=False, default=None)

    @property
    def params(self) -> pd.Series:
        """Fixed effects followed by the variance components (``var(term)``)."""
        vc = self.variance_components
        var = pd.Series(vc["variance"].to_numpy(),
                        index=[f"var({k})" for k in vc["component"]])
        return pd.concat([self.fe_params, var])

    @property
    def variances(self) -> pd.Series:
        """Variance of each component, indexed by component name."""
        vc = self.variance_components
        return pd.Series(vc["variance"].to_numpy(), index=vc["component"].to_numpy(),
                         name="variance")

    @property
    def scale(self) -> float:
        """Residual variance."""
        return float(self.variances["residual"])

    def conf_int(self, alpha: float = 0.05) -> pd.DataFrame:
        """Wald confidence intervals of the fixed effects (normal quantiles, as lme4's Wald)."""
        alpha = check_alpha(alpha)
        z = special.ndtri(1 - alpha / 2)
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
            "p_value": 2 * special.ndtr(-np.abs(z.to_numpy())),
        })

    def _sections(self) -> list:
        crit = "REML criterion" if self.method == "REML" else "-2 log-likelihood"
        crit_se = self.settings.get("reml_criterion_se", 0.0)
        shown = f"{self.reml_criterion:.4f}" + (f" (Monte Carlo SE {crit_se:.2f})" if crit_se
                                                 else "")
        head = (f"Fit by {self.method}: {self.response}, {self.nobs} observations; {crit} "
                f"{shown}; converged: {self.converged} ({self.n_iter} "
                f"evaluations, {self.seconds:.2f} s)")
        return [("", head), ("Random effects", self.variance_components),
                ("Fixed effects", self.to_frame())]

    def _files(self) -> dict:
        return {"fixed_effects.csv": self.to_frame(),
                "variance_components.csv": self.variance_components}

    def _release(self) -> None:
        """Drop the engine's per-block arrays (the largest memory of a fit) once the
        combinations needed have been computed; :meth:`_combination_variance` is then no
        longer available."""
        object.__setattr__(self, "_engine", None)
        object.__setattr__(self, "_state", None)

    # -- prediction error variance of linear combinations ----------------------------------
    def _combination_variance(self, fixed_rows: np.ndarray, random: list) -> np.ndarray:
        """Conditional variance of ``c'beta + sum of BLUPs`` minus the true random effects.

        ``fixed_rows`` is (n_combo, p); ``random`` is a list of (term name, level codes array).
        Levels of block-eliminated terms must sit in the same block within a combination.
        Includes the uncertainty of the fixed effects (full inverse of the REML system), in
        units of the response squared.
        """
        eng, st = self._engine, self._state
        if eng is None:
            raise ModelError("the fit's engine was released; combinations are computed by "
                             "calibrate_ratings before it releases it")
        s = eng.s
        cols, local_q, _ = eng.combination_pieces(st)
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
        extra_idx = np.column_stack(extra_idx) if extra_idx else None
        extra_coef = np.column_stack(extra_coef) if extra_coef else None
        # Combinations in chunks, ordered by the crossed slots their block uses and then by
        # block: each chunk trims the padded slots, and combinations of one block (a person's
        # skills) share the block's sub-inverse, computed once per chunk.
        d = s.qc + s.p + 1
        used = (s.cidx[:, :s.kr] < d).sum(axis=1)
        order = np.lexsort((blocks, used[blocks]))
        var = np.zeros(n_combo)
        step = max(1, int(CHUNK // (s.m * cols.shape[1] + cols.shape[1] ** 2)))

        def chunk(lo):  # writes only its own combinations' entries of var
            idx = order[lo:lo + step]
            b = blocks[idx]
            keep = np.concatenate([np.arange(int(used[b].max())),
                                   np.arange(s.kr, cols.shape[1])])
            Linv = st.Linv[b]
            t1 = np.einsum("cjm,cm->cj", Linv, le[idx])
            v = (t1**2).sum(axis=1)
            # w = -V' le with V = Linv' W: the block's coupling to the Schur unknowns.
            V = Linv.transpose(0, 2, 1) @ st.W[b][:, :, keep]
            w = -np.einsum("cmk,cm->ck", V, le[idx])
            nk = len(keep) - s.p
            w[:, nk:nk + s.p] += fixed_rows[idx]
            if extra_idx is None:
                ub, inv = np.unique(b, return_inverse=True)
                Q = local_q(cols[ub][:, keep])[inv]
            else:
                w = np.column_stack([w, extra_coef[idx]])
                Q = local_q(np.column_stack([cols[b][:, keep], extra_idx[idx]]))
            var[idx] = v + np.einsum("ck,ckl,cl->c", w, Q, w)

        thread_map(chunk, range(0, n_combo, step))
        return var * self.scale



def _check_inputs(data, response, fixed, random, method, solver, se_method):
    check_choice("method", method, METHODS)
    check_choice("solver", solver, SOLVERS)
    check_choice("se_method", se_method, SE_METHODS)
    if not isinstance(data, pd.DataFrame):
        raise ConfigError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    if response not in data:
        raise ConfigError(f"response column {response!r} not found in the data")
    if isinstance(fixed, str) or isinstance(random, str):
        raise ConfigError("fixed and random must be lists of column names or terms")
    if not random:
        raise ModelError("at least one random term is needed")
    if len(set(random)) != len(random):
        raise ConfigError(f"random terms repeat: {list(random)}")


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
    se_method: str = "auto",
    progress=None,
    n_jobs: int | None = None,
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
        Starting relative SDs (default: one-way ANOVA estimates when no term is nested in
        another, else 1 per term as lme4; the optimum does not depend on it).
    solver : {"auto", "dense", "iterative"}
        ``"dense"``: exact profiled REML with a dense Schur complement (crossed terms up to
        about 10,000 levels). ``"iterative"``: conjugate gradients with stochastic traces for
        large crossed terms. ``"auto"``
        (default) picks dense when the crossed terms (those not eliminated block-wise) have
        at most 1,500 levels.
    se_method : {"auto", "exact", "approximate"}
        How conditional variances (BLUP SEs and :meth:`MixedResult._combination_variance`)
        are computed at the estimate: ``"exact"`` by one dense factorisation (every
        covariance; crossed terms up to 16,000 levels), ``"approximate"`` by coloured probes
        (see the module docstring). ``"auto"`` (default): exact up to
        :data:`EXACT_SE` crossed levels.
    progress : callable, optional
        Called after every evaluation as ``progress(n_evaluations, theta, solver)`` (the CLI
        prints it for long fits).
    n_threads : int or None
        BLAS threads during the fit (default 1: multithreaded BLAS slows down badly on a
        shared machine; None leaves the library default).
    n_jobs : int or None
        Threads for the engine's independent pieces of work (at most
        :data:`~workbench.calibration.mixed.design.MAX_THREADS`), with the meaning of
        :mod:`workbench.parallel`: None is one unless inside ``parallel_config``, -1 every
        core. The estimates do not depend on it beyond the solvers' tolerances.

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
    workers = resolve_n_jobs(n_jobs)
    random = list(random)
    fixed = list(fixed)
    _check_inputs(data, response, fixed, random, method, solver, se_method)
    yv = pd.to_numeric(data[response], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(yv).all():
        bad = int((~np.isfinite(yv)).sum())
        raise ModelError(f"response {response!r} has {bad} missing or non-finite value(s)")
    if fixed_design is not None:
        Xf = fixed_design.astype(float)
    else:
        Xf = design_matrix(data, fixed)
    X = Xf.to_numpy(dtype=float)
    Xf = Xf.iloc[:0]  # only the column names are needed from here on (n x p floats freed)
    if not np.isfinite(X).all():
        raise ModelError("the fixed effects have missing or non-finite values")
    n, p = X.shape
    if np.ptp(yv) == 0:
        raise ModelError(f"response {response!r} is constant ({yv[0]}); nothing to model")
    codes, labels, nlev = [], [], []
    for term in random:
        c, lab = term_codes(data, term)
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
    if rank_deficient(X):
        raise ModelError(f"the fixed-effects design ({', '.join(Xf.columns)}) is rank deficient: "
                         "some columns are collinear or a level never occurs")
    reml = method == "REML"
    # Multithreaded BLAS spins badly on a busy machine; the work is mostly batched small blocks.
    with threadpool_limits(limits=n_threads, user_api="blas"), parallel_config(n_jobs=workers):
        structure = build_structure(yv, X, codes, nlev, random)
        if solver == "auto":
            solver = "iterative" if structure.qc > DENSE_AUTO else "dense"
        if solver == "dense":
            eng = DenseEngine(yv, X, codes, nlev, random, structure)
            eng.progress = progress
            theta, converged, st = optimise_dense(eng, reml, len(random), theta_start)
        else:
            eng = IterativeEngine(yv, X, codes, nlev, random, structure)
            eng.progress = progress
            theta, converged, st = optimise_iterative(eng, reml, len(random), theta_start)
        eng, st, se_method = _at_estimate(eng, st, theta, reml, se_method)
        return _results(eng, st, theta, reml, converged, response, Xf, random, labels,
                        time.perf_counter() - started,
                        {"method": method, "solver": solver, "se_method": se_method,
                         "response": response, "random": list(random), "n_jobs": workers})



def _at_estimate(eng, st, theta, reml, se_method):
    """The engine and state that give the conditional variances and the criterion.

    Exact: one dense factorisation at ``theta`` (whatever solver found it). Approximate: the
    iterative engine with more probes at ``theta``.
    """
    s = eng.s
    if se_method == "auto":
        se_method = "exact" if (not eng.iterative or s.qc <= EXACT_SE) else "approximate"
    if se_method == "exact" and eng.iterative:
        if s.qc + s.p + 1 > MAX_DENSE:
            raise ConfigError(f"se_method='exact': the crossed terms have {s.qc} levels; exact "
                              f"conditional variances support at most {MAX_DENSE - s.p - 1}")
        dense = DenseEngine(eng.y, eng.X, eng.codes, eng.nlev, s.terms, s)
        dense.n_eval = eng.n_eval
        # The iterative solver's last state holds the blocks at this theta (unless a component
        # was set to 0 after it): only the dense Schur complement is new.
        same = st is not None and np.array_equal(st.theta, theta)
        blocks = (st.Linv, st.W, st.ld_e) if same else None
        return dense, dense.factor(theta, blocks=blocks), se_method
    if se_method == "approximate":
        if not eng.iterative:
            iterative = IterativeEngine(eng.y, eng.X, eng.codes, eng.nlev, s.terms, s)
            iterative.n_eval = eng.n_eval
            eng, st = iterative, iterative.evaluate(theta, with_fixed=reml)
        return eng, eng.refine(st), se_method
    return eng, st, se_method


def _results(eng, st, theta, reml, converged, response, Xf, random, labels, seconds,
             settings):
    s = eng.s
    u, beta = eng.solve(st)
    resid, fitted = eng.residuals(u, beta, theta)
    df = s.n - s.p if reml else s.n
    dev_se = 0.0
    if eng.iterative:
        sigma2 = st.r2 / df
        dev, dev_se = eng.deviance(st, reml)
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
    vc = variance_table({**dict(zip(random, sigma2 * theta**2, strict=True)),
                         "residual": sigma2}, {**n_levels, "residual": s.n})
    settings = {**settings, "reml_criterion_se": float(dev_se)}
    return MixedResult(
        fe_params=fe, fe_se=fe_se, fe_cov=fe_cov, variance_components=vc,
        theta=pd.Series(theta, index=random, name="theta"), reml_criterion=float(dev),
        loglik=float(-dev / 2), nobs=s.n, n_levels=n_levels, blups=blups,
        fitted=fitted, resid=resid, converged=converged, n_iter=eng.n_eval, method=
        "REML" if reml else "ML", response=response, seconds=seconds, settings=settings,
        _engine=eng, _state=st,
    )
