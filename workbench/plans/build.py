"""Personalised learning plans from calibrated scores: gaps, focus skills, activities, mentors.

For each person and each skill their role requires, the calibrated score ``m`` (with standard
error ``s``) is compared with the required level ``r``:

* probability that the true level is below the requirement: ``P = Phi((r - m) / s)``; a skill is
  a gap only when ``P >= gap_probability`` (0.7 by default), so a gap that is only rater noise is
  not chosen;
* expected shortfall under ``true ~ Normal(m, s)``:
  ``E[max(r - true, 0)] = (r - m) Phi(d) + s phi(d)`` with ``d = (r - m) / s``;
* priority: business weight x expected shortfall (``priority="weight_x_shortfall"``; other
  formulas or a callable can be configured).

The ``n_focus`` (2 by default, 3 at most) gaps with the highest priority become focus skills;
someone with no gap gets a *stretch* plan toward the next level (configurable, or none). Each
focus skill receives catalog activities that fit its skill, its level range and its gap type
(knowledge gaps: course, reading, case study; behaviour gaps: role play, coaching, stretch
assignment, observation; mentoring fits both); rules in the engagement configuration shift the
mix by persona, career stage, role, team, ... Activities are scheduled within a weekly hours
budget over an 8 to 12 week plan with bi-weekly check-ins and a re-assessment at the end, and
mentors are matched optimally across the organisation (:mod:`workbench.plans.mentors`).

Examples
--------
>>> from workbench.synth.generator import generate_organisation
>>> from workbench.plans.build import build_plans
>>> from workbench.synth import truth_scores
>>> org = generate_organisation(120, seed=1, n_waves=1)
>>> scores = truth_scores(org, se=0.2, wave=1, random_state=1)
>>> plans = build_plans(scores, org.people, org.framework, org.catalog, start="2027-01-04")
>>> sorted(plans.plans.columns)[:3]
['activity', 'cost', 'end']
"""

from __future__ import annotations

import copy
import html
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.stats import norm

from workbench.errors import ConfigError, InputError
from workbench.plans.confidentiality import (
    EXEMPT_SOURCES,
    comments_for_display,
    source_scores_for_display,
)
from workbench.plans.demand import (
    content_gaps,
    find_experts,
    gap_heatmap,
    plot_gap_heatmap,
    training_demand,
)
from workbench.plans.mentors import match_mentors
from workbench.tables.data import ACTIVITY_KINDS, GAP_TYPES

__all__ = [
    "DEFAULT_CONFIG",
    "PRIORITY_FORMULAS",
    "PlanSet",
    "build_plans",
    "write_plans",
    "check_config",
    "compute_gaps",
    "choose_focus_skills",
    "match_activities",
    "schedule_activities",
    "match_mentors",
    "training_demand",
    "gap_heatmap",
    "plot_gap_heatmap",
    "source_scores_for_display",
    "render_person_page",
]

KNOWLEDGE_KINDS = ["course", "reading", "case_study", "mentoring"]
BEHAVIOUR_KINDS = ["role_play", "coaching", "stretch_assignment", "observation", "mentoring"]

DEFAULT_CONFIG = {
    "n_focus": 2,
    "gap_probability": 0.7,
    "priority": "weight_x_shortfall",
    "stretch": "next_level",
    "stretch_step": 0.5,
    "next_role": {},
    "hours_per_week": 3.0,
    "weeks": 12,
    "checkin_every": 2,
    "activities_per_skill": 2,
    "kinds_by_gap_type": {"knowledge": KNOWLEDGE_KINDS, "behaviour": BEHAVIOUR_KINDS},
    "rules": [],
    "mentors": True,
    "mentor_capacity": 2,
    "mentor_confidence": 0.8,
    "mentor_candidates": None,
    "mentor_costs": {},
    "mentor_block_size": 1000,
    "role_families": {},
    "min_raters": 3,
    "exempt_sources": list(EXEMPT_SOURCES),
    "min_cell": 5,
    "wave": "latest",
    "scale_max": 5.0,
    "evidence": "manager and peer re-rating",
    "n_strengths": 3,
}

PRIORITY_FORMULAS = {
    "weight_x_shortfall": lambda f: f["weight"] * f["expected_shortfall"],
    "shortfall": lambda f: f["expected_shortfall"],
    "weight_x_gap": lambda f: f["weight"] * np.maximum(f["gap"], 0.0),
    "weight_x_probability": lambda f: f["weight"] * f["p_below"],
}

RULE_KEYS = ("persona", "level", "role", "team", "location", "skill", "gap_type", "focus_type")

ISSUE_COLUMNS = ["person", "skill", "activity", "issue", "message"]


# --------------------------------------------------------------------------------------------
# Configuration
# --------------------------------------------------------------------------------------------


def check_config(config=None):
    """Merge ``config`` over :data:`DEFAULT_CONFIG` and check every value; return the result.

    Raises
    ------
    ConfigError
        Naming the key and the bad value (unknown keys too).

    Examples
    --------
    >>> check_config({"n_focus": 3})["n_focus"]
    3
    >>> check_config({"n_focus": 4})
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: plans config: n_focus must be 1, 2 or 3, got 4
    """
    if config is None:
        config = {}
    if not isinstance(config, Mapping):
        raise ConfigError(f"plans config must be a mapping, got {type(config).__name__}")
    unknown = sorted(set(config) - set(DEFAULT_CONFIG))
    if unknown:
        raise ConfigError(
            f"plans config: unknown key(s) {unknown}; known keys: {sorted(DEFAULT_CONFIG)}"
        )
    cfg = copy.deepcopy(DEFAULT_CONFIG)
    cfg.update(copy.deepcopy(dict(config)))

    def bad(key, what):
        raise ConfigError(f"plans config: {key} must be {what}, got {cfg[key]!r}")

    def whole(key, lo, hi):
        v = cfg[key]
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or not lo <= v <= hi:
            bad(key, f"a whole number from {lo} to {hi}")

    def number(key, lo, hi, closed=True):
        v = cfg[key]
        ok = isinstance(v, (int, float, np.number)) and not isinstance(v, bool)
        ok = ok and np.isfinite(v) and (lo <= v <= hi if closed else lo < v < hi)
        if not ok:
            bad(key, f"a number in {'[' if closed else '('}{lo}, {hi}{']' if closed else ')'}")

    if cfg["n_focus"] not in (1, 2, 3) or isinstance(cfg["n_focus"], bool):
        bad("n_focus", "1, 2 or 3")
    number("gap_probability", 0.5, 1.0, closed=False)
    if not (callable(cfg["priority"]) or cfg["priority"] in PRIORITY_FORMULAS):
        bad("priority", f"one of {sorted(PRIORITY_FORMULAS)} or a function")
    if cfg["stretch"] not in ("next_level", "none"):
        bad("stretch", "'next_level' or 'none'")
    number("stretch_step", 0.0, 5.0)
    number("hours_per_week", 0.25, 40.0)
    whole("weeks", 2, 52)
    whole("checkin_every", 1, 52)
    whole("activities_per_skill", 1, 5)
    whole("mentor_capacity", 0, 50)
    number("mentor_confidence", 0.5, 1.0, closed=False)
    if cfg["mentor_candidates"] is not None:
        whole("mentor_candidates", 1, 100_000)
    whole("min_cell", 1, 10_000)
    if cfg["mentor_block_size"] is not None:
        whole("mentor_block_size", 2, 10_000_000)
    whole("n_strengths", 0, 20)
    number("scale_max", -1e9, 1e9)
    for key in ("next_role", "role_families", "mentor_costs"):
        if not isinstance(cfg[key], Mapping):
            bad(key, "a mapping")
    if not isinstance(cfg["mentors"], bool):
        bad("mentors", "true or false")
    if not (cfg["wave"] in ("latest", None) or isinstance(cfg["wave"], (int, np.integer))):
        bad("wave", "'latest', a wave number or null")
    kinds = cfg["kinds_by_gap_type"]
    if not isinstance(kinds, Mapping) or set(kinds) - set(GAP_TYPES):
        bad("kinds_by_gap_type", f"a mapping from {list(GAP_TYPES)} to activity kinds")
    for gap_type, listed in kinds.items():
        unknown_kinds = set(listed) - set(ACTIVITY_KINDS)
        if unknown_kinds:
            raise ConfigError(
                f"plans config: kinds_by_gap_type[{gap_type!r}] has unknown kind(s) "
                f"{sorted(unknown_kinds)}; known: {list(ACTIVITY_KINDS)}"
            )
    cfg["rules"] = [_check_rule(i, rule) for i, rule in enumerate(cfg["rules"] or [])]
    return cfg


