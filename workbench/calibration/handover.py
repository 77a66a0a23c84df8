"""The calibrated scores as later steps read them: handed over by an earlier step, or fitted here.

Owns :func:`calibrated_scores` (what notebooks 00, 02-04 call: read the scores notebook 01
saved, or calibrate when run alone) and :func:`calibrated_matrix` (a person x skill table of
one wave). Split from :mod:`workbench.calibration.calibrate`, which fits the model.
"""

from __future__ import annotations

import pandas as pd

from workbench.calibration.calibrate import calibrate_ratings
from workbench.calibration.result import Calibration, CalibrationWarning
from workbench.checks import check_choice
from workbench.errors import ConfigError

__all__ = ["calibrated_scores", "calibrated_matrix"]


def calibrated_matrix(cal: Calibration, wave="latest", *, value: str = "score") -> pd.DataFrame:
    """Person x skill table of calibrated scores (or their ``se``) for one wave.

    A shortcut for :func:`workbench.tables.scores.scores_matrix` (which defines the latest
    wave: each person's most recent one).

    Parameters
    ----------
    cal : Calibration
    wave : "latest" or a wave value
    value : {"score", "se", "ci_low", "ci_high", "raw_mean"}

    Examples
    --------
    >>> from workbench.synth.generator import generate_organisation
    >>> cal = calibrate_ratings(generate_organisation(60, seed=2, n_waves=1).ratings)
    >>> calibrated_matrix(cal).shape
    (60, 8)
    """
    from workbench.tables.scores import scores_matrix

    value = check_choice("value", value, ("score", "se", "ci_low", "ci_high", "raw_mean"))
    if wave != "latest" and "wave" not in cal.scores.columns:
        present = cal.ratings["wave"].unique().tolist()
        if wave not in present:
            raise ConfigError(f"wave={wave!r}: not among the calibrated waves {present}")
        wave = "latest"
    return scores_matrix(cal, value=value, wave=wave)


def calibrated_scores(ratings, *, scores_file: str = "", waves: str = "joint",
                      warn: bool = True) -> pd.DataFrame:
    """The run's calibrated scores: load the ones handed over, or calibrate here.

    Later notebooks of a run read what notebook 01 saved (``calibrated_scores.csv`` in its
    output folder; :func:`workbench.runs.pipeline.run_engagement` passes the path), so every
    notebook of a run uses the same scores and nothing is fitted twice. Run alone (no file),
    a notebook calibrates the ratings itself.

    Parameters
    ----------
    ratings : DataFrame or Organisation
        The ratings (an Organisation's ``.ratings`` are used).
    scores_file : path or ""
        A scores table written by an earlier step (read with
        :func:`workbench.tables.scores.as_scores`); ``""`` calibrates.
    waves : {"joint", "pooled"}
        Passed to :func:`calibrate_ratings` when calibrating.
    warn : bool
        False: the calibration's warnings about single scores (intervals wider than the
        scale, scores resting on self ratings only) are not raised, for a caller that says
        them per person instead (the explorer's :func:`~workbench.reporting.explorer.person_notes`).
        The scores' flags (``self_only``, ``wide_interval``, ``near_bound``) are kept.

    Returns
    -------
    DataFrame
        The scores contract (person, skill[, wave], score, se, ...).

    Examples
    --------
    >>> from workbench.synth import generate_organisation
    >>> org = generate_organisation(60, seed=3, n_waves=1)
    >>> calibrated_scores(org.ratings, waves="pooled").columns[:4].tolist()
    ['person', 'skill', 'score', 'se']
    """
    from workbench.tables.scores import as_scores

    if scores_file not in ("", None):
        return as_scores(scores_file)
    ratings = getattr(ratings, "ratings", ratings)
    if warn:
        return as_scores(calibrate_ratings(ratings, waves=waves))
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r"\d+ calibrated score\(s\) ",
                                category=CalibrationWarning)
        return as_scores(calibrate_ratings(ratings, waves=waves))
