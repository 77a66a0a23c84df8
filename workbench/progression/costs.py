"""Cost-effectiveness per activity, and the most expected gain a budget can buy.

**Cost per person** of an activity: the catalog's ``cost`` plus ``hours x hourly_cost`` (the
learner's time). **Cost per point** of skill gained: cost per person / the activity's measured
effect (impact's per-activity effects: estimate, se, ci_low, ci_high); **cost per unit of
outcome**: the same with the level-4 effect (:func:`workbench.progression.outcome_effects`).
The cost is a known constant per person, so Fieller's interval of ``cost / effect`` is the
effect's interval inverted: ``[cost / ci_high, cost / ci_low]`` when the effect's interval is
above 0; when it includes 0 the ratio is unbounded (``ci_high = inf``; the note says "effect
not distinguishable from 0") and when it is below 0 the activity does not buy any gain.

**Budget** (:func:`allocate_budget`): from the planned (person, skill, activity) rows with their
expected gains and costs, the set with the largest expected total gain whose cost stays within
the budget: a 0/1 knapsack solved exactly by mixed-integer programming (``scipy.optimize.milp``,
HiGHS).

Examples
--------
>>> import pandas as pd
>>> cat = pd.DataFrame({"activity": ["A"], "skill": "S", "cost": [500.0], "hours": [10.0]})
>>> eff = pd.DataFrame({"activity": ["A"], "skill": "S", "estimate": [0.3], "se": [0.1],
...                     "ci_low": [0.1], "ci_high": [0.5]})
>>> cost_effectiveness(cat, eff, hourly_cost=50)[["cost_per_person", "estimate", "ci_low",
...                                               "ci_high"]].round(1).to_dict("records")
[{'cost_per_person': 1000.0, 'estimate': 3333.3, 'ci_low': 2000.0, 'ci_high': 10000.0}]
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.optimize import Bounds, LinearConstraint, milp

from workbench.checks import check_interval
from workbench.errors import ConfigError, InputError, Problem

__all__ = ["activity_costs", "cost_effectiveness", "allocate_budget"]


def activity_costs(catalog, *, hourly_cost=0.0, source="catalog") -> pd.DataFrame:
    """activity, cost (catalog), hours, cost_per_person (cost + hours x hourly_cost).

    Raises
    ------
    InputError
        A cost or hours that is missing, not a number or negative (every row named): cost
        effectiveness needs every activity's cost.
    """
    hourly_cost = check_interval("hourly_cost", hourly_cost, low=0)
    if not isinstance(catalog, pd.DataFrame):
        raise ConfigError(f"catalog: expected a DataFrame, got {type(catalog).__name__}")
    source = str(catalog.attrs.get("file", source))
    problems = []
    for column in ("activity", "cost", "hours"):
        if column not in catalog:
            problems.append(Problem(source, None, column, f"missing column '{column}' (cost "
                                    "effectiveness needs each activity's cost and hours)"))
    if problems:
        raise InputError(problems)
    frame = catalog.drop_duplicates("activity").copy()
    for column in ("cost", "hours"):
        values = pd.to_numeric(frame[column], errors="coerce")
        for i in frame.index[values.isna() | (values < 0)]:
            problems.append(Problem(source, int(i) + 2, column,
                                    f"'{column}' is missing or negative (cost effectiveness "
                                    "needs it)", "" if pd.isna(frame.at[i, column])
                                    else str(frame.at[i, column])))
        frame[column] = values
    if problems:
        raise InputError(problems)
    frame["activity"] = frame["activity"].astype(str)
    frame["cost_per_person"] = frame["cost"] + frame["hours"] * hourly_cost
    return frame[["activity", "cost", "hours", "cost_per_person"]].reset_index(drop=True)


def _ratio(cost, effects, key, unit):
    e = effects.copy()
    e["activity"] = e["activity"].astype(str)
    e = e.merge(cost, on="activity", how="inner")
    c = e["cost_per_person"].to_numpy(float)
    low, high, est = (e[k].to_numpy(float) for k in ("ci_low", "ci_high", "estimate"))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(est > 0, c / est, np.inf)
        ci_low = np.where(high > 0, c / high, np.inf)
        ci_high = np.where(low > 0, c / low, np.inf)
    note = np.where(low > 0, "", np.where(high <= 0, "no gain: effect below 0",
                                           "effect not distinguishable from 0: unbounded"))
    out = pd.DataFrame({key: e[key], "activity": e["activity"], "per": unit,
                        "cost_per_person": c, "effect": est, "effect_ci_low": low,
                        "effect_ci_high": high, "estimate": ratio, "ci_low": ci_low,
                        "ci_high": ci_high, "note": note,
                        "n": e["n"] if "n" in e else np.nan})
    return out


def cost_effectiveness(catalog, skill_effects=None, outcome_effects=None, *, hourly_cost=0.0):
    """Cost per person, per point of skill and per unit of outcome, per activity.

    Parameters
    ----------
    catalog : DataFrame
        activity, cost, hours (every activity's cost is needed).
    skill_effects : DataFrame, optional
        activity, skill, estimate, ci_low, ci_high (impact's ``effects_by_activity``).
    outcome_effects : DataFrame, optional
        metric, activity, estimate, ci_low, ci_high (level 4).
    hourly_cost : float
        Cost of an hour of the learner's time.

    Returns
    -------
    DataFrame
        skill or metric (the unit's name in ``target``), activity, per ("skill point" or
        "outcome unit"), cost_per_person, effect, effect_ci_low, effect_ci_high, estimate
        (cost per unit), ci_low, ci_high (Fieller: the effect's interval inverted), note, n.
    """
    cost = activity_costs(catalog, hourly_cost=hourly_cost)
    parts = []
    if skill_effects is not None:
        parts.append(_ratio(cost, skill_effects, "skill", "skill point").rename(
            columns={"skill": "target"}))
    if outcome_effects is not None:
        parts.append(_ratio(cost, outcome_effects, "metric", "outcome unit").rename(
            columns={"metric": "target"}))
    if not parts:
        return cost.assign(per="person")
    return pd.concat(parts, ignore_index=True)


def allocate_budget(options, *, budget) -> pd.DataFrame:
    """Choose the planned activities with the most expected gain within a budget.

    Parameters
    ----------
    options : DataFrame
        One row per option (e.g. the plans table: person, skill, activity, gain, cost).
    budget : float
        Total cost allowed.

    Returns
    -------
    DataFrame
        ``options`` with ``chosen`` (bool); ``attrs`` holds total_gain and total_cost.

    Examples
    --------
    >>> import pandas as pd
    >>> o = pd.DataFrame({"gain": [0.3, 0.2, 0.25], "cost": [600.0, 300.0, 300.0]})
    >>> allocate_budget(o, budget=600)["chosen"].tolist()
    [False, True, True]
    """
    budget = check_interval("budget", budget, low=0)
    for column in ("gain", "cost"):
        if column not in options:
            raise ConfigError(f"options: no column {column!r}")
    gain = pd.to_numeric(options["gain"], errors="coerce").fillna(0).clip(lower=0).to_numpy()
    cost = pd.to_numeric(options["cost"], errors="coerce")
    bad = cost.isna() | (cost < 0)
    if bad.any():
        raise InputError([Problem("options", int(i) + 2, "cost", "cost is missing or negative",
                                  str(options.at[i, "cost"])) for i in options.index[bad]])
    cost = cost.to_numpy(float)
    n = len(options)
    if n == 0:
        return options.assign(chosen=pd.Series(dtype=bool))
    res = milp(-gain, integrality=np.ones(n), bounds=Bounds(0, 1),
               constraints=LinearConstraint(cost[None, :], -np.inf, budget))
    if res.x is None:
        raise ConfigError(f"budget={budget:g}: no allocation found ({res.message})")
    chosen = res.x > 0.5
    out = options.assign(chosen=chosen)
    out.attrs.update(total_gain=float(gain[chosen].sum()), total_cost=float(cost[chosen].sum()))
    return out
