"""The iterative solver's Newton steps: the average-information Jacobian against brute force.

The average-information (AI) matrix of the profiled deviance is computed by the engine from
its block factors and one conjugate-gradient solve; here it is recomputed from dense ``n x n``
matrices (``V``, the REML projection ``P``) on small crossed designs, and the Newton
iteration built on it must reach the exact (dense) REML optimum.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.calibration.mixed.dense import DenseEngine
from workbench.calibration.mixed.design import design_matrix, term_codes
from workbench.calibration.mixed.iterative import IterativeEngine
from workbench.calibration.mixed.model import fit_mixed
from workbench.synth.generator import generate_organisation

TERMS = ["ratee", "ratee:skill", "rater", "rater:ratee"]


def _engine(ratings, terms, fixed, engine=IterativeEngine):
    X = design_matrix(ratings, fixed).to_numpy()
    codes, nlev = [], []
    for term in terms:
        c, lab = term_codes(ratings, term)
        codes.append(c)
        nlev.append(len(lab))
    y = ratings["score"].to_numpy(dtype=float)
    return engine(y, X, codes, nlev, terms), X, codes, nlev, y


def _jacobian(eng, theta, reml):
    """The engine's AI matrix at theta (the iterative engine forms it while evaluating)."""
    if eng.iterative:
        return eng.evaluate(theta, with_fixed=reml, jacobian=True).jacobian
    st = eng.factor(theta)
    u, beta = eng.solve(st)
    res = eng.residuals(u, beta, theta)[0]
    return eng.ai_hessian(st, res, st.diagLS[-1] ** 2, reml)


def _brute_force_ai(y, X, codes, nlev, theta, reml):
    """H_kl = df y'P V_k P V_l P y / y'Py - df (y'P V_k P y)(y'P V_l P y) / (y'Py)^2."""
    n = len(y)
    Zs = [np.eye(q)[c] for c, q in zip(codes, nlev, strict=True)]
    V = np.eye(n) + sum(t**2 * Z @ Z.T for t, Z in zip(theta, Zs, strict=True))
    Vi = np.linalg.inv(V)
    if reml:
        P = Vi - Vi @ X @ np.linalg.solve(X.T @ Vi @ X, X.T @ Vi)
        df = n - X.shape[1]
    else:
        b = np.linalg.solve(X.T @ Vi @ X, X.T @ Vi @ y)
        P, df = Vi, n
        y = y - X @ b
    py = P @ y
    r2 = y @ py
    w = [Z @ (Z.T @ py) for Z in Zs]
    a = np.array([py @ wk for wk in w])
    H = np.array([[df * (wk @ P @ wl) / r2 for wl in w] for wk in w])
    return H - df * np.outer(a, a) / r2**2


@pytest.mark.parametrize("engine", [IterativeEngine, DenseEngine])
@pytest.mark.parametrize("reml", [True, False])
@pytest.mark.parametrize("seed", [3, 8])
def test_ai_matrix_equals_dense_computation(seed, reml, engine):
    ratings = generate_organisation(30, seed=seed, n_waves=1).ratings
    eng, X, codes, nlev, y = _engine(ratings, TERMS, ["source", "skill"], engine)
    theta = np.array([0.7, 0.9, 0.5, 0.4])
    expected = _brute_force_ai(y, X, codes, nlev, theta, reml)
    # One conjugate-gradient solve at a relative tolerance of 1e-6 is behind the iterative
    # engine's; the exact engine's is a triangular solve.
    np.testing.assert_allclose(_jacobian(eng, theta, reml), expected, rtol=1e-5,
                               atol=1e-6 * abs(expected).max())


def test_ai_matrix_on_a_general_crossed_design():
    rng = np.random.default_rng(5)
    n = 600
    df = pd.DataFrame({"a": rng.integers(0, 40, n), "b": rng.integers(0, 25, n)})
    df["a"] = "A" + df["a"].astype(str)
    df["b"] = "B" + df["b"].astype(str)
    df["score"] = rng.normal(size=n)
    theta = np.array([0.6, 1.3])
    for engine in (IterativeEngine, DenseEngine):
        eng, X, codes, nlev, y = _engine(df, ["a", "b"], [], engine)
        expected = _brute_force_ai(y, X, codes, nlev, theta, True)
        np.testing.assert_allclose(_jacobian(eng, theta, True), expected, rtol=1e-5,
                                   atol=1e-6 * abs(expected).max())


def test_newton_steps_reach_the_exact_optimum_in_few_evaluations():
    ratings = generate_organisation(400, seed=12, n_waves=1).ratings
    kw = dict(response="score", fixed=["source", "skill"], random=TERMS)
    exact = fit_mixed(ratings, solver="dense", **kw)
    fit = fit_mixed(ratings, solver="iterative", se_method="exact", **kw)
    assert fit.converged
    # Stopping rule: the next Newton step is below 2e-4 in log(theta^2) (the trace terms are
    # Hutchinson estimates, so the root is the exact optimum only to about 1e-2 relative).
    np.testing.assert_allclose(fit.theta, exact.theta, rtol=2e-2)
    assert exact.reml_criterion <= fit.reml_criterion < exact.reml_criterion + 0.05
    # The pilot start, the Newton steps and the exact factorisation at the estimate: the
    # finite-difference Jacobian this replaced took 5 evaluations before the first step.
    assert fit.n_iter <= 6


def test_threads_give_the_same_fit_as_one():
    # The blocks, the probe columns and the combinations are split among threads, each
    # writing its own part: the fit must not depend on the number of threads (beyond the
    # solves' own tolerances: each share of columns stops at its own convergence).
    ratings = generate_organisation(2500, seed=21, n_waves=1).ratings
    kw = dict(response="score", fixed=["source", "skill"], random=TERMS, solver="iterative",
              se_method="approximate")
    fits = []
    for threads in (1, 2):
        fits.append(fit_mixed(ratings, **kw, n_jobs=threads))
        assert fits[-1].settings["n_jobs"] == threads
    one, two = fits
    np.testing.assert_allclose(two.theta, one.theta, rtol=1e-6)
    assert two.reml_criterion == pytest.approx(one.reml_criterion, abs=1e-3)
    for term in TERMS:
        np.testing.assert_allclose(two.blups[term]["estimate"], one.blups[term]["estimate"],
                                   atol=1e-6)
        np.testing.assert_allclose(two.blups[term]["se"], one.blups[term]["se"], rtol=1e-4)
