"""Day-first dates, thousands separators and far-off dates (issue #26): one reading per column,
stated, or an error with the choice to make."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from workbench.errors import ConfigError, InputError
from workbench.tables.mapping import ColumnMapping
from workbench.tables.organisation import load_organisation
from workbench.tables.validate import load_table

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo"
STRFTIME = {"DMY": "%d.%m.%Y", "DMY/": "%d/%m/%Y", "DMY-": "%d-%m-%Y", "MDY": "%m/%d/%Y"}


def _rewrite_dates(folder: Path, file: str, columns, layout: str) -> pd.DataFrame:
    """Rewrite a demo file's ISO dates in another layout; returns the ISO original."""
    original = pd.read_csv(folder / file, dtype=str, keep_default_na=False)
    changed = original.copy()
    for column in columns:
        changed[column] = pd.to_datetime(original[column]).dt.strftime(STRFTIME[layout])
    changed.to_csv(folder / file, index=False)
    return original


@pytest.mark.parametrize("layout", ["DMY", "DMY/", "DMY-", "MDY"])
def test_every_demo_date_rewritten_day_or_month_first_reads_back_exactly(tmp_path, layout):
    folder = tmp_path / "org"
    shutil.copytree(DEMO, folder)
    ratings = _rewrite_dates(folder, "ratings.csv", ["date"], layout)
    enrollments = _rewrite_dates(folder, "enrollments.csv", ["start", "end"], layout)
    org = load_organisation(folder)
    truth = pd.to_datetime(ratings["date"])
    assert (org.ratings["date"].to_numpy() == truth.to_numpy()).all()
    for column in ("start", "end"):
        expected = pd.to_datetime(enrollments[column]).to_numpy()
        assert (org.enrollments[column].to_numpy() == expected).all()
    said = [p for p in org.problems if p.message.startswith("dates read as")]
    first = "day first" if layout.startswith("DMY") else "month first"
    assert said and all(first in p.message and p.severity == "warning" for p in said)


def _ratings(tmp_path, dates, name="ratings.csv") -> Path:
    rows = [f"P{i},R{i},peer,Planning,3,1,{d}" for i, d in enumerate(dates)]
    path = tmp_path / name
    path.write_text("ratee,rater,source,skill,score,wave,date\n" + "\n".join(rows) + "\n")
    return path


@pytest.mark.parametrize("dates, expected", [
    (["04.02.2026", "13.07.2026", "01.03.2026"], ["2026-02-04", "2026-07-13", "2026-03-01"]),
    (["04/02/2026", "02/04/2026", "25/12/2025"], ["2026-02-04", "2026-04-02", "2025-12-25"]),
    (["02/04/2026", "07/13/2026", "12/01/2025"], ["2026-02-04", "2026-07-13", "2025-12-01"]),
    (["2/4/2026", "7/13/2026 09:30"], ["2026-02-04", "2026-07-13 09:30"]),
])
def test_the_one_order_every_date_allows_is_used_and_said(tmp_path, dates, expected):
    with pytest.warns(UserWarning, match="dates read as"):
        typed = load_table(_ratings(tmp_path, dates), "ratings")
    assert typed["date"].tolist() == [pd.Timestamp(e) for e in expected]


@pytest.mark.parametrize("dates", [
    ["04.02.2026", "05.03.2026", "12.12.2025"],
    ["01/02/2026"],
    ["1-2-2026", "3-4-2026", "2026-05-06"],
])
def test_dates_that_read_both_ways_are_an_error_that_says_so(tmp_path, dates):
    with pytest.raises(InputError, match="every date could be read day first or month first"
                       ) as caught:
        load_table(_ratings(tmp_path, dates), "ratings")
    assert "date_format: DD.MM.YYYY" in str(caught.value)


