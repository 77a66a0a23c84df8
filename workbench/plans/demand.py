"""Organisation-level views of the learning plans: gap heat maps and training demand.

Examples
--------
>>> import pandas as pd
>>> gaps = pd.DataFrame({"person": list("abcdef"), "team": "T1", "role": "Lead",
...                      "skill": "Coaching", "expected_shortfall": [0, .2, .4, 0, .1, .3],
...                      "has_gap": [False, True, True, False, False, True],
...                      "score": 3.0})
>>> gap_heatmap(gaps, by="team")[["team", "skill", "n", "share_gap"]].to_dict("records")
[{'team': 'T1', 'skill': 'Coaching', 'n': 6, 'share_gap': 0.5}]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from workbench.checks import check_choice, check_integer, check_interval
from workbench.errors import ConfigError
from workbench.tables.scores import as_scores

__all__ = [
    "gap_heatmap",
    "plot_gap_heatmap",
    "training_demand",
    "demand_within_budget",
    "content_gaps",
    "find_experts",
]


def gap_heatmap(gaps, *, by="team", min_cell=5):
    """Mean expected shortfall and share of people with a gap, per group and skill.

    Parameters
    ----------
    gaps : DataFrame
        From :func:`workbench.plans.gaps.compute_gaps`: person, skill, expected_shortfall, has_gap,
        score and the grouping column.
    by : {"team", "role"} or any column of ``gaps``
    min_cell : int
        Cells with fewer people are suppressed (values NaN, ``suppressed`` True), so that a
        small group's figure does not point at one person.

    Returns
    -------
    DataFrame
        <by>, skill, n, mean_shortfall, share_gap, suppressed.
    """
    if by not in gaps:
        raise ConfigError(f"gap_heatmap: column {by!r} is not in the gaps table")
    min_cell = check_integer("min_cell", min_cell, low=1)
    rated = gaps[gaps["score"].notna()]
    cols = [by, "skill", "n", "mean_shortfall", "share_gap", "suppressed"]
    if len(rated) == 0:
        return pd.DataFrame(columns=cols)
    heat = (
        rated.groupby([by, "skill"], observed=True)
        .agg(
            n=("person", "nunique"),
            mean_shortfall=("expected_shortfall", "mean"),
            share_gap=("has_gap", "mean"),
        )
        .reset_index()
    )
    heat["share_gap"] = heat["share_gap"].astype(float)
    heat["suppressed"] = heat["n"] < min_cell
    heat.loc[heat["suppressed"], ["mean_shortfall", "share_gap"]] = np.nan
    return heat[cols]


def plot_gap_heatmap(heat, *, value="share_gap", max_groups=40, ax=None):
    """Draw a heat map (groups x skills) of a :func:`gap_heatmap` table; returns the Figure.

    Groups are ordered by their mean value and cut to the ``max_groups`` with the largest
    needs; suppressed cells are left blank.

    Examples
    --------
    >>> import pandas as pd
    >>> heat = pd.DataFrame({"team": ["T1", "T2"], "skill": "S", "n": 5,
    ...                      "mean_shortfall": [.1, .2], "share_gap": [.2, .4],
    ...                      "suppressed": False})
    >>> type(plot_gap_heatmap(heat)).__name__
    'Figure'
    """
    import matplotlib.pyplot as plt
    import seaborn as sns

    check_choice("value", value, ("share_gap", "mean_shortfall"))
    by = heat.columns[0]
    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 5))
    else:
        fig = ax.figure
    if len(heat) == 0 or heat[value].isna().all():
        ax.text(0.5, 0.5, "no data" if len(heat) == 0 else
                "every cell has fewer people than the minimum", ha="center", va="center")
        ax.set_axis_off()
        return fig
    table = heat.pivot_table(index=by, columns="skill", values=value, dropna=False)
    order = table.mean(axis=1).sort_values(ascending=False).index[:max_groups]
    table = table.loc[order]
    label = "share of people with a gap" if value == "share_gap" else "mean expected shortfall"
    sns.heatmap(table, ax=ax, cmap="Reds", vmin=0, annot=len(table) <= 20, fmt=".2f",
                cbar_kws={"label": label}, linewidths=0.5)
    ax.set_title(f"Development needs by {by}: {label}\n(blank: fewer people than the "
                 "minimum for reporting)", fontsize=10)
    ax.set_xlabel("skill")
    ax.set_ylabel(by)
    fig.tight_layout()
    return fig


def training_demand(plans, *, freq="Q"):
    """Seats, hours and cost per activity and quarter, from the plans' timelines.

    A person who takes one activity for two focus skills takes one seat.

    Parameters
    ----------
    plans : DataFrame
        person, activity, title, kind, start, hours, cost (per seat).
    freq : {"Q", "M"}
        Quarters or months, by each activity's start date.

    Returns
    -------
    DataFrame
        activity, title, kind, period, seats, hours, cost.

    Examples
    --------
    >>> import pandas as pd
    >>> plans = pd.DataFrame({"person": ["a", "a", "b"], "activity": "A1", "title": "T",
    ...                       "kind": "course", "start": pd.to_datetime(["2027-01-04"] * 3),
    ...                       "hours": 8.0, "cost": 600.0})
    >>> training_demand(plans)[["period", "seats", "cost"]].to_dict("records")
    [{'period': '2027Q1', 'seats': 2, 'cost': 1200.0}]
    """
    check_choice("freq", freq, ("Q", "M"))
    cols = ["activity", "title", "kind", "period", "seats", "hours", "cost"]
    plans = plans.dropna(subset=["activity", "start"])
    if len(plans) == 0:
        return pd.DataFrame(columns=cols)
    seats = plans.drop_duplicates(["person", "activity"]).copy()
    seats["period"] = pd.to_datetime(seats["start"]).dt.to_period(freq).astype(str)
    seats["cost"] = seats["cost"].astype(float).fillna(0.0)
    out = (
        seats.groupby(["activity", "title", "kind", "period"], observed=True)
        .agg(seats=("person", "nunique"), hours=("hours", "sum"), cost=("cost", "sum"))
        .reset_index()
    )
    return out.sort_values(["period", "activity"]).reset_index(drop=True)[cols]



def demand_within_budget(plans, *, budget=None, freq="Q"):
    """The training demand of the planned activities chosen within a budget.

    The planned rows (person, skill, activity, gain, cost) with the most expected gain whose
    costs add up to at most ``budget`` are chosen by an exact 0/1 knapsack
    (:func:`workbench.progression.costs.allocate_budget`); the demand counts those only.

    Parameters
    ----------
    plans : DataFrame
        The plans table (person, skill, activity, title, kind, start, hours, gain, cost).
    budget : float, optional
        Total cost allowed; None: every planned activity (the plans' own demand).
    freq : {"Q", "M"}
        As :func:`training_demand`.

    Returns
    -------
    DataFrame
        As :func:`training_demand`; ``attrs``: budget, chosen and planned (rows), total_gain
        and total_cost of the chosen rows.

    Examples
    --------
    >>> import pandas as pd
    >>> plans = pd.DataFrame({"person": ["a", "b", "c"], "skill": "S", "activity": "A1",
    ...                       "title": "T", "kind": "course",
    ...                       "start": pd.to_datetime(["2027-01-04"] * 3), "hours": 8.0,
    ...                       "gain": [0.3, 0.2, 0.25], "cost": 300.0})
    >>> demand = demand_within_budget(plans, budget=600)
    >>> demand[["seats", "cost"]].to_dict("records"), demand.attrs["total_gain"]
    ([{'seats': 2, 'cost': 600.0}], 0.55)
    """
    from workbench.progression.costs import allocate_budget

    if budget is None:
        return training_demand(plans, freq=freq)
    allocation = allocate_budget(plans, budget=budget)
    chosen = allocation["chosen"].to_numpy(bool)
    demand = training_demand(plans[chosen], freq=freq)
    demand.attrs.update(budget=float(budget), chosen=int(chosen.sum()), planned=len(plans),
                        total_gain=round(allocation.attrs["total_gain"], 10),
                        total_cost=allocation.attrs["total_cost"])
    return demand

def content_gaps(focus, catalog, matched):
    """Focus skills the catalog cannot serve: a to-do list for Learning & Development.

    Parameters
    ----------
    focus : DataFrame
        person, skill, score, target_level (the chosen focus skills).
    catalog : DataFrame or None
    matched : DataFrame
        person, skill of focus skills that received at least one activity.

    Returns
    -------
    DataFrame
        skill, n_people, level_from, level_to (range of current scores to targets), reason.
    """
    cols = ["skill", "n_people", "level_from", "level_to", "reason"]
    if len(focus) == 0:
        return pd.DataFrame(columns=cols)
    served = matched[["person", "skill"]].drop_duplicates().assign(_served=True)
    left = focus.merge(served, on=["person", "skill"], how="left")
    left = left[left["_served"].isna()]
    if len(left) == 0:
        return pd.DataFrame(columns=cols)
    known = set() if catalog is None or len(catalog) == 0 else set(catalog["skill"])
    out = (
        left.groupby("skill")
        .agg(n_people=("person", "nunique"), level_from=("score", "min"),
             level_to=("target_level", "max"))
        .reset_index()
    )
    out["reason"] = np.where(
        out["skill"].isin(known),
        "the catalog has activities for this skill, but none for these levels and gap type",
        "the catalog has no activity for this skill",
    )
    return out.sort_values("n_people", ascending=False).reset_index(drop=True)[cols]


def find_experts(scores, framework, *, confidence=0.8, needs=None):
    """People who excel in a skill and could teach it (internal trainers, mentors).

    A person excels when the one-sided lower bound ``score - z * se`` is at or above the
    highest level any role requires in that skill.

    Returns
    -------
    experts : DataFrame
        skill, person, score, se, lower, bar: one row per expert.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"person": ["a", "b"], "skill": "S", "score": [4.8, 3.0], "se": .1})
    >>> f = pd.DataFrame({"role": "R", "skill": ["S"], "required_level": [4.0]})
    >>> find_experts(s, f)["person"].tolist()
    ['a']
    """
    confidence = check_interval("confidence", confidence, low=0.5, high=1, inclusive="left")
    scores = as_scores(scores)
    cols = ["skill", "person", "score", "se", "lower", "bar"]
    if framework is None or len(framework) == 0:
        return pd.DataFrame(columns=cols)
    bar = framework.groupby("skill")["required_level"].max().rename("bar")
    z = norm.ppf(float(confidence))
    out = scores.merge(bar, left_on="skill", right_index=True)
    out = out.assign(lower=out["score"] - z * out["se"])
    out = out[out["lower"] >= out["bar"]]
    return out.sort_values(["skill", "lower"], ascending=[True, False]).reset_index(drop=True)[
        cols
    ]
