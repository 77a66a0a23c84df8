"""The many-facet Rasch model against R's eRm (conditional ML) on committed fixtures.

Fixtures: tests/fixtures/erm, made by benchmarks/R/make_erm_fixtures.R (eRm 1.0.2, see its
sessionInfo.txt): 200 ratees x 4 skills x 4 raters on a 5-point scale, rating-scale (LRSM)
and partial-credit-by-skill (LPCM) models with a linear design over skills and raters.
"""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.calibration.rasch.calibrate import calibrate_rasch
from workbench.calibration.rasch.estimation import conditional_loglik, rasch_design, rasch_loglik

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "erm"
MODELS = [("rsm", "common"), ("pcm", "skill")]


def _load(name):
    ratings = pd.read_csv(FIXTURES / f"ratings_{name}.csv")
    params = pd.read_csv(FIXTURES / f"{name}_parameters.csv")
    persons = pd.read_csv(FIXTURES / f"{name}_persons.csv")
    loglik = pd.read_csv(FIXTURES / "loglik.csv").set_index("model").loc[name]
    return ratings, params, persons, loglik


def _erm_values(params, design, facet):
    k = design.facets.index(facet)
    return params[params["facet"] == facet].set_index("element")["estimate"].reindex(
        design.labels[k]).to_numpy()


def _erm_tau(params, design):
    return params[params["facet"] == "threshold"]["estimate"].to_numpy().reshape(
        len(design.group_labels), -1)


@pytest.mark.parametrize(("name", "thresholds"), MODELS)
def test_joint_loglik_at_erm_estimates_is_exact(name, thresholds):
    ratings, params, persons, loglik = _load(name)
    ratings = ratings[ratings["ratee"].isin(persons["ratee"])]  # eRm leaves extremes out
    design = rasch_design(ratings, facets=("ratee", "skill", "rater"), thresholds=thresholds)
    theta = persons.set_index("ratee")["theta"].reindex(design.labels[0]).to_numpy()
    value = rasch_loglik(design, [theta, _erm_values(params, design, "skill"),
                                  _erm_values(params, design, "rater")],
                         _erm_tau(params, design))
    assert value == pytest.approx(loglik["joint_loglik"], abs=1e-6)


@pytest.mark.parametrize(("name", "thresholds"), MODELS)
def test_conditional_loglik_at_erm_estimates_is_exact(name, thresholds):
    ratings, params, _, loglik = _load(name)
    design = rasch_design(ratings, facets=("ratee", "skill", "rater"), thresholds=thresholds)
    value = conditional_loglik(design, [None, _erm_values(params, design, "skill"),
                                        _erm_values(params, design, "rater")],
                               _erm_tau(params, design))
    assert value == pytest.approx(loglik["cml_loglik"], abs=1e-6)


def _fit(name, thresholds, correction=True):
    ratings, *_ = _load(name)
    return calibrate_rasch(ratings.assign(source="peer"), facets=("skill", "rater"),
                           thresholds=thresholds, interactions=(),
                           bias_correction=correction)


@pytest.mark.parametrize(("name", "thresholds"), MODELS)
def test_corrected_jmle_agrees_with_erm_cml(name, thresholds):
    # docs/rasch.md: skills and raters within 0.01 logits (a third of their SE), thresholds
    # within 0.06 logits, abilities within 0.05 logits of eRm's ML abilities.
    _, params, persons, _ = _load(name)
    res = _fit(name, thresholds)
    m = res.measures.set_index(["facet", "element"])["measure"]
    ref = params.set_index(["facet", "element"])
    for facet in ("skill", "rater"):
        diff = m[facet] - ref.loc[facet, "estimate"]
        assert diff.abs().max() < 0.01, diff
        assert (diff.abs() < ref.loc[facet, "se"] / 3).all()
    tau = res.thresholds["threshold"].to_numpy()
    assert np.abs(tau - ref.loc["threshold", "estimate"].to_numpy()).max() < 0.06
    theta = m["ratee"].reindex(persons["ratee"])
    assert (theta.to_numpy() - persons["theta"].to_numpy()).__abs__().max() < 0.05


@pytest.mark.parametrize(("name", "thresholds"), MODELS)
def test_bias_correction_moves_jmle_towards_cml(name, thresholds):
    _, params, _, _ = _load(name)
    ref = params.set_index(["facet", "element"])["estimate"]
    errors = []
    for correction in (False, True):
        m = _fit(name, thresholds, correction).measures.set_index(["facet", "element"])
        diff = m["measure"].reindex(ref.index).dropna() - ref.reindex(m.index).dropna()
        errors.append(diff.abs().max())
    assert errors[0] > 0.03  # uncorrected JMLE spreads the facets by L / (L - 1)
    assert errors[1] < errors[0] / 4