def _check_rule(i, rule):
    where = f"plans config: rules[{i}]"
    if not isinstance(rule, Mapping):
        raise ConfigError(f"{where} must be a mapping with 'when' and 'prefer_kinds'")
    unknown = set(rule) - {"when", "prefer_kinds", "avoid_kinds", "note"}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {sorted(unknown)}")
    when = rule.get("when") or {}
    if not isinstance(when, Mapping):
        raise ConfigError(f"{where}.when must be a mapping")
    bad_keys = set(when) - set(RULE_KEYS)
    if bad_keys:
        raise ConfigError(f"{where}.when: unknown key(s) {sorted(bad_keys)}; use {RULE_KEYS}")
    out = {"when": {k: _as_list(v) for k, v in when.items()}}
    for key in ("prefer_kinds", "avoid_kinds"):
        kinds = _as_list(rule.get(key) or [])
        unknown_kinds = set(kinds) - set(ACTIVITY_KINDS)
        if unknown_kinds:
            raise ConfigError(
                f"{where}.{key}: unknown kind(s) {sorted(unknown_kinds)}; "
                f"known: {list(ACTIVITY_KINDS)}"
            )
        out[key] = kinds
    if not out["prefer_kinds"] and not out["avoid_kinds"]:
        raise ConfigError(f"{where}: give prefer_kinds and/or avoid_kinds")
    out["note"] = str(rule.get("note") or _rule_note(out))
    return out


def _as_list(value):
    if isinstance(value, (list, tuple, set)):
        return [str(v) for v in value]
    return [str(value)]


def _rule_note(rule):
    cond = ", ".join(f"{k} {'/'.join(v)}" for k, v in rule["when"].items()) or "everyone"
    parts = []
    if rule["prefer_kinds"]:
        parts.append("prefer " + "/".join(k.replace("_", " ") for k in rule["prefer_kinds"]))
    if rule["avoid_kinds"]:
        parts.append("avoid " + "/".join(k.replace("_", " ") for k in rule["avoid_kinds"]))
    return f"{' and '.join(parts)} ({cond})"


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


def _score_frame(scores, wave="latest"):
    """Calibrated scores as person, skill, score, se (+ ci_low/ci_high if given)."""
    frame = getattr(scores, "scores", scores)
    if not isinstance(frame, pd.DataFrame):
        raise InputError(
            f"scores must be a Calibration or a DataFrame, got {type(scores).__name__}"
        )
    frame = frame.rename(columns={"ratee": "person", "estimate": "score"})
    missing = [c for c in ("person", "skill", "score", "se") if c not in frame]
    if missing:
        raise InputError(
            f"scores: column(s) {missing} missing; expected ratee, skill, score, se"
        )
    if "wave" in frame and frame["wave"].notna().any() and wave is not None:
        if wave == "latest":
            frame = frame[frame["wave"] == frame.groupby("person")["wave"].transform("max")]
        else:
            frame = frame[frame["wave"] == wave]
    keep = [c for c in ("person", "skill", "score", "se", "ci_low", "ci_high") if c in frame]
    frame = frame[keep].copy()
    frame["score"] = pd.to_numeric(frame["score"], errors="coerce")
    frame["se"] = pd.to_numeric(frame["se"], errors="coerce")
    dup = frame.duplicated(["person", "skill"])
    if dup.any():
        first = frame.loc[dup, ["person", "skill"]].iloc[0].tolist()
        raise InputError(
            f"scores: {int(dup.sum())} duplicate (ratee, skill) row(s), e.g. {first}; give one "
            "score per person and skill (or a 'wave' column)"
        )
    if (frame["se"] < 0).any():
        raise InputError("scores: column 'se' has negative values")
    return frame.reset_index(drop=True)


