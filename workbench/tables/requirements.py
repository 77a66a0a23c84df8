"""What each person's role requires, and how sure we are that a score falls short of it.

The one definition of a *gap*, shared by the plans (which rank gaps into focus skills) and the
calibration comparison (which asks where the linear and the Rasch scores disagree about one).
For each person and each skill their role requires, the calibrated score ``m`` (standard
error ``s``) is compared with the required level ``r``:

* gap: ``r - m`` (positive: below the requirement);
* ``p_below = Phi((r - m) / s)``, the probability that the true level is below it; a skill is a
  gap only when ``p_below >= gap_probability``, so a gap that is only rater noise is not one;
* expected shortfall under ``true ~ Normal(m, s)``:
  ``E[max(r - true, 0)] = (r - m) Phi(d) + s phi(d)`` with ``d = (r - m) / s``.

Examples
--------
>>> import pandas as pd
>>> s = pd.DataFrame({"ratee": ["a"], "skill": ["S"], "score": [2.5], "se": [0.25]})
>>> p = pd.DataFrame({"person": ["a"], "role": ["R"], "team": ["T"]})
>>> f = pd.DataFrame({"role": ["R"], "skill": ["S"], "required_level": [3.0]})
>>> g = role_gaps(s, p, f)
>>> round(float(g["p_below"].iloc[0]), 4), bool(g["has_gap"].iloc[0])
(0.9772, True)
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from workbench.errors import InputError
from workbench.tables.scores import as_scores

__all__ = ["require_columns", "people_frame", "framework_frame", "gap_statistics", "role_gaps"]


def require_columns(frame, name, columns):
    """Raise InputError naming the table and every missing column.

    Examples
    --------
    >>> import pandas as pd
    >>> require_columns(pd.DataFrame({"a": [1]}), "people", ["person", "role"])
    Traceback (most recent call last):
    ...
    workbench.errors.InputError: 1 error(s):
      ERROR   <input>: people: column(s) ['person', 'role'] missing
    """
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"{name} must be a DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame]
    if missing:
        raise InputError(f"{name}: column(s) {missing} missing")


def people_frame(people):
    """person, role, team (+ level, location, name when given), one row per person.

    Examples
    --------
    >>> import pandas as pd
    >>> people_frame(pd.DataFrame({"person": ["a", "a"], "role": ["R", "R"], "team": ["T", "T"]}))
      person role team level location
    0      a    R    T  None     None
    """
    require_columns(people, "people", ["person", "role", "team"])
    people = people.drop_duplicates("person").copy()
    for col in ("level", "location"):
        if col not in people:
            people[col] = None
    return people.reset_index(drop=True)


def framework_frame(framework):
    """role, skill, required_level, weight (1 when absent), gap_type (None when absent).

    Examples
    --------
    >>> import pandas as pd
    >>> framework_frame(pd.DataFrame({"role": ["R"], "skill": ["S"], "required_level": ["3.5"]}))
      role skill  required_level  weight gap_type
    0    R     S             3.5     1.0     None
    """
    require_columns(framework, "framework", ["role", "skill", "required_level"])
    fw = framework.copy()
    if "weight" not in fw:
        fw["weight"] = 1.0
    fw["weight"] = pd.to_numeric(fw["weight"], errors="coerce").fillna(1.0)
    if "gap_type" not in fw:
        fw["gap_type"] = None
    fw["required_level"] = pd.to_numeric(fw["required_level"], errors="coerce")
    return fw.drop_duplicates(["role", "skill"])


def gap_statistics(frame: pd.DataFrame, target: str) -> pd.DataFrame:
    """``frame`` with ``gap``, ``p_below`` and ``expected_shortfall`` against column ``target``.

    ``frame`` has ``score`` and ``se``; a zero SE makes ``p_below`` 0 or 1. Rows without a
    score or a target get NaN statistics.

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"score": [2.5, 3.0], "se": [0.25, 0.0], "required_level": [3.0, 3.5]})
    >>> gap_statistics(f, "required_level")[["gap", "p_below"]].round(4).values.tolist()
    [[0.5, 0.9772], [0.5, 1.0]]
    """
    m = frame["score"].to_numpy(float)
    s = frame["se"].to_numpy(float)
    r = frame[target].to_numpy(float)
    diff = r - m
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(s > 0, diff / np.where(s > 0, s, 1.0), np.nan)
        p = np.where(s > 0, norm.cdf(d), (diff > 0).astype(float))
        es = np.where(s > 0, diff * norm.cdf(d) + s * norm.pdf(d), np.maximum(diff, 0.0))
    missing = np.isnan(m) | np.isnan(r)
    return frame.assign(
        gap=diff,
        p_below=np.where(missing, np.nan, p),
        expected_shortfall=np.where(missing, np.nan, es),
    )


def role_gaps(scores, people, framework, *, gap_probability=0.7, wave="latest"):
    """Gap of every person in every skill their role requires, with its probability.

    Parameters
    ----------
    scores : Calibration, DataFrame or path
        The scores contract (read by :func:`~workbench.tables.scores.as_scores`).
    people : DataFrame
        person, role, team (level, location optional).
    framework : DataFrame
        role, skill, required_level (weight, gap_type optional).
    gap_probability : float
        A skill is a gap (``has_gap``) when ``p_below`` is at least this; the caller checks
        it lies in (0.5, 1).
    wave : "latest", a wave or None
        Which wave of the scores to use (each person's latest by default).

    Returns
    -------
    DataFrame
        person, role, team, skill, required_level, weight, gap_type, score, se, gap,
        p_below, expected_shortfall, has_gap. People whose role has no framework are absent;
        skills without a score have NaN statistics and no gap.
    """
    sc = as_scores(scores, wave=wave)
    frame = people_frame(people)[["person", "role", "team"]].merge(
        framework_frame(framework)[["role", "skill", "required_level", "weight", "gap_type"]],
        on="role")
    frame = frame.merge(sc[["person", "skill", "score", "se"]], on=["person", "skill"],
                        how="left")
    frame = gap_statistics(frame, "required_level")
    frame["has_gap"] = (frame["p_below"] >= gap_probability).fillna(False).astype(bool)
    return frame.reset_index(drop=True)
