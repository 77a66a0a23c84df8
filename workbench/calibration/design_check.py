"""Would the numbers be right on this design? Simulate the client's own survey and refit it.

A consultant shows a client that the calibration works on *their* survey, not on a generator's:
many organisations are simulated on exactly the fitted design (the same ratings' rows: who rated
whom, on which skill, from which source, with the same missing cells) from the fitted model
(fixed effects and variance components), each is calibrated again, and the calibrated scores
are compared with the simulated truth:

* **coverage** of the score intervals (share of ``ci_low <= truth <= ci_high``);
* **bias** (mean of score - truth) and RMSE;
* **gap calls** at the plans' probability threshold: a skill is called a gap when
  ``p_below = Phi((r - score) / se) >= gap_probability`` (the rule of
  :mod:`workbench.tables.requirements`, ``r`` the role's required level); the share of calls
  that are right (the true level is below ``r``), and the share of true gaps that are called;
* the **reliability achieved**: per skill the squared correlation between calibrated and true
  scores across people, averaged over the simulated organisations.

How each refit is made cheap
----------------------------
With the variance components held at the fitted values, the calibrated scores are GLS + BLUP,
linear in the ratings: Henderson's mixed-model equations

    [ X'X   X'Z              ] [beta]   [X'y]
    [ Z'X   Z'Z + sigma^2 G^-1 ] [u   ] = [Z'y]

have the same matrix for every simulated organisation, so it is factored once (sparse LU with a
minimum-degree ordering) and every organisation costs one solve with a batch of right-hand
sides. The intervals are the client's own (``Calibration.scores``' ``se``): at fixed variance
components they do not depend on the ratings. Ratings are rounded to whole points and clipped to
the scale when the client's are whole points (``rounding="auto"``), so the check also covers
what the linear model's normal errors leave out. The fitted residual variance already holds
the client's rounding error, so the simulated ratings' residuals before rounding have the fitted
variance less Sheppard's correction 1/12 (the variance of rounding to whole points); without it
the rounding error would be counted twice.

What fixing the variance components leaves out, and the refits that put it back
---------------------------------------------------------------------------------
Held at their estimates, the variance components are treated as known: the fast path does not
see their sampling error (the reason intervals of small organisations fall short; see
``docs/calibration.md``, "Uncertainty of the variance components"). So ``refits`` of the
simulated organisations (the first ones, paired with the fast path) are calibrated from scratch
with :func:`~workbench.calibration.calibrate.calibrate_ratings` and the client's options: REML
re-estimates the variance components and the intervals are each refit's own. Their coverage is
the honest figure (``coverage_refit``); the fast path's is ``coverage``. Where the client's
calibration widened its SEs for the variance components' uncertainty (``vc_uncertainty``, up
to 200 ratees), the fast path uses those wider intervals although it holds the components
fixed, so there its coverage is slightly above what fixed components would give.

Monte Carlo error: scores of one simulated organisation are correlated, so every ``se`` in the
summary is the spread between organisations over the root of their number.

Examples
--------
>>> from workbench.calibration.calibrate import calibrate_ratings
>>> import warnings
>>> import numpy as np, pandas as pd
>>> rng = np.random.default_rng(0)
>>> rows = [(f"p{i}", f"r{j}", "peer", s) for i in range(12) for j in rng.choice(10, 4,
...         replace=False) for s in ("A", "B")]
>>> ratings = pd.DataFrame(rows, columns=["ratee", "rater", "source", "skill"])
>>> ratings["score"] = np.round(3 + rng.normal(0, 0.8, len(ratings)))
>>> with warnings.catch_warnings():
...     warnings.simplefilter("ignore")
...     cal = calibrate_ratings(ratings)
...     check = check_design(cal, n_sims=20, refits=0, random_state=1)
>>> int(check.table.set_index("quantity").loc["coverage", "n"])
20
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import special

from workbench.calibration.calibrate import calibrate_ratings
from workbench.calibration.design_model import DesignModel, design_model
from workbench.calibration.result import Calibration
from workbench.checks import check_integer, check_interval, check_random_state
from workbench.errors import ConfigError
from workbench.results import Result
from workbench.tables.requirements import role_gaps
from workbench.tables.scores import wave_order

__all__ = ["DesignCheck", "check_design", "one_wave", "auto_refits"]

#: ratings refitted in all by ``refits="auto"`` (the refits cost whole calibrations)
REFIT_BUDGET = 100_000
#: above this many ratees ``refits="auto"`` runs no refits: the variance components are
#: estimated from thousands of levels, their sampling error is negligible (``vc_uncertainty``
#: ``"auto"`` treats them as known above 200 ratees) and the fast path's Monte Carlo error is
#: already small, while each refit would cost a whole calibration
REFIT_MAX_RATEES = 1_000
#: simulated organisations per batch of right-hand sides (memory: ratings x batch floats)
BATCH = 25


def auto_refits(n_ratings: int, n_ratees: int) -> int:
    """The refits ``refits="auto"`` runs: as many as refit about :data:`REFIT_BUDGET` ratings
    in all, at least 2 and at most 20, up to :data:`REFIT_MAX_RATEES` ratees; none above.

    Examples
    --------
    >>> auto_refits(4_000, 200), auto_refits(45_258, 900), auto_refits(256_264, 5_000)
    (20, 2, 0)
    """
    if n_ratees > REFIT_MAX_RATEES:
        return 0
    return int(np.clip(REFIT_BUDGET // max(n_ratings, 1), 2, 20))


# --------------------------------------------------------------------------------------------
# What is counted in one simulated organisation
# --------------------------------------------------------------------------------------------


def _counts(score, truth, half, se, required, gap_probability, skills):
    """Per organisation (columns): coverage, bias, rmse, gap-call counts, reliability."""
    err = score - truth
    covered = np.abs(err) <= half
    out = {"coverage": covered.mean(axis=0), "bias": err.mean(axis=0),
           "rmse": np.sqrt((err ** 2).mean(axis=0))}
    if required is not None:
        has = ~np.isnan(required)
        r, s = required[has][:, None], se[has][:, None]
        called = special.ndtr((r - score[has]) / s) >= gap_probability
        below = truth[has] < r
        out["gap_calls"] = called.sum(axis=0).astype(float)
        out["gap_calls_right"] = (called & below).sum(axis=0).astype(float)
        out["true_gaps"] = below.sum(axis=0).astype(float)
    rel = []
    for skill in np.unique(skills):
        rows = skills == skill
        rel.append(_squared_correlation(score[rows], truth[rows]))
    out["reliability"] = np.nanmean(np.vstack(rel), axis=0) if rel else np.nan
    return out, rel


def _squared_correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if a.shape[0] < 3:
        return np.full(a.shape[1], np.nan)
    a = a - a.mean(axis=0)
    b = b - b.mean(axis=0)
    den = np.sqrt((a ** 2).sum(axis=0) * (b ** 2).sum(axis=0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return ((a * b).sum(axis=0) / den) ** 2


def _mean_row(quantity, values, what):
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    n = len(values)
    est = float(values.mean()) if n else np.nan
    se = float(values.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
    return {"quantity": quantity, "estimate": est, "se": se, "ci_low": est - 1.96 * se,
            "ci_high": est + 1.96 * se, "n": n, "what": what}


def _ratio_row(quantity, num, den, what):
    """Pooled share sum(num) / sum(den) over organisations, SE by the ratio estimator."""
    num, den = np.asarray(num, float), np.asarray(den, float)
    n = len(num)
    if den.sum() == 0:
        return {"quantity": quantity, "estimate": np.nan, "se": np.nan, "ci_low": np.nan,
                "ci_high": np.nan, "n": n, "what": what}
    est = float(num.sum() / den.sum())
    resid = num - est * den
    se = float(np.sqrt((resid ** 2).sum() / (n * (n - 1))) / den.mean()) if n > 1 else np.nan
    return {"quantity": quantity, "estimate": est, "se": se, "ci_low": est - 1.96 * se,
            "ci_high": est + 1.96 * se, "n": n, "what": what}


# --------------------------------------------------------------------------------------------
# Results
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DesignCheck(Result):
    """Coverage, bias, gap calls and reliability on the client's own design, by simulation.

    Attributes
    ----------
    table : DataFrame
        quantity, estimate, se (Monte Carlo, from the spread between simulated
        organisations), ci_low, ci_high, n (organisations), what (one line). Quantities:
        ``coverage`` (fast path, variance components fixed), ``coverage_refit`` (refits with
        REML re-estimation), ``bias``, ``rmse``, ``gap_calls_right`` (share of gap calls at
        ``gap_probability`` whose true level is below the requirement), ``gaps_called`` (share
        of true gaps that are called), ``reliability`` (mean over skills of the squared
        correlation between calibrated and true scores).
    by_skill : DataFrame
        skill, coverage, bias, rmse, reliability, n (cells of the skill).
    replicates : DataFrame
        One row per simulated organisation: replicate, coverage, bias, rmse, reliability,
        gap counts, and for the refitted ones coverage_refit, bias_refit.
    settings : dict
        n_sims, refits, rounding, whole_points, gap_probability, alpha, random_state,
        n_ratings, n_people, n_skills, terms, variances, seconds.
    """

    title = "Design check: would the numbers be right on this design?"

    table: pd.DataFrame
    by_skill: pd.DataFrame
    replicates: pd.DataFrame
    settings: dict = field(default_factory=dict)

    @property
    def design_note(self) -> str:
        """What was simulated, in words (the summary's "Design" section): the design, the
        rounding, the refits (and why none ran by default), whether gap calls were checked."""
        s = self.settings
        design = (f"{s['n_ratings']} ratings of {s['n_people']} people on {s['n_skills']} "
                  f"skills, simulated {s['n_sims']} times from the fitted model "
                  f"(terms {', '.join(s['terms'])}); ratings "
                  + ("rounded to whole points and clipped to the scale" if s["whole_points"]
                     else "left unrounded")
                  + f"; {s['refits']} refit(s) with the variance components re-estimated")
        if s["refits"] == 0 and s.get("refits_asked") == "auto":
            design += (f"; no refits by default above {s['refits_max_ratees']:,} ratees (here "
                       f"{s['n_people']:,}): with so many ratees the variance components' "
                       "sampling error hardly moves the intervals, so the fast path's coverage "
                       "is the figure (refits can still be asked for, each a whole calibration)")
        if not s["gap_calls"]:
            design += ("; gap calls not checked (they need the people's roles and the "
                       "framework's required levels)")
        return design

    def _sections(self) -> list:
        return [("Design", self.design_note), ("Results", self.table.drop(columns="what")),
                ("By skill", self.by_skill),
                ("What the quantities are", "\n".join(
                    f"{q}: {w}" for q, w in zip(self.table["quantity"], self.table["what"],
                                                strict=True)))]

    def _files(self) -> dict:
        return {"design_check.csv": self.table,
                "design_check_by_skill.csv": self.by_skill,
                "design_check_replicates.csv": self.replicates}


def _refit(dm: DesignModel, y: np.ndarray, truth: np.ndarray, settings: dict) -> dict:
    keep = [c for c in ("ratee", "rater", "source", "skill", "item", "wave") if c in dm.ratings]
    ratings = dm.ratings[keep].copy()
    ratings["score"] = y
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cal = calibrate_ratings(
            ratings, terms=tuple(settings["terms_fitted"]), terms_policy="exact",
            skill_effects=settings.get("skill_effects", True),
            reference=settings["reference"], alpha=settings["alpha"],
            scale=tuple(settings["scale"]),
            vc_uncertainty=settings.get("vc_uncertainty", "auto"))
    keys = dm.cells[["person", "skill"]].assign(truth=truth)
    m = keys.merge(cal.scores, on=["person", "skill"], how="inner")
    covered = (m["ci_low"] <= m["truth"]) & (m["truth"] <= m["ci_high"])
    return {"coverage_refit": float(covered.mean()),
            "bias_refit": float((m["score"] - m["truth"]).mean())}


def one_wave(calibration: Calibration, wave="latest") -> Calibration:
    """The calibration of one wave: ``calibration`` itself when it holds one, else the
    ratings of ``wave`` (``"latest"``: the last in :func:`wave_order`) calibrated again with
    the same options.

    Examples
    --------
    >>> one_wave(None)
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: the design check needs a linear Calibration \
(calibrate_ratings), got NoneType
    """
    if not isinstance(calibration, Calibration):
        raise ConfigError("the design check needs a linear Calibration (calibrate_ratings), "
                          f"got {type(calibration).__name__}")
    ratings = calibration.ratings
    waves = wave_order(ratings["wave"].unique()) if "wave" in ratings else [None]
    if len(waves) == 1:
        return calibration
    chosen = waves[-1] if wave == "latest" else wave
    if chosen not in waves:
        raise ConfigError(f"wave={wave!r}: not a wave of the ratings (present: "
                          f"{', '.join(map(str, waves))})")
    s = calibration.settings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return calibrate_ratings(
            ratings.loc[ratings["wave"] == chosen,
                        [c for c in ("ratee", "rater", "source", "skill", "item", "score",
                                     "wave") if c in ratings]],
            terms=tuple(s["terms"]), terms_policy=s["terms_policy"],
            skill_effects=s.get("skill_effects", True), reference=s["reference"],
            alpha=s["alpha"], scale=tuple(s["scale"]),
            vc_uncertainty=s.get("vc_uncertainty", "auto"))


def _required_levels(dm: DesignModel, people, framework, gap_probability):
    if people is None or framework is None:
        return None
    scores = dm.cells[["person", "skill", "score", "se"]]
    gaps = role_gaps(scores, people, framework, gap_probability=gap_probability, wave=None)
    req = gaps.groupby(["person", "skill"])["required_level"].first()
    keys = pd.MultiIndex.from_frame(dm.cells[["person", "skill"]])
    return req.reindex(keys).to_numpy(dtype=float)


def check_design(
    calibration: Calibration,
    *,
    n_sims: int = 200,
    refits="auto",
    people: pd.DataFrame | None = None,
    framework: pd.DataFrame | None = None,
    gap_probability: float = 0.7,
    rounding: str = "auto",
    wave="latest",
    random_state=None,
) -> DesignCheck:
    """Simulate organisations on the client's design from the fitted model and refit them.

    Parameters
    ----------
    calibration : Calibration
        A linear calibration (:func:`~workbench.calibration.calibrate.calibrate_ratings`) of
        one wave; its ratings are the design, its fixed effects and variance components the
        simulated truth, its options those of every refit.
    n_sims : int
        Simulated organisations on the fast path (variance components held at the fitted
        values; one solve each with the factored equations).
    refits : int or "auto"
        How many of them are also calibrated from scratch (REML re-estimates the variance
        components). ``"auto"``: :func:`auto_refits`, as many as refit about
        :data:`REFIT_BUDGET` ratings in all, at least 2 and at most 20 (each costs a whole
        calibration: 20 below 5,000 ratings), and none above :data:`REFIT_MAX_RATEES` ratees
        (the summary says so).
    people, framework : DataFrame, optional
        Roles and their required levels, for the gap calls (without either, no gap calls:
        ``settings["gap_calls"]`` is False and the summary says so).
    gap_probability : float
        The plans' threshold: a skill is called a gap when ``p_below`` is at least this.
    rounding : {"auto", "whole", "none"}
        Round simulated ratings to whole points and clip them to the scale (``"auto"``: when
        the client's ratings are whole points).
    wave : "latest" or a wave
        A calibration of several waves (``waves="joint"``) is checked on one wave's design:
        that wave's ratings are calibrated again with the same options (:func:`one_wave`).
    random_state : int, Generator or None
        Seed (``None``: the package's fixed default seed).

    Returns
    -------
    DesignCheck

    Notes
    -----
    The fast path's scores are checked against a brute force (dense GLS + BLUP from the
    marginal covariance ``V = sum_k sigma_k^2 Z_k Z_k' + sigma^2 I``, one simulated
    organisation at a time) and its coverage against an independent simulation in
    ``tests/calibration/test_design_check.py``.

    Examples
    --------
    >>> check_design(None)
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: the design check needs a linear Calibration \
(calibrate_ratings), got NoneType
    """
    import time

    start = time.perf_counter()
    calibration = one_wave(calibration, wave)
    dm = design_model(calibration, rounding=rounding)
    n_sims = check_integer("n_sims", n_sims, low=2)
    n_ratees = int(dm.cells["person"].nunique())
    refits_asked = refits
    if refits == "auto":
        refits = min(auto_refits(len(dm.ratings), n_ratees), n_sims)
    refits = check_integer("refits", refits, low=0, high=n_sims)
    gap_probability = check_interval("gap_probability", gap_probability, low=0.5, high=1,
                                     inclusive="neither")
    rng = check_random_state(random_state)
    required = _required_levels(dm, people, framework, gap_probability)
    # at fixed variance components the intervals' half-widths do not depend on the ratings
    half = ((dm.cells["ci_high"] - dm.cells["ci_low"]).to_numpy() / 2)[:, None]
    se = dm.cells["se"].to_numpy()
    skills = dm.cells["skill"].astype(str).to_numpy()
    rows, skill_sums, rel_by_skill = [], None, []
    for first in range(0, n_sims, BATCH):
        n = min(BATCH, n_sims - first)
        y, truth = dm.draw(rng, n)
        score = dm.estimate(y)
        counts, rel = _counts(score, truth, half, se, required, gap_probability, skills)
        rel_by_skill.append(np.vstack(rel) if rel else np.empty((0, n)))
        batch = pd.DataFrame(counts).assign(replicate=np.arange(first, first + n) + 1)
        for j in range(n):
            if first + j < refits:
                for key, value in _refit(dm, y[:, j], truth[:, j],
                                         calibration.settings).items():
                    batch.loc[j, key] = value
        rows.append(batch)
        sums = _skill_sums(score, truth, half, skills)
        skill_sums = sums if skill_sums is None else skill_sums + sums
    reps = pd.concat(rows, ignore_index=True)
    first_cols = ["replicate", "coverage", "bias", "rmse", "reliability"]
    reps = reps[first_cols + [c for c in reps if c not in first_cols]]
    table = _summary_table(reps, required is not None, gap_probability)
    by_skill = _by_skill(skill_sums, np.hstack(rel_by_skill), skills, n_sims)
    settings = {
        "n_sims": n_sims, "refits": refits, "refits_asked": refits_asked,
        "refits_max_ratees": REFIT_MAX_RATEES,
        "rounding": rounding,
        "whole_points": dm.whole, "gap_probability": gap_probability,
        "gap_calls": required is not None, "alpha": calibration.settings["alpha"],
        "random_state": random_state, "wave": wave, "n_ratings": len(dm.ratings),
        "n_people": n_ratees,
        "n_skills": int(len(np.unique(skills))), "terms": [t[0] for t in dm.terms],
        "variances": {**{t[0]: t[3] for t in dm.terms}, "residual": dm.sigma2},
        "seconds": time.perf_counter() - start,
    }
    return DesignCheck(table=table, by_skill=by_skill, replicates=reps, settings=settings)


def _skill_sums(score, truth, half, skills) -> pd.DataFrame:
    err = score - truth
    covered = (np.abs(err) <= half).astype(float)
    frame = pd.DataFrame({"skill": skills, "covered": covered.sum(axis=1),
                          "err": err.sum(axis=1), "err2": (err ** 2).sum(axis=1),
                          "cells": float(score.shape[1])})
    return frame.groupby("skill").sum()


def _by_skill(sums, rel, skills, n_sims) -> pd.DataFrame:
    names = np.unique(skills)
    out = pd.DataFrame({
        "skill": names,
        "coverage": (sums["covered"] / sums["cells"]).reindex(names).to_numpy(),
        "bias": (sums["err"] / sums["cells"]).reindex(names).to_numpy(),
        "rmse": np.sqrt(sums["err2"] / sums["cells"]).reindex(names).to_numpy(),
        "reliability": np.nanmean(rel, axis=1) if rel.size else np.nan,
        "n": pd.Series(skills).value_counts().reindex(names).to_numpy(),
    })
    return out


def _summary_table(reps: pd.DataFrame, gaps: bool, gap_probability: float) -> pd.DataFrame:
    rows = [_mean_row("coverage", reps["coverage"],
                      "share of score intervals covering the true score, variance "
                      "components held at the fitted values")]
    if "coverage_refit" in reps:
        rows.append(_mean_row("coverage_refit", reps["coverage_refit"],
                              "the same, each organisation calibrated from scratch (variance "
                              "components re-estimated): the honest figure"))
    rows += [_mean_row("bias", reps["bias"], "mean of calibrated - true score"),
             _mean_row("rmse", reps["rmse"], "root mean squared error of the scores")]
    if gaps:
        rows.append(_ratio_row("gap_calls_right", reps["gap_calls_right"], reps["gap_calls"],
                               f"share of gap calls (p_below >= {gap_probability}) whose true "
                               "level is below the requirement"))
        rows.append(_ratio_row("gaps_called", reps["gap_calls_right"], reps["true_gaps"],
                               "share of true gaps that are called"))
    rows.append(_mean_row("reliability", reps["reliability"],
                          "squared correlation of calibrated and true scores across people, "
                          "mean over skills"))
    return pd.DataFrame(rows, columns=["quantity", "estimate", "se", "ci_low", "ci_high", "n",
                                       "what"])
