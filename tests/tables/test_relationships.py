"""Relationships that contradict each other (issue #26): one rater with two relationships to a
person, and a source that inverts the people file's reporting line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from workbench.errors import InputError
from workbench.tables.organisation import load_organisation
from workbench.tables.validate import load_ratings

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo"


@pytest.fixture
def folder(tmp_path) -> Path:
    copy = tmp_path / "org"
    shutil.copytree(DEMO, copy)
    return copy


def _ratings(folder):
    return pd.read_csv(folder / "ratings.csv", dtype=str, keep_default_na=False)


def _pair_rows(ratings, source):
    """The rows of the first (ratee, rater, wave) rated with ``source`` on several skills."""
    rated = ratings[ratings["source"] == source]
    sizes = rated.groupby(["ratee", "rater", "wave"], sort=False).size()
    key = sizes[sizes >= 3].index[0]
    mask = ((ratings["ratee"] == key[0]) & (ratings["rater"] == key[1])
            & (ratings["wave"] == key[2]))
    return key, ratings.index[mask]


@pytest.mark.parametrize("was, becomes", [("peer", "manager"), ("peer", "direct_report"),
                                          ("manager", "peer"), ("direct_report", "other")])
def test_one_rater_with_two_relationships_to_a_person_is_an_error_listing_rows(folder, was,
                                                                                becomes):
    ratings = _ratings(folder)
    key, rows = _pair_rows(ratings, was)
    changed = rows[-1:]
    ratings.loc[changed, "source"] = becomes
    ratings.to_csv(folder / "ratings.csv", index=False)
    with pytest.raises(InputError) as caught:
        load_organisation(folder)
    [problem] = [p for p in caught.value.errors if "two relationships" in p.message]
    file_rows = [int(i) + 2 for i in rows]
    assert f"rater {key[1]!r} has two relationships to ratee {key[0]!r} in wave {key[2]}" \
        in problem.message
    assert f"{becomes!r} on row(s) {file_rows[-1]}" in problem.message
    assert f"{was!r} on row(s) {file_rows[0]}" in problem.message
    with pytest.raises(InputError, match="two relationships"):
        load_ratings(folder / "ratings.csv")


def test_a_relationship_may_change_between_waves(folder):
    ratings = _ratings(folder)
    (ratee, rater, wave), rows = _pair_rows(ratings, "peer")
    ratings.loc[rows, "source"] = "manager"  # every skill of that wave: one relationship
    ratings.to_csv(folder / "ratings.csv", index=False)
    org = load_organisation(folder)
    assert not [p for p in org.problems if "two relationships" in p.message]


@pytest.mark.parametrize("was, becomes, line", [
    ("direct_report", "manager", "{rater!r} reports to {ratee!r}"),
    ("manager", "direct_report", "{ratee!r} reports to {rater!r}"),
])
def test_a_source_that_inverts_the_reporting_line_is_an_error(folder, was, becomes, line):
    ratings = _ratings(folder)
    people = pd.read_csv(folder / "people.csv", dtype=str, keep_default_na=False)
    boss = dict(zip(people["person"], people["manager"], strict=True))
    rated = ratings[ratings["source"] == was]
    if was == "direct_report":
        consistent = rated[rated["rater"].map(boss) == rated["ratee"]]
    else:
        consistent = rated[rated["ratee"].map(boss) == rated["rater"]]
    ratee, rater = consistent.iloc[0][["ratee", "rater"]]
    mask = (ratings["ratee"] == ratee) & (ratings["rater"] == rater)
    ratings.loc[mask, "source"] = becomes  # every wave and skill: no two-relationship clash
    ratings.to_csv(folder / "ratings.csv", index=False)
    with pytest.raises(InputError) as caught:
        load_organisation(folder)
    found = [p for p in caught.value.errors if "reports to" in p.message]
    assert len(found) == 1
    assert line.format(ratee=ratee, rater=rater) in found[0].message
    assert found[0].row == int(ratings.index[mask][0]) + 2
    assert not [p for p in caught.value.errors if "two relationships" in p.message]
