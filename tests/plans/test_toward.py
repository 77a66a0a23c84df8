"""Plans aimed at the next or target role: focus skills follow the destination, the current
role's hard gaps are kept or listed, the default is unchanged."""

from __future__ import annotations

import pandas as pd
import pytest

from workbench.errors import ConfigError
from workbench.plans import build_plans

FW = pd.DataFrame({"role": ["A", "A", "A", "B", "B", "B"], "skill": ["S", "T", "U"] * 2,
                   "required_level": [3.0, 3.0, 3.0, 4.0, 4.0, 3.0], "weight": 1.0})
CAT = pd.DataFrame({"activity": ["X", "Y", "Z"], "title": ["x", "y", "z"],
                    "skill": ["S", "T", "U"], "kind": "course", "gap_type": "knowledge",
                    "level_from": 1, "level_to": 5, "hours": 4, "weeks": 2, "cost": 100.0})
PEOPLE = pd.DataFrame({"person": ["p", "q"], "role": "A", "team": "T",
                       "target_role": ["B", None]})
PATHS = pd.DataFrame({"role": ["A"], "next_role": ["B"]})
# p meets A on S and T (3.5) but not B (4.0); p's U (2.0) is a hard gap of A (B asks 3.0 too)
SCORES = pd.DataFrame({"person": ["p"] * 3 + ["q"] * 3, "skill": ["S", "T", "U"] * 2,
                       "score": [3.5, 3.5, 2.0, 3.5, 3.6, 3.5], "se": 0.1})


def _plans(**options):
    return build_plans(SCORES, PEOPLE, FW, CAT, start="2027-01-04",
                       config={"n_focus": 1, "mentors": False}, **options)


def test_default_plans_are_unchanged_by_the_new_options():
    plain, current = _plans(), _plans(toward="current", paths=PATHS)
    pd.testing.assert_frame_equal(plain.focus, current.focus)
    assert "toward" not in plain.settings


def test_next_role_sets_the_destination_and_keeps_current_gaps():
    res = _plans(toward="next", paths=PATHS, )
    focus = res.focus.set_index("person")
    # p: the gaps toward B are S and T (0.5 below 4.0) and U (1.0 below 3.0, also A's gap):
    # U has the largest shortfall and is chosen; its destination is B's level (the same 3.0)
    assert focus.at["p", "skill"] == "U"
    assert focus.at["p", "role"] == "A"  # the person's own role stays on the plan
    # q has no gap in A; toward B, S and T are 0.4-0.5 below 4.0
    assert focus.at["q", "skill"] in {"S", "T"}
    assert focus.at["q", "destination_level"] == 4.0
    assert "the B requirement" in focus.at["q", "destination_reason"]
    assert res.settings["toward"] == "next"


def test_a_current_gap_left_out_of_the_focus_is_listed():
    scores = SCORES.assign(score=[3.5, 3.5, 2.85, 3.5, 3.6, 3.5])
    people = PEOPLE.assign(role=["A", "A"])
    fw = FW.assign(weight=[1.0, 1.0, 1.0, 5.0, 5.0, 0.1])
    res = build_plans(scores, people, fw, CAT, start="2027-01-04", paths=PATHS, toward="next",
                      config={"n_focus": 1, "mentors": False})
    issues = res.issues
    listed = issues[issues["issue"] == "current_gap_not_in_focus"]
    assert listed[["person", "skill"]].values.tolist() == [["p", "U"]]


def test_target_role_and_people_without_one():
    res = _plans(toward="target")
    issues = res.issues
    assert issues.loc[issues["issue"] == "no_destination", "person"].tolist() == ["q"]
    with pytest.raises(ConfigError, match="toward='next'"):
        _plans(toward="next")
    with pytest.raises(ConfigError, match="toward='sideways'"):
        _plans(toward="sideways")


def test_person_pages_show_readiness_for_the_next_role(tmp_path):
    from workbench.plans import render_person_page

    res = _plans(paths=PATHS)
    ready = res.readiness.set_index(["person", "role"])
    assert set(ready.index) == {("p", "B"), ("q", "B")}
    # q: S 3.5 and T 3.6 against B's 4.0 with SE 0.1: far from ready now
    assert ready.at[("q", "B"), "p_ready"] < 0.01
    page = render_person_page(res.person("q"))
    assert "## Readiness for your next role" in page and "| B | next, target" not in page
    assert "| B | next |" in page
    assert "Readiness" not in render_person_page(_plans().person("q"))
    out = res.save(tmp_path / "plans")
    assert "Readiness for your next role" in (out / "people" / "q.md").read_text()
