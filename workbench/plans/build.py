"""``build_plans``: the one call that turns calibrated scores into learning plans.

The steps, each in its own module:

1. inputs (:mod:`~workbench.plans.inputs`): scores through the scores contract, checked
   against the rating scale; people, framework, catalog;
2. gaps and focus skills (:mod:`~workbench.plans.gaps`);
3. mentors (:mod:`~workbench.plans.mentors`), matched one focus rank at a time: everyone's
   first focus skill first, then the second, ... so adding or removing a lower-ranked focus
   skill never changes the mentors of the higher-ranked ones;
4. expected gains per activity (:mod:`~workbench.plans.gains`: measured by the impact stage
   when given, else the catalog's figure, else a stated conservative default);
5. activities that fit (:mod:`~workbench.plans.activities`; mentoring only with a mentor),
   chosen to maximise the expected gain within the hours budget and scheduled
   (:mod:`~workbench.plans.schedule`);
6. 12-week targets the chosen activities can deliver, the requirement as the destination, and
   the SMART goal (:mod:`~workbench.plans.goals`);
7. organisation views (:mod:`~workbench.plans.demand`) and what confidentiality lets a page
   show (:mod:`~workbench.plans.confidentiality`).

Everything that could not be planned is listed in ``issues`` with the reason; a run in which
nobody could be assessed is an error that says why.

Examples
--------
>>> from workbench.synth.generator import generate_organisation
>>> from workbench.synth import truth_scores
>>> org = generate_organisation(60, seed=1, n_waves=1)
>>> scores = truth_scores(org, se=0.2, wave=1, random_state=1)
>>> plans = build_plans(scores, org.people, org.framework, org.catalog, start="2027-01-04")
>>> bool((plans.focus["target_level"] <= plans.focus["score"]
...       + plans.focus["gain_ci_high"] + 1e-9).all())
True
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from workbench.checks import DEFAULT_SEED, check_choice, check_date_near, check_random_state
from workbench.errors import InputError
from workbench.plans.activities import match_activities
from workbench.plans.confidentiality import comments_for_display, source_scores_for_display
from workbench.plans.config import check_config
from workbench.plans.demand import content_gaps, find_experts, gap_heatmap, training_demand
from workbench.plans.gains import activity_gains
from workbench.plans.gaps import choose_focus_skills, compute_gaps
from workbench.plans.goals import set_targets, write_goals
from workbench.plans.inputs import catalog_frame, plan_scores, scale_bounds, start_date
from workbench.plans.labels import date_label
from workbench.plans.mentors import match_mentors
from workbench.plans.result import PlanSet
from workbench.plans.schedule import plan_timeline, schedule_activities
from workbench.plans.toward import TOWARD, destination_gaps, unplanned_current_gaps
from workbench.progression.readiness import readiness_table
from workbench.tables.requirements import framework_frame, people_frame, require_columns

__all__ = ["build_plans", "ISSUE_COLUMNS"]

ISSUE_COLUMNS = ["person", "skill", "activity", "issue", "message"]


def build_plans(
    scores, people, framework, catalog, *, ratings=None, profiles=None, impact=None,
    config=None, start=None, scale=None, random_state=None, paths=None, toward="current",
):
    """Build learning plans for everyone: focus skills, mentors, activities, schedule, goals.

    Parameters
    ----------
    scores : Calibration, DataFrame or path
        Calibrated scores (the scores contract; ``config["wave"]`` picks the wave, each
        person's latest by default).
    people, framework, catalog : DataFrame
        The contracts of :mod:`workbench.tables.data` (``catalog`` may be None or empty; its
        optional ``expected_gain`` and ``expected_gain_se`` state what an activity adds).
    ratings : DataFrame, optional
        Raw ratings, for per-source scores and comments shown under the confidentiality rules.
    profiles : DataFrame or path, optional
        person (or ratee), profile, persona, for persona rules (e.g. notebook 02's
        profile_assignments.csv).
    impact : ImpactResult, DataFrame or path, optional
        Measured per-activity effects (``effects_by_activity``: activity, skill, estimate, se);
        they become the expected gains of those activities.
    config : dict, optional
        Overrides of :data:`~workbench.plans.config.DEFAULT_CONFIG`.
    start : date-like, optional
        First day of the plans (default: next Monday).
    scale : Scale or (min, max), optional
        The organisation's rating scale (default 1 to 5); scores far off it are refused.
    random_state : int or Generator, optional
        Seeds the mentor candidate sampling in large organisations (default
        :data:`~workbench.checks.DEFAULT_SEED`).
    paths : DataFrame, optional
        Career paths (role, next_role), for ``toward="next"``.
    toward : {"current", "next", "target"}
        The role the plans aim at (:mod:`workbench.plans.toward`): the current role (default),
        the next role on the path or the person's target role; the current role's hard gaps
        are kept as candidates and any left out of the focus are listed in ``issues``.

    Returns
    -------
    PlanSet

    Raises
    ------
    InputError
        Scores off the scale, malformed tables, or nobody who could be assessed (with why).

    Examples
    --------
    >>> from workbench.synth import generate_organisation, truth_scores
    >>> org = generate_organisation(40, seed=1, n_waves=1)
    >>> scores = truth_scores(org, se=0.2, wave=1, random_state=1)
    >>> plans = build_plans(scores, org.people, org.framework, org.catalog, start="2027-01-04")
    >>> set(plans.focus["person"]) <= set(org.people["person"])
    True
    """
    cfg = check_config(config)
    check_choice("toward", toward, TOWARD)
    start = start_date(start)
    if ratings is not None and "date" in ratings:
        # a start years away from the assessment is a typo in the year (issue 26)
        check_date_near("start", start, ratings["date"], what="the ratings")
    low, high = scale_bounds(scale)
    scale_max = cfg["scale_max"] if cfg["scale_max"] is not None else high
    seeds = _tier_seeds(random_state)
    sc = plan_scores(scores, scale=scale if scale is not None else (low, high),
                     wave=cfg["wave"])
    people = people_frame(people)
    # ids are text everywhere (a 7 read from Excel is not the person '007'); the copies only
    sc = sc.assign(person=_ids(sc["person"]))
    people = people.assign(person=_ids(people["person"]))
    if ratings is not None:
        ratings = ratings.assign(ratee=_ids(ratings["ratee"]), rater=_ids(ratings["rater"]))
    if isinstance(profiles, str | Path):
        from workbench.tables.data import read_table

        profiles = read_table(profiles)
        profiles.columns = [str(c).strip().lower() for c in profiles.columns]
    if profiles is not None:
        profiles = profiles.rename(columns={"ratee": "person"})
        require_columns(profiles, "profiles", ["person"])
        profiles = profiles.assign(person=_ids(profiles["person"]))
    fw = framework_frame(framework)
    cat = catalog_frame(catalog)
    gains = activity_gains(cat, impact, default_gain=cfg["default_gain"],
                           default_gain_se=cfg["default_gain_se"])

    gaps = compute_gaps(sc, people, fw, gap_probability=cfg["gap_probability"],
                        priority=cfg["priority"], wave=None)
    gaps = gaps.merge(people[["person", "level", "location"]], on="person", how="left")
    gaps.loc[gaps["se"].isna(), "has_gap"] = False
    _refuse_if_nobody(gaps, sc, people, fw)
    issues = _input_issues(people, fw, sc, cat, gaps)
    aimed = gaps
    if toward != "current":
        aimed, more = destination_gaps(gaps, sc, people, fw, paths, toward=toward,
                                       gap_probability=cfg["gap_probability"],
                                       priority=cfg["priority"])
        issues += more

    focus = choose_focus_skills(
        aimed, n_focus=cfg["n_focus"], gap_probability=cfg["gap_probability"],
        stretch=cfg["stretch"], stretch_step=cfg["stretch_step"], next_role=cfg["next_role"],
        framework=fw, priority=cfg["priority"], scale_max=scale_max,
    )
    if toward != "current":
        # the plan's rows keep the person's own role; the destination is in the reason
        roles = people.set_index("person")["role"]
        focus = focus.assign(role=focus["person"].map(roles))
        issues += unplanned_current_gaps(gaps, focus, roles.to_dict())
    focus, mentors, unmatched, exact = _mentors(focus, sc, people, cfg, seeds)
    matched = match_activities(
        focus, cat, people=people, profiles=profiles, rules=cfg["rules"],
        kinds_by_gap_type=cfg["kinds_by_gap_type"], gains=gains,
        mentored=mentors[["person", "skill"]] if cfg["mentors"] else None,
    )
    dropped = matched.attrs.get("dropped")
    cap = focus[["person", "skill"]].assign(gain_cap=focus["gap"].clip(lower=0))
    matched = matched.merge(cap, on=["person", "skill"], how="left")
    matched["gain_cap"] = matched["gain_cap"].astype(float).fillna(np.inf)
    matched.attrs["dropped"] = dropped
    scheduled = schedule_activities(matched, start=start, weeks=cfg["weeks"],
                                    hours_per_week=cfg["hours_per_week"],
                                    per_skill=cfg["activities_per_skill"],
                                    rule_bonus=cfg["rule_bonus"])
    _activity_issues(issues, focus, cat, matched, scheduled)
    assessed = set(gaps.loc[gaps["score"].notna(), "person"])
    for person in sorted(assessed - set(focus["person"]), key=str):
        _issue(issues, person, None, None, "no_development_need",
               "no skill is confidently below its requirement"
               + (" or a stretch target" if cfg["stretch"] != "none" else "")
               + ", so no plan was made for this period")
    for row in unmatched.itertuples(index=False):
        _issue(issues, row.person, row.skill, None, "no_mentor", f"no mentor: {row.reason}")

    done = scheduled.loc[scheduled["scheduled"].astype(bool).to_numpy()]
    timeline = plan_timeline(focus["person"], start, weeks=cfg["weeks"],
                             checkin_every=cfg["checkin_every"])
    focus = set_targets(focus, done, alpha=cfg["alpha"], scale=(low, high))
    focus["goal"] = write_goals(focus, by=date_label(start + pd.Timedelta(weeks=cfg["weeks"])),
                                evidence=cfg["evidence"], weeks=cfg["weeks"])
    plans = _plans_table(done, focus)
    settings = {**cfg, "start": f"{start:%Y-%m-%d}", "scale": [low, high],
                "scale_max": scale_max, "random_state": random_state
                if isinstance(random_state, int | type(None)) else "generator",
                "impact": None if impact is None else _describe(impact),
                "gain_sources": sorted(set(gains["gain_source"]))}
    settings["priority"] = cfg["priority"] if isinstance(cfg["priority"], str) else "custom"
    if toward != "current":
        settings["toward"] = toward
    shown, comments = _displays(ratings, people, cfg)
    readiness = _readiness(scores, people, fw, paths, plans)
    return PlanSet(
        plans=plans, focus=focus, gaps=gaps, gains=gains, timeline=timeline, mentors=mentors,
        unmatched=unmatched,
        heatmap_by_team=gap_heatmap(gaps, by="team", min_cell=cfg["min_cell"]),
        heatmap_by_role=gap_heatmap(gaps, by="role", min_cell=cfg["min_cell"]),
        demand=training_demand(plans), content_gaps=content_gaps(focus, cat, matched),
        experts=find_experts(sc, fw, confidence=cfg["mentor_confidence"]),
        strengths=_strengths(gaps, cfg), source_scores=shown, comments=comments,
        issues=pd.DataFrame(issues, columns=ISSUE_COLUMNS), people=people, settings=settings,
        mentor_exact=exact, readiness=readiness,
    )


def _ids(values):
    if pd.api.types.infer_dtype(values, skipna=True) == "string":
        return values  # already text: skip a costly conversion of every row
    return values.astype(object).where(values.isna(), values.astype(str))


def _describe(impact):
    if isinstance(impact, str):
        return impact
    if hasattr(impact, "settings"):
        s = impact.settings
        return f"impact result (waves {s.get('pre_wave')} -> {s.get('post_wave')})"
    return "per-activity effects table"


def _tier_seeds(random_state):
    """One seed per focus rank, drawn the same way whatever ``n_focus`` is (stable mentors)."""
    if random_state is None or isinstance(random_state, int | np.integer):
        base = DEFAULT_SEED if random_state is None else int(random_state)
        check_random_state(base)
        return [np.random.default_rng([base, k]) for k in range(3)]
    rng = check_random_state(random_state)
    return [np.random.default_rng(int(s)) for s in rng.integers(0, 2**62, 3)]


def _readiness(scores, people, fw, paths, plans):
    """Readiness for the roles on each person's path, by the plan's gains (empty without
    paths or target roles)."""
    targets = "target_role" in people and people["target_role"].notna().any()
    if paths is None and not targets:
        return pd.DataFrame()
    table, _, _ = readiness_table(scores, people, fw, paths, plans=plans)
    return table


def _issue(rows, person, skill, activity, issue, message):
    rows.append((person, skill, activity, issue, message))


def _examples(values, k=3):
    return ", ".join(repr(v) for v in sorted(set(values), key=str)[:k])


def _refuse_if_nobody(gaps, sc, people, fw):
    """Nobody assessed is an error with the likely reason, never an empty plan with exit 0."""
    if gaps["score"].notna().any():
        return
    if len(people) == 0:
        raise InputError("plans: the people table is empty, so nobody can be planned")
    if len(sc) == 0:
        raise InputError("plans: the scores table is empty, so nobody can be planned")
    in_people = set(people["person"].astype(str))
    scored = set(sc["person"].astype(str))
    if not in_people & scored:
        hint = ""
        stripped = {p.lstrip("0") for p in in_people}
        if any(s.lstrip("0") in stripped for s in scored):
            hint = (" The ids match once leading zeros are ignored: one file's ids were "
                    "probably read as numbers (e.g. Excel turning '007' into 7); store the id "
                    "column as text.")
        raise InputError(
            "plans: nobody could be planned: none of the scored people "
            f"(e.g. {_examples(scored)}) is in the people table (e.g. {_examples(in_people)})."
            + hint)
    roles = set(people.loc[people["person"].astype(str).isin(scored), "role"])
    if not roles & set(fw["role"]):
        raise InputError(
            f"plans: nobody could be planned: the roles of the scored people ({_examples(roles)})"
            f" have no requirements in the framework (roles there: {_examples(fw['role'])})")
    raise InputError(
        "plans: nobody could be planned: the scored skills "
        f"({_examples(sc['skill'])}) are not the framework's skills ({_examples(fw['skill'])})")


def _input_issues(people, fw, sc, cat, gaps):
    rows = []
    no_fw = people[~people["role"].isin(set(fw["role"]))]
    for person, role in zip(no_fw["person"], no_fw["role"], strict=True):
        _issue(rows, person, None, None, "role_without_framework",
               f"the role {role!r} has no framework (no required levels), so no plan was made")
    scored = set(sc["person"])
    for person in people.loc[~people["person"].isin(scored), "person"]:
        _issue(rows, person, None, None, "no_ratings",
               "no calibrated scores (no ratings), so no gaps could be measured and no plan made")
    unknown = sorted(scored - set(people["person"]), key=str)
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


def _activity_issues(issues, focus, cat, matched, scheduled):
    if len(focus) == 0:
        return
    dropped = matched.attrs.get("dropped")
    if dropped is not None and len(dropped):
        for row in dropped.drop_duplicates(["person", "skill", "reason"]).itertuples(index=False):
            kind = "mentoring_replaced" if row.reason.startswith("mentoring") else \
                "activity_not_positive"
            _issue(issues, row.person, row.skill, row.activity, kind,
                   f"{row.activity} was not planned for {row.skill}: {row.reason}")
    served = matched[["person", "skill"]].drop_duplicates().assign(_served=True)
    left = focus.merge(served, on=["person", "skill"], how="left")
    left = left[left["_served"].isna()]
    known = set(cat["skill"])
    for row in left.itertuples(index=False):
        if len(cat) == 0:
            why = "the catalog is empty"
        elif row.skill in known:
            why = (f"the catalog has no suitable {row.skill} activity for levels "
                   f"{row.score:.1f} to {row.destination_level:.1f} and a {row.gap_type} gap")
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


def _mentors(focus, sc, people, cfg, seeds):
    """Mentors by focus rank: rank 1 for everyone first, then rank 2 with the capacity left."""
    cols = ["person", "skill", "destination_level", "mentor", "mentor_score", "mentor_lower",
            "cost", "same_team", "same_family", "same_location"]
    un_cols = ["person", "skill", "destination_level", "n_eligible", "reason"]
    if not cfg["mentors"] or len(focus) == 0:
        focus = focus.assign(mentor=None, no_mentor_reason=None)
        return focus, pd.DataFrame(columns=cols), pd.DataFrame(columns=un_cols), True
    matches, unmatched, exact = [], [], True
    load = pd.Series(dtype=int)
    for rank in sorted(focus["focus_rank"].unique()):
        needs = focus.loc[focus["focus_rank"] == rank,
                          ["person", "skill", "destination_level", "priority"]]
        result = match_mentors(
            needs.rename(columns={"destination_level": "target_level"}), sc, people,
            capacity=cfg["mentor_capacity"], confidence=cfg["mentor_confidence"],
            candidates=cfg["mentor_candidates"], costs=cfg["mentor_costs"],
            role_families=cfg["role_families"], block_size=cfg["mentor_block_size"],
            random_state=seeds[int(rank) - 1], load=load,
        )
        matches.append(result.matches.rename(columns={"target_level": "destination_level"}))
        unmatched.append(result.unmatched.rename(columns={"target_level": "destination_level"}))
        load = load.add(result.matches["mentor"].value_counts(), fill_value=0).astype(int)
        exact = exact and result.exact
    matches = pd.concat(matches, ignore_index=True)[cols]
    unmatched = pd.concat(unmatched, ignore_index=True)[un_cols]
    focus = focus.merge(matches[["person", "skill", "mentor"]], on=["person", "skill"],
                        how="left")
    focus = focus.merge(unmatched[["person", "skill", "reason"]].rename(
        columns={"reason": "no_mentor_reason"}), on=["person", "skill"], how="left")
    return focus, matches, unmatched, exact


def _plans_table(done, focus):
    cols = ["person", "role", "team", "skill", "focus_rank", "focus_type", "activity", "title",
            "kind", "start", "end", "week_from", "week_to", "hours", "hours_per_week", "cost",
            "modality", "gain", "gain_se", "gain_source", "score", "target_level",
            "destination_level", "mentor", "goal"]
    info = focus[["person", "skill", "role", "team", "focus_type", "score", "target_level",
                  "destination_level", "mentor", "goal"]]
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
                                      "note", "wave"]),
                pd.DataFrame(columns=["ratee", "skill", "source", "comment"]))
    kw = dict(min_raters=cfg["min_raters"], exempt=cfg["exempt_sources"], wave=cfg["wave"])
    ratings = ratings[ratings["ratee"].isin(people["person"])]
    return source_scores_for_display(ratings, **kw), comments_for_display(ratings, **kw)
