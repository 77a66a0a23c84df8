"""Output folders and files that never overwrite earlier results.

Every way an output folder can be wrong ends in one :class:`~workbench.errors.ConfigError`
naming the folder and the reason: it holds files already, it is a file, it lies below a file,
it is a broken link, it cannot be created or written (permission, read-only disk, a name too
long).

**CSV files meant for people** are opened in Excel or LibreOffice, which run a cell that
begins with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return before them) as a
formula. :func:`write_csv` neutralises such text cells (the OWASP rule: a leading ``'``, so
the cell shows as text) with :func:`neutralise_formulas`. The files listed in
:data:`MACHINE_FILES` are read back by programs (a later notebook of the run, an LMS) and
must hold the ids exactly as they were; they are written unchanged, and the run also writes
their contents to an ``.xlsx`` workbook, where text is stored as text, for people.

Examples
--------
>>> import pandas as pd
>>> neutralise_formulas(pd.DataFrame({"title": ["=HYPERLINK(1)", "-2+3", "-0.5"],
...                                   "gain": [-0.5, 1.0, 2.0]})).to_dict("list")
{'title': ["'=HYPERLINK(1)", "'-2+3", '-0.5'], 'gain': [-0.5, 1.0, 2.0]}
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path

import pandas as pd

from workbench.errors import ConfigError
from workbench.escaping import map_text

__all__ = [
    "check_output_dir",
    "new_output_dir",
    "write_csv",
    "new_workbook",
    "neutralise_formulas",
    "FORMULA_PREFIXES",
    "MACHINE_FILES",
]

#: First characters that make a spreadsheet read a text cell as a formula (OWASP's list, with
#: the full-width forms some spreadsheet locales also accept).
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")

#: CSV files written exactly (not neutralised) and who reads them; every other CSV the
#: workbench writes is meant for people and has formula prefixes neutralised.
MACHINE_FILES = {
    "calibrated_scores.csv": "notebooks 02-04 of the run (scores_file), read with as_scores; "
    "people read calibration.xlsx",
    "profile_assignments.csv": "notebook 04 of the run (profiles_file)",
    "effects_by_activity.csv": "notebook 04 of the run (impact_file)",
    "plans.csv": "the client's LMS import; people read plans.xlsx",
}

# A plain number written as text ("-0.5", "+3") is shown as a number, never run: left as it is.
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _blocked_by(path: Path) -> str | None:
    """Why no folder can be made at ``path``: an ancestor is a file or a broken link."""
    for parent in path.parents:
        if parent.is_symlink() and not parent.exists():
            return f"{parent} is a broken link (it points to {os.readlink(parent)})"
        if parent.exists():
            return None if parent.is_dir() else f"{parent} is a file, not a folder"
    return None


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if exc.errno == errno.EROFS:
        return "the disk is read-only"
    if exc.errno == errno.ENAMETOOLONG:
        return "the name is too long"
    if exc.errno == errno.ENOSPC:
        return "no space left on the disk"
    return exc.strerror or str(exc)


def new_output_dir(path: str | Path, *, allow_existing: bool = False) -> Path:
    """Create ``path`` for new outputs; refuse a folder that already holds files.

    Earlier reports are never overwritten: pick a new folder (the pipeline makes one per run).

    Parameters
    ----------
    path : path
    allow_existing : bool
        Accept a folder that already holds files (a parent of run folders, which are created
        exclusively inside it).

    Raises
    ------
    ConfigError
        Naming the folder and why it cannot take new outputs.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = new_output_dir(pathlib.Path(tempfile.mkdtemp()) / "calibration")
    >>> out.is_dir()
    True
    >>> new_output_dir(out / "x" / "y").parent.name
    'x'
    """
    path = Path(path).expanduser()
    try:
        return _prepare(path, allow_existing)
    except OSError as exc:  # e.g. a name too long even to look at
        raise ConfigError(f"{path}: cannot use it as the output folder ({_os_reason(exc)})"
                          ) from None


def check_output_dir(path: str | Path) -> Path:
    """Refuse, before any work, an output folder that :func:`new_output_dir` would refuse;
    nothing is created (the folder is made when the results are written).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> check_output_dir(root / "impact").exists()
    False
    >>> _ = (root / "notes.txt").write_text("x")
    >>> check_output_dir(root / "notes.txt" / "impact")
    Traceback (most recent call last):
    ...
    workbench.errors.ConfigError: ...notes.txt/impact: cannot create the output folder: ...notes.txt is a file, not a folder
    """
    path = Path(path).expanduser()
    try:
        _refuse(path, allow_existing=False)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot use it as the output folder ({_os_reason(exc)})"
                          ) from None
    return path


def _prepare(path: Path, allow_existing: bool) -> Path:
    if not _refuse(path, allow_existing):
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ConfigError(f"{path}: cannot create the output folder ({_os_reason(exc)})"
                              ) from None
    return path


def _refuse(path: Path, allow_existing: bool) -> bool:
    """Raise the ConfigError that names why ``path`` cannot take new outputs; return whether
    the folder exists already."""
    if path.is_symlink() and not path.exists():
        raise ConfigError(f"{path}: is a broken link (it points to {os.readlink(path)}, which "
                          "does not exist); choose another output folder")
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{path}: exists and is not a folder; choose another output folder")
    if path.is_dir():
        try:
            holds_files = any(path.iterdir())
        except OSError as exc:
            raise ConfigError(f"{path}: the output folder cannot be read ({_os_reason(exc)})"
                              ) from None
        if holds_files and not allow_existing:
            raise ConfigError(
                f"{path}: the output folder already holds files; earlier results are never "
                "overwritten, so choose a new folder"
            )
        if not os.access(path, os.W_OK | os.X_OK):
            raise ConfigError(f"{path}: cannot write into the output folder (permission denied)")
        return True
    blocked = _blocked_by(path)
    if blocked is not None:
        raise ConfigError(f"{path}: cannot create the output folder: {blocked}")
    return False


def _neutral(value):
    if (isinstance(value, str) and value.startswith(FORMULA_PREFIXES)
            and not _PLAIN_NUMBER.fullmatch(value)):
        return "'" + value
    return value


def _neutral_label(label):
    if isinstance(label, tuple):
        return tuple(_neutral(part) for part in label)
    return _neutral(label)


def _neutral_column(column: pd.Series) -> pd.Series:
    # the first characters in one vectorised step; only the few hits are looked at one by one
    try:
        first = column.str.slice(0, 1)
    except AttributeError:  # an object column without text
        return column
    hit = first.isin(FORMULA_PREFIXES).to_numpy(dtype=bool)
    if not hit.any():
        return column
    column = column.copy()
    column[hit] = column[hit].map(_neutral)
    return column


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` safe to open in a spreadsheet: formula-like text gets a leading ``'``.

    Only text cells and labels change (a cell whose first character is one of
    :data:`FORMULA_PREFIXES`, unless it is a plain number such as ``-0.5``); numbers, dates and
    missing values are kept, so a negative number stays a number.

    Parameters
    ----------
    frame : DataFrame

    Returns
    -------
    DataFrame
    """
    return map_text(frame, _neutral_column, _neutral_label)


