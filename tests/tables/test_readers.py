"""Readers: encodings, row numbers, sheets, headers below title rows, ids as text."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from workbench.errors import InputError
from workbench.tables.organisation import find_table_files, load_organisation
from workbench.tables.readers import cell_text, read_table
from workbench.tables.validate import load_ratings, load_table

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo"

RATINGS = (
    "ratee,rater,source,skill,score\n"
    "A,A,self,Coaching,4\n"
    "A,B,manager,Coaching,3\n"
    "B,A,peer,Coaching,2\n"
)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_text_is_read_not_called_binary(tmp_path, encoding):
    # Excel's "Unicode text" export: UTF-16 with a BOM, tab separated
    path = tmp_path / "ratings.txt"
    path.write_bytes(RATINGS.replace(",", "\t").replace("Coaching", "Délégation")
                     .encode(encoding))
    ratings = load_ratings(path)
    assert ratings["skill"].tolist() == ["Délégation"] * 3
    assert ratings["score"].tolist() == [4.0, 3.0, 2.0]


def test_row_numbers_stay_right_with_blank_lines(tmp_path):
    path = tmp_path / "ratings.csv"
    lines = RATINGS.splitlines()
    # blank lines after the header and between rows, as hand-edited files have them
    path.write_text("\n".join([lines[0], "", lines[1], "", "", lines[2],
                               lines[3].replace(",2", ",nine")]) + "\n")
    with pytest.raises(InputError) as info:
        load_ratings(path)
    (problem,) = info.value.errors
    # the bad row is the 7th line of the file, as a spreadsheet or editor shows it
    assert (problem.row, problem.column, problem.value) == (7, "score", "nine")


def _sheet(path: Path, sheets: dict) -> Path:
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        ws = book.create_sheet(name)
        for row in rows:
            ws.append(row)
    book.save(path)
    return path


ROWS = [["ratee", "rater", "source", "skill", "score"], ["A", "A", "self", "Coaching", 4],
        ["A", "B", "manager", "Coaching", 3], ["B", "A", "peer", "Coaching", "x"]]


def test_excel_header_below_title_rows_is_found_and_said(tmp_path):
    path = _sheet(tmp_path / "ratings.xlsx",
                  {"Export": [["360 survey export, 2026"], [None], *ROWS]})
    with pytest.raises(InputError) as info:
        load_ratings(path)
    problems = info.value.problems
    warning = next(p for p in problems if p.severity == "warning")
    assert "header is on row 3" in warning.message
    (error,) = info.value.errors
    assert (error.row, error.column, error.value) == (6, "score", "x")


def test_excel_with_several_sheets_says_so(tmp_path):
    path = _sheet(tmp_path / "ratings.xlsx", {"Q1": ROWS[:3], "Q2": ROWS[:3]})
    with pytest.raises(InputError, match=r"has 2 sheets with data \(Q1, Q2\).*'ratings'"):
        load_ratings(path)
    # the sheet named after the table, or the one asked for, is used
    path = _sheet(tmp_path / "named.xlsx", {"Notes": [["read me"]], "Ratings": ROWS[:3]})
    assert len(load_table(path, "ratings")) == 2
    assert len(load_table(path, "ratings", sheet="Ratings")) == 2
    with pytest.raises(InputError, match="has no sheet 'Nope'"):
        load_table(path, "ratings", sheet="Nope")


def test_duplicated_header_column_is_an_error(tmp_path):
    path = tmp_path / "ratings.csv"
    path.write_text("ratee,rater,source,skill,score,Score\nA,A,self,C,4,5\n")
    with pytest.raises(InputError, match=r"row 1, column 'Score'.*twice \(columns E and F\)"):
        load_ratings(path)


def test_one_table_in_two_files_is_an_error(tmp_path):
    shutil.copy(DEMO / "ratings.csv", tmp_path / "ratings.csv")
    pd.read_csv(DEMO / "ratings.csv").head(5).to_excel(tmp_path / "ratings.xlsx", index=False)
    with pytest.raises(InputError, match=r"ratings table in 2 files \(ratings.csv, ratings.xlsx"):
        find_table_files(tmp_path)


def test_missing_folder_says_folder_not_found(tmp_path):
    with pytest.raises(InputError, match="folder not found"):
        load_organisation(tmp_path / "nowhere")


@pytest.mark.parametrize("fmt", ["xlsx", "parquet"])
def test_ids_are_text_in_every_format(tmp_path, fmt):
    frame = pd.DataFrame({"person": [7, 8], "role": [1.0, 2.0], "team": ["T", "T"]})
    path = tmp_path / f"people.{fmt}"
    frame.to_excel(path, index=False) if fmt == "xlsx" else frame.to_parquet(path, index=False)
    people = load_table(path, "people")
    assert people["person"].tolist() == ["7", "8"]
    assert people["role"].tolist() == ["1", "2"]  # never '1.0'


def test_ids_that_lost_their_leading_zeros_are_an_error(tmp_path):
    # the ratings came through Excel, which stored '007' as the number 7
    ratings = pd.DataFrame({"ratee": [7, 7, 8], "rater": [7, 8, 7],
                            "source": ["self", "peer", "peer"], "skill": ["C"] * 3,
                            "score": [3, 4, 2]})
    ratings.to_excel(tmp_path / "ratings.xlsx", index=False)
    (tmp_path / "people.csv").write_text("person,role,team\n007,R,T\n008,R,T\n")
    with pytest.raises(InputError) as info:
        load_organisation(tmp_path)
    errors = info.value.errors
    assert {(p.column, p.value) for p in errors} >= {("ratee", "7"), ("rater", "8")}
    assert all("leading zeros" in p.message and "'007'" in str(info.value) for p in errors)


def test_cell_text_is_plain():
    assert [cell_text(v) for v in (7.0, 7.5, float("nan"), pd.Timestamp("2026-01-31"))] == [
        "7", "7.5", "", "2026-01-31"]


def test_read_table_index_is_the_spreadsheet_row(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("\n\nperson,role\nP1,R\n\nP2,R\n")
    frame = read_table(path, row_index=True)
    assert frame.index.tolist() == [4, 6] and frame.attrs["header_row"] == 3


def test_typed_columns_as_text_equal_cell_by_cell():
    """The vectorised Parquet path writes every cell exactly as cell_text does, cell by cell."""
    import datetime as dt

    import numpy as np

    from workbench.tables.readers import _column_text, cell_text

    rng = np.random.default_rng(5)
    numbers = rng.choice([1.0, 2.5, np.nan, 1e20, -0.0, 3.0, 1e-7, np.inf], 200)
    columns = [
        pd.Series(numbers),
        pd.Series(rng.integers(-5, 5, 200)),
        pd.Series(rng.choice([1, None], 200), dtype="Int64"),
        pd.Series(pd.to_datetime(rng.choice(["2026-01-31", "2026-01-31 12:00", None], 200),
                                 format="ISO8601")),
        pd.Series(rng.choice([" a ", None, "007", ""], 200)),
        pd.Series(rng.choice(["a", None], 200), dtype="string"),
        pd.Series(rng.choice([True, False], 200)),
        pd.Series(rng.choice([True, None], 200), dtype="boolean"),
        pd.Series(["x", 3, dt.date(2026, 1, 2), None, 4.0]),
    ]
    for column in columns:
        assert _column_text(column).tolist() == column.map(cell_text).tolist()
    mixed = pd.Series(["score", 4.0, 3.5, None, "  n/a ", 2, True, dt.date(2026, 1, 2)],
                      dtype=object)
    assert _column_text(mixed).tolist() == mixed.map(cell_text).tolist()
    sheet_column = pd.Series(["score"] + [4.0, 2.0, float("nan")] * 5, dtype=object)
    assert _column_text(sheet_column).tolist() == sheet_column.map(cell_text).tolist()
