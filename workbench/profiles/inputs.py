"""The scores the profiles read: a people x skills matrix (and its SEs) from anything the scores
contract accepts, checked for the rating scale, complete rows and at least two varying skills.

:func:`~workbench.profiles.select.find_profiles` fits it and
:meth:`~workbench.profiles.result.ProfileResult.predict` assigns new people from it.

Examples
--------
>>> import pandas as pd
>>> wide = pd.DataFrame({"A": [1.0, 2, 3, 4, 5, 1, 2, 3, 4, 5], "B": [2.0, 1, 4, 3, 5, 2, 1, 4, 3, 5]},
...                     index=[f"p{i}" for i in range(10)])
>>> matrix, se, notes = score_matrix(wide, None)
>>> matrix.shape, se, notes
((10, 2), None, ['scores (people x skills matrix)'])
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from workbench.checks import check_scale
from workbench.errors import InputError, Problem
from workbench.tables.columns import as_scale
from workbench.tables.scores import as_scores, raw_scores

__all__ = ["score_matrix", "ProfileWarning", "SCALE_MARGIN", "MIN_PEOPLE"]

#: How far past the ends of the rating scale a score may lie (scale points).
SCALE_MARGIN = 1.0
#: Smallest sample for profiles at all.
MIN_PEOPLE = 10


class ProfileWarning(UserWarning):
    """The scores are not calibrated, people were left out, or a cell broke the size rules."""


def _wide_to_long(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """A people x skills matrix (index or a person/ratee column names the people) as a long
    scores table, for :func:`~workbench.tables.scores.as_scores`."""
    wide = frame.copy()
    for col in ("person", "ratee"):
        if col in wide.columns:
            wide = wide.set_index(col)
            break
    bad = [c for c in wide.columns if not pd.api.types.is_numeric_dtype(wide[c])]
    if bad:
        raise InputError([Problem(source, None, str(bad[0]), "column is not numeric; give a "
                                  "people x skills matrix of scores or a long table with "
                                  "person, skill, score")])
    wide.index = wide.index.astype(str).rename("person")
    twice = np.flatnonzero(wide.index.duplicated(keep="first"))
    if twice.size:
        # rows of the matrix as the file shows them (header on row 1), not of the long table
        raise InputError([Problem(source, int(i) + 2, "person", "a person listed on an "
                                  "earlier row of the matrix", wide.index[i])
                          for i in twice[:25]]
                         + ([Problem(source, None, "person", f"... and {twice.size - 25} more "
                                     "row(s) listing a person again")] if twice.size > 25
                            else []))
    wide.columns = [str(c) for c in wide.columns]
    return wide.reset_index().melt(id_vars="person", var_name="skill", value_name="score")


def score_matrix(scores, wave, *, scale=None, source: str = "scores"):
    """People x skills matrix (DataFrame), its SEs (or None) and notes on the input.

    Everything goes through :func:`workbench.tables.scores.as_scores`; raw ratings are first
    averaged over the non-self raters (:func:`~workbench.tables.scores.raw_scores`), with a
    :class:`ProfileWarning`.
    """
    notes = []
    if isinstance(scores, pd.DataFrame) and {"rater", "source"} <= set(scores.columns):
        warnings.warn(
            "profiles are fitted to raw means of the non-self ratings, which still carry rater "
            "leniency, halo and source bias; calibrate the ratings first (calibrate_ratings)",
            ProfileWarning, stacklevel=3)
        scores = raw_scores(scores)
    elif isinstance(scores, pd.DataFrame) and "skill" not in scores.columns:
        scores = _wide_to_long(scores, source)
        notes.append("scores (people x skills matrix)")
    elif not isinstance(scores, pd.DataFrame | str) and not hasattr(scores, "to_scores") \
            and not hasattr(scores, "__fspath__"):
        raise InputError([Problem(source, None, None, "expected a Calibration, a DataFrame of "
                                  f"scores or ratings, got {type(scores).__name__}")])
    long = as_scores(scores, wave="latest" if wave is None else wave, source=source)
    estimator = set(long["estimator"].dropna()) if "estimator" in long.columns else set()
    if estimator & {"blup", "fair_average"}:
        notes.insert(0, "calibrated scores")
    elif "raw_mean" in estimator:
        notes.insert(0, "raw means of non-self ratings (not calibrated)")
    elif not notes:
        notes.append("scores (long table)")
    if scale is not None:
        _check_scale(long, scale, source)
    if "wave" in long.columns and long["wave"].nunique() > 1:
        notes.append("each person's latest wave")
    wide = long.pivot(index="person", columns="skill", values="score")
    wide.columns = [str(c) for c in wide.columns]
    wide.index = wide.index.astype(str)
    wide.index.name = "person"
    se = None
    if long["se"].notna().any():
        se = long.pivot(index="person", columns="skill", values="se")
        se.index, se.columns = se.index.astype(str), [str(c) for c in se.columns]
    wide, se = _complete_rows(wide, se, notes)
    _check_shape(wide, source)
    return wide, se, notes


def _check_scale(long, scale, source):
    check_scale("scale", scale)
    scale = as_scale(scale)
    low, high = scale.min, scale.max
    off = (long["score"] < low - SCALE_MARGIN) | (long["score"] > high + SCALE_MARGIN)
    if off.any():
        problems = [Problem(source, None, "score", f"person {r.person!r}, skill {r.skill!r}: "
                            f"score is off the rating scale ({scale.describe()})", str(r.score))
                    for r in long[off].head(25).itertuples()]
        if off.sum() > 25:
            problems.append(Problem(source, None, "score", f"... and {int(off.sum()) - 25} "
                                    "more scores off the scale", count=int(off.sum()) - 25))
        raise InputError(problems)


def _complete_rows(wide, se, notes):
    incomplete = ~np.isfinite(wide.to_numpy()).all(axis=1)
    if incomplete.any():
        people = wide.index[incomplete]
        warnings.warn(f"{incomplete.sum()} people without a score in every skill are left out "
                      f"of the profiles (first: {people[0]!r})", ProfileWarning, stacklevel=4)
        notes.append(f"{incomplete.sum()} people with missing skills left out")
        wide = wide[~incomplete]
        if se is not None:
            se = se.reindex(index=wide.index, columns=wide.columns)
    return wide, se


def _check_shape(wide, source):
    if wide.shape[1] < 2:
        raise InputError([Problem(source, None, None, "profiles need at least 2 skills, got "
                                  f"{wide.shape[1]}")])
    if len(wide) < MIN_PEOPLE:
        raise InputError([Problem(source, None, None, f"profiles need at least {MIN_PEOPLE} "
                                  f"people with complete scores, got {len(wide)}")])
    # the same value in every row can give an SD of 1e-16 by rounding: flat is flat
    spread = wide.max(axis=0) - wide.min(axis=0)
    flat = spread.index[~(spread > 0)]
    if len(flat):
        # data, not a model failure: every such skill is named, with the one score it has
        raise InputError([Problem(source, None, "score", f"skill {skill!r} has the same score "
                                  "for everyone; drop it before looking for profiles",
                                  f"{wide[skill].iloc[0]:g}") for skill in flat])
