"""Gaps and focus skills: how far each person is from what their role requires, and how sure.

A gap, its probability ``p_below`` and the expected shortfall are the one definition in
:mod:`workbench.tables.requirements`; the plans rank the gaps by priority: business weight x
expected shortfall (``priority="weight_x_shortfall"``; other formulas or a callable can be
configured).

The ``n_focus`` gaps with the highest priority become focus skills; someone with no gap gets a
*stretch* focus toward the next level. The requirement (or the stretch level) is the focus
skill's *destination*; the 12-week target is what the planned activities can deliver
(:mod:`workbench.plans.goals`).

Examples
--------
>>> import pandas as pd
>>> scores = pd.DataFrame({"person": ["a", "a"], "skill": ["S", "T"], "score": [2.5, 3.9],
...                        "se": [0.25, 0.2]})
>>> people = pd.DataFrame({"person": ["a"], "role": ["R"], "team": ["X"]})
>>> framework = pd.DataFrame({"role": ["R", "R"], "skill": ["S", "T"],
...                           "required_level": [3.0, 4.0], "weight": [2.0, 1.0]})
>>> compute_gaps(scores, people, framework)[["skill", "priority", "has_gap"]].round(3)
  skill  priority  has_gap
0     S     1.004     True
1     T     0.140    False
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.checks import check_choice, check_integer, check_interval
from workbench.plans.config import PRIORITY_FORMULAS
from workbench.tables.requirements import framework_frame, gap_statistics, role_gaps

__all__ = ["compute_gaps", "choose_focus_skills", "FOCUS_COLUMNS"]

FOCUS_COLUMNS = ["person", "role", "team", "skill", "focus_rank", "focus_type", "score", "se",
                 "required_level", "destination_level", "destination_reason", "gap", "p_below",
                 "expected_shortfall", "priority", "weight", "gap_type"]


def _check_priority(priority):
    if not callable(priority):
        check_choice("priority", priority, tuple(PRIORITY_FORMULAS))
    return priority


def _prioritised(frame, priority):
    """``frame`` with the ``priority`` column of the configured formula (or callable)."""
    formula = priority if callable(priority) else PRIORITY_FORMULAS[priority]
    return frame.assign(priority=np.asarray(formula(frame), dtype=float))


def compute_gaps(
    scores, people, framework, *, gap_probability=0.7, priority="weight_x_shortfall",
    wave="latest",
):
    """Gap of every person in every skill their role requires, with its probability and priority.

    The gaps are :func:`workbench.tables.requirements.role_gaps` (``scores``, ``people``,
    ``framework``, ``gap_probability`` in (0.5, 1) and ``wave`` as there), the one definition
    of a gap; this adds the ``priority`` column (before ``has_gap``) from ``priority``, one of
    :data:`~workbench.plans.config.PRIORITY_FORMULAS` or ``f(frame) -> array``.

    Returns
    -------
    DataFrame
        The columns of ``role_gaps`` with ``priority`` before ``has_gap``.

    Notes
    -----
    The closed form ``(r - m) Phi(d) + s phi(d)`` is checked against Monte Carlo integration
    in tests/plans/test_gaps.py.
    """
    gap_probability = check_interval("gap_probability", gap_probability, low=0.5, high=1,
                                     inclusive="neither")
    priority = _check_priority(priority)
    frame = role_gaps(scores, people, framework, gap_probability=gap_probability, wave=wave)
    return _prioritised(frame.drop(columns="has_gap"), priority).assign(has_gap=frame["has_gap"])


def choose_focus_skills(
    gaps, *, n_focus=2, gap_probability=0.7, stretch="next_level", stretch_step=0.5,
    next_role=None, framework=None, priority="weight_x_shortfall", scale_max=5.0,
):
    """Pick each person's focus skills: the gaps with the highest priority.

    Only skills with ``has_gap`` are chosen, at most ``n_focus`` (1 to 3); their destination is
    the role's requirement. People with no gap get a stretch focus (``stretch="next_level"``):
    the same rule against the next role's required level (``next_role`` maps role -> next
    role) or the requirement plus ``stretch_step``, capped at ``scale_max``;
    ``stretch="none"`` gives them no focus.

    Returns
    -------
    DataFrame
        person, role, team, skill, focus_rank (1 = highest priority), focus_type ("gap" or
        "stretch"), score, se, required_level, destination_level, destination_reason, gap
        (destination - score), p_below (probability that the true level is below the
        destination), expected_shortfall, priority, weight, gap_type.

    Examples
    --------
    >>> import pandas as pd
    >>> g = pd.DataFrame({"person": "a", "role": "R", "team": "T", "skill": ["X", "Y", "Z"],
    ...                   "required_level": 3.0, "weight": 1.0, "gap_type": "knowledge",
    ...                   "score": [2.0, 2.5, 3.5], "se": 0.1, "gap": [1.0, .5, -.5],
    ...                   "p_below": [1, 1, 0.0], "expected_shortfall": [1, .5, 0.0],
    ...                   "priority": [1, .5, 0.0], "has_gap": [True, True, False]})
    >>> choose_focus_skills(g)["skill"].tolist()
    ['X', 'Y']
    """
    n_focus = check_integer("n_focus", n_focus, low=1, high=3)
    check_choice("stretch", stretch, ("next_level", "none"))
    priority = _check_priority(priority)
    gap_rows = gaps[gaps["has_gap"]].assign(
        focus_type="gap", destination_level=lambda f: f["required_level"],
        destination_reason=lambda f: "the " + f["role"].astype(str) + " requirement",
    )
    parts = [gap_rows]
    if stretch == "next_level":
        rated = gaps[gaps["score"].notna()]
        no_gap = rated.groupby("person")["has_gap"].transform("any")
        cand = rated[~no_gap].copy()
        if len(cand):
            cand = _stretch_targets(cand, next_role or {}, framework, stretch_step, scale_max)
            cand = _prioritised(gap_statistics(cand.drop(
                columns=["gap", "p_below", "expected_shortfall", "priority"]),
                "destination_level"), priority)
            cand = cand[(cand["p_below"] >= gap_probability) & (cand["gap"] > 0)]
            parts.append(cand.assign(focus_type="stretch"))
    kept = [p for p in parts if len(p)]
    focus = pd.concat(kept, ignore_index=True) if kept else gap_rows.iloc[0:0]
    focus = focus.sort_values(["person", "priority", "skill"], ascending=[True, False, True],
                              kind="stable")
    focus["focus_rank"] = focus.groupby("person").cumcount() + 1
    focus = focus[focus["focus_rank"] <= n_focus]
    focus = focus.assign(gap=focus["destination_level"] - focus["score"])
    return focus[FOCUS_COLUMNS].reset_index(drop=True)


def _stretch_targets(cand, next_role, framework, step, scale_max):
    what = "half a point" if step == 0.5 else f"{step:g}"
    cand = cand.assign(destination_level=np.minimum(cand["required_level"] + step, scale_max),
                       destination_reason=what + " above the " + cand["role"].astype(str)
                       + " requirement")
    if next_role and framework is not None:
        fw = framework_frame(framework)
        nxt = cand["role"].map(lambda r: next_role.get(r))
        lookup = fw.set_index(["role", "skill"])["required_level"]
        keys = list(zip(nxt, cand["skill"], strict=True))
        level = pd.Series([lookup.get(k, np.nan) for k in keys], index=cand.index, dtype=float)
        use = level.notna() & (level > cand["required_level"])
        cand.loc[use, "destination_level"] = np.minimum(level[use], scale_max)
        cand.loc[use, "destination_reason"] = "the " + nxt[use].astype(str) + " level"
    return cand
