"""Catalog activities for each focus skill: which fit, how rules rank them, what they add.

An activity fits a focus skill when it targets the skill, its level range
``[level_from, level_to]`` overlaps ``[score, destination_level]``, its kind suits the gap type
(``kinds_by_gap_type``: knowledge gaps take courses, reading, case studies; behaviour gaps
take role play, coaching, stretch assignments, observation; mentoring fits both), and its
expected gain (:mod:`workbench.plans.gains`) is positive. A *mentoring* activity fits only
when the person has a mentor for that skill; otherwise it is replaced by the next activity
(and the plan's issues say so). Rules from the configuration add one point per matching
``prefer_kinds`` and subtract one per ``avoid_kinds``; the schedule
(:mod:`workbench.plans.schedule`) weighs a point as ``rule_bonus`` scale points of gain.

Examples
--------
>>> import pandas as pd
>>> focus = pd.DataFrame({"person": ["a"], "skill": ["S"], "focus_rank": [1],
...                       "focus_type": ["gap"], "score": [2.0], "destination_level": [3.0],
...                       "gap_type": ["knowledge"]})
>>> cat = pd.DataFrame({"activity": ["A1", "A2"], "title": ["c", "r"], "skill": "S",
...                     "kind": ["course", "role_play"], "gap_type": "knowledge",
...                     "level_from": 1, "level_to": 3, "hours": 8, "weeks": 4})
>>> match_activities(focus, cat)["activity"].tolist()
['A1']
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.plans.config import BEHAVIOUR_KINDS, KNOWLEDGE_KINDS, check_rules
from workbench.plans.gains import activity_gains
from workbench.plans.inputs import catalog_frame
from workbench.tables.requirements import people_frame

__all__ = ["match_activities", "MATCH_COLUMNS"]

MATCH_COLUMNS = ["person", "skill", "focus_rank", "activity_rank", "activity", "title", "kind",
                 "hours", "weeks", "cost", "modality", "level_from", "level_to", "rule_score",
                 "rule_note", "gain", "gain_se", "gain_source", "gain_n"]


def match_activities(
    focus, catalog, *, people=None, profiles=None, rules=None, kinds_by_gap_type=None,
    gains=None, mentored=None, per_skill=None,
):
    """Catalog activities that fit each focus skill, ranked (the first ``per_skill`` if given).

    Parameters
    ----------
    focus : DataFrame
        person, skill, focus_rank, focus_type, score, destination_level, gap_type.
    catalog : DataFrame or None
    people, profiles : DataFrame, optional
        Attributes the rules can test (level, role, team, location; persona).
    rules : list, optional
        See :func:`workbench.plans.config.check_config`.
    kinds_by_gap_type : dict, optional
        gap type -> activity kinds that suit it.
    gains : DataFrame, optional
        From :func:`workbench.plans.gains.activity_gains` (default: the default gain).
    mentored : DataFrame, optional
        person, skill pairs that have a mentor; mentoring activities fit only these. None:
        mentoring is not restricted.
    per_skill : int, optional
        Keep the first this many per focus skill.

    Returns
    -------
    DataFrame
        person, skill, focus_rank, activity_rank (1 = best: gain plus rule points, then the
        level range centred nearest the gap, then fewer hours; one activity per kind before a
        second of the same kind), activity, title, kind, hours, weeks, cost, modality,
        level_from, level_to, rule_score, rule_note, gain, gain_se, gain_source, gain_n.
        ``attrs["dropped"]`` lists candidates left out (person, skill, activity, reason).
    """
    cat = catalog_frame(catalog)
    empty = pd.DataFrame(columns=MATCH_COLUMNS)
    empty.attrs["dropped"] = pd.DataFrame(columns=["person", "skill", "activity", "reason"])
    if len(focus) == 0 or len(cat) == 0:
        return empty
    kinds = kinds_by_gap_type or {"knowledge": KNOWLEDGE_KINDS, "behaviour": BEHAVIOUR_KINDS}
    rules = check_rules(rules)
    if gains is None:
        gains = activity_gains(cat)
    gains = gains.rename(columns={"n": "gain_n"})
    base = focus[["person", "skill", "focus_rank", "focus_type", "score", "destination_level",
                  "gap_type"]]
    cat = cat.drop(columns=["expected_gain", "expected_gain_se"])
    cat = cat.assign(activity=cat["activity"].astype(str), skill=cat["skill"].astype(str))
    cat = cat.merge(gains[["activity", "skill", "gain", "gain_se", "gain_source", "gain_n"]],
                    on=["activity", "skill"], how="left")
    pairs = base.merge(cat.rename(columns={"gap_type": "activity_gap_type"}), on="skill")
    lo = np.minimum(pairs["score"], pairs["destination_level"])
    pairs = pairs[(pairs["level_from"] <= pairs["destination_level"]) & (pairs["level_to"] >= lo)]
    gap_type = pairs["gap_type"].where(pairs["gap_type"].notna(), pairs["activity_gap_type"])
    allowed = np.zeros(len(pairs), dtype=bool)
    for gt, listed in kinds.items():
        allowed |= (gap_type == gt).to_numpy() & pairs["kind"].isin(listed).to_numpy()
    allowed |= gap_type.isna().to_numpy()
    pairs = pairs[allowed].copy()
    dropped = []
    not_positive = ~(pairs["gain"] > 0)
    if not_positive.any():
        bad = pairs[not_positive]
        dropped.append(bad[["person", "skill", "activity"]].assign(
            reason="its expected gain is not positive (" + bad["gain_source"].astype(str)
            + " " + bad["gain"].map(lambda v: f"{v:.2f}") + ")"))
        pairs = pairs[~not_positive]
    if mentored is not None:
        has = pd.MultiIndex.from_frame(mentored[["person", "skill"]])
        keys = pd.MultiIndex.from_frame(pairs[["person", "skill"]])
        orphan = (pairs["kind"] == "mentoring").to_numpy() & ~keys.isin(has)
        if orphan.any():
            dropped.append(pairs.loc[orphan, ["person", "skill", "activity"]].assign(
                reason="mentoring needs a mentor and none is available for this skill"))
            pairs = pairs[~orphan]
    dropped = (pd.concat(dropped, ignore_index=True) if dropped else
               pd.DataFrame(columns=["person", "skill", "activity", "reason"]))
    if len(pairs) == 0:
        empty.attrs["dropped"] = dropped
        return empty
    pairs = _apply_rules(pairs, rules, people, profiles)
    mid = (pairs["level_from"] + pairs["level_to"]) / 2
    centre = (pairs["score"] + pairs["destination_level"]) / 2
    pairs["rank_score"] = (pairs["gain"] + pairs["rule_score"] - 0.01 * (mid - centre).abs()
                           - 0.0001 * pairs["hours"])
    pairs = pairs.sort_values(["person", "skill", "rank_score", "activity"],
                              ascending=[True, True, False, True], kind="stable")
    # one activity per kind first, then the rest, so a focus skill gets a mix
    pairs["_dup_kind"] = pairs.duplicated(["person", "skill", "kind"])
    pairs = pairs.sort_values(["person", "skill", "_dup_kind", "rank_score", "activity"],
                              ascending=[True, True, True, False, True], kind="stable")
    pairs["activity_rank"] = pairs.groupby(["person", "skill"]).cumcount() + 1
    if per_skill is not None:
        pairs = pairs[pairs["activity_rank"] <= per_skill]
    out = pairs[MATCH_COLUMNS].sort_values(["person", "focus_rank", "activity_rank"])
    out = out.reset_index(drop=True)
    out.attrs["dropped"] = dropped
    return out


def _apply_rules(pairs, rules, people, profiles):
    pairs = pairs.assign(rule_score=0.0, rule_note="")
    if not rules:
        return pairs
    attrs = pairs[["person", "skill", "gap_type", "focus_type"]].copy()
    if people is not None:
        p = people_frame(people).set_index("person")
        for col in ("level", "role", "team", "location"):
            attrs[col] = pairs["person"].map(p[col]).astype(object)
    if profiles is not None:
        prof = profiles.rename(columns={"ratee": "person"})
        if "persona" in prof:
            attrs["persona"] = pairs["person"].map(
                prof.drop_duplicates("person").set_index("person")["persona"]
            ).astype(object)
    notes = np.full(len(pairs), "", dtype=object)
    score = np.zeros(len(pairs))
    kind = pairs["kind"].to_numpy()
    for rule in rules:
        mask = np.ones(len(pairs), dtype=bool)
        for key, values in rule["when"].items():
            if key not in attrs:
                mask[:] = False
                break
            mask &= attrs[key].astype(str).isin(values).to_numpy()
        pref = mask & np.isin(kind, rule["prefer_kinds"])
        avoid = mask & np.isin(kind, rule["avoid_kinds"])
        score += pref.astype(float) - avoid.astype(float)
        hit = pref | avoid
        notes[hit] = np.where(notes[hit] == "", rule["note"], notes[hit] + "; " + rule["note"])
    pairs["rule_score"] = score
    pairs["rule_note"] = notes
    return pairs