def _require(frame, name, columns):
    if not isinstance(frame, pd.DataFrame):
        raise InputError(f"{name} must be a DataFrame, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame]
    if missing:
        raise InputError(f"{name}: column(s) {missing} missing")


def _people_frame(people):
    _require(people, "people", ["person", "role", "team"])
    people = people.drop_duplicates("person").copy()
    for col in ("level", "location"):
        if col not in people:
            people[col] = None
    return people.reset_index(drop=True)


def _framework_frame(framework):
    _require(framework, "framework", ["role", "skill", "required_level"])
    fw = framework.copy()
    if "weight" not in fw:
        fw["weight"] = 1.0
    fw["weight"] = pd.to_numeric(fw["weight"], errors="coerce").fillna(1.0)
    if "gap_type" not in fw:
        fw["gap_type"] = None
    fw["required_level"] = pd.to_numeric(fw["required_level"], errors="coerce")
    return fw.drop_duplicates(["role", "skill"])


def _catalog_frame(catalog):
    cols = ["activity", "title", "skill", "kind", "gap_type", "level_from", "level_to", "hours",
            "weeks", "cost", "modality"]
    if catalog is None:
        return pd.DataFrame(columns=cols)
    _require(catalog, "catalog", ["activity", "skill", "kind", "level_from", "level_to",
                                  "hours", "weeks"])
    cat = catalog.copy()
    for col, default in (("title", None), ("gap_type", None), ("cost", 0.0), ("modality", "")):
        if col not in cat:
            cat[col] = default
    cat["title"] = cat["title"].fillna(cat["activity"])
    for col in ("level_from", "level_to", "hours", "weeks", "cost"):
        cat[col] = pd.to_numeric(cat[col], errors="coerce")
    cat["cost"] = cat["cost"].fillna(0.0)
    return cat[cols]


def _start_date(start):
    if start is None:
        today = pd.Timestamp.today().normalize()
        return today + pd.Timedelta(days=(7 - today.weekday()) % 7 or 7)
    try:
        return pd.Timestamp(start).normalize()
    except (TypeError, ValueError):
        raise ConfigError(f"start must be a date such as 2027-01-04, got {start!r}") from None


# --------------------------------------------------------------------------------------------
# Gaps and focus skills
# --------------------------------------------------------------------------------------------


def _gap_stats(frame, target, priority):
    m = frame["score"].to_numpy(float)
    s = frame["se"].to_numpy(float)
    r = frame[target].to_numpy(float)
    diff = r - m
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(s > 0, diff / np.where(s > 0, s, 1.0), np.nan)
        p = np.where(s > 0, norm.cdf(d), (diff > 0).astype(float))
        es = np.where(s > 0, diff * norm.cdf(d) + s * norm.pdf(d), np.maximum(diff, 0.0))
    missing = np.isnan(m) | np.isnan(r)
    frame = frame.assign(
        gap=diff,
        p_below=np.where(missing, np.nan, p),
        expected_shortfall=np.where(missing, np.nan, es),
    )
    formula = priority if callable(priority) else PRIORITY_FORMULAS[priority]
    frame["priority"] = np.asarray(formula(frame), dtype=float)
    return frame


def compute_gaps(
    scores, people, framework, *, gap_probability=0.7, priority="weight_x_shortfall",
    wave="latest",
):
    """Gap of every person in every skill their role requires, with its probability.

    Parameters
    ----------
    scores : Calibration or DataFrame
        ratee (or person), skill, score, se.
    people : DataFrame
        person, role, team (level, location optional).
    framework : DataFrame
        role, skill, required_level (weight, gap_type optional).
    gap_probability : float
        A skill is a gap when ``p_below`` is at least this (in (0.5, 1)).
    priority : str or callable
        One of :data:`PRIORITY_FORMULAS`, or ``f(frame) -> array``.

    Returns
    -------
    DataFrame
        person, role, team, skill, required_level, weight, gap_type, score, se, gap
        (required - score), p_below (``Phi(gap / se)``), expected_shortfall
        (``E[max(required - true, 0)]`` under ``Normal(score, se)``), priority, has_gap. People
        whose role has no framework are absent; skills without a score have NaN statistics.

    Notes
    -----
    The closed form ``(r - m) Phi(d) + s phi(d)`` was checked against Monte Carlo integration
    in tests/test_plans.py.

    Examples
    --------
    >>> import pandas as pd
    >>> s = pd.DataFrame({"ratee": ["a"], "skill": ["S"], "score": [2.5], "se": [0.25]})
    >>> p = pd.DataFrame({"person": ["a"], "role": ["R"], "team": ["T"]})
    >>> f = pd.DataFrame({"role": ["R"], "skill": ["S"], "required_level": [3.0]})
    >>> round(float(compute_gaps(s, p, f)["p_below"].iloc[0]), 4)
    0.9772
    """
    if not 0.5 < float(gap_probability) < 1:
        raise ConfigError(f"gap_probability must be in (0.5, 1), got {gap_probability!r}")
    if not (callable(priority) or priority in PRIORITY_FORMULAS):
        raise ConfigError(
            f"priority must be one of {sorted(PRIORITY_FORMULAS)} or a function, got {priority!r}"
        )
    sc = _score_frame(scores, wave)
    people = _people_frame(people)
    fw = _framework_frame(framework)
    frame = people[["person", "role", "team"]].merge(
        fw[["role", "skill", "required_level", "weight", "gap_type"]], on="role"
    )
    frame = frame.merge(sc[["person", "skill", "score", "se"]], on=["person", "skill"],
                        how="left")
    frame = _gap_stats(frame, "required_level", priority)
    frame["has_gap"] = (frame["p_below"] >= gap_probability).fillna(False).astype(bool)
    return frame.reset_index(drop=True)


def choose_focus_skills(
    gaps, *, n_focus=2, gap_probability=0.7, stretch="next_level", stretch_step=0.5,
    next_role=None, framework=None, priority="weight_x_shortfall", scale_max=5.0,
):
    """Pick each person's focus skills: the gaps with the highest priority.

    Only skills with ``has_gap`` are chosen, at most ``n_focus`` (1 to 3). People with no gap
    get a stretch plan (``stretch="next_level"``): the same rule against a target of the next
    role's required level (``next_role`` maps role -> next role) or the requirement plus
    ``stretch_step``, capped at ``scale_max``; ``stretch="none"`` gives them no plan.

    Returns
    -------
    DataFrame
        person, role, team, skill, focus_rank (1 = highest priority), focus_type ("gap" or
        "stretch"), score, se, required_level, target_level, target_reason, gap, p_below,
        expected_shortfall, priority, weight, gap_type.

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
    if n_focus not in (1, 2, 3):
        raise ConfigError(f"n_focus must be 1, 2 or 3, got {n_focus!r}")
    if stretch not in ("next_level", "none"):
        raise ConfigError(f"stretch must be 'next_level' or 'none', got {stretch!r}")
    gap_rows = gaps[gaps["has_gap"]].assign(
        focus_type="gap", target_level=lambda f: f["required_level"],
        target_reason=lambda f: "the " + f["role"].astype(str) + " requirement",
    )
    parts = [gap_rows]
    if stretch == "next_level":
        rated = gaps[gaps["score"].notna()]
        no_gap = rated.groupby("person")["has_gap"].transform("any")
        cand = rated[~no_gap].copy()
        if len(cand):
            cand = _stretch_targets(cand, next_role or {}, framework, stretch_step, scale_max)
            cand = _gap_stats(cand.drop(columns=["gap", "p_below", "expected_shortfall",
                                                 "priority"]), "target_level", priority)
            cand = cand[(cand["p_below"] >= gap_probability) & (cand["gap"] > 0)]
            parts.append(cand.assign(focus_type="stretch"))
    focus = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(
        len(p) for p in parts) else gap_rows.iloc[0:0]
    focus = focus.sort_values(["person", "priority", "skill"], ascending=[True, False, True],
                              kind="stable")
    focus["focus_rank"] = focus.groupby("person").cumcount() + 1
    focus = focus[focus["focus_rank"] <= n_focus]
    cols = ["person", "role", "team", "skill", "focus_rank", "focus_type", "score", "se",
            "required_level", "target_level", "target_reason", "gap", "p_below",
            "expected_shortfall", "priority", "weight", "gap_type"]
    focus = focus.assign(gap=focus["target_level"] - focus["score"])
    return focus[cols].reset_index(drop=True)


def _stretch_targets(cand, next_role, framework, step, scale_max):
    cand = cand.assign(target_level=np.minimum(cand["required_level"] + step, scale_max),
                       target_reason="half a point above the " + cand["role"].astype(str)
                       + " requirement" if step == 0.5 else
                       f"{step:g} above the " + cand["role"].astype(str) + " requirement")
    if next_role and framework is not None:
        fw = _framework_frame(framework)
        nxt = cand["role"].map(lambda r: next_role.get(r))
        lookup = fw.set_index(["role", "skill"])["required_level"]
        keys = list(zip(nxt, cand["skill"], strict=True))
        level = pd.Series([lookup.get(k, np.nan) for k in keys], index=cand.index, dtype=float)
        use = level.notna() & (level > cand["required_level"])
        cand.loc[use, "target_level"] = np.minimum(level[use], scale_max)
        cand.loc[use, "target_reason"] = "the " + nxt[use].astype(str) + " level"
    return cand


# --------------------------------------------------------------------------------------------
# Activities and schedule
# --------------------------------------------------------------------------------------------


def match_activities(
    focus, catalog, *, people=None, profiles=None, rules=None, kinds_by_gap_type=None,
    per_skill=None,
):
    """Catalog activities for each focus skill, ranked (the first ``per_skill`` if given).

    An activity fits a focus skill when it targets the skill, its level range
    ``[level_from, level_to]`` overlaps ``[score, target_level]``, and its kind suits the gap
    type (``kinds_by_gap_type``; a framework without gap types falls back to the activity's
    own gap type). Rules (see :func:`check_config`) add one point per matching
    ``prefer_kinds`` and subtract one per ``avoid_kinds``; ties go to the activity whose level
    range is centred nearest the gap, then to fewer hours. Different kinds are preferred
    within a focus skill.

    Returns
    -------
    DataFrame
        person, skill, focus_rank, activity_rank, activity, title, kind, hours, weeks, cost,
        modality, level_from, level_to, rule_note.

    Examples
    --------
    >>> import pandas as pd
    >>> focus = pd.DataFrame({"person": ["a"], "skill": ["S"], "focus_rank": [1],
    ...                       "focus_type": ["gap"], "score": [2.0], "target_level": [3.0],
    ...                       "gap_type": ["knowledge"]})
    >>> cat = pd.DataFrame({"activity": ["A1", "A2"], "title": ["c", "r"], "skill": "S",
    ...                     "kind": ["course", "role_play"], "gap_type": "knowledge",
    ...                     "level_from": 1, "level_to": 3, "hours": 8, "weeks": 4})
    >>> match_activities(focus, cat, per_skill=2)["activity"].tolist()
    ['A1']
    """
    cols = ["person", "skill", "focus_rank", "activity_rank", "activity", "title", "kind",
            "hours", "weeks", "cost", "modality", "level_from", "level_to", "rule_note"]
    cat = _catalog_frame(catalog)
    if len(focus) == 0 or len(cat) == 0:
        return pd.DataFrame(columns=cols)
    kinds = kinds_by_gap_type or {"knowledge": KNOWLEDGE_KINDS, "behaviour": BEHAVIOUR_KINDS}
    rules = [_check_rule(i, r) for i, r in enumerate(rules or [])]
    base = focus[["person", "skill", "focus_rank", "focus_type", "score", "target_level",
                  "gap_type"]]
    pairs = base.merge(cat.rename(columns={"gap_type": "activity_gap_type"}), on="skill")
    lo = np.minimum(pairs["score"], pairs["target_level"])
    pairs = pairs[(pairs["level_from"] <= pairs["target_level"]) & (pairs["level_to"] >= lo)]
    gap_type = pairs["gap_type"].where(pairs["gap_type"].notna(), pairs["activity_gap_type"])
    allowed = np.zeros(len(pairs), dtype=bool)
    for gt, listed in kinds.items():
        allowed |= (gap_type == gt).to_numpy() & pairs["kind"].isin(listed).to_numpy()
    allowed |= gap_type.isna().to_numpy()
    pairs = pairs[allowed].copy()
    if len(pairs) == 0:
        return pd.DataFrame(columns=cols)
    pairs = _apply_rules(pairs, rules, people, profiles)
    mid = (pairs["level_from"] + pairs["level_to"]) / 2
    centre = (pairs["score"] + pairs["target_level"]) / 2
    pairs["rank_score"] = pairs["rule_score"] - 0.1 * (mid - centre).abs() - 0.001 * pairs["hours"]
    pairs = pairs.sort_values(["person", "skill", "rank_score", "activity"],
                              ascending=[True, True, False, True], kind="stable")
    # one activity per kind first, then the rest, so a focus skill gets a mix
    pairs["_dup_kind"] = pairs.duplicated(["person", "skill", "kind"])
    pairs = pairs.sort_values(["person", "skill", "_dup_kind", "rank_score", "activity"],
                              ascending=[True, True, True, False, True], kind="stable")
    pairs["activity_rank"] = pairs.groupby(["person", "skill"]).cumcount() + 1
    if per_skill is not None:
        pairs = pairs[pairs["activity_rank"] <= per_skill]
    return pairs[cols].sort_values(["person", "focus_rank", "activity_rank"]).reset_index(
        drop=True)


def _apply_rules(pairs, rules, people, profiles):
    pairs = pairs.assign(rule_score=0.0, rule_note="")
    if not rules:
        return pairs
    attrs = pairs[["person", "skill", "gap_type", "focus_type"]].copy()
    if people is not None:
        p = _people_frame(people).set_index("person")
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


def _schedule_sequence(items, weeks, budget, per_skill):
    """Schedule (activity, skill, hours, weeks) items in order; returns one status per item.

    An activity already placed for another focus skill is reused; once a skill has
    ``per_skill`` activities the rest are alternates.
    """
    load = np.zeros(weeks)
    placed, count, out = {}, {}, []
    for activity, skill, hours, duration in items:
        if per_skill is not None and count.get(skill, 0) >= per_skill:
            out.append(("alternate", -1, -1, np.nan))
            continue
        slot = placed.get(activity)
        if slot is None:
            slot = _place(load, hours, duration, budget)
            if slot is None:
                out.append(("did_not_fit", -1, -1, np.nan))
                continue
            placed[activity] = slot
        count[skill] = count.get(skill, 0) + 1
        out.append(("scheduled", *slot))
    return out


def schedule_activities(matched, *, start, weeks=12, hours_per_week=3.0, per_skill=None):
    """Schedule each person's activities within a weekly hours budget.

    Candidates are taken in order of focus skill then rank; each is spread evenly over its
    catalog weeks (longer when that would exceed the budget) and starts at the earliest week
    where the budget holds for its whole span. An activity chosen for two focus skills is
    scheduled once. A candidate that does not fit is skipped for the next one; with
    ``per_skill``, a focus skill takes at most that many activities (the rest are alternates).

    Returns
    -------
    DataFrame
        ``matched`` plus status ("scheduled", "alternate", "did_not_fit"), scheduled (bool),
        week_from, week_to (1-based, inclusive; nullable integers), start, end,
        hours_per_week.

    Examples
    --------
    >>> import pandas as pd
    >>> m = pd.DataFrame({"person": "a", "skill": "S", "focus_rank": 1,
    ...                   "activity_rank": [1, 2], "activity": ["A1", "A2"],
    ...                   "hours": [8.0, 8.0], "weeks": [4, 4]})
    >>> schedule_activities(m, start="2027-01-04", hours_per_week=3)["week_from"].tolist()
    [1, 5]
    """
    start = _start_date(start)
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
    items = list(zip(out["activity"], out["skill"], out["hours"].astype(float),
                     out["weeks"].astype(float), strict=True))
    signature = pd.Series(items).groupby(out["person"].to_numpy(), sort=False).agg(tuple)
    placed = {sig: _schedule_sequence(sig, weeks, hours_per_week, per_skill)
              for sig in signature.unique()}
    rows = [status for sig in signature for status in placed[sig]]
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


# --------------------------------------------------------------------------------------------
# Results object
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanSet:
    """Learning plans of an organisation, with the tables behind them.

    Attributes
    ----------
    plans : DataFrame
        One row per person x focus skill x activity (LMS import): person, role, team, skill,
        focus_rank, focus_type, activity, title, kind, start, end, week_from, week_to, hours,
        hours_per_week, cost, modality, score, target_level, mentor, goal.
    focus : DataFrame
        One row per person x focus skill, with goal, mentor and the gap statistics.
    gaps : DataFrame
        Every person x required skill (see :func:`compute_gaps`).
    timeline : DataFrame
        person, start, reassessment, checkins (list of dates).
    mentors, unmatched : DataFrame
        Mentor pairs (person, skill, mentor, ...) and needs left without one, with the reason.
    heatmap_by_team, heatmap_by_role : DataFrame
        See :func:`workbench.plans.demand.gap_heatmap`.
    demand : DataFrame
        Seats, hours and cost per activity and quarter.
    content_gaps : DataFrame
        Focus skills no catalog activity serves.
    experts : DataFrame
        People who excel in a skill and could teach it.
    strengths : DataFrame
        person, skill, score, required_level, margin: confident strengths (top few).
    source_scores : DataFrame
        Per-source means that confidentiality allows to show (empty without ratings).
    comments : DataFrame
        Comments that may be shown (empty without ratings or comments).
    issues : DataFrame
        person, skill, activity, issue, message: everything that could not be planned and why.
    people : DataFrame
        The people table used.
    config : dict
        The checked configuration.
    start : Timestamp
    mentor_exact : bool
        Whether the mentor assignment is optimal for the full (unpruned) problem.
    """

    plans: pd.DataFrame
    focus: pd.DataFrame
    gaps: pd.DataFrame
    timeline: pd.DataFrame
    mentors: pd.DataFrame
    unmatched: pd.DataFrame
    heatmap_by_team: pd.DataFrame
    heatmap_by_role: pd.DataFrame
    demand: pd.DataFrame
    content_gaps: pd.DataFrame
    experts: pd.DataFrame
    strengths: pd.DataFrame
    source_scores: pd.DataFrame
    comments: pd.DataFrame
    issues: pd.DataFrame
    people: pd.DataFrame
    config: dict = field(default_factory=dict)
    start: pd.Timestamp | None = None
    mentor_exact: bool = True

    def to_frame(self) -> pd.DataFrame:
        """The long plans table (one row per person x focus skill x activity)."""
        return self.plans.copy()

    def overview(self) -> pd.DataFrame:
        """Headline counts as a two-column table (quantity, n)."""
        f = self.focus
        seats = self.plans.drop_duplicates(["person", "activity"]) if len(self.plans) else \
            self.plans
        rows = [
            ("people", len(self.people)),
            ("people with a plan", f["person"].nunique()),
            ("people with a stretch plan",
             f.loc[f["focus_type"] == "stretch", "person"].nunique()),
            ("focus skills", len(f)),
            ("activity seats", len(seats)),
            ("training hours", float(seats["hours"].sum()) if len(seats) else 0.0),
            ("training cost", float(seats["cost"].sum()) if len(seats) else 0.0),
            ("mentor pairs", len(self.mentors)),
            ("needs without a mentor", len(self.unmatched)),
            ("skills without a catalog activity",
             int((self.content_gaps["reason"].str.contains("no activity")).sum())
             if len(self.content_gaps) else 0),
            ("issues", len(self.issues)),
        ]
        return pd.DataFrame(rows, columns=["quantity", "n"])

    def summary(self) -> str:
        """Plain-text summary for a consultant."""
        parts = [f"Learning plans starting {self.start:%Y-%m-%d} "
                 f"({self.config.get('weeks')} weeks, "
                 f"{self.config.get('hours_per_week'):g} h/week)", "",
                 self.overview().to_string(index=False)]
        if len(self.issues):
            counts = self.issues["issue"].value_counts()
            parts += ["", "Issues:"] + [f"  {k}: {v}" for k, v in counts.items()]
        if len(self.content_gaps):
            parts += ["", "Content gaps:", self.content_gaps.to_string(index=False)]
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        parts = [f"<h4>Learning plans starting {self.start:%Y-%m-%d}</h4>",
                 self.overview().to_html(index=False)]
        if len(self.issues):
            counts = self.issues["issue"].value_counts().rename_axis("issue").reset_index()
            parts += ["<h4>Issues</h4>", counts.to_html(index=False)]
        if len(self.content_gaps):
            parts += ["<h4>Content gaps</h4>", self.content_gaps.to_html(index=False)]
        parts += ["<h4>First plan rows</h4>", self.plans.head(10).to_html(index=False)]
        return "".join(parts)

    def plot_heatmap(self, by="team", value="share_gap", max_groups=40):
        """Heat map Figure of development needs by team or role."""
        if by not in ("team", "role"):
            raise ConfigError(f"by must be 'team' or 'role', got {by!r}")
        heat = self.heatmap_by_team if by == "team" else self.heatmap_by_role
        return plot_gap_heatmap(heat, value=value, max_groups=max_groups)

    def person(self, person) -> dict:
        """Everything about one person's plan, as plain Python (the plans.json record)."""
        return _person_record(self, person)

    def page(self, person, fmt="md") -> str:
        """One person's plan as Markdown (``fmt="md"``) or HTML (``fmt="html"``)."""
        return render_person_page(self.person(person), fmt=fmt)


# --------------------------------------------------------------------------------------------
# build_plans
# --------------------------------------------------------------------------------------------


def _issue(rows, person, skill, activity, issue, message):
    rows.append((person, skill, activity, issue, message))


def _input_issues(people, fw, sc, cat, gaps):
    rows = []
    roles = set(fw["role"])
    no_fw = people[~people["role"].isin(roles)]
    for person, role in zip(no_fw["person"], no_fw["role"], strict=True):
        _issue(rows, person, None, None, "role_without_framework",
               f"the role {role!r} has no framework (no required levels), so no plan was made")
    scored = set(sc["person"])
    no_scores = people[~people["person"].isin(scored)]
    for person in no_scores["person"]:
        _issue(rows, person, None, None, "no_ratings",
               "no calibrated scores (no ratings), so no gaps could be measured and no plan made")
    unknown = sorted(set(sc["person"]) - set(people["person"]), key=str)
    if unknown:
        _issue(rows, None, None, None, "scored_person_not_in_people",
               f"{len(unknown)} scored person(s) are not in the people table and were left out"
               f" (e.g. {', '.join(map(str, unknown[:5]))})")
    part = gaps[gaps["score"].isna() & gaps["person"].isin(scored)]
    if len(part):
        missing = part.groupby("person")["skill"].agg(lambda s: ", ".join(sorted(map(str, s))))
        for person, skills in missing.items():
            _issue(rows, person, None, None, "skill_not_rated",
                   f"not rated in {skills}: these skills could not be assessed")
    no_se = gaps[gaps["score"].notna() & gaps["se"].isna()]
    if len(no_se):
        _issue(rows, None, None, None, "no_standard_error",
               f"{len(no_se)} score(s) have no standard error; their gaps are uncertain and "
               "were not chosen")
    if len(cat) == 0:
        _issue(rows, None, None, None, "empty_catalog",
               "the catalog is empty: focus skills are chosen but no activities can be planned")
    return rows


def build_plans(
    scores, people, framework, catalog, *, ratings=None, profiles=None, config=None, start=None,
    random_state=None,
):
    """Build learning plans for everyone: focus skills, activities, schedule, goals, mentors.

    Parameters
    ----------
    scores : Calibration or DataFrame
        Calibrated scores: ratee, skill, score, se (a ``wave`` column picks ``config["wave"]``).
    people, framework, catalog : DataFrame
        The contracts of :mod:`workbench.tables.data` (``catalog`` may be None or empty).
    ratings : DataFrame, optional
        Raw ratings, for per-source scores and comments shown under the confidentiality rules.
    profiles : DataFrame, optional
        ratee (or person), profile, persona, for persona rules.
    config : dict, optional
        Overrides of :data:`DEFAULT_CONFIG` (see :func:`check_config`).
    start : date-like, optional
        First day of the plans (default: next Monday).
    random_state : int or Generator, optional
        Seeds the mentor candidate sampling in large organisations.

    Returns
    -------
    PlanSet

    Examples
    --------
    >>> from workbench.synth.generator import generate_organisation
    >>> org = generate_organisation(120, seed=3, n_waves=1)
    >>> ps = build_plans(truth_scores(org, se=0.2, wave=1, random_state=0), org.people, org.framework,
    ...                  org.catalog, ratings=org.ratings, start="2027-01-04", random_state=0)
    >>> bool(ps.focus.groupby("person").size().max() <= 2)
    True
    """
    cfg = check_config(config)
    start = _start_date(start)
    sc = _score_frame(scores, cfg["wave"])
    people = _people_frame(people)
    fw = _framework_frame(framework)
    cat = _catalog_frame(catalog)
    if profiles is not None:
        _require(profiles.rename(columns={"ratee": "person"}), "profiles", ["person"])

    gaps = compute_gaps(sc, people, fw, gap_probability=cfg["gap_probability"],
                        priority=cfg["priority"], wave=None)
    gaps = gaps.merge(people[["person", "level", "location"]], on="person", how="left")
    gaps.loc[gaps["se"].isna(), "has_gap"] = False
    issues = _input_issues(people, fw, sc, cat, gaps)

    focus = choose_focus_skills(
        gaps, n_focus=cfg["n_focus"], gap_probability=cfg["gap_probability"],
        stretch=cfg["stretch"], stretch_step=cfg["stretch_step"], next_role=cfg["next_role"],
        framework=fw, priority=cfg["priority"], scale_max=cfg["scale_max"],
    )
    matched = match_activities(
        focus, cat, people=people, profiles=profiles, rules=cfg["rules"],
        kinds_by_gap_type=cfg["kinds_by_gap_type"],
    )
    scheduled = schedule_activities(matched, start=start, weeks=cfg["weeks"],
                                    hours_per_week=cfg["hours_per_week"],
                                    per_skill=cfg["activities_per_skill"])
    _activity_issues(issues, focus, cat, matched, scheduled)

    assessed = set(gaps.loc[gaps["score"].notna(), "person"])
    for person in sorted(assessed - set(focus["person"]), key=str):
        _issue(issues, person, None, None, "no_development_need",
               "no skill is confidently below its requirement"
               + (" or a stretch target" if cfg["stretch"] != "none" else "")
               + ", so no plan was made for this period")
    focus, mentors, unmatched, exact = _mentors(focus, sc, people, cfg, random_state)
    for row in unmatched.itertuples(index=False):
        _issue(issues, row.person, row.skill, None, "no_mentor", f"no mentor: {row.reason}")
    timeline = _timeline(focus, start, cfg)
    focus = _goals(focus, timeline, cfg)

    done = scheduled.loc[scheduled["scheduled"].astype(bool).to_numpy()]
    plans = _plans_table(done, focus)
    strengths = _strengths(gaps, cfg)
    demand = training_demand(plans)
    cgaps = content_gaps(focus, cat, matched)
    experts = find_experts(sc, fw, confidence=cfg["mentor_confidence"])
    shown, comments = _displays(ratings, people, cfg)
    issue_frame = pd.DataFrame(issues, columns=ISSUE_COLUMNS)
    return PlanSet(
        plans=plans, focus=focus, gaps=gaps, timeline=timeline, mentors=mentors,
        unmatched=unmatched,
        heatmap_by_team=gap_heatmap(gaps, by="team", min_cell=cfg["min_cell"]),
        heatmap_by_role=gap_heatmap(gaps, by="role", min_cell=cfg["min_cell"]),
        demand=demand, content_gaps=cgaps, experts=experts, strengths=strengths,
        source_scores=shown, comments=comments, issues=issue_frame, people=people, config=cfg,
        start=start, mentor_exact=exact,
    )


def _activity_issues(issues, focus, cat, matched, scheduled):
    if len(focus) == 0:
        return
    served = matched[["person", "skill"]].drop_duplicates().assign(_served=True)
    left = focus.merge(served, on=["person", "skill"], how="left")
    left = left[left["_served"].isna()]
    known = set(cat["skill"])
    for row in left.itertuples(index=False):
        if len(cat) == 0:
            why = "the catalog is empty"
        elif row.skill in known:
            why = (f"the catalog has no {row.skill} activity for levels {row.score:.1f} to "
                   f"{row.target_level:.1f} and a {row.gap_type} gap")
        else:
            why = f"the catalog has no activity for {row.skill}"
        _issue(issues, row.person, row.skill, None, "no_activity",
               f"no activity planned for {row.skill}: {why}")
    got = scheduled.groupby(["person", "skill"])["scheduled"].any()
    for (person, skill), ok in got[~got].items():
        if not ok:
            _issue(issues, person, skill, None, "activities_did_not_fit",
                   f"no {skill} activity fitted the weekly hours budget "
                   "within the plan's weeks; consider a longer plan or more hours")


def _mentors(focus, sc, people, cfg, random_state):
    cols = ["person", "skill", "target_level", "mentor", "mentor_score", "mentor_lower", "cost",
            "same_team", "same_family", "same_location"]
    if not cfg["mentors"] or len(focus) == 0:
        focus = focus.assign(mentor=None)
        return focus, pd.DataFrame(columns=cols), pd.DataFrame(
            columns=["person", "skill", "target_level", "n_eligible", "reason"]), True
    result = match_mentors(
        focus[["person", "skill", "target_level", "priority"]], sc, people,
        capacity=cfg["mentor_capacity"], confidence=cfg["mentor_confidence"],
        candidates=cfg["mentor_candidates"], costs=cfg["mentor_costs"],
        role_families=cfg["role_families"], block_size=cfg["mentor_block_size"],
        random_state=random_state,
    )
    focus = focus.merge(result.matches[["person", "skill", "mentor"]], on=["person", "skill"],
                        how="left")
    return focus, result.matches, result.unmatched, result.exact


def _timeline(focus, start, cfg):
    weeks, every = cfg["weeks"], cfg["checkin_every"]
    checkins = [start + pd.Timedelta(weeks=k) for k in range(every, weeks, every)]
    people = focus["person"].drop_duplicates()
    return pd.DataFrame({
        "person": people.to_numpy(),
        "start": start,
        "reassessment": start + pd.Timedelta(weeks=weeks),
        "checkins": [list(checkins)] * len(people),
    })


def _goals(focus, timeline, cfg):
    if len(focus) == 0:
        return focus.assign(goal=pd.Series(dtype=object))
    by = (timeline["reassessment"].iloc[0] if len(timeline) else pd.NaT)
    when = f"{by:%Y-%m-%d}" if len(timeline) else ""
    verb = np.where(focus["focus_type"] == "stretch", "Stretch", "Raise")
    text = (
        pd.Series(verb, index=focus.index) + " " + focus["skill"].astype(str) + " from "
        + focus["score"].map(lambda v: f"{v:.1f}") + " to "
        + focus["target_level"].map(lambda v: f"{v:.1f}") + " (" + focus["target_reason"]
        + f") by {when}; evidence: {cfg['evidence']} in week {cfg['weeks']}"
    )
    return focus.assign(goal=text.to_numpy())


def _plans_table(done, focus):
    cols = ["person", "role", "team", "skill", "focus_rank", "focus_type", "activity", "title",
            "kind", "start", "end", "week_from", "week_to", "hours", "hours_per_week", "cost",
            "modality", "score", "target_level", "mentor", "goal"]
    info = focus[["person", "skill", "role", "team", "focus_type", "score", "target_level",
                  "mentor", "goal"]]
    plans = done.merge(info, on=["person", "skill"], how="left")
    if len(plans):
        plans["week_from"] = plans["week_from"].astype(int)
        plans["week_to"] = plans["week_to"].astype(int)
    return plans.reindex(columns=cols).sort_values(
        ["person", "focus_rank", "week_from", "activity"], kind="stable").reset_index(drop=True)


def _strengths(gaps, cfg):
    rated = gaps[gaps["p_below"].notna() & (gaps["p_below"] <= 1 - cfg["gap_probability"])]
    rated = rated.assign(margin=rated["score"] - rated["required_level"])
    rated = rated.sort_values(["person", "margin"], ascending=[True, False], kind="stable")
    rated = rated[rated.groupby("person").cumcount() < cfg["n_strengths"]]
    return rated[["person", "skill", "score", "required_level", "margin"]].reset_index(drop=True)


def _displays(ratings, people, cfg):
    if ratings is None:
        return (pd.DataFrame(columns=["ratee", "skill", "source", "n_raters", "mean", "shown",
                                      "note"]),
                pd.DataFrame(columns=["ratee", "skill", "source", "comment"]))
    wave = cfg["wave"]
    kw = dict(min_raters=cfg["min_raters"], exempt=cfg["exempt_sources"], wave=wave)
    ratings = ratings[ratings["ratee"].isin(people["person"])]
    return source_scores_for_display(ratings, **kw), comments_for_display(ratings, **kw)


# --------------------------------------------------------------------------------------------
# Per-person record and page
# --------------------------------------------------------------------------------------------


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


def _person_records(ps, people=None):
    """plans.json records of ``people`` (all by default), built in one pass per table."""
    def pick(frame, key="person"):
        return frame if people is None else frame[frame[key].isin(people)]

    info = pick(ps.people)
    acts = _by_person(pick(ps.plans)[["person", "skill", "activity", "title", "kind", "start",
                                      "end", "hours", "hours_per_week", "modality"]])
    focus = _by_person(pick(ps.focus)[["person", "skill", "focus_rank", "focus_type", "score",
                                       "se", "required_level", "target_level", "p_below",
                                       "goal", "mentor"]])
    strengths = _by_person(pick(ps.strengths))
    shown = _by_person(pick(ps.source_scores, "ratee"), "ratee")
    comments = _by_person(pick(ps.comments, "ratee"), "ratee")
    issues = _by_person(pick(ps.issues)[["person", "message"]].dropna(subset=["person"]))
    tl = ps.timeline.set_index("person")
    records = []
    for person, role, team in zip(info["person"], info["role"], info["team"], strict=True):
        skills = []
        by_skill = {}
        for a in acts.get(person, []):
            by_skill.setdefault(a.pop("skill"), []).append(a)
        for f in focus.get(person, []):
            f["activities"] = by_skill.get(f["skill"], [])
            skills.append(f)
        has_tl = person in tl.index
        records.append({
            "person": person, "role": role, "team": team,
            "start": f"{ps.start:%Y-%m-%d}",
            "reassessment": f"{tl.at[person, 'reassessment']:%Y-%m-%d}" if has_tl else None,
            "checkins": [f"{d:%Y-%m-%d}" for d in tl.at[person, "checkins"]] if has_tl else [],
            "hours_per_week": ps.config.get("hours_per_week"),
            "strengths": strengths.get(person, []),
            "focus": skills,
            "source_scores": shown.get(person, []),
            "comments": comments.get(person, []),
            "issues": [m["message"] for m in issues.get(person, [])],
            "min_raters": ps.config.get("min_raters"),
        })
    return records


def _person_record(ps, person):
    if not (ps.people["person"] == person).any():
        raise InputError(f"person {person!r} is not in the plans' people table")
    return _person_records(ps, [person])[0]


def _fmt(v, digits=1):
    return "–" if v is None or (isinstance(v, float) and not np.isfinite(v)) else \
        f"{v:.{digits}f}"


def render_person_page(record, *, fmt="md"):
    """Render a person's plan record (:meth:`PlanSet.person`) as Markdown or HTML.

    Per-source scores appear only where confidentiality allows; raters are never named.

    Examples
    --------
    >>> rec = {"person": "P1", "role": "Lead", "team": "T", "start": "2027-01-04",
    ...        "reassessment": "2027-03-29", "checkins": [], "hours_per_week": 3,
    ...        "strengths": [], "focus": [], "source_scores": [], "comments": [],
    ...        "issues": [], "min_raters": 3}
    >>> render_person_page(rec).splitlines()[0]
    '# Learning plan: P1'
    """
    if fmt not in ("md", "html"):
        raise ConfigError(f"fmt must be 'md' or 'html', got {fmt!r}")
    md = _markdown(record)
    return md if fmt == "md" else _markdown_to_html(md, title=f"Learning plan: {record['person']}")


def _markdown(r):
    lines = [f"# Learning plan: {r['person']}", "",
             f"**Role:** {r['role']}  ", f"**Team:** {r['team']}  ",
             f"**Plan period:** {r['start']} to {r['reassessment'] or '–'} "
             f"(about {_fmt(float(r['hours_per_week']))} hours a week)", ""]
    lines += ["## Strengths", ""]
    if r["strengths"]:
        lines += [f"- {s['skill']}: {_fmt(s['score'])} (requirement {_fmt(s['required_level'])})"
                  for s in r["strengths"]]
    else:
        lines.append("- No skill is yet confidently above its requirement.")
    lines += ["", "## Focus skills", ""]
    if not r["focus"]:
        lines.append("No focus skill was chosen for this period.")
    for f in r["focus"]:
        kind = "stretch" if f["focus_type"] == "stretch" else "development"
        lines += [f"### {f['focus_rank']}. {f['skill']} ({kind})", "",
                  f"**Goal:** {f['goal']}", "",
                  f"Current level {_fmt(f['score'])} (± {_fmt(1.96 * f['se'])}), "
                  f"requirement {_fmt(f['required_level'])}, target {_fmt(f['target_level'])}. "
                  f"Probability that the true level is below the target: "
                  f"{f['p_below']:.0%}.", ""]
        lines.append(f"**Mentor:** {f['mentor'] or 'none found yet'}")
        lines.append("")
        if f["activities"]:
            lines += ["| Activity | Kind | From | To | Hours |", "|---|---|---|---|---|"]
            for a in f["activities"]:
                lines.append(f"| {a['title']} ({a['activity']}) | "
                             f"{a['kind'].replace('_', ' ')} | {a['start']} | {a['end']} | "
                             f"{_fmt(a['hours'])} |")
        else:
            lines.append("No catalog activity could be planned for this skill (see notes).")
        lines.append("")
    lines += ["## Check-ins", ""]
    lines += [f"- {d}: check-in with your manager" for d in r["checkins"]] or ["- none"]
    if r["reassessment"]:
        lines.append(f"- {r['reassessment']}: re-assessment (360 re-rating)")
    lines += ["", "## What your raters said", ""]
    if r["source_scores"]:
        lines += _source_table(r)
    else:
        lines.append("No per-source ratings are available.")
    if r["comments"]:
        lines += ["", "### Comments", ""]
        lines += [f"- {c['skill']} ({c['source'].replace('_', ' ')}): {c['comment']}"
                  for c in r["comments"]]
    if r["issues"]:
        lines += ["", "## Notes", ""] + [f"- {m}" for m in r["issues"]]
    return "\n".join(lines) + "\n"


def _source_table(r):
    order = ["self", "manager", "peer", "direct_report", "other", "all_others"]
    present = [s for s in order if any(x["source"] == s for x in r["source_scores"])]
    skills = sorted({x["skill"] for x in r["source_scores"]})
    cell = {(x["skill"], x["source"]): x for x in r["source_scores"]}
    head = "| Skill | " + " | ".join(s.replace("_", " ") for s in present) + " |"
    lines = [head, "|---" * (len(present) + 1) + "|"]
    for skill in skills:
        vals = []
        for s in present:
            x = cell.get((skill, s))
            vals.append("" if x is None else (_fmt(x["mean"]) if x["shown"] else "hidden"))
        lines.append(f"| {skill} | " + " | ".join(vals) + " |")
    lines += ["", f"'hidden': fewer raters than the confidentiality minimum "
              f"({_min_raters_text(r['min_raters'])}); 'all others' averages only the sources "
              "shown. Self and manager ratings are always shown; no rater is ever named."]
    return lines


def _min_raters_text(min_raters):
    if isinstance(min_raters, Mapping):
        return ", ".join(f"{k}: {v}" for k, v in min_raters.items())
    return f"{min_raters} per source"


def _inline(text):
    text = html.escape(text)
    parts = text.split("**")
    return "".join(f"<strong>{p}</strong>" if i % 2 else p for i, p in enumerate(parts))


def _markdown_to_html(md, *, title):
    """The small Markdown subset the page uses (headings, lists, tables, bold) to HTML."""
    out, in_list, table = [], False, []

    def flush_table():
        if not table:
            return
        rows = [[c.strip() for c in row.strip("|").split("|")] for row in table]
        head, body = rows[0], [r for r in rows[2:]]
        out.append("<table><thead><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head)
                   + "</tr></thead><tbody>")
        out.extend("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in r) + "</tr>"
                   for r in body)
        out.append("</tbody></table>")
        table.clear()

    for line in md.splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        flush_table()
        if line.startswith("- "):
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append(f"<li>{_inline(line[2:])}</li>")
            continue
        if in_list:
            out.append("</ul>")
            in_list = False
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{_inline(line[level:].strip())}</h{level}>")
        elif line.strip():
            out.append(f"<p>{_inline(line.rstrip())}</p>")
    flush_table()
    if in_list:
        out.append("</ul>")
    style = ("body{font-family:sans-serif;max-width:52em;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;margin:.5em 0}"
             "td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}"
             "th{background:#f3f3f3}")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{style}</style></head><body>\n"
            + "\n".join(out) + "\n</body></html>\n")


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def _sheet_name(name, used):
    """A valid, unique Excel sheet name: no []:*?/\\, not blank, at most 31 characters."""
    clean = "".join("_" if ch in "[]:*?/\\" else ch for ch in str(name)).strip("' ")
    clean = clean or "Sheet"
    if clean.lower() == "history":
        clean = "History_"
    clean = clean[:31]
    base, k = clean, 2
    while clean.lower() in used:
        suffix = f"~{k}"
        clean = base[: 31 - len(suffix)] + suffix
        k += 1
    used.add(clean.lower())
    return clean


