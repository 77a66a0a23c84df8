"""Reading input files into tables of text: CSV (encodings, separators), Excel, Parquet.

:func:`read_table` returns every cell as a string ("" when empty) and nothing else: typing and
validation happen in :mod:`workbench.tables.validate`. What it settles:

* **Encodings**: UTF-8 with or without BOM, UTF-16 (Excel's "Unicode text" export, with or
  without BOM), cp1252; separators comma, semicolon, tab or pipe.
* **Row numbers** as a spreadsheet shows them: with ``row_index=True`` the frame's index is
  each data row's row number in the file, so blank lines and rows above the header never shift
  the numbers in a report.
* **Identifiers stay text** in every format: an Excel or Parquet number 7 reads as ``'7'``
  (never ``'7.0'``), a date cell as ``2026-01-31``.
* **Where the table is**: an Excel file with several sheets uses the one named after the table
  (or ``sheet=``) and otherwise says which sheets there are; a header below title rows is found
  when the caller says which columns to expect, and ``attrs["header_row"]`` says where it was.
* A duplicated column name is an error (pandas would silently rename it ``x.1``).

Examples
--------
>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "people.csv"
>>> _ = path.write_text("person;role\\n007;Lead\\n\\n008;Analyst\\n", encoding="utf-16")
>>> frame = read_table(path, row_index=True)
>>> frame["person"].tolist(), frame.index.tolist()
(['007', '008'], [2, 4])
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import InputError, Problem
from workbench.tables.mapping import normalise_header, regular_file_problem

__all__ = [
    "read_table",
    "cell_text",
    "normalise_ids",
    "EXCEL_SUFFIXES",
    "PARQUET_SUFFIXES",
]

EXCEL_SUFFIXES = (".xlsx", ".xlsm")
PARQUET_SUFFIXES = (".parquet", ".pq")
# How far down a header may sit below title rows (spreadsheet exports put a title block on top).
HEADER_SEARCH_ROWS = 30
# How many rows of a sheet are looked at to tell whether it holds a table.
_SHEET_PEEK_ROWS = 50
# A ragged row is listed row by row up to this many.
_MAX_LISTED = 25


def _fail(path: Path, message: str) -> InputError:
    return InputError([Problem(str(path), None, None, message)])


def cell_text(value) -> str:
    """One cell as text: None/NaN -> "", 7.0 -> "7", a midnight datetime -> "2026-01-31".

    Examples
    --------
    >>> [cell_text(v) for v in (None, 7.0, 3.5, "007", True)]
    ['', '7', '3.5', '007', 'true']
    """
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return ""
        if float(value).is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(float(value))
    if isinstance(value, (pd.Timestamp, dt.datetime)):
        if pd.isna(value):
            return ""
        stamp = pd.Timestamp(value)
        return stamp.date().isoformat() if stamp == stamp.normalize() else stamp.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return ""
    return str(value).strip()


# Characters no one sees in an id: format characters (zero-width space and joiners, direction
# marks and embeddings, word joiner, BOM, soft hyphen, invisible operators, tags) and controls.
_INVISIBLE = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
    "\ufff9-\ufffb\U000e0000-\U000e007f\x00-\x08\x0e-\x1f\x7f-\x9f]"
)
# Every kind of space (no-break, thin, ideographic; tabs and line breaks) is one plain space.
_SPACES = re.compile(r"\s+")
# An id that is already as compared: printable ASCII words separated by single spaces.
_PLAIN = re.compile(r"(?:[!-~]+(?: [!-~]+)*)?")


def normalise_ids(values: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Identifiers as they are compared everywhere: Unicode NFC, invisible characters removed,
    runs of spaces of any kind one plain space, no spaces at either end.

    ``José`` typed with a combining accent (NFD) in one file and precomposed (NFC) in another,
    or ``P005`` with a zero-width space, are one id. Returns the cleaned ids and, per cell,
    whether an invisible character was removed (callers say so).

    Examples
    --------
    >>> ids, hidden = normalise_ids(pd.Series(["Jose\u0301", "P005\u200b", " A\u00a0 B "]))
    >>> ids.tolist() == ["Jos\u00e9", "P005", "A B"], hidden.tolist()
    (True, [False, True, False])
    """
    text = values.astype(str)
    if text.str.fullmatch(_PLAIN).all():  # printable ASCII, single spaces: nothing to do
        return text, np.zeros(len(text), dtype=bool)
    text = text.str.normalize("NFC")
    hidden = text.str.contains(_INVISIBLE).to_numpy(dtype=bool)
    if hidden.any():
        text = text.str.replace(_INVISIBLE, "", regex=True)
    text = text.str.replace(_SPACES, " ", regex=True).str.strip()
    return text, hidden


