"""The scores contract: the one table every stage after calibration reads.

A *scores table* is long, one row per person, skill (and wave):

=========== ==========================================================================
column      meaning
=========== ==========================================================================
person      the person key (the ratee of the ratings; one name everywhere downstream)
skill       the skill
wave        optional; the survey wave the score belongs to
score       the person's level on the rating scale
se          its standard error (>= 0; NaN when unknown)
ci_low,     optional; the interval the producer computed
ci_high
estimator   optional; how the score was made: ``"blup"`` (calibrated by the linear mixed
            model: shrunken towards the mean), ``"fair_average"`` (many-facet Rasch),
            ``"raw_mean"`` (plain mean of the non-self ratings), ``"truth"`` (synthetic
            truth plus noise), or anything a user states; missing means "unknown"
error_corr  optional; the correlation between this score's error and the error of the
            same person's score on the skill in the previous wave (the same raters'
            lasting impressions and leniency errors enter both; a joint calibration
            computes it, :mod:`workbench.calibration.wave_covariance`); NaN in a person's
            first wave or when unknown. Impact analyses use it by default.
near_bound  optional; True when the interval reaches beyond an end of the rating scale:
            the ratings pile up at that end and cannot show how far beyond it the person
            stands, so the linear calibration widened the interval there
            (:mod:`workbench.calibration.bounds`). Files without it read as before.
=========== ==========================================================================

Other columns (``raw_mean``, ``n_ratings``, ``n_raters``, ``n_items``, ``subset``) pass through.

:func:`as_scores` is the only place that accepts what users hand in (a ``Calibration``, any
result with ``to_scores()``, a DataFrame with ``person`` or ``ratee``, or a CSV, Excel or
Parquet file written by an earlier run) and returns the contract; nobody else coerces.

**The latest wave** is defined once, here: each person's most recent wave with a score (so a
person missing from the last survey keeps their previous scores). ``as_scores(obj,
wave="latest")`` applies it; ``wave=<value>`` keeps one wave; ``wave=None`` keeps all.

Examples
--------
>>> import pandas as pd
>>> frame = pd.DataFrame({"ratee": ["a", "a", "b"], "skill": ["X", "X", "X"],
...                       "wave": [1, 2, 1], "score": [3.0, 3.5, 4.0], "se": 0.2})
>>> as_scores(frame, wave="latest")[["person", "wave", "score"]]
  person  wave  score
0      a     2    3.5
1      b     1    4.0
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import ConfigError, InputError, Problem

__all__ = [
    "wave_order",
    "PERSON",
    "SCORE_COLUMNS",
    "ESTIMATORS",
    "as_scores",
    "latest_wave",
    "raw_scores",
    "scores_matrix",
]

#: The person key of every table downstream of calibration.
PERSON = "person"
#: The columns every scores table has, in this order.
SCORE_COLUMNS = ("person", "skill", "score", "se")
#: The estimators the package produces.
ESTIMATORS = ("blup", "fair_average", "raw_mean", "truth")
_ORDER = ("subset", "person", "skill", "wave", "score", "se", "ci_low", "ci_high", "estimator")


def _problem(source, message, column=None, value=None, row=None):
    return Problem(str(source), row, column, message, None if value is None else str(value))


def _read(path: Path) -> pd.DataFrame:
    from workbench.tables.data import read_table
    from workbench.tables.readers import normalise_ids

    frame = read_table(path)
    for column in ("person", "ratee", "skill"):  # compared with the other files' ids
        if column in frame.columns:
            frame[column] = normalise_ids(frame[column])[0]
    for column in ("score", "se", "ci_low", "ci_high", "raw_mean", "n_ratings", "n_raters",
                   "error_corr"):
        if column in frame.columns:
            frame[column] = pd.to_numeric(frame[column].replace("", np.nan), errors="coerce")
    if "wave" in frame.columns:
        as_number = pd.to_numeric(frame["wave"], errors="coerce")
        if as_number.notna().all() and (as_number % 1 == 0).all():
            frame["wave"] = as_number.astype(int)
    return frame


_FLAGS = {"true": True, "false": False, "1": True, "0": False, "1.0": True, "0.0": False,
          "": False}


def _flag(value):
    """True/False from a bool, 0/1 or its text (as a CSV holds it); None when unreadable."""
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return False
    return _FLAGS.get(str(value).strip().lower())


def _frame_of(obj, source):
    if isinstance(obj, str | Path):
        path = Path(obj)
        if path.is_dir():
            path = path / "scores.csv"
        if not path.exists():
            raise InputError([_problem(path, "scores file not found")])
        return _read(path), str(path)
    if hasattr(obj, "to_scores") and callable(obj.to_scores):
        return obj.to_scores(), source
    if isinstance(obj, pd.DataFrame):
        return obj, source
    raise ConfigError(f"{source}: expected a Calibration, a scores DataFrame or a scores file, "
                      f"got {type(obj).__name__}")


def as_scores(obj, *, wave=None, source: str = "scores") -> pd.DataFrame:
    """Return the scores contract from a results object, a DataFrame or a file.

    Parameters
    ----------
    obj : Calibration, result with ``to_scores()``, DataFrame, or path
        A DataFrame may use ``ratee`` for the person key (renamed to ``person``). A folder is
        read as its ``scores.csv``.
    wave : None, "latest" or a wave value
        None keeps every wave; "latest" keeps each person's most recent wave; a value keeps
        that wave (an error if it is absent).
    source : str
        How to name the input in messages (a file name is used when reading a file).

    Returns
    -------
    DataFrame
        A new frame with the contract's columns first (see the module docstring).

    Raises
    ------
    InputError
        Missing columns, scores that are not numbers, negative standard errors, or more than
        one score per person, skill (and wave); every problem is listed.

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"ratee": ["a", "b"], "skill": ["X", "X"], "score": [3.0, 4.0],
    ...                       "se": 0.2})
    >>> as_scores(frame)[["person", "skill", "score", "se"]]
      person skill  score   se
    0      a     X    3.0  0.2
    1      b     X    4.0  0.2
    """
    frame, source = _frame_of(obj, source)
    if "person" not in frame.columns and "ratee" in frame.columns:
        frame = frame.rename(columns={"ratee": "person"})
    missing = [c for c in ("person", "skill", "score") if c not in frame.columns]
    if missing:
        raise InputError([_problem(source, f"missing column(s) {', '.join(missing)}; a scores "
                                   "table has person (or ratee), skill, score and se",
                                   missing[0])])
    frame = frame.copy()
    if "se" not in frame.columns:
        frame["se"] = np.nan
    problems = []
    for column in ("score", "se"):
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = values.isna() & frame[column].notna() & (frame[column].astype(str) != "")
        if column == "score":
            bad |= values.isna() | ~np.isfinite(values.fillna(0))
        for index in frame.index[bad][:25]:
            problems.append(_problem(source, f"{column} is not a number", column,
                                     frame.at[index, column], row=int(index) + 2))
        frame[column] = values
    negative = frame["se"] < 0
    for index in frame.index[negative][:25]:
        problems.append(_problem(source, "standard error is negative", "se",
                                 frame.at[index, "se"], row=int(index) + 2))
    if "near_bound" in frame.columns:
        flag = frame["near_bound"].map(_flag)
        for index in frame.index[flag.isna() & frame["near_bound"].notna()][:25]:
            problems.append(_problem(source, "near_bound must be True or False", "near_bound",
                                     frame.at[index, "near_bound"], row=int(index) + 2))
        frame["near_bound"] = np.array([value is True for value in flag], dtype=bool)
    if "error_corr" in frame.columns:
        corr = pd.to_numeric(frame["error_corr"], errors="coerce")
        given = frame["error_corr"].notna() & (frame["error_corr"].astype(str) != "")
        bad = given & ~corr.between(-1, 1, inclusive="neither")
        for index in frame.index[bad][:25]:
            problems.append(_problem(source, "error_corr must be a correlation between -1 "
                                     "and 1", "error_corr", frame.at[index, "error_corr"],
                                     row=int(index) + 2))
        frame["error_corr"] = corr
    keys = [c for c in ("subset", "person", "skill", "wave") if c in frame.columns]
    dup = frame.duplicated(keys, keep=False)
    for index in frame.index[dup][:25]:
        problems.append(_problem(
            source, f"more than one score per {', '.join(keys)}", "person",
            ", ".join(str(frame.at[index, k]) for k in keys), row=int(index) + 2))
    if problems:
        raise InputError(problems)
    if wave is not None:
        frame = _pick_wave(frame, wave, source)
    first = [c for c in _ORDER if c in frame.columns]
    return frame[first + [c for c in frame.columns if c not in first]].reset_index(drop=True)


def wave_order(values) -> list:
    """Waves in order: numbers numerically (``"10"`` after ``"9"``), otherwise as text.

    Examples
    --------
    >>> wave_order(["10", "9", "2"])
    ['2', '9', '10']
    >>> wave_order(["post", "pre"])
    ['post', 'pre']
    """
    values = list(values)
    numbers = pd.to_numeric(pd.Series(values, dtype=object).astype(str), errors="coerce")
    if numbers.notna().all():
        return [v for _, v in sorted(zip(numbers, values, strict=True), key=lambda t: t[0])]
    return sorted(values, key=str)


def latest_wave(scores: pd.DataFrame) -> pd.DataFrame:
    """Each person's most recent wave (the package's one definition of "the latest wave").

    Works on scores (keyed by ``person``) and on ratings (keyed by ``ratee``: each ratee's
    ratings of their most recent wave). A table without a ``wave`` column is returned
    unchanged.
    """
    if "wave" not in scores.columns:
        return scores
    key = "person" if "person" in scores.columns else "ratee"
    last = scores.groupby(key)["wave"].transform("max")
    return scores[scores["wave"] == last]


def _pick_wave(frame, wave, source):
    if wave == "latest":
        return latest_wave(frame)
    if "wave" not in frame.columns:
        raise ConfigError(f"wave={wave!r}: the {source} have no 'wave' column")
    waves = sorted(frame["wave"].dropna().unique().tolist())
    if wave not in waves:
        raise ConfigError(f"wave={wave!r}: not among the waves of the {source} "
                          f"({', '.join(map(str, waves))})")
    return frame[frame["wave"] == wave]


def raw_scores(ratings: pd.DataFrame) -> pd.DataFrame:
    """Uncalibrated scores: the mean of the non-self ratings per person, skill (and wave).

    These means still hold rater leniency and halo, so they are *not* calibrated; the SE is
    ``sd / sqrt(n_ratings)``, which ignores that raters differ, and is NaN with fewer than two
    ratings.

    Returns
    -------
    DataFrame
        The scores contract with ``estimator="raw_mean"`` and ``n_ratings``.

    Examples
    --------
    >>> import pandas as pd
    >>> ratings = pd.DataFrame({"ratee": ["a", "a", "a"], "rater": ["a", "b", "c"],
    ...                         "source": ["self", "peer", "peer"], "skill": "X",
    ...                         "score": [5, 3, 4]})
    >>> raw_scores(ratings)[["person", "score", "n_ratings"]]
      person  score  n_ratings
    0      a    3.5          2
    """
    need = {"ratee", "source", "skill", "score"}
    if not need <= set(ratings.columns):
        raise InputError([_problem("ratings", "missing column(s): "
                                   + ", ".join(sorted(need - set(ratings.columns))))])
    keys = ["ratee", "skill"] + (["wave"] if "wave" in ratings.columns else [])
    # an empty score is a rating not given: it counts in no mean and no n_ratings
    others = ratings[(ratings["source"] != "self") & ratings["score"].notna()]
    if others.empty:
        raise InputError([_problem("ratings", f"no ratings by others ({len(ratings)} row(s), all "
                                   "self ratings or without a score): raw means need at least "
                                   "one non-self rating", "source")])
    out = (others.groupby(keys, sort=True)["score"]
           .agg(score="mean", sd="std", n_ratings="size").reset_index()
           .rename(columns={"ratee": "person"}))
    out["se"] = out["sd"] / np.sqrt(out["n_ratings"])
    out["estimator"] = "raw_mean"
    return as_scores(out.drop(columns="sd"))


def scores_matrix(scores, *, value: str = "score", wave="latest") -> pd.DataFrame:
    """A person x skill table of one column of the scores (default: the latest wave).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = pd.DataFrame({"person": ["a", "b"], "skill": "X", "score": [3.0, 4.0]})
    >>> scores_matrix(frame).shape
    (2, 1)
    """
    frame = as_scores(scores, wave=wave)
    if value not in frame.columns:
        raise ConfigError(f"value={value!r}: not a column of the scores")
    return frame.pivot(index="person", columns="skill", values=value)