@pytest.mark.parametrize("fmt, expected", [
    ("DD.MM.YYYY", ["2026-02-04", "2026-03-05"]),
    ("MM/DD/YYYY", ["2026-04-02", "2026-05-03"]),
    ({"ratings": "dd-mm-yyyy"}, ["2026-02-04", "2026-03-05"]),
])
def test_the_mapping_settles_the_order(tmp_path, fmt, expected, recwarn):
    path = _ratings(tmp_path, ["04.02.2026", "05.03.2026"])
    typed = load_table(path, "ratings", mapping={"date_format": fmt})
    assert typed["date"].tolist() == [pd.Timestamp(e) for e in expected]
    assert not [w for w in recwarn if "dates read as" in str(w.message)]


@pytest.mark.parametrize("fmt", ["DD.MM.YY", "day first", {"rattings": "DD.MM.YYYY"}])
def test_a_bad_date_format_in_the_mapping_is_a_config_error(fmt):
    with pytest.raises(ConfigError, match="date_format"):
        ColumnMapping.from_dict({"date_format": fmt})


def test_day_first_and_month_first_rows_are_an_error_naming_rows_of_each(tmp_path):
    path = _ratings(tmp_path, ["04.02.2026", "13.07.2026", "07.13.2026", "01.01.2026",
                               "12.31.2025"])
    with pytest.raises(InputError, match="day first on some rows and month first") as caught:
        load_table(path, "ratings")
    message = str(caught.value)
    day, month = message.split("month first (a day above 12 in the second place)")
    assert "3 ('13.07.2026')" in day
    assert "4 ('07.13.2026')" in month and "6 ('12.31.2025')" in month


@pytest.mark.parametrize("dates, kinds", [
    (["2026-02-04", "13.07.2026", "2026-03-01"], ("year first: row(s) 2", "day and month")),
    (["4 February 2026", "2026-02-05"], ("with a month name: row(s) 2", "year first: row(s) 3")),
])
def test_dates_written_two_ways_in_one_column_are_an_error_naming_rows(tmp_path, dates, kinds):
    with pytest.raises(InputError, match="dates are written in 2 ways") as caught:
        load_table(_ratings(tmp_path, dates), "ratings")
    for kind in kinds:
        assert kind in str(caught.value)


def test_day_first_enrollments_are_read_not_blamed_on_the_data(tmp_path):
    path = tmp_path / "enrollments.csv"
    path.write_text("person,activity,start,end,completed\n"
                    "P1,A1,04.02.2026,10.03.2026,yes\n"
                    "P2,A1,01.03.2026,15.04.2026,no\n")
    with pytest.warns(UserWarning, match=r"DD\.MM\.YYYY"):
        typed = load_table(path, "enrollments")
    assert typed["start"].tolist() == [pd.Timestamp("2026-02-04"), pd.Timestamp("2026-03-01")]
    assert typed["end"].tolist() == [pd.Timestamp("2026-03-10"), pd.Timestamp("2026-04-15")]


@pytest.mark.parametrize("far", ["2206-03-01", "1900-01-01", "0202-03-01", "2062-03-01"])
def test_a_date_far_outside_the_columns_range_is_an_error_stating_it(tmp_path, far):
    dates = [f"2026-0{1 + i % 6}-1{i % 9}" for i in range(20)] + [far]
    with pytest.raises(InputError) as caught:
        load_table(_ratings(tmp_path, dates), "ratings")
    [problem] = [p for p in caught.value.errors if "far outside" in p.message]
    assert problem.row == 22 and problem.value == far
    low, high = min(dates[:-1]), max(dates[:-1])  # ISO text sorts as the dates do
    assert f"the other dates lie between {low} and {high}" in problem.message


def test_dates_spread_over_years_are_not_far(tmp_path):
    dates = [f"{2019 + i % 8}-0{1 + i % 9}-15" for i in range(40)]
    typed = load_table(_ratings(tmp_path, dates), "ratings")
    assert typed["date"].notna().all()


# --------------------------------------------------------------------------------------------
# Thousands separators
# --------------------------------------------------------------------------------------------

