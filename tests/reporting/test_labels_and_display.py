"""Human labels and display tables: what a reader sees has no codes, one header row, plain dates."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from workbench.errors import ConfigError
from workbench.presentation import labels
from workbench.reporting import display
from workbench.tables.data import SOURCES

SNAKE = re.compile(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b")


def test_every_source_of_the_ratings_contract_has_a_label_without_underscores():
    for source in (*SOURCES, "others"):
        label = labels.source_label(source)
        assert label != source and "_" not in label and label[0].isupper()


@pytest.mark.parametrize("column", ["n_ratees", "focus_type", "stretch_assignment",
                                    "some_new_column", "n_for_0.7", "rwg_j"])
def test_column_labels_are_never_snake_case(column):
    assert not SNAKE.search(labels.column_label(column))


def test_human_table_turns_a_pivot_into_one_header_row():
    # the agreement table's shape: index named 'wave', columns named 'group'
    shares = pd.DataFrame([[0.6, 0.4], [0.5, 0.5]], index=pd.Index([1, 2], name="wave"),
                          columns=pd.Index(["over-estimator", "in agreement"], name="group"))
    html = display.show(shares, 2).to_html()
    assert html.count("<tr>", 0, html.index("</thead>")) == 1
    assert ">group<" not in html and "Wave" in html
    table = labels.human_table(shares)
    assert table.columns.tolist() == ["Wave", "Rate themselves higher than others do",
                                      "In agreement"]
    assert table["Wave"].tolist() == [1, 2]
    # the data were not touched
    assert shares.index.name == "wave" and shares.columns.name == "group"


def test_show_labels_sources_and_components_but_keeps_the_numbers():
    frame = pd.DataFrame({"source": ["direct_report", "self"], "component": ["rater:ratee", "x"],
                          "icc1": [0.41234, 0.1]})
    styler = display.show(frame, 3)
    assert styler.data["Source"].tolist() == ["Direct reports", "Self"]
    assert styler.data["Component"].tolist() == ["Rater halo", "X"]
    assert styler.data["ICC(1): one rater"].tolist() == [0.41234, 0.1]
    assert "0.412" in styler.to_html()
    assert display.show(frame, labels=False).data.columns.tolist() == frame.columns.tolist()


def test_show_prints_dates_without_a_time_of_day():
    frame = pd.DataFrame({"start": pd.to_datetime(["2027-01-04", None]), "hours": [3.0, 4.0]})
    html = display.show(frame).to_html()
    assert "4 Jan 2027" in html and "00:00:00" not in html and "NaT" not in html


def test_show_rejects_a_bad_number_of_digits():
    with pytest.raises(ConfigError, match="digits"):
        display.show(pd.DataFrame({"a": [1.0]}), -1)


def test_default_output_folder_is_new_printed_and_under_reports(tmp_path, capsys):
    first = display.output_folder("", "01_calibrate_raters", reports=tmp_path / "reports")
    second = display.output_folder("", "01_calibrate_raters", reports=tmp_path / "reports")
    assert first != second and first.is_dir() and second.is_dir()
    assert first.parent == tmp_path / "reports" / display.INTERACTIVE_FOLDER
    assert first.name.startswith("01_calibrate_raters-")
    printed = capsys.readouterr().out
    assert str(first) in printed and str(second) in printed


def test_default_output_folder_finds_the_projects_reports_folder(tmp_path, monkeypatch):
    (tmp_path / "reports").mkdir()
    (tmp_path / "notebooks").mkdir()
    monkeypatch.chdir(tmp_path / "notebooks")  # where JupyterLab runs a notebook
    folder = display.output_folder("", "00_explore")
    assert folder.parent == (tmp_path / "reports" / "interactive").resolve()


def test_given_output_folder_must_be_new_or_empty(tmp_path, capsys):
    assert display.output_folder(tmp_path / "out", "x") == tmp_path / "out"
    assert capsys.readouterr().out == ""  # a run's folder is known to the runner
    (tmp_path / "out" / "a.csv").write_text("x")
    with pytest.raises(ConfigError, match="never overwritten"):
        display.output_folder(tmp_path / "out", "x")


def test_files_are_never_overwritten(tmp_path):
    path = display.write_excel({"a": pd.DataFrame({"x": [1]})}, tmp_path / "book.xlsx")
    before = path.read_bytes()
    with pytest.raises(ConfigError, match="already exists"):
        display.write_excel({"a": pd.DataFrame({"x": [2]})}, path)
    assert path.read_bytes() == before


def test_write_excel_round_trips_every_kind_of_value(tmp_path):
    """What a workbook holds equals the table, read back by another reader (calamine)."""
    frame = pd.DataFrame({
        "person": ["P01", "007", "=1+1"],            # text stays text, never a formula
        "score": [3.25, float("nan"), 4.0],          # a missing value is an empty cell
        "n": [3, 4, 5],
        "flag": [True, False, True],
        "date": pd.to_datetime(["2026-01-31", None, "2026-02-01"]),
    })
    path = display.write_excel({"scores": frame, "x" * 40: frame.head(1)}, tmp_path / "b.xlsx")
    back = pd.read_excel(path, sheet_name=None, engine="calamine")
    assert list(back) == ["scores", "x" * 31]
    got = back["scores"]
    assert got["person"].tolist() == ["P01", "007", "=1+1"]
    assert got["score"].iloc[[0, 2]].tolist() == [3.25, 4.0] and pd.isna(got["score"].iloc[1])
    assert got["n"].tolist() == [3, 4, 5]
    assert got["flag"].tolist() == [True, False, True]
    assert pd.to_datetime(got["date"]).dt.strftime("%Y-%m-%d").fillna("").tolist() == [
        "2026-01-31", "", "2026-02-01"]
