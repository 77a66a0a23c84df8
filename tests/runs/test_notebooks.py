"""The notebooks follow the house rules: one parameters cell, short cells calling the package.

These checks read the notebook files (they do not execute them; ``pytest --nbval-lax notebooks``
does). Each code cell is parsed with ``ast``: no function or class definitions, no loops or
comprehensions, no groupby/merge chains, no file writing outside the workbench helpers.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
import papermill as pm
import pytest

NOTEBOOKS_DIR = Path(__file__).resolve().parents[2] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
EXPECTED = {
    "00_explore",
    "01_calibrate_raters",
    "02_skill_profiles",
    "03_learning_impact",
    "04_learning_plans",
    "05_progression_and_outcomes",
}
# papermill's typed form; an optional value is written "Optional[T]" (None: the help says what)
PARAMETER_LINE = re.compile(
    r'^[A-Za-z_][A-Za-z0-9_]*: (int|float|str|bool|list|dict|"Optional\[(int|float|str)\]") = '
    r".+  # \S.*$")
FORBIDDEN_NODES = (
    ast.FunctionDef,
    ast.AsyncFunctionDef,
    ast.ClassDef,
    ast.Lambda,
    ast.For,
    ast.AsyncFor,
    ast.While,
    ast.ListComp,
    ast.SetComp,
    ast.DictComp,
    ast.GeneratorExp,
)
# Data wrangling belongs in the package; writing files goes through workbench helpers that
# only write under the output folder and never overwrite.
FORBIDDEN_METHODS = {
    "groupby",
    "merge",
    "join",
    "pivot_table",
    "apply",
    "to_csv",
    "to_excel",
    "savefig",
    "to_parquet",
}


def _ids(paths):
    return [p.stem for p in paths]


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def _parameters_cells(nb):
    return [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]


def test_every_notebook_is_there():
    assert {p.stem for p in NOTEBOOKS} == EXPECTED


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    for cell in _code_cells(nb):
        assert cell.outputs == [], f"{path.name}: a cell has outputs: {cell.source[:60]!r}"
        assert cell.execution_count is None, f"{path.name}: execution count left in"
    assert nb.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_title_question_and_one_parameters_cell(path):
    nb = nbformat.read(path, as_version=4)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert "?" in first.source, "the first cell states the question the notebook answers"
    params = _parameters_cells(nb)
    assert len(params) == 1, f"{path.name}: {len(params)} cells tagged 'parameters'"
    lines = [line for line in params[0].source.splitlines() if line.strip()]
    for line in lines:
        assert PARAMETER_LINE.match(line), f"{path.name}: parameter line {line!r}"
        ast.literal_eval(line.split("=", 1)[1].split("  #", 1)[0].strip())
    declared = pm.inspect_notebook(str(path))
    assert len(declared) == len(lines)
    assert all(p["help"] for p in declared.values())
    # The parameters cell comes after the imports and before any analysis.
    index = nb.cells.index(params[0])
    before = [c for c in nb.cells[:index] if c.cell_type == "code"]
    for cell in before:
        tree = ast.parse(cell.source)
        assert all(isinstance(n, (ast.Import, ast.ImportFrom)) for n in tree.body)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_defaults_point_at_demo_data_and_a_fresh_output_folder(path):
    declared = pm.inspect_notebook(str(path))
    assert "output_dir" in declared and ast.literal_eval(declared["output_dir"]["default"]) == ""
    data_dir = ast.literal_eval(declared["data_dir"]["default"])
    assert (NOTEBOOKS_DIR / data_dir / "ratings.csv").is_file()
    assert "engagement_file" in declared


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_cells_are_short_calls_into_the_package(path):
    nb = nbformat.read(path, as_version=4)
    imported_from_workbench = False
    for cell in _code_cells(nb):
        tree = ast.parse(cell.source)
        for node in ast.walk(tree):
            assert not isinstance(node, FORBIDDEN_NODES), (
                f"{path.name}: {type(node).__name__} in cell {cell.source[:60]!r}"
            )
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                assert node.func.attr not in FORBIDDEN_METHODS, (
                    f"{path.name}: .{node.func.attr}() in cell {cell.source[:60]!r}; "
                    "move it into the package"
                )
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                imported_from_workbench |= (module or "").startswith("workbench")
        # the parameters cell is a list of declarations, one per line (checked on their own)
        limit = 16 if cell in _parameters_cells(nb) else 12
        assert len(cell.source.splitlines()) <= limit, (
            f"{path.name}: long cell {cell.source[:60]!r}")
    assert imported_from_workbench


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_results_are_interpreted_in_words(path):
    """After the set-up, no more than two code cells in a row without a sentence for the client."""
    nb = nbformat.read(path, as_version=4)
    run = 0
    start = nb.cells.index(_parameters_cells(nb)[0]) + 2  # after the parameters' check
    for cell in nb.cells[start:]:
        run = run + 1 if cell.cell_type == "code" else 0
        assert run <= 2, f"{path.name}: three code cells in a row at {cell.source[:60]!r}"
    assert nb.cells[-1].cell_type == "markdown"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_parameters_are_checked_first(path):
    """The cell after the parameters checks every name and value before anything runs."""
    nb = nbformat.read(path, as_version=4)
    check = nb.cells[nb.cells.index(_parameters_cells(nb)[0]) + 1]
    assert check.source == f'check_notebook_parameters("{path.stem}", globals())'


def test_the_checks_catch_a_loop_and_a_groupby():
    """The forbidden constructs are detected (guards the guard)."""
    source = "for x in y:\n    pass\nframe.groupby('a').mean()"
    tree = ast.parse(source)
    kinds = {type(n) for n in ast.walk(tree)}
    assert ast.For in kinds
    calls = [
        n.func.attr for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
    ]
    assert "groupby" in calls
    assert not PARAMETER_LINE.match("n = 5")
    assert PARAMETER_LINE.match('n_bootstrap: int = 200  # bootstrap draws')


def test_explorer_widget_updates_plans_with_the_number_of_focus_skills():
    """The 00_explore widgets call package functions; the slider rebuilds the plans."""
    import matplotlib

    matplotlib.use("Agg")
    from workbench.calibration.calibrate import calibrate_ratings
    from workbench.errors import ConfigError
    from workbench.reporting.explorer import Explorer, person_profile
    from workbench.synth.generator import generate_organisation

    org = generate_organisation(60, seed=8, n_waves=1).to_organisation()
    cal = calibrate_ratings(org.ratings, waves="joint")
    explorer = Explorer(cal, org, n_focus=1, plan_options={"start": "2027-01-04",
                                                           "random_state": 0})
    view = explorer.widget()
    person, slider = view.children[0].children
    assert set(explorer._plans) == {1}
    slider.value = 3
    assert set(explorer._plans) == {1, 3}
    most = [explorer.plans(n).focus.groupby("person").size().max() for n in (1, 3)]
    assert most[0] == 1 and most[1] > 1
    profile = person_profile(cal, person.value, framework=org.framework, people=org.people)
    assert {"score", "ci_low", "ci_high", "raw_mean", "required_level"} <= set(profile.columns)
    assert (profile["ci_low"] <= profile["score"]).all()
    with pytest.raises(ConfigError, match="n_focus=5"):
        Explorer(cal, org, n_focus=5)
