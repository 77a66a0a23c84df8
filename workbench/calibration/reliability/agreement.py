"""Self-other agreement: does a person see their skills as their raters do?

Each self rating is compared with the others' view of the same ratee and skill, ideally the
calibrated score (rater leniency and source effects removed), and each ratee-skill is put in
one of Atwater & Yammarino's groups: over-estimator, under-estimator, or in agreement with a
good or a poor rating from others (and the six-group refinement that also splits over- and
under-estimators by the others' rating).

Examples
--------
>>> from workbench.synth.generator import generate_organisation
>>> from workbench.calibration.reliability.agreement import self_other_agreement
>>> org = generate_organisation(120, seed=1, n_waves=1)
>>> result = self_other_agreement(org.ratings)  # raw others' means (no calibration)
>>> sorted(result.table["group4"].unique())
['in agreement/good', 'in agreement/poor', 'over-estimator', 'under-estimator']
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special

from workbench.calibration.reliability.interrater import is_calibration
from workbench.errors import ConfigError, InputError
from workbench.results import Result
from workbench.tables.scores import as_scores, raw_scores

__all__ = [
    "self_other_agreement",
    "AgreementResult",
    "GROUPS4",
    "GROUPS6",
]

GROUPS4 = ("over-estimator", "in agreement/good", "in agreement/poor", "under-estimator")
GROUPS6 = ("over-estimator/good", "over-estimator/poor", "in agreement/good",
           "in agreement/poor", "under-estimator/good", "under-estimator/poor")
_CUTOFFS = ("half_sd",)
_GOOD = ("mean", "median")
_WITHIN = ("skill", "organisation")
_LEVELS = ("skill", "ratee")
ALL_SKILLS = "all skills"


def _is_ratings(frame) -> bool:
    return isinstance(frame, pd.DataFrame) and {"rater", "source"} <= set(frame.columns)


def _check_ratings(ratings) -> pd.DataFrame:
    if not isinstance(ratings, pd.DataFrame):
        raise InputError(f"ratings: expected a DataFrame, got {type(ratings).__name__}")
    missing = [c for c in ("ratee", "source", "skill", "score") if c not in ratings.columns]
    if missing:
        raise InputError(f"ratings: required column(s) missing: {', '.join(missing)}")
    frame = ratings.copy()
    if "wave" not in frame.columns:
        frame["wave"] = 1
    frame["score"] = pd.to_numeric(frame["score"], errors="coerce").astype(float)
    return frame[np.isfinite(frame["score"].to_numpy())]


def _self_scores(frame: pd.DataFrame) -> pd.DataFrame:
    own = frame[frame["source"] == "self"]
    if own.empty:
        raise InputError("ratings: there are no self ratings (source 'self'); self-other "
                         "agreement needs each ratee's rating of themselves (with a "
                         "calibration fitted without them, pass the full ratings as ratings=)")
    return own.groupby(["ratee", "skill", "wave"], sort=True)["score"].mean().rename(
        "self").reset_index()


def _other_scores(scores: pd.DataFrame, waves) -> pd.DataFrame:
    other = as_scores(scores).rename(columns={"person": "ratee"})
    if "wave" not in other.columns:
        if len(waves) > 1:
            raise InputError("scores: no 'wave' column, but the ratings have several waves "
                             f"({', '.join(map(str, waves))})")
        other["wave"] = waves[0]
    if "se" not in other.columns:
        other["se"] = np.nan
    other = other.rename(columns={"score": "other", "se": "other_se"})
    return other[["ratee", "skill", "wave", "other", "other_se"]]


def _check_options(cutoff, good, within, alpha, level):
    if level not in _LEVELS:
        raise ConfigError(f"level={level!r}: must be one of {', '.join(_LEVELS)}")
    if isinstance(cutoff, str):
        if cutoff not in _CUTOFFS:
            raise ConfigError(f"cutoff={cutoff!r}: must be 'half_sd' or a number of scale "
                              "points > 0")
    elif not (np.isscalar(cutoff) and np.isfinite(cutoff) and cutoff > 0):
        raise ConfigError(f"cutoff={cutoff!r}: must be 'half_sd' or a number of scale points > 0")
    if isinstance(good, str):
        if good not in _GOOD:
            raise ConfigError(f"good={good!r}: must be 'mean', 'median' or a score")
    elif not (np.isscalar(good) and np.isfinite(good)):
        raise ConfigError(f"good={good!r}: must be 'mean', 'median' or a score")
    if within not in _WITHIN:
        raise ConfigError(f"within={within!r}: must be one of {', '.join(_WITHIN)}")
    if not 0 < alpha < 1:
        raise ConfigError(f"alpha={alpha!r}: must be between 0 and 1")


def _cutoffs(table: pd.DataFrame, cutoff, good, within) -> pd.DataFrame:
    keys = ["skill", "wave"] if within == "skill" else ["wave"]
    grouped = table.groupby(keys, sort=True)
    cuts = grouped.agg(n=("difference", "size"), difference_sd=("difference", "std"),
                       other_mean=("other", "mean"), other_median=("other", "median"))
    cuts["cutoff"] = 0.5 * cuts["difference_sd"] if cutoff == "half_sd" else float(cutoff)
    cuts["good_cut"] = (cuts[f"other_{good}"] if isinstance(good, str) else float(good))
    return cuts.reset_index()


def _classify(difference, other, band, good_cut):
    over, under = difference > band, difference < -band
    is_good = other >= good_cut
    quality = np.where(is_good, "good", "poor")
    group4 = np.where(over, "over-estimator",
                      np.where(under, "under-estimator",
                               np.char.add("in agreement/", quality.astype(str))))
    group6 = np.char.add(
        np.where(over, "over-estimator/",
                 np.where(under, "under-estimator/", "in agreement/")).astype(str),
        quality.astype(str))
    return (pd.Categorical(group4, categories=GROUPS4),
            pd.Categorical(group6, categories=GROUPS6))


def _counts(table: pd.DataFrame, column: str, keys: list[str]) -> pd.DataFrame:
    counts = (table.groupby([*keys, column], observed=False, sort=True).size()
              .rename("n").reset_index())
    total = counts.groupby(keys)["n"].transform("sum")
    counts["share"] = counts["n"] / total.where(total > 0)
    return counts.rename(columns={column: "group"}).assign(grouping=column)


@dataclass(frozen=True)
class AgreementResult(Result):
    """Self-other agreement per ratee and skill, with its groups and cut-offs.

    Attributes
    ----------
    table : DataFrame
        One row per ratee, skill and wave with a self rating and an others' score: ratee,
        skill, wave, self, other, other_se, difference (self - other), cutoff (c), band (the
        half-width of agreement actually used: c, or max(c, z * other_se) with
        ``use_se=True``), good_cut, group4, group6.
    by_skill : DataFrame
        Counts and shares per skill and wave: skill, wave, grouping ("group4" or "group6"),
        group, n, share (of the ratees with both ratings on that skill); the rows with
        ``skill="all"`` pool the skills (with ``level="ratee"`` the only rows are
        ``skill="all skills"``).
    cutoffs : DataFrame
        The cut-offs per skill and wave (or per wave with ``within="organisation"``): n,
        difference_sd, other_mean, other_median, cutoff, good_cut.
    settings : dict
        cutoff, good, within, use_se, alpha, level and what "other" is.

    Examples
    --------
    >>> from workbench.calibration.reliability.agreement import self_other_agreement
    >>> from workbench.synth.generator import generate_organisation
    >>> res = self_other_agreement(generate_organisation(60, seed=1, n_waves=1).ratings)
    >>> isinstance(res, AgreementResult), res.table["ratee"].nunique() <= 60
    (True, True)
    """

    title = "Self-other agreement"

    table: pd.DataFrame
    by_skill: pd.DataFrame
    cutoffs: pd.DataFrame
    settings: dict

    def to_frame(self) -> pd.DataFrame:
        """The per ratee-skill table."""
        return self.table.copy()

    @property
    def shares(self) -> pd.DataFrame:
        """Share of ratee-skills in each four-group category, pooled over skills, per wave."""
        pooled = ALL_SKILLS if self.settings["level"] == "ratee" else "all"
        rows = self.by_skill[(self.by_skill["skill"] == pooled)
                             & (self.by_skill["grouping"] == "group4")]
        return rows.pivot(index="wave", columns="group", values="share")[list(GROUPS4)]

    def _cut_text(self) -> str:
        o = self.settings
        c = ("c = half the SD of self - other" if o["cutoff"] == "half_sd"
             else f"c = {o['cutoff']:g} scale points")
        g = (f"good = others' score >= its {o['good']}" if isinstance(o["good"], str)
             else f"good = others' score >= {o['good']:g}")
        where = "per skill" if o["within"] == "skill" else "over all skills"
        se = (f"; differences within {special.ndtri(1 - o['alpha'] / 2):.2f} SE of the "
              "others' score count as agreement" if o["use_se"] else "")
        cuts = self.cutoffs
        span = (f" (c from {cuts['cutoff'].min():.2f} to {cuts['cutoff'].max():.2f}, good cut "
                f"from {cuts['good_cut'].min():.2f} to {cuts['good_cut'].max():.2f})")
        return f"{c}, {g}, computed {where}{span}{se}; other = {o['other']}"

    def _sections(self) -> list:
        return [("", f"{len(self.table)} person-skill pairs"),
                ("Cut-offs", self._cut_text()),
                ("Share of each group, per wave", self.shares.reset_index())]

    def _files(self) -> dict:
        return {"agreement.csv": self.table, "agreement_by_skill.csv": self.by_skill,
                "agreement_cutoffs.csv": self.cutoffs}


def self_other_agreement(
    calibration_or_scores,
    ratings: pd.DataFrame | None = None,
    *,
    cutoff="half_sd",
    good="mean",
    within: str = "skill",
    use_se: bool = False,
    alpha: float = 0.05,
    level: str = "skill",
) -> AgreementResult:
    """Classify each ratee-skill by the agreement of the self rating with the others' view.

    Parameters
    ----------
    calibration_or_scores : Calibration, DataFrame of scores, or DataFrame of ratings
        The others' view: a Calibration (its ``.scores`` and, unless ``ratings`` is given,
        its ``.ratings``); a scores frame (ratee, skill, optional wave, score, optional se) on
        the others' reference; or the ratings themselves, in which case the others' view is
        the raw mean of the non-self ratings (:func:`workbench.tables.scores.raw_scores`).
    ratings : DataFrame, optional
        Ratings that hold the self ratings (source ``"self"``). Needed with a scores frame;
        with a Calibration fitted without self ratings, pass the full ratings here.
    cutoff : "half_sd" or float
        Half-width c of the agreement band: half the standard deviation of self - other
        (Atwater & Yammarino's convention; default) or a number of scale points.
    good : {"mean", "median"} or float
        Others' score from which a rating counts as good: the mean or median of the others'
        scores, or a fixed score.
    within : {"skill", "organisation"}
        Compute the data-driven cut-offs per skill (and wave; default) or over all skills.
    use_se : bool
        If True, a difference within ``z_(1 - alpha/2)`` standard errors of the others' score
        also counts as agreement: the band is ``max(c, z * other_se)``.
    alpha : float
        For ``use_se``.
    level : {"skill", "ratee"}
        Classify each ratee-skill (default), or each ratee on the mean over the skills that
        have both a self rating and an others' score (Atwater & Yammarino's overall score;
        ``skill`` is then ``"all skills"`` and ``other_se`` treats the skills' errors as
        independent, ``sqrt(sum se^2) / S``).

    Returns
    -------
    AgreementResult
        ``.table`` (ratee, skill, wave, self, other, other_se, difference, cutoff, band,
        good_cut, group4, group6), ``.by_skill`` (counts and shares), ``.cutoffs``,
        ``.settings``; ``summary()`` states the cut-offs. The table's ``attrs`` hold the
        options too.

    Notes
    -----
    ``difference = self - other``. Four groups (Atwater & Yammarino 1992, 1997):
    over-estimator (difference > c), under-estimator (difference < -c), and, within the band,
    in agreement/good (other >= good cut) or in agreement/poor. The six groups split the
    over- and under-estimators by good/poor as well. Self ratings are the raw self ratings
    (the self-rater's leniency and self-inflation are what is being measured). The calibrated
    score is on the average non-self source's reference. If the calibration used the self
    ratings (with their own source offset), each self rating pulled the others' score towards
    the self view by about 1/(n + 1) of the distance, n the number of raters, which shrinks
    differences a little; to rule that out, calibrate the non-self ratings and pass all
    ratings as ``ratings``. On synthetic organisations (300 people, seeds 12-14, cut-offs 0.5
    and 3.0) the share of ratee-skills put in their true six-group category was 0.69-0.70
    with raw means, 0.72-0.73 with a calibration without self ratings and 0.74-0.75 with one
    that used them: the extra information outweighs the pull (tests/test_agreement.py).
    Ratee-skills without a self rating or without an others' score are left out.

    Examples
    --------
    >>> from workbench.synth.generator import generate_organisation
    >>> org = generate_organisation(120, seed=1, n_waves=1)
    >>> res = self_other_agreement(org.ratings, cutoff=0.5, good=3.0)
    >>> float(res.table["cutoff"].iloc[0])
    0.5
    """
    _check_options(cutoff, good, within, alpha, level)
    if is_calibration(calibration_or_scores, needs=("scores",)):
        scores, what = calibration_or_scores, "calibrated score"
        ratings = calibration_or_scores.ratings if ratings is None else ratings
    elif _is_ratings(calibration_or_scores):
        ratings = calibration_or_scores if ratings is None else ratings
        scores = raw_scores(_check_ratings(calibration_or_scores))
        if scores.empty:
            raise InputError("ratings: no ratings from others (every rating is a self rating)")
        what = "raw mean of others' ratings"
    elif isinstance(calibration_or_scores, pd.DataFrame):
        scores, what = calibration_or_scores, "given scores"
        if ratings is None:
            raise InputError("ratings: needed with a scores frame (the self ratings are "
                             "taken from it)")
    else:
        raise InputError("calibration_or_scores: expected a Calibration or a DataFrame, got "
                         f"{type(calibration_or_scores).__name__}")
    frame = _check_ratings(ratings)
    own = _self_scores(frame)
    other = _other_scores(scores, sorted(frame["wave"].unique()))
    table = own.merge(other, on=["ratee", "skill", "wave"], how="inner")
    table = table[np.isfinite(table["other"].to_numpy(dtype=float))]
    if table.empty:
        raise InputError("no ratee has both a self rating and an others' score on the same "
                         "skill and wave")
    if level == "ratee":
        # inf makes the sum, and so the SE, unknown when one skill's SE is unknown
        table = table.assign(var=(table["other_se"] ** 2).fillna(np.inf)).groupby(
            ["ratee", "wave"], sort=True).agg(
            own=("self", "mean"), other=("other", "mean"), var=("var", "sum"),
            n_skills=("skill", "size")).reset_index().rename(columns={"own": "self"})
        se = np.sqrt(table.pop("var")) / table.pop("n_skills")
        table["other_se"] = se.where(np.isfinite(se))
        table.insert(1, "skill", ALL_SKILLS)
    table["difference"] = table["self"] - table["other"]
    cuts = _cutoffs(table, cutoff, good, within)
    keys = ["skill", "wave"] if within == "skill" else ["wave"]
    table = table.merge(cuts[[*keys, "cutoff", "good_cut"]], on=keys, how="left")
    band = table["cutoff"].to_numpy(dtype=float)
    if use_se:
        z = special.ndtri(1 - alpha / 2)
        band = np.fmax(band, z * table["other_se"].to_numpy(dtype=float))
    table["band"] = band
    table["group4"], table["group6"] = _classify(
        table["difference"].to_numpy(dtype=float), table["other"].to_numpy(dtype=float),
        band, table["good_cut"].to_numpy(dtype=float))
    table = table.sort_values(["wave", "ratee", "skill"]).reset_index(drop=True)
    options = {"cutoff": cutoff, "good": good, "within": within, "use_se": use_se,
               "alpha": alpha, "level": level, "other": what}
    table.attrs.update(options)
    parts = [table] if level == "ratee" else [table, table.assign(skill="all")]
    by_skill = pd.concat(
        [_counts(part, grouping, ["skill", "wave"]) for part in parts
         for grouping in ("group4", "group6")], ignore_index=True,
    )[["skill", "wave", "grouping", "group", "n", "share"]]
    by_skill["group"] = by_skill["group"].astype(str)
    return AgreementResult(table=table, by_skill=by_skill, cutoffs=cuts, settings=options)
