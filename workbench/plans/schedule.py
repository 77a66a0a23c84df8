"""Choosing and scheduling each person's activities within a weekly hours budget.

For each person the schedule picks, among the activities that fit their focus skills, the set
that maximises the expected gain within the budget, lexicographically:

1. as many focus skills as possible get at least one activity;
2. then the largest *useful* expected gain, ``sum_skills min(sum of the skill's gains,
   destination - score)`` (a gain beyond the destination is not counted), plus
   ``rule_bonus`` points per rule preference (minus per avoidance);
3. then fewer hours, then the better-ranked activities.

The set must fit the calendar: each activity is spread evenly over its catalog weeks (longer
when that would exceed the budget) and starts at the earliest week where the budget holds for
its whole span; an activity serving two focus skills is taken (and counted) once; a focus skill
takes at most ``per_skill`` activities. The search is exhaustive over the best ``top`` (6)
candidates per focus skill (at most 22^3 sets with 2 activities per skill), evaluated in numpy;
people with the same candidates share one search.

Examples
--------
>>> import pandas as pd
>>> m = pd.DataFrame({"person": "a", "skill": "S", "focus_rank": 1,
...                   "activity_rank": [1, 2], "activity": ["A1", "A2"],
...                   "hours": [8.0, 8.0], "weeks": [4, 4]})
>>> schedule_activities(m, start="2027-01-04", hours_per_week=3)["week_from"].tolist()
[1, 5]
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd

from workbench.checks import check_integer, check_interval
from workbench.plans.inputs import start_date

__all__ = ["schedule_activities", "plan_timeline"]

TOP = 6
MAX_TRIES = 300


def _place(load, hours, duration, budget):
    """Earliest start week for an activity spread over its weeks, or None when it won't fit."""
    weeks = len(load)
    d = max(1, int(math.ceil(duration))) if np.isfinite(duration) else 1
    per_week = hours / d
    if per_week > budget + 1e-9:
        d = int(math.ceil(hours / budget))
        per_week = hours / d
    for s in range(0, weeks - d + 1):
        if np.all(load[s:s + d] + per_week <= budget + 1e-9):
            load[s:s + d] += per_week
            return s, s + d, per_week
    return None


def _subsets(indices, k):
    return [c for r in range(k + 1) for c in itertools.combinations(indices, r)]


def _best_plan(items, weeks, budget, per_skill, rule_bonus):
    """Status and slot of each item (activity, skill, hours, weeks, gain, cap, rule, rank)."""
    n = len(items)
    act = [it[0] for it in items]
    skill = [it[1] for it in items]
    hours = np.array([it[2] for it in items], float)
    gain = np.array([it[4] for it in items], float)
    cap = np.array([it[5] for it in items], float)
    rule = np.array([it[6] for it in items], float)
    acts = list(dict.fromkeys(act))
    a_of = np.array([acts.index(a) for a in act])
    a_hours = np.zeros(len(acts))
    a_hours[a_of] = hours
    fits_alone = np.array([_place(np.zeros(weeks), it[2], it[3], budget) is not None
                           for it in items])
    skills = list(dict.fromkeys(skill))
    limit = per_skill if per_skill is not None else TOP
    options = []
    for s in skills:
        cand = [i for i in range(n) if skill[i] == s and fits_alone[i]][:TOP]
        rows = _subsets(cand, min(limit, len(cand)))
        matrix = np.zeros((len(rows), n), dtype=bool)
        for r, chosen in enumerate(rows):
            matrix[r, list(chosen)] = True
        options.append(matrix)
    grid = np.indices([len(o) for o in options]).reshape(len(options), -1)
    picked = np.zeros((grid.shape[1], n), dtype=bool)
    for k, o in enumerate(options):
        picked |= o[grid[k]]
    used = np.zeros((len(picked), len(acts)), dtype=bool)
    for i in range(n):
        used[:, a_of[i]] |= picked[:, i]
    taken = used[:, a_of]  # an activity taken for one skill also serves its other skills
    served = np.zeros(len(picked))
    useful = np.zeros(len(picked))
    ok = used.astype(float) @ a_hours <= weeks * budget + 1e-9
    for s in skills:
        cols = np.array([i for i in range(n) if skill[i] == s])
        t = taken[:, cols]
        served += t.any(axis=1)
        useful += np.minimum(t.astype(float) @ gain[cols], cap[cols[0]])
        if per_skill is not None:
            ok &= t.sum(axis=1) <= per_skill
    value = (1000.0 * served + useful + rule_bonus * (taken.astype(float) @ rule)
             - 1e-4 * (used.astype(float) @ a_hours) - 1e-7 * (taken.astype(float) @ np.arange(n)))
    order = np.flatnonzero(ok)[np.argsort(-value[ok], kind="stable")]
    for row in order[:MAX_TRIES]:
        load, slots = np.zeros(weeks), {}
        for i in np.flatnonzero(taken[row]):
            if act[i] not in slots:
                slots[act[i]] = _place(load, items[i][2], items[i][3], budget)
                if slots[act[i]] is None:
                    break
        else:
            return [("scheduled", *slots[act[i]]) if taken[row, i] else
                    ("alternate" if fits_alone[i] else "did_not_fit", -1, -1, np.nan)
                    for i in range(n)]
    return [("alternate" if fits_alone[i] else "did_not_fit", -1, -1, np.nan) for i in range(n)]


