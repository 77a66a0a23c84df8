"""Catalog activities that take no time (issue #26): refused by name, never planned as free."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from workbench.errors import InputError
from workbench.plans.inputs import catalog_frame
from workbench.tables.organisation import load_organisation

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo"


@pytest.mark.parametrize("column, values", [
    ("hours", {"A01": "0"}),
    ("hours", {"A03": "0", "A04": "0.0"}),   # a mentoring relationship too
    ("weeks", {"A02": "0"}),
])
def test_activities_with_no_hours_or_weeks_are_refused_by_name(tmp_path, column, values):
    folder = tmp_path / "org"
    shutil.copytree(DEMO, folder)
    catalog = pd.read_csv(folder / "catalog.csv", dtype=str, keep_default_na=False)
    for activity, value in values.items():
        catalog.loc[catalog["activity"] == activity, column] = value
    catalog.to_csv(folder / "catalog.csv", index=False)
    with pytest.raises(InputError) as caught:
        load_organisation(folder)
    found = [p for p in caught.value.errors if "takes no time" in p.message]
    assert sorted(p.value for p in found) == sorted(values)
    assert all(p.column == column and f"'{column}' is 0" in p.message for p in found)


@pytest.mark.parametrize("hours, weeks, named", [
    ([0.0, 8.0], [4.0, 4.0], "'A1'"),
    ([8.0, float("nan")], [4.0, 4.0], "'A2'"),
    ([8.0, 6.0], [4.0, 0.0], "'A2'"),
    ([0.0, 0.0], [4.0, 4.0], "'A1', 'A2'"),
])
def test_plans_never_take_a_timeless_activity_as_free(hours, weeks, named):
    catalog = pd.DataFrame({"activity": ["A1", "A2"], "skill": ["Planning"] * 2,
                            "kind": ["course", "mentoring"], "level_from": [1, 1],
                            "level_to": [3, 3], "hours": hours, "weeks": weeks})
    with pytest.raises(InputError, match=f"activit(y|ies) {named} ha(s|ve) no"):
        catalog_frame(catalog)