def write_csv(frame: pd.DataFrame, path: str | Path, *, machine: bool | None = None,
              **kwargs) -> Path:
    """Write a CSV file that must not exist yet (mode 'x'): nothing is ever overwritten.

    Parameters
    ----------
    frame : DataFrame
    path : path
    machine : bool, optional
        ``True``: written exactly, for a program to read; ``False``: a file for people, with
        formula-like text neutralised (:func:`neutralise_formulas`). Default: by the file's
        name, machine files are those of :data:`MACHINE_FILES`.
    **kwargs
        Passed to ``DataFrame.to_csv`` (``index`` defaults to ``False``, ``lineterminator`` to
        ``"\\r\\n"`` as RFC 4180 has it).

    Returns
    -------
    Path
    """
    path = Path(path)
    if machine is None:
        machine = path.name in MACHINE_FILES
    if not machine:
        frame = neutralise_formulas(frame)
    try:
        with path.open("x", encoding="utf-8", newline="") as handle:
            # RFC 4180 line ends: a cell holding a carriage return or a line feed is quoted, so
            # it can never start a row of its own (csv quotes only the line end's characters)
            kwargs.setdefault("lineterminator", "\r\n")
            frame.to_csv(handle, index=kwargs.pop("index", False), **kwargs)
    except FileExistsError:
        raise ConfigError(f"{path}: already exists; earlier results are never overwritten") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be written ({_os_reason(exc)})") from None
    return path


def new_workbook(path: str | Path, *, constant_memory: bool = False):
    """An xlsxwriter workbook for a file that must not exist yet (nothing is overwritten).

    Values are written as they are: text is never turned into a number, formula or link,
    NaN and infinity become Excel's error cells, dates show as ``yyyy-mm-dd``.
    ``constant_memory`` writes row by row (for workbooks with thousands of sheets or rows).
    Close it with ``.close()``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> book = new_workbook(pathlib.Path(tempfile.mkdtemp()) / "a.xlsx")
    >>> book.add_worksheet("scores").write_row(0, 0, ["person", "score"])
    0
    >>> book.close()
    """
    import xlsxwriter

    path = Path(path)
    if path.exists():
        raise ConfigError(f"{path}: already exists; earlier results are never overwritten")
    return xlsxwriter.Workbook(str(path), {
        "constant_memory": constant_memory, "nan_inf_to_errors": True,
        "default_date_format": "yyyy-mm-dd", "strings_to_numbers": False,
        "strings_to_formulas": False, "strings_to_urls": False})
