"""Expected gains, the activity choice against brute force, mentors by rank, mentoring rules."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from workbench.errors import InputError
from workbench.plans import activity_gains, build_plans, read_impact, schedule_activities
from workbench.synth import truth_scores
from workbench.synth.generator import generate_organisation

START = "2027-01-04"


@pytest.fixture(scope="module")
def org():
    return generate_organisation(300, seed=5, n_waves=1)


@pytest.fixture(scope="module")
def scores(org):
    return truth_scores(org, se=0.2, wave=1, random_state=5)


# ------------------------------------------------------------------------------------------
# Expected gains: measured > catalog > default
# ------------------------------------------------------------------------------------------


def test_gain_sources_in_order_of_evidence():
    cat = pd.DataFrame({"activity": ["A1", "A2", "A3"], "skill": "S", "kind": "course",
                        "level_from": 1, "level_to": 5, "hours": 4, "weeks": 2,
                        "expected_gain": [0.4, 0.25, np.nan],
                        "expected_gain_se": [0.1, np.nan, np.nan]})
    effects = pd.DataFrame({"activity": ["A1", "A9"], "skill": ["S", "S"],
                            "estimate": [0.31, 0.5], "se": [0.04, 0.1], "n": [20, 5]})
    g = activity_gains(cat, effects, default_gain=0.1, default_gain_se=0.08).set_index(
        "activity")
    assert g.loc["A1", "gain_source"] == "measured" and g.loc["A1", "gain"] == 0.31
    assert g.loc["A1", "gain_se"] == 0.04 and g.loc["A1", "n"] == 20
    assert g.loc["A2", "gain_source"] == "catalog" and g.loc["A2", "gain"] == 0.25
    assert g.loc["A2", "gain_se"] == 0.08  # no stated SE: the default SE
    assert g.loc["A3", "gain_source"] == "default" and g.loc["A3", "gain"] == 0.1
    assert "A9" not in g.index  # effects of activities not in the catalog are not planned


def test_impact_file_errors_name_file_row_and_column(tmp_path):
    path = tmp_path / "effects.csv"
    path.write_text("activity,skill,estimate,se\nA1,S,0.3,0.1\nA2,S,lots,0.1\nA3,S,0.2,-1\n",
                    encoding="utf-8")
    with pytest.raises(InputError) as err:
        read_impact(str(path))
    text = str(err.value)
    assert "effects.csv, row 3, column 'estimate'" in text and "not a number" in text
    assert "row 4, column 'se'" in text and "negative" in text
    with pytest.raises(InputError, match="missing column"):
        read_impact(pd.DataFrame({"activity": ["A1"], "skill": ["S"], "estimate": [0.1]}))


def test_catalog_gain_is_used_and_named_on_the_page(org, scores):
    cat = org.catalog.assign(expected_gain=0.3, expected_gain_se=0.05)
    ps = build_plans(scores, org.people, org.framework, cat, start=START,
                     config={"mentors": False})
    assert set(ps.plans["gain_source"]) == {"catalog"}
    f = ps.focus[ps.focus["n_activities"] > 0]
    assert np.allclose(f["expected_gain"], 0.3 * f["n_activities"])
    page = ps.page(f["person"].iloc[0])
    assert "the learning catalog's stated expected gain" in page


def test_activity_with_negative_measured_effect_is_not_planned(org, scores):
    effects = activity_gains(org.catalog).rename(columns={"gain": "estimate", "gain_se": "se"})
    effects.loc[effects["activity"] == effects["activity"].iloc[0], "estimate"] = -0.2
    bad = effects["activity"].iloc[0]
    ps = build_plans(scores, org.people, org.framework, org.catalog, impact=effects,
                     start=START, config={"mentors": False})
    assert bad not in set(ps.plans["activity"])
    if (ps.issues["activity"] == bad).any():
        assert ps.issues.loc[ps.issues["activity"] == bad, "issue"].eq(
            "activity_not_positive").all()


# ------------------------------------------------------------------------------------------
# The choice of activities: optimal against brute force
# ------------------------------------------------------------------------------------------


def _feasible(rows, weeks, budget):
    """Place the rows' unique activities in order, the schedule's own placement rule."""
    load = np.zeros(weeks)
    seen = set()
    for r in rows:
        if r["activity"] in seen:
            continue
        seen.add(r["activity"])
        d = max(1, math.ceil(r["weeks"]))
        if r["hours"] / d > budget:
            d = math.ceil(r["hours"] / budget)
        per = r["hours"] / d
        for s in range(weeks - d + 1):
            if np.all(load[s:s + d] + per <= budget + 1e-9):
                load[s:s + d] += per
                break
        else:
            return False
    return True


def _brute_force(m, weeks, budget, per_skill):
    """Best (served, useful gain) over every subset of activities, by enumeration."""
    acts = list(dict.fromkeys(m["activity"]))
    best = (-1, -1.0)
    for k in range(len(acts) + 1):
        for chosen in itertools.combinations(acts, k):
            rows = m[m["activity"].isin(chosen)]
            if (rows.groupby("skill").size() > per_skill).any():
                continue
            if not _feasible(rows.to_dict("records"), weeks, budget):
                continue
            served = rows["skill"].nunique()
            useful = sum(min(g["gain"].sum(), g["gain_cap"].iloc[0])
                         for _, g in rows.groupby("skill"))
            best = max(best, (served, round(useful, 9)))
    return best


@pytest.mark.parametrize("seed", range(8))
def test_chosen_activities_maximise_expected_gain_within_budget(seed):
    rng = np.random.default_rng(seed)
    rows = []
    for rank, skill in enumerate(["S", "T"], start=1):
        for k in range(4):
            rows.append({"person": "a", "skill": skill, "focus_rank": rank,
                         "activity_rank": k + 1, "activity": f"{skill}{k}",
                         "hours": float(rng.choice([3, 4, 6, 8, 12, 20])),
                         "weeks": float(rng.choice([2, 3, 4, 8])),
                         "gain": float(rng.uniform(0.05, 0.5)),
                         "gain_cap": float(rng.choice([0.3, 0.6, 5.0]))})
    # one activity that serves both skills
    rows.append({**rows[0], "skill": "T", "focus_rank": 2, "activity_rank": 5,
                 "gain": 0.2, "gain_cap": rows[4]["gain_cap"]})
    m = pd.DataFrame(rows)
    m.loc[m["skill"] == "T", "gain_cap"] = rows[4]["gain_cap"]
    m.loc[m["skill"] == "S", "gain_cap"] = rows[0]["gain_cap"]
    out = schedule_activities(m, start=START, weeks=8, hours_per_week=3, per_skill=2)
    chosen = out[out["scheduled"]]
    served = chosen["skill"].nunique()
    useful = sum(min(g["gain"].sum(), g["gain_cap"].iloc[0]) for _, g in chosen.groupby("skill"))
    assert (served, pytest.approx(useful, abs=1e-6)) == _brute_force(m, 8, 3, 2)
    # the schedule keeps the weekly budget
    load = np.zeros(8)
    for r in chosen.drop_duplicates("activity").itertuples(index=False):
        load[int(r.week_from) - 1:int(r.week_to)] += r.hours_per_week
    assert load.max() <= 3 + 1e-9


def test_more_hours_buy_more_expected_gain(org, scores):
    gains = []
    for hours in (1.0, 3.0, 6.0):
        ps = build_plans(scores, org.people, org.framework, org.catalog, start=START,
                         config={"mentors": False, "hours_per_week": hours})
        gains.append(ps.focus["expected_gain"].mean())
    assert gains[0] < gains[1] <= gains[2]


# ------------------------------------------------------------------------------------------
# Mentors: stable across focus counts; mentoring needs a mentor
# ------------------------------------------------------------------------------------------


def test_mentors_of_higher_ranked_skills_do_not_move_when_focus_skills_are_added(org, scores):
    by_n = {n: build_plans(scores, org.people, org.framework, org.catalog, start=START,
                           config={"n_focus": n}) for n in (1, 2, 3)}
    for small, large in ((1, 2), (2, 3), (1, 3)):
        a = by_n[small].focus[["person", "skill", "focus_rank", "mentor"]]
        b = by_n[large].focus[["person", "skill", "focus_rank", "mentor"]]
        both = a.merge(b, on=["person", "skill", "focus_rank"], suffixes=("_a", "_b"))
        assert len(both) == len(a)
        same = (both["mentor_a"] == both["mentor_b"]) | (both["mentor_a"].isna()
                                                        & both["mentor_b"].isna())
        assert same.all()
    three = by_n[3].mentors
    assert three.groupby("mentor").size().max() <= 2  # capacity holds across the rounds


def test_mentoring_is_planned_only_with_a_mentor(org, scores):
    ps = build_plans(scores, org.people, org.framework, org.catalog, start=START)
    mentoring = ps.plans[ps.plans["kind"] == "mentoring"]
    assert len(mentoring) > 0
    assert mentoring["mentor"].notna().all()
    pairs = set(zip(ps.mentors["person"], ps.mentors["skill"], strict=True))
    assert set(zip(mentoring["person"], mentoring["skill"], strict=True)) <= pairs
    replaced = ps.issues[ps.issues["issue"] == "mentoring_replaced"]
    assert len(replaced) > 0
    unmatched = set(zip(ps.unmatched["person"], ps.unmatched["skill"], strict=True))
    assert set(zip(replaced["person"], replaced["skill"], strict=True)) <= unmatched
    person = replaced["person"].iloc[0]
    assert "Mentor:** none available" in ps.page(person)


def test_an_impact_result_object_is_read_and_named_in_the_settings():
    from workbench.impact import estimate_impact

    org = generate_organisation(150, seed=2)
    scores = truth_scores(org, se=0.2, random_state=0)
    res = estimate_impact(scores, org.enrollments, people=org.people, catalog=org.catalog,
                          dates=org.ratings, did=False)
    ps = build_plans(scores, org.people, org.framework, org.catalog, impact=res, start=START,
                     config={"mentors": False})
    measured = res.effects_by_activity.dropna(subset=["estimate"])
    used = ps.plans[ps.plans["gain_source"] == "measured"].merge(
        measured, on=["activity", "skill"])
    assert len(used) > 0 and np.allclose(used["gain"], used["estimate"])
    assert ps.settings["impact"] == "impact result (waves 1 -> 2)"
