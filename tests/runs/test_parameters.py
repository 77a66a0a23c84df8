"""Every notebook parameter value is checked before any notebook starts (issue #14)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from workbench.cli import main
from workbench.runs.engagement import DEFAULT_NOTEBOOKS, EngagementError, load_engagement
from workbench.runs.parameters import check_value, notebook_spec, parse_help

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
DEMO = Path(__file__).resolve().parents[2] / "data" / "demo"

# The values, each of which used to fail inside a notebook with exit 1.
BAD = {
    "01_calibrate_raters": {"waves": "sideways"},
    "02_skill_profiles": {"n_bootstrap": -5, "k_max": 0},
    "03_learning_impact": {"correction": "bonferroni", "target_effect": -1, "alpha": 0.9},
    "04_learning_plans": {"hours_per_week": 0, "start": "next monday", "n_focus": 2.5},
}


def _engagement(folder: Path, notebooks: dict, data) -> Path:
    spec = {"engagement": "checks", "client": "Checks Ltd", "data": data,
            "notebooks": notebooks}
    path = folder / "engagement.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    return path


def test_every_bad_value_is_reported_at_once_and_nothing_runs(tmp_path, capsys):
    path = _engagement(tmp_path, BAD, str(DEMO))
    with pytest.raises(EngagementError) as info:
        load_engagement(path)
    found = {p.message.split(":")[0] for p in info.value.problems}
    expected = {f"notebooks.{nb}.{name}" for nb, values in BAD.items() for name in values}
    assert found == expected
    reports = tmp_path / "reports"
    assert main(["run", str(path), "--reports", str(reports)]) == 2
    err = capsys.readouterr().err
    assert "must be one of 'joint', 'pooled', got 'sideways'" in err
    assert "must be one of 'holm', 'fdr_bh', got 'bonferroni'" in err
    assert "must be a date like 2027-01-04, got 'next monday'" in err
    assert "hours_per_week: must be" in err and ", got 0" in err
    assert "n_bootstrap: must be at least 0, got -5" in err
    assert "Traceback" not in err
    assert not reports.exists()  # no folder left behind


def test_the_tables_a_notebook_needs_are_checked_up_front(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    shutil.copy(DEMO / "ratings.csv", data / "ratings.csv")
    path = _engagement(tmp_path, {name: {} for name in DEFAULT_NOTEBOOKS}, "data")
    assert main(["run", str(path), "--reports", str(tmp_path / "reports")]) == 2
    err = capsys.readouterr().err
    assert "notebooks.02_skill_profiles: needs the people table(s)" in err
    assert "notebooks.03_learning_impact: needs the enrollments, catalog table(s)" in err
    assert "notebooks.04_learning_plans: needs the people, framework, catalog" in err
    assert "01_calibrate_raters" not in err  # ratings are all it needs
    assert not (tmp_path / "reports").exists()


def test_engagement_and_data_problems_come_in_one_report(tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(DEMO, data, ignore=shutil.ignore_patterns("truth", "*.yaml"))
    text = (data / "people.csv").read_text().splitlines()
    text[3] = text[3].replace(",", ",,", 1)  # one cell too many
    (data / "people.csv").write_text("\n".join(text) + "\n")
    path = _engagement(tmp_path, {"01_calibrate_raters": {"waves": "sideways"}}, "data")
    assert main(["run", str(path), "--reports", str(tmp_path / "reports")]) == 2
    err = capsys.readouterr().err
    assert "waves: must be one of" in err and "people.csv, row 4" in err


def test_notebook_choices_are_the_packages_choices():
    """The notebooks declare their choices once; they must be what the package accepts."""
    from workbench.calibration.preparation import WAVES
    from workbench.impact import CORRECTIONS

    waves = notebook_spec(NOTEBOOKS / "01_calibrate_raters.ipynb").parameters["waves"]
    correction = notebook_spec(NOTEBOOKS / "03_learning_impact.ipynb").parameters["correction"]
    assert set(waves.choices) == set(WAVES)
    assert set(correction.choices) == set(CORRECTIONS)


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.stem)
def test_every_default_passes_its_own_declaration(path):
    for name, spec in notebook_spec(path).parameters.items():
        assert check_value(spec, spec.default) is None, name


@pytest.mark.parametrize(("help_text", "value", "ok"), [
    ("(1 to 3)", 1, True), ("(1 to 3)", 3, True), ("(1 to 3)", 4, False),
    ("(above 0)", 0, False), ("(above 0)", 1e-9, True), ("(at least 0)", 0, True),
    ("(at most 9)", 9, True), ("(below 1)", 1, False), ("(below 1)", 0.99, True),
])
def test_bounds_are_inclusive_or_exclusive_as_written(help_text, value, ok):
    spec = parse_help("x", "float", "1", help_text)
    assert (check_value(spec, value) is None) == ok


def test_types_are_still_checked():
    spec = parse_help("k", "int", "3", "(1 to 12)")
    assert "must be int" in check_value(spec, "three")
    assert "must be int" in check_value(spec, True)
    assert check_value(parse_help("d", "str", "'2027-01-04'", "(a date)"), "2027-02-30")


def test_the_engagement_can_name_the_waves_to_use(tmp_path):
    path = _engagement(tmp_path, {"01_calibrate_raters": {}},
                       {"folder": str(DEMO), "waves": [2]})
    eng = load_engagement(path)
    assert eng.waves == (2,)
    assert eng.load_organisation().waves == [2]
    path = _engagement(tmp_path, {"01_calibrate_raters": {}},
                       {"folder": str(DEMO), "waves": {"first": 1}})
    with pytest.raises(EngagementError, match="data.waves: must be a list of waves"):
        load_engagement(path)


def test_files_a_notebook_reads_must_exist_and_are_passed_absolute(tmp_path):
    path = _engagement(tmp_path, {"02_skill_profiles": {"scores_file": "cal/scores.csv"}},
                       str(DEMO))
    with pytest.raises(EngagementError, match=r"scores_file: file not found: .*cal/scores.csv"):
        load_engagement(path)
    (tmp_path / "cal").mkdir()
    (tmp_path / "cal" / "scores.csv").write_text("person,skill,score\n")
    step = {s.name: s for s in load_engagement(path).notebooks}["02_skill_profiles"]
    assert step.parameters["scores_file"] == str(tmp_path / "cal" / "scores.csv")


@pytest.mark.parametrize("path", sorted(NOTEBOOKS.glob("*.ipynb")), ids=lambda p: p.stem)
def test_every_declared_line_is_a_parameter(path):
    """papermill skips a line it cannot parse (a quote in the help): it would be unknown."""
    import nbformat

    cell = next(c for c in nbformat.read(path, as_version=4).cells
                if "parameters" in c.metadata.get("tags", []))
    names = [line.split(":")[0].strip() for line in cell.source.splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    assert list(notebook_spec(path).parameters) == names


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_nan_and_infinities_are_refused_with_or_without_bounds(value):
    """YAML's .nan, .inf and -.inf: a NaN compares false with every bound (issue 26)."""
    for help_text in ("a share (0 to 1)", "a budget (above 0)", "free text, no bounds"):
        message = check_value(parse_help("x", "float", "0.5", help_text), value)
        assert message is not None and "finite" in message, (help_text, message)
    listed = check_value(parse_help("xs", "list", "[1.0]", "numbers"), [1.0, value])
    assert listed is not None and "finite" in listed
    mapped = check_value(parse_help("m", "dict", "{}", "numbers"), {"a": {"b": value}})
    assert mapped is not None and "finite" in mapped


