"""Typing and checking one table against its contract; loading single tables.

Every cell is typed by its column's kind (:mod:`workbench.tables.columns`) and every problem
is collected (file, row, column, value) before anything is raised, so one report lists them
all. Rules that concern more than one cell: scores and levels on the scale, duplicates, self
ratings, level ranges, dates in order, and the **waves** of a ratings file:

* a wave is a whole number (1, 2, ...) or, when the file uses labels, a label ("2026-H1");
  a number among labels is a label, a label among numbers is an error on its row;
* a wave with fewer than :data:`MIN_WAVE_SHARE` of the ratings of the largest wave is an error
  (a typo such as ``3`` on one row of 5,000 would become a wave of its own); name the waves to
  use (``waves=[1, 2]``, ``--waves 1 2``) to keep only those and drop the rest with a warning.

Examples
--------
>>> import pathlib, tempfile
>>> path = pathlib.Path(tempfile.mkdtemp()) / "scale.csv"
>>> _ = path.write_text("value,label\\n1,Low\\n2,Mid\\n3,High\\n")
>>> load_scale(path).max
3.0
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.checks import check_choice
from workbench.errors import InputError, Problem
from workbench.tables.columns import CONTRACTS, SOURCES, TABLES, Scale, as_scale
from workbench.tables.formats import (
    DATE_ORDERS,
    date_order,
    decimal_mark,
    far_dates,
    read_dates,
    read_numbers,
)
from workbench.tables.mapping import ColumnMapping, as_mapping, normalise_header
from workbench.tables.readers import normalise_ids, read_table

__all__ = [
    "InputWarning",
    "ID_DOMAINS",
    "case_collisions",
    "reporting_lines",
    "MAX_ROWS_PER_PROBLEM",
    "MIN_WAVE_SHARE",
    "load_table",
    "load_ratings",
    "load_people",
    "load_framework",
    "load_catalog",
    "load_enrollments",
    "load_scale",
    "scale_from_table",
    "check_frame",
]

# Most problems of one kind are listed row by row; past this many the rest are counted.
MAX_ROWS_PER_PROBLEM = 25
#: A wave with fewer ratings than this share of the largest wave's is an error (a typo).
MIN_WAVE_SHARE = 0.05

_TRUE = {"true", "yes", "y", "1", "1.0", "t", "completed", "done"}
_FALSE = {"false", "no", "n", "0", "0.0", "f", "not completed", "dropped"}


class InputWarning(UserWarning):
    """A problem in the input that does not stop the analysis (e.g. a rater missing from people)."""


class _Collector:
    """Collects problems, listing at most MAX_ROWS_PER_PROBLEM rows per (column, message)."""

    def __init__(self, file: str, rows: np.ndarray):
        self.file = file
        self.row_numbers = rows
        self.problems: list[Problem] = []

    def whole(self, message, column=None, severity="error", value=None, count=1):
        self.problems.append(Problem(self.file, None, column, message, value, severity, count))

    def rows(self, mask, frame_values, column, message, severity="error"):
        """Flag the rows where ``mask`` is true; ``frame_values`` gives the shown values."""
        idx = np.flatnonzero(np.asarray(mask, dtype=bool))
        if idx.size == 0:
            return
        values = np.asarray(frame_values, dtype=object)
        for i in idx[:MAX_ROWS_PER_PROBLEM]:
            self.problems.append(Problem(self.file, int(self.row_numbers[i]), column, message,
                                         str(values[i]), severity))
        if idx.size > MAX_ROWS_PER_PROBLEM:
            self.whole(f"... and {idx.size - MAX_ROWS_PER_PROBLEM} more row(s) with the same "
                       f"problem ({message})", column=column, severity=severity,
                       count=idx.size - MAX_ROWS_PER_PROBLEM)


def _match_columns(frame: pd.DataFrame, table: str, mapping: ColumnMapping, out: _Collector):
    """Rename client columns to contract names; return (frame, {contract: client})."""
    contract = {c.name for c in CONTRACTS[table]}
    rename = mapping.rename_for(table)
    origin: dict[str, str] = {}
    for client in frame.columns:
        target = rename.get(client)
        if target is None:
            key = normalise_header(client)
            target = key if key in contract else None
        if target is None or target not in contract:
            continue
        if target in origin:
            out.whole(f"columns '{origin[target]}' and '{client}' both map to '{target}'",
                      column=client)
            continue
        origin[target] = client
    frame = frame[list(origin.values())].copy()
    frame.columns = list(origin.keys())
    return frame, origin


def _parse_numbers(values: pd.Series) -> np.ndarray:
    cleaned = values.str.replace(",", ".", regex=False)
    with np.errstate(all="ignore"):
        return pd.to_numeric(cleaned, errors="coerce").to_numpy(dtype=float)


def _type_waves(raw: pd.Series, empty: np.ndarray, col, shown: str, out: _Collector):
    numbers = _parse_numbers(raw)
    whole = np.isfinite(numbers) & (np.abs(numbers) < 1e9)
    whole &= np.equal(np.mod(np.where(whole, numbers, 0), 1), 0)
    labels = ~empty & ~whole
    if not labels.any():
        return np.where(empty, col.default, numbers).astype(np.int64)
    if (~empty & whole).sum() > labels.sum():
        out.rows(labels, raw, shown, "'wave' is not a whole number like the other waves")
        return np.where(empty | labels, col.default, numbers).astype(np.int64)
    # a file that names its waves by labels: numbers among them are labels too
    return raw.where(~empty, str(col.default)).to_numpy(dtype=object)


def _file_formats(frame, table, origin, out, mapping):
    """The table's one date order and one decimal mark (stated in the mapping or detected from
    every date and number column of the file), with what was decided said in ``out``."""
    def columns(kind):
        return {origin.get(c.name, c.name): frame[c.name] for c in CONTRACTS[table]
                if c.kind == kind and c.name in frame.columns}

    order, found = date_order(columns("date"), out.row_numbers,
                              stated=mapping.date_order_for(table))
    for column, message, value, severity in found:
        out.whole(message, column=column, severity=severity, value=value)
    stated = mapping.decimal_mark_for(table)
    mark, evidence = (stated, None) if stated else decimal_mark(columns("number"),
                                                                out.row_numbers)
    return order, mark, evidence


def _type_table(frame, table, origin, out, mapping) -> pd.DataFrame:
    """Type one table against its contract: parse every column to its kind (with the file's
    date order and decimal mark) and report each cell that does not fit to ``out`` (file, row,
    column, value).
    """
    typed = {}
    n = len(frame)
    order, mark, evidence = _file_formats(frame, table, origin, out, mapping)
    for col in CONTRACTS[table]:
        shown = origin.get(col.name, col.name)
        if col.name not in frame.columns:
            if col.required:
                out.whole(
                    f"required column '{col.name}' is missing "
                    f"(columns found: {', '.join(origin.values()) or 'none matching'})",
                    column=col.name,
                )
            elif col.default is not None:
                typed[col.name] = pd.Series([col.default] * n, index=frame.index)
            continue
        raw = frame[col.name]
        if col.kind == "id":
            raw, hidden = normalise_ids(raw)
            out.rows(hidden, frame[col.name], shown,
                     "invisible characters (a zero-width space, a direction mark, a soft hyphen, "
                     "...) were removed from the id", severity="warning")
        empty = (raw == "").to_numpy()
        if col.required and empty.any():
            out.rows(empty, raw, shown, f"'{col.name}' is empty")
        if col.kind in ("id", "text"):
            typed[col.name] = raw.where(~empty, None) if not col.required else raw
        elif col.kind == "number":
            numbers, said = read_numbers(raw, mark, stated=mapping.decimal_mark_for(table)
                                         is not None, evidence=evidence, rows=out.row_numbers)
            for message, value, severity in said:
                out.whole(message, column=shown, severity=severity, value=value)
            if any(severity == "error" for _, _, severity in said):
                typed[col.name] = numbers
                continue
            out.rows(~empty & ~np.isfinite(numbers), raw, shown,
                     f"'{col.name}' is not a finite number")
            typed[col.name] = numbers if col.default is None else np.where(
                empty, col.default, numbers)
        elif col.kind == "wave":
            typed[col.name] = _type_waves(raw, empty, col, shown, out)
        elif col.kind == "date":
            dates, bad = read_dates(raw, order)
            out.rows(bad, raw, shown, f"'{col.name}' is not a date"
                     + (f" in the format {DATE_ORDERS[order]}" if order else "")
                     + " (a date is written 2026-02-04, 04.02.2026 or 02/04/2026 with the year "
                       "in four digits, or with the month's name)")
            far, stated = far_dates(dates)
            out.rows(far, raw, shown, f"'{col.name}' is far outside the column's other dates "
                     f"({stated}): a typo?")
            typed[col.name] = dates
        elif col.kind == "bool":
            low = raw.str.lower()
            is_true, is_false = low.isin(_TRUE).to_numpy(), low.isin(_FALSE).to_numpy()
            out.rows(~empty & ~is_true & ~is_false, raw, shown,
                     f"'{col.name}' is not yes/no (true/false, 1/0)")
            typed[col.name] = is_true
        elif col.name == "source":
            lookup = {v: (mapping.source_for(v) if v else None) for v in raw.unique()}
            mapped = raw.map(lookup)
            out.rows(~empty & mapped.isna().to_numpy(), raw, shown,
                     f"unknown source label; expected one of {', '.join(SOURCES)} (or map it "
                     "in the column mapping's source_labels)")
            typed[col.name] = mapped
        else:
            norm = raw.str.lower().str.replace(r"[\s\-]+", "_", regex=True)
            norm = norm.replace({"behavior": "behaviour", "behavioral": "behaviour"})
            out.rows(~empty & ~norm.isin(col.choices).to_numpy(), raw, shown,
                     f"'{col.name}' must be one of {', '.join(col.choices)}")
            typed[col.name] = norm.where(~empty, None)
    return pd.DataFrame(typed, index=frame.index).reset_index(drop=True)


def _check_rules(typed: pd.DataFrame, table: str, origin: dict, out: _Collector, scale: Scale):
    """Contract rules that concern more than one cell of a row or more than one row."""

    def shown(name):
        return origin.get(name, name)

    def on_scale(name):
        if name not in typed:
            return
        values = typed[name].to_numpy(dtype=float)
        out.rows(np.isfinite(values) & ~scale.contains(values), values, shown(name),
                 f"'{name}' is off the rating scale ({scale.describe()})")

    def duplicates(keys, what):
        if not set(keys) <= set(typed.columns):
            return
        dup = typed.duplicated(subset=keys, keep="first").to_numpy()
        label = np.full(len(typed), "", dtype=object)
        flagged = np.flatnonzero(dup)[:MAX_ROWS_PER_PROBLEM]
        label[flagged] = [" / ".join(map(str, row)) for row in typed[keys].to_numpy()[flagged]]
        out.rows(dup, label, ", ".join(shown(k) for k in keys), f"duplicate {what}")

    def negative(name):
        if name in typed:
            v = typed[name].to_numpy(dtype=float)
            out.rows(np.isfinite(v) & (v < 0), v, shown(name), f"'{name}' is negative")

    if table == "ratings":
        on_scale("score")
        if "item" in typed:
            # an item-level file: a rating without its item cannot be told from the others
            no_item = typed["item"].isna().to_numpy()
            out.rows(no_item, typed["item"].fillna(""), shown("item"),
                     "'item' is empty (the file gives items on other rows)")
            duplicates(["ratee", "rater", "skill", "item", "wave"], "rating: the same (ratee, "
                       "rater, skill, item, wave) appears on an earlier row")
        else:
            duplicates(["ratee", "rater", "skill", "wave"],
                       "rating: the same (ratee, rater, skill, wave) appears on an earlier row")
        if {"source", "ratee", "rater"} <= set(typed.columns):
            same = (typed["ratee"] == typed["rater"]).to_numpy()
            is_self = (typed["source"] == "self").to_numpy()
            out.rows(is_self & ~same, typed["rater"], shown("rater"),
                     "a self rating whose rater is not the ratee")
            out.rows(same & ~is_self & typed["source"].notna().to_numpy(), typed["source"],
                     shown("source"), "the rater is the ratee but the source is not 'self'")
            _two_relationships(typed, out, shown("source"))
    elif table == "people":
        duplicates(["person"], "person: listed on an earlier row")
    elif table == "framework":
        on_scale("required_level")
        duplicates(["role", "skill"], "(role, skill): listed on an earlier row")
        negative("weight")
    elif table == "catalog":
        on_scale("level_from")
        on_scale("level_to")
        duplicates(["activity", "skill"], "(activity, skill): listed on an earlier row")
        if {"level_from", "level_to"} <= set(typed.columns):
            lo, hi = typed["level_from"].to_numpy(float), typed["level_to"].to_numpy(float)
            out.rows(lo > hi, hi, shown("level_to"), "'level_to' is below 'level_from'")
        for name in ("hours", "weeks", "cost"):
            negative(name)
        for name, unit in (("hours", "the hours a learner spends (a mentoring relationship: "
                                     "the mentee's hours)"),
                           ("weeks", "the weeks it runs over")):
            if name in typed and "activity" in typed:
                none = typed[name].to_numpy(dtype=float) == 0
                out.rows(none, typed["activity"], shown(name),
                         f"the activity takes no time ('{name}' is 0): a plan would take it as "
                         f"free and credit its gain; give {unit}")
    elif table == "enrollments":
        if {"start", "end"} <= set(typed.columns):
            late = (typed["end"] < typed["start"]).to_numpy()
            out.rows(late, typed["end"].astype(str), shown("end"), "'end' is before 'start'")
    elif table == "scale":
        duplicates(["value"], "scale value: listed on an earlier row")
    elif table == "paths":
        duplicates(["role", "next_role"], "(role, next_role): listed on an earlier row")
        negative("typical_months")


def _rows_text(numbers) -> str:
    numbers = [int(n) for n in pd.unique(np.asarray(numbers))]
    more = f" and {len(numbers) - 5} more" if len(numbers) > 5 else ""
    return ", ".join(map(str, numbers[:5])) + more


def _two_relationships(typed: pd.DataFrame, out: _Collector, shown: str) -> None:
    """One rater with two relationships to one ratee in one wave (manager on some skills, peer
    on others) is an error listing the pairs: the calibration gives each source its own effect,
    so one of the two is wrong and which cannot be told."""
    keys = ["ratee", "rater"] + (["wave"] if "wave" in typed else [])
    rated = typed[keys + ["source"]].dropna()
    if rated.empty:
        return
    counts = rated.groupby(keys, sort=False)["source"].nunique()
    clashes = counts[counts > 1]
    if clashes.empty:
        return
    positions = pd.Series(np.arange(len(typed)), index=typed.index)
    for key in clashes.index[:MAX_ROWS_PER_PROBLEM]:
        mask = np.ones(len(rated), dtype=bool)
        for name, value in zip(keys, key, strict=True):
            mask &= (rated[name] == value).to_numpy()
        pair = rated[mask]
        parts = []
        for source, group in pair.groupby("source", sort=False):
            rows = out.row_numbers[positions[group.index].to_numpy()]
            parts.append(f"{source!r} on row(s) {_rows_text(rows)}")
        wave = f" in wave {key[2]}" if len(key) > 2 else ""
        first = out.row_numbers[positions[pair.index[0]]]
        out.problems.append(Problem(
            out.file, int(first), shown,
            f"rater {key[1]!r} has two relationships to ratee {key[0]!r}{wave}: "
            + " and ".join(parts) + "; a rater has one relationship to a person in a wave "
            "(the calibration gives each source its own effect): correct the source",
            " / ".join(map(str, key[:2]))))
    if len(clashes) > MAX_ROWS_PER_PROBLEM:
        out.whole(f"... and {len(clashes) - MAX_ROWS_PER_PROBLEM} more (ratee, rater) pair(s) "
                  "with two relationships", column=shown)


def reporting_lines(tables: Mapping, rows: Mapping, files: Mapping) -> list[Problem]:
    """Ratings whose source contradicts the people file's reporting line: errors.

    The rule: a rater whose manager (in the people file) is the ratee is the ratee's direct
    report, so a 'manager' rating from them contradicts the people file; so does a
    'direct_report' rating from the ratee's own manager. Other sources are not checked against
    the people file (a skip-level manager or a matrix manager may rate as 'manager'). Each
    (ratee, rater) pair is listed with its rows.
    """
    ratings, people = tables.get("ratings"), tables.get("people")
    if (ratings is None or people is None or "manager" not in people
            or not {"ratee", "rater", "source"} <= set(ratings.columns)):
        return []
    manager_of = dict(zip(people["person"], people["manager"], strict=True))
    rater_boss = ratings["rater"].map(manager_of)
    ratee_boss = ratings["ratee"].map(manager_of)
    inverted = {
        "manager": ((ratings["source"] == "manager") & (rater_boss == ratings["ratee"])).to_numpy(),
        "direct_report": ((ratings["source"] == "direct_report")
                          & (ratee_boss == ratings["rater"])).to_numpy(),
    }
    numbers = rows.get("ratings")
    problems = []
    for source, mask in inverted.items():
        if not mask.any():
            continue
        hit = ratings[mask]
        pairs = hit.groupby(["ratee", "rater"], sort=False).groups
        for i, ((ratee, rater), index) in enumerate(pairs.items()):
            if i == MAX_ROWS_PER_PROBLEM:
                problems.append(Problem(str(files.get("ratings")), None, "source",
                                        f"... and {len(pairs) - i} more pair(s) rated as "
                                        f"{source!r} against the people file"))
                break
            at = numbers[ratings.index.get_indexer(index)] if numbers is not None else []
            line = (f"{rater!r} reports to {ratee!r}" if source == "manager"
                    else f"{ratee!r} reports to {rater!r}")
            problems.append(Problem(
                str(files.get("ratings")), int(at[0]) if len(at) else None, "source",
                f"{rater!r} rated {ratee!r} as {source!r} on row(s) {_rows_text(at)}, but the "
                f"people file ({files.get('people')}) says {line}: correct the source or the "
                "people file's manager", source))
    return problems


def _select_waves(typed: pd.DataFrame, waves, origin: dict, out: _Collector) -> pd.DataFrame:
    """Keep the named waves (``waves`` given) or refuse a wave far smaller than the others."""
    if "wave" not in typed or not len(typed):
        return typed
    shown = origin.get("wave", "wave")
    counts = typed["wave"].value_counts()
    if waves is not None:
        wanted = {str(w) for w in waves}
        present = {str(w) for w in counts.index}
        for missing in sorted(wanted - present):
            out.whole(f"wave {missing!r} was asked for but is not in the file (waves: "
                      f"{', '.join(sorted(present))})", column=shown, value=missing)
        keep = typed["wave"].astype(str).isin(wanted).to_numpy()
        dropped = sorted({str(w) for w in typed.loc[~keep, "wave"]})
        if dropped:
            out.whole(f"{int((~keep).sum())} rating(s) in wave(s) {', '.join(dropped)} are not "
                      "used (only the named waves are)", column=shown, severity="warning")
        out.row_numbers = out.row_numbers[keep]
        return typed.loc[keep].reset_index(drop=True)
    largest = int(counts.max())
    for wave, count in counts.items():
        if count < MIN_WAVE_SHARE * largest:
            first = typed.index[(typed["wave"] == wave).to_numpy()][:1]
            out.problems.append(Problem(
                out.file, int(out.row_numbers[first[0]]) if len(first) else None, shown,
                f"wave {wave!r} has only {count} rating(s) against {largest} in the largest "
                f"wave (less than {MIN_WAVE_SHARE:.0%}): probably a typo; correct it, or keep "
                "only the waves to analyse (validate --waves 1 2, load_organisation(waves=...), "
                "or 'waves: [1, 2]' in the engagement file's data section)",
                str(wave)))
    return typed


def load_rows(path, table, mapping, scale, *, waves=None, sheet=None, frame=None):
    """Read, map, type and check one table.

    ``frame``: the file already read by :func:`read_table` (``row_index=True``), so a caller
    that looked at it first (the survey reader telling a long file from an export) does not
    read it twice.

    Returns (typed frame or None, problems, row numbers of the typed rows in the file).
    """
    path = Path(path)
    rename = mapping.rename_for(table)
    expected = [c.name for c in CONTRACTS[table]] + list(rename)
    if frame is None:
        try:
            frame = read_table(path, expected=expected, sheet=sheet, table=table,
                               row_index=True)
        except InputError as exc:
            return None, exc.problems, np.array([], dtype=int)
    header = frame.attrs.get("header_row", 1)
    early = []
    if header > 1:
        early.append(Problem(str(path), None, None, f"the header is on row {header}; the "
                             f"{header - 1} row(s) above it were skipped", None, "warning"))
    typed, problems, rows = check_frame(frame, table, mapping, scale, file=str(path),
                                        waves=waves)
    return typed, early + problems, rows


def check_frame(frame, table, mapping, scale, *, file, waves=None):
    """Map, type and check a table of text cells already read (index = row numbers in ``file``).

    The one typing path for every reader: :func:`load_rows` for files in the contract's shape,
    :mod:`workbench.tables.survey` for a survey export turned long (whose rows repeat a
    response's row number once per item).

    Returns (typed frame, problems, row numbers of the typed rows in the file).
    """
    out = _Collector(file, frame.index.to_numpy())
    frame, origin = _match_columns(frame, table, mapping, out)
    typed = _type_table(frame, table, origin, out, mapping)
    _check_rules(typed, table, origin, out, scale)
    if table == "ratings":
        typed = _select_waves(typed, waves, origin, out)
        if "anonymous_rater" in typed:  # written by the survey reader: kept through any file
            typed.attrs["anonymous_raters"] = bool(typed["anonymous_rater"].any())
    typed.attrs["file"] = file
    return typed, out.problems, out.row_numbers


#: The id columns that name one kind of thing, across tables: a spelling of one is compared
#: with every spelling of the others.
ID_DOMAINS = {
    "person": (("ratings", "ratee"), ("ratings", "rater"), ("people", "person"),
               ("people", "manager"), ("enrollments", "person")),
    "skill": (("ratings", "skill"), ("framework", "skill"), ("catalog", "skill")),
    "role": (("people", "role"), ("framework", "role")),
    "team": (("people", "team"),),
    "activity": (("catalog", "activity"), ("enrollments", "activity")),
}


def case_collisions(tables: Mapping, rows: Mapping, files: Mapping) -> list[Problem]:
    """Ids of one kind that differ only in case (``P005`` and ``p005``): errors.

    The rule: ids are compared exactly (after :func:`~workbench.tables.readers.normalise_ids`),
    so two spellings that differ only in case would be two people, two skills...; which of
    "one thing typed two ways" and "two things" is meant cannot be told from the data, so it is
    an error that lists every spelling with the file and row where it first appears.

    Parameters
    ----------
    tables : dict
        Table name -> typed frame.
    rows : dict
        Table name -> the file row number of each typed row.
    files : dict
        Table name -> file name (for messages).
    """
    problems = []
    for kind, columns in ID_DOMAINS.items():
        first: dict[str, tuple[str, str, int | None]] = {}
        for table, column in columns:
            frame = tables.get(table)
            if frame is None or column not in frame:
                continue
            values = frame[column]
            present = values.notna().to_numpy() & (values.astype(str) != "").to_numpy()
            unique = values[present].drop_duplicates(keep="first")
            numbers = rows.get(table)
            for i, value in unique.items():
                row = int(numbers[i]) if numbers is not None and i < len(numbers) else None
                first.setdefault(str(value), (str(files.get(table, table)), column, row))
        by_fold: dict[str, list[str]] = {}
        for value in first:
            by_fold.setdefault(value.casefold(), []).append(value)
        for spellings in by_fold.values():
            if len(spellings) < 2:
                continue
            where = [f"{v!r} ({first[v][0]}, column '{first[v][1]}'"
                     + (f", row {first[v][2]})" if first[v][2] is not None else ")")
                     for v in spellings]
            file, column, row = first[spellings[1]]
            problems.append(Problem(
                file, row, column,
                f"{kind} ids that differ only in case: {' and '.join(where)}; ids are compared "
                f"exactly, so these would be {len(spellings)} different {kind}s: use one "
                "spelling if they are one", spellings[1]))
    return problems


def _raise_or_warn(problems):
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
    for p in problems:
        warnings.warn(str(p), InputWarning, stacklevel=3)


def load_table(
    path: str | Path,
    table: str,
    *,
    mapping: ColumnMapping | Mapping | None = None,
    scale: Scale | tuple | None = None,
    waves: Sequence | None = None,
    sheet: str | None = None,
) -> pd.DataFrame:
    """Load and validate one table of the given contract.

    Parameters
    ----------
    path : str or Path
        CSV, Excel (.xlsx) or Parquet file. Never modified.
    table : str
        Which contract the file follows: one of ``TABLES`` (ratings, people, framework, catalog,
        enrollments, scale, and the progression stage's paths and outcomes).
    mapping : ColumnMapping or dict, optional
        Client column names and source labels.
    scale : Scale or (min, max), optional
        The rating scale scores and levels must lie on (default: the mapping's ``scale``, else
        1 to 5).
    waves : list, optional
        Ratings only: the waves to use; other waves are dropped with a warning.
    sheet : str, optional
        Excel sheet to read.

    Returns
    -------
    pandas.DataFrame
        The table with contract column names and types.

    Raises
    ------
    InputError
        Listing every problem found in the file, each with file, row and column.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "people.csv"
    >>> _ = path.write_text("person,team,role,level\\n"
    ...                     "P1,Data,Analyst,junior\\nP2,Data,Manager,senior\\n")
    >>> load_table(path, "people")[["person", "role"]].to_dict("records")
    [{'person': 'P1', 'role': 'Analyst'}, {'person': 'P2', 'role': 'Manager'}]
    """
    check_choice("table", table, TABLES)
    mapping = as_mapping(mapping)
    if scale is None and mapping.scale is not None:
        scale = as_scale(mapping.scale, source="the mapping's 'scale'")
    typed, problems, rows = load_rows(path, table, mapping,
                                      as_scale(scale, source="the scale option") or Scale(),
                                      waves=waves, sheet=sheet)
    if typed is not None:
        problems += case_collisions({table: typed}, {table: rows}, {table: str(path)})
    _raise_or_warn(problems)
    return typed


def load_ratings(path, *, mapping=None, scale=None, waves=None) -> pd.DataFrame:
    """Load a ratings file: ratee, rater, source, skill, score, wave (default 1), date, comment.

    Examples
    --------
    >>> ratings = load_ratings("data/demo/ratings.csv")   # doctest: +SKIP
    >>> sorted(ratings["source"].unique())                # doctest: +SKIP
    ['direct_report', 'manager', 'peer', 'self']
    """
    return load_table(path, "ratings", mapping=mapping, scale=scale, waves=waves)


def load_people(path, *, mapping=None) -> pd.DataFrame:
    """Load a people file: person, role, team, manager, level, tenure, location."""
    return load_table(path, "people", mapping=mapping)


def load_framework(path, *, mapping=None, scale=None) -> pd.DataFrame:
    """Load a competency framework: role, skill, required_level, weight, skill_group, gap_type."""
    return load_table(path, "framework", mapping=mapping, scale=scale)


def load_catalog(path, *, mapping=None, scale=None) -> pd.DataFrame:
    """Load a learning catalog: activity, title, skill, kind, gap_type, levels, hours, weeks."""
    return load_table(path, "catalog", mapping=mapping, scale=scale)


def load_enrollments(path, *, mapping=None) -> pd.DataFrame:
    """Load enrollments: person, activity, start, end, completed."""
    return load_table(path, "enrollments", mapping=mapping)


def scale_from_table(typed: pd.DataFrame) -> Scale:
    """The Scale a typed scale table describes (lowest and highest value, anchor labels)."""
    values = typed["value"].to_numpy(dtype=float)
    labels = typed["label"] if "label" in typed else pd.Series([None] * len(typed))
    anchors = {float(v): (str(lab) if lab else "") for v, lab in zip(values, labels, strict=True)}
    return Scale(min=float(np.nanmin(values)), max=float(np.nanmax(values)), anchors=anchors)


#: Any value lies on this scale: a scale file's own values are checked against it.
OPEN_SCALE = Scale(-1e12, 1e12, {})


def load_scale(path, *, mapping=None) -> Scale:
    """Load a scale file with columns value and label (one row per anchor)."""
    return scale_from_table(load_table(path, "scale", mapping=mapping, scale=OPEN_SCALE))
