"""``workbench validate`` checks the optional paths and outcomes across files (issue 23).

A generated organisation with career paths and outcomes validates; with a cycling path, a
next role and a target role the framework does not have, an outcome metric stated in both
directions, a metric with outcomes only before the first assessment and a catalog activity
without a cost, the command exits 2 and names every problem with file, row and column, and
leaves the files as they were.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.cli.conftest import digest
from workbench.cli import main
from workbench.synth import generate_organisation, write_organisation


@pytest.fixture(scope="module")
def progression_dir(tmp_path_factory):
    org = generate_organisation(60, seed=7, progression=True)
    return write_organisation(org, tmp_path_factory.mktemp("progression") / "data")


def test_good_progression_files_validate(progression_dir, capsys):
    assert main(["validate", str(progression_dir)]) == 0
    assert "Traceback" not in capsys.readouterr().err


def test_every_progression_problem_is_named(progression_dir, tmp_path, capsys):
    folder = tmp_path / "bad"
    folder.mkdir()
    for path in progression_dir.glob("*.csv"):
        (folder / path.name).write_bytes(path.read_bytes())
    paths = pd.read_csv(folder / "paths.csv", dtype=str, keep_default_na=False)
    extra = pd.DataFrame([{"role": "Manager", "next_role": "Specialist"},
                          {"role": "Specialist", "next_role": "Director"}])
    pd.concat([paths, extra], ignore_index=True).fillna("").to_csv(folder / "paths.csv",
                                                                   index=False)
    people = pd.read_csv(folder / "people.csv", dtype=str, keep_default_na=False)
    people.loc[0, "target_role"] = "Chief Wizard"
    people.to_csv(folder / "people.csv", index=False)
    outcomes = pd.read_csv(folder / "outcomes.csv", dtype=str, keep_default_na=False)
    first = outcomes.index[outcomes["metric"] == "performance"][0]
    flipped = {"True": "False", "False": "True"}
    outcomes.loc[first, "higher_is_better"] = flipped[outcomes.loc[first, "higher_is_better"]]
    early = outcomes.iloc[[first]].assign(metric="engagement_pulse", date="2025-06-30",
                                          period="", higher_is_better="True")
    pd.concat([outcomes, early], ignore_index=True).to_csv(folder / "outcomes.csv", index=False)
    catalog = pd.read_csv(folder / "catalog.csv", dtype=str, keep_default_na=False)
    catalog.loc[1, "cost"] = ""
    catalog.to_csv(folder / "catalog.csv", index=False)
    before = digest(folder)

    code = main(["validate", str(folder)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    assert "paths.csv, row 7, column 'next_role'" in err and "'Director'" in err
    assert "the path cycles" in err
    assert "people.csv, row 2, column 'target_role'" in err and "'Chief Wizard'" in err
    assert "column 'higher_is_better': metric 'performance' is stated both" in err
    assert "metric 'engagement_pulse' has no outcome after the first assessment" in err
    assert "catalog.csv, row 3, column 'cost'" in err
    assert digest(folder) == before