# --------------------------------------------------------------------------------------------
# Text files
# --------------------------------------------------------------------------------------------


def _looks_utf16(raw: bytes) -> str | None:
    """'utf-16' when the bytes are UTF-16 (BOM, or NULs in every other byte of ASCII text)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    head = raw[:4000]
    if len(head) >= 4:
        even, odd = head[0::2], head[1::2]
        if odd.count(0) > 0.9 * len(odd) and even.count(0) < 0.1 * len(even):
            return "utf-16-le"
        if even.count(0) > 0.9 * len(even) and odd.count(0) < 0.1 * len(odd):
            return "utf-16-be"
    return None


def _decode(path: Path, raw: bytes) -> str:
    utf16 = _looks_utf16(raw)
    if utf16:
        try:
            return raw.decode(utf16).lstrip("\ufeff")
        except UnicodeDecodeError:
            raise _fail(path, "looks like UTF-16 text but cannot be decoded as such") from None
    if b"\x00" in raw:
        raise _fail(path, "the file is binary (contains NUL bytes), not a text CSV")
    if raw.startswith(b"\xef\xbb\xbf"):
        try:
            return raw[3:].decode("utf-8")
        except UnicodeDecodeError:
            raise _fail(path, "starts with a UTF-8 mark but is not UTF-8 text") from None
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("latin-1")


def _sniff_separator(text: str) -> str:
    head = "\n".join(text.splitlines()[:20])
    try:
        return csv.Sniffer().sniff(head, delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {sep: head.count(sep) for sep in ",;\t|"}
        return max(counts, key=counts.get) if max(counts.values()) else ","


def _text_grid(path: Path) -> pd.DataFrame:
    """Every record of a text file as a row of strings (blank lines are rows of "")."""
    raw = path.read_bytes()
    if not raw.strip():
        raise _fail(path, "the file is empty")
    text = _decode(path, raw)
    if not text.strip():
        raise _fail(path, "the file is empty")
    separator = _sniff_separator(text)
    try:
        # the C parser is fast; it refuses a record longer than the first one (a title row,
        # a ragged row), and then the csv module reads the file so the report can say where
        grid = pd.read_csv(io.StringIO(text), sep=separator, header=None, dtype=str,
                           na_filter=False, skip_blank_lines=False, engine="c")
    except (pd.errors.ParserError, ValueError, csv.Error):
        # newline="" keeps line breaks inside quoted cells (a multi-line comment is one cell)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
        try:
            rows = list(reader)  # [] for a blank line: position + 1 is the row number
        except csv.Error as exc:
            raise _fail(path, f"cannot be read as CSV: {exc}") from None
        width = max(len(row) for row in rows)
        grid = pd.DataFrame([row + [""] * (width - len(row)) for row in rows], dtype=object)
    return grid


# --------------------------------------------------------------------------------------------
# Excel and Parquet
# --------------------------------------------------------------------------------------------


def _sheet_rows(sheet, nrows: int | None = None) -> list[list]:
    """A sheet's cells from A1 (blank leading rows and columns kept: row numbers stay true)."""
    if nrows is None:
        return sheet.to_python(skip_empty_area=False)
    return sheet.to_python(skip_empty_area=False, nrows=nrows)