def test_non_finite_notebook_values_are_reported_at_once(tmp_path, capsys):
    bad = {"03_learning_impact": {"alpha": float("nan"), "target_effect": float("inf"),
                                  "error_correlation": float("-inf")},
           "04_learning_plans": {"hours_per_week": float("inf"),
                                 "gap_probability": float("nan")},
           "02_skill_profiles": {"k_max": float("nan")}}
    path = _engagement(tmp_path, bad, str(DEMO))
    assert ".nan" in path.read_text() and ".inf" in path.read_text()
    with pytest.raises(EngagementError) as info:
        load_engagement(path)
    found = {p.message.split(":")[0] for p in info.value.problems}
    assert found == {f"notebooks.{nb}.{name}" for nb, values in bad.items() for name in values}
    reports = tmp_path / "reports"
    assert main(["run", str(path), "--reports", str(reports)]) == 2
    assert "Traceback" not in capsys.readouterr().err
    assert not reports.exists()


@pytest.mark.parametrize("start", ["2062-01-05", "1926-01-04", "2029-06-04"])
def test_date_parameters_far_from_the_ratings_stop_the_run_before_it_starts(tmp_path, capsys,
                                                                           start):
    path = _engagement(tmp_path, {"04_learning_plans": {"start": start},
                                  "00_explore": {"start": start}}, str(DEMO))
    reports = tmp_path / "reports"
    assert main(["run", str(path), "--reports", str(reports)]) == 2
    err = capsys.readouterr().err
    for notebook in ("04_learning_plans", "00_explore"):
        assert f"notebooks.{notebook}.start: more than 2 years" in err
    assert f"(value: '{start}')" in err
    assert "the dates of the ratings (2026-" in err and "Traceback" not in err
    assert not reports.exists()


