"""The Organisation: every table of one engagement, loaded and checked together.

:func:`load_organisation` finds the files in a folder by name (``ratings.csv``,
``people.xlsx``, ...), loads each through :mod:`workbench.tables.validate`, and adds the checks
that need two files: raters and ratees in the people file, skills in the framework, roles with a
framework, catalog activities for enrollments, and identifiers that differ only by leading zeros
(``7`` in an Excel export against ``007`` in the people file: Excel stored the ids as numbers).
Every problem from every file is reported at once.

Examples
--------
>>> org = load_organisation("data/demo")   # doctest: +SKIP
>>> org.waves                              # doctest: +SKIP
[1, 2]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from workbench.errors import ConfigError, InputError, Problem
from workbench.tables.columns import SUFFIXES, TABLES, Scale, as_scale
from workbench.tables.mapping import ColumnMapping, as_mapping
from workbench.tables.survey.reading import read_ratings
from workbench.tables.validate import (
    MAX_ROWS_PER_PROBLEM,
    OPEN_SCALE,
    case_collisions,
    load_rows,
    reporting_lines,
    scale_from_table,
)

__all__ = ["Organisation", "find_table_files", "load_organisation"]


@dataclass
class Organisation:
    """All tables of one engagement, validated together.

    Attributes
    ----------
    ratings, people, framework, catalog, enrollments : DataFrame or None
        The typed tables (None when not given).
    scale : Scale
    files : dict
        Table name -> path it was read from.
    problems : list of Problem
        Warnings found while loading (errors raise instead).
    item_counts : DataFrame or None
        When the ratings came with items: per item, skill, source and wave, the responses that
        reached the item and how many answered "not observed" (``ITEM_COUNT_COLUMNS`` of
        :mod:`workbench.tables.columns`; those answers have no ratings row). None otherwise.
    anonymous_raters : bool
        True when the export named no raters: each response is its own rater (``rater`` is
        the response id).
    survey : SurveyReading or None
        What was understood from a survey export (shape, items, labels, dropped columns,
        unfinished responses); None for a ratings file in the contract's own shape.
    paths, outcomes : DataFrame or None
        The progression stage's optional inputs (career paths; business outcomes), checked
        against their contracts; the checks across files (roles in the framework, cycles) are
        :func:`workbench.progression.check_paths` and ``check_outcomes``.
    rows : dict
        Per table, the row number each row of the table has in its file (as a spreadsheet
        shows it: blank and title lines counted), by position; for messages about data that
        only a later stage can judge (a half point for the Rasch model). Empty when unknown.

    Examples
    --------
    >>> import tempfile
    >>> from workbench.synth.generator import generate_organisation, write_organisation
    >>> folder = write_organisation(generate_organisation(30, seed=1, n_waves=1),
    ...                             tempfile.mkdtemp() + "/org")
    >>> org = load_organisation(folder)
    >>> isinstance(org, Organisation), org.people["person"].nunique()
    (True, 30)
    """

    ratings: pd.DataFrame
    people: pd.DataFrame | None = None
    framework: pd.DataFrame | None = None
    catalog: pd.DataFrame | None = None
    enrollments: pd.DataFrame | None = None
    scale: Scale = field(default_factory=Scale)
    files: dict = field(default_factory=dict)
    problems: list = field(default_factory=list)
    item_counts: pd.DataFrame | None = None
    anonymous_raters: bool = False
    survey: object = None
    paths: pd.DataFrame | None = None
    outcomes: pd.DataFrame | None = None
    rows: dict = field(default_factory=dict)

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity != "error"]

    @property
    def skills(self) -> list[str]:
        return sorted(self.ratings["skill"].dropna().unique().tolist())

    @property
    def waves(self) -> list:
        return sorted(self.ratings["wave"].dropna().unique().tolist())


def find_table_files(folder: str | Path) -> dict[str, Path]:
    """Find ``ratings.csv``, ``people.xlsx``, ... in a folder (any supported suffix).

    Raises
    ------
    InputError
        When the folder is missing, or holds one table in two files (ratings.csv and
        ratings.xlsx): which one is meant cannot be guessed.
    """
    folder = Path(folder)
    if not folder.is_dir():
        what = "is a file, not a folder" if folder.exists() else "folder not found"
        raise InputError([Problem(str(folder), None, None, what)])
    found, problems = {}, []
    for table in TABLES:
        files = [folder / f"{table}{s}" for s in SUFFIXES if (folder / f"{table}{s}").exists()]
        if len(files) > 1:
            problems.append(Problem(str(folder), None, None,
                                    f"holds the {table} table in {len(files)} files "
                                    f"({', '.join(f.name for f in files)}); keep one"))
        elif files:
            found[table] = files[0]
    if problems:
        raise InputError(problems)
    return found


def _first_rows(frame: pd.DataFrame, rows: np.ndarray, column: str) -> dict:
    first = frame[column].drop_duplicates(keep="first")
    return {v: int(rows[i]) for i, v in first.items()}


def _unpadded(value: str) -> str:
    stripped = value.lstrip("0")
    return stripped if stripped else "0"


def _missing_ids(values, known, rows_of, file, column, what, severity="warning"):
    problems = []
    known = {k for k in pd.unique(pd.Series(known)) if isinstance(k, str)}
    present = {v for v in pd.unique(pd.Series(values)) if isinstance(v, str) and v != ""}
    missing = sorted(present - known, key=str)
    padded = {}
    for k in known:
        padded.setdefault(_unpadded(k), k)
    listed = 0
    for value in missing:
        twin = padded.get(_unpadded(value))
        if twin is not None:
            # the same id but for leading zeros: one file stored ids as numbers
            problems.append(Problem(
                file, rows_of.get(value), column,
                f"{what}, but {twin!r} is: the ids differ only by leading zeros (a spreadsheet "
                "stored them as numbers); format the id column as text in both files",
                str(value), "error"))
        elif listed < MAX_ROWS_PER_PROBLEM:
            problems.append(Problem(file, rows_of.get(value), column, what, str(value), severity))
            listed += 1
        else:
            listed += 1
    if listed > MAX_ROWS_PER_PROBLEM:
        problems.append(Problem(file, None, column,
                                f"... and {listed - MAX_ROWS_PER_PROBLEM} more value(s): {what}",
                                None, severity, listed - MAX_ROWS_PER_PROBLEM))
    return problems


# (table, column, table it must be in, column there, message, severity)
_REFERENCES = (
    ("ratings", "ratee", "people", "person", "ratee is not in the people file", "warning"),
    ("ratings", "rater", "people", "person", "rater is not in the people file", "warning"),
    ("people", "manager", "people", "person", "manager is not in the people file", "warning"),
    ("ratings", "skill", "framework", "skill", "skill is not in the framework", "warning"),
    ("people", "role", "framework", "role", "role has no framework (no required levels)",
     "warning"),
    ("catalog", "skill", "framework", "skill", "catalog skill is not in the framework",
     "warning"),
    ("enrollments", "activity", "catalog", "activity", "activity is not in the catalog",
     "error"),
    ("enrollments", "person", "people", "person", "enrolled person is not in the people file",
     "warning"),
)


def _cross_checks(tables: dict, rows: dict, files: dict) -> list[Problem]:
    problems = []
    for table, column, other, key, what, severity in _REFERENCES:
        frame, known = tables.get(table), tables.get(other)
        if frame is None or known is None or column not in frame or key not in known:
            continue
        values = frame[column].dropna()
        problems += _missing_ids(values[values != ""], known[key].dropna(),
                                 _first_rows(frame, rows[table], column), files[table], column,
                                 what, severity)
    return problems


def load_organisation(
    folder: str | Path | None = None,
    *,
    ratings: str | Path | None = None,
    people: str | Path | None = None,
    framework: str | Path | None = None,
    catalog: str | Path | None = None,
    enrollments: str | Path | None = None,
    scale: str | Path | Scale | tuple | None = None,
    paths: str | Path | None = None,
    outcomes: str | Path | None = None,
    mapping: ColumnMapping | Mapping | str | Path | None = None,
    waves: Sequence | None = None,
) -> Organisation:
    """Load and validate every table of an engagement at once.

    Files are found in ``folder`` by name (``ratings.csv``, ``people.xlsx``, ...) unless given
    one by one. All problems from all files, including cross-file ones (raters missing from
    people, skills missing from the framework), are collected into one report.

    Parameters
    ----------
    folder : path, optional
        Folder with files named after the tables.
    ratings, people, framework, catalog, enrollments : path, optional
        Explicit files (override the folder).
    paths, outcomes : path, optional
        The progression stage's optional inputs (override the folder's paths.csv and
        outcomes.csv).
    scale : path, Scale or (min, max), optional
        The rating scale, one setting for every command, first found of: this argument (a
        Scale, a pair, or a scale file), the mapping's ``scale: [MIN, MAX]``, the folder's
        scale file, the default 1 to 5. A scale file overridden by an argument or the mapping
        gives a warning. Scores off the scale are errors whose message names where the scale
        came from.
    mapping : ColumnMapping, dict or path to YAML, optional
        Client column names and source labels.
    waves : list, optional
        The waves of the ratings to use; the others are dropped with a warning. Without it a
        wave with very few ratings is an error (see :mod:`workbench.tables.validate`).

    Returns
    -------
    Organisation

    Raises
    ------
    InputError
        One report listing every error (and the warnings) across all files.

    Examples
    --------
    >>> org = load_organisation("data/demo")   # doctest: +SKIP
    >>> len(org.people)                          # doctest: +SKIP
    300
    """
    mapping = as_mapping(mapping)
    explicit = {"ratings": ratings, "people": people, "framework": framework,
                "catalog": catalog, "enrollments": enrollments, "paths": paths,
                "outcomes": outcomes}
    paths = find_table_files(folder) if folder is not None else {}
    paths.update({table: Path(path) for table, path in explicit.items() if path is not None})
    chosen = None
    if isinstance(scale, Scale | tuple | list):
        chosen = as_scale(scale, source="the scale option")
    elif scale is not None:
        paths["scale"] = Path(scale)
    elif mapping.scale is not None:
        chosen = as_scale(mapping.scale, source="the mapping's 'scale'")
    if "ratings" not in paths:
        where = f" in {folder}" if folder is not None else ""
        raise InputError([Problem(str(folder or "<input>"), None, None, f"no ratings file{where}")])

    problems: list[Problem] = []
    the_scale = chosen or Scale()
    if chosen is not None and "scale" in paths:
        problems.append(Problem(str(paths["scale"]), None, None,
                                f"not used: the scale is {chosen.describe()}",
                                severity="warning"))
    elif "scale" in paths:
        typed, found, _ = load_rows(paths["scale"], "scale", mapping, OPEN_SCALE)
        problems += found
        if typed is not None and not any(p.severity == "error" for p in found):
            try:
                the_scale = replace(scale_from_table(typed), source=str(paths["scale"]))
            except ConfigError as exc:
                problems.append(Problem(str(paths["scale"]), None, "value", str(exc)))
    tables, rows, survey = {}, {}, None
    for table in ("ratings", "people", "framework", "catalog", "enrollments", "paths",
                  "outcomes"):
        if table in paths:
            if table == "ratings":  # in the contract's shape, or a survey export turned long
                typed, found, numbers, survey = read_ratings(
                    paths[table], mapping=mapping, scale=the_scale,
                    scale_declared="scale" in paths or chosen is not None, waves=waves,
                    folder=folder)
            else:
                typed, found, numbers = load_rows(paths[table], table, mapping, the_scale,
                                                  waves=waves if table == "ratings" else None)
            problems += found
            if typed is not None:
                tables[table], rows[table] = typed, numbers
    files = {t: str(p) for t, p in paths.items()}
    problems += case_collisions(tables, rows, files)
    problems += reporting_lines(tables, rows, files)
    problems += _cross_checks(tables, rows, files)
    if any(p.severity == "error" for p in problems):
        raise InputError(problems)
    return Organisation(
        ratings=tables["ratings"],
        people=tables.get("people"),
        framework=tables.get("framework"),
        catalog=tables.get("catalog"),
        enrollments=tables.get("enrollments"),
        scale=the_scale,
        files=files,
        problems=problems,
        item_counts=survey.item_counts if survey is not None else None,
        anonymous_raters=bool(tables["ratings"].attrs.get("anonymous_raters", False)),
        survey=survey,
        paths=tables.get("paths"),
        outcomes=tables.get("outcomes"),
        rows={t: np.asarray(r) for t, r in rows.items() if r is not None},
    )
