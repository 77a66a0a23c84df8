"""Errors and problem reports shared by the whole package.

Every user-facing failure is a :class:`WorkbenchError`. Input problems are collected as
:class:`Problem` records (file, row, column, value, message) so that one report can list every
problem at once; the CLI prints the report and exits with code 2.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd

__all__ = [
    "WorkbenchError",
    "InputError",
    "ModelError",
    "ConfigError",
    "Problem",
    "format_problems",
    "problems_frame",
]


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file.

    Attributes
    ----------
    file : str
        The file the problem is in (as given by the user).
    row : int or None
        Row number as a spreadsheet shows it: the header is row 1, the first data row is row 2.
        None when the problem concerns the whole file or a column.
    column : str or None
        The column as named in the user's file (before any mapping), or None.
    message : str
        What is wrong, in plain words.
    value : str or None
        The offending value, as read.
    severity : {"error", "warning"}
        Errors stop the run; warnings are reported and the run goes on.
    count : int
        How many problems this record stands for: 1, or more for a summary line ("... and
        12034 more rows with the same problem"), so that reports count every problem.
    """

    file: str
    row: int | None
    column: str | None
    message: str
    value: str | None = None
    severity: str = "error"
    count: int = 1

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column '{self.column}'")
        text = f"{', '.join(where)}: {self.message}"
        if self.value is not None:
            shown = self.value if len(self.value) <= 60 else self.value[:57] + "..."
            text += f" (value: {shown!r})"
        return text


def format_problems(problems: Iterable[Problem]) -> str:
    """Render problems as a plain-text report, errors first, grouped by file.

    The headers count every problem, those a summary line stands for included.

    Examples
    --------
    >>> print(format_problems([Problem("r.csv", 2, "score", "off the scale", "17"),
    ...                        Problem("r.csv", None, "score", "... and 40 more", count=40)]))
    41 error(s), 2 lines:
      ERROR   r.csv, row 2, column 'score': off the scale (value: '17')
      ERROR   r.csv, column 'score': ... and 40 more
    """
    problems = list(problems)
    errors = [p for p in problems if p.severity == "error"]
    warnings = [p for p in problems if p.severity != "error"]
    lines = []
    for kind, label, items in (("error", "ERROR  ", errors), ("warning", "WARNING", warnings)):
        if not items:
            continue
        total = sum(p.count for p in items)
        shown = "" if total == len(items) else f", {len(items)} lines"
        lines.append(f"{total} {kind}(s){shown}:")
        lines.extend(f"  {label} {p}" for p in items)
    return "\n".join(lines)


def problems_frame(problems: Iterable[Problem]) -> pd.DataFrame:
    """Problems as a tidy DataFrame (severity, file, row, column, message, value, count)."""
    rows = [
        {
            "severity": p.severity,
            "file": p.file,
            "row": p.row,
            "column": p.column,
            "message": p.message,
            "value": p.value,
            "count": p.count,
        }
        for p in problems
    ]
    return pd.DataFrame(rows, columns=["severity", "file", "row", "column", "message", "value",
                                       "count"])


class WorkbenchError(Exception):
    """Base class of every error the workbench raises on purpose (user-facing, no traceback).

    Examples
    --------
    >>> from workbench.checks import check_alpha
    >>> try:
    ...     check_alpha(2)
    ... except WorkbenchError as exc:
    ...     print(type(exc).__name__, exc)
    ConfigError alpha=2.0: must be between 0 and 1 (exclusive)
    """


class InputError(WorkbenchError, ValueError):
    """Input data break the data contract; ``problems`` lists every problem found.

    Parameters
    ----------
    problems : list of Problem
        All problems found (errors and warnings). The message shows them all.

    Examples
    --------
    >>> exc = InputError([Problem(file="ratings.csv", row=3, column="score",
    ...                           message="not a number", value="abc")])
    >>> print(exc)
    1 error(s):
      ERROR   ratings.csv, row 3, column 'score': not a number (value: 'abc')
    >>> len(exc.errors)
    1
    """

    def __init__(self, problems: Iterable[Problem] | str):
        if isinstance(problems, str):
            problems = [Problem(file="<input>", row=None, column=None, message=problems)]
        self.problems = list(problems)
        super().__init__(format_problems(self.problems))

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]


class ModelError(WorkbenchError, ValueError):
    """The data cannot identify the requested model (e.g. one rater, constant scores).

    Examples
    --------
    >>> import pandas as pd
    >>> from workbench.calibration.mixed.model import fit_mixed
    >>> flat = pd.DataFrame({"g": [1, 1, 2, 2, 3, 3], "y": [2.0] * 6})
    >>> fit_mixed(flat, random=["g"])
    Traceback (most recent call last):
    ...
    workbench.errors.ModelError: response 'y' is constant (2.0); nothing to model
    """


class ConfigError(WorkbenchError, ValueError):
    """An engagement file, column mapping or parameter is invalid.

    Examples
    --------
    >>> from workbench.parallel import resolve_n_jobs
    >>> resolve_n_jobs(0)
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: n_jobs=0: must be a whole number other than 0 (None: one \
worker, -1: every core)
    """
