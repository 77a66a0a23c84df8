"""Tidy display tables of one person's plan, for the explorer and the report.

``plan_display_table`` is what a person reads: human headers, dates as '4 Jan 2027',
activity kinds in words, and each focus skill's goal, target and mentor given once (on its
first activity row), not repeated on every activity. ``focus_display_table`` shows why each
skill is a focus: the gap, the probability that the true level is below the requirement, the
weight and the priority that ranked it. Numbers are rounded here, for display only.

Examples
--------
>>> from workbench.synth.generator import generate_organisation
>>> from workbench.synth import truth_scores
>>> from workbench.plans.build import build_plans
>>> org = generate_organisation(60, seed=1, n_waves=1)
>>> ps = build_plans(truth_scores(org, wave=1), org.people, org.framework, org.catalog,
...                  start="2027-01-04")
>>> person = ps.plans["person"].iloc[0]
>>> list(plan_display_table(ps, person).columns)[:3]
['Focus skill', '12-week goal', 'Activity']
"""

from __future__ import annotations

import pandas as pd

from workbench.errors import InputError
from workbench.plans.labels import GAIN_SOURCE_LABELS, date_label, kind_label, number_label

__all__ = ["plan_display_table", "focus_display_table"]

PLAN_HEADERS = ["Focus skill", "12-week goal", "Activity", "Type", "From", "To", "Hours",
                "Expected gain", "Evidence", "Mentor"]
FOCUS_HEADERS = ["Rank", "Focus skill", "Kind of focus", "Current level", "Requirement",
                 "Gap", "P(true level below requirement)", "Weight", "Priority",
                 "12-week target", "Plausible range", "Destination"]


def _check_person(planset, person):
    if not (planset.people["person"] == person).any():
        raise InputError(f"person {person!r} is not in the plans' people table")


def _goal_cell(f):
    if f["n_activities"] == 0:
        return "No activity could be planned this period"
    return (f"{number_label(f['score'])} → {number_label(f['target_level'])} by "
            f"{date_label(f['_by'])} (destination {number_label(f['destination_level'])})")


def plan_display_table(planset, person) -> pd.DataFrame:
    """One person's plan as a table to show: one row per activity, goal once per skill.

    Parameters
    ----------
    planset : PlanSet
    person : person id

    Returns
    -------
    DataFrame
        Focus skill, 12-week goal, Activity, Type, From, To, Hours, Expected gain, Evidence,
        Mentor: strings ready to display. A focus skill without an activity has one row saying
        so; skill, goal and mentor are blank on a skill's later rows.
    """
    _check_person(planset, person)
    focus = planset.focus[planset.focus["person"] == person].sort_values("focus_rank")
    plans = planset.plans[planset.plans["person"] == person]
    by = planset.start + pd.Timedelta(weeks=int(planset.settings.get("weeks", 12)))
    rows = []
    for _, f in focus.assign(_by=by).iterrows():
        acts = plans[plans["skill"] == f["skill"]].sort_values(["week_from", "activity"])
        mentor = f.get("mentor")
        mentor = mentor if isinstance(mentor, str) and mentor else "none available"
        head = {"Focus skill": f"{int(f['focus_rank'])}. {f['skill']}",
                "12-week goal": _goal_cell(f), "Mentor": mentor}
        if len(acts) == 0:
            rows.append({**head, "Activity": "(none planned; see the notes)"})
            continue
        for k, (_, a) in enumerate(acts.iterrows()):
            row = head if k == 0 else {}
            rows.append({**row, "Activity": str(a["title"]), "Type": kind_label(a["kind"]),
                         "From": date_label(a["start"]), "To": date_label(a["end"]),
                         "Hours": f"{a['hours']:g}",
                         "Expected gain": f"+{number_label(a['gain'], 2)}",
                         "Evidence": GAIN_SOURCE_LABELS.get(a["gain_source"],
                                                            str(a["gain_source"]))})
    table = pd.DataFrame(rows, columns=PLAN_HEADERS)
    return table.fillna("")


def focus_display_table(planset, person) -> pd.DataFrame:
    """Why each of a person's skills is a focus: gap, probability, weight, priority, target.

    Returns
    -------
    DataFrame
        Rank, Focus skill, Kind of focus, Current level, Requirement, Gap,
        P(true level below requirement), Weight, Priority, 12-week target, Plausible range,
        Destination: strings ready to display.
    """
    _check_person(planset, person)
    focus = planset.focus[planset.focus["person"] == person].sort_values("focus_rank")
    rows = []
    for _, f in focus.iterrows():
        rows.append([
            int(f["focus_rank"]), str(f["skill"]),
            "stretch" if f["focus_type"] == "stretch" else "development",
            f"{number_label(f['score'])} ± {number_label(f['se'])}",
            number_label(f["required_level"]), number_label(f["gap"]),
            f"{f['p_below']:.0%}", f"{f['weight']:g}", number_label(f["priority"], 2),
            number_label(f["target_level"]),
            f"{number_label(f['level_low'])} to {number_label(f['level_high'])}",
            f"{number_label(f['destination_level'])} ({f['destination_reason']})",
        ])
    return pd.DataFrame(rows, columns=FOCUS_HEADERS)
