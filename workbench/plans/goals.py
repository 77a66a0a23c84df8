"""Goals that the evidence can deliver: the 12-week target and the longer-term destination.

For a focus skill with current score ``m`` (SE ``s``) and scheduled activities with expected
gains ``g_a`` (SE ``se_a``, :mod:`workbench.plans.gains`):

* predicted gain ``G = sum_a g_a``, ``se(G) = sqrt(sum_a se_a^2)``, interval
  ``G +- z se(G)`` (``z = Phi^-1(1 - alpha/2)``);
* expected level ``m + G``; plausible range ``m + G +- z sqrt(s^2 + se(G)^2)`` (the true level
  now is uncertain too), clipped to the scale;
* the 12-week target is the expected level, but never above the destination (the role's
  requirement, or the stretch level) nor the top of the scale. So a target never exceeds the
  current level plus the upper end of the predicted gain;
* the destination stays on the page as the longer-term goal.

Examples
--------
>>> import pandas as pd
>>> focus = pd.DataFrame({"person": ["a"], "skill": ["S"], "focus_type": ["gap"],
...                       "score": [2.0], "se": [0.2], "destination_level": [3.5],
...                       "destination_reason": ["the Lead requirement"]})
>>> plans = pd.DataFrame({"person": ["a", "a"], "skill": "S", "gain": [0.3, 0.2],
...                       "gain_se": [0.1, 0.1], "gain_source": "measured"})
>>> g = set_targets(focus, plans, scale=(1, 5))
>>> float(g["target_level"].iloc[0])
2.5
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import norm

from workbench.checks import check_alpha
from workbench.plans.inputs import scale_bounds

__all__ = ["set_targets", "write_goals", "TARGET_COLUMNS"]

TARGET_COLUMNS = ["n_activities", "expected_gain", "expected_gain_se", "gain_ci_low",
                  "gain_ci_high", "gain_source", "expected_level", "level_low", "level_high",
                  "target_level", "reaches_destination"]


def set_targets(focus, plans, *, alpha=0.05, scale=None) -> pd.DataFrame:
    """Add the predicted gain, expected level, plausible range and 12-week target to ``focus``.

    Parameters
    ----------
    focus : DataFrame
        person, skill, score, se, destination_level.
    plans : DataFrame
        Scheduled activities: person, skill, gain, gain_se, gain_source.
    alpha : float
        1 - the level of the intervals.
    scale : Scale, (min, max) or None

    Returns
    -------
    DataFrame
        ``focus`` plus n_activities, expected_gain, expected_gain_se, gain_ci_low,
        gain_ci_high, gain_source (the sources of its activities' gains, "+"-joined; "none"
        without activities), expected_level, level_low, level_high, target_level,
        reaches_destination (bool).
    """
    alpha = check_alpha(alpha)
    low, high = scale_bounds(scale)
    z = norm.ppf(1 - alpha / 2)
    focus = focus.drop(columns=[c for c in TARGET_COLUMNS if c in focus.columns])
    sources = ("measured", "catalog", "default")
    if len(plans):
        flags = {f"_{k}": (plans["gain_source"] == k).to_numpy() for k in sources}
        per = plans.assign(_sq=np.square(plans["gain_se"].astype(float)), **flags).groupby(
            ["person", "skill"], sort=False).agg(
            n_activities=("gain", "size"), expected_gain=("gain", "sum"), _var=("_sq", "sum"),
            **{f"_{k}": (f"_{k}", "any") for k in sources}).reset_index()
        # the sources behind a skill's gain, best evidence first ("measured+default")
        label = pd.Series("", index=per.index)
        for k in sources:
            label = label.where(~per[f"_{k}"], label + np.where(label == "", "", "+") + k)
        per["gain_source"] = label.replace("", "none")
        per = per.drop(columns=[f"_{k}" for k in sources])
    else:
        per = pd.DataFrame(columns=["person", "skill", "n_activities", "expected_gain", "_var",
                                    "gain_source"])
    out = focus.merge(per, on=["person", "skill"], how="left")
    out["n_activities"] = out["n_activities"].fillna(0).astype(int)
    out["expected_gain"] = out["expected_gain"].astype(float).fillna(0.0)
    out["expected_gain_se"] = np.sqrt(out["_var"].astype(float).fillna(0.0))
    out["gain_source"] = out["gain_source"].fillna("none")
    out["gain_ci_low"] = out["expected_gain"] - z * out["expected_gain_se"]
    out["gain_ci_high"] = out["expected_gain"] + z * out["expected_gain_se"]
    se = out["se"].astype(float).fillna(0.0)
    out["expected_level"] = out["score"] + out["expected_gain"]
    spread = z * np.sqrt(se ** 2 + out["expected_gain_se"] ** 2)
    out["level_low"] = (out["expected_level"] - spread).clip(low, high)
    out["level_high"] = (out["expected_level"] + spread).clip(low, high)
    ceiling = np.minimum(out["destination_level"].astype(float), high)
    out["target_level"] = np.minimum(out["expected_level"], ceiling)
    # a target is never below where the person is now
    out["target_level"] = np.maximum(out["target_level"], np.minimum(out["score"], ceiling))
    out["reaches_destination"] = out["expected_level"] >= out["destination_level"] - 1e-9
    return out.drop(columns="_var")


def write_goals(focus, *, by, evidence="manager and peer re-rating", weeks=12) -> pd.Series:
    """The SMART goal sentence of each focus skill (achievable, time-bound, with evidence).

    Examples
    --------
    >>> import pandas as pd
    >>> f = pd.DataFrame({"skill": ["Coaching"], "focus_type": ["gap"], "score": [1.8],
    ...                   "target_level": [2.3], "level_low": [1.9], "level_high": [2.7],
    ...                   "destination_level": [4.0], "n_activities": [2],
    ...                   "destination_reason": ["the Team Lead requirement"],
    ...                   "reaches_destination": [False]})
    >>> print(write_goals(f, by="29 Mar 2027").iloc[0])
    Raise Coaching from 1.8 to 2.3 by 29 Mar 2027 (the level the planned activities can be expected to deliver; plausible range 1.9 to 2.7), on the way to 4.0 (the Team Lead requirement); evidence: manager and peer re-rating in week 12
    """
    texts = []
    for r in focus.itertuples(index=False):
        verb = "Stretch" if r.focus_type == "stretch" else "Raise"
        tail = f"; evidence: {evidence} in week {weeks}"
        if r.n_activities == 0:
            texts.append(f"No activity could be planned for {r.skill} this period; the "
                         f"destination stays {r.destination_level:.1f} "
                         f"({r.destination_reason})")
        elif r.reaches_destination:
            texts.append(f"{verb} {r.skill} from {r.score:.1f} to {r.target_level:.1f} "
                         f"({r.destination_reason}) by {by}; the planned activities can be "
                         f"expected to get there (plausible range {r.level_low:.1f} to "
                         f"{r.level_high:.1f})" + tail)
        else:
            texts.append(f"{verb} {r.skill} from {r.score:.1f} to {r.target_level:.1f} by {by} "
                         "(the level the planned activities can be expected to deliver; "
                         f"plausible range {r.level_low:.1f} to {r.level_high:.1f}), on the way "
                         f"to {r.destination_level:.1f} ({r.destination_reason})" + tail)
    return pd.Series(texts, index=focus.index, dtype=object)
