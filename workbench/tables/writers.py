"""Output folders and files that never overwrite earlier results.

Every way an output folder can be wrong ends in one :class:`~workbench.errors.ConfigError`
naming the folder and the reason: it holds files already, it is a file, it lies below a file,
it is a broken link, it cannot be created or written (permission, read-only disk, a name too
long).
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pandas as pd

from workbench.errors import ConfigError

__all__ = ["new_output_dir", "write_csv", "new_workbook"]


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


def _prepare(path: Path, allow_existing: bool) -> Path:
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
        return path
    blocked = _blocked_by(path)
    if blocked is not None:
        raise ConfigError(f"{path}: cannot create the output folder: {blocked}")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot create the output folder ({_os_reason(exc)})"
                          ) from None
    return path


def write_csv(frame: pd.DataFrame, path: str | Path, **kwargs) -> Path:
    """Write a CSV file that must not exist yet (mode 'x'): nothing is ever overwritten."""
    path = Path(path)
    try:
        with path.open("x", encoding="utf-8", newline="") as handle:
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
