"""A score between the scale's points is an error for the Rasch model, not a category of its
own (issue 26): every such row is named, the first 25 one by one and the rest counted."""

from __future__ import annotations

import pytest

from workbench.calibration import calibrate_rasch
from workbench.errors import InputError
from workbench.synth.generator import generate_organisation


@pytest.fixture(scope="module")
def ratings():
    return generate_organisation(40, seed=3, n_waves=1).ratings


@pytest.mark.parametrize("n_bad, value", [(1, 3.5), (25, 2.5), (26, 4.25), (60, 1.5)])
def test_every_half_point_row_is_named_then_counted(ratings, n_bad, value):
    data = ratings.copy()
    rows = data.index[data["score"].notna()][:n_bad]
    data.loc[rows, "score"] = value
    with pytest.raises(InputError) as caught:
        calibrate_rasch(data, interactions=(), source="survey.csv")
    problems = caught.value.problems
    listed = [p for p in problems if p.row is not None]
    assert [p.row for p in listed] == [int(r) + 2 for r in rows[:25]]
    assert all(p.file == "survey.csv" and p.column == "score" and p.value == f"{value:g}"
               for p in listed)
    if n_bad > 25:
        assert len(problems) == 26
        assert f"and {n_bad - 25} more row(s) ({n_bad} in all)" in problems[-1].message
    else:
        assert len(problems) == n_bad


def test_whole_numbers_stored_as_floats_are_categories(ratings):
    res = calibrate_rasch(ratings.assign(score=ratings["score"].astype(float)), interactions=())
    assert res.converged
