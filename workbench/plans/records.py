"""The per-person record behind each plan page and ``plans.json``: one person's plan as plain
Python, built from a :class:`~workbench.plans.result.PlanSet`'s tables in one pass per table.

Both the results object (``PlanSet.person``) and the writer (:mod:`workbench.plans.write`) read
it, so it sits below both.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from workbench.plans.gains import gain_source_text

__all__ = ["person_records", "ACTIVITY_FIELDS", "FOCUS_FIELDS", "READINESS_FIELDS"]


def _plain(frame):
    """A frame as JSON-ready records: dates as YYYY-MM-DD, missing values as None."""
    frame = frame.copy()
    for col in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[col]):
            frame[col] = frame[col].dt.strftime("%Y-%m-%d")
    frame = frame.astype(object).where(frame.notna(), None)
    out = frame.to_dict("records")
    for rec in out:
        for k, v in rec.items():
            if isinstance(v, np.generic):
                rec[k] = v.item()
    return out


def _by_person(frame, key="person"):
    groups = {}
    for rec in _plain(frame):
        groups.setdefault(rec.pop(key), []).append(rec)
    return groups


ACTIVITY_FIELDS = ["person", "skill", "activity", "title", "kind", "start", "end", "hours",
                   "hours_per_week", "modality", "gain", "gain_se", "gain_source"]
FOCUS_FIELDS = ["person", "skill", "focus_rank", "focus_type", "score", "se", "required_level",
                "destination_level", "destination_reason", "gap", "p_below", "weight",
                "priority", "expected_gain", "expected_gain_se", "gain_ci_low", "gain_ci_high",
                "gain_source", "expected_level", "level_low", "level_high", "target_level",
                "reaches_destination", "goal", "mentor", "no_mentor_reason"]


READINESS_FIELDS = ["person", "role", "relation", "p_ready", "p_ready_horizon", "band",
                    "n_below"]


def _mentor_details(people) -> dict:
    """person -> {mentor_name, mentor_role, mentor_team} from the people table."""
    names = people["name"] if "name" in people else pd.Series([None] * len(people),
                                                              index=people.index)
    return {
        person: {"mentor_name": None if pd.isna(name) else str(name),
                 "mentor_role": None if pd.isna(role) else str(role),
                 "mentor_team": None if pd.isna(team) else str(team)}
        for person, name, role, team in zip(people["person"], names, people["role"],
                                            people["team"], strict=True)
    }


def person_records(ps, people=None, pages=None):
    """plans.json records of ``people`` (all by default), built in one pass per table.

    ``pages`` maps person -> page file stem (written by :func:`workbench.plans.write`); a
    record says ``page`` only where the stem is not the person id itself.
    """
    def pick(frame, key="person"):
        return frame if people is None else frame[frame[key].isin(people)]

    info = pick(ps.people)
    acts = _by_person(pick(ps.plans)[ACTIVITY_FIELDS])
    focus = _by_person(pick(ps.focus)[[c for c in FOCUS_FIELDS if c in ps.focus]])
    strengths = _by_person(pick(ps.strengths))
    shown = _by_person(pick(ps.source_scores, "ratee"), "ratee")
    comments = _by_person(pick(ps.comments, "ratee"), "ratee")
    # a missing mentor is said under its skill already; the notes list the rest
    noted = pick(ps.issues)
    noted = noted[noted["issue"] != "no_mentor"]
    issues = _by_person(noted[["person", "message"]].dropna(subset=["person"]))
    ready = getattr(ps, "readiness", None)
    ready = _by_person(pick(ready)[READINESS_FIELDS]) if ready is not None and len(ready) \
        else {}
    tl = ps.timeline.set_index("person")
    s = ps.settings
    names = info["name"] if "name" in info else pd.Series([None] * len(info), index=info.index)
    about = _mentor_details(ps.people)
    records = []
    for person, role, team, name in zip(info["person"], info["role"], info["team"], names,
                                        strict=True):
        skills, by_skill, sources = [], {}, []
        for a in acts.get(person, []):
            by_skill.setdefault(a.pop("skill"), []).append(a)
            sources.append(a["gain_source"])
        for f in focus.get(person, []):
            f["activities"] = by_skill.get(f["skill"], [])
            if f.get("mentor") in about:  # the mentor's name, role and team for the page
                f.update(about[f["mentor"]])
            skills.append(f)
        has_tl = person in tl.index
        records.append({
            "person": person, "name": None if pd.isna(name) else name, "role": role,
            "team": team, "start": s.get("start"),
            "reassessment": f"{tl.at[person, 'reassessment']:%Y-%m-%d}" if has_tl else None,
            "checkins": [f"{d:%Y-%m-%d}" for d in tl.at[person, "checkins"]] if has_tl else [],
            "hours_per_week": s.get("hours_per_week"),
            "alpha": s.get("alpha", 0.05),
            "gain_note": gain_source_text(sources, default_gain=s.get("default_gain", 0.1),
                                          default_gain_se=s.get("default_gain_se", 0.1)),
            "strengths": strengths.get(person, []),
            "focus": skills,
            "source_scores": shown.get(person, []),
            "comments": comments.get(person, []),
            "issues": [m["message"] for m in issues.get(person, [])],
            "min_raters": s.get("min_raters"),
        })
        if person in ready:
            records[-1]["readiness"] = ready[person]
        # the page file is named after the person; stated only where the name had to change
        stem = None if pages is None else pages.get(person)
        if stem is not None and stem != str(person):
            records[-1]["page"] = stem
    return records
