"""Items as a Rasch facet against R's eRm (conditional ML) on a committed fixture.

Fixture: tests/fixtures/erm_items, made by benchmarks/R/make_erm_item_fixture.R (eRm 1.0.2,
see its sessionInfo.txt): 300 ratees x 3 skills x 3 items per skill x 3 raters on a 5-point
scale, the rating-scale model (LRSM) with a linear design over skills, items within skills
and raters; eRm's estimates centred as the workbench centres them (items within their skill).
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.calibration.rasch.calibrate import calibrate_rasch
from workbench.calibration.rasch.estimation import conditional_loglik, rasch_design, rasch_loglik

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "erm_items"
FACETS = ("ratee", "skill", "item", "rater")


@pytest.fixture(scope="module")
def erm():
    ratings = pd.read_csv(FIXTURES / "ratings.csv")
    params = pd.read_csv(FIXTURES / "parameters.csv")
    persons = pd.read_csv(FIXTURES / "persons.csv")
    loglik = pd.read_csv(FIXTURES / "loglik.csv").iloc[0]
    design = rasch_design(ratings, facets=FACETS, nested={"item": "skill"})
    return ratings, params, persons, loglik, design


def _values(params, design, facet):
    k = design.facets.index(facet)
    return params[params["facet"] == facet].set_index("element")["estimate"].reindex(
        design.labels[k]).to_numpy()


def _tau(params):
    return params[params["facet"] == "threshold"]["estimate"].to_numpy()[None, :]


def test_joint_and_conditional_loglik_at_erm_estimates_are_exact(erm):
    _, params, persons, loglik, design = erm
    assert loglik["n_extreme_persons"] == 0
    theta = persons.set_index("ratee")["theta"].reindex(design.labels[0]).to_numpy()
    others = [_values(params, design, f) for f in FACETS[1:]]
    assert rasch_loglik(design, [theta, *others], _tau(params)) == pytest.approx(
        loglik["joint_loglik"], abs=1e-6)
    assert conditional_loglik(design, [None, *others], _tau(params)) == pytest.approx(
        loglik["cml_loglik"], abs=1e-6)


def test_corrected_jmle_with_items_agrees_with_erm_cml(erm):
    # docs/rasch.md: skills, items and raters within 0.01 logits (a third of their SE),
    # thresholds within 0.06 logits, abilities within 0.05 logits of eRm's ML abilities
    ratings, params, persons, _, _ = erm
    res = calibrate_rasch(ratings.assign(source="peer"), facets=("skill", "rater"),
                          interactions=())
    assert res.settings["facets"] == ("ratee", "skill", "rater", "item")
    m = res.measures.set_index(["facet", "element"])
    ref = params.set_index(["facet", "element"])
    for facet in ("skill", "item", "rater"):
        diff = m.loc[facet, "measure"] - ref.loc[facet, "estimate"]
        assert diff.abs().max() < 0.01, diff
        assert (diff.abs() < ref.loc[facet, "se"] / 3).all(), diff
        # the joint SEs against eRm's (the inverse of the conditional information)
        np.testing.assert_allclose(m.loc[facet, "se"], ref.loc[facet, "se"], rtol=0.1)
    tau = res.thresholds["threshold"].to_numpy()
    assert np.abs(tau - ref.loc["threshold", "estimate"].to_numpy()).max() < 0.06
    theta = m.loc["ratee", "measure"].reindex(persons["ratee"]).to_numpy()
    assert np.abs(theta - persons["theta"].to_numpy()).max() < 0.05