def _safe_file_stem(person, used):
    stem = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in str(person)).strip(".")
    stem = stem or "person"
    base, k = stem, 2
    while stem.lower() in used:
        stem = f"{base}_{k}"
        k += 1
    used.add(stem.lower())
    return stem


def write_plans(planset, out_dir, *, pages=True, figures=True, excel=True):
    """Write every output of a :class:`PlanSet` into a new folder (never overwriting).

    Files: plans.csv (LMS import), plans.json, focus.csv, mentors.csv, unmatched_needs.csv,
    demand.csv, content_gaps.csv, experts.csv, issues.csv, heatmap_by_team.csv,
    heatmap_by_role.csv, heatmap_by_team.png, heatmap_by_role.png, plans.xlsx (summary sheet
    and one sheet per team) and people/<person>.md and .html.

    Returns
    -------
    Path
        The output folder.
    """
    from workbench.tables.writers import new_output_dir, write_csv

    out = new_output_dir(out_dir)
    ps = planset
    write_csv(ps.plans, out / "plans.csv", date_format="%Y-%m-%d")
    write_csv(ps.focus, out / "focus.csv")
    write_csv(ps.mentors, out / "mentors.csv")
    write_csv(ps.unmatched, out / "unmatched_needs.csv")
    write_csv(ps.demand, out / "demand.csv")
    write_csv(ps.content_gaps, out / "content_gaps.csv")
    write_csv(ps.experts, out / "experts.csv")
    write_csv(ps.issues, out / "issues.csv")
    write_csv(ps.heatmap_by_team, out / "heatmap_by_team.csv")
    write_csv(ps.heatmap_by_role, out / "heatmap_by_role.csv")
    records = _person_records(ps)
    with (out / "plans.json").open("x", encoding="utf-8") as handle:
        json.dump({"start": f"{ps.start:%Y-%m-%d}", "people": records}, handle, indent=1,
                  ensure_ascii=False, default=str)
    if pages:
        folder = out / "people"
        folder.mkdir()
        used = set()
        for rec in records:
            stem = _safe_file_stem(rec["person"], used)
            (folder / f"{stem}.md").open("x", encoding="utf-8").write(
                render_person_page(rec, fmt="md"))
            (folder / f"{stem}.html").open("x", encoding="utf-8").write(
                render_person_page(rec, fmt="html"))
    if figures:
        import matplotlib.pyplot as plt

        for by in ("team", "role"):
            fig = ps.plot_heatmap(by=by)
            fig.savefig(out / f"heatmap_by_{by}.png", dpi=120)
            plt.close(fig)
    if excel:
        _write_excel(ps, out / "plans.xlsx")
    return out


