"""The crossed random-intercept REML engine against statsmodels, mixedlm and lme4 fixtures."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.calibration.mixed.model import design_matrix, fit_mixed
from workbench.errors import ConfigError, ModelError

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "lme4"


def _nested(seed=0, groups=30, per=12):
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), per)
    n = len(g)
    df = pd.DataFrame({"g": [f"G{k:02d}" for k in g], "x": rng.normal(size=n),
                       "arm": rng.choice(["a", "b", "c"], size=n)})
    df["y"] = (1.0 + 0.4 * df["x"] + (df["arm"] == "b") * 0.3 + rng.normal(0, 0.7, groups)[g]
               + rng.normal(0, 1.0, n))
    return df


def _crossed(seed=1, n=700, na=40, nb=18):
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, na, n), rng.integers(0, nb, n)
    df = pd.DataFrame({"a": [f"A{k:02d}" for k in a], "b": [f"B{k:02d}" for k in b],
                       "x": rng.normal(size=n)})
    df["y"] = (0.5 + 0.3 * df["x"] + rng.normal(0, 0.8, na)[a] + rng.normal(0, 0.5, nb)[b]
               + rng.normal(0, 1.0, n))
    return df


@pytest.mark.parametrize("method", ["REML", "ML"])
def test_single_intercept_agrees_with_statsmodels(method):
    import statsmodels.formula.api as sm  # a dependency: missing fails, never skips
    df = _nested()
    ref = sm.mixedlm("y ~ arm + x", df, groups=df["g"]).fit(reml=method == "REML")
    res = fit_mixed(df, response="y", fixed=["arm", "x"], random=["g"], method=method)
    names = ["Intercept", "arm[T.b]", "arm[T.c]", "x"]
    np.testing.assert_allclose(res.fe_params[names].to_numpy(), ref.fe_params.to_numpy(),
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(res.fe_se[names].to_numpy(), ref.bse_fe.to_numpy(), rtol=1e-3)
    np.testing.assert_allclose(res.variances["g"], ref.cov_re.iloc[0, 0], rtol=1e-4)
    np.testing.assert_allclose(res.scale, ref.scale, rtol=1e-4)
    blups = pd.Series({k: v.iloc[0] for k, v in ref.random_effects.items()})
    np.testing.assert_allclose(res.blups["g"]["estimate"].loc[blups.index].to_numpy(),
                               blups.to_numpy(), atol=1e-4)
    if method == "ML":
        assert res.loglik == pytest.approx(ref.llf, rel=1e-6)
    assert res.converged


def test_crossed_agrees_with_mixedlm():
    import mixedlm  # dev dependency (the oracle): missing fails, never skips
    df = _crossed()
    ref = mixedlm.lmer("y ~ x + (1|a) + (1|b)", df)
    res = fit_mixed(df, response="y", fixed=["x"], random=["a", "b"])
    assert res.reml_criterion == pytest.approx(ref.REMLcrit(), abs=1e-5)
    fixef = ref.fixef()
    np.testing.assert_allclose(res.fe_params.to_numpy(),
                               [fixef["(Intercept)"], fixef["x"]], rtol=1e-4)
    np.testing.assert_allclose(np.sqrt(res.scale), ref.sigma, rtol=1e-4)
    np.testing.assert_allclose(res.theta.to_numpy(), np.asarray(ref.theta), rtol=1e-3)


def test_360_model_agrees_with_lme4_fixture():
    folder = FIXTURES / "org500"  # committed: a missing fixture fails, it is not skipped
    meta = json.loads((folder / "meta.json").read_text())
    ratings = pd.read_csv(FIXTURES / "org500_ratings.csv.gz")
    res = fit_mixed(ratings, response="score", fixed=["source", "skill"], random=meta["terms"])
    # lme4's criterion is its verified optimum: pinned both ways (a lower one is a bug).
    assert res.reml_criterion == pytest.approx(meta["REMLcrit"], rel=1e-6)
    fixed = pd.read_csv(folder / "fixed.csv").set_index("name")
    np.testing.assert_allclose(res.fe_params[fixed.index], fixed["estimate"], rtol=1e-4,
                               atol=1e-6)
    np.testing.assert_allclose(res.fe_se[fixed.index], fixed["se"], rtol=1e-4)
    vc = pd.read_csv(folder / "varcomp.csv").set_index("term")["variance"]
    np.testing.assert_allclose(res.variances[vc.index], vc, rtol=1e-4)
    for term, file in meta["blup_files"].items():
        ref = pd.read_csv(folder / file)
        mine = res.blups[term]
        if isinstance(mine.index, pd.MultiIndex):
            mine = mine.set_axis([":".join(map(str, k)) for k in mine.index])
        mine = mine.loc[ref["level"].astype(str)]
        np.testing.assert_allclose(mine["estimate"], ref["estimate"], atol=1e-4)
        np.testing.assert_allclose(mine["se"], ref["se"], atol=1e-4)


def test_iterative_solver_agrees_with_exact():
    from workbench.synth.generator import generate_organisation

    ratings = generate_organisation(300, seed=4, n_waves=1).ratings
    terms = ["ratee", "ratee:skill", "rater", "rater:ratee"]
    exact = fit_mixed(ratings, response="score", fixed=["source", "skill"], random=terms,
                      solver="dense")
    approx = fit_mixed(ratings, response="score", fixed=["source", "skill"], random=terms,
                       solver="iterative")
    assert approx.converged
    # The criterion at the approximate optimum is evaluated exactly: a hair above the minimum.
    assert exact.reml_criterion <= approx.reml_criterion < exact.reml_criterion + 0.05
    np.testing.assert_allclose(approx.variances, exact.variances,
                               rtol=1e-2)
    np.testing.assert_allclose(approx.fe_params, exact.fe_params, atol=1e-3)
    np.testing.assert_allclose(approx.fe_se, exact.fe_se, rtol=1e-2)
    for term in terms:
        np.testing.assert_allclose(approx.blups[term]["estimate"],
                                   exact.blups[term]["estimate"], atol=2e-3)
        # Conditional SDs use an estimated diagonal of the inverse: approximate.
        rel = approx.blups[term]["se"] / exact.blups[term]["se"] - 1
        assert rel.abs().median() < 0.05


def test_results_are_internally_consistent():
    df = _crossed(seed=3)
    res = fit_mixed(df, response="y", fixed=["x"], random=["a", "b", "a:b"])
    np.testing.assert_allclose(res.fitted + res.resid, df["y"].to_numpy())
    assert list(res.variances.index) == ["a", "b", "a:b", "residual"]
    assert res.n_levels["a"] == df["a"].nunique()
    ci = res.conf_int(0.05)
    assert (ci["ci_low"] < res.fe_params).all() and (res.fe_params < ci["ci_high"]).all()
    frame = res.to_frame()
    assert list(frame.columns) == ["term", "estimate", "se", "ci_low", "ci_high", "p_value"]
    assert "REML criterion" in res.summary() and "<table" in res._repr_html_()
    # The ML fit maximises the likelihood, so its residual variance is below REML's.
    ml = fit_mixed(df, response="y", fixed=["x"], random=["a", "b", "a:b"], method="ML")
    assert ml.scale < res.scale


def test_zero_variance_component_is_found():
    rng = np.random.default_rng(5)
    df = _crossed(seed=5)
    df["c"] = rng.choice(["p", "q", "r", "s"], size=len(df))  # no effect at all
    res = fit_mixed(df, response="y", fixed=["x"], random=["a", "b", "c"])
    assert res.variances["c"] < 0.01
    assert res.converged


def test_design_matrix_uses_sorted_reference_level():
    X = design_matrix(pd.DataFrame({"s": ["peer", "self", "manager"]}), ["s"])
    assert list(X.columns) == ["Intercept", "s[T.peer]", "s[T.self]"]


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda d: d.assign(y=1.0), "constant"),
        (lambda d: d.assign(a="A"), "single level"),
        (lambda d: d.assign(y=np.where(np.arange(len(d)) == 3, np.nan, d["y"])), "non-finite"),
        (lambda d: d.assign(x2=d["x"] * 2), "rank deficient"),
        (lambda d: d.head(4), "too few|levels"),
        (lambda d: d.assign(a=[f"u{k}" for k in range(len(d))]), "cannot be separated"),
    ],
)
def test_unidentifiable_data_raise_model_error(change, match):
    df = change(_crossed())
    fixed = ["x", "x2"] if "x2" in df else ["x"]
    with pytest.raises(ModelError, match=match):
        fit_mixed(df, response="y", fixed=fixed, random=["a", "b"])


def test_bad_arguments_raise_model_error():
    df = _crossed()
    with pytest.raises(ConfigError, match="method"):
        fit_mixed(df, response="y", random=["a"], method="OLS")
    with pytest.raises(ModelError, match="not found"):
        fit_mixed(df, response="y", random=["nope"])
    with pytest.raises(ModelError, match="at least one random"):
        fit_mixed(df, response="y", random=[])