def schedule_activities(matched, *, start, weeks=12, hours_per_week=3.0, per_skill=None,
                        rule_bonus=0.05):
    """Choose and schedule each person's activities within a weekly hours budget.

    Parameters
    ----------
    matched : DataFrame
        From :func:`workbench.plans.activities.match_activities`: person, skill, focus_rank,
        activity_rank, activity, hours, weeks, and optionally gain (expected gain; 0.1 when
        absent), gain_cap (destination - score; no cap when absent), rule_score.
    start : date-like
        The plans' first day (week 1 starts here).
    weeks : int
        Length of the plan (2 to 52).
    hours_per_week : float
        The weekly learning budget.
    per_skill : int, optional
        At most this many activities per focus skill.
    rule_bonus : float
        Scale points of gain one rule preference is worth.

    Returns
    -------
    DataFrame
        ``matched`` plus status ("scheduled", "alternate": fits but not chosen,
        "did_not_fit": cannot fit the budget even alone), scheduled (bool), week_from, week_to
        (1-based, inclusive; nullable integers), start, end, hours_per_week.
    """
    start = start_date(start)
    weeks = check_integer("weeks", weeks, low=1, high=104)
    hours_per_week = check_interval("hours_per_week", hours_per_week, low=0, inclusive="neither")
    if per_skill is not None:
        per_skill = check_integer("per_skill", per_skill, low=1, high=10)
    if len(matched) == 0:
        out = matched.copy()
        for col, dtype in (("status", object), ("scheduled", bool), ("week_from", float),
                           ("week_to", float), ("hours_per_week", float)):
            out[col] = pd.Series(dtype=dtype)
        out["start"] = pd.Series(dtype="datetime64[ns]")
        out["end"] = pd.Series(dtype="datetime64[ns]")
        return out
    out = matched.sort_values(["person", "focus_rank", "activity_rank"], kind="stable")
    out = out.reset_index(drop=True)
    gain = out["gain"].astype(float) if "gain" in out else pd.Series(0.1, index=out.index)
    cap = out["gain_cap"].astype(float) if "gain_cap" in out else pd.Series(np.inf,
                                                                            index=out.index)
    # the cap only matters when it binds; rounding it up to 0.05 lets people share searches
    total = gain.groupby([out["person"], out["skill"]]).transform("sum")
    cap = pd.Series(np.where(cap >= total, np.inf, np.ceil(cap * 20) / 20), index=out.index)
    rule = out["rule_score"].astype(float) if "rule_score" in out else pd.Series(0.0,
                                                                                  index=out.index)
    items = list(zip(out["activity"], out["skill"], out["hours"].astype(float),
                     out["weeks"].astype(float), gain.round(6), cap, rule, out["focus_rank"],
                     strict=True))
    signature = pd.Series(items).groupby(out["person"].to_numpy(), sort=False).agg(tuple)
    solved = {sig: _best_plan(sig, weeks, hours_per_week, per_skill, rule_bonus)
              for sig in signature.unique()}
    rows = [status for sig in signature for status in solved[sig]]
    # groupby(sort=False) keeps first-appearance order, the order of ``out``
    status = pd.DataFrame(rows, columns=["status", "_s", "_e", "hours_per_week"])
    out = pd.concat([out, status], axis=1)
    ok = (out["status"] == "scheduled").to_numpy()
    out["scheduled"] = ok
    out["week_from"] = pd.array(np.where(ok, out["_s"] + 1, np.nan), dtype="Int64")
    out["week_to"] = pd.array(np.where(ok, out["_e"], np.nan), dtype="Int64")
    out["start"] = start + pd.to_timedelta(np.where(ok, out["_s"] * 7, np.nan), unit="D")
    out["end"] = start + pd.to_timedelta(np.where(ok, out["_e"] * 7 - 1, np.nan), unit="D")
    return out.drop(columns=["_s", "_e"])


def plan_timeline(people, start, *, weeks=12, checkin_every=2):
    """Each planned person's start, check-in dates and re-assessment date.

    Examples
    --------
    >>> t = plan_timeline(["a"], "2027-01-04", weeks=6, checkin_every=2)
    >>> [f"{d:%m-%d}" for d in t["checkins"].iloc[0]], f"{t['reassessment'].iloc[0]:%m-%d}"
    (['01-18', '02-01'], '02-15')
    """
    start = start_date(start)
    checkins = [start + pd.Timedelta(weeks=k) for k in range(checkin_every, weeks, checkin_every)]
    people = pd.Series(list(people)).drop_duplicates()
    return pd.DataFrame({
        "person": people.to_numpy(),
        "start": start,
        "reassessment": start + pd.Timedelta(weeks=weeks),
        "checkins": [list(checkins)] * len(people),
    })