_CATALOG = ("activity,title,skill,kind,gap_type,level_from,level_to,hours,weeks,cost,"
            "expected_gain\n")


def _catalog(tmp_path, rows, sep=",") -> Path:
    path = tmp_path / "catalog.csv"
    lines = [_CATALOG.replace(",", sep)]
    for i, (hours, cost, gain) in enumerate(rows):
        cells = [f"A{i}", f"Course {i}", "Planning", "course", "knowledge", "1", "3", hours, "4",
                 cost, gain]
        lines.append(sep.join(f'"{c}"' if sep in c else c for c in cells) + "\n")
    path.write_text("".join(lines))
    return path


@pytest.mark.parametrize("rows, sep, costs, hours", [
    ([("8", "1,600", "0.3"), ("12", "950", "0.25")], ",", [1600, 950], [8, 12]),
    ([("1,000", "1,600", "0.5"), ("2.5", "2,400", "")], ",", [1600, 2400], [1000, 2.5]),
    ([("8", "1.600", "0,3"), ("12", "950", "0,25")], ";", [1600, 950], [8, 12]),
    ([("8", "1.600", "0,3"), ("12,5", "2.400", "")], ";", [1600, 2400], [8, 12.5]),
    ([("8", "1,600", "0,3"), ("12", "2,400", "")], ";", [1.6, 2.4], [8, 12]),
])
def test_a_thousands_or_decimal_reading_follows_the_files_decimal_mark(tmp_path, rows, sep,
                                                                      costs, hours):
    with pytest.warns(UserWarning, match="read as"):
        typed = load_table(_catalog(tmp_path, rows, sep), "catalog")
    np.testing.assert_allclose(typed["cost"], costs)
    np.testing.assert_allclose(typed["hours"], hours)


@pytest.mark.parametrize("value, expected", [
    ("1,600.50", 1600.5), ("1.600,50", 1600.5), ("1 600", 1600), ("1'600", 1600),
    ("1\u00a0600", 1600), ("1,000,000", 1e6), ("1.000.000", 1e6), ("+1,250.5", 1250.5),
])
def test_values_that_show_their_decimal_mark_need_no_decision(tmp_path, value, expected):
    typed = load_table(_catalog(tmp_path, [("8", value, "")], sep=";"), "catalog")
    assert typed["cost"].tolist() == [expected]


@pytest.mark.parametrize("rows", [
    [("8", "1,600", ""), ("12", "950", "")],
    [("1,000", "40", ""), ("8", "1,200", "")],
])
def test_an_undecidable_thousands_value_is_an_error_with_the_choice(tmp_path, rows):
    with pytest.raises(InputError, match=r"could be 1[,0-9]* \(a thousands separator\) or "
                                         r"1\.[0-9]+ \(a decimal mark\)") as caught:
        load_table(_catalog(tmp_path, rows), "catalog")
    assert 'decimal_mark: "."' in str(caught.value)


@pytest.mark.parametrize("mark, cost", [(".", 1600.0), (",", 1.6)])
def test_the_mapping_states_the_decimal_mark(tmp_path, mark, cost, recwarn):
    path = _catalog(tmp_path, [("8", "1,600", ""), ("12", "950", "")])
    typed = load_table(path, "catalog", mapping={"decimal_mark": mark})
    assert typed["cost"].tolist() == [cost, 950.0]
    assert not [w for w in recwarn if "read as" in str(w.message)]


def test_decimals_written_both_ways_in_one_column_are_an_error(tmp_path):
    path = _catalog(tmp_path, [("8", "600", "0.3"), ("12", "950", "0,25")], sep=";")
    with pytest.raises(InputError, match="with a point on some rows .* and a comma on others"):
        load_table(path, "catalog")