TEAM_SHEET_COLUMNS = ["person", "role", "skill", "focus_rank", "focus_type", "activity",
                      "title", "kind", "start", "end", "hours", "cost", "score",
                      "target_level", "mentor", "goal"]


def _excel_rows(frame):
    """Header and rows of plain Python values (dates as datetime, missing as None)."""
    yield [str(c) for c in frame.columns]
    if len(frame) == 0:
        return
    values = frame.astype(object).where(frame.notna(), None).to_numpy()
    for row in values:
        yield [
            ", ".join(map(str, v)) if isinstance(v, (list, tuple))
            else v.to_pydatetime() if isinstance(v, pd.Timestamp)
            else v.item() if isinstance(v, np.generic)
            else v
            for v in row
        ]


def _write_excel(ps, path):
    """Consultant workbook: Summary, Demand, Issues, Mentors, Unmatched needs, one per team.

    openpyxl's write-only mode keeps thousands of team sheets fast.
    """
    from openpyxl import Workbook

    if path.exists():
        raise ConfigError(f"{path}: already exists; earlier results are never overwritten")
    book = Workbook(write_only=True)
    used = set()
    summary = book.create_sheet(_sheet_name("Summary", used))
    for row in _excel_rows(ps.overview()):
        summary.append(row)
    if len(ps.content_gaps):
        summary.append([])
        summary.append(["Content gaps"])
        for row in _excel_rows(ps.content_gaps):
            summary.append(row)
    for name, frame in (("Demand", ps.demand), ("Issues", ps.issues),
                        ("Mentors", ps.mentors), ("Unmatched needs", ps.unmatched)):
        sheet = book.create_sheet(_sheet_name(name, used))
        for row in _excel_rows(frame):
            sheet.append(row)
    # one conversion of the whole table, then rows dealt out to the team sheets
    cols = [c for c in TEAM_SHEET_COLUMNS if c in ps.plans]
    plans = ps.plans.sort_values(["team", "person", "focus_rank", "week_from"], kind="stable")
    rows = _excel_rows(plans[cols])
    header = next(rows)
    teams = plans["team"].astype(str).to_numpy()
    sheet, current = None, None
    for team, row in zip(teams, rows, strict=True):
        if team != current:
            sheet = book.create_sheet(_sheet_name(team, used))
            sheet.append(header)
            current = team
        sheet.append(row)
    with path.open("xb") as handle:
        book.save(handle)
