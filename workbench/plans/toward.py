"""Plans that aim at the next or the target role (``build_plans(..., toward=...)``).

``toward="current"`` (the default) plans against the person's current role, as always.
``"next"`` plans against the next role on their career path (the first listed in paths.csv
when there are several) and ``"target"`` against their target role
(:func:`workbench.progression.path_destinations`): the destination role's requirements become
the gaps that focus skills, activities and 12-week targets follow. The current role's hard
gaps are never dropped silently: a current gap whose skill the destination does not ask for
(or asks for at a lower level) stays a candidate focus skill, and one that the ``n_focus``
limit leaves out is listed in the plans' issues (``current_gap_not_in_focus``). People with no
such destination are planned toward their current role, also listed
(``no_destination``).

Examples
--------
>>> import pandas as pd
>>> people = pd.DataFrame({"person": ["p"], "role": ["A"], "team": ["T"]})
>>> paths = pd.DataFrame({"role": ["A"], "next_role": ["B"]})
>>> fw = pd.DataFrame({"role": ["A", "B"], "skill": "S", "required_level": [3.0, 4.0]})
>>> destination_roles(people, paths, fw, toward="next")
{'p': 'B'}
"""

from __future__ import annotations

import pandas as pd

from workbench.checks import check_choice
from workbench.errors import ConfigError
from workbench.plans.gaps import compute_gaps
from workbench.progression.paths import path_destinations

__all__ = ["TOWARD", "destination_roles", "destination_gaps", "unplanned_current_gaps"]

#: Which role a plan aims at.
TOWARD = ("current", "next", "target")


def destination_roles(people, paths, framework, *, toward) -> dict:
    """person -> the role the plan aims at (only people who have one)."""
    check_choice("toward", toward, TOWARD)
    if toward == "current":
        return {}
    if paths is None:
        if toward == "next":
            raise ConfigError("toward='next': the next role comes from career paths; give "
                              "paths (paths.csv: role, next_role)")
        paths = pd.DataFrame(columns=["role", "next_role"])
    dest = path_destinations(people, paths, framework)
    word = "next" if toward == "next" else "target"
    dest = dest[dest["relation"].str.contains(word)]
    return dest.drop_duplicates("person").set_index("person")["role"].to_dict()


def destination_gaps(gaps, scores, people, framework, paths, *, toward, gap_probability,
                     priority):
    """The gaps a plan toward ``toward`` chooses from, and the issues to report.

    Parameters
    ----------
    gaps : DataFrame
        The current-role gaps (:func:`workbench.plans.gaps.compute_gaps`, with level and
        location).

    Returns
    -------
    (DataFrame, list of (person, skill, activity, issue, message))
        Gaps against the destination plus the current role's hard gaps the destination does
        not cover; people without a destination keep their current gaps.
    """
    where = destination_roles(people, paths, framework, toward=toward)
    issues = []
    assessed = gaps.loc[gaps["score"].notna(), "person"].unique()
    for person in sorted(set(assessed) - set(where), key=str):
        issues.append((person, None, None, "no_destination",
                       f"no {toward} role on the career path: planned toward the current role"))
    if not where:
        return gaps, issues
    moved = people[people["person"].isin(where)].assign(
        role=lambda f: f["person"].map(where))
    dest = compute_gaps(scores, moved, framework, gap_probability=gap_probability,
                        priority=priority, wave=None)
    dest = dest.merge(people[["person", "level", "location"]], on="person", how="left")
    dest.loc[dest["se"].isna(), "has_gap"] = False
    covered = dest.loc[dest["has_gap"], ["person", "skill"]].assign(covered=True)
    current = gaps[gaps["person"].isin(where) & gaps["has_gap"]].merge(
        covered, on=["person", "skill"], how="left")
    kept = current[current["covered"].isna()].drop(columns="covered")
    dest = dest[~dest.set_index(["person", "skill"]).index.isin(
        kept.set_index(["person", "skill"]).index)]
    out = pd.concat([gaps[~gaps["person"].isin(where)], dest, kept], ignore_index=True)
    return out, issues


def unplanned_current_gaps(gaps, focus, people_roles) -> list:
    """Issues for current-role hard gaps that the focus skills leave out."""
    hard = gaps[gaps["has_gap"]]
    chosen = set(zip(focus["person"], focus["skill"], strict=True))
    return [(row.person, row.skill, None, "current_gap_not_in_focus",
             f"a gap in the current role ({people_roles.get(row.person, row.role)}) that this "
             "plan, aimed at another role, does not focus on")
            for row in hard.itertuples(index=False)
            if (row.person, row.skill) not in chosen]
