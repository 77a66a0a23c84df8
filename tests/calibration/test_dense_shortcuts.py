"""The exact engine's shortcuts against brute force: gradient traces, scatter keys, start values.

``DenseEngine.trace_sums`` (what the gradient needs) is checked against the inverse of the whole
penalised system formed densely; the marker-array path of ``_unique_keys`` against
``np.unique``; and the one-way ANOVA start values must not move the optimum (the fit from
lme4's start ``theta = 1`` is the reference).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.calibration.mixed.dense import DenseEngine
from workbench.calibration.mixed.design import _unique_keys, design_matrix, term_codes
from workbench.calibration.mixed.model import fit_mixed


def _design(seed: int, nested: bool):
    rng = np.random.default_rng(seed)
    n = 600
    data = pd.DataFrame({"a": rng.integers(0, 60, n), "b": rng.integers(0, 25, n),
                         "x": rng.normal(size=n)})
    data["y"] = (rng.normal(size=60)[data["a"]] + 0.6 * rng.normal(size=25)[data["b"]]
                 + 0.3 * data["x"] + rng.normal(size=n))
    terms = ["a", "b", "a:b"] if nested else ["a", "b"]
    return data, terms


def _engine(data, terms):
    X = design_matrix(data, ["x"]).to_numpy()
    codes, nlev = [], []
    for term in terms:
        c, lab = term_codes(data, term)
        codes.append(c)
        nlev.append(len(lab))
    return DenseEngine(data["y"].to_numpy(dtype=float), X, codes, nlev, terms), X, codes, nlev


def _brute_force_traces(X, codes, nlev, theta, with_fixed):
    """tr[(M^-1)_kk] per term, M = [L'Z'ZL + I, L'Z'X; X'ZL, X'X] formed and inverted whole."""
    Z = np.hstack([t * np.eye(q)[c] for t, c, q in zip(theta, codes, nlev, strict=True)])
    q = Z.shape[1]
    if with_fixed:
        A = np.hstack([Z, X])
        M = A.T @ A
        M[np.arange(q), np.arange(q)] += 1.0
    else:
        M = Z.T @ Z + np.eye(q)
    d = np.diagonal(np.linalg.inv(M))[:q]
    edges = np.cumsum([0, *nlev])
    return np.array([d[lo:hi].sum() for lo, hi in zip(edges[:-1], edges[1:], strict=True)])


@pytest.mark.parametrize("nested", [False, True])
@pytest.mark.parametrize("with_fixed", [True, False])
@pytest.mark.parametrize("seed", [1, 2])
def test_gradient_traces_equal_the_inverse_of_the_whole_system(seed, with_fixed, nested):
    data, terms = _design(seed, nested)
    eng, X, codes, nlev = _engine(data, terms)
    theta = np.array([0.8, 0.5, 0.3][:len(terms)])
    st = eng.factor(theta)
    got = eng.trace_sums(st, with_fixed)
    want = _brute_force_traces(X, codes, nlev, theta, with_fixed)
    np.testing.assert_allclose(got, want, rtol=1e-10)


@pytest.mark.parametrize("bound", [50, 10_000, 1 << 25])
def test_unique_keys_equal_numpy_unique(bound):
    rng = np.random.default_rng(bound)
    keys = [rng.integers(0, bound, size) for size in (0, 17, 400)]
    uniq, where = _unique_keys(keys, bound)
    np.testing.assert_array_equal(uniq, np.unique(np.concatenate(keys)))
    for key, pos in zip(keys, where, strict=True):
        np.testing.assert_array_equal(uniq[pos], key)


@pytest.mark.parametrize("nested", [False, True])
def test_start_values_do_not_move_the_optimum(nested):
    data, terms = _design(5, nested)
    default = fit_mixed(data, response="y", fixed=["x"], random=terms, solver="dense")
    ones = fit_mixed(data, response="y", fixed=["x"], random=terms, solver="dense",
                     theta_start=np.ones(len(terms)))
    np.testing.assert_allclose(default.variances, ones.variances, rtol=1e-5, atol=1e-8)
    assert default.reml_criterion == pytest.approx(ones.reml_criterion, rel=1e-9)


def _brute_force_levels(X, codes, nlev, theta, with_fixed):
    """diag of (M^-1) per random level (as in :func:`_brute_force_traces`), term by term."""
    Z = np.hstack([t * np.eye(q)[c] for t, c, q in zip(theta, codes, nlev, strict=True)])
    q = Z.shape[1]
    A = np.hstack([Z, X]) if with_fixed else Z
    M = A.T @ A
    M[np.arange(q), np.arange(q)] += 1.0
    d = np.diagonal(np.linalg.inv(M))[:q]
    edges = np.cumsum([0, *nlev])
    return [d[lo:hi] for lo, hi in zip(edges[:-1], edges[1:], strict=True)]


@pytest.mark.parametrize("nested", [False, True])
@pytest.mark.parametrize("inverse_first", [False, True])
def test_conditional_variances_equal_the_inverse_of_the_whole_system(nested, inverse_first):
    # With the full inverse kept on the state (inverse_first), the variances with the fixed
    # effects held are its leading block corrected by the fixed block; otherwise an inversion
    # of their own. Both are checked against the whole system inverted densely.
    data, terms = _design(3, nested)
    eng, X, codes, nlev = _engine(data, terms)
    theta = np.array([0.7, 0.4, 0.5][:len(terms)])
    st = eng.factor(theta)
    if inverse_first:
        eng.inverse_parts(st, with_fixed=True)
        assert st.inverse is not None
    for with_fixed in (False, True):
        got = eng.traces(st, with_fixed)
        want = _brute_force_levels(X, codes, nlev, theta, with_fixed)
        for k in range(len(terms)):
            np.testing.assert_allclose(got[k], want[k], rtol=1e-10)


def test_reused_blocks_give_the_same_factor():
    data, terms = _design(4, True)
    eng, _, _, _ = _engine(data, terms)
    theta = np.array([0.9, 0.3, 0.6])
    st = eng.factor(theta)
    again = eng.factor(theta, blocks=(st.Linv, st.W, st.ld_e))
    np.testing.assert_array_equal(again.LS, st.LS)
    assert eng.deviance(again, True) == eng.deviance(st, True)

