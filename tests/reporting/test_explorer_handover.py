"""The explorer (notebook 00) reads a run's hand-over files: its plans equal the run's pages.

Notebook 00 is executed with papermill on the shared full run's validated inputs and the files
notebooks 01-03 handed to notebook 04 (scores, profiles, measured effects of the activities);
the plan tables it saves in its output folder must equal those notebook 04 wrote for the
person pages of the same run, row for row.
"""

from __future__ import annotations

import pandas as pd
import pytest

from tests.runs.engagements import shared_full_run
from workbench.runs.execute import execute_notebook
from workbench.runs.snapshot import SNAPSHOT

NOTEBOOK = "notebooks/00_explore.ipynb"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    result = shared_full_run(tmp_path_factory)
    assert result["code"] == 0
    return result


def test_explorer_plans_equal_the_person_pages_of_the_run(run, tmp_path):
    from pathlib import Path

    analyst = run["run_dir"] / "analyst"
    outputs = analyst / "outputs"
    params = {
        "data_dir": str(analyst / SNAPSHOT),
        "engagement_file": "",
        "output_dir": str(tmp_path / "explorer"),
        "scores_file": str(outputs / "01_calibrate_raters" / "calibrated_scores.csv"),
        "profiles_file": str(outputs / "02_skill_profiles" / "profile_assignments.csv"),
        "impact_file": str(outputs / "03_learning_impact" / "effects_by_activity.csv"),
    }
    root = Path(__file__).resolve().parents[2]
    failure = execute_notebook(root / NOTEBOOK, tmp_path / "00_explore.ipynb", params,
                               name="00_explore")
    assert failure is None, failure
    pages = outputs / "04_learning_plans" / "plans"
    for table in ("plans.csv", "focus.csv"):
        ours = pd.read_csv(tmp_path / "explorer" / table)
        theirs = pd.read_csv(pages / table)
        pd.testing.assert_frame_equal(ours, theirs)
    shown = pd.read_csv(tmp_path / "explorer" / "plans.csv")
    assert (shown["gain_source"] == "measured").mean() > 0.5  # the measured effects were read
