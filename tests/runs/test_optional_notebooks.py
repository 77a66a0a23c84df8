"""A notebook of optional inputs (05: paths, outcomes) is skipped, with the reason, when the
data have none of them, and runs when they have one."""

from __future__ import annotations

from workbench.runs.engagement import DEFAULT_NOTEBOOKS, NotebookStep, notebooks_dir
from workbench.runs.parameters import notebook_spec
from workbench.runs.pipeline import HANDOVER, skip_reason


def _step(name):
    path = notebooks_dir() / f"{name}.ipynb"
    return NotebookStep(name, path, spec=notebook_spec(path))


def test_progression_notebook_is_skipped_without_its_inputs():
    step = _step("05_progression_and_outcomes")
    assert step.spec.skipped_without == ("paths", "outcomes")
    reason = skip_reason(step, {"ratings", "people", "framework", "catalog"})
    assert reason.startswith("skipped: the data have no paths or outcomes table")
    assert skip_reason(step, {"ratings", "people", "framework", "outcomes"}) is None
    assert skip_reason(_step("04_learning_plans"), {"ratings"}) is None
    assert DEFAULT_NOTEBOOKS[-1] == "05_progression_and_outcomes"


def test_progression_notebook_reads_what_earlier_notebooks_saved():
    declared = _step("05_progression_and_outcomes").spec.parameters
    for name in ("scores_file", "variance_file", "impact_file", "plans_file"):
        assert name in declared and name in HANDOVER


def test_a_cycling_path_stops_the_run_before_anything_runs(tmp_path):
    import pandas as pd
    import pytest

    from tests.runs.engagements import write_engagement
    from workbench.errors import InputError
    from workbench.runs.pipeline import prepare_run
    from workbench.synth import generate_organisation, write_organisation

    org = generate_organisation(60, seed=3, n_waves=1, progression=True)
    org.paths = pd.concat([org.paths, pd.DataFrame({"role": ["Manager"],
                                                    "next_role": ["Specialist"],
                                                    "typical_months": [12]})])
    org.outcomes = org.outcomes.assign(
        higher_is_better=org.outcomes["higher_is_better"].where(
            org.outcomes.index != 3, not org.outcomes.at[3, "higher_is_better"]))
    write_organisation(org, tmp_path / "data")
    path = write_engagement(tmp_path, "cyc", {"05_progression_and_outcomes": {},
                                              "03_learning_impact": {"skip": "no training"}})
    with pytest.raises(InputError) as err:
        prepare_run(path)
    text = str(err.value)
    assert "paths.csv, row 6, column 'next_role': the path cycles" in text
    assert "outcomes.csv, row 5, column 'higher_is_better'" in text
