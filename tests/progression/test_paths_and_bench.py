"""Paths input checks (every problem with file, row, column, value), bands, bench, mobility
and what is written where (person-level tables only under analyst/)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from workbench.errors import ConfigError, InputError
from workbench.progression import (
    assess_readiness,
    check_paths,
    path_destinations,
    rank_candidates,
)

FW = pd.DataFrame({"role": ["A", "A", "B", "B", "C"], "skill": ["S", "T", "S", "T", "S"],
                   "required_level": [2.5, 2.5, 3.0, 3.0, 4.0], "weight": [1, 2, 1, 2, 1]})


def test_every_path_problem_is_listed_with_row_and_column():
    paths = pd.DataFrame({"role": ["A", "B", "C", "A", "A"],
                          "next_role": ["B", "A", "Z", "B", "C"],
                          "typical_months": [12, 12, 6, 12, -3]})
    paths.attrs["file"] = "paths.csv"
    with pytest.raises(InputError) as err:
        check_paths(paths, FW)
    text = str(err.value)
    assert "paths.csv, row 2, column 'next_role': the path cycles (A -> B -> A)" in text
    assert "paths.csv, row 3, column 'next_role': the path cycles (B -> A -> B)" in text
    assert "paths.csv, row 4, column 'next_role': role has no requirements" in text
    assert "'Z'" in text
    assert "row 5, column 'next_role': (role, next_role): listed on an earlier row" in text
    assert "row 6, column 'typical_months'" in text


def test_stated_lateral_moves_may_cycle():
    paths = pd.DataFrame({"role": ["A", "B"], "next_role": ["B", "A"],
                          "lateral": ["yes", "yes"]})
    assert check_paths(paths, FW)["lateral"].tolist() == [True, True]
    with pytest.raises(InputError, match="row 3, column 'next_role': the path cycles"):
        check_paths(paths.assign(lateral=["yes", "no"]), FW)
    assert len(check_paths(paths.drop(columns="lateral"), FW, allow_cycles=True)) == 2


def test_unknown_target_role_names_the_people_row():
    people = pd.DataFrame({"person": ["p", "q"], "role": ["A", "A"],
                           "target_role": ["C", "Chief"]})
    people.attrs["file"] = "people.csv"
    paths = pd.DataFrame({"role": ["A", "B"], "next_role": ["B", "C"]})
    with pytest.raises(InputError, match=r"people.csv, row 3, column 'target_role'.*'Chief'"):
        path_destinations(people, paths, FW)
    dest = path_destinations(people.iloc[:1], paths, FW)
    assert dest[["role", "relation", "moves"]].to_dict("records") == [
        {"role": "B", "relation": "next", "moves": 1.0},
        {"role": "C", "relation": "target", "moves": 2.0}]


def _people_scores():
    people = pd.DataFrame({"person": ["p1", "p2", "p3", "p4"], "role": "A",
                           "target_role": [None, None, None, "C"]})
    scores = pd.DataFrame({
        "person": np.repeat(["p1", "p2", "p3", "p4"], 2), "skill": ["S", "T"] * 4,
        "score": [3.8, 3.9, 3.0, 3.1, 2.6, 2.2, 4.5, 3.0], "se": 0.2})
    return people, scores


def test_bands_follow_the_stated_rule_with_plan_gains():
    people, scores = _people_scores()
    paths = pd.DataFrame({"role": ["A"], "next_role": ["B"]})
    plans = pd.DataFrame({"person": ["p2", "p2", "p3"], "skill": ["S", "T", "T"],
                          "activity": ["X1", "X2", "X2"], "gain": [0.4, 0.4, 0.3],
                          "gain_se": [0.05, 0.05, 0.05]})
    res = assess_readiness(scores, people, FW, paths, plans=plans, skill_error_corr=0.3)
    band = res.readiness.set_index(["person", "role"])["band"]
    assert band[("p1", "B")] == "ready_now"
    assert band[("p2", "B")] == "ready_in_horizon"  # 3.0/3.1 + 0.4 clears 3.0 comfortably
    assert band[("p3", "B")] == "ready_later"
    assert band[("p4", "C")] == "ready_now"
    gaps = res.skill_gaps.set_index(["person", "role", "skill"])
    assert gaps.loc[("p3", "B", "T"), "weighted_gap"] == pytest.approx(2 * 0.8)
    assert "stated: 0.3" in res.settings["skill_error_corr"]


def test_no_correlation_is_stated_as_an_assumption():
    people, scores = _people_scores()
    res = assess_readiness(scores, people, FW, pd.DataFrame({"role": ["A"],
                                                             "next_role": ["B"]}))
    assert res.settings["skill_error_corr"].startswith("assumed 0")


def test_open_role_ranks_everyone_and_marks_ties():
    people, scores = _people_scores()
    res = assess_readiness(scores, people, FW, roles=["B"])
    ranked = res.candidates("B", tie_margin=0.05)
    assert ranked["person"].tolist()[0] == "p1"
    assert set(ranked["band"]) <= {"not_on_path"}
    assert ranked["p_ready"].is_monotonic_decreasing
    with pytest.raises(ConfigError, match="nobody was assessed"):
        rank_candidates(res.readiness, "C")
    with pytest.raises(ConfigError, match="'Chief'"):
        assess_readiness(scores, people, FW, roles=["Chief"])


def test_save_keeps_people_under_analyst(tmp_path):
    people, scores = _people_scores()
    res = assess_readiness(scores, people, FW, pd.DataFrame({"role": ["A"],
                                                             "next_role": ["B"]}))
    out = res.save(tmp_path / "r")
    for name in ("bench.csv", "readiness_by_role.csv"):
        frame = pd.read_csv(out / name)
        assert "person" not in frame.columns
        assert not frame.astype(str).isin(["p1", "p2", "p3", "p4"]).any().any()
    assert (out / "analyst" / "readiness_by_person.csv").exists()
    bench = res.bench.set_index(["role", "measure"])
    assert bench.at[("B", "ready_now"), "in_band"] == 1
    assert bool(bench.at[("B", "ready_now"), "depends_on_one_person"])
    # p1 alone is ready for B, p4 alone for their target C
    assert res.single_successors["person"].tolist() == ["p1", "p4"]


def test_paths_file_is_read_through_its_contract(tmp_path):
    from workbench.tables import load_table

    path = tmp_path / "paths.csv"
    path.write_text("role,next_role,typical_months\nA,B,12\nB,A,\nA,B,x\n", encoding="utf-8")
    with pytest.raises(InputError) as err:
        load_table(path, "paths")
    text = str(err.value)
    assert "row 4, column 'typical_months'" in text and "duplicate" in text
    path2 = tmp_path / "paths2.csv"
    path2.write_text("role,next_role,typical_months\nA,B,12\nB,A,\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"paths2.csv, row 3, column 'next_role': the path cyc"):
        check_paths(load_table(path2, "paths"), FW)


@pytest.mark.parametrize("option", ["probability", "alpha", "skill_error_corr"])
@pytest.mark.parametrize("payload", [float("nan"), float("inf"), -0.5])
def test_numeric_options_are_refused_before_any_data_are_read(option, payload):
    from workbench.progression import analyse_outcomes

    empty = pd.DataFrame()
    with pytest.raises(ConfigError, match=option):
        assess_readiness(empty, empty, empty, **{option: payload})
    if option == "alpha":
        with pytest.raises(ConfigError, match="hourly_cost"):
            analyse_outcomes(empty, empty, first_assessment="2026-01-01", hourly_cost=payload)
