"""The closed-form fits of the impact stage against statsmodels' own fits (the oracle).

``did_reml`` replaces statsmodels ``MixedLM`` for the two-wave difference-in-differences and
``recommend_design`` absorbs team fixed effects by demeaning instead of a design matrix with a
column per team; both must give what the full statsmodels fits give.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf

from workbench.impact.effects import _hc1_p_value, did_reml
from workbench.impact.regression import design_matrix


def _pairs(seed, n=120, person_sd=0.5):
    rng = np.random.default_rng(seed)
    trained = rng.random(n) < 0.4
    person = rng.normal(0, person_sd, n)
    pre = 3 + person + rng.normal(0, 0.4, n) + 0.2 * trained
    post = pre - rng.normal(0, 0.4, n) + rng.normal(0, 0.4, n) + 0.1 + 0.3 * trained
    return pre, post, trained


@pytest.mark.parametrize("seed, person_sd", [(1, 0.5), (2, 0.5), (3, 0.0), (4, 0.05)])
def test_did_reml_equals_statsmodels_mixedlm(seed, person_sd):
    """Interior and boundary (person variance 0) solutions both match MixedLM's REML fit."""
    pre, post, trained = _pairs(seed, person_sd=person_sd)
    long = pd.DataFrame({"person": np.repeat(np.arange(len(pre)), 2),
                         "post": np.tile([0, 1], len(pre)),
                         "trained": np.repeat(trained.astype(int), 2),
                         "score": np.column_stack([pre, post]).ravel()})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = smf.mixedlm("score ~ post * trained", long, groups=long["person"]).fit(reml=True)
    ours = did_reml(pre, post, trained)
    assert ours["estimate"] == pytest.approx(fit.params["post:trained"], abs=1e-8)
    assert ours["se"] == pytest.approx(fit.bse["post:trained"], rel=1e-4)
    assert ours["var_residual"] == pytest.approx(fit.scale, rel=1e-4)
    assert ours["var_person"] == pytest.approx(float(fit.cov_re.iloc[0, 0]), abs=1e-4)


def test_hc1_with_absorbed_teams_equals_ols_with_team_dummies():
    rng = np.random.default_rng(7)
    n = 400
    d = pd.DataFrame({"team": rng.integers(0, 40, n).astype(str),
                      "role": rng.choice(["a", "b", "c"], n),
                      "pre": rng.normal(3, 0.5, n)})
    d["level"] = np.where(d["role"] == "a", "junior", rng.choice(["junior", "senior"], n))
    y = (rng.random(n) < 0.3 + 0.1 * (d["pre"] < 3)).astype(float)
    full = design_matrix(d, ["pre"], ["role", "level", "team"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = sm.OLS(y, full).fit(cov_type="HC1")
    p_value, rss = _hc1_p_value(y, design_matrix(d, ["pre"], ["role", "level"]), "pre",
                                d["team"])
    assert p_value == pytest.approx(fit.pvalues["pre"], rel=1e-8)
    assert rss == pytest.approx(float(fit.resid @ fit.resid), rel=1e-10)
