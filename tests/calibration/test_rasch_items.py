"""Items as a facet of the many-facet Rasch model (#22 part 3).

With item-level ratings (an ``item`` column, two or more items in some skill) the items join
the model as a facet nested in their skill, centred within it; ratee measures and fair
averages stay per competency. Checked here:

* one item per competency: exactly the results without the ``item`` column;
* the constrained JMLE and its joint SEs against a brute force on a small design: the joint
  log-likelihood maximised by a generic optimiser (scipy's BFGS over a basis of the centred
  space) and the inverse of its numerical Hessian;
* recovery of known truth: ratings simulated from the model with items (numpy, below; item
  difficulties within 0.15 logits, fit statistics near 1), and from the generator
  (``items_per_skill``: item difficulties on the rating scale, whose order the item measures
  must reproduce); in both, ratee measures or fair averages at least as close to the truth as
  when the items are ignored (each answer then a rating of its competency).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import scipy.linalg as la
from scipy import optimize

from tests.calibration.test_rasch_recovery import TAU
from workbench.calibration.rasch.calibrate import calibrate_rasch
from workbench.calibration.rasch.estimation import fit_jmle, rasch_design, rasch_loglik
from workbench.calibration.rasch.uncertainty import _sum_zero_basis, joint_standard_errors
from workbench.synth.generator import generate_organisation


def _quiet(ratings, **options):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return calibrate_rasch(ratings, **options)


def simulate_items(seed, n_ratees=300, n_raters=150, n_skills=4, n_items=4, per_ratee=5,
                   answered=0.6, sd_item=0.6, theta_mean=0.5):
    """Rating-scale many-facet data with items nested in skills; each rater answers each item
    with probability ``answered`` (so which items a ratee's score rests on varies)."""
    rng = np.random.default_rng(seed)
    theta = rng.normal(theta_mean, 1.0, n_ratees)
    delta = rng.normal(0, 0.4, n_skills)
    delta -= delta.mean()
    item = rng.normal(0, sd_item, (n_skills, n_items))
    item -= item.mean(axis=1, keepdims=True)
    alpha = rng.normal(0, 0.5, n_raters)
    alpha -= alpha.mean()
    i, r = (np.repeat(np.arange(n_ratees), per_ratee),
            np.concatenate([rng.choice(n_raters, per_ratee, replace=False)
                            for _ in range(n_ratees)]))
    grid = np.array(np.meshgrid(np.arange(len(i)), np.arange(n_skills), np.arange(n_items),
                                indexing="ij")).reshape(3, -1)
    pair, s, k = grid[:, rng.random(grid.shape[1]) < answered]
    eta = theta[i[pair]] - delta[s] - item[s, k] - alpha[r[pair]]
    logits = eta[:, None] * np.arange(5) - np.r_[0.0, np.cumsum(TAU)]
    P = np.exp(logits - logits.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    x = (P.cumsum(axis=1) > rng.random(len(eta))[:, None]).argmax(axis=1)
    ratings = pd.DataFrame({"ratee": [f"P{v:03d}" for v in i[pair]],
                            "rater": [f"R{v:03d}" for v in r[pair]], "source": "peer",
                            "skill": [f"S{v}" for v in s],
                            "item": [f"S{a}.{b}" for a, b in zip(s, k, strict=True)],
                            "score": x + 1})
    truth = {"theta": pd.Series(theta, index=[f"P{v:03d}" for v in range(n_ratees)]),
             "item": pd.Series(item.ravel(), index=[f"S{a}.{b}" for a in range(n_skills)
                                                    for b in range(n_items)])}
    return ratings, truth


def test_one_item_per_competency_gives_exactly_todays_results():
    ratings = generate_organisation(80, seed=4, n_waves=1).ratings
    plain = _quiet(ratings)
    one_item = _quiet(ratings.assign(item="Q " + ratings["skill"]))
    pd.testing.assert_frame_equal(one_item.scores, plain.scores, check_exact=True)
    pd.testing.assert_frame_equal(one_item.measures, plain.measures, check_exact=True)
    pd.testing.assert_frame_equal(one_item.thresholds, plain.thresholds, check_exact=True)
    for name, table in plain.interactions.items():
        pd.testing.assert_frame_equal(one_item.interactions[name], table, check_exact=True)
    assert one_item.settings["facets"] == plain.settings["facets"]
    assert "item" not in set(one_item.measures["facet"])


def _small_design(seed=5):
    ratings, _ = simulate_items(seed, n_ratees=30, n_raters=10, n_skills=2, n_items=3,
                                per_ratee=3, answered=0.9, theta_mean=0.0)
    design = rasch_design(ratings, facets=("ratee", "skill", "item", "rater"),
                          nested={"item": "skill"})
    return design, fit_jmle(design)


def _centred_basis(work):
    """A basis of the constrained space: ratees free, skills and raters summing to zero, items
    summing to zero within each skill, the thresholds summing to zero."""
    blocks = [np.eye(work.sizes[0])]
    for k in range(1, len(work.sizes)):
        parents = work.blocks(k)
        blocks.append(la.block_diag(*[_sum_zero_basis(int(n)) for n in np.bincount(parents)]))
    steps = work.free_steps()[0]
    blocks.append(_sum_zero_basis(int(steps.sum())))
    return la.block_diag(*blocks), steps


def test_jmle_with_items_equals_a_generic_optimiser_and_its_hessian():
    design, fit = _small_design()
    work = fit.design
    assert all(np.isfinite(b).all() for b in fit.betas), "the brute force assumes no extremes"
    for k in range(1, len(work.sizes)):  # the constraints hold
        sums = np.bincount(work.blocks(k), fit.betas[k])
        np.testing.assert_allclose(sums, 0.0, atol=1e-8)
    Q, steps = _centred_basis(work)
    offsets = np.cumsum([0, *work.sizes])

    def unpack(phi):
        betas = [phi[offsets[k]:offsets[k + 1]] for k in range(len(work.sizes))]
        tau = np.zeros_like(fit.tau)
        tau[0, steps] = phi[offsets[-1]:]
        return betas, tau

    def negloglik(gamma):
        return -rasch_loglik(work, *unpack(Q @ gamma))

    brute = optimize.minimize(negloglik, np.zeros(Q.shape[1]), method="BFGS",
                              options={"gtol": 1e-9, "maxiter": 5000})
    betas, tau = unpack(Q @ brute.x)
    for ours, theirs in zip(fit.betas, betas, strict=True):
        np.testing.assert_allclose(ours, theirs, atol=2e-4)
    np.testing.assert_allclose(fit.tau[0, steps], tau[0, steps], atol=2e-4)
    assert fit.loglik >= -brute.fun - 1e-8

    start = Q.T @ np.concatenate([*fit.betas, fit.tau[0][steps]])
    p, h = Q.shape[1], 1e-4
    hess = np.zeros((p, p))
    eye = np.eye(p) * h
    for a in range(p):
        for b in range(a, p):
            hess[a, b] = hess[b, a] = (negloglik(start + eye[a] + eye[b])
                                       - negloglik(start + eye[a] - eye[b])
                                       - negloglik(start - eye[a] + eye[b])
                                       + negloglik(start - eye[a] - eye[b])) / (4 * h * h)
    brute_se = np.sqrt(np.diag(Q @ np.linalg.inv(hess) @ Q.T))[: offsets[-1]]
    joint, _, _ = joint_standard_errors(work, fit.betas, fit.tau)
    np.testing.assert_allclose(np.concatenate(joint), brute_se, rtol=1e-4)


@pytest.mark.parametrize("seed", [1, 2])
def test_items_recovered_from_the_model_and_ratees_no_worse(seed):
    ratings, truth = simulate_items(seed)
    res = _quiet(ratings, interactions=())
    assert res.settings["facets"] == ("ratee", "skill", "rater", "source", "item")
    m = res.measures
    items = m[m["facet"] == "item"].set_index("element")
    assert items["status"].eq("").all() and items["se"].gt(0).all()
    np.testing.assert_allclose(items["measure"], truth["item"][items.index], atol=0.15)
    # centred within each skill (the skill's difficulty is the mean over its items)
    skill_of = items.index.str.split(".").str[0]
    np.testing.assert_allclose(items["measure"].groupby(skill_of).sum(), 0.0, atol=1e-6)
    assert items["infit"].between(0.85, 1.15).all() and items["outfit"].between(0.8, 1.2).all()
    assert ((items["measure"] - truth["item"][items.index]).abs() / items["se"]).max() < 4
    # the scores stay per competency, with the number of items each rests on
    assert not res.scores.duplicated(["ratee", "skill"]).any()
    assert res.scores["n_items"].between(1, 4).all()

    ignored = _quiet(ratings.drop(columns="item"), interactions=())
    errors = {}
    for name, fit in (("items", res), ("ignored", ignored)):
        r = fit.measures.query("facet == 'ratee' and status == ''").set_index("element")
        err = r["measure"] - truth["theta"][r.index]
        errors[name] = float(np.sqrt(np.mean((err - err.mean()) ** 2)))
    assert errors["items"] <= errors["ignored"], errors


def test_items_from_the_generator_recovered_and_scores_no_worse():
    org = generate_organisation(200, seed=3, n_waves=1, items_per_skill=4, missing_rate=0.3)
    res = _quiet(org.ratings, interactions=())
    items = res.measures.query("facet == 'item'").set_index("element")
    truth = org.truth["items"].set_index("item")["difficulty"]
    # the generator's difficulty raises the answers; a Rasch item measure lowers them
    assert np.corrcoef(items["measure"], -truth[items.index])[0, 1] > 0.95
    true_scores = org.truth["true_scores"].query("wave == 1").rename(columns={"person": "ratee"})
    ignored = _quiet(org.ratings.drop(columns="item"), interactions=())
    corr = {}
    for name, fit in (("items", res), ("ignored", ignored)):
        merged = fit.scores.merge(true_scores, on=["ratee", "skill"], validate="one_to_one")
        corr[name] = np.corrcoef(merged["score"], merged["true_score"])[0, 1]
    assert corr["items"] >= corr["ignored"] - 1e-3, corr