def _half_point_data(tmp_path, values):
    data = tmp_path / "data"
    shutil.copytree(DEMO, data, ignore=shutil.ignore_patterns("truth", "*.yaml"))
    lines = (data / "ratings.csv").read_text().splitlines()
    header = lines[0].split(",")
    column = header.index("score")
    rows = [5, 6][: len(values)]  # items not reverse-keyed: the answers are the scores
    for row, value in zip(rows, values, strict=True):
        cells = lines[row - 1].split(",")
        cells[column] = value
        lines[row - 1] = ",".join(cells)
    (data / "ratings.csv").write_text("\n".join(lines) + "\n")
    return rows


@pytest.mark.parametrize(("values", "calibration"), [
    (["3.5"], {"model": "rasch"}),
    (["2.5", "4.25"], {"model": "linear", "compare_models": True}),
])
def test_half_points_stop_a_run_that_fits_the_rasch_model(tmp_path, capsys, values, calibration):
    rows = _half_point_data(tmp_path, values)
    path = _engagement(tmp_path, {"01_calibrate_raters": calibration}, "data")
    reports = tmp_path / "reports"
    assert main(["run", str(path), "--reports", str(reports)]) == 2
    err = capsys.readouterr().err
    for row, value in zip(rows, values, strict=True):
        assert f"ratings.csv, row {row}, column 'score': notebooks.01_calibrate_raters fits " \
               "the Rasch model: not a whole number" in err
        assert f"(value: '{float(value):g}')" in err
    assert not reports.exists()


def test_half_points_pass_the_up_front_check_when_only_the_linear_model_runs(tmp_path, capsys):
    """Notebook 01 fits the Rasch model only with model: rasch or compare_models: true; the
    linear model takes half points. A far-off date stops this run before it starts, and the
    half points are not among the problems named."""
    _half_point_data(tmp_path, ["3.5"])
    path = _engagement(tmp_path, {"01_calibrate_raters": {"model": "linear"},
                                  "04_learning_plans": {"start": "2062-01-05"}}, "data")
    reports = tmp_path / "reports"
    assert main(["run", str(path), "--reports", str(reports)]) == 2
    err = capsys.readouterr().err
    assert "notebooks.04_learning_plans.start: more than 2 years" in err
    assert "not a whole number" not in err and "Traceback" not in err
    assert not reports.exists()


@pytest.mark.parametrize("wave_dates", ["1:2026-01-19, 2:2062-07-13", "1=1926-01-19,2=2026-07-13"])
def test_dates_inside_text_parameters_are_checked_before_the_run(tmp_path, capsys, wave_dates):
    path = _engagement(tmp_path, {"03_learning_impact": {"wave_dates": wave_dates}}, str(DEMO))
    reports = tmp_path / "reports"
    assert main(["run", str(path), "--reports", str(reports)]) == 2
    err = capsys.readouterr().err
    assert "notebooks.03_learning_impact.wave_dates: more than 2 years" in err
    assert f"(value: '{wave_dates}')" in err
    assert not reports.exists()


def test_a_misspelt_parameter_is_exit_2_with_the_nearest_name(tmp_path, capsys):
    path = _engagement(tmp_path, {"01_calibrate_raters": {"modle": "rasch"}}, str(DEMO))
    reports = tmp_path / "reports"
    assert main(["run", str(path), "--reports", str(reports)]) == 2
    err = capsys.readouterr().err
    assert "notebooks.01_calibrate_raters.modle: unknown parameter; did you mean 'model'?" in err
    assert "Traceback" not in err and not reports.exists()


def test_a_value_that_would_fail_in_the_notebook_is_exit_2_before_it_runs(tmp_path, capsys):
    """waves: pooled passes the declared choices, but the demo has two waves."""
    path = _engagement(tmp_path, {"01_calibrate_raters": {"waves": "pooled"}}, str(DEMO))
    reports = tmp_path / "reports"
    assert main(["run", str(path), "--reports", str(reports)]) == 2
    err = capsys.readouterr().err
    assert "notebooks.01_calibrate_raters.waves: 'pooled' calibrates one wave" in err
    assert "set waves: joint" in err and "data.waves: [2]" in err
    assert "ratings[" not in err and not reports.exists()


