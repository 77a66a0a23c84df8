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
