"""What a person's plan may show of the raw ratings: 360 confidentiality rules.

A source's mean score (and its comments) is shown for a person and skill only when at least
``min_raters`` distinct raters of that source rated the person in that skill (3 by default;
configurable per source). Self and manager are exempt: everyone knows who they are. A
suppressed source is **not** folded into a combined "all others" figure either, because with few
other raters the combined mean would let a reader back out the suppressed one; the combined row
averages only the sources that are shown. Rater identities never appear.

Examples
--------
>>> import pandas as pd
>>> ratings = pd.DataFrame({"ratee": "a", "rater": ["m", "p1", "p2", "d1", "d2", "d3"],
...                         "source": ["manager", "peer", "peer", "direct_report",
...                                    "direct_report", "direct_report"],
...                         "skill": "Coaching", "score": [3, 2, 4, 4, 5, 3.0]})
>>> shown = source_scores_for_display(ratings)
>>> shown[["source", "n_raters", "shown"]].to_dict("records")   # doctest: +NORMALIZE_WHITESPACE
[{'source': 'manager', 'n_raters': 1, 'shown': True},
 {'source': 'peer', 'n_raters': 2, 'shown': False},
 {'source': 'direct_report', 'n_raters': 3, 'shown': True},
 {'source': 'all_others', 'n_raters': 3, 'shown': True}]
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from workbench.checks import check_integer
from workbench.errors import InputError

__all__ = [
    "DEFAULT_MIN_RATERS",
    "EXEMPT_SOURCES",
    "source_scores_for_display",
    "comments_for_display",
]

DEFAULT_MIN_RATERS = 3
EXEMPT_SOURCES = ("self", "manager")
_ORDER = {"self": 0, "manager": 1, "peer": 2, "direct_report": 3, "other": 4, "all_others": 5}


def _thresholds(min_raters, exempt):
    if isinstance(min_raters, Mapping):
        per = {str(k): v for k, v in min_raters.items()}
        default = per.pop("default", DEFAULT_MIN_RATERS)
    else:
        per, default = {}, min_raters
    for name, value in list(per.items()) + [("default", default)]:
        check_integer(f"min_raters[{name!r}]", value, low=1)
    exempt = tuple(exempt)
    return per, int(default), exempt


def _check(ratings):
    if not isinstance(ratings, pd.DataFrame):
        raise InputError("ratings must be a DataFrame")
    missing = [c for c in ("ratee", "rater", "source", "skill", "score") if c not in ratings]
    if missing:
        raise InputError(f"ratings: column(s) {missing} missing")


def source_scores_for_display(
    ratings, *, person=None, min_raters=DEFAULT_MIN_RATERS, exempt=EXEMPT_SOURCES, wave="latest"
):
    """Per-source mean scores that may be shown in a person's plan.

    Parameters
    ----------
    ratings : DataFrame
        Raw ratings: ratee, rater, source, skill, score (wave optional).
    person : str or list, optional
        Restrict to these ratees.
    min_raters : int or dict
        Minimum distinct raters for a source to be shown; a dict gives it per source
        (``{"peer": 3, "direct_report": 4, "default": 3}``).
    exempt : sequence of str
        Sources always shown (self, manager).
    wave : "latest", int or None
        Which wave to show; None pools all waves.

    Returns
    -------
    DataFrame
        ratee, skill, source, n_raters, mean (NaN when suppressed), shown (bool), note, wave
        (the wave shown; missing when waves are pooled or the ratings have none). One row per
        source present plus an ``all_others`` row averaging only the shown non-exempt sources.
        Suppressed rows keep their rater count (a count reveals no score).

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"ratee": "a", "rater": ["x", "y"], "source": "peer",
    ...                   "skill": "S", "score": [3.0, 4.0]})
    >>> bool(source_scores_for_display(r)["shown"].any())
    False
    """
    _check(ratings)
    per, default, exempt = _thresholds(min_raters, exempt)
    frame = ratings
    if person is not None:
        wanted = [person] if isinstance(person, str) else list(person)
        frame = frame[frame["ratee"].isin(wanted)]
    if wave is not None and "wave" in frame and len(frame):
        if wave == "latest":
            last = frame.groupby("ratee")["wave"].transform("max")
            frame = frame[frame["wave"] == last]
        else:
            frame = frame[frame["wave"] == wave]
    cols = ["ratee", "skill", "source", "n_raters", "mean", "shown", "note", "wave"]
    if len(frame) == 0:
        return pd.DataFrame(columns=cols)
    shown_wave = (frame.groupby("ratee")["wave"].first()
                  if wave is not None and "wave" in frame else None)
    # a rater who rated twice counts once, with the mean of their ratings; categorical keys
    # keep the grouping fast on large organisations
    frame = frame[["ratee", "rater", "source", "skill", "score"]].astype(
        {"ratee": "category", "rater": "category", "source": "category", "skill": "category"})
    per_rater = frame.groupby(["ratee", "skill", "source", "rater"], observed=True)["score"].mean()
    table = (
        per_rater.groupby(["ratee", "skill", "source"], observed=True)
        .agg(n_raters="size", mean="mean", total="sum")
        .reset_index()
    )
    need = table["source"].astype(object).map(per).fillna(default).astype(int)
    is_exempt = table["source"].isin(exempt)
    table["shown"] = is_exempt | (table["n_raters"] >= need)
    table["note"] = np.where(
        table["shown"], "", "hidden: fewer than " + need.astype(str) + " raters"
    )
    others = table[~is_exempt & table["shown"]]
    combined = (
        others.groupby(["ratee", "skill"], observed=True)
        .agg(n_raters=("n_raters", "sum"), total=("total", "sum"))
        .reset_index()
    )
    combined["mean"] = combined["total"] / combined["n_raters"]
    combined["source"] = "all_others"
    combined["shown"] = True
    combined["note"] = "shown sources other than self and manager"
    for col in ("ratee", "skill", "source"):
        table[col] = table[col].astype(object)
        combined[col] = combined[col].astype(object)
    out = pd.concat([table, combined], ignore_index=True)
    out.loc[~out["shown"], "mean"] = np.nan
    out["n_raters"] = out["n_raters"].astype(int)
    out["_o"] = out["source"].map(_ORDER).fillna(9)
    out = out.sort_values(["ratee", "skill", "_o"], kind="stable")
    out["wave"] = (out["ratee"].map(shown_wave) if shown_wave is not None
                   else pd.Series(None, index=out.index, dtype=object))
    return out[cols].reset_index(drop=True)


def comments_for_display(
    ratings, *, person=None, min_raters=DEFAULT_MIN_RATERS, exempt=EXEMPT_SOURCES, wave="latest"
):
    """Comments that may be shown: only from sources shown by :func:`source_scores_for_display`.

    Returns a frame ratee, skill, source, comment, without rater ids, shuffled out of rater
    order (sorted by text) so that the order does not hint at who wrote what.

    Examples
    --------
    >>> import pandas as pd
    >>> r = pd.DataFrame({"ratee": "a", "rater": ["m", "x"], "source": ["manager", "peer"],
    ...                   "skill": "S", "score": [3.0, 4.0], "comment": ["Good", "Ok"]})
    >>> comments_for_display(r)["comment"].tolist()
    ['Good']
    """
    _check(ratings)
    cols = ["ratee", "skill", "source", "comment"]
    if "comment" not in ratings:
        return pd.DataFrame(columns=cols)
    shown = source_scores_for_display(
        ratings, person=person, min_raters=min_raters, exempt=exempt, wave=wave
    )
    ok = shown.loc[shown["shown"] & (shown["source"] != "all_others"), ["ratee", "skill", "source"]]
    frame = ratings
    if wave is not None and "wave" in frame and len(frame):
        if wave == "latest":
            frame = frame[frame["wave"] == frame.groupby("ratee")["wave"].transform("max")]
        else:
            frame = frame[frame["wave"] == wave]
    text = frame["comment"].astype("string").str.strip()
    frame = frame.assign(comment=text)[text.notna() & (text != "")]
    out = frame.merge(ok, on=["ratee", "skill", "source"])[cols]
    return out.sort_values(cols, kind="stable").reset_index(drop=True)