def _has_data(sheet) -> bool:
    """Whether a sheet holds anything in its first rows (a notes sheet or an empty one not)."""
    rows = _sheet_rows(sheet, _SHEET_PEEK_ROWS)
    cells = [v for row in rows for v in row if v is not None and str(v).strip()]
    return len(cells) > 1


def _excel_grid(path: Path, table: str | None, sheet: str | None) -> tuple[pd.DataFrame, str]:
    # calamine (Rust) parses a 500,000-row workbook in about 5 s where openpyxl takes 60-100 s
    import python_calamine

    book = python_calamine.CalamineWorkbook.from_path(str(path))
    try:
        sheets = {name: book.get_sheet_by_name(name) for name in book.sheet_names}
        if sheet is not None:
            if sheet not in sheets:
                raise _fail(path, f"has no sheet {sheet!r} (sheets: {', '.join(sheets)})")
            chosen = sheet
        else:
            filled = [name for name, ws in sheets.items() if _has_data(ws)]
            named = [n for n in sheets if table and normalise_header(n) == table]
            if named:
                chosen = named[0]
            elif len(filled) <= 1:
                chosen = filled[0] if filled else next(iter(sheets))
            else:
                raise _fail(
                    path,
                    f"has {len(filled)} sheets with data ({', '.join(filled)}); keep the table "
                    "on one sheet, or name its sheet after the table"
                    + (f" ('{table}')" if table else ""),
                )
        rows = _sheet_rows(sheets[chosen])
    finally:
        book.close()
    cells = pd.DataFrame(rows, dtype=object)  # short rows are padded with None
    grid = pd.DataFrame({i: _column_text(cells[i]) for i in range(cells.shape[1])})
    filled = np.flatnonzero((grid != "").to_numpy().any(axis=1))
    if filled.size == 0:
        raise _fail(path, f"the sheet {chosen!r} is empty")
    return grid.iloc[: int(filled[-1]) + 1], chosen


def _parquet_grid(path: Path) -> pd.DataFrame:
    frame = pd.read_parquet(path)
    header = pd.DataFrame([[str(c) for c in frame.columns]], dtype=object)
    body = pd.DataFrame({i: _column_text(frame.iloc[:, i]) for i in range(frame.shape[1])})
    return pd.concat([header, body], ignore_index=True)


def _column_text(values: pd.Series) -> pd.Series:
    """A typed column as text, exactly as :func:`cell_text` writes each cell.

    Whole columns are converted at once (a Parquet copy of 500,000 ratings reads in about a
    second, where converting cell by cell took about 20 s); a column of mixed Python objects
    goes through :func:`cell_text` cell by cell.

    Examples
    --------
    >>> _column_text(pd.Series([7.0, 3.5, float("nan")])).tolist()
    ['7', '3.5', '']
    >>> _column_text(pd.Series(pd.to_datetime(["2026-01-31", "2026-01-31 12:00"], format="ISO8601"))).tolist()
    ['2026-01-31', '2026-01-31T12:00:00']
    """
    values = values.reset_index(drop=True)
    dtype = values.dtype
    missing = values.isna().to_numpy()
    if pd.api.types.is_bool_dtype(dtype):
        text = np.where(values.fillna(False).to_numpy(bool), "true", "false").astype(object)
    elif pd.api.types.is_integer_dtype(dtype):
        text = values.astype("Int64").astype(str).to_numpy(object)
    elif pd.api.types.is_float_dtype(dtype):
        numbers = values.to_numpy(float, na_value=np.nan)
        whole = np.isfinite(numbers) & (numbers == np.round(numbers)) & (np.abs(numbers) < 1e15)
        text = np.empty(len(numbers), dtype=object)
        text[whole] = numbers[whole].astype(np.int64).astype(str)
        text[~whole] = [repr(float(v)) for v in numbers[~whole]]
    elif pd.api.types.is_datetime64_any_dtype(dtype):
        midnight = (values == values.dt.normalize()).to_numpy()
        text = np.empty(len(values), dtype=object)
        text[midnight] = values[midnight].dt.strftime("%Y-%m-%d").to_numpy(object)
        text[~midnight] = [cell_text(v) for v in values[~midnight]]
    elif pd.api.types.infer_dtype(values, skipna=True) in ("string", "empty"):
        text = values.astype(object).where(~missing, "").astype(str).str.strip().to_numpy(object)
    else:
        return _mixed_text(values)
    text = np.asarray(text, dtype=object)
    text[missing] = ""
    return pd.Series(text, dtype=object)