def test_the_notebook_checks_its_own_parameters_first(tmp_path):
    """Run by papermill (or in JupyterLab) with a misspelt name and a bad value, the notebook
    stops at the cell after its parameters, before any output folder is made."""
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    out = tmp_path / "out"
    with pytest.raises(PapermillExecutionError) as info:
        pm.execute_notebook(str(NOTEBOOKS / "02_skill_profiles.ipynb"),
                            str(tmp_path / "executed.ipynb"), cwd=str(NOTEBOOKS),
                            parameters={"k_mx": 4, "n_bootstrap": -1, "output_dir": str(out)},
                            kernel_name="python3", progress_bar=False)
    assert info.value.ename == "ConfigError"
    assert "parameter 'k_mx': unknown parameter; did you mean 'k_max'?" in info.value.evalue
    assert "parameter 'n_bootstrap': must be at least 0, got -1" in info.value.evalue
    assert "check_notebook_parameters" in info.value.source
    assert not out.exists()


def test_every_analysis_runs_unless_skipped_with_a_reason(tmp_path):
    """An engagement listing 01 and 04 still runs 02, 03 and 05 (with their defaults)."""
    path = _engagement(tmp_path, {"04_learning_plans": {"n_focus": 3},
                                  "01_calibrate_raters": {}}, str(DEMO))
    eng = load_engagement(path)
    assert [s.name for s in eng.notebooks] == list(DEFAULT_NOTEBOOKS)
    assert eng.notebooks[3].parameters["n_focus"] == 3
    assert not any(s.skip for s in eng.notebooks)
    path = _engagement(tmp_path, {"03_learning_impact": {"skip": "no training this round"}},
                       str(DEMO))
    steps = {s.name: s for s in load_engagement(path).notebooks}
    assert steps["03_learning_impact"].skip == "no training this round"
    assert "skip" not in steps["03_learning_impact"].parameters
    for reason in ("", None, 3):
        path = _engagement(tmp_path, {"02_skill_profiles": {"skip": reason}}, str(DEMO))
        if reason is None:  # 'skip:' with nothing after it
            assert load_engagement(path).notebooks[1].skip is None
            continue
        with pytest.raises(EngagementError, match="02_skill_profiles.skip: give the reason"):
            load_engagement(path)


def test_a_skipped_notebook_needs_no_tables_and_the_report_says_what_it_changes(tmp_path):
    from workbench.reporting.html_report import build_report
    from workbench.runs.engagement import SKIP_CONSEQUENCES
    from workbench.runs.pipeline import skip_reason

    data = tmp_path / "data"
    shutil.copytree(DEMO, data, ignore=shutil.ignore_patterns("truth", "*.yaml",
                                                              "enrollments*"))
    path = _engagement(tmp_path, {"03_learning_impact": {}}, "data")
    with pytest.raises(EngagementError, match="03_learning_impact: needs the enrollments"):
        load_engagement(path)
    path = _engagement(tmp_path, {"03_learning_impact": {"skip": "no training records"}},
                       "data")
    step = {s.name: s for s in load_engagement(path).notebooks}["03_learning_impact"]
    assert skip_reason(step, {"ratings"}) == "skipped: no training records"
    page = build_report([], tmp_path / "report.html", skipped=[
        ("Did the training work?", "no training records <b>", SKIP_CONSEQUENCES[step.name])])
    text = page.read_text(encoding="utf-8")
    assert "Analyses not in this report" in text
    assert "left out because no training records &lt;b&gt;." in text
    assert "instead of gains measured in this organisation" in text


@pytest.mark.parametrize("notebook", ["01_calibrate_raters", "02_skill_profiles"])
def test_n_jobs_0_in_an_engagement_is_exit_2_before_any_notebook_runs(tmp_path, capsys,
                                                                      notebook):
    """0 workers is inside the declared bounds (-64 to 64) but no number of workers."""
    path = _engagement(tmp_path, {notebook: {"n_jobs": 0}}, str(DEMO))
    reports = tmp_path / "reports"
    assert main(["run", str(path), "--reports", str(reports)]) == 2
    err = capsys.readouterr().err
    assert f"notebooks.{notebook}.n_jobs: must be a whole number other than 0" in err
    assert "Traceback" not in err and not reports.exists()
