"""Coverage and bias of calibrated scores against known truth, on correct and misspecified data.

Owns the simulation study behind the claims in ``docs/calibration.md``: generate an
organisation with known true scores and rater leniencies (:mod:`workbench.synth`), optionally
break one assumption of the model (a *generator*), calibrate, and count how often the 95 %
intervals cover the truth. The test suite runs it over many seeds
(``tests/calibration/test_coverage.py``) and ``benchmarks/bench_coverage.py`` prints the
tables.

Generators (all start from the synthetic organisation's unrounded ratings):

* ``"correct"``: the model's own assumptions (ratings rounded to whole points and clipped to
  1-5, as the demo data);
* ``"ceiling"``: everyone rated 0.8 points higher, then rounded and clipped at 5 (many 5s);
  the truth moves up by 0.8 as well (it is not clipped; the organisation's ratings are
  generated unclipped, so only the top fills up);
* ``"skill_leniency"``: each rater's leniency differs by skill (an extra rater-by-skill effect
  with SD 0.25 that the default model does not have);
* ``"missing_low"``: non-self ratings of person-skills whose true score is in the lowest
  quarter go missing with probability 0.6 (others 0.05): missing not at random.

Examples
--------
>>> row = coverage_run(40, seed=1)
>>> sorted(row)[:3]
['bias', 'coverage', 'coverage_unwidened']
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from workbench.calibration.calibrate import calibrate_ratings
from workbench.checks import check_alpha, check_choice, check_integer
from workbench.synth.generator import generate_organisation

__all__ = ["GENERATORS", "coverage_run", "misspecified_ratings"]

GENERATORS = ("correct", "ceiling", "skill_leniency", "missing_low")
CEILING_SHIFT = 0.8
SKILL_LENIENCY_SD = 0.25


def _round_clip(scores: np.ndarray) -> np.ndarray:
    return np.clip(np.round(scores), 1, 5)


def misspecified_ratings(org, generator: str, *, seed: int = 0):
    """Ratings and true scores of ``org`` (generated with ``rounding=None``, best with
    ``clip=False``) under a generator.

    Returns
    -------
    ratings, true_scores : DataFrame
        ``true_scores`` has person, skill, true_score (wave 1).
    """
    check_choice("generator", generator, GENERATORS)
    rng = np.random.default_rng(seed)
    ratings = org.ratings.copy()
    truth = org.truth["true_scores"]
    truth = truth[truth["wave"] == 1][["person", "skill", "true_score"]].copy()
    score = ratings["score"].to_numpy(dtype=float)
    if generator == "ceiling":
        score = score + CEILING_SHIFT
        truth["true_score"] += CEILING_SHIFT
    elif generator == "skill_leniency":
        key = ratings["rater"].astype(str) + "|" + ratings["skill"].astype(str)
        codes, uniques = pd.factorize(key)
        score = score + rng.normal(0.0, SKILL_LENIENCY_SD, len(uniques))[codes]
    elif generator == "missing_low":
        cell = ratings.merge(truth, left_on=["ratee", "skill"], right_on=["person", "skill"],
                             how="left")["true_score"].to_numpy()
        low = cell < np.nanquantile(truth["true_score"], 0.25)
        drop = rng.random(len(ratings)) < np.where(low, 0.6, 0.05)
        keep = ~drop | (ratings["source"] == "self").to_numpy()
        ratings, score = ratings[keep].reset_index(drop=True), score[keep]
    ratings["score"] = _round_clip(score)
    return ratings, truth


def coverage_run(n_people: int, *, seed: int = 0, generator: str = "correct",
                 alpha: float = 0.05, n_ratees: int | None = None,
                 vc_uncertainty: str = "auto") -> dict:
    """Calibrate one synthetic organisation and compare with its truth.

    ``n_ratees`` keeps only the ratings of the first ``n_ratees`` people (the top of the org
    chart) as ratees: a small organisation whose raters include people outside it, with
    poorly determined variance components. ``vc_uncertainty`` is passed to
    :func:`calibrate_ratings`.

    Returns
    -------
    dict
        ``generator``, ``seed``, ``n_people``, ``n`` (scores), ``coverage`` (share of score
        intervals covering the true score), ``coverage_unwidened`` (the same for ``score +- z
        se``, the intervals before the widening at the scale's ends), ``near_bound_n`` and
        ``near_bound_coverage`` (the scores widened there: ``near_bound``), ``bias`` (mean score - truth), ``rmse``,
        ``z_sd`` (SD of (score - truth) / se: 1 when the SEs are right), ``rater_n``,
        ``rater_coverage``, ``rater_z_sd`` (rater effects against true leniency, both
        centred), ``se_method``, ``solver``, ``vc_uncertainty_method``,
        ``vc_se_increase``.
    """
    n_people = check_integer("n_people", n_people, low=20)
    alpha = check_alpha(alpha)
    org = generate_organisation(n_people, seed=seed, n_waves=1, rounding=None, clip=False)
    ratings, truth = misspecified_ratings(org, generator, seed=seed + 7919)
    if n_ratees is not None:
        n_ratees = check_integer("n_ratees", n_ratees, low=3, high=n_people)
        ratings = ratings[ratings["ratee"].isin(org.people["person"][:n_ratees])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cal = calibrate_ratings(ratings, alpha=alpha, vc_uncertainty=vc_uncertainty)
    m = cal.bounded_scores().merge(truth, on=["person", "skill"])
    err = m["score"] - m["true_score"]
    covered = (m["ci_low"] <= m["true_score"]) & (m["true_score"] <= m["ci_high"])
    near = m["near_bound"].to_numpy(dtype=bool)
    r = cal.rater_effects.merge(org.truth["rater_effects"], on="rater")
    # Leniency is identified up to the mean (absorbed by the intercept): centre both.
    r_err = (r["effect"] - r["effect"].mean()) - (r["leniency"] - r["leniency"].mean())
    z_r = r_err / r["se"]
    from scipy import special

    zcrit = special.ndtri(1 - alpha / 2)
    plain = (err / m["se"]).abs() <= zcrit  # score +- z se, before any widening at the bounds
    return {
        "generator": generator, "seed": seed, "n_people": n_people, "n": len(m),
        "coverage": float(covered.mean()), "coverage_unwidened": float(plain.mean()),
        "near_bound_n": int(near.sum()),
        "near_bound_coverage": float(covered[near].mean()) if near.any() else np.nan,
        "bias": float(err.mean()),
        "rmse": float(np.sqrt((err**2).mean())), "z_sd": float((err / m["se"]).std()),
        "rater_n": len(r), "rater_coverage": float((z_r.abs() <= zcrit).mean()),
        "rater_z_sd": float(z_r.std()), "se_method": cal.settings["se_method"],
        "solver": cal.settings["solver"],
        "vc_uncertainty_method": cal.settings["vc_uncertainty_method"],
        "vc_se_increase": cal.settings["vc_se_increase"],
    }