def _mixed_text(values: pd.Series) -> pd.Series:
    """Cells of mixed Python types (a sheet's column: header text above numbers) as text.

    The text cells are stripped at once and the rest converted as one typed column when they
    share a type; anything else goes cell by cell through :func:`cell_text`.
    """
    cells = values.to_numpy(object)
    is_text = np.fromiter((isinstance(v, str) for v in cells), bool, len(cells))
    text = np.empty(len(cells), dtype=object)
    text[is_text] = pd.Series(cells[is_text], dtype=object).str.strip().to_numpy(object)
    rest = pd.Series(cells[~is_text], dtype=object)
    kind = pd.api.types.infer_dtype(rest, skipna=True)
    if kind in ("floating", "mixed-integer-float"):
        rest = _column_text(pd.to_numeric(rest).astype(float))
    elif kind == "integer" and rest.map(lambda v: abs(v) < 2**63, na_action="ignore").all():
        rest = _column_text(rest.astype("Int64"))
    elif kind == "boolean" and not rest.isna().any():
        rest = _column_text(rest.astype(bool))
    else:
        rest = rest.map(cell_text)
    text[~is_text] = rest.to_numpy(object)
    return pd.Series(text, dtype=object)


# --------------------------------------------------------------------------------------------
# Header, duplicates, row numbers
# --------------------------------------------------------------------------------------------


def _find_header(grid: pd.DataFrame, filled: np.ndarray, expected: set[str]) -> int:
    """Position of the header row: the first non-blank row, or, when it names none of the
    expected columns, the first of the top rows that names at least two of them."""
    positions = np.flatnonzero(filled)
    if positions.size == 0:
        return -1
    first = int(positions[0])
    if not expected or _matches(grid.iloc[first], expected) > 0:
        return first
    for i in range(first + 1, min(len(grid), first + HEADER_SEARCH_ROWS)):
        if _matches(grid.iloc[i], expected) >= 2:
            return i
    return first


def _matches(row: Iterable[str], expected: set[str]) -> int:
    return sum(normalise_header(cell) in expected for cell in row if cell)


