"""Dates and numbers as a client's file writes them: one reading per column, stated or refused.

A spreadsheet export writes ``04.02.2026`` and ``1,600`` without saying what they mean. Read
cell by cell they are guessed: ``04.02.2026`` became 2 April and ``13.07.2026`` 13 July in one
column, ``1,600`` became 1.6. Here every date column (and every number column) gets **one**
reading, decided from the whole file or given in the column mapping, and said:

* **Dates.** ``2026-02-04`` (year first) is unambiguous. ``04.02.2026`` and ``02/04/2026`` are
  day first or month first; the order is the one every date of the file's date columns allows
  (a ``13`` in the first place means day first). A file where every such date could be read
  both ways is an error that says so, and so is one with rows of each kind (the rows are named);
  ``date_format: DD.MM.YYYY`` (or ``MM/DD/YYYY``, ``YYYY-MM-DD``) in the mapping settles it.
  Writing dates two ways in one column (year first and day first, or with month names) is an
  error naming rows of each kind. A date far outside the column's other dates is an error
  stating their range (:func:`far_dates`).
* **Numbers.** ``3,5`` and ``3.5`` show a decimal mark; ``1,600`` or ``1.600`` do not (a
  thousands separator, or three decimals). Such a value is read with the decimal mark its
  column shows, else the one the rest of the file shows, and the decision is said; when nothing
  shows it the file is refused with the choice to make (``decimal_mark: "."`` or ``","``).

Examples
--------
>>> rows = np.array([2, 3, 4])
>>> order, problems = date_order({"date": pd.Series(["04.02.2026", "13.07.2026", ""])}, rows)
>>> order, problems[0][1][:36]
('DMY', 'dates read as DD.MM.YYYY (day first)')
>>> dates, bad = read_dates(pd.Series(["04.02.2026", "13.07.2026", ""]), order)
>>> [d.date().isoformat() if pd.notna(d) else None for d in dates]
['2026-02-04', '2026-07-13', None]
>>> mark, _ = decimal_mark({"cost": pd.Series(["1,600", "950"]), "hours": pd.Series(["2.5", "8"])},
...                        np.array([2, 3]))
>>> read_numbers(pd.Series(["1,600", "950"]), mark)[0].tolist()
[1600.0, 950.0]
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = [
    "DATE_ORDERS",
    "DECIMAL_MARKS",
    "parse_date_format",
    "date_order",
    "read_dates",
    "far_dates",
    "decimal_mark",
    "read_numbers",
]

#: The orders of day, month and year a date column may have.
DATE_ORDERS = {"YMD": "YYYY-MM-DD", "DMY": "DD.MM.YYYY", "MDY": "MM/DD/YYYY"}
#: The decimal marks a number column may have.
DECIMAL_MARKS = (".", ",")
# Rows of each kind named in a message.
_LISTED = 5

_TIME = (r"(?:[T ](?P<hour>\d{1,2})(?P<rest>:\d{2}(?::\d{2}(?:\.\d+)?)?)"
         r"(?:\s?(?P<ampm>[AaPp][Mm]))?(?:Z|[+-]\d{2}:?\d{2})?)?")
_YEAR_FIRST = re.compile(r"^(?P<y>\d{4})(?P<s>[-/.])(?P<m>\d{1,2})(?P=s)(?P<d>\d{1,2})" + _TIME
                         + "$")
_YEAR_LAST = re.compile(r"^(?P<a>\d{1,2})(?P<s>[-/.])(?P<b>\d{1,2})(?P=s)(?P<y>\d{4})" + _TIME
                        + "$")
_LETTERS = re.compile(r"[^\W\d_]")


def parse_date_format(text) -> str | None:
    """The order (``"DMY"``, ``"MDY"``, ``"YMD"``) a mapping's ``date_format`` names, or None.

    Examples
    --------
    >>> parse_date_format("DD.MM.YYYY"), parse_date_format("mm/dd/yyyy"), parse_date_format("x")
    ('DMY', 'MDY', None)
    """
    match = re.fullmatch(r"(DD|MM|YYYY)([-./ ])(DD|MM|YYYY)\2(DD|MM|YYYY)",
                         str(text).strip().upper())
    if not match:
        return None
    tokens = match.group(1) + match.group(3) + match.group(4)
    return {"YYYYMMDD": "YMD", "DDMMYYYY": "DMY", "MMDDYYYY": "MDY"}.get(tokens)


# --------------------------------------------------------------------------------------------
# Dates
# --------------------------------------------------------------------------------------------


def _extract(text: pd.Series, pattern: re.Pattern) -> pd.DataFrame:
    """The pattern's groups as text with missing values (pandas 2 gives float NaN columns when
    no cell matches, which then cannot be joined into a date)."""
    return text.str.extract(pattern).astype("string")


def _date_kinds(values: pd.Series) -> pd.DataFrame:
    """Per cell: its shape (``year_first``, ``day_or_month``, ``month_name``, ``other``,
    ``empty``) and, for day-or-month dates, which orders it allows."""
    text = values.astype(str)
    quick = _year_first_only(text)
    if quick is not None:
        kind = np.where((text == "").to_numpy(), "empty", "year_first").astype(object)
        none = np.zeros(len(text), dtype=bool)
        return pd.DataFrame({"kind": kind, "day_first": none, "month_first": none},
                            index=values.index)
    first = _extract(text, _YEAR_FIRST)
    last = _extract(text, _YEAR_LAST)
    kind = np.full(len(text), "other", dtype=object)
    kind[(text == "").to_numpy()] = "empty"
    kind[first["y"].notna().to_numpy()] = "year_first"
    is_last = last["y"].notna().to_numpy()
    kind[is_last] = "day_or_month"
    named = (kind == "other") & text.str.contains(_LETTERS).to_numpy()
    kind[named] = "month_name"
    a = pd.to_numeric(last["a"], errors="coerce").to_numpy(float)
    b = pd.to_numeric(last["b"], errors="coerce").to_numpy(float)
    return pd.DataFrame({
        "kind": kind,
        "day_first": is_last & (b <= 12),    # the month in the second place
        "month_first": is_last & (a <= 12),  # the month in the first place
    }, index=values.index)


def _year_first_only(text: pd.Series) -> pd.Series | None:
    """The dates when every non-empty cell is a plain 2026-02-04 (the common case, read at C
    speed), else None."""
    empty = (text == "").to_numpy()
    quick = pd.to_datetime(text.where(~empty, None), format="%Y-%m-%d", errors="coerce")
    return quick if (quick.notna().to_numpy() | empty).all() else None


def _listed(rows: np.ndarray, values: pd.Series, mask: np.ndarray, column: str | None = None):
    where = np.flatnonzero(mask)
    shown = ", ".join(f"{int(rows[i])} ({values.iloc[i]!r})" for i in where[:_LISTED])
    more = f" and {where.size - _LISTED} more" if where.size > _LISTED else ""
    return (f"column '{column}' " if column else "") + f"row(s) {shown}{more}"


def date_order(columns: Mapping[str, pd.Series], rows: np.ndarray, *, stated: str | None = None
               ) -> tuple[str | None, list[tuple[str | None, str, str, str]]]:
    """The order of the day-or-month dates of one file's date columns, and what was found.

    Parameters
    ----------
    columns : dict
        Column name as the file shows it -> its cells as text (one table's date columns).
    rows : ndarray
        The file's row number of each cell.
    stated : {"DMY", "MDY", "YMD"}, optional
        The order the column mapping gives (``date_format``).

    Returns
    -------
    order : str or None
        ``"DMY"`` or ``"MDY"`` (None when the file writes no day-or-month dates or cannot be
        read one way); ``"YMD"`` when stated.
    problems : list of (column, message, value, severity)
        A column written in two ways, dates that allow both orders or each of them (errors),
        and the order decided from the data (a warning that says so).
    """
    problems = []
    kinds = {name: _date_kinds(values) for name, values in columns.items()}
    for name, found in kinds.items():
        shapes = [k for k in ("year_first", "day_or_month", "month_name")
                  if (found["kind"] == k).any()]
        if len(shapes) > 1:
            words = {"year_first": "year first", "day_or_month": "day and month first",
                     "month_name": "with a month name"}
            listed = "; ".join(
                f"{words[k]}: {_listed(rows, columns[name], (found['kind'] == k).to_numpy())}"
                for k in shapes)
            problems.append((name, f"dates are written in {len(shapes)} ways in one column "
                             f"({listed}); write them one way (2026-02-04 is never misread)",
                             None, "error"))
    if stated is not None:
        return stated, problems
    def where(k, day_first, month_first):
        return ((k["kind"] == "day_or_month").to_numpy() & (k["day_first"].to_numpy() == day_first)
                & (k["month_first"].to_numpy() == month_first))

    day = {n: where(k, True, False) for n, k in kinds.items()}
    month = {n: where(k, False, True) for n, k in kinds.items()}
    either = {n: where(k, True, True) for n, k in kinds.items()}
    any_day = any(m.any() for m in day.values())
    any_month = any(m.any() for m in month.values())
    hint = ("state the format in the column mapping: date_format: DD.MM.YYYY (day first) or "
            "date_format: MM/DD/YYYY (month first)")
    if any_day and any_month:
        listed = ("day first (a day above 12 in the first place): "
                  + "; ".join(_listed(rows, columns[n], m, n) for n, m in day.items() if m.any())
                  + "; month first (a day above 12 in the second place): "
                  + "; ".join(_listed(rows, columns[n], m, n) for n, m in month.items()
                              if m.any()))
        problems.append((None, f"dates are written day first on some rows and month first on "
                         f"others ({listed}): one of them is misread whichever order is used; "
                         "correct the file, or " + hint, None, "error"))
        return None, problems
    if any_day or any_month:
        order = "DMY" if any_day else "MDY"
        evidence = day if any_day else month
        name = next(n for n, m in evidence.items() if m.any())
        i = int(np.flatnonzero(evidence[name])[0])
        n_either = sum(int(m.sum()) for m in either.values())
        also = ""
        if n_either:
            other = next(n for n, m in either.items() if m.any())
            also = (f"; {n_either} date(s) that alone could be read either way, such as "
                    f"{columns[other].iloc[int(np.flatnonzero(either[other])[0])]!r}, are read "
                    "this way too")
        problems.append((name, f"dates read as {DATE_ORDERS[order]} "
                         f"({'day' if any_day else 'month'} first): the only order that fits "
                         f"every date of the file (row {int(rows[i])} has "
                         f"{columns[name].iloc[i]!r}){also}. Say so in the column mapping "
                         f"(date_format: {DATE_ORDERS[order]}) to silence this",
                         str(columns[name].iloc[i]), "warning"))
        return order, problems
    if any(m.any() for m in either.values()):
        name = next(n for n, m in either.items() if m.any())
        i = int(np.flatnonzero(either[name])[0])
        value = str(columns[name].iloc[i])
        problems.append((name, f"every date could be read day first or month first (no day "
                         f"above 12 in either place: {value!r} on row {int(rows[i])} is "
                         f"{_both_readings(value)}); " + hint, value, "error"))
    return None, problems


def _both_readings(value: str) -> str:
    match = _YEAR_LAST.match(value)
    a, b, y = int(match["a"]), int(match["b"]), match["y"]
    month = ("January February March April May June July August September October November "
             "December").split()
    return f"{a} {month[b - 1]} {y} or {b} {month[a - 1]} {y}"


def read_dates(values: pd.Series, order: str | None) -> tuple[pd.Series, np.ndarray]:
    """Dates read in one order; returns the dates (NaT when empty or not a date) and the mask
    of non-empty cells that are not a date in that reading (31.02.2026, 2026-13-01, 'soon').

    A year-first date is read as such in every order; day-or-month dates need ``order``
    (without it they are left NaT and not flagged: :func:`date_order` reported why).
    """
    text = values.astype(str)
    quick = _year_first_only(text)
    if quick is not None:
        return quick, np.zeros(len(text), dtype=bool)
    first = _extract(text, _YEAR_FIRST)
    last = _extract(text, _YEAR_LAST)
    empty = (text == "").to_numpy()
    year = first["y"].fillna(last["y"])
    if order == "MDY":
        month, day = first["m"].fillna(last["a"]), first["d"].fillna(last["b"])
    elif order == "DMY":
        month, day = first["m"].fillna(last["b"]), first["d"].fillna(last["a"])
    else:
        month, day = first["m"], first["d"]
    hour = _hour_of_day(first["hour"].fillna(last["hour"]),
                        first["ampm"].fillna(last["ampm"]))
    rest = first["rest"].fillna(last["rest"])
    iso = (year + "-" + month.str.zfill(2) + "-" + day.str.zfill(2))
    timed = hour.notna()
    iso = iso.where(~timed, iso + "T" + hour.fillna("").astype(rest.dtype) + rest)
    parsed = pd.to_datetime(iso, errors="coerce", format="ISO8601")
    parsed = _beyond_calendar(parsed, iso, year)
    named = (~empty & year.isna().to_numpy() & text.str.contains(_LETTERS).to_numpy())
    if named.any():
        parsed = parsed.copy()
        parsed[named] = pd.to_datetime(text[named], errors="coerce", format="mixed")
    undecided = last["y"].notna().to_numpy() & (order not in ("DMY", "MDY", "YMD"))
    bad = ~empty & parsed.isna().to_numpy() & ~undecided
    return parsed, bad


def _beyond_calendar(parsed: pd.Series, iso: pd.Series, year: pd.Series) -> pd.Series:
    """Well-formed dates whose year the datetime type cannot hold (pandas 2 stops at
    1677-2262, so 0202-03-01 would read as 'not a date') become that type's first or last day,
    so :func:`far_dates` reports them as far outside the column's dates, as pandas 3 does."""
    years = pd.to_numeric(year, errors="coerce").to_numpy(dtype=float)
    lost = parsed.isna().to_numpy() & ~np.isnan(years)
    if not lost.any():
        return parsed
    valid = pd.to_datetime(iso[lost].str.slice(4).radd("2000"), errors="coerce",
                           format="ISO8601").notna().to_numpy()
    early = np.zeros(len(parsed), dtype=bool)
    late = np.zeros(len(parsed), dtype=bool)
    early[np.flatnonzero(lost)[valid]] = years[lost][valid] < 1678
    late[np.flatnonzero(lost)[valid]] = years[lost][valid] > 2261
    if not (early.any() or late.any()):
        return parsed
    parsed = parsed.copy()
    parsed[early] = pd.Timestamp.min.ceil("D")
    parsed[late] = pd.Timestamp.max.floor("D")
    return parsed


def _hour_of_day(hour: pd.Series, ampm: pd.Series) -> pd.Series:
    """Hours on a 24-hour clock as text ("10 PM" -> "22"); an hour that a 12-hour clock does
    not have ("13 PM", "0 AM") becomes "99", which no date parser accepts."""
    hour, ampm = hour.astype(object), ampm.astype(object)  # plain NaN, whatever the pandas
    numbers = pd.to_numeric(hour, errors="coerce").astype(float)
    marked = ampm.notna().to_numpy()
    if marked.any():
        pm = (ampm.str.upper() == "PM").to_numpy()
        twelve = numbers.to_numpy(dtype=float)
        valid = (twelve >= 1) & (twelve <= 12)
        clock = np.where(valid, twelve % 12 + np.where(pm, 12, 0), 99)
        numbers = pd.Series(np.where(marked, clock, twelve), index=hour.index)
    text = numbers.map(lambda h: f"{int(h):02d}" if pd.notna(h) else None)
    return text.where(hour.notna(), None)


def far_dates(dates: pd.Series) -> tuple[np.ndarray, str]:
    """Dates far outside a column's other dates: the mask and the range, stated.

    The column's central range runs from its 10th to its 90th percentile (the dates at those
    ranks); a date more than three times that span, and at least two years, beyond it is far
    outside (a year typed 2206 for 2026, a placeholder 1900-01-01).

    Examples
    --------
    >>> dates = pd.Series(pd.to_datetime(["2026-02-03"] * 8 + ["2026-08-20", "2206-03-01"]))
    >>> mask, stated = far_dates(dates)
    >>> mask.tolist()[-2:], stated
    ([False, True], 'the other dates lie between 2026-02-03 and 2026-08-20; accepted: 2024-02-03 to 2028-08-20')
    """
    known = dates.dropna()
    if len(known) < 3:
        return np.zeros(len(dates), dtype=bool), ""
    ordered = np.sort(known.to_numpy(dtype="datetime64[ns]"))
    n = len(ordered)
    low, high = ordered[int(np.ceil(0.1 * (n - 1)))], ordered[int(np.floor(0.9 * (n - 1)))]
    low, high = min(low, high), max(low, high)
    low, high = pd.Timestamp(low), pd.Timestamp(high)
    span = 3 * (high - low)
    two_years = pd.DateOffset(years=2)
    lo, hi = min(low - span, low - two_years), max(high + span, high + two_years)
    values = dates.to_numpy(dtype="datetime64[ns]")
    mask = ~np.isnat(values) & ((values < lo.to_datetime64()) | (values > hi.to_datetime64()))
    inside = known[(known >= pd.Timestamp(lo)) & (known <= pd.Timestamp(hi))]

    def day(v):
        return pd.Timestamp(v).date().isoformat()

    stated = (f"the other dates lie between {day(inside.min())} and {day(inside.max())}; "
              f"accepted: {day(lo)} to {day(hi)}")
    return mask, stated


# --------------------------------------------------------------------------------------------
# Numbers
# --------------------------------------------------------------------------------------------

_SIGN = r"[+-]?"
_POINT = re.compile(rf"^{_SIGN}\d*\.\d+(?:[eE][+-]?\d+)?$")
_COMMA = re.compile(rf"^{_SIGN}\d*,\d+$")
_GROUPED_COMMA = re.compile(rf"^{_SIGN}[1-9]\d{{0,2}}(?:,\d{{3}})+$")
_GROUPED_POINT = re.compile(rf"^{_SIGN}[1-9]\d{{0,2}}(?:\.\d{{3}})+$")
_COMMA_THEN_POINT = re.compile(rf"^{_SIGN}[1-9]\d{{0,2}}(?:,\d{{3}})+\.\d+$")
_POINT_THEN_COMMA = re.compile(rf"^{_SIGN}[1-9]\d{{0,2}}(?:\.\d{{3}})+,\d+$")
_SEPARATORS = re.compile("[,'\u00a0\u202f\u2009 ]")
_SPACED = re.compile(rf"^{_SIGN}[1-9]\d{{0,2}}(?:['\u00a0\u202f\u2009 ]\d{{3}})+(?:[.,]\d+)?$")


def _number_kinds(values: pd.Series) -> dict[str, np.ndarray]:
    """Per cell, which decimal mark it shows: ``point`` (3.5, 1,600.50, 1,000,000), ``comma``
    (3,5, 1.600,50, 1.000.000), or ``either`` (1,600 or 1.600: one group of three digits)."""
    text = values.astype(str)

    def has(pattern):
        return text.str.contains(pattern).to_numpy(dtype=bool)

    if not text.str.contains(_SEPARATORS).any() and not has(_GROUPED_POINT).any():
        # no comma or space anywhere and nothing like 1.600: a point can only be a decimal
        # mark, and the number parser reads every cell as it is (the common case, fast)
        none = np.zeros(len(text), dtype=bool)
        return {"point": has(_POINT), "comma": none, "either": none, "reads_point": none,
                "reads_comma": none}
    grouped_comma, grouped_point = has(_GROUPED_COMMA), has(_GROUPED_POINT)
    one_comma = text.str.count(",").to_numpy() == 1
    one_point = text.str.count(r"\.").to_numpy() == 1
    spaced = has(_SPACED)
    spaced_point = spaced & text.str.contains(r"\.\d+$").to_numpy(dtype=bool)
    spaced_comma = spaced & text.str.contains(r",\d+$").to_numpy(dtype=bool)
    point = ((has(_POINT) & ~grouped_point) | has(_COMMA_THEN_POINT)
             | (grouped_comma & ~one_comma) | spaced_point)
    comma = ((has(_COMMA) & ~grouped_comma) | has(_POINT_THEN_COMMA)
             | (grouped_point & ~one_point) | spaced_comma)
    either = (grouped_comma & one_comma) | (grouped_point & one_point)
    # the cells each decimal mark reads (anything else goes to the number parser as it is)
    reads_point = has(_POINT) | grouped_comma | has(_COMMA_THEN_POINT) | (spaced & ~spaced_comma)
    reads_comma = has(_COMMA) | grouped_point | has(_POINT_THEN_COMMA) | (spaced & ~spaced_point)
    return {"point": point, "comma": comma, "either": either, "reads_point": reads_point,
            "reads_comma": reads_comma}


def decimal_mark(columns: Mapping[str, pd.Series], rows: np.ndarray
                 ) -> tuple[str | None, tuple[str, int, str] | None]:
    """The decimal mark one file's number columns show, and where (column, row, value).

    None when they show none, or both (then each column is decided on its own).
    """
    seen = {}
    for name, values in columns.items():
        kinds = _number_kinds(values)
        for mark, key in ((".", "point"), (",", "comma")):
            hits = np.flatnonzero(kinds[key])
            if hits.size and mark not in seen:
                seen[mark] = (name, int(rows[hits[0]]), str(values.iloc[hits[0]]))
    if len(seen) != 1:
        return None, None
    mark = next(iter(seen))
    return mark, seen[mark]


def read_numbers(values: pd.Series, mark: str | None, *, stated: bool = False,
                 evidence: tuple[str, int, str] | None = None, rows: np.ndarray | None = None,
                 ) -> tuple[np.ndarray, list[tuple[str, str | None, str]]]:
    """One number column read with one decimal mark.

    Parameters
    ----------
    values : Series of str
    mark : {".", ","} or None
        The decimal mark of the file (stated in the mapping, or from :func:`decimal_mark`).
        The column's own values decide first; ``mark`` settles values such as ``1,600`` when
        they do not.
    stated : bool
        Whether ``mark`` comes from the mapping (nothing is then said about the decision).
    evidence : (column, row, value), optional
        Where the file shows ``mark`` (quoted in what is said).
    rows : ndarray, optional
        The file's row number of each cell (for messages).

    Returns
    -------
    numbers : ndarray of float
        NaN where a cell is empty or not a number (callers flag those).
    said : list of (message, value, severity)
        The decision (a warning), or why none can be made (an error).
    """
    text = values.astype(str).str.strip()
    rows = np.arange(2, len(text) + 2) if rows is None else rows
    kinds = _number_kinds(text)
    said = []
    own = [m for m, k in ((".", "point"), (",", "comma")) if kinds[k].any()]
    if stated:
        column_mark = mark
        wrong = kinds["comma" if mark == "." else "point"]
        if wrong.any():
            i = int(np.flatnonzero(wrong)[0])
            said.append((f"{int(wrong.sum())} value(s) such as {text.iloc[i]!r} (row "
                         f"{int(rows[i])}) use a decimal mark other than the mapping's "
                         f"decimal_mark {mark!r}", text.iloc[i], "error"))
            return np.full(len(text), np.nan), said
    elif len(own) == 2:
        i = int(np.flatnonzero(kinds["point"])[0])
        j = int(np.flatnonzero(kinds["comma"])[0])
        said.append((f"decimals are written with a point on some rows ({text.iloc[i]!r}, row "
                     f"{int(rows[i])}) and a comma on others ({text.iloc[j]!r}, row "
                     f"{int(rows[j])}); write them one way", text.iloc[j], "error"))
        return np.full(len(text), np.nan), said
    else:
        column_mark = own[0] if own else mark
    either = kinds["either"]
    if either.any():
        i = int(np.flatnonzero(either)[0])
        value = text.iloc[i]
        if column_mark is None:
            said.append((f"{int(either.sum())} value(s) such as {value!r} (row {int(rows[i])}) "
                         f"could be {_as_thousands(value):g} (a thousands separator) or "
                         f"{_as_decimal(value):g} (a decimal mark), and no value in the file "
                         "shows which decimal mark it uses; state it in the column mapping: "
                         "decimal_mark: \".\" (1,600 is 1600) or decimal_mark: \",\" "
                         "(1,600 is 1.6)", value, "error"))
            return np.full(len(text), np.nan), said
        if not stated:
            if own:
                j = int(np.flatnonzero(kinds["point" if own[0] == "." else "comma"])[0])
                where = f"{text.iloc[j]!r} on row {int(rows[j])} of this column"
            elif evidence:
                where = f"{evidence[2]!r} in column '{evidence[0]}', row {evidence[1]}"
            else:
                where = "the column mapping"
            reading = (_as_decimal(value) if _separator(value) == column_mark
                       else _as_thousands(value))
            said.append((f"{int(either.sum())} value(s) such as {value!r} (row {int(rows[i])}) "
                         f"read as {reading:g}: the decimal mark is {column_mark!r} (as in "
                         f"{where}); state decimal_mark: {column_mark!r} in the column mapping "
                         "to silence this", value, "warning"))
    spaces = text.str.replace(r"['\u00a0\u202f\u2009 ]", "", regex=True)
    if column_mark == ",":
        shaped = kinds["reads_comma"]
        cleaned = spaces.str.replace(".", "", regex=False).str.replace(",", ".", regex=False)
    elif column_mark == ".":
        shaped = kinds["reads_point"]
        cleaned = spaces.str.replace(",", "", regex=False)
    else:
        # only spaced thousands without decimals ('1 600') read the same with either mark
        shaped, cleaned = kinds["reads_point"] & kinds["reads_comma"], spaces
    cleaned = text.where(~shaped, cleaned)
    with np.errstate(all="ignore"):
        numbers = pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype=float)
    return numbers, said


def _separator(value: str) -> str:
    return "," if "," in value else "."


def _as_thousands(value: str) -> float:
    return float(value.replace(",", "").replace(".", ""))


def _as_decimal(value: str) -> float:
    return float(value.replace(",", "."))
