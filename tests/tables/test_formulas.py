"""Formula injection: CSV files for people neutralise formula-like text, machine files stay exact.

The check reads the files back with the standard library's csv module (what a spreadsheet
receives) and applies the spreadsheet's own rule: a cell whose first character is one of
``= + - @`` (or a tab or carriage return) and that is not a plain number is run as a formula.
"""

from __future__ import annotations

import csv
import re

import numpy as np
import pandas as pd
import pytest

from workbench.writers import (
    MACHINE_FILES,
    neutralise_formulas,
    new_workbook,
    write_csv,
)

PAYLOADS = ['=HYPERLINK("http://x","click")', "+1+1", "@SUM(A1)", "-2+3", "\t=1+1", "\r=1+1",
            "=cmd|' /C calc'!A0", "\uff1d1+1"]
NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def runs_as_formula(cell: str) -> bool:
    """What a spreadsheet does with a CSV cell (OWASP's list of trigger characters)."""
    return cell[:1] in ("=", "+", "-", "@", "\t", "\r", "\uff1d") and not NUMBER.fullmatch(cell)


def hostile_frame() -> pd.DataFrame:
    n = len(PAYLOADS)
    return pd.DataFrame({
        "person": PAYLOADS, "skill": PAYLOADS[::-1], "title": ["Ok"] * (n - 1) + ["-0.5"],
        "estimate": np.linspace(-0.5, 0.5, n), "n": np.arange(n) - 3,
        PAYLOADS[3]: ["x"] * n,  # a header from data (a skill as a column of a wide table)
    })


def read_cells(path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_a_carriage_return_inside_a_cell_cannot_start_a_row(tmp_path):
    frame = pd.DataFrame({"title": ["a\r=1+1", "b\n@SUM(A1)"], "n": [1, 2]})
    for name in ("demand.csv", "plans.csv"):
        rows = read_cells(write_csv(frame, tmp_path / name))
        assert rows == [["title", "n"], ["a\r=1+1", "1"], ["b\n@SUM(A1)", "2"]]


def test_a_file_for_people_has_no_cell_a_spreadsheet_would_run(tmp_path):
    frame = hostile_frame()
    rows = read_cells(write_csv(frame, tmp_path / "focus.csv"))
    assert [c for row in rows for c in row if runs_as_formula(c)] == []
    # the text is all there, behind the quote
    assert [r[0] for r in rows[1:]] == ["'" + p for p in PAYLOADS]
    assert rows[0][-1] == "'" + PAYLOADS[3]
    # numbers stay numbers: negative estimates and counts are not quoted, nor a text "-0.5"
    body = pd.DataFrame(rows[1:], columns=rows[0])
    np.testing.assert_allclose(body["estimate"].astype(float), frame["estimate"])
    assert body["n"].astype(int).tolist() == frame["n"].tolist()
    assert body["title"].iloc[-1] == "-0.5"
    assert frame["person"].tolist() == PAYLOADS  # the caller's table is not changed


@pytest.mark.parametrize("name", sorted(MACHINE_FILES))
def test_machine_files_keep_ids_exactly(tmp_path, name):
    frame = hostile_frame()
    rows = read_cells(write_csv(frame, tmp_path / name))
    assert [r[0] for r in rows[1:]] == PAYLOADS
    assert rows[0][-1] == PAYLOADS[3]


def test_the_choice_can_be_made_explicitly(tmp_path):
    frame = hostile_frame()
    people = read_cells(write_csv(frame, tmp_path / "calibrated_scores.csv", machine=False))
    exact = read_cells(write_csv(frame, tmp_path / "other.csv", machine=True))
    assert people[1][0] == "'" + PAYLOADS[0] and exact[1][0] == PAYLOADS[0]


def test_neutralising_keeps_missing_values_dates_and_index():
    frame = pd.DataFrame({"when": pd.to_datetime(["2027-01-04", None]),
                          "role": [None, "@admin"]}, index=["=1", "b"])
    out = neutralise_formulas(frame)
    assert out["when"].tolist()[0] == frame["when"].tolist()[0] and pd.isna(out["when"].iloc[1])
    assert pd.isna(out["role"].iloc[0]) and out["role"].iloc[1] == "'@admin"
    assert out.index.tolist() == ["'=1", "b"]


def test_workbooks_store_formula_like_text_as_text(tmp_path):
    from openpyxl import load_workbook

    path = tmp_path / "plans.xlsx"
    book = new_workbook(path)
    book.add_worksheet("plans").write_column(0, 0, PAYLOADS)
    book.close()
    cells = list(load_workbook(path).active.iter_rows(values_only=False))
    assert [row[0].data_type for row in cells] == ["s"] * len(PAYLOADS)
    # openpyxl leaves Excel's escape of a carriage return (_x000D_) as it is
    assert [row[0].value.replace("_x000D_", "\r") for row in cells] == PAYLOADS