def _column_letter(i: int) -> str:
    letters = ""
    i += 1
    while i:
        i, rem = divmod(i - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _header_problems(path: Path, header: list[str], row: int) -> list[Problem]:
    seen: dict[str, int] = {}
    problems = []
    for i, name in enumerate(header):
        if name == "":
            header[i] = f"<column {_column_letter(i)}>"
            continue
        key = normalise_header(name)
        if key in seen:
            problems.append(Problem(
                str(path), row, name,
                f"the header names this column twice (columns {_column_letter(seen[key])} and "
                f"{_column_letter(i)}); rename or remove one",
            ))
        else:
            seen[key] = i
    return problems


def _to_frame(path: Path, grid: pd.DataFrame, expected: set[str],
              blank_header: bool = False) -> pd.DataFrame:
    """The table in a grid of cells: header found, blank rows dropped, index = row number."""
    grid = grid.fillna("")
    grid.columns = range(grid.shape[1])
    for col in grid.columns:
        grid[col] = grid[col].astype(str).str.strip()
    filled = (grid != "").to_numpy().any(axis=1)
    at = _find_header(grid, filled, expected)
    if at < 0:
        raise _fail(path, "the file is empty")
    header = list(grid.iloc[at])
    filled_columns = (grid.iloc[at:] != "").to_numpy().any(axis=0)
    while header and header[-1] == "" and not (blank_header and filled_columns[len(header) - 1]):
        header.pop()
    if not header:
        raise _fail(path, "the file has no columns")
    width = len(header)
    problems = _header_problems(path, header, at + 1)
    keep = filled.copy()
    keep[: at + 1] = False
    body = grid.iloc[np.flatnonzero(keep)]
    numbers = np.flatnonzero(keep) + 1
    if grid.shape[1] > width:
        ragged = numbers[(body.iloc[:, width:] != "").to_numpy().any(axis=1)]
        for number in ragged[:_MAX_LISTED]:
            problems.append(Problem(str(path), int(number), None,
                                    f"has more cells than the header's {width} columns"))
        if len(ragged) > _MAX_LISTED:
            problems.append(Problem(str(path), None, None,
                                    f"... and {len(ragged) - _MAX_LISTED} more row(s) with more "
                                    "cells than the header", count=len(ragged) - _MAX_LISTED))
    if problems:
        raise InputError(problems)
    if body.empty:
        raise _fail(path, "the file has a header but no data rows")
    frame = body.iloc[:, :width].copy()
    frame.columns = header
    frame.index = pd.Index(numbers, name="row")
    frame.attrs["header_row"] = at + 1
    return frame


def read_table(
    path: str | Path, *, expected: Iterable[str] = (), sheet: str | None = None,
    table: str | None = None, row_index: bool = False, blank_header: bool = False,
) -> pd.DataFrame:
    """Read a CSV, Excel or Parquet file into a DataFrame of strings (missing cells are "").

    Parameters
    ----------
    path : path
        The file (never modified).
    expected : iterable of str, optional
        Column names the caller looks for (contract names and client names): used to find a
        header that sits below title rows.
    sheet : str, optional
        Excel sheet to read (default: the only sheet with data, or the one named ``table``).
    table : str, optional
        The table the file should hold (used to pick an Excel sheet and in messages).
    row_index : bool
        Index the rows by the row number a spreadsheet shows (use it to name rows in
        messages: blank lines and title rows are counted); default 0, 1, 2, ...
    blank_header : bool
        Keep columns whose header cell is blank but which hold data (named ``<column X>``),
        also at the right end: a survey export's grid question writes its text over its first
        column only.

    Returns
    -------
    DataFrame
        One column per header cell, one row per non-blank data row;
        ``attrs["header_row"]`` is the header's row number.

    Raises
    ------
    InputError
        When the file is missing, not a regular file (a named pipe, a device: refused before
        it is opened), unreadable, empty or cannot be parsed in its format.
    """
    path = Path(path)
    problem = regular_file_problem(path)  # a named pipe or a device would be waited on
    if problem is not None:
        raise _fail(path, problem)
    suffix = path.suffix.lower()
    expected = {normalise_header(e) for e in expected}
    try:
        if suffix in EXCEL_SUFFIXES:
            grid, chosen = _excel_grid(path, table, sheet)
        elif suffix in PARQUET_SUFFIXES:
            grid = _parquet_grid(path)
        else:
            grid = _text_grid(path)
    except InputError:
        raise
    except PermissionError:
        raise _fail(path, "cannot be read (permission denied)") from None
    except MemoryError:
        raise _fail(path, "is too large to read into memory") from None
    except Exception as exc:  # noqa: BLE001 - any parser failure is a user-input problem
        kind = "Excel" if suffix in EXCEL_SUFFIXES else (
            "Parquet" if suffix in PARQUET_SUFFIXES else "CSV")
        detail = str(exc).splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise _fail(path, f"cannot be read as {kind}: {detail}") from None
    frame = _to_frame(path, grid, expected, blank_header)
    if suffix in EXCEL_SUFFIXES:
        frame.attrs["sheet"] = chosen
    return frame if row_index else frame.reset_index(drop=True)