def test_decimal_comma_scores_still_read(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("ratee;rater;source;skill;score\nP1;P2;peer;Planning;3,5\n"
                    "P1;P3;peer;Planning;4\n")
    assert load_table(path, "ratings")["score"].tolist() == [3.5, 4.0]


def test_the_mapping_file_and_headers_with_invisible_characters(tmp_path):
    folder = tmp_path / "org"
    shutil.copytree(DEMO, folder)
    _rewrite_dates(folder, "enrollments.csv", ["start", "end"], "DMY")
    text = (folder / "enrollments.csv").read_text()
    (folder / "enrollments.csv").write_text("Person\u200b,Activity,Start,End,Completed"
                                            + text[text.index("\n"):])
    enrollments = pd.read_csv(DEMO / "enrollments.csv")
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("date_format: {enrollments: DD.MM.YYYY}\ndecimal_mark: \".\"\n")
    org = load_organisation(folder, mapping=mapping)
    assert (org.enrollments["start"] == pd.to_datetime(enrollments["start"])).all()
    assert not [p for p in org.problems if "dates read as" in p.message]


def test_impact_on_day_first_files_equals_impact_on_iso_files(tmp_path, capsys):
    """The issue's harm, end to end: with day-first ratings and enrollment dates the training
    windows (and so every effect and group size) are those of the ISO files."""
    from workbench.cli import main

    iso = tmp_path / "iso"
    shutil.copytree(DEMO, iso)
    day_first = tmp_path / "day_first"
    shutil.copytree(DEMO, day_first)
    _rewrite_dates(day_first, "ratings.csv", ["date"], "DMY")
    _rewrite_dates(day_first, "enrollments.csv", ["start", "end"], "DMY")
    outputs = {}
    for name, folder in (("iso", iso), ("day_first", day_first)):
        out = tmp_path / f"out_{name}"
        code = main(["impact", "--ratings", str(folder / "ratings.csv"), "--enrollments",
                     str(folder / "enrollments.csv"), "--catalog", str(folder / "catalog.csv"),
                     "--people", str(folder / "people.csv"), "--out", str(out)])
        assert code == 0, capsys.readouterr().err
        outputs[name] = (out / "effects_by_activity.csv").read_bytes()
    assert outputs["iso"] == outputs["day_first"]
    assert len(pd.read_csv(tmp_path / "out_iso" / "effects_by_activity.csv")) > 0


@pytest.mark.parametrize("bad", ["04.02.26", "31.02.2026", "2026-13-01", "soon"])
def test_a_cell_that_is_no_date_is_named_with_the_forms_a_date_takes(tmp_path, bad):
    path = _ratings(tmp_path, ["2026-02-04", bad, "2026-03-01"])
    with pytest.raises(InputError) as caught:
        load_table(path, "ratings")
    [problem] = [p for p in caught.value.errors if "is not a date" in p.message]
    assert problem.row == 3 and problem.value == bad
    assert "with the year in four digits" in problem.message


def test_survey_style_dates_with_am_pm_get_one_order(tmp_path):
    path = _ratings(tmp_path, ["02/04/2026 10:15:07 AM", "02/13/2026 01:05:00 PM",
                               "12/01/2025 12:30 AM"])
    with pytest.warns(UserWarning, match=r"MM/DD/YYYY"):
        typed = load_table(path, "ratings")
    assert typed["date"].tolist() == [pd.Timestamp("2026-02-04 10:15:07"),
                                      pd.Timestamp("2026-02-13 13:05:00"),
                                      pd.Timestamp("2025-12-01 00:30")]
    with pytest.raises(InputError, match="every date could be read day first or month first"):
        load_table(_ratings(tmp_path, ["02/04/2026 10:15:07 AM", "03/05/2026 1:00 PM"],
                            name="r2.csv"), "ratings")
    with pytest.raises(InputError, match="is not a date"):
        load_table(_ratings(tmp_path, ["02/13/2026 13:05 PM", "02/14/2026 1:05 PM"],
                            name="r3.csv"), "ratings")
