"""What the plans read: scores (through the scores contract), people, framework, catalog, scale.

Scores come in only through :func:`workbench.tables.scores.as_scores` (person key ``person``;
``ratee`` accepted); the other tables are checked for the columns the plans need. Scores are
checked against the organisation's rating scale: a score far off the scale (17 on a 1-5 scale)
is refused with every offending row named, because a plan built on it would make an "expert" of
a typing error. Calibrated scores may stray a little beyond the scale (a lenient rater's 5 is
worth less than a strict rater's 5), so the check allows a margin of a quarter of the scale's
range (1 point on 1-5).

Examples
--------
>>> import pandas as pd
>>> s = pd.DataFrame({"ratee": ["a"], "skill": ["S"], "score": [17.0], "se": [0.2]})
>>> plan_scores(s, scale=(1, 5))
Traceback (most recent call last):
...
workbench.errors.InputError: 1 error(s):
  ERROR   scores, row 2, column 'score': score 17 is off the rating scale (1 to 5, from scale=(1, 5); allowed 0 to 6); is this the right scores file? (value: '17.0')
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from workbench.checks import check_scale
from workbench.errors import ConfigError, InputError, Problem
from workbench.tables.columns import Scale, as_scale
from workbench.tables.requirements import require_columns
from workbench.tables.scores import as_scores, latest_wave

__all__ = ["plan_scores", "scale_bounds", "SCALE_MARGIN"]

#: Share of the scale's range a calibrated score may lie beyond either end.
SCALE_MARGIN = 0.25


def scale_bounds(scale) -> tuple[float, float]:
    """(min, max) of a :class:`~workbench.tables.data.Scale`, a (min, max) pair, or None (1-5).

    Examples
    --------
    >>> scale_bounds(None)
    (1.0, 5.0)
    """
    if scale is None:
        return 1.0, 5.0
    return check_scale("scale", scale)


def plan_scores(scores, *, scale=None, wave="latest", source="scores") -> pd.DataFrame:
    """The scores the plans use: the contract, one wave, checked against the scale.

    Parameters
    ----------
    scores : Calibration, DataFrame or path
        Anything :func:`~workbench.tables.scores.as_scores` accepts.
    scale : Scale, (min, max) or None
        The organisation's rating scale (None: 1 to 5).
    wave : "latest", a wave value or None
        Passed to ``as_scores`` (each person's latest wave by default).

    Returns
    -------
    DataFrame
        person, skill, score, se (and whatever else the scores carry).

    Raises
    ------
    InputError
        Every score off the scale (beyond the margin), with its row.
    """
    if isinstance(scores, str | Path):
        source = str(scores)
    frame = as_scores(scores, source=source)
    if len(frame) and frame["se"].isna().all():
        raise InputError([Problem(source, None, "se",
                                  "the scores have no standard errors (column se); plans need "
                                  "them to tell a real gap from rater noise")])
    low, high = scale_bounds(scale)
    described = (as_scale(scale) or Scale()).describe()
    margin = SCALE_MARGIN * (high - low)
    off = (frame["score"] < low - margin) | (frame["score"] > high + margin)
    if off.any():
        problems = [
            Problem(source, int(i) + 2, "score",
                    f"score {frame.at[i, 'score']:g} is off the rating scale ({described}; "
                    f"allowed {low - margin:g} to {high + margin:g}); is this the right scores "
                    "file?", str(frame.at[i, "score"]))
            for i in frame.index[off][:25]
        ]
        if off.sum() > 25:
            problems.append(Problem(source, None, "score",
                                    f"... and {int(off.sum()) - 25} more scores off the scale",
                                    count=int(off.sum()) - 25))
        raise InputError(problems)
    if wave == "latest":
        frame = latest_wave(frame).reset_index(drop=True)  # already the contract: no re-check
    elif wave is not None:
        frame = as_scores(frame, wave=wave, source=source)
    return frame


CATALOG_COLUMNS = ["activity", "title", "skill", "kind", "gap_type", "level_from", "level_to",
                   "hours", "weeks", "cost", "modality", "expected_gain", "expected_gain_se"]


def catalog_frame(catalog):
    """The catalog with every optional column present (an empty catalog when None)."""
    if catalog is None:
        return pd.DataFrame(columns=CATALOG_COLUMNS)
    require_columns(catalog, "catalog", ["activity", "skill", "kind", "level_from", "level_to",
                                         "hours", "weeks"])
    cat = catalog.copy()
    for col, default in (("title", None), ("gap_type", None), ("cost", 0.0), ("modality", ""),
                         ("expected_gain", float("nan")), ("expected_gain_se", float("nan"))):
        if col not in cat:
            cat[col] = default
    cat["title"] = cat["title"].fillna(cat["activity"])
    for col in ("level_from", "level_to", "hours", "weeks", "cost", "expected_gain",
                "expected_gain_se"):
        cat[col] = pd.to_numeric(cat[col], errors="coerce")
    cat["cost"] = cat["cost"].fillna(0.0)
    _refuse_timeless(cat)
    return cat[CATALOG_COLUMNS]


def _refuse_timeless(cat):
    """An activity with no hours or no weeks would be planned as free and still credited a
    gain: every such activity is named in one InputError (a mentoring relationship states the
    mentee's hours like any other activity)."""
    problems = []
    for col, unit in (("hours", "hours a learner spends"), ("weeks", "weeks it runs over")):
        values = cat[col].to_numpy(dtype=float)
        bad = ~(np.isfinite(values) & (values > 0))
        if bad.any():
            names = pd.unique(cat.loc[bad, "activity"].astype(str))
            problems.append(Problem(
                "catalog", None, col,
                f"activit{'y' if len(names) == 1 else 'ies'} {', '.join(map(repr, names[:25]))}"
                f"{' ...' if len(names) > 25 else ''} {'has' if len(names) == 1 else 'have'} no "
                f"{col} (0 or missing): a plan would take it as free and credit its gain; give "
                f"the {unit}", str(names[0])))
    if problems:
        raise InputError(problems)


def start_date(start):
    """The plans' first day (default: next Monday) as a Timestamp."""
    if start is None:
        today = pd.Timestamp.today().normalize()
        return today + pd.Timedelta(days=(7 - today.weekday()) % 7 or 7)
    try:
        return pd.Timestamp(start).normalize()
    except (TypeError, ValueError):
        raise ConfigError(f"start must be a date such as 2027-01-04, got {start!r}") from None
